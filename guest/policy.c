// SPDX-License-Identifier: GPL-2.0
/*
 * The policy (see policy.h and, for the rule itself, policy_rule.h).
 *
 * Targets: the host's (config num_pages) and the guest's own (sysfs
 * guest_target_kb) combine by mode; in predict mode the guest's side is
 * the policy's target, set once per period by the policy work from the
 * prediction.  update_work moves the balloon toward the effective target
 * one message at a time.
 *
 * Predict mode, every period:
 *  - the balloon is sized from the predicted peak over the horizon plus
 *    margins, so it holds what the guest will not need (page reporting
 *    already returns what is free; the balloon's shrink reclaims clean
 *    page cache too, at shrink_kb_per_s at most);
 *  - a predicted rise deflates ahead when the policy is sure of the band
 *    (its realised coverage, vsg_rule_sure_pct(), is at least
 *    commit_confidence_pct), COMMITting as much of the deflation as the
 *    predicted rise of demand (peak - used): the host backs those blocks
 *    before the guest touches them, and page reporting leaves them alone
 *    for report_commit_grace_ms; the rest (the margins, what is already
 *    in use) is a plain DEFLATE, backed on the guest's first touch.  It
 *    RESERVEs the same rise when less sure; a reservation is RELEASEd
 *    after reserve_grace_ms if still held;
 *  - memory PSI "some" or the refault rate over their knob deflates the
 *    whole policy target at once, whatever the prediction, and holds
 *    shrinking off for guard_hold_ms;
 *  - predictor=last uses the last observed demand instead of the LSTM,
 *    the same rule otherwise (the ablation).
 */

#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "policy.h"
#include "predict.h"
#include "vshape_guest.h"
#include "trace.h"

#define KB_TO_PAGES(kb)		((kb) >> (PAGE_SHIFT - 10))
#define PAGES_TO_KB(p)		((p) << (PAGE_SHIFT - 10))

const char * const vsg_mode_names[VSG_NR_MODES] = {
	[VSG_MODE_HOST] = "host",
	[VSG_MODE_GUEST] = "guest",
	[VSG_MODE_MAX] = "max",
	[VSG_MODE_PREDICT] = "predict",
};

void vsg_queue_update(struct vsg_dev *vs)
{
	vsg_queue_work(vs, &vs->update_work);
}

const char * const vsg_predictor_names[VSG_NR_PREDICTORS] = {
	[VSG_PREDICTOR_LSTM] = "lstm",
	[VSG_PREDICTOR_LAST] = "last",
};

const char * const vsg_action_names[VSG_NR_ACTIONS] = {
	[VSG_ACT_HOLD] = "hold",
	[VSG_ACT_SHRINK] = "shrink",
	[VSG_ACT_GROW] = "grow",
	[VSG_ACT_GROW_COMMIT] = "grow_commit",
	[VSG_ACT_RESERVE] = "reserve",
	[VSG_ACT_GUARD_PSI] = "guard_psi",
	[VSG_ACT_GUARD_REFAULT] = "guard_refault",
	[VSG_ACT_GUARD_OOM] = "guard_oom",
	[VSG_ACT_GUARD_LOW] = "guard_low",
};

/* ---- targets and the update work ---- */

unsigned long vsg_effective_target(struct vsg_dev *vs)
{
	unsigned long host = vsg_host_target_pages(vs);
	unsigned long guest = READ_ONCE(vs->guest_target_pages);

	switch (READ_ONCE(vs->mode)) {
	case VSG_MODE_HOST:
		return host;
	case VSG_MODE_GUEST:
		return guest;
	case VSG_MODE_PREDICT:
		return max(host, READ_ONCE(vs->policy->target_pages));
	default:
		return max(host, guest);
	}
}

/* Pages per update-work run: what one message to the host can carry. */
static unsigned long vsg_step_pages(struct vsg_dev *vs)
{
	unsigned int ext = READ_ONCE(vs->max_ext);

	if (ext)
		return (unsigned long)min_t(unsigned int, ext,
					    VSG_STEP_EXTENTS) << VSG_ORDER_2M;
	return VSG_PFNS_PER_MSG >> (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);
}

/*
 * Predict mode: deflate up to @want pages, the first of them COMMITted
 * while the decision's commit budget lasts.  One message is all COMMIT
 * or all plain (@want is at most one message), so the message takes
 * min(@want, budget) when there is a budget.  The claim is taken from
 * the budget before the message is sent (a decision made meanwhile
 * sets a new budget, which this message must not eat into); a message
 * that fails loses its claim, and the next decision decides again.
 */
static unsigned long vsg_policy_deflate(struct vsg_dev *vs, unsigned long want)
{
	struct vsg_policy *p = vs->policy;
	unsigned long claim, done;
	u64 commits;

	mutex_lock(&p->lock);
	claim = min(want, p->commit_pages);
	p->commit_pages -= claim;
	mutex_unlock(&p->lock);
	if (!claim)
		return vsg_deflate(vs, want, 0);

	/* only this work sends COMMIT; vs->nr_commits counts 2 MiB extents */
	commits = READ_ONCE(vs->nr_commits);
	done = vsg_deflate(vs, claim, VSHAPE_OP_COMMIT);
	commits = READ_ONCE(vs->nr_commits) - commits;
	mutex_lock(&p->lock);
	p->committed_pages += commits << VSG_ORDER_2M;
	mutex_unlock(&p->lock);
	return done;
}

/*
 * One step toward the target per run: at most one message to the host
 * (VSG_PFNS_PER_MSG PFNs, or VSG_STEP_EXTENTS extents with the shaping
 * feature), then the work requeues itself.  Short runs keep balloon_lock
 * free for the OOM notifier, let a new target take effect at once, and
 * keep "actual" current for the host.  In predict mode inflation may
 * reclaim page cache (the floor counts available memory), and the first
 * pages of a sure rise's deflation are COMMITted (vsg_policy_deflate()).
 */
static void vsg_update_work(struct work_struct *work)
{
	struct vsg_dev *vs = container_of(work, struct vsg_dev,
					     update_work);
	bool predict = READ_ONCE(vs->mode) == VSG_MODE_PREDICT;
	unsigned long step = vsg_step_pages(vs);
	unsigned long target = vsg_effective_target(vs);
	unsigned long held = READ_ONCE(vs->held_pages);
	unsigned long want, done = 0;

	if (target > held) {
		want = min(target - held, step);
		done = vsg_inflate(vs, want, predict);
	} else if (target < held) {
		want = min(held - target, step);
		done = predict ? vsg_policy_deflate(vs, want) :
				 vsg_deflate(vs, want, 0);
	}
	vsg_update_actual(vs);
	/*
	 * Inflation that stopped short (the floor, or no memory) is not
	 * retried until the target changes: retrying would only fight the
	 * guest's own demand.
	 */
	if (done && done >= want && READ_ONCE(vs->held_pages) != target)
		vsg_queue_update(vs);
}

/* ---- reservations ---- */

static bool vsg_resv_known(struct vsg_policy *p, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < p->nr_resv; i++)
		if (p->resv[(p->resv_head + i) % VSG_MAX_RESERVATIONS].gpa == gpa)
			return true;
	return false;
}

/* RESERVE the head blocks covering @pages.  Called with p->lock held. */
static void vsg_policy_reserve(struct vsg_policy *p, unsigned long pages)
{
	unsigned long expires = jiffies +
				msecs_to_jiffies(READ_ONCE(p->grace_ms));
	unsigned int room = VSG_MAX_RESERVATIONS - p->nr_resv, n, i;
	u64 *gpas;

	if (!room)
		return;		/* the host's ledger still bounds them */
	gpas = kmalloc_array(room, sizeof(*gpas), GFP_KERNEL);
	if (!gpas)
		return;
	n = vsg_msg_reserve(p->vs, pages, gpas, room);
	for (i = 0; i < n; i++) {
		struct vsg_reservation *r;

		if (vsg_resv_known(p, gpas[i]))
			continue;	/* the host did not charge it twice */
		r = &p->resv[(p->resv_head + p->nr_resv++) %
			     VSG_MAX_RESERVATIONS];
		r->gpa = gpas[i];
		r->expires = expires;
	}
	kfree(gpas);
	if (p->nr_resv)
		mod_delayed_work(system_freezable_wq, &p->release_work,
				 msecs_to_jiffies(READ_ONCE(p->grace_ms)));
}

/* Pages reserved whose grace period has not ended.  p->lock held. */
static unsigned long vsg_resv_live_pages(struct vsg_policy *p)
{
	return (unsigned long)p->nr_resv * VSG_PAGES_2M;
}

/* RELEASE the reservations whose grace period ended (if still held). */
static void vsg_release_work(struct work_struct *work)
{
	struct vsg_policy *p = container_of(to_delayed_work(work),
					    struct vsg_policy, release_work);
	unsigned long next = 0;
	unsigned int n = 0;
	u64 *gpas;

	gpas = kmalloc_array(VSG_MAX_RESERVATIONS, sizeof(*gpas), GFP_KERNEL);
	mutex_lock(&p->lock);
	while (p->nr_resv) {
		struct vsg_reservation *r = &p->resv[p->resv_head];

		if (time_before(jiffies, r->expires)) {
			next = r->expires - jiffies;
			break;
		}
		if (gpas)
			gpas[n++] = r->gpa;
		p->resv_head = (p->resv_head + 1) % VSG_MAX_RESERVATIONS;
		p->nr_resv--;
	}
	/* Deflated blocks are skipped: DEFLATE dropped their charge. */
	if (n)
		vsg_msg_release(p->vs, gpas, n);
	mutex_unlock(&p->lock);
	kfree(gpas);
	if (next)
		mod_delayed_work(system_freezable_wq, &p->release_work, next);
}

unsigned int vsg_policy_reservations(struct vsg_dev *vs)
{
	struct vsg_policy *p = vs->policy;
	unsigned int n;

	mutex_lock(&p->lock);
	n = p->nr_resv;
	mutex_unlock(&p->lock);
	return n;
}

/* ---- one decision per period ---- */

static unsigned int vsg_q12_pct(s16 q)
{
	return q > 0 ? (unsigned int)q * 100U / 4096U : 0;
}

/*
 * The prediction the rule reads, from the chosen predictor: the same
 * rule for both, only the peak and the sureness differ.
 */
static void vsg_policy_input(struct vsg_dev *vs, unsigned int kind,
			     struct vsg_policy_input *in)
{
#ifdef VSHAPE_TEST
	unsigned long test_peak_kb = READ_ONCE(vs->policy->test_peak_kb);
#endif
	unsigned long total = totalram_pages();
	struct vsg_prediction pr;

	vsg_predict_get(vs, &pr);
	in->valid = pr.valid;
	in->seq = pr.seq;
	in->used_kb = pr.used_kb;
	in->psi_some_pct = vsg_q12_pct(pr.psi_some);
	in->refault_per_s = pr.refault > 0 ?
			    mult_frac(total, (unsigned long)pr.refault, 4096UL) :
			    0;
	if (kind == VSG_PREDICTOR_LAST) {
		in->peak_kb = pr.used_kb;
		in->sure_pct = VSG_SURE_MAX;
	} else {
		/* upper + margin: the margin corrects the model's bias */
		in->peak_kb = vsg_rule_peak_kb((long)pr.band_kb, pr.used_kb);
		in->sure_pct = vsg_rule_sure_pct(pr.calib_resolved,
						 pr.calib_shortfalls,
						 VSG_SURE_WARM_OUTCOMES);
	}
#ifdef VSHAPE_TEST
	if (test_peak_kb)
		in->peak_kb = max(test_peak_kb, in->used_kb);
#endif
}

static void vsg_policy_record(struct vsg_policy *p, const struct vsg_decision *d)
{
	p->nr_action[d->action]++;
	if (d->action == VSG_ACT_HOLD)
		return;
	p->ring[p->nr_decisions++ % VSG_NR_DECISIONS] = *d;
}

/*
 * Memory PSI "some" as a share of time over the kernel's own averaging
 * window.  The system totals the sampler reads are folded in by the PSI
 * averaging work every 2 s (PSI_FREQ), so one period in twenty carries
 * the stall of 2 s and the others none: compared per period with the
 * knob, a stall of 0.5% would read 10%.  An average with a 2 s time
 * constant, fed once per new prediction, reads the real share instead
 * (a fold of 2 s at X% raises it by X%).  Called with p->lock held.
 */
static unsigned int vsg_policy_psi_pct(struct vsg_policy *p, u64 seq,
				       unsigned int period_ms,
				       unsigned int psi_pct)
{
	unsigned int w = min(period_ms, VSG_PSI_WINDOW_MS);

	if (seq != p->psi_seq) {
		p->psi_seq = seq;
		/* in 1/1000 of a percent, so small folds are not lost */
		p->psi_avg = p->psi_avg -
			     div_u64((u64)p->psi_avg * w, VSG_PSI_WINDOW_MS) +
			     div_u64((u64)psi_pct * 1000 * w, VSG_PSI_WINDOW_MS);
	}
	return p->psi_avg / 1000;
}

static void vsg_policy_decide(struct vsg_policy *p)
{
	struct vsg_dev *vs = p->vs;
	unsigned long total = totalram_pages();
	unsigned long held = READ_ONCE(vs->held_pages);
	unsigned int period = READ_ONCE(vs->predictor->period_ms);
	u64 ooms = READ_ONCE(vs->nr_oom_deflates);
	struct vsg_policy_input in;
	struct vsg_rule_out out;
	struct vsg_rule_in r;
	struct vsg_decision d;

	vsg_policy_input(vs, READ_ONCE(p->predictor), &in);
	if (!in.valid)
		return;

	mutex_lock(&p->lock);
	in.psi_some_pct = vsg_policy_psi_pct(p, in.seq, period,
					     in.psi_some_pct);
	r = (struct vsg_rule_in){
		.total = total,
		.cur = min(p->target_pages, held),
		.peak = KB_TO_PAGES(in.peak_kb),
		.used = KB_TO_PAGES(in.used_kb),
		.margin = KB_TO_PAGES((unsigned long)READ_ONCE(p->margin_kb)),
		.floor_margin = READ_ONCE(vs->floor_margin_pages),
		/* 1/64 of RAM, at least 16 MiB: no churn on wiggles */
		.hyst = max(total / 64, 8 * VSG_PAGES_2M),
		.step = max_t(unsigned long, VSG_PAGES_2M,
			      mult_frac(KB_TO_PAGES((unsigned long)
				READ_ONCE(p->shrink_kb_per_s)), period, 1000)),
		.block = VSG_PAGES_2M,
		.reserved = vsg_resv_live_pages(p),
		.conf_pct = in.sure_pct,
		.commit_pct = READ_ONCE(p->commit_pct),
		.psi_pct = in.psi_some_pct,
		.guard_psi_pct = READ_ONCE(p->guard_psi_some_pct),
		.refault = in.refault_per_s,
		.guard_refault = READ_ONCE(p->guard_refault_per_s),
		/* read now, not a period ago: the guard must not lag */
		.avail = si_mem_available(),
		.floor = vsg_floor_pages(vs),
		.oom = ooms != p->oom_seen,
		.guard_holding = time_before(jiffies, p->guard_until),
	};
	vsg_rule_decide(&r, &out);
#ifdef VS_MUTANT_POLICY_NO_COMMIT	/* test-only fault: scripts/check-mutants */
	out.commit = 0;
#endif
#ifdef VS_MUTANT_POLICY_NO_GUARD	/* test-only fault: scripts/check-mutants */
	if (out.action >= VSG_ACT_GUARD_PSI)
		out.action = VSG_ACT_HOLD;
#endif

	p->oom_seen = ooms;
	p->want_pages = out.want;
	if (out.action >= VSG_ACT_GUARD_PSI)
		p->guard_until = jiffies +
				 msecs_to_jiffies(READ_ONCE(p->guard_hold_ms));
	if (out.reserve && vs->shaping)
		vsg_policy_reserve(p, out.reserve);
	if (out.action != VSG_ACT_HOLD) {
		/*
		 * Of the deflation this decision asks for, the predicted
		 * rise is COMMITted (a sure rise only), the rest deflated
		 * plainly.  The budget replaces what is left of an earlier
		 * decision's and is set before the target, so the update
		 * work never deflates toward this target with an older one.
		 */
		p->commit_pages = out.commit;
		WRITE_ONCE(p->target_pages, out.target);
	}

	d = (struct vsg_decision){
		.seq = in.seq,
		.time_ns = ktime_get_ns(),
		.action = out.action,
		.conf_pct = r.conf_pct,
		.psi_some_pct = in.psi_some_pct,
		.refault_per_s = in.refault_per_s,
		.used_kb = in.used_kb,
		.need_kb = PAGES_TO_KB(out.need),
		.held_kb = PAGES_TO_KB(held),
		.target_kb = PAGES_TO_KB(READ_ONCE(p->target_pages)),
		.commit_kb = PAGES_TO_KB(out.commit),
	};
	vsg_policy_record(p, &d);
	mutex_unlock(&p->lock);

	trace_vshape_policy(&d);
	if (out.action != VSG_ACT_HOLD)
		vsg_queue_update(vs);
}

static void vsg_queue_policy(struct vsg_dev *vs, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&vs->stop_update_lock, flags);
	if (!vs->stop_update)
		mod_delayed_work(system_freezable_wq, &vs->policy->work, delay);
	spin_unlock_irqrestore(&vs->stop_update_lock, flags);
}

/*
 * Switch modes.  Entering predict mode, the policy's target starts at the
 * balloon as it is, so that only a decision of the policy moves it (and
 * says whether its deflation is COMMITted): a target left at 0 would let
 * the update work deflate everything at once with no decision and no
 * COMMIT.  A guard of an earlier run no longer holds shrinking off.  The
 * first decision is made at once.
 */
void vsg_policy_set_mode(struct vsg_dev *vs, unsigned int mode)
{
	struct vsg_policy *p = vs->policy;
	bool enter = mode == VSG_MODE_PREDICT &&
		     READ_ONCE(vs->mode) != VSG_MODE_PREDICT;

	mutex_lock(&p->lock);
	if (enter) {
		p->commit_pages = 0;
		WRITE_ONCE(p->target_pages, READ_ONCE(vs->held_pages));
		p->oom_seen = READ_ONCE(vs->nr_oom_deflates);
		/* a guard of an earlier predict-mode run holds nothing now */
		p->guard_until = jiffies;
	}
	WRITE_ONCE(vs->mode, mode);
	mutex_unlock(&p->lock);
	if (enter)
		vsg_queue_policy(vs, 0);
	vsg_queue_update(vs);
}

static void vsg_policy_work(struct work_struct *work)
{
	struct vsg_policy *p = container_of(to_delayed_work(work),
					    struct vsg_policy, work);
	struct vsg_dev *vs = p->vs;

	if (READ_ONCE(vs->mode) == VSG_MODE_PREDICT)
		vsg_policy_decide(p);
	vsg_queue_policy(vs, msecs_to_jiffies(READ_ONCE(vs->predictor->period_ms)));
}

/* ---- lifecycle ---- */

int vsg_policy_init(struct vsg_dev *vs)
{
	struct vsg_policy *p;

	p = kvzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->vs = vs;
	mutex_init(&p->lock);
	INIT_DELAYED_WORK(&p->work, vsg_policy_work);
	INIT_DELAYED_WORK(&p->release_work, vsg_release_work);
	INIT_WORK(&vs->update_work, vsg_update_work);
	p->predictor = VSG_PREDICTOR_LSTM;
	p->commit_pct = VSG_DEFAULT_COMMIT_PCT;
	p->grace_ms = VSG_DEFAULT_GRACE_MS;
	p->guard_psi_some_pct = VSG_DEFAULT_GUARD_PSI_PCT;
	p->guard_refault_per_s = VSG_DEFAULT_GUARD_REFAULT;
	p->guard_hold_ms = VSG_DEFAULT_GUARD_HOLD_MS;
	p->shrink_kb_per_s = VSG_DEFAULT_SHRINK_KB_PER_S;
	p->margin_kb = VSG_DEFAULT_MARGIN_KB;
	vs->policy = p;
	return 0;
}

void vsg_policy_start(struct vsg_dev *vs)
{
	vsg_queue_policy(vs, 0);
}

/*
 * The caller has set stop_update (no work requeues itself) and the
 * device is about to be reset, which drops every reservation on the host.
 */
void vsg_policy_stop(struct vsg_dev *vs)
{
	struct vsg_policy *p = vs->policy;

	cancel_delayed_work_sync(&p->work);
	cancel_delayed_work_sync(&p->release_work);
	mutex_lock(&p->lock);
	p->nr_resv = 0;
	p->resv_head = 0;
	p->commit_pages = 0;
	WRITE_ONCE(p->target_pages, 0);
	mutex_unlock(&p->lock);
}

void vsg_policy_exit(struct vsg_dev *vs)
{
	kvfree(vs->policy);
	vs->policy = NULL;
}

/* ---- debugfs: the last decisions, oldest first ---- */

static int vsg_policy_show(struct seq_file *m, void *unused)
{
	struct vsg_policy *p = m->private;
	unsigned int i;
	u64 first, n;

	mutex_lock(&p->lock);
	for (i = 0; i < VSG_NR_ACTIONS; i++)
		seq_printf(m, "%s: %llu\n", vsg_action_names[i],
			   p->nr_action[i]);
	seq_printf(m, "target_kb: %lu\nwant_kb: %lu\nreservations: %u\n",
		   PAGES_TO_KB(p->target_pages), PAGES_TO_KB(p->want_pages),
		   p->nr_resv);
	seq_printf(m, "commit_left_kb: %lu\ncommitted_kb: %llu\n",
		   PAGES_TO_KB(p->commit_pages),
		   (unsigned long long)PAGES_TO_KB(p->committed_pages));
	seq_puts(m, "seq,time_ns,action,used_kb,need_kb,held_kb,target_kb,confidence_pct,psi_some_pct,refault_per_s,commit_kb\n");
	first = p->nr_decisions > VSG_NR_DECISIONS ?
		p->nr_decisions - VSG_NR_DECISIONS : 0;
	for (n = first; n < p->nr_decisions; n++) {
		const struct vsg_decision *d = &p->ring[n % VSG_NR_DECISIONS];

		seq_printf(m, "%llu,%llu,%s,%lu,%lu,%lu,%lu,%u,%u,%lu,%lu\n",
			   d->seq, d->time_ns, vsg_action_names[d->action],
			   d->used_kb, d->need_kb, d->held_kb, d->target_kb,
			   d->conf_pct, d->psi_some_pct, d->refault_per_s,
			   d->commit_kb);
	}
	mutex_unlock(&p->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_policy);

void vsg_policy_debugfs(struct vsg_dev *vs, struct dentry *dir)
{
	debugfs_create_file("policy", 0400, dir, vs->policy, &vsg_policy_fops);
#ifdef VSHAPE_TEST
	debugfs_create_ulong("policy_test_peak_kb", 0600, dir,
			     &vs->policy->test_peak_kb);
#endif
}
