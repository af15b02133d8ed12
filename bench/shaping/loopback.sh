#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Range requests vs PFN arrays in loopback (run INSIDE one 6.12 VM by
# bench/shaping/run.sh): vshape_host bound to virtio_vdpa, driven by a
# balloon driver in the same kernel.  The device validates and accounts
# every request but frees and populates nothing (docs/host.md), so this
# is the protocol's cost: guest allocation, messages, page states.
# Same drivers, knob and poller as nested-l1.sh.  Appends CSV rows to
# $BENCH_OUT/loopback.csv.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
out=${BENCH_OUT:?}
csv=$out/loopback.csv
reps=${BENCH_REPS:-3}
read -r -a sizes <<<"${BENCH_SIZES:-256 512}"
read -r -a drivers <<<"${BENCH_DRIVERS:-shaping vshape-pfn virtio_balloon}"
SYS=/sys/bus/vdpa/devices/vs0/vshape
HSTATS=/sys/kernel/debug/vshape_host/vs0/stats
hst() { awk -v k="$1" '$1 == k { print $2 }' "$HSTATS"; }
# shellcheck source=bench/shaping/move.sh
. bench/shaping/move.sh
# shellcheck source=selftests/lib/module.sh
. selftests/lib/module.sh

mount -t debugfs none /sys/kernel/debug 2>/dev/null
modprobe vdpa && modprobe virtio_vdpa && modprobe vhost_iotlb || exit 1
insmod "$VSHAPE_HOST_KO" || exit 1
echo 100000000 > /sys/module/vshape_host/parameters/rate_limit
echo 100000000 > /sys/module/vshape_host/parameters/rate_burst
# The in-tree driver must not grab the device while another is measured.
echo "# $(uname -r), $(grep MemTotal /proc/meminfo)"
[ -f "$csv" ] || echo "env,driver,mib,rep,dir,seconds,requests,pfns,punched_mib" > "$csv"
# point DRV MIB REP DIR: one timed move, one CSV row
point() {
	timed_move "$4" "$2"
	echo "loopback,$1,$2,$3,$4,$move_s,$move_req,$move_pfn,0" >> "$csv"
	echo "# $1 $2 MiB rep $3 $4: $move_s s ($move_req shaping requests, $move_pfn PFNs)"
	sleep 0.5
}
for drv in "${drivers[@]}"; do
	# the driver first, then the device it binds
	case $drv in
	shaping) insmod "$BENCH_KO_SHAPING"; name=vshape_guest;;
	vshape-pfn) insmod "$BENCH_KO_SHAPING" shaping=0; name=vshape_guest;;
	virtio_balloon) modprobe virtio_balloon; name=virtio_balloon;;
	esac || { echo "# $drv does not load"; exit 1; }
	vdpa dev add mgmtdev vshape name vs0 || exit 1
	mod_wait_bound "$name" || exit 1
	run_moves "$drv" point
	vdpa dev del vs0
	case $drv in
	virtio_balloon) rmmod virtio_balloon;;
	*) rmmod vshape_guest;;
	esac
done
rmmod vshape_host
echo "# done"
