#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Record the trace corpus of bench/traces: boot a Debian 6.12 guest as
# record-vm.sh does (2 GiB, 2 vCPUs, TCG here, QEMU's virtio-balloon,
# vshape_guest with its built-in model at 100 ms) with an ext4 scratch
# disk (virtio-blk) for the page-cache program, run the seeded rounds of
# corpus.sh through in-vm.sh while tools/vs-record polls the debugfs
# records ring, and cut the session into one trace per program and round:
# bench/traces/data/corpus/<program>-r<round>.csv.xz.
#
#   bench/traces/record-corpus.sh [kver-series]     # default 6.12
#
# The plan's knobs (CORPUS_SEED, CORPUS_ROUNDS, CORPUS_SEG_S,
# CORPUS_HELDOUT, CORPUS_HELDOUT_S, CORPUS_PROGRAMS: see corpus.sh) are
# passed to the guest; the defaults take about 82 minutes.
# CORPUS_DATA overrides the output directory (a smoke test keeps the
# committed corpus).  Raw output (session.csv, marks.txt, the plan, one
# log per segment with its phases) stays in build/traces/corpus-raw/.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/traces/vm-lib.sh
. bench/traces/vm-lib.sh
traces_prepare "${1:-6.12}"
raw=$PWD/build/traces/corpus-raw
data=${CORPUS_DATA:-bench/traces/data/corpus}
img=$PWD/build/traces/corpus-disk.img
rm -rf "$raw"
mkdir -p "$raw" "$data"

# The scratch disk: 4 files of 192 MiB (random bytes) on ext4, fresh
# every run (the page-cache program writes and deletes on it).
files=$(mktemp -d "${TMPDIR:-/tmp}/corpus-disk.XXXXXX")
trap 'rm -rf "$files"' EXIT
for i in 0 1 2 3; do head -c 192M /dev/urandom > "$files/f$i"; done
rm -f "$img"
mkfs.ext4 -q -F -d "$files" "$img" 1200M
rm -rf "$files"

env=(TRACE_PLAN=corpus.sh)
for v in ${!CORPUS_@}; do
	[ "$v" = CORPUS_DATA ] || env+=("$v=${!v}")
done
rounds=${CORPUS_ROUNDS:-5} seg=${CORPUS_SEG_S:-150}
nprog=$(wc -w <<<"${CORPUS_PROGRAMS:-gcc sqlite pagecache memphase service python}")
timeout=$((600 + rounds * nprog * (seg + 15) + ${CORPUS_HELDOUT_S:-240} + 15))
traces_qemu_args=(--qemu-arg "-drive file=$img,if=virtio,format=raw,cache=unsafe")
echo "record-corpus: ${env[*]}, VM timeout ${timeout}s, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
traces_vm "$raw" "$timeout" bench/traces/in-vm.sh "${env[@]}"
echo "record-corpus: done $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$raw/vs-record.err" "$raw/corpus-plan.txt"
traces_cut "$raw" "$data"
rm -f "$img"
