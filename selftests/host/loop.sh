#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The closed loop in make check (suite loop-nested): boot an L1 6.12 VM
# with KVM inside and run selftests/host/loop-l1.sh there (one L2, one
# short cycle of demand; see its header for what it asserts).  TAP on
# stdout; exit 0 passed, 1 failed (no 6.12 kernel is a failure).  The
# samplers' CSV and L2's console are left in build/check/loop-nested/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
kver=$(scripts/kernels 6.12 | tail -n1)
if [ -z "$kver" ]; then
	echo "not ok 1 - no Linux 6.12 kernel and headers (run scripts/setup)"
	echo "1..1"
	exit 1
fi
out=$(selftests/host/build.sh "$kver") || {
	echo "not ok 1 - build vshape_host.ko"; echo "1..1"; exit 1; }
if ! { scripts/build-kmods "$kver" > /dev/null &&
	make -s -C selftests/guest memtouch > /dev/null; }; then
	echo "not ok 1 - build vshape_guest.ko and memtouch"; echo "1..1"; exit 1
fi
mkdir -p build/check
sampler=$top/build/check/scenario-sampler
gcc -O2 -Wall -Wextra -static -o "$sampler" bench/scenario/sampler.c || {
	echo "not ok 1 - build bench/scenario/sampler.c"; echo "1..1"; exit 1; }
console=$top/build/check/loop-nested-l1.console
# the samplers' CSV (L1's view with L2's) is kept here for a look after
results=$top/build/check/loop-nested
rm -rf "$results"
mkdir -p "$results"
# one L1 vCPU: see selftests/host/run.sh (TCG triple faults)
scripts/vm --kernel "$kver" --mem 3G --smp 1 --accel tcg --nested --quiet \
	--timeout 2400 --console "$console" --results "$results" \
	--env "LOOP_OUT=$results" \
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
