#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Range requests vs PFN arrays: inflate/deflate throughput of vshape_guest
# with the shaping feature (2 MiB extents) against the standard PFN-array
# protocol, on the same vshape_host device and the same VM.
#
#   bench/shaping/run.sh [nested] [nested-huge] [loopback]   default: all
#
# nested:   L1 6.12 under TCG with KVM inside, one L2 6.12 guest with a
#           1 GiB shared memfd as RAM (real hole punching); see
#           bench/shaping/nested-l1.sh.  About 6-10 minutes.
# nested-huge: the same with L2's RAM in a file on a huge=within_size tmpfs
#           in L1 (2 MiB folios behind the guest's RAM).
# loopback: one 6.12 VM, the device bound to virtio_vdpa (protocol cost
#           only, nothing freed); see bench/shaping/loopback.sh.  ~3 min.
#
# Environment: BENCH_SIZES (MiB, default "256 512"), BENCH_REPS (3),
# BENCH_APPEND (guest kernel command line, default init_on_alloc=0).
# Writes build/bench-shaping/results/*.csv, bench/results/shaping.json and
# the table of "Range requests vs PFN arrays" in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
envs=("$@")
[ ${#envs[@]} -gt 0 ] || envs=(nested nested-huge loopback)
kver=$(scripts/kernels 6.12 | tail -n1)
[ -n "$kver" ] || { echo "bench: no 6.12 kernel (scripts/setup)" >&2; exit 1; }
out=$top/build/bench-shaping/results
mkdir -p "$out"
host=$(selftests/host/build.sh "$kver")/host/vshape_host.ko
scripts/build-kmods "$kver" > /dev/null
shaping=$top/build/$kver/guest/vshape_guest.ko
shtime=$top/build/bench-shaping/shtime
gcc -O2 -Wall -Wextra -static -o "$shtime" bench/shaping/shtime.c
make -s -C selftests/guest memtouch > /dev/null
common=(--env "VSHAPE_HOST_KO=$host" --env "BENCH_KO_SHAPING=$shaping"
	--env "BENCH_SHTIME=$shtime" --env "BENCH_OUT=$out"
	--env "BENCH_SIZES=${BENCH_SIZES:-256 512}" --env "BENCH_REPS=${BENCH_REPS:-3}"
	--env "BENCH_APPEND=${BENCH_APPEND-init_on_alloc=0}"
	--results "$out" --quiet)
for e in "${envs[@]}"; do
	rm -f "$out/$e.csv"
	console=$out/$e.console
	case $e in
	nested|nested-huge)
		# one L1 vCPU: see selftests/host/run.sh (TCG triple faults)
		scripts/vm --kernel "$kver" --mem 3G --smp 1 --accel tcg --nested --timeout 1800 \
			--console "$console" "${common[@]}" \
			--env "BENCH_ENV=$e" --env "BENCH_KVER=$kver" --env "BENCH_MEMTOUCH=$top/selftests/guest/memtouch" \
			-- bench/shaping/nested-l1.sh || echo "bench: nested run exit $?" >&2;;
	loopback)
		# init_on_alloc=0 as in nested L2: the protocol, not zeroing
		scripts/vm --kernel "$kver" --mem 2G --timeout 1200 \
			--append " ${BENCH_APPEND-init_on_alloc=0}" \
			--console "$console" "${common[@]}" \
			-- bench/shaping/loopback.sh || echo "bench: loopback run exit $?" >&2;;
	*) echo "bench: unknown environment $e" >&2; exit 2;;
	esac
	grep -a '^# ' "$console" | tail -n 60 || true
done
bench/shaping/table.py "$out" --json bench/results/shaping.json --docs docs/benchmarks.md
