// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: split virtqueue walk.  The driver (a guest, or this kernel
 * in loopback) is not trusted: every index read from the ring is bounds
 * checked, a chain is at most num descriptors long (so a loop ends), only
 * NEXT and WRITE flags are accepted (INDIRECT is not offered), readable
 * descriptors must come before writable ones and lengths must be non-zero.
 *
 * All ring memory is accessed through vsh_mem_read()/vsh_mem_write(),
 * which refuse addresses outside the device's memory map.
 */
#include <linux/virtio_ring.h>
#include <linux/minmax.h>

#include "vshape_host.h"

enum vsh_role vsh_vq_role(const struct vsh_dev *d, unsigned int idx)
{
	unsigned int next = 2;

	if (idx == 0)
		return VSH_ROLE_INFLATE;
	if (idx == 1)
		return VSH_ROLE_DEFLATE;
	if (vsh_has(d, VIRTIO_BALLOON_F_STATS_VQ)) {
		if (idx == next)
			return VSH_ROLE_STATS;
		next++;
	}
	if (vsh_has(d, VIRTIO_BALLOON_F_VSHAPE) && idx == next)
		return VSH_ROLE_SHAPING;
	return VSH_ROLE_NONE;
}

static int vsh_read16(struct vsh_dev *d, u64 iova, u16 *v)
{
	__le16 x;
	int ret = vsh_mem_read(d, iova, &x, sizeof(x));

	*v = le16_to_cpu(x);
	return ret;
}

/* True if the driver has made a chain available that we have not taken. */
bool vsh_vq_pending(struct vsh_dev *d, struct vsh_vq *vq)
{
	u16 avail_idx;

	if (vsh_read16(d, vq->avail + offsetof(struct vring_avail, idx),
		       &avail_idx))
		return true;	/* let vsh_vq_pop() report the bad ring */
	return avail_idx != vq->last_avail;
}

/*
 * Take the next available chain.  Returns 0 with @ch filled, -ENOENT if the
 * ring is empty, -EPIPE if the ring is corrupt (the queue is then stopped),
 * -EINVAL if the chain was malformed (it was returned with length 0).
 */
int vsh_vq_pop(struct vsh_dev *d, struct vsh_vq *vq, struct vsh_chain *ch)
{
	u16 avail_idx, head, i, flags, next;
	unsigned int steps;
	struct vring_desc desc;
	u64 addr;
	u32 len;

	if (vsh_read16(d, vq->avail + offsetof(struct vring_avail, idx),
		       &avail_idx))
		goto ring_bad;
	if (avail_idx == vq->last_avail)
		return -ENOENT;
	if ((u16)(avail_idx - vq->last_avail) > vq->num)
		goto ring_bad;
	/* read the ring entry only after seeing the index */
	virt_rmb();
	if (vsh_read16(d, vq->avail + offsetof(struct vring_avail, ring) +
		       2ULL * (vq->last_avail & (vq->num - 1)), &head))
		goto ring_bad;
	vq->last_avail++;
	if (head >= vq->num) {
		d->stats.bad_head++;
		return -EINVAL;
	}

	memset(ch, 0, offsetof(struct vsh_chain, out));
	ch->head = head;
	i = head;
	for (steps = 0; ; steps++) {
		if (steps >= vq->num)
			goto chain_bad;		/* loop */
		if (vsh_mem_read(d, vq->desc + 16ULL * i, &desc, sizeof(desc)))
			goto chain_bad;
		addr = le64_to_cpu((__force __le64)desc.addr);
		len = le32_to_cpu((__force __le32)desc.len);
		flags = le16_to_cpu((__force __le16)desc.flags);
		next = le16_to_cpu((__force __le16)desc.next);
		if (flags & ~(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE))
			goto chain_bad;		/* INDIRECT or unknown */
		if (!len || addr + len < addr)
			goto chain_bad;
		if (flags & VRING_DESC_F_WRITE) {
			if (ch->nr_in >= VSH_MAX_SEGS)
				goto chain_bad;
			ch->in[ch->nr_in].addr = addr;
			ch->in[ch->nr_in++].len = len;
			ch->in_len += len;
		} else {
			if (ch->nr_in || ch->nr_out >= VSH_MAX_SEGS)
				goto chain_bad;	/* readable after writable */
			ch->out[ch->nr_out].addr = addr;
			ch->out[ch->nr_out++].len = len;
			ch->out_len += len;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		if (next >= vq->num)
			goto chain_bad;
		i = next;
	}
	return 0;

chain_bad:
	d->stats.bad_chain++;
	vsh_vq_push(d, vq, head, 0);
	vsh_vq_notify(vq);
	return -EINVAL;
ring_bad:
	d->stats.bad_ring++;
	return -EPIPE;
}

/*
 * Return a chain to the driver.  A used ring the device cannot write
 * (outside the map, read-only) is a corrupt ring: the queue stops and
 * the device asks for a reset, as for a runaway avail index, instead of
 * dropping the chain silently.
 */
int vsh_vq_push(struct vsh_dev *d, struct vsh_vq *vq, u16 head, u32 len)
{
	struct vring_used_elem e = {
		.id = (__force __virtio32)cpu_to_le32(head),
		.len = (__force __virtio32)cpu_to_le32(len),
	};
	__le16 idx;
	u64 slot = vq->used + offsetof(struct vring_used, ring) +
		   sizeof(e) * (vq->used_idx & (vq->num - 1));
	int ret;

	ret = vsh_mem_write(d, slot, &e, sizeof(e));
	if (ret)
		goto ring_bad;
	/* the element must be visible before the index that publishes it */
	virt_wmb();
	vq->used_idx++;
	idx = cpu_to_le16(vq->used_idx);
	ret = vsh_mem_write(d, vq->used + offsetof(struct vring_used, idx),
			    &idx, sizeof(idx));
	if (!ret)
		return 0;
ring_bad:
	d->stats.bad_ring++;
	vsh_needs_reset(d, vq);
	return ret;
}

void vsh_vq_notify(struct vsh_vq *vq)
{
	/* the used index must be visible before the interrupt */
	virt_mb();
	if (vq->cb.callback)
		vq->cb.callback(vq->cb.private);
}

/* Read @len bytes at byte offset @off of the chain's readable part. */
int vsh_chain_read(struct vsh_dev *d, const struct vsh_chain *ch, u64 off,
		   void *buf, size_t len)
{
	unsigned int i;
	u8 *p = buf;

	if (off > ch->out_len || len > ch->out_len - off)
		return -EINVAL;
	for (i = 0; i < ch->nr_out && len; i++) {
		u64 n;

		if (off >= ch->out[i].len) {
			off -= ch->out[i].len;
			continue;
		}
		n = min_t(u64, len, ch->out[i].len - off);
		if (vsh_mem_read(d, ch->out[i].addr + off, p, n))
			return -EFAULT;
		p += n;
		len -= n;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

/* Write @len bytes to the start of the chain's writable part. */
int vsh_chain_write(struct vsh_dev *d, const struct vsh_chain *ch,
		    const void *buf, size_t len)
{
	unsigned int i;
	const u8 *p = buf;

	if (len > ch->in_len)
		return -EINVAL;
	for (i = 0; i < ch->nr_in && len; i++) {
		u64 n = min_t(u64, len, ch->in[i].len);

		if (vsh_mem_write(d, ch->in[i].addr, p, n))
			return -EFAULT;
		p += n;
		len -= n;
	}
	return 0;
}
