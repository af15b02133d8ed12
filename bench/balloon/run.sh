#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Balloon inflate/deflate benchmark (vshape_guest against the in-tree
# virtio_balloon), one VM per kernel, one VM at a time:
#
#   bench/balloon/run.sh [KERNEL...]      default: 6.12 6.1
#
# Then, unless SUPPLEMENT=0, a supplementary run on the first kernel with
# init_on_alloc=0 on the guest's command line: Debian zeroes every
# allocated page by default, which under TCG is most of an inflate's cost
# for both drivers; without it the drivers' own costs show.
#
# Environment: REPS (default 4), SUPP_REPS (default 3), SIZES (GiB,
# default 1,4), MEM_GIB (default 6).  Writes bench/results/balloon.json,
# refreshes the table in docs/benchmarks.md and prints it.  About 3
# minutes per kernel and 2 for the supplement under TCG on 2 host cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.12 6.1)
out=build/bench/balloon
mkdir -p "$out"
parts=()
runs=("${kernels[@]}")
[ "${SUPPLEMENT:-1}" = 0 ] || runs+=("${kernels[0]}:init_on_alloc=0")
for r in "${runs[@]}"; do
	k=${r%%:*} append=
	[ "$k" = "$r" ] || append=${r#*:}
	kver=$(scripts/kernels "$k" | tail -n1)
	[ -n "$kver" ] || { echo "bench: no Debian kernel $k installed" >&2; exit 1; }
	[ -f "build/$kver/guest/vshape_guest.ko" ] || scripts/build-kmods "$kver" >/dev/null
	reps=${REPS:-4} tag=$kver
	[ -z "$append" ] || { reps=${SUPP_REPS:-3}; tag=$kver-$append; }
	bench/balloon/bench.py --kernel "$kver" --reps "$reps" \
		--sizes "${SIZES:-1,4}" --mem-gib "${MEM_GIB:-6}" \
		--append "$append" --json "$out/$tag.json"
	parts+=("$out/$tag.json")
done
python3 - "${parts[@]}" > bench/results/balloon.json <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
print(json.dumps({"benchmark": "balloon inflate/deflate: vshape_guest vs in-tree virtio_balloon",
                  "runs": runs}, indent=2))
PY
if [ -f docs/benchmarks.md ]; then
	bench/balloon/table.py bench/results/balloon.json --docs docs/benchmarks.md
fi
bench/balloon/table.py bench/results/balloon.json
