// SPDX-License-Identifier: GPL-2.0
/* Baseline peak forecasters (see baselines.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "baselines.h"

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void vs_base_run(const struct vs_base *b, const double *y, int n,
		 double *out)
{
	double lvl = y[0], tr = 0, prev, *w = NULL;
	int t, i, k, lo;

	if (b->kind == B_PCT)
		w = malloc(sizeof(double) * b->win);
	for (t = 0; t < n; t++) {
		switch (b->kind) {
		case B_LAST:
			out[t] = y[t];
			break;
		case B_EWMA:
			lvl = t ? b->alpha * y[t] + (1 - b->alpha) * lvl : y[0];
			out[t] = lvl;
			break;
		case B_HOLT:
			if (t) {
				prev = lvl;
				lvl = b->alpha * y[t] +
				      (1 - b->alpha) * (lvl + tr);
				tr = b->beta * (lvl - prev) + (1 - b->beta) * tr;
			}
			/* the peak of a linear path over (t, t+h] */
			out[t] = lvl + (tr > 0 ? b->h * tr : tr);
			break;
		case B_MAX:
			lo = t - b->win + 1 < 0 ? 0 : t - b->win + 1;
			out[t] = y[lo];
			for (i = lo + 1; i <= t; i++)
				if (y[i] > out[t])
					out[t] = y[i];
			break;
		case B_PCT:
			lo = t - b->win + 1 < 0 ? 0 : t - b->win + 1;
			k = t - lo + 1;
			memcpy(w, y + lo, sizeof(double) * k);
			qsort(w, k, sizeof(double), dcmp);
			i = (int)(b->pct / 100.0 * (k - 1) + 0.5);
			out[t] = w[i];
			break;
		}
	}
	free(w);
}

void vs_base_name(const struct vs_base *b, char *buf, int len)
{
	switch (b->kind) {
	case B_LAST:
		snprintf(buf, len, "last_value");
		break;
	case B_EWMA:
		snprintf(buf, len, "ewma");
		break;
	case B_HOLT:
		snprintf(buf, len, "holt");
		break;
	case B_MAX:
		snprintf(buf, len, "max_%d", b->win);
		break;
	case B_PCT:
		snprintf(buf, len, "pct_%d", b->win);
		break;
	}
}
