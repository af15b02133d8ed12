#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the vshape_host selftests and print TAP:
#
#   selftests/host/run.sh [loopback] [fuzz] [nested]     (default: all)
#
# loopback: one Linux 6.12 VM (TCG is fine), the vDPA device bound to
#           virtio_vdpa, driven by the same kernel (protocol test).
# fuzz:     one Linux 6.12 VM, the device bound to vhost_vdpa and driven
#           from userspace by vdpa_fuzz (malformed rings and requests).
# nested:   an L1 6.12 VM with KVM inside (-cpu max, kvm_amd/kvm_intel),
#           QEMU 10 in L1 exposing the device to an L2 guest through
#           vhost-vdpa-device-pci with a shared memfd as RAM (memory test).
#
# Exit 0 all passed, 1 a test failed, 4 everything skipped (reason printed).
set -uo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(loopback fuzz nested)

kver=$(ls -d /lib/modules/6.12.*/build 2>/dev/null | head -n1 | cut -d/ -f4)
if [ -z "$kver" ] || [ ! -e "/boot/vmlinuz-$kver" ]; then
	echo "1..0 # SKIP no Linux 6.12 kernel and headers (run scripts/setup)"
	exit 4
fi
command -v qemu-system-x86_64 >/dev/null || {
	echo "1..0 # SKIP qemu-system-x86_64 missing"; exit 4; }
out=$(KBUILD_ARGS="${KBUILD_ARGS:-}" selftests/host/build.sh "$kver") || {
	echo "1..1"; echo "not ok 1 - build vshape_host.ko and vshape_looptest.ko"; exit 1; }
mkdir -p build/check
fuzz=$out/vdpa_fuzz
gcc -O2 -Wall -Wextra -o "$fuzz" selftests/host/vdpa_fuzz.c || {
	echo "1..1"; echo "not ok 1 - build vdpa_fuzz"; exit 1; }

rc_all=4
for s in "${suites[@]}"; do
	echo "# suite $s"
	case $s in
	loopback)
		scripts/vm --kernel "$kver" --mem 2G --quiet --timeout 600 \
			--console "$top/build/check/host-loopback.console" \
			--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
			--env "VSHAPE_LOOPTEST_KO=$out/selftests/host/looptest/vshape_looptest.ko" \
			-- selftests/host/loopback.sh
		rc=$?;;
	fuzz)
		scripts/vm --kernel "$kver" --mem 1G --quiet --timeout 600 \
			--console "$top/build/check/host-fuzz.console" \
			--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
			--env "VSHAPE_FUZZ=$fuzz" \
			-- selftests/host/fuzz.sh
		rc=$?;;
	nested)
		# L2 runs the real guest driver, built for every test kernel
		# (6.12 and 6.1); --nested prebuilds their initramfs on L0.
		# L1 has one vCPU: with two, QEMU 10's multi-threaded TCG
		# triple-faults L1 in about half the runs while L2 (KVM in L1,
		# emulated SVM + nested paging) faults memory in; with one it
		# has not (8 of 8 runs), at about the same speed.
		l2k=$(scripts/kernels | sort -rV | tr '\n' ' ')
		# shellcheck disable=SC2086
		scripts/build-kmods $l2k > /dev/null &&
			make -s -C selftests/guest memtouch > /dev/null || {
			echo "not ok - build vshape_guest.ko for $l2k and memtouch"; rc_all=1; continue; }
		scripts/vm --kernel "$kver" --mem 3G --smp 1 --accel tcg --nested --quiet \
			--timeout 1500 \
			--console "$top/build/check/host-nested-l1.console" \
			--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
			--env "VSHAPE_KVER=$kver" \
			--env "VSHAPE_L2_KVERS=$l2k" \
			--env "VSHAPE_MEMTOUCH=$top/selftests/guest/memtouch" \
			-- selftests/host/nested-l1.sh
		rc=$?;;
	*)
		echo "run.sh: unknown suite $s" >&2; exit 2;;
	esac
	console=$top/build/check/host-$s.console
	[ "$s" = nested ] && console=$top/build/check/host-nested-l1.console
	grep -aE '^(ok|not ok|1\.\.|Bail out|#)' "$console" | tr -d '\r' |
		grep -av '^# \[' || true
	echo "# suite $s exit $rc (console: $console)"
	case $rc in
	0) [ $rc_all = 4 ] && rc_all=0;;
	4) ;;
	*) rc_all=1;;
	esac
done
exit $rc_all
