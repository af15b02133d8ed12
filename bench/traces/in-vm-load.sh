#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside a VM (run by load-vm.sh): load vshape_guest ($VSHAPE_KO), record
# 40 s of memphase with the built-in model, load bench/traces/vm-100ms.vsm
# through the firmware loader, record 40 s more.  Output in $TRACE_OUT:
# default.csv, vm.csv (records, step_ns per row), model-load.txt.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${TRACE_OUT:?}
: "${VSHAPE_KO:?}"
secs=${LOAD_SECONDS:-40}

# shellcheck source=selftests/lib/module.sh
. "$top/selftests/lib/module.sh"
mod_load_bind "$VSHAPE_KO" vshape_guest || exit 1
dev=$MOD_DEV
mount -t debugfs none /sys/kernel/debug 2>/dev/null
dbg=/sys/kernel/debug/vshape_guest/$dev
sys=/sys/bus/virtio/devices/$dev/vshape
# scripts/vm runs us chrooted at /mnt/root; the firmware loader resolves
# paths from init's root (see selftests/guest/vshape_predict_test.c).
prefix=
[ "$(stat -c %d:%i /)" != "$(stat -c %d:%i /proc/1/root/ 2>/dev/null)" ] && prefix=/mnt/root
echo -n "$prefix$here" > /sys/module/firmware_class/parameters/path

run() {	# NAME: record $secs s of memphase into NAME.csv
	"$top/tools/vs-record" -i 1000 -o "$out/$1.csv" "$dbg/records" 2>> "$out/vs-record.err" &
	local rp=$!
	sleep 3
	"$here/memphase" 3 "$secs" 1000 > "$out/memphase-$1.log"
	sleep 2
	kill -TERM $rp; wait $rp
}

run default
cat "$dbg/predictor" > "$out/predictor-default.txt"
{
	echo "# echo vm-100ms.vsm > $sys/model"
	echo vm-100ms.vsm > "$sys/model"
	# shellcheck disable=SC2320 # $? is the echo above: the sysfs write's status
	echo "# exit status $?"
	echo "# cat $sys/model"; cat "$sys/model"
	echo "# cat $dbg/predictor"; cat "$dbg/predictor"
	echo "# dmesg | grep vshape | tail -n 3"; dmesg | grep vshape | tail -n 3
	echo "# last seq before load: see vm.csv (first rows still default)"
} > "$out/model-load.txt" 2>&1
tail -n1 "$dbg/records" | cut -d, -f1 > "$out/load-seq.txt"
run vm
cat "$dbg/predictor" > "$out/predictor-vm.txt"
cat "$out/model-load.txt"
exit 0
