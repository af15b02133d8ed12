#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The host's side of the balloon, on one kernel:
#
#   selftests/guest/qmp-host.sh <kver>
#
# Boots a 2 GiB VM with QEMU's stock virtio-balloon (free page reporting
# offered), lets the guest make its RAM resident (qmp-guest.sh, module
# loaded with page_reporting=0), then acts as the host over QMP:
#   1. balloon 1 GiB: QEMU's RSS drops by >= 90% of 1 GiB;
#   2. deflate: the guest gets the memory back;
#   3. a target above the guest's RAM is clamped at the floor, and the
#      guest stays healthy (allocates, nothing OOM-killed);
#   4. free page reporting, no balloon target: with page_reporting=0 the
#      600 MiB the guest touches and frees stay in QEMU's RSS; reloaded
#      with page_reporting=1 the guest's free memory leaves QEMU, and so
#      do the next 600 MiB it touches and frees; unloading with
#      reporting active is clean;
# then checks the guest's kernel log.  Prints TAP.  Not under set -e: a
# failed check is a "not ok" and the next checks still run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=selftests/lib/lib.sh
. selftests/lib/lib.sh
kver=$(scripts/kernels "${1:?usage: qmp-host.sh <kver>}" | tail -n1)
ko=$top/build/$kver/guest/vshape_guest.ko
scripts/build-kmods "$kver" >/dev/null || tap_bail "build vshape_guest.ko for $kver"
make -s -C selftests/guest >/dev/null || tap_bail "make -C selftests/guest"

ram_mb=2048
run=$top/build/check/qmp-$kver
rm -rf "$run"
mkdir -p "$run/box"
sock=$run/qmp.sock
box=$run/box
gone=$run/vm/rc	# scripts/vm writes it when the VM has ended

qmp() { scripts/qmp "$sock" "$@"; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$run/qemu.pid")/status"; }

console_tail() { tail -n 30 "$run/vm/console.log" 2>/dev/null | tap_diag; }

# ask REQUEST: the guest's key=value answer goes to $reply; a guest that
# does not answer ends the suite (what follows needs its numbers).
ask() {
	reply=$(mb_ask -g "$gone" "$box" "$1") && return 0
	tap_not_ok "the guest answers '$1'"
	console_tail
	tap_done
}

balloon_actual() {
	qmp query-balloon | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual"])'
}

# One row of the step table (make demo prints these): what the host asked,
# what the guest holds and has free, what the host process uses.
row() { # row STEP GUEST-STATE
	printf '# | %-34s | %10s | %12s | %12s | %12s |\n' "$1" \
		"$(( $(balloon_actual) >> 20 )) MiB" \
		"$(( $(kv actual_kb <<<"$2") >> 10 )) MiB" \
		"$(( $(kv MemFree_kb <<<"$2") >> 10 )) MiB" \
		"$(( $(rss_kb) >> 10 )) MiB"
}

# QMP's "actual" is the guest's size: RAM less the balloon; the guest
# updates it after every message (16 MiB at most).  Wait until it equals
# $1, or without $1 until it has not moved for 2 s; print it in bytes.
wait_actual() {
	local want=${1:-}
	if [ -n "$want" ]; then
		# shellcheck disable=SC2016
		WAIT_INTERVAL=0.5 wait_for 120 '[ "$(balloon_actual)" = "$want" ]'
		balloon_actual
	else
		WAIT_INTERVAL=0.5 wait_stable 120 2 balloon_actual
		echo "$WAIT_VALUE"
	fi
}

# Never leave a VM behind, whatever fails below.
# shellcheck disable=SC2016 # expanded when the exit handler runs
at_exit 'kill "$(cat "$run/qemu.pid" 2>/dev/null)" 2>/dev/null'

tap_plan 16
scripts/vm --kernel "$kver" --mem ${ram_mb}M --quiet --timeout 600 \
	--rundir "$run/vm" --qmp "$sock" --pidfile "$run/qemu.pid" \
	--results "$box" --background --append " $(vs_boot_args)" \
	--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on,free-page-reporting=on" \
	--env "VSHAPE_KO=$ko" --env "VSHAPE_MAILBOX=$box" \
	--env "VSHAPE_KO_ARGS=page_reporting=0" \
	-- selftests/guest/qmp-guest.sh > /dev/null
if ! tap_check "the guest binds vshape_guest and serves the mailbox" \
	mb_wait_ready -g "$gone" "$box" 300; then
	tap_diag 2>/dev/null < "$box/bind-error"
	console_tail
	tap_done
fi

# 1. Inflate 1 GiB: QEMU's RSS drops by at least 90% of it.
printf '# | %-34s | %10s | %12s | %12s | %12s |\n' step "guest size" "guest balloon" "guest MemFree" "QEMU RSS"
ask state
row "guest RAM made resident" "$reply"
rss0=$(rss_kb)
qmp balloon $(((ram_mb - 1024) << 20)) > /dev/null
got=$(wait_actual $(((ram_mb - 1024) << 20)))
sleep 1
rss1=$(rss_kb)
tap_diag "QEMU RSS ${rss0} KiB -> ${rss1} KiB; guest size $((got >> 20)) MiB"
tap_check "inflating 1 GiB drops QEMU RSS by >= 90% of 1 GiB" \
	[ $((rss0 - rss1)) -ge $((1024 * 1024 * 9 / 10)) ]
ask state
during=$reply
free_during=$(kv MemFree_kb <<<"$during")
row "host: balloon to 1 GiB" "$during"

# 2. Deflate: the guest has the memory again.
qmp balloon $((ram_mb << 20)) > /dev/null
wait_actual $((ram_mb << 20)) > /dev/null
ask state
after=$reply
free_after=$(kv MemFree_kb <<<"$after")
row "host: balloon back to 2 GiB" "$after"
tap_diag "guest MemFree ${free_during} KiB -> ${free_after} KiB, balloon $(kv actual_kb <<<"$after") KiB"
tap_check "deflating gives the 1 GiB back to the guest" \
	[ "$(kv actual_kb <<<"$after")" = 0 -a $((free_after - free_during)) -ge $((1024 * 1024 * 9 / 10)) ]

# 3. A target beyond the guest's RAM: clamped at the floor, guest healthy.
qmp balloon 1 > /dev/null
wait_actual > /dev/null
ask alloc
st=$reply
row "host: balloon to 1 byte (floor)" "$st"
grep -E '^(actual_kb|host_target_kb|floor_kb|MemFree_kb|MemTotal_kb|floor_stops|oom_kills|alloc_status)=' <<<"$st" | tap_diag
held=$(kv actual_kb <<<"$st")
total=$(kv MemTotal_kb <<<"$st")
floor=$(kv floor_kb <<<"$st")
# clamped: the balloon stopped at the floor (a new floor stop), holding
# most of the RAM, and the guest kept about the floor free (MemFree is
# read after a 32 MiB allocation came and went: 32 MiB of slack; 6.1
# read 88 MiB at a 108 MiB floor once, still far above the min
# watermarks, about 44 MiB, where an overfilled balloon would leave it)
tap_check "a host target above guest RAM is clamped at the floor" \
	[ "$(kv floor_stops <<<"$st")" -gt "$(kv floor_stops <<<"$after")" \
	  -a "$held" -gt $((total / 2)) -a "$held" -lt "$total" \
	  -a "$(kv MemFree_kb <<<"$st")" -ge $((floor - 32 * 1024)) ]
tap_check "the guest stays healthy at the floor (allocates, no OOM kill)" \
	[ "$(kv alloc_status <<<"$st")" = 0 -a "$(kv oom_kills <<<"$st")" = 0 ]

# 4. Free page reporting: no target, memory the guest frees leaves QEMU.
qmp balloon $((ram_mb << 20)) > /dev/null
wait_actual $((ram_mb << 20)) > /dev/null

# shellcheck disable=SC2317 # both run by wait_for / wait_stable
rss_below() { [ "$(rss_kb)" -lt "$1" ]; }
# shellcheck disable=SC2317
rss_16m() { echo $(($(rss_kb) >> 14)); }	# RSS in 16 MiB steps

ask state
tap_is "page_reporting=0: sysfs page_reporting reads 0" "$(kv page_reporting <<<"$reply")" 0
rss_pre=$(rss_kb)
ask touch600
rss_a=$(rss_kb)
sleep 10
rss_b=$(rss_kb)
tap_diag "page_reporting=0: QEMU RSS ${rss_pre} KiB, after touching 600 MiB and freeing it ${rss_a} KiB, 10 s later ${rss_b} KiB"
# only a test if the touch brought memory in: else nothing could leave
tap_check "page_reporting=0: freed memory stays in QEMU's RSS (10 s; the touch raised it >= 400 MiB)" \
	[ "$(kv touch_status <<<"$reply")" = 0 -a "$rss_a" -ge $((rss_pre + 400 * 1024)) \
	  -a "$rss_b" -ge $((rss_a - 64 * 1024)) ]

ask reporting_on
st=$reply
grep -E '^(reload_status|page_reporting|reporting_via|MemFree_kb)=' <<<"$st" | tap_diag
tap_check "page_reporting=1: the module reloads and reports on the reporting queue" \
	[ "$(kv reload_status <<<"$st")" = 0 -a "$(kv page_reporting <<<"$st")" = 1 \
	  -a "$(kv reporting_via <<<"$st")" = reporting_vq ]
# At least the 600 MiB just touched and freed are backed and free.  The
# kernel reports a 16th of each free list per 2 s pass: give it 120 s.
t0=$SECONDS
WAIT_INTERVAL=1 wait_for -q 120 rss_below $((rss_b - 400 * 1024))
rss_c=$(rss_kb)
tap_diag "page_reporting=1: QEMU RSS ${rss_b} KiB -> ${rss_c} KiB in $((SECONDS - t0)) s"
tap_check "page_reporting=1: the guest's free memory leaves QEMU's RSS (>= 400 MiB)" \
	[ "$rss_c" -lt $((rss_b - 400 * 1024)) ]

# Let the reporting of older free memory finish (RSS steady to 16 MiB for
# 6 s), so that only the next 600 MiB can move RSS below.
WAIT_INTERVAL=1 wait_stable -q 240 6 rss_16m
rss_d=$(rss_kb)
ask state
bytes0=$(kv reporting_reported_bytes <<<"$reply")
# The peak comes and goes while the guest answers: sample it meanwhile.
(
	peak=0
	while :; do
		cur=$(rss_kb)
		[ "$cur" -gt "$peak" ] && peak=$cur && echo "$peak" > "$run/peak"
		sleep 0.2
	done
) &
sampler=$!
ask touch600
kill "$sampler"
wait "$sampler" 2>/dev/null
rss_e=$(cat "$run/peak")
t0=$SECONDS
WAIT_INTERVAL=1 wait_for -q 120 rss_below $((rss_d + 96 * 1024))
rss_f=$(rss_kb)
ask state
bytes1=$(kv reporting_reported_bytes <<<"$reply")
tap_diag "touch 600 MiB and free it: QEMU RSS ${rss_d} -> peak ${rss_e} -> ${rss_f} KiB ($((SECONDS - t0)) s after the guest's answer); reported $(((bytes1 - bytes0) >> 20)) MiB"
tap_check "touching 600 MiB brings >= 400 MiB back into QEMU's RSS" \
	[ "$rss_e" -ge $((rss_d + 400 * 1024)) ]
tap_check "the 600 MiB the guest freed leave QEMU's RSS (within 96 MiB, 120 s)" \
	[ "$rss_f" -lt $((rss_d + 96 * 1024)) ]
tap_check "debugfs reported_bytes grows by >= 400 MiB" \
	[ $((bytes1 - bytes0)) -ge $((400 << 20)) ]

ask reporting_off
st=$reply
tap_check "unloading with page reporting active, reloading without it" \
	[ "$(kv reload_status <<<"$st")" = 0 -a "$(kv page_reporting <<<"$st")" = 0 ]

ask dmesg
printf '%s\n' "$reply" > "$run/guest-dmesg.txt"
grep -E 'vshape|Killed process' "$run/guest-dmesg.txt" | tap_diag
klog_check "guest ($kver)" "$run/guest-dmesg.txt"
mb_quit -g "$gone" "$box"
rc=0
scripts/vm --wait "$run/vm" > /dev/null || rc=$?
tap_is "guest exits cleanly (scripts/vm status)" "$rc" 0
# after the in-guest check: unload, power-off (a quiet console still
# shows Oops, BUG and panics)
bad=$(klog_console_scan "$run/vm/console.log")
[ -z "$bad" ]
tap_rc $? "guest console to power-off: no WARN, BUG, Oops or panic"
[ -z "$bad" ] || head -n 40 <<<"$bad" | tap_diag
tap_done
