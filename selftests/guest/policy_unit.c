// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the predict-mode policy's rule (guest/policy_rule.h), the
 * same header the driver compiles, run on the host without a VM:
 *
 *   make -C selftests/guest policy_unit && selftests/guest/policy_unit
 *
 * Sizes in 4 KiB pages; a 2 GiB guest, 2 MiB blocks.
 */
#include <stdbool.h>

#include "kselftest_harness.h"
#include "policy_rule.h"

#define MIB	256UL		/* pages per MiB */
#define TOTAL	(2048 * MIB)

/* An idle 2 GiB guest: 300 MiB used, nothing predicted beyond it. */
static struct vsg_rule_in base(void)
{
	return (struct vsg_rule_in){
		.total = TOTAL, .cur = 0, .peak = 300 * MIB, .used = 300 * MIB,
		.margin = 64 * MIB, .floor_margin = 64 * MIB, .hyst = 32 * MIB,
		.step = 13 * MIB, .block = 2 * MIB, .reserved = 0,
		.conf_pct = 90, .commit_pct = 70,
		.psi_pct = 0, .guard_psi_pct = 10,
		.refault = 0, .guard_refault = 2560,
		.avail = 1200 * MIB, .floor = 80 * MIB, .oom = false,
	};
}

TEST(sized_from_peak_plus_margins_not_scaled_by_confidence)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out a, b;

	in.cur = 1600 * MIB;
	vsg_rule_decide(&in, &a);
	EXPECT_EQ(TOTAL - 428 * MIB, a.want);
	in.conf_pct = 14;	/* the confidence the issue saw: same size */
	vsg_rule_decide(&in, &b);
	EXPECT_EQ(a.want, b.want);
	EXPECT_EQ((unsigned int)VSG_ACT_HOLD, b.action);	/* 1620 vs 1600: within hyst */
}

TEST(shrink_at_a_bounded_pace)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = 200 * MIB;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_SHRINK, o.action);
	EXPECT_EQ(213 * MIB, o.target);		/* cur + step, not want */
	in.cur = o.want - 5 * MIB;		/* close: no churn */
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_HOLD, o.action);
	EXPECT_EQ(in.cur, o.target);
}

TEST(no_shrink_while_a_guard_holds)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = 200 * MIB;
	in.guard_holding = true;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_HOLD, o.action);
	EXPECT_EQ(200 * MIB, o.target);
}

TEST(sure_rise_commits_ahead)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = TOTAL - 428 * MIB;
	in.peak = 900 * MIB;		/* predicted, not used yet */
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW_COMMIT, o.action);
	EXPECT_EQ(600 * MIB, o.commit);		/* the whole rise, all predicted */
	EXPECT_EQ(TOTAL - 1028 * MIB, o.target);
	EXPECT_EQ(0UL, o.reserve);
}

/*
 * A sure rise COMMITs the predicted increment of demand (peak - used),
 * not the whole deflation: what the observed demand already needs and
 * the margins are deflated plainly (the host populates them on the
 * guest's first touch, if ever).
 */
TEST(sure_rise_commits_only_the_predicted_increment)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	/* sized for 300 MiB; 600 used now, 900 predicted */
	in.cur = TOTAL - 428 * MIB;
	in.used = 600 * MIB;
	in.peak = 900 * MIB;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW_COMMIT, o.action);
	EXPECT_EQ(TOTAL - 1028 * MIB, o.target);	/* 600 MiB deflated */
	EXPECT_EQ(300 * MIB, o.commit);			/* 300 of them committed */
	/* a margin raised beyond RAM: the target is 0, the rise the same */
	in.margin = TOTAL;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ(0UL, o.target);
	EXPECT_EQ(300 * MIB, o.commit);
	/* a rise of 1 MiB in a deflation of 29: one whole 2 MiB block */
	in.margin = 64 * MIB;
	in.cur = TOTAL - 400 * MIB;
	in.used = 300 * MIB;
	in.peak = 301 * MIB;
	in.hyst = 0;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW_COMMIT, o.action);
	EXPECT_EQ(TOTAL - 429 * MIB, o.target);
	EXPECT_EQ(2 * MIB, o.commit);
	/* ... but never more than the deflation (1 MiB here) */
	in.cur = TOTAL - 428 * MIB;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ(1 * MIB, o.commit);
	/* a peak below the demand (never from the driver): nothing */
	in.peak = 200 * MIB;
	in.margin = TOTAL;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW, o.action);
	EXPECT_EQ(0UL, o.commit);
}

/*
 * predictor=last: the peak is the demand observed now, sure.  A rise is
 * deflated once it is observed, with nothing to COMMIT: a plain grow
 * (reactive means the host populates on the guest's touch).
 */
TEST(last_value_predictor_commits_nothing)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = TOTAL - 428 * MIB;
	in.used = 900 * MIB;
	in.peak = in.used;
	in.conf_pct = 99;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW, o.action);
	EXPECT_EQ(TOTAL - 1028 * MIB, o.target);
	EXPECT_EQ(0UL, o.commit);
	EXPECT_EQ(0UL, o.reserve);
}

/*
 * RESERVE (unsure) and COMMIT (sure) announce the same pages for the
 * same prediction: the predicted rise still to come.
 */
TEST(reserve_and_commit_name_the_same_rise)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out sure, unsure;

	in.cur = TOTAL - 428 * MIB;
	in.used = 450 * MIB;
	in.peak = 777 * MIB;
	vsg_rule_decide(&in, &sure);
	in.conf_pct = 20;
	vsg_rule_decide(&in, &unsure);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW_COMMIT, sure.action);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW, unsure.action);
	EXPECT_EQ(328 * MIB, sure.commit);		/* 327, whole blocks */
	EXPECT_EQ(327 * MIB, unsure.reserve);		/* covered by whole blocks */
	EXPECT_EQ(TOTAL - 578 * MIB, unsure.target);	/* the observed 150 */
}

TEST(unsure_rise_reserves_and_keeps_the_blocks)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = TOTAL - 428 * MIB;
	in.peak = 900 * MIB;
	in.conf_pct = 20;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_RESERVE, o.action);
	EXPECT_EQ(0UL, o.commit);
	EXPECT_EQ(in.cur, o.target);		/* nothing deflated yet */
	EXPECT_EQ(600 * MIB, o.reserve);
	in.reserved = 600 * MIB;		/* already reserved: not again */
	vsg_rule_decide(&in, &o);
	EXPECT_EQ(0UL, o.reserve);
	EXPECT_EQ((unsigned int)VSG_ACT_HOLD, o.action);
}

TEST(unsure_rise_deflates_what_is_used_already)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = TOTAL - 428 * MIB;
	in.peak = 900 * MIB;
	in.used = 600 * MIB;		/* half of the rise is here */
	in.conf_pct = 20;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW, o.action);
	EXPECT_EQ(0UL, o.commit);
	EXPECT_EQ(TOTAL - 728 * MIB, o.target);
	EXPECT_EQ(300 * MIB, o.reserve);
}

TEST(guards_deflate_whatever_the_prediction)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = 1000 * MIB;
	in.peak = 100 * MIB;		/* the prediction says shrink */
	in.psi_pct = 12;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GUARD_PSI, o.action);
	EXPECT_EQ(0UL, o.target);
	in.psi_pct = 0;
	in.refault = 3000;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GUARD_REFAULT, o.action);
	EXPECT_EQ(0UL, o.target);
	in.guard_refault = 0;		/* knob 0: off */
	in.guard_psi_pct = 0;
	in.psi_pct = 100;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_SHRINK, o.action);
}

TEST(oom_notifier_deflation_deflates_the_rest)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = 1000 * MIB;
	in.peak = 100 * MIB;
	in.oom = true;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GUARD_OOM, o.action);
	EXPECT_EQ(0UL, o.target);
	EXPECT_EQ(0UL, o.commit);
}

TEST(available_under_the_floor_deflates_at_once)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	/* a fast demand took all but 50 MiB; the prediction still lags */
	in.cur = 1500 * MIB;
	in.avail = 50 * MIB;
	in.conf_pct = 95;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GUARD_LOW, o.action);
	/* 128 MiB (margin + floor margin) available again, no hysteresis */
	EXPECT_EQ(1500 * MIB - 78 * MIB, o.target);
	EXPECT_EQ(0UL, o.commit);
	/* a floor above the margins: that much available again */
	in.floor = 200 * MIB;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ(1500 * MIB - 150 * MIB, o.target);
	/* nothing held by the policy: nothing to do */
	in.cur = 0;
	vsg_rule_decide(&in, &o);
	EXPECT_NE((unsigned int)VSG_ACT_GUARD_LOW, o.action);
}

TEST(need_beyond_ram_empties_the_balloon)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = 256 * MIB;
	in.margin = TOTAL;		/* what the nested COMMIT test does */
	in.commit_pct = 0;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ(0UL, o.want);
	EXPECT_EQ(0UL, o.target);
	/* no rise predicted: the margin alone is not committed */
	EXPECT_EQ((unsigned int)VSG_ACT_GROW, o.action);
	EXPECT_EQ(0UL, o.commit);
	/* a predicted rise beyond the balloon: all of it committed */
	in.peak = TOTAL;
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW_COMMIT, o.action);
	EXPECT_EQ(256 * MIB, o.commit);
}

/*
 * The policy's sureness is the calibrated band's realised coverage, not
 * the model's confidence output (which read 14-16% on every workload).
 */
TEST(sureness_is_the_band_coverage)
{
	EXPECT_EQ(0U, vsg_rule_sure_pct(0, 0, 64));	/* nothing known */
	EXPECT_EQ(0U, vsg_rule_sure_pct(63, 0, 64));	/* not warm yet */
	EXPECT_EQ(99U, vsg_rule_sure_pct(64, 0, 64));	/* never 100 */
	EXPECT_EQ(95U, vsg_rule_sure_pct(100, 5, 64));
	EXPECT_EQ(89U, vsg_rule_sure_pct(100, 11, 64));
	EXPECT_EQ(90U, vsg_rule_sure_pct(1000, 100, 64));
	EXPECT_EQ(89U, vsg_rule_sure_pct(1000, 101, 64));	/* rounds down */
	EXPECT_EQ(0U, vsg_rule_sure_pct(100, 100, 64));
	EXPECT_EQ(0U, vsg_rule_sure_pct(100, 101, 64));	/* nonsense: unsure */
	/* large counts: no overflow, no 64-bit division */
	EXPECT_EQ(99U, vsg_rule_sure_pct(1ULL << 40, 1ULL << 30, 64));
	EXPECT_EQ(50U, vsg_rule_sure_pct(1ULL << 40, 1ULL << 39, 64));
}

/* The driver's default (policy.h: 90) commits a calibrated rise. */
TEST(calibrated_rise_commits_at_the_default_threshold)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out o;

	in.cur = TOTAL - 428 * MIB;
	in.peak = 900 * MIB;
	in.commit_pct = 90;
	in.conf_pct = vsg_rule_sure_pct(600, 6, 64);	/* 1% shortfalls */
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_GROW_COMMIT, o.action);
	EXPECT_EQ(600 * MIB, o.commit);
	/* a band that missed one peak in five: RESERVE, not COMMIT */
	in.conf_pct = vsg_rule_sure_pct(600, 120, 64);
	vsg_rule_decide(&in, &o);
	EXPECT_EQ((unsigned int)VSG_ACT_RESERVE, o.action);
	EXPECT_EQ(0UL, o.commit);
	/* 100: never, however good the record */
	in.commit_pct = 100;
	in.conf_pct = vsg_rule_sure_pct(1000000, 0, 64);
	vsg_rule_decide(&in, &o);
	EXPECT_EQ(0UL, o.commit);
}

/*
 * The peak is the calibrated band: a model that over-forecasts gets a
 * negative margin and the balloon is sized from the band, never below
 * the demand observed now.
 */
TEST(peak_is_the_band_not_below_the_demand)
{
	struct vsg_rule_in in = base();
	struct vsg_rule_out over, cal;

	EXPECT_EQ(500UL * 1024, vsg_rule_peak_kb(500 * 1024, 300 * 1024));
	EXPECT_EQ(300UL * 1024, vsg_rule_peak_kb(200 * 1024, 300 * 1024));
	EXPECT_EQ(300UL * 1024, vsg_rule_peak_kb(-100 * 1024, 300 * 1024));
	EXPECT_EQ(300UL * 1024, vsg_rule_peak_kb(0, 300 * 1024));
	/* upper 530 MiB, used 250 MiB, margin -250 MiB: sized for 280 */
	in.used = 250 * MIB;
	in.cur = 1200 * MIB;
	in.peak = vsg_rule_peak_kb(530 * 1024, 250 * 1024) / 4;
	vsg_rule_decide(&in, &over);
	in.peak = vsg_rule_peak_kb(280 * 1024, 250 * 1024) / 4;
	vsg_rule_decide(&in, &cal);
	EXPECT_EQ(TOTAL - 658 * MIB, over.want);
	EXPECT_EQ(TOTAL - 408 * MIB, cal.want);
	EXPECT_EQ((unsigned int)VSG_ACT_SHRINK, cal.action);
}

TEST_HARNESS_MAIN
