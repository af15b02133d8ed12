// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: the standard virtio-balloon queues.
 *
 * Inflate and deflate buffers are arrays of little-endian 32-bit PFNs of
 * 4 KiB pages, at most VSH_MAX_PFN_BYTES per buffer (a larger buffer is
 * returned unprocessed and counted).  PFNs outside guest RAM are skipped
 * and counted; the rest are coalesced into runs of contiguous pages so an
 * inflate punches one hole per run.  The stats buffer is kept until the host asks for fresh
 * statistics (debugfs "stats_request"), as the virtio spec describes.
 */
#include <linux/slab.h>
#include <linux/unaligned.h>

#include "vshape_host.h"
#include "vshape_host_trace.h"

#define VSH_PFN_CHUNK	256

static void vsh_balloon_run(struct vsh_dev *d, bool inflate, u64 gpa, u64 len)
{
	u64 done;

	if (!len)
		return;
	/*
	 * A run whose pages are all INFLATED already is not punched again:
	 * a buffer repeating one PFN frees its page once, not once per copy.
	 */
	if (inflate && vsh_range_count(d, gpa, len, VSH_P_INFLATED) == len)
		return;
	done = vsh_range_set(d, gpa, len,
			     inflate ? VSH_P_INFLATED : VSH_P_GUEST, 0);
	if (inflate)
		vsh_backing_punch(d, gpa, done);
}

void vsh_balloon_process(struct vsh_dev *d, struct vsh_vq *vq, bool inflate,
			 struct vsh_chain *ch)
{
	__le32 pfns[VSH_PFN_CHUNK];
	u64 nr = ch->out_len / sizeof(__le32), done = 0, good = 0;
	u64 run_start = 0, run_len = 0;

	/* bounded work per buffer: a larger one is returned untouched */
	if (ch->out_len > VSH_MAX_PFN_BYTES) {
		d->stats.big_buf++;
		nr = 0;
	}

	while (done < nr) {
		unsigned int i, n = min_t(u64, nr - done, VSH_PFN_CHUNK);

		if (vsh_chain_read(d, ch, done * sizeof(__le32), pfns,
				   n * sizeof(__le32)))
			break;
		for (i = 0; i < n; i++) {
			u64 gpa = (u64)le32_to_cpu(pfns[i]) << VSH_PAGE_SHIFT;

			if (!vsh_range_is_ram(d, gpa, VSH_PAGE_SIZE)) {
				d->stats.bad_pfn++;
				continue;
			}
			good++;
			if (run_len && gpa == run_start + run_len) {
				run_len += VSH_PAGE_SIZE;
				continue;
			}
			vsh_balloon_run(d, inflate, run_start, run_len);
			run_start = gpa;
			run_len = VSH_PAGE_SIZE;
		}
		done += n;
	}
	vsh_balloon_run(d, inflate, run_start, run_len);
	if (inflate)
		d->stats.inflate_pages += good;
	else
		d->stats.deflate_pages += good;
	trace_vshape_host_balloon(dev_name(&d->vdpa.dev), inflate, nr, good);
	vsh_vq_push(d, vq, ch->head, 0);
	vsh_vq_notify(vq);
}

void vsh_stats_process(struct vsh_dev *d, struct vsh_vq *vq,
		       struct vsh_chain *ch)
{
	/* wire format: packed { __le16 tag; __le64 val; } */
	u8 buf[10];
	u64 off;

	d->stats.stats_bufs++;
	for (off = 0; off + sizeof(buf) <= ch->out_len &&
	     off < sizeof(buf) * 2 * VIRTIO_BALLOON_S_NR; off += sizeof(buf)) {
		u16 tag;

		if (vsh_chain_read(d, ch, off, buf, sizeof(buf)))
			break;
		tag = get_unaligned_le16(buf);
		if (tag < VIRTIO_BALLOON_S_NR)
			d->guest_stats[tag] = get_unaligned_le64(buf + 2);
	}
	vq->stats_held = true;
	vq->stats_head = ch->head;
}

/* Host side: ask the driver for a fresh stats buffer. */
void vsh_stats_request(struct vsh_dev *d)
{
	mutex_lock(&d->lock);
	d->stats_want = true;
	mutex_unlock(&d->lock);
	kthread_mod_delayed_work(d->worker, &d->work, 0);
}
