#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build vshape_host.ko and the loopback test driver vshape_looptest.ko for
# one kernel into build/host-selftest/<kver>/ (a copy of the sources).
# Prints that directory.
#
#   selftests/host/build.sh [kver]      default: the Debian 6.12 kernel
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
kver=${1:-$(ls -d /lib/modules/6.12.*/build 2>/dev/null | head -n1 | cut -d/ -f4)}
[ -n "$kver" ] && [ -d "/lib/modules/$kver/build" ] || {
	echo "build.sh: no 6.12 kernel headers" >&2; exit 4; }
out=$top/build/host-selftest/$kver
mkdir -p "$out/host-only" "$out/looptest/guest"
# host module alone (the guest module may be mid-edit by someone else)
cp -ru --preserve=timestamps host include "$out/host-only/"
sed -n '/^# --- host:/,/^endif/p' Kbuild | sed '1i ccflags-y += -I$(src)/include' \
	> "$out/host-only/Kbuild"
make -s -C "/lib/modules/$kver/build" M="$out/host-only" ${KBUILD_ARGS:-} modules >&2
# loopback test driver
cp -u --preserve=timestamps selftests/host/looptest/looptest.c \
	selftests/host/looptest/Kbuild "$out/looptest/"
cp -u --preserve=timestamps guest/shaping.c guest/shaping.h \
	guest/vshape_guest.h guest/compat.h "$out/looptest/guest/"
cp -ru --preserve=timestamps include "$out/looptest/"
make -s -C "/lib/modules/$kver/build" M="$out/looptest" ${KBUILD_ARGS:-} modules >&2
echo "$out"
