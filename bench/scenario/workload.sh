#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Default workload of the scenario benchmark (bench/scenario/run.sh), run
# INSIDE the L2 guest from the checkout's root.  SCEN_CYCLES cycles of
# real programs, the same phases in the same order, so a predictor can
# see the pattern recur:
#
#   compile   gcc -O2 -c over SCEN_CC_SRC (C files of the checkout),
#             SCEN_CC_JOBS compilers at once, objects in /tmp
#   sqlite    one sqlite3 process: a database in /tmp (tmpfs, so its
#             pages are the guest's memory), SCEN_SQL_ROWS rows of 16 KiB
#             inserted, then an aggregate query and an indexed lookup;
#             the database is deleted at the end of the phase
#   cache     read SCEN_CACHE_FILE (a large file on the 9p root, through
#             the page cache): used memory stays flat, the cache grows
#   batch     an anonymous-memory job: memtouch SCEN_BATCH_MIB MiB, held
#             SCEN_BATCH_HOLD seconds, then freed (the process exits)
#   idle      SCEN_IDLE seconds of nothing
#
# SCEN_PHASES (default "sqlite cache batch idle") chooses the
# phases and their order.  compile is not in the default: in L2 (KVM in
# a TCG L1, on a 2-core machine at load 15-20) one gcc -O2 -c of a
# 91-line file took about 3 minutes, which alone would not fit the
# benchmark's hour; add it with SCEN_PHASES="compile sqlite ...".
#
# A workload script's only contract with the runner: it runs in L2 from
# the checkout's root, writes the name of its current phase as the first
# line of $SCEN_PHASE_FILE (the sampler tags every sample with it; use
# the same names every cycle), and exits 0 when the work succeeded.
# Every fork and exec costs seconds in a nested TCG guest, so this one
# uses bash builtins between the programs it measures.
set -uo pipefail
PH=${SCEN_PHASE_FILE:-/tmp/scenario-phase}
cycles=${SCEN_CYCLES:-3}
read -r -a phases <<<"${SCEN_PHASES:-sqlite cache batch idle}"
read -r -a cc_src <<<"${SCEN_CC_SRC:-predictor/adapt.c}"
cc_jobs=${SCEN_CC_JOBS:-2}
rows=${SCEN_SQL_ROWS:-1000}
cache=${SCEN_CACHE_FILE:?SCEN_CACHE_FILE: a large file to read}
batch_mib=${SCEN_BATCH_MIB:-128}
batch_hold=${SCEN_BATCH_HOLD:-4}
idle=${SCEN_IDLE:-3}
memtouch=${SCEN_MEMTOUCH:?SCEN_MEMTOUCH: selftests/guest/memtouch}

mkfifo /tmp/workload-snooze.fifo 2>/dev/null
exec 8<> /tmp/workload-snooze.fifo
snooze() { read -rt "$1" -u 8 || :; }
phase() { printf '%s\n' "$1" > "$PH"; }
rc=0

compile() {
	local i=0 f pids=()
	for f in "${cc_src[@]}"; do
		gcc -O2 -Ipredictor -Iinclude -c -o "/tmp/wl-$i.o" "$f" &
		pids+=($!)
		i=$((i + 1))
		if [ ${#pids[@]} -ge "$cc_jobs" ]; then
			wait "${pids[0]}" || rc=1
			pids=("${pids[@]:1}")
		fi
	done
	for f in "${pids[@]}"; do wait "$f" || rc=1; done
}

sqlite() {
	sqlite3 /tmp/wl.db > /dev/null <<-EOF || rc=1
	PRAGMA journal_mode=OFF;
	PRAGMA cache_size=-65536;
	CREATE TABLE t(k INTEGER PRIMARY KEY, g INTEGER, v BLOB);
	WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $rows)
	INSERT INTO t SELECT x, x % 17, zeroblob(16384) FROM c;
	CREATE INDEX tg ON t(g);
	SELECT g, count(*), sum(length(v)) FROM t GROUP BY g;
	SELECT count(*) FROM t WHERE g = 3 AND k > $((rows / 2));
	EOF
	# unlink with a builtin-free fallback: rm is one exec, once per cycle
	rm -f /tmp/wl.db
}

for c in $(seq "$cycles"); do
	for p in "${phases[@]}"; do
		phase "$p"
		case $p in
		compile) compile;;
		sqlite) sqlite;;
		cache) cat "$cache" > /dev/null || rc=1;;
		batch) "$memtouch" "$batch_mib" "$batch_hold" || rc=1;;
		idle) snooze "$idle";;
		*) echo "workload: unknown phase $p"; rc=2;;
		esac
	done
	echo "workload: cycle $c done (status so far $rc)"
done
phase end
exit $rc
