#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scenario benchmark: the same workload in the same nested L2 guest under
# every reclaim configuration, side by side (docs/benchmarks.md,
# "Scenario: closed loop against free page reporting").
#
#   bench/scenario/run.sh [WORKLOAD-SCRIPT]
#
# WORKLOAD-SCRIPT (default bench/scenario/workload.sh) runs inside L2,
# chrooted in the workload disk (bench/scenario/mkdisk.sh: the script,
# the programs it runs, the page-cache phase's file and the compile
# phase's sources, SCEN_CC_FILES); its contract is in the default's
# header.  The default workload (docs/benchmarks.md, Method) is sized so
# that reclaim matters: 3 cycles of a compile of the checkout's own
# userspace C (SCEN_CC_FILES), sqlite, a 160 MiB page-cache read
# (SCEN_CACHE_MIB, a quarter of L2's MemTotal) and a 128 MiB anonymous
# batch (workload.sh), with idle gaps.  Each repetition is ONE L1 boot
# (6.12 under TCG, one vCPU, KVM inside) that
# runs every configuration one after the other (bench/scenario/l1.sh); the
# order rotates between repetitions so that none always goes first.
# SCEN_PARALLEL > 1 runs that many repetitions (L1 VMs) at once: ratios
# are taken within a repetition, so they stay comparable.
# Environment: SCEN_REPS (3), SCEN_CONFIGS, SCEN_PERIOD_MS (200),
# SCEN_MARGIN_MIB (host-reactive's margin, 192), SCEN_L2_MIB (L2's RAM,
# 768), SCEN_CACHE_MIB (size of the page-cache phase's file, 160),
# SCEN_CC_FILES (the compile phase's C files, default $cc_default
# below), SCEN_WL_ENV (VAR=VAL words passed to
# the workload, e.g. "SCEN_CYCLES=4 SCEN_BATCH_MIB=300"), SCEN_PARALLEL
# (repetitions run at once, each its own L1 VM; default 1), SCEN_NO_REPORT=1
# (only collect), SCEN_SETTLE_S (l1.sh: the longest wait for the balloon's
# steady state before each workload, 90), SCEN_SETTLE_TARGET_S
# (host-reactive's longest wait for the balloon to come within
# SCEN_SETTLE_TOL_MIB, 32, of the controller's target, 600; the wait and
# how it ended are in each run's .meta).  Raw samples go to build/bench-scenario/; then
# bench/scenario/report.py writes bench/results/scenario.json, the table
# in docs/benchmarks.md and docs/img/scenario-*.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
workload=${1:-bench/scenario/workload.sh}
[ -f "$workload" ] || { echo "scenario: no workload script $workload" >&2; exit 2; }
reps=${SCEN_REPS:-3}
read -r -a configs <<<"${SCEN_CONFIGS:-none fpr host-reactive vshape-reactive vshape-predict}"
kver=$(scripts/kernels 6.12 | tail -n1)
[ -n "$kver" ] || { echo "scenario: no 6.12 kernel (scripts/setup)" >&2; exit 1; }
out=${SCEN_RAW:-$top/build/bench-scenario}
rm -rf "$out"
mkdir -p "$out"
host=$(selftests/host/build.sh "$kver")/host/vshape_host.ko
scripts/build-kmods "$kver" > /dev/null
make -s -C selftests/guest memtouch > /dev/null
gcc -O2 -Wall -Wextra -static -o "$out/sampler" bench/scenario/sampler.c
# the page-cache phase's file: random data, so nothing compresses it
cache=$top/build/scenario-cache.dat
want=$((${SCEN_CACHE_MIB:-160} << 20))
[ "$(stat -c %s "$cache" 2>/dev/null || echo 0)" = "$want" ] ||
	head -c "$want" /dev/urandom > "$cache"
# the disk L2 runs the workload from (bench/scenario/mkdisk.sh)
# the compile phase: two files of the checkout's predictor library
# (0.06 s of gcc -O2 natively; L2 runs gcc 200-400 times slower at load
# 3-7: five files of 0.5 s natively took 34-115 s a cycle in a smoke run)
cc_default="predictor/fixed.c predictor/default_model.c"
read -r -a cc_files <<<"${SCEN_CC_FILES:-$cc_default}"
bench/scenario/mkdisk.sh "$out/disk.img" "$workload" "$cache" "${cc_files[@]}"
# L2's modules for that disk (virtio_pmem, nd_pmem, squashfs and what
# they need, in load order: disk.order) and the in-tree balloon driver,
# decompressed here: L2 loads them with busybox insmod (l1.sh)
mods=$out/l2-modules
mkdir -p "$mods"
for m in virtio_pmem nd_pmem squashfs virtio_balloon; do
	modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	name=$(basename "$ko")
	name=${name%.xz}
	name=${name%.zst}
	case $ko in
	*.xz) xz -dc "$ko";;
	*.zst) zstd -qdc "$ko";;
	*) cat "$ko";;
	esac > "$mods/$name"
	[ "$name" = virtio_balloon.ko ] || echo "$name"
done > "$mods/disk.order"
if [ ! -s "$mods/virtio_balloon.ko" ] || [ "$(wc -l < "$mods/disk.order")" -lt 3 ]; then
	echo "scenario: L2's modules for $kver not found" >&2
	exit 1
fi

# what ran: the commit (and whether the tree had changes), the
# parameters, and the machine's load every 30 s (ratios are taken within
# a repetition because the load moves; report.py copies it all into the
# JSON)
{
	echo "commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
	echo "tree_dirty=$(git status --porcelain -- . ':!build' 2>/dev/null | grep -c . || :)"
	echo "start_utc=$(date -u +%FT%TZ)"
	echo "workload=$workload"
	echo "reps=$reps"
	echo "configs=${configs[*]}"
	echo "kver=$kver"
	echo "cpus=$(nproc)"
	env | grep '^SCEN_' | sort
} > "$out/run.meta"
t_start=$SECONDS
( while :; do echo "$(date -u +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 30; done ) \
	> "$out/load.txt" 2>/dev/null &
loadmon=$!
trap 'kill $loadmon 2>/dev/null || :' EXIT

# one_rep REP: one L1 boot, every configuration; repetition r starts
# with configuration (2r - 2) mod n, so the first configurations of
# concurrent repetitions differ.
one_rep() {
	local rep=$1 k order
	k=$(((2 * rep - 2) % ${#configs[@]}))
	order="${configs[*]:k} ${configs[*]:0:k}"
	echo "== scenario repetition $rep/$reps: $order"
	# one L1 vCPU: see selftests/host/run.sh (TCG triple faults)
	scripts/vm --kernel "$kver" --mem 3G --smp 1 --accel tcg --nested --quiet \
		--timeout 7200 --console "$out/rep$rep.console" --results "$out" \
		--env "VSHAPE_HOST_KO=$host" --env "SCEN_KVER=$kver" \
		--env "SCEN_GUEST_KO=${SCEN_GUEST_KO:-$top/build/$kver/guest/vshape_guest.ko}" \
		--env "SCEN_SAMPLER=$out/sampler" --env "SCEN_WORKLOAD=$workload" \
		--env "SCEN_OUT=$out" --env "SCEN_REP=$rep" --env "SCEN_CONFIGS=$order" \
		--env "SCEN_PERIOD_MS=${SCEN_PERIOD_MS:-200}" \
		--env "SCEN_MARGIN_MIB=${SCEN_MARGIN_MIB:-192}" \
		--env "SCEN_DISK=$out/disk.img" --env "SCEN_MODS=$mods" \
		--env "SCEN_WL_ENV=${SCEN_WL_ENV:-}" --env "SCEN_L2_MIB=${SCEN_L2_MIB:-768}" \
		--env "SCEN_SETTLE_S=${SCEN_SETTLE_S:-90}" \
		--env "SCEN_SETTLE_TARGET_S=${SCEN_SETTLE_TARGET_S:-600}" \
		--env "SCEN_SETTLE_TOL_MIB=${SCEN_SETTLE_TOL_MIB:-32}" \
		-- bench/scenario/l1.sh > "$out/rep$rep.log" 2>&1 ||
		{ echo "scenario: repetition $rep exit $? (log: $out/rep$rep.log)" >&2; return 1; }
}

rc=0 pids=()
for rep in $(seq "$reps"); do
	if [ "${SCEN_PARALLEL:-1}" -gt 1 ]; then
		one_rep "$rep" &
		pids+=($!)
		# scripts/vm builds its caches on the first start: two VMs
		# starting at once raced there (both exited at once)
		sleep 60
		# at most SCEN_PARALLEL at once
		if [ ${#pids[@]} -ge "$SCEN_PARALLEL" ]; then
			wait "${pids[0]}" || rc=1
			pids=("${pids[@]:1}")
		fi
	else
		one_rep "$rep" || rc=1
	fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
for rep in $(seq "$reps"); do
	grep -a '^# ' "$out/rep$rep.console" | tr -d '\r' || true
done
kill $loadmon 2>/dev/null || :
{
	echo "end_utc=$(date -u +%FT%TZ)"
	echo "wall_s=$((SECONDS - t_start))"
	echo "status=$rc"
} >> "$out/run.meta"
docs=${SCEN_DOCS-docs/benchmarks.md}
[ "${SCEN_NO_REPORT:-0}" = 1 ] ||
	bench/scenario/report.py "$out" --json "${SCEN_JSON:-bench/results/scenario.json}" \
		${docs:+--docs "$docs"} --img "${SCEN_IMG:-docs/img}" \
		${SCEN_PHASES:+--phases} || rc=1
exit $rc
