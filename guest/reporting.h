/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape guest: free page reporting (the kernel's page_reporting interface).
 *
 * Free blocks of at least 2 MiB that stayed free for the kernel's
 * reporting delay are told to the host, which frees their backing; they
 * stay the guest's, and the guest's next touch repopulates them.  Two
 * transports, chosen at start:
 *   - VIRTIO_BALLOON_F_REPORTING: the standard reporting queue (stock QEMU,
 *     virtio-balloon-pci,free-page-reporting=on), one scatterlist per report;
 *   - VIRTIO_BALLOON_F_VSHAPE: VSHAPE_OP_REPORT on the shaping queue, the
 *     blocks as extents (docs/protocol.md).
 *
 * Blocks the policy deflated with COMMIT (backed by the host ahead of a
 * predicted rise) are not reported for report_commit_grace_ms after the
 * deflation: reporting them would undo the COMMIT before the demand it
 * was made for arrives.  See vsg_reporting_note_commit().
 *
 * Lifecycle, called by main.c:
 *   vsg_reporting_init()      at probe: the knob and the COMMIT ring
 *   vsg_reporting_validate()  from .validate: drop the feature bit if
 *                            reporting is off or free pages are poisoned
 *   vsg_reporting_start()     once the device is ready and the shaping
 *                            queue is up: registers with page_reporting
 *   vsg_reporting_stop()      before the device is reset: unregisters, so
 *                            no report is in flight once it returns
 */
#ifndef _VSHAPE_REPORTING_H
#define _VSHAPE_REPORTING_H

#include <linux/atomic.h>
#include <linux/page_reporting.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <uapi/linux/vshape.h>

struct vsg_dev;
struct virtio_device;
struct virtqueue;
struct dentry;

enum vsg_report_via {
	VSG_REPORT_OFF,
	VSG_REPORT_VQ,		/* the standard reporting queue */
	VSG_REPORT_SHAPING,	/* VSHAPE_OP_REPORT extents */
};

/* 2 MiB blocks remembered as COMMITted: 1 GiB of rise at a time. */
#define VSG_REPORT_COMMIT_SLOTS	512

struct vsg_reporting {
	struct page_reporting_dev_info prdev;
	struct vsg_dev *vs;
	struct virtqueue *vq;		/* NULL unless REPORTING negotiated */
	/*
	 * via is written by start and stop only, which the driver core
	 * serialises (probe, remove, freeze, restore); page_reporting calls
	 * the report callback only between register and unregister.
	 */
	enum vsg_report_via via;
	/*
	 * Extents of one report.  Only the report callback uses it, and
	 * page_reporting runs one report at a time per device (one work
	 * item), so it needs no lock.
	 */
	struct vshape_extent ext[PAGE_REPORTING_CAPACITY];
	/*
	 * The last VSG_REPORT_COMMIT_SLOTS 2 MiB blocks of RAM the balloon
	 * deflated with COMMIT (block = pfn / 512) and when (jiffies, 0:
	 * free slot), a ring: the oldest is forgotten first (then reported
	 * as any free block).  commit_lock guards the ring and its head;
	 * taken by the balloon's deflation (after balloon_lock is dropped)
	 * and by the report callback, both in process context, nothing
	 * taken under it.
	 */
	spinlock_t commit_lock;
	struct vsg_commit_slot {
		unsigned long block;
		unsigned long when;
	} commit[VSG_REPORT_COMMIT_SLOTS];
	unsigned int commit_head;
	unsigned int commit_grace_ms;	/* sysfs knob, 0: off */
	/* Counters for debugfs: atomics, read without a lock. */
	atomic64_t reports;		/* calls of the report callback */
	atomic64_t blocks;		/* free blocks reported */
	atomic64_t bytes;		/* bytes the host acknowledged */
	atomic64_t errors;		/* reports the host did not take */
	atomic64_t skipped;		/* blocks left alone: COMMITted lately */
	atomic_t last_error;
};

/*
 * Default report_commit_grace_ms: 0, COMMITted blocks are reported like
 * any free block.  The kernel marks the blocks of a successful report
 * "reported" and does not offer them again until they are reallocated,
 * so a block left out stays backed for good if the rise never comes
 * (the scenario benchmark of 2026-12-01: 35-55 MiB more than free page
 * reporting from the second cycle on, at a 10 s grace); failing the
 * whole report instead stalled reporting while COMMITs kept coming.
 */
#define VSG_DEFAULT_REPORT_COMMIT_GRACE_MS	0
#define VSG_MAX_REPORT_COMMIT_GRACE_MS		3600000

void vsg_reporting_init(struct vsg_dev *vs);
/* The balloon deflated @nr_pages at @pfn with COMMIT: hold them back. */
void vsg_reporting_note_commit(struct vsg_dev *vs, unsigned long pfn,
			       unsigned long nr_pages);
int vsg_reporting_validate(struct virtio_device *vdev);
int vsg_reporting_start(struct vsg_dev *vs);
void vsg_reporting_stop(struct vsg_dev *vs);
bool vsg_reporting_active(struct vsg_dev *vs);
void vsg_reporting_debugfs(struct vsg_dev *vs, struct dentry *dir);

#endif /* _VSHAPE_REPORTING_H */
