/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest driver: shared definitions.  The driver's names start
 * with vsg_ (the host module's with vsh_; vs_ names are the predictor
 * library's, predictor/).
 *
 * The driver is split by job; no object calls one listed above it
 * (scripts/check-layers checks the call graph and each file's job):
 *   main.c       device lifecycle (probe, remove, freeze, queues) and the
 *                OOM notifier
 *   sysfs.c, debugfs.c  thin views over the files below
 *   policy.c     every target and reserve/commit/release decision, and the
 *                work that moves the balloon toward the target
 *   predict.c    the predictor runtime: predicts, nothing more, from
 *   sampler.c    the kernel counters it samples
 *   balloon.c    the pages held and the floor
 *   hostmsg.c    messages to the host about them (PFN arrays, extents:
 *                INFLATE, DEFLATE, COMMIT, RESERVE, RELEASE)
 *   reporting.c  free page reporting; stats.c the statistics queue
 *   shaping.c    the shaping queue (shaping_test.c: its raw-request
 *                injector, built only in the test flavour)
 */
#ifndef _VSHAPE_GUEST_H
#define _VSHAPE_GUEST_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/virtio_balloon.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/vshape.h>

#include "reporting.h"

/*
 * Size classes of the blocks the balloon holds: 2 MiB blocks first (one
 * host huge page, one extent for the shaping protocol), 4 KiB pages when
 * no 2 MiB block can be had.
 */
enum vsg_size_class {
	VSG_CLASS_2M,
	VSG_CLASS_4K,
	VSG_NR_CLASSES,
};

#define VSG_ORDER_2M		(21 - PAGE_SHIFT)
#define VSG_PAGES_2M		BIT(VSG_ORDER_2M)

/* PFNs per inflate/deflate message: 16 KiB of __virtio32, 16 MiB of RAM. */
#define VSG_PFNS_PER_MSG		4096

/* Pages given back per OOM notification (one 2 MiB block's worth). */
#define VSG_OOM_PAGES		VSG_PAGES_2M

/* Default floor margin above the min watermarks, in KiB. */
#define VSG_DEFAULT_FLOOR_MARGIN_KB	(64 * 1024)

/*
 * How the host's target (config num_pages) and the guest's own target
 * (sysfs guest_target_kb) combine.  See docs/ABI/testing/sysfs-bus-virtio-vshape.
 */
enum vsg_mode {
	VSG_MODE_HOST,	/* follow the host's target only */
	VSG_MODE_GUEST,	/* follow the guest's target only */
	VSG_MODE_MAX,	/* the larger of the two (default) */
	VSG_MODE_PREDICT, /* the larger of the host's and the prediction's */
	VSG_NR_MODES,
};

#define VSG_NR_STATS		16

/* Extents per shaping request at most (256 MiB of 2 MiB blocks). */
#define VSG_EXT_PER_MSG		128
/*
 * 2 MiB blocks per update-work run with the shaping feature: one request
 * of 64 MiB, where PFN arrays stop at 16 MiB (VSG_PFNS_PER_MSG).  A range
 * request costs the host one state update per extent, so larger steps
 * save round trips; 64 MiB still keeps balloon_lock hold times short.
 */
#define VSG_STEP_EXTENTS		32
struct vsg_shaping;
struct vsg_predictor;
struct vsg_policy;

struct vsg_dev {
	struct virtio_device *vdev;
	struct virtqueue *inflate_vq;
	struct virtqueue *deflate_vq;
	struct virtqueue *stats_vq;	/* NULL unless STATS_VQ negotiated */
	struct vsg_reporting reporting;	/* free page reporting, reporting.c */
	struct vsg_shaping *shaping;	/* NULL unless VSHAPE negotiated */
	struct vsg_predictor *predictor;	/* sampler, model, predictions */
	struct vsg_policy *policy;	/* decisions, policy.c */

	/* Moves the balloon toward the effective target. */
	struct work_struct update_work;
	/* Answers the host's statistics request. */
	struct work_struct stats_work;

	/*
	 * stop_update_lock guards stop_update.  Work is only queued with the
	 * lock held and stop_update clear, so once remove has set it under
	 * the lock no new work can appear and cancel_work_sync() is final.
	 */
	spinlock_t stop_update_lock;
	bool stop_update;

	/*
	 * balloon_lock serialises every change to the balloon: it protects
	 * the page lists, the counts below, the pfns and extent buffers, and
	 * the use of the inflate, deflate and (for balloon requests) shaping
	 * queues.  Held across the host's answer, so it is a mutex; the OOM
	 * notifier takes it too (process context).  Order: the policy's lock
	 * before balloon_lock; nothing else is taken under it but the
	 * shaping queue's req_lock.
	 */
	struct mutex balloon_lock;
	struct list_head pages[VSG_NR_CLASSES];
	unsigned long nr_blocks[VSG_NR_CLASSES];
	unsigned long held_pages;	/* in PAGE_SIZE units */
	__virtio32 *pfns;
	unsigned int nr_pfns;
	/* 2 MiB blocks as shaping extents, when VSHAPE is negotiated. */
	struct vshape_extent *ext;
	unsigned int nr_ext;
	unsigned int max_ext;
	u64 nr_shaping_msgs;
	u64 nr_shaping_refused;
	u64 nr_commits;
	u64 nr_reserves;
	u64 nr_releases;
	/* Counters for debugfs, also under balloon_lock. */
	u64 nr_inflate_msgs;
	u64 nr_deflate_msgs;
	u64 nr_alloc_fail_2m;
	u64 nr_alloc_fail_4k;
	u64 nr_floor_stops;
	u64 nr_oom_deflates;	/* also read by the policy (READ_ONCE) */
	u64 oom_pages;
	int last_error;
	unsigned int in_flight;

	/* Woken when the host returns a used buffer on any queue. */
	wait_queue_head_t acked;

	/*
	 * Knobs.  Single words written with WRITE_ONCE() from sysfs and read
	 * with READ_ONCE() by the update work, which re-reads them on each
	 * pass; a store queues the work, so no lock is needed.
	 */
	unsigned long guest_target_pages;
	unsigned long floor_margin_pages;
	unsigned int mode;		/* enum vsg_mode */

	/* Statistics buffer, owned by stats_work once the host returns it. */
	struct virtio_balloon_stat stats[VSG_NR_STATS];

	struct notifier_block oom_nb;
	struct dentry *debugfs_dir;
};

/* Queue @work unless the device is going away (any context). */
static inline void vsg_queue_work(struct vsg_dev *vs,
				  struct work_struct *work)
{
	unsigned long flags;

	spin_lock_irqsave(&vs->stop_update_lock, flags);
	if (!vs->stop_update)
		queue_work(system_freezable_wq, work);
	spin_unlock_irqrestore(&vs->stop_update_lock, flags);
}

/*
 * hostmsg.c: the config fields of the conversation with the host, and
 * the RESERVE and RELEASE of 2 MiB blocks the balloon holds (each takes
 * balloon_lock; 0 without the shaping feature)
 */
u32 vsg_host_target_pages(struct vsg_dev *vs);
void vsg_update_actual(struct vsg_dev *vs);
unsigned int vsg_msg_reserve(struct vsg_dev *vs, unsigned long nr_pages,
			     u64 *gpas, unsigned int max);
unsigned int vsg_msg_release(struct vsg_dev *vs, u64 *gpas, unsigned int n);

/* policy.c */
extern const char * const vsg_mode_names[VSG_NR_MODES];
void vsg_queue_update(struct vsg_dev *vs);

/* balloon.c */
void vsg_balloon_init(struct vsg_dev *vs);
unsigned long vsg_floor_pages(struct vsg_dev *vs);
unsigned long vsg_inflate(struct vsg_dev *vs, unsigned long nr_pages,
			  bool reclaim);
unsigned long vsg_deflate(struct vsg_dev *vs, unsigned long nr_pages,
			  u16 pre_op);

/* stats.c */
void vsg_stats_ack(struct virtqueue *vq);
void vsg_stats_work(struct work_struct *work);
int vsg_stats_start(struct vsg_dev *vs);

/* sysfs.c */
extern const struct attribute_group vsg_attr_group;

/* debugfs.c */
extern struct dentry *vsg_debugfs_root;
void vsg_debugfs_init(struct vsg_dev *vs);
void vsg_debugfs_exit(struct vsg_dev *vs);

#endif /* _VSHAPE_GUEST_H */
