# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# L1 helpers shared by selftests/host/nested-l1.sh,
# bench/shaping/nested-l1.sh and scripts/demo-shaping-l1.sh (sourced, run
# inside L1): start an L2 guest on /dev/vhost-vdpa-0 with a shared memfd
# as RAM, run snippets in it through the agent of nested-l2.sh (the
# mailbox of selftests/lib/mailbox.sh), read the host's counters, check
# L2's kernel log.

# shellcheck source=selftests/lib/lib.sh
. "${BASH_SOURCE[0]%/*}/../lib/lib.sh"

# shellcheck disable=SC2034 # for the scripts that source this
MiB=$((1 << 20))
# shellcheck disable=SC2034 # for the scripts that source this
SYS=/sys/bus/vdpa/devices/vs0/vshape
# shellcheck disable=SC2034 # for the scripts that source this
LEDGER=/sys/kernel/vshape_host
HDBG=/sys/kernel/debug/vshape_host/vs0
HSTATS=$HDBG/stats

shmem() { awk '/^Shmem:/{print $2 * 1024}' /proc/meminfo; }
# L2's RAM is a shared memfd, or with L2_RAM_FILE set a shared file at
# that path (e.g. on a tmpfs mounted with huge=, so 2 MiB folios back it),
# mapped 2 MiB-aligned.
# memfd_bytes: allocated bytes (st_blocks) of L2's RAM, the memfd QEMU
# holds open (or L2_RAM_FILE); what hole punching frees and fallocate
# allocates.
memfd_bytes() {
	local f
	if [ -n "${L2_RAM_FILE:-}" ]; then
		echo $(($(stat -c %b "$L2_RAM_FILE") * 512))
		return 0
	fi
	for f in /proc/"$(cat "$l2run/qemu.pid")"/fd/*; do
		case $(readlink "$f") in
		/memfd:*) echo $(($(stat -L -c %b "$f") * 512)); return 0;;
		esac
	done
	echo 0
	return 1
}
hst() { awk -v k="$1" '$1 == k { print $2 }' "$HSTATS"; }

# start_l2 KVER RUNDIR [extra scripts/vm args...]: boot L2 with the agent
# and wait until it is up (returns 1 if it is not within 10 minutes, times
# VS_TIME_SCALE: scripts/check-debug's debug L1 runs L2 several times
# slower, and scripts/vm multiplies L2's own time limit the same way).
# L2_DEVICE replaces the balloon device (default: vshape_host's vs0
# through vhost-vdpa-device-pci), e.g. QEMU's own virtio-balloon-pci.
# L2_VM_TIMEOUT (default 2400 s, nested's own limit on L1, which an L2
# cannot outlive anyway; 1200 s was too short: the first L2 of nested
# lives about 200 s under Debian's L1 and the debug L1 is 15-80 times
# slower, against a limit of 1200 s x 4 there) bounds the L2 VM's whole
# life; L2_MEM (default 1G) is L2's RAM.  With L2_CGROUP set (a cgroup2
# path such as /l2vmm, created if needed) QEMU runs in that cgroup, as a
# VMM would.
#
# Under a slower L1 (VS_TIME_SCALE > 1: the debug L1) L2 boots without
# the soft-lockup watchdog and RCU stall warnings: its clock runs on
# while its vCPU waits for L1 (every exit and nested page fault goes
# through the debug L1's KVM), so a stretch of 2-3 s of L2 kernel work
# spans a minute of its time ("BUG: soft lockup - CPU#0 stuck for 52s!
# [swapper/0:1]" during L2's boot, 2026-12-02).  Those detectors watch
# L2's kernel, not the host module; they stay on in the nested run on
# Debian's kernels.
start_l2() {
	local kver=$1 mem=${L2_MEM:-1G} in_cg=() slow=''
	local ram=memory-backend-memfd,id=ram,size=$mem,share=on
	l2run=$2
	shift 2
	rm -rf "$l2run"
	mkdir -p "$l2run"
	[ "$VS_TIME_SCALE" = 1 ] || slow=' nowatchdog rcupdate.rcu_cpu_stall_suppress=1'
	[ -z "${L2_RAM_FILE:-}" ] ||
		ram=memory-backend-file,id=ram,size=$mem,share=on,mem-path=$L2_RAM_FILE,align=2M
	if [ -n "${L2_CGROUP:-}" ]; then
		mkdir -p "/sys/fs/cgroup$L2_CGROUP" || return 1
		# shellcheck disable=SC2016 # expanded by bash -c
		in_cg=(bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "/sys/fs/cgroup$L2_CGROUP")
	fi
	"${in_cg[@]}" scripts/vm --kernel "$kver" --accel kvm --mem "$mem" --smp 1 --quiet \
		--timeout "${L2_VM_TIMEOUT:-2400}" --background --rundir "$l2run" \
		--append " $(vs_boot_args)$slow" \
		--qemu-arg "-object $ram" \
		--qemu-arg "-machine memory-backend=ram" \
		--qemu-arg "-device ${L2_DEVICE:-vhost-vdpa-device-pci,vhostdev=/dev/vhost-vdpa-0}" \
		"$@" -- selftests/host/nested-l2.sh > /dev/null || return 1
	# scripts/vm writes RUNDIR/rc when the VM has ended
	mb_wait_ready -g "$l2run/rc" "$l2run" $((600 * VS_TIME_SCALE))
}

# l2 SNIPPET: run a bash snippet in L2; print its output, return its status
# (125 if L2 is gone, 124 after L2_TIMEOUT seconds, default 600).  The
# agent runs one snippet at a time: after a timeout the next requests
# wait behind the late one.  240 s was too short for touching 700 MiB in
# L2 while six other VMs shared the 2-core host (the following checks
# then measured L1 while L2 was still faulting memory in).
l2() {
	mb_ask -t $((${L2_TIMEOUT:-600} * VS_TIME_SCALE)) -g "$l2run/rc" "$l2run" "$*"
}

# stop_l2: end the agent, wait for the VM; returns the VM's status.
stop_l2() {
	mb_quit -t $((60 * VS_TIME_SCALE)) -g "$l2run/rc" "$l2run"
	# shellcheck disable=SC2016 # evaluated by wait_for at each try
	wait_for -q $((60 * VS_TIME_SCALE)) '[ -f "$l2run/rc" ]' ||
		{ echo "# L2 did not exit: killing QEMU"; kill "$(cat "$l2run/qemu.pid")"; }
	scripts/vm --wait "$l2run" > /dev/null 2>&1
}

# wait_host FILE VALUE SECS: poll a sysfs file until it reads VALUE (gives
# up early when L2 has ended).
_host_is_or_gone() { file_is "$1" "$2" || [ -f "$l2run/rc" ]; }
wait_host() {
	wait_for -q $(($3 * VS_TIME_SCALE)) _host_is_or_gone "$1" "$2"
	file_is "$1" "$2" && return 0
	echo "# $1 = $(cat "$1"), wanted $2"
	return 1
}

# l2_klog_check LABEL: one TAP result for L2's kernel log: its whole ring
# buffer fetched over the mailbox (the console only carries KERN_ERR and
# worse under "quiet"); if L2 no longer answers, its console is scanned
# and the result fails.
l2_klog_check() {
	if l2 dmesg > "$l2run/dmesg.txt" 2>&1; then
		klog_check "$1" "$l2run/dmesg.txt"
	else
		tap_not_ok "$1 kernel log: L2 did not answer 'dmesg'"
		klog_scan "$l2run/console.log" | tap_diag
	fi
}
