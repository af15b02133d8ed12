#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-nofpu.sh FILE.o|FILE.ko... - fail if the object code uses the FPU:
# any x87 instruction (f*), MMX/SSE/AVX/AVX-512 register (%mm, %xmm, %ymm,
# %zmm, %k0-7 mask ops are not matched), x87 stack register (%st) or MXCSR
# access.  Kernel code must not touch FPU state outside kernel_fpu_begin().
#
# Exit status: 0 clean, 1 FPU use found (offending lines printed), 2 usage.

set -u
[ $# -ge 1 ] || { echo "usage: $0 FILE.o|FILE.ko..." >&2; exit 2; }
OBJDUMP=${OBJDUMP:-objdump}
status=0
for f in "$@"; do
	if [ ! -f "$f" ]; then
		echo "check-nofpu: $f: no such file" >&2
		exit 2
	fi
	dis=$($OBJDUMP -d --no-show-raw-insn "$f") || exit 2
	# instruction lines look like "  12:\tmnemonic operands"
	bad=$(printf '%s\n' "$dis" | awk -F'\t' '
		/^ *[0-9a-f]+:\t/ {
			split($2, w, " ");
			m = w[1]; ops = $2;
			if (m ~ /^(rep|repz|repnz|lock|data16|cs|ds|es|ss|gs|notrack|bnd)$/) {
				m = w[2];
			}
			if (m ~ /^f[a-z0-9]*$/ && m != "fs" ||
			    m ~ /^(emms|femms|ldmxcsr|stmxcsr|vldmxcsr|vstmxcsr|xsave|xrstor|fxsave|fxrstor|vzeroupper|vzeroall)/ ||
			    ops ~ /%[xyz]mm[0-9]+/ || ops ~ /%mm[0-7]/ ||
			    ops ~ /%st(\(|$|,| )/)
				print
		}')
	if [ -n "$bad" ]; then
		echo "check-nofpu: $f uses FPU/SIMD state:" >&2
		printf '%s\n' "$bad" | head -20 >&2
		status=1
	else
		echo "check-nofpu: $f: clean"
	fi
done
exit $status
