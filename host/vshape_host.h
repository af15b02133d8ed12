/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape_host: a vDPA virtio-balloon device with the vshape shaping queue.
 *
 * Internal declarations shared by the host/ files.  See docs/host.md.
 */
#ifndef _VSHAPE_HOST_H
#define _VSHAPE_HOST_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/kthread.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/xarray.h>
#include <linux/vdpa.h>
#include <linux/virtio_balloon.h>
#include <uapi/linux/vshape.h>

struct mem_cgroup;

#define VSH_NAME		"vshape"
#define VSH_PAGE_SHIFT		12
#define VSH_PAGE_SIZE		BIT_ULL(VSH_PAGE_SHIFT)

#define VSH_MAX_VQS		4	/* inflate, deflate, stats, shaping */
#define VSH_QUEUE_MAX		256	/* ring size offered */
#define VSH_MAX_SEGS		16	/* descriptors per chain we accept */
#define VSH_MAX_EXTENTS		256	/* vshape_config.max_extents */
#define VSH_MAX_REQ_BYTES	BIT_ULL(30)	/* vshape_config.max_request_bytes */
#define VSH_BATCH		32	/* chains per queue per worker pass */
/*
 * Bounds on the work one guest can make the host do (docs/protocol.md):
 * a standard-queue buffer holds at most VSH_MAX_PFN_BYTES of PFNs (the
 * in-tree driver sends 1 KiB, vshape_guest 16 KiB); a shaping request is
 * executed VSH_SLICE_BYTES at a time, each slice under one hold of
 * vsh_dev.lock; a worker pass does at most VSH_PASS_BYTES of such work
 * before it requeues itself.
 */
#define VSH_MAX_PFN_BYTES	(16U << 10)
#define VSH_SLICE_BYTES		(2ULL << 20)
#define VSH_PASS_BYTES		(64ULL << 20)
/* rate_bytes is taken as at most this: byte_tokens' s64 arithmetic stays exact */
#define VSH_RATE_BYTES_MAX	BIT_ULL(62)

#define VSH_CONFIG_SIZE	(sizeof(struct virtio_balloon_config) + \
			 sizeof(struct vshape_config))

#define VSH_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
			 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
			 BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST) | \
			 BIT_ULL(VIRTIO_BALLOON_F_STATS_VQ) | \
			 BIT_ULL(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | \
			 BIT_ULL(VIRTIO_BALLOON_F_VSHAPE))

/* What a virtqueue index means, from the negotiated features. */
enum vsh_role {
	VSH_ROLE_NONE,
	VSH_ROLE_INFLATE,
	VSH_ROLE_DEFLATE,
	VSH_ROLE_STATS,
	VSH_ROLE_SHAPING,
};

/* Balloon state of a 4 KiB guest page (stored per 2 MiB block, pages.c). */
enum vsh_pstate {
	VSH_P_GUEST = 0,
	VSH_P_INFLATED = 1,
	VSH_P_RESERVED = 2,
	VSH_P_COMMITTED = 3,
};

/* One split virtqueue as the driver described it. */
struct vsh_vq {
	u64 desc;		/* IOVA of the descriptor table */
	u64 avail;		/* IOVA of the driver (avail) area */
	u64 used;		/* IOVA of the device (used) area */
	u32 num;		/* ring size, power of two <= VSH_QUEUE_MAX */
	bool ready;
	u16 last_avail;		/* next avail ring slot to consume */
	u16 used_idx;		/* next used ring slot to fill */
	struct vdpa_callback cb;
	/* stats queue: buffer held until the host asks for fresh stats */
	bool stats_held;
	u16 stats_head;
};

/* One segment of a descriptor chain. */
struct vsh_seg {
	u64 addr;
	u32 len;
};

/* A validated descriptor chain: readable segments, then writable ones. */
struct vsh_chain {
	u16 head;
	unsigned int nr_out, nr_in;
	u64 out_len, in_len;
	struct vsh_seg out[VSH_MAX_SEGS];
	struct vsh_seg in[VSH_MAX_SEGS];
};

/*
 * A guest memory region, copied from one IOTLB entry given to set_map.
 * @file/@offset come from the entry's struct vdpa_map_file (use_va mode);
 * we hold our own reference on @file.
 */
struct vsh_region {
	u64 start;		/* first IOVA (guest-physical address) */
	u64 last;		/* last IOVA, inclusive */
	u64 uaddr;		/* user VA of @start in the bound mm */
	u32 perm;		/* VHOST_MAP_* */
	struct file *file;
	u64 offset;		/* file offset of @start */
	/*
	 * A writable region whose file range overlaps that of a writable
	 * region at a lower address: the balloon does not act on it, so a
	 * page of memory has one state and one charge, not one per alias.
	 */
	bool alias;
};

/*
 * The device's memory map: the regions of the last set_map, sorted.  A
 * map is never changed once published; set_map publishes a new one in
 * vsh_dev.map and drops its reference on the old one, which is freed
 * (files put) when its last user drops it.  The worker takes a reference
 * for each step (vsh_map_get), so set_map never waits for the worker and
 * never takes vsh_dev.lock: no path takes mmap_lock (held by vhost-vdpa
 * around set_map) and then vsh_dev.lock, while the worker faults guest
 * memory in (mmap_lock) under vsh_dev.lock.
 */
struct vsh_map {
	refcount_t ref;
	struct rcu_head rcu;
	unsigned int nr;
	struct vsh_region r[] __counted_by(nr);
};

/*
 * A shaping request between validation and its answer: executed one
 * slice per worker step, so the device lock is dropped between slices.
 * The extents are in vsh_dev.ext.
 */
struct vsh_req {
	bool active;
	struct vsh_chain ch;
	__le32 id;
	unsigned int op, nr;
	unsigned int i;		/* current extent */
	u64 off;		/* bytes of extent @i done */
	u64 total, granted;
};

/* One extent in CPU byte order, after it was read from the ring. */
struct vsh_ext {
	u64 gpa;
	u64 len;
};

/* Counters shown in debugfs; updated under vsh_dev.lock. */
struct vsh_stats {
	u64 req[VSHAPE_OP_REPORT + 1];		/* per op, [0] = bad op */
	u64 status[VSHAPE_S_INVALID + 1];	/* per response status */
	u64 bad_chain;		/* malformed descriptor chains */
	u64 bad_head;		/* avail entries with out-of-range head */
	u64 bad_ring;		/* corrupt ring: avail index, ring access */
	u64 bad_pfn;		/* standard queue PFNs outside guest RAM */
	u64 throttled;		/* worker passes deferred by the rate bound */
	u64 pass_budget;	/* worker passes ended by VSH_PASS_BYTES */
	u64 backing_err;	/* vfs_fallocate failures */
	u64 inflate_pages;	/* standard inflate queue, 4 KiB pages */
	u64 deflate_pages;	/* standard deflate queue, 4 KiB pages */
	u64 stats_bufs;		/* stats buffers received */
	u64 punched_bytes;	/* bytes handed to FALLOC_FL_PUNCH_HOLE */
	u64 reported_bytes;	/* REPORT: free guest ranges punched */
	u64 populated_bytes;	/* bytes handed to fallocate(allocate) */
	u64 big_buf;		/* standard buffers over VSH_MAX_PFN_BYTES */
	u64 slices;		/* shaping slices executed */
	u64 max_hold_ns;	/* longest hold of vsh_dev.lock by the worker */
	u64 refilled_bytes;	/* INFLATED pages found populated, punched */
	u64 refill_scanned_bytes;	/* INFLATED bytes the refill scan saw */
	u64 refill_sweeps;	/* refill scans that reached the balloon's end */
};

struct vsh_dev {
	struct vdpa_device vdpa;

	/* Processing context: kick_vq only queues @work on @worker. */
	struct kthread_worker *worker;
	struct kthread_delayed_work work;
	/* periodic pass over INFLATED pages (refill.c), on @worker too */
	struct kthread_delayed_work refill_work;

	/*
	 * @lock serialises the vdpa config ops that change device state with
	 * the worker.  It protects @vqs, @features, @status, @snap,
	 * @pages_gen, @req, @refill_pos,
	 * @mm, @loopback, @pages, the page counters, @stats, @guest_stats,
	 * @stats_want, @tokens, @byte_tokens, @last_refill and
	 * @last_byte_refill.  Holding it
	 * guarantees the rings and the page states do not change under the
	 * holder.  The worker holds it for one step at a time (one chain or
	 * one slice of a shaping request), never for a whole pass.  Never
	 * taken in atomic context nor with mmap_lock held (set_map, which
	 * vhost-vdpa calls under mmap_lock, does not take it); kick_vq does
	 * not take it.  Fields also read without it (sysfs, get_status,
	 * get_driver_features) are written with WRITE_ONCE.
	 */
	struct mutex lock;
	struct vsh_vq vqs[VSH_MAX_VQS];
	u64 features;
	u8 status;
	struct vsh_map *snap;		/* the map of the current worker step */
	unsigned long pages_gen;	/* @map_gen the page states match */
	struct vsh_req req;		/* shaping request in execution */
	u64 refill_pos;			/* gpa the refill scan resumes at */
	struct mm_struct *mm;		/* bound mm (use_va), mmgrab'ed */
	bool loopback;			/* bound to virtio_vdpa: PA mode */
	struct xarray pages;		/* gpa >> 21 -> block state, pages.c */
	u64 nr_inflated, nr_reserved, nr_committed;	/* pages */
	/*
	 * Per-device ledger quota in bytes, 0 = none (only the host-wide
	 * capacity applies).  Written by sysfs without @lock (WRITE_ONCE),
	 * read with READ_ONCE: a charge checks it under @lock.
	 */
	u64 quota;
	struct vsh_stats stats;
	u64 guest_stats[VIRTIO_BALLOON_S_NR];	/* last stats buffer */
	bool stats_want;		/* host asked for fresh stats */
	unsigned int tokens;		/* rate bound: requests left */
	/*
	 * rate bound: work bytes left, negative while a standard-queue
	 * chain taken whole (up to 16 MiB of PFN work) is paid back
	 */
	s64 byte_tokens;
	unsigned long last_refill;	/* jiffies */
	unsigned long last_byte_refill;	/* jiffies */
	struct vsh_ext *ext;		/* VSH_MAX_EXTENTS scratch */
	struct vsh_ext *sorted;		/* VSH_MAX_EXTENTS scratch */

	/*
	 * @cfg_lock protects @config.  A spinlock taken with interrupts
	 * off, because get_config may be called in atomic context.
	 */
	spinlock_t cfg_lock;
	struct virtio_balloon_config config;
	/*
	 * @cb_lock protects @config_cb and is held while the callback runs,
	 * so set_config_cb() cannot retire a callback that is being called.
	 * Separate from @cfg_lock so a callback may read the config.
	 */
	spinlock_t cb_lock;
	struct vdpa_callback config_cb;

	/*
	 * @map_lock serialises writers of @map (set_map, reset_map, free);
	 * readers use RCU and a reference (vsh_map_get).  A spinlock held
	 * only to swap the pointer: nothing sleeps or takes another lock
	 * under it.
	 */
	spinlock_t map_lock;
	struct vsh_map __rcu *map;
	/*
	 * Maps published so far (under @map_lock, read with acquire): the
	 * worker prunes the page states when it differs from @pages_gen.
	 */
	unsigned long map_gen;

	struct dentry *debugfs;
	bool sysfs_done;
#ifdef VSHAPE_TEST
	/*
	 * Test flavour only (VSHAPE_TEST=1, docs/host.md): debugfs
	 * fault_alloc, while true every page-state allocation fails with
	 * -ENOMEM.  Written by debugfs without @lock, read with READ_ONCE.
	 */
	bool fault_alloc;
#endif
};

static inline struct vsh_dev *vdpa_to_vsh(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vsh_dev, vdpa);
}

static inline bool vsh_has(const struct vsh_dev *d, unsigned int bit)
{
	return d->features & BIT_ULL(bit);
}

/* main.c */
extern unsigned int vsh_rate_limit;
extern unsigned int vsh_rate_burst;
extern unsigned long long vsh_rate_bytes;

/* vdpa_dev.c */
extern const struct vdpa_config_ops vsh_config_ops;
void vsh_work_fn(struct kthread_work *work);
bool vsh_running(const struct vsh_dev *d);
struct mem_cgroup *vsh_memcg_begin(struct vsh_dev *d, struct mem_cgroup **old);
void vsh_memcg_end(struct mem_cgroup *memcg, struct mem_cgroup *old);
void vsh_reset_locked(struct vsh_dev *d);
void vsh_needs_reset(struct vsh_dev *d, struct vsh_vq *vq);
void vsh_set_target(struct vsh_dev *d, u32 pages);
u32 vsh_get_target(struct vsh_dev *d);
u32 vsh_get_actual(struct vsh_dev *d);
void vsh_config_changed(struct vsh_dev *d);

/* vq.c */
enum vsh_role vsh_vq_role(const struct vsh_dev *d, unsigned int idx);
bool vsh_vq_pending(struct vsh_dev *d, struct vsh_vq *vq);
int vsh_vq_pop(struct vsh_dev *d, struct vsh_vq *vq, struct vsh_chain *ch);
int vsh_vq_push(struct vsh_dev *d, struct vsh_vq *vq, u16 head, u32 len);
void vsh_vq_notify(struct vsh_vq *vq);
int vsh_chain_read(struct vsh_dev *d, const struct vsh_chain *ch, u64 off,
		   void *buf, size_t len);
int vsh_chain_write(struct vsh_dev *d, const struct vsh_chain *ch,
		    const void *buf, size_t len);

/* mem.c */
int vsh_mem_read(struct vsh_dev *d, u64 iova, void *buf, size_t len);
int vsh_mem_write(struct vsh_dev *d, u64 iova, const void *buf, size_t len);
bool vsh_va_mode(const struct vsh_dev *d);

/* backing.c */
bool vsh_range_is_ram(struct vsh_dev *d, u64 gpa, u64 len);
const struct vsh_region *vsh_region_find(struct vsh_dev *d, u64 iova,
					 u64 len);
int vsh_backing_punch(struct vsh_dev *d, u64 gpa, u64 len);
int vsh_backing_populate(struct vsh_dev *d, u64 gpa, u64 len);
u64 vsh_backing_folio(struct vsh_dev *d, u64 gpa, u64 *start);
void vsh_map_sync(struct vsh_dev *d);
int vsh_regions_from_iotlb(struct vsh_dev *d, struct vhost_iotlb *iotlb);
void vsh_map_publish(struct vsh_dev *d, struct vsh_map *m);
struct vsh_map *vsh_map_get(struct vsh_dev *d);
void vsh_map_put(struct vsh_map *m);
unsigned int vsh_map_nr(struct vsh_dev *d);

/* pages.c */
/* A run of pages in one state, as debugfs "extents" lists them. */
struct vsh_run {
	u64 start, len;
	enum vsh_pstate st;
};

u64 vsh_range_set(struct vsh_dev *d, u64 gpa, u64 len, enum vsh_pstate st,
		  unsigned int keep);
u64 vsh_range_count(struct vsh_dev *d, u64 gpa, u64 len, enum vsh_pstate st);
void vsh_pages_reset(struct vsh_dev *d);
void vsh_pages_prune(struct vsh_dev *d);
bool vsh_pages_next_run(struct vsh_dev *d, u64 from, struct vsh_run *r);
const char *vsh_pstate_name(enum vsh_pstate st);

/* refill.c */
void vsh_refill_fn(struct kthread_work *work);
void vsh_refill_start(struct vsh_dev *d);

/* balloon.c */
void vsh_balloon_process(struct vsh_dev *d, struct vsh_vq *vq, bool inflate,
			 struct vsh_chain *ch);
void vsh_stats_process(struct vsh_dev *d, struct vsh_vq *vq,
		       struct vsh_chain *ch);
void vsh_stats_request(struct vsh_dev *d);

/* shaping.c */
void vsh_shaping_process(struct vsh_dev *d, struct vsh_vq *vq,
			 struct vsh_chain *ch);
u64 vsh_shaping_continue(struct vsh_dev *d, struct vsh_vq *vq, u64 budget);
void vsh_fill_shaping_config(struct vsh_dev *d, struct vshape_config *c);

/* ledger.c */
u64 vsh_ledger_charge(u64 bytes, bool partial_ok);
void vsh_ledger_uncharge(u64 bytes);
u64 vsh_ledger_free_bytes(void);
u64 vsh_dev_charged(const struct vsh_dev *d);
u64 vsh_dev_capacity(const struct vsh_dev *d);
bool vsh_dev_quota_allows(const struct vsh_dev *d, u64 bytes);
u64 vsh_ledger_capacity(void);
u64 vsh_ledger_charged(void);
int vsh_ledger_set_capacity(u64 bytes);
void vsh_ledger_init(u64 bytes);

/* sysfs.c */
int vsh_sysfs_init(void);
void vsh_sysfs_exit(void);
int vsh_sysfs_dev_add(struct vsh_dev *d);
void vsh_sysfs_dev_del(struct vsh_dev *d);

/* debugfs.c */
void vsh_debugfs_init(void);
void vsh_debugfs_exit(void);
void vsh_debugfs_dev_add(struct vsh_dev *d);
void vsh_debugfs_dev_del(struct vsh_dev *d);

#endif /* _VSHAPE_HOST_H */
