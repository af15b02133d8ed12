#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile-driver test, run INSIDE a Linux 6.12 VM (see run.sh): vs0 bound
# to vhost_vdpa, driven from userspace by vdpa_fuzz, which builds rings in
# shared RAM (a file on a tmpfs) and submits malformed chains and
# requests, huge buffers and a COMMIT/RELEASE storm while vs1 is served
# by a second process.  vdpa_fuzz runs in its own cgroup, as a VMM would.
# Then a VMM is killed with memory committed: the device must let go of
# its RAM file at once.  No KVM or QEMU needed.  TAP on stdout; exit
# 0 / 1 / 4.
set -uo pipefail
skip_all() { echo "1..0 # SKIP $*"; exit 4; }
[ -f "${VSHAPE_HOST_KO:-}" ] || skip_all "VSHAPE_HOST_KO missing"
[ -x "${VSHAPE_FUZZ:-}" ] || skip_all "VSHAPE_FUZZ (vdpa_fuzz binary) missing"
modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa ||
	skip_all "vdpa/vhost_vdpa modules missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -e /sys/fs/cgroup/cgroup.controllers ] ||
	mount -t cgroup2 none /sys/fs/cgroup || skip_all "no cgroup2"
insmod "$VSHAPE_HOST_KO" || { echo "Bail out! insmod vshape_host"; exit 1; }
for d in vs0 vs1; do
	vdpa dev add mgmtdev vshape name $d || { echo "Bail out! vdpa dev add $d"; exit 1; }
done
for _ in $(seq 50); do [ -e /dev/vhost-vdpa-1 ] && break; sleep 0.1; done
echo $((64 << 20)) > /sys/kernel/vshape_host/capacity_bytes
ram=/run/fuzzram
mkdir -p $ram /sys/fs/cgroup/vmm0
mount -t tmpfs -o size=256M none $ram || { echo "Bail out! tmpfs"; exit 1; }

# vdpa_fuzz prints its own tests; its plan is replaced by the one below
VSHAPE_FUZZ_RAM=$ram/ram0 bash -c 'echo $$ > /sys/fs/cgroup/vmm0/cgroup.procs && exec "$@"' _ \
	"$VSHAPE_FUZZ" /dev/vhost-vdpa-0 /sys/kernel/debug/vshape_host/vs0 /dev/vhost-vdpa-1 |
	grep -av --line-buffered '^1\.\.' | tee /tmp/fuzz.out
rc=${PIPESTATUS[0]}
n=$(grep -acE '^(ok|not ok)' /tmp/fuzz.out)
check() {
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; rc=1; fi
}
sed 's/^/# host: /' /sys/kernel/debug/vshape_host/vs0/stats | grep -E "bad_|big_buf|status_|throttled|slices|max_hold"
check "the VMM's cgroup can be removed once it exited" rmdir /sys/fs/cgroup/vmm0

# A VMM killed with 8 MiB committed: before `vdpa dev del`, the device has
# reset, dropped its charge and its references to the RAM file.
VSHAPE_FUZZ_RAM=$ram/ram1 "$VSHAPE_FUZZ" --hold /dev/vhost-vdpa-0 > /tmp/hold.out &
pid=$!
for _ in $(seq 300); do grep -q ready /tmp/hold.out && break; sleep 0.1; done
echo "# held: $(cat /tmp/hold.out), ledger $(cat /sys/kernel/vshape_host/charged_bytes)"
kill -9 $pid
wait $pid 2>/dev/null
rm -f $ram/ram0 $ram/ram1
check "VMM killed: device reset, ledger empty" \
	[ "$(cat /sys/kernel/vshape_host/charged_bytes)$(cat /sys/bus/vdpa/devices/vs0/vshape/committed_bytes)" = 00 ]
used=$(df -k --output=used $ram | tail -n1 | tr -d ' ')
check "VMM killed: its RAM file's blocks are freed (tmpfs uses $used KiB)" [ "$used" -lt 1024 ]
check "VMM killed: the tmpfs holding its RAM unmounts before vdpa dev del" umount $ram

vdpa dev del vs0
vdpa dev del vs1
rmmod vshape_host || { echo "# rmmod vshape_host failed"; rc=1; }
if dmesg | grep -qE 'WARNING:|BUG:|Oops|Call Trace:|INFO: task'; then
	echo "# kernel warning:"; dmesg | grep -A20 -E 'WARNING:|BUG:|Oops|Call Trace:|INFO: task' | sed 's/^/# /'
	rc=1
fi
echo "# after unload: charged=$(cat /sys/kernel/vshape_host/charged_bytes 2>/dev/null || echo gone)"
echo "1..$n"
exit $rc
