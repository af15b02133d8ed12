// SPDX-License-Identifier: GPL-2.0
/*
 * vs-eval - accuracy and cost of the vshape demand predictor against
 * simple baselines on the Alibaba 2018 machine-usage trace.
 *
 * Per machine, time-disjoint spans of the 60 s grid: [0, 0.6) trained the
 * LSTM, [0.6, 0.7) picked its epoch, [0, 0.7) tunes the baselines'
 * parameters here, [0.7, 1) is the held-out test span scored below.  Every
 * predictor starts from a reset state at the start of the test span; the
 * first 30 steps are warm-up and not scored.
 *
 * usage: vs-eval --csv FILE --vsf FLOAT_MODEL [--vsm MODEL] --json OUT
 *	  [--md OUT.md]
 *
 * VM traces (tools/vs-record output, one trace per file, grid = the
 * records' period): --records A.csv.xz,B.csv.xz --vsf F --vsm M
 *	  --horizon-list 10,50 --json OUT [--md OUT.md] [--kernel-json FILE]
 * Same split and scoring per trace; --kernel-json inserts FILE (a JSON
 * value: in-kernel step costs measured in the VM) as "in_kernel".
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include "lstm.h"
#include "lstm_float.h"
#include "adapt.h"
#include "default_model.h"
#include "../../tools/trace.h"

#define WARM 30
#define NPRED 7

enum { P_FIXED, P_FLOAT, P_ADAPT, P_LAST, P_EWMA, P_HOLT, P_ADAPT_ONLY };
static const char *pname[NPRED] = {
	"lstm_fixed", "lstm_float", "lstm_fixed_adaptive", "last_value",
	"ewma", "holt", "unused"
};

static double ewma_alpha, holt_alpha, holt_beta;
static int horizons[2] = { 1, 5 };
static int MAXH = 5;
static int grid_ms = 60000;

/*
 * Confidence calibration of lstm_fixed.  vs-train fits the CONFIDENCE
 * output as a Gaussian log-variance of the squared error averaged over
 * the model's DEMAND horizons, in units of (1% of RAM)^2:
 * c = sigmoid(-logvar) = 1 / (1 + mse / (1%)^2).  Inverted, the implied
 * band is the predicted RMS error e = 1% RAM x sqrt(1/c - 1) (c = 0 ->
 * unbounded).  Collected per scored step: c and |actual - predicted| at
 * each reported horizon, and at every model horizon pooled (CAL_ALL).
 */
#define CAL_ALL 2
struct cal {
	double *c, *err;	/* confidence [0, 1], |error| in points */
	long n, cap;
};

static void cal_add(struct cal *cl, double c, double err)
{
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? 2 * cl->cap : 4096;
		cl->c = realloc(cl->c, cl->cap * sizeof(double));
		cl->err = realloc(cl->err, cl->cap * sizeof(double));
		if (!cl->c || !cl->err)
			abort();
	}
	cl->c[cl->n] = c;
	cl->err[cl->n++] = err;
}

static void cal_free(struct cal *cl)
{
	free(cl->c);
	free(cl->err);
	memset(cl, 0, sizeof(*cl));
}

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

/* baseline forecasts of horizon h at the current state */
struct base {
	double last, ewma, lvl, trend;
	int init;
};

static void base_update(struct base *b, double y, double ea, double ha,
			double hb)
{
	double pl;

	if (!b->init) {
		b->last = b->ewma = b->lvl = y;
		b->trend = 0;
		b->init = 1;
		return;
	}
	b->last = y;
	b->ewma += ea * (y - b->ewma);
	pl = b->lvl;
	b->lvl = ha * y + (1 - ha) * (b->lvl + b->trend);
	b->trend = hb * (b->lvl - pl) + (1 - hb) * b->trend;
}

/* MAE (both horizons) of EWMA or Holt over [0, 0.7) of every machine */
static double tune_mae(struct vs_trace *tr, int ntr, int holt, double ea,
		       double ha, double hb)
{
	double s = 0;
	long n = 0;
	int mi, t, k;

	for (mi = 0; mi < ntr; mi++) {
		int end = (int)(tr[mi].n * 0.7);
		struct base b = { 0 };

		for (t = 0; t + MAXH < end; t++) {
			double y = tr[mi].mem[t] / 4096.0;

			base_update(&b, y, ea, ha, hb);
			if (t < WARM)
				continue;
			for (k = 0; k < 2; k++) {
				double f = holt ? b.lvl + horizons[k] * b.trend
						: b.ewma;

				s += fabs(tr[mi].mem[t + horizons[k]] / 4096.0 -
					  f);
				n++;
			}
		}
	}
	return s / n;
}

static void tune(struct vs_trace *tr, int ntr)
{
	double best = 1e9, a, bb, v;

	for (a = 0.05; a <= 1.0001; a += 0.05) {
		v = tune_mae(tr, ntr, 0, a, 0, 0);
		if (v < best) {
			best = v;
			ewma_alpha = a;
		}
	}
	best = 1e9;
	for (a = 0.05; a <= 1.0001; a += 0.05)
		for (bb = 0.0; bb <= 0.5001; bb += 0.05) {
			v = tune_mae(tr, ntr, 1, 0, a, bb);
			if (v < best) {
				best = v;
				holt_alpha = a;
				holt_beta = bb;
			}
		}
}

struct result {
	double mae[NPRED][2], p95u[NPRED][2];
	long n;
};

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
		oi[k] = vs_model_find_output(q, horizons[k]);
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
	for (i = start; i + MAXH < t->n; i++) {
		in[0] = t->mem[i];
		in[1] = t->cpu[i];
		fin[0] = in[0] / 4096.0f;
		fin[1] = in[1] / 4096.0f;
		vs_lstm_step(q, &st, in, out);
		vs_adapt_step(q, &ad, in[0], out, bl);
		vs_f_step(fm, &fs, fin, fout);
		base_update(&b, in[0] / 4096.0, ewma_alpha, holt_alpha,
			    holt_beta);
		if (i < start + WARM)
			continue;
		for (k = 0; k < 2; k++) {
			double y = t->mem[i + horizons[k]] / 4096.0;

			score(&acc[P_FIXED], k, y, out[oi[k]] / 4096.0);
			score(&acc[P_FLOAT], k, y, fout[oi[k]]);
			score(&acc[P_ADAPT], k, y, bl[oi[k]] / 4096.0);
			score(&acc[P_LAST], k, y, b.last);
			score(&acc[P_EWMA], k, y, b.ewma);
			score(&acc[P_HOLT], k, y,
			      b.lvl + horizons[k] * b.trend);
			if (ci >= 0)
				cal_add(&cal[k], out[ci] / 32768.0,
					100.0 * fabs(y - out[oi[k]] / 4096.0));
		}
		for (k = 0; ci >= 0 && k < (int)q->n_out; k++) {
			const struct vs_out *o = &q->out[k];

			if (o->kind != VS_OUT_DEMAND || (int)o->horizon > MAXH)
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

static double time_step(const struct vs_model *q, long iters)
{
	static struct vs_lstm_state st;
	struct timespec a, b;
	s16 in[2] = { 3700, 1200 }, out[VS_MAX_OUT];
	volatile s16 sink = 0;
	long i;

	vs_lstm_reset(q, &st);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < iters; i++) {
		in[0] = 3600 + (i & 255);
		vs_lstm_step(q, &st, in, out);
		sink += out[0];
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)sink;
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / iters;
}

static double time_fstep(const struct vs_fmodel *m, long iters)
{
	static struct vs_fstate st;
	struct timespec a, b;
	float in[2] = { 0.9f, 0.3f }, out[VS_MAX_OUT];
	volatile float sink = 0;
	long i;

	vs_f_reset(&st);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < iters; i++) {
		in[0] = 0.88f + (i & 255) * 1e-4f;
		vs_f_step(m, &st, in, out);
		sink += out[0];
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)sink;
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / iters;
}

static void print_results(FILE *f, const char *key, struct vs_trace *tr,
			  int ntr, struct result *res, struct result *mean,
			  int last)
{
	int mi, p, k;

	fprintf(f, "  \"%s\": {\n    \"units\": \"percentage points of RAM; h1/h5 = horizon in grid steps\",\n    \"per_machine\": {\n",
		key);
	for (mi = 0; mi <= ntr; mi++) {
		struct result *r = mi < ntr ? &res[mi] : mean;

		if (mi == ntr)
			fprintf(f, "    },\n    \"mean_over_machines\": {");
		else
			fprintf(f, "      \"%s\": {\"scored_steps\": %ld,",
				tr[mi].id, r->n);
		for (p = 0; p < P_ADAPT_ONLY; p++) {
			fprintf(f, "%s\n        \"%s\": {", p ? "," : "",
				pname[p]);
			for (k = 0; k < 2; k++)
				fprintf(f,
					"%s\"mae_h%d\": %.4f, \"p95_under_h%d\": %.4f",
					k ? ", " : "", horizons[k],
					r->mae[p][k], horizons[k],
					r->p95u[p][k]);
			fprintf(f, "}");
		}
		fprintf(f, "}%s\n", mi < ntr - 1 ? "," : "");
	}
	fprintf(f, "  }%s\n", last ? "" : ",");
}

static void run_all(const struct vs_model *q, const struct vs_fmodel *fm,
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

static void md_table(FILE *f, const char *title, struct vs_trace *tr,
		     int ntr, struct result *res, struct result *mean,
		     int grid_s)
{
	int mi, p;

	fprintf(f, "\n#### %s\n\n", title);
	fprintf(f, "MAE / p95 under-prediction, percentage points of RAM, ");
	fprintf(f, "held-out test span (last 30%% of each machine).\n\n");
	fprintf(f, "| machine | horizon |");
	for (p = 0; p < P_ADAPT_ONLY; p++)
		fprintf(f, " %s |", pname[p]);
	fprintf(f, "\n|---|---|");
	for (p = 0; p < P_ADAPT_ONLY; p++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (mi = 0; mi <= ntr; mi++) {
		struct result *r = mi < ntr ? &res[mi] : mean;
		int k;

		for (k = 0; k < 2; k++) {
			fprintf(f, "| %s | %g s |",
				mi < ntr ? tr[mi].id : "**mean**",
				horizons[k] * (grid_s ? grid_s * 1000.0 :
					       grid_ms) / 1000.0);
			for (p = 0; p < P_ADAPT_ONLY; p++)
				fprintf(f, " %.3f / %.2f |", r->mae[p][k],
					r->p95u[p][k]);
			fprintf(f, "\n");
		}
	}
}

/* calibration statistics of points [a, b) of cl (sorted by confidence) */
struct cstat {
	long n, unbounded;
	double cmin, cmax, cmean, band, cov1, cov2, mae, rmse, ratio;
};

static void cstat(const struct cal *cl, long a, long b, struct cstat *s)
{
	double se = 0, sb = 0, sb2 = 0, sc = 0, sa = 0, in1 = 0, in2 = 0;
	long i, nb = 0;

	memset(s, 0, sizeof(*s));
	s->n = b - a;
	if (!s->n)
		return;
	s->cmin = 2;
	s->cmax = -1;
	for (i = a; i < b; i++) {
		double c = cl->c[i], d = cl->err[i];
		double e = c > 0 ? sqrt(1 / c - 1) : INFINITY;

		s->cmin = fmin(s->cmin, c);
		s->cmax = fmax(s->cmax, c);
		sc += c;
		sa += d;
		se += d * d;
		in1 += d <= e;
		in2 += d <= 2 * e;
		if (isinf(e)) {
			s->unbounded++;
			continue;
		}
		sb += e;
		sb2 += e * e;
		nb++;
	}
	s->cmean = sc / s->n;
	s->band = nb ? sb / nb : 0;
	s->cov1 = 100.0 * in1 / s->n;
	s->cov2 = 100.0 * in2 / s->n;
	s->mae = sa / s->n;
	s->rmse = sqrt(se / s->n);
	s->ratio = sb2 > 0 ? se / sb2 : 0;
}

static const struct cal *sort_cal;

static int icmp_cal(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	double u = sort_cal->c[x], v = sort_cal->c[y];

	return (u > v) - (u < v) ? (u > v) - (u < v) : (x > y) - (x < y);
}

static const double *rank_key;

static int rcmp(const void *a, const void *b)
{
	double u = rank_key[*(const long *)a], v = rank_key[*(const long *)b];

	return (u > v) - (u < v);
}

/* average ranks (ties share the mean rank) of v[0..n) */
static void ranks(const double *v, long n, double *r)
{
	long *ix = malloc(n * sizeof(*ix)), i, j, m;

	for (i = 0; i < n; i++)
		ix[i] = i;
	rank_key = v;
	qsort(ix, n, sizeof(*ix), rcmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[ix[j]] == v[ix[i]]; j++)
			;
		for (m = i; m < j; m++)
			r[ix[m]] = (i + j - 1) / 2.0;
	}
	free(ix);
}

static double spearman(const struct cal *cl)
{
	double *rc = malloc(cl->n * sizeof(double));
	double *re = malloc(cl->n * sizeof(double));
	double mc = (cl->n - 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
	long i;

	ranks(cl->c, cl->n, rc);
	ranks(cl->err, cl->n, re);
	for (i = 0; i < cl->n; i++) {
		sxy += (rc[i] - mc) * (re[i] - mc);
		sxx += (rc[i] - mc) * (rc[i] - mc);
		syy += (re[i] - mc) * (re[i] - mc);
	}
	free(rc);
	free(re);
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/* sort cl by confidence (stable on collection order) */
static void cal_sort(struct cal *cl)
{
	long *ix = malloc(cl->n * sizeof(*ix)), i;
	double *c = malloc(cl->n * sizeof(double));
	double *e = malloc(cl->n * sizeof(double));

	for (i = 0; i < cl->n; i++)
		ix[i] = i;
	sort_cal = cl;
	qsort(ix, cl->n, sizeof(*ix), icmp_cal);
	for (i = 0; i < cl->n; i++) {
		c[i] = cl->c[ix[i]];
		e[i] = cl->err[ix[i]];
	}
	free(cl->c);
	free(cl->err);
	cl->c = c;
	cl->err = e;
	free(ix);
}

static const double cal_edge[5] = { 0, 0.25, 0.5, 0.75, 1.0001 };

/* bucket b of cl: fixed confidence range (q = 0) or rank quartile (q = 1) */
static void cal_bucket(const struct cal *cl, int q, int b, long *lo, long *hi)
{
	long i;

	if (q) {
		*lo = cl->n * b / 4;
		*hi = cl->n * (b + 1) / 4;
		return;
	}
	for (i = 0; i < cl->n && cl->c[i] < cal_edge[b]; i++)
		;
	*lo = i;
	for (; i < cl->n && cl->c[i] < cal_edge[b + 1]; i++)
		;
	*hi = i;
}

static void cstat_json(FILE *f, const struct cstat *s)
{
	fprintf(f, "\"n\": %ld, \"confidence_min\": %.4f, \"confidence_max\": %.4f, \"confidence_mean\": %.4f, \"band_e_mean_pp\": %.4f, \"unbounded_band_n\": %ld, \"coverage_1e_pct\": %.2f, \"coverage_2e_pct\": %.2f, \"mae_pp\": %.4f, \"rms_error_pp\": %.4f, \"mse_over_predicted_mse\": %.4f",
		s->n, s->n ? s->cmin : 0, s->n ? s->cmax : 0, s->cmean, s->band,
		s->unbounded, s->cov1, s->cov2, s->mae, s->rmse, s->ratio);
}

static const char *cal_def =
	"c = CONFIDENCE output (Q0.15 / 32768) of lstm_fixed; implied band e = 1% RAM x sqrt(1/c - 1) = the predicted RMS error (vs-train fits c = 1 / (1 + mse / (1%)^2), mse = squared error averaged over the model's DEMAND horizons); coverage_1e/2e = % of scored test steps with |actual - predicted| <= e / 2e (Gaussian nominal 68.27 / 95.45); mse_over_predicted_mse = mean(err^2) / mean(e^2) (1 = calibrated variance, > 1 = overconfident); buckets: fixed confidence ranges [0,.25) [.25,.5) [.5,.75) [.75,1]; quartiles: equal-count groups by confidence rank; spearman: rank correlation of c with |error| (negative = higher confidence, smaller error); all_model_horizons: every DEMAND output of the model pooled (the quantity c was trained on)";

/* "key": {per horizon...} for the 2 reported horizons + all model horizons */
static void cal_json(FILE *f, const char *key, struct cal *cal, double step_s,
		     int last)
{
	int k, q, b;

	fprintf(f, "    \"%s\": {\n", key);
	for (k = 0; k <= CAL_ALL; k++) {
		struct cstat s;
		long lo, hi;

		cal_sort(&cal[k]);
		if (k < CAL_ALL)
			fprintf(f, "      \"h%d\": {\"seconds\": %g, ",
				horizons[k], horizons[k] * step_s);
		else
			fprintf(f, "      \"all_model_horizons\": {");
		cstat(&cal[k], 0, cal[k].n, &s);
		fprintf(f, "\"overall\": {");
		cstat_json(f, &s);
		fprintf(f, "}, \"spearman_confidence_vs_abs_error\": %.4f",
			spearman(&cal[k]));
		for (q = 0; q < 2; q++) {
			fprintf(f, ",\n        \"%s\": [", q ? "quartiles" :
				"buckets");
			for (b = 0; b < 4; b++) {
				cal_bucket(&cal[k], q, b, &lo, &hi);
				cstat(&cal[k], lo, hi, &s);
				fprintf(f, "%s\n          {", b ? "," : "");
				if (!q)
					fprintf(f, "\"range\": [%.2f, %.2f], ",
						cal_edge[b], fmin(1, cal_edge[b + 1]));
				cstat_json(f, &s);
				fprintf(f, "}");
			}
			fprintf(f, "]");
		}
		fprintf(f, "}%s\n", k < CAL_ALL ? "," : "");
	}
	fprintf(f, "    }%s\n", last ? "" : ",");
}

static void cal_md(FILE *f, const char *title, struct cal *cal, double step_s)
{
	int k, q, b;

	fprintf(f, "\n#### Confidence calibration: %s\n\n", title);
	fprintf(f, "lstm_fixed, held-out test span; band e = 1%% RAM x sqrt(1/c - 1) (predicted RMS error); nominal Gaussian coverage 68.3%% (e) / 95.4%% (2e); errors and bands in points of RAM; ratio = mean(err^2) / mean(e^2).\n\n");
	fprintf(f, "| horizon | confidence | n | mean c | mean e | within e | within 2e | MAE | RMS err | ratio |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|---|\n");
	for (k = 0; k <= CAL_ALL; k++) {
		char hs[32];

		cal_sort(&cal[k]);
		if (k < CAL_ALL)
			snprintf(hs, sizeof(hs), "%g s", horizons[k] * step_s);
		else
			snprintf(hs, sizeof(hs), "all model horizons");
		for (q = -1; q < 2; q++)
			for (b = 0; b < (q < 0 ? 1 : 4); b++) {
				struct cstat s;
				long lo = 0, hi = cal[k].n;
				char bs[48];

				if (q >= 0)
					cal_bucket(&cal[k], q, b, &lo, &hi);
				cstat(&cal[k], lo, hi, &s);
				if (q < 0)
					snprintf(bs, sizeof(bs), "**all** (Spearman %+.2f)",
						 spearman(&cal[k]));
				else if (!q)
					snprintf(bs, sizeof(bs), "[%.2f, %.2f%c",
						 cal_edge[b], fmin(1, cal_edge[b + 1]),
						 b == 3 ? ']' : ')');
				else if (s.n)
					snprintf(bs, sizeof(bs), "Q%d: %.3f-%.3f",
						 b + 1, s.cmin, s.cmax);
				else
					snprintf(bs, sizeof(bs), "Q%d", b + 1);
				if (!s.n) {
					fprintf(f, "| %s | %s | 0 | - | - | - | - | - | - | - |\n",
						hs, bs);
					continue;
				}
				fprintf(f, "| %s | %s | %ld | %.3f | %.3f | %.1f%% | %.1f%% | %.3f | %.3f | %.2f |\n",
					hs, bs, s.n, s.cmean, s.band, s.cov1,
					s.cov2, s.mae, s.rmse, s.ratio);
			}
	}
}

/* VM traces: one trace per records file, grid = the records' period */
static int main_records(const char *recs, const struct vs_model *q,
			const struct vs_fmodel *fm, const char *json,
			const char *md, const char *kjson)
{
	static struct result res[64];
	static struct cal cal[CAL_ALL + 1];
	struct result mean;
	struct vs_trace *tr;
	double ns_fixed, ns_float, best_base[2], rel[2], ffl[2];
	const char *bname[3] = { "last_value", "ewma", "holt" };
	int ntr, k, mi, bi[2], rec_ms;
	FILE *f;

	ntr = vs_trace_load_records(recs, &grid_ms, &tr);
	if (ntr <= 0 || ntr > 64) {
		fprintf(stderr, "vs-eval: cannot load %s\n", recs);
		return 1;
	}
	rec_ms = grid_ms;
	if ((unsigned int)grid_ms != q->step_ms)
		fprintf(stderr, "vs-eval: records median interval %d ms, model step %u ms%s\n",
			grid_ms, q->step_ms,
			abs(grid_ms - (int)q->step_ms) * 10 <= (int)q->step_ms ?
			" (labels use the model's step)" : "");
	if (abs(grid_ms - (int)q->step_ms) * 10 <= (int)q->step_ms)
		grid_ms = q->step_ms;
	for (k = 0; k < 2; k++)
		if (vs_model_find_output(q, horizons[k]) < 0 ||
		    q->out[vs_model_find_output(q, horizons[k])].horizon !=
		    horizons[k]) {
			fprintf(stderr, "vs-eval: model has no output at %d steps\n",
				horizons[k]);
			return 1;
		}
	tune(tr, ntr);
	run_all(q, fm, tr, ntr, res, &mean, cal);
	ns_fixed = time_step(q, 200000);
	ns_fixed = time_step(q, 1000000);
	ns_float = time_fstep(fm, 1000000);
	for (k = 0; k < 2; k++) {
		int p;

		bi[k] = P_LAST;
		for (p = P_EWMA; p <= P_HOLT; p++)
			if (mean.mae[p][k] < mean.mae[bi[k]][k])
				bi[k] = p;
		best_base[k] = mean.mae[bi[k]][k];
		rel[k] = 100.0 * (best_base[k] - mean.mae[P_FIXED][k]) /
			 best_base[k];
		ffl[k] = 100.0 * (mean.mae[P_FIXED][k] - mean.mae[P_FLOAT][k]) /
			 mean.mae[P_FLOAT][k];
	}
	f = fopen(json, "w");
	if (!f)
		return 1;
	fprintf(f, "{\n  \"generated_by\": \"make -C bench/predictor run-vm\",\n");
	fprintf(f, "  \"traces\": \"%s\",\n  \"trace_rows\": {", recs);
	for (mi = 0; mi < ntr; mi++)
		fprintf(f, "%s\"%s\": %d", mi ? ", " : "", tr[mi].id, tr[mi].n);
	fprintf(f, "},\n  \"grid_ms\": %d,\n  \"records_median_interval_ms\": %d,\n  \"horizons_steps\": [%d, %d],\n",
		grid_ms, rec_ms, horizons[0], horizons[1]);
	fprintf(f, "  \"split\": {\"lstm_train\": [0, 0.6], \"lstm_epoch_pick\": [0.6, 0.7], \"baseline_tuning\": [0, 0.7], \"test\": [0.7, 1.0], \"test_warmup_steps_unscored\": %d},\n",
		WARM);
	fprintf(f, "  \"model\": {\"name\": \"%s\", \"layers\": %u, \"hidden\": %u, \"inputs\": %u, \"features\": %u, \"outputs\": %u, \"step_ms\": %u},\n",
		q->name, q->n_layers, q->hidden, q->n_raw, q->n_feat, q->n_out,
		q->step_ms);
	fprintf(f, "  \"baseline_params\": {\"ewma_alpha\": %.2f, \"holt_alpha\": %.2f, \"holt_beta\": %.2f},\n",
		ewma_alpha, holt_alpha, holt_beta);
	fprintf(f, "  \"cost_userspace_native\": {\"ns_per_step_fixed\": %.1f, \"ns_per_step_float\": %.1f, \"model_file_bytes\": %u, \"note\": \"this host, userspace, fixed point built with -mgeneral-regs-only\"},\n",
		ns_fixed, ns_float, q->len);
	if (kjson) {
		FILE *kf = fopen(kjson, "r");
		char buf[4096];
		size_t n = kf ? fread(buf, 1, sizeof(buf) - 1, kf) : 0;

		if (kf)
			fclose(kf);
		buf[n] = '\0';
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			buf[--n] = '\0';
		if (n)
			fprintf(f, "  \"in_kernel\": %s,\n", buf);
	}
	fprintf(f, "  \"goals\": {\n");
	for (k = 0; k < 2; k++)
		fprintf(f, "    \"h%d\": {\"seconds\": %g, \"fixed_vs_float_mae_pct\": %.2f, \"fixed_within_1pct_of_float\": %s, \"best_baseline\": \"%s\", \"mae_reduction_vs_best_baseline_pct\": %.2f, \"at_least_20pct_better\": %s},\n",
			horizons[k], horizons[k] * grid_ms / 1000.0, ffl[k],
			fabs(ffl[k]) <= 1.0 ? "true" : "false",
			bname[bi[k] - P_LAST], rel[k],
			rel[k] >= 20.0 ? "true" : "false");
	fprintf(f, "    \"under_2us_per_step_userspace\": %s\n  },\n",
		ns_fixed < 2000 ? "true" : "false");
	print_results(f, "test_vm_grid", tr, ntr, res, &mean, 0);
	fprintf(f, "  \"calibration\": {\n    \"definition\": \"%s\",\n",
		cal_def);
	cal_json(f, "test_vm_grid", cal, grid_ms / 1000.0, 1);
	fprintf(f, "  }\n}\n");
	fclose(f);

	f = md ? fopen(md, "w") : stdout;
	fprintf(f, "Model %s (%u x %u units, step %u ms), baselines: EWMA alpha %.2f, Holt alpha %.2f beta %.2f (tuned on [0, 0.7) of every trace).\n",
		q->name, q->n_layers, q->hidden, q->step_ms, ewma_alpha,
		holt_alpha, holt_beta);
	fprintf(f, "Userspace cost (this host, native): %.0f ns/step fixed point, %.0f ns/step float; model file %u B.\n",
		ns_fixed, ns_float, q->len);
	for (k = 0; k < 2; k++)
		fprintf(f, "%g s: fixed vs float MAE %+.2f%%; fixed vs best baseline (%s) MAE %+.2f%% lower (goal >= 20%%).\n",
			horizons[k] * grid_ms / 1000.0, ffl[k],
			bname[bi[k] - P_LAST], rel[k]);
	md_table(f, "VM traces, held-out test span", tr, ntr, res, &mean, 0);
	cal_md(f, "VM traces", cal, grid_ms / 1000.0);
	for (k = 0; k <= CAL_ALL; k++)
		cal_free(&cal[k]);
	if (md)
		fclose(f);
	vs_trace_free(tr, ntr);
	return 0;
}

int main(int argc, char **argv)
{
	const char *csv = NULL, *vsf = NULL, *vsm = NULL, *json = NULL;
	const char *md = NULL, *recs = NULL, *kjson = NULL;
	static struct vs_fmodel fm, fq;
	static struct result res[64], res10[64];
	static struct cal cal[CAL_ALL + 1], cal10[CAL_ALL + 1];
	struct result mean, mean10;
	struct vs_trace *tr, *tr10;
	struct vs_model q;
	char err[128];
	int ntr, ntr10, i, k;
	u8 *buf = NULL;
	double ns_fixed, ns_float, best_base[2], rel[2], fixed_vs_float[2];
	FILE *f;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--csv"))
			csv = argv[i + 1];
		else if (!strcmp(argv[i], "--vsf"))
			vsf = argv[i + 1];
		else if (!strcmp(argv[i], "--vsm"))
			vsm = argv[i + 1];
		else if (!strcmp(argv[i], "--json"))
			json = argv[i + 1];
		else if (!strcmp(argv[i], "--md"))
			md = argv[i + 1];
		else if (!strcmp(argv[i], "--records"))
			recs = argv[i + 1];
		else if (!strcmp(argv[i], "--kernel-json"))
			kjson = argv[i + 1];
		else if (!strcmp(argv[i], "--horizon-list") &&
			 sscanf(argv[i + 1], "%d,%d", &horizons[0],
				&horizons[1]) == 2)
			MAXH = horizons[0] > horizons[1] ? horizons[0] :
							     horizons[1];
	}
	if ((!csv && !recs) || !vsf || !json) {
		fprintf(stderr, "usage: see eval.c\n");
		return 2;
	}
	if (vsm) {
		long len;

		f = fopen(vsm, "rb");
		if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0)
			return 1;
		rewind(f);
		buf = aligned_alloc(16, (len + 15) & ~15L);
		if (fread(buf, len, 1, f) != 1)
			return 1;
		fclose(f);
		k = vs_model_parse(buf, len, &q, err, sizeof(err));
	} else {
		k = vs_model_parse(vs_default_model, vs_default_model_len, &q,
				   err, sizeof(err));
	}
	if (k || vs_f_load(vsf, &fm)) {
		fprintf(stderr, "vs-eval: cannot load models: %s\n", err);
		return 1;
	}
	if (recs)
		return main_records(recs, &q, &fm, json, md, kjson);
	ntr = vs_trace_load(csv, 60, &tr);
	ntr10 = vs_trace_load(csv, 10, &tr10);
	if (ntr <= 0 || ntr10 != ntr)
		return 1;
	tune(tr, ntr);
	run_all(&q, &fm, tr, ntr, res, &mean, cal);
	run_all(&q, &fm, tr10, ntr10, res10, &mean10, cal10);
	vs_f_from_fixed(&q, &fq);
	ns_fixed = time_step(&q, 200000);
	ns_fixed = time_step(&q, 1000000);
	ns_float = time_fstep(&fm, 1000000);

	for (k = 0; k < 2; k++) {
		best_base[k] = fmin(mean.mae[P_LAST][k],
				    fmin(mean.mae[P_EWMA][k],
					 mean.mae[P_HOLT][k]));
		rel[k] = 100.0 * (best_base[k] - mean.mae[P_FIXED][k]) /
			 best_base[k];
		fixed_vs_float[k] = 100.0 * (mean.mae[P_FIXED][k] -
					     mean.mae[P_FLOAT][k]) /
				    mean.mae[P_FLOAT][k];
	}
	f = fopen(json, "w");
	if (!f)
		return 1;
	fprintf(f, "{\n  \"generated_by\": \"make -C bench/predictor run\",\n");
	fprintf(f, "  \"trace\": \"alibaba2018-machine-usage.csv\",\n");
	fprintf(f, "  \"grid_s\": 60,\n  \"split\": {\"lstm_train\": [0, 0.6], \"lstm_epoch_pick\": [0.6, 0.7], \"baseline_tuning\": [0, 0.7], \"test\": [0.7, 1.0]},\n");
	fprintf(f, "  \"model\": {\"name\": \"%s\", \"layers\": %u, \"hidden\": %u, \"inputs\": %u, \"features\": %u, \"outputs\": %u, \"step_ms\": %u},\n",
		q.name, q.n_layers, q.hidden, q.n_raw, q.n_feat, q.n_out,
		q.step_ms);
	fprintf(f, "  \"baseline_params\": {\"ewma_alpha\": %.2f, \"holt_alpha\": %.2f, \"holt_beta\": %.2f},\n",
		ewma_alpha, holt_alpha, holt_beta);
	fprintf(f, "  \"cost\": {\"ns_per_step_fixed\": %.1f, \"ns_per_step_float\": %.1f, \"model_file_bytes\": %u, \"sizeof_vs_model\": %zu, \"sizeof_vs_lstm_state\": %zu, \"sizeof_vs_adapt\": %zu},\n",
		ns_fixed, ns_float, q.len, sizeof(struct vs_model),
		sizeof(struct vs_lstm_state), sizeof(struct vs_adapt));
	fprintf(f, "  \"goals\": {\n");
	for (k = 0; k < 2; k++)
		fprintf(f, "    \"h%dmin\": {\"fixed_vs_float_mae_pct\": %.2f, \"fixed_within_1pct_of_float\": %s, \"mae_reduction_vs_best_baseline_pct\": %.2f, \"at_least_20pct_better\": %s},\n",
			horizons[k], fixed_vs_float[k],
			fabs(fixed_vs_float[k]) <= 1.0 ? "true" : "false",
			rel[k], rel[k] >= 20.0 ? "true" : "false");
	fprintf(f, "    \"under_2us_per_step\": %s\n  },\n",
		ns_fixed < 2000 ? "true" : "false");
	print_results(f, "test_60s_grid", tr, ntr, res, &mean, 0);
	print_results(f, "regime_shift_10s_grid", tr10, ntr10, res10,
		      &mean10, 0);
	fprintf(f, "  \"calibration\": {\n    \"definition\": \"%s\",\n",
		cal_def);
	cal_json(f, "test_60s_grid", cal, 60, 0);
	cal_json(f, "regime_shift_10s_grid", cal10, 10, 1);
	fprintf(f, "  }\n}\n");
	fclose(f);

	f = md ? fopen(md, "w") : stdout;
	fprintf(f, "Model %s (%u x %u units), baselines: EWMA alpha %.2f, Holt alpha %.2f beta %.2f (tuned on [0, 0.7)).\n",
		q.name, q.n_layers, q.hidden, ewma_alpha, holt_alpha,
		holt_beta);
	fprintf(f, "Cost: %.0f ns/step fixed point, %.0f ns/step float (userspace, this machine); model file %u B, struct vs_model %zu B, struct vs_lstm_state %zu B, struct vs_adapt %zu B.\n",
		ns_fixed, ns_float, q.len, sizeof(struct vs_model),
		sizeof(struct vs_lstm_state), sizeof(struct vs_adapt));
	for (k = 0; k < 2; k++)
		fprintf(f, "%d min: fixed vs float MAE %+.2f%%; fixed vs best baseline MAE %+.2f%% lower (goal >= 20%%).\n",
			horizons[k], fixed_vs_float[k], rel[k]);
	md_table(f, "Test span, 60 s grid (the model's trained step)", tr, ntr,
		 res, &mean, 60);
	md_table(f, "Regime shift: same test span resampled at 10 s (model stepped 6x faster than trained; horizons are 1 and 5 steps = 10 s and 50 s)",
		 tr10, ntr10, res10, &mean10, 10);
	cal_md(f, "test span, 60 s grid", cal, 60);
	cal_md(f, "regime shift, 10 s grid (model stepped 6x faster than trained)",
	       cal10, 10);
	for (k = 0; k <= CAL_ALL; k++) {
		cal_free(&cal[k]);
		cal_free(&cal10[k]);
	}
	if (md)
		fclose(f);
	return 0;
}
