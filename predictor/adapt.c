// SPDX-License-Identifier: GPL-2.0
/*
 * LSTM / recent-history blending (see adapt.h).  Integer only.
 */
#include "adapt.h"

void vs_adapt_init(struct vs_adapt *a, u16 alpha_q15, u8 decay_shift)
{
	unsigned int k;

	memset(a, 0, sizeof(*a));
	a->alpha = alpha_q15 ? (alpha_q15 > 32767 ? 32767 : alpha_q15) : 1;
	a->decay_shift = decay_shift > 16 ? 16 : decay_shift;
	for (k = 0; k < VS_MAX_OUT; k++) {
		a->w[k] = 16384;
		/* equal priors: 1% of RAM in Q3.12 << 8 */
		a->err_lstm[k] = 41 << 8;
		a->err_hist[k] = 41 << 8;
	}
}

static u32 vs_absdiff(s32 x, s32 y)
{
	return x > y ? (u32)(x - y) : (u32)(y - x);
}

/* w = eh^2 / (el^2 + eh^2) in Q0.15, with 32-bit division only. */
static u16 vs_adapt_weight(u32 el, u32 eh)
{
	u64 a = (u64)eh * eh, b = (u64)el * el;
	u32 w;

	while (a + b >= (1ull << 16)) {
		a >>= 1;
		b >>= 1;
	}
	if (!(a + b))
		return 16384;
	w = ((u32)a << 15) / (u32)(a + b);
	return w > 32767 ? 32767 : w;
}

void vs_adapt_step(const struct vs_model *m, struct vs_adapt *a,
		   s16 observed, const s16 *lstm_out, s16 *blended)
{
	unsigned int k, h, slot, now = a->steps % VS_ADAPT_RING;
	s32 obs8 = (s32)observed * 256, hist;
	u8 d = a->decay_shift;
	u32 e;

	/* 1. score the forecasts made h steps ago for this observation */
	for (k = 0; k < m->n_out; k++) {
		if (m->out[k].kind != VS_OUT_DEMAND)
			continue;
		h = m->out[k].horizon;
		if (h > a->steps || h > VS_ADAPT_RING)
			continue;
		slot = (a->steps - h) % VS_ADAPT_RING;
		e = vs_absdiff(obs8, (s32)a->past_lstm[slot][k] * 256);
		a->err_lstm[k] = a->err_lstm[k] - (a->err_lstm[k] >> d) +
				 (e >> d);
		e = vs_absdiff(obs8, (s32)a->past_hist[slot] * 256);
		a->err_hist[k] = a->err_hist[k] - (a->err_hist[k] >> d) +
				 (e >> d);
		a->w[k] = vs_adapt_weight(a->err_lstm[k], a->err_hist[k]);
	}

	/* 2. update the history estimate (EWMA, alpha in Q0.15) */
	if (!a->steps)
		a->level = obs8;
	else
		a->level += (s32)vs_rshift_round((s64)(obs8 - a->level) *
						 a->alpha, 15);
	hist = (s32)vs_rshift_round(a->level, 8);

	/* 3. remember this step's forecasts and blend them */
	a->past_hist[now] = vs_sat16(hist);
	for (k = 0; k < m->n_out; k++) {
		a->past_lstm[now][k] = lstm_out[k];
		if (m->out[k].kind != VS_OUT_DEMAND) {
			blended[k] = lstm_out[k];
			continue;
		}
		blended[k] = vs_sat16(vs_rshift_round((s64)a->w[k] *
						      lstm_out[k] +
						      (s64)(32768 - a->w[k]) *
						      hist, 15));
	}
	if (a->steps < 0xffffffffu)
		a->steps++;
}
