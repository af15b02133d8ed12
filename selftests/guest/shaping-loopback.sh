#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vshape_guest with the shaping feature, against vshape_host in loopback
# (one Linux 6.12 VM: the vDPA device is bound to virtio_vdpa and driven
# by vshape_guest in the same kernel).  Loopback is a protocol test: the
# host validates and accounts, it frees no memory (docs/host.md).
#
#   VSHAPE_HOST_KO=... VSHAPE_KO=... selftests/guest/shaping-loopback.sh
#
# TAP on stdout; exit 0 all passed, 1 a test failed, 4 skipped.
set -uo pipefail
cd "$(dirname "$0")"
MiB=$((1 << 20))
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 4; }

[ -f "${VSHAPE_HOST_KO:-}" ] || skip_all "VSHAPE_HOST_KO not set or missing"
[ -f "${VSHAPE_KO:-}" ] || skip_all "VSHAPE_KO not set or missing"
command -v vdpa > /dev/null || skip_all "vdpa tool (iproute2) missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
modprobe vdpa && modprobe virtio_vdpa && modprobe vhost_iotlb ||
	skip_all "vdpa/virtio_vdpa modules missing"
insmod "$VSHAPE_HOST_KO" || skip_all "vshape_host does not load"
insmod "$VSHAPE_KO" || skip_all "vshape_guest does not load"
echo $((1 << 30)) > /sys/kernel/vshape_host/capacity_bytes

HST=/sys/kernel/debug/vshape_host/vs0/stats
hst() { awk -v k="$1" '$1 == k { print $2 }' "$HST"; }
gst() { awk -v k="$1:" '$1 == k { print $2 }' /sys/kernel/debug/vshape_guest/"$name"/state; }
knob() { cat "$dev/vshape/$1"; }
wait_for() { # wait_for SECONDS command...
	local t=$1 i; shift
	for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
	return 1
}
bound() { dev=$(ls -d /sys/bus/virtio/drivers/vshape_guest/virtio* 2>/dev/null | head -n1); [ -n "$dev" ]; }

echo "1..17"
vdpa dev add mgmtdev vshape name vs0 || { echo "Bail out! vdpa dev add"; exit 1; }
check "vshape_guest binds the vshape_host device" wait_for 10 bound
name=$(basename "$dev")
check "the shaping feature is negotiated" [ "$(gst shaping)" = on ]

# --- a guest target moves 2 MiB blocks as INFLATE/DEFLATE extents ---
echo guest > "$dev/vshape/mode"
echo $((64 * 1024)) > "$dev/vshape/guest_target_kb"
wait_for 30 [ "$(knob actual_kb)" = $((64 * 1024)) ]
echo "# guest: $(gst blocks_2m) blocks of 2 MiB, $(gst shaping_msgs) shaping messages; host: $(hst req_inflate) INFLATE requests, $(hst inflated_bytes) bytes"
check "inflating 64 MiB sends INFLATE extents, no PFNs" \
	bash -c "[ $(gst blocks_2m) = 32 ] && [ $(hst req_inflate) -ge 1 ] && [ $(hst inflate_pages) = 0 ]"
check "the host accounts 64 MiB inflated" [ "$(hst inflated_bytes)" = $((64 * MiB)) ]
echo 0 > "$dev/vshape/guest_target_kb"
wait_for 30 [ "$(knob actual_kb)" = 0 ]
check "deflating sends DEFLATE extents; the host accounts 0" \
	bash -c "[ $(hst req_deflate) -ge 1 ] && [ $(hst inflated_bytes) = 0 ]"

# --- predict mode: deflation announced with COMMIT (high confidence) ---
echo 0 > "$dev/vshape/commit_confidence_pct"
echo predict > "$dev/vshape/mode"
wait_for 20 [ "$(knob actual_kb)" -gt $((32 * 1024)) ]
held=$(knob actual_kb)
./memtouch 900 3 &
wait_for 20 [ "$(knob actual_kb)" -lt "$held" ]
wait
echo "# predict mode: balloon ${held} KiB, then $(knob actual_kb) KiB under a 900 MiB demand; commits $(gst commits), host COMMIT requests $(hst req_commit), populated $(hst populated_bytes) bytes"
check "predict mode deflates under demand, announced by COMMIT" \
	bash -c "[ $(gst commits) -gt 0 ] && [ $(hst req_commit) -gt 0 ]"

# --- below the threshold: a predicted rise RESERVEs balloon blocks ---
echo 100 > "$dev/vshape/commit_confidence_pct"
echo 1000 > "$dev/vshape/reserve_grace_ms"
wait_for 30 [ "$(knob actual_kb)" -gt $((32 * 1024)) ]
commits0=$(gst commits)
./memtouch 900 3 &
wait_for 20 [ "$(gst reserves)" -gt 0 ]
echo "# reserves $(gst reserves), host reserved $(hst reserved_bytes) bytes, RESERVE requests $(hst req_reserve)"
check "an unsure predicted rise RESERVEs blocks still in the balloon" \
	bash -c "[ $(gst reserves) -gt 0 ] && [ $(hst req_reserve) -gt 0 ]"
wait
check "below the commit threshold nothing is COMMITted" [ "$(gst commits)" = "$commits0" ]
no_reservations() { [ "$(gst reservations_held)" = 0 ]; }
echo guest > "$dev/vshape/mode"
check "reservations end: RELEASEd after the grace period or deflated" \
	wait_for 20 no_reservations
echo "# releases $(gst releases), host RELEASE requests $(hst req_release), reserved $(hst reserved_bytes) bytes"
check "the host ledger holds nothing once they ended" \
	bash -c "[ $(hst reserved_bytes) = 0 ] && [ \$(cat /sys/kernel/vshape_host/charged_bytes) = 0 ]"

# --- unload with pages and reservations held: the host forgets all ---
echo 600000 > "$dev/vshape/reserve_grace_ms"
echo guest > "$dev/vshape/mode"
echo $((128 * 1024)) > "$dev/vshape/guest_target_kb"
wait_for 30 [ "$(knob actual_kb)" = $((128 * 1024)) ]
echo "# guest shaping messages $(gst shaping_msgs), refused $(gst shaping_refused); host invalid $(hst status_invalid), refused for capacity $(hst status_refused_capacity)"
check "no shaping request was refused or invalid" \
	bash -c "[ $(gst shaping_refused) = 0 ] && [ $(hst status_invalid) = 0 ]"
rmmod vshape_guest
check "unloading the guest leaves nothing inflated or reserved on the host" \
	bash -c "[ $(hst inflated_bytes) = 0 ] && [ $(hst reserved_bytes) = 0 ] && [ \$(cat /sys/kernel/vshape_host/charged_bytes) = 0 ]"

# --- unload the HOST module with work in flight: the device goes away
# under a bound, inflating vshape_guest, which must give every page back ---
avail() { awk '/^MemAvailable:/{print $2}' /proc/meminfo; }
a0=$(avail)
insmod "$VSHAPE_KO"
check "vshape_guest binds again" wait_for 10 bound
echo guest > "$dev/vshape/mode"
echo $((1024 * 1024)) > "$dev/vshape/guest_target_kb"
# rmmod as soon as the first pages are in the balloon (builtins only)
while read -r held < "$dev/vshape/actual_kb" && [ "$held" = 0 ]; do :; done
echo "# rmmod vshape_host with $held KiB of 1 GiB inflated"
check "vshape_host unloads while vshape_guest is bound and inflating" rmmod vshape_host
check "the device is gone: vshape_guest unbound" bash -c "! ls -d /sys/bus/virtio/drivers/vshape_guest/virtio* 2>/dev/null"
sleep 1
echo "# MemAvailable after: $(avail) KiB"
check "every balloon page is back in the guest (MemAvailable within 16 MiB)" \
	[ $((a0 - $(avail))) -lt $((16 * 1024)) ]
rmmod vshape_guest

# --- shaping=0: the standard PFN-array protocol on a device offering bit 23 ---
insmod "$VSHAPE_HOST_KO" && vdpa dev add mgmtdev vshape name vs0 &&
	insmod "$VSHAPE_KO" shaping=0
if wait_for 10 bound; then
	name=$(basename "$dev")
	echo guest > "$dev/vshape/mode"
	echo $((16 * 1024)) > "$dev/vshape/guest_target_kb"
	wait_for 30 [ "$(knob actual_kb)" = $((16 * 1024)) ]
	echo "# shaping=0: features 0x$(printf %x "$(hst features)"), state shaping: $(gst shaping), PFNs $(hst inflate_pages), INFLATE requests $(hst req_inflate)"
	check "shaping=0: feature not acked; 16 MiB inflated as 4096 PFNs, no INFLATE request" \
		bash -c "[ $(($(hst features) >> 23 & 1)) = 0 ] && [ $(gst shaping) = off ] && [ $(hst inflate_pages) = 4096 ] && [ $(hst req_inflate) = 0 ]"
else
	nok "shaping=0: vshape_guest binds the device"
fi
rmmod vshape_guest
vdpa dev del vs0
rmmod vshape_host
dmesg | grep -E 'vshape|BUG|WARNING|Oops' | sed 's/^/# dmesg: /'
[ "$fails" -eq 0 ]
