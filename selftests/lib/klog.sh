# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Kernel-log check (sourced; needs tap.sh): run at the end of a suite, in
# the kernel whose log it reads (a guest, L1) or on a saved copy of it
# (L2's dmesg fetched by L1 over the mailbox, a console log).
#
#   klog_scan [FILE]          print the lines of FILE (default: the whole
#                             ring buffer, dmesg) that report a kernel
#                             problem: $KLOG_BAD
#   klog_check LABEL [FILE]   one TAP result: "LABEL kernel log: no WARN,
#                             BUG, Oops, lockdep, KASAN, hung task or
#                             Call Trace"; fails listing those lines, and
#                             also fails when the log does not start at
#                             boot ("Linux version ...": the ring buffer
#                             wrapped, so a report may be lost; boot with
#                             a larger log_buf_len)
#   klog_kmemleak             on a kernel with kmemleak (the debug kernel
#                             of scripts/check-debug), scan now and show
#                             the report as diagnostics: a leak found
#                             puts "N new suspected memory leaks" in the
#                             ring buffer, which klog_check fails on; a
#                             no-op where kmemleak is not built in
#   vs_boot_args              kernel arguments for the suites' VMs:
#                             log_buf_len=4M (the ring buffer holds a
#                             suite's whole log from boot) and
#                             no_timer_check (a TCG guest on a starved
#                             host fails the IO-APIC timer check and
#                             panics at boot: "IO-APIC + timer doesn't
#                             work", seen at load 20)
#
# The console of a VM booted with "quiet" only shows messages of level
# KERN_ERR and worse, so a WARN (KERN_WARNING) may never reach it; the
# ring buffer holds every level, so read that, not the console.

[ -z "${_VS_KLOG_SH:-}" ] || return 0
_VS_KLOG_SH=1

KLOG_BAD='WARNING:|BUG:|Oops|kernel BUG|INFO: task .* blocked|blocked for more than|possible circular locking|possible recursive locking|inconsistent lock state|inconsistent .* usage|suspicious RCU usage|lock held when returning|lockdep|KASAN|UBSAN|KFENCE|Call Trace:|general protection fault|soft lockup|hard LOCKUP|detected stall|Kernel panic|list_add corruption|list_del corruption|refcount_t:|suspected memory leak'

# Lines that name a debug facility without reporting a problem: the debug
# kernel of scripts/check-debug prints them at boot (its lockdep reports
# start "WARNING: possible ...", its KASAN reports "BUG: KASAN: ...").
KLOG_BENIGN='RCU lockdep checking is enabled'

# klog_bad: the lines of standard input that report a kernel problem
klog_bad() {
	grep -avE "$KLOG_BENIGN" | grep -aE "$KLOG_BAD"
}

klog_kmemleak() {
	local f=/sys/kernel/debug/kmemleak t0=${EPOCHSECONDS:-0}
	[ -w "$f" ] || return 0
	echo scan > "$f" 2>/dev/null
	tap_diag "kmemleak: scan took $((${EPOCHSECONDS:-0} - t0)) s"
	head -n 80 "$f" | sed 's/^/kmemleak: /' | tap_diag
}

vs_boot_args() {
	echo "log_buf_len=4M no_timer_check"
}

klog_scan() {
	if [ -n "${1:-}" ]; then
		klog_bad < "$1"
	else
		dmesg | klog_bad
	fi
}

klog_check() {
	local label=$1 file=${2:-} bad first
	if [ -n "$file" ]; then
		[ -r "$file" ] || { tap_not_ok "$label kernel log: not readable ($file)"; return 1; }
		bad=$(klog_bad < "$file")
		first=$(grep -am1 . "$file")
	else
		local log
		log=$(dmesg 2>&1) || { tap_not_ok "$label kernel log: dmesg failed: $log"; return 1; }
		bad=$(klog_bad <<<"$log")
		first=$(grep -am1 . <<<"$log")
	fi
	if [ -n "$bad" ]; then
		tap_not_ok "$label kernel log: no WARN, BUG, Oops, lockdep, KASAN, hung task or Call Trace"
		# the reports with the lines that follow them (the stack)
		if [ -n "$file" ]; then
			cat "$file"
		else
			cat <<<"$log"
		fi | grep -avE "$KLOG_BENIGN" | grep -aE -A8 "$KLOG_BAD" |
			head -n 80 | tap_diag
		return 1
	fi
	if [[ $first != *"Linux version"* ]]; then
		tap_not_ok "$label kernel log: read whole from boot (it starts: ${first:0:80})"
		return 1
	fi
	tap_ok "$label kernel log: no WARN, BUG, Oops, lockdep, KASAN, hung task or Call Trace"
}

# klog_console_scan CONSOLE: the kernel reports ($KLOG_BAD) on a VM's
# console, without the suites' own TAP lines (whose descriptions name
# WARN, Oops, ...).
klog_console_scan() {
	grep -avE '^[[:space:]]*(ok |not ok |#|1\.\.|Bail out)' "$1" | klog_bad
}

# klog_console_doc LABEL CONSOLE: for a runner after its VM has exited, a
# TAP document of its own with one result: no kernel report on the VM's
# console from boot to power-off.  The in-guest klog_check reads the ring
# buffer before the suite ends; an Oops, BUG or panic after it (module
# unload, shutdown) only reaches the console (a quiet boot still shows
# KERN_ERR and worse).  Returns 1 on a report.
klog_console_doc() {
	local label=$1 console=$2 bad
	echo "1..1"
	if [ ! -r "$console" ]; then
		echo "not ok 1 - $label console: not readable ($console)"
		return 1
	fi
	bad=$(klog_console_scan "$console")
	if [ -n "$bad" ]; then
		echo "not ok 1 - $label console to power-off: no WARN, BUG, Oops or panic"
		head -n 40 <<<"$bad" | sed 's/^/# /'
		return 1
	fi
	echo "ok 1 - $label console to power-off: no WARN, BUG, Oops or panic"
}
