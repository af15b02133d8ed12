# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Loading a driver and waiting until it binds its device (sourced; inside
# a guest).  Waits use builtins only (see wait.sh).  $VS_SYSFS (default
# /sys) lets the unit tests use a fake tree.
#
#   mod_load_bind [-t SECS] [-b BUS] MODULE DRIVER [PARAM=VALUE...]
#       load MODULE (a path: insmod; a name: modprobe) with the
#       parameters, then wait (default 10 s, times VS_TIME_SCALE: a
#       guest of a debug L1 binds slower) until DRIVER is bound to a
#       device on BUS (default virtio).  Sets MOD_DEV to the device's
#       name (e.g. virtio0).  On failure says why ("# ..." on stdout:
#       the load failed, or the driver bound nothing, listing BUS's
#       devices and their drivers) and returns 1.
#   mod_bound [-b BUS] DRIVER
#       DRIVER holds a device on BUS now; sets MOD_DEV.
#   mod_wait_bound [-t SECS] [-b BUS] DRIVER
#       wait for that (the module is loaded already, or a device is added)
#   virtio_has_device ID      a virtio device with device id ID (0x0005:
#                             balloon) exists, bound or not
#   mod_bus_devices [BUS]     "name=devid->driver" for every device on BUS

[ -z "${_VS_MODULE_SH:-}" ] || return 0
_VS_MODULE_SH=1

VS_SYSFS=${VS_SYSFS:-/sys}
# shellcheck disable=SC2034 # for the callers
MOD_DEV=

# shellcheck source=selftests/lib/wait.sh
. "${BASH_SOURCE[0]%/*}/wait.sh"
# shellcheck source=selftests/lib/opts.sh
. "${BASH_SOURCE[0]%/*}/opts.sh"

_mod_opts() {
	_mod_t=$((10 * VS_TIME_SCALE)) _mod_bus=virtio
	vs_opts 't:_mod_t b:_mod_bus' "$@" || return
	_mod_args=("${VS_ARGS[@]}")
}

mod_bound() {
	_mod_opts "$@" || return
	local d bus=$_mod_bus drv=${_mod_args[0]}
	MOD_DEV=
	for d in "$VS_SYSFS/bus/$bus/drivers/$drv"/*; do
		[ -L "$d" ] || continue
		[ "${d##*/}" != module ] || continue
		MOD_DEV=${d##*/}
		return 0
	done
	return 1
}

mod_bus_devices() {
	local d id drv out=
	for d in "$VS_SYSFS/bus/${1:-virtio}/devices"/*; do
		[ -e "$d" ] || continue
		id='?'
		[ -r "$d/device" ] && read -r id < "$d/device" 2>/dev/null
		drv=none
		[ -L "$d/driver" ] && { drv=$(readlink "$d/driver"); drv=${drv##*/}; }
		out+=" ${d##*/}=$id->$drv"
	done
	echo "${out:- none}"
}

mod_wait_bound() {
	_mod_opts "$@" || return
	local drv=${_mod_args[0]} t=$_mod_t bus=$_mod_bus
	wait_for -q "$t" mod_bound -b "$bus" "$drv" && return 0
	echo "# $drv did not bind a $bus device within $t s;" \
		"$bus devices:$(mod_bus_devices "$bus")"
	return 1
}

mod_load_bind() {
	_mod_opts "$@" || return
	local t=$_mod_t bus=$_mod_bus mod=${_mod_args[0]} drv=${_mod_args[1]:?mod_load_bind: DRIVER missing}
	local params=("${_mod_args[@]:2}") out
	if [[ $mod == */* || $mod == *.ko ]]; then
		out=$(insmod "$mod" "${params[@]}" 2>&1) ||
			{ echo "# insmod $mod ${params[*]} failed: $out"; return 1; }
	else
		out=$(modprobe "$mod" "${params[@]}" 2>&1) ||
			{ echo "# modprobe $mod ${params[*]} failed: $out"; return 1; }
	fi
	mod_wait_bound -t "$t" -b "$bus" "$drv"
}

virtio_has_device() {
	local d id
	for d in "$VS_SYSFS"/bus/virtio/devices/*; do
		[ -r "$d/device" ] || continue
		read -r id < "$d/device"
		[ "$id" = "$1" ] && return 0
	done
	return 1
}
