# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP output for the vshape suites (sourced; see selftests/lib/README and
# docs/testing.md).  One result per line on stdout, numbered here:
#
#   tap_plan N              "1..N" up front (or let tap_done print it)
#   tap_ok DESC             ok N - DESC
#   tap_not_ok DESC         not ok N - DESC
#   tap_check DESC CMD...   ok if CMD succeeds (CMD runs once, now)
#   tap_rc STATUS DESC      ok if STATUS is 0 (for "cmd; tap_rc $? desc")
#   tap_is DESC GOT WANT    ok if GOT = WANT (strings), else says both
#   tap_skip REASON DESC    ok N - DESC # SKIP REASON; an empty REASON
#                           is a failure: a skip must say why
#   tap_diag MSG... | tap_diag   "# MSG", or every stdin line prefixed
#   tap_import [-n NAME] CMD...  run CMD, renumber its TAP results into
#                           ours (its plan must match its results); NAME
#                           (default CMD) names it in failures
#   tap_bail MSG            "Bail out! MSG", exit 1
#   tap_skip_all REASON     "1..0 # SKIP REASON", exit 4 (only for a host
#                           capability that is absent, never for the
#                           project's own modules, drivers or kernels)
#   tap_done                end: print "1..N" if no plan was given; a
#                           plan that does not match the results adds a
#                           failing result; exit 1 if anything failed
#   at_exit CMD             run CMD (eval'd) when the script exits
#   tap_tmpdir              TAP_TMPDIR = a new directory under $TMPDIR
#                           (or /tmp), removed when the script exits
#
# The first result arms an EXIT trap: a script that ends without
# tap_done (set -e, a stray exit, a crash of bash) gets a failing result
# naming its exit status, so an early end can never look like a pass.
# Counters live in this shell: do not emit results from $(...) or from
# a pipeline's subshell.

[ -z "${_VS_TAP_SH:-}" ] || return 0
_VS_TAP_SH=1

TAP_N=0
TAP_FAILS=0
TAP_SKIPS=0
TAP_PLAN=
_tap_state=idle		# idle, running, finished
_vs_at_exit=()

at_exit() {
	_vs_at_exit+=("$1")
	trap _vs_exit_trap EXIT
}

TAP_TMPDIR=
tap_tmpdir() {
	TAP_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/vs-${0##*/}.XXXXXX") || return 1
	at_exit "rm -rf $(printf '%q' "$TAP_TMPDIR")"
}

_vs_exit_trap() {
	local rc=$? i
	for ((i = ${#_vs_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_vs_at_exit[$i]}" || :
	done
	_vs_at_exit=()
	if [ "$_tap_state" = running ]; then
		_tap_state=finished
		tap_not_ok "${0##*/} ended before tap_done (exit status $rc)"
		[ -n "$TAP_PLAN" ] || echo "1..$TAP_N"
		exit 1
	fi
	exit "$rc"
}

_tap_arm() {
	[ "$_tap_state" = idle ] || return 0
	_tap_state=running
	trap _vs_exit_trap EXIT
}

tap_plan() {
	_tap_arm
	if ! [[ ${1:-} =~ ^[0-9]+$ ]] || [ -n "$TAP_PLAN" ]; then
		tap_bail "tap_plan: bad or second plan '${1:-}'"
	fi
	TAP_PLAN=$1
	echo "1..$1"
}

tap_ok() {
	_tap_arm
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}

tap_not_ok() {
	_tap_arm
	TAP_N=$((TAP_N + 1))
	TAP_FAILS=$((TAP_FAILS + 1))
	echo "not ok $TAP_N - $*"
}

tap_rc() {
	local rc=$1
	shift
	if [ "$rc" = 0 ]; then tap_ok "$*"; else tap_not_ok "$* (status $rc)"; fi
	return "$rc"
}

tap_check() {
	local d=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" = 0 ]; then tap_ok "$d"; else tap_not_ok "$d"; fi
	return "$rc"
}

tap_is() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
		return 0
	fi
	tap_not_ok "$1"
	tap_diag "got '$2', wanted '$3'"
	return 1
}

tap_skip() {
	local why=$1
	shift
	if [ -z "${why// /}" ]; then
		tap_not_ok "$* (skipped without a reason)"
		return 1
	fi
	_tap_arm
	TAP_N=$((TAP_N + 1))
	TAP_SKIPS=$((TAP_SKIPS + 1))
	echo "ok $TAP_N - $* # SKIP $why"
}

tap_diag() {
	local line
	if [ $# -gt 0 ]; then
		printf '# %s\n' "$*"
		return 0
	fi
	while IFS= read -r line; do printf '# %s\n' "$line"; done
}

tap_bail() {
	echo "Bail out! $*"
	_tap_state=finished
	exit 1
}

tap_skip_all() {
	[ "$TAP_N" = 0 ] || tap_bail "tap_skip_all after $TAP_N results: $*"
	[ -n "${1// /}" ] || tap_bail "tap_skip_all without a reason"
	echo "1..0 # SKIP $*"
	_tap_state=finished
	exit 4
}

# tap_import CMD...: run CMD (a TAP producer such as a kselftest harness
# binary) and re-emit its top-level results with our numbering, its
# directives (# SKIP, # TODO) kept; its other lines pass through as
# diagnostics.  Adds a failing result if CMD's plan does not match the
# results it printed, if it printed none, or if it exited non-zero
# without a failing result.  "1..0 # SKIP why" (CMD found a host
# capability absent) becomes one skip with that reason (none: a failure).
# Returns CMD's exit status.
tap_import() {
	local line plan='' seen=0 failed=0 rc desc fifo skipwhy='' name
	name=$1
	[ "$1" = -n ] && { name=$2; shift 2; }
	fifo=${TMPDIR:-/tmp}/vs-import.$$.$RANDOM
	mkfifo "$fifo" || tap_bail "tap_import: mkfifo $fifo"
	"$@" > "$fifo" 2>&1 &
	local pid=$!
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ *-?\ *(.*)$ ]]; then
			seen=$((seen + 1))
			desc=${BASH_REMATCH[2]}
			if [ -n "${BASH_REMATCH[1]}" ]; then
				failed=$((failed + 1))
				tap_not_ok "$desc"
			elif [[ $desc =~ \#\ *[Ss][Kk][Ii][Pp]\ *(.*)$ ]]; then
				tap_skip "${BASH_REMATCH[1]}" "${desc%%#*}"
			else
				tap_ok "$desc"
			fi
		elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
			[[ $line =~ \#\ *SKIP\ *(.*)$ ]] && skipwhy=${BASH_REMATCH[1]}
		elif [[ $line =~ ^TAP\ version ]]; then
			:
		elif [[ $line == Bail\ out!* ]]; then
			tap_not_ok "$name: $line"
			failed=$((failed + 1))
		else
			printf '# %s\n' "${line#\# }"
		fi
	done < "$fifo"
	rm -f "$fifo"
	wait "$pid"
	rc=$?
	if [ "$plan" = 0 ] && [ "$seen" = 0 ]; then
		# "1..0 # SKIP why": the producer found a host capability absent
		tap_skip "$skipwhy" "$name"
	elif [ "$seen" = 0 ]; then
		tap_not_ok "$name printed no TAP results (exit status $rc)"
	elif [ -z "$plan" ] || [ "$plan" != "$seen" ]; then
		tap_not_ok "$name: plan 1..${plan:-none} but $seen results"
	elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		tap_not_ok "$name exited with status $rc"
	fi
	return "$rc"
}

tap_done() {
	[ "$_tap_state" = running ] || [ "$TAP_N" = 0 ] || {
		echo "Bail out! tap_done called twice"
		exit 1
	}
	_tap_state=finished
	if [ -z "$TAP_PLAN" ]; then
		echo "1..$TAP_N"
	elif [ "$TAP_PLAN" != "$TAP_N" ]; then
		local ran=$TAP_N
		tap_not_ok "plan 1..$TAP_PLAN but $ran results"
	fi
	tap_diag "${0##*/}: $((TAP_N - TAP_FAILS - TAP_SKIPS)) passed, $TAP_FAILS failed, $TAP_SKIPS skipped"
	[ "$TAP_FAILS" = 0 ] && exit 0
	exit 1
}
