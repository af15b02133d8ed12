#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested test, L2 side (started by nested-l1.sh inside L1).  Drives the
# shaping queue through vshape_looptest's debugfs test mode and paces
# itself on the ledger's free bytes, which L1 sets through sysfs and the
# device reports in every response ("capacity"): L1 moves to the next
# phase only after it has measured its Shmem.
#
# Prints "L2: ok - ..." / "L2: not ok - ..." lines; nested-l1.sh turns
# them into TAP.
set -uo pipefail
MiB=$((1 << 20))
say() { echo "L2: $*"; }
mount -t debugfs none /sys/kernel/debug 2>/dev/null
insmod "$VSHAPE_LOOPTEST_KO" || { say "not ok - vshape_looptest loads"; exit 1; }
D=
for _ in $(seq 100); do
	D=$(ls -d /sys/kernel/debug/vshape_shaping-virtio* 2>/dev/null | head -n1)
	[ -n "$D" ] && break
	sleep 0.1
done
[ -n "$D" ] || { say "not ok - shaping debugfs (VSHAPE negotiated through vhost-vdpa)"; exit 1; }
say "ok - L2 driver negotiated VSHAPE through vhost-vdpa-device-pci"

req() {
	status=x granted=x capacity=x
	echo "req $*" > "$D/request" 2>/dev/null
	local last
	last=$(cat "$D/last")
	status=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' <<<"$last")
	granted=$(sed -n 's/.*granted=\([0-9]*\).*/\1/p' <<<"$last")
	capacity=$(sed -n 's/.*capacity=\([0-9]*\).*/\1/p' <<<"$last")
}
expect() { # expect desc status [granted]
	if [ "$status" = "$2" ] && { [ -z "${3:-}" ] || [ "$granted" = "$3" ]; }; then
		say "ok - $1"
	else
		say "not ok - $1 (status=$status granted=$granted)"
	fi
}

echo "alloc 258" > "$D/request"
[ "$(wc -l < "$D/blocks")" = 129 ] || { say "not ok - allocate 258 MiB (zeroed) in L2"; exit 1; }
say "ok - 256 MiB of zeroed 2 MiB blocks held in L2 (plus a marker block)"
marker=$(printf '0x%x:4096' "$(awk '$1==128{print $2}' "$D/blocks")")

# ready: inflate the marker page; then wait for L1 to set free = $1
wait_free() {
	local i
	for i in $(seq 1200); do
		req inflate "$marker"
		[ "$capacity" = "$1" ] && return 0
		sleep 0.5
	done
	say "not ok - L1 never moved the ledger to $1 (last $capacity)"
	return 1
}
req inflate "$marker"
wait_free $((512 * MiB + 4096)) || exit 1
req inflate b0-127
expect "INFLATE 256 MiB (128 extents of 2 MiB)" 0 $((256 * MiB))
wait_free $((512 * MiB + 8192)) || exit 1
req commit b0-63
expect "COMMIT 128 MiB" 0 $((128 * MiB))
wait_free 0 || exit 1
req reserve b64-95
expect "RESERVE 64 MiB with the ledger full: REFUSED_CAPACITY" 2 0

bad=0
b0=$(awk '$1==0{print $2}' "$D/blocks")
for args in "inflate 0x7f0000000000:4096" "inflate 0xfee00000:4096" \
	"inflate 0xfffc0000:4096" "inflate 0x0:0x80000000" \
	"inflate $(printf '0x%x' $((b0 + 2048))):4096" \
	"inflate $(printf '0x%x' "$b0"):8192 $(printf '0x%x' $((b0 + 4096))):4096" \
	"inflate nr=300 b0" "9 b0" "inflate rsv=7 b0" "inflate short=24 b0" \
	"commit 0x1000000:4096"; do
	req $args
	[ "$status" = 3 ] || { bad=$((bad + 1)); say "# not INVALID: $args (status=$status)"; }
done
[ $bad = 0 ] && say "ok - 11 malformed requests (outside RAM, MMIO, ROM, oversized, unaligned, overlapping, bad nr/op/reserved, truncated, not in balloon) INVALID" ||
	say "not ok - malformed requests INVALID ($bad were not)"

req deflate b0-128
expect "DEFLATE everything back: device healthy after bad input" 0 $((258 * MiB))
echo free > "$D/request"
rmmod vshape_looptest && say "ok - L2 driver unloads" || say "not ok - L2 driver unloads"

# The host's target through the config-change interrupt: L1 writes
# target_pages once it sees the in-tree balloon's features.
modprobe virtio_balloon
got=0
for _ in $(seq 360); do
	got=$(awk '/^balloon_inflate /{print $2}' /proc/vmstat)
	[ "${got:-0}" -ge 16384 ] && break
	sleep 0.5
done
if [ "${got:-0}" -ge 16384 ]; then
	say "ok - in-tree virtio_balloon followed a new host target (config interrupt via vhost-vdpa-device-pci)"
else
	say "not ok - in-tree virtio_balloon followed a new host target (balloon_inflate=${got:-?})"
fi
say "done"
