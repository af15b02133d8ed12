// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: vdpa_config_ops of the device and the worker that runs the
 * queues.  Every op that changes device state takes vsh_dev.lock, except
 * set_map and reset_map (see struct vsh_map); kick_vq only queues the
 * worker, because it may be called in atomic context.
 */
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/jiffies.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/cgroup.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sched/task.h>
#include <linux/memcontrol.h>

#include "vshape_host.h"

static void vsh_kick(struct vsh_dev *d, unsigned long delay)
{
	kthread_mod_delayed_work(d->worker, &d->work, delay);
}

/* Rate bound: refill the request bucket; true if a request may run now. */
static bool vsh_take_token(struct vsh_dev *d)
{
	unsigned long now = jiffies;
	unsigned long elapsed = now - d->last_refill;
	u64 add = (u64)elapsed * vsh_rate_limit / HZ;

	if (add) {
		d->tokens = min_t(u64, (u64)d->tokens + add, vsh_rate_burst);
		d->last_refill = now;
	}
	if (!d->tokens)
		return false;
	d->tokens--;
	return true;
}

/*
 * Rate bound on work bytes (PFN pages and extent bytes processed): refill
 * the byte bucket, which holds at most one second of vsh_rate_bytes, and
 * return the bytes the caller may work on now (U64_MAX if unbounded, 0
 * while a debt is being paid back: vsh_spend()).
 */
static u64 vsh_byte_tokens(struct vsh_dev *d)
{
	s64 rate = min_t(u64, READ_ONCE(vsh_rate_bytes), VSH_RATE_BYTES_MAX);
	unsigned long now = jiffies;
	unsigned long elapsed = now - d->last_byte_refill;
	s64 add;

	if (!rate)
		return U64_MAX;
	add = elapsed >= HZ ? rate : mul_u64_u32_div(rate, elapsed, HZ);
	if (add) {
		d->byte_tokens = min(d->byte_tokens + add, rate);
		d->last_byte_refill = now;
	}
	return d->byte_tokens > 0 ? min(d->byte_tokens, rate) : 0;
}

/* The driver is up and the device has not asked for a reset. */
bool vsh_running(const struct vsh_dev *d)
{
	return (d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* What one worker pass has left and what it saw. */
struct vsh_pass {
	u64 budget;		/* work bytes left in this pass */
	bool throttled;		/* the rate bound deferred work */
	struct vsh_chain *ch;	/* scratch */
};

/*
 * @bytes of work done in pass @p: spent from the rate bound and the pass.
 * A standard-queue chain is taken whole once any token is left, so its
 * work (at most VSH_MAX_PFN_BYTES / 4 pages) may exceed the tokens: the
 * bucket then goes into debt, and no chain is taken until it is paid,
 * so the rate holds on average (flooring it at 0 let one 16 MiB chain
 * through per jiffy whatever the rate).  A slice never exceeds them.
 */
static void vsh_spend(struct vsh_dev *d, struct vsh_pass *p, u64 bytes)
{
	if (READ_ONCE(vsh_rate_bytes))
		d->byte_tokens -= min_t(u64, bytes, VSH_RATE_BYTES_MAX);
	p->budget -= min(p->budget, bytes);
}

/*
 * The ring itself is corrupt: stop the device and tell the driver, as
 * the virtio spec asks (DEVICE_NEEDS_RESET, configuration change).
 */
void vsh_needs_reset(struct vsh_dev *d, struct vsh_vq *vq)
{
	lockdep_assert_held(&d->lock);
	vq->ready = false;
	WRITE_ONCE(d->status, d->status | VIRTIO_CONFIG_S_NEEDS_RESET);
	vsh_config_changed(d);
}

/* Take and process the next chain of @vq; true if there was one. */
static bool vsh_step_chain(struct vsh_dev *d, struct vsh_vq *vq,
			   enum vsh_role role, struct vsh_pass *p)
{
	struct vsh_chain *ch = p->ch;
	int ret;

	if (role == VSH_ROLE_STATS && vq->stats_held && d->stats_want) {
		/* returning the buffer asks the driver for fresh stats */
		vq->stats_held = false;
		d->stats_want = false;
		vsh_vq_push(d, vq, vq->stats_head, 0);
		vsh_vq_notify(vq);
		return true;
	}
	if (role == VSH_ROLE_STATS && vq->stats_held)
		return false;
	if (!vsh_vq_pending(d, vq))
		return false;
	if (!vsh_byte_tokens(d) || !vsh_take_token(d)) {
		p->throttled = true;
		return false;
	}
	ret = vsh_vq_pop(d, vq, ch);
	if (ret == -ENOENT)
		return false;
	if (ret == -EPIPE) {
		vsh_needs_reset(d, vq);
		return false;
	}
	if (ret < 0)
		return true;	/* bad chain, returned with len 0 if it could be */
	switch (role) {
	case VSH_ROLE_INFLATE:
	case VSH_ROLE_DEFLATE:
		vsh_balloon_process(d, vq, role == VSH_ROLE_INFLATE, ch);
		/* each PFN is a page of work, for the rate and the pass */
		vsh_spend(d, p, min_t(u64, ch->out_len, VSH_MAX_PFN_BYTES) /
			  sizeof(__le32) * VSH_PAGE_SIZE);
		break;
	case VSH_ROLE_STATS:
		vsh_stats_process(d, vq, ch);
		break;
	case VSH_ROLE_SHAPING:
		/* validates; a valid request becomes d->req */
		vsh_shaping_process(d, vq, ch);
		break;
	default:
		break;
	}
	return true;
}

/* One slice of the shaping request in execution. */
static bool vsh_step_slice(struct vsh_dev *d, struct vsh_vq *vq,
			   struct vsh_pass *p)
{
	u64 budget = min3(VSH_SLICE_BYTES, p->budget, vsh_byte_tokens(d));
	u64 used;

	budget = round_down(budget, VSH_PAGE_SIZE);
	if (!budget) {
		p->throttled = p->budget != 0;
		return false;
	}
	used = vsh_shaping_continue(d, vq, budget);
	vsh_spend(d, p, used);
	return true;
}

/*
 * One step of queue @idx under one hold of vsh_dev.lock: one chain, or
 * one slice of the shaping request in execution.  While a shaping request
 * executes, the other queues wait, so page states change only through it
 * between its validation and its answer.  Returns 1 if it did work, 0 if
 * there was none, -1 if the device is stopped.
 */
static int vsh_step(struct vsh_dev *d, unsigned int idx, struct vsh_pass *p)
{
	struct vsh_vq *vq = &d->vqs[idx];
	enum vsh_role role;
	u64 t0, held;
	int ret = 0;

	mutex_lock(&d->lock);
	t0 = ktime_get_ns();
	if (!vsh_running(d)) {
		ret = -1;
		goto out;
	}
	role = vsh_vq_role(d, idx);
	if (!vq->ready || role == VSH_ROLE_NONE ||
	    (d->req.active && role != VSH_ROLE_SHAPING))
		goto out;
	d->snap = vsh_map_get(d);
	if (d->req.active)
		ret = vsh_step_slice(d, vq, p);
	else
		ret = vsh_step_chain(d, vq, role, p);
	vsh_map_put(d->snap);
	d->snap = NULL;
out:
	held = ktime_get_ns() - t0;
	if (held > d->stats.max_hold_ns)
		d->stats.max_hold_ns = held;
	mutex_unlock(&d->lock);
	return ret;
}

/*
 * Charge this kernel thread's __GFP_ACCOUNT allocations (page-state
 * blocks, xarray nodes) to the memory cgroup of the VMM's mm until
 * vsh_memcg_end(): a kernel thread's are charged to no cgroup unless it
 * names one (set_active_memcg), whatever cgroup it sits in.  Under
 * vsh_dev.lock (d->mm); *@old is what to restore.  Returns the memcg
 * held (NULL without an mm: nothing is charged).
 */
struct mem_cgroup *vsh_memcg_begin(struct vsh_dev *d, struct mem_cgroup **old)
{
	struct mem_cgroup *memcg;

	lockdep_assert_held(&d->lock);
	memcg = d->mm ? get_mem_cgroup_from_mm(d->mm) : NULL;
	*old = set_active_memcg(memcg);
	return memcg;
}

void vsh_memcg_end(struct mem_cgroup *memcg, struct mem_cgroup *old)
{
	set_active_memcg(old);
	mem_cgroup_put(memcg);
}

/*
 * A worker pass: round robin over the queues, one step each, until there
 * is nothing to do, the rate bound defers, or the pass has done
 * VSH_BATCH rounds or VSH_PASS_BYTES of work; then it requeues itself.
 * It runs in the bound mm (kthread_use_mm), like vdpa_sim's worker, and
 * the worker thread is in the VMM's cgroups (vsh_bind_mm); what it
 * allocates is charged to the VMM's memory cgroup (vsh_memcg_begin).
 */
void vsh_work_fn(struct kthread_work *work)
{
	struct vsh_dev *d = container_of(work, struct vsh_dev, work.work);
	struct vsh_pass p = { .budget = VSH_PASS_BYTES };
	struct mem_cgroup *memcg = NULL, *old_memcg = NULL;
	struct mm_struct *mm = NULL;
	bool more = false, progress;
	unsigned int i, rounds;
	int r;

	mutex_lock(&d->lock);
	memcg = vsh_memcg_begin(d, &old_memcg);
	/* the map changed since the last pass: prune the page states */
	vsh_map_sync(d);
	if (!vsh_running(d) || (d->mm && !mmget_not_zero(d->mm))) {
		mutex_unlock(&d->lock);
		vsh_memcg_end(memcg, old_memcg);
		return;
	}
	mm = d->mm;
	mutex_unlock(&d->lock);
	p.ch = kmalloc(sizeof(*p.ch), GFP_KERNEL);
	if (!p.ch) {
		more = true;
		goto out;
	}
	if (mm)
		kthread_use_mm(mm);
	for (rounds = 0; ; rounds++) {
		progress = false;
		for (i = 0; i < VSH_MAX_VQS; i++) {
			r = vsh_step(d, i, &p);
			if (r < 0)
				goto stop;
			progress |= r;
			cond_resched();
		}
		/* deferred or out of budget: the next pass goes on */
		if (p.throttled || !p.budget) {
			more = true;
			break;
		}
		if (!progress)
			break;
		if (rounds + 1 >= VSH_BATCH) {
			more = true;
			break;
		}
	}
stop:
	if (mm)
		kthread_unuse_mm(mm);
	kfree(p.ch);
out:
	if (mm)
		mmput(mm);
	vsh_memcg_end(memcg, old_memcg);
	if (p.throttled || !p.budget) {
		mutex_lock(&d->lock);
		if (p.throttled)
			d->stats.throttled++;
		else
			d->stats.pass_budget++;
		mutex_unlock(&d->lock);
	}
	if (more)
		vsh_kick(d, p.throttled ? max(1UL, HZ / 100) : 0);
}

static int vsh_set_vq_address(struct vdpa_device *vdpa, u16 idx, u64 desc,
			      u64 driver, u64 device)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (idx >= VSH_MAX_VQS)
		return -EINVAL;
	mutex_lock(&d->lock);
	d->vqs[idx].desc = desc;
	d->vqs[idx].avail = driver;
	d->vqs[idx].used = device;
	mutex_unlock(&d->lock);
	return 0;
}

static void vsh_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (idx >= VSH_MAX_VQS)
		return;
	mutex_lock(&d->lock);
	/* the ring walk masks indices with num: not while the queue runs */
	if (!d->vqs[idx].ready)
		d->vqs[idx].num = num;
	mutex_unlock(&d->lock);
}

static void vsh_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (idx < VSH_MAX_VQS)
		kthread_queue_delayed_work(d->worker, &d->work, 0);
}

static void vsh_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			  struct vdpa_callback *cb)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (idx >= VSH_MAX_VQS)
		return;
	mutex_lock(&d->lock);
	d->vqs[idx].cb = *cb;
	mutex_unlock(&d->lock);
}

static void vsh_set_vq_ready(struct vdpa_device *vdpa, u16 idx, bool ready)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	struct vsh_vq *vq;

	if (idx >= VSH_MAX_VQS)
		return;
	mutex_lock(&d->lock);
	vq = &d->vqs[idx];
	/* a ring size that is not a power of two <= VSH_QUEUE_MAX is refused */
	if (ready && (!vq->num || vq->num > VSH_QUEUE_MAX ||
		      (vq->num & (vq->num - 1))))
		ready = false;
	vq->ready = ready;
	if (ready)
		vq->used_idx = vq->last_avail;
	mutex_unlock(&d->lock);
}

static bool vsh_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	bool ready;

	if (idx >= VSH_MAX_VQS)
		return false;
	mutex_lock(&d->lock);
	ready = d->vqs[idx].ready;
	mutex_unlock(&d->lock);
	return ready;
}

static int vsh_set_vq_state(struct vdpa_device *vdpa, u16 idx,
			    const struct vdpa_vq_state *state)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (idx >= VSH_MAX_VQS)
		return -EINVAL;
	mutex_lock(&d->lock);
	d->vqs[idx].last_avail = state->split.avail_index;
	d->vqs[idx].used_idx = state->split.avail_index;
	mutex_unlock(&d->lock);
	return 0;
}

static int vsh_get_vq_state(struct vdpa_device *vdpa, u16 idx,
			    struct vdpa_vq_state *state)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (idx >= VSH_MAX_VQS)
		return -EINVAL;
	mutex_lock(&d->lock);
	state->split.avail_index = d->vqs[idx].last_avail;
	mutex_unlock(&d->lock);
	return 0;
}

static u32 vsh_get_vq_align(struct vdpa_device *vdpa)
{
	return PAGE_SIZE;
}

static u64 vsh_get_device_features(struct vdpa_device *vdpa)
{
	return VSH_FEATURES;
}

static int vsh_set_driver_features(struct vdpa_device *vdpa, u64 features)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	mutex_lock(&d->lock);
	WRITE_ONCE(d->features, features & VSH_FEATURES);
	mutex_unlock(&d->lock);
	return 0;
}

/* Lock free: `vdpa dev config show` must not wait for the worker. */
static u64 vsh_get_driver_features(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_vsh(vdpa)->features);
}

static void vsh_set_config_cb(struct vdpa_device *vdpa,
			      struct vdpa_callback *cb)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	unsigned long flags;

	spin_lock_irqsave(&d->cb_lock, flags);
	d->config_cb = *cb;
	spin_unlock_irqrestore(&d->cb_lock, flags);
}

static u16 vsh_get_vq_num_max(struct vdpa_device *vdpa)
{
	return VSH_QUEUE_MAX;
}

static u32 vsh_get_device_id(struct vdpa_device *vdpa)
{
	return VIRTIO_ID_BALLOON;
}

static u32 vsh_get_vendor_id(struct vdpa_device *vdpa)
{
	return 0;
}

static u8 vsh_get_status(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	return READ_ONCE(d->status);
}

/* Device reset: every page returns to GUEST and its charge is dropped. */
void vsh_reset_locked(struct vsh_dev *d)
{
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(&d->lock);
	for (i = 0; i < VSH_MAX_VQS; i++)
		memset(&d->vqs[i], 0, sizeof(d->vqs[i]));
	/* a request in execution is dropped unanswered with its ring */
	d->req.active = false;
	vsh_pages_reset(d);
	d->refill_pos = 0;
	WRITE_ONCE(d->features, 0);
	WRITE_ONCE(d->status, 0);
	spin_lock_irqsave(&d->cfg_lock, flags);
	d->config.actual = 0;
	spin_unlock_irqrestore(&d->cfg_lock, flags);
}

static void vsh_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	bool kick;

	mutex_lock(&d->lock);
	if (!status)
		vsh_reset_locked(d);
	else
		WRITE_ONCE(d->status, status);
	/*
	 * Physical addresses are trusted only when this kernel is the
	 * driver (virtio_vdpa); under vhost-vdpa everything goes through the
	 * bound mm and the memory map.
	 */
	WRITE_ONCE(d->loopback, !d->mm && d->vdpa.dev.driver &&
		   !strcmp(d->vdpa.dev.driver->name, "virtio_vdpa"));
	kick = status & VIRTIO_CONFIG_S_DRIVER_OK;
	mutex_unlock(&d->lock);
	if (kick) {
		vsh_kick(d, 0);
		vsh_refill_start(d);
	}
}

static int vsh_reset(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	mutex_lock(&d->lock);
	vsh_reset_locked(d);
	mutex_unlock(&d->lock);
	return 0;
}

static size_t vsh_get_config_size(struct vdpa_device *vdpa)
{
	return VSH_CONFIG_SIZE;
}

static void vsh_get_config(struct vdpa_device *vdpa, unsigned int offset,
			   void *buf, unsigned int len)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	u8 cfg[VSH_CONFIG_SIZE];
	struct vshape_config sc;
	unsigned long flags;

	if (offset > VSH_CONFIG_SIZE || len > VSH_CONFIG_SIZE - offset)
		return;
	vsh_fill_shaping_config(d, &sc);
	spin_lock_irqsave(&d->cfg_lock, flags);
	memcpy(cfg, &d->config, sizeof(d->config));
	spin_unlock_irqrestore(&d->cfg_lock, flags);
	memcpy(cfg + VSHAPE_CONFIG_OFFSET, &sc, sizeof(sc));
	memcpy(buf, cfg + offset, len);
}

/*
 * The driver may write only "actual" (bytes 4..7).  QEMU's generic vDPA
 * device writes the whole config space at once, so take the bytes of a
 * write that overlap "actual" and ignore the rest.
 */
static void vsh_set_config(struct vdpa_device *vdpa, unsigned int offset,
			   const void *buf, unsigned int len)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	const unsigned int lo = offsetof(struct virtio_balloon_config, actual);
	const unsigned int hi = lo + sizeof(d->config.actual);
	unsigned int from, to;
	unsigned long flags;

	if (offset >= VSH_CONFIG_SIZE || len > VSH_CONFIG_SIZE - offset)
		return;
	from = max(offset, lo);
	to = min(offset + len, hi);
	if (from >= to)
		return;
	spin_lock_irqsave(&d->cfg_lock, flags);
	memcpy((u8 *)&d->config + from, (const u8 *)buf + (from - offset),
	       to - from);
	spin_unlock_irqrestore(&d->cfg_lock, flags);
}

static struct vdpa_iova_range vsh_get_iova_range(struct vdpa_device *vdpa)
{
	struct vdpa_iova_range r = { .first = 0, .last = ULLONG_MAX };

	return r;
}

/*
 * Called by vhost-vdpa with the IOTLB's mutex held and, for an update
 * outside a batch, under mmap_read_lock of the VMM: so it must not take
 * vsh_dev.lock (the worker faults guest memory in under it).  The new map
 * is published with RCU (struct vsh_map).
 */
static int vsh_set_map(struct vdpa_device *vdpa, unsigned int asid,
		       struct vhost_iotlb *iotlb)
{
	if (asid)
		return -EINVAL;
#ifdef VS_MUTANT_SET_MAP_LOCKED	/* test-only fault: scripts/check-mutants */
	{
		struct vsh_dev *d = vdpa_to_vsh(vdpa);
		int ret;

		mutex_lock(&d->lock);
		ret = vsh_regions_from_iotlb(d, iotlb);
		mutex_unlock(&d->lock);
		return ret;
	}
#endif
	return vsh_regions_from_iotlb(vdpa_to_vsh(vdpa), iotlb);
}

/*
 * Back to the initial (empty) map, as vdpa_sim does: vhost-vdpa calls it
 * when the VMM closes the device (also when it is killed), so the guest's
 * RAM files are no longer referenced once the VMM is gone.
 */
static int vsh_reset_map(struct vdpa_device *vdpa, unsigned int asid)
{
	if (asid)
		return -EINVAL;
	vsh_map_publish(vdpa_to_vsh(vdpa), NULL);
	return 0;
}

/*
 * Called from VHOST_SET_OWNER in the VMM's context.  The worker thread
 * joins the VMM's cgroups, as vhost's workers do, so the CPU time and
 * memory it spends for this guest are charged to the VM.
 */
static int vsh_bind_mm(struct vdpa_device *vdpa, struct mm_struct *mm)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	int ret;

	ret = cgroup_attach_task_all(current, d->worker->task);
	if (ret)
		return ret;
	mutex_lock(&d->lock);
	if (d->mm)
		mmdrop(d->mm);
	mmgrab(mm);
	WRITE_ONCE(d->mm, mm);
	mutex_unlock(&d->lock);
	return 0;
}

/*
 * The VMM is letting go (close or exit): forget its mm once no pass uses
 * it, drop the map (and with it the files), and move the worker back to
 * the root cgroups so the VMM's cgroup can be removed.
 */
static void vsh_unbind_mm(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	struct mm_struct *mm;

	mutex_lock(&d->lock);
	mm = d->mm;
	WRITE_ONCE(d->mm, NULL);
	mutex_unlock(&d->lock);
	/*
	 * A pass that started with @mm ends before we let it go (a pass
	 * queued later sees no mm).  kthread_flush_worker, not
	 * kthread_flush_work: the latter can wait forever on a delayed work
	 * whose timer is pending.
	 */
	kthread_flush_worker(d->worker);
	if (mm)
		mmdrop(mm);
	vsh_map_publish(d, NULL);
	if (cgroup_attach_task_all(&init_task, d->worker->task))
		dev_warn(&vdpa->dev, "worker not moved back to the root cgroup\n");
}

static void vsh_free(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (d->worker) {
		/* both works requeue themselves: cancel blocks that */
		kthread_cancel_delayed_work_sync(&d->refill_work);
		kthread_cancel_delayed_work_sync(&d->work);
		kthread_destroy_worker(d->worker);
		d->worker = NULL;	/* vsh_map_publish kicks no worker */
	}
	mutex_lock(&d->lock);
	vsh_pages_reset(d);
	if (d->mm)
		mmdrop(d->mm);
	d->mm = NULL;
	mutex_unlock(&d->lock);
	vsh_map_publish(d, NULL);
	/* the map's memory is freed after a grace period */
	rcu_barrier();
	kfree(d->ext);
	kfree(d->sorted);
	mutex_destroy(&d->lock);
}

const struct vdpa_config_ops vsh_config_ops = {
	.set_vq_address		= vsh_set_vq_address,
	.set_vq_num		= vsh_set_vq_num,
	.kick_vq		= vsh_kick_vq,
	.set_vq_cb		= vsh_set_vq_cb,
	.set_vq_ready		= vsh_set_vq_ready,
	.get_vq_ready		= vsh_get_vq_ready,
	.set_vq_state		= vsh_set_vq_state,
	.get_vq_state		= vsh_get_vq_state,
	.get_vq_align		= vsh_get_vq_align,
	.get_device_features	= vsh_get_device_features,
	.set_driver_features	= vsh_set_driver_features,
	.get_driver_features	= vsh_get_driver_features,
	.set_config_cb		= vsh_set_config_cb,
	.get_vq_num_max		= vsh_get_vq_num_max,
	.get_device_id		= vsh_get_device_id,
	.get_vendor_id		= vsh_get_vendor_id,
	.get_status		= vsh_get_status,
	.set_status		= vsh_set_status,
	.reset			= vsh_reset,
	.get_config_size	= vsh_get_config_size,
	.get_config		= vsh_get_config,
	.set_config		= vsh_set_config,
	.get_iova_range		= vsh_get_iova_range,
	.set_map		= vsh_set_map,
	.reset_map		= vsh_reset_map,
	.bind_mm		= vsh_bind_mm,
	.unbind_mm		= vsh_unbind_mm,
	.free			= vsh_free,
};

/* Raise the configuration change interrupt (if the driver is up). */
void vsh_config_changed(struct vsh_dev *d)
{
	unsigned long flags;

	spin_lock_irqsave(&d->cb_lock, flags);
	if ((READ_ONCE(d->status) & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    d->config_cb.callback)
		d->config_cb.callback(d->config_cb.private);
	spin_unlock_irqrestore(&d->cb_lock, flags);
}

/* Host side: set a new target (pages) and raise the config interrupt. */
void vsh_set_target(struct vsh_dev *d, u32 pages)
{
	unsigned long flags;

	spin_lock_irqsave(&d->cfg_lock, flags);
	d->config.num_pages = cpu_to_le32(pages);
	spin_unlock_irqrestore(&d->cfg_lock, flags);
	vsh_config_changed(d);
}

u32 vsh_get_target(struct vsh_dev *d)
{
	unsigned long flags;
	u32 v;

	spin_lock_irqsave(&d->cfg_lock, flags);
	v = le32_to_cpu(d->config.num_pages);
	spin_unlock_irqrestore(&d->cfg_lock, flags);
	return v;
}

u32 vsh_get_actual(struct vsh_dev *d)
{
	unsigned long flags;
	u32 v;

	spin_lock_irqsave(&d->cfg_lock, flags);
	v = le32_to_cpu(d->config.actual);
	spin_unlock_irqrestore(&d->cfg_lock, flags);
	return v;
}
