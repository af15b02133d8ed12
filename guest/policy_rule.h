/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: the policy's decision rule, one period, as a pure
 * function of numbers (no locks, no kernel calls), so that the same code
 * runs in the driver (policy.c) and in the userspace unit test
 * (selftests/guest/policy_unit.c).  The includer provides bool.
 *
 * All sizes are in pages.  The balloon is sized from the predicted peak
 * demand plus margins, not scaled by the confidence:
 *   need = peak + margin + floor_margin,   want = total - need
 * and the same from the demand observed now (used instead of peak):
 *   want_obs = total - (used + margin + floor_margin).
 *
 *  - guard: the OOM notifier deflated since the last decision, memory PSI
 *    or refaults over their knob: target 0 at once; memory available to
 *    the guest below the floor: deflate at once to what the demand
 *    observed now needs (want_obs from the available memory read at the
 *    decision, no hysteresis);
 *  - grow: want is below the balloon (cur) by the hysteresis or more:
 *    sure (confidence >= commit_pct, see vsg_rule_sure_pct() for what the
 *    confidence is): target want, and COMMIT the first pages of the
 *    deflation, as many as the predicted rise of demand (peak - used, in
 *    whole blocks, at most the deflation), the rest a plain deflation:
 *    the host backs only what the guest is predicted to touch, not the
 *    margins the policy keeps for safety (they are populated by the
 *    guest's first touch, if ever).  With nothing to commit (peak ==
 *    used, always so with predictor=last) the decision is a plain grow;
 *    unsure: deflate only what the observed demand needs (target
 *    max(want, want_obs)), RESERVE the predicted rise still in the
 *    balloon (the same peak - used, at most target - want);
 *  - shrink: want is above cur by the hysteresis or more and no guard is
 *    holding: target min(want, cur + step), step = the pace per period;
 *  - otherwise hold.
 */
#ifndef _VSHAPE_POLICY_RULE_H
#define _VSHAPE_POLICY_RULE_H

enum vsg_policy_action {
	VSG_ACT_HOLD,		/* within the hysteresis: nothing moves */
	VSG_ACT_SHRINK,		/* spare memory: inflate, at a bounded pace */
	VSG_ACT_GROW,		/* demand is here: deflate (no COMMIT) */
	VSG_ACT_GROW_COMMIT,	/* a sure rise: COMMIT its increment, deflate */
	VSG_ACT_RESERVE,		/* an unsure rise: RESERVE, keep the blocks */
	/* the guards, last (policy.c holds shrinking off after any of them) */
	VSG_ACT_GUARD_PSI,	/* memory PSI over the knob: deflate it all */
	VSG_ACT_GUARD_REFAULT,	/* refaults over the knob: deflate it all */
	VSG_ACT_GUARD_OOM,	/* the OOM notifier deflated: deflate it all */
	VSG_ACT_GUARD_LOW,	/* available memory under the floor */
	VSG_NR_ACTIONS,
};

struct vsg_rule_in {
	unsigned long total;		/* RAM */
	unsigned long cur;		/* the balloon now: min(target, held) */
	unsigned long peak;		/* predicted peak demand, upper */
	unsigned long used;		/* observed demand */
	unsigned long margin;		/* policy margin + predicted margin */
	unsigned long floor_margin;
	unsigned long hyst;		/* smallest move */
	unsigned long step;		/* largest inflation per period */
	unsigned long block;		/* smallest reservation (2 MiB) */
	unsigned long reserved;		/* pages reserved and live */
	unsigned int conf_pct, commit_pct;
	unsigned int psi_pct, guard_psi_pct;		/* guard 0: off */
	unsigned long refault, guard_refault;		/* guard 0: off */
	unsigned long avail;		/* MemAvailable now */
	unsigned long floor;		/* the balloon's floor (balloon.c) */
	bool oom;			/* the OOM notifier deflated */
	bool guard_holding;		/* a guard fired recently */
};

struct vsg_rule_out {
	unsigned int action;		/* enum vsg_policy_action */
	unsigned long target;
	unsigned long need, want;
	unsigned long commit;		/* pages of the deflation to COMMIT */
	unsigned long reserve;		/* pages to RESERVE (head blocks) */
};

/*
 * How sure the policy is of a predicted rise, in percent: the share of
 * the calibrated band's resolved outcomes in which the peak demand that
 * followed stayed within the band (predictor/calib.h), i.e. the band's
 * realised coverage over the calibration window (vsg_prediction).  The online
 * calibration keeps it near 1 - calib_target_ppm on any workload, so
 * unlike the model's own confidence output it means the same on every
 * workload; it is 0 until @warm outcomes are known, and at most
 * VSG_SURE_MAX: a finite record never proves a band certain, so
 * commit_confidence_pct 100 means "never COMMIT".
 */
#define VSG_SURE_MAX	99U

static inline unsigned int vsg_rule_sure_pct(unsigned long long resolved,
					     unsigned long long shortfalls,
					     unsigned long long warm)
{
	unsigned long long hits;
	unsigned int pct;

	if (!resolved || resolved < warm || shortfalls > resolved)
		return 0;
	hits = resolved - shortfalls;
	/* hits * 100 / resolved, without a 64-bit division */
	for (pct = VSG_SURE_MAX; pct; pct--)
		if (hits * 100 >= (unsigned long long)pct * resolved)
			break;
	return pct;
}

/*
 * The peak demand the balloon is sized for: the calibrated band (the
 * model's upper forecast plus the calibration margin, which goes
 * negative when the model over-forecasts, so the size follows the
 * outcomes, not the model's bias), never below the demand observed now.
 * In KiB, the band signed.
 */
static inline unsigned long vsg_rule_peak_kb(long band_kb, unsigned long used_kb)
{
	return band_kb > 0 && (unsigned long)band_kb > used_kb ?
	       (unsigned long)band_kb : used_kb;
}

static inline unsigned long vsg_rule_room(unsigned long total,
					  unsigned long need)
{
	return total > need ? total - need : 0;
}

/*
 * The predicted rise of demand, peak - used, rounded up to whole blocks
 * (the balloon gives back 2 MiB blocks whole) and at most @room, the
 * deflation it may name: what a sure rise COMMITs and an unsure one
 * RESERVEs, so both announce the same pages to the host.
 */
static inline unsigned long vsg_rule_rise(const struct vsg_rule_in *in,
					  unsigned long room)
{
	unsigned long rise = in->peak > in->used ? in->peak - in->used : 0;

	if (in->block)
		rise = (rise + in->block - 1) / in->block * in->block;
	return rise < room ? rise : room;
}

static inline void vsg_rule_decide(const struct vsg_rule_in *in,
				   struct vsg_rule_out *out)
{
	unsigned long extra = in->margin + in->floor_margin;
	unsigned long want_obs = vsg_rule_room(in->total, in->used + extra);

	out->need = in->peak + extra;
	out->want = vsg_rule_room(in->total, out->need);
	out->target = in->cur;
	out->commit = 0;
	out->reserve = 0;
	out->action = VSG_ACT_HOLD;

	if (in->oom) {
		out->action = VSG_ACT_GUARD_OOM;
		out->target = 0;
	} else if (in->guard_psi_pct && in->psi_pct >= in->guard_psi_pct) {
		out->action = VSG_ACT_GUARD_PSI;
		out->target = 0;
	} else if (in->guard_refault && in->refault >= in->guard_refault) {
		out->action = VSG_ACT_GUARD_REFAULT;
		out->target = 0;
	} else if (in->avail < in->floor && in->cur) {
		/* Deflate so that @room is available again, now. */
		unsigned long room = extra > in->floor ? extra : in->floor;

		out->action = VSG_ACT_GUARD_LOW;
		out->target = in->cur + in->avail > room ?
			      in->cur + in->avail - room : 0;
	} else if (out->want + in->hyst <= in->cur) {
		if (in->conf_pct >= in->commit_pct) {
			out->target = out->want;
			out->commit = vsg_rule_rise(in, in->cur - out->want);
			out->action = out->commit ? VSG_ACT_GROW_COMMIT :
						    VSG_ACT_GROW;
		} else {
			unsigned long keep = out->want > want_obs ?
					     out->want : want_obs;
			unsigned long rise;

			if (keep < in->cur) {
				out->action = VSG_ACT_GROW;
				out->target = keep;
			}
			/* What the prediction still says will be needed. */
			rise = vsg_rule_rise(in, out->target - out->want);
			if (rise >= in->reserved + in->block) {
				out->action = out->action == VSG_ACT_GROW ?
					      VSG_ACT_GROW : VSG_ACT_RESERVE;
				out->reserve = rise;
			}
		}
	} else if (out->want >= in->cur + in->hyst && !in->guard_holding) {
		out->action = VSG_ACT_SHRINK;
		out->target = out->want < in->cur + in->step ?
			      out->want : in->cur + in->step;
	}
}

#endif /* _VSHAPE_POLICY_RULE_H */
