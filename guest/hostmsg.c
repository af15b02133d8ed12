// SPDX-License-Identifier: GPL-2.0
/*
 * Messages to the host about balloon pages (see hostmsg.h).
 *
 * The host is told in messages of up to VSG_PFNS_PER_MSG 4 KiB PFNs (the
 * virtio-balloon unit whatever PAGE_SIZE is), and a message is complete
 * when the host returns the buffer.  With VIRTIO_BALLOON_F_VSHAPE, 2 MiB
 * blocks travel as extents on the shaping queue (INFLATE, DEFLATE and the
 * RESERVE, COMMIT and RELEASE of docs/protocol.md) instead of 512 PFNs
 * each; 4 KiB pages keep the standard queues.
 *
 * The vsg_msg_* functions are called with balloon_lock held: it owns
 * vs->pfns, vs->ext, the standard queues and the balloon's lists; only
 * vsg_msg_reserve() and vsg_msg_release(), which name blocks the balloon
 * already holds, take it themselves.  The config fields the host
 * and the guest exchange (num_pages, actual) are read and written here
 * too.
 */

#include <linux/bsearch.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/virtio_config.h>

#include "hostmsg.h"
#include "shaping.h"
#include "vshape_guest.h"

/* The host's target, in PAGE_SIZE units. */
u32 vsg_host_target_pages(struct vsg_dev *vs)
{
	u32 num_pages;

	/* Legacy devices use LE here too, as the in-tree driver notes. */
	virtio_cread_le(vs->vdev, struct virtio_balloon_config, num_pages,
			&num_pages);
	return num_pages >> (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);
}

void vsg_update_actual(struct vsg_dev *vs)
{
	u32 actual = READ_ONCE(vs->held_pages) <<
		     (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);

	virtio_cwrite_le(vs->vdev, struct virtio_balloon_config, actual,
			 &actual);
}

void vsg_balloon_ack(struct virtqueue *vq)
{
	struct vsg_dev *vs = vq->vdev->priv;

	wake_up(&vs->acked);
}

/* Send vs->pfns[0..nr_pfns) on @vq and wait for the host to return it. */
static int vsg_tell_host(struct vsg_dev *vs, struct virtqueue *vq)
{
	struct scatterlist sg;
	unsigned int len;
	int err;

	lockdep_assert_held(&vs->balloon_lock);
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
static void vsg_add_pfns(struct vsg_dev *vs, struct page *page,
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

static unsigned int vsg_balloon_pfns(unsigned int order)
{
	return (1U << order) << (PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT);
}

void vsg_msg_add_extent(struct vsg_dev *vs, u64 gpa)
{
	vs->ext[vs->nr_ext].gpa = cpu_to_le64(gpa);
	vs->ext[vs->nr_ext].len = cpu_to_le64(PAGE_SIZE << VSG_ORDER_2M);
	vs->nr_ext++;
}

void vsg_msg_add_block(struct vsg_dev *vs, struct page *page,
		       unsigned int order)
{
	if (order == VSG_ORDER_2M && vs->shaping)
		vsg_msg_add_extent(vs, page_to_phys(page));
	else
		vsg_add_pfns(vs, page, order);
}

bool vsg_msg_full(struct vsg_dev *vs)
{
	if (vs->shaping)
		return vs->nr_ext >= vs->max_ext ||
		       vs->nr_pfns + 1 > VSG_PFNS_PER_MSG;
	return vs->nr_pfns + vsg_balloon_pfns(VSG_ORDER_2M) > VSG_PFNS_PER_MSG;
}

/* Send the pending extents with @op; 0 only if the host did it all. */
static int vsg_send_extents(struct vsg_dev *vs, u16 op)
{
	struct vshape_resp resp;
	int err;

	err = vsg_shaping_request(vs->shaping, op, vs->ext, vs->nr_ext, &resp);
	vs->nr_shaping_msgs++;
	if (!err && le16_to_cpu(resp.status) != VSHAPE_S_DONE) {
		vs->nr_shaping_refused++;
		err = -EREMOTEIO;
	}
	if (err)
		vs->last_error = err;
	return err;
}

/*
 * Send the named extents as shaping request @op (RESERVE, RELEASE) and
 * empty the message; 0 only if the host did it all.
 */
static int vsg_msg_send_op(struct vsg_dev *vs, u16 op)
{
	int err = 0;

	lockdep_assert_held(&vs->balloon_lock);
	if (vs->nr_ext)
		err = vsg_send_extents(vs, op);
	vs->nr_ext = 0;
	return err;
}

void vsg_msg_clear(struct vsg_dev *vs)
{
	vs->nr_pfns = 0;
	vs->nr_ext = 0;
}

int vsg_msg_flush(struct vsg_dev *vs, bool inflate, u16 pre_op)
{
	int err;

	lockdep_assert_held(&vs->balloon_lock);
	err = vsg_tell_host(vs, inflate ? vs->inflate_vq : vs->deflate_vq);
	if (!err && vs->nr_ext) {
		if (!inflate && pre_op == VSHAPE_OP_COMMIT &&
		    !vsg_send_extents(vs, VSHAPE_OP_COMMIT))
			vs->nr_commits += vs->nr_ext;
		err = vsg_send_extents(vs, inflate ? VSHAPE_OP_INFLATE :
						     VSHAPE_OP_DEFLATE);
	}
	vsg_msg_clear(vs);
	return err;
}

/*
 * RESERVE the 2 MiB blocks a deflation would give back first (the head
 * of the balloon's 2 MiB list: balloon.c's vsg_deflate() takes them in
 * list order), up to @nr_pages of them, and put their addresses in @gpas
 * (room for @max).  Returns how many the host took (all or none: 0 on
 * any error or refusal, and without the shaping feature).
 */
unsigned int vsg_msg_reserve(struct vsg_dev *vs, unsigned long nr_pages,
			     u64 *gpas, unsigned int max)
{
	unsigned long covered = 0;
	unsigned int n = 0;
	struct page *page;

	mutex_lock(&vs->balloon_lock);
	if (!vs->shaping)
		goto out;
	list_for_each_entry(page, &vs->pages[VSG_CLASS_2M], lru) {
		if (covered >= nr_pages || n == max || vsg_msg_full(vs))
			break;
		gpas[n++] = page_to_phys(page);
		vsg_msg_add_extent(vs, page_to_phys(page));
		covered += VSG_PAGES_2M;
	}
	if (n && vsg_msg_send_op(vs, VSHAPE_OP_RESERVE))
		n = 0;
	vs->nr_reserves += n;
out:
	vsg_msg_clear(vs);
	mutex_unlock(&vs->balloon_lock);
	return n;
}

static int vsg_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * RELEASE those of the 2 MiB blocks at @gpas (@n of them; sorted here)
 * that are still in the balloon (a deflated block's DEFLATE already
 * dropped its reservation).  Returns how many the host took.
 */
unsigned int vsg_msg_release(struct vsg_dev *vs, u64 *gpas, unsigned int n)
{
	unsigned int sent = 0, named = 0;
	struct page *page;

	sort(gpas, n, sizeof(*gpas), vsg_cmp_u64, NULL);
	mutex_lock(&vs->balloon_lock);
	if (!vs->shaping)
		goto out;
	list_for_each_entry(page, &vs->pages[VSG_CLASS_2M], lru) {
		u64 gpa = page_to_phys(page);

		if (!bsearch(&gpa, gpas, n, sizeof(*gpas), vsg_cmp_u64))
			continue;
		vsg_msg_add_extent(vs, gpa);
		named++;
		if (vsg_msg_full(vs)) {
			if (!vsg_msg_send_op(vs, VSHAPE_OP_RELEASE))
				sent += named;
			named = 0;
		}
	}
	if (named && !vsg_msg_send_op(vs, VSHAPE_OP_RELEASE))
		sent += named;
	vs->nr_releases += sent;
out:
	vsg_msg_clear(vs);
	mutex_unlock(&vs->balloon_lock);
	return sent;
}

/* The shaping queue is up: size the extent buffer from its limits. */
int vsg_hostmsg_shaping_start(struct vsg_dev *vs)
{
	unsigned int max = min_t(unsigned int, VSG_EXT_PER_MSG,
				 vsg_shaping_max_extents(vs->shaping));
	u64 bytes = vsg_shaping_max_request_bytes(vs->shaping);

	max = min_t(u64, max, div64_u64(bytes, PAGE_SIZE << VSG_ORDER_2M));
	if (!max)
		return -EINVAL;
	vs->ext = kcalloc(max, sizeof(*vs->ext), GFP_KERNEL);
	if (!vs->ext)
		return -ENOMEM;
	vs->max_ext = max;
	return 0;
}

/* Called once the device is reset. */
void vsg_hostmsg_shaping_stop(struct vsg_dev *vs)
{
	kfree(vs->ext);
	vs->ext = NULL;
	vs->max_ext = 0;
	vs->nr_ext = 0;
}
