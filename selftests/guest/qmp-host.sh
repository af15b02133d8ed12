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
#      guest stays healthy (allocates, nothing OOM-killed).
# Prints TAP.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
kver=$(scripts/kernels "${1:?usage: qmp-host.sh <kver>}" | tail -n1)
ko=$top/build/$kver/guest/vshape_guest.ko
[ -f "$ko" ] || scripts/build-kmods "$kver" >/dev/null
make -s -C selftests/guest >/dev/null

ram_mb=2048
run=$top/build/check/qmp-$kver
rm -rf "$run"
mkdir -p "$run/box"
sock=$run/qmp.sock
n=0 req=0

tap() {	# tap STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

qmp() { scripts/qmp "$sock" "$@"; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$run/qemu.pid")/status"; }

# Ask the guest for something; its key=value answer goes to $reply.
# (Not called in $(...): the request counter must survive the call.)
ask() {
	local i
	req=$((req + 1))
	echo "$1" > "$run/box/req.$req"
	for i in $(seq 600); do
		if [ -f "$run/box/resp.$req" ]; then
			reply=$(cat "$run/box/resp.$req")
			return 0
		fi
		sleep 0.2
	done
	echo "# guest did not answer '$1'" >&2
	return 1
}

val() { sed -n "s/^$1=//p"; }

# One row of the step table (make demo prints these): what the host asked,
# what the guest holds and has free, what the host process uses.
row() { # row STEP GUEST-STATE
	printf '# | %-34s | %10s | %12s | %12s | %12s |\n' "$1" \
		"$(( $(qmp query-balloon | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual"])') >> 20 )) MiB" \
		"$(( $(echo "$2" | val actual_kb) >> 10 )) MiB" \
		"$(( $(echo "$2" | val MemFree_kb) >> 10 )) MiB" \
		"$(( $(rss_kb) >> 10 )) MiB"
}

# QMP's "actual" is the guest's size: RAM less the balloon; the guest
# updates it after every message (16 MiB at most).  Wait until it equals
# $1, or without $1 until it has not moved for 2 s; print it in bytes.
wait_actual() {
	local want=${1:-} prev=-1 cur i same=0
	for i in $(seq 240); do
		cur=$(qmp query-balloon | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual"])')
		[ -n "$want" ] && [ "$cur" = "$want" ] && break
		if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=0; fi
		[ -z "$want" ] && [ "$same" -ge 4 ] && break
		prev=$cur
		sleep 0.5
	done
	echo "$cur"
}

# Never leave a VM behind, whatever fails below.
cleanup() {
	local pid
	pid=$(cat "$run/qemu.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
}
trap cleanup EXIT

scripts/vm --kernel "$kver" --mem ${ram_mb}M --quiet --timeout 600 \
	--rundir "$run/vm" --qmp "$sock" --pidfile "$run/qemu.pid" \
	--results "$run/box" --background \
	--qemu-arg "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on" \
	--env "VSHAPE_KO=$ko" --env "VSHAPE_MAILBOX=$run/box" \
	-- selftests/guest/qmp-guest.sh > /dev/null

for _ in $(seq 600); do [ -f "$run/box/ready" ] && break; sleep 0.5; done
if [ ! -f "$run/box/ready" ]; then
	echo "not ok 1 - guest ready"
	scripts/vm --wait "$run/vm" > /dev/null || true
	tail -30 "$run/vm/console.log" 2>/dev/null | sed 's/^/# /'
	exit 1
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
echo "# QEMU RSS ${rss0} KiB -> ${rss1} KiB; guest size $((got >> 20)) MiB"
[ $((rss0 - rss1)) -ge $((1024 * 1024 * 9 / 10)) ]
tap $? "inflating 1 GiB drops QEMU RSS by >= 90% of 1 GiB"
ask state
during=$reply
free_during=$(echo "$during" | val MemFree_kb)
row "host: balloon to 1 GiB" "$during"

# 2. Deflate: the guest has the memory again.
qmp balloon $((ram_mb << 20)) > /dev/null
wait_actual $((ram_mb << 20)) > /dev/null
ask state
after=$reply
free_after=$(echo "$after" | val MemFree_kb)
row "host: balloon back to 2 GiB" "$after"
echo "# guest MemFree ${free_during} KiB -> ${free_after} KiB, balloon $(echo "$after" | val actual_kb) KiB"
[ "$(echo "$after" | val actual_kb)" = 0 ] &&
	[ $((free_after - free_during)) -ge $((1024 * 1024 * 9 / 10)) ]
tap $? "deflating gives the 1 GiB back to the guest"

# 3. A target beyond the guest's RAM: clamped at the floor, guest healthy.
qmp balloon 1 > /dev/null
wait_actual > /dev/null
ask alloc
st=$reply
row "host: balloon to 1 byte (floor)" "$st"
echo "$st" | grep -E '^(actual_kb|host_target_kb|floor_kb|MemFree_kb|MemTotal_kb|floor_stops|oom_kills|alloc_status)=' | sed 's/^/# /'
held=$(echo "$st" | val actual_kb)
total=$(echo "$st" | val MemTotal_kb)
[ "$held" -gt 0 ] && [ "$held" -lt "$total" ] &&
	[ "$(echo "$st" | val floor_stops)" -gt 0 ]
tap $? "a host target above guest RAM is clamped at the floor"
[ "$(echo "$st" | val alloc_status)" = 0 ] && [ "$(echo "$st" | val oom_kills)" = 0 ]
tap $? "the guest stays healthy at the floor (allocates, no OOM kill)"

ask quit || true
rc=0
scripts/vm --wait "$run/vm" > /dev/null || rc=$?
[ "$rc" -eq 0 ]
tap $? "guest exits cleanly"
grep '^# dmesg' "$run/vm/console.log" 2>/dev/null || true
echo "1..$n"
