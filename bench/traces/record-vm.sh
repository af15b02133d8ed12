#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Record the VM traces of bench/traces: boot a Debian 6.12 guest (2 GiB,
# 2 vCPUs, TCG here) with QEMU's virtio-balloon, load vshape_guest (built-in
# model, default period 100 ms), run the workloads of in-vm.sh while
# tools/vs-record polls the debugfs records ring, then cut the session into
# one trace per workload: bench/traces/data/<workload>.csv.xz (records CSV:
# seq,time_ns,<14 channels in Q3.12>,demand,confidence,step_ns).
#
#   bench/traces/record-vm.sh [kver-series]      # default 6.12; ~11 min
#
# Raw output (session.csv, marks, phase logs, predictor-*.txt with the
# in-kernel step_ns_mean under TCG) stays in build/traces/raw/.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/traces/vm-lib.sh
. bench/traces/vm-lib.sh
traces_prepare "${1:-6.12}"
raw=$PWD/build/traces/raw
data=bench/traces/data
rm -rf "$raw"
mkdir -p "$raw" "$data"
traces_vm "$raw" 1500 bench/traces/in-vm.sh ${TRACE_WORKLOADS:+"TRACE_WORKLOADS=$TRACE_WORKLOADS"}
cat "$raw/vs-record.err"
traces_cut "$raw" "$data"
grep -H step_ns_mean "$raw"/predictor-*.txt
