# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The host side shared by record-vm.sh and load-vm.sh (sourced, from the
# checkout's root):
#
#   traces_prepare KVER-SERIES
#       set $kver (the newest installed kernel of the series) and $ko
#       (build/traces/<kver>/vshape_guest.ko: our own copy of the module,
#       since others rebuild build/<kver>/ while we record), build
#       tools/vs-record and bench/traces/memphase.
#   traces_vm OUT TIMEOUT SCRIPT [SCRIPT-ENV...]
#       boot $kver as the traces are taken (2 GiB, 2
#       vCPUs, QEMU's virtio-balloon) with OUT as its results directory
#       and console log, VSHAPE_KO=$ko and TRACE_OUT=OUT, extra
#       "NAME=VALUE" environment, and run SCRIPT in it; the array
#       traces_qemu_args (if set) adds scripts/vm options (--qemu-arg ...).
#   traces_cut RAW DATA
#       cut RAW/session.csv into one trace per workload by RAW/marks.txt
#       ("<workload> start|end <last seq at that moment>"):
#       DATA/<workload>.csv.xz, the records CSV's header and the rows of
#       seq first..last.

traces_prepare() {
	kver=$(scripts/kernels "$1" | tail -n1)
	ko=$PWD/build/traces/$kver/vshape_guest.ko
	make -s -C tools vs-record
	gcc -O2 -Wall -Wextra -Werror -o bench/traces/memphase bench/traces/memphase.c
	if [ ! -f "$ko" ]; then
		[ -f "build/$kver/guest/vshape_guest.ko" ] || scripts/build-kmods "$kver" >/dev/null
		mkdir -p "$(dirname "$ko")"
		cp "build/$kver/guest/vshape_guest.ko" "$ko"
	fi
}

traces_vm() {
	local out=$1 timeout=$2 script=$3 env=() e
	shift 3
	for e in "$@"; do env+=(--env "$e"); done
	# shellcheck disable=SC2154 # traces_qemu_args: the caller's, optional
	scripts/vm --kernel "$kver" --mem 2G --smp 2 --quiet --timeout "$timeout" \
		--console "$out/console.log" --results "$out" \
		--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on" \
		${traces_qemu_args[@]+"${traces_qemu_args[@]}"} \
		--env "VSHAPE_KO=$ko" --env "TRACE_OUT=$out" "${env[@]}" \
		-- "$script"
}

traces_cut() {
	local raw=$1 data=$2 w what s from=0
	while read -r w what s; do
		[ "$what" = start ] && { from=$((s + 1)); continue; }
		awk -F, -v a="$from" -v b="$s" 'NR == 1 || ($1 >= a && $1 <= b)' \
			"$raw/session.csv" | xz -9e > "$data/$w.csv.xz"
		echo "$w: seq $from..$s, $((s - from + 1)) rows -> $data/$w.csv.xz"
	done < "$raw/marks.txt"
}
