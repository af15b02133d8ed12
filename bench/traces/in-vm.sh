#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the recording VM (run by record-vm.sh): load vshape_guest
# ($VSHAPE_KO), record its debugfs records with tools/vs-record while
# real programs run in phases, one workload after the other, into
# $TRACE_OUT/session.csv; workload boundaries (first/last seq) go to
# $TRACE_OUT/marks.txt, phase logs to $TRACE_OUT/*.log, the predictor's
# debugfs file (step_ns_mean under TCG) to $TRACE_OUT/predictor-*.txt.
#
# TRACE_WORKLOADS: workloads to run (default: all, in this order).
# TRACE_PLAN: a script of this directory (corpus.sh) sourced before the
# module loads: it prepares what its workloads need, sets $workloads and
# redefines run_workload NAME, which runs one workload.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${TRACE_OUT:?}
: "${VSHAPE_KO:?}"
workloads=${TRACE_WORKLOADS:-"memphase1 sqlite tools memphase2"}
run_workload() { "w_$1"; }
# sqlite_sql ROWS CACHE_KIB: the sqlite job of w_sqlite below and of
# corpus.sh: a bulk insert of ROWS rows of about 800 B, an index, a sort
# with a cache of CACHE_KIB, a group by
sqlite_sql() {
	cat <<SQL
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;
PRAGMA cache_size=-$2;
CREATE TABLE t(a INTEGER, b BLOB, c TEXT);
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM s WHERE x<$1)
INSERT INTO t SELECT x, randomblob(800), hex(randomblob(16)) FROM s;
CREATE INDEX ic ON t(c);
SELECT count(*), sum(length(b)) FROM (SELECT * FROM t ORDER BY c DESC);
SELECT a % 97 AS k, count(*) FROM t GROUP BY k ORDER BY 2 DESC LIMIT 3;
SQL
}
if [ -n "${TRACE_PLAN:-}" ]; then
	# shellcheck source=bench/traces/corpus.sh
	. "$here/$TRACE_PLAN" || exit 1
fi

# shellcheck source=selftests/lib/module.sh
. "$top/selftests/lib/module.sh"
mod_load_bind "$VSHAPE_KO" vshape_guest || exit 1
dev=$MOD_DEV
mount -t debugfs none /sys/kernel/debug 2>/dev/null
dbg=/sys/kernel/debug/vshape_guest/$dev
[ -r "$dbg/records" ] || { echo "no $dbg/records"; exit 1; }
uname -r > "$out/uname.txt"
grep -E 'MemTotal|MemAvailable' /proc/meminfo > "$out/meminfo.txt"
cat "/sys/bus/virtio/devices/$dev/vshape/period_ms" > "$out/period_ms.txt" 2>/dev/null

last_seq() { tail -n1 "$dbg/records" | cut -d, -f1; }
mark() { echo "$2 $1 $(last_seq)" >> "$out/marks.txt"; }

"$top/tools/vs-record" -i 1000 -o "$out/session.csv" "$dbg/records" \
	2> "$out/vs-record.err" &
recpid=$!
sleep 5

# 1. C allocator: steps, ramps, sawtooths, spikes, frees (seeded)
# shellcheck disable=SC2317 # run by name, "w_$w" below
w_memphase1() { "$here/memphase" 1 150 1200 > "$out/memphase1.log"; }
# shellcheck disable=SC2317 # run by name, "w_$w" below
w_memphase2() { "$here/memphase" 2 120 1400 > "$out/memphase2.log"; }

# 2. sqlite3 on tmpfs: bulk insert, index, sort with a big cache, drop
# shellcheck disable=SC2317 # run by name, "w_$w" below
w_sqlite() {
	local end=$((SECONDS + 150)) r=0 n
	RANDOM=7
	while [ "$SECONDS" -lt "$end" ]; do
		n=$(( (RANDOM % 5 + 1) * 60000 ))
		echo "$(date +%s%N) round $r rows $n" >> "$out/sqlite.log"
		timeout 45 sqlite3 /tmp/w.db >/dev/null \
			<<<"$(sqlite_sql "$n" $(( (RANDOM % 4 + 1) * 100000 )))"
		sleep $((RANDOM % 4 + 1))
		rm -f /tmp/w.db
		sleep $((RANDOM % 5 + 1))
		r=$((r + 1))
	done
}

# 3. tools: gcc on a big generated file, sort of a big tmpfs file, tar+xz -9,
# python3 allocating in steps
# shellcheck disable=SC2317 # run by name, "w_$w" below
w_tools() {
	local end=$((SECONDS + 150)) r=0
	RANDOM=11
	awk 'BEGIN { print "int f(int *x) {"; for (i = 0; i < 6000; i++)
		printf "x[%d] += x[%d] * %d + (x[%d] >> 3);\n", i % 64, (i * 7) % 64, i, (i * 13) % 64;
		print "return x[0]; }" }' > /tmp/big.c
	while [ "$SECONDS" -lt "$end" ]; do
		case $((r % 4)) in
		0) echo "$(date +%s%N) gcc" >> "$out/tools.log"
		   timeout 40 gcc -O2 -c -o /tmp/big.o /tmp/big.c ;;
		1) echo "$(date +%s%N) sort" >> "$out/tools.log"
		   head -c $(( (RANDOM % 3 + 1) * 60 ))M /dev/urandom | base64 > /tmp/big.txt
		   timeout 40 sort -S 300M /tmp/big.txt > /dev/null
		   rm -f /tmp/big.txt ;;
		2) echo "$(date +%s%N) xz" >> "$out/tools.log"
		   tar -C /usr/lib -cf /tmp/py.tar python3.11 2>/dev/null
		   timeout 40 xz -9 -T1 -c /tmp/py.tar > /tmp/py.tar.xz
		   rm -f /tmp/py.tar /tmp/py.tar.xz ;;
		3) echo "$(date +%s%N) python" >> "$out/tools.log"
		   timeout 40 /usr/bin/python3 -c '
import time, random
random.seed(3); keep = []
for _ in range(8):
    for _ in range(random.randint(1, 6)):
        keep.append(bytearray(random.randint(20, 80) << 20)); time.sleep(0.3)
    time.sleep(random.uniform(0.5, 2))
    if random.random() < 0.5: keep = keep[len(keep) // 2:]
' ;;
		esac
		sleep $((RANDOM % 4 + 1))
		r=$((r + 1))
	done
	rm -f /tmp/big.c /tmp/big.o
}

for w in $workloads; do
	mark start "$w"
	run_workload "$w"
	sleep 3
	mark end "$w"
	cat "$dbg/predictor" > "$out/predictor-$w.txt"
done
sleep 2
kill -TERM $recpid
wait $recpid
cat "$dbg/predictor" > "$out/predictor-default.txt"
grep -c . "$out/session.csv"
dmesg | grep -E 'vshape|Out of memory|Killed process' | tail -n 20 > "$out/dmesg.txt"
exit 0
