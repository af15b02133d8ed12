// SPDX-License-Identifier: GPL-2.0
/* Slack and shortfall (see slack.h). */
#include <math.h>
#include <stdlib.h>
#include "slack.h"

void vs_pairs_add(struct vs_pairs *p, double base, double peak)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4096;
		p->base = realloc(p->base, sizeof(double) * p->cap);
		p->peak = realloc(p->peak, sizeof(double) * p->cap);
	}
	p->base[p->n] = base;
	p->peak[p->n++] = peak;
}

void vs_pairs_free(struct vs_pairs *p)
{
	free(p->base);
	free(p->peak);
	p->base = p->peak = NULL;
	p->n = p->cap = 0;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double vs_margin_for(const struct vs_pairs *p, double rate)
{
	double *r = malloc(sizeof(double) * (p->n ? p->n : 1)), m;
	long i, k;

	for (i = 0; i < p->n; i++)
		r[i] = p->peak[i] - p->base[i];
	qsort(r, p->n, sizeof(double), dcmp);
	/* at most floor(rate n) residuals may exceed the margin */
	k = p->n - 1 - (long)floor(rate * p->n);
	m = p->n ? r[k < 0 ? 0 : k] : 0;
	free(r);
	return m;
}

void vs_score(const struct vs_pairs *p, double margin, double *slack,
	      double *shortfall)
{
	double s = 0;
	long i, sf = 0;

	for (i = 0; i < p->n; i++) {
		double prov = p->base[i] + margin;

		s += prov - p->peak[i];
		if (p->peak[i] > prov + 1e-12)
			sf++;
	}
	*slack = p->n ? 100.0 * s / p->n : 0;
	*shortfall = p->n ? (double)sf / p->n : 0;
}

double vs_mae(const struct vs_pairs *p)
{
	double s = 0;
	long i;

	for (i = 0; i < p->n; i++)
		s += fabs(p->base[i] - p->peak[i]);
	return p->n ? 100.0 * s / p->n : 0;
}
