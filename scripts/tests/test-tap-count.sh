#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP tests of the runner's accounting: scripts/tap-count on sample suite
# logs (plans at the start or the end, several documents in one log,
# skips with and without reasons, broken plans) and .ci/check-skips on a
# sample scripts/check output and allowlist.
#
#   scripts/tests/test-tap-count.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
top=$PWD
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh
tap_tmpdir && tmp=$TAP_TMPDIR

# expect NAME WANT: tap-count on stdin must print WANT exactly.
expect() {
	local got
	cat > "$tmp/log"
	got=$("$top/scripts/tap-count" "$tmp/log" 2>&1)
	if [ "$got" = "$2" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		diff <(echo "$2") <(echo "$got") | tap_diag
	fi
}

expect "plan first, all pass" "passed 3
failed 0
skipped 0" <<'LOG'
1..3
ok 1 - a
ok 2 - b
# a comment
ok 3 - c
LOG

expect "plan last, unnumbered results" "passed 2
failed 1
skipped 0" <<'LOG'
ok - a
not ok - b
ok - c
1..3
LOG

expect "two kselftest binaries, skip with its reason" "passed 3
failed 1
skipped 1
skip global.bound # no device bound" <<'LOG'
TAP version 13
1..2
# Starting 2 tests from 1 test cases.
ok 1 global.probe
ok 2 global.bound # SKIP no device bound
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
TAP version 13
1..3
ok 1 predict.a
not ok 2 predict.b
ok 3 predict.c
LOG

expect "more results than the plan (1..3 with 4)" "passed 4
failed 1
skipped 0
error plan 1..3 but 4 results (line 1)" <<'LOG'
1..3
ok 1 - a
ok 2 - b
ok 3 - c
ok 4 - d
LOG

expect "fewer results than a trailing plan" "passed 2
failed 1
skipped 0
error plan 1..3 but 2 results (line 1, plan at line 3)" <<'LOG'
ok 1 - a
ok 2 - b
1..3
LOG

expect "results without a plan" "passed 2
failed 1
skipped 0
error 2 results without a plan (line 1)" <<'LOG'
ok 1 - a
ok 2 - b
LOG

expect "sub-suites: plan first, skip-all, plan last" "passed 4
failed 0
skipped 1
skip (all) # no vdpa modules" <<'LOG'
# suite loopback
1..2
ok 1 - a
ok 2 - b
# suite fuzz
1..0 # SKIP no vdpa modules
# suite nested
ok 1 - c
ok 2 - d
1..2
LOG

expect "1..0 without a reason is an error" "passed 0
failed 1
skipped 0
error plan 1..0 without a SKIP reason (line 1)" <<'LOG'
1..0
LOG

expect "a skip without a reason says so" "passed 0
failed 0
skipped 1
skip a # (no reason given)" <<'LOG'
1..1
ok 1 - a # skip
LOG

expect "numbers out of sequence" "passed 3
failed 1
skipped 0
error result 2 out of sequence, expected 3 (line 4)" <<'LOG'
1..3
ok 1 - a
ok 2 - b
ok 2 - b again
LOG

expect "Bail out! fails" "passed 1
failed 1
skipped 0
error bail out: Bail out! insmod failed" <<'LOG'
1..1
ok 1 - a
Bail out! insmod failed
LOG

expect "not ok # TODO is still a failure" "passed 0
failed 1
skipped 0" <<'LOG'
1..1
not ok 1 - a # TODO later
LOG

expect "indented subtests and CRLF lines" "passed 1
failed 0
skipped 0" <<LOG
1..1$(printf '\r')
    not ok 1 - inner
    1..1
ok 1 - outer$(printf '\r')
LOG

expect "no TAP at all" "passed 0
failed 0
skipped 0" <<'LOG'
make: Nothing to be done.
LOG

# .ci/check-skips: skips of a scripts/check output against an allowlist.
cat > "$tmp/allowed" <<'ALLOW'
# comment
host: fuzz/*  # no vhost_vdpa on this kind of host
vm-6.*-guest: global.oom  # the host has no swap
ALLOW
cat > "$tmp/out" <<'OUT'
# skipped: host: fuzz/populate # no /dev/vhost-vdpa-0
# skipped: vm-6.12-guest: global.oom # no swap
# skipped: vm-6.1-guest: global.bound # no device bound to vshape_guest
ok - x (1 passed, 0 skipped, 1s)
OUT
got=$(.ci/check-skips "$tmp/out" "$tmp/allowed" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [ "$got" = "# skip not in .ci/allowed-skips: vm-6.1-guest: global.bound # no device bound to vshape_guest" ]; then
	tap_ok "check-skips fails on the one unlisted skip"
else
	tap_not_ok "check-skips fails on the one unlisted skip (rc $rc)"
	tap_diag <<<"$got"
fi

echo 'host: fuzz/*' > "$tmp/noreason"
got=$(.ci/check-skips "$tmp/out" "$tmp/noreason" 2>&1)
rc=$?
if [ "$rc" = 2 ] && grep -q 'no reason' <<<"$got"; then
	tap_ok "check-skips rejects an allowlist entry without a reason"
else
	tap_not_ok "check-skips rejects an allowlist entry without a reason (rc $rc)"
	tap_diag <<<"$got"
fi

grep -v '^# skipped' "$tmp/out" > "$tmp/clean"
.ci/check-skips "$tmp/clean" "$tmp/allowed" > /dev/null 2>&1
rc=$?
tap_rc "$rc" "check-skips passes without skips (rc $rc)"
tap_done
