#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the vshape_host selftests and print one TAP stream:
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
# Each sub-suite's results are renumbered into this stream (tap_import):
# its failures and skips (with their reasons) all show, its plan is
# checked, and a sub-suite that ends without results or with a non-zero
# status is a failure.  No 6.12 kernel is a failure, not a skip.
# Exit 0 all passed (skips allowed), 1 something failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=selftests/lib/lib.sh
. selftests/lib/lib.sh
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(loopback fuzz nested)

# VSHAPE_HOST_KVER: another 6.12 kernel (scripts/check-debug's debug build)
# VSHAPE_L2_SERIES: nested's L2 kernels of this series only (default every
# test kernel, 6.12 then 6.1)
# VSHAPE_HOST_JOBS: 2 (default) runs the nested VM (one vCPU, the longest
# sub-suite) in the background while loopback and fuzz run one after the
# other beside it, its results last; 1: one VM at a time.
jobs=${VSHAPE_HOST_JOBS:-2}
case $jobs in 1|2) ;; *) tap_bail "VSHAPE_HOST_JOBS=$jobs: 1 or 2";; esac
if [ "$jobs" = 2 ] && [[ " ${suites[*]} " == *" nested "* ]]; then
	# the longest first, so that the others run beside it
	read -r -a suites <<<"nested ${suites[*]/nested/}"
fi
# VSHAPE_VM_TIMEOUT_SCALE: scripts/vm multiplies each VM's time limit by it and passes it in
kver=${VSHAPE_HOST_KVER:-$(scripts/kernels 6.12 2>/dev/null | tail -n1)}
if [ -z "$kver" ] || [ ! -d "/lib/modules/$kver/build" ] || [ ! -e "/boot/vmlinuz-$kver" ]; then
	tap_bail "no Linux 6.12 kernel and headers (run scripts/setup)"
fi
command -v qemu-system-x86_64 >/dev/null || tap_bail "qemu-system-x86_64 missing (run scripts/setup)"
out=$(KBUILD_ARGS="${KBUILD_ARGS:-}" selftests/host/build.sh "$kver") ||
	tap_bail "build vshape_host.ko and vshape_looptest.ko"
mkdir -p build/check
fuzz=$out/vdpa_fuzz
gcc -O2 -Wall -Wextra -o "$fuzz" selftests/host/vdpa_fuzz.c || tap_bail "build vdpa_fuzz"

# vm_suite NAME CONSOLE scripts/vm-ARGS...: run a sub-suite in a VM, print
# the TAP lines of its console, exit with scripts/vm's status.
# shellcheck disable=SC2317 # run by tap_import below
vm_suite() {
	local console=$2 rc=0
	rm -f "$console"
	scripts/vm --quiet --console "$console" --append " $(vs_boot_args)" "${@:3}" || rc=$?
	grep -aE '^(ok|not ok|1\.\.|Bail out|#)' "$console" | tr -d '\r' | grep -av '^# \['
	echo "# suite $1: scripts/vm exit $rc (console: ${console#"$top"/})"
	return "$rc"
}

for s in "${suites[@]}"; do
	tap_diag "suite $s"
	case $s in
	loopback)
		tap_import -n loopback vm_suite loopback "$top/build/check/host-loopback.console" \
			--kernel "$kver" --mem 2G --timeout 900 \
			--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
			--env "VSHAPE_LOOPTEST_KO=$out/selftests/host/looptest/vshape_looptest.ko" \
			-- selftests/host/loopback.sh;;
	fuzz)
		tap_import -n fuzz vm_suite fuzz "$top/build/check/host-fuzz.console" \
			--kernel "$kver" --mem 1G --timeout 600 \
			--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko" \
			--env "VSHAPE_HOST_TEST_KO=$out/test/host/vshape_host.ko" \
			--env "VSHAPE_FUZZ=$fuzz" \
			--env "VSHAPE_FUZZ_ITERS=${VSHAPE_FUZZ_ITERS:-200}" \
			--env "VSHAPE_FUZZ_SEED=${VSHAPE_FUZZ_SEED:-1}" \
			-- selftests/host/fuzz.sh;;
	nested)
		# L2 runs the real guest driver, built for every test kernel
		# (6.12 and 6.1); --nested prebuilds their initramfs on L0.
		# L1 has one vCPU: with two, QEMU 10's multi-threaded TCG
		# triple-faults L1 in about half the runs while L2 (KVM in L1,
		# emulated SVM + nested paging) faults memory in; with one it
		# has not (8 of 8 runs), at about the same speed.
		# VSHAPE_L2_SERIES (scripts/check-debug: 6.12) limits L2
		# to the kernels of one series
		l2k=$(scripts/kernels ${VSHAPE_L2_SERIES:+"$VSHAPE_L2_SERIES"} | sort -rV | tr '\n' ' ')
		# shellcheck disable=SC2086
		if ! tap_check "nested: build vshape_guest.ko for $l2k and memtouch" \
			bash -c "VSHAPE_TEST=1 scripts/build-kmods $l2k > /dev/null && make -s -C selftests/guest memtouch > /dev/null"; then
			continue
		fi
		# the hostile test driver for the first L2 kernel
		l2out=$out
		[ "${l2k%% *}" = "$kver" ] ||
			l2out=$(KBUILD_ARGS="${KBUILD_ARGS:-}" selftests/host/build.sh "${l2k%% *}") ||
			tap_bail "build vshape_looptest.ko for ${l2k%% *}"
		nested=(vm_suite nested "$top/build/check/host-nested-l1.console"
			--kernel "$kver" --mem 3G --smp 1 --accel tcg --nested
			--timeout 2400
			--env "VSHAPE_HOST_KO=$out/host/vshape_host.ko"
			--env "VSHAPE_KVER=$kver"
			--env "VSHAPE_L2_KVERS=$l2k"
			--env "VSHAPE_MEMTOUCH=$top/selftests/guest/memtouch"
			--env "VSHAPE_L2_LOOPTEST_KO=$l2out/selftests/host/looptest/vshape_looptest.ko"
			-- selftests/host/nested-l1.sh)
		if [ "$jobs" = 1 ]; then
			tap_import -n nested "${nested[@]}"
		else
			tap_tmpdir || tap_bail "tap_tmpdir"
			( "${nested[@]}" > "$TAP_TMPDIR/nested.tap" 2>&1
			  echo $? > "$TAP_TMPDIR/nested.rc" ) &
			nested_pid=$!
			tap_diag "suite nested: started in the background"
		fi;;
	*)
		echo "run.sh: unknown suite $s" >&2; exit 2;;
	esac
done
if [ -n "${nested_pid:-}" ]; then
	wait "$nested_pid"
	tap_diag "suite nested (ran in the background)"
	# shellcheck disable=SC2016 # run by bash -c
	tap_import -n nested bash -c 'cat "$1"; exit "$(cat "$2")"' _ \
		"$TAP_TMPDIR/nested.tap" "$TAP_TMPDIR/nested.rc"
fi
tap_done
