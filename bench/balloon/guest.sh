#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of bench/balloon/bench.py (not run by hand).  Answers the
# host's requests through the shared results directory $VSHAPE_MAILBOX,
# like selftests/guest/qmp-guest.sh:
#
#   host writes req.N (one line), guest writes resp.N (key=value lines)
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
box=${VSHAPE_MAILBOX:?}
ko=${VSHAPE_KO:?}
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
tr=/sys/kernel/tracing
driver=

bound() {	# bound DRIVER: wait until DRIVER holds a virtio device
	local i d
	for i in $(seq 100); do
		d=$(ls -d /sys/bus/virtio/drivers/"$1"/virtio* 2>/dev/null | head -n1)
		[ -n "$d" ] && { echo "dev=$(basename "$d")"; return 0; }
		sleep 0.1
	done
	echo "error=$1 did not bind"
	return 1
}

load() {
	case $1 in
	inbox) modprobe virtio_balloon || { echo "error=modprobe failed"; return 1; }
		driver=virtio_balloon ;;
	vshape) insmod "$ko" || { echo "error=insmod failed"; return 1; }
		driver=vshape_guest
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
	bound "$driver"
}

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

state() {
	echo "driver=$driver"
	awk '/^(MemFree|MemTotal):/ { sub(":", "", $1); print $1 "_kb=" $2 }' /proc/meminfo
	echo "kernel=$(uname -r)"
}

echo "kernel=$(uname -r)" > "$box/ready"
n=0
while :; do
	n=$((n + 1))
	while [ ! -f "$box/req.$n" ]; do sleep 0.2; done
	read -r req arg < "$box/req.$n"
	case $req in
	load) load "$arg" > "$box/resp.$n.tmp" 2>&1 ;;
	unload) unload > "$box/resp.$n.tmp" 2>&1 ;;
	trace) trace > "$box/resp.$n.tmp" 2>&1 ;;
	state) state > "$box/resp.$n.tmp" 2>&1 ;;
	quit) echo bye > "$box/resp.$n.tmp"; mv "$box/resp.$n.tmp" "$box/resp.$n"; break ;;
	*) echo "error=unknown request $req" > "$box/resp.$n.tmp" ;;
	esac
	mv "$box/resp.$n.tmp" "$box/resp.$n"
done
dmesg | grep -E 'virtio_balloon|vshape|Killed process|BUG|WARNING' | sed 's/^/# dmesg: /'
exit 0
