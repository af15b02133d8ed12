#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested end-to-end test, L1 side: run INSIDE a 6.12 VM with KVM available
# (run.sh starts it with scripts/vm --nested).  L1 is the host: it loads
# vshape_host, creates vs0 bound to vhost_vdpa, and starts an L2 guest with
# QEMU 10 (KVM, 1 GiB shared memfd RAM, vhost-vdpa-device-pci).  L2 runs
# nested-l2.sh; the two pace each other through the device (see there).
# L1 measures its own Shmem (the memfd) around INFLATE and COMMIT.
#
# TAP on stdout; exit 0 passed, 1 failed, 4 skipped.
set -uo pipefail
cd "$(dirname "$0")/../.."
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 4; }
bail() { echo "Bail out! $*"; exit 1; }
MiB=$((1 << 20))
shmem() { awk '/^Shmem:/{print $2 * 1024}' /proc/meminfo; }

[ -e /dev/kvm ] || skip_all "no /dev/kvm in L1 (nested virtualization unavailable)"
[ -f "${VSHAPE_HOST_KO:-}" ] || skip_all "VSHAPE_HOST_KO missing"
modprobe vhost_iotlb && modprobe vdpa && modprobe vhost_vdpa ||
	skip_all "vdpa/vhost_vdpa modules missing"
mount -t debugfs none /sys/kernel/debug 2>/dev/null

check "vshape_host loads in L1" insmod "$VSHAPE_HOST_KO"
vdpa dev add mgmtdev vshape name vs0 || bail "vdpa dev add failed"
for _ in $(seq 50); do [ -e /dev/vhost-vdpa-0 ] && break; sleep 0.1; done
check "vs0 bound to vhost_vdpa: /dev/vhost-vdpa-0" [ -e /dev/vhost-vdpa-0 ]
SYS=/sys/bus/vdpa/devices/vs0/vshape
LEDGER=/sys/kernel/vshape_host
echo $((512 * MiB)) > $LEDGER/capacity_bytes

l2run=/tmp/l2run
scripts/vm --kernel "$VSHAPE_KVER" --accel kvm --mem 1G --smp 1 --quiet \
	--timeout 1200 --background --rundir $l2run \
	--qemu-arg "-object memory-backend-memfd,id=ram,size=1G,share=on" \
	--qemu-arg "-machine memory-backend=ram" \
	--qemu-arg "-device vhost-vdpa-device-pci,vhostdev=/dev/vhost-vdpa-0" \
	--env "VSHAPE_LOOPTEST_KO=$VSHAPE_LOOPTEST_KO" \
	-- selftests/host/nested-l2.sh >/dev/null || bail "L2 did not start"

# wait_val FILE VALUE TRIES(0.5 s)
wait_val() {
	local i
	for i in $(seq "$3"); do
		[ "$(cat "$1")" = "$2" ] && return 0
		[ -f $l2run/rc ] && break
		sleep 0.5
	done
	echo "# $1 = $(cat "$1"), wanted $2"
	return 1
}

check "L2 booted, negotiated and inflated its marker page" \
	wait_val $SYS/inflated_bytes 4096 1200
check "device is in VA mode (use_va, mm bound)" [ "$(cat $SYS/mode)" = va ]
s0=$(shmem)
echo "# L1 Shmem before INFLATE: $((s0 / MiB)) MiB"
echo $((512 * MiB + 4096)) > $LEDGER/capacity_bytes
check "L2 INFLATE of 256 MiB reached the device" \
	wait_val $SYS/inflated_bytes $((256 * MiB + 4096)) 1200
sleep 1
s1=$(shmem)
echo "# L1 Shmem after INFLATE: $((s1 / MiB)) MiB (drop $(((s0 - s1) / MiB)) MiB)"
check "INFLATE 256 MiB lowers L1 Shmem by >= 240 MiB" [ $((s0 - s1)) -ge $((240 * MiB)) ]
echo $((512 * MiB + 8192)) > $LEDGER/capacity_bytes
check "L2 COMMIT of 128 MiB reached the device" \
	wait_val $SYS/committed_bytes $((128 * MiB)) 1200
s2=$(shmem)
echo "# L1 Shmem after COMMIT: $((s2 / MiB)) MiB (rise $(((s2 - s1) / MiB)) MiB)"
check "COMMIT 128 MiB raises L1 Shmem by >= 120 MiB" [ $((s2 - s1)) -ge $((120 * MiB)) ]
check "ledger charged 128 MiB" [ "$(cat $LEDGER/charged_bytes)" = $((128 * MiB)) ]
echo $((128 * MiB)) > $LEDGER/capacity_bytes

# L2 then loads the in-tree virtio_balloon (STATS_VQ, no VSHAPE).
# Wait until it is running (DRIVER_OK, first stats buffer sent), so the
# new target can only reach it through the config-change interrupt.
stats_vq_negotiated() {
	local f b
	f=$(awk '/^features/{print $2}' /sys/kernel/debug/vshape_host/vs0/stats)
	b=$(awk '/^stats_bufs/{print $2}' /sys/kernel/debug/vshape_host/vs0/stats)
	[ $(( f & 2 )) != 0 ] && [ $(( (f >> 23) & 1 )) = 0 ] && [ "$b" -ge 1 ]
}
for _ in $(seq 1200); do
	stats_vq_negotiated && break
	[ -f $l2run/rc ] && break
	sleep 0.5
done
echo 16384 > $SYS/target_pages
# QEMU's vhost-vdpa-device re-reads the config on every guest read but
# writes back its own copy on a guest write, so the driver's "actual"
# never reaches the device: judge by the pages the device saw inflated.
if wait_val $SYS/inflated_bytes $((64 * MiB)) 360; then
	ok "new target_pages reached L2's virtio_balloon through the config interrupt: 64 MiB inflated"
else
	nok "new target_pages reached L2's virtio_balloon through the config interrupt"
fi
echo "# actual_pages seen by the device: $(cat $SYS/actual_pages) (QEMU drops driver config writes)"

scripts/vm --wait $l2run >/dev/null 2>&1
rc=$?
grep -a '^L2: ' $l2run/console.log | tr -d '\r' | sed -n 's/^L2: //p' > /tmp/l2.tap
while read -r line; do
	case $line in
	"ok - "*) ok "L2: ${line#ok - }";;
	"not ok - "*"# TODO"*) n=$((n + 1)); echo "not ok $n - L2: ${line#not ok - }";;
	"not ok - "*) nok "L2: ${line#not ok - }";;
	"# "*) echo "$line";;
	esac
done < /tmp/l2.tap
check "L2 finished cleanly (exit $rc)" [ "$rc" = 0 ]
check "VM exit reset the device: ledger empty" [ "$(cat $LEDGER/charged_bytes)" = 0 ]
grep -E "^(req|status|bad|punched|populated|throttled|backing)" \
	/sys/kernel/debug/vshape_host/vs0/stats | sed 's/^/# host: /'
vdpa dev del vs0
check "vshape_host unloads; no WARNING/BUG in L1" \
	bash -c "rmmod vshape_host && ! dmesg | grep -qE 'WARNING:|BUG:|Oops'"
if [ "$fails" != 0 ]; then
	echo "# L2 console tail:"; tail -n 40 $l2run/console.log | sed 's/^/# L2| /'
	dmesg | tail -n 30 | sed 's/^/# L1 dmesg| /'
fi
echo "1..$n"
[ "$fails" = 0 ]
