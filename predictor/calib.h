/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Online calibration of the predicted upper band (kernel and userspace).
 *
 * Windowed split-conformal prediction: the band published at step t is
 *	band_t = upper_t + margin_t
 * where upper_t is the model's upper-quantile forecast of the peak demand
 * over (t, t+h].  When band_t's window is over (h steps later), its
 * residual r_t = peak(t, t+h] - upper_t enters a ring of the last W
 * resolved residuals; the margin is their conformal quantile, the
 * ceil((n+1)(1 - alpha))-th smallest of the n residuals in the ring (the
 * largest if that index exceeds n; 0 while the ring is empty), alpha =
 * the target shortfall rate.
 *
 * What it guarantees: if the residuals within the window are
 * exchangeable (the model's errors do not drift faster than the window
 * turns over), the next band covers its peak with probability at least
 * 1 - alpha (Vovk et al. 2005; Angelopoulos and Bates 2021).  There is
 * no guarantee for an adversarial sequence any more (the additive
 * adaptive rule this replaced had one, Gibbs and Candes 2021, but paid
 * for it with an unbounded memory: a burst of s shortfalls raised its
 * margin by s * eta, which then took s / alpha outcomes to come down,
 * i.e. minutes after a 2-5 s surprise ramp).  Here a residual weighs on
 * the margin for exactly W resolved outcomes and no longer: the memory
 * of a surprise is bounded by W steps (plus the h steps before its
 * residual is known).
 *
 * Early shortfall: a residual is known only when its window is over, so
 * on its own the ring would keep the old quantile for h steps of a ramp
 * and every band published meanwhile would fall short too.  So as soon
 * as the demand crosses a pending band, the published margin is at
 * least the largest residual seen so far among the pending bands that
 * were crossed (their peak so far minus their upper): the band widens
 * during the ramp, and the ring takes over once those windows close.
 *
 * Counting: a band is a shortfall if the peak over its window exceeds
 * the band as published.  resolved / shortfalls count every outcome
 * since the last reset (a shortfall at once when the demand crosses the
 * band, a hit when its window closes): the realised rate.
 * vs_calib_window_outcomes() counts the same over the ring plus the
 * pending bands already crossed: the recent coverage, which forgets a
 * surprise after W outcomes like the margin does.
 *
 * Fixed point: demand, upper, band, residuals and margin in Q3.12
 * fractions of RAM; residuals and the margin are kept in [-1, +1] of
 * RAM (clamping before the order statistic changes nothing inside it).
 * Cost per step: the pending bands (<= VS_CALIB_RING) once, and per
 * resolved band one removal and one insertion in a sorted copy of the
 * ring (binary search plus a memmove of at most VS_CALIB_WMAX s16), so
 * the quantile is one array read: O(VS_CALIB_WMAX) work, no allocation.
 */
#ifndef VS_CALIB_H
#define VS_CALIB_H

#include "lstm.h"

#define VS_CALIB_RING		VS_MAX_HORIZON	/* bands awaiting an outcome */
#define VS_CALIB_PPM_MAX	500000u		/* target rate at most 50% */
#define VS_CALIB_DEFAULT_PPM	10000u		/* 1% */
#define VS_CALIB_WMAX		1024		/* most residuals kept */
/*
 * Default window: 600 outcomes, 60 s at the guest's default 100 ms
 * period.  At a 1% target the margin is then the 6th largest residual
 * of the last minute: a surprise of at most 5 bands is ignored, a longer
 * one holds the margin up for one minute (well inside the time an
 * operator expects memory back after a job ends) and the 1% quantile
 * still rests on 6 samples, not on the single largest.
 */
#define VS_CALIB_DEFAULT_WINDOW	600

/* One published band awaiting its outcome. */
struct vs_calib_pending {
	s16 band;	/* Q3.12, as published */
	s16 upper;	/* Q3.12, the model's forecast it was made from */
	s16 peak;	/* highest demand seen since, Q3.12 */
	u8 age;		/* steps since published */
	u8 done;	/* crossed: a shortfall, already counted */
};

struct vs_calib {
	u32 target_ppm;		/* shortfall rate to keep, parts per million */
	u32 window;		/* residuals kept, 1..VS_CALIB_WMAX */
	u8 horizon;		/* steps the band covers, 1..VS_CALIB_RING */
	s16 margin;		/* Q3.12, the margin published last */
	struct vs_calib_pending ring[VS_CALIB_RING];
	u8 head;		/* slot of the oldest pending band */
	u8 count;		/* pending bands */
	/* The last n_res resolved residuals, oldest at res_head... */
	s16 res[VS_CALIB_WMAX];
	/* ...the same values in ascending order... */
	s16 sorted[VS_CALIB_WMAX];
	/* ...and one bit per res slot: that band was a shortfall. */
	u8 res_sf[VS_CALIB_WMAX / 8];
	u16 res_head;
	u16 n_res;
	u16 res_shortfalls;	/* bits set in res_sf among the n_res */
	u64 resolved;		/* bands whose outcome is known */
	u64 shortfalls;		/* of which the peak exceeded the band */
};

/*
 * Reset the state (margin 0, no pending band, empty ring, counters 0)
 * for bands over @horizon steps (clamped to 1..VS_CALIB_RING).  The
 * target and window are kept if already set, else the defaults.
 */
void vs_calib_reset(struct vs_calib *c, unsigned int horizon);

/* Target shortfall rate in ppm, 1..VS_CALIB_PPM_MAX; 0 or -ERANGE. */
int vs_calib_set_target(struct vs_calib *c, u32 ppm);

/*
 * Window in resolved outcomes, 1..VS_CALIB_WMAX; 0 or -ERANGE (nothing
 * changed).  A shorter window drops the oldest residuals at once.
 */
int vs_calib_set_window(struct vs_calib *c, unsigned int window);

/*
 * One step: @observed is this step's demand (Q3.12), @upper the model's
 * upper forecast made at this step.  Resolves the pending bands against
 * @observed, updates the margin, then publishes and returns this step's
 * band = sat16(upper + margin).
 */
s16 vs_calib_step(struct vs_calib *c, s16 observed, s16 upper);

/* The margin in Q3.12. */
s16 vs_calib_margin_q12(const struct vs_calib *c);

/*
 * The ring's conformal quantile (Q3.12) alone, without the early
 * shortfall floor; 0 for an empty ring.
 */
s16 vs_calib_quantile(const struct vs_calib *c);

/*
 * Outcomes over the window: the residuals in the ring plus the pending
 * bands already crossed (known shortfalls), and how many of those were
 * shortfalls.
 */
void vs_calib_window_outcomes(const struct vs_calib *c, u32 *resolved,
			      u32 *shortfalls);

#endif /* VS_CALIB_H */
