// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: per-page balloon state of one device.
 *
 * d->pages maps (gpa >> 12) to xa_mk_value(enum vsh_pstate); a page not in
 * the xarray is GUEST.  The entry count is bounded by the guest RAM the
 * device can see, because every gpa is range checked before it gets here.
 * RESERVED and COMMITTED pages hold one page of ledger charge each; the
 * charge is dropped here whenever a page leaves those states.
 */
#include <linux/xarray.h>

#include "vshape_host.h"

static bool vsh_charged(enum vsh_pstate st)
{
	return st == VSH_P_RESERVED || st == VSH_P_COMMITTED;
}

static void vsh_count(struct vsh_dev *d, enum vsh_pstate st, int delta)
{
	switch (st) {
	case VSH_P_INFLATED:
		d->nr_inflated += delta;
		break;
	case VSH_P_RESERVED:
		d->nr_reserved += delta;
		break;
	case VSH_P_COMMITTED:
		d->nr_committed += delta;
		break;
	default:
		break;
	}
}

enum vsh_pstate vsh_page_get(struct vsh_dev *d, u64 gpa)
{
	void *e = xa_load(&d->pages, gpa >> VSH_PAGE_SHIFT);

	return e ? (enum vsh_pstate)xa_to_value(e) : VSH_P_GUEST;
}

/*
 * Move one page to @st.  The caller has charged the ledger for a move into
 * a charged state from an uncharged one; a move out of a charged state is
 * uncharged here.
 */
int vsh_page_set(struct vsh_dev *d, u64 gpa, enum vsh_pstate st)
{
	unsigned long idx = gpa >> VSH_PAGE_SHIFT;
	enum vsh_pstate old = vsh_page_get(d, gpa);
	int ret;

	lockdep_assert_held(&d->lock);
	if (old == st)
		return 0;
	if (st == VSH_P_GUEST) {
		xa_erase(&d->pages, idx);
	} else {
		ret = xa_err(xa_store(&d->pages, idx, xa_mk_value(st),
				      GFP_KERNEL));
		if (ret)
			return ret;
	}
	if (vsh_charged(old) && !vsh_charged(st))
		vsh_ledger_uncharge(VSH_PAGE_SIZE);
	vsh_count(d, old, -1);
	vsh_count(d, st, 1);
	return 0;
}

/* Every page back to GUEST, every charge dropped (device reset / free). */
void vsh_pages_reset(struct vsh_dev *d)
{
	unsigned long idx;
	void *e;

	xa_for_each(&d->pages, idx, e) {
		if (vsh_charged((enum vsh_pstate)xa_to_value(e)))
			vsh_ledger_uncharge(VSH_PAGE_SIZE);
	}
	xa_destroy(&d->pages);
	d->nr_inflated = 0;
	d->nr_reserved = 0;
	d->nr_committed = 0;
}
