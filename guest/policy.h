/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: the policy, every target and reserve/commit/release
 * decision in one place (policy.c).
 *
 * The balloon (balloon.c) holds pages and keeps the floor, hostmsg.c
 * tells the host, predict.c predicts; none of them calls back into the
 * policy.  The policy reads the prediction, the host's target and the
 * knobs, and drives the balloon:
 *   vsg_effective_target()  what the balloon should hold now (all modes)
 *   update_work            moves the balloon toward it, one step a run
 *   policy work            in predict mode, one decision per period:
 *                          shrink, grow (COMMIT ahead or RESERVE), guard
 *   release_work           RELEASEs reservations after their grace period
 */
#ifndef _VSHAPE_POLICY_H
#define _VSHAPE_POLICY_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* The rule itself, pure (also built by selftests/guest/policy_unit.c). */
#include "policy_rule.h"

struct vsg_dev;
struct dentry;

/*
 * What one decision is made from.  The predictor's side: the peak demand
 * over the horizon the balloon is sized for (the calibrated band, never
 * below the demand now) and how sure the policy is of it (the band's
 * realised coverage, vsg_rule_sure_pct()); with predictor=last: the last
 * observed demand, sure.  The observed side: demand now, memory PSI
 * "some" over the last period, the refault rate.
 */
struct vsg_policy_input {
	bool valid;
	u64 seq;
	unsigned long peak_kb;
	unsigned int sure_pct;
	unsigned long used_kb;
	unsigned int psi_some_pct;
	unsigned long refault_per_s;	/* 4 KiB pages per second */
};

/* One decision, as debugfs "policy" and the vshape_policy tracepoint show it. */
struct vsg_decision {
	u64 seq;			/* the prediction it was made from */
	u64 time_ns;
	unsigned int action;		/* enum vsg_policy_action */
	unsigned int conf_pct;		/* the policy's: vsg_rule_sure_pct() */
	unsigned int psi_some_pct;
	unsigned long refault_per_s;
	unsigned long used_kb;
	unsigned long need_kb;		/* peak + margins + floor margin */
	unsigned long held_kb;
	unsigned long target_kb;
	unsigned long commit_kb;	/* of the deflation: COMMIT first */
};

#define VSG_NR_DECISIONS		128	/* kept for debugfs */
#define VSG_MAX_RESERVATIONS	512	/* remembered for release */

/* A 2 MiB block the host holds capacity for, until @expires (jiffies). */
struct vsg_reservation {
	u64 gpa;
	unsigned long expires;
};

enum vsg_predictor_kind {
	VSG_PREDICTOR_LSTM,
	VSG_PREDICTOR_LAST,
	VSG_NR_PREDICTORS,
};

struct vsg_policy {
	struct vsg_dev *vs;
	struct delayed_work work;		/* one decision per period */
	struct delayed_work release_work;

	/*
	 * lock guards the decision state below (target, commit budget,
	 * guard deadline, reservations, the ring and its counters).  Taken
	 * by the policy work, the release work, the update work (to claim
	 * from the commit budget and count what it committed, never across
	 * a message to the host) and debugfs readers; held across balloon
	 * calls, so it comes before balloon_lock, never after.
	 * target_pages is also read without it by the update work
	 * (READ_ONCE; a single word).
	 */
	struct mutex lock;
	unsigned long target_pages;	/* predict mode's balloon size */
	/*
	 * commit_pages: how much of the deflation toward target_pages is
	 * still to be COMMITted (the rule's predicted rise).  Set by each
	 * decision other than hold (0 for any but grow_commit), before
	 * target_pages; the update work claims up to one message of it,
	 * under lock, and sends that message as COMMIT + DEFLATE, the rest
	 * as plain DEFLATE.  committed_pages counts what the host granted
	 * for those COMMITs (2 MiB extents).
	 */
	unsigned long commit_pages;
	u64 committed_pages;
	unsigned long guard_until;	/* jiffies: no shrink before */
	unsigned long want_pages;	/* last sizing: debugfs prediction spare_kb */
	u64 oom_seen;			/* vs->nr_oom_deflates last decision */
	u64 psi_seq;			/* prediction last fed to psi_avg */
	unsigned int psi_avg;		/* PSI some, 1/1000 %, 2 s average */
	struct vsg_reservation resv[VSG_MAX_RESERVATIONS];	/* FIFO */
	unsigned int resv_head;
	unsigned int nr_resv;
	struct vsg_decision ring[VSG_NR_DECISIONS];
	u64 nr_decisions;		/* actions other than hold */
	u64 nr_action[VSG_NR_ACTIONS];

	/*
	 * Knobs: single words written with WRITE_ONCE() by sysfs and read
	 * once per decision with READ_ONCE(); no lock needed.
	 */
	unsigned int predictor;		/* enum vsg_predictor_kind */
	unsigned int commit_pct;	/* COMMIT at or above this sureness */
	unsigned int grace_ms;		/* reservations live this long */
	unsigned int guard_psi_some_pct;	/* 0: off */
	unsigned int guard_refault_per_s;	/* 0: off */
	unsigned int guard_hold_ms;	/* no shrink this long after a guard */
	unsigned int shrink_kb_per_s;	/* inflation pace */
	unsigned int margin_kb;		/* added to the predicted peak */
#ifdef VSHAPE_TEST
	/*
	 * Test flavour only, debugfs policy_test_peak_kb (a single word,
	 * read with READ_ONCE()): when not 0, the peak demand the rule
	 * reads instead of the predictor's (never below the demand now),
	 * so a suite can ask for a known predicted rise.
	 */
	unsigned long test_peak_kb;
#endif
};

/*
 * COMMIT when the band covered the peak that followed in at least 90%
 * of its outcomes: ten times the default shortfall target (1%), so a
 * calibration that has not converged (or a model it cannot follow) does
 * not commit.
 */
#define VSG_DEFAULT_COMMIT_PCT		90
/* Outcomes the calibration must know before the policy is sure at all. */
#define VSG_SURE_WARM_OUTCOMES		64
#define VSG_DEFAULT_GRACE_MS		10000
#define VSG_DEFAULT_GUARD_PSI_PCT	10
#define VSG_DEFAULT_GUARD_REFAULT	2560	/* 10 MiB/s of 4 KiB pages */
#define VSG_DEFAULT_GUARD_HOLD_MS	10000
#define VSG_DEFAULT_SHRINK_KB_PER_S	(128 * 1024)
#define VSG_DEFAULT_MARGIN_KB		(64 * 1024)
/* PSI's averaging work folds stall totals in every 2 s (PSI_FREQ). */
#define VSG_PSI_WINDOW_MS		2000U

extern const char * const vsg_predictor_names[VSG_NR_PREDICTORS];
extern const char * const vsg_action_names[VSG_NR_ACTIONS];

int vsg_policy_init(struct vsg_dev *vs);
void vsg_policy_start(struct vsg_dev *vs);
void vsg_policy_stop(struct vsg_dev *vs);
void vsg_policy_exit(struct vsg_dev *vs);
unsigned long vsg_effective_target(struct vsg_dev *vs);
void vsg_policy_set_mode(struct vsg_dev *vs, unsigned int mode);
void vsg_policy_debugfs(struct vsg_dev *vs, struct dentry *dir);
/* Reservations held now (debugfs state). */
unsigned int vsg_policy_reservations(struct vsg_dev *vs);

#endif /* _VSHAPE_POLICY_H */
