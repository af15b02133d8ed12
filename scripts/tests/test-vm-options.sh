#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP tests of scripts/vm's option checks: each bad option or setting is
# refused with exit 2 and a message naming it, before any VM starts (QEMU
# is replaced by a program that records being called, so a check that
# let a bad value through shows as a started VM, not a hang); and of
# scripts/mkinitramfs refusing a kernel whose modules modprobe cannot
# resolve instead of writing an image without them.
#
#   scripts/tests/test-vm-options.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh
tap_tmpdir && tmp=$TAP_TMPDIR
printf '#!/bin/sh\ntouch "%s/started"\nexit 1\n' "$tmp" > "$tmp/qemu"
chmod +x "$tmp/qemu"

# refused NAME PATTERN ENV-AND-ARGS...: scripts/vm exits 2, its message
# matches PATTERN, and QEMU was never started.
refused() {
	local name=$1 pat=$2 got rc
	shift 2
	rm -f "$tmp/started"
	got=$(env QEMU="$tmp/qemu" "$@" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -qE -- "$pat" <<<"$got" && [ ! -e "$tmp/started" ]; then
		tap_ok "$name"
	else
		tap_not_ok "$name (rc $rc)"
		tap_diag <<<"$got"
	fi
}

refused "--timeout that is not whole seconds" 'whole seconds' \
	scripts/vm --timeout 1.5 -- true
refused "VSHAPE_VM_TIMEOUT_SCALE=0" 'VSHAPE_VM_TIMEOUT_SCALE=0: not a positive integer' \
	VSHAPE_VM_TIMEOUT_SCALE=0 scripts/vm -- true
refused "VSHAPE_VM_TIMEOUT_SCALE=abc" 'VSHAPE_VM_TIMEOUT_SCALE=abc: not a positive integer' \
	VSHAPE_VM_TIMEOUT_SCALE=abc scripts/vm -- true
refused "VSHAPE_VM_TIMEOUT_SCALE=-3" 'not a positive integer' \
	VSHAPE_VM_TIMEOUT_SCALE=-3 scripts/vm -- true
refused "--accel other than auto, kvm or tcg" 'auto, kvm or tcg' \
	scripts/vm --accel xen -- true
refused "no command" 'no command' scripts/vm --timeout 5
refused "an unknown option" 'unknown option --frobnicate' \
	scripts/vm --frobnicate -- true

# modprobe replaced by one that resolves nothing, on an installed kernel
kver=$(scripts/kernels 2>/dev/null | tail -n1)
mkdir -p "$tmp/bin"
cat > "$tmp/bin/modprobe" <<'STUB'
#!/bin/sh
echo "modprobe: FATAL: cannot resolve $*" >&2
exit 1
STUB
chmod +x "$tmp/bin/modprobe"
if [ -z "$kver" ]; then
	tap_not_ok "mkinitramfs refuses unresolvable modules: no test kernel installed (scripts/setup)"
else
	got=$(PATH="$tmp/bin:$PATH" scripts/mkinitramfs --force "$kver" "$tmp/initrd.gz" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -q 'cannot resolve virtio_pci' <<<"$got" &&
		[ ! -e "$tmp/initrd.gz" ] && [ ! -e "$tmp/initrd.gz.key" ]; then
		tap_ok "mkinitramfs refuses a kernel whose modules modprobe cannot resolve, and writes no image"
	else
		tap_not_ok "mkinitramfs refuses a kernel whose modules modprobe cannot resolve, and writes no image (rc $rc)"
		tap_diag <<<"$got"
	fi
fi
tap_done
