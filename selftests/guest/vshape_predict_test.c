// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests of vshape_guest's sampler and predictor, run inside a VM
 * with the driver bound.  The bad model files are made here from the
 * built-in model (predictor/default_model.c, linked in) by changing one
 * field and sealing the file with a correct CRC again, so that each one
 * reaches the check it is meant for.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

/*
 * The harness's fixture wrapper (TEST_F_TIMEOUT below) keeps a pid in a
 * local across its fork; GCC's -Wclobbered cannot tell it is safe.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "vshape_sysfs.h"
#include "default_model.h"
#include "fixed.h"

#define MIB_KB		1024LL
#define FW_DIR		"/tmp/vshape-fw"
#define FW_PATH_PARAM	"/sys/module/firmware_class/parameters/path"

/* Channels, in the driver's order (guest/sampler.h). */
enum { CH_USED, CH_CPU, CH_ANON, CH_FILE, CH_FREE, CH_PGFAULT,
	CH_CG_USAGE = 12, NR_CH = 14 };

/* A "name: value" line of the device's debugfs prediction snapshot, or -1. */
static long long prediction(const char *key)
{
	return vs_debugfs_in("prediction", key);
}

/* The running model's CRC-32 (debugfs predictor; sysfs model is the name). */
static long long model_crc(void)
{
	return vs_debugfs_in("predictor", "model_crc");
}

/*
 * The firmware loader opens files in init's root.  Under scripts/vm the
 * tests run in a chroot, whose root init sees at $VSHAPE_FW_PREFIX.
 */
static int set_fw_path(void)
{
	const char *prefix = getenv("VSHAPE_FW_PREFIX");
	char path[PATH_MAX];
	int fd, n, ok;

	mkdir(FW_DIR, 0755);
	n = snprintf(path, sizeof(path), "%s%s", prefix ? prefix : "", FW_DIR);
	fd = open(FW_PATH_PARAM, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, path, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* Largest value of channel @ch over the records with @from <= seq < @to. */
static long long records_max_in(int ch, long long from, long long to)
{
	char path[PATH_MAX], line[1024];
	long long best = -1;
	FILE *f;

	snprintf(path, sizeof(path), VS_DBG_DIR "/%s/records", vs_dev_name());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long long v[2 + NR_CH];
		char *p = line, *end;
		int i;

		for (i = 0; i < 2 + NR_CH; i++) {
			v[i] = strtoll(p, &end, 10);
			if (end == p)
				break;
			p = *end == ',' ? end + 1 : end;
		}
		if (i < 2 + NR_CH || v[0] < from || v[0] >= to)
			continue;
		if (v[2 + ch] > best)
			best = v[2 + ch];
	}
	fclose(f);
	return best;
}

/* Largest value of channel @ch over the records with seq >= @from. */
static long long records_max(int ch, long long from)
{
	return records_max_in(ch, from, LLONG_MAX);
}

/*
 * Fork a child that (optionally joins cgroup @cg,) touches @kb of memory,
 * tells the parent through a pipe and holds it for @hold seconds.
 */
static pid_t hold_memory(long long kb, int hold, const char *cg)
{
	int fd[2];
	pid_t pid;
	char c;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		size_t len = (size_t)kb * 1024, i;
		char *p;

		if (cg) {
			char path[PATH_MAX], me[32];
			int cfd;

			snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
			snprintf(me, sizeof(me), "%d", getpid());
			cfd = open(path, O_WRONLY);
			if (cfd < 0 || write(cfd, me, strlen(me)) < 0)
				_exit(3);
			close(cfd);
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		for (i = 0; i < len; i += 4096)
			p[i] = 1;
		if (write(fd[1], "x", 1) != 1)
			_exit(4);
		sleep(hold);
		_exit(0);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &c, 1) != 1) {
		close(fd[0]);
		return -1;
	}
	close(fd[0]);
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	if (pid <= 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void sleep_ms(int ms)
{
	usleep(ms * 1000);
}

/* ---- the sampler reads real counters ---- */

TEST(sampler_counters_move_when_memory_is_faulted)
{
	long long total = meminfo_kb("MemTotal"), seq, used0, used1, faults;
	pid_t pid;

	VS_REQUIRE_DEV();
	sleep_ms(500);
	seq = prediction("seq");
	used0 = records_max(CH_USED, seq - 2);
	pid = hold_memory(400 * MIB_KB, 2, NULL);
	ASSERT_GT(pid, 0);
	sleep_ms(700);
	used1 = records_max(CH_USED, seq);
	faults = records_max(CH_PGFAULT, seq);
	EXPECT_EQ(0, reap(pid));
	TH_LOG("used %lld -> %lld (Q3.12), page-fault channel up to %lld",
	       used0, used1, faults);
	/* 400 MiB is this fraction of RAM, in Q3.12; allow 20% less. */
	EXPECT_GE(used1 - used0, 400 * MIB_KB * 4096 / total * 8 / 10);
	EXPECT_GT(faults, 0);
}

/* ---- the prediction follows a step in demand ---- */

TEST(prediction_follows_a_step_in_demand)
{
	long long before, during, during_sysfs, after = -1, conf[3];
	time_t t0;
	pid_t pid;
	int i;

	VS_REQUIRE_DEV();
	sleep_ms(1000);
	/* sysfs's confidence is debugfs's, read just before or just after */
	conf[0] = prediction("confidence_pct");
	conf[1] = vs_read_num("prediction_confidence_pct");
	conf[2] = prediction("confidence_pct");
	EXPECT_GE(conf[0], 0);
	EXPECT_TRUE(conf[1] == conf[0] || conf[1] == conf[2])
		TH_LOG("confidence: debugfs %lld, sysfs %lld, debugfs %lld %%",
		       conf[0], conf[1], conf[2]);
	before = prediction("demand_kb");
	t0 = time(NULL);
	pid = hold_memory(600 * MIB_KB, 3, NULL);
	ASSERT_GT(pid, 0);
	TH_LOG("600 MiB touched in %ld s", (long)(time(NULL) - t0));
	sleep_ms(1500);
	during = prediction("demand_kb");
	/* sysfs has the same value alone (a later prediction, still held) */
	during_sysfs = vs_read_num("predicted_demand_kb");
	EXPECT_EQ(0, reap(pid));
	/*
	 * The built-in model forecasts the peak over the horizon (5 s), so
	 * the drop may take up to a horizon to show: poll for 10 s.
	 */
	for (i = 0; i < 50; i++) {
		sleep_ms(200);
		after = prediction("demand_kb");
		if (after <= during - 600 * MIB_KB * 8 / 10)
			break;
	}
	TH_LOG("predicted demand %lld -> %lld -> %lld KiB (%d ms after the release)",
	       before, during, after, 200 * (i + 1));
	EXPECT_GE(during - before, 600 * MIB_KB * 8 / 10);
	EXPECT_GE(during_sysfs - before, 600 * MIB_KB * 8 / 10);
	EXPECT_LE(after, during - 600 * MIB_KB * 8 / 10);
}

/* ---- watched cgroups: their memory usage is a channel ---- */

TEST(watched_cgroup_usage_is_sampled)
{
	long long total = meminfo_kb("MemTotal"), seq, usage, outside;
	char buf[256];
	pid_t pid;

	VS_REQUIRE_DEV();
	mkdir("/sys/fs/cgroup", 0755);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		ASSERT_EQ(0, mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL))
			TH_LOG("cannot mount cgroup2: %s", strerror(errno));
	system("echo +memory > /sys/fs/cgroup/cgroup.subtree_control");
	rmdir("/sys/fs/cgroup/vstest");
	ASSERT_EQ(0, mkdir("/sys/fs/cgroup/vstest", 0755));
	ASSERT_EQ(0, vs_write("cgroups", "/vstest\n"));
	ASSERT_EQ(0, vs_read("cgroups", buf, sizeof(buf)));
	EXPECT_STREQ("/vstest", buf);

	/* 200 MiB outside the cgroup: not its usage */
	seq = prediction("seq");
	pid = hold_memory(200 * MIB_KB, 2, NULL);
	ASSERT_GT(pid, 0);
	sleep_ms(700);
	outside = records_max(CH_CG_USAGE, seq);
	EXPECT_EQ(0, reap(pid));
	/* 200 MiB inside it */
	seq = prediction("seq");
	pid = hold_memory(200 * MIB_KB, 2, "/sys/fs/cgroup/vstest");
	ASSERT_GT(pid, 0);
	sleep_ms(700);
	usage = records_max(CH_CG_USAGE, seq);
	EXPECT_EQ(0, reap(pid));
	TH_LOG("cgroup usage channel up to %lld (Q3.12) with 200 MiB inside, %lld with 200 MiB outside",
	       usage, outside);
	EXPECT_GE(usage, 200 * MIB_KB * 4096 / total * 8 / 10);
	EXPECT_GE(outside, 0);
	EXPECT_LT(outside, 200 * MIB_KB * 4096 / total * 2 / 10);
	EXPECT_EQ(0, vs_write("cgroups", ""));
	rmdir("/sys/fs/cgroup/vstest");
}

/* ---- predictor knobs refuse bad writes and keep their state ---- */

FIXTURE(pknob) {
	char period[64], horizon[64], cgroups[256], model[256], target[64];
	char window[64];
	long long crc;
};

FIXTURE_VARIANT(pknob) {
	const char *knob;
	const char *val;
	int err;
};

FIXTURE_VARIANT_ADD(pknob, period_text) {
	.knob = "period_ms", .val = "fast", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(pknob, period_negative) {
	.knob = "period_ms", .val = "-100", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(pknob, period_too_short) {
	.knob = "period_ms", .val = "5", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, period_too_long) {
	.knob = "period_ms", .val = "60001", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, horizon_below_period) {
	.knob = "horizon_ms", .val = "50", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, horizon_too_far) {
	.knob = "horizon_ms", .val = "6400001", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, cgroup_relative) {
	.knob = "cgroups", .val = "vstest", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(pknob, cgroup_missing) {
	.knob = "cgroups", .val = "/no/such/cgroup", .err = -ENOENT,
};
FIXTURE_VARIANT_ADD(pknob, cgroup_too_many) {
	.knob = "cgroups", .val = "/,/,/,/,/", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(pknob, calib_target_zero) {
	.knob = "calib_target_ppm", .val = "0", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, calib_target_over_half) {
	.knob = "calib_target_ppm", .val = "500001", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, calib_target_text) {
	.knob = "calib_target_ppm", .val = "1%", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(pknob, calib_window_zero) {
	.knob = "calib_window", .val = "0", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, calib_window_over_max) {
	.knob = "calib_window", .val = "1025", .err = -ERANGE,
};
FIXTURE_VARIANT_ADD(pknob, calib_window_text) {
	.knob = "calib_window", .val = "1min", .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(pknob, model_missing) {
	.knob = "model", .val = "no-such-model.vsm", .err = -ENOENT,
};
FIXTURE_VARIANT_ADD(pknob, model_path_escape) {
	.knob = "model", .val = "../etc/passwd", .err = -EINVAL,
};

FIXTURE_SETUP(pknob)
{
	VS_REQUIRE_DEV();
	ASSERT_EQ(0, vs_read("period_ms", self->period, 64));
	ASSERT_EQ(0, vs_read("horizon_ms", self->horizon, 64));
	ASSERT_EQ(0, vs_read("cgroups", self->cgroups, 256));
	ASSERT_EQ(0, vs_read("model", self->model, 256));
	self->crc = model_crc();
	ASSERT_GE(self->crc, 0);
	ASSERT_EQ(0, vs_read("calib_target_ppm", self->target, 64));
	ASSERT_EQ(0, vs_read("calib_window", self->window, 64));
}

FIXTURE_TEARDOWN(pknob)
{
}

TEST_F(pknob, bad_write_refused_state_unchanged)
{
	char buf[256];

	EXPECT_EQ(variant->err, vs_write(variant->knob, variant->val));
	ASSERT_EQ(0, vs_read("period_ms", buf, sizeof(buf)));
	EXPECT_STREQ(self->period, buf);
	ASSERT_EQ(0, vs_read("horizon_ms", buf, sizeof(buf)));
	EXPECT_STREQ(self->horizon, buf);
	ASSERT_EQ(0, vs_read("cgroups", buf, sizeof(buf)));
	EXPECT_STREQ(self->cgroups, buf);
	ASSERT_EQ(0, vs_read("model", buf, sizeof(buf)));
	EXPECT_STREQ(self->model, buf);
	EXPECT_EQ(self->crc, model_crc());
	ASSERT_EQ(0, vs_read("calib_target_ppm", buf, sizeof(buf)));
	EXPECT_STREQ(self->target, buf);
	ASSERT_EQ(0, vs_read("calib_window", buf, sizeof(buf)));
	EXPECT_STREQ(self->window, buf);
}

/* ---- model files: every bad one refused, the running model kept ---- */

enum mutation { M_NONE, M_TRUNCATE, M_MAGIC, M_MAJOR, M_HIDDEN, M_CRC,
		M_SHORT, M_CHANNEL, M_WEIGHT };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Write a variant of the built-in model to FW_DIR/@name. */
static int write_model(const char *name, enum mutation mut)
{
	size_t len = vs_default_model_len;
	char path[PATH_MAX];
	uint8_t *buf = malloc(len);
	int fd, ok;

	if (!buf)
		return -1;
	memcpy(buf, vs_default_model, len);
	switch (mut) {
	case M_TRUNCATE:
		len -= 100;
		put32(buf + 8, len);	/* consistent length, cut data */
		break;
	case M_MAGIC:
		buf[0] ^= 0xff;
		break;
	case M_MAJOR:
		buf[4] = 2;
		break;
	case M_HIDDEN:
		buf[19] = 200;		/* over the 64-unit limit */
		break;
	case M_SHORT:
		len = 32;	/* not even a header */
		break;
	case M_WEIGHT:
		/* a valid model that differs from the built-in one: one weight */
		buf[len / 2] ^= 0x01;
		break;
	case M_CHANNEL:
		/* a valid 1.1 file whose input 1 is channel 14: not sampled */
		buf[6] = 1;
		buf[48] = 0;
		buf[49] = NR_CH;
		break;
	default:
		break;
	}
	/* Seal with a good CRC, except for the CRC case itself. */
	if (len >= 4 && mut != M_NONE)
		put32(buf + len - 4, vs_crc32(0, buf, len - 4));
	if (mut == M_CRC)
		buf[len / 2] ^= 0x01;
	snprintf(path, sizeof(path), FW_DIR "/%s", name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	free(buf);
	return ok ? 0 : -1;
}

FIXTURE(model) {
	char before[256];
	long long crc;
};

FIXTURE_VARIANT(model) {
	const char *name;
	enum mutation mut;
	int err;
};

FIXTURE_VARIANT_ADD(model, truncated) {
	.name = "truncated.vsm", .mut = M_TRUNCATE, .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(model, wrong_magic) {
	.name = "magic.vsm", .mut = M_MAGIC, .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(model, wrong_version) {
	.name = "version.vsm", .mut = M_MAJOR, .err = -EPROTO,
};
FIXTURE_VARIANT_ADD(model, wrong_dimensions) {
	.name = "dims.vsm", .mut = M_HIDDEN, .err = -E2BIG,
};
FIXTURE_VARIANT_ADD(model, bad_checksum) {
	.name = "crc.vsm", .mut = M_CRC, .err = -EBADMSG,
};
FIXTURE_VARIANT_ADD(model, shorter_than_header) {
	.name = "short.vsm", .mut = M_SHORT, .err = -EINVAL,
};
FIXTURE_VARIANT_ADD(model, channel_not_sampled) {
	.name = "channel.vsm", .mut = M_CHANNEL, .err = -EINVAL,
};

FIXTURE_SETUP(model)
{
	VS_REQUIRE_DEV();
	ASSERT_EQ(0, set_fw_path());
	ASSERT_EQ(0, vs_write("model", "default"));
	ASSERT_EQ(0, vs_read("model", self->before, sizeof(self->before)));
	EXPECT_STREQ("default", self->before);
	self->crc = model_crc();
	ASSERT_GE(self->crc, 0);
}

FIXTURE_TEARDOWN(model)
{
}

TEST_F(model, bad_file_refused_old_model_kept)
{
	char after[256];
	long long seq;

	ASSERT_EQ(0, write_model(variant->name, variant->mut));
	EXPECT_EQ(variant->err, vs_write("model", variant->name));
	ASSERT_EQ(0, vs_read("model", after, sizeof(after)));
	EXPECT_STREQ(self->before, after);
	EXPECT_EQ(self->crc, model_crc());
	/* And it still predicts. */
	seq = prediction("seq");
	sleep_ms(400);
	EXPECT_GT(prediction("seq"), seq);
}

/*
 * A valid model that is not the built-in one (one weight changed, the
 * file sealed with its own CRC): the driver reports the file's CRC, so
 * its bytes, not the built-in ones, are what runs; back to the built-in.
 */
TEST(good_model_file_is_loaded)
{
	size_t len = vs_default_model_len;
	long long want, dflt;
	uint8_t *m = malloc(len);
	char buf[256];

	VS_REQUIRE_DEV();
	ASSERT_NE(NULL, m);
	memcpy(m, vs_default_model, len);
	m[len / 2] ^= 0x01;
	want = vs_crc32(0, m, len - 4);
	free(m);
	ASSERT_EQ(0, vs_write("model", "default"));
	dflt = model_crc();
	ASSERT_EQ(0, set_fw_path());
	ASSERT_EQ(0, write_model("good.vsm", M_WEIGHT));
	ASSERT_EQ(0, vs_write("model", "good.vsm\n"));
	ASSERT_EQ(0, vs_read("model", buf, sizeof(buf)));
	TH_LOG("built-in CRC %08llx; loaded %s, CRC %08llx", dflt, buf,
	       model_crc());
	EXPECT_STREQ("good.vsm", buf);
	/* the file's bytes run, not the built-in ones */
	EXPECT_EQ(want, model_crc());
	EXPECT_NE(dflt, model_crc());
	ASSERT_EQ(0, vs_write("model", "default"));
	EXPECT_EQ(dflt, model_crc());
}

/* ---- calibration of the upper band ---- */

/* A "name: value" line of the device's debugfs predictor file, or -1. */
static long long pred_info(const char *name)
{
	return vs_debugfs_in("predictor", name);
}

/* The calibration's state, from one read of debugfs "predictor". */
struct calib_snap {
	long long window, margin, quantile, ring, ring_sf, crossed;
	long long resolved, shortfalls;
};

static int calib_snapshot(struct calib_snap *c)
{
	char path[PATH_MAX], line[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), VS_DBG_DIR "/%s/predictor", vs_dev_name());
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* seq_file: the whole file is made by one show(), under the lock */
	while (fgets(line, sizeof(line), f))
		n += sscanf(line, "calib_window: %lld", &c->window) +
		     sscanf(line, "calib_margin_q12: %lld", &c->margin) +
		     sscanf(line, "calib_quantile_q12: %lld", &c->quantile) +
		     sscanf(line, "calib_ring: %lld", &c->ring) +
		     sscanf(line, "calib_ring_shortfalls: %lld", &c->ring_sf) +
		     sscanf(line, "calib_pending_crossed: %lld", &c->crossed) +
		     sscanf(line, "calib_resolved: %lld", &c->resolved) +
		     sscanf(line, "calib_shortfalls: %lld", &c->shortfalls);
	fclose(f);
	return n == 8 ? 0 : -1;
}

/*
 * The windowed conformal rule (predictor/calib.h) as the kernel runs
 * it: the ring of resolved residuals never holds more than calib_window
 * (a shorter window drops the oldest at once, then the ring refills to
 * exactly the window), the margin is the ring's quantile unless a
 * pending band was already crossed (then at least that quantile), the
 * ring's shortfalls are among those counted since the reset; the target
 * and window survive a model reload, the outcomes restart; a target
 * write keeps them.  The exact arithmetic, step by step, is the replay
 * test's (vshape_replay_test.c) and predictor/test_calib.c's.
 */
TEST(calibration_knobs_and_outcomes)
{
	struct calib_snap c;
	long long resolved;
	int i;

	VS_REQUIRE_DEV();
	EXPECT_EQ(10000, vs_read_num("calib_target_ppm"));	/* default 1% */
	EXPECT_EQ(600, vs_read_num("calib_window"));		/* default */
	ASSERT_EQ(0, vs_write("calib_target_ppm", "50000"));
	EXPECT_EQ(50000, vs_read_num("calib_target_ppm"));
	ASSERT_EQ(0, vs_write("calib_window", "8"));
	/* Target and window survive a model reload; the outcomes restart. */
	ASSERT_EQ(0, vs_write("model", "default"));
	EXPECT_EQ(50000, vs_read_num("calib_target_ppm"));
	EXPECT_EQ(8, vs_read_num("calib_window"));
	/* Outcomes arrive once a band's 5 s window has passed. */
	for (i = 0; i < 150 && (pred_info("calib_resolved") < 20 ||
				pred_info("calib_ring") < 8); i++)
		sleep_ms(200);
	ASSERT_EQ(0, calib_snapshot(&c));
	TH_LOG("window %lld: ring %lld (%lld shortfalls), %lld crossed pending, %lld resolved, %lld shortfalls: quantile %lld, margin %lld (Q3.12), realised %lld ppm",
	       c.window, c.ring, c.ring_sf, c.crossed, c.resolved,
	       c.shortfalls, c.quantile, c.margin,
	       vs_read_num("calib_shortfall_ppm"));
	EXPECT_GE(c.resolved, 20);
	EXPECT_EQ(8, c.window);
	EXPECT_EQ(8, c.ring);		/* bounded by the window, full */
	EXPECT_LE(c.ring_sf, c.ring);
	EXPECT_LE(c.ring_sf + c.crossed, c.shortfalls);
	EXPECT_LE(c.shortfalls, c.resolved);
	if (c.crossed) {
		EXPECT_GE(c.margin, c.quantile);
	} else {
		EXPECT_EQ(c.quantile, c.margin);
	}
	/* A shorter window drops the oldest residuals at once. */
	ASSERT_EQ(0, vs_write("calib_window", "3"));
	ASSERT_EQ(0, calib_snapshot(&c));
	EXPECT_EQ(3, c.ring);
	EXPECT_EQ(3, c.window);
	/* A longer one keeps them and refills. */
	ASSERT_EQ(0, vs_write("calib_window", "600"));
	resolved = c.resolved;
	for (i = 0; i < 50 && pred_info("calib_resolved") < resolved + 10; i++)
		sleep_ms(200);
	ASSERT_EQ(0, calib_snapshot(&c));
	EXPECT_GE(c.ring, 3 + 10 - c.crossed);
	EXPECT_LE(c.ring, 600);
	resolved = c.resolved;
	ASSERT_EQ(0, vs_write("calib_target_ppm", "10000"));
	ASSERT_EQ(0, calib_snapshot(&c));
	EXPECT_GE(c.resolved, resolved);	/* a target write keeps them */
	EXPECT_EQ(10000, vs_read_num("calib_target_ppm"));
}

/* ---- predict mode: the balloon follows the prediction ---- */

/* A "name: count" line of debugfs policy (decisions by action), or -1. */
static long long policy_count(const char *action)
{
	char path[512], line[256];
	long long v = -1;
	size_t n = strlen(action);
	FILE *f;

	snprintf(path, sizeof(path), VS_DBG_DIR "/%s/policy", vs_dev_name());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, action, n) && line[n] == ':') {
			v = atoll(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

/*
 * Idle, the policy sizes the balloon from the predicted peak plus margins
 * (not scaled by the confidence: most of the idle RAM), inflating at the
 * bounded pace; under a 700 MiB demand it gives back what the demand
 * needs beyond what was available, before the guest runs out: the demand
 * gets all of it and lives, and the guest keeps its floor.  Both show as
 * decisions in debugfs.
 *
 * How much the balloon gives back depends on how much room the idle
 * sizing left: with the LSTM's upper band (about 650 MiB above a 150 MiB
 * demand on a fresh boot) 700 MiB need only about 50 MiB of it, with the
 * last value about 560 MiB.  So the test asks for that, not for a fixed
 * share of the demand.
 */
static void predict_cycle(struct __test_metadata *_metadata,
			  const char *predictor)
{
	long long idle, busy, avail_idle, avail_busy, grows0, shrinks0;
	long long shrinks1, back, margin_end;
	struct timespec t0, t1;
	int alive, status;
	pid_t pid;

	ASSERT_EQ(0, vs_write("predictor", predictor));
	/* The pace itself is policy_unit's; here: 1 GiB/s, a short test. */
	ASSERT_EQ(0, vs_write("shrink_kb_per_s", "1048576"));
	shrinks0 = policy_count("shrink");
	grows0 = policy_count("grow") + policy_count("grow_commit") +
		 policy_count("guard_low");
	ASSERT_EQ(0, vs_write("mode", "predict"));
	/* Its size once it has not moved for 3 s (TCG on a loaded host). */
	idle = vs_wait_stable("actual_kb", 3000, 120);
	avail_idle = meminfo_kb("MemAvailable");
	/* Returns once all 700 MiB are touched (or -1 if the child died). */
	pid = hold_memory(700 * MIB_KB, 60, NULL);
	ASSERT_GT(pid, 0);
	/* Read while the demand is held, once the balloon is still. */
	busy = vs_wait_stable("actual_kb", 2000, 40);
	avail_busy = meminfo_kb("MemAvailable");
	alive = waitpid(pid, &status, WNOHANG) == 0;
	TH_LOG("%s: balloon %lld KiB idle (MemAvailable %lld), %lld KiB under a 700 MiB demand (MemAvailable %lld, %s); decisions: shrink +%lld, grow +%lld",
	       predictor, idle, avail_idle, busy, avail_busy,
	       alive ? "held" : "holder gone",
	       policy_count("shrink") - shrinks0,
	       policy_count("grow") + policy_count("grow_commit") +
	       policy_count("guard_low") - grows0);
	if (alive) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	/* The demand gone, the policy takes the memory back (shrinks). */
	shrinks1 = policy_count("shrink");
	margin_end = vs_read_num("calib_margin_kb");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	back = vs_wait_above("actual_kb", busy + 256 * MIB_KB, 120);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* How long the calibration's memory of the demand held it back. */
	TH_LOG("%s: balloon %lld KiB %.1f s after the demand ended (shrink +%lld); calibration margin %lld KiB when it ended, %lld KiB now",
	       predictor, back, (t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       policy_count("shrink") - shrinks1, margin_end,
	       vs_read_num("calib_margin_kb"));
	EXPECT_GE(back, busy + 256 * MIB_KB);
	EXPECT_GT(policy_count("shrink"), shrinks1);
	/* A 2 GiB guest, a few hundred MiB used: over 768 MiB is spare. */
	EXPECT_GT(idle, 768 * MIB_KB);
	EXPECT_TRUE(alive);
	/* The 700 MiB came from what was available and from the balloon. */
	EXPECT_LT(busy, idle);
	EXPECT_GE(avail_idle + idle - busy, 700 * MIB_KB);
	/* ... and the guest kept its floor margin available. */
	EXPECT_GE(avail_busy, vs_read_num("floor_margin_kb"));
	EXPECT_GT(policy_count("shrink"), shrinks0);
	EXPECT_GT(policy_count("grow") + policy_count("grow_commit") +
		  policy_count("guard_low"), grows0);
	ASSERT_EQ(0, vs_write("mode", "max"));
	EXPECT_EQ(0, vs_wait_eq("actual_kb", 0, 60));
	ASSERT_EQ(0, vs_write("predictor", "lstm"));
	ASSERT_EQ(0, vs_write("shrink_kb_per_s", "131072"));
}

FIXTURE(predict) {
	int unused;
};

FIXTURE_SETUP(predict)
{
	VS_REQUIRE_DEV();
}

FIXTURE_TEARDOWN(predict)
{
}

/* TCG guests on a busy machine: give the cycle time. */
TEST_F_TIMEOUT(predict, mode_gives_back_and_takes_back, 400)
{
	predict_cycle(_metadata, "lstm");
}

/* The ablation: the same policy on the last observed demand. */
TEST_F_TIMEOUT(predict, last_value_predictor, 400)
{
	predict_cycle(_metadata, "last");
}

/* ---- the policy's knobs refuse bad writes and keep their value ---- */

FIXTURE(policy_knob) {
	char before[64];
};

FIXTURE_VARIANT(policy_knob) {
	const char *knob;
	const char *val;
	int err;
};

FIXTURE_VARIANT_ADD(policy_knob, predictor_unknown) {
	.knob = "predictor", .val = "oracle", .err = -EINVAL };
FIXTURE_VARIANT_ADD(policy_knob, psi_over_100) {
	.knob = "guard_psi_some_pct", .val = "101", .err = -ERANGE };
FIXTURE_VARIANT_ADD(policy_knob, psi_not_a_number) {
	.knob = "guard_psi_some_pct", .val = "ten", .err = -EINVAL };
FIXTURE_VARIANT_ADD(policy_knob, refault_negative) {
	.knob = "guard_refault_per_s", .val = "-1", .err = -EINVAL };
FIXTURE_VARIANT_ADD(policy_knob, pace_too_slow) {
	.knob = "shrink_kb_per_s", .val = "1", .err = -ERANGE };
FIXTURE_VARIANT_ADD(policy_knob, margin_too_big) {
	.knob = "margin_kb", .val = "999999999999", .err = -ERANGE };
FIXTURE_VARIANT_ADD(policy_knob, hold_too_long) {
	.knob = "guard_hold_ms", .val = "3600001", .err = -ERANGE };
FIXTURE_VARIANT_ADD(policy_knob, commit_over_100) {
	.knob = "commit_confidence_pct", .val = "101", .err = -ERANGE };
FIXTURE_VARIANT_ADD(policy_knob, report_grace_too_long) {
	.knob = "report_commit_grace_ms", .val = "3600001", .err = -ERANGE };
FIXTURE_VARIANT_ADD(policy_knob, report_grace_not_a_number) {
	.knob = "report_commit_grace_ms", .val = "10s", .err = -EINVAL };

FIXTURE_SETUP(policy_knob)
{
	VS_REQUIRE_DEV();
	ASSERT_EQ(0, vs_read(variant->knob, self->before, sizeof(self->before)));
}

FIXTURE_TEARDOWN(policy_knob)
{
}

TEST_F(policy_knob, bad_write_refused_value_kept)
{
	char after[64];

	EXPECT_EQ(variant->err, vs_write(variant->knob, variant->val));
	ASSERT_EQ(0, vs_read(variant->knob, after, sizeof(after)));
	EXPECT_STREQ(self->before, after);
}

VS_HARNESS_MAIN
