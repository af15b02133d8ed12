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
# shellcheck source=bench/traces/vm-lib.sh
. bench/traces/vm-lib.sh
traces_prepare "${1:-6.12}"
out=$PWD/build/traces/load
rm -rf "$out"; mkdir -p "$out"
traces_vm "$out" 600 bench/traces/in-vm-load.sh
cat "$out/model-load.txt"
bench/traces/kernel-json.sh
