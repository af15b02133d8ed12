#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile-driver test, run INSIDE a Linux 6.12 VM (see run.sh): vs0 bound
# to vhost_vdpa, driven from userspace by vdpa_fuzz, which builds rings in
# shared RAM (a file on a tmpfs) and submits malformed chains and
# requests, huge buffers and a COMMIT/RELEASE storm while vs1 is served
# by a second process.  vdpa_fuzz runs in its own cgroup, as a VMM would.
# Then a VMM is killed with memory committed: the device must let go of
# its RAM file at once.  Last, vshape_host's test flavour
# (VSHAPE_HOST_TEST_KO, built with VSHAPE_TEST=1) fails page-state
# allocations on demand under a COMMIT (vdpa_fuzz --fault-commit).  No
# KVM or QEMU needed.  TAP on stdout (vdpa_fuzz's results renumbered
# into it, its plan checked); exit 0 / 1.  A missing module, binary,
# feature or cgroup2 is a failure.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=selftests/lib/lib.sh
. ../lib/lib.sh
[ -f "${VSHAPE_HOST_KO:-}" ] || tap_bail "VSHAPE_HOST_KO missing"
[ -f "${VSHAPE_HOST_TEST_KO:-}" ] || tap_bail "VSHAPE_HOST_TEST_KO (the test flavour) missing"
[ -x "${VSHAPE_FUZZ:-}" ] || tap_bail "VSHAPE_FUZZ (vdpa_fuzz binary) missing"
tap_check "vhost_iotlb, vdpa and vhost_vdpa load" \
	bash -c 'modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa' ||
	tap_bail "vdpa/vhost_vdpa modules missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -e /sys/fs/cgroup/cgroup.controllers ] ||
	mount -t cgroup2 none /sys/fs/cgroup || tap_bail "no cgroup2"
tap_check "vshape_host loads" insmod "$VSHAPE_HOST_KO" || tap_bail "insmod vshape_host"
for d in vs0 vs1; do
	vdpa dev add mgmtdev vshape name $d || tap_bail "vdpa dev add $d"
done
tap_check "vs0 and vs1 bound to vhost_vdpa: /dev/vhost-vdpa-0, -1" \
	wait_for 5 '[ -e /dev/vhost-vdpa-0 ] && [ -e /dev/vhost-vdpa-1 ]'
echo $((64 << 20)) > /sys/kernel/vshape_host/capacity_bytes
ram=/run/fuzzram
# the memory controller too: vdpa_fuzz checks what the device charges
# to the VMM's memory cgroup
echo +memory > /sys/fs/cgroup/cgroup.subtree_control ||
	tap_bail "no memory controller in cgroup2"
mkdir -p $ram /sys/fs/cgroup/vmm0
mount -t tmpfs -o size=256M none $ram || tap_bail "tmpfs"
# a tmpfs with 2 MiB folios, as docs/host.md recommends for guest RAM
huge=/run/fuzzhuge
mkdir -p $huge
mount -t tmpfs -o huge=within_size,size=16M none $huge || tap_bail "tmpfs huge=within_size"

VSHAPE_FUZZ_RAM=$ram/ram0 VSHAPE_FUZZ_HUGE=$huge/ram tap_import -n vdpa_fuzz \
	bash -c 'echo $$ > /sys/fs/cgroup/vmm0/cgroup.procs && exec "$@"' _ \
	"$VSHAPE_FUZZ" /dev/vhost-vdpa-0 /sys/kernel/debug/vshape_host/vs0 /dev/vhost-vdpa-1
grep -E "bad_|big_buf|status_|throttled|slices|max_hold" /sys/kernel/debug/vshape_host/vs0/stats |
	sed 's/^/host: /' | tap_diag
tap_check "the VMM's cgroup can be removed once it exited" rmdir /sys/fs/cgroup/vmm0

# A VMM killed with 8 MiB committed: before `vdpa dev del`, the device has
# reset, dropped its charge and its references to the RAM file.
VSHAPE_FUZZ_RAM=$ram/ram1 "$VSHAPE_FUZZ" --hold /dev/vhost-vdpa-0 > /tmp/hold.out &
pid=$!
wait_for 30 'grep -q ready /tmp/hold.out'
# what the kill must undo: the COMMIT was DONE, 8 MiB charged and
# committed, the RAM file populated (1 MiB of rings and 16 MiB of data
# written, 8 MiB of it inflated and committed again)
held="$(cat /tmp/hold.out) charged $(cat /sys/kernel/vshape_host/charged_bytes) committed $(cat /sys/bus/vdpa/devices/vs0/vshape/committed_bytes)"
ram1_kib=$(($(stat -c '%b * %B' $ram/ram1) >> 10))
tap_check "VMM holds 8 MiB committed before the kill ($held, its RAM file $ram1_kib KiB)" \
	test "$held" = "ready 0 charged $((8 << 20)) committed $((8 << 20))" -a "$ram1_kib" -ge $((17 << 10))
kill -9 $pid
wait $pid 2>/dev/null
rm -f $ram/ram0 $ram/ram1
tap_check "VMM killed: device reset, ledger empty" \
	[ "$(cat /sys/kernel/vshape_host/charged_bytes)$(cat /sys/bus/vdpa/devices/vs0/vshape/committed_bytes)" = 00 ]
used=$(df -k --output=used $ram | tail -n1 | tr -d ' ')
tap_check "VMM killed: its RAM file's blocks are freed (tmpfs uses $used KiB)" [ "$used" -lt 1024 ]
tap_check "VMM killed: the tmpfs holding its RAM unmounts before vdpa dev del" umount $ram
umount $huge

vdpa dev del vs0
vdpa dev del vs1
tap_check "vshape_host unloads" rmmod vshape_host
tap_diag "after unload: charged=$(cat /sys/kernel/vshape_host/charged_bytes 2>/dev/null || echo gone)"

# The test flavour: a COMMIT whose page-state update fails (fault_alloc).
tap_check "vshape_host test flavour loads (debugfs fault_alloc)" \
	bash -c "insmod '$VSHAPE_HOST_TEST_KO' && vdpa dev add mgmtdev vshape name vs0" ||
	tap_bail "test flavour of vshape_host"
tap_check "test flavour: vs0 bound to vhost_vdpa" wait_for 5 '[ -e /dev/vhost-vdpa-0 ]'
echo $((64 << 20)) > /sys/kernel/vshape_host/capacity_bytes
tap_import -n fault-commit "$VSHAPE_FUZZ" --fault-commit /dev/vhost-vdpa-0 /sys/kernel/debug/vshape_host/vs0
vdpa dev del vs0
tap_check "test flavour unloads" rmmod vshape_host
klog_kmemleak
klog_check "fuzz VM"
tap_done
