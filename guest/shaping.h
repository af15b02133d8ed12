/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: driver side of the shaping queue (VIRTIO_BALLOON_F_VSHAPE).
 *
 * Lifecycle, called by main.c:
 *   vsg_shaping_init()     after find_vqs, when the feature was negotiated;
 *                         sets vs->shaping
 *   vsg_shaping_vq_done()  the shaping queue's callback
 *   vsg_shaping_remove()   after virtio_reset_device() and before del_vqs();
 *                         wakes and fails a waiting request, frees
 *                         vs->shaping
 *
 * Requests, called by the policy (process context, may sleep):
 *   vsg_shaping_request()  send one request and wait for the device's answer
 */
#ifndef _VSHAPE_SHAPING_H
#define _VSHAPE_SHAPING_H

#include <linux/types.h>
#include <uapi/linux/vshape.h>

struct vsg_dev;
struct virtqueue;
struct vsg_shaping;

int vsg_shaping_init(struct vsg_dev *vs, struct virtqueue *vq);
void vsg_shaping_vq_done(struct virtqueue *vq);
void vsg_shaping_remove(struct vsg_dev *vs);

/*
 * Send one request: @op is VSHAPE_OP_*, @ext the @nr extents (guest-physical
 * addresses, little endian as in the uapi header).  Sleeps until the device
 * answers; requests are serialised.  Returns 0 with @resp filled (look at
 * resp->status), -EINVAL if the request breaks the device's advertised
 * limits (nothing sent), -EIO if the device answered without a response,
 * -ETIMEDOUT or -ENODEV if the queue is unusable.
 */
int vsg_shaping_request(struct vsg_shaping *sh, u16 op,
			const struct vshape_extent *ext, unsigned int nr,
			struct vshape_resp *resp);

/* Limits read from the device configuration at init. */
unsigned int vsg_shaping_max_extents(const struct vsg_shaping *sh);
u64 vsg_shaping_max_request_bytes(const struct vsg_shaping *sh);
/* Current vshape_config.capacity_hint (reads config space). */
u64 vsg_shaping_capacity_hint(struct vsg_shaping *sh);

#endif /* _VSHAPE_SHAPING_H */
