// SPDX-License-Identifier: GPL-2.0
/*
 * vs-eval (see eval.h): every predictor stepped over the held-out test
 * span of a trace from a reset state, scored at the reported horizons;
 * the calibration points collected on the way; the step cost.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "adapt.h"
#include "eval.h"
#include "../mono_clock.h"

struct acc {
	double *under[2];
	double abs[2];
	long n[2];
};

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double p95(double *v, long n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), dcmp);
	return v[(long)floor(0.95 * (n - 1))];
}

static void score(struct acc *a, int k, double actual, double pred)
{
	double d = actual - pred;

	a->abs[k] += fabs(d);
	a->under[k][a->n[k]++] = d > 0 ? d : 0;
}

static void eval_machine(const struct vs_model *q, const struct vs_fmodel *fm,
			 const struct vs_trace *t, double from,
			 struct result *r, struct cal *cal)
{
	static struct vs_lstm_state st;
	static struct vs_fstate fs;
	static struct vs_adapt ad;
	struct acc acc[NPRED];
	struct base b = { 0 };
	int start = (int)(t->n * from), i, p, k, oi[2], ci = -1;
	s16 in[2], out[VS_MAX_OUT], bl[VS_MAX_OUT];
	float fin[2], fout[VS_MAX_OUT];

	for (k = 0; k < 2; k++)
		oi[k] = vs_model_find_output(q, ev_horizons[k]);
	for (k = 0; k < (int)q->n_out; k++)
		if (q->out[k].kind == VS_OUT_CONFIDENCE)
			ci = k;
	memset(acc, 0, sizeof(acc));
	for (p = 0; p < NPRED; p++)
		for (k = 0; k < 2; k++)
			acc[p].under[k] = calloc(t->n, sizeof(double));
	vs_lstm_reset(q, &st);
	vs_f_reset(&fs);
	vs_adapt_init(&ad, 32767, 4);
	for (i = start; i + ev_max_h < t->n; i++) {
		in[0] = t->mem[i];
		in[1] = t->cpu[i];
		fin[0] = in[0] / 4096.0f;
		fin[1] = in[1] / 4096.0f;
		vs_lstm_step(q, &st, in, out);
		vs_adapt_step(q, &ad, in[0], out, bl);
		vs_f_step(fm, &fs, fin, fout);
		base_update(&b, in[0] / 4096.0, ev_ewma_alpha, ev_holt_alpha,
			    ev_holt_beta);
		if (i < start + WARM)
			continue;
		for (k = 0; k < 2; k++) {
			double y = t->mem[i + ev_horizons[k]] / 4096.0;

			score(&acc[P_FIXED], k, y, out[oi[k]] / 4096.0);
			score(&acc[P_FLOAT], k, y, fout[oi[k]]);
			score(&acc[P_ADAPT], k, y, bl[oi[k]] / 4096.0);
			score(&acc[P_LAST], k, y, b.last);
			score(&acc[P_EWMA], k, y, b.ewma);
			score(&acc[P_HOLT], k, y,
			      b.lvl + ev_horizons[k] * b.trend);
			if (ci >= 0)
				cal_add(&cal[k], out[ci] / 32768.0,
					100.0 * fabs(y - out[oi[k]] / 4096.0));
		}
		for (k = 0; ci >= 0 && k < (int)q->n_out; k++) {
			const struct vs_out *o = &q->out[k];

			if (o->kind != VS_OUT_DEMAND || (int)o->horizon > ev_max_h)
				continue;
			cal_add(&cal[CAL_ALL], out[ci] / 32768.0,
				100.0 * fabs(t->mem[i + o->horizon] / 4096.0 -
					     out[k] / 4096.0));
		}
	}
	for (p = 0; p < NPRED; p++)
		for (k = 0; k < 2; k++) {
			r->mae[p][k] = acc[p].n[k] ?
				100.0 * acc[p].abs[k] / acc[p].n[k] : 0;
			r->p95u[p][k] = 100.0 * p95(acc[p].under[k],
						    acc[p].n[k]);
			free(acc[p].under[k]);
		}
	r->n = acc[0].n[0];
}

double time_step(const struct vs_model *q, long iters)
{
	static struct vs_lstm_state st;
	double t0;
	s16 in[2] = { 3700, 1200 }, out[VS_MAX_OUT];
	volatile s16 sink = 0;
	long i;

	vs_lstm_reset(q, &st);
	t0 = mono_now();
	for (i = 0; i < iters; i++) {
		in[0] = 3600 + (i & 255);
		vs_lstm_step(q, &st, in, out);
		sink += out[0];
	}
	(void)sink;
	return (mono_now() - t0) * 1e9 / iters;
}

double time_fstep(const struct vs_fmodel *m, long iters)
{
	static struct vs_fstate st;
	double t0;
	float in[2] = { 0.9f, 0.3f }, out[VS_MAX_OUT];
	volatile float sink = 0;
	long i;

	vs_f_reset(&st);
	t0 = mono_now();
	for (i = 0; i < iters; i++) {
		in[0] = 0.88f + (i & 255) * 1e-4f;
		vs_f_step(m, &st, in, out);
		sink += out[0];
	}
	(void)sink;
	return (mono_now() - t0) * 1e9 / iters;
}

void run_all(const struct vs_model *q, const struct vs_fmodel *fm,
	     struct vs_trace *tr, int ntr, struct result *res,
	     struct result *mean, struct cal *cal)
{
	int mi, p, k;

	memset(mean, 0, sizeof(*mean));
	for (mi = 0; mi < ntr; mi++) {
		eval_machine(q, fm, &tr[mi], 0.7, &res[mi], cal);
		for (p = 0; p < NPRED; p++)
			for (k = 0; k < 2; k++) {
				mean->mae[p][k] += res[mi].mae[p][k] / ntr;
				mean->p95u[p][k] += res[mi].p95u[p][k] / ntr;
			}
		mean->n += res[mi].n;
	}
}

