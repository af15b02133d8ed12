// SPDX-License-Identifier: GPL-2.0
/*
 * The pages vshape holds, and the floor.
 *
 * Inflation takes 2 MiB blocks first, so that the host can drop whole
 * huge pages and a region request can name one extent, and falls back to
 * 4 KiB pages when fragmentation leaves no block.  Every allocation is
 * checked against a floor (the zones' min watermarks plus a margin), so
 * no target can push the guest into reclaim storms or OOM.
 *
 * Pages go on the lists only once the host acknowledged the inflate
 * message, and leave the balloon only after the host acknowledged the
 * deflate message, which satisfies VIRTIO_BALLOON_F_MUST_TELL_HOST
 * whether or not it was negotiated.  The messages themselves, and the
 * RESERVE and RELEASE of blocks held here, are hostmsg.c's; what to take,
 * give or announce is the caller's (policy.c, and the OOM notifier and
 * unload in main.c): nothing here decides a target.
 */

#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/vmstat.h>

#include "hostmsg.h"
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
#define VSG_GFP_2M	(GFP_HIGHUSER | __GFP_NOWARN | __GFP_NORETRY | \
			 __GFP_NOMEMALLOC | __GFP_COMP)
#define VSG_GFP_4K	(GFP_HIGHUSER | __GFP_NOWARN | __GFP_NORETRY | \
			 __GFP_NOMEMALLOC)

static const unsigned int vsg_class_order[VSG_NR_CLASSES] = {
	[VSG_CLASS_2M] = VSG_ORDER_2M,
	[VSG_CLASS_4K] = 0,
};

void vsg_balloon_init(struct vsg_dev *vs)
{
	int i;

	mutex_init(&vs->balloon_lock);
	init_waitqueue_head(&vs->acked);
	for (i = 0; i < VSG_NR_CLASSES; i++)
		INIT_LIST_HEAD(&vs->pages[i]);
}

/* Sum of the min watermarks of every populated zone, in pages. */
static unsigned long vsg_min_watermarks(void)
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
unsigned long vsg_floor_pages(struct vsg_dev *vs)
{
	return vsg_min_watermarks() + READ_ONCE(vs->floor_margin_pages);
}

/*
 * May the balloon take @nr_pages more?  Counted against free memory, or
 * with @reclaim against available memory (free plus reclaimable caches,
 * si_mem_available()): the allocation then reclaims clean page cache to
 * get them, which is how the policy's shrink returns cache to the host.
 */
static bool vsg_floor_allows(struct vsg_dev *vs, unsigned long nr_pages,
			     bool reclaim)
{
	unsigned long free = reclaim ? si_mem_available() :
			     global_zone_page_state(NR_FREE_PAGES);

	return free >= nr_pages + vsg_floor_pages(vs);
}

/*
 * Allocate one block for the balloon, 2 MiB if @want allows it and the
 * floor leaves room, else 4 KiB.  Returns the class used, or -ENOMEM.
 */
static int vsg_alloc_block(struct vsg_dev *vs, unsigned long want,
			   bool reclaim, struct page **pagep)
{
	struct page *page;

	if (want >= VSG_PAGES_2M && vsg_floor_allows(vs, VSG_PAGES_2M, reclaim)) {
		page = alloc_pages(VSG_GFP_2M, VSG_ORDER_2M);
		if (page) {
			*pagep = page;
			return VSG_CLASS_2M;
		}
		vs->nr_alloc_fail_2m++;
	}
	if (!vsg_floor_allows(vs, 1, reclaim)) {
		vs->nr_floor_stops++;
		return -ENOSPC;
	}
	page = alloc_page(VSG_GFP_4K);
	if (!page) {
		vs->nr_alloc_fail_4k++;
		return -ENOMEM;
	}
	*pagep = page;
	return VSG_CLASS_4K;
}

/*
 * Inflate by up to @nr_pages (@reclaim: see vsg_floor_allows()).  Returns
 * the number of pages added, which is less when the floor or the
 * allocator stops it.  Pages are put on the lists only once the host has
 * acknowledged them.
 */
unsigned long vsg_inflate(struct vsg_dev *vs, unsigned long nr_pages,
			  bool reclaim)
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

		class = vsg_alloc_block(vs, nr_pages - done, reclaim, &page);
		if (class < 0) {
			vs->last_error = class;
			stop = true;
		} else {
			unsigned int order = vsg_class_order[class];

			vsg_msg_add_block(vs, page, order);
			list_add(&page->lru, class == VSG_CLASS_2M ?
				 &batch_2m : &batch_4k);
			done += 1UL << order;
			if (class == VSG_CLASS_2M)
				n2m++;
			else
				n4k++;
		}
		/* Flush when full, or at the end. */
		if (stop || done >= nr_pages || vsg_msg_full(vs)) {
			if (vsg_msg_flush(vs, true, 0)) {
				/* Host did not take them: give them back. */
				stop = true;
				break;
			}
			vs->nr_inflate_msgs++;
			vs->nr_blocks[VSG_CLASS_2M] += n2m;
			vs->nr_blocks[VSG_CLASS_4K] += n4k;
			vs->held_pages += n2m * VSG_PAGES_2M + n4k;
			list_splice_init(&batch_2m, &vs->pages[VSG_CLASS_2M]);
			list_splice_init(&batch_4k, &vs->pages[VSG_CLASS_4K]);
			n2m = 0;
			n4k = 0;
		}
	}
	/* Only left over when the host could not be told. */
	while (!list_empty(&batch_2m)) {
		struct page *page = list_first_entry(&batch_2m, struct page, lru);

		list_del(&page->lru);
		__free_pages(page, VSG_ORDER_2M);
		done -= VSG_PAGES_2M;
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
 * blocks, the ones that map to whole host huge pages, are kept longest;
 * 2 MiB blocks leave from the head of their list (which is what
 * hostmsg.c's vsg_msg_reserve() announces).
 * With the shaping feature, @pre_op (0 or VSHAPE_OP_COMMIT) precedes each
 * DEFLATE of extents.  Returns the number of pages given back to the
 * guest.
 */
unsigned long vsg_deflate(struct vsg_dev *vs, unsigned long nr_pages,
			  u16 pre_op)
{
	u64 start = ktime_get_ns();
	unsigned long done = 0, pending_pages = 0;
	LIST_HEAD(pending);	/* named in vs->pfns, not yet acknowledged */
	LIST_HEAD(acked);	/* acknowledged: free once the lock is dropped */

	mutex_lock(&vs->balloon_lock);
	while (done + pending_pages < nr_pages) {
		unsigned long want = nr_pages - done - pending_pages;
		int class = VSG_CLASS_4K;
		struct page *page;
		unsigned int order;

		if (list_empty(&vs->pages[VSG_CLASS_4K]) ||
		    (want >= VSG_PAGES_2M &&
		     !list_empty(&vs->pages[VSG_CLASS_2M])))
			class = VSG_CLASS_2M;
		if (list_empty(&vs->pages[class]))
			break;
		/* A 2 MiB block is returned whole, even if it overshoots. */
		order = vsg_class_order[class];
		page = list_first_entry(&vs->pages[class], struct page, lru);
		list_move(&page->lru, &pending);
		vs->nr_blocks[class]--;
		vsg_msg_add_block(vs, page, order);
		pending_pages += 1UL << order;

		if (vsg_msg_full(vs)) {
			if (vsg_msg_flush(vs, false, pre_op))
				break;
			vs->nr_deflate_msgs++;
			list_splice_init(&pending, &acked);
			done += pending_pages;
			pending_pages = 0;
		}
	}
	if ((vs->nr_pfns || vs->nr_ext) && !vsg_msg_flush(vs, false, pre_op)) {
		vs->nr_deflate_msgs++;
		list_splice_init(&pending, &acked);
		done += pending_pages;
		pending_pages = 0;
	}
	/* The host was not told about these: they stay in the balloon. */
	while (!list_empty(&pending)) {
		struct page *page = list_first_entry(&pending, struct page, lru);
		int class = PageCompound(page) ? VSG_CLASS_2M : VSG_CLASS_4K;

		list_move(&page->lru, &vs->pages[class]);
		vs->nr_blocks[class]++;
	}
	vsg_msg_clear(vs);
	vs->held_pages -= done;
	trace_vshape_deflate(nr_pages, done, vs->held_pages,
			     ktime_get_ns() - start);
	mutex_unlock(&vs->balloon_lock);

	while (!list_empty(&acked)) {
		struct page *page = list_first_entry(&acked, struct page, lru);

		list_del(&page->lru);
		/* backed ahead of demand: not for page reporting to undo */
		if (pre_op == VSHAPE_OP_COMMIT)
			vsg_reporting_note_commit(vs, page_to_pfn(page),
						  PageCompound(page) ?
						  VSG_PAGES_2M : 1);
		if (PageCompound(page))
			__free_pages(page, VSG_ORDER_2M);
		else
			__free_page(page);
	}
	return done;
}
