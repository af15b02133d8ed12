# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The shell library of vshape's suites and benchmarks: source this file
# (or one part) from any suite, guest script or bench script:
#
#   . "$(dirname "$0")/../lib/lib.sh"       # from selftests/guest, selftests/host
#
#   tap.sh      TAP results, plan, skips with reasons, tap_import, tap_done
#   wait.sh     wait_for (re-runs its command), vs_snooze, file_is
#   opts.sh     the functions' leading -X VALUE options (vs_opts)
#   mailbox.sh  host<->guest request/answer files (mb_serve, mb_ask)
#   module.sh   load a module and wait until its driver binds
#   klog.sh     fail on WARN/BUG/Oops/lockdep/KASAN/hung task/Call Trace
#
# Every part documents its functions in its header; docs/testing.md has
# the overview; selftests/lib/test-lib.sh tests them.  Sourcing sets no
# shell options and runs nothing.

_vs_lib=${BASH_SOURCE[0]%/*}
# shellcheck source=selftests/lib/tap.sh
. "$_vs_lib/tap.sh"
# shellcheck source=selftests/lib/wait.sh
. "$_vs_lib/wait.sh"
# shellcheck source=selftests/lib/opts.sh
. "$_vs_lib/opts.sh"
# shellcheck source=selftests/lib/mailbox.sh
. "$_vs_lib/mailbox.sh"
# shellcheck source=selftests/lib/module.sh
. "$_vs_lib/module.sh"
# shellcheck source=selftests/lib/klog.sh
. "$_vs_lib/klog.sh"
