#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested end-to-end test, L1 side: run INSIDE a 6.12 VM with KVM available
# (run.sh starts it with scripts/vm --nested).  L1 is the host: it loads
# vshape_host and creates vs0 bound to vhost_vdpa; then, one after the
# other, it boots an L2 guest per kernel in VSHAPE_L2_KVERS (QEMU 10, KVM,
# 1 GiB shared memfd RAM, vhost-vdpa-device-pci) in which the REAL guest
# driver, build/<L2 kver>-test/guest/vshape_guest.ko (the test flavour), drives the device.  L2 runs the
# agent of nested-l2.sh; this script sends it one step at a time and
# measures its own Shmem (the memfd) and the device's counters between
# steps.  The first L2 starts with a hostile driver instead (l2_hostile).
# A last L2 (the first kernel) runs with its RAM in a file on a
# huge=within_size tmpfs: INFLATE must free whole 2 MiB folios.
#
# Environment: VSHAPE_HOST_KO, VSHAPE_L2_KVERS (default: VSHAPE_KVER),
# VSHAPE_MEMTOUCH (selftests/guest/memtouch), VSHAPE_L2_LOOPTEST_KO (the
# hostile test driver, selftests/host/looptest, built for the first L2
# kernel).
# TAP on stdout; exit 0 passed, 1 failed.  No skip: scripts/vm --nested
# ends L1 with status 125 before this script runs if it cannot give L1
# /dev/kvm, and a missing /dev/kvm here is a failure.  Every kernel's log
# (L1, each L2) is checked after the last step of its part.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/host/nested-lib.sh
. selftests/host/nested-lib.sh
# shellcheck source=selftests/host/hostile-lib.sh
. selftests/host/hostile-lib.sh
t_start=$(date +%s)
step() { echo "# [$(($(date +%s) - t_start)) s] $*"; }

# Progress of a long run (on the debug L1 of scripts/check-debug this
# suite takes hours, and a step can wait 40 minutes on an L2 that no
# longer answers): every 5 minutes, the last line of text on the console
# of the L2 booted last.
heartbeat() {
	local c f
	while vs_snooze 300; do
		c=
		for f in /tmp/l2run-*/console.log; do
			[ -e "$f" ] && { [ -z "$c" ] || [ "$f" -nt "$c" ]; } && c=$f
		done
		step "heartbeat: ${c:-no L2 yet}: $(grep -a '[[:graph:]]' "${c:-/dev/null}" 2>/dev/null | tail -n1 | tr -cd '[:print:]' | cut -c1-160)"
	done
}
heartbeat &
heartbeat_pid=$!

[ -e /dev/kvm ] || tap_bail "no /dev/kvm in L1 (scripts/vm --nested should have loaded kvm_amd/kvm_intel)"
[ -f "${VSHAPE_HOST_KO:-}" ] || tap_bail "VSHAPE_HOST_KO missing"
read -r -a l2kvers <<<"${VSHAPE_L2_KVERS:-$VSHAPE_KVER}"
memtouch=${VSHAPE_MEMTOUCH:-$PWD/selftests/guest/memtouch}
[ -f "${VSHAPE_L2_LOOPTEST_KO:-}" ] || tap_bail "VSHAPE_L2_LOOPTEST_KO missing (selftests/host/build.sh ${l2kvers[0]})"
for k in "${l2kvers[@]}"; do
	[ -f "build/$k-test/guest/vshape_guest.ko" ] || tap_bail "build/$k-test/guest/vshape_guest.ko missing (VSHAPE_TEST=1 scripts/build-kmods $k)"
done
tap_check "vhost_iotlb, vdpa and vhost_vdpa load in L1" \
	bash -c 'modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa' ||
	tap_bail "vdpa/vhost_vdpa modules missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null

base=$(shmem)
tap_check "vshape_host loads in L1" insmod "$VSHAPE_HOST_KO"
vdpa dev add mgmtdev vshape name vs0 || tap_bail "vdpa dev add failed"
tap_check "vs0 bound to vhost_vdpa: /dev/vhost-vdpa-0" wait_for $((5 * VS_TIME_SCALE)) '[ -e /dev/vhost-vdpa-0 ]'

mb() { echo $(($1 / MiB)); }

# trace_requests on|off: the device's request tracepoint, the buffer
# cleared when it is switched on
TR=/sys/kernel/tracing
trace_requests() {
	if [ "$1" = on ]; then
		echo > $TR/trace
		echo 1 > $TR/events/vshape_host/vshape_host_request/enable
	else
		echo 0 > $TR/events/vshape_host/vshape_host_request/enable
	fi
}

# trace_commit_order: from the request trace, in order: the first
# request's op, the bytes COMMIT and DEFLATE granted, and the number of
# DEFLATEs after which more had been deflated than committed (0 when
# every deflated byte was committed before it was deflated)
trace_commit_order() {
	awk '/vshape_host_request:/ {
		op = ""; g = 0
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^op=/) op = substr($i, 4)
			if ($i ~ /^granted=/) g = substr($i, 9) + 0
		}
		if (first == "") first = op
		if (op == "commit") c += g
		if (op == "deflate") { d += g; if (d > c) bad++ }
	}
	END { printf "%s %.0f %.0f %d\n", first == "" ? "none" : first, c, d, bad }' $TR/trace
}

# stop_l2_check T: end L2 and check that it exited cleanly.
stop_l2_check() {
	local rc
	stop_l2
	rc=$?
	tap_check "$1: L2 finished cleanly (exit $rc)" [ "$rc" = 0 ]
}

# guest_inflate T MIB: in guest mode, set L2's guest_target_kb to MIB and
# check that the device holds that much inflated.
guest_inflate() {
	l2 "gdev; knob mode guest; knob guest_target_kb $(($2 * 1024))"
	tap_check "$1: guest_target_kb $2 MiB: the device holds $2 MiB inflated" \
		wait_host $SYS/inflated_bytes $(($2 * MiB)) 120
	sleep 0.5
}

# A hostile guest driver in L2 (issue 12 item 1; loopback.sh runs the
# same one in a single kernel): vshape_looptest, bound to the device
# before vshape_guest, posts over the real virtqueues (virtio-pci in L2,
# vhost-vdpa-device-pci in QEMU) an inflate chain of 16 x 16 MiB over one
# 16 MiB buffer of 0xff bytes (loopback.sh's 64 MiB took L2 30 s to
# fill, each page faulted in through L1), 4096 copies of one valid PFN
# in one 16 KiB buffer and in a chain of 16 such (over the 16 KiB cap),
# and a storm of 16 x COMMIT + RELEASE of 32 MiB, which here populates
# and punches L2's memfd for real.  Meanwhile L1 probes itself (hostile-lib.sh): a sysfs
# read, `vdpa dev show` and the debugfs stats (which takes the device
# lock) within 3 s of idle, and no worker step holds the lock 1 s.  QEMU
# runs in its own cgroup (L2_CGROUP): the worker must join it and the
# storm's CPU time must show there.
l2_hostile() {
	local t="$1 hostile" lt=$VSHAPE_L2_LOOPTEST_KO out n slow what pid
	local big0 bad0 inf0 inf1 p0 pg0 pop0 w wcg qcg w0 w1 c0 c1 done_
	step "$t"
	tap_check "$t: vshape_looptest binds the device in L2 (VSHAPE negotiated; hostile mode)" \
		l2 "mod_load_bind $lt vshape_looptest && ltdev"
	w=$(pgrep -x vshape-vs0)
	wcg=$(cat "/proc/$w/cgroup" 2>/dev/null) qcg=$(cat "/proc/$(cat "$l2run/qemu.pid")/cgroup")
	tap_check "$t: the worker vshape-vs0 (pid $w) runs in QEMU's cgroup (QEMU ${qcg#0::}, worker ${wcg#0::})" \
		test -n "$w" -a "$wcg" = "0::$L2_CGROUP" -a "$qcg" = "$wcg"
	# 2 idle rounds, not 5: a probe round costs L1 (TCG) 4-6 s of forks
	probe_idle 2
	hold_reset

	big0=$(hst big_buf) bad0=$(hst bad_pfn) inf0=$(cat $SYS/inflated_bytes)
	# shellcheck disable=SC2016 # expanded in L2
	l2 'ltdev && echo "huge 16" > $H; read -r r < $H; echo "$r"' > "$l2run/huge.out" &
	pid=$!
	read -r n slow what <<<"$(probe_while $pid)"
	wait $pid
	responsive "$t: inflate chain of 16 x 16 MiB of 0xff bytes" "$n" "$slow" "$what"
	out=$(cat "$l2run/huge.out")
	tap_check "$t: ... returned unprocessed: big_buf +$(($(hst big_buf) - big0)) (want 1), bad_pfn +$(($(hst bad_pfn) - bad0)) (want 0), nothing inflated ($out)" \
		test "$(grep -c ' rc=0 used_len=0 ' <<<"$out") $(($(hst big_buf) - big0)) $(($(hst bad_pfn) - bad0)) $(cat $SYS/inflated_bytes)" = "1 1 0 $inf0"

	p0=$(hst punched_bytes) pg0=$(hst inflate_pages)
	# shellcheck disable=SC2016 # expanded in L2
	out=$(l2 'ltdev && echo "repeat 1" > $H; read -r r < $H; echo "$r"')
	inf1=$(cat $SYS/inflated_bytes)
	tap_check "$t: an inflate buffer repeating one valid PFN 4096 times: one page inflated (+$((inf1 - inf0)) bytes, PFNs +$(($(hst inflate_pages) - pg0))) and punched once (punched_bytes +$(($(hst punched_bytes) - p0))) ($out)" \
		test "$((inf1 - inf0)) $(($(hst inflate_pages) - pg0)) $(($(hst punched_bytes) - p0))" = "4096 4096 4096"
	big0=$(hst big_buf) p0=$(hst punched_bytes)
	# shellcheck disable=SC2016 # expanded in L2
	out=$(l2 'ltdev && echo "repeat 16" > $H; read -r r < $H; echo "$r"')
	tap_check "$t: a chain of 16 x 16 KiB repeating one valid PFN: returned unprocessed (big_buf +$(($(hst big_buf) - big0)), inflated +$(($(cat $SYS/inflated_bytes) - inf1)) bytes, punched +$(($(hst punched_bytes) - p0)) bytes) ($out)" \
		test "$(($(hst big_buf) - big0)) $(cat $SYS/inflated_bytes) $(hst punched_bytes)" = "1 $inf1 $p0"
	# shellcheck disable=SC2016 # expanded in L2
	l2 'ltdev && echo deflate > $H'
	tap_check "$t: hostile pages deflated: inflated back to $inf0 bytes" \
		test "$(cat $SYS/inflated_bytes)" = "$inf0"

	step "$t: storm"
	# the storm, through the test driver's shaping test mode (bash
	# builtins only in L2)
	# shellcheck disable=SC2016 # expanded in L2
	l2 'ltdev && echo "alloc 64" > $SH/request && req inflate b0-15 && [ "$status" = 0 ]' ||
		echo "# $t: the storm's INFLATE of 32 MiB failed"
	p0=$(hst punched_bytes) pop0=$(hst populated_bytes) s0=$(slices_read)
	w0=$(task_cpu_ms "$w") c0=$(cgroup_cpu_ms "$L2_CGROUP")
	# shellcheck disable=SC2016 # expanded in L2
	l2 'ltdev; n=0
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
			req commit b0-15; [ "$status $granted" = "0 33554432" ] && n=$((n + 1))
			req release b0-15; [ "$status $granted" = "0 33554432" ] && n=$((n + 1))
		done
		echo "$n"' > "$l2run/storm.out" &
	pid=$!
	read -r n slow what <<<"$(probe_while $pid)"
	wait $pid
	w1=$(task_cpu_ms "$w") c1=$(cgroup_cpu_ms "$L2_CGROUP")
	done_=$(cat "$l2run/storm.out")
	tap_check "$t: storm of 16 x COMMIT + RELEASE of 32 MiB: $done_/32 DONE" test "$done_" = 32
	responsive "$t: COMMIT/RELEASE storm" "$n" "$slow" "$what"
	slices_check "$t: storm" "$s0" 32
	tap_check "$t: ... the memfd populated +$(mb $(($(hst populated_bytes) - pop0))) MiB and punched +$(mb $(($(hst punched_bytes) - p0))) MiB, no more than the 16 x 32 MiB asked" \
		test $(($(hst populated_bytes) - pop0)) -le $((512 * MiB)) -a $(($(hst punched_bytes) - p0)) -le $((512 * MiB))
	tap_check "$t: ... the worker's CPU time ($((w1 - w0)) ms) shows in QEMU's cgroup (+$((c1 - c0)) ms)" \
		test $((w1 - w0)) -gt 50 -a $((c1 - c0)) -ge $((w1 - w0))
	hold_check "$t: hostile chains and storm"
	# back to L2 as populated pages (COMMIT, then DEFLATE), not as the
	# holes the last RELEASE punched: the balloon's INFLATE below must
	# free what it takes (it fell 33 MiB short of 240 MiB once)
	# shellcheck disable=SC2016 # expanded in L2
	l2 'ltdev && req commit b0-15; req deflate b0-15; echo free > $SH/request'
	tap_check "$t: storm undone: inflated back to $inf0 bytes ($(cat $SYS/inflated_bytes)), ledger empty ($(cat $LEDGER/charged_bytes))" \
		test "$(cat $SYS/inflated_bytes) $(cat $LEDGER/charged_bytes)" = "$inf0 0"
	tap_check "$t: vshape_looptest unloads" l2 'rmmod vshape_looptest'
}

# One L2 boot: every check with the real guest driver.  $2 = last: end by
# killing QEMU with work in flight instead of a clean exit; $3 = hostile:
# first the hostile driver (l2_hostile), with QEMU in its own cgroup.
l2_suite() {
	local k=$1 last=$2 t ko s0 s1 m0 m1 p0 p1 r0 d0 f inv0 rc L2_CGROUP=
	t="L2 ${k%%+*}"
	ko=$PWD/build/$k-test/guest/vshape_guest.ko
	echo $((1024 * MiB)) > $LEDGER/capacity_bytes
	echo 0 > $SYS/target_pages
	[ "$3" = 0 ] || L2_CGROUP=/l2vmm
	if ! start_l2 "$k" "/tmp/l2run-$k"; then
		tap_not_ok "$t: L2 boots with the agent"
		tail -n 30 "/tmp/l2run-$k/console.log" | sed 's/^/# L2| /'
		return
	fi
	tap_ok "$t: L2 boots with the agent ($k)"
	[ "$3" = 0 ] || l2_hostile "$t"

	# Free page reporting stays off, so that L1's Shmem moves only with
	# the balloon in these steps.
	tap_check "$t: vshape_guest ($ko) loads and binds the device" \
		l2 "mod_load_bind $ko vshape_guest page_reporting=0 && gdev"
	# shellcheck disable=SC2016 # expanded in L2
	tap_check "$t: shaping feature negotiated (debugfs state: shaping: on)" \
		l2 'gdev && [ "$(gst shaping)" = on ]'
	f=$(hst features)
	tap_check "$t: device sees VIRTIO_BALLOON_F_VSHAPE (bit 23) acked ($f)" [ $(((f >> 23) & 1)) = 1 ]
	tap_check "$t: device is in VA mode (use_va, mm bound)" [ "$(cat $SYS/mode)" = va ]

	step "$t: inflate/deflate"
	# --- guest target 256 MiB: INFLATE extents, the memfd shrinks ---
	# Touch most of L2's RAM first, so the memfd is populated where the
	# balloon will take blocks (Debian zeroes allocated pages anyway).
	l2 "$memtouch 700 0 >/dev/null"
	r0=$(hst req_inflate) s0=$(shmem) f=$(hst inflate_pages) m0=$(memfd_bytes)
	guest_inflate "$t" 256
	s1=$(shmem) m1=$(memfd_bytes)
	echo "# $t: L1 Shmem $(mb "$s0") -> $(mb "$s1") MiB (drop $(mb $((s0 - s1))) MiB), memfd blocks $(mb "$m0") -> $(mb "$m1") MiB; INFLATE requests +$(($(hst req_inflate) - r0)), PFNs +$(($(hst inflate_pages) - f))"
	tap_check "$t: INFLATE of 256 MiB lowers L1 Shmem by >= 240 MiB" [ $((s0 - s1)) -ge $((240 * MiB)) ]
	tap_check "$t: ... and the memfd's allocated blocks by >= 240 MiB" [ $((m0 - m1)) -ge $((240 * MiB)) ]
	tap_check "$t: sent as INFLATE extents (2 MiB blocks), not PFNs" \
		[ "$(hst req_inflate)" -gt "$r0" -a "$(hst inflate_pages)" = "$f" ]
	d0=$(hst req_deflate)
	l2 'gdev; knob guest_target_kb 0'
	tap_check "$t: target back to 0: DEFLATE accounted (0 inflated)" \
		wait_host $SYS/inflated_bytes 0 120
	tap_check "$t: ... through DEFLATE extents ($(($(hst req_deflate) - d0)) requests)" \
		[ "$(hst req_deflate)" -gt "$d0" ]

	step "$t: commit"
	# --- COMMIT only the predicted rise (predict mode, commit_confidence_pct 0) ---
	# Inflate 256 MiB in guest mode, raise the policy's margin_kb above
	# RAM (only predict mode reads it), then switch to predict mode: the
	# policy starts from the balloon as it is, its first decision sizes
	# the spare memory at 0, a sure rise, so the balloon deflates
	# entirely.  (Not floor_margin_kb: available memory under the floor
	# is the low-memory guard, which deflates at once without COMMIT.)
	# A sure rise COMMITs only the predicted rise of demand (peak -
	# used), never the margin: first with predictor=last (peak = used)
	# nothing is COMMITted and the host populates nothing; then with a
	# predicted peak above RAM (the test flavour's policy_test_peak_kb)
	# all 256 MiB are, each DEFLATE preceded by COMMIT.  Nobody touches
	# the deflated pages, so L1's Shmem rises only by what COMMIT
	# populated.
	l2 'gdev; knob guest_target_kb 262144'
	wait_host $SYS/inflated_bytes $((256 * MiB)) 120
	# shellcheck disable=SC2016 # expanded in L2
	l2 'gdev; knob commit_confidence_pct 0; knob predictor last; knob margin_kb $(awk "/^MemTotal:/{print \$2}" /proc/meminfo)'
	sleep 0.5
	p0=$(hst populated_bytes) r0=$(hst req_commit) d0=$(hst req_deflate)
	l2 'gdev; knob mode predict'
	wait_host $SYS/inflated_bytes 0 120
	sleep 0.5
	# shellcheck disable=SC2016 # expanded in L2
	ck=$(l2 'gdev; while IFS=": " read -r k v; do [ "$k" = committed_kb ] && echo "$v"; done < $D/policy')
	tap_check "$t: a rise with nothing predicted beyond the demand (predictor last) deflates 256 MiB with no COMMIT: COMMIT requests +$(($(hst req_commit) - r0)), DEFLATE +$(($(hst req_deflate) - d0)), host populated +$(mb $(($(hst populated_bytes) - p0))) MiB, policy committed_kb $ck" \
		test "$(hst req_commit)" = "$r0" -a "$(hst req_deflate)" -gt "$d0" \
			-a $(($(hst populated_bytes) - p0)) -lt $((16 * MiB)) -a "$ck" = 0
	l2 'gdev; knob mode guest; knob guest_target_kb 262144'
	wait_host $SYS/inflated_bytes $((256 * MiB)) 120
	# shellcheck disable=SC2016 # expanded in L2
	l2 'gdev; knob predictor lstm; awk "/^MemTotal:/{print \$2}" /proc/meminfo > $D/policy_test_peak_kb'
	sleep 0.5
	p0=$(hst populated_bytes) s0=$(shmem) r0=$(hst req_commit) m0=$(memfd_bytes)
	trace_requests on
	l2 'gdev; knob mode predict'
	wait_host $SYS/inflated_bytes 0 120
	sleep 0.5
	trace_requests off
	p1=$(hst populated_bytes) s1=$(shmem) m1=$(memfd_bytes)
	read -r tfirst tc td tbad <<<"$(trace_commit_order)"
	echo "# $t: predict mode deflated 256 MiB: COMMIT requests +$(($(hst req_commit) - r0)), host populated +$(mb $((p1 - p0))) MiB, L1 Shmem $(mb "$s0") -> $(mb "$s1") MiB (+$(mb $((s1 - s0))) MiB), memfd blocks +$(mb $((m1 - m0))) MiB; guest commits $(l2 'gdev; gst commits')"
	tap_check "$t: predict mode COMMITs before deflating (request trace: first $tfirst; COMMIT granted $(mb "$tc") MiB, DEFLATE $(mb "$td") MiB; $tbad DEFLATEs beyond what was committed before them)" \
		test "$tfirst" = commit -a "$tbad" = 0 -a "$td" -ge $((240 * MiB))
	tap_check "$t: ... COMMIT populated it: host populated +$(mb $((p1 - p0))) MiB >= 240 MiB" \
		[ $((p1 - p0)) -ge $((240 * MiB)) ]
	tap_check "$t: L1 Shmem rises by the committed amount before the guest touches it (>= populated - 16 MiB)" \
		[ $((s1 - s0)) -ge $((p1 - p0 - 16 * MiB)) ]
	tap_check "$t: ... and the memfd's allocated blocks by as much" \
		[ $((m1 - m0)) -ge $((p1 - p0 - 16 * MiB)) ]
	# a granted COMMIT of balloon pages charges them (trace above); the
	# DEFLATE that follows must drop it
	tap_check "$t: DEFLATE after COMMIT drops the charge: $(mb "$tc") MiB committed, then ledger $(cat $LEDGER/charged_bytes)" \
		test "$tc" -ge $((240 * MiB)) -a "$(cat $LEDGER/charged_bytes)" = 0
	# shellcheck disable=SC2016 # expanded in L2
	ck=$(l2 'gdev; echo 0 > $D/policy_test_peak_kb; while IFS=": " read -r k v; do [ "$k" = committed_kb ] && echo "$v"; done < $D/policy')
	tap_check "$t: ... and the policy counted it: committed_kb $ck = the COMMIT granted ($((tc >> 10)) KiB)" \
		test "$ck" = $((tc >> 10))

	step "$t: reserve"
	# --- RESERVE beyond capacity: refused ---
	# predict mode, commit_confidence_pct 100: a predicted rise RESERVEs
	# balloon blocks; the ledger has no capacity.  A host target of 256 MiB
	# keeps blocks in the balloon whatever the prediction.
	l2 'gdev; knob mode guest; knob margin_kb 65536; knob commit_confidence_pct 100'
	echo 0 > $LEDGER/capacity_bytes
	echo 65536 > $SYS/target_pages
	r0=$(hst status_refused_capacity)
	l2 'gdev; gst shaping_refused > /tmp/refused0; knob mode predict'
	# a demand that the predictor sees rising (memtouch in the background)
	# shellcheck disable=SC2317 # run by wait_for
	refused() { [ "$(hst status_refused_capacity)" -gt "$r0" ]; }
	for _ in 1 2 3; do
		l2 "( $memtouch 300 3 > /dev/null 2>&1 & )"
		wait_for -q $((20 * VS_TIME_SCALE)) refused && break
	done
	tap_check "$t: host answered REFUSED_CAPACITY to RESERVE ($r0 -> $(hst status_refused_capacity), req_reserve $(hst req_reserve))" refused
	# shellcheck disable=SC2016 # expanded in L2
	tap_check "$t: guest counted the refusals (shaping_refused)" \
		l2 'gdev; read -r r0 < /tmp/refused0; echo "# '"$t"': reserves $(gst reserves), shaping_refused $r0 -> $(gst shaping_refused)"; [ "$(gst shaping_refused)" -gt "$r0" ]'
	echo 0 > $SYS/target_pages
	echo $((1024 * MiB)) > $LEDGER/capacity_bytes
	l2 'gdev; knob mode guest; knob guest_target_kb 0'
	tap_check "$t: balloon empty again" wait_host $SYS/inflated_bytes 0 120
	# the last COMMIT's DEFLATE may still be on its way (once: not yet 0
	# right after the balloon emptied)
	tap_check "$t: ledger empty again" wait_host $LEDGER/charged_bytes 0 60

	step "$t: malformed"
	# --- malformed requests through vshape_guest's own debugfs test mode ---
	inv0=$(hst status_invalid)
	# shellcheck disable=SC2016 # expanded in L2
	l2 'gdev; echo "alloc 6" > $D/shaping/request; mapfile -t bl < $D/shaping/blocks
		[ ${#bl[@]} = 3 ] || exit 1
		b0=${bl[0]#* } bad=0
		for args in "inflate 0x7f0000000000:4096" "inflate 0xfee00000:4096" \
			"inflate 0xfffc0000:4096" "inflate 0x0:0x80000000" \
			"inflate $(printf 0x%x $((b0 + 2048))):4096" \
			"inflate $(printf 0x%x "$b0"):8192 $(printf 0x%x $((b0 + 4096))):4096" \
			"inflate nr=300 b0" "9 b0" "inflate rsv=7 b0" "inflate short=24 b0" \
			"commit 0x1000000:4096"; do
			req $args
			[ "$status" = 3 ] || { bad=$((bad + 1)); echo "# not INVALID: $args (status=$status)"; }
		done
		req deflate b0-2
		[ "$status" = 0 ] && [ "$granted" = $((6 << 20)) ] || { echo "# deflate after bad input: $status $granted"; bad=$((bad + 1)); }
		echo free > $D/shaping/request
		exit $bad'
	rc=$?
	tap_check "$t: 11 malformed requests (outside RAM, MMIO, ROM, oversized, unaligned, overlapping, bad nr/op/reserved, truncated, not in balloon) INVALID, then a valid one DONE" [ $rc = 0 ]
	tap_check "$t: host counted 11 INVALID ($inv0 -> $(hst status_invalid))" \
		[ "$(hst status_invalid)" = $((inv0 + 11)) ]

	step "$t: unload"
	# --- held state for the unload: 32 MiB reserved, 32 MiB committed ---
	# shellcheck disable=SC2016 # expanded in L2
	l2 'gdev; echo "alloc 64" > $D/shaping/request
		req inflate b0-31; req reserve b0-15; req commit b16-31; echo "# commit: $status $granted"'
	held="$(cat $SYS/reserved_bytes) $(cat $SYS/committed_bytes) $(cat $LEDGER/charged_bytes)"
	tap_check "$t: test mode holds 32 MiB RESERVED + 32 MiB COMMITTED, ledger 64 MiB (reserved, committed, ledger: $held)" \
		test "$held" = "$((32 * MiB)) $((32 * MiB)) $((64 * MiB))"

	if [ "$last" = 0 ]; then
		# unload vshape_guest while a 512 MiB inflation is under way
		# (the guest inflates 64 MiB per step: actual_kb moves from 0
		# to 65536 first); prints the KiB held at rmmod and its status
		# shellcheck disable=SC2016 # expanded in L2
		out=$(l2 'gdev; knob guest_target_kb 524288
			while read -r v < $S/vshape/actual_kb && [ "$v" = 0 ]; do :; done
			rmmod vshape_guest; echo "$v $?"')
		read -r held rc <<<"${out##*$'\n'}"
		tap_check "$t: rmmod vshape_guest during a 512 MiB inflation (exit ${rc:-none})" test "${rc:-x}" = 0
		tap_check "$t: ... with the inflation in flight (${held:-?} of 524288 KiB held at rmmod)" \
			test "${held:-0}" -gt 0 -a "${held:-0}" -lt 524288
		tap_check "$t: device forgot it all: 0 inflated, reserved, committed" \
			[ "$(cat $SYS/inflated_bytes)$(cat $SYS/reserved_bytes)$(cat $SYS/committed_bytes)" = 000 ]
		tap_check "$t: ledger empty after the guest unloaded" [ "$(cat $LEDGER/charged_bytes)" = 0 ]

		# the host's target through the config interrupt (in-tree driver)
		l2 "mod_load_bind -t $((20 * VS_TIME_SCALE)) virtio_balloon virtio_balloon"
		echo 16384 > $SYS/target_pages
		tap_check "$t: in-tree virtio_balloon follows target_pages (config interrupt via vhost-vdpa-device-pci): 64 MiB inflated" \
			wait_host $SYS/inflated_bytes $((64 * MiB)) 180
		echo 0 > $SYS/target_pages
		tap_check "$t: ... and deflates at target 0" wait_host $SYS/inflated_bytes 0 180
		tap_check "$t: rmmod virtio_balloon" l2 'rmmod virtio_balloon'
		# L2's log after its last step, the in-tree balloon's included
		l2_klog_check "$t"
		stop_l2_check "$t"
	else
		# kill L2's QEMU while a 512 MiB inflation is under way (its
		# kernel log is checked first: nothing after the kill counts)
		l2_klog_check "$t"
		l2 'gdev; knob guest_target_kb 524288'
		# (64 MiB per step; under load the step after the first took
		# more than 30 s once, and the first did at load 5 with two
		# other nested stacks: kill once the first is in)
		# shellcheck disable=SC2016
		wait_for $((180 * VS_TIME_SCALE)) '[ "$(cat $SYS/inflated_bytes)" -gt 0 ]'
		inf=$(cat $SYS/inflated_bytes) charged=$(cat $LEDGER/charged_bytes)
		kill -9 "$(cat "$l2run/qemu.pid")"
		tap_check "$t: QEMU killed with the inflation in flight ($((inf >> 10)) of 524288 KiB inflated, ledger $(mb "$charged") MiB)" \
			test "$inf" -gt 0 -a "$inf" -lt $((512 * MiB)) -a "$charged" = $((64 * MiB))
		scripts/vm --wait "$l2run" > /dev/null 2>&1
		tap_check "$t: QEMU killed with work in flight: device reset, 0 inflated/reserved/committed" \
			[ "$(cat $SYS/inflated_bytes)$(cat $SYS/reserved_bytes)$(cat $SYS/committed_bytes)" = 000 ]
		# nothing outlives the VMM: before vdpa dev del, the memfd is freed
		sleep 0.5
		tap_check "$t: QEMU killed: its memfd is freed before vdpa dev del (L1 Shmem $(mb "$(shmem)") MiB, $(mb "$base") MiB before the VMs)" \
			[ $(($(shmem) - base)) -le $((32 * MiB)) ]
	fi
	tap_check "$t: VM gone: ledger empty" [ "$(cat $LEDGER/charged_bytes)" = 0 ]
	echo "# $t host: $(grep -E "^(req|status|bad|punched|populated|throttled|backing)" $HSTATS | tr '\n' ' ')"
	if [ "$TAP_FAILS" != 0 ]; then
		grep -a '^' "$l2run/console.log" | tail -n 20 | sed 's/^/# L2| /'
	fi
}

# One more L2 with its RAM on L1 huge pages: a file on a tmpfs mounted
# huge=within_size, mapped 2 MiB-aligned (docs/host.md, "Huge pages").
# 2 MiB INFLATE extents must free whole folios.
shmem_huge() { awk '/^ShmemHugePages:/{print $2 * 1024}' /proc/meminfo; }
l2_huge() {
	local k=$1 t="L2 ${1%%+*} on huge pages" h0 h1 m0 m1
	mkdir -p /run/l2huge
	if ! mount -t tmpfs -o huge=within_size,size=1100M none /run/l2huge; then
		tap_not_ok "$t: tmpfs with huge=within_size mounts"
		return
	fi
	export L2_RAM_FILE=/run/l2huge/ram
	echo 0 > $SYS/target_pages
	if start_l2 "$k" /tmp/l2run-huge; then
		tap_ok "$t: L2 boots with its RAM in $L2_RAM_FILE"
		tap_check "$t: vshape_guest loads and binds the device" \
			l2 "mod_load_bind $PWD/build/$k-test/guest/vshape_guest.ko vshape_guest page_reporting=0 && gdev"
		l2 "$memtouch 700 0 >/dev/null"
		h0=$(shmem_huge) m0=$(memfd_bytes)
		tap_check "$t: L2's RAM is on 2 MiB folios (ShmemHugePages $(mb "$h0") MiB >= 600 MiB)" \
			[ "$h0" -ge $((600 * MiB)) ]
		guest_inflate "$t" 256
		h1=$(shmem_huge) m1=$(memfd_bytes)
		echo "# $t: L1 ShmemHugePages $(mb "$h0") -> $(mb "$h1") MiB, file blocks $(mb "$m0") -> $(mb "$m1") MiB"
		tap_check "$t: INFLATE of 256 MiB frees whole folios: ShmemHugePages drops by >= 240 MiB" \
			[ $((h0 - h1)) -ge $((240 * MiB)) ]
		tap_check "$t: ... and the file's allocated blocks by >= 240 MiB" \
			[ $((m0 - m1)) -ge $((240 * MiB)) ]
		l2 'gdev; knob guest_target_kb 0'
		tap_check "$t: target back to 0: 0 inflated" wait_host $SYS/inflated_bytes 0 120
		# end L2 by killing its QEMU (its kernel log checked first):
		# the file's blocks must be freed and the tmpfs must unmount
		# before vdpa dev del
		l2_klog_check "$t"
		kill -9 "$(cat "$l2run/qemu.pid")"
		scripts/vm --wait "$l2run" > /dev/null 2>&1
		rm -f "$L2_RAM_FILE"
		sleep 0.5
		tap_check "$t: QEMU killed: its RAM file's blocks are freed (tmpfs uses $(df -k --output=used /run/l2huge | tail -n1 | tr -d ' ') KiB)" \
			[ "$(df -k --output=used /run/l2huge | tail -n1 | tr -d ' ')" -lt 4096 ]
		tap_check "$t: QEMU killed: the tmpfs holding its RAM unmounts before vdpa dev del" \
			umount /run/l2huge
	else
		tap_not_ok "$t: L2 boots with its RAM in $L2_RAM_FILE"
		tail -n 30 /tmp/l2run-huge/console.log | sed 's/^/# L2| /'
	fi
	unset L2_RAM_FILE
	if mountpoint -q /run/l2huge; then
		rm -f /run/l2huge/ram
		umount /run/l2huge
	fi
}

for i in "${!l2kvers[@]}"; do
	last=0 hostile=0
	[ "$i" = $((${#l2kvers[@]} - 1)) ] && last=1
	# the hostile driver is built for the first L2 kernel (run.sh)
	[ "$i" = 0 ] && hostile=1
	l2_suite "${l2kvers[$i]}" $last $hostile
done
step "huge pages"
l2_huge "${l2kvers[0]}"

vdpa dev del vs0
sleep 0.5
s1=$(shmem)
echo "# L1 Shmem before the VMs $(mb "$base") MiB, after $(mb "$s1") MiB"
tap_check "no leak: L1 Shmem back to its level before the VMs (within 32 MiB)" \
	[ $((s1 - base)) -le $((32 * MiB)) ]
tap_check "vshape_host unloads" rmmod vshape_host
# on the debug kernel: a kmemleak scan now, after the module's objects
# are gone, so that a leak shows in the log klog_check reads
klog_kmemleak
klog_check L1
if [ "$TAP_FAILS" != 0 ]; then
	dmesg | tail -n 30 | sed 's/^/# L1 dmesg| /'
fi
echo "# L1 suite time $(($(date +%s) - t_start)) s"
kill "$heartbeat_pid"
tap_done
