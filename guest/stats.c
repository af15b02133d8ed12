// SPDX-License-Identifier: GPL-2.0
/*
 * The statistics queue (VIRTIO_BALLOON_F_STATS_VQ).
 *
 * The driver keeps one buffer on the queue.  The host asks for fresh
 * statistics by returning it; the callback then queues stats_work, which
 * refills the buffer from the kernel's real counters and hands it back.
 */

#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/vmstat.h>

#include "vshape_guest.h"

static void vsg_stat_set(struct vsg_dev *vs, unsigned int *idx, u16 tag,
			 u64 val)
{
	if (WARN_ON_ONCE(*idx >= VSG_NR_STATS))
		return;
	vs->stats[*idx].tag = cpu_to_virtio16(vs->vdev, tag);
	vs->stats[*idx].val = cpu_to_virtio64(vs->vdev, val);
	(*idx)++;
}

#define pages_to_bytes(x) ((u64)(x) << PAGE_SHIFT)

/* Fill vs->stats from vmstat and meminfo; returns the number of entries. */
static unsigned int vsg_stats_fill(struct vsg_dev *vs)
{
	unsigned long events[NR_VM_EVENT_ITEMS];
	unsigned long caches;
	unsigned int idx = 0;
	struct sysinfo i;

	all_vm_events(events);
	si_meminfo(&i);
	caches = global_node_page_state(NR_FILE_PAGES);

#ifdef CONFIG_VM_EVENT_COUNTERS
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_SWAP_IN,
		     pages_to_bytes(events[PSWPIN]));
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_SWAP_OUT,
		     pages_to_bytes(events[PSWPOUT]));
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_MAJFLT, events[PGMAJFAULT]);
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_MINFLT, events[PGFAULT]);
#endif
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_MEMFREE,
		     pages_to_bytes(i.freeram));
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_MEMTOT,
		     pages_to_bytes(i.totalram));
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_AVAIL,
		     pages_to_bytes(si_mem_available()));
	vsg_stat_set(vs, &idx, VIRTIO_BALLOON_S_CACHES, pages_to_bytes(caches));
	return idx;
}

static int vsg_stats_give(struct vsg_dev *vs)
{
	struct scatterlist sg;
	unsigned int n = vsg_stats_fill(vs);
	int err;

	sg_init_one(&sg, vs->stats, sizeof(vs->stats[0]) * n);
	err = virtqueue_add_outbuf(vs->stats_vq, &sg, 1, vs, GFP_KERNEL);
	if (!err)
		virtqueue_kick(vs->stats_vq);
	return err;
}

/* The host returned the buffer: it wants fresh numbers. */
void vsg_stats_ack(struct virtqueue *vq)
{
	struct vsg_dev *vs = vq->vdev->priv;

	vsg_queue_work(vs, &vs->stats_work);
}

void vsg_stats_work(struct work_struct *work)
{
	struct vsg_dev *vs = container_of(work, struct vsg_dev,
					     stats_work);
	unsigned int len;

	/* The buffer is ours again only once the device returned it. */
	if (!virtqueue_get_buf(vs->stats_vq, &len))
		return;
	vsg_stats_give(vs);
}

/* Prime the queue with a first buffer, as the specification requires. */
int vsg_stats_start(struct vsg_dev *vs)
{
	return vsg_stats_give(vs);
}
