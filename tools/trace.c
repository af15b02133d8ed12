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

const char * const vs_trace_ch_names[VS_TRACE_NCH] = {
	"used", "cpu", "anon", "file", "free", "pgfault", "pgmajfault",
	"refault", "swpin", "swpout", "psi_some", "psi_full", "cg_usage",
	"cg_psi_some",
};

int vs_trace_ch_id(const char *name)
{
	int i;

	for (i = 0; i < VS_TRACE_NCH; i++)
		if (!strcmp(name, vs_trace_ch_names[i]))
			return i;
	return -1;
}

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
		t->ch[0] = t->mem;
		t->ch[1] = t->cpu;
	}
	free(rows);
	*out = tr;
	return nm;
}

void vs_trace_free(struct vs_trace *t, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		int c;

		for (c = 2; c < VS_TRACE_NCH; c++)
			free(t[i].ch[c]);
		free(t[i].mem);
		free(t[i].cpu);
	}
	free(t);
}

static int lcmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* index of @name in the CSV header @hdr (modified), or -1 */
static int col_of(char *hdr, const char *name)
{
	char *tok, *save = NULL;
	int i = 0;

	for (tok = strtok_r(hdr, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save), i++)
		if (!strcmp(tok, name))
			return i;
	return -1;
}

static int load_one_records(const char *path, struct vs_trace *t,
			    long long *dt_med)
{
	char cmd[1100], line[2048], hdr[2048];
	int pipe = strlen(path) > 3 && !strcmp(path + strlen(path) - 3, ".xz");
	int cu, cc, cap = 0, n = 0, k, c, cix[VS_TRACE_NCH];
	long long prev_seq = -1, *dts = NULL, prev_t = 0;
	const char *b;
	char *dot;
	FILE *f;

	if (pipe) {
		snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
		f = popen(cmd, "r");
	} else {
		f = fopen(path, "r");
	}
	if (!f)
		return -errno;
	if (!fgets(hdr, sizeof(hdr), f) || strncmp(hdr, "seq,", 4))
		goto bad;
	snprintf(line, sizeof(line), "%s", hdr);
	cu = col_of(line, "used");
	snprintf(line, sizeof(line), "%s", hdr);
	cc = col_of(line, "cpu");
	if (cu < 0 || cc < 0)
		goto bad;
	for (c = 0; c < VS_TRACE_NCH; c++) {
		snprintf(line, sizeof(line), "%s", hdr);
		cix[c] = col_of(line, vs_trace_ch_names[c]);
	}
	memset(t, 0, sizeof(*t));
	b = strrchr(path, '/');
	snprintf(t->id, sizeof(t->id), "%s", b ? b + 1 : path);
	dot = strchr(t->id, '.');
	if (dot)
		*dot = '\0';
	while (fgets(line, sizeof(line), f)) {
		long long v[64];
		char *p = line, *end;
		int nf = 0, fill = 1;

		while (nf < 64) {
			v[nf] = strtoll(p, &end, 10);
			if (end == p)
				break;
			nf++;
			if (*end != ',')
				break;
			p = end + 1;
		}
		if (nf <= cu || nf <= cc)
			continue;
		for (c = 2; c < VS_TRACE_NCH; c++)
			if (cix[c] >= nf)
				cix[c] = -1;	/* short row: drop the channel */
		if (prev_seq >= 0 && v[0] > prev_seq + 1)
			fill = (int)(v[0] - prev_seq);	/* hold last row */
		if (prev_seq >= 0 && v[0] <= prev_seq)
			continue;
		if (n + fill > cap) {
			cap = 2 * (n + fill) + 1024;
			t->mem = realloc(t->mem, cap * sizeof(s16));
			t->cpu = realloc(t->cpu, cap * sizeof(s16));
			for (c = 2; c < VS_TRACE_NCH; c++)
				t->ch[c] = realloc(t->ch[c], cap * sizeof(s16));
			dts = realloc(dts, cap * sizeof(*dts));
		}
		for (k = 0; k < fill - 1; k++, n++) {
			t->mem[n] = t->mem[n - 1];
			t->cpu[n] = t->cpu[n - 1];
			for (c = 2; c < VS_TRACE_NCH; c++)
				t->ch[c][n] = t->ch[c][n - 1];
			dts[n] = 0;
		}
		if (fill > t->max_gap)
			t->max_gap = fill;
		t->mem[n] = (s16)v[cu];
		t->cpu[n] = (s16)v[cc];
		for (c = 2; c < VS_TRACE_NCH; c++)
			t->ch[c][n] = cix[c] >= 0 ? (s16)v[cix[c]] : 0;
		dts[n] = prev_seq >= 0 && fill == 1 ? v[1] - prev_t : 0;
		if (prev_seq < 0)
			t->t0 = (long)(v[1] / 1000000000LL);
		prev_seq = v[0];
		prev_t = v[1];
		n++;
	}
	if (pipe)
		pclose(f);
	else
		fclose(f);
	t->n = n;
	t->ch[0] = t->mem;
	t->ch[1] = t->cpu;
	for (c = 2; c < VS_TRACE_NCH; c++)
		if (cix[c] < 0) {
			free(t->ch[c]);
			t->ch[c] = NULL;
		}
	/* median of the positive intervals */
	for (k = 0, cap = 0; k < n; k++)
		if (dts[k] > 0)
			dts[cap++] = dts[k];
	qsort(dts, cap, sizeof(*dts), lcmp);
	*dt_med = cap ? dts[cap / 2] : 0;
	free(dts);
	return n > 0 ? 0 : -EINVAL;
bad:
	if (pipe)
		pclose(f);
	else
		fclose(f);
	return -EINVAL;
}

int vs_trace_load_records(const char *paths, int *step_ms,
			  struct vs_trace **out)
{
	char *list = strdup(paths), *tok, *save = NULL;
	struct vs_trace *tr = NULL;
	int nt = 0, err;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long long dt;

		tr = realloc(tr, (nt + 1) * sizeof(*tr));
		err = load_one_records(tok, &tr[nt], &dt);
		if (err) {
			fprintf(stderr, "%s: cannot load records\n", tok);
			free(list);
			vs_trace_free(tr, nt);
			return err;
		}
		if (!nt)
			*step_ms = (int)((dt + 500000) / 1000000);
		nt++;
	}
	free(list);
	*out = tr;
	return nt;
}
