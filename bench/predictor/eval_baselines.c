// SPDX-License-Identifier: GPL-2.0
/*
 * vs-eval's baselines (see eval.h): last value, EWMA and Holt, stepped
 * with the predictors; EWMA's alpha and Holt's alpha and beta are picked
 * by grid search for the lowest MAE on [0, 0.7) of every machine.
 */
#include <math.h>
#include "eval.h"

double ev_ewma_alpha, ev_holt_alpha, ev_holt_beta;

void base_update(struct base *b, double y, double ea, double ha,
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

		for (t = 0; t + ev_max_h < end; t++) {
			double y = tr[mi].mem[t] / 4096.0;

			base_update(&b, y, ea, ha, hb);
			if (t < WARM)
				continue;
			for (k = 0; k < 2; k++) {
				double f = holt ? b.lvl + ev_horizons[k] * b.trend
						: b.ewma;

				s += fabs(tr[mi].mem[t + ev_horizons[k]] / 4096.0 -
					  f);
				n++;
			}
		}
	}
	return s / n;
}

void tune(struct vs_trace *tr, int ntr)
{
	double best = 1e9, a, bb, v;

	for (a = 0.05; a <= 1.0001; a += 0.05) {
		v = tune_mae(tr, ntr, 0, a, 0, 0);
		if (v < best) {
			best = v;
			ev_ewma_alpha = a;
		}
	}
	best = 1e9;
	for (a = 0.05; a <= 1.0001; a += 0.05)
		for (bb = 0.0; bb <= 0.5001; bb += 0.05) {
			v = tune_mae(tr, ntr, 1, 0, a, bb);
			if (v < best) {
				best = v;
				ev_holt_alpha = a;
				ev_holt_beta = bb;
			}
		}
}

