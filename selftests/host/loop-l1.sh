#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The closed loop, nested, L1 side (selftests/host/loop.sh starts it with
# scripts/vm --nested): one L2 guest on vshape_host's vs0 (1 GiB shared
# memfd RAM) runs vshape_guest in predict mode with the LSTM policy and
# page reporting, through one short cycle of demand, while the scenario
# samplers (bench/scenario/sampler.c) record L2's used memory and the
# memfd's allocated blocks every 200 ms.  It asserts behaviour, never a
# speed:
#
#   rise   a stepped ramp (four 64 MiB jobs, started 4 s apart): the host
#          received COMMITs during it, and at some sample the memfd had
#          grown more than L2's used memory had (backing ahead of use);
#   drop   the jobs end together: the memfd gives back at least half
#          of what they used, within 60 s, with no host target set;
#   guard  the balloon is made to hold most free memory, then a job
#          asks for more than is left: the guard deflates (the balloon
#          shrinks, guard_psi/guard_refault counted in debugfs "policy")
#          and the job completes;
#   and nothing is OOM-killed; no WARN/BUG/Call Trace in L1 or L2.
#
# Not yet a suite of scripts/check: it is written against the policy's
# interface (vshape_guest page_reporting=1, sysfs predictor, debugfs
# "policy" counters) and has not run against it; add
# "suite --tap loop-nested 1500 selftests/host/loop.sh" once it passes.
#
# Environment: VSHAPE_HOST_KO, VSHAPE_KVER (L2), VSHAPE_GUEST_KO,
# VSHAPE_MEMTOUCH, SCEN_SAMPLER.  TAP on stdout.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/host/nested-lib.sh
. selftests/host/nested-lib.sh
# shellcheck source=selftests/lib/lib.sh
. selftests/lib/lib.sh
t_start=$SECONDS
step() { tap_diag "[$((SECONDS - t_start)) s] $*"; }

[ -e /dev/kvm ] || tap_skip_all "no /dev/kvm in L1 (nested virtualization unavailable)"
for f in "$VSHAPE_HOST_KO" "$VSHAPE_GUEST_KO" "$VSHAPE_MEMTOUCH" "$SCEN_SAMPLER"; do
	[ -e "$f" ] || tap_bail "missing $f (built by selftests/host/loop.sh)"
done
modprobe -a vhost_iotlb vdpa vhost_vdpa ||
	tap_bail "vdpa/vhost_vdpa modules missing in L1"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
tap_check "vshape_host loads in L1" insmod "$VSHAPE_HOST_KO"
vdpa dev add mgmtdev vshape name vs0 || tap_bail "vdpa dev add failed"
wait_for -q 5 '[ -e /dev/vhost-vdpa-0 ]'
echo $((1024 * MiB)) > $LEDGER/capacity_bytes
echo 0 > $SYS/target_pages

run=/tmp/l2loop
if ! start_l2 "$VSHAPE_KVER" "$run"; then
	tap_not_ok "L2 boots with the agent"
	tail -n 30 "$run/console.log" | tap_diag
	tap_done
fi
tap_ok "L2 boots with the agent"
tap_check "vshape_guest loads with page_reporting=1 and binds; mode predict, predictor lstm" \
	l2 "insmod $VSHAPE_GUEST_KO page_reporting=1 && wait_for 10 gdev &&
		knob mode predict && knob predictor lstm &&
		[ \"\$(knob page_reporting)\" = 1 ] && [ \"\$(knob mode)\" = predict ]"
# shellcheck disable=SC2016 # expanded in L2
oom0=$(l2 'while read -r k v; do [ "$k" = oom_kill ] && echo "$v"; done < /proc/vmstat')

csv=/tmp/loop.csv
l2 "gdev; ( setsid $SCEN_SAMPLER l2 /run/vshape/l2.csv 200 /tmp/loop-phase \$S/vshape < /dev/null > /dev/null 2>&1 & )"
wait_for -q 20 "[ -s $run/l2.csv ]"
"$SCEN_SAMPLER" l1 "$csv" 200 "$(cat "$run/qemu.pid")" "$run/l2.csv" $SYS &
spid=$!
at_exit "kill $spid 2>/dev/null"
col() { head -n1 "$csv" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }

# settle: let page reporting return what boot touched, so the ramp
# starts from a footprint close to what L2 uses
step "settle"
sleep 20

# --- rise: a stepped ramp of 4 x 64 MiB ---------------------------------
step "ramp"
c0=$(hst req_commit)
# shellcheck disable=SC2016 # expanded in L2
gc0=$(l2 'gdev; while IFS=": " read -r k v; do [ "$k" = grow_commit ] && echo $v; done < $D/policy')
r0=$(($(wc -l < "$csv")))
l2 "echo ramp > /tmp/loop-phase
	for i in 0 1 2 3; do ( setsid $VSHAPE_MEMTOUCH 64 \$((30 - 4 * i)) > /dev/null 2>&1 & ); snooze 4; done"
sleep 22
c1=$(hst req_commit)
# shellcheck disable=SC2016 # expanded in L2
gc1=$(l2 'gdev; while IFS=": " read -r k v; do [ "$k" = grow_commit ] && echo $v; done < $D/policy')
tap_diag "COMMIT requests during the ramp: $c0 -> $c1; policy grow_commit decisions ${gc0:-?} -> ${gc1:-?}"
[ "$c1" -gt "$c0" ]
tap_rc $? "rise: the host received COMMITs during the ramp"
# backing ahead of use: some sample where the memfd grew by 32 MiB more
# than L2's used memory did, both from the ramp's first sample
m=$(col memfd_bytes) tk=$(col total_kb) ak=$(col avail_kb) bk=$(col balloon_kb)
ahead=$(tail -n +"$((r0 + 1))" "$csv" | awk -F, -v m="$m" -v t="$tk" -v a="$ak" -v b="$bk" '
	NR == 1 { m0 = $m; u0 = ($t - $a - $b) * 1024 }
	{ d = ($m - m0) - (($t - $a - $b) * 1024 - u0); if (d > best) best = d }
	END { printf "%d", best / 1048576 }')
tap_diag "largest lead of backing over use during the ramp: $ahead MiB"
[ "${ahead:-0}" -ge 32 ]
tap_rc $? "rise: the host backed memory before L2 used it (lead $ahead MiB >= 32 MiB)"

# --- drop: the jobs end together -----------------------------------------
step "drop"
l2 'echo drop > /tmp/loop-phase'
peak=$(memfd_bytes)
wait_for -q 60 "[ \$(memfd_bytes) -le $((peak - 128 * MiB)) ]"
tap_rc $? "drop: the memfd gave back >= 128 MiB of the 256 MiB freed within 60 s ($((peak / MiB)) -> $(($(memfd_bytes) / MiB)) MiB)"

# --- guard: pressure with a large balloon --------------------------------
step "guard"
l2 'echo idle > /tmp/loop-phase'
# idle: the policy shrinks the guest; wait until the balloon holds 256 MiB
wait_for -q 60 "[ \$(cat $SYS/inflated_bytes) -ge $((256 * MiB)) ]"
tap_rc $? "guard: idle, the policy inflated >= 256 MiB ($(($(cat $SYS/inflated_bytes) / MiB)) MiB)"
b0=$(cat $SYS/inflated_bytes)
# guard decisions so far: the counters at the top of debugfs "policy"
# shellcheck disable=SC2016 # expanded in L2
guards() { l2 'gdev; g=0; while IFS=": " read -r k v; do case $k in guard_psi|guard_refault) g=$((g + v));; esac; done < $D/policy; echo $g'; }
g0=$(guards)
# a job that needs more than is left outside the balloon
l2 "echo pressure > /tmp/loop-phase
	gdev; avail=\$(awk '/^MemAvailable:/{print int(\$2 / 1024)}' /proc/meminfo)
	$VSHAPE_MEMTOUCH \$((avail + 128)) 2 > /dev/null"
tap_rc $? "guard: a job asking for 128 MiB more than was available completed"
b1=$(cat $SYS/inflated_bytes)
g1=$(guards)
tap_diag "balloon $((b0 / MiB)) -> $((b1 / MiB)) MiB, guard decisions $g0 -> $g1"
[ "$b1" -lt "$b0" ]
tap_rc $? "guard: the balloon deflated under pressure"
[ "$g1" -gt "$g0" ]
tap_rc $? "guard: debugfs policy counts guard decisions (guard_psi + guard_refault $g0 -> $g1)"

l2 'echo end > /tmp/loop-phase'
# shellcheck disable=SC2016 # expanded in L2
oom1=$(l2 'while read -r k v; do [ "$k" = oom_kill ] && echo "$v"; done < /proc/vmstat')
tap_is "nothing OOM-killed in L2 (vmstat oom_kill)" "$oom1" "$oom0"
l2 'dmesg' > /tmp/l2-dmesg.txt
klog_check "L2" /tmp/l2-dmesg.txt
kill "$spid"
l2 'rmmod vshape_guest'
stop_l2
vdpa dev del vs0
tap_check "vshape_host unloads" rmmod vshape_host
klog_check "L1"
step "done"
tap_done
