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
# TAP on stdout; exit 0 all passed, 1 a test failed.  A missing module,
# tool or feature is a failure: they are all the project's (scripts/setup
# installs the tools, run-shaping.sh builds the modules).
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=selftests/lib/lib.sh
. ../lib/lib.sh
MiB=$((1 << 20))

tap_plan 26
[ -f "${VSHAPE_HOST_KO:-}" ] || tap_bail "VSHAPE_HOST_KO not set or missing"
[ -f "${VSHAPE_KO:-}" ] || tap_bail "VSHAPE_KO not set or missing"
command -v vdpa > /dev/null || tap_bail "vdpa tool (iproute2, scripts/setup) missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
tap_check "vdpa, virtio_vdpa and vhost_iotlb load" \
	bash -c 'modprobe vdpa && modprobe virtio_vdpa && modprobe vhost_iotlb' ||
	tap_bail "vdpa/virtio_vdpa modules missing"
# shellcheck disable=SC2016 # the child bash expands them
tap_check "vshape_host and vshape_guest load" \
	bash -c 'insmod "$VSHAPE_HOST_KO" && insmod "$VSHAPE_KO"' ||
	tap_bail "vshape_host or vshape_guest does not load"
echo $((1 << 30)) > /sys/kernel/vshape_host/capacity_bytes

HST=/sys/kernel/debug/vshape_host/vs0/stats
hst() { awk -v k="$1" '$1 == k { print $2 }' "$HST"; }
gst() { awk -v k="$1:" '$1 == k { print $2 }' /sys/kernel/debug/vshape_guest/"$name"/state; }
# shellcheck disable=SC2317 # run by tap_check and wait_for
knob() { cat "$dev/vshape/$1"; }
# balloon_is KIB: the guest's balloon holds KIB (re-read at each call)
# shellcheck disable=SC2317 # run by tap_check and wait_for
balloon_is() { [ "$(knob actual_kb)" = "$1" ]; }
# shellcheck disable=SC2317 # run by tap_check and wait_for
balloon_above() { [ "$(knob actual_kb)" -gt "$1" ]; }
# bind: wait until vshape_guest holds a device; dev, name
# shellcheck disable=SC2317 # run by tap_check and wait_for
bind() {
	mod_wait_bound vshape_guest || return 1
	name=$MOD_DEV dev=/sys/bus/virtio/devices/$MOD_DEV
}

vdpa dev add mgmtdev vshape name vs0 || tap_bail "vdpa dev add"
tap_check "vshape_guest binds the vshape_host device" bind ||
	tap_bail "vshape_guest did not bind"
tap_is "the shaping feature is negotiated" "$(gst shaping)" on
# the raw-request injector is in the test flavour only (docs/host.md)
sdir=/sys/kernel/debug/vshape_guest/$name/shaping
tap_check "default build: shaping debugfs has stats and limits, no injector, no policy_test_peak_kb" \
	bash -c "[ -e $sdir/stats ] && [ -e $sdir/limits ] && [ ! -e $sdir/request ] && [ ! -e $sdir/last ] && [ ! -e $sdir/blocks ] && [ -e $sdir/../policy ] && [ ! -e $sdir/../policy_test_peak_kb ]"

# --- a guest target moves 2 MiB blocks as INFLATE/DEFLATE extents ---
echo guest > "$dev/vshape/mode"
echo $((64 * 1024)) > "$dev/vshape/guest_target_kb"
tap_check "guest target 64 MiB: the balloon holds 64 MiB" wait_for 30 balloon_is $((64 * 1024))
tap_diag "guest: $(gst blocks_2m) blocks of 2 MiB, $(gst shaping_msgs) shaping messages; host: $(hst req_inflate) INFLATE requests, $(hst inflated_bytes) bytes"
tap_check "inflating 64 MiB sends INFLATE extents, no PFNs" \
	[ "$(gst blocks_2m)" = 32 -a "$(hst req_inflate)" -ge 1 -a "$(hst inflate_pages)" = 0 ]
tap_is "the host accounts 64 MiB inflated" "$(hst inflated_bytes)" $((64 * MiB))
echo 0 > "$dev/vshape/guest_target_kb"
tap_check "guest target 0: the balloon is empty" wait_for 30 balloon_is 0
tap_check "deflating sends DEFLATE extents; the host accounts 0" \
	[ "$(hst req_deflate)" -ge 1 -a "$(hst inflated_bytes)" = 0 ]

# --- predict mode: deflation announced with COMMIT (high confidence) ---
# The balloon must shrink WHILE the demand is held: each try reads the
# balloon and checks that memtouch still holds its memory.
echo 0 > "$dev/vshape/commit_confidence_pct"
echo predict > "$dev/vshape/mode"
wait_for 20 balloon_above $((32 * 1024))
# the balloon grows to the predicted spare memory: "held" is its size
# once it has not moved for 3 s (read at once, it was mid-growth)
wait_stable 120 3 knob actual_kb
held=$WAIT_VALUE
commits0=$(gst commits) hcommits0=$(hst req_commit)
./memtouch 900 90 &
demand=$!
during=
# shellcheck disable=SC2317 # run by tap_check and wait_for
shrank_under_demand() {
	during=$(knob actual_kb)
	kill -0 "$demand" 2>/dev/null && [ "$during" -lt "$held" ]
}
wait_for 75 shrank_under_demand
tap_rc $? "predict mode deflates while a 900 MiB demand is held (balloon $held KiB, then $during KiB)"
kill "$demand" 2>/dev/null
wait "$demand" 2>/dev/null
tap_diag "predict mode: commits $commits0 -> $(gst commits), host COMMIT requests $hcommits0 -> $(hst req_commit), populated $(hst populated_bytes) bytes"
tap_check "... announced by COMMIT (guest commits and host COMMIT requests rose)" \
	[ "$(gst commits)" -gt "$commits0" -a "$(hst req_commit)" -gt "$hcommits0" ]

# --- below the threshold: a predicted rise RESERVEs balloon blocks ---
echo 100 > "$dev/vshape/commit_confidence_pct"
echo 1000 > "$dev/vshape/reserve_grace_ms"
wait_for 30 balloon_above $((32 * 1024))
commits0=$(gst commits) reserves0=$(gst reserves) hreserve0=$(hst req_reserve)
./memtouch 900 3 &
demand=$!
# shellcheck disable=SC2016
wait_for 20 '[ "$(gst reserves)" -gt "$reserves0" ]'
tap_diag "reserves $reserves0 -> $(gst reserves), host reserved $(hst reserved_bytes) bytes, RESERVE requests $hreserve0 -> $(hst req_reserve)"
tap_check "an unsure predicted rise RESERVEs blocks still in the balloon" \
	[ "$(gst reserves)" -gt "$reserves0" -a "$(hst req_reserve)" -gt "$hreserve0" ]
wait "$demand"
tap_is "below the commit threshold nothing is COMMITted" "$(gst commits)" "$commits0"
echo guest > "$dev/vshape/mode"
# shellcheck disable=SC2016
tap_check "reservations end: RELEASEd after the grace period or deflated" \
	wait_for 20 '[ "$(gst reservations_held)" = 0 ]'
tap_diag "releases $(gst releases), host RELEASE requests $(hst req_release), reserved $(hst reserved_bytes) bytes"
tap_check "the host ledger holds nothing once they ended" \
	[ "$(hst reserved_bytes)" = 0 -a "$(cat /sys/kernel/vshape_host/charged_bytes)" = 0 ]

# --- unload with pages and reservations held: the host forgets all ---
# A reservation that outlives the test (grace 10 min) and pages in the
# balloon: predict mode, never COMMIT, a predicted rise RESERVEs.
echo 600000 > "$dev/vshape/reserve_grace_ms"
echo 100 > "$dev/vshape/commit_confidence_pct"
echo predict > "$dev/vshape/mode"
wait_for 30 balloon_above $((32 * 1024))
./memtouch 900 3 &
demand=$!
# shellcheck disable=SC2016
wait_for 30 '[ "$(hst reserved_bytes)" -gt 0 ] && [ "$(knob actual_kb)" -gt 0 ]'
wait "$demand"
tap_diag "before the unload: balloon $(knob actual_kb) KiB, host reserved $(hst reserved_bytes) bytes, inflated $(hst inflated_bytes) bytes"
tap_check "before the unload the host holds reservations and inflated pages" \
	[ "$(hst reserved_bytes)" -gt 0 -a "$(hst inflated_bytes)" -gt 0 ]
tap_diag "guest shaping messages $(gst shaping_msgs), refused $(gst shaping_refused); host invalid $(hst status_invalid), refused for capacity $(hst status_refused_capacity)"
tap_check "no shaping request was refused or invalid" \
	[ "$(gst shaping_refused)" = 0 -a "$(hst status_invalid)" = 0 ]
rmmod vshape_guest
tap_check "unloading the guest leaves nothing inflated or reserved on the host" \
	[ "$(hst inflated_bytes)" = 0 -a "$(hst reserved_bytes)" = 0 -a "$(cat /sys/kernel/vshape_host/charged_bytes)" = 0 ]

# --- unload the HOST module with work in flight: the device goes away
# under a bound, inflating vshape_guest, which must give every page back ---
avail() { awk '/^MemAvailable:/{print $2}' /proc/meminfo; }
a0=$(avail)
tap_check "vshape_guest loads and binds again" mod_load_bind "$VSHAPE_KO" vshape_guest &&
	name=$MOD_DEV dev=/sys/bus/virtio/devices/$MOD_DEV
echo guest > "$dev/vshape/mode"
echo $((1024 * 1024)) > "$dev/vshape/guest_target_kb"
# rmmod once 128 MiB are in the balloon, still inflating toward 1 GiB
# (builtins only): enough that a leak of them shows against the noise
held=0
# shellcheck disable=SC2016
WAIT_INTERVAL=0 wait_for 60 'read -r held < "$dev/vshape/actual_kb" && [ "$held" -ge $((128 * 1024)) ]'
tap_diag "rmmod vshape_host with $held KiB of 1 GiB inflated"
# shellcheck disable=SC2317 # run by tap_check and wait_for
unload_host_inflating() {
	[ "$held" -ge $((128 * 1024)) ] && rmmod vshape_host
}
# shellcheck disable=SC2317 # run by tap_check and wait_for
unbound() { ! mod_bound vshape_guest; }
tap_check "vshape_host unloads while vshape_guest is bound and inflating ($held KiB)" \
	unload_host_inflating
tap_check "the device is gone: vshape_guest unbound" unbound
sleep 1
tap_diag "MemAvailable before $a0 KiB, after $(avail) KiB"
tap_check "every balloon page is back in the guest (MemAvailable within 16 MiB, an eighth of the $held KiB held)" \
	[ $((a0 - $(avail))) -lt $((16 * 1024)) ]
rmmod vshape_guest

# --- shaping=0: the standard PFN-array protocol on a device offering bit 23 ---
insmod "$VSHAPE_HOST_KO" && vdpa dev add mgmtdev vshape name vs0
if tap_check "shaping=0: vshape_guest binds the device" \
	mod_load_bind "$VSHAPE_KO" vshape_guest shaping=0; then
	name=$MOD_DEV dev=/sys/bus/virtio/devices/$MOD_DEV
	echo guest > "$dev/vshape/mode"
	echo $((16 * 1024)) > "$dev/vshape/guest_target_kb"
	wait_for 30 balloon_is $((16 * 1024))
	tap_diag "shaping=0: features 0x$(printf %x "$(hst features)"), state shaping: $(gst shaping), PFNs $(hst inflate_pages), INFLATE requests $(hst req_inflate)"
	tap_check "shaping=0: feature not acked; 16 MiB inflated as 4096 PFNs, no INFLATE request" \
		[ $(($(hst features) >> 23 & 1)) = 0 -a "$(gst shaping)" = off -a "$(hst inflate_pages)" = 4096 -a "$(hst req_inflate)" = 0 ]
else
	tap_not_ok "shaping=0: 16 MiB inflated as PFNs (not bound)"
fi
rmmod vshape_guest
vdpa dev del vs0
rmmod vshape_host
dmesg | grep -E 'vshape' | tap_diag
klog_check guest
tap_done
