#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Channel ablation: train one PEAK model (quantiles 0.5, 0.95, 0.99 of the
# peak over 1 s and 5 s) per channel set and score each with vs-peak on
# held-out data.
#
#   bench/predictor/ablation.sh [SET...]            the four short VM traces
#   bench/predictor/ablation.sh --corpus [SET...]   the trace corpus
#
# Short traces (32 units, HID=N for another size): trained on the first
# 60% of memphase1, memphase2 and sqlite (epoch picked on the next 10%),
# scored on the held-out spans and on all of "tools", a program the models
# never saw; writes ../results/predictor-ablation/<set>-h<N>.json.
#
# Corpus (24 units, the built-in model's size and recipe: make
# run-corpus-model): trained on rounds 1-4, scored on round 5 (with perl,
# never trained on); writes ../results/predictor-ablation-corpus/
# <set>-h<N>.json.  The corpus adds leave-one-out sets of E (F-J): the
# channels that are zero or nearly so in every recorded trace (refault,
# swap, PSI, cgroup; pgmajfault on a handful of steps) are not tried.
#
# report.py --ablation DIR tabulates a result directory.
set -euo pipefail
cd "$(dirname "$0")" || exit
T=../../tools
corpus=0
if [ "${1:-}" = --corpus ]; then
	corpus=1
	shift
fi
declare -A SETS=(
	[A]="used"
	[B]="used,cpu"
	[C]="used,cpu,pgfault"
	[D]="used,cpu,anon,free"
	[E]="used,cpu,pgfault,anon,file,free"
	[F]="used,pgfault,anon,file,free"
	[G]="used,cpu,anon,file,free"
	[H]="used,cpu,pgfault,file,free"
	[I]="used,cpu,pgfault,anon,free"
	[J]="used,cpu,pgfault,anon,file"
)
sets=("$@")
if [ ${#sets[@]} -eq 0 ]; then
	sets=(A B C D E)
	[ "$corpus" = 0 ] || sets+=(F G H I J)
fi
for s in "${sets[@]}"; do
	[ -n "${SETS[$s]:-}" ] || { echo "ablation.sh: no set $s" >&2; exit 2; }
done

if [ "$corpus" = 1 ]; then
	HID=${HID:-24}
	for s in "${sets[@]}"; do
		make -s run-corpus-model CHIDDEN="$HID" CSEED=1 \
			CCHANNELS="${SETS[$s]}" CTAG="$s-h$HID" \
			CRES=../results/predictor-ablation-corpus >/dev/null
		echo "$s-h$HID (${SETS[$s]}) done"
	done
	exit 0
fi

HID=${HID:-32}
OUT=../../build/predictor-vm
RES=../results/predictor-ablation
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
