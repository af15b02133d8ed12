#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Range requests vs PFN arrays, nested stack, L1 side (bench/shaping/run.sh
# starts it with scripts/vm --nested).  One vshape_host device (vs0,
# vhost_vdpa), one L2 guest (1 GiB shared memfd RAM, KVM), and in turn, in
# that same L2, the balloon drivers of BENCH_DRIVERS:
#
#   shaping     vshape_guest, VIRTIO_BALLOON_F_VSHAPE negotiated: 2 MiB
#               blocks as INFLATE/DEFLATE extents (range requests)
#   vshape-pfn  the same module loaded with shaping=0, so it does not
#               ack the feature: the same blocks as 4 KiB PFN arrays on
#               the standard queues, 4096 per message
#   virtio_balloon  the in-tree driver: PFN arrays, 256 per message
#
# Every driver is moved by the same knob, the device's target_pages, and
# timed by the same poller in L1 (shtime: from the write until the
# device's inflated_bytes reaches the target, or 0), so a measurement is
# guest allocation + messages + the host's page states and fallocate.
#
# Environment: VSHAPE_HOST_KO, BENCH_KVER (L2), BENCH_KO_SHAPING,
# BENCH_SHTIME, BENCH_OUT (results dir, shared with L0),
# BENCH_SIZES (MiB, default "256 512"), BENCH_REPS (default 3),
# BENCH_DRIVERS, BENCH_MEMTOUCH, BENCH_APPEND (L2 kernel cmdline),
# BENCH_ENV: nested (default; L2's RAM a shared memfd) or nested-huge (a
# shared file on a tmpfs mounted huge=within_size, mapped 2 MiB-aligned:
# the host backs L2's RAM with 2 MiB folios).
# Appends CSV rows to $BENCH_OUT/$BENCH_ENV.csv.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/host/nested-lib.sh
. selftests/host/nested-lib.sh
out=${BENCH_OUT:?}
env=${BENCH_ENV:-nested}
csv=$out/$env.csv
reps=${BENCH_REPS:-3}
read -r -a sizes <<<"${BENCH_SIZES:-256 512}"
read -r -a drivers <<<"${BENCH_DRIVERS:-shaping vshape-pfn virtio_balloon}"
append=${BENCH_APPEND-init_on_alloc=0}

modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa || exit 1
mount -t debugfs none /sys/kernel/debug 2>/dev/null
insmod "$VSHAPE_HOST_KO" || exit 1
# Measure the protocol, not the device's rate bound (default 2000 chains/s).
echo 100000000 > /sys/module/vshape_host/parameters/rate_limit
echo 100000000 > /sys/module/vshape_host/parameters/rate_burst
vdpa dev add mgmtdev vshape name vs0 || exit 1
wait_for 5 '[ -e /dev/vhost-vdpa-0 ]' || exit 1

if [ "$env" = nested-huge ]; then
	mkdir -p /run/l2ram
	mount -t tmpfs -o huge=within_size,size=1100M none /run/l2ram || exit 1
	export L2_RAM_FILE=/run/l2ram/ram
fi
args=()
[ -z "$append" ] || args=(--append " $append")
start_l2 "$BENCH_KVER" /tmp/l2bench "${args[@]}" || { echo "# L2 did not start"; exit 1; }
echo "# L2 up: $(l2 'uname -r; cat /proc/cmdline')"
[ -x "${BENCH_MEMTOUCH:?}" ] || exit 1

# shellcheck source=bench/shaping/move.sh
. bench/shaping/move.sh

[ -f "$csv" ] || echo "env,driver,mib,rep,dir,seconds,requests,pfns,punched_mib,memfd_mib_before,memfd_mib_after" > "$csv"
# point DRV MIB REP DIR: one timed move, one CSV row.  Every inflation
# starts from populated RAM: deflated blocks are holes in the memfd, and
# the guest zeroing them would time L1's (TCG) fault handling instead.
point() {
	local m0 m1

	# shellcheck disable=SC2016 # $((...)) runs in L2, on L2's meminfo
	[ "$4" = deflate ] || l2 "$BENCH_MEMTOUCH "'$(($(awk "/^MemAvailable:/{print \$2}" /proc/meminfo) / 1024 - 48))'" 0 > /dev/null"
	m0=$(memfd_bytes)
	timed_move "$4" "$2"
	m1=$(memfd_bytes)
	echo "$env,$1,$2,$3,$4,$move_s,$move_req,$move_pfn,$((move_punched / MiB)),$((m0 / MiB)),$((m1 / MiB))" >> "$csv"
	echo "# $1 $2 MiB rep $3 $4: $move_s s ($move_req shaping requests, $move_pfn PFNs, RAM file $((m0 / MiB)) -> $((m1 / MiB)) MiB, L1 ShmemHugePages $(awk '/^ShmemHugePages:/{print int($2 / 1024)}' /proc/meminfo) MiB)"
	sleep 1
}

for drv in "${drivers[@]}"; do
	case $drv in
	shaping) load="$BENCH_KO_SHAPING vshape_guest";;
	vshape-pfn) load="$BENCH_KO_SHAPING vshape_guest shaping=0";;
	virtio_balloon) load="virtio_balloon virtio_balloon";;
	esac
	if ! l2 "mod_load_bind -t 20 $load"; then
		echo "# $drv: does not load or bind"
		l2 'rmmod vshape_guest virtio_balloon 2>/dev/null'
		continue
	fi
	run_moves "$drv" point
	case $drv in
	virtio_balloon) l2 'rmmod virtio_balloon';;
	*) l2 'rmmod vshape_guest';;
	esac
done
stop_l2
vdpa dev del vs0
rmmod vshape_host
echo "# done"
