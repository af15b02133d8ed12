/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slack and shortfall of a provision = base forecast + margin against
 * the actual peak over the horizon.  Slack: mean(provision - peak) in %
 * of RAM over the scored steps; shortfall: the fraction of scored steps
 * whose peak exceeded the provision.
 */
#ifndef VS_BENCH_SLACK_H
#define VS_BENCH_SLACK_H

/* Scored steps of one forecaster: base forecast and actual peak. */
struct vs_pairs {
	double *base, *peak;
	long n, cap;
};

void vs_pairs_add(struct vs_pairs *p, double base, double peak);
void vs_pairs_free(struct vs_pairs *p);
/* Smallest margin whose shortfall rate is <= rate on these pairs. */
double vs_margin_for(const struct vs_pairs *p, double rate);
/* Slack (% of RAM) and shortfall rate with this margin. */
void vs_score(const struct vs_pairs *p, double margin, double *slack,
	      double *shortfall);
/* MAE (% of RAM) of base against peak. */
double vs_mae(const struct vs_pairs *p);

#endif
