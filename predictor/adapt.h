/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Online blending of the LSTM forecast with a recent-history
 * estimate, in fixed point (kernel and userspace).
 *
 * For each DEMAND output k (horizon h_k steps) the blended forecast is
 *   w_k * lstm_k + (1 - w_k) * hist,   w_k in Q0.15,
 * where hist is an EWMA of the observed demand (alpha = 1: last value).
 * Each step, once the value h_k steps after a forecast is observed, the
 * absolute errors of both forecasts are folded into rolling means
 * (err += (|e| - err) / 2^decay_shift) and
 *   w_k = e_hist^2 / (e_lstm^2 + e_hist^2)
 * (inverse mean-squared-error weighting): when the LSTM's rolling error
 * grows relative to the history estimate's, the weight shifts toward
 * recent history, and back when it recovers.
 */
#ifndef VS_ADAPT_H
#define VS_ADAPT_H

#include "lstm.h"

#define VS_ADAPT_RING	VS_MAX_HORIZON	/* past steps kept */

struct vs_adapt {
	u16 alpha;			/* EWMA weight of new sample, Q0.15 */
	u8 decay_shift;			/* rolling-error window 2^shift */
	s32 level;			/* history estimate, Q3.12 << 8 */
	u32 err_lstm[VS_MAX_OUT];	/* rolling |error|, Q3.12 << 8 */
	u32 err_hist[VS_MAX_OUT];
	u16 w[VS_MAX_OUT];		/* weight of the LSTM, Q0.15 */
	s16 past_lstm[VS_ADAPT_RING][VS_MAX_OUT];	/* Q3.12 */
	s16 past_hist[VS_ADAPT_RING];			/* Q3.12 */
	u32 steps;
};

/*
 * Reset; alpha_q15 in [1, 32767] (32767 ~ last value), decay_shift in
 * [0, 16].  Weights start at 0.5.
 */
void vs_adapt_init(struct vs_adapt *a, u16 alpha_q15, u8 decay_shift);

/*
 * One step, after vs_lstm_step(): observed is the current demand (Q3.12,
 * the same quantity the DEMAND outputs forecast), lstm_out the model's
 * outputs of this step.  Writes blended[m->n_out]: DEMAND outputs
 * blended, other outputs copied.
 */
void vs_adapt_step(const struct vs_model *m, struct vs_adapt *a,
		   s16 observed, const s16 *lstm_out, s16 *blended);

#endif /* VS_ADAPT_H */
