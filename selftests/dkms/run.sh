#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS suite (TAP): scripts/dkms-vshape installs both packages through
# Debian's dkms for every test kernel (scripts/kernels: 6.1 and 6.12),
# checks what DKMS built and installed, then removes everything.  DKMS
# works on private trees under build/dkms/ (--dkmstree, --sourcetree,
# --installtree, --no-depmod), so /lib/modules and /var/lib/dkms of the
# machine are left alone and parallel suites never see these modules.
#
#   selftests/dkms/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh
top=$PWD
d=$top/build/dkms
log=$top/build/check/dkms-build.log

command -v dkms >/dev/null || tap_bail "dkms not installed (scripts/setup installs it)"
mapfile -t kvers < <(scripts/kernels)
[ ${#kvers[@]} -ge 2 ] || tap_bail "need the 6.1 and 6.12 test kernels (scripts/setup)"

rm -rf "$d"
mkdir -p "$d/src" "$d/tree" "$(dirname "$log")"
for k in "${kvers[@]}"; do mkdir -p "$d/lib/$k"; done
export DKMS_SOURCE_TREE=$d/src
export DKMS_FLAGS="--dkmstree $d/tree --installtree $d/lib --no-depmod"
export DKMS_KVERS="${kvers[*]}"
export VSHAPE_VERSION=0.test
at_exit 'scripts/dkms-vshape remove >/dev/null 2>&1'

# can_run_host KVER: what host/dkms.conf asks of the kernel.
can_run_host() {
	grep -qs '^CONFIG_VDPA=[ym]' "/boot/config-$1" &&
		grep -qs '^CONFIG_VHOST_VDPA=[ym]' "/boot/config-$1"
}

# installed KVER MODULE: the module file DKMS installed, if any.
installed() {
	compgen -G "$d/lib/$1/updates/dkms/$2.ko*" | head -n1
}

scripts/dkms-vshape install > "$log" 2>&1
tap_rc $? "scripts/dkms-vshape install for ${kvers[*]} (log: build/check/dkms-build.log)"
grep -q '^AUTOINSTALL="yes"$' "$d/src/vshape-guest-0.test/dkms.conf" &&
	grep -q '^AUTOINSTALL="yes"$' "$d/src/vshape-host-0.test/dkms.conf" &&
	grep -q '^PACKAGE_VERSION="0.test"$' "$d/src/vshape-host-0.test/dkms.conf"
tap_rc $? "both dkms.conf installed with AUTOINSTALL=yes and the version"

read -r -a dkms_flags <<< "$DKMS_FLAGS"
status=$(dkms status "${dkms_flags[@]}" 2>&1)
echo "$status" | tap_diag
for k in "${kvers[@]}"; do
	ko=$(installed "$k" vshape_guest)
	tap_is "vshape_guest built by DKMS for $k, vermagic" \
		"$(modinfo -F vermagic "${ko:-/nonexistent}" 2>/dev/null | awk '{ print $1 }')" "$k"
	tap_check "dkms status: vshape-guest installed on $k" \
		grep -q "^vshape-guest/0.test, $k, x86_64: installed$" <<< "$status"
	ko=$(installed "$k" vshape_host)
	if can_run_host "$k"; then
		tap_is "vshape_host built by DKMS for $k, vermagic" \
			"$(modinfo -F vermagic "${ko:-/nonexistent}" 2>/dev/null | awk '{ print $1 }')" "$k"
		tap_check "dkms status: vshape-host installed on $k" \
			grep -q "^vshape-host/0.test, $k, x86_64: installed$" <<< "$status"
	else
		# BUILD_EXCLUSIVE: no module, no failure, a message that says why
		[ -z "$ko" ] && ! grep -q "^vshape-host/0.test, $k," <<< "$status" &&
			grep -q "vshape-host not built for $k: the kernel cannot run it" "$log"
		tap_rc $? "vshape-host left out on $k (no vDPA), with a message"
	fi
done

scripts/dkms-vshape remove >> "$log" 2>&1
tap_rc $? "scripts/dkms-vshape remove"
tap_is "dkms status empty after remove" "$(dkms status "${dkms_flags[@]}" 2>&1)" ""
tap_is "no module left in the install tree" "$(find "$d/lib" -type f | wc -l)" 0
tap_is "no source left in the source tree" "$(find "$d/src" -mindepth 1 | wc -l)" 0
tap_done
