// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler (see sampler.h).  Every value comes from a kernel counter
 * that a guest has anyway; nothing is simulated.
 *
 * PSI: the system-wide group is reached through the root cgroup (its
 * psi pointer is psi_system, which is not exported).  The PSI_AVGS totals
 * are folded in by the kernel's averaging work every 2 s, so the stall
 * channels move in 2 s steps; and Debian builds PSI in, enabled by
 * default (psi=0 on the command line turns it off, and the channels
 * then read 0).
 */

#include <linux/cgroup.h>
#include <linux/cpumask.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/psi_types.h>
#include <linux/sched/cputime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tick.h>
#include <linux/vmstat.h>

#include "sampler.h"
#include "fixed.h"

const char * const vsg_channel_names[VSG_NR_CHANNELS] = {
	[VSG_CH_USED] = "used",
	[VSG_CH_CPU] = "cpu",
	[VSG_CH_ANON] = "anon",
	[VSG_CH_FILE] = "file",
	[VSG_CH_FREE] = "free",
	[VSG_CH_PGFAULT] = "pgfault",
	[VSG_CH_PGMAJFAULT] = "pgmajfault",
	[VSG_CH_REFAULT] = "refault",
	[VSG_CH_SWPIN] = "swpin",
	[VSG_CH_SWPOUT] = "swpout",
	[VSG_CH_PSI_SOME] = "psi_some",
	[VSG_CH_PSI_FULL] = "psi_full",
	[VSG_CH_CG_USAGE] = "cg_usage",
	[VSG_CH_CG_PSI_SOME] = "cg_psi_some",
};

/* num / den as Q3.12, saturated to [0, S16_MAX]. */
static s16 vsg_q12_ratio(u64 num, u64 den)
{
	u64 q;

	if (!den)
		return 0;
	if (num > (U64_MAX >> 12))
		return S16_MAX;
	q = div64_u64(num << 12, den);
	return q > S16_MAX ? S16_MAX : (s16)q;
}

static u64 vsg_psi_total(struct cgroup *cgrp, int state)
{
#ifdef CONFIG_PSI
	struct psi_group *psi = cgrp ? cgrp->psi : NULL;

	if (psi)
		return READ_ONCE(psi->total[PSI_AVGS][state]);
#endif
	return 0;
}

static void vsg_snapshot(struct vsg_sampler *s, struct vsg_counters *c)
{
	unsigned long ev[NR_VM_EVENT_ITEMS];
	unsigned int i;
	int cpu;

	c->time_ns = ktime_get_ns();
	c->idle_us = 0;
	for_each_online_cpu(cpu) {
		u64 idle = get_cpu_idle_time_us(cpu, NULL);

		if (idle != (u64)-1)
			c->idle_us += idle;
	}
	all_vm_events(ev);
	c->pgfault = ev[PGFAULT];
	c->pgmajfault = ev[PGMAJFAULT];
	c->pswpin = ev[PSWPIN];
	c->pswpout = ev[PSWPOUT];
	c->refault = global_node_page_state(WORKINGSET_REFAULT_ANON) +
		     global_node_page_state(WORKINGSET_REFAULT_FILE);
	/* The root cgroup's PSI group is the system-wide one. */
	c->psi_some_ns = vsg_psi_total(s->root, PSI_MEM_SOME);
	c->psi_full_ns = vsg_psi_total(s->root, PSI_MEM_FULL);
	for (i = 0; i < s->nr_cg; i++)
		c->cg_psi_some_ns[i] = vsg_psi_total(s->cg[i], PSI_MEM_SOME);
}

static u64 vsg_cgroup_usage_pages(struct cgroup *cgrp)
{
#ifdef CONFIG_MEMCG
	struct cgroup_subsys_state *css;
	u64 pages = 0;

	css = cgroup_get_e_css(cgrp, &memory_cgrp_subsys);
	if (css) {
		pages = page_counter_read(&mem_cgroup_from_css(css)->memory);
		css_put(css);
	}
	return pages;
#else
	return 0;
#endif
}

/* Per-second rate of a counter delta, as a fraction of RAM pages. */
static s16 vsg_rate(u64 delta, u64 dt_ns, unsigned long total)
{
	return vsg_q12_ratio(delta * NSEC_PER_SEC / max_t(u64, dt_ns, 1),
			     total);
}

void vsg_sampler_read(struct vsg_sampler *s, s16 raw[VSG_NR_CHANNELS],
		      unsigned long balloon_pages)
{
	unsigned long total = totalram_pages();
	unsigned long anon, file, used;
	struct vsg_counters c;
	u64 dt, cg_pages = 0, busy_us, cpu_us;
	s16 cg_psi = 0;
	unsigned int i;

	memset(raw, 0, sizeof(s16) * VSG_NR_CHANNELS);
	vsg_snapshot(s, &c);
	anon = global_node_page_state(NR_ACTIVE_ANON) +
	       global_node_page_state(NR_INACTIVE_ANON);
	file = global_node_page_state(NR_ACTIVE_FILE) +
	       global_node_page_state(NR_INACTIVE_FILE);

	/*
	 * Demand is what the guest's own work uses: the balloon's pages are
	 * not available, but counting them as used would make the balloon
	 * feed back on the prediction that sizes it.
	 */
	used = total - min_t(unsigned long, total, si_mem_available());
	used -= min(used, balloon_pages);
	raw[VSG_CH_USED] = vsg_q12_ratio(used, total);
	raw[VSG_CH_ANON] = vsg_q12_ratio(anon, total);
	raw[VSG_CH_FILE] = vsg_q12_ratio(file, total);
	raw[VSG_CH_FREE] = vsg_q12_ratio(global_zone_page_state(NR_FREE_PAGES),
					 total);
	for (i = 0; i < s->nr_cg; i++)
		cg_pages += vsg_cgroup_usage_pages(s->cg[i]);
	raw[VSG_CH_CG_USAGE] = vsg_q12_ratio(cg_pages, total);

	if (s->primed && c.time_ns > s->prev.time_ns) {
		struct vsg_counters *p = &s->prev;

		dt = c.time_ns - p->time_ns;
		cpu_us = div_u64(dt, NSEC_PER_USEC) * num_online_cpus();
		busy_us = cpu_us - min(cpu_us, c.idle_us - p->idle_us);
		raw[VSG_CH_CPU] = vsg_q12_ratio(busy_us, cpu_us);
		raw[VSG_CH_PGFAULT] = vsg_rate(c.pgfault - p->pgfault, dt, total);
		raw[VSG_CH_PGMAJFAULT] = vsg_rate(c.pgmajfault - p->pgmajfault,
						  dt, total);
		raw[VSG_CH_REFAULT] = vsg_rate(c.refault - p->refault, dt, total);
		raw[VSG_CH_SWPIN] = vsg_rate(c.pswpin - p->pswpin, dt, total);
		raw[VSG_CH_SWPOUT] = vsg_rate(c.pswpout - p->pswpout, dt, total);
		raw[VSG_CH_PSI_SOME] = vsg_q12_ratio(c.psi_some_ns -
						     p->psi_some_ns, dt);
		raw[VSG_CH_PSI_FULL] = vsg_q12_ratio(c.psi_full_ns -
						     p->psi_full_ns, dt);
		for (i = 0; i < s->nr_cg; i++)
			cg_psi = max(cg_psi,
				     vsg_q12_ratio(c.cg_psi_some_ns[i] -
						   p->cg_psi_some_ns[i], dt));
		raw[VSG_CH_CG_PSI_SOME] = cg_psi;
	}
	s->prev = c;
	s->primed = true;
}

static void vsg_put_watched(struct vsg_sampler *s)
{
	while (s->nr_cg)
		cgroup_put(s->cg[--s->nr_cg]);
	s->cg_paths[0] = '\0';
}

void vsg_sampler_init(struct vsg_sampler *s)
{
	s->root = cgroup_get_from_path("/");
	if (IS_ERR(s->root))
		s->root = NULL;	/* no cgroup v2: system PSI reads 0 */
}

void vsg_sampler_release(struct vsg_sampler *s)
{
	vsg_put_watched(s);
	if (s->root)
		cgroup_put(s->root);
	s->root = NULL;
	s->primed = false;
}

/*
 * Replace the watched cgroups by the comma-separated cgroup v2 paths in
 * @paths ("" clears).  All or nothing: on error the old set is kept.
 */
int vsg_sampler_set_cgroups(struct vsg_sampler *s, const char *paths)
{
	struct cgroup *cg[VSG_MAX_CGROUPS];
	char *buf, *cur, *tok;
	unsigned int n = 0;
	int err = 0;

	if (strlen(paths) >= sizeof(s->cg_paths))
		return -ENAMETOOLONG;
	buf = kstrdup(paths, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = strim(buf);
	while ((tok = strsep(&cur, ",")) != NULL) {
		struct cgroup *cgrp;

		tok = strim(tok);
		if (!*tok)
			continue;
		if (n == VSG_MAX_CGROUPS || *tok != '/' ||
		    strlen(tok) >= VSG_CGROUP_PATH_MAX) {
			err = -EINVAL;
			break;
		}
		cgrp = cgroup_get_from_path(tok);
		if (IS_ERR(cgrp)) {
			err = PTR_ERR(cgrp);
			break;
		}
		cg[n++] = cgrp;
	}
	if (err) {
		while (n)
			cgroup_put(cg[--n]);
		kfree(buf);
		return err;
	}
	vsg_put_watched(s);
	memcpy(s->cg, cg, sizeof(cg[0]) * n);
	s->nr_cg = n;
	/* Keep the paths as given, less surrounding white space. */
	strscpy(s->cg_paths, paths, sizeof(s->cg_paths));
	cur = strim(s->cg_paths);
	memmove(s->cg_paths, cur, strlen(cur) + 1);
	kfree(buf);
	s->primed = false;	/* the cgroup PSI deltas restart */
	return 0;
}
