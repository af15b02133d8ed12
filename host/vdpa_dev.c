// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: vdpa_config_ops of the device and the worker that runs the
 * queues.  Every op that changes device state takes vsh_dev.lock; kick_vq
 * only queues the worker, because it may be called in atomic context.
 */
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/jiffies.h>
#include <linux/file.h>
#include <linux/slab.h>

#include "vshape_host.h"

static void vsh_kick(struct vsh_dev *d, unsigned long delay)
{
	kthread_mod_delayed_work(d->worker, &d->work, delay);
}

/* Rate bound: refill the token bucket; true if a request may run now. */
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

/* Process up to VSH_BATCH chains of one queue; true if more are pending. */
static bool vsh_run_queue(struct vsh_dev *d, unsigned int idx, bool *throttled)
{
	struct vsh_vq *vq = &d->vqs[idx];
	enum vsh_role role = vsh_vq_role(d, idx);
	struct vsh_chain *ch;
	int n, ret;
	bool more = false;

	if (!vq->ready || role == VSH_ROLE_NONE)
		return false;
	ch = kmalloc(sizeof(*ch), GFP_KERNEL);
	if (!ch)
		return true;

	if (role == VSH_ROLE_STATS && vq->stats_held && d->stats_want) {
		/* returning the buffer asks the driver for fresh stats */
		vq->stats_held = false;
		d->stats_want = false;
		vsh_vq_push(d, vq, vq->stats_head, 0);
		vsh_vq_notify(vq);
	}
	for (n = 0; n < VSH_BATCH; n++) {
		if (role == VSH_ROLE_STATS && vq->stats_held)
			break;
		if (!vsh_vq_pending(d, vq))
			break;
		if (!vsh_take_token(d)) {
			*throttled = true;
			more = true;
			break;
		}
		ret = vsh_vq_pop(d, vq, ch);
		if (ret == -ENOENT)
			break;
		if (ret == -EPIPE) {
			/* the ring itself is corrupt: stop using it */
			vq->ready = false;
			break;
		}
		if (ret < 0) {
			/* bad chain; returned with len 0 if the head was sane */
			continue;
		}
		switch (role) {
		case VSH_ROLE_INFLATE:
			vsh_balloon_process(d, vq, true, ch);
			break;
		case VSH_ROLE_DEFLATE:
			vsh_balloon_process(d, vq, false, ch);
			break;
		case VSH_ROLE_STATS:
			vsh_stats_process(d, vq, ch);
			break;
		case VSH_ROLE_SHAPING:
			vsh_shaping_process(d, vq, ch);
			break;
		default:
			break;
		}
		cond_resched();
	}
	if (n == VSH_BATCH)
		more = true;
	kfree(ch);
	return more;
}

void vsh_work_fn(struct kthread_work *work)
{
	struct vsh_dev *d = container_of(work, struct vsh_dev, work.work);
	struct mm_struct *mm = NULL;
	bool more = false, throttled = false;
	unsigned int i;

	mutex_lock(&d->lock);
	if (!(d->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (d->status & VIRTIO_CONFIG_S_NEEDS_RESET))
		goto out;
	if (d->mm) {
		if (!mmget_not_zero(d->mm))
			goto out;
		mm = d->mm;
		kthread_use_mm(mm);
	}
	for (i = 0; i < VSH_MAX_VQS; i++)
		more |= vsh_run_queue(d, i, &throttled);
	if (mm) {
		kthread_unuse_mm(mm);
		mmput(mm);
	}
	if (throttled)
		d->stats.throttled++;
out:
	mutex_unlock(&d->lock);
	if (more)
		vsh_kick(d, throttled ? max(1UL, HZ / 100) : 0);
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
	d->features = features & VSH_FEATURES;
	mutex_unlock(&d->lock);
	return 0;
}

static u64 vsh_get_driver_features(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	u64 f;

	mutex_lock(&d->lock);
	f = d->features;
	mutex_unlock(&d->lock);
	return f;
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
	vsh_pages_reset(d);
	d->features = 0;
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
	d->loopback = !d->mm && d->vdpa.dev.driver &&
		      !strcmp(d->vdpa.dev.driver->name, "virtio_vdpa");
	kick = status & VIRTIO_CONFIG_S_DRIVER_OK;
	mutex_unlock(&d->lock);
	if (kick)
		vsh_kick(d, 0);
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
	vsh_fill_shaping_config(&sc);
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

static int vsh_set_map(struct vdpa_device *vdpa, unsigned int asid,
		       struct vhost_iotlb *iotlb)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);
	int ret;

	if (asid)
		return -EINVAL;
	mutex_lock(&d->lock);
	ret = vsh_regions_from_iotlb(d, iotlb);
	mutex_unlock(&d->lock);
	return ret;
}

static int vsh_bind_mm(struct vdpa_device *vdpa, struct mm_struct *mm)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	mutex_lock(&d->lock);
	if (d->mm)
		mmdrop(d->mm);
	mmgrab(mm);
	d->mm = mm;
	mutex_unlock(&d->lock);
	return 0;
}

static void vsh_unbind_mm(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	mutex_lock(&d->lock);
	if (d->mm)
		mmdrop(d->mm);
	d->mm = NULL;
	mutex_unlock(&d->lock);
}

static void vsh_free(struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	if (d->worker) {
		kthread_cancel_delayed_work_sync(&d->work);
		kthread_destroy_worker(d->worker);
	}
	mutex_lock(&d->lock);
	vsh_pages_reset(d);
	vsh_free_regions(d);
	if (d->mm)
		mmdrop(d->mm);
	d->mm = NULL;
	mutex_unlock(&d->lock);
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
	.bind_mm		= vsh_bind_mm,
	.unbind_mm		= vsh_unbind_mm,
	.free			= vsh_free,
};

/* Host side: set a new target (pages) and raise the config interrupt. */
void vsh_set_target(struct vsh_dev *d, u32 pages)
{
	unsigned long flags;

	spin_lock_irqsave(&d->cfg_lock, flags);
	d->config.num_pages = cpu_to_le32(pages);
	spin_unlock_irqrestore(&d->cfg_lock, flags);

	spin_lock_irqsave(&d->cb_lock, flags);
	if ((READ_ONCE(d->status) & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    d->config_cb.callback)
		d->config_cb.callback(d->config_cb.private);
	spin_unlock_irqrestore(&d->cb_lock, flags);
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
