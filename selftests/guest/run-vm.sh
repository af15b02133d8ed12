#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the in-guest selftests of vshape_guest in a VM with QEMU's stock
# virtio-balloon device (deflate-on-oom on), on one kernel:
#
#   selftests/guest/run-vm.sh <kver>
#
# Prints in-guest.sh's TAP (both harnesses and the kernel-log check).  Builds build/<kver>/guest/vshape_guest.ko
# (scripts/build-kmods, incremental) and the test programs (make -C selftests/guest).
set -euo pipefail
cd "$(dirname "$0")/../.."
kver=$(scripts/kernels "${1:?usage: run-vm.sh <kver>}" | tail -n1)
ko=$PWD/build/$kver/guest/vshape_guest.ko
scripts/build-kmods "$kver" >/dev/null	# incremental: never test a stale module
make -s -C selftests/guest >/dev/null

# shellcheck source=selftests/lib/klog.sh
. selftests/lib/klog.sh
console=$PWD/build/check/vm-$kver-guest.console
mkdir -p "$(dirname "$console")"
rc=0
# (scripts/vm multiplies the limit by VSHAPE_VM_TIMEOUT_SCALE and passes it in)
scripts/vm --kernel "$kver" --mem 2G --quiet --timeout 800 \
	--console "$console" --append " $(vs_boot_args)" \
	--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on" \
	--env "VSHAPE_KO=$ko" \
	-- selftests/guest/in-guest.sh || rc=$?
# The harness's TAP is on the guest console.
grep -aE '^(1\.\.|ok |not ok |Bail out|#)' "$console" || true
klog_console_doc "VM ($kver)" "$console" || rc=1
exit "$rc"
