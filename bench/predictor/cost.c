// SPDX-License-Identifier: GPL-2.0
/*
 * vs-cost - cost of one fixed-point LSTM step against the model's size:
 * hidden units x raw inputs (each input gives a RAW and a DELTA feature,
 * as vs-train builds them), 7 outputs, random weights, quantized by
 * vs-quant's code.  Time is this thread's CPU time (the machine's other
 * load does not count), best of 5 runs of 200 000 steps; the step is the
 * kernel's code built with -mgeneral-regs-only.  Then the same for the
 * built-in model itself (predictor/default_model.c, the bytes the driver
 * runs).
 *
 * usage: vs-cost > OUT.json
 */
#include <stdlib.h>
#include <time.h>
#include "default_model.h"
#include "lstm.h"
#include "quant.h"

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Best of 5 x 200 000 steps of @q, input 0 moving, ns per step. */
static double time_model(const struct vs_model *q)
{
	static struct vs_lstm_state st;
	s16 in[VS_MAX_RAW] = { 0 }, out[VS_MAX_OUT];
	double best = 1e30, t0;
	int r, k;

	vs_lstm_reset(q, &st);
	for (r = 0; r < 5; r++) {
		t0 = cpu_ns();
		for (k = 0; k < 200000; k++) {
			in[0] = (s16)(1000 + (k & 1023));
			vs_lstm_step(q, &st, in, out);
		}
		t0 = (cpu_ns() - t0) / 200000;
		if (t0 < best)
			best = t0;
	}
	return best;
}

static double step_ns(int hid, int nin)
{
	static struct vs_fmodel fm;
	struct vs_model q;
	char err[128];
	double best;
	size_t len;
	u8 *buf;
	int i;

	memset(&fm, 0, sizeof(fm));
	fm.step_ms = 100;
	fm.n_raw = nin;
	fm.n_feat = 2 * nin;
	fm.n_layers = 1;
	fm.hidden = hid;
	fm.n_out = 7;
	for (i = 0; i < nin; i++)
		fm.chan[i] = i;
	for (i = 0; i < fm.n_feat; i++) {
		fm.feat[i].src = i / 2;
		fm.feat[i].kind = i % 2;
		fm.feat[i].scale = 4;
	}
	fm.layer[0].in_dim = fm.n_feat;
	for (i = 0; i < 4 * hid * fm.n_feat; i++)
		fm.layer[0].wx[i] = (rand() / (double)RAND_MAX - 0.5);
	for (i = 0; i < 4 * hid * hid; i++)
		fm.layer[0].wh[i] = (rand() / (double)RAND_MAX - 0.5) * 0.3;
	for (i = 0; i < 7 * hid; i++)
		fm.wy[i] = (rand() / (double)RAND_MAX - 0.5) * 0.3;
	for (i = 0; i < 6; i++) {
		fm.out[i].kind = VS_OUT_PEAK;
		fm.out[i].horizon = i < 3 ? 10 : 50;
		fm.out[i].quantile = (i % 3 + 1) * 0.3;
		fm.out[i].scale = 0.05;
	}
	fm.out[6].kind = VS_OUT_CONFIDENCE;
	fm.out[6].base = VS_OUT_NO_BASE;
	fm.out[6].scale = -1;
	if (vs_quantize(&fm, &buf, &len, err, sizeof(err)) ||
	    vs_model_parse(buf, len, &q, err, sizeof(err))) {
		fprintf(stderr, "vs-cost: %s\n", err);
		exit(1);
	}
	best = time_model(&q);
	free(buf);
	return best;
}

int main(void)
{
	static const int hs[] = { 16, 24, 32 }, ns[] = { 1, 2, 3, 4, 6, 8 };
	struct vs_model q;
	unsigned int a, b;
	char err[128];

	printf("{\n  \"generated_by\": \"make -C bench/predictor cost\",\n  \"unit\": \"ns per step, thread CPU time, best of 5 x 200000 steps\",\n  \"steps\": [");
	for (a = 0; a < sizeof(hs) / sizeof(hs[0]); a++)
		for (b = 0; b < sizeof(ns) / sizeof(ns[0]); b++)
			printf("%s\n    {\"hidden\": %d, \"inputs\": %d, \"ns\": %.1f}",
			       a || b ? "," : "", hs[a], ns[b],
			       step_ns(hs[a], ns[b]));
	if (vs_model_parse(vs_default_model, vs_default_model_len, &q, err,
			   sizeof(err))) {
		fprintf(stderr, "vs-cost: built-in model: %s\n", err);
		return 1;
	}
	printf("\n  ],\n  \"builtin\": {\"name\": \"%s\", \"hidden\": %u, \"inputs\": %u, \"bytes\": %u, \"ns\": %.1f}\n}\n",
	       q.name, q.hidden, q.n_raw, q.len, time_model(&q));
	return 0;
}
