/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers the guest selftests share: find the vshape device, read
 * and write its knobs, read /proc/meminfo and debugfs counters.
 */
#ifndef _VSHAPE_SELFTEST_SYSFS_H
#define _VSHAPE_SELFTEST_SYSFS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/time_scale.h"

/*
 * The harness kills a test after 30 s; under TCG on a loaded 2-core host
 * a test that faults in 700 MiB and waits for the balloon takes longer
 * (predict_mode_gives_back_and_takes_back was killed so).  Tests bound
 * their own waits; this only catches a hang.  Include after the harness.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#endif

/*
 * TEST_HARNESS_MAIN, with every test's limit times vs_time_scale(): the
 * debug kernel of scripts/check-debug runs the same tests several times
 * slower, and alloc_storm_deflates_no_oom_kill was killed at 300 s there
 * while its own waits were still running.
 */
#define VS_HARNESS_MAIN							\
	int main(int argc, char **argv)					\
	{								\
		int n = vs_time_scale();				\
		struct __fixture_metadata *f;				\
		struct __test_metadata *t;				\
									\
		if (n > 1)						\
			for (f = __fixture_list; f; f = f->next)	\
				for (t = f->tests; t; t = t->next)	\
					t->timeout *= n;		\
		return test_harness_run(argc, argv);			\
	}

#define VS_DRV_DIR	"/sys/bus/virtio/drivers/vshape_guest"
#define VS_DBG_DIR	"/sys/kernel/debug/vshape_guest"

/* Name of the first virtio device bound to vshape_guest, or NULL. */
static inline const char *vs_dev_name(void)
{
	static char name[256];
	struct dirent *de;
	DIR *d = opendir(VS_DRV_DIR);

	if (!d)
		return NULL;
	name[0] = '\0';
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "virtio", 6)) {
			snprintf(name, sizeof(name), "%s", de->d_name);
			break;
		}
	closedir(d);
	return name[0] ? name : NULL;
}

/*
 * Every test needs the device bound: the suite (in-guest.sh) binds it
 * before running us, so a missing device is a failure, never a skip.
 * Use inside a TEST/FIXTURE_SETUP (kselftest_harness.h's ASSERT).
 */
#define VS_REQUIRE_DEV() \
	ASSERT_TRUE(vs_dev_name() != NULL) \
		TH_LOG("no device bound to vshape_guest")

/* Write @val to knob @knob; returns 0 or -errno. */
static inline int vs_write(const char *knob, const char *val)
{
	char path[PATH_MAX];
	const char *dev = vs_dev_name();
	ssize_t n;
	int fd, err = 0;

	if (!dev)
		return -ENODEV;
	snprintf(path, sizeof(path), VS_DRV_DIR "/%s/vshape/%s", dev, knob);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Read knob @knob into @buf (newline stripped); returns 0 or -errno. */
static inline int vs_read(const char *knob, char *buf, size_t len)
{
	char path[PATH_MAX];
	const char *dev = vs_dev_name();
	ssize_t n;
	int fd;

	if (!dev)
		return -ENODEV;
	snprintf(path, sizeof(path), VS_DRV_DIR "/%s/vshape/%s", dev, knob);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline long long vs_read_num(const char *knob)
{
	char buf[64];

	if (vs_read(knob, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

/* A field of /proc/meminfo in KiB, or -1. */
static inline long long meminfo_kb(const char *field)
{
	char line[256];
	long long val = -1;
	size_t flen = strlen(field);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			val = strtoll(line + flen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/*
 * Pages on the per-CPU free lists, in KiB, from /proc/zoneinfo.  MemFree
 * does not count them until they are drained, and 6.12 keeps even 2 MiB
 * blocks there, so a leak check must add them.
 */
static inline long long pcp_kb(void)
{
	char line[256];
	long long sum = 0, n;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lld", &n) == 1)
			sum += n;
	fclose(f);
	return sum * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A "name: value" line (decimal or 0x hex) of debugfs file @file, or -1. */
static inline long long vs_debugfs_in(const char *file, const char *name)
{
	char path[PATH_MAX], line[256];
	const char *dev = vs_dev_name();
	size_t nlen = strlen(name);
	long long val = -1;
	FILE *f;

	if (!dev)
		return -1;
	snprintf(path, sizeof(path), VS_DBG_DIR "/%s/%s", dev, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, nlen) && line[nlen] == ':') {
			val = strtoll(line + nlen + 1, NULL, 0);
			break;
		}
	fclose(f);
	return val;
}

/* A "name: value" line of the device's debugfs state file, or -1. */
static inline long long vs_debugfs(const char *name)
{
	return vs_debugfs_in("state", name);
}

/* Poll knob @knob until it equals @want, for up to @secs seconds. */
static inline int vs_wait_eq(const char *knob, long long want, int secs)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int i;

	for (i = 0; i < secs * 20; i++) {
		if (vs_read_num(knob) == want)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/*
 * Poll knob @knob every 100 ms until it reaches @want or more, for up to
 * @secs seconds; returns its last value.
 */
static inline long long vs_wait_above(const char *knob, long long want,
				      int secs)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	long long v = vs_read_num(knob);
	int i;

	for (i = 0; i < secs * 10 && v < want; i++) {
		nanosleep(&ts, NULL);
		v = vs_read_num(knob);
	}
	return v;
}

/*
 * Poll debugfs counter @name until it exceeds @than, for up to @secs
 * seconds; returns its last value.  A test that waits for the balloon to
 * reach the floor waits for the driver's own floor_stops counter: under
 * a loaded TCG host, inflation can pause for more than the 500 ms that
 * vs_wait_settled() takes for "settled".
 */
static inline long long vs_wait_debugfs_gt(const char *name, long long than,
					   int secs)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	long long v = vs_debugfs(name);
	int i;

	for (i = 0; i < secs * 20 && v <= than; i++) {
		nanosleep(&ts, NULL);
		v = vs_debugfs(name);
	}
	return v;
}

/*
 * Poll knob @knob every 100 ms until it has not changed for @stable_ms,
 * for up to @secs seconds; returns the last value.
 */
static inline long long vs_wait_stable(const char *knob, int stable_ms,
				       int secs)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	long long prev = vs_read_num(knob), cur = prev;
	int i, same = 0;

	for (i = 0; i < secs * 10 && same * 100 < stable_ms; i++) {
		nanosleep(&ts, NULL);
		cur = vs_read_num(knob);
		same = cur == prev ? same + 1 : 0;
		prev = cur;
	}
	return cur;
}

/* Poll knob @knob until two reads 500 ms apart agree; returns the value. */
static inline long long vs_wait_settled(const char *knob, int secs)
{
	struct timespec ts = { 0, 500 * 1000 * 1000 };
	long long prev = vs_read_num(knob), cur = prev;
	int i;

	for (i = 0; i < secs * 2; i++) {
		nanosleep(&ts, NULL);
		cur = vs_read_num(knob);
		if (cur == prev)
			break;
		prev = cur;
	}
	return cur;
}

#endif /* _VSHAPE_SELFTEST_SYSFS_H */
