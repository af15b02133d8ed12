# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by scripts/vm, scripts/mkinitramfs and scripts/kernels.
# Sourced, not executed: callers have already set -euo pipefail.

# Repository root: scripts/lib/.. /..; scripts are run from anywhere.
VS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

vs_die() {
	echo "${0##*/}: $*" >&2
	exit 2
}

vs_log() {
	[ "${VS_QUIET:-0}" = 1 ] || echo "${0##*/}: $*" >&2
}

# Directory for cached artefacts (initramfs, KVM probe).  build/ in the
# repo normally; inside a nested L1 guest the repo is on a read-only 9p
# root, so fall back to a directory under $TMPDIR (a tmpfs there).
vs_cache_dir() {
	local d="$VS_ROOT/build"
	if mkdir -p "$d" 2>/dev/null && [ -w "$d" ] && touch "$d/.w" 2>/dev/null; then
		echo "$d"
		return
	fi
	d="${TMPDIR:-/tmp}/vshape-build"
	mkdir -p "$d"
	echo "$d"
}
