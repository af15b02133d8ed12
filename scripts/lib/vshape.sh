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

# vs_sync_tree DEST PATH... - make DEST/PATH a copy of the checkout's
# source files under each PATH (tracked and new, not ignored), for an
# out-of-tree build in DEST.  A file is copied only when its content
# differs, and gets a new mtime, so kbuild rebuilds exactly what changed;
# a source file that left the checkout is deleted from DEST (kbuild's
# products, ignored by .gitignore, stay).  When any file was copied or
# deleted, so is every *.ko, so that a module that is no longer built
# cannot be picked up.  When nothing changed the modules stay in place:
# a suite may be loading them from another VM (scripts/check runs the
# host suite beside the others), and kbuild would rebuild the same ones.
vs_sync_tree() {
	local dest=$1 f changed
	shift
	local -A keep=()
	mkdir -p "$dest"
	changed=$(
		while IFS= read -r f; do
			[ -f "$VS_ROOT/$f" ] || continue	# deleted, not yet committed
			keep[$f]=1
			if ! cmp -s "$VS_ROOT/$f" "$dest/$f"; then
				mkdir -p "$dest/$(dirname "$f")"
				cp "$VS_ROOT/$f" "$dest/$f"
				echo "$f"
			fi
		done < <(git -C "$VS_ROOT" ls-files -co --exclude-standard -- "$@")
		while IFS= read -r f; do
			[ -n "${keep[$f]:-}" ] || echo "$f"
		done < <(cd "$dest" && find "$@" -type f 2>/dev/null) |
			{ git -C "$VS_ROOT" check-ignore --no-index --stdin -n -v || true; } |
			awk -F'\t' '$1 == "::" { print $2 }' |
			while IFS= read -r f; do rm -f "$dest/$f"; echo "$f"; done
	)
	[ -z "$changed" ] ||
		(cd "$dest" && find "$@" -name '*.ko' -type f -delete 2>/dev/null) || true
}
