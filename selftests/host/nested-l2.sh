#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested test, L2 side: a command agent started by nested-l1.sh (and by
# bench/shaping/nested-l1.sh, scripts/demo-shaping-l1.sh) inside L1.  L1
# and L2 share the L2 run directory (L1's $l2run, L2's /run/vshape, 9p
# without caching) as a mailbox (selftests/lib/mailbox.sh): each request
# is a bash snippet, which the agent runs in a subshell that has the
# helpers below; its output and status are the answer.  "quit" ends the
# agent.  So L1 runs the whole test and measures its own Shmem between
# L2 steps; L2 only does what it is told.
#
# Helpers for the snippets (the vshape_guest device is found by gdev):
#   gdev                 S=/sys/bus/virtio/devices/virtioN, D=debugfs dir
#   gst KEY              a value of $D/state
#   knob NAME [VALUE]    read or write $S/vshape/NAME
#   wait_for SECS CMD..  poll CMD every 0.1 s (selftests/lib/wait.sh)
#   mod_load_bind KO DRIVER [PARAM...], mod_bound DRIVER
#                        load a driver, wait until it binds
#                        (selftests/lib/module.sh)
#   req ARGS             raw shaping request through $SH/request (gdev:
#                        $D/shaping); sets status, granted, capacity
#   ltdev                the test driver vshape_looptest's files instead
#                        (selftests/host/looptest): SH=its shaping test
#                        mode, H=its hostile mode
set -uo pipefail
R=${VSHAPE_RUNDIR:-/run/vshape}
# L2 runs under KVM inside a TCG L1, where every fork and exec costs
# seconds of L1 time: the helpers use bash builtins only (the library's
# waits sleep on a FIFO instead of running sleep(1)).
# shellcheck source=selftests/lib/mailbox.sh
. "$(dirname "$0")/../lib/mailbox.sh"
# shellcheck source=selftests/lib/module.sh
. "$(dirname "$0")/../lib/module.sh"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
gdev() {
	local d
	S=
	for d in /sys/bus/virtio/drivers/vshape_guest/virtio*; do
		[ -e "$d" ] && S=/sys/bus/virtio/devices/${d##*/} && break
	done
	[ -n "$S" ] || return 1
	D=/sys/kernel/debug/vshape_guest/${S##*/}
	SH=$D/shaping
	[ -d "$D" ]
}
ltdev() {
	local d
	SH='' H=/sys/kernel/debug/vshape_looptest/hostile
	for d in /sys/kernel/debug/vshape_shaping-virtio*; do
		[ -e "$d/request" ] && SH=$d && break
	done
	[ -n "$SH" ] && [ -e "$H" ]
}
gst() {
	local k v
	while read -r k v; do
		[ "$k" = "$1:" ] && { echo "$v"; return 0; }
	done < "$D/state"
}
knob() {
	local v
	if [ $# -gt 1 ]; then echo "$2" > "$S/vshape/$1"; else read -r v < "$S/vshape/$1"; echo "$v"; fi
}
# shellcheck disable=SC2034 # status, granted, capacity: read by the snippets L1 sends
req() {
	local last
	status=x granted=x capacity=x
	# a refused write leaves "last" as the previous request's answer:
	# status stays x rather than a stale value
	echo "req $*" > "$SH/request" 2>/dev/null || return 0
	read -r last < "$SH/last"
	[[ $last =~ status=([0-9]+) ]] && status=${BASH_REMATCH[1]}
	[[ $last =~ granted=([0-9]+) ]] && granted=${BASH_REMATCH[1]}
	[[ $last =~ capacity=([0-9]+) ]] && capacity=${BASH_REMATCH[1]}
}

# run_snippet REQ-FILE: the request is a bash snippet
# shellcheck disable=SC1090 # the snippet L1 sent
run_snippet() { ( . "$1" ); }

echo "L2: agent up on $(uname -r)"
mb_serve "$R" run_snippet "kernel=$(uname -r)"
echo "L2: agent done"
