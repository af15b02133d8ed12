/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: the shaping queue's state, shared by shaping.c and the
 * raw-request injector of the test flavour (shaping_test.c, built only
 * with VSHAPE_TEST=1).  Nothing else includes this file: the rest of the
 * driver goes through shaping.h.
 */
#ifndef _VSHAPE_SHAPING_INTERNAL_H
#define _VSHAPE_SHAPING_INTERNAL_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/virtio_balloon.h>
#include <linux/wait.h>
#include <uapi/linux/vshape.h>

/* Extents the request buffer holds: the device limit plus room to lie. */
#define VSG_SH_BUF_EXTENTS	1024
#define VSG_SH_REQ_SIZE		(sizeof(struct vshape_req_hdr) + \
				 VSG_SH_BUF_EXTENTS * sizeof(struct vshape_extent))
#define VSG_SH_TIMEOUT		(30 * HZ)

/* Device configuration as the driver sees it. */
struct vsg_sh_config {
	struct virtio_balloon_config balloon;
	struct vshape_config vshape;
};

struct vsg_sh_test;

struct vsg_shaping {
	struct vsg_dev *vs;
	struct virtqueue *vq;
	wait_queue_head_t wq;		/* woken by the queue callback */
	bool removing;			/* set once by remove, then wake */

	/* limits read once at init */
	unsigned int max_extents;
	u64 min_align;
	u64 max_request_bytes;

	/*
	 * req_lock serialises requests: it protects req, resp, next_id,
	 * broken and the counters below, and is held while a request is in
	 * flight (the holder sleeps until the device answers).
	 */
	struct mutex req_lock;
	void *req;			/* header + VSG_SH_BUF_EXTENTS extents */
	struct vshape_resp *resp;
	u32 next_id;
	bool broken;			/* a request timed out: queue unusable */
	u64 nr_op[VSHAPE_OP_REPORT + 2];	/* last slot: other ops */
	u64 nr_status[VSHAPE_S_INVALID + 2];	/* last slot: other values */
	u64 nr_errors;

	struct vsg_sh_test *test;	/* test flavour only; set at init */
	struct dentry *dir;
	bool own_dir;			/* dir is ours, not under debugfs_dir */
};

/*
 * Send the first @out_len bytes of sh->req and, if @want_resp, sh->resp as
 * the writable part.  Called with req_lock held.  Returns the used length
 * or a negative errno.
 */
int vsg_sh_xmit(struct vsg_shaping *sh, size_t out_len, bool want_resp);
/* Count one request of @op and its answer @r (or error @ret). */
void vsg_sh_count(struct vsg_shaping *sh, unsigned int op,
		  const struct vshape_resp *r, int ret);

#ifdef VSHAPE_TEST
/* Add the injector's debugfs files to sh->dir; undo in remove. */
int vsg_sh_test_init(struct vsg_shaping *sh);
/* After sh->dir is gone: wait for a test command, free its blocks. */
void vsg_sh_test_remove(struct vsg_shaping *sh);
#else
static inline int vsg_sh_test_init(struct vsg_shaping *sh)
{
	return 0;
}

static inline void vsg_sh_test_remove(struct vsg_shaping *sh)
{
}
#endif

#endif /* _VSHAPE_SHAPING_INTERNAL_H */
