#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate the two golden CRCs that test_golden() in
# predictor/test_predictor.c compares against:
#
#   predictor/gen-golden.sh            rewrite them, print old -> new
#   predictor/gen-golden.sh --check    exit 1 if the code no longer
#                                      produces them (nothing rewritten)
#
# How the vectors are made (all inside test_predictor.c, no data file):
#  - the golden model: random_fmodel() with the test's 64-bit LCG
#    (rnd()) seeded 777, 2 layers of 32 hidden units, 4 features, 6
#    outputs, weight scale 0.4, quantized by predictor/quant.c (vs_quantize)
#    into the model file format; its CRC is the file's CRC32 trailer
#    (struct vs_model.crc after vs_model_parse);
#  - the golden outputs: the fixed-point LSTM (predictor/lstm.c) reset,
#    then stepped 500 times on synth_input(t) with the LCG seeded 4242;
#    the CRC32 (vs_crc32) of the 6 s16 outputs of every step, in order.
# The test binary prints both ("# golden model: ... crc X", "# golden
# outputs crc Y"); this script builds and runs it and takes them from
# there.  Run it only for a change MEANT to alter the model format or
# the arithmetic (quantization, gates, activations), and say in the
# commit why the vectors moved.
set -euo pipefail
cd "$(dirname "$0")"
check=0
[ "${1:-}" = --check ] && check=1
make -s ../build/predictor/test_predictor
out=$(../build/predictor/test_predictor 2>&1 || true)
model=$(sed -n 's/^# golden model: .* crc \([0-9a-f]\{8\}\)$/\1/p' <<<"$out")
outputs=$(sed -n 's/^# golden outputs crc \([0-9a-f]\{8\}\)$/\1/p' <<<"$out")
if [ -z "$model" ] || [ -z "$outputs" ]; then
	echo "gen-golden.sh: the test printed no golden CRCs" >&2
	exit 2
fi
old_model=$(sed -n 's/.*ok(q\.crc == 0x\([0-9a-f]\{8\}\)u,.*/\1/p' test_predictor.c)
old_outputs=$(sed -n 's/.*ok(crc == 0x\([0-9a-f]\{8\}\)u,.*/\1/p' test_predictor.c)
echo "golden model crc   $old_model -> $model"
echo "golden outputs crc $old_outputs -> $outputs"
if [ "$check" = 1 ]; then
	[ "$model" = "$old_model" ] && [ "$outputs" = "$old_outputs" ]
	exit
fi
sed -i "s/ok(q\.crc == 0x[0-9a-f]\{8\}u,/ok(q.crc == 0x${model}u,/; s/ok(crc == 0x[0-9a-f]\{8\}u,/ok(crc == 0x${outputs}u,/" test_predictor.c
