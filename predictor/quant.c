// SPDX-License-Identifier: GPL-2.0
/*
 * Quantizer: float model (lstm_float.h) -> binary model file.
 *
 * Weights: per tensor, s_w = max|w| / 32767, w_q = round(w / s_eff), where
 * s_eff is s_w after rounding the (mult, shift) pair that maps the s64
 * accumulator to Q3.12:  mult * 2^-shift = s_w * 2^(12 - fx), fx = 12 for
 * the Q3.12 features of layer 0, fx = 15 for the Q0.15 hidden states.
 * Biases: round(b * 4096) in an s32.  Offsets: Q3.12.
 */
#include <math.h>
#include <stdlib.h>
#include "quant.h"

int vs_quant_scale(double s, struct vs_scale *out)
{
	int shift = 0;
	double mm;

	if (!(s > 0) || s > VS_MULT_MAX)
		return -ERANGE;
	/* largest shift <= VS_SHIFT_MAX with mult <= VS_MULT_MAX */
	while (shift < VS_SHIFT_MAX && s * ldexp(1.0, shift + 1) < 32767.5)
		shift++;
	mm = nearbyint(s * ldexp(1.0, shift));
	if (mm < 1)
		mm = 1;
	if (mm > VS_MULT_MAX)
		mm = VS_MULT_MAX;
	out->mult = (s32)mm;
	out->shift = (u8)shift;
	return 0;
}

static double vs_eff(const struct vs_scale *s)
{
	return ldexp((double)s->mult, -(int)s->shift);
}

static void put16(u8 *p, u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(u8 *p, u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static s16 q16(double v)
{
	v = nearbyint(v);
	if (v > 32767)
		return 32767;
	if (v < -32767)
		return -32767;
	return (s16)v;
}

static s32 qbias(double b)
{
	double v = nearbyint(b * 4096.0);

	if (v > VS_MAX_BIAS)
		v = VS_MAX_BIAS;
	if (v < -VS_MAX_BIAS)
		v = -VS_MAX_BIAS;
	return (s32)v;
}

/* Quantize a tensor of n weights; fx = fraction bits of its input. */
static int q_tensor(const float *w, int n, int fx, u8 *dst,
		    struct vs_scale *sc)
{
	double mx = 0, sw, eff;
	int i, ret;

	for (i = 0; i < n; i++)
		if (fabs(w[i]) > mx)
			mx = fabs(w[i]);
	sw = mx > 0 ? mx / 32767.0 : 1e-9;
	ret = vs_quant_scale(sw * ldexp(1.0, 12 - fx), sc);
	if (ret)
		return ret;
	eff = vs_eff(sc) * ldexp(1.0, fx - 12);
	/*
	 * The multiplier was rounded to nearest: rounded down, the largest
	 * weight would quantize past 32767 and clip (up to a step off, not
	 * half).  One unit more (mult >= 8192 here, so under 1.3e-4 of the
	 * scale) keeps every weight within half a step.
	 */
	if (mx / eff > 32767.0 && sc->mult < VS_MULT_MAX) {
		sc->mult++;
		eff = vs_eff(sc) * ldexp(1.0, fx - 12);
	}
	for (i = 0; i < n; i++)
		put16(dst + 2 * i, (u16)q16(w[i] / eff));
	return 0;
}

static int q_scale_signed(double s, struct vs_scale *sc)
{
	int ret = vs_quant_scale(fabs(s), sc);

	if (!ret && s < 0)
		sc->mult = -sc->mult;
	return ret;
}

/* Q0.15 quantile level, kept inside (0, 1). */
static u16 vs_quant_level(double q)
{
	long v = lrint(q * 32768.0);

	return v < 1 ? 1 : v > 32767 ? 32767 : (u16)v;
}

/*
 * Lowest format minor that describes m: 1.1 for channels other than
 * 0 .. n_raw - 1 or PEAK outputs, 1.0 otherwise.
 */
static int vs_quant_minor(const struct vs_fmodel *m)
{
	int i;

	for (i = 0; i < m->n_raw; i++)
		if (m->chan[i] != i)
			return 1;
	for (i = 0; i < m->n_out; i++)
		if (m->out[i].kind == VS_OUT_PEAK)
			return 1;
	return 0;
}

int vs_quantize(const struct vs_fmodel *m, u8 **bufp, size_t *lenp,
		char *err, size_t errlen)
{
	int hid = m->hidden, i, l, n = 4 * hid, ret = -EINVAL;
	struct vs_scale sx, sh;
	size_t len, off;
	u8 *b;

	if (vs_f_check(m)) {
		snprintf(err, errlen, "float model fails limits");
		return -EINVAL;
	}
	len = VS_MODEL_HDR_LEN + 12 * m->n_feat;
	for (l = 0; l < m->n_layers; l++)
		len += 12 + 2 * n * m->layer[l].in_dim + 2 * n * hid + 4 * n;
	len += 8 + ((2 * m->n_out * hid + 3) & ~3) + 4 * m->n_out;
	len += 12 * m->n_out + 4;
	b = calloc(1, len);
	if (!b)
		return -ENOMEM;

	put32(b, VS_MODEL_MAGIC);
	put16(b + 4, VS_MODEL_MAJOR);
	put16(b + 6, vs_quant_minor(m));
	put32(b + 8, len);
	put32(b + 12, VS_MODEL_HDR_LEN);
	b[16] = m->n_raw;
	b[17] = m->n_feat;
	b[18] = m->n_layers;
	b[19] = hid;
	b[20] = m->n_out;
	put32(b + 24, m->step_ms);
	memcpy(b + 32, m->name, strnlen(m->name, VS_MODEL_NAME_LEN));
	if (vs_quant_minor(m))
		for (i = 0; i < m->n_raw; i++)
			b[48 + i] = m->chan[i];
	off = VS_MODEL_HDR_LEN;

	for (i = 0; i < m->n_feat; i++, off += 12) {
		struct vs_scale s;

		if (q_scale_signed(m->feat[i].scale, &s))
			goto bad_scale;
		b[off] = m->feat[i].src;
		b[off + 1] = m->feat[i].kind;
		b[off + 2] = s.shift;
		put16(b + off + 4, (u16)q16(m->feat[i].offset * 4096.0));
		put32(b + off + 8, (u32)s.mult);
	}
	for (l = 0; l < m->n_layers; l++) {
		const struct vs_flayer *fl = &m->layer[l];
		size_t hdr = off;

		off += 12;
		if (q_tensor(fl->wx, n * fl->in_dim, l ? 15 : 12, b + off, &sx))
			goto bad_scale;
		off += 2 * n * fl->in_dim;
		if (q_tensor(fl->wh, n * hid, 15, b + off, &sh))
			goto bad_scale;
		off += 2 * n * hid;
		for (i = 0; i < n; i++, off += 4)
			put32(b + off, (u32)qbias(fl->b[i]));
		put32(b + hdr, (u32)sx.mult);
		put32(b + hdr + 4, (u32)sh.mult);
		b[hdr + 8] = sx.shift;
		b[hdr + 9] = sh.shift;
	}
	if (q_tensor(m->wy, m->n_out * hid, 15, b + off + 8, &sx))
		goto bad_scale;
	put32(b + off, (u32)sx.mult);
	b[off + 4] = sx.shift;
	off += 8 + ((2 * m->n_out * hid + 3) & ~3);
	for (i = 0; i < m->n_out; i++, off += 4)
		put32(b + off, (u32)qbias(m->by[i]));
	for (i = 0; i < m->n_out; i++, off += 12) {
		const struct vs_fout *o = &m->out[i];
		struct vs_scale s;

		if (q_scale_signed(o->scale, &s))
			goto bad_scale;
		b[off] = o->kind;
		b[off + 1] = o->base;
		b[off + 2] = s.shift;
		b[off + 3] = o->horizon;
		put16(b + off + 4, (u16)q16(o->offset * 4096.0));
		if (o->kind == VS_OUT_PEAK)
			put16(b + off + 6, vs_quant_level(o->quantile));
		put32(b + off + 8, (u32)s.mult);
	}
	put32(b + off, vs_crc32(0, b, off));
	off += 4;
	if (off != len) {
		snprintf(err, errlen, "internal size error %zu != %zu",
			 off, len);
		goto out_free;
	}
	*bufp = b;
	*lenp = len;
	return 0;
bad_scale:
	snprintf(err, errlen, "a scale is out of the representable range");
	ret = -ERANGE;
out_free:
	free(b);
	return ret;
}
