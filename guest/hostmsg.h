/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: the messages that tell the host about balloon pages.
 *
 * A message is built in the device's buffers (vs->pfns: 4 KiB PFNs for
 * the standard inflate/deflate queues; vs->ext: 2 MiB extents for the
 * shaping queue) and sent when full or at the end of a pass.  Everything
 * here runs under balloon_lock, which owns those buffers; nothing here
 * decides what to send or calls back into the balloon or the policy.
 * The RESERVE and RELEASE senders the policy calls, vsg_msg_reserve() and
 * vsg_msg_release(), are declared in vshape_guest.h.
 */
#ifndef _VSHAPE_HOSTMSG_H
#define _VSHAPE_HOSTMSG_H

#include <linux/types.h>

struct vsg_dev;
struct virtqueue;
struct page;

/* Callback of the inflate, deflate and reporting queues: wakes waiters. */
void vsg_balloon_ack(struct virtqueue *vq);

/* The shaping queue is up / gone: size or free the extent buffer. */
int vsg_hostmsg_shaping_start(struct vsg_dev *vs);
void vsg_hostmsg_shaping_stop(struct vsg_dev *vs);

/* Name a block of 2^@order pages in the next message. */
void vsg_msg_add_block(struct vsg_dev *vs, struct page *page,
		       unsigned int order);
/* Name a 2 MiB block as an extent only (shaping queue requests). */
void vsg_msg_add_extent(struct vsg_dev *vs, u64 gpa);
/* Is there no room for one more 2 MiB block? */
bool vsg_msg_full(struct vsg_dev *vs);

/*
 * Send what was named: PFNs on the inflate (@inflate) or deflate queue,
 * extents as INFLATE or DEFLATE, the latter preceded by @pre_op on the
 * same extents when @pre_op is not 0 (COMMIT: the host backs the blocks
 * before the guest takes them; its answer does not stop the deflation).
 * Empties the message.  0 only if the host took it all.
 */
int vsg_msg_flush(struct vsg_dev *vs, bool inflate, u16 pre_op);
/* Drop what was named without sending it. */
void vsg_msg_clear(struct vsg_dev *vs);

#endif /* _VSHAPE_HOSTMSG_H */
