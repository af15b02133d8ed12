#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile-driver test, run INSIDE a Linux 6.12 VM (see run.sh): vs0 bound
# to vhost_vdpa, driven from userspace by vdpa_fuzz, which builds rings in
# a shared memfd and submits malformed chains and requests.  No KVM or
# QEMU needed.  TAP on stdout; exit 0 / 1 / 4.
set -uo pipefail
skip_all() { echo "1..0 # SKIP $*"; exit 4; }
[ -f "${VSHAPE_HOST_KO:-}" ] || skip_all "VSHAPE_HOST_KO missing"
[ -x "${VSHAPE_FUZZ:-}" ] || skip_all "VSHAPE_FUZZ (vdpa_fuzz binary) missing"
modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa ||
	skip_all "vdpa/vhost_vdpa modules missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
insmod "$VSHAPE_HOST_KO" || { echo "Bail out! insmod vshape_host"; exit 1; }
vdpa dev add mgmtdev vshape name vs0 || { echo "Bail out! vdpa dev add"; exit 1; }
for _ in $(seq 50); do [ -e /dev/vhost-vdpa-0 ] && break; sleep 0.1; done
echo $((64 << 20)) > /sys/kernel/vshape_host/capacity_bytes
"$VSHAPE_FUZZ" /dev/vhost-vdpa-0 /sys/kernel/debug/vshape_host/vs0
rc=$?
sed 's/^/# host: /' /sys/kernel/debug/vshape_host/vs0/stats | grep -E "bad_|status_|throttled"
vdpa dev del vs0
rmmod vshape_host || { echo "# rmmod vshape_host failed"; rc=1; }
if dmesg | grep -qE 'WARNING:|BUG:|Oops'; then
	echo "# kernel warning:"; dmesg | grep -A20 -E 'WARNING:|BUG:|Oops' | sed 's/^/# /'
	rc=1
fi
echo "# after unload: charged=$(cat /sys/kernel/vshape_host/charged_bytes 2>/dev/null || echo gone)"
exit $rc
