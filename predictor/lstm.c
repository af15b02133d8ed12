// SPDX-License-Identifier: GPL-2.0
/*
 * Model file parser and fixed-point LSTM step (see lstm.h and
 * docs/model-format.md).  Shared by vshape_guest.ko and userspace.
 */
#include "lstm.h"

struct vs_cursor {
	const u8 *p;
	size_t len;
	size_t off;
};

static u16 vs_le16(const u8 *p)
{
	return (u16)(p[0] | (p[1] << 8));
}

static u32 vs_le32(const u8 *p)
{
	return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) |
	       ((u32)p[3] << 24);
}

/* Take n bytes from the cursor, or NULL if the file is too short. */
static const u8 *vs_take(struct vs_cursor *c, size_t n)
{
	const u8 *q;

	if (n > c->len - c->off)
		return NULL;
	q = c->p + c->off;
	c->off += n;
	return q;
}

struct vs_errbuf {
	char *s;
	size_t n;
};

/* Format a parse error into e (if it has room) and return code. */
static __printf(3, 4) int vs_bad(struct vs_errbuf *e, int code,
				 const char *fmt, ...)
{
	va_list ap;

	if (e->n) {
		va_start(ap, fmt);
		vsnprintf(e->s, e->n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool vs_scale_ok(s32 mult, u32 shift)
{
	return mult != 0 && mult <= VS_MULT_MAX && mult >= -VS_MULT_MAX &&
	       shift <= VS_SHIFT_MAX;
}

/* Bytes of the file for these dimensions (header and CRC included). */
static size_t vs_model_size(u32 n_feat, u32 n_layers, u32 hidden, u32 n_out)
{
	size_t sz = VS_MODEL_HDR_LEN + 12 * n_feat;
	u32 l, in;

	for (l = 0; l < n_layers; l++) {
		in = l ? hidden : n_feat;
		sz += 12 + 8 * hidden * in + 8 * hidden * hidden + 16 * hidden;
	}
	sz += 8 + ((2 * n_out * hidden + 3) & ~3u) + 4 * n_out;
	sz += 12 * n_out + 4;
	return sz;
}

static int vs_parse(const void *buf, size_t len, struct vs_model *m,
		    struct vs_errbuf *e)
{
	struct vs_cursor c = { .p = buf, .len = len, .off = 0 };
	const u8 *h, *q;
	u32 i, l, n, v;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return vs_bad(e, -EINVAL, "big-endian hosts are not supported");
#endif
	if (!buf)
		return vs_bad(e, -EINVAL, "no buffer");
	if ((uintptr_t)buf & 3)
		return vs_bad(e, -EINVAL, "buffer not 4-byte aligned");
	if (len < VS_MODEL_HDR_LEN + 4)
		return vs_bad(e, -EINVAL, "truncated: %zu bytes", len);
	if (len > VS_MAX_MODEL_BYTES)
		return vs_bad(e, -E2BIG, "too large: %zu bytes", len);
	h = vs_take(&c, VS_MODEL_HDR_LEN);
	if (vs_le32(h) != VS_MODEL_MAGIC)
		return vs_bad(e, -EINVAL, "bad magic 0x%08x", vs_le32(h));
	m->ver_major = vs_le16(h + 4);
	m->ver_minor = vs_le16(h + 6);
	if (m->ver_major != VS_MODEL_MAJOR || m->ver_minor > VS_MODEL_MINOR)
		return vs_bad(e, -EPROTO, "unsupported version %u.%u",
			      m->ver_major, m->ver_minor);
	if (vs_le32(h + 8) != len)
		return vs_bad(e, -EINVAL, "length field %u != buffer %zu",
			      vs_le32(h + 8), len);
	if (vs_le32(h + 12) != VS_MODEL_HDR_LEN)
		return vs_bad(e, -EINVAL, "header length %u", vs_le32(h + 12));
	v = vs_le32(len - 4 + (const u8 *)buf);
	m->crc = vs_crc32(0, buf, len - 4);
	if (v != m->crc)
		return vs_bad(e, -EBADMSG, "checksum 0x%08x != 0x%08x", v,
			      m->crc);
	m->n_raw = h[16];
	m->n_feat = h[17];
	m->n_layers = h[18];
	m->hidden = h[19];
	m->n_out = h[20];
	if (!m->n_raw || m->n_raw > VS_MAX_RAW ||
	    !m->n_feat || m->n_feat > VS_MAX_FEAT ||
	    !m->n_layers || m->n_layers > VS_MAX_LAYERS ||
	    !m->hidden || m->hidden > VS_MAX_HIDDEN ||
	    !m->n_out || m->n_out > VS_MAX_OUT)
		return vs_bad(e, -E2BIG,
			      "dims raw %u feat %u layers %u hidden %u out %u",
			      m->n_raw, m->n_feat, m->n_layers, m->hidden,
			      m->n_out);
	if (h[21] || h[22] || h[23])
		return vs_bad(e, -EINVAL, "reserved header bytes set");
	m->step_ms = vs_le32(h + 24);
	if (!m->step_ms || m->step_ms > VS_MAX_STEP_MS)
		return vs_bad(e, -EINVAL, "step %u ms", m->step_ms);
	if (vs_le32(h + 28))
		return vs_bad(e, -EINVAL, "unknown flags 0x%x",
			      vs_le32(h + 28));
	for (i = 0; i < VS_MODEL_NAME_LEN; i++) {
		u8 ch = h[32 + i];

		if (ch && (ch < 0x20 || ch > 0x7e))
			return vs_bad(e, -EINVAL, "non-printable name");
		m->name[i] = ch;
	}
	/*
	 * 1.1: bytes 48 .. 48 + n_raw - 1 name the channel of each raw
	 * input (distinct ids); 1.0 reads channels 0 .. n_raw - 1.
	 */
	for (i = 0; i < m->n_raw; i++) {
		u32 j;

		m->chan[i] = m->ver_minor ? h[48 + i] : i;
		if (m->chan[i] > VS_MAX_CHANNEL_ID)
			return vs_bad(e, -EINVAL, "input %u: channel %u > %u",
				      i, m->chan[i], VS_MAX_CHANNEL_ID);
		for (j = 0; j < i; j++)
			if (m->chan[j] == m->chan[i])
				return vs_bad(e, -EINVAL,
					      "inputs %u and %u: same channel %u",
					      j, i, m->chan[i]);
	}
	for (i = 48 + (m->ver_minor ? m->n_raw : 0); i < VS_MODEL_HDR_LEN; i++)
		if (h[i])
			return vs_bad(e, -EINVAL, "reserved header bytes set");
	if (vs_model_size(m->n_feat, m->n_layers, m->hidden, m->n_out) != len)
		return vs_bad(e, -EINVAL, "size %zu does not match dims (%zu)",
			      len,
			      vs_model_size(m->n_feat, m->n_layers, m->hidden, m->n_out));

	for (i = 0; i < m->n_feat; i++) {
		struct vs_feat *f = &m->feat[i];

		q = vs_take(&c, 12);
		f->src = q[0];
		f->kind = q[1];
		f->scale.shift = q[2];
		f->offset = (s16)vs_le16(q + 4);
		f->scale.mult = (s32)vs_le32(q + 8);
		if (f->src >= m->n_raw)
			return vs_bad(e, -EINVAL, "feature %u: source %u", i,
				      f->src);
		if (f->kind > VS_FEAT_DELTA)
			return vs_bad(e, -EINVAL, "feature %u: kind %u", i,
				      f->kind);
		if (q[3] || vs_le16(q + 6))
			return vs_bad(e, -EINVAL, "feature %u: reserved bytes",
				      i);
		if (!vs_scale_ok(f->scale.mult, f->scale.shift))
			return vs_bad(e, -EINVAL, "feature %u: scale %d >> %u",
				      i, f->scale.mult, f->scale.shift);
	}

	n = 4 * m->hidden;
	for (l = 0; l < m->n_layers; l++) {
		struct vs_layer *ly = &m->layer[l];

		ly->in_dim = l ? m->hidden : m->n_feat;
		q = vs_take(&c, 12);
		ly->sx.mult = (s32)vs_le32(q);
		ly->sh.mult = (s32)vs_le32(q + 4);
		ly->sx.shift = q[8];
		ly->sh.shift = q[9];
		if (vs_le16(q + 10))
			return vs_bad(e, -EINVAL, "layer %u: reserved bytes",
				      l);
		if (!vs_scale_ok(ly->sx.mult, ly->sx.shift) ||
		    !vs_scale_ok(ly->sh.mult, ly->sh.shift))
			return vs_bad(e, -EINVAL,
				      "layer %u: absurd weight scale", l);
		ly->wx = (const s16 *)vs_take(&c, 2 * n * ly->in_dim);
		ly->wh = (const s16 *)vs_take(&c, 2 * n * m->hidden);
		ly->bias = (const s32 *)vs_take(&c, 4 * n);
		for (i = 0; i < n; i++)
			if (ly->bias[i] > VS_MAX_BIAS ||
			    ly->bias[i] < -VS_MAX_BIAS)
				return vs_bad(e, -EINVAL,
					      "layer %u: bias %u out of range",
					      l, i);
	}

	q = vs_take(&c, 8);
	m->sy.mult = (s32)vs_le32(q);
	m->sy.shift = q[4];
	if (q[5] || q[6] || q[7])
		return vs_bad(e, -EINVAL, "head: reserved bytes");
	if (!vs_scale_ok(m->sy.mult, m->sy.shift))
		return vs_bad(e, -EINVAL, "head: absurd weight scale");
	m->wy = (const s16 *)vs_take(&c, (2 * m->n_out * m->hidden + 3) & ~3u);
	m->by = (const s32 *)vs_take(&c, 4 * m->n_out);
	for (i = 0; i < m->n_out; i++)
		if (m->by[i] > VS_MAX_BIAS || m->by[i] < -VS_MAX_BIAS)
			return vs_bad(e, -EINVAL, "head: bias %u out of range",
				      i);

	for (i = 0; i < m->n_out; i++) {
		struct vs_out *o = &m->out[i];

		q = vs_take(&c, 12);
		o->kind = q[0];
		o->base = q[1];
		o->scale.shift = q[2];
		o->horizon = q[3];
		o->offset = (s16)vs_le16(q + 4);
		o->quantile = vs_le16(q + 6);
		o->scale.mult = (s32)vs_le32(q + 8);
		if (o->kind > (m->ver_minor ? VS_OUT_PEAK : VS_OUT_CONFIDENCE))
			return vs_bad(e, -EINVAL, "output %u: kind %u in a %u.%u file",
				      i, o->kind, m->ver_major, m->ver_minor);
		if (o->kind == VS_OUT_PEAK) {
			if (!o->quantile || o->quantile >= 32768)
				return vs_bad(e, -EINVAL,
					      "output %u: quantile %u not in (0, 32768)",
					      i, o->quantile);
		} else if (o->quantile) {
			return vs_bad(e, -EINVAL,
				      "output %u: quantile on a kind %u output",
				      i, o->kind);
		}
		if (o->kind != VS_OUT_CONFIDENCE &&
		    (!o->horizon || o->horizon > VS_MAX_HORIZON))
			return vs_bad(e, -EINVAL, "output %u: horizon %u", i,
				      o->horizon);
		if (o->base != VS_OUT_NO_BASE &&
		    (o->base >= m->n_raw || o->kind == VS_OUT_CONFIDENCE))
			return vs_bad(e, -EINVAL, "output %u: base %u", i,
				      o->base);
		for (l = 0; l < i; l++)
			if (o->kind == VS_OUT_PEAK &&
			    m->out[l].kind == VS_OUT_PEAK &&
			    m->out[l].horizon == o->horizon &&
			    m->out[l].quantile == o->quantile)
				return vs_bad(e, -EINVAL,
					      "outputs %u and %u: same horizon %u and quantile %u",
					      l, i, o->horizon, o->quantile);
		if (!vs_scale_ok(o->scale.mult, o->scale.shift))
			return vs_bad(e, -EINVAL, "output %u: scale %d >> %u",
				      i, o->scale.mult, o->scale.shift);
	}
	m->len = len;
	return 0;
}

int vs_model_parse(const void *buf, size_t len, struct vs_model *m,
		   char *err, size_t errlen)
{
	struct vs_errbuf e = { .s = err, .n = errlen };
	int ret;

	memset(m, 0, sizeof(*m));
	if (errlen)
		err[0] = '\0';
	ret = vs_parse(buf, len, m, &e);
	if (ret)
		memset(m, 0, sizeof(*m));
	return ret;
}

void vs_lstm_reset(const struct vs_model *m, struct vs_lstm_state *st)
{
	(void)m;
	memset(st, 0, sizeof(*st));
}

/* One LSTM layer: x (Q3.12 for layer 0, Q0.15 above) -> st->h[l]. */
static void vs_layer_step(const struct vs_model *m, struct vs_lstm_state *st,
			  unsigned int l, const s16 *x)
{
	const struct vs_layer *ly = &m->layer[l];
	unsigned int hid = m->hidden, n = 4 * hid, r, j;
	s16 *h = st->h[l], *c = st->c[l];
	s16 ig, fg, gg, og, tc;
	s64 pre;

	/*
	 * All pre-activations first: they read the previous h.  Four gate
	 * rows at a time (n = 4 * hid), so each x[i] and h[i] is loaded once
	 * per four rows; the arithmetic is that of one row at a time.
	 */
	for (r = 0; r < n; r += 4) {
		s64 acc[4];

		vs_dot16x4(ly->wx + r * ly->in_dim, x, ly->in_dim, acc);
		for (j = 0; j < 4; j++)
			st->pre[r + j] = vs_requant(acc[j], ly->sx.mult,
						    ly->sx.shift);
		vs_dot16x4(ly->wh + r * hid, h, hid, acc);
		for (j = 0; j < 4; j++) {
			pre = (s64)ly->bias[r + j] + st->pre[r + j] +
			      vs_requant(acc[j], ly->sh.mult, ly->sh.shift);
			st->pre[r + j] = vs_sat32(pre);
		}
	}
	for (j = 0; j < hid; j++) {
		ig = vs_sigmoid(st->pre[j]);		/* Q0.15 */
		fg = vs_sigmoid(st->pre[hid + j]);	/* Q0.15 */
		gg = vs_tanh(st->pre[2 * hid + j]);	/* Q0.15 */
		og = vs_sigmoid(st->pre[3 * hid + j]);	/* Q0.15 */
		/* c = f * c + i * g: Q0.15*Q3.12 >> 15, Q0.15*Q0.15 >> 18 */
		c[j] = vs_sat16(vs_rshift_round((s32)fg * c[j], 15) +
				vs_rshift_round((s32)ig * gg, 18));
		tc = vs_tanh(c[j]);
		h[j] = vs_mul_q15(og, tc);		/* Q0.15 */
	}
}

void vs_lstm_step(const struct vs_model *m, struct vs_lstm_state *st,
		  const s16 *in, s16 *out)
{
	unsigned int i, l, hid = m->hidden;
	s32 v, y;
	s16 raw;

	for (i = 0; i < m->n_feat; i++) {
		const struct vs_feat *f = &m->feat[i];

		raw = in[f->src];
		if (f->kind == VS_FEAT_DELTA)
			v = st->steps ? (s32)raw - st->prev[f->src] : 0;
		else
			v = raw;
		st->x[i] = vs_sat16(vs_requant((s64)v - f->offset,
					       f->scale.mult, f->scale.shift));
	}
	for (i = 0; i < m->n_raw; i++)
		st->prev[i] = in[i];

	vs_layer_step(m, st, 0, st->x);
	for (l = 1; l < m->n_layers; l++)
		vs_layer_step(m, st, l, st->h[l - 1]);

	for (i = 0; i < m->n_out; i++) {
		const struct vs_out *o = &m->out[i];

		y = vs_sat32((s64)m->by[i] +
			     vs_requant(vs_dot16(m->wy + i * hid,
						 st->h[m->n_layers - 1], hid),
					m->sy.mult, m->sy.shift));
		v = vs_sat32((s64)o->offset +
			     vs_requant(y, o->scale.mult, o->scale.shift));
		if (o->kind == VS_OUT_CONFIDENCE) {
			out[i] = vs_sigmoid(v);
			continue;
		}
		if (o->base != VS_OUT_NO_BASE)
			v = vs_sat32((s64)v + in[o->base]);
		out[i] = vs_sat16(v);
	}
	if (st->steps < 0xffffffffu)
		st->steps++;
}

int vs_model_find_output(const struct vs_model *m, unsigned int horizon)
{
	unsigned int i;

	for (i = 0; i < m->n_out; i++)
		if (m->out[i].kind == VS_OUT_DEMAND &&
		    m->out[i].horizon == horizon)
			return i;
	return -1;
}

int vs_model_find_upper(const struct vs_model *m, unsigned int horizon)
{
	unsigned int i, d, bd = 0;
	int best = -1;

	for (i = 0; i < m->n_out; i++) {
		const struct vs_out *o = &m->out[i], *b;

		if (o->kind != VS_OUT_PEAK)
			continue;
		d = o->horizon > horizon ? o->horizon - horizon :
					   horizon - o->horizon;
		b = best >= 0 ? &m->out[best] : NULL;
		/* order: nearest horizon, then shorter, then higher quantile */
		if (!b || d < bd ||
		    (d == bd && o->horizon < b->horizon) ||
		    (d == bd && o->horizon == b->horizon &&
		     o->quantile > b->quantile)) {
			best = i;
			bd = d;
		}
	}
	return best;
}

void vs_model_gather(const struct vs_model *m, const s16 *chans, s16 *in)
{
	unsigned int i;

	for (i = 0; i < m->n_raw; i++)
		in[i] = chans[m->chan[i]];
}

unsigned int vs_model_max_channel(const struct vs_model *m)
{
	unsigned int i, mx = 0;

	for (i = 0; i < m->n_raw; i++)
		if (m->chan[i] > mx)
			mx = m->chan[i];
	return mx;
}
