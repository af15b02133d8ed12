// SPDX-License-Identifier: GPL-2.0
/* Online calibration of the upper band (see calib.h). */
#include "calib.h"

void vs_calib_reset(struct vs_calib *c, unsigned int horizon)
{
	u32 ppm = c->target_ppm;
	unsigned int window = c->window;

	memset(c, 0, sizeof(*c));
	if (vs_calib_set_target(c, ppm))
		vs_calib_set_target(c, VS_CALIB_DEFAULT_PPM);
	if (vs_calib_set_window(c, window))
		vs_calib_set_window(c, VS_CALIB_DEFAULT_WINDOW);
	if (horizon < 1)
		horizon = 1;
	if (horizon > VS_CALIB_RING)
		horizon = VS_CALIB_RING;
	c->horizon = horizon;
}

int vs_calib_set_target(struct vs_calib *c, u32 ppm)
{
	if (!ppm || ppm > VS_CALIB_PPM_MAX)
		return -ERANGE;
	c->target_ppm = ppm;
	return 0;
}

/* First index of c->sorted[0..n_res) whose value is > v (upper bound). */
static unsigned int vs_calib_above(const struct vs_calib *c, s16 v)
{
	unsigned int lo = 0, hi = c->n_res;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (c->sorted[mid] > v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool vs_calib_sf_bit(const struct vs_calib *c, unsigned int slot)
{
	return c->res_sf[slot / 8] & (1u << (slot % 8));
}

/* Drop the oldest residual from the ring and from the sorted copy. */
static void vs_calib_drop_oldest(struct vs_calib *c)
{
	unsigned int slot = c->res_head;
	unsigned int i = vs_calib_above(c, c->res[slot]) - 1;

	/* sorted[i] == res[slot]: the last of its equals */
	memmove(&c->sorted[i], &c->sorted[i + 1],
		(c->n_res - 1 - i) * sizeof(c->sorted[0]));
	if (vs_calib_sf_bit(c, slot))
		c->res_shortfalls--;
	c->res_head = (slot + 1) % VS_CALIB_WMAX;
	c->n_res--;
}

/* Add a resolved band's residual; the oldest leaves a full window. */
static void vs_calib_push(struct vs_calib *c, s16 r, bool shortfall)
{
	unsigned int slot, i;

	if (c->n_res >= c->window)
		vs_calib_drop_oldest(c);
	slot = (c->res_head + c->n_res) % VS_CALIB_WMAX;
	c->res[slot] = r;
	if (shortfall) {
		c->res_sf[slot / 8] |= 1u << (slot % 8);
		c->res_shortfalls++;
	} else {
		c->res_sf[slot / 8] &= ~(1u << (slot % 8));
	}
	i = vs_calib_above(c, r);
	memmove(&c->sorted[i + 1], &c->sorted[i],
		(c->n_res - i) * sizeof(c->sorted[0]));
	c->sorted[i] = r;
	c->n_res++;
}

int vs_calib_set_window(struct vs_calib *c, unsigned int window)
{
	if (window < 1 || window > VS_CALIB_WMAX)
		return -ERANGE;
	c->window = window;
	while (c->n_res > window)
		vs_calib_drop_oldest(c);
	return 0;
}

s16 vs_calib_quantile(const struct vs_calib *c)
{
	u32 n = c->n_res, k;

	if (!n)
		return 0;
	/*
	 * k = ceil((n + 1)(1 - alpha)), alpha = ppm / 10^6: at most
	 * 1025 * 10^6 < 2^32, a 32-bit division.
	 */
	k = ((n + 1) * (1000000u - c->target_ppm) + 999999u) / 1000000u;
	if (k > n)
		k = n;
	if (k < 1)
		k = 1;
	return c->sorted[k - 1];
}

s16 vs_calib_margin_q12(const struct vs_calib *c)
{
	return c->margin;
}

void vs_calib_window_outcomes(const struct vs_calib *c, u32 *resolved,
			      u32 *shortfalls)
{
	u32 early = 0;
	unsigned int i;

	for (i = 0; i < c->count; i++)
		early += c->ring[(c->head + i) % VS_CALIB_RING].done;
	*resolved = c->n_res + early;
	*shortfalls = c->res_shortfalls + early;
}

/* peak - upper, kept in [-1, +1] of RAM */
static s16 vs_calib_residual(const struct vs_calib_pending *p)
{
	s32 r = (s32)p->peak - p->upper;

	if (r > VS_Q12_ONE)
		r = VS_Q12_ONE;
	if (r < -VS_Q12_ONE)
		r = -VS_Q12_ONE;
	return r;
}

s16 vs_calib_step(struct vs_calib *c, s16 observed, s16 upper)
{
	struct vs_calib_pending *p;
	bool crossed = false;
	s16 early = 0, m;
	unsigned int i;

	/* The demand now is part of the peak of every pending band. */
	for (i = 0; i < c->count; i++) {
		p = &c->ring[(c->head + i) % VS_CALIB_RING];
		if (observed > p->peak)
			p->peak = observed;
		p->age++;
		if (!p->done && p->peak > p->band) {
			p->done = 1;
			c->resolved++;
			c->shortfalls++;
		}
	}
	/* Bands whose window (t, t+h] is over: their residual is known. */
	while (c->count && c->ring[c->head].age >= c->horizon) {
		p = &c->ring[c->head];
		if (!p->done)
			c->resolved++;
		vs_calib_push(c, vs_calib_residual(p), p->done);
		c->head = (c->head + 1) % VS_CALIB_RING;
		c->count--;
	}
	/* Early shortfall: the crossed bands still pending (calib.h). */
	for (i = 0; i < c->count; i++) {
		p = &c->ring[(c->head + i) % VS_CALIB_RING];
		if (p->done && (!crossed || vs_calib_residual(p) > early)) {
			early = vs_calib_residual(p);
			crossed = true;
		}
	}
	m = vs_calib_quantile(c);
	if (crossed && early > m)
		m = early;
	c->margin = m;
	p = &c->ring[(c->head + c->count) % VS_CALIB_RING];
	p->band = vs_sat16((s32)upper + m);
	p->upper = upper;
	p->peak = -32768;
	p->age = 0;
	p->done = 0;
	c->count++;
	return p->band;
}
