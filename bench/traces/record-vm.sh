#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Record the VM traces of bench/traces: boot a Debian 6.12 guest (2 GiB,
# 2 vCPUs, TCG here) with QEMU's virtio-balloon, load vshape_guest (built-in
# model, default period 100 ms), run the workloads of in-vm.sh while
# tools/vs-record polls the debugfs records ring, then cut the session into
# one trace per workload: bench/traces/data/<workload>.csv.xz (records CSV:
# seq,time_ns,<14 channels in Q3.12>,demand,confidence,step_ns).
#
#   bench/traces/record-vm.sh [kver-series]      # default 6.12; ~11 min
#
# Raw output (session.csv, marks, phase logs, predictor-*.txt with the
# in-kernel step_ns_mean under TCG) stays in build/traces/raw/.
set -euo pipefail
cd "$(dirname "$0")/../.."
kver=$(scripts/kernels "${1:-6.12}" | tail -n1)
raw=$PWD/build/traces/raw
data=bench/traces/data
ko=$PWD/build/traces/$kver/vshape_guest.ko

make -s -C tools vs-record
gcc -O2 -Wall -Wextra -Werror -o bench/traces/memphase bench/traces/memphase.c
# Own copy of the module: others rebuild build/<kver>/ while we record.
if [ ! -f "$ko" ]; then
	[ -f "build/$kver/guest/vshape_guest.ko" ] || scripts/build-kmods "$kver" >/dev/null
	mkdir -p "$(dirname "$ko")"
	cp "build/$kver/guest/vshape_guest.ko" "$ko"
fi
rm -rf "$raw"
mkdir -p "$raw" "$data"
scripts/vm --kernel "$kver" --mem 2G --smp 2 --quiet --timeout 1500 \
	--console "$raw/console.log" --results "$raw" \
	--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on" \
	--env "VSHAPE_KO=$ko" --env "TRACE_OUT=$raw" \
	${TRACE_WORKLOADS:+--env "TRACE_WORKLOADS=$TRACE_WORKLOADS"} \
	-- bench/traces/in-vm.sh
cat "$raw/vs-record.err"
# marks.txt: "<workload> start|end <last seq at that moment>"
while read -r w what s; do
	[ "$what" = start ] && { from=$((s + 1)); continue; }
	awk -F, -v a="$from" -v b="$s" 'NR == 1 || ($1 >= a && $1 <= b)' \
		"$raw/session.csv" | xz -9e > "$data/$w.csv.xz"
	echo "$w: seq $from..$s, $((s - from + 1)) rows -> $data/$w.csv.xz"
done < "$raw/marks.txt"
grep -H step_ns_mean "$raw"/predictor-*.txt
