// SPDX-License-Identifier: GPL-2.0
/*
 * vs-eval's confidence calibration statistics (see eval.h): the points
 * collected, sorted by confidence, bucketed, and their coverage, error
 * ratio and rank correlation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"

void cal_add(struct cal *cl, double c, double err)
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

void cal_free(struct cal *cl)
{
	free(cl->c);
	free(cl->err);
	memset(cl, 0, sizeof(*cl));
}

void cstat(const struct cal *cl, long a, long b, struct cstat *s)
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

double spearman(const struct cal *cl)
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
void cal_sort(struct cal *cl)
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

const double cal_edge[5] = { 0, 0.25, 0.5, 0.75, 1.0001 };

/* bucket b of cl: fixed confidence range (q = 0) or rank quartile (q = 1) */
void cal_bucket(const struct cal *cl, int q, int b, long *lo, long *hi)
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

