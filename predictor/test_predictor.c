// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of the predictor, TAP output.
 *
 * usage: test_predictor [CHECK_NOFPU_SH FPU_OBJ CLEAN_OBJ]
 * Exit status is non-zero if any test fails.
 */
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "lstm.h"
#include "lstm_float.h"
#include "adapt.h"
#include "default_model.h"
#include "quant.h"


static void ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#include "test_tap.h"

static unsigned long long seed = 12345;

static double urand(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (seed >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- fixed-point arithmetic ---- */

static double sig_err, tanh_err;

static void test_fixed(void)
{
	int k, bad = 0, mono = 1, odd = 1, sym = 1;
	s32 x;
	s16 prev = 0;

	for (k = 0; k < VS_SIG_TABLE_N; k++)
		if (vs_sigmoid_table[k] !=
		    (u16)lrint(32768.0 / (1.0 + exp(-k / 32.0))))
			bad++;
	ok(!bad, "sigmoid table matches libm (%d bad entries)", bad);

	sig_err = 0;
	tanh_err = 0;
	for (x = -16 * 4096; x <= 16 * 4096; x++) {
		double r = x / 4096.0;
		double es = fabs(vs_sigmoid(x) / 32768.0 - 1 / (1 + exp(-r)));
		double et = fabs(vs_tanh(x) / 32768.0 - tanh(r));
		s16 s = vs_sigmoid(x);

		if (es > sig_err)
			sig_err = es;
		if (et > tanh_err)
			tanh_err = et;
		if (x > -16 * 4096 && s < prev)
			mono = 0;
		prev = s;
		if (vs_tanh(x) != -vs_tanh(-x))
			odd = 0;
		if (vs_sigmoid(x) + vs_sigmoid(-x) != 32768 &&
		    vs_sigmoid(x) != 32767 && vs_sigmoid(-x) != 32767)
			sym = 0;
	}
	printf("# max |sigmoid error| %.3g, max |tanh error| %.3g\n",
	       sig_err, tanh_err);
	ok(sig_err < 4e-5, "sigmoid max abs error %.3g < 4e-5", sig_err);
	ok(tanh_err < 8e-5, "tanh max abs error %.3g < 8e-5", tanh_err);
	ok(mono, "sigmoid monotonic over Q3.12 [-16, 16]");
	ok(odd, "tanh exactly odd");
	ok(sym, "sigmoid(x) + sigmoid(-x) == 1");
	ok(vs_sigmoid(0) == 16384 && vs_tanh(0) == 0,
	   "sigmoid(0) = 0.5, tanh(0) = 0");
	ok(vs_sigmoid(INT32_MAX) == 32767 && vs_sigmoid(-INT32_MAX - 1) == 0 &&
	   vs_tanh(INT32_MAX) == 32767 && vs_tanh(-INT32_MAX - 1) == -32767,
	   "sigmoid/tanh saturate at the s32 extremes");

	ok(vs_sat16(40000) == 32767 && vs_sat16(-40000) == -32768 &&
	   vs_sat16(-32768) == -32768 && vs_sat16(123) == 123,
	   "vs_sat16 saturates");
	ok(vs_sat32(1LL << 40) == 2147483647 &&
	   vs_sat32(-(1LL << 40)) == -2147483647 - 1, "vs_sat32 saturates");
	ok(vs_rshift_round(3, 1) == 2 && vs_rshift_round(-3, 1) == -1 &&
	   vs_rshift_round(5, 2) == 1 && vs_rshift_round(-5, 2) == -1 &&
	   vs_rshift_round(6, 2) == 2 && vs_rshift_round(-6, 2) == -1 &&
	   vs_rshift_round(7, 0) == 7, "round-half-up shifts");
	ok(vs_mul_q15(-32768, -32768) == 32767 &&
	   vs_mul_q15(16384, 16384) == 8192 &&
	   vs_mul_q15(-16384, 16384) == -8192, "Q0.15 multiply saturates");
	ok(vs_q15_to_pct(0) == 0 && vs_q15_to_pct(327) == 0 &&
	   vs_q15_to_pct(328) == 1 && vs_q15_to_pct(16384) == 50 &&
	   vs_q15_to_pct(32767) == 99 && vs_q15_to_pct(65535) == 199,
	   "Q0.15 to percent, rounded down");
	ok(vs_requant(1LL << 45, 32767, 0) == 2147483647 &&
	   vs_requant(-(1LL << 45), 32767, 0) == -2147483647 - 1 &&
	   vs_requant(1000, 16384, 14) == 1000, "requant saturates");
	{
		s16 w[80], v[80];

		for (k = 0; k < 80; k++) {
			w[k] = -32768;
			v[k] = -32768;
		}
		ok(vs_dot16(w, v, 80) == 80LL * 1073741824LL,
		   "80-term dot product of -32768s does not overflow");
	}
	{
		/* four rows at once == one row at a time, odd and even n */
		static const unsigned int ns[] = { 1, 2, 3, 4, 31, 32, 33, 80 };
		s16 w[4 * 80], v[80];
		s64 acc[4];
		unsigned int t, r;
		u32 lcg = 12345;	/* own sequence: urand() feeds later tests */
		int same = 1;

		for (t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
			unsigned int n = ns[t];

			for (k = 0; k < 4 * 80; k++) {
				lcg = lcg * 1103515245u + 12345u;
				w[k] = k % 7 ? (s16)(lcg >> 16) : -32768;
			}
			for (k = 0; k < 80; k++) {
				lcg = lcg * 1103515245u + 12345u;
				v[k] = k % 5 ? (s16)(lcg >> 16) : -32768;
			}
			vs_dot16x4(w, v, n, acc);
			for (r = 0; r < 4; r++)
				same &= acc[r] == vs_dot16(w + r * n, v, n);
		}
		ok(same, "vs_dot16x4 equals four vs_dot16 rows (n = 1..80, extremes)");
	}
	ok(vs_crc32(0, "123456789", 9) == 0xCBF43926u,
	   "crc32 check value");
}

/* ---- models ---- */

static void random_fmodel(struct vs_fmodel *m, int layers, int hid,
			  int nfeat, int nout, float wscale)
{
	int l, i, in;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "test-%dx%d", layers, hid);
	m->step_ms = 1000;
	m->n_raw = 2;
	m->chan[0] = 0;
	m->chan[1] = 1;
	m->n_feat = nfeat;
	m->n_layers = layers;
	m->hidden = hid;
	m->n_out = nout;
	for (i = 0; i < nfeat; i++) {
		m->feat[i].src = i % 2;
		m->feat[i].kind = (i / 2) % 2;
		m->feat[i].offset = m->feat[i].kind ? 0 : 0.5f;
		m->feat[i].scale = m->feat[i].kind ? 20.0f : 4.0f;
	}
	for (l = 0; l < layers; l++) {
		in = l ? hid : nfeat;
		m->layer[l].in_dim = in;
		for (i = 0; i < 4 * hid * in; i++)
			m->layer[l].wx[i] = (2 * urand() - 1) * wscale;
		for (i = 0; i < 4 * hid * hid; i++)
			m->layer[l].wh[i] = (2 * urand() - 1) * wscale;
		for (i = 0; i < 4 * hid; i++)
			m->layer[l].b[i] = (2 * urand() - 1) * 0.5f;
	}
	for (i = 0; i < nout * hid; i++)
		m->wy[i] = (2 * urand() - 1) * 0.3f;
	for (i = 0; i < nout; i++) {
		m->by[i] = (2 * urand() - 1) * 0.1f;
		m->out[i].kind = VS_OUT_DEMAND;
		m->out[i].base = 0;
		m->out[i].horizon = i + 1;
		m->out[i].offset = 0.01f;
		m->out[i].scale = 0.05f;
	}
	m->out[nout - 1].kind = VS_OUT_CONFIDENCE;
	m->out[nout - 1].base = VS_OUT_NO_BASE;
	m->out[nout - 1].horizon = 0;
	m->out[nout - 1].scale = -1;
}

static u8 *aligned_copy(const void *src, size_t len)
{
	u8 *b = aligned_alloc(16, (len + 15) & ~(size_t)15);

	memcpy(b, src, len);
	return b;
}

static void fix_crc(u8 *b, size_t len)
{
	u32 c = vs_crc32(0, b, len - 4);

	b[len - 4] = c;
	b[len - 3] = c >> 8;
	b[len - 2] = c >> 16;
	b[len - 1] = c >> 24;
}

/* synthetic demand signal, Q3.12 */
static void synth_input(int t, s16 *in)
{
	double mem = 0.6 + 0.2 * sin(t / 40.0) + 0.05 * sin(t / 7.0) +
		     0.02 * (urand() - 0.5);
	double cpu = 0.4 + 0.3 * sin(t / 13.0) + 0.1 * (urand() - 0.5);

	in[0] = (s16)lrint(mem * 4096);
	in[1] = (s16)lrint(cpu * 4096);
}

/*
 * Synthetic values of all 14 sampler channels (guest/sampler.h, Q3.12),
 * shaped like a guest's: used = anon + a little, a page cache that fills
 * and is dropped, free what is left, CPU busy in bursts, fault rates that
 * spike when used rises, refaults and swap after the cache drops, PSI in
 * 2 s steps.  Every channel moves, so a model reading any of them is
 * compared on real-looking input, not on zeros.
 */
#define SYNTH_CHANNELS	14

static void synth_channels(int t, s16 *ch)
{
	double used = 0.45 + 0.2 * sin(t / 40.0) + 0.08 * sin(t / 7.0) +
		      0.02 * (urand() - 0.5);
	double rise = 0.2 / 40.0 * cos(t / 40.0) + 0.08 / 7.0 * cos(t / 7.0);
	double file = 0.25 * ((t % 90) / 90.0) + 0.01 * urand();
	double free = 1.0 - used - file;
	double cpu = 0.4 + 0.3 * sin(t / 13.0) + 0.1 * (urand() - 0.5);
	double fault = (rise > 0 ? 1.5 * rise : 0) + 0.002 * urand();
	double after_drop = t % 90 < 10 ? 0.05 * urand() : 0;
	double psi = (t / 2) % 45 < 3 ? 0.2 : 0.0;
	double v[SYNTH_CHANNELS] = {
		used, cpu, used * 0.9, file, free > 0.02 ? free : 0.02,
		fault, fault / 20, after_drop, after_drop / 4, after_drop / 2,
		psi, psi / 3, used * 0.6, psi / 2,
	};
	int k;

	for (k = 0; k < SYNTH_CHANNELS; k++)
		ch[k] = (s16)lrint(v[k] * 4096);
}

/*
 * Run fixed and float side by side; return max |diff| of DEMAND outputs.
 * @all: every channel moves (synth_channels()), else used and cpu only;
 * @kernel_range: the float reference computes in Q3.12's range.
 */
static double agreement(const struct vs_model *q, int steps, bool all,
			bool kernel_range, double *mean, double *conf_diff)
{
	static struct vs_fmodel fm;
	struct vs_lstm_state st;
	struct vs_fstate fs;
	s16 chans[SYNTH_CHANNELS], in[VS_MAX_RAW] = { 0 }, out[VS_MAX_OUT];
	float fin[VS_MAX_RAW] = { 0 }, fout[VS_MAX_OUT];
	double mx = 0, sum = 0, cd = 0;
	long n = 0;
	int t, k;

	vs_f_from_fixed(q, &fm);
	fm.kernel_range = kernel_range;
	vs_lstm_reset(q, &st);
	vs_f_reset(&fs);
	for (t = 0; t < steps; t++) {
		if (all) {
			synth_channels(t, chans);
			vs_model_gather(q, chans, in);
		} else {
			synth_input(t, in);
		}
		for (k = 0; k < q->n_raw; k++)
			fin[k] = in[k] / 4096.0f;
		vs_lstm_step(q, &st, in, out);
		vs_f_step(&fm, &fs, fin, fout);
		for (k = 0; k < q->n_out; k++) {
			double d;

			if (q->out[k].kind == VS_OUT_CONFIDENCE) {
				d = fabs(out[k] / 32768.0 - fout[k]);
				if (d > cd)
					cd = d;
				continue;
			}
			d = fabs(out[k] / 4096.0 - fout[k]);
			if (d > mx)
				mx = d;
			sum += d;
			n++;
		}
	}
	*mean = sum / n;
	*conf_diff = cd;
	return mx;
}

static void test_agreement(void)
{
	static struct vs_fmodel fm;
	struct vs_model q;
	char err[128];
	double mx, mean, cd;
	size_t len;
	u8 *buf;
	int r;

	r = vs_model_parse(vs_default_model, vs_default_model_len, &q, err,
			   sizeof(err));
	ok(!r, "default model parses (%s)", r ? err : q.name);
	if (!r) {
		/* the checks below and the random model keep their inputs */
		unsigned long long keep = seed;

		mx = agreement(&q, 2000, true, true, &mean, &cd);
		printf("# default, all channels, float in Q3.12's range: max |fixed - float| %.5f, mean %.6f, conf %.5f\n",
		       mx, mean, cd);
		/* measured: 0.025% of RAM at worst, 0.006% on average */
		ok(mx < 0.001 && mean < 0.0002 && cd < 0.005,
		   "default model, all 14 channels moving: fixed within 0.1%% of RAM of the float model computed in the kernel's range at every step, 0.02%% on average (max %.5f, mean %.6f, conf %.5f)",
		   mx, mean, cd);
		/*
		 * Not asserted: against the float model as trained (no
		 * range), the same input differs by up to 3.7% of RAM (0.07%
		 * on average): a file-cache drop of 25% of RAM in one step
		 * is a DELTA feature of -160, which the kernel saturates at
		 * -8 (docs/predictor.md, "Feature range").
		 */
		mx = agreement(&q, 2000, true, false, &mean, &cd);
		printf("# default, all channels, float as trained: max |fixed - float| %.5f, mean %.6f, conf %.5f\n",
		       mx, mean, cd);
		seed = keep;
		mx = agreement(&q, 2000, false, false, &mean, &cd);
		printf("# default, used and cpu only, float as trained: max |fixed - float| %.5f, mean %.6f, conf %.5f\n",
		       mx, mean, cd);
		/*
		 * The worst single step of the 24-unit corpus model is 0.45%
		 * of RAM off on these synthetic inputs (the 16-unit model
		 * before it: under 0.2%); on the corpus's test round the
		 * slack at 1% shortfall of fixed and float differs by under
		 * 0.6% (docs/predictor.md), which is what the policy sees.
		 */
		ok(mx < 0.005 && mean < 0.0005 && cd < 0.01,
		   "default model, used and cpu only: fixed within 0.5%% of RAM of the float model as trained at every step, 0.05%% on average (max %.5f, mean %.6f)",
		   mx, mean);
	}
	random_fmodel(&fm, 2, 64, 4, 6, 0.3f);
	r = vs_quantize(&fm, &buf, &len, err, sizeof(err));
	ok(!r, "quantize random 2x64 model");
	if (r)
		return;
	r = vs_model_parse(buf, len, &q, err, sizeof(err));
	ok(!r, "random 2x64 model parses (%s)", err);
	if (!r) {
		mx = agreement(&q, 1000, true, false, &mean, &cd);
		printf("# 2x64: max |fixed - float| %.5f, mean %.6f, conf %.5f\n",
		       mx, mean, cd);
		ok(mx < 0.005 && mean < 0.001 && cd < 0.01,
		   "random 2x64 model: fixed close to float (max %.5f)", mx);
	}
	free(buf);
}

/*
 * Every quantized weight, the largest of its tensor included, is within
 * half a step of the float one.  The quantizer rounded the scale's
 * multiplier to nearest: where that rounded down, the largest weight
 * landed past 32767 and was clipped (15 of these 128 tensors, up to 1.6
 * half-steps off; 12% of random maxima); it now rounds up there.  Tried
 * on 64 one-layer models of random weight scale; the slack is float32's
 * rounding of the two weights compared.
 */
static void test_quant_half_step(void)
{
	static struct vs_fmodel fm, back;
	int k, i, bad = 0, tensors = 0;
	double over = 0;
	struct vs_model q;
	char err[128];
	size_t len;
	u8 *buf;

	for (k = 0; k < 64; k++) {
		random_fmodel(&fm, 1, 8, 4, 2, 0.05f + 0.9f * urand());
		if (vs_quantize(&fm, &buf, &len, err, sizeof(err)) ||
		    vs_model_parse(buf, len, &q, err, sizeof(err))) {
			bad++;
			continue;
		}
		free(buf);
		vs_f_from_fixed(&q, &back);
		for (i = 0; i < 2; i++) {
			const struct vs_scale *sc = i ? &q.layer[0].sh :
							&q.layer[0].sx;
			const float *w = i ? fm.layer[0].wh : fm.layer[0].wx;
			const float *b = i ? back.layer[0].wh : back.layer[0].wx;
			double half = ldexp(sc->mult, -sc->shift) *
				      (i ? 8 : 1) / 2, e;
			int n = 4 * 8 * (i ? 8 : 4), j, fail = 0;

			for (j = 0; j < n; j++) {
				e = fabs((double)b[j] - w[j]) - half -
				    fabs(w[j]) * ldexp(1.0, -23);
				if (e > 0) {
					fail = 1;
					over = fmax(over, e / half);
				}
			}
			bad += fail;
			tensors++;
		}
	}
	ok(!bad && tensors == 128,
	   "quantization error <= half a step in %d of %d tensors (worst %.2f half-steps over)",
	   tensors - bad, 128, over);
}

/* ---- parser ---- */

static int parse_mut(const u8 *good, size_t len, size_t off, u8 val,
		     int recrc)
{
	struct vs_model m;
	char err[128];
	u8 *b = aligned_copy(good, len);
	int r;

	b[off] = val;
	if (recrc)
		fix_crc(b, len);
	r = vs_model_parse(b, len, &m, err, sizeof(err));
	printf("# mutation @%zu=%u -> %d (%s)\n", off, val, r, err);
	free(b);
	return r;
}

/*
 * A 1.0 model (2 inputs, 4 features, 32 units, 5 DEMAND outputs at 1..5
 * steps and a CONFIDENCE output) whose layout the parser and adaptation
 * tests rely on; made without disturbing the random sequence of the
 * other tests.
 */
static u8 *ref_model(size_t *len)
{
	static struct vs_fmodel fm;
	unsigned long long saved = seed;
	char err[128];
	u8 *b, *a;

	seed = 777;
	random_fmodel(&fm, 1, 32, 4, 6, 0.5f);
	seed = saved;
	if (vs_quantize(&fm, &b, len, err, sizeof(err)))
		return NULL;
	a = aligned_copy(b, *len);
	free(b);
	return a;
}

static void test_parser(void)
{
	size_t len;
	u8 *g = ref_model(&len);
	struct vs_model m;
	char err[128];
	u8 *b;
	int r, l;

	ok(g && g[6] == 0, "reference model quantizes as a 1.0 file");
	if (!g)
		return;
	b = aligned_copy(g, len);
	r = vs_model_parse(b, len, &m, err, sizeof(err));
	ok(!r && m.len == len, "good model accepted");

	r = 0;
	for (l = 0; l < (int)len; l += (l < 100 ? 1 : 97))
		if (!vs_model_parse(b, l, &m, err, sizeof(err)))
			r++;
	ok(!r, "every truncation rejected (%d accepted)", r);
	ok(vs_model_parse(b, len - 1, &m, err, sizeof(err)) == -EINVAL,
	   "truncated by one byte rejected: %s", err);
	free(b);
	b = aligned_alloc(16, len + 16);
	memcpy(b + 1, g, len);
	ok(vs_model_parse(b + 1, len, &m, err, sizeof(err)) == -EINVAL,
	   "misaligned buffer rejected: %s", err);
	free(b);
	ok(vs_model_parse(NULL, 0, &m, err, sizeof(err)) == -EINVAL,
	   "NULL buffer rejected");

	ok(parse_mut(g, len, 0, 'X', 1) == -EINVAL, "wrong magic rejected");
	ok(parse_mut(g, len, 4, 2, 1) == -EPROTO, "major version 2 rejected");
	ok(parse_mut(g, len, 4, 0, 1) == -EPROTO, "major version 0 rejected");
	ok(parse_mut(g, len, 6, 2, 1) == -EPROTO, "minor version 2 rejected");
	ok(parse_mut(g, len, 6, 1, 1) == -EINVAL,
	   "1.0 file relabelled 1.1: channels 0, 0 rejected");
	ok(parse_mut(g, len, 8, g[8] + 4, 1) == -EINVAL,
	   "length field mismatch rejected");
	ok(parse_mut(g, len, 100, g[100] ^ 1, 0) == -EBADMSG,
	   "flipped weight bit: bad checksum rejected");
	ok(parse_mut(g, len, len - 1, g[len - 1] ^ 0x80, 0) == -EBADMSG,
	   "flipped checksum bit rejected");
	ok(parse_mut(g, len, 19, 65, 1) == -E2BIG, "65 hidden units rejected");
	ok(parse_mut(g, len, 19, 0, 1) == -E2BIG, "0 hidden units rejected");
	ok(parse_mut(g, len, 18, 3, 1) == -E2BIG, "3 layers rejected");
	ok(parse_mut(g, len, 17, 17, 1) == -E2BIG, "17 features rejected");
	ok(parse_mut(g, len, 16, 17, 1) == -E2BIG, "17 raw inputs rejected");
	ok(parse_mut(g, len, 20, 17, 1) == -E2BIG, "17 outputs rejected");
	ok(parse_mut(g, len, 20, g[20] - 1, 1) == -EINVAL,
	   "dims inconsistent with length rejected");
	ok(parse_mut(g, len, 28, 1, 1) == -EINVAL, "unknown flag rejected");
	ok(parse_mut(g, len, 50, 1, 1) == -EINVAL, "reserved byte rejected");
	/* first feature: src, kind, shift, -, offset, -, mult */
	ok(parse_mut(g, len, 64, 2, 1) == -EINVAL,
	   "feature source out of range rejected");
	ok(parse_mut(g, len, 65, 2, 1) == -EINVAL, "feature kind rejected");
	ok(parse_mut(g, len, 66, 41, 1) == -EINVAL,
	   "feature shift 41 (absurd scale) rejected");
	b = aligned_copy(g, len);
	memset(b + 72, 0, 4);
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "feature scale 0 rejected: %s", err);
	memcpy(b, g, len);
	b[72 + 2] = 1;	/* mult = 65536 + ... */
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "feature scale > 32767 rejected: %s", err);
	memcpy(b, g, len);
	memset(b + 24, 0, 4);
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "zero step period rejected: %s", err);
	/* layer 0 header follows the features */
	l = 64 + 12 * g[17];
	memcpy(b, g, len);
	b[l + 8] = 200;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "weight shift 200 rejected: %s", err);
	memcpy(b, g, len);
	b[l + 3] = 0x7f;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "weight scale 2^31 rejected: %s", err);
	/* first bias of layer 0 */
	memcpy(b, g, len);
	l += 12 + 8 * g[19] * g[17] + 8 * g[19] * g[19];
	b[l + 3] = 0x10;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "absurd bias rejected: %s", err);
	/* last output: kind byte */
	memcpy(b, g, len);
	b[len - 4 - 12] = 7;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "unknown output kind rejected: %s", err);
	memcpy(b, g, len);
	b[len - 4 - 24 + 3] = 0;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "demand horizon 0 rejected: %s", err);
	memcpy(b, g, len);
	b[len - 4 - 24 + 1] = 5;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "output base out of range rejected: %s", err);
	memcpy(b, g, len);
	fix_crc(b, len);
	ok(!vs_model_parse(b, len, &m, err, sizeof(err)),
	   "unmodified copy with recomputed CRC still accepted");
	free(b);
	free(g);
}

/* ---- format 1.1: channels and PEAK quantiles ---- */

/* Quantize a 1.1 model: inputs = channels 0, 5, 10; 2 horizons x 2 levels. */
static u8 *v11_model(size_t *len)
{
	static const float lv[2] = { 0.5f, 0.99f };
	static struct vs_fmodel fm;
	char err[128];
	u8 *b, *a;
	int i;

	random_fmodel(&fm, 1, 8, 4, 5, 0.5f);
	fm.n_raw = 3;
	fm.chan[1] = 5;
	fm.chan[2] = 10;
	fm.feat[3].src = 2;
	for (i = 0; i < 4; i++) {
		fm.out[i].kind = VS_OUT_PEAK;
		fm.out[i].horizon = i < 2 ? 10 : 50;
		fm.out[i].quantile = lv[i % 2];
	}
	if (vs_quantize(&fm, &b, len, err, sizeof(err)))
		return NULL;
	a = aligned_copy(b, *len);
	free(b);
	return a;
}

static void test_format11(void)
{
	struct vs_model m;
	char err[160];
	size_t len, o0;
	s16 chans[16], in[3];
	u8 *g = v11_model(&len), *b;
	int r, i;

	ok(g != NULL, "1.1 model quantizes");
	if (!g)
		return;
	r = vs_model_parse(g, len, &m, err, sizeof(err));
	ok(!r && m.ver_minor == 1 && m.n_raw == 3 && m.chan[0] == 0 &&
	   m.chan[1] == 5 && m.chan[2] == 10 && vs_model_max_channel(&m) == 10,
	   "1.1 model parses, channels 0 5 10 (%s)", err);
	ok(!r && m.out[0].kind == VS_OUT_PEAK && m.out[0].quantile == 16384 &&
	   m.out[1].quantile == 32440 && m.out[3].horizon == 50,
	   "PEAK outputs keep horizon and Q0.15 level (%u, %u)",
	   m.out[0].quantile, m.out[1].quantile);
	ok(vs_model_find_upper(&m, 50) == 3 && vs_model_find_upper(&m, 12) == 1 &&
	   vs_model_find_upper(&m, 30) == 1 && vs_model_find_output(&m, 10) < 0,
	   "upper band: nearest horizon, highest level (50 -> %d, 12 -> %d, 30 -> %d)",
	   vs_model_find_upper(&m, 50), vs_model_find_upper(&m, 12),
	   vs_model_find_upper(&m, 30));
	for (i = 0; i < 16; i++)
		chans[i] = 100 * i;
	vs_model_gather(&m, chans, in);
	ok(in[0] == 0 && in[1] == 500 && in[2] == 1000,
	   "gather reads the declared channels");

	/* mutations of a 1.1 file: header bytes 48.. are the channels */
	ok(parse_mut(g, len, 49, 0, 1) == -EINVAL, "duplicate channel rejected");
	ok(parse_mut(g, len, 50, 64, 1) == -EINVAL, "channel id 64 rejected");
	ok(parse_mut(g, len, 51, 1, 1) == -EINVAL,
	   "byte after the channel list must stay 0");
	ok(parse_mut(g, len, 6, 0, 1) == -EINVAL,
	   "same file labelled 1.0: PEAK kind (and channel bytes) rejected");
	o0 = len - 4 - 12 * 5;	/* first output */
	b = aligned_copy(g, len);
	b[o0 + 6] = 0;
	b[o0 + 7] = 0;
	fix_crc(b, len);
	r = vs_model_parse(b, len, &m, err, sizeof(err));
	ok(r == -EINVAL, "PEAK quantile 0 rejected: %s", err);
	free(b);
	ok(parse_mut(g, len, o0 + 7, 0x80, 1) == -EINVAL,
	   "PEAK quantile >= 1 rejected");
	ok(parse_mut(g, len, o0 + 12 * 4 + 6, 1, 1) == -EINVAL,
	   "quantile on a CONFIDENCE output rejected");
	b = aligned_copy(g, len);
	b[o0 + 12 + 6] = b[o0 + 6];	/* output 1 = output 0's level */
	b[o0 + 12 + 7] = b[o0 + 7];
	fix_crc(b, len);
	r = vs_model_parse(b, len, &m, err, sizeof(err));
	ok(r == -EINVAL, "two PEAK outputs with one horizon and level rejected: %s",
	   err);
	b[o0 + 12 + 3] = 20;		/* ...but at another horizon: fine */
	fix_crc(b, len);
	ok(!vs_model_parse(b, len, &m, err, sizeof(err)),
	   "same level at distinct horizons accepted (%s)", err);
	b[o0 + 3] = 0;
	fix_crc(b, len);
	ok(vs_model_parse(b, len, &m, err, sizeof(err)) == -EINVAL,
	   "PEAK horizon 0 rejected: %s", err);
	free(b);
	free(g);
}

/* ---- golden vectors and step hygiene ---- */

static void test_golden(void)
{
	static struct vs_fmodel fm;
	struct vs_lstm_state st;
	struct vs_model q;
	s16 in[VS_MAX_RAW] = { 0 }, out[VS_MAX_OUT + 4];
	char err[128];
	u32 crc = 0;
	size_t len;
	u8 *buf;
	int t, canary = 1;

	seed = 777;
	random_fmodel(&fm, 2, 32, 4, 6, 0.4f);
	if (vs_quantize(&fm, &buf, &len, err, sizeof(err)) ||
	    vs_model_parse(buf, len, &q, err, sizeof(err))) {
		ok(0, "golden model builds: %s", err);
		return;
	}
	printf("# golden model: %zu bytes, crc %08x\n", len, q.crc);
	ok(q.crc == 0x3bcd3bd0u,
	   "golden model file is bit-exact (crc %08x)", q.crc);
	seed = 4242;
	vs_lstm_reset(&q, &st);
	for (t = 0; t < 500; t++) {
		synth_input(t, in);
		out[6] = 0x5a5a;
		vs_lstm_step(&q, &st, in, out);
		if (out[6] != 0x5a5a)
			canary = 0;
		crc = vs_crc32(crc, out, 6 * sizeof(s16));
		if (t == 499)
			printf("# last outputs %d %d %d %d %d %d\n", out[0],
			       out[1], out[2], out[3], out[4], out[5]);
	}
	printf("# golden outputs crc %08x\n", crc);
	ok(crc == 0xd6a93f56u,
	   "golden outputs over 500 steps are bit-exact (crc %08x)", crc);
	ok(canary, "step writes exactly n_out outputs");
	free(buf);
}

static int sat_run(const struct vs_model *q, s16 x, s16 want_h, s16 want_c)
{
	struct vs_lstm_state st;
	s16 in[VS_MAX_RAW] = { x, x }, out[VS_MAX_OUT];
	int t, k, good = 1;

	vs_lstm_reset(q, &st);
	for (t = 0; t < 20; t++)
		vs_lstm_step(q, &st, in, out);
	for (k = 0; k < q->hidden; k++)
		if (abs(st.h[0][k] - want_h) > 40 || st.c[0][k] != want_c)
			good = 0;
	printf("# x %d: h[0] %d c[0] %d out[0] %d conf %d\n", x, st.h[0][0],
	       st.c[0][0], out[0], out[q->n_out - 1]);
	return good && out[q->n_out - 1] >= 0;
}

static void test_saturation(void)
{
	static struct vs_fmodel fm;
	struct vs_model q;
	char err[128];
	size_t len;
	u8 *buf;
	int k;

	/* every weight +8, features scaled x1000: all sums overflow s16 */
	seed = 99;
	random_fmodel(&fm, 1, 64, 16, 16, 1.0f);
	for (k = 0; k < 16; k++) {
		fm.feat[k].kind = VS_FEAT_RAW;
		fm.feat[k].offset = 0;
		fm.feat[k].scale = 1000.0f;
	}
	for (k = 0; k < 4 * 64 * 16; k++)
		fm.layer[0].wx[k] = 8.0f;
	for (k = 0; k < 4 * 64 * 64; k++)
		fm.layer[0].wh[k] = 8.0f;
	for (k = 0; k < 4 * 64; k++)
		fm.layer[0].b[k] = 0;
	if (vs_quantize(&fm, &buf, &len, err, sizeof(err)) ||
	    vs_model_parse(buf, len, &q, err, sizeof(err))) {
		ok(0, "saturation model builds: %s", err);
		return;
	}
	ok(sat_run(&q, 32767, 32767, 32767),
	   "huge positive sums saturate: c = +8, h = +1 (no wrap-around)");
	ok(sat_run(&q, -32768, 0, 0),
	   "huge negative sums saturate: gates closed, c = 0, h = 0");
	free(buf);
	for (k = 2 * 64 * 16; k < 3 * 64 * 16; k++)
		fm.layer[0].wx[k] = -8.0f;
	for (k = 2 * 64 * 64; k < 3 * 64 * 64; k++)
		fm.layer[0].wh[k] = -8.0f;
	if (vs_quantize(&fm, &buf, &len, err, sizeof(err)) ||
	    vs_model_parse(buf, len, &q, err, sizeof(err))) {
		ok(0, "saturation model 2 builds: %s", err);
		return;
	}
	ok(sat_run(&q, 32767, -32767, -32768),
	   "g = -1 with open gates saturates: c = -8, h = -1");
	free(buf);
}

/* ---- adaptation ---- */

static void test_adapt(void)
{
	struct vs_model q;
	static struct vs_adapt a;
	s16 out[VS_MAX_OUT], bl[VS_MAX_OUT];
	char err[128];
	int t, k, h1, h5;
	double y[400];
	size_t len;
	u8 *g = ref_model(&len);

	if (!g || vs_model_parse(g, len, &q, err, sizeof(err))) {
		ok(0, "adapt: reference model");
		return;
	}
	h1 = vs_model_find_output(&q, 1);
	h5 = vs_model_find_output(&q, 5);
	ok(h1 >= 0 && h5 >= 0, "reference model has 1- and 5-step outputs");
	if (h1 < 0 || h5 < 0)
		return;
	for (t = 0; t < 400; t++)
		y[t] = 0.5 + 0.3 * sin(t / 10.0);
	/* an oracle LSTM: forecasts are the true future values */
	vs_adapt_init(&a, 32767, 3);
	for (t = 0; t < 300; t++) {
		for (k = 0; k < q.n_out; k++)
			out[k] = q.out[k].kind == VS_OUT_DEMAND ?
				 (s16)lrint(y[t + q.out[k].horizon] * 4096) : 0;
		vs_adapt_step(&q, &a, (s16)lrint(y[t] * 4096), out, bl);
	}
	ok(a.w[h5] > 30000, "oracle LSTM: weight rises to %d/32768", a.w[h5]);
	/* a broken LSTM: forecasts 0.3 of RAM too high */
	vs_adapt_init(&a, 32767, 3);
	for (t = 0; t < 300; t++) {
		for (k = 0; k < q.n_out; k++)
			out[k] = (s16)lrint((y[t] + 0.3) * 4096);
		vs_adapt_step(&q, &a, (s16)lrint(y[t] * 4096), out, bl);
	}
	ok(a.w[h1] < 2000,
	   "broken LSTM: weight falls to %d/32768", a.w[h1]);
	ok(abs(bl[h1] - (s16)lrint(y[299] * 4096)) < 250,
	   "broken LSTM: blend follows recent history (%d vs %ld)", bl[h1],
	   lrint(y[299] * 4096));
	free(g);
}

/*
 * The built-in model (default_model.c, generated) is the committed model
 * file byte for byte: regenerate both with make -C tools default-model.
 */
static void test_default_file(const char *path)
{
	static u8 buf[VS_MAX_MODEL_BYTES];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	ok(n == vs_default_model_len &&
	   !memcmp(buf, vs_default_model, n),
	   "default_model.c holds %s byte for byte (%zu vs %u bytes)", path,
	   n, vs_default_model_len);
}

static void test_nofpu(int argc, char **argv)
{
	char cmd[1024];
	int rc;

	/* make test passes them; without them the check would vanish */
	if (argc < 4) {
		ok(0, "check-nofpu.sh tests: usage test_predictor CHECK-NOFPU FPU.o CLEAN.o");
		return;
	}
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "sh %s %s >/dev/null 2>&1", argv[1],
		 argv[2]);
	rc = system(cmd);
	/* exit 1 is "FPU use found"; 2 (usage, no file) is not a finding */
	ok(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 1,
	   "check-nofpu.sh flags an SSE object (%s)", argv[2]);
	snprintf(cmd, sizeof(cmd), "sh %s %s", argv[1], argv[3]);
	ok(system(cmd) == 0, "check-nofpu.sh passes %s", argv[3]);
}

int main(int argc, char **argv)
{
	test_fixed();
	test_parser();
	test_agreement();
	test_quant_half_step();
	test_golden();
	test_saturation();
	test_adapt();
	test_format11();
	test_default_file(getenv("VS_DEFAULT_VSM") ? getenv("VS_DEFAULT_VSM") :
			  "default.vsm");
	test_nofpu(argc, argv);
	return tap_done();
}
