# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The host<->guest mailbox (sourced on both sides): a directory both see
# (scripts/vm's --results share, or an L2's run dir seen by L1).
#
#   host: req.N      the request (written to req.tmp, renamed; N = 1, 2, ...)
#   guest: resp.N    the answer (the handler's stdout and stderr)
#   guest: st.N      the handler's exit status: written last, so it
#                    marks the answer complete
#   guest: ready     written once when the guest serves (its text: an
#                    optional line such as "kernel=6.12...")
#   host: host.seq   the host's request counter (a file, so that mb_ask
#                    works inside $(...))
#
# Guest side:
#   mb_serve DIR HANDLER [READY-TEXT]
#       write DIR/ready, then answer req.1, req.2, ... in order: run
#       HANDLER REQ-FILE in this shell (so it may keep state) with its
#       output in resp.N and its status in st.N.  A request "quit" ends
#       the loop (answer "bye", status 0).  Builtins only while idle.
# Host side:
#   mb_wait_ready [-g GONE] DIR SECS   wait for DIR/ready (1 if not)
#   mb_ask [-t SECS] [-g GONE] DIR REQUEST...
#       send REQUEST (its words joined by spaces), wait for the answer
#       (default 240 s), print it, return the handler's status; 124 on
#       timeout, 125 once the file GONE exists (the VM has ended: e.g.
#       scripts/vm's RUNDIR/rc), with a "# ..." line on stderr either way.
#   mb_quit [-t SECS] [-g GONE] DIR    ask "quit"
#   kv KEY                   the value of KEY=VALUE lines on stdin

[ -z "${_VS_MAILBOX_SH:-}" ] || return 0
_VS_MAILBOX_SH=1

# shellcheck source=selftests/lib/wait.sh
. "${BASH_SOURCE[0]%/*}/wait.sh"
# shellcheck source=selftests/lib/opts.sh
. "${BASH_SOURCE[0]%/*}/opts.sh"

mb_serve() {
	local dir=$1 handler=$2 n=1 line
	printf '%s\n' "${3:-ready}" > "$dir/ready.tmp"
	mv "$dir/ready.tmp" "$dir/ready"
	while :; do
		if [ ! -f "$dir/req.$n" ]; then
			vs_snooze 0.05
			continue
		fi
		line=
		read -r line < "$dir/req.$n"
		if [ "$line" = quit ]; then
			echo bye > "$dir/resp.$n"
			echo 0 > "$dir/st.$n"
			return 0
		fi
		"$handler" "$dir/req.$n" > "$dir/resp.$n" 2>&1
		echo $? > "$dir/st.$n"
		n=$((n + 1))
	done
}

_mb_opts() {
	_mb_t=240 _mb_gone=
	vs_opts 't:_mb_t g:_mb_gone' "$@" || return
	_mb_args=("${VS_ARGS[@]}")
}

mb_wait_ready() {
	_mb_opts "$@" || return
	set -- "${_mb_args[@]}"
	local dir=$1 secs=$2
	# shellcheck disable=SC2016
	wait_for -q "$secs" '[ -f "$dir/ready" ] || { [ -n "$_mb_gone" ] && [ -e "$_mb_gone" ]; }'
	[ -f "$dir/ready" ] && return 0
	echo "# mailbox $dir: the guest never became ready" >&2
	return 1
}

mb_ask() {
	_mb_opts "$@" || return
	set -- "${_mb_args[@]}"
	local dir=$1 seq=0 st=
	shift
	read -r seq 2>/dev/null < "$dir/host.seq" || seq=0
	seq=$((seq + 1))
	echo "$seq" > "$dir/host.seq"
	printf '%s\n' "$*" > "$dir/req.tmp"
	mv "$dir/req.tmp" "$dir/req.$seq"
	# shellcheck disable=SC2016
	wait_for -q "$_mb_t" '[ -s "$dir/st.$seq" ] || { [ -n "$_mb_gone" ] && [ -e "$_mb_gone" ]; }'
	if [ ! -s "$dir/st.$seq" ]; then
		if [ -n "$_mb_gone" ] && [ -e "$_mb_gone" ]; then
			echo "# mailbox $dir: the guest is gone (request $seq: $*)" >&2
			return 125
		fi
		echo "# mailbox $dir: no answer to request $seq within $_mb_t s: $*" >&2
		return 124
	fi
	read -r st < "$dir/st.$seq"
	cat "$dir/resp.$seq"
	return "$st"
}

mb_quit() {
	_mb_opts "$@" || return
	local a=(-t "$_mb_t")
	[ -z "$_mb_gone" ] || a+=(-g "$_mb_gone")
	mb_ask "${a[@]}" "${_mb_args[@]}" quit > /dev/null
}

kv() {
	local line
	while IFS= read -r line; do
		[ "${line%%=*}" = "$1" ] && [[ $line == *=* ]] && { printf '%s\n' "${line#*=}"; return 0; }
	done
	return 1
}
