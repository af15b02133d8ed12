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

static void vs_stat_set(struct vshape_dev *vs, unsigned int *idx, u16 tag,
			u64 val)
{
	if (WARN_ON_ONCE(*idx >= VS_NR_STATS))
		return;
	vs->stats[*idx].tag = cpu_to_virtio16(vs->vdev, tag);
	vs->stats[*idx].val = cpu_to_virtio64(vs->vdev, val);
	(*idx)++;
}

#define pages_to_bytes(x) ((u64)(x) << PAGE_SHIFT)

/* Fill vs->stats from vmstat and meminfo; returns the number of entries. */
static unsigned int vs_stats_fill(struct vshape_dev *vs)
{
	unsigned long events[NR_VM_EVENT_ITEMS];
	unsigned long caches;
	unsigned int idx = 0;
	struct sysinfo i;

	all_vm_events(events);
	si_meminfo(&i);
	caches = global_node_page_state(NR_FILE_PAGES);

#ifdef CONFIG_VM_EVENT_COUNTERS
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_SWAP_IN,
		    pages_to_bytes(events[PSWPIN]));
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_SWAP_OUT,
		    pages_to_bytes(events[PSWPOUT]));
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_MAJFLT, events[PGMAJFAULT]);
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_MINFLT, events[PGFAULT]);
#endif
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_MEMFREE,
		    pages_to_bytes(i.freeram));
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_MEMTOT,
		    pages_to_bytes(i.totalram));
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_AVAIL,
		    pages_to_bytes(si_mem_available()));
	vs_stat_set(vs, &idx, VIRTIO_BALLOON_S_CACHES, pages_to_bytes(caches));
	return idx;
}

static int vs_stats_give(struct vshape_dev *vs)
{
	struct scatterlist sg;
	unsigned int n = vs_stats_fill(vs);
	int err;

	sg_init_one(&sg, vs->stats, sizeof(vs->stats[0]) * n);
	err = virtqueue_add_outbuf(vs->stats_vq, &sg, 1, vs, GFP_KERNEL);
	if (!err)
		virtqueue_kick(vs->stats_vq);
	return err;
}

/* The host returned the buffer: it wants fresh numbers. */
void vs_stats_ack(struct virtqueue *vq)
{
	struct vshape_dev *vs = vq->vdev->priv;

	vs_queue_work(vs, &vs->stats_work);
}

void vs_stats_work(struct work_struct *work)
{
	struct vshape_dev *vs = container_of(work, struct vshape_dev,
					     stats_work);
	unsigned int len;

	/* The buffer is ours again only once the device returned it. */
	if (!virtqueue_get_buf(vs->stats_vq, &len))
		return;
	vs_stats_give(vs);
}

/* Prime the queue with a first buffer, as the specification requires. */
int vs_stats_start(struct vshape_dev *vs)
{
	return vs_stats_give(vs);
}
