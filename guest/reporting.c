// SPDX-License-Identifier: GPL-2.0
/*
 * Free page reporting (see reporting.h), a superset of the in-tree
 * virtio_balloon driver's: the same kernel interface and the same
 * standard queue, plus the shaping queue's REPORT operation.
 *
 * The kernel's page_reporting core (mm/page_reporting.c) does the
 * choosing: once free memory in a zone has grown by enough blocks of the
 * reporting order, it waits about 2 seconds (PAGE_REPORTING_DELAY), pulls
 * up to PAGE_REPORTING_CAPACITY (32) free blocks that were not reported
 * yet off the free lists, calls our report callback, and puts them back
 * marked "reported" (skipped by later passes until they are allocated
 * and freed again).  While a block is being reported it is not on a free
 * list, so nothing can allocate it before the host has answered.
 *
 * Reporting order: 2 MiB (VSG_ORDER_2M, pageblock_order on x86), the unit
 * the host frees best, unless the page_reporting.page_reporting_order
 * boot parameter says otherwise (the kernel then ignores ours).
 */

#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "reporting.h"
#include "shaping.h"
#include "vshape_guest.h"

/* Read at each probe (validate and start). */
static bool page_reporting = true;
module_param(page_reporting, bool, 0444);
MODULE_PARM_DESC(page_reporting, "report free memory to the host (free page reporting or the shaping REPORT op) when the device allows it (default: 1)");

/*
 * The host sees free pages as zero after it freed their backing.  If the
 * guest poisons or zeroes free pages, it would notice: like the in-tree
 * driver without VIRTIO_BALLOON_F_PAGE_POISON (not implemented here),
 * do not report then.
 */
static bool vsg_free_pages_poisoned(void)
{
	return want_init_on_free() || page_poisoning_enabled_static();
}

int vsg_reporting_validate(struct virtio_device *vdev)
{
	if (!page_reporting || vsg_free_pages_poisoned())
		__virtio_clear_bit(vdev, VIRTIO_BALLOON_F_REPORTING);
	else
		/* A report must fit the ring without allocating (as in-tree). */
		__virtio_clear_bit(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	return 0;
}

/* The standard reporting queue: the blocks as one device-writable sg list. */
static int vsg_report_vq(struct vsg_reporting *r, struct scatterlist *sg,
			 unsigned int nents)
{
	unsigned int unused;
	int err;

	/* The queue is empty between reports: this cannot run out of room. */
	err = virtqueue_add_inbuf(r->vq, sg, nents, r,
				  GFP_NOWAIT | __GFP_NOWARN);
	if (err)
		return err;
	virtqueue_kick(r->vq);
	wait_event(r->vs->acked, virtqueue_get_buf(r->vq, &unused));
	return 0;
}

void vsg_reporting_init(struct vsg_dev *vs)
{
	struct vsg_reporting *r = &vs->reporting;

	r->commit_grace_ms = VSG_DEFAULT_REPORT_COMMIT_GRACE_MS;
	spin_lock_init(&r->commit_lock);
}

void vsg_reporting_note_commit(struct vsg_dev *vs, unsigned long pfn,
			       unsigned long nr_pages)
{
	struct vsg_reporting *r = &vs->reporting;
	unsigned long b = pfn / VSG_PAGES_2M;
	unsigned long end = DIV_ROUND_UP(pfn + nr_pages, VSG_PAGES_2M);
	unsigned long now = jiffies ?: 1;	/* 0 marks a free slot */

	spin_lock(&r->commit_lock);
	for (; b < end; b++) {
		unsigned int last = (r->commit_head + VSG_REPORT_COMMIT_SLOTS - 1) %
				    VSG_REPORT_COMMIT_SLOTS;
		struct vsg_commit_slot *c = &r->commit[last];

		/* 4 KiB pages of one block come one after the other */
		if (c->when && c->block == b) {
			c->when = now;
			continue;
		}
		c = &r->commit[r->commit_head];
		c->block = b;
		c->when = now;
		r->commit_head = (r->commit_head + 1) % VSG_REPORT_COMMIT_SLOTS;
	}
	spin_unlock(&r->commit_lock);
}

/* Was any 2 MiB block of @sg deflated with COMMIT within the grace? */
static bool vsg_report_committed_lately(struct vsg_reporting *r,
					struct scatterlist *sg)
{
	unsigned long grace = msecs_to_jiffies(READ_ONCE(r->commit_grace_ms));
	unsigned long pfn = page_to_pfn(sg_page(sg));
	unsigned long first = pfn / VSG_PAGES_2M;
	unsigned long end = DIV_ROUND_UP(pfn + (sg->length >> PAGE_SHIFT),
					 VSG_PAGES_2M);
	bool hit = false;
	unsigned int i;

	if (!grace)
		return false;
	spin_lock(&r->commit_lock);
	for (i = 0; i < VSG_REPORT_COMMIT_SLOTS && !hit; i++) {
		const struct vsg_commit_slot *c = &r->commit[i];

		hit = c->when && c->block >= first && c->block < end &&
		      time_before(jiffies, c->when + grace);
	}
	spin_unlock(&r->commit_lock);
	return hit;
}

/*
 * The shaping queue: the blocks as REPORT extents, split at the limits,
 * leaving out the blocks COMMITted within the grace period.  Those are
 * marked reported by the kernel all the same (only the whole list can
 * fail), so they stay backed until they are allocated and freed again,
 * which is why the grace is 0 by default (reporting.h).  *@sent_blocks
 * and *@sent_bytes: what the host took.
 */
static int vsg_report_shaping(struct vsg_reporting *r, struct scatterlist *sgl,
			      unsigned int nents, u64 *sent_blocks,
			      u64 *sent_bytes)
{
	struct vsg_shaping *sh = r->vs->shaping;
	unsigned int max_ext = vsg_shaping_max_extents(sh), n = 0, i;
	u64 max_bytes = vsg_shaping_max_request_bytes(sh), bytes = 0;
	struct vshape_resp resp;
	struct scatterlist *sg;
	int err;

	for_each_sg(sgl, sg, nents, i) {
		if (vsg_report_committed_lately(r, sg)) {
			atomic64_inc(&r->skipped);
			continue;
		}
		if (n && (n >= max_ext || bytes + sg->length > max_bytes)) {
			err = vsg_shaping_request(sh, VSHAPE_OP_REPORT, r->ext,
						  n, &resp);
			if (!err && le16_to_cpu(resp.status) != VSHAPE_S_DONE)
				err = -EREMOTEIO;
			if (err)
				return err;
			*sent_blocks += n;
			*sent_bytes += bytes;
			n = 0;
			bytes = 0;
		}
		r->ext[n].gpa = cpu_to_le64(sg_phys(sg));
		r->ext[n].len = cpu_to_le64(sg->length);
		bytes += sg->length;
		n++;
	}
	if (!n)
		return 0;
	err = vsg_shaping_request(sh, VSHAPE_OP_REPORT, r->ext, n, &resp);
	if (!err && le16_to_cpu(resp.status) != VSHAPE_S_DONE)
		err = -EREMOTEIO;
	if (err)
		return err;
	*sent_blocks += n;
	*sent_bytes += bytes;
	return 0;
}

static int vsg_report(struct page_reporting_dev_info *prdev,
		      struct scatterlist *sgl, unsigned int nents)
{
	struct vsg_reporting *r = container_of(prdev, struct vsg_reporting,
					       prdev);
	u64 blocks = 0, bytes = 0;
	struct scatterlist *sg;
	unsigned int i;
	int err;

	atomic64_inc(&r->reports);
#ifdef VS_MUTANT_REPORT_NOTHING	/* test-only fault: scripts/check-mutants */
	return 0;
#endif
	if (r->via == VSG_REPORT_SHAPING) {
		err = vsg_report_shaping(r, sgl, nents, &blocks, &bytes);
	} else {
		/* No COMMIT without the shaping feature: nothing to skip. */
		for_each_sg(sgl, sg, nents, i)
			bytes += sg->length;
		blocks = nents;
		err = vsg_report_vq(r, sgl, nents);
	}
	if (err) {
		/* The blocks go back unreported; the kernel retries later. */
		atomic64_inc(&r->errors);
		atomic_set(&r->last_error, err);
		return err;
	}
	atomic64_add(blocks, &r->blocks);
	atomic64_add(bytes, &r->bytes);
	return 0;
}

/*
 * Register with page_reporting if the device can take reports: the
 * shaping queue's REPORT when shaping is up, else the standard queue.
 * Only one device in the system can register; if another one holds it
 * (-EBUSY), this device runs without reporting and says so.
 */
int vsg_reporting_start(struct vsg_dev *vs)
{
	struct vsg_reporting *r = &vs->reporting;
	int err;

	r->vs = vs;
	r->via = VSG_REPORT_OFF;
	if (!page_reporting || vsg_free_pages_poisoned())
		return 0;
	if (vs->shaping) {
		r->via = VSG_REPORT_SHAPING;
	} else if (r->vq) {
		if (virtqueue_get_vring_size(r->vq) < PAGE_REPORTING_CAPACITY) {
			dev_warn(&vs->vdev->dev, "reporting queue too small: page reporting off\n");
			return 0;
		}
		r->via = VSG_REPORT_VQ;
	} else {
		return 0;
	}
	r->prdev.report = vsg_report;
	r->prdev.order = VSG_ORDER_2M;
	err = page_reporting_register(&r->prdev);
	if (err) {
		dev_warn(&vs->vdev->dev, "page reporting off: %d\n", err);
		r->via = VSG_REPORT_OFF;
		return err == -EBUSY ? 0 : err;
	}
	return 0;
}

/* Returns once no report is in flight; the queues may go after this. */
void vsg_reporting_stop(struct vsg_dev *vs)
{
	struct vsg_reporting *r = &vs->reporting;

	if (r->via != VSG_REPORT_OFF)
		page_reporting_unregister(&r->prdev);
	r->via = VSG_REPORT_OFF;
}

bool vsg_reporting_active(struct vsg_dev *vs)
{
	return READ_ONCE(vs->reporting.via) != VSG_REPORT_OFF;
}

static int vsg_reporting_show(struct seq_file *m, void *unused)
{
	static const char * const via[] = {
		[VSG_REPORT_OFF] = "off",
		[VSG_REPORT_VQ] = "reporting_vq",
		[VSG_REPORT_SHAPING] = "shaping_report",
	};
	struct vsg_reporting *r = m->private;

	seq_printf(m, "via: %s\n", via[READ_ONCE(r->via)]);
	seq_printf(m, "order: %u\n", (unsigned int)VSG_ORDER_2M);
	seq_printf(m, "reports: %lld\n", atomic64_read(&r->reports));
	seq_printf(m, "reported_blocks: %lld\n", atomic64_read(&r->blocks));
	seq_printf(m, "reported_bytes: %lld\n", atomic64_read(&r->bytes));
	seq_printf(m, "errors: %lld\n", atomic64_read(&r->errors));
	seq_printf(m, "skipped_committed: %lld\n", atomic64_read(&r->skipped));
	seq_printf(m, "last_error: %d\n", atomic_read(&r->last_error));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_reporting);

void vsg_reporting_debugfs(struct vsg_dev *vs, struct dentry *dir)
{
	debugfs_create_file("reporting", 0400, dir, &vs->reporting,
			    &vsg_reporting_fops);
}
