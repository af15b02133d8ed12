#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the test VM (run-vm.sh): load vshape_guest ($VSHAPE_KO), wait
# for it to bind the balloon device, run both harnesses, then check the
# kernel log.  One TAP stream: the harnesses' results are renumbered
# into it (tap_import).  A missing balloon device or a driver that does
# not bind is a failure.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=selftests/lib/lib.sh
. ../lib/lib.sh

mount -t debugfs none /sys/kernel/debug 2>/dev/null
tap_check "the VM has a virtio-balloon device (id 0x0005)" virtio_has_device 0x0005 &&
	tap_check "vshape_guest ($VSHAPE_KO) loads and binds the balloon device" \
		mod_load_bind "${VSHAPE_KO:?}" vshape_guest
bound=$?
# scripts/vm runs us chrooted at /mnt/root; the firmware loader (model
# files) resolves paths from init's root.
if [ "$(stat -c %d:%i /)" != "$(stat -c %d:%i /proc/1/root/ 2>/dev/null)" ]; then
	export VSHAPE_FW_PREFIX=/mnt/root
fi
if [ "$bound" = 0 ]; then
	tap_import ./vshape_guest_test
	tap_import ./vshape_predict_test
	tap_import ./vshape_replay_test
fi
dmesg | grep -E 'vshape|Out of memory|Killed process' | tap_diag
klog_kmemleak	# the debug kernel (scripts/check-debug guest); no-op elsewhere
klog_check guest
tap_done
