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
# TAP on stdout; exit 0 all passed, 1 some failed, 4 skipped.
set -uo pipefail

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check "description" command...
	local d=$1; shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 4; }
diag() { sed 's/^/# /'; }

[ "$(uname -r | cut -d. -f1-2)" = 6.12 ] || skip_all "needs Linux 6.12, running $(uname -r)"
[ -f "${VSHAPE_HOST_KO:-}" ] || skip_all "VSHAPE_HOST_KO not set or missing"
[ -f "${VSHAPE_LOOPTEST_KO:-}" ] || skip_all "VSHAPE_LOOPTEST_KO not set or missing"
command -v vdpa >/dev/null || skip_all "vdpa tool (iproute2) missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
modprobe vdpa && modprobe virtio_vdpa && modprobe vhost_iotlb || skip_all "vdpa/virtio_vdpa modules missing"

echo "1..30"
LEDGER=/sys/kernel/vshape_host
HDBG=/sys/kernel/debug/vshape_host/vs0

bail() { echo "Bail out! $*"; exit 1; }
check "vshape_host loads" insmod "$VSHAPE_HOST_KO" || true
lsmod | grep -q '^vshape_host' || bail "vshape_host did not load"
check "vdpa mgmtdev show lists vshape" bash -c 'vdpa mgmtdev show | grep -q "^vshape:"'

# The in-tree balloon first, for the standard queues.
modprobe virtio_balloon
check "vdpa dev add mgmtdev vshape name vs0" vdpa dev add mgmtdev vshape name vs0
DEV=/sys/bus/vdpa/devices/vs0
[ -d $DEV ] || bail "no vdpa device vs0"
SYS=$DEV/vshape
vdev=
for _ in $(seq 50); do
	vdev=$(ls -d $DEV/virtio* 2>/dev/null | head -n1)
	[ -n "$vdev" ] && [ -e "$vdev/driver" ] && break
	sleep 0.1
done
check "virtio device id 0x0005 bound to virtio_balloon" \
	bash -c "[ \"\$(cat $vdev/device)\" = 0x0005 ] && [ \"\$(basename \$(readlink $vdev/driver))\" = virtio_balloon ]"
check "mode is loopback" [ "$(cat $SYS/mode)" = loopback ]

wait_for() { # wait_for file value [tries]
	local i
	for i in $(seq "${3:-100}"); do
		[ "$(cat "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "# $1 = $(cat "$1"), wanted $2"
	return 1
}

echo 8192 > $SYS/target_pages
check "target 8192 pages: config-change reaches the driver, 32 MiB inflated" \
	wait_for $SYS/inflated_bytes $((32 << 20)) 300
check "driver reports actual = 8192" wait_for $SYS/actual_pages 8192
echo 0 > $SYS/target_pages
check "target 0: deflated back to 0" wait_for $SYS/inflated_bytes 0 300
echo 1 > $HDBG/stats_request
sleep 1
check "stats queue: buffers received" bash -c "[ \$(awk '/^stats_bufs/{print \$2}' $HDBG/stats) -ge 2 ]"

# Now the shaping queue through the loopback test driver.
echo "$(basename "$vdev")" > /sys/bus/virtio/drivers/virtio_balloon/unbind
rmmod virtio_balloon
check "vshape_looptest binds (VSHAPE negotiated, shaping queue 2)" insmod "$VSHAPE_LOOPTEST_KO"
D=/sys/kernel/debug/vshape_shaping-$(basename "$vdev")
for _ in $(seq 50); do [ -e $D/request ] && break; sleep 0.1; done
[ -e $D/request ] || bail "no shaping test-mode file $D/request"
check "driver reads limits: max_extents 256, min_align 4096" \
	bash -c "grep -qx 'max_extents 256' $D/limits && grep -qx 'min_align 4096' $D/limits"

echo 1 > /sys/kernel/tracing/events/vshape_host/enable 2>/dev/null
echo $((32 << 20)) > $LEDGER/capacity_bytes
echo "alloc 64" > $D/request
nblocks=$(wc -l < $D/blocks)
check "test mode holds 32 blocks of 2 MiB" [ "$nblocks" = 32 ]

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
		ok "$1"
	else
		nok "$1 (status=$status granted=$granted, wanted $2 ${3:-})"
	fi
}
MiB=$((1 << 20))

req inflate b0-31
expect "INFLATE 64 MiB (32 extents): DONE" 0 $((64 * MiB))
check "host counts 64 MiB inflated" [ "$(cat $SYS/inflated_bytes)" = $((64 * MiB)) ]
req reserve b0-7
expect "RESERVE 16 MiB: DONE" 0 $((16 * MiB))
req commit b8-11
expect "COMMIT 8 MiB: DONE" 0 $((8 * MiB))
check "ledger charged 24 MiB, committed 8 MiB" \
	bash -c "[ \$(cat $LEDGER/charged_bytes) = $((24 * MiB)) ] && [ \$(cat $SYS/committed_bytes) = $((8 * MiB)) ]"
# debugfs "extents": runs "<gpa> <bytes> <state>"; bytes per state
ext_bytes() {
	local len st n=0
	while read -r _ len st; do
		[ "$st" = "$1" ] && n=$((n + len))
	done < $HDBG/extents
	echo $n
}
ext_states() { # ext_states RESERVED COMMITTED INFLATED (bytes)
	[ "$(ext_bytes reserved)" = "$1" ] && [ "$(ext_bytes committed)" = "$2" ] &&
		[ "$(ext_bytes inflated)" = "$3" ]
}
check "debugfs extents: 16 MiB reserved, 8 MiB committed, 40 MiB inflated" \
	ext_states $((16 * MiB)) $((8 * MiB)) $((40 * MiB))
check "debugfs ledger: the device holds 24 MiB of charge" \
	grep -qx "device_charged_bytes $((24 * MiB))" $HDBG/ledger
req reserve b12-19
expect "RESERVE 16 MiB with 8 MiB left: PARTIAL, 8 MiB granted" 1 $((8 * MiB))
req reserve b20
expect "RESERVE beyond capacity: REFUSED_CAPACITY" 2 0
req release b0-7
expect "RELEASE 16 MiB: DONE, ledger down to 16 MiB" 0 $((16 * MiB))

# Malformed requests: each must be INVALID and change nothing.
inv0=$(awk '/^status_invalid/{print $2}' $HDBG/stats)
charged0=$(cat $LEDGER/charged_bytes)
b0=$(awk '$1==0{print $2}' $D/blocks)
b1=$(awk '$1==1{print $2}' $D/blocks)
many=""
for i in $(seq 0 256); do many+=" $(printf '0x%x:4096' $((b0 + i * 4096)))"; done
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
tryinv "nr_extents > max (257 real extents)" inflate $many
tryinv "nr_extents 300, 1 extent present" inflate nr=300 b0
tryinv "unaligned gpa"         inflate $(printf '0x%x' $((b0 + 0x800))):4096
tryinv "unaligned len"         inflate $(printf '0x%x' "$b0"):6144
tryinv "zero length"           inflate $(printf '0x%x' "$b0"):0
tryinv "overlapping extents"   inflate $(printf '0x%x' "$b0"):8192 $(printf '0x%x' $((b0 + 4096))):4096
tryinv "duplicate extent"      inflate b1 b1
tryinv "wrapping extent"       inflate 0xfffffffffffff000:0x2000
tryinv "gpa outside RAM"       inflate 0x7f0000000000:4096
tryinv "more than max_request_bytes" inflate $(printf '0x%x' "$b0"):0x80000000
tryinv "reserved field set"    inflate rsv=1 b0
tryinv "truncated extent array" inflate short=20 b0
tryinv "RESERVE of pages not in the balloon" reserve 0x1000000:4096
check "$badn malformed requests all INVALID" [ "$bad" = 0 ]
inv1=$(awk '/^status_invalid/{print $2}' $HDBG/stats)
check "host debugfs counts them (status_invalid +$badn)" [ $((inv1 - inv0)) = "$badn" ]
check "malformed requests changed nothing in the ledger" [ "$(cat $LEDGER/charged_bytes)" = "$charged0" ]
echo "req inflate noresp b0" > $D/request
check "request without a response buffer is returned empty" grep -q "used_len=0" $D/last

req deflate b0-31
expect "DEFLATE 64 MiB: DONE, device healthy after bad input" 0 $((64 * MiB))
check "all pages back to GUEST, ledger empty" \
	bash -c "[ \$(cat $SYS/inflated_bytes) = 0 ] && [ \$(cat $LEDGER/charged_bytes) = 0 ]"
check "tracepoints fired" grep -q "vshape_host_request" /sys/kernel/tracing/trace
check "debugfs extents empty" [ ! -s $HDBG/extents ]

# 4 KiB pieces of a 2 MiB block: the host's per-block state splits and
# merges again (docs/host.md).
b0=$(awk '$1 == 0 { print $2 }' $D/blocks)
req inflate b0
req deflate "$(printf %#x $((b0 + 4096))):4096"
expect "DEFLATE 4 KiB inside an inflated 2 MiB block: DONE" 0 4096
check "debugfs extents: two inflated runs around the hole" \
	bash -c "[ \"\$(cat $HDBG/extents)\" = \"$(printf '%#x 0x1000 inflated\n%#x 0x1fe000 inflated' "$b0" $((b0 + 8192)))\" ]"
check "host counts 2 MiB - 4 KiB inflated" [ "$(cat $SYS/inflated_bytes)" = $((2 * MiB - 4096)) ]
req reserve b0
expect "RESERVE of a block with a guest page: INVALID" 3
req inflate "$(printf %#x $((b0 + 4096))):4096"
check "the hole refilled: one 2 MiB inflated run" \
	bash -c "[ \"\$(cat $HDBG/extents)\" = \"$(printf '%#x 0x200000 inflated' "$b0")\" ]"
req deflate b0
check "deflated: extents empty, nothing inflated" \
	bash -c "[ ! -s $HDBG/extents ] && [ \$(cat $SYS/inflated_bytes) = 0 ]"
echo 0 > /sys/kernel/tracing/events/vshape_host/enable 2>/dev/null

# Ledger held by a device is dropped on device removal; unload is clean.
req inflate b0-3 && req reserve b0-3
echo free > $D/request
rmmod vshape_looptest
vdpa dev del vs0
check "device removal drops its charge" [ "$(cat $LEDGER/charged_bytes)" = 0 ]
check "vshape_host unloads" rmmod vshape_host
check "no WARNING/BUG in dmesg" bash -c "! dmesg | grep -qE 'WARNING:|BUG:|Oops'"
echo "# host stats were:"; dmesg | grep -iE 'vshape' | tail -n 5 | diag

[ "$fails" = 0 ]
