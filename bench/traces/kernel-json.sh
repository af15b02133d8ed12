#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-kernel step cost (TCG-emulated guest, NOT native) as a JSON object,
# from the records' step_ns column of the runs of record-vm.sh
# (build/traces/raw) and load-vm.sh (build/traces/load).  Prints {} if
# neither has run.
cd "$(dirname "$0")/../.." || exit
stats() {	# FILE [FROM_SEQ]: n, mean, median, p95 of step_ns (seq >= FROM_SEQ, skipping seq 0)
	awk -F, -v from="${2:-1}" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "step_ns") c = i; next }
		$1 >= from && $1 > 0 { print $c }' "$1" | sort -n |
	awk '{ v[n++] = $1; s += $1 }
		END { if (!n) { print "null"; exit }
		      printf "{\"steps\": %d, \"mean_ns\": %.0f, \"median_ns\": %d, \"p95_ns\": %d}", n, s / n, v[int(n / 2)], v[int(0.95 * (n - 1))] }'
}
mean_dbg() { awk '/^step_ns_mean:/ { print $2 }' "$1" 2>/dev/null | grep . || echo null; }
sep=
printf '{"note": "vshape_guest in a Debian %s guest under QEMU TCG (emulated CPU: these are not native costs); per-step cost from the records step_ns column", ' \
	"$(cat build/traces/raw/uname.txt 2>/dev/null || echo 6.12)"
if [ -f build/traces/raw/session.csv ]; then
	printf '"record_session_default_model": {"records": %s, "debugfs_step_ns_mean": %s}' \
		"$(stats build/traces/raw/session.csv)" \
		"$(mean_dbg build/traces/raw/predictor-default.txt)"
	sep=", "
fi
if [ -f build/traces/load/vm.csv ]; then
	ls=$(cat build/traces/load/load-seq.txt)
	printf '%s"load_run_default_model": %s, "load_run_vm_100ms_model": %s, "load_run_debugfs_step_ns_mean_cumulative": %s' "$sep" \
		"$(stats build/traces/load/default.csv)" \
		"$(stats build/traces/load/vm.csv $((ls + 1)))" \
		"$(mean_dbg build/traces/load/predictor-vm.txt)"
fi
echo "}"
