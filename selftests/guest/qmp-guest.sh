#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of qmp-host.sh.  Loads vshape_guest, makes the guest's RAM
# resident on the host, then answers the host's requests through the
# shared results directory $VSHAPE_MAILBOX:
#
#   host writes req.N (one word), guest writes resp.N (key=value lines)
#
# Requests: state (balloon and memory numbers), alloc (touch 32 MiB in a
# child and report whether it lived), quit.
set -uo pipefail
cd "$(dirname "$0")"
box=${VSHAPE_MAILBOX:?}
insmod "$VSHAPE_KO" || exit 1
mount -t debugfs none /sys/kernel/debug 2>/dev/null
for _ in $(seq 100); do
	dev=$(ls -d /sys/bus/virtio/drivers/vshape_guest/virtio* 2>/dev/null | head -n1)
	[ -n "$dev" ] && break
	sleep 0.1
done
[ -n "$dev" ] || { echo "# vshape_guest did not bind"; exit 1; }
name=$(basename "$dev")

# Fault in all but ~160 MiB, so that the host sees the RAM as resident.
free_mb=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)
./memtouch $((free_mb - 160))

state() {
	echo "actual_kb=$(cat "$dev/vshape/actual_kb")"
	echo "host_target_kb=$(cat "$dev/vshape/host_target_kb")"
	echo "floor_kb=$(cat "$dev/vshape/floor_kb")"
	awk '/^(MemFree|MemTotal):/ { sub(":", "", $1); print $1 "_kb=" $2 }' /proc/meminfo
	awk -F': ' '{ print $1 "=" $2 }' "/sys/kernel/debug/vshape_guest/$name/state"
	echo "oom_kills=$(dmesg | grep -c 'Killed process')"
}

echo ready > "$box/ready"
n=0
while :; do
	n=$((n + 1))
	while [ ! -f "$box/req.$n" ]; do sleep 0.2; done
	req=$(cat "$box/req.$n")
	case $req in
	state) state > "$box/resp.$n.tmp" ;;
	alloc)
		./memtouch 32
		echo "alloc_status=$?" > "$box/resp.$n.tmp"
		state >> "$box/resp.$n.tmp" ;;
	quit) echo bye > "$box/resp.$n.tmp"; mv "$box/resp.$n.tmp" "$box/resp.$n"; break ;;
	*) echo "error=unknown request" > "$box/resp.$n.tmp" ;;
	esac
	mv "$box/resp.$n.tmp" "$box/resp.$n"
done
dmesg | grep -E 'vshape|Killed process|BUG|WARNING' | sed 's/^/# dmesg: /'
exit 0
