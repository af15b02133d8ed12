// SPDX-License-Identifier: GPL-2.0
/* See trace.h. */
#include <stdlib.h>
#include <math.h>
#include "trace.h"

struct vs_row {
	char id[32];
	long ts;
	int cpu, mem;
};

static int row_cmp(const void *a, const void *b)
{
	const struct vs_row *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return (x->ts > y->ts) - (x->ts < y->ts);
}

static s16 q12(double frac)
{
	return (s16)lrint(frac * 4096.0);
}

int vs_trace_load(const char *path, int step_s, struct vs_trace **out)
{
	FILE *f = fopen(path, "r");
	struct vs_row *rows = NULL;
	struct vs_trace *tr = NULL;
	size_t nr = 0, cap = 0, i, j;
	char line[512];
	int nm = 0;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *fld[9], *p = line;
		int k;

		for (k = 0; k < 9 && p; k++) {
			fld[k] = p;
			p = strchr(p, ',');
			if (p)
				*p++ = '\0';
		}
		if (k < 4 || !*fld[1] || !*fld[2] || !*fld[3])
			continue;	/* missing values are skipped */
		if (nr == cap) {
			cap = cap ? 2 * cap : 4096;
			rows = realloc(rows, cap * sizeof(*rows));
			if (!rows) {
				fclose(f);
				return -ENOMEM;
			}
		}
		snprintf(rows[nr].id, sizeof(rows[nr].id), "%s", fld[0]);
		rows[nr].ts = atol(fld[1]);
		rows[nr].cpu = atoi(fld[2]);
		rows[nr].mem = atoi(fld[3]);
		nr++;
	}
	fclose(f);
	qsort(rows, nr, sizeof(*rows), row_cmp);
	for (i = 0; i < nr; i = j) {
		struct vs_trace *t;
		long tt;
		size_t k;
		int g;

		for (j = i; j < nr && !strcmp(rows[j].id, rows[i].id); j++)
			;
		tr = realloc(tr, (nm + 1) * sizeof(*tr));
		t = &tr[nm++];
		memset(t, 0, sizeof(*t));
		snprintf(t->id, sizeof(t->id), "%s", rows[i].id);
		t->t0 = rows[i].ts;
		t->n = (rows[j - 1].ts - rows[i].ts) / step_s + 1;
		t->mem = malloc(t->n * sizeof(s16));
		t->cpu = malloc(t->n * sizeof(s16));
		for (k = i + 1; k < j; k++)
			if (rows[k].ts - rows[k - 1].ts > t->max_gap)
				t->max_gap = rows[k].ts - rows[k - 1].ts;
		k = i;
		for (g = 0; g < t->n; g++) {
			tt = t->t0 + (long)g * step_s;
			while (k + 1 < j && rows[k + 1].ts <= tt)
				k++;
			t->mem[g] = q12(rows[k].mem / 100.0);
			t->cpu[g] = q12(rows[k].cpu / 100.0);
		}
	}
	free(rows);
	*out = tr;
	return nm;
}

void vs_trace_free(struct vs_trace *t, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(t[i].mem);
		free(t[i].cpu);
	}
	free(t);
}
