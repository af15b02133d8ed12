#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Channel ablation on the VM traces: train one PEAK model (quantiles
# 0.5, 0.95, 0.99 of the peak over 1 s and 5 s) per channel set on the
# first 60% of memphase1, memphase2 and sqlite (epoch picked on the next
# 10%), then score every model with vs-peak on the held-out spans and on
# all of "tools", a program the models never saw:
#
#   bench/predictor/ablation.sh [SET...]     (default: every set below)
#
# Writes ../results/predictor-ablation/<set>.json; report.py tabulates.
set -euo pipefail
cd "$(dirname "$0")" || exit
T=../../tools
OUT=../../build/predictor-vm
RES=../results/predictor-ablation
declare -A SETS=(
	[A]="used"
	[B]="used,cpu"
	[C]="used,cpu,pgfault"
	[D]="used,cpu,anon,free"
	[E]="used,cpu,pgfault,anon,file,free"
)
HID=${HID:-32}
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(A B C D E)
make -s -C "$T" vs-train vs-quant
make -s vs-peak
mkdir -p "$OUT" "$RES"
train=$(printf '%s\n' ../traces/data/*.csv.xz | grep -v /tools | paste -sd,)
all=$(printf '%s\n' ../traces/data/*.csv.xz | paste -sd,)
for s in "${sets[@]}"; do
	ch=${SETS[$s]}
	name=$s-h$HID
	"$T/vs-train" --records "$train" --out "$OUT/$name.vsf" --hidden "$HID" \
		--layers 1 --epochs 60 --batches 20 --seed 1 --threads 2 \
		--horizon-list 10,50 --quantiles 0.5,0.95,0.99 --channels "$ch" \
		--step-ms 100 --name "vm-peak-$name" 2>&1 | tail -1
	"$T/vs-quant" "$OUT/$name.vsf" "$OUT/$name.vsm"
	./vs-peak --records "$all" --vsm "$OUT/$name.vsm" --vsf "$OUT/$name.vsf" \
		--horizons 10,50 --windows 10,50,150 --test-only tools --step-ms 100 \
		--label "$name: $ch" --json "$RES/$name.json"
	echo "$name ($ch) done"
done
