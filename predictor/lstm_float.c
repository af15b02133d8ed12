// SPDX-License-Identifier: GPL-2.0
/*
 * Floating-point reference of the predictor (userspace).
 */
#include <math.h>
#include <stdio.h>
#include "lstm_float.h"

float vs_f_sigmoid(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

void vs_f_reset(struct vs_fstate *st)
{
	memset(st, 0, sizeof(*st));
}

/* Q3.12's range: lstm.c saturates features and the cell state to it. */
float vs_f_q12(float v)
{
	return fminf(fmaxf(v, -32768 / 4096.0f), 32767 / 4096.0f);
}

void vs_f_features(const struct vs_fmodel *m, struct vs_fstate *st,
		   const float *in, float *x)
{
	int i;

	for (i = 0; i < m->n_feat; i++) {
		const struct vs_ffeat *f = &m->feat[i];
		float v = in[f->src];

		if (f->kind == VS_FEAT_DELTA)
			v = st->steps ? v - st->prev[f->src] : 0.0f;
		x[i] = (v - f->offset) * f->scale;
		if (m->kernel_range)
			x[i] = vs_f_q12(x[i]);
	}
	for (i = 0; i < m->n_raw; i++)
		st->prev[i] = in[i];
	st->steps++;
}

static void vs_f_layer(const struct vs_fmodel *m, struct vs_fstate *st,
		       int l, const float *x)
{
	const struct vs_flayer *ly = &m->layer[l];
	int hid = m->hidden, r, j, k;
	float pre[4 * VS_MAX_HIDDEN];
	float ig, fg, gg, og;

	for (r = 0; r < 4 * hid; r++) {
		float a = ly->b[r];

		for (k = 0; k < ly->in_dim; k++)
			a += ly->wx[r * ly->in_dim + k] * x[k];
		for (k = 0; k < hid; k++)
			a += ly->wh[r * hid + k] * st->h[l][k];
		pre[r] = a;
	}
	for (j = 0; j < hid; j++) {
		ig = vs_f_sigmoid(pre[j]);
		fg = vs_f_sigmoid(pre[hid + j]);
		gg = tanhf(pre[2 * hid + j]);
		og = vs_f_sigmoid(pre[3 * hid + j]);
		st->c[l][j] = fg * st->c[l][j] + ig * gg;
		if (m->kernel_range)
			st->c[l][j] = vs_f_q12(st->c[l][j]);
		st->h[l][j] = og * tanhf(st->c[l][j]);
	}
}

void vs_f_step(const struct vs_fmodel *m, struct vs_fstate *st,
	       const float *in, float *out)
{
	float x[VS_MAX_FEAT];
	int i, k, l, hid = m->hidden;

	vs_f_features(m, st, in, x);
	vs_f_layer(m, st, 0, x);
	for (l = 1; l < m->n_layers; l++)
		vs_f_layer(m, st, l, st->h[l - 1]);
	for (i = 0; i < m->n_out; i++) {
		const struct vs_fout *o = &m->out[i];
		float y = m->by[i], v;

		for (k = 0; k < hid; k++)
			y += m->wy[i * hid + k] * st->h[m->n_layers - 1][k];
		v = o->offset + o->scale * y;
		if (o->kind == VS_OUT_CONFIDENCE) {
			out[i] = vs_f_sigmoid(v);
			continue;
		}
		if (o->base != VS_OUT_NO_BASE)
			v += in[o->base];
		out[i] = v;
	}
}

static float vs_f_scale(const struct vs_scale *s)
{
	return ldexpf((float)s->mult, -(int)s->shift);
}

void vs_f_from_fixed(const struct vs_model *q, struct vs_fmodel *m)
{
	int i, l, n, hid = q->hidden;
	float s;

	memset(m, 0, sizeof(*m));
	memcpy(m->name, q->name, sizeof(m->name));
	m->step_ms = q->step_ms;
	m->n_raw = q->n_raw;
	m->n_feat = q->n_feat;
	m->n_layers = q->n_layers;
	m->hidden = hid;
	m->n_out = q->n_out;
	for (i = 0; i < q->n_raw; i++)
		m->chan[i] = q->chan[i];
	for (i = 0; i < q->n_feat; i++) {
		m->feat[i].src = q->feat[i].src;
		m->feat[i].kind = q->feat[i].kind;
		m->feat[i].offset = q->feat[i].offset / 4096.0f;
		m->feat[i].scale = vs_f_scale(&q->feat[i].scale);
	}
	for (l = 0; l < q->n_layers; l++) {
		const struct vs_layer *ql = &q->layer[l];
		struct vs_flayer *fl = &m->layer[l];

		fl->in_dim = ql->in_dim;
		n = 4 * hid;
		/* w_real = wq * mult * 2^(fx - shift - 12), fx = 12 or 15 */
		s = vs_f_scale(&ql->sx) * (l ? 8.0f : 1.0f);
		for (i = 0; i < n * ql->in_dim; i++)
			fl->wx[i] = ql->wx[i] * s;
		s = vs_f_scale(&ql->sh) * 8.0f;
		for (i = 0; i < n * hid; i++)
			fl->wh[i] = ql->wh[i] * s;
		for (i = 0; i < n; i++)
			fl->b[i] = ql->bias[i] / 4096.0f;
	}
	s = vs_f_scale(&q->sy) * 8.0f;
	for (i = 0; i < q->n_out * hid; i++)
		m->wy[i] = q->wy[i] * s;
	for (i = 0; i < q->n_out; i++) {
		m->by[i] = q->by[i] / 4096.0f;
		m->out[i].kind = q->out[i].kind;
		m->out[i].base = q->out[i].base;
		m->out[i].horizon = q->out[i].horizon;
		m->out[i].quantile = q->out[i].quantile / 32768.0f;
		m->out[i].offset = q->out[i].offset / 4096.0f;
		m->out[i].scale = vs_f_scale(&q->out[i].scale);
	}
}

int vs_f_check(const struct vs_fmodel *m)
{
	int i;

	if (m->n_raw < 1 || m->n_raw > VS_MAX_RAW ||
	    m->n_feat < 1 || m->n_feat > VS_MAX_FEAT ||
	    m->n_layers < 1 || m->n_layers > VS_MAX_LAYERS ||
	    m->hidden < 1 || m->hidden > VS_MAX_HIDDEN ||
	    m->n_out < 1 || m->n_out > VS_MAX_OUT)
		return -EINVAL;
	for (i = 0; i < m->n_feat; i++)
		if (m->feat[i].src < 0 || m->feat[i].src >= m->n_raw ||
		    m->feat[i].kind < 0 || m->feat[i].kind > VS_FEAT_DELTA)
			return -EINVAL;
	for (i = 0; i < m->n_layers; i++)
		if (m->layer[i].in_dim != (i ? m->hidden : m->n_feat))
			return -EINVAL;
	for (i = 0; i < m->n_raw; i++)
		if (m->chan[i] < 0 || m->chan[i] > VS_MAX_CHANNEL_ID)
			return -EINVAL;
	for (i = 0; i < m->n_out; i++)
		if (m->out[i].kind < 0 || m->out[i].kind > VS_OUT_PEAK ||
		    (m->out[i].kind == VS_OUT_PEAK) !=
		    (m->out[i].quantile > 0 && m->out[i].quantile < 1) ||
		    (m->out[i].base != VS_OUT_NO_BASE &&
		     (m->out[i].base < 0 || m->out[i].base >= m->n_raw)))
			return -EINVAL;
	return 0;
}

#define VS_F_MAGIC "VSFLOAT2"	/* 2: channels and quantiles */

int vs_f_save(const char *path, const struct vs_fmodel *m)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -errno;
	ok = fwrite(VS_F_MAGIC, 8, 1, f) == 1 &&
	     fwrite(m, sizeof(*m), 1, f) == 1;
	if (fclose(f) || !ok)
		return -EIO;
	return 0;
}

int vs_f_load(const char *path, struct vs_fmodel *m)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	int ok;

	if (!f)
		return -errno;
	ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, VS_F_MAGIC, 8) &&
	     fread(m, sizeof(*m), 1, f) == 1;
	fclose(f);
	if (!ok || vs_f_check(m))
		return -EINVAL;
	return 0;
}
