#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of bench/balloon/bench.py (not run by hand).  Answers the
# host's requests through the mailbox $VSHAPE_MAILBOX (the protocol of
# selftests/lib/mailbox.sh: req.N, resp.N key=value lines, st.N):
#
# Requests:
#   load inbox     modprobe Debian's virtio_balloon, wait until it binds
#   load vshape    insmod $VSHAPE_KO, wait until it binds
#   unload         remove whichever balloon driver is loaded
#   trace          vshape tracepoints since the last `trace`: passes and
#                  the sum of their latencies (the guest's own view)
#   state          MemTotal/MemFree and which driver is bound
#   quit
set -uo pipefail
# shellcheck source=selftests/lib/lib.sh
. "$(dirname "$0")/../../selftests/lib/lib.sh"
box=${VSHAPE_MAILBOX:?}
ko=${VSHAPE_KO:?}
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
tr=/sys/kernel/tracing
driver=

# shellcheck disable=SC2317 # run by handle()
load() {
	local why
	case $1 in
	inbox) driver=virtio_balloon
		why=$(mod_load_bind virtio_balloon virtio_balloon) ||
			{ echo "error=${why#\# }"; return 1; } ;;
	vshape) driver=vshape_guest
		why=$(mod_load_bind "$ko" vshape_guest) ||
			{ echo "error=${why#\# }"; return 1; }
		if [ -d "$tr/events/vshape" ]; then
			echo 0 > "$tr/tracing_on"
			echo 1 > "$tr/events/vshape/vshape_inflate/enable"
			echo 1 > "$tr/events/vshape/vshape_deflate/enable"
			echo 16384 > "$tr/buffer_size_kb"
			: > "$tr/trace"
			echo 1 > "$tr/tracing_on"
		fi ;;
	*) echo "error=unknown driver $1"; return 1 ;;
	esac
	mod_bound "$driver"
	echo "dev=$MOD_DEV"
}

# shellcheck disable=SC2317 # run by handle()
unload() {
	[ -n "$driver" ] || { echo "error=nothing loaded"; return 1; }
	if [ "$driver" = vshape_guest ] && [ -d "$tr/events/vshape" ]; then
		echo 0 > "$tr/events/vshape/enable"
	fi
	rmmod "$driver" || { echo "error=rmmod $driver failed"; return 1; }
	echo "unloaded=$driver"
	driver=
}

# Sum of the vshape passes' latencies since the last call, per event
# (%.0f: mawk's %d stops at 2^31).
# shellcheck disable=SC2317 # run by handle()
trace() {
	[ -r "$tr/trace" ] || { echo "trace=unavailable"; return 0; }
	awk '/vshape_(inflate|deflate):/ {
		ev = $0; sub(/.*vshape_/, "", ev); sub(/:.*/, "", ev)
		lat = $0; sub(/.*latency=/, "", lat); sub(/ ns.*/, "", lat)
		d = $0; sub(/.* done=/, "", d); sub(/ .*/, "", d)
		n[ev]++; s[ev] += lat; p[ev] += d
	} END {
		for (e in n) printf "%s_passes=%d\n%s_latency_ns=%.0f\n%s_pages=%.0f\n", e, n[e], e, s[e], e, p[e]
	}' "$tr/trace"
	: > "$tr/trace"
}

# shellcheck disable=SC2317 # run by handle()
state() {
	echo "driver=$driver"
	awk '/^(MemFree|MemTotal):/ { sub(":", "", $1); print $1 "_kb=" $2 }' /proc/meminfo
	echo "kernel=$(uname -r)"
}

# shellcheck disable=SC2317 # run by mb_serve below
handle() {
	local req arg
	read -r req arg < "$1"
	case $req in
	load) load "$arg" ;;
	unload) unload ;;
	trace) trace ;;
	state) state ;;
	dmesg) dmesg ;;
	*) echo "error=unknown request $req"; return 1 ;;
	esac
}

mb_serve "$box" handle "kernel=$(uname -r)"
exit 0
