#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scenario benchmark, L1 side: run INSIDE an L1 6.12 VM with KVM
# (bench/scenario/run.sh starts it with scripts/vm --nested).  One
# repetition: for each configuration of SCEN_CONFIGS, one after the
# other, a fresh L2 guest (same kernel, SCEN_L2_MIB of RAM in a shared
# memfd, KVM, one vCPU) runs the same workload script from the same disk while two samplers record
# (bench/scenario/sampler.c): L2's view every SCEN_PERIOD_MS, shipped
# through the shared run directory, and L1's (the memfd's allocated
# blocks, Shmem, the vshape device) with L2's latest line appended.
#
#   none             QEMU's virtio-balloon-pci, in-tree virtio_balloon, no target
#   fpr              the same with free-page-reporting=on
#   host-reactive    the device of none plus bench/scenario/controller.py
#                    on L1: target = guest used + margin every second (QMP)
#   vshape-reactive  vshape_host's vs0 through vhost-vdpa-device-pci,
#                    vshape_guest mode=predict predictor=last, page reporting
#   vshape-predict   the same with predictor=lstm
#
# Environment: VSHAPE_HOST_KO, SCEN_KVER (L2), SCEN_GUEST_KO, SCEN_SAMPLER,
# SCEN_WORKLOAD (script run in L2), SCEN_OUT (results dir shared with L0),
# SCEN_REP, SCEN_CONFIGS, SCEN_PERIOD_MS (200), SCEN_MARGIN_MIB (192),
# SCEN_L2_MIB (L2's RAM, 768), SCEN_SETTLE_S (the longest wait for the
# balloon's steady state before the workload, 90), SCEN_SETTLE_TARGET_S
# (host-reactive's: for the balloon to come near the controller's
# target, 600), SCEN_SETTLE_TOL_MIB (how near, 32; bench/scenario/settle.sh),
# SCEN_DISK (the workload disk, bench/scenario/mkdisk.sh), SCEN_MODS (L2's
# decompressed modules, run.sh), SCEN_WL_ENV
# (extra VAR=VAL words for the workload).  Writes $SCEN_OUT/rep<N>-<config>.csv and .meta.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/host/nested-lib.sh
. selftests/host/nested-lib.sh
out=${SCEN_OUT:?}
rep=${SCEN_REP:-1}
period=${SCEN_PERIOD_MS:-200}
l2mib=${SCEN_L2_MIB:-768}
sampler=${SCEN_SAMPLER:?}
read -r -a configs <<<"${SCEN_CONFIGS:-none fpr host-reactive vshape-reactive vshape-predict}"
log() { echo "# [rep $rep $(date +%T)] $*"; }

modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa || exit 4
mount -t debugfs none /sys/kernel/debug 2>/dev/null
insmod "$VSHAPE_HOST_KO" || exit 1
vdpa dev add mgmtdev vshape name vs0 || exit 1
for _ in $(seq 50); do [ -e /dev/vhost-vdpa-0 ] && break; sleep 0.1; done
# The workload disk (bench/scenario/mkdisk.sh, built by run.sh): copied
# to L1's tmpfs and given to L2 as a virtio-pmem device (its pages map
# into L2's physical memory: a read is a copy, no I/O request), mounted
# read-only at /tmp/scen-root with L2's /tmp, /dev and /proc inside; the
# workload runs chrooted there.  Through L2's 9p root, and through a
# virtio-blk disk, reads ran at 0.07-0.3 MiB/s on the 2-core machine at
# load 8-12: one gcc -O2 -c spent over 4 minutes loading cc1.
cp "$SCEN_DISK" /tmp/scen-disk.img || exit 1
disk_mib=$(($(stat -c %s /tmp/scen-disk.img) >> 20))
disk=(--mem "${l2mib}M,slots=1,maxmem=$((l2mib + disk_mib))M"
	--qemu-arg "-object memory-backend-file,id=wldisk,mem-path=/tmp/scen-disk.img,size=${disk_mib}M,share=off,readonly=on"
	--qemu-arg "-device virtio-pmem-pci,memdev=wldisk,id=pmem0")
# L2's modules for the disk (SCEN_MODS/disk.order: virtio_pmem, nd_pmem,
# squashfs and what they need) and the in-tree balloon driver, as run.sh
# decompressed them: busybox insmod of a plain .ko, not modprobe, which
# decompressed ext4, jbd2 and libnvdimm in L2 (about 60 ms natively,
# close to a minute of L2 time here, every configuration).
mods=${SCEN_MODS:?}
# shellcheck disable=SC2016 # expanded in L2
mount_disk='while read -r m; do busybox insmod '"$mods"'/$m || exit 1; done < '"$mods"'/disk.order &&
	mkdir -p /tmp/scen-root &&
	wait_for 20 "[ -b /dev/pmem0 ]" && mount -t squashfs -o ro /dev/pmem0 /tmp/scen-root &&
	mount --bind /tmp /tmp/scen-root/tmp && mount --bind /dev /tmp/scen-root/dev &&
	mount -t proc proc /tmp/scen-root/proc'

# knobs of vshape_guest in predict mode for the two vshape configurations
# (the knobs that this build of vshape_guest has: page_reporting and
# predictor came with the policy; without them both configurations run
# the same predict mode, and the .meta says so).
vshape_load() {
	local par=''
	modinfo -F parm "$SCEN_GUEST_KO" | grep -q '^page_reporting:' && par=page_reporting=1
	echo "busybox insmod $SCEN_GUEST_KO $par && wait_for 20 gdev && knob mode predict &&
		{ [ ! -e \$S/vshape/predictor ] || knob predictor $1; } &&
		k() { if [ -e \$S/vshape/\$1 ]; then knob \$1; else echo absent; fi; } &&
		echo \"vshape_guest: mode=\$(k mode) predictor=\$(k predictor) page_reporting=\$(k page_reporting)\""
}

# shellcheck disable=SC2016 # expanded in L2
inbox='busybox insmod '"$mods"'/virtio_balloon.ko && wait_for 20 compgen -G "/sys/bus/virtio/drivers/virtio_balloon/virtio*" &&
	echo "virtio_balloon: features $(cat /sys/bus/virtio/drivers/virtio_balloon/virtio*/features)"'

# settle (bench/scenario/settle.sh): the balloon's rest before the workload
# shellcheck source=bench/scenario/settle.sh
. bench/scenario/settle.sh

run_config() {
	local cfg=$1 dev load drv vdir='' rfile='' devdir='' ctl='' rc t0 boot_s setup_s wl_s
	local settle_s=-1 settle_how='?' settle_mib=-1 settle_want=-1
	# written where L0 sees it while it runs (progress, and no copy)
	local csv=$out/rep$rep-$1.csv
	local sock=/tmp/scen-qmp.sock
	case $cfg in
	none|host-reactive)
		dev=virtio-balloon-pci,id=balloon0
		load=$inbox;;
	fpr)
		dev=virtio-balloon-pci,id=balloon0,free-page-reporting=on
		load=$inbox;;
	vshape-reactive|vshape-predict)
		dev=vhost-vdpa-device-pci,vhostdev=/dev/vhost-vdpa-0
		devdir=$SYS
		echo $((l2mib * MiB)) > $LEDGER/capacity_bytes
		echo 0 > $SYS/target_pages
		if [ "$cfg" = vshape-reactive ]; then load=$(vshape_load last); else load=$(vshape_load lstm); fi;;
	*) log "unknown configuration $cfg"; return 1;;
	esac
	rm -f "$csv" "$sock"
	t0=$SECONDS
	# the L2 VM's life: a slow configuration must finish its workload
	# (the tests' default of 1200 s cut two runs of the first attempt)
	if ! L2_MEM=${l2mib}M L2_VM_TIMEOUT=5400 L2_DEVICE=$dev start_l2 "$SCEN_KVER" /tmp/l2scen --qmp "$sock" "${disk[@]}"; then
		log "$cfg: L2 did not start"
		tail -n 20 /tmp/l2scen/console.log | sed 's/^/# L2| /'
		return 1
	fi
	boot_s=$((SECONDS - t0))
	log "$cfg: L2 up in $boot_s s"
	t0=$SECONDS
	if ! l2 "$mount_disk"; then
		log "$cfg: the workload disk does not mount"
		stop_l2
		return 1
	fi
	if ! drv=$(L2_TIMEOUT=300 l2 "$load"); then
		log "$cfg: balloon driver does not load or bind: $drv"
		stop_l2
		return 1
	fi
	setup_s=$((SECONDS - t0))
	log "$cfg: $drv"
	# vshape_guest's knobs and its page reporting counters (debugfs)
	# shellcheck disable=SC2016 # expanded in L2
	case $cfg in vshape-*) vdir='$S/vshape' rfile='$D/reporting';; esac
	l2 "gdev 2>/dev/null; rm -f /tmp/scenario-phase; ( setsid $sampler l2 /run/vshape/l2.csv $period /tmp/scenario-phase $vdir $rfile < /dev/null > /dev/null 2>&1 & )"
	for _ in $(seq 100); do [ -s /tmp/l2scen/l2.csv ] && break; sleep 0.1; done
	"$sampler" l1 "$csv" "$period" "$(cat /tmp/l2scen/qemu.pid)" /tmp/l2scen/l2.csv $devdir &
	local spid=$!
	# a baseline before the workload, and the balloon's steady state:
	# host-reactive's, near the controller's target
	if [ "$cfg" = host-reactive ]; then
		rm -f /tmp/scen-controller.log
		bench/scenario/controller.py "$sock" --margin-mib "${SCEN_MARGIN_MIB:-192}" \
			--log "/tmp/scen-controller.log" &
		ctl=$!
		settle_s=$(settle /tmp/l2scen/l2.csv "${SCEN_SETTLE_TARGET_S:-600}" \
			/tmp/scen-controller.log)
	else
		settle_s=$(settle /tmp/l2scen/l2.csv "${SCEN_SETTLE_S:-90}")
	fi
	# (a here-string: L1 has no /dev/fd for a process substitution)
	read -r settle_s settle_how settle_mib settle_want <<<"$settle_s"
	log "$cfg: balloon settled in $settle_s s ($settle_how: balloon $settle_mib MiB, target $settle_want MiB); workload $SCEN_WORKLOAD"
	t0=$SECONDS
	L2_TIMEOUT=3000 l2 "chroot /tmp/scen-root /bin/bash -c 'cd /wl && SCEN_PHASE_FILE=/tmp/scenario-phase ${SCEN_WL_ENV:-} exec /bin/bash workload.sh'" | sed 's/^/# L2: /'
	rc=${PIPESTATUS[0]}
	wl_s=$((SECONDS - t0))
	log "$cfg: workload exit $rc after $wl_s s"
	sleep 2	# the tail: what the host still holds after the work
	[ -z "$ctl" ] || { kill "$ctl"; wait "$ctl"; }
	kill "$spid"
	wait "$spid"
	# shellcheck disable=SC2016 # expanded in L2
	l2 'dmesg > /run/vshape/dmesg.txt; oom=$(grep -c "Out of memory\|oom-kill" /run/vshape/dmesg.txt); echo "# L2 dmesg: $oom OOM lines"; grep -E "WARNING:|BUG:|Oops|Call Trace:" /run/vshape/dmesg.txt | head -5'
	# the samples and L2's log are in: end L2 at once (QEMU exits
	# cleanly on SIGTERM); the agent's clean poweroff of L2 (stop_l2)
	# took 1-2 minutes here, 15 times a run
	kill "$(cat /tmp/l2scen/qemu.pid)" 2>/dev/null
	scripts/vm --wait /tmp/l2scen > /dev/null 2>&1
	# L2's kernel log, for report.py's check and for reading
	cp /tmp/l2scen/dmesg.txt "$out/rep$rep-$cfg.dmesg" 2>/dev/null
	[ -z "$ctl" ] || cp /tmp/scen-controller.log "$out/rep$rep-$cfg.controller.log"
	printf 'config=%s\nrep=%s\nworkload=%s\nworkload_rc=%s\nkver=%s\nperiod_ms=%s\nl2_mib=%s\nworkload_env=%s\ndriver=%s\nl2_boot_s=%s\nsetup_s=%s\nsettle_s=%s\nsettle=%s\nsettle_balloon_mib=%s\nsettle_target_mib=%s\nworkload_s=%s\nend_utc=%s\n' \
		"$cfg" "$rep" "$SCEN_WORKLOAD" "$rc" "$SCEN_KVER" "$period" "$l2mib" "${SCEN_WL_ENV:-}" "$drv" \
		"$boot_s" "$setup_s" "$settle_s" "$settle_how" "$settle_mib" "$settle_want" "$wl_s" "$(date -u +%FT%TZ)" > "$out/rep$rep-$cfg.meta"
	[ "$rc" = 0 ]
}

fails=0
for cfg in "${configs[@]}"; do
	run_config "$cfg" || fails=$((fails + 1))
done
vdpa dev del vs0
rmmod vshape_host
dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace:' | head -5 | sed 's/^/# L1 dmesg| /'
log "done, $fails configuration(s) failed"
[ "$fails" = 0 ]
