// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: the shaping queue (VIRTIO_BALLOON_F_VSHAPE).
 *
 * A request is read and validated completely before any page changes
 * state (see include/uapi/linux/vshape.h for the semantics): header
 * fields, extent count, buffer sizes, alignment, wrap-around, total size,
 * overlap, guest RAM membership and, for RESERVE/COMMIT/RELEASE, that the
 * pages are in the balloon (for REPORT, that none is).  Any failure gives VSHAPE_S_INVALID with no
 * side effect.  Extents are then processed in order, VSH_SLICE_BYTES per
 * worker step (the device lock is dropped between slices); RESERVE and
 * COMMIT stop at the first page the ledger or the backing store cannot
 * take and report the granted prefix.
 */
#include <linux/slab.h>
#include <linux/sort.h>

#include "vshape_host.h"
#include "vshape_host_trace.h"

#define VSH_CHUNK	(2ULL << 20)

void vsh_fill_shaping_config(struct vsh_dev *d, struct vshape_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = cpu_to_le16(VSHAPE_VERSION);
	c->max_extents = cpu_to_le16(VSH_MAX_EXTENTS);
	c->min_align = cpu_to_le32(VSHAPE_MIN_ALIGN);
	c->pref_align = cpu_to_le32(VSHAPE_PREF_ALIGN);
	c->max_request_bytes = cpu_to_le64(VSH_MAX_REQ_BYTES);
	c->capacity_hint = cpu_to_le64(vsh_dev_capacity(d));
}

static int vsh_ext_cmp(const void *a, const void *b)
{
	const struct vsh_ext *x = a, *y = b;

	if (x->gpa < y->gpa)
		return -1;
	return x->gpa > y->gpa;
}

/* Read and check the extents; returns the total length or 0 if invalid. */
static u64 vsh_read_extents(struct vsh_dev *d, struct vsh_chain *ch,
			    unsigned int op, unsigned int nr)
{
	struct vshape_extent e;
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (vsh_chain_read(d, ch, sizeof(struct vshape_req_hdr) +
				   (u64)i * sizeof(e), &e, sizeof(e)))
			return 0;
		d->ext[i].gpa = le64_to_cpu(e.gpa);
		d->ext[i].len = le64_to_cpu(e.len);
		if (!d->ext[i].len ||
		    !IS_ALIGNED(d->ext[i].gpa, VSHAPE_MIN_ALIGN) ||
		    !IS_ALIGNED(d->ext[i].len, VSHAPE_MIN_ALIGN) ||
		    d->ext[i].len > VSH_MAX_REQ_BYTES ||
		    d->ext[i].gpa + d->ext[i].len < d->ext[i].gpa)
			return 0;
		total += d->ext[i].len;
		if (total > VSH_MAX_REQ_BYTES)
			return 0;
#ifdef VS_MUTANT_EXTENT_OUTSIDE_RAM	/* test-only fault: scripts/check-mutants */
		continue;
#endif
		if (!vsh_range_is_ram(d, d->ext[i].gpa, d->ext[i].len))
			return 0;
	}

	memcpy(d->sorted, d->ext, nr * sizeof(*d->ext));
	sort(d->sorted, nr, sizeof(*d->sorted), vsh_ext_cmp, NULL);
	for (i = 1; i < nr; i++)
		if (d->sorted[i - 1].gpa + d->sorted[i - 1].len >
		    d->sorted[i].gpa)
			return 0;

	if (op == VSHAPE_OP_INFLATE || op == VSHAPE_OP_DEFLATE)
		return total;
	/* REPORT names free guest pages: none of them in the balloon. */
	if (op == VSHAPE_OP_REPORT) {
		for (i = 0; i < nr; i++)
			if (vsh_range_count(d, d->ext[i].gpa, d->ext[i].len,
					    VSH_P_GUEST) != d->ext[i].len)
				return 0;
		return total;
	}
	for (i = 0; i < nr; i++)
		if (vsh_range_count(d, d->ext[i].gpa, d->ext[i].len,
				    VSH_P_GUEST))
			return 0;
	return total;
}

/* Free the INFLATED and RESERVED pages of [gpa, gpa + len), run by run. */
static void vsh_punch_uncommitted(struct vsh_dev *d, u64 gpa, u64 len)
{
	u64 pos, run = 0;

	for (pos = gpa; pos < gpa + len; pos += VSH_PAGE_SIZE) {
		if (!vsh_range_count(d, pos, VSH_PAGE_SIZE, VSH_P_GUEST) &&
		    !vsh_range_count(d, pos, VSH_PAGE_SIZE, VSH_P_COMMITTED)) {
			run += VSH_PAGE_SIZE;
			continue;
		}
		if (run)
			vsh_backing_punch(d, pos - run, run);
		run = 0;
	}
	if (run)
		vsh_backing_punch(d, pos - run, run);
}

/*
 * What a COMMIT of [gpa, gpa + len) populated beyond it: allocating a
 * page of a file that has large folios (a tmpfs mounted with huge=)
 * allocates the whole folio, e.g. 2 MiB for 4 KiB.  If @gpa was a hole
 * before (@was_hole) and is now in a larger folio, the folio's other
 * balloon pages are populated too: charge their INFLATED pages and make
 * them all COMMITTED (the guest still sees them in its balloon; only the
 * ledger knows), so the charge is what is populated.  If the ledger or
 * the quota cannot take that, free the folio's balloon pages again and
 * return -ENOSPC.  *@span (from @gpa, @len) becomes the folio's range.
 */
static int vsh_charge_folio(struct vsh_dev *d, u64 gpa, u64 len, u64 need,
			    bool was_hole, u64 *span_gpa, u64 *span_len)
{
	u64 fs = 0, fl = was_hole ? vsh_backing_folio(d, gpa, &fs) : 0;
	u64 extra;

	*span_gpa = gpa;
	*span_len = len;
	/* a region not 4 KiB aligned (a hostile VMM's IOTLB) is not looked at */
	if (fl <= len || fs > gpa || fs + fl < gpa + len ||
	    !IS_ALIGNED(fs | fl, VSH_PAGE_SIZE))
		return 0;
	extra = vsh_range_count(d, fs, fl, VSH_P_INFLATED) -
		vsh_range_count(d, gpa, len, VSH_P_INFLATED);
	if (extra && (!vsh_dev_quota_allows(d, need + extra) ||
		      vsh_ledger_charge(extra, false) != extra)) {
		/* a new folio: its other pages were holes, free them again */
		vsh_punch_uncommitted(d, fs, fl);
		return -ENOSPC;
	}
	*span_gpa = fs;
	*span_len = fl;
	return 0;
}

/*
 * RESERVE/COMMIT one chunk (at most VSH_CHUNK, within one 2 MiB block):
 * charge its uncharged pages (all or nothing), populate it for COMMIT
 * and charge what that populated beyond it (vsh_charge_folio), then move
 * the pages.  Returns 0 or -ENOSPC (ledger or quota full), another error
 * from the backing store.
 */
static int vsh_grant_chunk(struct vsh_dev *d, u64 gpa, u64 len,
			   enum vsh_pstate st)
{
	u64 need = vsh_range_count(d, gpa, len, VSH_P_INFLATED), done;
	u64 sg = gpa, sl = len, fs;
	bool was_hole = false;
	unsigned int keep;
	int ret;

	if (need && (!vsh_dev_quota_allows(d, need) ||
		     vsh_ledger_charge(need, false) != need))
		return -ENOSPC;
	if (st == VSH_P_COMMITTED) {
		was_hole = !vsh_backing_folio(d, gpa, &fs);
		ret = vsh_backing_populate(d, gpa, len);
		if (!ret)
			ret = vsh_charge_folio(d, gpa, len, need, was_hole,
					       &sg, &sl);
		if (ret) {
			vsh_ledger_uncharge(need);
			return ret;
		}
	}
	/*
	 * RESERVE leaves COMMITTED pages committed; pages of a COMMIT's
	 * folio outside the chunk move only if they are in the balloon
	 * (the chunk itself has no GUEST page: validated).
	 */
	keep = st == VSH_P_RESERVED ? BIT(VSH_P_COMMITTED) : BIT(VSH_P_GUEST);
	done = vsh_range_set(d, sg, sl, st, keep);
	if (done != sl) {
		/* pages not moved still hold a charge: give it back */
		vsh_ledger_uncharge(vsh_range_count(d, sg + done, sl - done,
						    VSH_P_INFLATED));
		/*
		 * and a COMMIT populated them: free them again, or they stay
		 * allocated in the balloon, uncharged (the granted prefix
		 * ends before them)
		 */
		if (st == VSH_P_COMMITTED)
			vsh_punch_uncommitted(d, sg + done, sl - done);
		return -ENOMEM;
	}
	return 0;
}

/* Grant [gpa, gpa + len); returns bytes granted (a prefix). */
static u64 vsh_grant(struct vsh_dev *d, u64 gpa, u64 len, enum vsh_pstate st)
{
	u64 done = 0;

	while (done < len) {
		u64 n = min(len - done, VSH_CHUNK -
			    ((gpa + done) & (VSH_CHUNK - 1)));

		if (!vsh_grant_chunk(d, gpa + done, n, st)) {
			done += n;
			cond_resched();
			continue;
		}
		/* chunk refused: try page by page for the exact prefix */
		for (; n; n -= VSH_PAGE_SIZE, done += VSH_PAGE_SIZE)
			if (vsh_grant_chunk(d, gpa + done, VSH_PAGE_SIZE, st))
				return done;
	}
	return done;
}

/*
 * Execute @op on [gpa, gpa + len), a piece of one extent; returns the
 * bytes done, a prefix (less than @len: the request stops there).
 */
static u64 vsh_execute(struct vsh_dev *d, unsigned int op, u64 gpa, u64 len)
{
	switch (op) {
	case VSHAPE_OP_INFLATE:
	case VSHAPE_OP_RELEASE:
#ifdef VS_MUTANT_INFLATE_NO_FREE	/* test-only fault: scripts/check-mutants */
		return vsh_range_set(d, gpa, len, VSH_P_INFLATED, 0);
#endif
		/*
		 * Free first: if the backing store refuses, no page has moved
		 * (or dropped its charge) and the granted prefix is exact.
		 * The pages are the guest's gift either way, so freeing them
		 * before their state changes loses nothing.
		 */
		if (vsh_backing_punch(d, gpa, len))
			return 0;
		return vsh_range_set(d, gpa, len, VSH_P_INFLATED, 0);
	case VSHAPE_OP_DEFLATE:
		return vsh_range_set(d, gpa, len, VSH_P_GUEST, 0);
	case VSHAPE_OP_RESERVE:
		return vsh_grant(d, gpa, len, VSH_P_RESERVED);
	case VSHAPE_OP_COMMIT:
		return vsh_grant(d, gpa, len, VSH_P_COMMITTED);
	case VSHAPE_OP_REPORT:
		/* The pages stay GUEST: only their backing goes. */
		if (vsh_backing_punch(d, gpa, len))
			return 0;
		d->stats.reported_bytes += len;
		return len;
	default:
		return 0;
	}
}

static void vsh_respond(struct vsh_dev *d, struct vsh_vq *vq,
			const struct vsh_chain *ch, __le32 id, unsigned int op,
			unsigned int nr, u64 total, unsigned int status,
			u64 granted)
{
	struct vshape_resp r = {};

	r.id = id;
	r.status = cpu_to_le16(status);
	r.granted = cpu_to_le64(granted);
	r.capacity = cpu_to_le64(vsh_dev_capacity(d));
	d->stats.status[status]++;
	trace_vshape_host_request(dev_name(&d->vdpa.dev), le32_to_cpu(id),
				  op, nr, total, status, granted);
	if (vsh_chain_write(d, ch, &r, sizeof(r)))
		vsh_vq_push(d, vq, ch->head, 0);
	else
		vsh_vq_push(d, vq, ch->head, sizeof(r));
	vsh_vq_notify(vq);
}

/*
 * Read and validate a request.  An invalid one is answered at once; a
 * valid one becomes d->req, executed by vsh_shaping_continue() a slice
 * at a time, and answered when it is done.
 */
void vsh_shaping_process(struct vsh_dev *d, struct vsh_vq *vq,
			 struct vsh_chain *ch)
{
	struct vshape_req_hdr h = {};
	struct vsh_req *q = &d->req;
	unsigned int op = 0, nr = 0;
	u64 total = 0;

	if (ch->in_len < sizeof(struct vshape_resp)) {
		/* nowhere to answer: return the chain empty */
		d->stats.bad_chain++;
		d->stats.status[VSHAPE_S_INVALID]++;
		vsh_vq_push(d, vq, ch->head, 0);
		vsh_vq_notify(vq);
		return;
	}
	if (vsh_chain_read(d, ch, 0, &h, sizeof(h)))
		goto invalid;
	op = le16_to_cpu(h.op);
	nr = le16_to_cpu(h.nr_extents);
	if (op < VSHAPE_OP_INFLATE || op > VSHAPE_OP_REPORT) {
		d->stats.req[0]++;
		goto invalid;
	}
	d->stats.req[op]++;
	if (h.reserved || !nr || nr > VSH_MAX_EXTENTS ||
	    ch->out_len < sizeof(h) + (u64)nr * sizeof(struct vshape_extent))
		goto invalid;
	total = vsh_read_extents(d, ch, op, nr);
	if (!total)
		goto invalid;

	q->ch = *ch;
	q->id = h.id;
	q->op = op;
	q->nr = nr;
	q->i = 0;
	q->off = 0;
	q->total = total;
	q->granted = 0;
	q->active = true;
	return;

invalid:
	vsh_respond(d, vq, ch, h.id, op, nr, total, VSHAPE_S_INVALID, 0);
}

/*
 * Execute up to @budget bytes (4 KiB multiple) of d->req; answer it when
 * it is complete or stopped.  Returns the bytes worked on.
 */
u64 vsh_shaping_continue(struct vsh_dev *d, struct vsh_vq *vq, u64 budget)
{
	struct vsh_req *q = &d->req;
	unsigned int status;
	bool stop = false;
	u64 used = 0;

	d->stats.slices++;
	while (q->i < q->nr && used < budget) {
		const struct vsh_ext *e = &d->ext[q->i];
		u64 len = min(e->len - q->off, budget - used);
		u64 n = 0;

		/*
		 * The map may have changed since validation (an IOTLB update
		 * mid-request): the request stops at memory that left it.
		 */
		if (vsh_range_is_ram(d, e->gpa + q->off, len))
			n = vsh_execute(d, q->op, e->gpa + q->off, len);

		used += len;
		q->granted += n;
		q->off += n;
		if (n != len) {
			stop = true;
			break;
		}
		if (q->off == e->len) {
			q->i++;
			q->off = 0;
		}
		cond_resched();
	}
	if (!stop && q->i < q->nr)
		return used;

	if (q->granted == q->total)
		status = VSHAPE_S_DONE;
	else if (q->granted)
		status = VSHAPE_S_PARTIAL;
	else
		status = VSHAPE_S_REFUSED_CAPACITY;
	q->active = false;
	vsh_respond(d, vq, &q->ch, q->id, q->op, q->nr, q->total, status,
		    q->granted);
	return used;
}
