#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The closed loop in make check (suite loop-nested): boot an L1 6.12 VM
# with KVM inside and run selftests/host/loop-l1.sh there (one L2, one
# short cycle of demand; see its header for what it asserts).  TAP on
# stdout; exit 0 passed, 1 failed, 4 skipped (no 6.12 kernel/QEMU).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit
top=$PWD
kver=$(scripts/kernels 6.12 | tail -n1)
if [ -z "$kver" ]; then
	echo "1..0 # SKIP no Linux 6.12 kernel and headers (run scripts/setup)"
	exit 4
fi
out=$(selftests/host/build.sh "$kver") || {
	echo "not ok 1 - build vshape_host.ko"; echo "1..1"; exit 1; }
{ scripts/build-kmods "$kver" > /dev/null &&
	make -s -C selftests/guest memtouch > /dev/null; } || {
	echo "not ok 1 - build vshape_guest.ko and memtouch"; echo "1..1"; exit 1; }
mkdir -p build/check
sampler=$top/build/check/scenario-sampler
gcc -O2 -Wall -Wextra -static -o "$sampler" bench/scenario/sampler.c || {
	echo "not ok 1 - build bench/scenario/sampler.c"; echo "1..1"; exit 1; }
console=$top/build/check/loop-nested-l1.console
# one L1 vCPU: see selftests/host/run.sh (TCG triple faults)
scripts/vm --kernel "$kver" --mem 3G --smp 1 --accel tcg --nested --quiet \
	--timeout 1200 --console "$console" \
	--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
	--env "VSHAPE_KVER=$kver" \
	--env "VSHAPE_GUEST_KO=$top/build/$kver/guest/vshape_guest.ko" \
	--env "VSHAPE_MEMTOUCH=$top/selftests/guest/memtouch" \
	--env "SCEN_SAMPLER=$sampler" \
	-- selftests/host/loop-l1.sh
rc=$?
grep -aE '^(ok|not ok|1\.\.|Bail out|#)' "$console" | tr -d '\r'
echo "# L1 exit $rc (console: ${console#"$top"/})"
exit $rc
