// SPDX-License-Identifier: GPL-2.0
/*
 * vshape guest, test flavour only (VSHAPE_TEST=1): a raw-request injector
 * for the shaping queue, so that suites can send the host any request,
 * malformed ones included, without a policy deciding.  It can allocate
 * up to 2 GiB of 2 MiB blocks, which is why the default build leaves it
 * out (make check verifies that).  debugfs, beside shaping.c's files:
 *
 *   request  write one line (see docs/host.md, "Guest test mode"):
 *            "alloc MIB", "free", "req OP [nr=N] [rsv=X] [short=B]
 *            [noresp] EXT..."
 *   last     the result of the last command
 *   blocks   2 MiB blocks allocated (zeroed) with "alloc", as "index gpa"
 */
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "shaping_internal.h"

#define VSG_SH_MAX_BLOCKS	1024
#define VSG_SH_BLOCK_ORDER	(21 - PAGE_SHIFT)

struct vsg_sh_test {
	/*
	 * lock protects blocks, nr_blocks and last, and serialises test
	 * commands.  Taken before sh->req_lock when both are needed.
	 */
	struct mutex lock;
	struct page **blocks;
	unsigned int nr_blocks;
	char last[160];
};

static void vsg_sh_free_blocks(struct vsg_sh_test *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_blocks; i++)
		__free_pages(t->blocks[i], VSG_SH_BLOCK_ORDER);
	t->nr_blocks = 0;
}

static int vsg_sh_alloc_blocks(struct vsg_sh_test *t, unsigned long mib)
{
	unsigned long n = mib / 2;

	while (n-- && t->nr_blocks < VSG_SH_MAX_BLOCKS) {
		struct page *p = alloc_pages(GFP_HIGHUSER | __GFP_ZERO | __GFP_NOWARN |
					     __GFP_NORETRY, VSG_SH_BLOCK_ORDER);

		if (!p)
			return -ENOMEM;
		t->blocks[t->nr_blocks++] = p;
	}
	return 0;
}

static int vsg_sh_parse_op(const char *s, unsigned int *op)
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
static int vsg_sh_parse_ext(struct vsg_shaping *sh, char *tok,
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
		if (last < first || last >= sh->test->nr_blocks)
			return -ERANGE;
		for (i = first; i <= last; i++) {
			if (*nr >= VSG_SH_BUF_EXTENTS)
				return -E2BIG;
			ext[*nr].gpa = cpu_to_le64(page_to_phys(sh->test->blocks[i]));
			ext[*nr].len = cpu_to_le64(PAGE_SIZE << VSG_SH_BLOCK_ORDER);
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
	if (*nr >= VSG_SH_BUF_EXTENTS)
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
static int vsg_sh_test_req(struct vsg_shaping *sh, char *args)
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
	ret = tok ? vsg_sh_parse_op(tok, &op) : -EINVAL;
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
			ret = vsg_sh_parse_ext(sh, tok, ext, &nr);
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
	ret = vsg_sh_xmit(sh, out_len, want_resp);
	if (ret < 0) {
		vsg_sh_count(sh, op, NULL, ret);
		goto out;
	}
	if (!want_resp || ret < (int)sizeof(*sh->resp)) {
		snprintf(sh->test->last, sizeof(sh->test->last), "ret=0 used_len=%d\n",
			 ret);
		ret = 0;
		goto out_unlock;
	}
	vsg_sh_count(sh, op, sh->resp, 0);
	st = le16_to_cpu(sh->resp->status);
	snprintf(sh->test->last, sizeof(sh->test->last),
		 "ret=0 used_len=%d id=%u status=%u granted=%llu capacity=%llu\n",
		 ret, le32_to_cpu(sh->resp->id), st,
		 le64_to_cpu(sh->resp->granted),
		 le64_to_cpu(sh->resp->capacity));
	ret = 0;
	goto out_unlock;
out:
	snprintf(sh->test->last, sizeof(sh->test->last), "ret=%d\n", ret);
out_unlock:
	mutex_unlock(&sh->req_lock);
	return ret;
}

static ssize_t vsg_sh_request_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct vsg_shaping *sh = file->private_data;
	unsigned long mib;
	char *buf, *p;
	int ret;

	if (count > 8192)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	p = strim(buf);

	mutex_lock(&sh->test->lock);
	if (!strncmp(p, "alloc ", 6)) {
		ret = kstrtoul(p + 6, 0, &mib);
		if (!ret)
			ret = vsg_sh_alloc_blocks(sh->test, mib);
		snprintf(sh->test->last, sizeof(sh->test->last),
			 "ret=%d blocks=%u\n", ret, sh->test->nr_blocks);
	} else if (!strcmp(p, "free")) {
		vsg_sh_free_blocks(sh->test);
		snprintf(sh->test->last, sizeof(sh->test->last), "ret=0 blocks=0\n");
		ret = 0;
	} else if (!strncmp(p, "req ", 4)) {
		ret = vsg_sh_test_req(sh, p + 4);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&sh->test->lock);
	kfree(buf);
	return ret ? ret : count;
}

static const struct file_operations vsg_sh_request_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vsg_sh_request_write,
	.llseek = noop_llseek,
};

static int vsg_sh_last_show(struct seq_file *m, void *v)
{
	struct vsg_sh_test *t = m->private;

	mutex_lock(&t->lock);
	seq_puts(m, t->last);
	mutex_unlock(&t->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_sh_last);

static int vsg_sh_blocks_show(struct seq_file *m, void *v)
{
	struct vsg_sh_test *t = m->private;
	unsigned int i;

	mutex_lock(&t->lock);
	for (i = 0; i < t->nr_blocks; i++)
		seq_printf(m, "%u 0x%llx\n", i,
			   (u64)page_to_phys(t->blocks[i]));
	mutex_unlock(&t->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_sh_blocks);

int vsg_sh_test_init(struct vsg_shaping *sh)
{
	struct vsg_sh_test *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->blocks = kcalloc(VSG_SH_MAX_BLOCKS, sizeof(*t->blocks), GFP_KERNEL);
	if (!t->blocks) {
		kfree(t);
		return -ENOMEM;
	}
	mutex_init(&t->lock);
	sh->test = t;
	debugfs_create_file("request", 0200, sh->dir, sh, &vsg_sh_request_fops);
	debugfs_create_file("last", 0400, sh->dir, t, &vsg_sh_last_fops);
	debugfs_create_file("blocks", 0400, sh->dir, t, &vsg_sh_blocks_fops);
	return 0;
}

void vsg_sh_test_remove(struct vsg_shaping *sh)
{
	struct vsg_sh_test *t = sh->test;

	if (!t)
		return;
	/* the files are gone: wait for a command still running */
	mutex_lock(&t->lock);
	vsg_sh_free_blocks(t);
	mutex_unlock(&t->lock);
	sh->test = NULL;
	mutex_destroy(&t->lock);
	kfree(t->blocks);
	kfree(t);
}
