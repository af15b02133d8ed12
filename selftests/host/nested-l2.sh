#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested test, L2 side: a command agent started by nested-l1.sh (and by
# bench/shaping/nested-l1.sh) inside L1.  L1 and L2 share the L2 run
# directory (L1's $l2run, L2's /run/vshape, 9p without caching): L1
# writes a bash snippet to req.N, the agent runs it (in a subshell that
# has the helpers below) and writes its output to out.N and its status
# to st.N.  A snippet "exit" (req.N holding only that word) ends the
# agent.  So L1 runs the whole test and measures its own Shmem between
# L2 steps; L2 only does what it is told.
#
# Helpers for the snippets (the vshape_guest device is found by gdev):
#   gdev                 S=/sys/bus/virtio/devices/virtioN, D=debugfs dir
#   gst KEY              a value of $D/state
#   knob NAME [VALUE]    read or write $S/vshape/NAME
#   wait_for SECS CMD..  poll CMD every 0.1 s
#   req ARGS             raw shaping request through $D/shaping/request;
#                        sets status, granted, capacity
set -uo pipefail
R=${VSHAPE_RUNDIR:-/run/vshape}
mount -t debugfs none /sys/kernel/debug 2>/dev/null

# L2 runs under KVM inside a TCG L1, where every fork and exec costs
# seconds of L1 time: the helpers use bash builtins only, and snooze
# waits on a FIFO that never gets data instead of running sleep(1).
mkfifo /tmp/snooze.fifo 2>/dev/null
exec 9<> /tmp/snooze.fifo || { echo "L2: no snooze fifo" >&2; exit 1; }
snooze() { read -rt "$1" -u 9 || :; }
gdev() {
	local d
	S=
	for d in /sys/bus/virtio/drivers/vshape_guest/virtio*; do
		[ -e "$d" ] && S=/sys/bus/virtio/devices/${d##*/} && break
	done
	[ -n "$S" ] || return 1
	D=/sys/kernel/debug/vshape_guest/${S##*/}
	[ -d "$D" ]
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
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 10; i++)); do "$@" && return 0; snooze 0.1; done
	return 1
}
req() {
	local last
	status=x granted=x capacity=x
	echo "req $*" > "$D/shaping/request" 2>/dev/null
	read -r last < "$D/shaping/last"
	[[ $last =~ status=([0-9]+) ]] && status=${BASH_REMATCH[1]}
	[[ $last =~ granted=([0-9]+) ]] && granted=${BASH_REMATCH[1]}
	[[ $last =~ capacity=([0-9]+) ]] && capacity=${BASH_REMATCH[1]}
}

echo "L2: agent up on $(uname -r)"
touch "$R/ready"
i=1
while :; do
	if [ -f "$R/req.$i" ]; then
		read -r line < "$R/req.$i"
		[ "$line" = exit ] && break
		( . "$R/req.$i" ) > "$R/out.$i" 2>&1
		echo $? > "$R/st.$i"	# L1 waits until it is not empty
		i=$((i + 1))
	else
		snooze 0.05
	fi
done
echo "L2: agent done after $((i - 1)) requests"
