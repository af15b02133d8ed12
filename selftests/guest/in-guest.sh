#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the test VM: load vshape_guest ($VSHAPE_KO), wait for it to bind
# the balloon device, run the harness.  Exit 4 (skip) without a device.
set -uo pipefail
cd "$(dirname "$0")"
if ! ls /sys/bus/virtio/devices/*/device 2>/dev/null | xargs -r grep -qx 0x0005; then
	echo "# no virtio-balloon device in this VM"
	exit 4
fi
insmod "$VSHAPE_KO" || exit 1
for _ in $(seq 100); do
	ls -d /sys/bus/virtio/drivers/vshape_guest/virtio* >/dev/null 2>&1 && break
	sleep 0.1
done
mount -t debugfs none /sys/kernel/debug 2>/dev/null
# scripts/vm runs us chrooted at /mnt/root; the firmware loader (model
# files) resolves paths from init's root.
if [ "$(stat -c %d:%i /)" != "$(stat -c %d:%i /proc/1/root/ 2>/dev/null)" ]; then
	export VSHAPE_FW_PREFIX=/mnt/root
fi
rc=0
./vshape_guest_test || rc=1
./vshape_predict_test || rc=1
./vshape_replay_test || rc=1
dmesg | grep -E 'vshape|Out of memory|Killed process|BUG|WARNING' | sed 's/^/# dmesg: /'
exit $rc
