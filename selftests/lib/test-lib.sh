#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016,SC2317 # the bash -c snippets take their values as arguments
#
# Unit tests of the suites' shell library (selftests/lib/*.sh), on the
# host, no VM: each behaviour is tried in a child bash whose output and
# exit status are checked.  TAP on stdout.
#
#   selftests/lib/test-lib.sh
set -uo pipefail
lib=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/lib.sh
. "$lib/lib.sh"
tap_tmpdir && tmp=$TAP_TMPDIR

# child SNIPPET: run SNIPPET in a bash that has sourced the library;
# sets $out (stdout) and $rc
child() {
	printf '. %q\nset -u\n%s\n' "$lib/lib.sh" "$1" > "$tmp/child.sh"
	out=$(cd "$tmp" && bash "$tmp/child.sh" 2> "$tmp/child.err")
	rc=$?
}

# --- tap.sh ------------------------------------------------------------
child 'tap_plan 2; tap_ok one; tap_check two true; tap_done'
tap_check "tap: a plan that matches: exit 0, 1..2 first" \
	bash -c '[ $0 = 0 ] && [ "$(head -n1 <<<"$1")" = 1..2 ]' "$rc" "$out"
child 'tap_plan 3; tap_ok one; tap_ok two; tap_done'
tap_check "tap: plan 1..3 with 2 results: a failing result, exit 1" \
	bash -c '[ $0 = 1 ] && grep -qx "not ok 3 - plan 1..3 but 2 results" <<<"$1"' "$rc" "$out"
child 'tap_ok a; tap_ok b; tap_done'
tap_check "tap: no plan: tap_done prints 1..2 at the end, exit 0" \
	bash -c '[ $0 = 0 ] && [ "$(grep -v "^#" <<<"$1" | tail -n1)" = 1..2 ]' "$rc" "$out"
child 'tap_ok a; tap_check b false; tap_done'
tap_check "tap: a failing check: not ok 2, exit 1" \
	bash -c '[ $0 = 1 ] && grep -qx "not ok 2 - b" <<<"$1"' "$rc" "$out"
child 'tap_plan 3; tap_ok a; exit 0'
tap_check "tap: exit 0 before tap_done: a failing result, exit 1" \
	bash -c '[ $0 = 1 ] && grep -qx "not ok 2 - child.sh ended before tap_done (exit status 0)" <<<"$1"' "$rc" "$out"
child 'set -e; tap_ok a; false; tap_ok b; tap_done'
tap_check "tap: set -e kills the script: a failing result naming status 1" \
	bash -c '[ $0 = 1 ] && grep -qx "not ok 2 - child.sh ended before tap_done (exit status 1)" <<<"$1" && grep -qx 1..2 <<<"$1"' "$rc" "$out"
child 'tap_skip "" lonely; tap_skip "no /dev/kvm" nested; tap_done'
tap_check "tap: a skip without a reason fails; with one it is an ok with a SKIP directive" \
	bash -c '[ $0 = 1 ] && grep -qx "not ok 1 - lonely (skipped without a reason)" <<<"$1" && grep -qx "ok 2 - nested # SKIP no /dev/kvm" <<<"$1"' "$rc" "$out"
child 'tap_skip_all "no /dev/kvm"'
tap_check "tap: tap_skip_all prints the 1..0 plan with its reason, exit 4" \
	bash -c '[ $0 = 4 ] && [ "$1" = "1..0 # SKIP no /dev/kvm" ]' "$rc" "$out"
child 'tap_ok a; tap_skip_all "late"'
tap_check "tap: tap_skip_all after a result bails out" \
	bash -c '[ $0 = 1 ] && grep -q "^Bail out!" <<<"$1"' "$rc" "$out"
child 'tap_is "x is 3" 4 3; tap_done'
tap_check "tap: tap_is says what it got and wanted" \
	bash -c '[ $0 = 1 ] && grep -qx "# got '"'4'"', wanted '"'3'"'" <<<"$1"' "$rc" "$out"
child 'false; tap_rc $? "rc" ; true; tap_rc $? "rc0"; tap_done'
tap_check "tap: tap_rc" \
	bash -c 'grep -qx "not ok 1 - rc (status 1)" <<<"$1" && grep -qx "ok 2 - rc0" <<<"$1"' "$rc" "$out"
child 'at_exit "echo cleaned"; tap_ok a; tap_done'
tap_check "tap: at_exit runs after tap_done" \
	bash -c '[ $0 = 0 ] && [ "$(tail -n1 <<<"$1")" = cleaned ]' "$rc" "$out"

# tap_import: a producer's results renumbered into ours
cat > "$tmp/producer" <<'P'
#!/bin/bash
echo "TAP version 13"; echo "1..${PLAN:-3}"; echo "# starting"
echo "ok 1 first"; echo "not ok 2 second"; echo "ok 3 third # SKIP no widget"
exit "${RC:-1}"
P
chmod +x "$tmp/producer"
child 'tap_ok mine; tap_import ./producer; tap_done'
tap_check "tap_import: renumbered, failure and skip kept, diagnostics passed" \
	bash -c 'grep -qx "ok 2 - first" <<<"$1" && grep -qx "not ok 3 - second" <<<"$1" &&
		grep -qx "ok 4 - third  # SKIP no widget" <<<"$1" && grep -qx "# starting" <<<"$1" &&
		grep -qx "1..4" <<<"$1" && [ $0 = 1 ]' "$rc" "$out"
child 'PLAN=5 tap_import -n prod ./producer; tap_done'
tap_check "tap_import: producer's plan 1..5 with 3 results fails" \
	bash -c 'grep -qx "not ok 4 - prod: plan 1..5 but 3 results" <<<"$1"' "$rc" "$out"
printf '#!/bin/bash\necho 1..1; echo ok 1 fine; exit 3\n' > "$tmp/liar"
chmod +x "$tmp/liar"
child 'tap_import ./liar; tap_done'
tap_check "tap_import: non-zero exit without a failing result fails" \
	bash -c 'grep -qx "not ok 2 - ./liar exited with status 3" <<<"$1" && [ $0 = 1 ]' "$rc" "$out"
printf '#!/bin/bash\necho "1..0 # SKIP no /dev/kvm"; exit 4\n' > "$tmp/skipper"
chmod +x "$tmp/skipper"
child 'tap_import ./skipper; tap_done'
tap_check "tap_import: a producer's skip_all is one skip with its reason" \
	bash -c 'grep -qx "ok 1 - ./skipper # SKIP no /dev/kvm" <<<"$1" && [ $0 = 0 ]' "$rc" "$out"

child 'tap_tmpdir && [ -d "$TAP_TMPDIR" ] && echo "$TAP_TMPDIR"'
tap_check "tap_tmpdir: a new directory, removed when the script exits" \
	bash -c '[ $0 = 0 ] && [ -n "$1" ] && [ ! -e "$1" ]' "$rc" "$out"

# --- wait.sh -----------------------------------------------------------
echo 0 > "$tmp/tries"
bump() { local n; read -r n < "$tmp/tries"; echo $((n + 1)) > "$tmp/tries"; [ $((n + 1)) -ge 3 ]; }
wait_for 5 bump
tap_check "wait_for re-runs a function until it succeeds (3 tries)" file_is "$tmp/tries" 3
echo old > "$tmp/v"
( sleep 0.5; echo new > "$tmp/v" ) &
# shellcheck disable=SC2016
tap_check "wait_for re-evaluates a string each try (\$(cat f) sees the change)" \
	wait_for 5 '[ "$(cat "$tmp/v")" = new ]'
wait
t0=${EPOCHREALTIME/[.,]/}
wait_for -q 0.6 false
t1=${EPOCHREALTIME/[.,]/}
tap_check "wait_for gives up after its timeout (0.6 s: took $(((t1 - t0) / 1000)) ms)" \
	[ $((t1 - t0)) -ge 600000 -a $((t1 - t0)) -lt 3000000 ]
wait_for 0.3 false 2> "$tmp/err"
tap_check "wait_for says what it waited for" grep -q "still false after 0.3 s: false" "$tmp/err"
echo 1 > "$tmp/grow"
( for i in 2 3 4 5; do sleep 0.3; echo $i > "$tmp/grow"; done ) &
t0=${EPOCHREALTIME/[.,]/}
wait_stable 10 1 cat "$tmp/grow"
t1=${EPOCHREALTIME/[.,]/}
tap_check "wait_stable waits until the value stops moving (5 after $(((t1 - t0) / 1000)) ms)" \
	[ "$WAIT_VALUE" = 5 -a $((t1 - t0)) -ge 2000000 ]
wait
t0=${EPOCHREALTIME/[.,]/}
vs_snooze 0.3
t1=${EPOCHREALTIME/[.,]/}
tap_check "vs_snooze 0.3 sleeps 0.3 s ($(((t1 - t0) / 1000)) ms)" \
	[ $((t1 - t0)) -ge 300000 -a $((t1 - t0)) -lt 2000000 ]

unset VSHAPE_VM_TIMEOUT_SCALE
for v in "unset:1" "4:4" "100:100" "101:1" "0:1" "-3:1" "abc:1" "2x:1" ":1"; do
	if [ "${v%%:*}" = unset ]; then
		child 'echo "$VS_TIME_SCALE"'
	else
		VSHAPE_VM_TIMEOUT_SCALE=${v%%:*} child 'echo "$VS_TIME_SCALE"'
	fi
	tap_is "VS_TIME_SCALE with VSHAPE_VM_TIMEOUT_SCALE=${v%%:*} is ${v#*:}" "$rc:$out" "0:${v#*:}"
done
gcc -Wall -Wextra -Werror -x c -o "$tmp/scale" - <<EOC || tap_bail "build time_scale.h test"
#include <stdio.h>
#include "$lib/time_scale.h"
int main(void) { printf("%d\\n", vs_time_scale()); return 0; }
EOC
for v in "4:4" "100:100" "101:1" "0:1" "abc:1" "2x:1" ":1"; do
	tap_is "vs_time_scale() with VSHAPE_VM_TIMEOUT_SCALE=${v%%:*} is ${v#*:}" \
		"$(VSHAPE_VM_TIMEOUT_SCALE=${v%%:*} "$tmp/scale")" "${v#*:}"
done
tap_is "vs_time_scale() unset is 1" "$(env -u VSHAPE_VM_TIMEOUT_SCALE "$tmp/scale")" 1

# --- opts.sh -----------------------------------------------------------
child 'a=1 b=; vs_opts "a:a b:b" -b "x y" -a 2 -c rest "-a" 3; echo "$a|$b|${VS_ARGS[*]}|${#VS_ARGS[@]}"'
tap_is "vs_opts: sets each option's variable, stops at the first other word" "$rc:$out" "0:2|x y|-c rest -a 3|4"
child 'a=1; vs_opts "a:a" x -a 2; echo "$a|${VS_ARGS[*]}"'
tap_is "vs_opts: options only lead (a later -a is an argument)" "$rc:$out" "0:1|x -a 2"
child 'f() { vs_opts "t:t" "$@"; }; f -t'
tap_check "vs_opts: an option without its value: status 2 and says which" \
	bash -c '[ $0 = 2 ] && grep -qx "# f: -t needs a value" "$1"' "$rc" "$tmp/child.err"

# --- mailbox.sh --------------------------------------------------------
box=$tmp/box
mkdir -p "$box"
handler() {
	local req arg
	read -r req arg < "$1"
	case $req in
	echo) echo "said=$arg"; count=$((count + 1)); echo "count=$count";;
	fail) echo "error=asked to"; return 3;;
	*) echo "error=unknown"; return 1;;
	esac
}
( count=0; mb_serve "$box" handler "kernel=test" ) &
server=$!
tap_check "mailbox: the guest becomes ready" mb_wait_ready "$box" 10
tap_is "mailbox: ready holds the guest's text" "$(cat "$box/ready")" kernel=test
r=$(mb_ask "$box" echo hello)
tap_is "mailbox: an answer (in \$(...))" "$(kv said <<<"$r")" hello
r=$(mb_ask "$box" echo again)
tap_is "mailbox: the counter survives \$(...); the guest keeps state" \
	"$(kv said <<<"$r") $(kv count <<<"$r")" "again 2"
mb_ask "$box" fail > /dev/null
tap_is "mailbox: the handler's status comes back" $? 3
mb_quit "$box"
tap_rc $? "mailbox: quit is answered"
wait "$server"
tap_rc $? "mailbox: the guest loop ends on quit"
mb_ask -t 0.5 "$box" echo nobody > /dev/null 2> "$tmp/err"
tap_is "mailbox: no answer: 124 after the timeout" $? 124
touch "$tmp/gone"
mb_ask -t 30 -g "$tmp/gone" "$box" echo nobody > /dev/null 2> "$tmp/err"
tap_is "mailbox: the guest's VM is gone: 125 at once" $? 125

# --- module.sh ---------------------------------------------------------
export VS_SYSFS=$tmp/sys
mkdir -p "$VS_SYSFS/bus/virtio/devices/virtio0" "$VS_SYSFS/bus/virtio/devices/virtio1" \
	"$VS_SYSFS/bus/virtio/drivers/vshape_guest" "$VS_SYSFS/module/vshape_guest"
echo 0x0001 > "$VS_SYSFS/bus/virtio/devices/virtio0/device"
echo 0x0005 > "$VS_SYSFS/bus/virtio/devices/virtio1/device"
ln -s ../../../../module/vshape_guest "$VS_SYSFS/bus/virtio/drivers/vshape_guest/module"
tap_check "module: virtio_has_device 0x0005" virtio_has_device 0x0005
tap_check "module: ... and not 0x0010" bash -c ". $lib/module.sh; ! virtio_has_device 0x0010"
mod_bound vshape_guest
tap_is "module: mod_bound ignores the module link (nothing bound)" "$?:$MOD_DEV" 1:
mkdir -p "$tmp/bin"
# a fake insmod that binds virtio1 half a second later
cat > "$tmp/bin/insmod" <<EOF2
#!/bin/bash
[ "\$1" = ./bad.ko ] && { echo "insmod: ERROR: could not insert module \$1: Invalid parameters" >&2; exit 1; }
( sleep 0.5; ln -s ../../devices/virtio1 "$VS_SYSFS/bus/virtio/drivers/vshape_guest/virtio1" ) &
EOF2
chmod +x "$tmp/bin/insmod"
PATH=$tmp/bin:$PATH mod_load_bind ./vshape_guest.ko vshape_guest
tap_is "module: mod_load_bind waits for the bind, sets MOD_DEV" "$?:$MOD_DEV" 0:virtio1
out=$(PATH=$tmp/bin:$PATH mod_load_bind ./bad.ko vshape_guest)
tap_check "module: a failed insmod is a failure with insmod's message" \
	bash -c '[ $0 = 1 ] && grep -q "insmod ./bad.ko  failed: insmod: ERROR: could not insert module ./bad.ko: Invalid parameters" <<<"$1"' "$?" "$out"
rm "$VS_SYSFS/bus/virtio/drivers/vshape_guest/virtio1"
ln -s ../../drivers/virtio_net "$VS_SYSFS/bus/virtio/devices/virtio0/driver"
out=$(mod_wait_bound -t 0.3 vshape_guest)
tap_check "module: a driver that never binds: failure listing the bus's devices" \
	bash -c '[ $0 = 1 ] && grep -qF "vshape_guest did not bind a virtio device within 0.3 s; virtio devices: virtio0=0x0001->virtio_net virtio1=0x0005->none" <<<"$1"' "$?" "$out"
unset VS_SYSFS

# --- klog.sh -----------------------------------------------------------
ok_log='[    0.000000] Linux version 6.12.0 (gcc)
[    1.000000] virtio_balloon virtio1: something ordinary'
klog() { # klog NAME TEXT: write a log, run klog_check on it in a child
	printf '%s\n' "$2" > "$tmp/$1.log"
	child "klog_check test $tmp/$1.log; tap_done"
}
klog clean "$ok_log"
tap_check "klog: a clean log from boot passes" bash -c '[ $0 = 0 ]' "$rc"
n=0
for line in 'WARNING: CPU: 0 PID: 1 at guest/main.c:123 vs_remove+0x1/0x2 [vshape_guest]' \
	'BUG: kernel NULL pointer dereference, address: 0000000000000000' \
	'Oops: 0000 [#1] PREEMPT SMP NOPTI' \
	'INFO: task kworker/0:1:42 blocked for more than 120 seconds.' \
	'WARNING: possible circular locking dependency detected' \
	'WARNING: inconsistent lock state' \
	'BUG: KASAN: slab-use-after-free in vs_inflate+0x10/0x20' \
	'Call Trace:' 'watchdog: BUG: soft lockup - CPU#0 stuck for 22s!' \
	'WARNING: suspicious RCU usage' \
	'rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:' \
	'UBSAN: array-index-out-of-bounds in guest/balloon.c:12:3' \
	'refcount_t: underflow; use-after-free.' \
	'list_del corruption. next->prev should be ffff888000000000' \
	'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'; do
	n=$((n + 1))
	klog "bad$n" "$ok_log
[    2.000000] $line"
	tap_check "klog: fails on '$line'" \
		bash -c '[ $0 = 1 ] && grep -q "^not ok 1 - test kernel log" <<<"$1" && grep -qF -- "$2" <<<"$1"' "$rc" "$out" "$line"
done
klog debug "$ok_log
[    0.000000] rcu: 	RCU lockdep checking is enabled."
tap_check "klog: a debug kernel's boot line naming lockdep passes" bash -c '[ $0 = 0 ]' "$rc"
klog debugbad "$ok_log
[    0.000000] rcu: 	RCU lockdep checking is enabled.
[    9.000000] INFO: lockdep is turned off."
tap_check "klog: ... but a lockdep message after it fails" bash -c '[ $0 = 1 ]' "$rc"
klog wrapped '[  100.000000] virtio_balloon virtio1: late line'
tap_check "klog: a log that does not start at boot (wrapped) fails" \
	bash -c '[ $0 = 1 ] && grep -q "read whole from boot" <<<"$1"' "$rc" "$out"

# klog_console_scan: kernel reports on a console, not the suites' TAP
# lines that name them
printf '%s\n' "$ok_log" 'ok 3 - guest kernel log: no WARN, BUG, Oops, lockdep, KASAN, hung task or Call Trace' \
	'# WARNING: this diagnostic quotes a report' 'not ok 4 - Oops in the name' > "$tmp/console.log"
tap_is "klog_console_scan: TAP lines on a console are not reports" "$(klog_console_scan "$tmp/console.log")" ""
printf '%s\n' '[   90.000000] Oops: general protection fault, probably for non-canonical address' >> "$tmp/console.log"
tap_is "klog_console_scan: an Oops after the suite's lines is found" \
	"$(klog_console_scan "$tmp/console.log" | grep -c .)" 1
out=$(klog_console_doc VM "$tmp/console.log")
rc=$?
tap_check "klog_console_doc: one failing result of its own on a report" \
	bash -c '[ $0 = 1 ] && [ "$(head -n2 <<<"$1")" = "1..1
not ok 1 - VM console to power-off: no WARN, BUG, Oops or panic" ]' "$rc" "$out"

tap_done
