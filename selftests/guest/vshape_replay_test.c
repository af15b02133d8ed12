// SPDX-License-Identifier: GPL-2.0
/*
 * Bit for bit: replay the driver's debugfs record ring through the
 * userspace build of predictor/ (the same C the module links) and check
 * that every output of every step is identical: the blended demand, the
 * confidence, the upper band, the calibrated band and the margin.
 *
 * The model is reloaded first, so that the LSTM, the adaptation and the
 * calibration all start from zero at a known seq (debugfs "reset_seq"),
 * and the ring (256 records) is read before it wraps past that seq.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "kselftest_harness.h"
#include "vshape_sysfs.h"
#include "adapt.h"
#include "calib.h"
#include "default_model.h"
#include "lstm.h"

#define NR_CH		14	/* guest/sampler.h VSG_NR_CHANNELS */
#define MAX_ROWS	256	/* guest/predict.h VSG_RING_LEN */
#define CH_USED		0

struct row {
	long long seq;
	s16 raw[NR_CH];
	long long demand, confidence, upper, band, margin;
};

/* A "name: value" line of the device's debugfs predictor file, or -1. */
static long long pred_info(const char *name)
{
	return vs_debugfs_in("predictor", name);
}

/* Column of @name in the CSV header @hdr, or -1. */
static int col(const char *hdr, const char *name)
{
	size_t n = strlen(name);
	const char *p = hdr;
	int i = 0;

	while (p && *p) {
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\n' || !p[n]))
			return i;
		p = strchr(p, ',');
		if (p)
			p++;
		i++;
	}
	return -1;
}

/* Read the ring; returns the number of rows, -1 on a format error. */
static int read_records(struct row *rows)
{
	int c_used, c_dem, c_conf, c_up, c_band, c_mar, n = 0;
	char path[PATH_MAX], line[2048];
	FILE *f;

	snprintf(path, sizeof(path), VS_DBG_DIR "/%s/records", vs_dev_name());
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f))
		return -1;
	c_used = col(line, "used");
	c_dem = col(line, "demand");
	c_conf = col(line, "confidence");
	c_up = col(line, "upper");
	c_band = col(line, "band");
	c_mar = col(line, "margin");
	if (c_used != 2 || c_dem < 0 || c_conf < 0 || c_up < 0 ||
	    c_band < 0 || c_mar < 0) {
		fclose(f);
		return -1;
	}
	while (n < MAX_ROWS && fgets(line, sizeof(line), f)) {
		long long v[64];
		char *p = line, *end;
		int k = 0, i;

		while (k < 64) {
			v[k] = strtoll(p, &end, 10);
			if (end == p)
				break;
			k++;
			if (*end != ',')
				break;
			p = end + 1;
		}
		if (k <= c_mar)
			continue;
		rows[n].seq = v[0];
		for (i = 0; i < NR_CH; i++)
			rows[n].raw[i] = (s16)v[2 + i];
		rows[n].demand = v[c_dem];
		rows[n].confidence = v[c_conf];
		rows[n].upper = v[c_up];
		rows[n].band = v[c_band];
		rows[n].margin = v[c_mar];
		n++;
	}
	fclose(f);
	return n;
}

static s16 clamp16(s16 v, s16 lo, s16 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

TEST(records_replay_bit_for_bit)
{
	static struct row rows[MAX_ROWS];
	static struct vs_lstm_state st;
	static struct vs_adapt ad;
	static struct vs_calib cal;
	long long reset, outi, confi, upi, first_seq;
	char window[64];
	int n, i, k, replayed = 0, bad = 0;
	struct vs_model m;
	char err[128];
	void *buf;

	VS_REQUIRE_DEV();
	/*
	 * A window of 4 residuals, so that the ring slides (the oldest
	 * dropped) within the 10-odd outcomes known after 60 steps.
	 */
	ASSERT_EQ(0, vs_read("calib_window", window, sizeof(window)));
	ASSERT_EQ(0, vs_write("calib_window", "4"));
	ASSERT_EQ(0, vs_write("model", "default"));
	reset = pred_info("reset_seq");
	ASSERT_GE(reset, 0);
	ASSERT_EQ(reset, pred_info("calib_seq"));
	/* At least 60 steps, read well before the ring (256) wraps. */
	while (1) {
		long long seq_now = -1;

		n = read_records(rows);
		ASSERT_GT(n, 0);
		seq_now = rows[n - 1].seq;
		if (seq_now >= reset + 60)
			break;
		usleep(200000);
	}
	first_seq = rows[0].seq;
	TH_LOG("reset at seq %lld, ring holds %lld..%lld", reset, first_seq,
	       rows[n - 1].seq);
	ASSERT_LE(first_seq, reset);

	outi = pred_info("demand_output");
	confi = pred_info("confidence_output");
	upi = pred_info("upper_output");
	buf = aligned_alloc(8, (vs_default_model_len + 7) & ~7u);
	ASSERT_NE(NULL, buf);
	memcpy(buf, vs_default_model, vs_default_model_len);
	ASSERT_EQ(0, vs_model_parse(buf, vs_default_model_len, &m, err,
				    sizeof(err)));
	vs_lstm_reset(&m, &st);
	/* guest/predict.c: VSG_ADAPT_ALPHA, VSG_ADAPT_DECAY_SHIFT */
	vs_adapt_init(&ad, 32767, 4);
	memset(&cal, 0, sizeof(cal));
	ASSERT_EQ(0, vs_calib_set_target(&cal, pred_info("calib_target_ppm")));
	ASSERT_EQ(4, pred_info("calib_window"));
	ASSERT_EQ(0, vs_calib_set_window(&cal, 4));
	vs_calib_reset(&cal, pred_info("calib_horizon"));
	ASSERT_EQ(0, vs_write("calib_window", window));	/* restored */

	for (i = 0; i < n; i++) {
		s16 in[VS_MAX_RAW], out[VS_MAX_OUT], bl[VS_MAX_OUT];
		s16 dem, conf, up, band, mar;
		const struct row *r = &rows[i];

		if (r->seq < reset)
			continue;
		ASSERT_EQ(reset + replayed, r->seq);	/* no gap */
		vs_model_gather(&m, r->raw, in);
		vs_lstm_step(&m, &st, in, out);
		vs_adapt_step(&m, &ad, r->raw[CH_USED], out, bl);
		conf = confi >= 0 ? clamp16(out[confi], 0, 32767) : 0;
		up = upi >= 0 ? out[upi] : outi >= 0 ? bl[outi] : r->raw[CH_USED];
		band = vs_calib_step(&cal, r->raw[CH_USED], up);
		mar = vs_calib_margin_q12(&cal);
		dem = clamp16(outi >= 0 ? bl[outi] : band, 0, 4096);
		k = dem != r->demand || conf != r->confidence ||
		    up != r->upper || band != r->band || mar != r->margin;
		if (k && bad++ < 5)
			TH_LOG("seq %lld: kernel %lld %lld %lld %lld %lld, userspace %d %d %d %d %d",
			       r->seq, r->demand, r->confidence, r->upper,
			       r->band, r->margin, dem, conf, up, band, mar);
		replayed++;
	}
	TH_LOG("%d steps replayed (model %u.%u, %u inputs, upper output %lld), %d differ",
	       replayed, m.ver_major, m.ver_minor, m.n_raw, upi, bad);
	EXPECT_GE(replayed, 60);
	EXPECT_EQ(0, bad);
	free(buf);
}

VS_HARNESS_MAIN
