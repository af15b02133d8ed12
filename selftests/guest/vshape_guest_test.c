// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_guest selftests, run inside a VM with a virtio-balloon device
 * bound to vshape_guest.  VSHAPE_KO names the module file for the tests
 * that unload and reload it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vshape_sysfs.h"
#include <linux/virtio_balloon.h>

#define MIB_KB		1024LL

static const char *knobs[] = { "guest_target_kb", "floor_margin_kb", "mode" };

/* Touch @kb of anonymous memory in a child; its wait status. */
/*
 * Touch KB KiB in a child and wait for it; if LOWEST is not NULL, it gets
 * the smallest balloon (actual_kb) seen while the child ran, read every
 * 20 ms: what the balloon gave up under the child's demand, before the
 * driver may take it back.
 */
static int touch_in_child_lowest(long long kb, long long *lowest)
{
	pid_t pid = fork();
	int status;
	long long v;

	if (pid == 0) {
		size_t len = (size_t)kb * 1024;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t i;

		if (p == MAP_FAILED)
			_exit(2);
		for (i = 0; i < len; i += 4096)
			p[i] = 1;
		_exit(0);
	}
	if (pid < 0)
		return -1;
	if (lowest)
		*lowest = vs_read_num("actual_kb");
	for (;;) {
		pid_t r = waitpid(pid, &status, lowest ? WNOHANG : 0);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		v = vs_read_num("actual_kb");
		if (v >= 0 && v < *lowest)
			*lowest = v;
		usleep(20000);
	}
}

static int touch_in_child(long long kb)
{
	return touch_in_child_lowest(kb, NULL);
}

static int oom_kills(void)
{
	return system("dmesg | grep -q 'Killed process'") == 0;
}

static int has_feature(int bit)
{
	char path[PATH_MAX], buf[128];
	const char *dev = vs_dev_name();
	FILE *f;

	if (!dev)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/features",
		 dev);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return (int)strlen(buf) > bit && buf[bit] == '1';
}

static int set_num(const char *knob, long long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", val);
	return vs_write(knob, buf);
}

static void reset_knobs(void)
{
	vs_write("guest_target_kb", "0");
	vs_write("mode", "max");
	vs_write("floor_margin_kb", "65536");
	vs_wait_eq("actual_kb", 0, 120);
}

/* ---- sysfs: every bad write is refused and changes nothing ---- */

FIXTURE(knob) {
	char before[3][64];
};

FIXTURE_VARIANT(knob) {
	const char *knob;
	const char *val;	/* NULL: twice the guest's RAM */
	int err;
};

FIXTURE_VARIANT_ADD(knob, target_text) {
	.knob = "guest_target_kb", .val = "lots", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, target_negative) {
	.knob = "guest_target_kb", .val = "-4096", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, target_empty) {
	.knob = "guest_target_kb", .val = "\n", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, target_unaligned) {
	.knob = "guest_target_kb", .val = "4097", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, target_above_ram) {
	.knob = "guest_target_kb", .val = NULL, .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(knob, target_overflow) {
	.knob = "guest_target_kb", .val = "99999999999999999999999",
	.err = -ERANGE,
};
FIXTURE_VARIANT_ADD(knob, margin_text) {
	.knob = "floor_margin_kb", .val = "12x", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, margin_negative) {
	.knob = "floor_margin_kb", .val = "-1", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, margin_above_ram) {
	.knob = "floor_margin_kb", .val = NULL, .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(knob, mode_unknown) {
	.knob = "mode", .val = "predictive", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(knob, mode_number) {
	.knob = "mode", .val = "1", .err = -EINVAL,
};

FIXTURE_SETUP(knob)
{
	unsigned int i;

	VS_REQUIRE_DEV();
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vs_read(knobs[i], self->before[i],
				     sizeof(self->before[i])));
}

FIXTURE_TEARDOWN(knob)
{
}

TEST_F(knob, bad_write_refused_state_unchanged)
{
	char val[64], after[64];
	unsigned int i;

	if (variant->val)
		snprintf(val, sizeof(val), "%s", variant->val);
	else
		snprintf(val, sizeof(val), "%lld",
			 meminfo_kb("MemTotal") * 2);
	EXPECT_EQ(variant->err, vs_write(variant->knob, val));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vs_read(knobs[i], after, sizeof(after)));
		EXPECT_STREQ(self->before[i], after);
	}
	EXPECT_EQ(0, vs_read_num("actual_kb"));
}

TEST(knob_good_writes_take_effect)
{
	char buf[64];

	VS_REQUIRE_DEV();
	ASSERT_EQ(0, vs_write("floor_margin_kb", "131072"));
	EXPECT_EQ(131072, vs_read_num("floor_margin_kb"));
	ASSERT_EQ(0, vs_write("mode", "guest"));
	ASSERT_EQ(0, vs_read("mode", buf, sizeof(buf)));
	EXPECT_STREQ("guest", buf);
	ASSERT_EQ(0, vs_write("mode", "host\n"));
	ASSERT_EQ(0, vs_read("mode", buf, sizeof(buf)));
	EXPECT_STREQ("host", buf);
	reset_knobs();
}

/* ---- the guest's own target moves real memory, 2 MiB blocks first ---- */

/*
 * Free memory as the allocator sees it: MemFree plus the per-CPU lists,
 * where 6.12 parks even the 2 MiB blocks a deflation returns.
 */
static long long free_kb(void)
{
	return meminfo_kb("MemFree") + pcp_kb();
}

/*
 * Each bound covers one balloon move only (seconds), measured with what
 * the driver controls: its held_pages counter, and the free memory that
 * moves by as much while it inflates or deflates.  Comparing free memory
 * before inflation with after deflation also measured everything the
 * rest of the guest allocated in between (page cache, slab): it missed
 * a 32 MiB bound by 32 KiB once.
 */
TEST(guest_target_inflates_and_deflates)
{
	long long free0, free1, free2, held, blocks;
	const long long want = 256 * MIB_KB;

	VS_REQUIRE_DEV();
	reset_knobs();
	free0 = free_kb();
	ASSERT_EQ(0, vs_write("mode", "guest"));
	ASSERT_EQ(0, set_num("guest_target_kb", want));
	ASSERT_EQ(0, vs_wait_eq("actual_kb", want, 120));
	free1 = free_kb();
	held = vs_debugfs("held_pages") * (sysconf(_SC_PAGESIZE) / 1024);
	blocks = vs_debugfs("blocks_2m");
	TH_LOG("inflate: free %lld -> %lld KiB, balloon holds %lld KiB, %lld blocks of 2 MiB",
	       free0, free1, held, blocks);
	/* The driver holds exactly the target... */
	EXPECT_EQ(want, held);
	/* ...mostly as 2 MiB blocks... */
	EXPECT_GE(blocks * 2048, want * 9 / 10);
	/* ...taken from free memory: it fell by what the balloon holds. */
	EXPECT_GE(free0 - free1, held - 16 * MIB_KB);

	ASSERT_EQ(0, vs_write("guest_target_kb", "0"));
	ASSERT_EQ(0, vs_wait_eq("actual_kb", 0, 120));
	free2 = free_kb();
	TH_LOG("deflate: free %lld -> %lld KiB (+%lld), held_pages %lld, blocks_2m %lld",
	       free1, free2, free2 - free1, vs_debugfs("held_pages"),
	       vs_debugfs("blocks_2m"));
	/* Nothing stays in the balloon... */
	EXPECT_EQ(0, vs_debugfs("held_pages"));
	EXPECT_EQ(0, vs_debugfs("blocks_2m"));
	EXPECT_EQ(0, vs_debugfs("pages_4k"));
	/* ...and free memory rose by what it held. */
	EXPECT_GE(free2 - free1, held - 16 * MIB_KB);
	reset_knobs();
}

/* ---- whatever is asked, the balloon stops at the floor ---- */

/*
 * The floor from the kernel's own numbers, not the driver's: the sum of
 * every zone's min watermark (/proc/zoneinfo "min", pages), without its
 * watermark boost ("boost"), which comes and goes with fragmentation
 * events, so the driver may have read it larger or smaller.
 */
static long long zone_min_unboosted_kb(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256];
	long long sum = 0, v;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " min %lld", &v) == 1)
			sum += v;
		else if (sscanf(line, " boost %lld", &v) == 1)
			sum -= v;
	}
	fclose(f);
	return sum * (sysconf(_SC_PAGESIZE) / 1024);
}

TEST(target_of_all_ram_stops_at_floor)
{
	long long total = meminfo_kb("MemTotal"), held, free, floor, stops, wmin;
	int status;

	VS_REQUIRE_DEV();
	reset_knobs();
	stops = vs_debugfs("floor_stops");
	ASSERT_EQ(0, vs_write("mode", "guest"));
	ASSERT_EQ(0, set_num("guest_target_kb", total & ~3LL));
	/* The driver says when it reached the floor. */
	EXPECT_GT(vs_wait_debugfs_gt("floor_stops", stops, 180), stops);
	held = vs_wait_settled("actual_kb", 120);
	free = meminfo_kb("MemFree");
	floor = vs_read_num("floor_kb");
	TH_LOG("held %lld KiB of %lld, MemFree %lld, floor %lld, floor_stops %lld -> %lld",
	       held, total, free, floor, stops, vs_debugfs("floor_stops"));
	/*
	 * The driver's floor is the kernel's min watermarks (boost included,
	 * at most doubling them) plus the margin.
	 */
	wmin = zone_min_unboosted_kb();
	TH_LOG("min watermarks without boost %lld KiB, margin %lld KiB",
	       wmin, vs_read_num("floor_margin_kb"));
	EXPECT_GT(wmin, 0);
	/*
	 * 1 MiB of slack below: on 6.12 /proc/zoneinfo's min lines sum to
	 * 128 KiB more than the driver's populated zones (seen twice); a
	 * floor without the watermarks (the margin only) is far outside.
	 */
	EXPECT_GE(floor - vs_read_num("floor_margin_kb"), wmin - 1024);
	EXPECT_LE(floor - vs_read_num("floor_margin_kb"), 2 * wmin + 1024);
	/* it held most of the RAM, not a token amount */
	EXPECT_GT(held, total / 2);
	EXPECT_LT(held, total);
	/* Free memory stays at the floor, less what the kernel used since. */
	EXPECT_GE(free, floor - 16 * MIB_KB);
	/* The guest still works: a 32 MiB allocation needs no OOM kill. */
	status = touch_in_child(32 * MIB_KB);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_FALSE(oom_kills());
	reset_knobs();
}

/* ---- an allocation storm deflates the balloon; nothing is killed ---- */

TEST(alloc_storm_deflates_no_oom_kill)
{
	long long held, storm, stops, deflates, lowest;
	int status;

	VS_REQUIRE_DEV();
	/* run-vm.sh starts the device with deflate-on-oom=on */
	ASSERT_TRUE(has_feature(VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		TH_LOG("DEFLATE_ON_OOM not negotiated");
	reset_knobs();
	stops = vs_debugfs("floor_stops");
	ASSERT_EQ(0, vs_write("mode", "guest"));
	ASSERT_EQ(0, set_num("guest_target_kb",
			     meminfo_kb("MemTotal") & ~3LL));
	ASSERT_GT(vs_wait_debugfs_gt("floor_stops", stops, 180), stops);
	held = vs_wait_settled("actual_kb", 120);
	ASSERT_GT(held, 256 * MIB_KB);
	/* More than is free: only the balloon can give it. */
	storm = meminfo_kb("MemFree") + 256 * MIB_KB;
	TH_LOG("balloon %lld KiB, storm of %lld KiB", held, storm);
	/* the storm's own deflations: the counter runs since module load */
	deflates = vs_debugfs("oom_deflates");
	status = touch_in_child_lowest(storm, &lowest);
	TH_LOG("balloon at its lowest during the storm: %lld KiB", lowest);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_FALSE(oom_kills());
	EXPECT_GT(vs_debugfs("oom_deflates"), deflates);
	/*
	 * the storm took 256 MiB more than was free: the balloon gave it,
	 * less what reclaim found in the page cache
	 */
	EXPECT_LE(lowest, held - 64 * MIB_KB);
	reset_knobs();
}

/* ---- load and unload, repeatedly, with pages held: nothing leaks ---- */

static int vs_reload(const char *ko)
{
	char cmd[PATH_MAX + 16];
	int i;

	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	if (system(cmd))
		return -1;
	for (i = 0; i < 100 && !vs_dev_name(); i++)
		usleep(50000);
	return vs_dev_name() ? 0 : -1;
}

#define HELD_KB		(512 * MIB_KB)

/* Free memory including the per-CPU lists, and page cache that can go. */
static long long avail_kb(void)
{
	return meminfo_kb("MemAvailable") + pcp_kb();
}

TEST(unload_with_pages_held_leaks_nothing)
{
	const char *ko = getenv("VSHAPE_KO");
	long long total0, avail0, avail_held, avail1;
	int i;

	ASSERT_NE(NULL, ko) TH_LOG("VSHAPE_KO not set (in-guest.sh sets it)");
	VS_REQUIRE_DEV();
	reset_knobs();
	total0 = meminfo_kb("MemTotal");
	avail0 = avail_kb();
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vs_write("mode", "guest"));
		ASSERT_EQ(0, set_num("guest_target_kb", HELD_KB));
		ASSERT_EQ(0, vs_wait_eq("actual_kb", HELD_KB, 120));
		avail_held = avail_kb();
		ASSERT_EQ(0, system("rmmod vshape_guest"));
		avail1 = avail_kb();
		TH_LOG("round %d: available %lld KiB at start, %lld held, %lld after rmmod",
		       i, avail0, avail_held, avail1);
		/* Every held page is back... */
		EXPECT_GE(avail1 - avail_held, HELD_KB - 8 * MIB_KB);
		/* ...and nothing accumulates across rounds. */
		EXPECT_GE(avail1, avail0 - 8 * MIB_KB);
		EXPECT_EQ(total0, meminfo_kb("MemTotal"));
		ASSERT_EQ(0, vs_reload(ko));
	}
	EXPECT_EQ(0, vs_read_num("actual_kb"));
}

/* ---- the documented hand-over from the in-tree virtio_balloon ---- */

static int bound_driver(const char *dev, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/driver", dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(drv, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

TEST(takes_over_from_inbox_virtio_balloon)
{
	const char *ko = getenv("VSHAPE_KO");
	char dev[256], drv[256];

	ASSERT_NE(NULL, ko) TH_LOG("VSHAPE_KO not set (in-guest.sh sets it)");
	VS_REQUIRE_DEV();
	snprintf(dev, sizeof(dev), "%s", vs_dev_name());
	reset_knobs();
	ASSERT_EQ(0, system("rmmod vshape_guest"));
	if (system("modprobe virtio_balloon")) {
		vs_reload(ko);
		ASSERT_TRUE(0) TH_LOG("modprobe virtio_balloon failed");
	}
	ASSERT_EQ(0, bound_driver(dev, drv, sizeof(drv)));
	ASSERT_STREQ("virtio_balloon", drv);

	/* Loading vshape_guest does not steal a bound device... */
	ASSERT_EQ(0, system("insmod $VSHAPE_KO"));
	ASSERT_EQ(0, bound_driver(dev, drv, sizeof(drv)));
	EXPECT_STREQ("virtio_balloon", drv);

	/* ...the administrator moves it, as docs/guest.md says. */
	ASSERT_EQ(0, write_file("/sys/bus/virtio/drivers/virtio_balloon/unbind",
				dev));
	ASSERT_EQ(0, write_file(VS_DRV_DIR "/bind", dev));
	ASSERT_EQ(0, bound_driver(dev, drv, sizeof(drv)));
	EXPECT_STREQ("vshape_guest", drv);
	EXPECT_EQ(0, system("rmmod virtio_balloon"));
	EXPECT_STREQ(dev, vs_dev_name());
}

VS_HARNESS_MAIN
