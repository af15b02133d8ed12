/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baseline forecasters of the peak demand over the next h steps, as the
 * recommenders production systems use (Autopilot, EuroSys 2020: the max
 * or a percentile of a moving window), plus last value, EWMA and Holt.
 * Each gives a base forecast from the past only; the benchmark adds a
 * margin tuned on the training span.
 */
#ifndef VS_BENCH_BASELINES_H
#define VS_BENCH_BASELINES_H

enum vs_base_kind { B_LAST, B_EWMA, B_HOLT, B_MAX, B_PCT };

struct vs_base {
	enum vs_base_kind kind;
	double alpha, beta;	/* EWMA, Holt */
	int win;		/* MAX, PCT: window in steps */
	double pct;		/* PCT: percentile in [0, 100] */
	int h;			/* horizon (Holt extrapolates to it) */
};

/*
 * Base forecasts for every step of y[0..n): out[t] uses y[0..t] only.
 */
void vs_base_run(const struct vs_base *b, const double *y, int n,
		 double *out);
/* "max_50", "ewma" ... */
void vs_base_name(const struct vs_base *b, char *buf, int len);

#endif
