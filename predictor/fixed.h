/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Integer fixed-point arithmetic for the vshape predictor.
 *
 * No floating point: everything here is compiled into vshape_guest.ko.
 *
 * Formats (Qm.n = signed, m integer bits, n fraction bits, in an s16):
 *   Q3.12  activations, LSTM cell state, normalised features, physical
 *          inputs/outputs (fraction of RAM): 1.0 = 4096, range [-8, 8).
 *   Q0.15  gate outputs (sigmoid, tanh) and hidden state h:
 *          1.0 = 32768 (saturates to 32767), range [-1, 1).
 *   weights  s16 with a per-tensor scale given as a (mult, shift) pair:
 *          an s64 dot product "acc" of weights times inputs is brought to
 *          Q3.12 as  acc * mult / 2^shift  (rounded, saturated), with
 *          1 <= |mult| <= VS_MULT_MAX and shift <= VS_SHIFT_MAX.
 *   accumulators  s64 for dot products (<= 80 terms of s16 * s16 < 2^37),
 *          s32 for pre-activations (Q3.12 in an s32, not saturated to s16).
 *
 * Rounding is round-half-up everywhere: (v + 2^(s-1)) >> s with an
 * arithmetic shift, i.e. floor(v / 2^s + 1/2), bit-exact on every target.
 *
 * Non-linearities:
 *   vs_sigmoid(): Q3.12 (in an s32) -> Q0.15.  Table of 513 entries of
 *          round(32768 * sigmoid(k / 32)), k = 0..512 (x in [0, 16]), with
 *          linear interpolation on the 7 low bits; sigmoid(-x) = 1 -
 *          sigmoid(x); |x| >= 16 saturates.
 *   vs_tanh(): Q3.12 -> Q0.15, tanh(x) = 2 * sigmoid(2x) - 1, computed on
 *          |x| and negated, so exactly odd.
 *   Maximum absolute error against libm, measured exhaustively over every
 *   Q3.12 input in [-16, 16] by predictor/test_predictor.c (and recorded
 *   in docs/predictor.md): sigmoid 3.81e-5, tanh 7.38e-5 (in units of 1.0).
 */
#ifndef VS_FIXED_H
#define VS_FIXED_H

#include "vs_types.h"

#define VS_Q12_SHIFT	12
#define VS_Q12_ONE	4096			/* 1.0 in Q3.12 */
#define VS_Q15_SHIFT	15
#define VS_Q15_MAX	32767			/* largest Q0.15 (~1.0) */

#define VS_MULT_MAX	32767	/* |mult| bound of a (mult, shift) scale */
#define VS_SHIFT_MAX	40	/* shift bound of a (mult, shift) scale */

#define VS_SIG_TABLE_N	513	/* entries of the sigmoid table */
#define VS_SIG_STEP_BITS 7	/* table step 2^7 in Q3.12 = 1/32 */

extern const u16 vs_sigmoid_table[VS_SIG_TABLE_N];

/* Saturate an s64 to s16. */
static inline s16 vs_sat16(s64 v)
{
	if (v > 32767)
		return 32767;
	if (v < -32768)
		return -32768;
	return (s16)v;
}

/* Saturate an s64 to s32. */
static inline s32 vs_sat32(s64 v)
{
	if (v > 2147483647LL)
		return 2147483647;
	if (v < -2147483647LL - 1)
		return -2147483647 - 1;
	return (s32)v;
}

/*
 * Round-half-up right shift: floor(v / 2^s + 1/2).  s <= 62; |v| must be
 * below 2^62 (callers keep far away from that).
 */
static inline s64 vs_rshift_round(s64 v, unsigned int s)
{
	if (!s)
		return v;
	return (v + ((s64)1 << (s - 1))) >> s;
}

/*
 * Apply a (mult, shift) scale to an accumulator: acc * mult / 2^shift,
 * rounded half up, saturated to s32.  |acc| < 2^46 keeps the product exact
 * for |mult| <= VS_MULT_MAX.
 */
static inline s32 vs_requant(s64 acc, s32 mult, unsigned int shift)
{
	return vs_sat32(vs_rshift_round(acc * mult, shift));
}

/*
 * A Q0.15 fraction in [0, 1) as a whole percentage, rounded down (16384
 * -> 50, 32767 -> 99): the confidence the guest shows in sysfs and
 * compares with its percentage knobs.  The one place that conversion is
 * written.
 */
static inline unsigned int vs_q15_to_pct(u16 q)
{
	return (unsigned int)q * 100U >> VS_Q15_SHIFT;
}

/* Q0.15 x Q0.15 -> Q0.15, rounded, saturated. */
static inline s16 vs_mul_q15(s16 a, s16 b)
{
	return vs_sat16(vs_rshift_round((s32)a * b, 15));
}

/* Q0.15 x Q3.12 -> Q3.12, rounded, saturated. */
static inline s16 vs_mul_q15_q12(s16 a, s16 b)
{
	return vs_sat16(vs_rshift_round((s32)a * b, 15));
}

/* Dot product of n s16 pairs into an s64 accumulator. */
static inline s64 vs_dot16(const s16 *w, const s16 *x, unsigned int n)
{
	s64 acc = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		acc += (s32)w[i] * x[i];
	return acc;
}

/*
 * Four dot products of n s16 pairs against the same x: rows w[0..n),
 * w[n..2n), w[2n..3n) and w[3n..4n) of a row-major matrix.  Each x[i] is
 * loaded once for the four rows and two products are summed per step.
 */
static inline void vs_dot16x4(const s16 *w, const s16 *x, unsigned int n,
			      s64 acc[4])
{
	const s16 *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n;
	s64 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	unsigned int i;
	s32 x0, x1;

	for (i = 0; i + 2 <= n; i += 2) {
		x0 = x[i];
		x1 = x[i + 1];
		a0 += (s64)((s32)w[i] * x0) + (s32)w[i + 1] * x1;
		a1 += (s64)((s32)w1[i] * x0) + (s32)w1[i + 1] * x1;
		a2 += (s64)((s32)w2[i] * x0) + (s32)w2[i + 1] * x1;
		a3 += (s64)((s32)w3[i] * x0) + (s32)w3[i + 1] * x1;
	}
	if (i < n) {
		x0 = x[i];
		a0 += (s32)w[i] * x0;
		a1 += (s32)w1[i] * x0;
		a2 += (s32)w2[i] * x0;
		a3 += (s32)w3[i] * x0;
	}
	acc[0] = a0;
	acc[1] = a1;
	acc[2] = a2;
	acc[3] = a3;
}

s16 vs_sigmoid(s32 x_q12);
s16 vs_tanh(s32 x_q12);
u32 vs_crc32(u32 crc, const void *buf, size_t len);

#endif /* VS_FIXED_H */
