# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Host-side checks of the hostile-driver steps (issue 12 item 1), sourced
# by loopback.sh (the driver in the same kernel) and nested-l1.sh (the
# driver in L2): while a hostile driver runs, the host must keep
# answering a sysfs read ($SYS/inflated_bytes), `vdpa dev show vs0` and a
# read of the device's debugfs stats ($HDBG/stats, the one of the three
# that takes the device lock), and no worker step may hold the device
# lock for a second ($HDBG/max_hold_ns).  The caller sets SYS and HDBG
# and has sourced selftests/lib/lib.sh (VS_TIME_SCALE, tap_check).
#
#   probe_idle [N]      the slowest of N (default 5) idle probe rounds: sets
#                       $probe_idle_ms and $probe_limit_ms (idle + 3 s:
#                       TCG on a shared 2-core machine stretches any
#                       latency, while an unbounded pass held the lock
#                       for 13-49 s; the 3 s times VS_TIME_SCALE
#                       on the debug kernel of scripts/check-debug, where
#                       an idle probe alone took 7.6 s)
#   probe_while PID     probe until PID exits, pausing after each round
#                       as long as the round took (0.2 s at least), so
#                       that the probes take at most half of a vCPU the
#                       hostile guest's VMM shares (nested's L1 has one;
#                       on the debug kernel a round of forks takes
#                       seconds); prints "PROBES SLOWEST_MS SLOWEST_NAME"
#   responsive WHAT PROBES SLOWEST_MS NAME
#                       one TAP result: at least one probe, none beyond
#                       the limit (10000 ms: a probe failed or hung)
#   hold_reset          reset max_hold_ns
#   hold_check WHAT     one TAP result: max_hold_ns under 1 s since then
#                       (times VS_TIME_SCALE on the debug kernel,
#                       where one 2 MiB slice of a COMMIT took 2.6 s)
#   slices_read         the device's shaping slices so far ($HDBG/stats)
#   slices_check WHAT S0 N
#                       one TAP result: N requests of 32 MiB took at
#                       least 16 slices each since slices_read gave S0 (a
#                       request runs 2 MiB at most per hold of the device
#                       lock, docs/protocol.md; unlike the lock hold this
#                       does not depend on how fast the host populates:
#                       executed whole, a 32 MiB COMMIT held the lock
#                       145 ms under TCG and hold_check passed)
#   task_cpu_ms PID     user + system CPU time of a task (a kthread too)
#   cgroup_cpu_ms CG    usage_usec / 1000 of cgroup2 path CG (e.g. /vmm)

# probe_ms CMD...: milliseconds CMD took (10000 if it failed or hung)
probe_ms() {
	local t0 t1
	t0=$(date +%s%N)
	timeout 10 "$@" > /dev/null 2>&1 || { echo 10000; return; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# probe_max: "MS NAME" of the slowest of the three probes
probe_max() {
	local a b c
	a=$(probe_ms cat "$SYS/inflated_bytes")
	b=$(probe_ms vdpa dev show vs0)
	c=$(probe_ms cat "$HDBG/stats")
	if [ "$a" -ge "$b" ] && [ "$a" -ge "$c" ]; then echo "$a sysfs"
	elif [ "$b" -ge "$c" ]; then echo "$b vdpa-dev-show"
	else echo "$c debugfs-stats"; fi
}

probe_idle() {
	local t i
	probe_idle_ms=0
	for ((i = 0; i < ${1:-5}; i++)); do
		read -r t _ <<<"$(probe_max)"
		[ "$t" -gt "$probe_idle_ms" ] && probe_idle_ms=$t
	done
	probe_limit_ms=$((probe_idle_ms + 3000 * VS_TIME_SCALE))
}

_probe_gone() { ! kill -0 "$1" 2>/dev/null; }
probe_while() {
	local n=0 max=0 t w what=none t0 us pause
	while kill -0 "$1" 2>/dev/null; do
		t0=${EPOCHREALTIME/./}
		read -r t w <<<"$(probe_max)"; n=$((n + 1))
		[ "$t" -gt "$max" ] && max=$t what=$w
		us=$((${EPOCHREALTIME/./} - t0))
		[ "$us" -ge 200000 ] || us=200000
		printf -v pause '%d.%06d' $((us / 1000000)) $((us % 1000000))
		wait_for -q "$pause" _probe_gone "$1"
	done
	echo "$n $max $what"
}

responsive() {
	tap_check "$1: host responsive ($2 probes, slowest $3 ms ($4), idle $probe_idle_ms ms, limit $probe_limit_ms ms)" \
		test "$2" -ge 1 -a "$3" -le "$probe_limit_ms"
}

hold_reset() { echo 0 > "$HDBG/max_hold_ns"; }
hold_check() {
	local hold lim=$VS_TIME_SCALE
	hold=$(cat "$HDBG/max_hold_ns")
	tap_check "$1: the worker never held the device lock $lim s (longest $((hold / 1000)) us)" \
		test "$hold" -lt $((lim * 1000000000))
}

slices_read() { awk '$1 == "slices" { print $2 }' "$HDBG/stats"; }
slices_check() {
	local n=$(($(slices_read) - $2))
	tap_check "$1: each request executed in slices of at most 2 MiB ($n slices, want >= $(($3 * 16)))" \
		test "$n" -ge $(($3 * 16))
}

task_cpu_ms() {
	local f
	read -r -a f < "/proc/$1/stat" || return 1
	# fields 14 and 15 (utime, stime; the comm has no space here)
	echo $(((f[13] + f[14]) * 1000 / $(getconf CLK_TCK)))
}

cgroup_cpu_ms() {
	awk '$1 == "usage_usec" { print int($2 / 1000) }' "/sys/fs/cgroup$1/cpu.stat"
}
