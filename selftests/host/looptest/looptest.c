// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_looptest: a minimal virtio-balloon driver for the loopback test.
 *
 * It negotiates MUST_TELL_HOST and VSHAPE only (no stats queue), so the
 * shaping queue is queue 2, and drives it through guest/shaping.c, whose
 * debugfs test mode the selftest uses.  Test code, not a balloon: it
 * never inflates on its own.
 *
 * Hostile mode (debugfs vshape_looptest/hostile, root only; issue 12): it
 * posts on the standard queues what a hostile guest driver would, and
 * waits for the device to return each buffer:
 *
 *   huge [M]  one inflate chain of VLT_HUGE_SEGS descriptors, each over the
 *             same buffer of 0xff bytes (invalid PFNs) of M MiB (a power
 *             of two up to 64, the default)
 *   repeat K  one inflate chain of K (1-16) descriptors, each over the
 *             same 16 KiB buffer repeating one PFN of a page it holds
 *   deflate   deflate the pages "repeat" inflated, then free them
 *
 * Reading the file gives the last result: "op=... rc=... used_len=...
 * ms=...".  One device at a time (the loopback suite binds one).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/scatterlist.h>
#include <linux/wait.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_balloon.h>

#include "vshape_guest.h"
#include "vshape_compat.h"
#include "shaping.h"

#define VLT_HUGE_BYTES	(64UL << 20)
#define VLT_HUGE_SEGS	16
#define VLT_PFN_BYTES	(16U << 10)	/* one "repeat" descriptor */
#define VLT_PFN_ORDER	get_order(VLT_PFN_BYTES)
#define VLT_MAX_HELD	16
#define VLT_WAIT	(120 * HZ)

static struct vlt_hostile {
	struct mutex lock;		/* one command at a time */
	wait_queue_head_t wq;		/* a standard queue returned a buffer */
	struct virtqueue *inflate_vq, *deflate_vq;
	struct dentry *dir;
	struct page *held[VLT_MAX_HELD];	/* inflated by "repeat" */
	unsigned int nr_held;
	bool stuck;			/* a buffer never came back */
	char last[96];
} vlt;

static void vlt_std_done(struct virtqueue *vq)
{
	wake_up(&vlt.wq);
}

/*
 * Post @n out-descriptors of @sg on @vq and wait until the device
 * returns them; -ETIMEDOUT (and the buffers stay the device's) if it
 * does not within VLT_WAIT.
 */
static bool vlt_returned(struct virtqueue *vq, unsigned int *len)
{
	return virtqueue_get_buf(vq, len);
}

static int vlt_post(struct virtqueue *vq, struct scatterlist *sg,
		    unsigned int n, unsigned int *len)
{
	int ret;

	ret = virtqueue_add_outbuf(vq, sg, n, &vlt, GFP_KERNEL);
	if (ret)
		return ret;
	virtqueue_kick(vq);
	if (!wait_event_timeout(vlt.wq, vlt_returned(vq, len), VLT_WAIT)) {
		vlt.stuck = true;
		return -ETIMEDOUT;
	}
	return 0;
}

/*
 * alloc_contig_range() of [@start, @start + @nr) a pageblock at a time,
 * rescheduling in between: it initialises the pages it takes without
 * rescheduling, and in an L2 whose RAM L1 faults in under TCG one 64 MiB
 * call took 26 s (a soft lockup).  0 or -EBUSY (nothing kept).
 */
static int vlt_alloc_range(unsigned long start, unsigned long nr)
{
	unsigned long done, n;

	for (done = 0; done < nr; done += n) {
		n = min(nr - done, pageblock_nr_pages);
		if (alloc_contig_range(start + done, start + done + n,
				       MIGRATE_MOVABLE, GFP_KERNEL)) {
			if (done)
				free_contig_range(start, done);
			return -EBUSY;
		}
		cond_resched();
	}
	return 0;
}

/*
 * @nr (a power of two) physically contiguous pages: the first free range
 * of movable pages found from the top of the zone movable allocations
 * come from.
 */
static struct page *vlt_alloc_contig(unsigned long nr)
{
	struct page *p = alloc_page(GFP_HIGHUSER_MOVABLE);
	unsigned long start, pfn;
	struct zone *zone;

	if (!p)
		return NULL;
	zone = page_zone(p);
	__free_page(p);
	if (zone_end_pfn(zone) < zone->zone_start_pfn + 2 * nr)
		return NULL;
	for (start = ALIGN_DOWN(zone_end_pfn(zone) - nr, nr);
	     start >= zone->zone_start_pfn + nr; start -= nr) {
		for (pfn = start; pfn < start + nr; pfn++) {
			p = pfn_to_online_page(pfn);
			if (!p || page_zone(p) != zone || PageReserved(p))
				break;
		}
		if (pfn < start + nr)
			continue;
		if (!vlt_alloc_range(start, nr))
			return pfn_to_page(start);
		cond_resched();
	}
	return NULL;
}

static int vlt_huge(unsigned long bytes, unsigned int *len)
{
	unsigned long nr = bytes >> PAGE_SHIFT;
	struct scatterlist sg[VLT_HUGE_SEGS];
	struct page *page;
	unsigned int i;
	int ret;

	if (!bytes || bytes > VLT_HUGE_BYTES || !is_power_of_2(bytes))
		return -EINVAL;
	page = vlt_alloc_contig(nr);
	if (!page)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		memset(page_address(page + i), 0xff, PAGE_SIZE);
		cond_resched();
	}
	sg_init_table(sg, VLT_HUGE_SEGS);
	for (i = 0; i < VLT_HUGE_SEGS; i++)
		sg_set_page(&sg[i], page, bytes, 0);
	ret = vlt_post(vlt.inflate_vq, sg, VLT_HUGE_SEGS, len);
	if (ret != -ETIMEDOUT)
		free_contig_range(page_to_pfn(page), nr);
	return ret;
}

static int vlt_repeat(unsigned int k, unsigned int *len)
{
	struct scatterlist sg[VLT_HUGE_SEGS];
	struct page *page, *buf;
	__le32 *pfns;
	unsigned int i;
	int ret;

	if (!k || k > VLT_HUGE_SEGS)
		return -EINVAL;
	if (vlt.nr_held == VLT_MAX_HELD)
		return -ENOSPC;
	page = alloc_page(GFP_KERNEL);
	buf = alloc_pages(GFP_KERNEL, VLT_PFN_ORDER);
	if (!page || !buf) {
		if (page)
			__free_page(page);
		if (buf)
			__free_pages(buf, VLT_PFN_ORDER);
		return -ENOMEM;
	}
	pfns = page_address(buf);
	for (i = 0; i < VLT_PFN_BYTES / sizeof(*pfns); i++)
		pfns[i] = cpu_to_le32(page_to_pfn(page));
	sg_init_table(sg, k);
	for (i = 0; i < k; i++)
		sg_set_page(&sg[i], buf, VLT_PFN_BYTES, 0);
	ret = vlt_post(vlt.inflate_vq, sg, k, len);
	if (ret == -ETIMEDOUT)
		return ret;
	__free_pages(buf, VLT_PFN_ORDER);
	/* whether or not the device took it, deflate tells it first */
	vlt.held[vlt.nr_held++] = page;
	return ret;
}

static int vlt_deflate(unsigned int *len)
{
	struct scatterlist sg;
	__le32 *pfns;
	unsigned int i;
	int ret = 0;

	*len = 0;
	if (!vlt.nr_held)
		return 0;
	pfns = kmalloc_array(vlt.nr_held, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	for (i = 0; i < vlt.nr_held; i++)
		pfns[i] = cpu_to_le32(page_to_pfn(vlt.held[i]));
	sg_init_one(&sg, pfns, vlt.nr_held * sizeof(*pfns));
	ret = vlt_post(vlt.deflate_vq, &sg, 1, len);
	if (ret == -ETIMEDOUT)
		return ret;
	kfree(pfns);
	for (i = 0; i < vlt.nr_held; i++)
		__free_page(vlt.held[i]);
	vlt.nr_held = 0;
	return ret;
}

static ssize_t vlt_hostile_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	unsigned int len = 0, k;
	char cmd[32], *s;
	u64 t0;
	int ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = 0;
	s = strim(cmd);
	mutex_lock(&vlt.lock);
	if (vlt.stuck || !vlt.inflate_vq) {
		ret = -EIO;
		goto out;
	}
	t0 = ktime_get_ns();
	if (!strcmp(s, "huge"))
		ret = vlt_huge(VLT_HUGE_BYTES, &len);
	else if (sscanf(s, "huge %u", &k) == 1)
		ret = vlt_huge((unsigned long)min(k, 1024U) << 20, &len);
	else if (sscanf(s, "repeat %u", &k) == 1)
		ret = vlt_repeat(k, &len);
	else if (!strcmp(s, "deflate"))
		ret = vlt_deflate(&len);
	else
		ret = -EINVAL;
	if (ret != -EINVAL)
		snprintf(vlt.last, sizeof(vlt.last),
			 "op=%s rc=%d used_len=%u ms=%llu\n", s, ret, len,
			 div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC));
out:
	mutex_unlock(&vlt.lock);
	return ret ? ret : count;
}

static ssize_t vlt_hostile_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	char last[sizeof(vlt.last)];

	mutex_lock(&vlt.lock);
	memcpy(last, vlt.last, sizeof(last));
	mutex_unlock(&vlt.lock);
	return simple_read_from_buffer(ubuf, count, ppos, last, strlen(last));
}

static const struct file_operations vlt_hostile_fops = {
	.owner = THIS_MODULE,
	.write = vlt_hostile_write,
	.read = vlt_hostile_read,
	.llseek = default_llseek,
};

static int vlt_probe(struct virtio_device *vdev)
{
	struct vs_vq_desc desc[3] = {
		{ "inflate", vlt_std_done },
		{ "deflate", vlt_std_done },
		{ "shaping", vsg_shaping_vq_done },
	};
	struct virtqueue *vqs[3];
	struct vsg_dev *vs;
	int ret;

	if (!virtio_has_feature(vdev, VIRTIO_BALLOON_F_VSHAPE))
		return -ENODEV;
	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return -ENOMEM;
	vs->vdev = vdev;
	vdev->priv = vs;
	ret = vs_find_vqs(vdev, 3, vqs, desc);
	if (ret)
		goto err_free;
	ret = vsg_shaping_init(vs, vqs[2]);
	if (ret)
		goto err_del;
	virtio_device_ready(vdev);
	mutex_lock(&vlt.lock);
	if (!vlt.inflate_vq) {
		vlt.inflate_vq = vqs[0];
		vlt.deflate_vq = vqs[1];
		vlt.dir = debugfs_create_dir("vshape_looptest", NULL);
		debugfs_create_file("hostile", 0600, vlt.dir, vdev,
				    &vlt_hostile_fops);
	}
	mutex_unlock(&vlt.lock);
	return 0;

err_del:
	vdev->config->del_vqs(vdev);
err_free:
	vdev->priv = NULL;
	kfree(vs);
	return ret;
}

static void vlt_remove(struct virtio_device *vdev)
{
	struct vsg_dev *vs = vdev->priv;
	bool mine;

	mutex_lock(&vlt.lock);
	mine = vlt.inflate_vq && vlt.inflate_vq->vdev == vdev;
	if (mine) {
		/* waits for a command in progress (which takes vlt.lock) */
		mutex_unlock(&vlt.lock);
		debugfs_remove(vlt.dir);
		mutex_lock(&vlt.lock);
		vlt.inflate_vq = NULL;
		vlt.deflate_vq = NULL;
		vlt.dir = NULL;
	}
	mutex_unlock(&vlt.lock);
	virtio_reset_device(vdev);
	/* reset: the device forgot them */
	while (mine && vlt.nr_held)
		__free_page(vlt.held[--vlt.nr_held]);
	vsg_shaping_remove(vs);
	vdev->config->del_vqs(vdev);
	vdev->priv = NULL;
	kfree(vs);
}

static unsigned int vlt_features[] = {
	VIRTIO_BALLOON_F_MUST_TELL_HOST,
	VIRTIO_BALLOON_F_VSHAPE,
};

static const struct virtio_device_id vlt_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct virtio_driver vlt_driver = {
	.feature_table = vlt_features,
	.feature_table_size = ARRAY_SIZE(vlt_features),
	.driver.name = "vshape_looptest",
	.id_table = vlt_id_table,
	.probe = vlt_probe,
	.remove = vlt_remove,
};

static int __init vlt_init(void)
{
	mutex_init(&vlt.lock);
	init_waitqueue_head(&vlt.wq);
	return register_virtio_driver(&vlt_driver);
}
module_init(vlt_init);

static void __exit vlt_exit(void)
{
	unregister_virtio_driver(&vlt_driver);
}
module_exit(vlt_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vshape loopback test driver (shaping queue, hostile standard-queue buffers)");
