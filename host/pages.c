// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: balloon state of the guest's pages, kept per 2 MiB block.
 *
 * d->pages maps a block index (gpa >> 21) to either
 *   - a value entry, xa_mk_value(enum vsh_pstate): every 4 KiB page of the
 *     block is in that state (the common case: the guest moves aligned
 *     2 MiB extents, so one store covers 512 pages), or
 *   - a struct vsh_block: one state byte per page, for a block whose
 *     pages differ (4 KiB PFNs, unaligned extents).  A block that becomes
 *     uniform again is collapsed back to a value entry.
 * A block absent from the xarray is all GUEST.  The entry count is bounded
 * by the guest RAM the device can see, because every gpa is range checked
 * before it gets here.
 *
 * RESERVED and COMMITTED pages hold one page of ledger charge each; the
 * charge is dropped here whenever a page leaves those states, and taken
 * by the caller before a page enters them.
 *
 * Everything here runs under vsh_dev.lock, which is also what keeps a
 * struct vsh_block alive between xa_load() and its use: blocks are only
 * freed under that lock.
 */
#include <linux/slab.h>
#include <linux/xarray.h>

#include "vshape_host.h"

#define VSH_BLOCK_SHIFT		21
#define VSH_BLOCK_PAGES		(1U << (VSH_BLOCK_SHIFT - VSH_PAGE_SHIFT))

/* A block whose pages are not all in one state. */
struct vsh_block {
	u8 st[VSH_BLOCK_PAGES];		/* enum vsh_pstate per 4 KiB page */
};

static const char * const vsh_pstate_names[] = {
	[VSH_P_GUEST] = "guest",
	[VSH_P_INFLATED] = "inflated",
	[VSH_P_RESERVED] = "reserved",
	[VSH_P_COMMITTED] = "committed",
};

/* Does a page in state @st hold a charge of the ledger? */
static bool vsh_pstate_charged(enum vsh_pstate st)
{
	return st == VSH_P_RESERVED || st == VSH_P_COMMITTED;
}

static void vsh_count(struct vsh_dev *d, enum vsh_pstate st, long delta)
{
	/* WRITE_ONCE: sysfs reads the counters without the lock */
	switch (st) {
	case VSH_P_INFLATED:
		WRITE_ONCE(d->nr_inflated, d->nr_inflated + delta);
		break;
	case VSH_P_RESERVED:
		WRITE_ONCE(d->nr_reserved, d->nr_reserved + delta);
		break;
	case VSH_P_COMMITTED:
		WRITE_ONCE(d->nr_committed, d->nr_committed + delta);
		break;
	default:
		break;
	}
}

/* @n pages move from @old to @st: counters, and the charge they drop. */
static void vsh_account(struct vsh_dev *d, enum vsh_pstate old,
			enum vsh_pstate st, unsigned long n)
{
	if (vsh_pstate_charged(old) && !vsh_pstate_charged(st))
		vsh_ledger_uncharge((u64)n << VSH_PAGE_SHIFT);
	vsh_count(d, old, -(long)n);
	vsh_count(d, st, n);
}

/* Whether a page in @old is left alone by a move to @st. */
static bool vsh_keeps(enum vsh_pstate old, enum vsh_pstate st,
		      unsigned int keep)
{
	return old == st || (keep & BIT(old));
}

/* The block's entry: @b for a mixed block, else its uniform state. */
static enum vsh_pstate vsh_block_load(struct vsh_dev *d, unsigned long bi,
				      struct vsh_block **b)
{
	void *e = xa_load(&d->pages, bi);

	*b = NULL;
	if (!e)
		return VSH_P_GUEST;
	if (xa_is_value(e))
		return (enum vsh_pstate)xa_to_value(e);
	*b = e;
	return VSH_P_GUEST;
}

/*
 * Whether this page-state allocation is to fail: only in the test
 * flavour, while its debugfs fault_alloc is set (the error paths of a
 * state update are otherwise unreachable in a test VM).
 */
static bool vsh_alloc_fault(struct vsh_dev *d)
{
#ifdef VSHAPE_TEST
	return READ_ONCE(d->fault_alloc);
#else
	return false;
#endif
}

/* Make block @bi uniformly @st.  Replacing an entry needs no allocation. */
static int vsh_block_store_uniform(struct vsh_dev *d, unsigned long bi,
				   enum vsh_pstate st)
{
	if (st == VSH_P_GUEST) {
		xa_erase(&d->pages, bi);
		return 0;
	}
	return xa_err(xa_store(&d->pages, bi, xa_mk_value(st),
			       GFP_KERNEL_ACCOUNT));
}

/* A mixed block whose pages now agree goes back to a value entry. */
static void vsh_block_collapse(struct vsh_dev *d, unsigned long bi,
			       struct vsh_block *b)
{
	unsigned int i;

	for (i = 1; i < VSH_BLOCK_PAGES; i++)
		if (b->st[i] != b->st[0])
			return;
	if (!vsh_block_store_uniform(d, bi, b->st[0]))
		kfree(b);
}

/* Move pages [p0, p1) of block @bi to @st. */
static int vsh_block_set(struct vsh_dev *d, unsigned long bi,
			 unsigned int p0, unsigned int p1, enum vsh_pstate st,
			 unsigned int keep)
{
	struct vsh_block *b;
	enum vsh_pstate u = vsh_block_load(d, bi, &b);
	unsigned int i;
	int ret;

	if (!b) {
		if (vsh_keeps(u, st, keep))
			return 0;
		if (p0 == 0 && p1 == VSH_BLOCK_PAGES) {
			ret = vsh_block_store_uniform(d, bi, st);
			if (!ret)
				vsh_account(d, u, st, VSH_BLOCK_PAGES);
			return ret;
		}
		/* part of a uniform block changes: it becomes mixed */
		if (vsh_alloc_fault(d))
			return -ENOMEM;
		b = kmalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
		if (!b)
			return -ENOMEM;
		memset(b->st, u, sizeof(b->st));
		ret = xa_err(xa_store(&d->pages, bi, b, GFP_KERNEL_ACCOUNT));
		if (ret) {
			kfree(b);
			return ret;
		}
	}
	for (i = p0; i < p1; i++) {
		if (vsh_keeps(b->st[i], st, keep))
			continue;
		vsh_account(d, b->st[i], st, 1);
		b->st[i] = st;
	}
	vsh_block_collapse(d, bi, b);
	return 0;
}

/*
 * The piece of [pos, end) inside the block of @pos: its pages [*p0, *p1).
 * Returns the block index.
 */
static unsigned long vsh_piece(u64 pos, u64 end, unsigned int *p0,
			       unsigned int *p1)
{
	*p0 = (pos >> VSH_PAGE_SHIFT) & (VSH_BLOCK_PAGES - 1);
	*p1 = min_t(u64, VSH_BLOCK_PAGES,
		    *p0 + ((end - pos) >> VSH_PAGE_SHIFT));
	return pos >> VSH_BLOCK_SHIFT;
}

#define VSH_PIECE_BYTES(p0, p1)	((u64)((p1) - (p0)) << VSH_PAGE_SHIFT)

/*
 * Move the pages of [gpa, gpa + len) (4 KiB aligned) to @st, except those
 * whose state is in @keep (a mask of BIT(enum vsh_pstate)).  The caller
 * has charged the ledger for pages that enter a charged state from an
 * uncharged one.  Returns the bytes done, a prefix: less than @len only
 * if memory ran out.
 */
u64 vsh_range_set(struct vsh_dev *d, u64 gpa, u64 len, enum vsh_pstate st,
		  unsigned int keep)
{
	unsigned int p0, p1;
	unsigned long bi;
	u64 pos;

	lockdep_assert_held(&d->lock);
	/* callers pass validated 4 KiB extents; a piece is never empty */
	if (WARN_ON_ONCE(!IS_ALIGNED(gpa | len, VSH_PAGE_SIZE)))
		return 0;
	for (pos = gpa; pos < gpa + len; pos += VSH_PIECE_BYTES(p0, p1)) {
		bi = vsh_piece(pos, gpa + len, &p0, &p1);
		if (vsh_block_set(d, bi, p0, p1, st, keep))
			return pos - gpa;
		cond_resched();
	}
	return len;
}

/* Bytes of [gpa, gpa + len) (4 KiB aligned) whose pages are in @st. */
u64 vsh_range_count(struct vsh_dev *d, u64 gpa, u64 len, enum vsh_pstate st)
{
	unsigned int p0, p1, i;
	struct vsh_block *b;
	unsigned long bi;
	u64 pos, n = 0;

	lockdep_assert_held(&d->lock);
	if (WARN_ON_ONCE(!IS_ALIGNED(gpa | len, VSH_PAGE_SIZE)))
		return 0;
	for (pos = gpa; pos < gpa + len; pos += VSH_PIECE_BYTES(p0, p1)) {
		bi = vsh_piece(pos, gpa + len, &p0, &p1);
		if (vsh_block_load(d, bi, &b) == st && !b)
			n += p1 - p0;
		else if (b)
			for (i = p0; i < p1; i++)
				n += b->st[i] == st;
	}
	return n << VSH_PAGE_SHIFT;
}

/* Every page back to GUEST, every charge dropped (device reset / free). */
void vsh_pages_reset(struct vsh_dev *d)
{
	unsigned long bi;
	unsigned int i;
	void *e;

#ifdef VS_MUTANT_RESET_KEEPS_LEDGER	/* test-only fault: scripts/check-mutants */
	return;
#endif
	xa_for_each(&d->pages, bi, e) {
		if (xa_is_value(e)) {
			if (vsh_pstate_charged(xa_to_value(e)))
				vsh_ledger_uncharge(BIT_ULL(VSH_BLOCK_SHIFT));
			continue;
		}
		for (i = 0; i < VSH_BLOCK_PAGES; i++)
			if (vsh_pstate_charged(((struct vsh_block *)e)->st[i]))
				vsh_ledger_uncharge(VSH_PAGE_SIZE);
		kfree(e);
	}
	xa_destroy(&d->pages);
	WRITE_ONCE(d->nr_inflated, 0);
	WRITE_ONCE(d->nr_reserved, 0);
	WRITE_ONCE(d->nr_committed, 0);
}

/*
 * The memory map changed: pages that left guest RAM (unmapped, read-only,
 * or an alias of a file range mapped at a lower address, see
 * vsh_range_is_ram) go back to GUEST and drop their charge, so states
 * and charges never outlive the memory they describe.  Under the lock,
 * with d->snap the new map; a block entirely in RAM costs one lookup.
 */
void vsh_pages_prune(struct vsh_dev *d)
{
	unsigned long bi;
	unsigned int i;
	void *e;

	lockdep_assert_held(&d->lock);
	xa_for_each(&d->pages, bi, e) {
		u64 base = (u64)bi << VSH_BLOCK_SHIFT;

		if (vsh_range_is_ram(d, base, BIT_ULL(VSH_BLOCK_SHIFT)))
			continue;
		for (i = 0; i < VSH_BLOCK_PAGES; i++) {
			u64 gpa = base + ((u64)i << VSH_PAGE_SHIFT);

			if (!vsh_range_is_ram(d, gpa, VSH_PAGE_SIZE))
				vsh_range_set(d, gpa, VSH_PAGE_SIZE,
					      VSH_P_GUEST, 0);
		}
		cond_resched();
	}
}

/*
 * The first run of pages in one balloon state (not GUEST) at or after
 * @from (4 KiB aligned), in @r; false if there is none.  A run is maximal
 * unless it spans more than VSH_RUN_BLOCKS blocks: one call's work is
 * bounded, and a longer run is returned in pieces.
 */
#define VSH_RUN_BLOCKS	4096	/* 8 GiB */

bool vsh_pages_next_run(struct vsh_dev *d, u64 from, struct vsh_run *r)
{
	unsigned int i, p0, scanned = 0;
	unsigned long bi;
	void *e;

	lockdep_assert_held(&d->lock);
	r->len = 0;
	xa_for_each_start(&d->pages, bi, e, from >> VSH_BLOCK_SHIFT) {
		u64 base = (u64)bi << VSH_BLOCK_SHIFT;
		struct vsh_block *b = xa_is_value(e) ? NULL : e;

		/* a block not in the xarray (all GUEST) ends the run */
		if ((r->len && base != r->start + r->len) ||
		    ++scanned > VSH_RUN_BLOCKS)
			break;
		p0 = base < from ? (from - base) >> VSH_PAGE_SHIFT : 0;
		for (i = p0; i < VSH_BLOCK_PAGES; i++) {
			enum vsh_pstate st = b ? b->st[i] : xa_to_value(e);
			u64 gpa = base + ((u64)i << VSH_PAGE_SHIFT);

			if (!r->len && st == VSH_P_GUEST)
				continue;
			if (!r->len) {
				r->start = gpa;
				r->st = st;
			} else if (st != r->st) {
				return true;
			}
			if (!b) {
				/* a uniform block joins the run whole */
				r->len += (u64)(VSH_BLOCK_PAGES - i) <<
					  VSH_PAGE_SHIFT;
				break;
			}
			r->len += VSH_PAGE_SIZE;
		}
	}
	return r->len != 0;
}

const char *vsh_pstate_name(enum vsh_pstate st)
{
	return vsh_pstate_names[st];
}
