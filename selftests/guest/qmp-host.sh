#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The host's side of the balloon, on one kernel:
#
#   selftests/guest/qmp-host.sh <kver>
#
# Boots a 2 GiB VM with QEMU's stock virtio-balloon, lets the guest make
# its RAM resident (qmp-guest.sh), then acts as the host over QMP:
#   1. balloon 1 GiB: QEMU's RSS drops by >= 90% of 1 GiB;
#   2. deflate: the guest gets the memory back;
#   3. a target above the guest's RAM is clamped at the floor, and the
#      guest stays healthy (allocates, nothing OOM-killed);
# then checks the guest's kernel log.  Prints TAP.  Not under set -e: a
# failed check is a "not ok" and the next checks still run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=selftests/lib/lib.sh
. selftests/lib/lib.sh
kver=$(scripts/kernels "${1:?usage: qmp-host.sh <kver>}" | tail -n1)
ko=$top/build/$kver/guest/vshape_guest.ko
[ -f "$ko" ] || scripts/build-kmods "$kver" >/dev/null || tap_bail "build vshape_guest.ko for $kver"
make -s -C selftests/guest >/dev/null || tap_bail "make -C selftests/guest"

ram_mb=2048
run=$top/build/check/qmp-$kver
rm -rf "$run"
mkdir -p "$run/box"
sock=$run/qmp.sock
box=$run/box
gone=$run/vm/rc	# scripts/vm writes it when the VM has ended

qmp() { scripts/qmp "$sock" "$@"; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$run/qemu.pid")/status"; }

console_tail() { tail -n 30 "$run/vm/console.log" 2>/dev/null | tap_diag; }

# ask REQUEST: the guest's key=value answer goes to $reply; a guest that
# does not answer ends the suite (what follows needs its numbers).
ask() {
	reply=$(mb_ask -g "$gone" "$box" "$1") && return 0
	tap_not_ok "the guest answers '$1'"
	console_tail
	tap_done
}

balloon_actual() {
	qmp query-balloon | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual"])'
}

# One row of the step table (make demo prints these): what the host asked,
# what the guest holds and has free, what the host process uses.
row() { # row STEP GUEST-STATE
	printf '# | %-34s | %10s | %12s | %12s | %12s |\n' "$1" \
		"$(( $(balloon_actual) >> 20 )) MiB" \
		"$(( $(kv actual_kb <<<"$2") >> 10 )) MiB" \
		"$(( $(kv MemFree_kb <<<"$2") >> 10 )) MiB" \
		"$(( $(rss_kb) >> 10 )) MiB"
}

# QMP's "actual" is the guest's size: RAM less the balloon; the guest
# updates it after every message (16 MiB at most).  Wait until it equals
# $1, or without $1 until it has not moved for 2 s; print it in bytes.
wait_actual() {
	local want=${1:-}
	if [ -n "$want" ]; then
		# shellcheck disable=SC2016
		WAIT_INTERVAL=0.5 wait_for 120 '[ "$(balloon_actual)" = "$want" ]'
		balloon_actual
	else
		WAIT_INTERVAL=0.5 wait_stable 120 2 balloon_actual
		echo "$WAIT_VALUE"
	fi
}

# Never leave a VM behind, whatever fails below.
at_exit 'kill "$(cat "$run/qemu.pid" 2>/dev/null)" 2>/dev/null'

tap_plan 7
scripts/vm --kernel "$kver" --mem ${ram_mb}M --quiet --timeout 600 \
	--rundir "$run/vm" --qmp "$sock" --pidfile "$run/qemu.pid" \
	--results "$box" --background --append " $(vs_boot_args)" \
	--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on" \
	--env "VSHAPE_KO=$ko" --env "VSHAPE_MAILBOX=$box" \
	-- selftests/guest/qmp-guest.sh > /dev/null
if ! tap_check "the guest binds vshape_guest and serves the mailbox" \
	mb_wait_ready -g "$gone" "$box" 300; then
	tap_diag 2>/dev/null < "$box/bind-error"
	console_tail
	tap_done
fi

# 1. Inflate 1 GiB: QEMU's RSS drops by at least 90% of it.
printf '# | %-34s | %10s | %12s | %12s | %12s |\n' step "guest size" "guest balloon" "guest MemFree" "QEMU RSS"
ask state
row "guest RAM made resident" "$reply"
rss0=$(rss_kb)
qmp balloon $(((ram_mb - 1024) << 20)) > /dev/null
got=$(wait_actual $(((ram_mb - 1024) << 20)))
sleep 1
rss1=$(rss_kb)
tap_diag "QEMU RSS ${rss0} KiB -> ${rss1} KiB; guest size $((got >> 20)) MiB"
tap_check "inflating 1 GiB drops QEMU RSS by >= 90% of 1 GiB" \
	[ $((rss0 - rss1)) -ge $((1024 * 1024 * 9 / 10)) ]
ask state
during=$reply
free_during=$(kv MemFree_kb <<<"$during")
row "host: balloon to 1 GiB" "$during"

# 2. Deflate: the guest has the memory again.
qmp balloon $((ram_mb << 20)) > /dev/null
wait_actual $((ram_mb << 20)) > /dev/null
ask state
after=$reply
free_after=$(kv MemFree_kb <<<"$after")
row "host: balloon back to 2 GiB" "$after"
tap_diag "guest MemFree ${free_during} KiB -> ${free_after} KiB, balloon $(kv actual_kb <<<"$after") KiB"
tap_check "deflating gives the 1 GiB back to the guest" \
	[ "$(kv actual_kb <<<"$after")" = 0 -a $((free_after - free_during)) -ge $((1024 * 1024 * 9 / 10)) ]

# 3. A target beyond the guest's RAM: clamped at the floor, guest healthy.
qmp balloon 1 > /dev/null
wait_actual > /dev/null
ask alloc
st=$reply
row "host: balloon to 1 byte (floor)" "$st"
grep -E '^(actual_kb|host_target_kb|floor_kb|MemFree_kb|MemTotal_kb|floor_stops|oom_kills|alloc_status)=' <<<"$st" | tap_diag
held=$(kv actual_kb <<<"$st")
total=$(kv MemTotal_kb <<<"$st")
tap_check "a host target above guest RAM is clamped at the floor" \
	[ "$held" -gt 0 -a "$held" -lt "$total" -a "$(kv floor_stops <<<"$st")" -gt 0 ]
tap_check "the guest stays healthy at the floor (allocates, no OOM kill)" \
	[ "$(kv alloc_status <<<"$st")" = 0 -a "$(kv oom_kills <<<"$st")" = 0 ]

ask dmesg
printf '%s\n' "$reply" > "$run/guest-dmesg.txt"
grep -E 'vshape|Killed process' "$run/guest-dmesg.txt" | tap_diag
klog_check "guest ($kver)" "$run/guest-dmesg.txt"
mb_quit -g "$gone" "$box"
rc=0
scripts/vm --wait "$run/vm" > /dev/null || rc=$?
tap_is "guest exits cleanly (scripts/vm status)" "$rc" 0
tap_done
