# SPDX-License-Identifier: GPL-2.0
#
# scripts/check's accounting, sourced by it and by its unit test
# (scripts/tests/test-check-suite.sh): run a suite, count its results
# with scripts/tap-count, print one ok/not ok line for it.  The caller
# sets top (the checkout), logdir, only (a suite pattern), SERIES and
# the array kver[SERIES], and the totals passed, failed, skipped and
# matched.
# shellcheck shell=bash
# shellcheck disable=SC2153,SC2154 # top, logdir, only, SERIES, kver: the caller's (above)

bg_suites=()	# "NAME TAP LIMIT" of each suite started with --bg

# account NAME P F S: add to the totals.
account() {
	passed=$((passed + $2))
	failed=$((failed + $3))
	skipped=$((skipped + $4))
}

# fail_suite NAME REASON: a suite that cannot run counts as one failure.
fail_suite() {
	# shellcheck disable=SC2053
	[[ $1 == $only ]] || return 0
	matched=$((matched + 1))
	echo "not ok - $1 (not run: $2)"
	account "$1" 0 1 0
}

# suite [--tap] [--bg] NAME TIMEOUT-SECONDS CMD...: run a suite and
# report it.  With --bg the suite runs in the background lane and is
# reported by suites_join, in the order the background suites were
# started: a suite that only waits on a VM's single TCG thread can share
# the machine's second core with the suites that follow it.  The lane
# runs its suites one after another (each starts once the one queued
# before it has written its .rc file; its time limit counts from then):
# two VMs in the background beside the foreground's would ask three
# cores of two.
suite() {
	local tap=0 bg=0 name limit prev
	while :; do
		case $1 in
		--tap) tap=1; shift ;;
		--bg) bg=1; shift ;;
		*) break ;;
		esac
	done
	name=$1 limit=$2
	shift 2
	# shellcheck disable=SC2053
	[[ $name == $only ]] || return 0
	matched=$((matched + 1))
	if [ "$bg" = 1 ]; then
		echo "# suite $name: $* (in the background)"
		prev=''
		[ ${#bg_suites[@]} -eq 0 ] || prev=${bg_suites[-1]%% *}
		suite_lane "$prev" "$name" "$limit" "$@" &
		bg_suites+=("$name $tap $limit")
		return 0
	fi
	echo "# suite $name: $*"
	suite_exec "$name" "$limit" "$@"
	suite_report "$name" "$tap" "$limit"
}

# suite_exec NAME LIMIT CMD...: run CMD under the time limit, its output
# in NAME's log; its exit status and run time go to NAME's .rc file.
suite_exec() {
	local name=$1 limit=$2 log=$logdir/$1.log t0=$SECONDS rc
	shift 2
	timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1 < /dev/null
	rc=$?
	echo "$rc $((SECONDS - t0))" > "$log.rc"
}

# suite_lane PREV NAME LIMIT CMD...: once the background suite PREV
# (none if empty) has ended, suite_exec NAME.
suite_lane() {
	local prev=$1
	shift
	while [ -n "$prev" ] && [ ! -f "$logdir/$prev.log.rc" ]; do
		sleep 1
	done
	suite_exec "$@"
}

# suites_join: wait for the background suites and report each.
suites_join() {
	local b
	wait
	for b in "${bg_suites[@]}"; do
		# shellcheck disable=SC2086 # name, tap and limit: three words
		suite_report $b
	done
	bg_suites=()
}

# suite_report NAME TAP LIMIT: count NAME's results from its log and .rc
# file, print them and one ok/not ok line, add them to the totals.
suite_report() {
	local name=$1 tap=$2 limit=$3 log=$logdir/$1.log rc=1 secs=0
	local p=0 f=0 s=0 counts extra=''
	# a missing .rc file: the runner died before the suite ended
	[ -f "$log.rc" ] && read -r rc secs < "$log.rc"
	counts=$("$top/scripts/tap-count" "$log")
	p=$(sed -n 's/^passed //p' <<<"$counts")
	f=$(sed -n 's/^failed //p' <<<"$counts")
	s=$(sed -n 's/^skipped //p' <<<"$counts")
	if [ $((p + f + s)) -eq 0 ]; then
		if [ "$tap" = 1 ]; then
			f=1 extra="no TAP results"
		else
			case $rc in
			0) p=1 ;;
			4) s=1 counts="skip (all) # $(grep -v '^[[:space:]]*$' "$log" | tail -n1)" ;;
			*) f=1 ;;
			esac
		fi
	elif [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 4 ] && [ "$s" -gt 0 ] && [ "$f" -eq 0 ]; }; then
		[ "$f" -gt 0 ] || { f=1 extra="exit status $rc with no failing result"; }
	fi
	grep -E '^(not )?ok([[:space:]]|$)' "$log" | sed "s/^/# $name: /"
	sed -n "s/^error /# $name: TAP error: /p" <<<"$counts"
	sed -n "s/^skip /# skipped: $name: /p" <<<"$counts" | tee -a "$logdir/skips"
	[ -z "$extra" ] || echo "# $name: $extra"
	[ "$rc" -ne 124 ] || echo "# $name: timed out after ${limit}s"
	if [ "$f" -gt 0 ]; then
		echo "not ok - $name (exit $rc, ${secs}s; log: ${log#"$top"/})"
		tail -n 25 "$log" | sed 's/^/#   /'
	else
		echo "ok - $name ($p passed, $s skipped, ${secs}s)"
	fi
	account "$name" "$p" "$f" "$s"
}

# per_kernel NAME-PREFIX NAME-SUFFIX [--tap] [--bg] TIMEOUT CMD... with
# @K@ for the kernel version: one suite per series of $SERIES (a caller
# may narrow it: SERIES=6.1 per_kernel ...), failed when it is missing.
per_kernel() {
	local pre=$1 post=$2 series k a args opts
	shift 2
	opts=()
	while [ "$1" = --tap ] || [ "$1" = --bg ]; do
		opts+=("$1")
		shift
	done
	for series in $SERIES; do
		k=${kver[$series]}
		if [ -z "$k" ]; then
			fail_suite "$pre$series$post" "no $series test kernel installed (scripts/setup)"
			continue
		fi
		args=()
		for a in "$@"; do args+=("${a//@K@/$k}"); done
		suite "${opts[@]}" "$pre$series$post" "${args[@]}"
	done
}


# skips_gate [ALLOWLIST]: a skip is not a pass; each skip printed so far
# that the allowlist (default .ci/allowed-skips) does not name counts as
# failed, and a malformed allowlist as one failure.
skips_gate() {
	local unlisted n
	touch "$logdir/skips"
	unlisted=$("$top/.ci/check-skips" "$logdir/skips" ${1:+"$1"})
	case $? in
	0) ;;
	1)	# shellcheck disable=SC2001 # a prefix of each line, not one substitution
		sed 's|^# skip not in .ci/allowed-skips: |not ok - skipped, not in .ci/allowed-skips: |' <<<"$unlisted"
		n=$(grep -c . <<<"$unlisted")
		failed=$((failed + n)) skipped=$((skipped - n)) ;;
	*)	echo "not ok - .ci/allowed-skips is malformed"
		failed=$((failed + 1)) ;;
	esac
}
