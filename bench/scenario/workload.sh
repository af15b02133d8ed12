#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Default workload of the scenario benchmark (bench/scenario/run.sh), run
# INSIDE the L2 guest, chrooted in the workload disk
# (bench/scenario/mkdisk.sh) with /wl as its directory.  SCEN_CYCLES
# cycles of real programs, the same phases in the same order, so a
# predictor can see the pattern recur:
#
#   compile   gcc -O2 -c of each SCEN_CC_SRC (default src/*.i: C files
#             of the checkout, preprocessed by mkdisk.sh, so that gcc
#             reads no header), SCEN_CC_JOBS (2) compilers at once, objects
#             in /tmp
#   sqlite    one sqlite3 process: a database in /tmp (tmpfs, so its
#             pages are the guest's memory), SCEN_SQL_ROWS (300) rows of 16 KiB
#             inserted, then an aggregate query and an indexed lookup;
#             the database is deleted at the end of the phase
#   cache     read SCEN_CACHE_FILE (default cache.dat, on the disk,
#             through the page cache): used memory stays flat, the cache
#             grows (the first cycle; later cycles hit the cache unless
#             it was reclaimed)
#   batch     an anonymous-memory job: memtouch SCEN_BATCH_MIB (128) MiB,
#             held SCEN_BATCH_HOLD (4) seconds, then freed (the process
#             exits)
#   idle      SCEN_IDLE (4) seconds of nothing
#
# SCEN_PHASES (default "compile sqlite cache batch idle", spaces or
# commas) chooses the phases and their order.
#
# A workload script's only contract with the runner: it runs in L2 in the
# workload disk's /wl, writes the name of its current phase as the first
# line of $SCEN_PHASE_FILE (the sampler tags every sample with it; use
# the same names every cycle), and exits 0 when the work succeeded.  The
# disk holds the programs this one runs (more with SCEN_DISK_PROGS, see
# mkdisk.sh).  Every fork and exec costs time in a nested TCG guest, so
# this one uses bash builtins between the programs it measures.
set -uo pipefail
PH=${SCEN_PHASE_FILE:-/tmp/scenario-phase}
cycles=${SCEN_CYCLES:-3}
phases_s=${SCEN_PHASES:-compile sqlite cache batch idle}
read -r -a phases <<<"${phases_s//,/ }"
cc_src=(src/*.i)
[ -z "${SCEN_CC_SRC:-}" ] || read -r -a cc_src <<<"${SCEN_CC_SRC//,/ }"
cc_jobs=${SCEN_CC_JOBS:-2}
rows=${SCEN_SQL_ROWS:-300}
cache=${SCEN_CACHE_FILE:-cache.dat}
batch_mib=${SCEN_BATCH_MIB:-128}
batch_hold=${SCEN_BATCH_HOLD:-4}
idle=${SCEN_IDLE:-4}
memtouch=${SCEN_MEMTOUCH:-./memtouch}

mkfifo /tmp/workload-snooze.fifo 2>/dev/null
exec 8<> /tmp/workload-snooze.fifo
snooze() { read -rt "$1" -u 8 || :; }
phase() { printf '%s\n' "$1" > "$PH"; }
rc=0

compile() {
	local i=0 f pids=()
	for f in "${cc_src[@]}"; do
		gcc -O2 -c -o "/tmp/wl-$i.o" "$f" &
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
