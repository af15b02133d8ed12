/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Online calibration of the predicted upper band (kernel and userspace).
 *
 * Adaptive conformal prediction (Gibbs and Candes, NeurIPS 2021) in its
 * additive form: the band published at step t is
 *	band_t = upper_t + margin_t
 * where upper_t is the model's upper-quantile forecast of the peak demand
 * over (t, t+h] and margin_t a per-device offset.  Once the outcome of
 * band_t is known, the margin moves by
 *	margin += eta * (err - alpha)
 * err = 1 if the peak since t exceeded band_t (a shortfall), else 0;
 * alpha = the target shortfall rate.  A shortfall is known as soon as the
 * demand crosses the band; a hit only after h steps.  For any sequence of
 * demands (no assumption on the workload or the model), while the margin
 * stays within [lo, hi] the realised rate over T resolved steps is within
 * (hi - lo + eta) / (eta T) of alpha: the margin cannot drift forever, so
 * misses and hits must balance at the target.
 *
 * Fixed point: demand, upper and band in Q3.12 fractions of RAM; the
 * margin and eta in Q3.28 (2^28 = all of RAM), so that eta * alpha stays
 * exact for alpha down to 1 ppm; alpha in Q0.16.  The margin is kept in
 * [-1, +1] of RAM.
 */
#ifndef VS_CALIB_H
#define VS_CALIB_H

#include "lstm.h"

#define VS_CALIB_ONE		268435456	/* 1.0 (all of RAM) in Q3.28: 2^28 */
#define VS_CALIB_RING		VS_MAX_HORIZON	/* bands awaiting an outcome */
#define VS_CALIB_PPM_MAX	500000u		/* target rate at most 50% */
#define VS_CALIB_DEFAULT_PPM	10000u		/* 1% */
/* Default step: 1/256 of RAM (0.39%) per unit of (err - alpha). */
#define VS_CALIB_DEFAULT_ETA	(VS_CALIB_ONE >> 8)

/* One published band awaiting its outcome. */
struct vs_calib_pending {
	s16 band;	/* Q3.12 */
	s16 peak;	/* highest demand seen since, Q3.12 */
	u8 age;		/* steps since published */
	u8 done;	/* outcome already counted (an early shortfall) */
};

struct vs_calib {
	u32 target_ppm;		/* shortfall rate to keep, parts per million */
	u32 alpha_q16;		/* the same as a Q0.16 fraction */
	s32 eta;		/* Q3.28 step size */
	u8 horizon;		/* steps the band covers, 1..VS_CALIB_RING */
	s32 margin;		/* Q3.28 */
	struct vs_calib_pending ring[VS_CALIB_RING];
	u8 head;		/* slot of the oldest pending band */
	u8 count;		/* pending bands */
	u64 resolved;		/* bands whose outcome is known */
	u64 shortfalls;		/* of which the peak exceeded the band */
};

/*
 * Reset the state (margin 0, no pending band, counters 0) for bands over
 * @horizon steps (clamped to 1..VS_CALIB_RING).  The target and eta are
 * kept if already set, else the defaults.
 */
void vs_calib_reset(struct vs_calib *c, unsigned int horizon);

/* Target shortfall rate in ppm, 1..VS_CALIB_PPM_MAX; 0 or -ERANGE. */
int vs_calib_set_target(struct vs_calib *c, u32 ppm);

/* Step size, Q3.28, 1..VS_CALIB_ONE; 0 or -ERANGE. */
int vs_calib_set_eta(struct vs_calib *c, s32 eta);

/*
 * One step: @observed is this step's demand (Q3.12), @upper the model's
 * upper forecast made at this step.  Resolves the pending bands against
 * @observed, updates the margin, then publishes and returns this step's
 * band = sat16(upper + margin).
 */
s16 vs_calib_step(struct vs_calib *c, s16 observed, s16 upper);

/* The margin in Q3.12 (rounded). */
s16 vs_calib_margin_q12(const struct vs_calib *c);

#endif /* VS_CALIB_H */
