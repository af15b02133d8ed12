// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs view of one device: /sys/kernel/debug/vshape_guest/<virtioN>/.
 * Read-only; the numbers are a snapshot taken under balloon_lock.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vshape_guest.h"

static int vs_state_show(struct seq_file *m, void *unused)
{
	struct vshape_dev *vs = m->private;

	mutex_lock(&vs->balloon_lock);
	seq_printf(m, "held_pages: %lu\n", vs->held_pages);
	seq_printf(m, "blocks_2m: %lu\n", vs->nr_blocks[VS_CLASS_2M]);
	seq_printf(m, "pages_4k: %lu\n", vs->nr_blocks[VS_CLASS_4K]);
	seq_printf(m, "in_flight: %u\n", vs->in_flight);
	seq_printf(m, "inflate_msgs: %llu\n", vs->nr_inflate_msgs);
	seq_printf(m, "deflate_msgs: %llu\n", vs->nr_deflate_msgs);
	seq_printf(m, "alloc_fail_2m: %llu\n", vs->nr_alloc_fail_2m);
	seq_printf(m, "alloc_fail_4k: %llu\n", vs->nr_alloc_fail_4k);
	seq_printf(m, "floor_stops: %llu\n", vs->nr_floor_stops);
	seq_printf(m, "oom_deflates: %llu\n", vs->nr_oom_deflates);
	seq_printf(m, "oom_pages: %llu\n", vs->oom_pages);
	seq_printf(m, "last_error: %d\n", vs->last_error);
	mutex_unlock(&vs->balloon_lock);
	seq_printf(m, "floor_pages: %lu\n", vs_floor_pages(vs));
	seq_printf(m, "target_pages: %lu\n", vs_effective_target(vs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_state);

void vs_debugfs_init(struct vshape_dev *vs)
{
	vs->debugfs_dir = debugfs_create_dir(dev_name(&vs->vdev->dev),
					     vs_debugfs_root);
	debugfs_create_file("state", 0400, vs->debugfs_dir, vs,
			    &vs_state_fops);
}

void vs_debugfs_exit(struct vshape_dev *vs)
{
	debugfs_remove_recursive(vs->debugfs_dir);
	vs->debugfs_dir = NULL;
}
