#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loopback protocol test of vshape_host, run INSIDE a Linux 6.12 VM (see
# run.sh).  The vDPA device is bound to virtio_vdpa, so its driver is this
# same kernel: first the in-tree virtio_balloon (standard inflate/deflate
# queues), then vshape_looptest (shaping queue through guest/shaping.c and
# its debugfs test mode).  Addresses are this kernel's physical addresses;
# the device validates and accounts them but frees nothing (loopback is a
# protocol test, not a memory test: see docs/host.md).
#
#   VSHAPE_HOST_KO=... VSHAPE_LOOPTEST_KO=... selftests/host/loopback.sh
#
# TAP on stdout; exit 0 all passed, 1 some failed.  Everything it needs
# is the project's (the 6.12 kernel, the modules run.sh builds, iproute2's
# vdpa from scripts/setup): a missing one is a failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=selftests/lib/lib.sh
. ../lib/lib.sh

tap_plan 52
[ "$(uname -r | cut -d. -f1-2)" = 6.12 ] || tap_bail "needs Linux 6.12, running $(uname -r)"
[ -f "${VSHAPE_HOST_KO:-}" ] || tap_bail "VSHAPE_HOST_KO not set or missing"
[ -f "${VSHAPE_LOOPTEST_KO:-}" ] || tap_bail "VSHAPE_LOOPTEST_KO not set or missing"
command -v vdpa >/dev/null || tap_bail "vdpa tool (iproute2, scripts/setup) missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
tap_check "vdpa, virtio_vdpa and vhost_iotlb load" \
	bash -c 'modprobe vdpa && modprobe virtio_vdpa && modprobe vhost_iotlb' ||
	tap_bail "vdpa/virtio_vdpa modules missing"

LEDGER=/sys/kernel/vshape_host
HDBG=/sys/kernel/debug/vshape_host/vs0

tap_check "vshape_host loads" insmod "$VSHAPE_HOST_KO" ||
	tap_bail "vshape_host did not load"
tap_check "vdpa mgmtdev show lists vshape" bash -c 'vdpa mgmtdev show | grep -q "^vshape:"'

# The in-tree balloon first, for the standard queues.
tap_check "the in-tree virtio_balloon loads" modprobe virtio_balloon
tap_check "vdpa dev add mgmtdev vshape name vs0" vdpa dev add mgmtdev vshape name vs0
DEV=/sys/bus/vdpa/devices/vs0
[ -d $DEV ] || tap_bail "no vdpa device vs0"
SYS=$DEV/vshape
mod_wait_bound virtio_balloon
vdev=$DEV/$MOD_DEV
tap_check "virtio device id 0x0005 bound to virtio_balloon" \
	bash -c "[ -n \"$MOD_DEV\" ] && [ \"\$(cat $vdev/device)\" = 0x0005 ] && [ \"\$(basename \$(readlink $vdev/driver))\" = virtio_balloon ]"
tap_is "mode is loopback" "$(cat $SYS/mode)" loopback

echo 8192 > $SYS/target_pages
tap_check "target 8192 pages: config-change reaches the driver, 32 MiB inflated" \
	wait_for 30 file_is $SYS/inflated_bytes $((32 << 20))
tap_check "driver reports actual = 8192" wait_for 10 file_is $SYS/actual_pages 8192
echo 0 > $SYS/target_pages
tap_check "target 0: deflated back to 0" wait_for 30 file_is $SYS/inflated_bytes 0
# hstat KEY: the value of KEY in the host's debugfs stats
hstat() { awk -v k="$1" '$1 == k { print $2 }' "$HDBG/stats"; }
echo 1 > $HDBG/stats_request
# shellcheck disable=SC2016
tap_check "stats queue: buffers received" \
	wait_for 5 '[ "$(hstat stats_bufs)" -ge 2 ]'

# Now the shaping queue through the loopback test driver.
echo "$MOD_DEV" > /sys/bus/virtio/drivers/virtio_balloon/unbind
rmmod virtio_balloon
tap_check "vshape_looptest binds (VSHAPE negotiated, shaping queue 2)" insmod "$VSHAPE_LOOPTEST_KO"
D=/sys/kernel/debug/vshape_shaping-$MOD_DEV
# shellcheck disable=SC2016 # evaluated by wait_for at each try
wait_for 5 '[ -e "$D/request" ]' || tap_bail "no shaping test-mode file $D/request"
tap_check "driver reads limits: max_extents 256, min_align 4096" \
	bash -c "grep -qx 'max_extents 256' $D/limits && grep -qx 'min_align 4096' $D/limits"

echo 1 > /sys/kernel/tracing/events/vshape_host/enable 2>/dev/null
echo $((32 << 20)) > $LEDGER/capacity_bytes
echo "alloc 64" > $D/request
nblocks=$(wc -l < $D/blocks)
tap_check "test mode holds 32 blocks of 2 MiB" [ "$nblocks" = 32 ]

# req OP ARGS... -> sets $status $granted from the "last" file
req() {
	status=x granted=x
	if ! echo "req $*" > $D/request 2>/dev/null; then
		echo "# req $* failed: $(cat $D/last)"
		return 0
	fi
	local last
	last=$(cat $D/last)
	status=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' <<<"$last")
	granted=$(sed -n 's/.*granted=\([0-9]*\).*/\1/p' <<<"$last")
	[ -n "$status" ] || status=none
}
expect() { # expect "desc" status granted
	if [ "$status" = "$2" ] && { [ -z "${3:-}" ] || [ "$granted" = "$3" ]; }; then
		tap_ok "$1"
	else
		tap_not_ok "$1 (status=$status granted=$granted, wanted $2 ${3:-})"
	fi
}
MiB=$((1 << 20))

req inflate b0-31
expect "INFLATE 64 MiB (32 extents): DONE" 0 $((64 * MiB))
tap_check "host counts 64 MiB inflated" [ "$(cat $SYS/inflated_bytes)" = $((64 * MiB)) ]
req reserve b0-7
expect "RESERVE 16 MiB: DONE" 0 $((16 * MiB))
req commit b8-11
expect "COMMIT 8 MiB: DONE" 0 $((8 * MiB))
tap_check "ledger charged 24 MiB, committed 8 MiB" \
	bash -c "[ \$(cat $LEDGER/charged_bytes) = $((24 * MiB)) ] && [ \$(cat $SYS/committed_bytes) = $((8 * MiB)) ]"
# debugfs "extents": runs "<gpa> <bytes> <state>"; bytes per state
# shellcheck disable=SC2317 # run by ext_states
ext_bytes() {
	local len st n=0
	while read -r _ len st; do
		[ "$st" = "$1" ] && n=$((n + len))
	done < "$HDBG/extents"
	echo "$n"
}
# shellcheck disable=SC2317 # run by tap_check
ext_states() { # ext_states RESERVED COMMITTED INFLATED (bytes)
	[ "$(ext_bytes reserved)" = "$1" ] && [ "$(ext_bytes committed)" = "$2" ] &&
		[ "$(ext_bytes inflated)" = "$3" ]
}
tap_check "debugfs extents: 16 MiB reserved, 8 MiB committed, 40 MiB inflated" \
	ext_states $((16 * MiB)) $((8 * MiB)) $((40 * MiB))
tap_check "debugfs ledger: the device holds 24 MiB of charge" \
	grep -qx "device_charged_bytes $((24 * MiB))" "$HDBG/ledger"
req reserve b12-19
expect "RESERVE 16 MiB with 8 MiB left: PARTIAL, 8 MiB granted" 1 $((8 * MiB))
req reserve b20
expect "RESERVE beyond capacity: REFUSED_CAPACITY" 2 0
req release b0-7
expect "RELEASE 16 MiB: DONE, ledger down to 16 MiB" 0 $((16 * MiB))

# Malformed requests: each must be INVALID and change nothing.
inv0=$(hstat status_invalid)
charged0=$(cat $LEDGER/charged_bytes)
b0=$(awk '$1==0{print $2}' $D/blocks)
many=()
for i in $(seq 0 256); do many+=("$(printf '0x%x:4096' $((b0 + i * 4096)))"); done
bad=0 badn=0
tryinv() { # tryinv "desc" req-args...
	local d=$1; shift
	badn=$((badn + 1))
	req "$@"
	if [ "$status" = 3 ] && [ "$granted" = 0 ]; then :; else
		bad=$((bad + 1)); echo "# not INVALID: $d (status=$status granted=$granted)"; fi
}
tryinv "bad op"                9 b0
tryinv "op 0"                  0 b0
tryinv "nr_extents 0"          inflate nr=0 b0
tryinv "nr_extents > max (257 real extents)" inflate "${many[@]}"
tryinv "nr_extents 300, 1 extent present" inflate nr=300 b0
tryinv "unaligned gpa"         inflate "$(printf '0x%x' $((b0 + 0x800)))":4096
tryinv "unaligned len"         inflate "$(printf '0x%x' "$b0")":6144
tryinv "zero length"           inflate "$(printf '0x%x' "$b0")":0
tryinv "overlapping extents"   inflate "$(printf '0x%x' "$b0")":8192 "$(printf '0x%x' $((b0 + 4096)))":4096
tryinv "duplicate extent"      inflate b1 b1
tryinv "wrapping extent"       inflate 0xfffffffffffff000:0x2000
tryinv "gpa outside RAM"       inflate 0x7f0000000000:4096
tryinv "more than max_request_bytes" inflate "$(printf '0x%x' "$b0")":0x80000000
tryinv "reserved field set"    inflate rsv=1 b0
tryinv "truncated extent array" inflate short=20 b0
tryinv "RESERVE of pages not in the balloon" reserve 0x1000000:4096
tap_check "$badn malformed requests all INVALID" [ "$bad" = 0 ]
inv1=$(hstat status_invalid)
tap_check "host debugfs counts them (status_invalid +$badn)" [ $((inv1 - inv0)) = "$badn" ]
tap_check "malformed requests changed nothing in the ledger" [ "$(cat $LEDGER/charged_bytes)" = "$charged0" ]
echo "req inflate noresp b0" > $D/request
tap_check "request without a response buffer is returned empty" grep -q "used_len=0" $D/last

# tools/vshape-exporter (docs/host.md) with inflated, reserved, committed
# pages and refused, partial and invalid responses counted: its output
# parses strictly and every series is what sysfs and debugfs say.
prom=$(mktemp -d)
ip link set lo up 2>/dev/null
../../tools/vshape-exporter --listen 127.0.0.1:9567 & epid=$!
../../tools/vshape-exporter --textfile "$prom/vshape.prom"
tap_check "vshape-exporter --textfile and --listen: strict text format, every value as in sysfs/debugfs" \
	python3 ./check-exporter.py "$prom/vshape.prom" http://127.0.0.1:9567/metrics
kill $epid; wait $epid 2>/dev/null

req deflate b0-31
expect "DEFLATE 64 MiB: DONE, device healthy after bad input" 0 $((64 * MiB))
tap_check "all pages back to GUEST, ledger empty" \
	bash -c "[ \$(cat $SYS/inflated_bytes) = 0 ] && [ \$(cat $LEDGER/charged_bytes) = 0 ]"
tap_check "tracepoints fired" grep -q "vshape_host_request" /sys/kernel/tracing/trace
tap_check "debugfs extents empty" [ ! -s $HDBG/extents ]

# 4 KiB pieces of a 2 MiB block: the host's per-block state splits and
# merges again (docs/host.md).
b0=$(awk '$1 == 0 { print $2 }' $D/blocks)
req inflate b0
req deflate "$(printf %#x $((b0 + 4096))):4096"
expect "DEFLATE 4 KiB inside an inflated 2 MiB block: DONE" 0 4096
tap_check "debugfs extents: two inflated runs around the hole" \
	bash -c "[ \"\$(cat $HDBG/extents)\" = \"$(printf '%#x 0x1000 inflated\n%#x 0x1fe000 inflated' "$b0" $((b0 + 8192)))\" ]"
tap_check "host counts 2 MiB - 4 KiB inflated" [ "$(cat $SYS/inflated_bytes)" = $((2 * MiB - 4096)) ]
req reserve b0
expect "RESERVE of a block with a guest page: INVALID" 3
req inflate "$(printf %#x $((b0 + 4096))):4096"
tap_check "the hole refilled: one 2 MiB inflated run" \
	bash -c "[ \"\$(cat $HDBG/extents)\" = \"$(printf '%#x 0x200000 inflated' "$b0")\" ]"
req deflate b0
tap_check "deflated: extents empty, nothing inflated" \
	bash -c "[ ! -s $HDBG/extents ] && [ \$(cat $SYS/inflated_bytes) = 0 ]"
echo 0 > /sys/kernel/tracing/events/vshape_host/enable 2>/dev/null

# A hostile driver (issue 12 item 1): vshape_looptest's hostile mode posts
# on the standard inflate queue what docs/protocol.md caps (a standard
# buffer holds at most 16 KiB of PFNs; a larger one is returned with used
# length 0, untouched), and the shaping test mode storms COMMIT/RELEASE,
# while the host is probed: a sysfs read, `vdpa dev show` and a read of
# the host's debugfs stats (which takes the device lock) must each answer
# within 3 s of their slowest idle time (the fuzz suite's slack: TCG on
# a shared machine; the lock hold itself is checked against 1 s below).
H=/sys/kernel/debug/vshape_looptest/hostile
# shellcheck source=selftests/host/hostile-lib.sh
. ./hostile-lib.sh
probe_idle 5
hold_reset

big0=$(hstat big_buf) bad0=$(hstat bad_pfn) inf0=$(cat "$SYS/inflated_bytes")
echo huge > "$H" & hpid=$!
res=$(probe_while $hpid)
read -r n slow what <<<"$res"
wait $hpid
responsive "hostile inflate chain of 16 x 64 MiB over one 64 MiB buffer of 0xff bytes" "$n" "$slow" "$what"
last=$(cat "$H")
tap_check "... returned unprocessed: used_len 0, big_buf +$(($(hstat big_buf) - big0)) (want 1), bad_pfn +$(($(hstat bad_pfn) - bad0)) (want 0), nothing inflated (${last%$'\n'})" \
	test "$(grep -c ' rc=0 used_len=0 ' <<<"$last") $(($(hstat big_buf) - big0)) $(($(hstat bad_pfn) - bad0)) $(cat "$SYS/inflated_bytes")" = "1 1 0 $inf0"

punch0=$(hstat punched_bytes) pages0=$(hstat inflate_pages)
echo "repeat 1" > "$H"
inf1=$(cat "$SYS/inflated_bytes")
tap_check "inflate buffer repeating one valid PFN 4096 times: one page inflated (+$((inf1 - inf0)) bytes, 4096 PFNs counted: +$(($(hstat inflate_pages) - pages0))), punched_bytes +$(($(hstat punched_bytes) - punch0)) (loopback punches nothing)" \
	test "$((inf1 - inf0)) $(($(hstat inflate_pages) - pages0)) $(($(hstat punched_bytes) - punch0))" = "4096 4096 0"
big0=$(hstat big_buf)
echo "repeat 16" > "$H"
tap_check "inflate chain of 16 x 16 KiB repeating one valid PFN: returned unprocessed (big_buf +$(($(hstat big_buf) - big0)), inflated +$(($(cat "$SYS/inflated_bytes") - inf1)) bytes)" \
	test "$(($(hstat big_buf) - big0)) $(cat "$SYS/inflated_bytes")" = "1 $inf1"
echo deflate > "$H"
tap_check "hostile pages deflated: inflated back to $inf0 bytes" \
	test "$(cat "$SYS/inflated_bytes")" = "$inf0"

# COMMIT/RELEASE storm on the shaping queue: 16 x COMMIT + RELEASE of 32 MiB
req inflate b0-15
storm=$(mktemp)
s0=$(slices_read)
(
	for _ in $(seq 16); do
		req commit b0-15; echo "$status $granted"
		req release b0-15; echo "$status $granted"
	done > "$storm"
) & spid=$!
res=$(probe_while $spid)
read -r n slow what <<<"$res"
wait $spid
tap_check "storm: 16 x COMMIT + RELEASE of 32 MiB, $(grep -cx "0 $((32 * MiB))" "$storm")/32 DONE" \
	test "$(grep -cx "0 $((32 * MiB))" "$storm")" = 32
responsive "COMMIT/RELEASE storm" "$n" "$slow" "$what"
slices_check "storm" "$s0" 32
rm -f "$storm"
req deflate b0-15
hold_check "hostile mode and storm"

# Ledger held by a device is dropped on device removal (vdpa dev del with
# the driver still bound); unload is clean.
req inflate b0-3
req reserve b0-3
tap_check "before the removal: RESERVE 8 MiB DONE (status=$status granted=$granted), the ledger holds 8 MiB" \
	test "$status $granted $(cat $LEDGER/charged_bytes)" = "0 $((8 * MiB)) $((8 * MiB))"
echo free > $D/request
vdpa dev del vs0
tap_check "device removal drops its charge" [ "$(cat $LEDGER/charged_bytes)" = 0 ]
rmmod vshape_looptest
tap_check "vshape_host unloads" rmmod vshape_host
dmesg | grep -iE 'vshape' | tail -n 5 | tap_diag
klog_kmemleak
klog_check "loopback VM"
tap_done
