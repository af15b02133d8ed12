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
#   touch600       touch 600 MiB in a child, free it; touch_status= and the state
#   reporting_on   reload the module with page_reporting=1 (reporting_off: 0);
#                  reload_status= and the state
#   quit
# $VSHAPE_KO_ARGS are the module's parameters at the first load.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=selftests/lib/lib.sh
. ../lib/lib.sh
box=${VSHAPE_MAILBOX:?}
mount -t debugfs none /sys/kernel/debug 2>/dev/null
# shellcheck disable=SC2086 # words: module parameters
if ! mod_load_bind "${VSHAPE_KO:?}" vshape_guest ${VSHAPE_KO_ARGS:-} > "$box/bind-error"; then
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
	echo "page_reporting=$(cat "$dev/vshape/page_reporting")"
	awk -F': ' '{ print "reporting_" $1 "=" $2 }' "/sys/kernel/debug/vshape_guest/$MOD_DEV/reporting"
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
	touch600)
		./memtouch 600
		echo "touch_status=$?"
		state ;;
	reporting_on | reporting_off)
		local pr=1
		[ "$req" = reporting_off ] && pr=0
		rmmod vshape_guest && mod_load_bind "$VSHAPE_KO" vshape_guest "page_reporting=$pr"
		echo "reload_status=$?"
		dev=/sys/bus/virtio/devices/$MOD_DEV
		state ;;
	*) echo "error=unknown request $req"; return 1 ;;
	esac
}

mb_serve "$box" handle
