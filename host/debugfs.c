// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host debugfs: /sys/kernel/debug/vshape_host/<dev>/
 *   stats          counters (requests per op, statuses, rejected input)
 *   extents        the balloon's pages by state, as runs "<gpa> <bytes> <state>",
 *                  a page of output per hold of the device lock
 *   ledger         the host-wide capacity ledger and this device's charge
 *   stats_request  write anything: ask the driver for fresh balloon stats
 *   max_hold_ns    longest hold of the device lock by a worker step;
 *                  write 0 to reset
 *   fault_alloc    test flavour only (VSHAPE_TEST): Y makes every
 *                  page-state allocation fail, N stops it
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vshape_host.h"

static struct dentry *vsh_debugfs_root;

static const char * const vsh_op_names[] = {
	"bad_op", "inflate", "deflate", "reserve", "commit", "release",
	"report",
};

static const char * const vsh_status_names[] = {
	"done", "partial", "refused_capacity", "invalid",
};

static int vsh_stats_show(struct seq_file *m, void *v)
{
	struct vsh_dev *d = m->private;
	struct vsh_stats *s = &d->stats;
	unsigned int i;

	mutex_lock(&d->lock);
	for (i = 0; i < ARRAY_SIZE(vsh_op_names); i++)
		seq_printf(m, "req_%s %llu\n", vsh_op_names[i], s->req[i]);
	for (i = 0; i < ARRAY_SIZE(vsh_status_names); i++)
		seq_printf(m, "status_%s %llu\n", vsh_status_names[i],
			   s->status[i]);
	seq_printf(m, "bad_chain %llu\n", s->bad_chain);
	seq_printf(m, "bad_head %llu\n", s->bad_head);
	seq_printf(m, "bad_ring %llu\n", s->bad_ring);
	seq_printf(m, "bad_pfn %llu\n", s->bad_pfn);
	seq_printf(m, "throttled %llu\n", s->throttled);
	seq_printf(m, "pass_budget %llu\n", s->pass_budget);
	seq_printf(m, "backing_err %llu\n", s->backing_err);
	seq_printf(m, "inflate_pages %llu\n", s->inflate_pages);
	seq_printf(m, "deflate_pages %llu\n", s->deflate_pages);
	seq_printf(m, "stats_bufs %llu\n", s->stats_bufs);
	seq_printf(m, "punched_bytes %llu\n", s->punched_bytes);
	seq_printf(m, "reported_bytes %llu\n", s->reported_bytes);
	seq_printf(m, "populated_bytes %llu\n", s->populated_bytes);
	seq_printf(m, "inflated_bytes %llu\n", d->nr_inflated << VSH_PAGE_SHIFT);
	seq_printf(m, "reserved_bytes %llu\n", d->nr_reserved << VSH_PAGE_SHIFT);
	seq_printf(m, "committed_bytes %llu\n",
		   d->nr_committed << VSH_PAGE_SHIFT);
	seq_printf(m, "big_buf %llu\n", s->big_buf);
	seq_printf(m, "slices %llu\n", s->slices);
	seq_printf(m, "max_hold_ns %llu\n", s->max_hold_ns);
	seq_printf(m, "refilled_bytes %llu\n", s->refilled_bytes);
	seq_printf(m, "refill_scanned_bytes %llu\n", s->refill_scanned_bytes);
	seq_printf(m, "refill_sweeps %llu\n", s->refill_sweeps);
	seq_printf(m, "regions %u\n", vsh_map_nr(d));
	for (i = 0; i < VSH_MAX_VQS; i++)
		seq_printf(m, "vq%u_num %u\nvq%u_ready %u\n", i, d->vqs[i].num,
			   i, d->vqs[i].ready);
	seq_printf(m, "features 0x%llx\n", d->features);
	seq_printf(m, "status 0x%x\n", d->status);
	for (i = 0; i < VIRTIO_BALLOON_S_NR; i++)
		seq_printf(m, "guest_stat_%u %llu\n", i, d->guest_stats[i]);
	mutex_unlock(&d->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsh_stats);

/*
 * "extents" is generated a seq_file buffer (a page) at a time, each under
 * one hold of vsh_dev.lock, so neither the time the lock is held nor the
 * memory the dump takes grows with the number of runs, which the guest
 * controls.  The position is the page frame number to look from; a dump
 * read while the balloon changes may show some runs from before the
 * change and some from after.
 */
struct vsh_extents_iter {
	struct vsh_dev *d;
	struct vsh_run r;
};

static void *vsh_extents_start(struct seq_file *m, loff_t *pos)
{
	struct vsh_extents_iter *it = m->private;

	mutex_lock(&it->d->lock);
	if (!vsh_pages_next_run(it->d, (u64)*pos << VSH_PAGE_SHIFT, &it->r))
		return NULL;
	return it;
}

static void *vsh_extents_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct vsh_extents_iter *it = v;
	u64 end = it->r.start + it->r.len;

	*pos = end >> VSH_PAGE_SHIFT;
	if (!vsh_pages_next_run(it->d, end, &it->r))
		return NULL;
	return it;
}

static void vsh_extents_stop(struct seq_file *m, void *v)
{
	struct vsh_extents_iter *it = m->private;

	mutex_unlock(&it->d->lock);
}

static int vsh_extents_show(struct seq_file *m, void *v)
{
	struct vsh_extents_iter *it = v;

	seq_printf(m, "%#llx %#llx %s\n", it->r.start, it->r.len,
		   vsh_pstate_name(it->r.st));
	return 0;
}

static const struct seq_operations vsh_extents_sops = {
	.start = vsh_extents_start,
	.next = vsh_extents_next,
	.stop = vsh_extents_stop,
	.show = vsh_extents_show,
};

static int vsh_extents_open(struct inode *inode, struct file *file)
{
	struct vsh_extents_iter *it;

	it = __seq_open_private(file, &vsh_extents_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->d = inode->i_private;
	return 0;
}

static const struct file_operations vsh_extents_fops = {
	.owner = THIS_MODULE,
	.open = vsh_extents_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

static int vsh_ledger_show(struct seq_file *m, void *v)
{
	struct vsh_dev *d = m->private;
	u64 mine;

	mutex_lock(&d->lock);
	mine = (d->nr_reserved + d->nr_committed) << VSH_PAGE_SHIFT;
	mutex_unlock(&d->lock);
	seq_printf(m, "capacity_bytes %llu\n", vsh_ledger_capacity());
	seq_printf(m, "charged_bytes %llu\n", vsh_ledger_charged());
	seq_printf(m, "free_bytes %llu\n", vsh_ledger_free_bytes());
	seq_printf(m, "device_charged_bytes %llu\n", mine);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsh_ledger);

static ssize_t vsh_stats_request_write(struct file *file,
				       const char __user *buf, size_t count,
				       loff_t *ppos)
{
	vsh_stats_request(file->private_data);
	return count;
}

/* "max_hold_ns": read the longest worker lock hold; write 0 to reset it */
static int vsh_max_hold_get(void *data, u64 *val)
{
	struct vsh_dev *d = data;

	mutex_lock(&d->lock);
	*val = d->stats.max_hold_ns;
	mutex_unlock(&d->lock);
	return 0;
}

static int vsh_max_hold_set(void *data, u64 val)
{
	struct vsh_dev *d = data;

	if (val)
		return -EINVAL;
	mutex_lock(&d->lock);
	d->stats.max_hold_ns = 0;
	mutex_unlock(&d->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vsh_max_hold_fops, vsh_max_hold_get,
			 vsh_max_hold_set, "%llu\n");

static const struct file_operations vsh_stats_request_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vsh_stats_request_write,
	.llseek = noop_llseek,
};

void vsh_debugfs_init(void)
{
	vsh_debugfs_root = debugfs_create_dir("vshape_host", NULL);
}

void vsh_debugfs_exit(void)
{
	debugfs_remove_recursive(vsh_debugfs_root);
	vsh_debugfs_root = NULL;
}

void vsh_debugfs_dev_add(struct vsh_dev *d)
{
	d->debugfs = debugfs_create_dir(dev_name(&d->vdpa.dev),
					vsh_debugfs_root);
	debugfs_create_file("stats", 0444, d->debugfs, d, &vsh_stats_fops);
	debugfs_create_file("extents", 0444, d->debugfs, d,
			    &vsh_extents_fops);
	debugfs_create_file("ledger", 0444, d->debugfs, d, &vsh_ledger_fops);
	debugfs_create_file("stats_request", 0200, d->debugfs, d,
			    &vsh_stats_request_fops);
	debugfs_create_file_unsafe("max_hold_ns", 0600, d->debugfs, d,
				   &vsh_max_hold_fops);
#ifdef VSHAPE_TEST
	debugfs_create_bool("fault_alloc", 0600, d->debugfs, &d->fault_alloc);
#endif
}

void vsh_debugfs_dev_del(struct vsh_dev *d)
{
	debugfs_remove_recursive(d->debugfs);
	d->debugfs = NULL;
}
