#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, second part, run INSIDE an L1 6.12 VM with KVM (scripts/demo
# starts it with scripts/vm --nested).  L1 is the host: vshape_host's
# device vs0 on vhost-vdpa, QEMU 10 with an L2 guest whose 1 GiB of RAM is
# a shared memfd, and the real vshape_guest in L2.  Each step prints one
# table row: L1's Shmem, the memfd's allocated blocks, and the device's
# inflated/reserved/committed bytes and ledger charge.
#
# Environment: VSHAPE_HOST_KO, VSHAPE_KVER (L2), VSHAPE_MEMTOUCH.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=selftests/host/nested-lib.sh
. selftests/host/nested-lib.sh

mb() { echo $(($1 / MiB)); }
row() {	# row STEP
	printf '| %-58s | %5s | %5s | %5s | %5s | %5s | %5s |\n' "$1" \
		"$(mb "$(shmem)")" "$(mb "$(memfd_bytes)")" \
		"$(mb "$(cat $SYS/inflated_bytes)")" \
		"$(mb "$(cat $SYS/reserved_bytes)")" \
		"$(mb "$(cat $SYS/committed_bytes)")" \
		"$(mb "$(cat $LEDGER/charged_bytes)")"
}
fail() { echo "# demo: $*"; exit 1; }

modprobe -a vhost_iotlb vdpa vhost_vdpa ||
	fail "vdpa/vhost_vdpa modules missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
insmod "${VSHAPE_HOST_KO:?}" || fail "insmod vshape_host"
vdpa dev add mgmtdev vshape name vs0 || fail "vdpa dev add"
wait_for 5 '[ -e /dev/vhost-vdpa-0 ]' || fail "no /dev/vhost-vdpa-0"
echo $((512 * MiB)) > $LEDGER/capacity_bytes
echo "# L1: vdpa device vs0 (mgmtdev vshape) on /dev/vhost-vdpa-0; ledger capacity 512 MiB"

start_l2 "${VSHAPE_KVER:?}" /tmp/l2demo || fail "L2 did not start"
l2 "mod_load_bind $PWD/build/$VSHAPE_KVER/guest/vshape_guest.ko vshape_guest && gdev" ||
	fail "vshape_guest did not bind in L2"
echo "# L2: $(l2 'uname -r'), vshape_guest shaping feature: $(l2 'gdev; gst shaping')"
echo "# MiB: L1's Shmem, the memfd's blocks; the device's inflated, reserved, committed bytes; its ledger charge"
printf '| %-58s | %5s | %5s | %5s | %5s | %5s | %5s |\n' step Shmem memfd infl resv comm ledgr
printf '|%s|-------|-------|-------|-------|-------|-------|\n' "$(printf -- '-%.0s' $(seq 60))"
row "L2 booted, vshape_guest bound"
l2 "${VSHAPE_MEMTOUCH:?} 700 0 > /dev/null"
row "L2 touched 700 MiB (the memfd fills)"

# How long each step may take: the predict-mode step COMMITs and
# deflates 128 blocks one request each through a TCG L1, which took more
# than 120 s at load 7; the demo waits for the state, not for a time.
step_s=300
r0=$(hst req_inflate)
l2 'gdev; knob mode guest; knob guest_target_kb 262144'
wait_host $SYS/inflated_bytes $((256 * MiB)) "$step_s" || fail "inflate"
sleep 0.5
row "guest target 256 MiB: $(($(hst req_inflate) - r0)) INFLATE requests of 2 MiB extents"
echo "# host debugfs extents (gpa, bytes, state), first of $(wc -l < /sys/kernel/debug/vshape_host/vs0/extents): $(head -n1 /sys/kernel/debug/vshape_host/vs0/extents)"

# Predict mode with no spare memory in the guest's view (the policy's
# margin_kb above RAM; not floor_margin_kb, whose shortfall is the
# low-memory guard that deflates at once without COMMIT) and
# commit_confidence_pct 0: every block leaving the balloon is
# COMMITted first, so the host populates it before the guest
# could touch it.
# shellcheck disable=SC2016 # $(awk ...) runs in L2, on L2's meminfo
l2 'gdev; knob commit_confidence_pct 0; knob margin_kb $(awk "/^MemTotal:/{print \$2}" /proc/meminfo); knob mode predict'
wait_host $SYS/inflated_bytes 0 "$step_s" || fail "deflate"
sleep 0.5
row "predict mode, no spare memory predicted: COMMIT, DEFLATE"
echo "# host: $(hst req_commit) COMMIT requests, $(mb "$(hst populated_bytes)") MiB populated before the guest touched it"
[ "$(hst req_commit)" -gt 0 ] || fail "predict mode deflated without COMMIT"

# follow the host's target only (config num_pages)
l2 'gdev; knob margin_kb 65536; knob guest_target_kb 0; knob mode host'
echo 32768 > $SYS/target_pages
wait_host $SYS/inflated_bytes $((128 * MiB)) "$step_s" || fail "host target"
sleep 0.5
row "host target_pages 128 MiB (config interrupt)"
echo 0 > $SYS/target_pages
wait_host $SYS/inflated_bytes 0 "$step_s" || fail "host target 0"
row "host target 0"
echo "# host counters: $(grep -E '^(req_|status_)' /sys/kernel/debug/vshape_host/vs0/stats | tr '\n' ' ')"

l2 'rmmod vshape_guest'
stop_l2
vdpa dev del vs0
rmmod vshape_host || fail "rmmod vshape_host"
echo "# L2 stopped, vs0 deleted, vshape_host unloaded: L1 Shmem $(mb "$(shmem)") MiB"
