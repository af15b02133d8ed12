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
#   report (last, after predict mode: mode max, no target, the balloon
#          emptied first), page reporting alone: a 256 MiB job in L2 ends, and
#          L1's memfd blocks and Shmem fall by >= 128 MiB from their
#          peak within 60 s, the driver counting REPORTed bytes on the
#          shaping queue (issue #10's nested page reporting test);
#   rise   a stepped ramp (four 64 MiB jobs, started 4 s apart): the
#          policy decided sure rises (grow_commit: a rise predicted
#          beyond the demand now, whose increment, not the whole
#          deflation, is COMMITted), the host received COMMITs and
#          populated >= 32 MiB for them (backing ahead of use), with
#          the driver's defaults but commit_confidence_pct 0 in this
#          phase (LOOP_COMMIT_PCT overrides it): the phase tests the way
#          from a predicted rise to backing ahead of use; whether the
#          policy is sure at the default 90 is how well the band covered
#          this run's earlier outcomes (the windowed calibration's
#          coverage at the 5 s horizon read 72-76% before one ramp on
#          2026-12-01, so it RESERVEd and the check failed with 16 MiB),
#          and the threshold itself is policy_unit's and
#          shaping-loopback's;
#   drop   the jobs end together: the memfd gives back at least half of
#          what they used, within 60 s, with no host target set;
#   guard  idle, the balloon holds most free memory, then the guest's
#          floor is raised 64 MiB above what is available: the guard
#          deflates at once (the balloon shrinks by >= 64 MiB within
#          120 s, guard decisions counted in debugfs "policy");
#   and nothing is OOM-killed; no WARN/BUG/Call Trace in L1 or L2.
#
# Environment: VSHAPE_HOST_KO, VSHAPE_KVER (L2), VSHAPE_GUEST_KO,
# VSHAPE_MEMTOUCH, SCEN_SAMPLER; LOOP_OUT (a directory shared with L0:
# the CSVs and L2's console are copied there); LOOP_COMMIT_PCT (the rise phase's
# commit_confidence_pct, default 0: see "rise").  TAP on stdout.
# shellcheck disable=SC2016 # the single-quoted snippets are expanded in L2
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/host/nested-lib.sh
. selftests/host/nested-lib.sh
t_start=$SECONDS
step() { tap_diag "[$((SECONDS - t_start)) s] $*"; }

[ -e /dev/kvm ] || tap_skip_all "no /dev/kvm in L1 (nested virtualization unavailable)"
for f in "$VSHAPE_HOST_KO" "$VSHAPE_GUEST_KO" "$VSHAPE_MEMTOUCH" "$SCEN_SAMPLER"; do
	[ -e "$f" ] || tap_bail "missing $f (built by selftests/host/loop.sh)"
done
if ! { modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa; }; then
	tap_bail "vdpa/vhost_vdpa modules missing in L1"
fi
mount -t debugfs none /sys/kernel/debug 2>/dev/null
tap_check "vshape_host loads in L1" insmod "$VSHAPE_HOST_KO"
vdpa dev add mgmtdev vshape name vs0 || tap_bail "vdpa dev add failed"
wait_for -q 5 '[ -e /dev/vhost-vdpa-0 ]'
echo $((1024 * MiB)) > $LEDGER/capacity_bytes
echo 0 > $SYS/target_pages

run=/tmp/l2loop
# L2 lives for the whole run (slow under a loaded TCG L1; L1's own
# timeout is 2400 s)
export L2_VM_TIMEOUT=2200
if ! start_l2 "$VSHAPE_KVER" "$run"; then
	tap_not_ok "L2 boots with the agent"
	tail -n 30 "$run/console.log" | tap_diag
	tap_done
fi
tap_ok "L2 boots with the agent"
step "L2 up"
tap_check "vshape_guest loads with page_reporting=1 and binds, shaping on, reporting via the shaping queue" \
	l2 "insmod $VSHAPE_GUEST_KO page_reporting=1 && wait_for 10 gdev &&
		read -r pr < /sys/module/vshape_guest/parameters/page_reporting &&
		[ \"\$pr\" = Y ] && [ \"\$(gst shaping)\" = on ] &&
		gdev && grep -qx 'via: shaping_report' \$D/reporting"
# jobs_left: is a memtouch still running in L2 (builtins only)
jobs_left='jobs_left() { local f c; for f in /proc/[0-9]*/comm; do
	read -r c 2>/dev/null < "$f" && [ "$c" = memtouch ] && return 0; done; return 1; }'
# reported: the bytes L2's driver REPORTed (debugfs "reporting")
reported() {
	l2 'gdev; while IFS=": " read -r k v; do
		[ "$k" = reported_bytes ] && echo "$v"; done < $D/reporting'
}

tap_check "predict mode, predictor lstm, the driver's defaults" \
	l2 "gdev; knob mode predict && knob predictor lstm &&
		[ \"\$(knob mode)\" = predict ]"
oom0=$(l2 'while read -r k v; do [ "$k" = oom_kill ] && echo "$v"; done < /proc/vmstat')

csv=/tmp/loop.csv
l2 "gdev; ( setsid $SCEN_SAMPLER l2 /run/vshape/l2.csv 200 /tmp/loop-phase \$S/vshape < /dev/null > /dev/null 2>&1 & )"
wait_for -q 20 "[ -s $run/l2.csv ]"
"$SCEN_SAMPLER" l1 "$csv" 200 "$(cat "$run/qemu.pid")" "$run/l2.csv" $SYS &
spid=$!
# what to look at afterwards, also after a failure or a timeout
# shellcheck disable=SC2317 # run by at_exit
keep() {
	[ -n "${LOOP_OUT:-}" ] || return 0
	cp "$csv" "$LOOP_OUT/" 2>/dev/null
	cp "$run/l2.csv" "$LOOP_OUT/l2.csv" 2>/dev/null
	cp "$run/console.log" "$LOOP_OUT/l2-console.log" 2>/dev/null
}
at_exit "kill $spid 2>/dev/null; keep"
col() { head -n1 "$csv" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }
# policy N: the count of decision N in L2's debugfs "policy"
# (guard: all guards)
policy() {
	l2 "gdev; n=0; while IFS=': ' read -r k v; do
		case \$k in $1) n=\$((n + v));; esac
	done < \$D/policy; echo \$n"
}

# settle: let the policy size the balloon and page reporting return what
# boot touched, so the ramp starts from a footprint close to what L2 uses.
# The balloon must have reached its size first: before that, the ramp
# fits in the memory the balloon has not yet taken and no rise is needed
# (a fixed 20 s left it at 157 of about 580 MiB under a loaded TCG L1,
# where it inflates about 1 MiB/s).  Still for 20 s, at most 600 s.
step "settle"
sleep 20
if wait_stable -q 600 20 cat "$SYS/inflated_bytes"; then
	step "settled: balloon $(($(cat "$SYS/inflated_bytes") / MiB)) MiB"
else
	step "not settled in 600 s: balloon $(($(cat "$SYS/inflated_bytes") / MiB)) MiB"
fi

# --- rise: a stepped ramp of 4 x 64 MiB ---------------------------------
step "ramp"
c0=$(hst req_commit) pop0=$(hst populated_bytes)
gc0=$(policy grow_commit)
r0=$(($(wc -l < "$csv")))
# the jobs end together, 20 s after the first started (L2's clock: under
# a loaded TCG L1 the touching alone takes longer); the rise is counted
# from the first job's start until no job is left, in one request to L2
# (each costs seconds of the TCG L1): then the count of grow_commit
# decisions and the last decisions
out=$(l2 "echo ramp > /tmp/loop-phase
	gdev; knob commit_confidence_pct ${LOOP_COMMIT_PCT:-0}
	for i in 0 1 2 3; do ( setsid $VSHAPE_MEMTOUCH 64 \$((20 - 4 * i)) > /dev/null 2>&1 & ); vs_snooze 4; done
	$jobs_left; wait_for 300 '! jobs_left'
	gdev; n=0; while IFS=': ' read -r k v; do [ \"\$k\" = grow_commit ] && n=\$v; done < \$D/policy
	echo \$n; grep -E ',(grow|grow_commit|reserve|guard_[a-z]+),' \$D/policy | tail -n 12
	grep -E '^(committed_kb|commit_left_kb):' \$D/policy
	grep -E '^(skipped_committed|reported_bytes):' \$D/reporting
	for k in calib_shortfall_ppm calib_margin_kb commit_confidence_pct; do echo \$k=\$(knob \$k); done")
c1=$(hst req_commit)
r1=$(($(wc -l < "$csv")))
gc1=$(head -n1 <<<"$out")
tap_diag "policy during the ramp (last rises): $(tail -n +2 <<<"$out" | tr '\n' ' ')"
tap_diag "COMMIT requests during the ramp: $c0 -> $c1; policy grow_commit decisions $gc0 -> $gc1"
[ "$gc1" -gt "$gc0" ]
tap_rc $? "rise: the policy decided sure rises (grow_commit $gc0 -> $gc1)"
[ "$c1" -gt "$c0" ]
tap_rc $? "rise: the host received COMMITs during the ramp ($c0 -> $c1)"
# backing ahead of use: the host populated blocks for COMMIT during the
# ramp, i.e. before L2 could touch them (a COMMITted block is still in
# the balloon).  The lead of the memfd over what L2 holds in any way
# (MemTotal - MemFree - balloon) is shown, not asserted: L2's row in the
# CSV lags L1's by up to a second, and in a rising ramp that lag alone
# showed as a lead of 60-94 MiB in runs without a single COMMIT.
m=$(col memfd_bytes) tk=$(col total_kb) fk=$(col free_kb) bk=$(col balloon_kb)
ahead=$(sed -n "$((r0 + 1)),${r1}p" "$csv" | awk -F, -v m="$m" -v t="$tk" -v f="$fk" -v b="$bk" '
	NR == 1 { m0 = $m; u0 = ($t - $f - $b) * 1024 }
	{ d = ($m - m0) - (($t - $f - $b) * 1024 - u0); if (d > best) best = d }
	END { printf "%d", best / 1048576 }')
tap_diag "largest lead of the memfd over what L2 holds during the ramp: $ahead MiB"
pop=$(($(hst populated_bytes) - pop0))
[ "$pop" -ge $((32 * MiB)) ]
tap_rc $? "rise: the host populated >= 32 MiB for COMMIT before L2 touched it ($((pop / MiB)) MiB)"

# --- drop: the jobs end together -----------------------------------------
step "drop"
l2 'echo drop > /tmp/loop-phase'
# the memfd's largest size while the jobs held their memory
peak=$(sed -n "$((r0 + 1)),${r1}p" "$csv" | awk -F, -v m="$m" '$m > p { p = $m } END { printf "%d", p }')
wait_for -q 60 "[ \$(memfd_bytes) -le $((peak - 128 * MiB)) ]"
tap_rc $? "drop: the memfd gave back >= 128 MiB of the 256 MiB freed within 60 s ($((peak / MiB)) -> $(($(memfd_bytes) / MiB)) MiB)"
tap_diag "memfd $((peak / MiB)) MiB at the peak, $(($(memfd_bytes) / MiB)) MiB after the drop"

# --- guard: pressure with a large balloon --------------------------------
step "guard"
# The guards do not depend on the predictor; this phase uses the same
# policy with predictor=last to get a large balloon soon: after the
# ramp's surprise the LSTM's calibrated band stays high until the ramp's
# residuals leave the calibration window (calib_window outcomes, 60 s by
# default), time this phase need not spend.
l2 'echo idle > /tmp/loop-phase; gdev; knob predictor last'
# idle: the policy shrinks the guest; wait until the balloon holds 256 MiB
# (L2 inflates about 1-2 MiB/s under a loaded TCG L1)
wait_for -q 400 "[ \$(cat $SYS/inflated_bytes) -ge $((256 * MiB)) ]"
tap_rc $? "guard: idle, the policy (predictor last) inflated >= 256 MiB ($(($(cat $SYS/inflated_bytes) / MiB)) MiB)"
b0=$(cat $SYS/inflated_bytes)
g0=$(policy 'guard_*')
# Induced pressure: the guest's floor raised 64 MiB above what is
# available now.  (A job that merely asks for more than is available
# does not need a guard when it is slower than the policy's period: the
# grow decisions follow the observed demand, as a first run here showed
# with a 603 MiB job, 0 guards and PSI 0.)  The low-memory guard must
# deflate at once, whatever the prediction, until the floor is met.
l2 "echo pressure > /tmp/loop-phase; gdev
	avail=\$(while read -r k v u; do [ \"\$k\" = MemAvailable: ] && echo \$v; done < /proc/meminfo)
	knob floor_margin_kb \$((avail + 65536))"
wait_for -q 120 "[ \$(cat $SYS/inflated_bytes) -le $((b0 - 64 * MiB)) ]"
tap_rc $? "guard: the balloon deflated under induced pressure ($((b0 / MiB)) -> $(($(cat $SYS/inflated_bytes) / MiB)) MiB)"
g1=$(policy 'guard_*')
tap_diag "guard decisions $g0 -> $g1: $(l2 'gdev; grep "^guard" $D/policy | tr "\n" " "; knob floor_margin_kb 65536')"
[ "$g1" -gt "$g0" ]
tap_rc $? "guard: debugfs policy counts guard decisions ($g0 -> $g1)"

# --- page reporting alone: mode max, no target, the balloon empty -------
# (last, so that the predict-mode phases above start from a fresh boot)
step "report"
l2 'echo report > /tmp/loop-phase; gdev; knob mode max'
wait_for -q 120 "[ \$(cat $SYS/inflated_bytes) -eq 0 ]"
rb0=$(reported)
l2 "( setsid $VSHAPE_MEMTOUCH 256 20 > /dev/null 2>&1 & )"
# the job is started in the background: until L2 shows it running, the
# loop below would sample the footprint before the job and stop at once
wait_for -q 60 l2 "$jobs_left; jobs_left" ||
	tap_diag "report: memtouch not seen running in L2 within 60 s"
# the largest footprint while the job holds its memory
mpeak=0 speak=0
while :; do
	mb=$(memfd_bytes) sb=$(shmem)
	[ "$mb" -gt "$mpeak" ] && mpeak=$mb
	[ "$sb" -gt "$speak" ] && speak=$sb
	l2 "$jobs_left; jobs_left" || break
	[ $((SECONDS - t_start)) -lt 2000 ] || break
	sleep 1
done
wait_for -q 60 "[ \$(memfd_bytes) -le $((mpeak - 128 * MiB)) ]"
tap_rc $? "report: with no target, the memfd gave back >= 128 MiB of the 256 MiB L2 freed within 60 s ($((mpeak / MiB)) -> $(($(memfd_bytes) / MiB)) MiB)"
wait_for -q 20 "[ \$(shmem) -le $((speak - 128 * MiB)) ]"
tap_rc $? "report: L1's Shmem fell by >= 128 MiB ($((speak / MiB)) -> $(($(shmem) / MiB)) MiB)"
rb1=$(reported)
tap_diag "balloon $(($(cat $SYS/inflated_bytes) / MiB)) MiB; REPORTed by L2: $(((rb1 - rb0) / MiB)) MiB"
[ "$(cat $SYS/inflated_bytes)" -eq 0 ] && [ $((rb1 - rb0)) -ge $((128 * MiB)) ]
tap_rc $? "report: the balloon stayed empty and L2 REPORTed >= 128 MiB ($(((rb1 - rb0) / MiB)) MiB)"

l2 'echo end > /tmp/loop-phase'
oom1=$(l2 'while read -r k v; do [ "$k" = oom_kill ] && echo "$v"; done < /proc/vmstat')
tap_is "nothing OOM-killed in L2 (vmstat oom_kill)" "$oom1" "$oom0"
l2_klog_check "L2"
kill "$spid"
tap_check "vshape_guest unloads in L2" l2 'rmmod vshape_guest'
stop_l2
vdpa dev del vs0
tap_check "vshape_host unloads" rmmod vshape_host
klog_check "L1"
step "done"
tap_done
