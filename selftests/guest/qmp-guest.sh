#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of qmp-host.sh.  Loads vshape_guest, makes the guest's RAM
# resident on the host, then answers the host's requests through the
# mailbox $VSHAPE_MAILBOX (selftests/lib/mailbox.sh):
#
#   state   balloon and memory numbers (key=value lines)
#   alloc   touch 32 MiB in a child; alloc_status= and the state
#   dmesg   the whole kernel ring buffer (the host checks it: klog.sh)
#   quit
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=selftests/lib/lib.sh
. ../lib/lib.sh
box=${VSHAPE_MAILBOX:?}
mount -t debugfs none /sys/kernel/debug 2>/dev/null
if ! mod_load_bind "${VSHAPE_KO:?}" vshape_guest > "$box/bind-error"; then
	cat "$box/bind-error"
	exit 1
fi
dev=/sys/bus/virtio/devices/$MOD_DEV

# Fault in all but ~160 MiB, so that the host sees the RAM as resident.
free_mb=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)
./memtouch $((free_mb - 160))

state() {
	echo "actual_kb=$(cat "$dev/vshape/actual_kb")"
	echo "host_target_kb=$(cat "$dev/vshape/host_target_kb")"
	echo "floor_kb=$(cat "$dev/vshape/floor_kb")"
	awk '/^(MemFree|MemTotal):/ { sub(":", "", $1); print $1 "_kb=" $2 }' /proc/meminfo
	awk -F': ' '{ print $1 "=" $2 }' "/sys/kernel/debug/vshape_guest/$MOD_DEV/state"
	echo "oom_kills=$(dmesg | grep -c 'Killed process')"
}

handle() {
	local req
	read -r req _ < "$1"
	case $req in
	state) state ;;
	alloc)
		./memtouch 32
		echo "alloc_status=$?"
		state ;;
	dmesg) dmesg ;;
	*) echo "error=unknown request $req"; return 1 ;;
	esac
}

mb_serve "$box" handle
