// SPDX-License-Identifier: GPL-2.0
/*
 * The pages vshape holds, and telling the host about them.
 *
 * Inflation takes 2 MiB blocks first, so that the host can drop whole
 * huge pages and a region request can name one extent, and falls back to
 * 4 KiB pages when fragmentation leaves no block.  Every allocation is
 * checked against a floor (the zones' min watermarks plus a margin), so
 * no host target can push the guest into reclaim or OOM.
 *
 * The host is told in messages of up to VS_PFNS_PER_MSG 4 KiB PFNs (the
 * virtio-balloon unit whatever PAGE_SIZE is), and a message is complete
 * when the host returns the buffer.  Pages leave the balloon only after
 * the host acknowledged the deflate message, which satisfies
 * VIRTIO_BALLOON_F_MUST_TELL_HOST whether or not it was negotiated.
 *
 * With VIRTIO_BALLOON_F_VSHAPE, 2 MiB blocks travel as extents on the
 * shaping queue (INFLATE, DEFLATE) instead of 512 PFNs each; 4 KiB pages
 * keep the standard queues.  In predict mode (docs/protocol.md: RESERVE,
 * COMMIT and RELEASE name pages still in the balloon):
 *  - a deflation with confidence at or above commit_pct is preceded by
 *    COMMIT, so the host populates the backing before the guest's demand
 *    touches it;
 *  - a predicted rise with lower confidence RESERVEs the blocks that
 *    would be deflated first (the head of the 2 MiB list), so the host
 *    keeps capacity for them without populating anything; a reserved
 *    block that is deflated leaves the record, and one still in the
 *    balloon after grace_ms is RELEASEd by release_work.
 *
 * Lock order: balloon_lock, then the predictor's lock.
 */

#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/scatterlist.h>
#include <linux/vmstat.h>

#include "predict.h"
#include "shaping.h"
#include "vshape_guest.h"
#include "trace.h"

/*
 * Balloon pages are never touched by the guest, so no __GFP_ZERO (with
 * init_on_alloc, Debian's default, the allocator zeroes them anyway, as
 * it does for the in-tree driver).  Not __GFP_MOVABLE: the pages are not
 * migratable, so they must not sit in movable pageblocks.  No reclaim
 * storms: a failed 2 MiB attempt falls back to 4 KiB, and a failed 4 KiB
 * attempt ends the pass.
 */
#define VS_GFP_2M	(GFP_HIGHUSER | __GFP_NOWARN | __GFP_NORETRY | \
			 __GFP_NOMEMALLOC | __GFP_COMP)
#define VS_GFP_4K	(GFP_HIGHUSER | __GFP_NOWARN | __GFP_NORETRY | \
			 __GFP_NOMEMALLOC)

static const unsigned int vs_class_order[VS_NR_CLASSES] = {
	[VS_CLASS_2M] = VS_ORDER_2M,
	[VS_CLASS_4K] = 0,
};

void vs_balloon_init(struct vshape_dev *vs)
{
	int i;

	mutex_init(&vs->balloon_lock);
	init_waitqueue_head(&vs->acked);
	for (i = 0; i < VS_NR_CLASSES; i++)
		INIT_LIST_HEAD(&vs->pages[i]);
}

/* Sum of the min watermarks of every populated zone, in pages. */
static unsigned long vs_min_watermarks(void)
{
	unsigned long sum = 0;
	int nid, z;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			if (populated_zone(zone))
				sum += min_wmark_pages(zone);
		}
	}
	return sum;
}

/* Free pages the balloon must always leave to the guest. */
unsigned long vs_floor_pages(struct vshape_dev *vs)
{
	return vs_min_watermarks() + READ_ONCE(vs->floor_margin_pages);
}

static bool vs_floor_allows(struct vshape_dev *vs, unsigned long nr_pages)
{
	unsigned long free = global_zone_page_state(NR_FREE_PAGES);

	return free >= nr_pages + vs_floor_pages(vs);
}

void vs_balloon_ack(struct virtqueue *vq)
{
	struct vshape_dev *vs = vq->vdev->priv;

	wake_up(&vs->acked);
}

/* Send vs->pfns[0..nr_pfns) on @vq and wait for the host to return it. */
static int vs_tell_host(struct vshape_dev *vs, struct virtqueue *vq)
{
	struct scatterlist sg;
	unsigned int len;
	int err;

	if (!vs->nr_pfns)
		return 0;
	sg_init_one(&sg, vs->pfns, sizeof(vs->pfns[0]) * vs->nr_pfns);
	err = virtqueue_add_outbuf(vq, &sg, 1, vs, GFP_KERNEL);
	if (err) {
		vs->last_error = err;
		return err;
	}
	vs->in_flight++;
	virtqueue_kick(vq);
	wait_event(vs->acked, virtqueue_get_buf(vq, &len));
	vs->in_flight--;
	vs->nr_pfns = 0;
	return 0;
}

/* Append the 4 KiB balloon PFNs covering @page (of @order) to vs->pfns. */
static void vs_add_pfns(struct vshape_dev *vs, struct page *page,
			unsigned int order)
{
	unsigned long pfn = page_to_pfn(page) <<
			    (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);
	unsigned long n = (1UL << order) <<
			  (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);
	unsigned long i;

	for (i = 0; i < n; i++)
		vs->pfns[vs->nr_pfns++] = cpu_to_virtio32(vs->vdev, pfn + i);
}

static unsigned int vs_balloon_pfns(unsigned int order)
{
	return (1U << order) << (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);
}

/* The live reservation of the block at @gpa, or NULL. */
static struct vs_reservation *vs_find_resv(struct vshape_dev *vs, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < vs->nr_resv; i++) {
		struct vs_reservation *r =
			&vs->resv[(vs->resv_head + i) % VS_MAX_RESERVATIONS];

		if (r->len && r->gpa == gpa)
			return r;
	}
	return NULL;
}

/* Name a block in the next message: an extent if it can be one. */
static void vs_add_block(struct vshape_dev *vs, struct page *page,
			 unsigned int order)
{
	if (order == VS_ORDER_2M && vs->shaping) {
		struct vs_reservation *r = vs_find_resv(vs, page_to_phys(page));

		/* Leaving the balloon ends a reservation (DEFLATE drops it). */
		if (r)
			r->len = 0;
		vs->ext[vs->nr_ext].gpa = cpu_to_le64(page_to_phys(page));
		vs->ext[vs->nr_ext].len = cpu_to_le64(PAGE_SIZE << order);
		vs->nr_ext++;
		return;
	}
	vs_add_pfns(vs, page, order);
}

/* Is the next message full (room for one more 2 MiB block left?) */
static bool vs_msg_full(struct vshape_dev *vs)
{
	if (vs->shaping)
		return vs->nr_ext >= vs->max_ext ||
		       vs->nr_pfns + 1 > VS_PFNS_PER_MSG;
	return vs->nr_pfns + vs_balloon_pfns(VS_ORDER_2M) > VS_PFNS_PER_MSG;
}

/* Send the pending extents with @op; 0 only if the host did it all. */
static int vs_send_extents(struct vshape_dev *vs, u16 op)
{
	struct vshape_resp resp;
	int err;

	err = vs_shaping_request(vs->shaping, op, vs->ext, vs->nr_ext, &resp);
	vs->nr_shaping_msgs++;
	if (!err && le16_to_cpu(resp.status) != VSHAPE_S_DONE) {
		vs->nr_shaping_refused++;
		err = -EREMOTEIO;
	}
	if (err)
		vs->last_error = err;
	return err;
}

/* Remember the pending extents as reserved until the grace period ends. */
static void vs_note_reservations(struct vshape_dev *vs)
{
	unsigned long expires = jiffies +
				msecs_to_jiffies(READ_ONCE(vs->grace_ms));
	unsigned int i;

	for (i = 0; i < vs->nr_ext; i++) {
		struct vs_reservation *r;

		if (vs->nr_resv == VS_MAX_RESERVATIONS)
			break;	/* the host's ledger still bounds them */
		r = &vs->resv[(vs->resv_head + vs->nr_resv++) %
			      VS_MAX_RESERVATIONS];
		r->gpa = le64_to_cpu(vs->ext[i].gpa);
		r->len = le64_to_cpu(vs->ext[i].len);
		r->expires = expires;
	}
	if (vs->nr_resv)
		mod_delayed_work(system_freezable_wq, &vs->release_work,
				 msecs_to_jiffies(READ_ONCE(vs->grace_ms)));
}

/*
 * Before blocks leave the balloon in predict mode with a sure prediction,
 * ask the host to back them now.  The answer does not stop the
 * deflation: the guest needs the memory either way.
 */
static void vs_announce_deflate(struct vshape_dev *vs)
{
	unsigned int pct;

	if (READ_ONCE(vs->mode) != VS_MODE_PREDICT)
		return;
	pct = vs_predict_confidence(vs) * 100U / 32768U;
	if (pct < READ_ONCE(vs->commit_pct))
		return;
	if (!vs_send_extents(vs, VSHAPE_OP_COMMIT))
		vs->nr_commits += vs->nr_ext;
}

/*
 * A rise of @pages is predicted, not surely: reserve host capacity for
 * the 2 MiB blocks that the balloon would give back first.  Blocks that
 * are reserved already count toward @pages.
 */
void vs_reserve_ahead(struct vshape_dev *vs, unsigned long pages)
{
	unsigned long covered = 0;
	struct page *page;

	mutex_lock(&vs->balloon_lock);
	if (!vs->shaping)
		goto out;
	list_for_each_entry(page, &vs->pages[VS_CLASS_2M], lru) {
		u64 gpa = page_to_phys(page);

		if (covered >= pages || vs->nr_ext == vs->max_ext ||
		    vs->nr_resv + vs->nr_ext >= VS_MAX_RESERVATIONS)
			break;
		covered += VS_PAGES_2M;
		if (vs_find_resv(vs, gpa))
			continue;
		vs->ext[vs->nr_ext].gpa = cpu_to_le64(gpa);
		vs->ext[vs->nr_ext].len = cpu_to_le64(PAGE_SIZE << VS_ORDER_2M);
		vs->nr_ext++;
	}
	if (vs->nr_ext && !vs_send_extents(vs, VSHAPE_OP_RESERVE)) {
		vs->nr_reserves += vs->nr_ext;
		vs_note_reservations(vs);
	}
	vs->nr_ext = 0;
out:
	mutex_unlock(&vs->balloon_lock);
}

/* Tell the host about everything named since the last message. */
static int vs_flush(struct vshape_dev *vs, bool inflate)
{
	int err;

	err = vs_tell_host(vs, inflate ? vs->inflate_vq : vs->deflate_vq);
	if (!err && vs->nr_ext) {
		if (!inflate)
			vs_announce_deflate(vs);
		err = vs_send_extents(vs, inflate ? VSHAPE_OP_INFLATE :
						     VSHAPE_OP_DEFLATE);
	}
	vs->nr_pfns = 0;
	vs->nr_ext = 0;
	return err;
}

void vs_release_work(struct work_struct *work)
{
	struct vshape_dev *vs = container_of(to_delayed_work(work),
					     struct vshape_dev, release_work);
	struct vshape_resp resp;
	unsigned long next = 0;

	mutex_lock(&vs->balloon_lock);
	while (vs->nr_resv && vs->shaping) {
		struct vs_reservation *r = &vs->resv[vs->resv_head];
		struct vshape_extent ext;

		if (!r->len)		/* deflated since: nothing to release */
			goto next;
		if (time_before(jiffies, r->expires)) {
			next = r->expires - jiffies;
			break;
		}
		ext.gpa = cpu_to_le64(r->gpa);
		ext.len = cpu_to_le64(r->len);
		if (vs_shaping_request(vs->shaping, VSHAPE_OP_RELEASE, &ext, 1,
				       &resp))
			break;	/* the queue is gone: the reset drops them */
		vs->nr_releases++;
next:
		vs->resv_head = (vs->resv_head + 1) % VS_MAX_RESERVATIONS;
		vs->nr_resv--;
	}
	mutex_unlock(&vs->balloon_lock);
	if (next)
		mod_delayed_work(system_freezable_wq, &vs->release_work, next);
}

/* The shaping queue is up: size the extent buffer from its limits. */
int vs_balloon_shaping_start(struct vshape_dev *vs)
{
	unsigned int max = min_t(unsigned int, VS_EXT_PER_MSG,
				 vs_shaping_max_extents(vs->shaping));
	u64 bytes = vs_shaping_max_request_bytes(vs->shaping);

	max = min_t(u64, max, div64_u64(bytes, PAGE_SIZE << VS_ORDER_2M));
	if (!max)
		return -EINVAL;
	vs->ext = kcalloc(max, sizeof(*vs->ext), GFP_KERNEL);
	vs->resv = kcalloc(VS_MAX_RESERVATIONS, sizeof(*vs->resv),
			   GFP_KERNEL);
	if (!vs->ext || !vs->resv) {
		vs_balloon_shaping_stop(vs);
		return -ENOMEM;
	}
	vs->max_ext = max;
	return 0;
}

/* Called once the device is reset: its reservations are gone with it. */
void vs_balloon_shaping_stop(struct vshape_dev *vs)
{
	cancel_delayed_work_sync(&vs->release_work);
	kfree(vs->ext);
	kfree(vs->resv);
	vs->ext = NULL;
	vs->resv = NULL;
	vs->max_ext = 0;
	vs->nr_ext = 0;
	vs->nr_resv = 0;
	vs->resv_head = 0;
}

/*
 * Allocate one block for the balloon, 2 MiB if @want allows it and the
 * floor leaves room, else 4 KiB.  Returns the class used, or -ENOMEM.
 */
static int vs_alloc_block(struct vshape_dev *vs, unsigned long want,
			  struct page **pagep)
{
	struct page *page;

	if (want >= VS_PAGES_2M && vs_floor_allows(vs, VS_PAGES_2M)) {
		page = alloc_pages(VS_GFP_2M, VS_ORDER_2M);
		if (page) {
			*pagep = page;
			return VS_CLASS_2M;
		}
		vs->nr_alloc_fail_2m++;
	}
	if (!vs_floor_allows(vs, 1)) {
		vs->nr_floor_stops++;
		return -ENOSPC;
	}
	page = alloc_page(VS_GFP_4K);
	if (!page) {
		vs->nr_alloc_fail_4k++;
		return -ENOMEM;
	}
	*pagep = page;
	return VS_CLASS_4K;
}

/*
 * Inflate by up to @nr_pages.  Returns the number of pages added, which
 * is less when the floor or the allocator stops it.  Pages are put on
 * the lists only once the host has acknowledged them.
 */
unsigned long vs_inflate(struct vshape_dev *vs, unsigned long nr_pages)
{
	unsigned long done = 0, n2m = 0, n4k = 0;
	u64 start = ktime_get_ns();
	LIST_HEAD(batch_2m);
	LIST_HEAD(batch_4k);
	bool stop = false;

	mutex_lock(&vs->balloon_lock);
#ifdef VS_MUTANT_INFLATE_WARN	/* test-only fault: scripts/check-mutants */
	WARN_ON(nr_pages);
#endif
	while (done < nr_pages && !stop) {
		struct page *page;
		int class;

		class = vs_alloc_block(vs, nr_pages - done, &page);
		if (class < 0) {
			vs->last_error = class;
			stop = true;
		} else {
			unsigned int order = vs_class_order[class];

			vs_add_block(vs, page, order);
			list_add(&page->lru, class == VS_CLASS_2M ?
				 &batch_2m : &batch_4k);
			done += 1UL << order;
			if (class == VS_CLASS_2M)
				n2m++;
			else
				n4k++;
		}
		/* Flush when full, or at the end. */
		if (stop || done >= nr_pages || vs_msg_full(vs)) {
			if (vs_flush(vs, true)) {
				/* Host did not take them: give them back. */
				stop = true;
				break;
			}
			vs->nr_inflate_msgs++;
			vs->nr_blocks[VS_CLASS_2M] += n2m;
			vs->nr_blocks[VS_CLASS_4K] += n4k;
			vs->held_pages += n2m * VS_PAGES_2M + n4k;
			list_splice_init(&batch_2m, &vs->pages[VS_CLASS_2M]);
			list_splice_init(&batch_4k, &vs->pages[VS_CLASS_4K]);
			n2m = 0;
			n4k = 0;
		}
	}
	/* Only left over when the host could not be told. */
	while (!list_empty(&batch_2m)) {
		struct page *page = list_first_entry(&batch_2m, struct page, lru);

		list_del(&page->lru);
		__free_pages(page, VS_ORDER_2M);
		done -= VS_PAGES_2M;
	}
	while (!list_empty(&batch_4k)) {
		struct page *page = list_first_entry(&batch_4k, struct page, lru);

		list_del(&page->lru);
		__free_page(page);
		done--;
	}
	trace_vshape_inflate(nr_pages, done, vs->held_pages,
			     ktime_get_ns() - start);
	mutex_unlock(&vs->balloon_lock);
	return done;
}

/*
 * Deflate by up to @nr_pages, 4 KiB pages first so that the 2 MiB
 * blocks, the ones that map to whole host huge pages, are kept longest.
 * Returns the number of pages given back to the guest.
 */
unsigned long vs_deflate(struct vshape_dev *vs, unsigned long nr_pages)
{
	u64 start = ktime_get_ns();
	unsigned long done = 0, pending_pages = 0;
	LIST_HEAD(pending);	/* named in vs->pfns, not yet acknowledged */
	LIST_HEAD(acked);	/* acknowledged: free once the lock is dropped */

	mutex_lock(&vs->balloon_lock);
	while (done + pending_pages < nr_pages) {
		unsigned long want = nr_pages - done - pending_pages;
		int class = VS_CLASS_4K;
		struct page *page;
		unsigned int order;

		if (list_empty(&vs->pages[VS_CLASS_4K]) ||
		    (want >= VS_PAGES_2M &&
		     !list_empty(&vs->pages[VS_CLASS_2M])))
			class = VS_CLASS_2M;
		if (list_empty(&vs->pages[class]))
			break;
		/* A 2 MiB block is returned whole, even if it overshoots. */
		order = vs_class_order[class];
		page = list_first_entry(&vs->pages[class], struct page, lru);
		list_move(&page->lru, &pending);
		vs->nr_blocks[class]--;
		vs_add_block(vs, page, order);
		pending_pages += 1UL << order;

		if (vs_msg_full(vs)) {
			if (vs_flush(vs, false))
				break;
			vs->nr_deflate_msgs++;
			list_splice_init(&pending, &acked);
			done += pending_pages;
			pending_pages = 0;
		}
	}
	if ((vs->nr_pfns || vs->nr_ext) && !vs_flush(vs, false)) {
		vs->nr_deflate_msgs++;
		list_splice_init(&pending, &acked);
		done += pending_pages;
		pending_pages = 0;
	}
	/* The host was not told about these: they stay in the balloon. */
	while (!list_empty(&pending)) {
		struct page *page = list_first_entry(&pending, struct page, lru);
		int class = PageCompound(page) ? VS_CLASS_2M : VS_CLASS_4K;

		list_move(&page->lru, &vs->pages[class]);
		vs->nr_blocks[class]++;
	}
	vs->nr_pfns = 0;
	vs->nr_ext = 0;
	vs->held_pages -= done;
	trace_vshape_deflate(nr_pages, done, vs->held_pages,
			     ktime_get_ns() - start);
	mutex_unlock(&vs->balloon_lock);

	while (!list_empty(&acked)) {
		struct page *page = list_first_entry(&acked, struct page, lru);

		list_del(&page->lru);
		if (PageCompound(page))
			__free_pages(page, VS_ORDER_2M);
		else
			__free_page(page);
	}
	return done;
}
