#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP tests of scripts/check's own accounting (scripts/check-suite.sh):
# fake suites that pass, fail, lie (all ok but a failing exit status),
# skip, print no TAP, time out; a missing kernel; the skip allowlist.
#
#   scripts/tests/test-check-suite.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
top=$PWD
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh
tap_tmpdir && tmp=$TAP_TMPDIR

# fresh: reset the runner's state as scripts/check sets it up.
fresh() {
	logdir=$tmp/check only='*' SERIES="6.1 6.12"
	rm -rf "$logdir"
	mkdir -p "$logdir"
	passed=0 failed=0 skipped=0 matched=0
	declare -gA kver=([6.1]=6.1.0-test [6.12]=6.12.0-test)
}

# is NAME WANT-P WANT-F WANT-S: the totals after the suites just run.
is() {
	if [ "$passed $failed $skipped" = "$2 $3 $4" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1 (got $passed passed, $failed failed, $skipped skipped; want $2 $3 $4)"
		tap_diag < "$tmp/out"
	fi
}

# case_is NAME WANT-P WANT-F WANT-S SUITE-ARGS...: one suite on a fresh
# runner, then its totals.
case_is() {
	fresh
	suite "${@:5}" > "$tmp/out"
	is "$@"
}

# shellcheck source=scripts/check-suite.sh
. scripts/check-suite.sh

case_is "a TAP suite whose results pass passes" 2 0 0 \
	--tap t 10 printf '1..2\nok 1 - a\nok 2 - b\n'

case_is "a failing TAP result fails the suite" 1 1 0 \
	--tap t 10 printf '1..2\nok 1 - a\nnot ok 2 - b\n'

case_is "all ok with a failing exit status fails" 1 1 0 \
	--tap t 10 sh -c 'printf "1..1\nok 1 - a\n"; exit 3'

case_is "a TAP suite with no TAP fails" 0 1 0 \
	--tap t 10 sh -c 'echo no tap here; exit 0'

case_is "a plan that does not match the results fails" 2 1 0 \
	--tap t 10 printf '1..3\nok 1 - a\nok 2 - b\n'

case_is "a suite that times out fails" 0 1 0 \
	--tap t 1 sh -c 'echo 1..1; sleep 5; echo ok 1 - late'
tap_check "the timeout is reported" grep -q 'timed out after 1s' "$tmp/out"

fresh
suite t 10 true > "$tmp/out"
suite u 10 false >> "$tmp/out"
is "a suite without TAP counts once by its exit status" 1 1 0

fresh
suite --tap t 10 sh -c 'printf "1..2\nok 1 - a\nok 2 - b # SKIP no /dev/thing\n"; exit 4' > "$tmp/out"
: > "$tmp/allowed"
skips_gate "$tmp/allowed" >> "$tmp/out"
is "an unlisted skip is a failure" 1 1 0

fresh
suite --tap t 10 sh -c 'printf "1..2\nok 1 - a\nok 2 - b # SKIP no /dev/thing\n"; exit 4' > "$tmp/out"
echo 't: b  # the host has no /dev/thing' > "$tmp/allowed"
skips_gate "$tmp/allowed" >> "$tmp/out"
is "a listed skip stays a skip" 1 0 1

fresh
echo '*: *  # everything' > "$tmp/allowed"
skips_gate "$tmp/allowed" > "$tmp/out" 2>&1
is "an allowlist that allows everything is refused" 0 1 0

fresh
kver[6.1]=''
per_kernel vm- -x --tap 10 printf '1..1\nok 1 - @K@\n' > "$tmp/out"
is "a missing kernel fails its suite, the other runs" 1 1 0
tap_check "@K@ is the kernel version" grep -q '^# vm-6.12-x: ok 1 - 6.12.0-test' "$tmp/out"

fresh
suite --tap --bg b1 10 sh -c 'sleep 1; printf "1..2\nok 1 - late\nnot ok 2 - late\n"' > "$tmp/out"
suite --tap --bg b2 10 printf '1..1\nok 1 - early\n' >> "$tmp/out"
suite --tap f 10 printf '1..1\nok 1 - fore\n' >> "$tmp/out"
is "background suites are not counted before suites_join" 1 0 0
suites_join >> "$tmp/out"
is "suites_join waits for and counts each background suite" 3 1 0
order=$(sed -nE 's/^(not )?ok - ([^ ]+) .*/\2/p' "$tmp/out" | tr '\n' ' ')
tap_check "background suites are reported after the others, in start order" \
	test "$order" = "f b1 b2 "

# The lanes checked by order, not by time (a wall-clock bound failed
# under load): s1 waits up to 20 s for the foreground suite's mark, so it
# passes only if the foreground ran while the lane was busy; s2 passes
# only if s1 had ended when it started.
fresh
# shellcheck disable=SC2016 # $0 is the child shell's: the log directory
{
	suite --bg s1 30 sh -c 'i=0; while [ ! -e "$0/f.ran" ] && [ $i -lt 200 ]; do
		sleep 0.1; i=$((i + 1)); done; test -e "$0/f.ran"' "$logdir"
	suite --bg s2 10 sh -c 'test -f "$0/s1.log.rc"' "$logdir"
	suite f 10 sh -c 'touch "$0/f.ran"' "$logdir"
	suites_join
} > "$tmp/out"
tap_check "the foreground runs beside the background lane (the lane's first suite saw it run)" \
	grep -q '^ok - s1 ' "$tmp/out"
tap_check "background suites run one after another (the second after the first ended)" \
	grep -q '^ok - s2 ' "$tmp/out"
is "... and all three pass" 3 0 0

fresh
suite --tap --bg b 1 sh -c 'echo 1..1; sleep 5; echo ok 1 - late' > "$tmp/out"
suites_join >> "$tmp/out"
is "a background suite that times out fails" 0 1 0
tap_check "its timeout is reported" grep -q '^# b: timed out after 1s' "$tmp/out"

fresh
only='nomatch*'
suite t 10 true > "$tmp/out"
is "a suite that does not match the pattern does not run" 0 0 0

tap_done
