// SPDX-License-Identifier: GPL-2.0
/* Online calibration of the upper band (see calib.h). */
#include "calib.h"

void vs_calib_reset(struct vs_calib *c, unsigned int horizon)
{
	u32 ppm = c->target_ppm;
	s32 eta = c->eta;

	memset(c, 0, sizeof(*c));
	if (vs_calib_set_target(c, ppm))
		vs_calib_set_target(c, VS_CALIB_DEFAULT_PPM);
	if (vs_calib_set_eta(c, eta))
		vs_calib_set_eta(c, VS_CALIB_DEFAULT_ETA);
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
	/* ppm * 2^16 / 10^6 = ppm * 2^10 / 15625, no 64-bit division */
	c->alpha_q16 = (ppm * 1024u + 15625u / 2) / 15625u;
	if (!c->alpha_q16)
		c->alpha_q16 = 1;
	return 0;
}

int vs_calib_set_eta(struct vs_calib *c, s32 eta)
{
	if (eta < 1 || eta > VS_CALIB_ONE)
		return -ERANGE;
	c->eta = eta;
	return 0;
}

/* margin += eta * (err - alpha), kept in [-1, 1] of RAM */
static void vs_calib_update(struct vs_calib *c, bool shortfall)
{
	s64 m = c->margin;

	m -= vs_rshift_round((s64)c->eta * c->alpha_q16, 16);
	if (shortfall)
		m += c->eta;
	if (m > VS_CALIB_ONE)
		m = VS_CALIB_ONE;
	if (m < -VS_CALIB_ONE)
		m = -VS_CALIB_ONE;
	c->margin = (s32)m;
	c->resolved++;
	if (shortfall)
		c->shortfalls++;
}

s16 vs_calib_margin_q12(const struct vs_calib *c)
{
	return vs_sat16(vs_rshift_round(c->margin, 16));
}

s16 vs_calib_step(struct vs_calib *c, s16 observed, s16 upper)
{
	struct vs_calib_pending *p;
	unsigned int i;

	/* The demand now is part of the peak of every pending band. */
	for (i = 0; i < c->count; i++) {
		p = &c->ring[(c->head + i) % VS_CALIB_RING];
		if (observed > p->peak)
			p->peak = observed;
		p->age++;
		if (!p->done && p->peak > p->band) {
			p->done = 1;
			vs_calib_update(c, true);
		}
	}
	/* Bands whose window (t, t+h] is over: a hit unless counted. */
	while (c->count && c->ring[c->head].age >= c->horizon) {
		if (!c->ring[c->head].done)
			vs_calib_update(c, false);
		c->head = (c->head + 1) % VS_CALIB_RING;
		c->count--;
	}
	p = &c->ring[(c->head + c->count) % VS_CALIB_RING];
	p->band = vs_sat16((s64)upper + vs_calib_margin_q12(c));
	p->peak = -32768;
	p->age = 0;
	p->done = 0;
	c->count++;
	return p->band;
}
