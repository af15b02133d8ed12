// SPDX-License-Identifier: GPL-2.0
/*
 * vshape guest: driver side of the shaping queue (VIRTIO_BALLOON_F_VSHAPE).
 *
 * One request is in flight at a time: vs_shaping_request() takes req_lock,
 * puts the request (header + extents, device-readable) and the response
 * (device-writable) on the queue, kicks, and sleeps until the device
 * returns the buffer.  The queue callback only wakes the sleeper.
 *
 * debugfs (under the device's directory, "shaping/"), root only:
 *   stats    requests and statuses seen
 *   limits   the device's advertised limits
 *   request  TEST MODE: write one line to send a raw, possibly malformed,
 *            request (see docs/host.md, "Guest test mode")
 *   last     the result of the last test-mode request
 *   blocks   2 MiB blocks allocated (zeroed) with "alloc", as "index gpa"
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

/* Extents the request buffer holds: the device limit plus room to lie. */
#define VS_SH_BUF_EXTENTS	1024
#define VS_SH_REQ_SIZE		(sizeof(struct vshape_req_hdr) + \
				 VS_SH_BUF_EXTENTS * sizeof(struct vshape_extent))
#define VS_SH_TIMEOUT		(30 * HZ)
#define VS_SH_MAX_BLOCKS	1024
#define VS_SH_BLOCK_ORDER	(21 - PAGE_SHIFT)

/* Device configuration as the driver sees it. */
struct vs_sh_config {
	struct virtio_balloon_config balloon;
	struct vshape_config vshape;
};

struct vs_shaping {
	struct vshape_dev *vs;
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
	void *req;			/* header + VS_SH_BUF_EXTENTS extents */
	struct vshape_resp *resp;
	u32 next_id;
	bool broken;			/* a request timed out: queue unusable */
	u64 nr_op[VSHAPE_OP_REPORT + 2];	/* last slot: other ops */
	u64 nr_status[VSHAPE_S_INVALID + 2];	/* last slot: other values */
	u64 nr_errors;

	/*
	 * test_lock protects the test-mode state: blocks, nr_blocks and
	 * last.  Taken before req_lock when both are needed.
	 */
	struct mutex test_lock;
	struct page **blocks;
	unsigned int nr_blocks;
	char last[160];

	struct dentry *dir;
	bool own_dir;			/* dir is ours, not under debugfs_dir */
};

static void vs_sh_count(struct vs_shaping *sh, unsigned int op,
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

/*
 * Send the first @out_len bytes of sh->req and, if @want_resp, sh->resp as
 * the writable part.  Called with req_lock held.  Returns the used length
 * or a negative errno.
 */
static int vs_sh_xmit(struct vs_shaping *sh, size_t out_len, bool want_resp)
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
				  VS_SH_TIMEOUT);
	if (!buf) {
		/* the device still owns the buffers: never reuse them */
		sh->broken = true;
		return left ? -ENODEV : -ETIMEDOUT;
	}
	return len;
}

int vs_shaping_request(struct vs_shaping *sh, u16 op,
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
	ret = vs_sh_xmit(sh, sizeof(*h) + nr * sizeof(*ext), true);
	if (ret >= 0 && ret < (int)sizeof(*resp))
		ret = -EIO;
	if (ret >= 0) {
		memcpy(resp, sh->resp, sizeof(*resp));
		ret = 0;
	}
	vs_sh_count(sh, op, resp, ret);
	mutex_unlock(&sh->req_lock);
	return ret;
}

unsigned int vs_shaping_max_extents(const struct vs_shaping *sh)
{
	return sh->max_extents;
}

u64 vs_shaping_max_request_bytes(const struct vs_shaping *sh)
{
	return sh->max_request_bytes;
}

u64 vs_shaping_capacity_hint(struct vs_shaping *sh)
{
	u64 v;

	virtio_cread_le(sh->vs->vdev, struct vs_sh_config,
			vshape.capacity_hint, &v);
	return v;
}

void vs_shaping_vq_done(struct virtqueue *vq)
{
	struct vshape_dev *vs = vq->vdev->priv;

	if (vs && vs->shaping)
		wake_up(&vs->shaping->wq);
}

/* ---- test mode ---------------------------------------------------------- */

static void vs_sh_free_blocks(struct vs_shaping *sh)
{
	unsigned int i;

	for (i = 0; i < sh->nr_blocks; i++)
		__free_pages(sh->blocks[i], VS_SH_BLOCK_ORDER);
	sh->nr_blocks = 0;
}

static int vs_sh_alloc_blocks(struct vs_shaping *sh, unsigned long mib)
{
	unsigned long n = mib / 2;

	while (n-- && sh->nr_blocks < VS_SH_MAX_BLOCKS) {
		struct page *p = alloc_pages(GFP_HIGHUSER | __GFP_ZERO | __GFP_NOWARN |
					     __GFP_NORETRY, VS_SH_BLOCK_ORDER);

		if (!p)
			return -ENOMEM;
		sh->blocks[sh->nr_blocks++] = p;
	}
	return 0;
}

static int vs_sh_parse_op(const char *s, unsigned int *op)
{
	static const char * const names[] = {
		"", "inflate", "deflate", "reserve", "commit", "release",
	};
	unsigned int i;

	for (i = 1; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*op = i;
			return 0;
		}
	return kstrtouint(s, 0, op);
}

/*
 * Add extents for one token: "GPA:LEN", "bN" (block N) or "bN-M" (blocks N
 * to M, one extent each).
 */
static int vs_sh_parse_ext(struct vs_shaping *sh, char *tok,
			   struct vshape_extent *ext, unsigned int *nr)
{
	unsigned int first, last, i;
	char *colon, *dash;
	u64 gpa, len;
	int ret;

	if (tok[0] == 'b') {
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		ret = kstrtouint(tok + 1, 0, &first);
		if (ret)
			return ret;
		last = first;
		if (dash) {
			ret = kstrtouint(dash + 1, 0, &last);
			if (ret)
				return ret;
		}
		if (last < first || last >= sh->nr_blocks)
			return -ERANGE;
		for (i = first; i <= last; i++) {
			if (*nr >= VS_SH_BUF_EXTENTS)
				return -E2BIG;
			ext[*nr].gpa = cpu_to_le64(page_to_phys(sh->blocks[i]));
			ext[*nr].len = cpu_to_le64(PAGE_SIZE << VS_SH_BLOCK_ORDER);
			(*nr)++;
		}
		return 0;
	}
	colon = strchr(tok, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	ret = kstrtou64(tok, 0, &gpa);
	if (!ret)
		ret = kstrtou64(colon + 1, 0, &len);
	if (ret)
		return ret;
	if (*nr >= VS_SH_BUF_EXTENTS)
		return -E2BIG;
	ext[*nr].gpa = cpu_to_le64(gpa);
	ext[*nr].len = cpu_to_le64(len);
	(*nr)++;
	return 0;
}

/*
 * "req OP [nr=N] [rsv=X] [short=B] [noresp] EXT..." sends a raw request:
 * nr= overrides the header's extent count, rsv= the reserved field,
 * short= truncates the readable part to B bytes, noresp sends no
 * writable buffer.  No driver-side check is applied.
 */
static int vs_sh_test_req(struct vs_shaping *sh, char *args)
{
	struct vshape_req_hdr *h;
	struct vshape_extent *ext;
	unsigned int op = 0, nr = 0, nr_field = 0, st;
	bool have_nr = false, want_resp = true;
	u64 rsv = 0, short_len = 0;
	size_t out_len;
	char *tok;
	int ret;

	mutex_lock(&sh->req_lock);
	h = sh->req;
	ext = (struct vshape_extent *)(h + 1);
	tok = strsep(&args, " ");
	ret = tok ? vs_sh_parse_op(tok, &op) : -EINVAL;
	while (!ret && (tok = strsep(&args, " "))) {
		if (!*tok)
			continue;
		if (!strncmp(tok, "nr=", 3)) {
			ret = kstrtouint(tok + 3, 0, &nr_field);
			have_nr = true;
		} else if (!strncmp(tok, "rsv=", 4)) {
			ret = kstrtou64(tok + 4, 0, &rsv);
		} else if (!strncmp(tok, "short=", 6)) {
			ret = kstrtou64(tok + 6, 0, &short_len);
		} else if (!strcmp(tok, "noresp")) {
			want_resp = false;
		} else {
			ret = vs_sh_parse_ext(sh, tok, ext, &nr);
		}
	}
	if (ret)
		goto out;
	h->op = cpu_to_le16(op);
	h->nr_extents = cpu_to_le16(have_nr ? nr_field : nr);
	h->id = cpu_to_le32(++sh->next_id);
	h->reserved = cpu_to_le64(rsv);
	out_len = sizeof(*h) + nr * sizeof(*ext);
	if (short_len && short_len < out_len)
		out_len = short_len;
	ret = vs_sh_xmit(sh, out_len, want_resp);
	if (ret < 0) {
		vs_sh_count(sh, op, NULL, ret);
		goto out;
	}
	if (!want_resp || ret < (int)sizeof(*sh->resp)) {
		snprintf(sh->last, sizeof(sh->last), "ret=0 used_len=%d\n",
			 ret);
		ret = 0;
		goto out_unlock;
	}
	vs_sh_count(sh, op, sh->resp, 0);
	st = le16_to_cpu(sh->resp->status);
	snprintf(sh->last, sizeof(sh->last),
		 "ret=0 used_len=%d id=%u status=%u granted=%llu capacity=%llu\n",
		 ret, le32_to_cpu(sh->resp->id), st,
		 le64_to_cpu(sh->resp->granted),
		 le64_to_cpu(sh->resp->capacity));
	ret = 0;
	goto out_unlock;
out:
	snprintf(sh->last, sizeof(sh->last), "ret=%d\n", ret);
out_unlock:
	mutex_unlock(&sh->req_lock);
	return ret;
}

static ssize_t vs_sh_request_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct vs_shaping *sh = file->private_data;
	unsigned long mib;
	char *buf, *p;
	int ret;

	if (count > 8192)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	p = strim(buf);

	mutex_lock(&sh->test_lock);
	if (!strncmp(p, "alloc ", 6)) {
		ret = kstrtoul(p + 6, 0, &mib);
		if (!ret)
			ret = vs_sh_alloc_blocks(sh, mib);
		snprintf(sh->last, sizeof(sh->last), "ret=%d blocks=%u\n",
			 ret, sh->nr_blocks);
	} else if (!strcmp(p, "free")) {
		vs_sh_free_blocks(sh);
		snprintf(sh->last, sizeof(sh->last), "ret=0 blocks=0\n");
		ret = 0;
	} else if (!strncmp(p, "req ", 4)) {
		ret = vs_sh_test_req(sh, p + 4);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&sh->test_lock);
	kfree(buf);
	return ret ? ret : count;
}

static const struct file_operations vs_sh_request_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vs_sh_request_write,
	.llseek = noop_llseek,
};

static int vs_sh_last_show(struct seq_file *m, void *v)
{
	struct vs_shaping *sh = m->private;

	mutex_lock(&sh->test_lock);
	seq_puts(m, sh->last);
	mutex_unlock(&sh->test_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_sh_last);

static int vs_sh_blocks_show(struct seq_file *m, void *v)
{
	struct vs_shaping *sh = m->private;
	unsigned int i;

	mutex_lock(&sh->test_lock);
	for (i = 0; i < sh->nr_blocks; i++)
		seq_printf(m, "%u 0x%llx\n", i,
			   (u64)page_to_phys(sh->blocks[i]));
	mutex_unlock(&sh->test_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_sh_blocks);

static int vs_sh_stats_show(struct seq_file *m, void *v)
{
	static const char * const ops[] = {
		"bad", "inflate", "deflate", "reserve", "commit", "release",
		"report", "other",
	};
	static const char * const sts[] = {
		"done", "partial", "refused_capacity", "invalid", "other",
	};
	struct vs_shaping *sh = m->private;
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
DEFINE_SHOW_ATTRIBUTE(vs_sh_stats);

static int vs_sh_limits_show(struct seq_file *m, void *v)
{
	struct vs_shaping *sh = m->private;

	seq_printf(m, "max_extents %u\nmin_align %llu\nmax_request_bytes %llu\ncapacity_hint %llu\n",
		   sh->max_extents, sh->min_align, sh->max_request_bytes,
		   vs_shaping_capacity_hint(sh));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_sh_limits);

static void vs_sh_debugfs_init(struct vs_shaping *sh)
{
	struct vshape_dev *vs = sh->vs;
	char name[64];

	if (vs->debugfs_dir) {
		sh->dir = debugfs_create_dir("shaping", vs->debugfs_dir);
	} else {
		snprintf(name, sizeof(name), "vshape_shaping-%s",
			 dev_name(&vs->vdev->dev));
		sh->dir = debugfs_create_dir(name, NULL);
		sh->own_dir = true;
	}
	debugfs_create_file("stats", 0400, sh->dir, sh, &vs_sh_stats_fops);
	debugfs_create_file("limits", 0400, sh->dir, sh, &vs_sh_limits_fops);
	debugfs_create_file("request", 0200, sh->dir, sh, &vs_sh_request_fops);
	debugfs_create_file("last", 0400, sh->dir, sh, &vs_sh_last_fops);
	debugfs_create_file("blocks", 0400, sh->dir, sh, &vs_sh_blocks_fops);
}

/* ---- lifecycle ---------------------------------------------------------- */

int vs_shaping_init(struct vshape_dev *vs, struct virtqueue *vq)
{
	struct vs_shaping *sh;
	u16 version, max_ext;
	u32 min_align;
	u64 max_bytes;

	BUILD_BUG_ON(sizeof(struct vshape_config) != 32);
	BUILD_BUG_ON(sizeof(struct vshape_req_hdr) != 16);
	BUILD_BUG_ON(sizeof(struct vshape_extent) != 16);
	BUILD_BUG_ON(sizeof(struct vshape_resp) != 24);
	BUILD_BUG_ON(offsetof(struct vs_sh_config, vshape) !=
		     VSHAPE_CONFIG_OFFSET);

	virtio_cread_le(vs->vdev, struct vs_sh_config, vshape.version,
			&version);
	virtio_cread_le(vs->vdev, struct vs_sh_config, vshape.max_extents,
			&max_ext);
	virtio_cread_le(vs->vdev, struct vs_sh_config, vshape.min_align,
			&min_align);
	virtio_cread_le(vs->vdev, struct vs_sh_config,
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
	sh->req = kzalloc(VS_SH_REQ_SIZE, GFP_KERNEL);
	sh->resp = kzalloc(sizeof(*sh->resp), GFP_KERNEL);
	sh->blocks = kcalloc(VS_SH_MAX_BLOCKS, sizeof(*sh->blocks),
			     GFP_KERNEL);
	if (!sh->req || !sh->resp || !sh->blocks) {
		kfree(sh->req);
		kfree(sh->resp);
		kfree(sh->blocks);
		kfree(sh);
		return -ENOMEM;
	}
	sh->vs = vs;
	sh->vq = vq;
	sh->max_extents = min_t(unsigned int, max_ext, VS_SH_BUF_EXTENTS);
	sh->min_align = min_align;
	sh->max_request_bytes = max_bytes;
	init_waitqueue_head(&sh->wq);
	mutex_init(&sh->req_lock);
	mutex_init(&sh->test_lock);
	vs->shaping = sh;
	vs_sh_debugfs_init(sh);
	return 0;
}

/*
 * Call after the device was reset (so it no longer writes our buffers) and
 * before the queues are deleted.  A request still waiting is woken and
 * fails with -ENODEV.
 */
void vs_shaping_remove(struct vshape_dev *vs)
{
	struct vs_shaping *sh = vs->shaping;

	if (!sh)
		return;
	WRITE_ONCE(sh->removing, true);
	wake_up(&sh->wq);
	debugfs_remove_recursive(sh->dir);
	/* wait for any request and test command to finish */
	mutex_lock(&sh->test_lock);
	mutex_lock(&sh->req_lock);
	mutex_unlock(&sh->req_lock);
	vs_sh_free_blocks(sh);
	mutex_unlock(&sh->test_lock);
	vs->shaping = NULL;
	kfree(sh->req);
	kfree(sh->resp);
	kfree(sh->blocks);
	mutex_destroy(&sh->req_lock);
	mutex_destroy(&sh->test_lock);
	kfree(sh);
}
