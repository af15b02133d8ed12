#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP tests of vs-record against a fake debugfs records file:
#   tools/tests/test-record.sh [path/to/vs-record]
# The fake file is replaced atomically (rename) between polls, as the
# debugfs file is regenerated on every open.
set -uo pipefail
rec=${1:-$(dirname "$0")/../vs-record}
rec=$(readlink -f "$rec")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
HDR="seq,time_ns,used,cpu,anon,file,free,pgfault,pgmajfault,refault,swpin,swpout,psi_some,psi_full,cg_usage,cg_psi_some,demand,confidence,step_ns"
n=0 fail=0

# ring FROM TO: write a records file holding seqs FROM..TO (inclusive)
ring() {
	{
		echo "$HDR"
		for ((s = $1; s <= $2; s++)); do
			echo "$s,$((s * 100000000)),$((1000 + s)),200,900,800,1500,3,0,0,0,0,0,0,0,0,$((1100 + s)),30000,4100"
		done
	} > records.tmp
	mv records.tmp records
}
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
seqs() { tail -n +2 "$1" | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//'; }

echo "1..13"

# 1-3: overlapping windows are deduplicated, header written once
ring 0 9
"$rec" -i 50 -o out.csv records 2> err.txt & pid=$!
sleep 0.3; ring 5 19
sleep 0.3; ring 12 24
sleep 0.3; kill -TERM $pid; wait $pid; rc=$?
ok $rc "exits 0 on SIGTERM"
[ "$(grep -c '^seq,' out.csv)" = 1 ]; ok $? "header written once"
[ "$(seqs out.csv)" = "$(seq -s ' ' 0 24)" ]; ok $? "rows 0..24 once each, in order"

# 4: no gap warning without overflow
! grep -q 'gap:' err.txt; ok $? "no gap warning when the ring did not overflow"

# 5-6: ring overflow between polls -> gap warning, rows kept in order
ring 0 9
"$rec" -i 50 -o gap.csv records 2> err.txt & pid=$!
sleep 0.3; ring 300 555
sleep 0.3; kill -INT $pid; wait $pid
grep -q 'gap: 290 rows lost (seq 10..299)' err.txt; ok $? "warns on a gap with the lost seq range"
[ "$(seqs gap.csv | wc -w)" = $((10 + 256)) ]; ok $? "keeps the rows before and after the gap"

# 7-8: -d stops by itself; rows byte-identical to the source
ring 0 255
start=$(date +%s%N)
timeout 5 "$rec" -i 100 -d 0.5 -o d.csv records 2>/dev/null; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc = 0 ] && [ $ms -ge 400 ] && [ $ms -lt 3000 ]; ok $? "-d 0.5 exits after ~0.5 s (took ${ms} ms, rc $rc)"
cmp -s d.csv records; ok $? "output identical to a single full ring"

# 9: appending to an existing output resumes after its last seq, no 2nd header
ring 200 300
"$rec" -d 0 -o d.csv records 2>/dev/null
[ "$(grep -c '^seq,' d.csv)" = 1 ] && [ "$(seqs d.csv)" = "$(seq -s ' ' 0 300)" ]; ok $? "resume appends only new rows"

# 10: stdout by default, -d 0 is a single poll
ring 3 5
[ "$("$rec" -d 0 records 2>/dev/null | tail -n +2 | cut -d, -f1 | tr '\n' ' ')" = "3 4 5 " ]; ok $? "single poll to stdout"

# 11: driver reload (seq goes back) is reported and recording continues
ring 0 50
"$rec" -i 50 -o rl.csv records 2> err.txt & pid=$!
sleep 0.3; ring 0 4
sleep 0.3; kill -TERM $pid; wait $pid
grep -q 'seq went back from 50 to 4' err.txt && [ "$(seqs rl.csv | wc -w)" = 56 ]; ok $? "reload detected, new rows kept"

# 12: missing file -> exit 1
"$rec" -d 0 nonexistent 2>/dev/null; [ $? = 1 ]; ok $? "missing records file: exit 1"

# 13: usage error -> exit 2
"$rec" -x 2>/dev/null; [ $? = 2 ]; ok $? "bad option: exit 2"

echo "# $((n - fail)) passed, $fail failed"
[ $fail = 0 ]
