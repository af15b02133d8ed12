// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: the device's memory map and the backing store behind it.
 *
 * set_map hands us the whole IOTLB of the device.  With use_va every entry
 * maps a guest-physical range to a user VA of the VMM and carries a
 * struct vdpa_map_file naming the shared file (e.g. a memfd) and offset
 * behind it.  We copy the entries into a sorted array (struct vsh_map)
 * and hold a reference on each file, so a racing unmap cannot free a file
 * we are about to fallocate().  The map is published with RCU and
 * refcounted (see struct vsh_map); reset_map and unbind drop it, so the
 * files are not held after the VMM is gone.  Balloon operations only
 * touch ranges that are fully inside writable, file-backed regions;
 * everything else is refused by the caller.
 *
 * INFLATE/RELEASE free backing with FALLOC_FL_PUNCH_HOLE; COMMIT populates
 * it with a plain allocate (FALLOC_FL_KEEP_SIZE), both on the region's file.
 * In loopback mode there is no file: nothing is freed or populated.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/overflow.h>
#include <linux/memory_hotplug.h>
#include <linux/pagemap.h>

#include "vshape_host.h"

#define VSH_MAX_REGIONS	128

static void vsh_map_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct vsh_map, rcu));
}

/* Drop a reference; the last one puts the files and frees the map. */
void vsh_map_put(struct vsh_map *m)
{
	unsigned int i;

	if (!m || !refcount_dec_and_test(&m->ref))
		return;
	for (i = 0; i < m->nr; i++)
		if (m->r[i].file)
			fput(m->r[i].file);
	/* a reader may still be between rcu_dereference and its get */
	call_rcu(&m->rcu, vsh_map_free_rcu);
}

/* The current map with a reference, or NULL (no map). */
struct vsh_map *vsh_map_get(struct vsh_dev *d)
{
	struct vsh_map *m;

	rcu_read_lock();
	do {
		m = rcu_dereference(d->map);
	} while (m && !refcount_inc_not_zero(&m->ref));
	rcu_read_unlock();
	return m;
}

/*
 * Make @m (may be NULL: no map) the device's map; drop the old one.  The
 * worker is queued to bring the page states in line with it
 * (vsh_map_sync), so pages that left the map drop their charge at once.
 */
void vsh_map_publish(struct vsh_dev *d, struct vsh_map *m)
{
	struct vsh_map *old;

	spin_lock(&d->map_lock);
	old = rcu_replace_pointer(d->map, m, lockdep_is_held(&d->map_lock));
	/* after the pointer: a worker that sees the new gen sees @m */
	smp_store_release(&d->map_gen, d->map_gen + 1);
	spin_unlock(&d->map_lock);
	vsh_map_put(old);
	if (d->worker)
		kthread_mod_delayed_work(d->worker, &d->work, 0);
}

/*
 * Under vsh_dev.lock, outside a step: if a map was published since the
 * page states were last checked, prune the states of pages that are no
 * longer guest RAM (vsh_pages_prune).  Cheap when nothing changed.
 */
void vsh_map_sync(struct vsh_dev *d)
{
	unsigned long gen;

	lockdep_assert_held(&d->lock);
	/* pairs with vsh_map_publish: this gen's map or a newer one */
	gen = smp_load_acquire(&d->map_gen);
	if (gen == d->pages_gen)
		return;
	d->snap = vsh_map_get(d);
	vsh_pages_prune(d);
	vsh_map_put(d->snap);
	d->snap = NULL;
	d->pages_gen = gen;
}

/* Do writable regions @a and @b map overlapping ranges of one file? */
static bool vsh_regions_alias(const struct vsh_region *a,
			      const struct vsh_region *b)
{
	u64 a_end = a->offset + (a->last - a->start);
	u64 b_end = b->offset + (b->last - b->start);

	return a->file && b->file &&
	       file_inode(a->file) == file_inode(b->file) &&
	       (a->perm & VHOST_MAP_WO) && (b->perm & VHOST_MAP_WO) &&
	       a->offset <= b_end && b->offset <= a_end;
}

unsigned int vsh_map_nr(struct vsh_dev *d)
{
	struct vsh_map *m;
	unsigned int n;

	rcu_read_lock();
	m = rcu_dereference(d->map);
	n = m ? m->nr : 0;
	rcu_read_unlock();
	return n;
}

/*
 * Build a map from the IOTLB (the caller, vhost-vdpa, serialises it) and
 * publish it.  Does not take vsh_dev.lock.  A map of more than
 * VSH_MAX_REGIONS entries, or one we cannot allocate, is refused and
 * leaves the device with no map at all rather than the previous one:
 * vhost-vdpa ignores a set_map failure at VHOST_IOTLB_BATCH_END, and a
 * stale map would let the device act on memory the VMM has unmapped.
 */
int vsh_regions_from_iotlb(struct vsh_dev *d, struct vhost_iotlb *iotlb)
{
	struct vhost_iotlb_map *map;
	struct vsh_map *m;
	unsigned int n = 0;

	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX))
		n++;
	if (n > VSH_MAX_REGIONS) {
		vsh_map_publish(d, NULL);
		return -ENOSPC;
	}
	m = kzalloc(struct_size(m, r, n), GFP_KERNEL);
	if (!m) {
		vsh_map_publish(d, NULL);
		return -ENOMEM;
	}
	refcount_set(&m->ref, 1);
	m->nr = n;

	n = 0;
	/* the interval tree iterates in ascending start order */
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX)) {
		struct vdpa_map_file *mf = map->opaque;
		struct vsh_region *r = &m->r[n++];

		r->start = map->start;
		r->last = map->last;
		r->uaddr = map->addr;
		r->perm = map->perm;
		if (d->vdpa.use_va && mf && mf->file) {
			r->file = get_file(mf->file);
			r->offset = mf->offset;
		}
	}
	/* at most VSH_MAX_REGIONS^2 / 2 comparisons, at map changes only */
	for (n = 1; n < m->nr; n++) {
		unsigned int j;

		for (j = 0; j < n && !m->r[n].alias; j++)
			m->r[n].alias = !m->r[j].alias &&
					vsh_regions_alias(&m->r[j], &m->r[n]);
	}
	vsh_map_publish(d, m);
	return 0;
}

/*
 * The region of the current step's map that contains
 * [iova, iova + len - 1], or NULL.
 */
const struct vsh_region *vsh_region_find(struct vsh_dev *d, u64 iova, u64 len)
{
	const struct vsh_map *m = d->snap;
	unsigned int lo = 0, hi;

	lockdep_assert_held(&d->lock);
	if (!m || !len || iova + len - 1 < iova)
		return NULL;
	hi = m->nr;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct vsh_region *r = &m->r[mid];

		if (iova < r->start) {
			hi = mid;
		} else if (iova > r->last) {
			lo = mid + 1;
		} else {
			if (iova + len - 1 > r->last)
				return NULL;
			return r;
		}
	}
	return NULL;
}

/*
 * True if every byte of [gpa, gpa + len) is guest RAM the balloon may act
 * on: writable file-backed regions that alias no lower one (VA mode) or
 * online pages (loopback).  A range may span adjacent regions.
 */
bool vsh_range_is_ram(struct vsh_dev *d, u64 gpa, u64 len)
{
	if (!len || gpa + len < gpa)
		return false;
	if (d->mm) {
		while (len) {
			const struct vsh_region *r = vsh_region_find(d, gpa, 1);
			u64 n;

			if (!r || !r->file || r->alias ||
			    (r->perm & VHOST_MAP_RW) != VHOST_MAP_RW)
				return false;
			n = min_t(u64, len, r->last - gpa + 1);
			gpa += n;
			len -= n;
		}
		return true;
	}
	if (d->loopback) {
		u64 pfn, end = (gpa + len - 1) >> PAGE_SHIFT;

		/*
		 * pfn_to_online_page() decides per memory section and
		 * subsection, so one page per subsection answers for all.
		 */
		for (pfn = gpa >> PAGE_SHIFT; pfn <= end;
		     pfn = ALIGN(pfn + 1, PAGES_PER_SUBSECTION)) {
			if (!pfn_to_online_page(pfn))
				return false;
			cond_resched();
		}
		return true;
	}
	return false;
}

static int vsh_backing_falloc(struct vsh_dev *d, u64 gpa, u64 len, int mode)
{
	int ret;

	while (len) {
		const struct vsh_region *r;
		u64 n;

		if (!d->mm)
			return 0;	/* loopback: account only */
		r = vsh_region_find(d, gpa, 1);
		if (!r || !r->file)
			return -EFAULT;
		n = min_t(u64, len, r->last - gpa + 1);
		ret = vfs_fallocate(r->file, mode, r->offset + (gpa - r->start),
				    n);
		if (ret) {
			d->stats.backing_err++;
			return ret;
		}
		gpa += n;
		len -= n;
	}
	return 0;
}

int vsh_backing_punch(struct vsh_dev *d, u64 gpa, u64 len)
{
	int ret = vsh_backing_falloc(d, gpa, len,
				     FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);

	if (!ret && d->mm)
		d->stats.punched_bytes += len;
	return ret;
}

int vsh_backing_populate(struct vsh_dev *d, u64 gpa, u64 len)
{
	int ret = vsh_backing_falloc(d, gpa, len, FALLOC_FL_KEEP_SIZE);

	if (!ret && d->mm)
		d->stats.populated_bytes += len;
	return ret;
}

/*
 * The guest range backed by the folio that holds @gpa's page in the
 * backing file, clipped to @gpa's region: its length, and its first gpa
 * in *@start.  0 if the page is a hole (or in loopback mode, which has
 * no file).  A COMMIT uses it to see what allocating a page populated:
 * on a tmpfs mounted with huge=, a whole 2 MiB folio.
 */
u64 vsh_backing_folio(struct vsh_dev *d, u64 gpa, u64 *start)
{
	const struct vsh_region *r;
	struct folio *folio;
	u64 off, fpos, fend, s, e;

	if (!d->mm)
		return 0;
	r = vsh_region_find(d, gpa, 1);
	if (!r || !r->file)
		return 0;
	off = r->offset + (gpa - r->start);
	folio = filemap_get_folio(r->file->f_mapping, off >> PAGE_SHIFT);
	if (IS_ERR(folio))
		return 0;
	fpos = folio_pos(folio);
	fend = fpos + folio_size(folio) - 1;
	folio_put(folio);
	s = fpos > r->offset ? r->start + (fpos - r->offset) : r->start;
	e = min(r->last, r->start + (fend - r->offset));
	*start = s;
	return e - s + 1;
}
