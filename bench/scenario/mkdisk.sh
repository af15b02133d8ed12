#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The scenario benchmark's workload disk: a squashfs image that L2 mounts
# read-only (bench/scenario/l1.sh gives it as virtio-pmem) and runs the
# workload in (chroot), so that the workload's programs and files come
# from a block device through L2's page cache, as in a real VM, and not
# from L2's 9p root: in L2 (KVM in a TCG L1), 9p read 0.07-0.3 MiB/s on
# the 2-core machine at load 8-12 (loading cc1 for one gcc -c took over
# 4 minutes; reading a 256 MiB file over 8 minutes).
#
#   bench/scenario/mkdisk.sh IMAGE WORKLOAD CACHE_FILE [C-FILE...]
#
# The image's root holds:
#   /wl/workload.sh    the workload script (WORKLOAD)
#   /wl/cache.dat      CACHE_FILE (the page-cache phase reads it)
#   /wl/src/NAME.i     each C-FILE preprocessed here (gcc -E, the
#                      checkout's include paths), for the compile phase:
#                      the compiler then reads no header
#   /wl/memtouch       selftests/guest/memtouch
#   the programs the default workload runs (bash, cat, rm, mkfifo, seq,
#   gcc with cc1 and as, sqlite3) and SCEN_DISK_PROGS (more program
#   names), each with the shared libraries ldd lists; /tmp, /dev and
#   /proc are empty mount points.
# Run from the checkout's root (bench/scenario/run.sh does).
set -euo pipefail
img=$1 workload=$2 cache=$3
shift 3
root=$(mktemp -d "${TMPDIR:-/tmp}/scen-disk.XXXXXX")
trap 'rm -rf "$root"' EXIT

# put FILE: copy FILE (following symbolic links) to the same path in
# the image, and the symbolic link itself when FILE is one.
put() {
	local f=$1 real
	real=$(readlink -f "$f")
	mkdir -p "$root$(dirname "$real")"
	cp "$real" "$root$real"
	if [ "$real" != "$f" ]; then
		mkdir -p "$root$(dirname "$f")"
		ln -sfn "$real" "$root$f"
	fi
}
# libs PROGRAM: every library PROGRAM loads.
libs() {
	local lib
	for lib in $(ldd "$1" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'); do
		put "$lib"
	done
}
# prog NAME-OR-PATH: the program and its libraries.
prog() {
	local p
	p=$(command -v "$1") || { echo "mkdisk: no program $1" >&2; return 1; }
	put "$p"
	libs "$p"
}

read -r -a extra <<<"${SCEN_DISK_PROGS:-}"
for p in bash cat rm mkfifo seq gcc as sqlite3 "$(gcc -print-prog-name=cc1)" "${extra[@]}"; do
	prog "$p"
done
# bash as /bin/bash and /bin/sh for "#!" lines, whichever usrmerge did
mkdir -p "$root/bin"
[ -e "$root/bin/bash" ] || ln -s /usr/bin/bash "$root/bin/bash"
ln -sfn bash "$root/bin/sh"
mkdir -p "$root/wl/src" "$root/tmp" "$root/dev" "$root/proc"
cp "$workload" "$root/wl/workload.sh"
cp selftests/guest/memtouch "$root/wl/memtouch"
libs selftests/guest/memtouch
cp "$cache" "$root/wl/cache.dat"
for c in "$@"; do
	gcc -E -Ipredictor -Iinclude -o "$root/wl/src/$(basename "${c%.c}").i" "$c"
done
rm -f "$img"
# squashfs, not ext4: L2 loads one small module for it instead of ext4,
# jbd2, mbcache and crc16 (bench/scenario/l1.sh); uncompressed (-noI -noD
# -noF -noX), so that a read in L2 is a copy, as it was from ext4
mksquashfs "$root" "$img" -noappend -quiet -no-progress -all-root -noI -noD -noF -noX > /dev/null
# padded to a whole number of 128 MiB (a memory block: L2 maps it as
# virtio-pmem); squashfs ignores what follows its bytes_used
truncate -s $((($(stat -c %s "$img") + (128 << 20) - 1) / (128 << 20) * (128 << 20))) "$img"
