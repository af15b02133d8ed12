# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Leading "-X VALUE" options of the library's functions (sourced), with
# builtins only (see wait.sh: no fork).
#
#   vs_opts SPEC ARG...
#       SPEC names the options and the variables they set, as words
#       "X:VAR" (e.g. "t:_mb_t g:_mb_gone"); the caller sets the
#       defaults before.  Every leading ARG that is one of SPEC's -X sets
#       VAR to the ARG after it; the first other ARG ends the options.
#       The rest is left in the array VS_ARGS.  An
#       option without its value: a "# ..." line on stderr, return 2.

[ -z "${_VS_OPTS_SH:-}" ] || return 0
_VS_OPTS_SH=1

vs_opts() {
	local spec=" $1 " var
	shift
	while [[ ${1:-} == -? && $spec == *" ${1#-}:"* ]]; do
		[ $# -ge 2 ] || { echo "# ${FUNCNAME[1]}: $1 needs a value" >&2; return 2; }
		var=${spec#*" ${1#-}:"}
		printf -v "${var%% *}" '%s' "$2"
		shift 2
	done
	# shellcheck disable=SC2034 # for the caller
	VS_ARGS=("$@")
}
