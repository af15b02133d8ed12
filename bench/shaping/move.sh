# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034,SC2154
#
# timed_move DIR MIB: move the balloon of device vs0 and time it, for
# bench/shaping/{loopback,nested-l1}.sh (sourced, run where vshape_host
# is).  DIR inflate sets target_pages to MIB and waits until the device
# holds MIB inflated; deflate sets 0 and waits for 0 (BENCH_SHTIME does
# the write and the 0.5 ms polling).  Needs SYS, hst(), sizes and reps
# of the caller.
# Sets move_s (seconds, or "timeout N"), move_req (shaping requests),
# move_pfn (PFNs on the standard queues) and move_punched (bytes).
#
# run_moves DRV POINT: print DRV's negotiated features, then for every
# size of $sizes, repetition of $reps and direction call
# POINT DRV MIB REP DIR (which calls timed_move and records the row).
run_moves() {
	local f mib rep dir

	sleep 1
	f=$(hst features)
	echo "# $1: features 0x$(printf %x "$f"), VSHAPE $(((f >> 23) & 1))"
	for mib in "${sizes[@]}"; do
		for rep in $(seq "$reps"); do
			for dir in inflate deflate; do
				"$2" "$1" "$mib" "$rep" "$dir"
			done
		done
	done
}

move_snap() {
	echo "$(hst req_inflate) $(hst req_deflate) $(hst inflate_pages) $(hst deflate_pages) $(hst punched_bytes)"
}

timed_move() {
	local dir=$1 mib=$2 tp=0 want=0 a b
	if [ "$dir" = inflate ]; then
		tp=$((mib * 256)) want=$((mib << 20))
	fi
	read -r -a a <<<"$(move_snap)"
	move_s=$("$BENCH_SHTIME" "$SYS/target_pages" $tp "$SYS/inflated_bytes" $want 600)
	read -r -a b <<<"$(move_snap)"
	if [ "$dir" = inflate ]; then
		move_req=$((b[0] - a[0])) move_pfn=$((b[2] - a[2]))
	else
		move_req=$((b[1] - a[1])) move_pfn=$((b[3] - a[3]))
	fi
	move_punched=$((b[4] - a[4]))
}
