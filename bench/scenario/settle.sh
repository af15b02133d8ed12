# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Scenario benchmark: the wait for L2's balloon to reach its rest before
# each workload (sourced by bench/scenario/l1.sh; bench/tests/
# test-scenario-metrics.py runs it on made-up samples).
#
#   settle L2_CSV MAX [CONTROLLER_LOG]
#	every $SCEN_SETTLE_POLL s (2) read L2's balloon (balloon_kb, the
#	7th column of the last line of L2_CSV, L2's sampler) until
#	- without CONTROLLER_LOG: it has moved less than 4 MiB over 3 polls
#	  (6 s), "still";
#	- with CONTROLLER_LOG (host-reactive, bench/scenario/controller.py):
#	  the controller has set a target (its last "balloon N MiB") and
#	  the balloon has been within $SCEN_SETTLE_TOL_MIB (32) of it in 3
#	  polls in a row, "target".  A still balloon is not enough there:
#	  the controller's first target comes 10-20 s after it starts, and
#	  until then the balloon is still at 0 (a run of ce8205d settled in
#	  12 s at 0 and inflated 490 MiB through its workload, 469-727 s
#	  against 111 s);
#	or MAX seconds pass, "limit" (l1.sh: SCEN_SETTLE_S, 90, and for
#	host-reactive SCEN_SETTLE_TARGET_S, 600: its in-tree driver
#	inflated at 12 MiB/s at load 2-3 but at 1.3 MiB/s at load 8-9, 313
#	of 489 MiB after 240 s in a smoke run of b6c7ad6).  Prints "SECONDS HOW BALLOON_MIB
#	TARGET_MIB" (-1 where unknown).
#
# A VM starts its workload with the balloon where its configuration
# keeps it at rest, as fpr starts with the free memory of boot already
# reported: vshape_guest's first inflation from 0 (and host-reactive's)
# takes the free memory of boot, which page reporting had returned, and
# every page of it is zeroed in L2 (init_on_alloc) and so populated
# again in L1 before the host frees it; in a smoke run, that first
# inflation (115 to 576 MiB in the first 280 s) ran through the first
# cycle's compile and cache phases, and the cache read ran at 0.8 MiB/s
# instead of 3.5.

settle() {
	local csv=$1 max=$2 ctl=${3:-} poll=${SCEN_SETTLE_POLL:-2}
	local tol=$((${SCEN_SETTLE_TOL_MIB:-32} << 10))
	local t0=$SECONDS last=-1 cur=-1 line want=-1 n=0 how=limit
	while [ $((SECONDS - t0)) -lt "$max" ]; do
		line=$(tail -n 1 "$csv" 2>/dev/null) || line=
		IFS=, read -r _ _ _ _ _ _ cur _ <<<"$line"
		if ! [[ $cur =~ ^[0-9]+$ ]]; then
			cur=-1
		elif [ -n "$ctl" ]; then
			want=$(sed -n 's/.* balloon \([0-9][0-9]*\) MiB.*/\1/p' "$ctl" 2>/dev/null | tail -n 1)
			[[ $want =~ ^[0-9]+$ ]] || want=-1
			if [ "$want" -ge 0 ] && [ $((cur - (want << 10))) -le "$tol" ] &&
				[ $(((want << 10) - cur)) -le "$tol" ]; then
				n=$((n + 1))
				[ "$n" -lt 3 ] || { how=target; break; }
			else
				n=0
			fi
		elif [ "$last" -ge 0 ] && [ $((cur - last)) -lt 4096 ] &&
			[ $((last - cur)) -lt 4096 ]; then
			n=$((n + 1))
			[ "$n" -lt 3 ] || { how=still; break; }
		else
			n=0
			last=$cur
		fi
		sleep "$poll"
	done
	[ "$cur" -lt 0 ] || cur=$((cur >> 10))
	echo "$((SECONDS - t0)) $how $cur $want"
}
