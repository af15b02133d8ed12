#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP tests of vs-train's command line and its two range options, on one
# trace of the corpus (a 4-unit model, one epoch: seconds):
#   tools/tests/test-train.sh [path/to/vs-train]
set -uo pipefail
train=$(readlink -f "${1:-$(dirname "$0")/../vs-train}")
trace=$(readlink -f "$(dirname "$0")/../../bench/traces/data/corpus/gcc-r1.csv.xz")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0 fail=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
# small MODEL [OPTION...]: train a 4-unit model into $dir/MODEL.vsf
small() {
	local m=$1
	shift
	"$train" --records "$trace" --out "$dir/$m.vsf" --hidden 4 --epochs 1 \
		--batches 2 --horizon-list 10 --quantiles 0.5 --channels used,file \
		--threads 1 --step-ms 100 "$@" > "$dir/$m.log" 2>&1
}

echo "1..7"
"$train" --records "$trace" --out "$dir/x.vsf" --bogus 1 2> "$dir/err"
rc=$?
ok $((rc != 2)) "an unknown option: exit 2 ($rc)"
grep -q "unknown option --bogus" "$dir/err"
ok $? "... naming it"
"$train" --records "$trace" --out 2> "$dir/err"
rc=$?
[ "$rc" = 2 ] && grep -q -- "--out needs a value" "$dir/err"
ok $? "an option without its value: exit 2, saying so ($rc)"
small plain
ok $? "plain training: exit 0"
small kr --kernel-range
ok $? "--kernel-range: exit 0"
small ff --feature-fit
ok $? "--feature-fit: exit 0"
# the file trace's DELTA feature goes past 8 sd at some step (the reason
# for the option): its scale, so the file, must change
! cmp -s "$dir/plain.vsf" "$dir/ff.vsf"
ok $? "--feature-fit changes the feature scales"
echo "# test-train.sh: $((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]
