#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build vshape_host.ko alone (host/Kbuild) and the loopback test driver
# vshape_looptest.ko (selftests/host/looptest/Kbuild) for one kernel in
# build/host-selftest/<kver>/, a copy of the sources laid out as in the
# checkout, and vshape_host's test flavour (VSHAPE_TEST=1, fault
# injection for the fuzz suite) in a second copy under test/.  Prints
# that directory; the modules are
#   <dir>/host/vshape_host.ko
#   <dir>/test/host/vshape_host.ko          (test flavour)
#   <dir>/selftests/host/looptest/vshape_looptest.ko
#
#   selftests/host/build.sh [kver]      default: the Debian 6.12 kernel
set -euo pipefail
# shellcheck source=scripts/lib/vshape.sh
. "$(dirname "$0")/../../scripts/lib/vshape.sh"
cd "$VS_ROOT"
kver=${1:-$(scripts/kernels 6.12 2>/dev/null | tail -n1)}
if [ -z "$kver" ] || [ ! -d "/lib/modules/$kver/build" ]; then
	echo "build.sh: no 6.12 kernel headers" >&2; exit 4
fi
out=$VS_ROOT/build/host-selftest/$kver
# One build of a tree at a time: make check's two lanes (the host suite,
# loop-nested, vm-shaping-loopback) each call this script, and two
# kbuilds in one tree delete each other's .o.d files (fixdep: error
# opening file).  The second waits, then finds nothing to rebuild.
mkdir -p "$out"
exec 9> "$out.lock"
flock 9
# the layout before host/ had its own Kbuild
rm -rf "$out/host-only" "$out/looptest"
vs_sync_tree "$out" compat host include selftests/host/looptest \
	guest/shaping.c guest/shaping.h guest/shaping_internal.h \
	guest/shaping_test.c guest/vshape_guest.h guest/reporting.h
# shellcheck disable=SC2086
make -s -C "/lib/modules/$kver/build" M="$out/host" ${KBUILD_ARGS:-} modules >&2
[ -f "$out/host/vshape_host.ko" ] || {
	echo "build.sh: vshape_host.ko not built for $kver (see host/Kbuild)" >&2; exit 1; }
# shellcheck disable=SC2086
make -s -C "/lib/modules/$kver/build" M="$out/selftests/host/looptest" ${KBUILD_ARGS:-} modules >&2
vs_sync_tree "$out/test" compat host include
# shellcheck disable=SC2086
make -s -C "/lib/modules/$kver/build" M="$out/test/host" VSHAPE_TEST=1 ${KBUILD_ARGS:-} modules >&2
[ -f "$out/test/host/vshape_host.ko" ] || {
	echo "build.sh: the test flavour of vshape_host.ko not built for $kver" >&2; exit 1; }
echo "$out"
