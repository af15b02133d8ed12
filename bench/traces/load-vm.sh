#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Show that bench/traces/vm-100ms.vsm loads in vshape_guest (6.12 guest,
# TCG here) and measure the in-kernel step cost of the built-in model and
# of vm-100ms.vsm from the records' step_ns column (TCG-emulated, not
# native).  Output in build/traces/load/; prints model-load.txt and the
# step cost summary.   bench/traces/load-vm.sh [kver-series]   (~2 min)
set -euo pipefail
cd "$(dirname "$0")/../.."
kver=$(scripts/kernels "${1:-6.12}" | tail -n1)
out=$PWD/build/traces/load
ko=$PWD/build/traces/$kver/vshape_guest.ko
make -s -C tools vs-record
gcc -O2 -Wall -Wextra -Werror -o bench/traces/memphase bench/traces/memphase.c
if [ ! -f "$ko" ]; then
	[ -f "build/$kver/guest/vshape_guest.ko" ] || scripts/build-kmods "$kver" >/dev/null
	mkdir -p "$(dirname "$ko")"
	cp "build/$kver/guest/vshape_guest.ko" "$ko"
fi
rm -rf "$out"; mkdir -p "$out"
scripts/vm --kernel "$kver" --mem 2G --smp 2 --quiet --timeout 600 \
	--console "$out/console.log" --results "$out" \
	--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on" \
	--env "VSHAPE_KO=$ko" --env "TRACE_OUT=$out" \
	-- bench/traces/in-vm-load.sh
cat "$out/model-load.txt"
bench/traces/kernel-json.sh
