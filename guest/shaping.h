/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: driver side of the shaping queue (VIRTIO_BALLOON_F_VSHAPE).
 *
 * Lifecycle, called by main.c:
 *   vs_shaping_init()     after find_vqs, when the feature was negotiated;
 *                         sets vs->shaping
 *   vs_shaping_vq_done()  the shaping queue's callback
 *   vs_shaping_remove()   after virtio_reset_device() and before del_vqs();
 *                         wakes and fails a waiting request, frees
 *                         vs->shaping
 *
 * Requests, called by the policy (process context, may sleep):
 *   vs_shaping_request()  send one request and wait for the device's answer
 */
#ifndef _VSHAPE_SHAPING_H
#define _VSHAPE_SHAPING_H

#include <linux/types.h>
#include <uapi/linux/vshape.h>

struct vshape_dev;
struct virtqueue;
struct vs_shaping;

int vs_shaping_init(struct vshape_dev *vs, struct virtqueue *vq);
void vs_shaping_vq_done(struct virtqueue *vq);
void vs_shaping_remove(struct vshape_dev *vs);

/*
 * Send one request: @op is VSHAPE_OP_*, @ext the @nr extents (guest-physical
 * addresses, little endian as in the uapi header).  Sleeps until the device
 * answers; requests are serialised.  Returns 0 with @resp filled (look at
 * resp->status), -EINVAL if the request breaks the device's advertised
 * limits (nothing sent), -EIO if the device answered without a response,
 * -ETIMEDOUT or -ENODEV if the queue is unusable.
 */
int vs_shaping_request(struct vs_shaping *sh, u16 op,
		       const struct vshape_extent *ext, unsigned int nr,
		       struct vshape_resp *resp);

/* Limits read from the device configuration at init. */
unsigned int vs_shaping_max_extents(const struct vs_shaping *sh);
u64 vs_shaping_max_request_bytes(const struct vs_shaping *sh);
/* Current vshape_config.capacity_hint (reads config space). */
u64 vs_shaping_capacity_hint(struct vs_shaping *sh);

#endif /* _VSHAPE_SHAPING_H */
