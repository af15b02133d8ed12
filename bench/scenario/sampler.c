// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario benchmark sampler: one process, no fork or exec per sample (in
 * a nested TCG guest every exec costs seconds), one CSV line per period.
 *
 *   sampler l2 OUT PERIOD_MS PHASE_FILE [VSHAPE_SYSDIR [REPORTING_FILE]]
 *	in the L2 guest: MemTotal, MemAvailable, MemFree, Cached, the
 *	balloon (vmstat nr_balloon_pages, or vshape_guest's actual_kb),
 *	the predicted demand (vshape_guest's predicted_demand_kb), memory PSI, major
 *	faults, refaults, OOM kills, vshape_guest's free page reporting
 *	counters (REPORTING_FILE, its debugfs "reporting": reported_bytes,
 *	skipped_committed, the blocks left backed because they were
 *	COMMITted lately, and errors, reports the host refused; -1 without
 *	it), and the workload's current phase
 *	(the first line of PHASE_FILE).  OUT is appended to and flushed per line:
 *	it lives in the run directory that L1 shares with L2.
 *
 *   sampler l1 OUT PERIOD_MS QEMU_PID L2_LOG [DEVICE_SYSDIR]
 *	in L1: the allocated bytes of L2's RAM (the memfd QEMU holds open),
 *	L1's Shmem, the vshape_host device's inflated, committed and
 *	reserved bytes (its sysfs inflated_bytes, committed_bytes,
 *	reserved_bytes: a RESERVE moves a range from inflated to reserved,
 *	so the guest's balloon and the host's inflated part by it; -1
 *	without DEVICE_SYSDIR), then
 *	the last complete line of L2_LOG as it was at that moment, so every
 *	row has L1's clock and the guest's latest view.
 *
 * Both stop on SIGTERM/SIGINT.  Times are CLOCK_MONOTONIC seconds of
 * the machine the sampler runs on.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../mono_clock.h"

#define L2_COLUMNS "t,phase,total_kb,avail_kb,free_kb,cached_kb,balloon_kb," \
	"demand_kb,psi_some_us,psi_full_us,pgmajfault,refault_anon," \
	"refault_file,oom_kill,reported_bytes,report_skipped,report_errors"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Read a whole small file into buf (NUL-terminated); -1 on error. */
static int slurp(const char *path, char *buf, size_t size)
{
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return 0;
}

/* Value after "key" + separator in a key-value text; -1 if absent. */
static long long field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key))) {
		if ((p == text || p[-1] == '\n' || p[-1] == ' ') &&
		    (p[klen] == ':' || p[klen] == ' ' || p[klen] == '='))
			return strtoll(p + klen + 1, NULL, 10);
		p += klen;
	}
	return -1;
}

/* "total=" of the "some"/"full" line of a PSI file. */
static long long psi_total(const char *text, const char *line)
{
	const char *p = strstr(text, line);

	if (!p)
		return -1;
	p = strstr(p, "total=");
	return p ? strtoll(p + 6, NULL, 10) : -1;
}

static int l2_main(FILE *out, double period, char **argv, int argc)
{
	static char mi[8192], vm[16384], psi[512], ph[128], pred[512], sys[256];
	static char rep[512];
	const char *phase_file = argv[0], *vdir = argc > 1 ? argv[1] : NULL;
	const char *rfile = argc > 2 ? argv[2] : NULL;
	double t0 = mono_now(), next = t0;
	long long balloon_kb, demand_kb;
	char *nl;

	fprintf(out, "%s\n", L2_COLUMNS);
	while (!stop) {
		next += period;
		if (slurp("/proc/meminfo", mi, sizeof(mi)) ||
		    slurp("/proc/vmstat", vm, sizeof(vm)))
			return 1;
		if (slurp("/proc/pressure/memory", psi, sizeof(psi)))
			psi[0] = 0;
		if (slurp(phase_file, ph, sizeof(ph)) || !ph[0])
			strcpy(ph, "-");
		nl = strpbrk(ph, "\n,");
		if (nl)
			*nl = 0;
		/* nr_balloon_pages came after 6.12: the events count it too */
		balloon_kb = field(vm, "nr_balloon_pages");
		if (balloon_kb < 0)
			balloon_kb = field(vm, "balloon_inflate") -
				     field(vm, "balloon_deflate");
		balloon_kb *= 4;
		demand_kb = -1;
		if (vdir) {
			snprintf(sys, sizeof(sys), "%s/actual_kb", vdir);
			if (!slurp(sys, pred, sizeof(pred)))
				balloon_kb = strtoll(pred, NULL, 10);
			snprintf(sys, sizeof(sys), "%s/predicted_demand_kb", vdir);
			if (!slurp(sys, pred, sizeof(pred)))
				demand_kb = strtoll(pred, NULL, 10);
		}
		if (!rfile || slurp(rfile, rep, sizeof(rep)))
			rep[0] = 0;
		fprintf(out, "%.3f,%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld\n",
			mono_now() - t0, ph, field(mi, "MemTotal"),
			field(mi, "MemAvailable"), field(mi, "MemFree"),
			field(mi, "Cached"), balloon_kb, demand_kb,
			psi_total(psi, "some"), psi_total(psi, "full"),
			field(vm, "pgmajfault"),
			field(vm, "workingset_refault_anon"),
			field(vm, "workingset_refault_file"),
			field(vm, "oom_kill"), field(rep, "reported_bytes"),
			field(rep, "skipped_committed"), field(rep, "errors"));
		fflush(out);
		mono_sleep_until(next);
	}
	return 0;
}

/* Open L2's RAM again through QEMU's fd table: the first fd on a memfd. */
static int open_memfd(const char *pid)
{
	char dir[64], path[320], link[256];
	struct dirent *de;
	ssize_t n;
	DIR *d;
	int fd = -1;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while (fd < 0 && (de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strncmp(link, "/memfd:", 7))
			fd = open(path, O_RDONLY);
	}
	closedir(d);
	return fd;
}

static long long sysfs_ll(const char *dir, const char *name)
{
	char path[320], buf[64];

	if (!dir)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return slurp(path, buf, sizeof(buf)) ? -1 : strtoll(buf, NULL, 10);
}

static int l1_main(FILE *out, double period, char **argv, int argc)
{
	static char mi[8192], tail[4096], last[1024];
	const char *log = argv[1], *dev = argc > 2 ? argv[2] : NULL;
	double t0 = mono_now(), next = t0;
	size_t tlen = 0;
	int memfd, lfd = -1;
	struct stat st;
	ssize_t n;
	char *nl;

	memfd = open_memfd(argv[0]);
	if (memfd < 0) {
		fprintf(stderr, "sampler: no memfd in QEMU %s's fds\n", argv[0]);
		return 1;
	}
	strcpy(last, "");
	fprintf(out, "t1,memfd_bytes,shmem_bytes,dev_inflated,dev_committed,dev_reserved,%s\n",
		L2_COLUMNS);
	while (!stop) {
		next += period;
		if (lfd < 0)
			lfd = open(log, O_RDONLY);
		/* take every complete line appended since, keep the last */
		while (lfd >= 0 && (n = read(lfd, tail + tlen, sizeof(tail) - 1 - tlen)) > 0) {
			tlen += n;
			tail[tlen] = 0;
			while ((nl = memchr(tail, '\n', tlen))) {
				size_t l = nl - tail;

				if (l < sizeof(last) && isdigit((unsigned char)tail[0])) {
					memcpy(last, tail, l);
					last[l] = 0;
				}
				memmove(tail, nl + 1, tlen - l - 1);
				tlen -= l + 1;
			}
			if (tlen == sizeof(tail) - 1)
				tlen = 0;	/* a line that long is garbage */
		}
		if (fstat(memfd, &st) || slurp("/proc/meminfo", mi, sizeof(mi)))
			return 1;
		if (last[0] && isdigit((unsigned char)last[0]))
			fprintf(out, "%.3f,%lld,%lld,%lld,%lld,%lld,%s\n", mono_now() - t0,
				(long long)st.st_blocks * 512,
				field(mi, "Shmem") * 1024,
				sysfs_ll(dev, "inflated_bytes"),
				sysfs_ll(dev, "committed_bytes"),
				sysfs_ll(dev, "reserved_bytes"), last);
		fflush(out);
		mono_sleep_until(next);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	double period;
	FILE *out;

	if (argc < 5 || (strcmp(argv[1], "l1") && strcmp(argv[1], "l2"))) {
		fprintf(stderr, "usage: sampler l2 OUT PERIOD_MS PHASE_FILE [VSHAPE_SYSDIR [REPORTING_FILE]]\n"
				"       sampler l1 OUT PERIOD_MS QEMU_PID L2_LOG [DEVICE_SYSDIR]\n");
		return 2;
	}
	period = atoi(argv[3]) / 1000.0;
	if (period <= 0 || (argv[1][1] == '1' && argc < 6)) {
		fprintf(stderr, "sampler: bad arguments\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	out = fopen(argv[2], "a");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	if (argv[1][1] == '2')
		return l2_main(out, period, argv + 4, argc - 4);
	return l1_main(out, period, argv + 4, argc - 4);
}
