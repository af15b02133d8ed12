// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: find INFLATED pages that the guest populated again.
 *
 * An INFLATED page stays mapped in the VMM (the device cannot unmap guest
 * memory), so a guest that touches it makes shmem allocate it again in
 * the guest-RAM file, uncharged and with no event reaching the device.
 * With VIRTIO_BALLOON_F_MUST_TELL_HOST negotiated, a driver may not touch
 * a page between giving it and getting it back with an answered deflate,
 * so such a page is a broken promise and its content is undefined: a
 * periodic pass of the device's worker looks up the page cache of the
 * file behind every INFLATED run (never guest memory itself) and punches
 * the folios it finds there again, counting them (debugfs refilled_bytes).
 *
 * Bounds: a pass runs every VSH_REFILL_PERIOD (1 s) and looks at most at
 * VSH_REFILL_STEPS (512) 2 MiB blocks of guest memory that hold balloon
 * pages, 1 GiB; each block is one step under one hold of vsh_dev.lock
 * (its runs' page cache looked up, at most 2 MiB punched), the lock is
 * dropped and cond_resched() called between steps, and the next pass
 * resumes at the next block (vsh_dev.refill_pos).  A pass that reaches
 * the end of the balloon ends there; the next starts at 0.
 *
 * Only folios wholly inside one INFLATED run and one memory region are
 * punched: a large folio that also holds pages in another state (a GUEST
 * page populated a 2 MiB folio of a huge= tmpfs around it) is left alone,
 * since punching part of it would only split or zero it.  Swapped-out
 * pages are not found (they are not in the page cache).
 */
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>

#include "vshape_host.h"

/*
 * A pass every VSH_REFILL_PERIOD looks at most at VSH_REFILL_STEPS blocks
 * of VSH_REFILL_BLOCK bytes that hold balloon pages (1 GiB of guest
 * memory): a balloon of N GiB is swept in about N seconds.
 */
#define VSH_REFILL_PERIOD	HZ
#define VSH_REFILL_BLOCK	(2ULL << 20)
#define VSH_REFILL_STEPS	512

/* Add the folio's guest range [gs, gs + gl) to @rs, merging neighbours. */
static unsigned int vsh_refill_add(struct vsh_ext *rs, unsigned int nr,
				   u64 gs, u64 gl)
{
	if (nr && rs[nr - 1].gpa + rs[nr - 1].len == gs) {
		rs[nr - 1].len += gl;
		return nr;
	}
	rs[nr].gpa = gs;
	rs[nr].len = gl;
	return nr + 1;
}

/*
 * Punch the populated folios of [gpa, gpa + len) (inside region @r) that
 * lie wholly in [run_lo, run_hi), the INFLATED run around it.
 */
static void vsh_refill_region(struct vsh_dev *d, const struct vsh_region *r,
			      u64 gpa, u64 len, u64 run_lo, u64 run_hi)
{
	u64 off = r->offset + (gpa - r->start);
	pgoff_t index = off >> PAGE_SHIFT;
	pgoff_t end = (off + len - 1) >> PAGE_SHIFT;
	struct vsh_ext rs[PAGEVEC_SIZE];
	struct folio_batch fb;
	unsigned int i, nr;

	folio_batch_init(&fb);
	while (index <= end &&
	       filemap_get_folios(r->file->f_mapping, &index, end, &fb)) {
		nr = 0;
		for (i = 0; i < folio_batch_count(&fb); i++) {
			struct folio *f = fb.folios[i];
			u64 fpos = folio_pos(f), fl = folio_size(f), gs;

			/* a folio starting before the region is not all RAM */
			if (fpos < r->offset)
				continue;
			gs = r->start + (fpos - r->offset);
			if (gs < run_lo || gs + fl > run_hi ||
			    gs + fl - 1 > r->last)
				continue;
			nr = vsh_refill_add(rs, nr, gs, fl);
		}
		/* drop our references before freeing the folios */
		folio_batch_release(&fb);
		for (i = 0; i < nr; i++)
			if (!vsh_backing_punch(d, rs[i].gpa, rs[i].len))
				d->stats.refilled_bytes += rs[i].len;
		cond_resched();
	}
}

/*
 * Look at [gpa, gpa + len), INFLATED pages of the run [run_lo, run_hi),
 * region by region (a run may span adjacent regions).
 */
static void vsh_refill_range(struct vsh_dev *d, u64 gpa, u64 len, u64 run_lo,
			     u64 run_hi)
{
	while (len) {
		const struct vsh_region *r = vsh_region_find(d, gpa, 1);
		u64 n;

		if (!r)
			return;
		n = min_t(u64, len, r->last - gpa + 1);
		/* what a request could not act on, the scan leaves alone */
		if (vsh_range_is_ram(d, gpa, n))
			vsh_refill_region(d, r, gpa, n, run_lo, run_hi);
		gpa += n;
		len -= n;
	}
}

/*
 * One step under vsh_dev.lock: the 2 MiB block of guest memory that holds
 * the first balloon page at or after vsh_dev.refill_pos, each INFLATED
 * run in it looked up.  False when the balloon has no page there (the
 * sweep is complete: the next starts at 0).
 */
static bool vsh_refill_step(struct vsh_dev *d)
{
	struct vsh_run run;
	u64 blk_end, end;

	lockdep_assert_held(&d->lock);
	if (!vsh_pages_next_run(d, d->refill_pos, &run)) {
		d->refill_pos = 0;
		d->stats.refill_sweeps++;
		return false;
	}
	blk_end = round_down(run.start, VSH_REFILL_BLOCK) + VSH_REFILL_BLOCK;
	for (;;) {
		/* a run is maximal from where it was looked up: its end bounds folios */
		end = min(run.start + run.len, blk_end);
		if (run.st == VSH_P_INFLATED) {
			vsh_refill_range(d, run.start, end - run.start,
					 run.start, run.start + run.len);
			d->stats.refill_scanned_bytes += end - run.start;
		}
		if (end == blk_end || !vsh_pages_next_run(d, end, &run) ||
		    run.start >= blk_end)
			break;
	}
	d->refill_pos = blk_end;
	return true;
}

/*
 * Whether the device is in a state the scan works in: running, in VA
 * mode (a file behind guest RAM) and with MUST_TELL_HOST negotiated
 * (without it a driver may use a deflated page before the device has
 * seen the deflate, so a populated INFLATED page is no broken promise).
 */
static bool vsh_refill_wanted(struct vsh_dev *d)
{
	return d->mm && vsh_has(d, VIRTIO_BALLOON_F_MUST_TELL_HOST) &&
	       vsh_running(d);
}

/*
 * The pass, on the device's worker (in the VMM's cgroups, like the
 * queues' passes; the two never run at once).  It requeues itself every
 * VSH_REFILL_PERIOD while the device runs; vsh_refill_start queues it
 * again when the driver sets DRIVER_OK.
 */
void vsh_refill_fn(struct kthread_work *work)
{
	struct vsh_dev *d = container_of(work, struct vsh_dev,
					 refill_work.work);
	unsigned int steps;
	bool more = true;

	for (steps = 0; more && steps < VSH_REFILL_STEPS; steps++) {
		u64 t0, held;

		struct mem_cgroup *memcg, *old;

		mutex_lock(&d->lock);
		t0 = ktime_get_ns();
		if (!vsh_refill_wanted(d)) {
			mutex_unlock(&d->lock);
			return;
		}
		/*
		 * page states in line with the map before they are trusted
		 * (pruning may split a block: charged to the VMM)
		 */
		memcg = vsh_memcg_begin(d, &old);
		vsh_map_sync(d);
		vsh_memcg_end(memcg, old);
		d->snap = vsh_map_get(d);
		more = vsh_refill_step(d);
		vsh_map_put(d->snap);
		d->snap = NULL;
		held = ktime_get_ns() - t0;
		if (held > d->stats.max_hold_ns)
			d->stats.max_hold_ns = held;
		mutex_unlock(&d->lock);
		cond_resched();
	}
	kthread_queue_delayed_work(d->worker, &d->refill_work,
				   VSH_REFILL_PERIOD);
}

/* The driver is up: (re)start the periodic pass. */
void vsh_refill_start(struct vsh_dev *d)
{
	kthread_mod_delayed_work(d->worker, &d->refill_work, VSH_REFILL_PERIOD);
}
