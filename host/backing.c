// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: the device's memory map and the backing store behind it.
 *
 * set_map hands us the whole IOTLB of the device.  With use_va every entry
 * maps a guest-physical range to a user VA of the VMM and carries a
 * struct vdpa_map_file naming the shared file (e.g. a memfd) and offset
 * behind it.  We copy the entries into a sorted array and hold a reference
 * on each file, so a racing unmap cannot free a file we are about to
 * fallocate().  Balloon operations only touch ranges that are fully inside
 * writable, file-backed regions; everything else is refused by the caller.
 *
 * INFLATE/RELEASE free backing with FALLOC_FL_PUNCH_HOLE; COMMIT populates
 * it with a plain allocate (FALLOC_FL_KEEP_SIZE), both on the region's file.
 * In loopback mode there is no file: nothing is freed or populated.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/memory_hotplug.h>

#include "vshape_host.h"

#define VSH_MAX_REGIONS	128

void vsh_free_regions(struct vsh_dev *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_regions; i++)
		if (d->regions[i].file)
			fput(d->regions[i].file);
	kfree(d->regions);
	d->regions = NULL;
	d->nr_regions = 0;
}

int vsh_regions_from_iotlb(struct vsh_dev *d, struct vhost_iotlb *iotlb)
{
	struct vhost_iotlb_map *map;
	struct vsh_region *r;
	unsigned int n = 0;

	lockdep_assert_held(&d->lock);
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX))
		n++;
	if (n > VSH_MAX_REGIONS)
		return -ENOSPC;
	r = kcalloc(max(n, 1U), sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;

	n = 0;
	/* the interval tree iterates in ascending start order */
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX)) {
		struct vdpa_map_file *mf = map->opaque;

		r[n].start = map->start;
		r[n].last = map->last;
		r[n].uaddr = map->addr;
		r[n].perm = map->perm;
		if (d->vdpa.use_va && mf && mf->file) {
			r[n].file = get_file(mf->file);
			r[n].offset = mf->offset;
		}
		n++;
	}
	vsh_free_regions(d);
	d->regions = r;
	d->nr_regions = n;
	return 0;
}

/* The region that contains [iova, iova + len - 1], or NULL. */
const struct vsh_region *vsh_region_find(struct vsh_dev *d, u64 iova, u64 len)
{
	unsigned int lo = 0, hi = d->nr_regions;

	if (!len || iova + len - 1 < iova)
		return NULL;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct vsh_region *r = &d->regions[mid];

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
 * on: writable file-backed regions (VA mode) or online pages (loopback).
 * A range may span adjacent regions.
 */
bool vsh_range_is_ram(struct vsh_dev *d, u64 gpa, u64 len)
{
	if (!len || gpa + len < gpa)
		return false;
	if (d->mm) {
		while (len) {
			const struct vsh_region *r = vsh_region_find(d, gpa, 1);
			u64 n;

			if (!r || !r->file || (r->perm & VHOST_MAP_RW) !=
			    VHOST_MAP_RW)
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
