// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: the host-wide capacity ledger.
 *
 * "capacity" is how many bytes of guest memory the host is prepared to
 * guarantee (RESERVE) or populate on request (COMMIT) across all vshape
 * devices; "charged" is how many bytes are currently held by RESERVED and
 * COMMITTED pages.  charged <= capacity always holds after a charge; the
 * administrator may lower capacity below charged, which only makes new
 * charges fail until pages are released.
 *
 * A device may also have a quota (sysfs quota_bytes): its own charge
 * never exceeds it after a charge, and the capacity it reports to its
 * guest (capacity_hint, the reply's capacity) is its share.
 */
#include <linux/spinlock.h>
#include <linux/minmax.h>

#include "vshape_host.h"

/*
 * vsh_ledger_lock protects vsh_capacity and vsh_charged.  It is a spinlock
 * taken for a few instructions; holding it guarantees the two values are
 * read and changed together.  Nests inside vsh_dev.lock.
 */
static DEFINE_SPINLOCK(vsh_ledger_lock);
static u64 vsh_capacity;
static u64 vsh_charged;

void vsh_ledger_init(u64 bytes)
{
	spin_lock(&vsh_ledger_lock);
	vsh_capacity = bytes;
	vsh_charged = 0;
	spin_unlock(&vsh_ledger_lock);
}

/*
 * Charge @bytes (a multiple of 4 KiB).  All or nothing unless @partial_ok,
 * in which case as many whole pages as fit are charged.  Returns the bytes
 * charged.
 */
u64 vsh_ledger_charge(u64 bytes, bool partial_ok)
{
	u64 avail, got = 0;

	spin_lock(&vsh_ledger_lock);
	avail = vsh_capacity > vsh_charged ? vsh_capacity - vsh_charged : 0;
	if (bytes <= avail)
		got = bytes;
	else if (partial_ok)
		got = round_down(avail, VSH_PAGE_SIZE);
	vsh_charged += got;
	spin_unlock(&vsh_ledger_lock);
	return got;
}

void vsh_ledger_uncharge(u64 bytes)
{
	spin_lock(&vsh_ledger_lock);
	if (WARN_ON_ONCE(bytes > vsh_charged))
		bytes = vsh_charged;
	vsh_charged -= bytes;
	spin_unlock(&vsh_ledger_lock);
}

u64 vsh_ledger_free_bytes(void)
{
	u64 v;

	spin_lock(&vsh_ledger_lock);
	v = vsh_capacity > vsh_charged ? vsh_capacity - vsh_charged : 0;
	spin_unlock(&vsh_ledger_lock);
	return v;
}

u64 vsh_ledger_capacity(void)
{
	u64 v;

	spin_lock(&vsh_ledger_lock);
	v = vsh_capacity;
	spin_unlock(&vsh_ledger_lock);
	return v;
}

u64 vsh_ledger_charged(void)
{
	u64 v;

	spin_lock(&vsh_ledger_lock);
	v = vsh_charged;
	spin_unlock(&vsh_ledger_lock);
	return v;
}

/* Bytes this device's RESERVED and COMMITTED pages hold (lock free). */
u64 vsh_dev_charged(const struct vsh_dev *d)
{
	return (READ_ONCE(d->nr_reserved) + READ_ONCE(d->nr_committed)) <<
	       VSH_PAGE_SHIFT;
}

/* True if the device's quota leaves room for @bytes more. */
bool vsh_dev_quota_allows(const struct vsh_dev *d, u64 bytes)
{
	u64 quota = READ_ONCE(d->quota), charged = vsh_dev_charged(d);

	return !quota || (charged <= quota && bytes <= quota - charged);
}

/*
 * What a RESERVE of this device could be granted now: the ledger's free
 * bytes, limited by what the device's quota leaves.  With quotas whose
 * sum is at most the capacity, this depends only on the device's own
 * charges, not on other guests' activity.
 */
u64 vsh_dev_capacity(const struct vsh_dev *d)
{
	u64 quota = READ_ONCE(d->quota), charged = vsh_dev_charged(d);
	u64 free = vsh_ledger_free_bytes();

	if (!quota)
		return free;
	return min(free, quota > charged ? quota - charged : 0);
}

int vsh_ledger_set_capacity(u64 bytes)
{
	if (bytes & (VSH_PAGE_SIZE - 1))
		return -EINVAL;
	spin_lock(&vsh_ledger_lock);
	vsh_capacity = bytes;
	spin_unlock(&vsh_ledger_lock);
	return 0;
}
