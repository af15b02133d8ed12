#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run shaping-loopback.sh (vshape_guest + vshape_host, one 6.12 VM).
# Prints TAP.  The host module needs Linux 6.12 (vDPA).
set -euo pipefail
cd "$(dirname "$0")/../.."
kver=$(scripts/kernels 6.12 | tail -n1)
ko=$PWD/build/$kver/guest/vshape_guest.ko
scripts/build-kmods "$kver" > /dev/null	# incremental: never test a stale module
out=$(selftests/host/build.sh "$kver")
make -s -C selftests/guest > /dev/null
# shellcheck source=selftests/lib/klog.sh
. selftests/lib/klog.sh
console=$PWD/build/check/shaping-loopback.console
mkdir -p "$(dirname "$console")"
rc=0
scripts/vm --kernel "$kver" --mem 2G --quiet --timeout 600 \
	--console "$console" --append " $(vs_boot_args)" \
	--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
	--env "VSHAPE_KO=$ko" \
	-- selftests/guest/shaping-loopback.sh || rc=$?
grep -aE '^(ok |not ok |1\.\.|Bail out|#)' "$console" || true
klog_console_doc "VM ($kver)" "$console" || rc=1
exit "$rc"
