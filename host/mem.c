// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: access to driver memory (rings and request buffers).
 *
 * VA mode (vhost-vdpa, use_va): an IOVA is translated through the regions
 * copied from set_map to a user VA of the bound mm and accessed with
 * copy_{from,to}_user() in the worker, which runs under kthread_use_mm().
 * Addresses outside the regions, or without the needed permission, fail.
 *
 * Loopback (bound to virtio_vdpa on this kernel, no mm): addresses are this
 * kernel's physical addresses; each page must be online RAM.
 *
 * Anything else (e.g. vhost-vdpa before an mm is bound) fails.
 */
#include <linux/uaccess.h>
#include <linux/mm.h>
#include <linux/memory_hotplug.h>
#include <linux/highmem.h>

#include "vshape_host.h"

bool vsh_va_mode(const struct vsh_dev *d)
{
	return d->mm && current->mm == d->mm;
}

static int vsh_pa_copy(u64 pa, void *buf, size_t len, bool write)
{
	u8 *p = buf;

	while (len) {
		struct page *page = pfn_to_online_page(pa >> PAGE_SHIFT);
		size_t off = pa & ~PAGE_MASK;
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		void *va;

		if (!page || PageHighMem(page))
			return -EFAULT;
		va = page_address(page) + off;
		if (write)
			memcpy(va, p, n);
		else
			memcpy(p, va, n);
		pa += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vsh_va_copy(struct vsh_dev *d, u64 iova, void *buf, size_t len,
		       bool write)
{
	u8 *p = buf;

	while (len) {
		const struct vsh_region *r = vsh_region_find(d, iova, 1);
		u32 need = write ? VHOST_MAP_WO : VHOST_MAP_RO;
		void __user *u;
		u64 n;

		if (!r || (r->perm & need) != need)
			return -EFAULT;
		n = min_t(u64, len, r->last - iova + 1);
		u = (void __user *)(uintptr_t)(r->uaddr + (iova - r->start));
		if (write ? copy_to_user(u, p, n) : copy_from_user(p, u, n))
			return -EFAULT;
		iova += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vsh_mem_copy(struct vsh_dev *d, u64 iova, void *buf, size_t len,
			bool write)
{
	lockdep_assert_held(&d->lock);
	if (iova + len < iova)
		return -EFAULT;
	if (vsh_va_mode(d))
		return vsh_va_copy(d, iova, buf, len, write);
	if (d->loopback)
		return vsh_pa_copy(iova, buf, len, write);
	return -EFAULT;
}

int vsh_mem_read(struct vsh_dev *d, u64 iova, void *buf, size_t len)
{
	return vsh_mem_copy(d, iova, buf, len, false);
}

int vsh_mem_write(struct vsh_dev *d, u64 iova, const void *buf, size_t len)
{
	return vsh_mem_copy(d, iova, (void *)buf, len, true);
}
