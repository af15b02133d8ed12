// SPDX-License-Identifier: GPL-2.0
/*
 * vshape guest: driver side of the shaping queue (VIRTIO_BALLOON_F_VSHAPE).
 *
 * One request is in flight at a time: vsg_shaping_request() takes req_lock,
 * puts the request (header + extents, device-readable) and the response
 * (device-writable) on the queue, kicks, and sleeps until the device
 * returns the buffer.  The queue callback only wakes the sleeper.
 *
 * debugfs (under the device's directory, "shaping/"), root only:
 *   stats    requests and statuses seen
 *   limits   the device's advertised limits
 * The test flavour (VSHAPE_TEST=1) adds a raw-request injector there
 * (shaping_test.c); the default build has none.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/wait.h>
#include <linux/gfp.h>
#include <linux/mm.h>

#include "vshape_guest.h"
#include "shaping.h"
#include "shaping_internal.h"

void vsg_sh_count(struct vsg_shaping *sh, unsigned int op,
		  const struct vshape_resp *r, int ret)
{
	unsigned int st;

	sh->nr_op[min_t(unsigned int, op, VSHAPE_OP_REPORT + 1)]++;
	if (ret) {
		sh->nr_errors++;
		return;
	}
	st = le16_to_cpu(r->status);
	sh->nr_status[min_t(unsigned int, st, VSHAPE_S_INVALID + 1)]++;
}

int vsg_sh_xmit(struct vsg_shaping *sh, size_t out_len, bool want_resp)
{
	struct scatterlist out, in, *sgs[2];
	unsigned int len = 0;
	void *buf = NULL;
	long left;
	int ret;

	lockdep_assert_held(&sh->req_lock);
	if (sh->broken || READ_ONCE(sh->removing))
		return -ENODEV;
	sg_init_one(&out, sh->req, out_len);
	sgs[0] = &out;
	if (want_resp) {
		memset(sh->resp, 0, sizeof(*sh->resp));
		sg_init_one(&in, sh->resp, sizeof(*sh->resp));
		sgs[1] = &in;
	}
	ret = virtqueue_add_sgs(sh->vq, sgs, 1, want_resp ? 1 : 0, sh,
				GFP_KERNEL);
	if (ret)
		return ret;
	virtqueue_kick(sh->vq);
	left = wait_event_timeout(sh->wq,
				  (buf = virtqueue_get_buf(sh->vq, &len)) ||
				  READ_ONCE(sh->removing),
				  VSG_SH_TIMEOUT);
	if (!buf) {
		/* the device still owns the buffers: never reuse them */
		sh->broken = true;
		return left ? -ENODEV : -ETIMEDOUT;
	}
	return len;
}

int vsg_shaping_request(struct vsg_shaping *sh, u16 op,
			const struct vshape_extent *ext, unsigned int nr,
			struct vshape_resp *resp)
{
	struct vshape_req_hdr *h;
	u64 total = 0;
	unsigned int i;
	int ret;

	if (!sh)
		return -ENODEV;
	if (!nr || nr > sh->max_extents)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		u64 gpa = le64_to_cpu(ext[i].gpa), len = le64_to_cpu(ext[i].len);

		if (!len || !IS_ALIGNED(gpa | len, sh->min_align))
			return -EINVAL;
		total += len;
	}
	if (total > sh->max_request_bytes)
		return -EINVAL;

	mutex_lock(&sh->req_lock);
	h = sh->req;
	h->op = cpu_to_le16(op);
	h->nr_extents = cpu_to_le16(nr);
	h->id = cpu_to_le32(++sh->next_id);
	h->reserved = 0;
	memcpy(h + 1, ext, nr * sizeof(*ext));
	ret = vsg_sh_xmit(sh, sizeof(*h) + nr * sizeof(*ext), true);
	if (ret >= 0 && ret < (int)sizeof(*resp))
		ret = -EIO;
	if (ret >= 0) {
		memcpy(resp, sh->resp, sizeof(*resp));
		ret = 0;
	}
	vsg_sh_count(sh, op, resp, ret);
	mutex_unlock(&sh->req_lock);
	return ret;
}

unsigned int vsg_shaping_max_extents(const struct vsg_shaping *sh)
{
	return sh->max_extents;
}

u64 vsg_shaping_max_request_bytes(const struct vsg_shaping *sh)
{
	return sh->max_request_bytes;
}

u64 vsg_shaping_capacity_hint(struct vsg_shaping *sh)
{
	u64 v;

	virtio_cread_le(sh->vs->vdev, struct vsg_sh_config,
			vshape.capacity_hint, &v);
	return v;
}

void vsg_shaping_vq_done(struct virtqueue *vq)
{
	struct vsg_dev *vs = vq->vdev->priv;

	if (vs && vs->shaping)
		wake_up(&vs->shaping->wq);
}

static int vsg_sh_stats_show(struct seq_file *m, void *v)
{
	static const char * const ops[] = {
		"bad", "inflate", "deflate", "reserve", "commit", "release",
		"report", "other",
	};
	static const char * const sts[] = {
		"done", "partial", "refused_capacity", "invalid", "other",
	};
	struct vsg_shaping *sh = m->private;
	unsigned int i;

	mutex_lock(&sh->req_lock);
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		seq_printf(m, "op_%s %llu\n", ops[i], sh->nr_op[i]);
	for (i = 0; i < ARRAY_SIZE(sts); i++)
		seq_printf(m, "status_%s %llu\n", sts[i], sh->nr_status[i]);
	seq_printf(m, "errors %llu\n", sh->nr_errors);
	seq_printf(m, "broken %d\n", sh->broken);
	mutex_unlock(&sh->req_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_sh_stats);

static int vsg_sh_limits_show(struct seq_file *m, void *v)
{
	struct vsg_shaping *sh = m->private;

	seq_printf(m, "max_extents %u\nmin_align %llu\nmax_request_bytes %llu\ncapacity_hint %llu\n",
		   sh->max_extents, sh->min_align, sh->max_request_bytes,
		   vsg_shaping_capacity_hint(sh));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_sh_limits);

static void vsg_sh_debugfs_init(struct vsg_shaping *sh)
{
	struct vsg_dev *vs = sh->vs;
	char name[64];

	if (vs->debugfs_dir) {
		sh->dir = debugfs_create_dir("shaping", vs->debugfs_dir);
	} else {
		snprintf(name, sizeof(name), "vshape_shaping-%s",
			 dev_name(&vs->vdev->dev));
		sh->dir = debugfs_create_dir(name, NULL);
		sh->own_dir = true;
	}
	debugfs_create_file("stats", 0400, sh->dir, sh, &vsg_sh_stats_fops);
	debugfs_create_file("limits", 0400, sh->dir, sh, &vsg_sh_limits_fops);
}

/* ---- lifecycle ---------------------------------------------------------- */

int vsg_shaping_init(struct vsg_dev *vs, struct virtqueue *vq)
{
	struct vsg_shaping *sh;
	u16 version, max_ext;
	u32 min_align;
	u64 max_bytes;
	int ret;

	BUILD_BUG_ON(sizeof(struct vshape_config) != 32);
	BUILD_BUG_ON(sizeof(struct vshape_req_hdr) != 16);
	BUILD_BUG_ON(sizeof(struct vshape_extent) != 16);
	BUILD_BUG_ON(sizeof(struct vshape_resp) != 24);
	BUILD_BUG_ON(offsetof(struct vsg_sh_config, vshape) !=
		     VSHAPE_CONFIG_OFFSET);

	virtio_cread_le(vs->vdev, struct vsg_sh_config, vshape.version,
			&version);
	virtio_cread_le(vs->vdev, struct vsg_sh_config, vshape.max_extents,
			&max_ext);
	virtio_cread_le(vs->vdev, struct vsg_sh_config, vshape.min_align,
			&min_align);
	virtio_cread_le(vs->vdev, struct vsg_sh_config,
			vshape.max_request_bytes, &max_bytes);
	if (version != VSHAPE_VERSION || !max_ext ||
	    min_align < VSHAPE_MIN_ALIGN || (min_align & (min_align - 1)) ||
	    !max_bytes) {
		dev_warn(&vs->vdev->dev,
			 "shaping: unsupported device (version %u, max_extents %u, min_align %u)\n",
			 version, max_ext, min_align);
		return -EOPNOTSUPP;
	}

	sh = kzalloc(sizeof(*sh), GFP_KERNEL);
	if (!sh)
		return -ENOMEM;
	sh->req = kzalloc(VSG_SH_REQ_SIZE, GFP_KERNEL);
	sh->resp = kzalloc(sizeof(*sh->resp), GFP_KERNEL);
	if (!sh->req || !sh->resp) {
		kfree(sh->req);
		kfree(sh->resp);
		kfree(sh);
		return -ENOMEM;
	}
	sh->vs = vs;
	sh->vq = vq;
	sh->max_extents = min_t(unsigned int, max_ext, VSG_SH_BUF_EXTENTS);
	sh->min_align = min_align;
	sh->max_request_bytes = max_bytes;
	init_waitqueue_head(&sh->wq);
	mutex_init(&sh->req_lock);
	vs->shaping = sh;
	vsg_sh_debugfs_init(sh);
	ret = vsg_sh_test_init(sh);
	if (ret)
		vsg_shaping_remove(vs);
	return ret;
}

/*
 * Call after the device was reset (so it no longer writes our buffers) and
 * before the queues are deleted.  A request still waiting is woken and
 * fails with -ENODEV.
 */
void vsg_shaping_remove(struct vsg_dev *vs)
{
	struct vsg_shaping *sh = vs->shaping;

	if (!sh)
		return;
	WRITE_ONCE(sh->removing, true);
	wake_up(&sh->wq);
	debugfs_remove_recursive(sh->dir);
	vsg_sh_test_remove(sh);
	/* wait for a request in flight to finish */
	mutex_lock(&sh->req_lock);
	mutex_unlock(&sh->req_lock);
	vs->shaping = NULL;
	kfree(sh->req);
	kfree(sh->resp);
	mutex_destroy(&sh->req_lock);
	kfree(sh);
}
