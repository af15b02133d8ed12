# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Waiting without forking (sourced).  The helpers use bash builtins only:
# in a nested L2, every fork and exec costs seconds of the TCG L1's time.
#
#   vs_snooze SECS            sleep (read -t on a private FIFO, no fork)
#   wait_for [-q] SECS CMD [ARG...]
#                             run CMD again and again (every
#                             $WAIT_INTERVAL s, default 0.1) until it
#                             succeeds or SECS (may be fractional) pass;
#                             returns 0 or 1, and says what it waited for
#                             on stderr unless -q.
#                             CMD is re-run each try: with ONE argument it
#                             is a string evaluated each try (so
#                             wait_for 30 '[ "$(cat f)" = 0 ]' re-reads f),
#                             with several it is a command with its
#                             arguments (a function, or a test whose
#                             arguments must not hold a $(...): that is
#                             expanded once, before wait_for runs).
#   wait_stable [-q] SECS STABLE CMD [ARG...]
#                             run CMD (its output is the value) every
#                             $WAIT_INTERVAL s until the value has not
#                             changed for STABLE seconds, or SECS pass;
#                             the last value is in $WAIT_VALUE; returns 1
#                             if it never settled
#   file_is FILE VALUE        FILE's first line is VALUE (builtins only)
#   file_val FILE             print FILE's first line (builtins only)
#   VS_TIME_SCALE             VSHAPE_VM_TIMEOUT_SCALE as scripts/vm passed
#                             it into this VM (scripts/vm refuses anything
#                             but a positive integer; here 1 if unset or
#                             not 1-100): the factor every suite's own
#                             time bounds take on a slower kernel (the
#                             debug kernel of scripts/check-debug)

[ -z "${_VS_WAIT_SH:-}" ] || return 0
_VS_WAIT_SH=1

WAIT_INTERVAL=${WAIT_INTERVAL:-0.1}
VS_TIME_SCALE=${VSHAPE_VM_TIMEOUT_SCALE:-1}
[[ $VS_TIME_SCALE =~ ^[1-9][0-9]?$|^100$ ]] || VS_TIME_SCALE=1
_vs_snooze_fd=

vs_snooze() {
	if [ -z "$_vs_snooze_fd" ]; then
		local f=${TMPDIR:-/tmp}/vs-snooze.$$.$BASHPID.$RANDOM
		if mkfifo "$f" 2>/dev/null && exec {_vs_snooze_fd}<> "$f"; then
			rm -f "$f"
		else
			_vs_snooze_fd=none
		fi
	fi
	if [ "$_vs_snooze_fd" = none ]; then
		sleep "$1"
	else
		read -rt "$1" -u "$_vs_snooze_fd" || :
	fi
}

# _vs_us SECS: set _vs_us_val to SECS (e.g. 2, 0.5, 1.25) in microseconds
# (a variable, not output: $(...) would fork)
_vs_us() {
	local int=${1%%.*} frac=''
	[[ $1 == *.* ]] && frac=${1#*.}
	frac=${frac}000000
	_vs_us_val=$((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

wait_for() {
	local quiet=0 secs end now
	[ "${1:-}" = -q ] && { quiet=1; shift; }
	secs=${1:?wait_for: SECS missing}
	shift
	[ $# -gt 0 ] || { echo "# wait_for: no command" >&2; return 2; }
	# EPOCHREALTIME's decimal separator follows the locale
	_vs_us "$secs"
	end=${EPOCHREALTIME/[.,]/}
	end=$((end + _vs_us_val))
	while :; do
		if [ $# -eq 1 ]; then
			eval "$1" && return 0
		else
			"$@" && return 0
		fi
		now=${EPOCHREALTIME/[.,]/}
		[ "$now" -lt "$end" ] || break
		vs_snooze "$WAIT_INTERVAL"
	done
	[ "$quiet" = 1 ] || echo "# wait_for: still false after ${secs} s: $*" >&2
	return 1
}

wait_stable() {
	local quiet='' secs stable since now prev=
	[ "${1:-}" = -q ] && { quiet=-q; shift; }
	secs=$1 stable=$2
	shift 2
	_vs_us "$stable"
	stable=$_vs_us_val
	since=${EPOCHREALTIME/[.,]/}
	WAIT_VALUE=$("$@")
	# shellcheck disable=SC2317 # run by wait_for below
	_vs_stable_try() {
		prev=$WAIT_VALUE
		WAIT_VALUE=$("$@")
		now=${EPOCHREALTIME/[.,]/}
		[ "$WAIT_VALUE" = "$prev" ] || since=$now
		[ $((now - since)) -ge "$stable" ]
	}
	wait_for $quiet "$secs" _vs_stable_try "$@"
}

file_val() {
	local v=
	read -r v < "$1" || [ -n "$v" ] || return 1
	printf '%s\n' "$v"
}

file_is() {
	local v=
	read -r v 2>/dev/null < "$1" || [ -n "$v" ] || return 1
	[ "$v" = "$2" ]
}
