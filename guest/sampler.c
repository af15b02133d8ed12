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

const char * const vs_channel_names[VS_NR_CHANNELS] = {
	[VS_CH_USED] = "used",
	[VS_CH_CPU] = "cpu",
	[VS_CH_ANON] = "anon",
	[VS_CH_FILE] = "file",
	[VS_CH_FREE] = "free",
	[VS_CH_PGFAULT] = "pgfault",
	[VS_CH_PGMAJFAULT] = "pgmajfault",
	[VS_CH_REFAULT] = "refault",
	[VS_CH_SWPIN] = "swpin",
	[VS_CH_SWPOUT] = "swpout",
	[VS_CH_PSI_SOME] = "psi_some",
	[VS_CH_PSI_FULL] = "psi_full",
	[VS_CH_CG_USAGE] = "cg_usage",
	[VS_CH_CG_PSI_SOME] = "cg_psi_some",
};

/* num / den as Q3.12, saturated to [0, S16_MAX]. */
static s16 vs_q12_ratio(u64 num, u64 den)
{
	u64 q;

	if (!den)
		return 0;
	if (num > (U64_MAX >> 12))
		return S16_MAX;
	q = div64_u64(num << 12, den);
	return q > S16_MAX ? S16_MAX : (s16)q;
}

static u64 vs_psi_total(struct cgroup *cgrp, int state)
{
#ifdef CONFIG_PSI
	struct psi_group *psi = cgrp ? cgrp->psi : NULL;

	if (psi)
		return READ_ONCE(psi->total[PSI_AVGS][state]);
#endif
	return 0;
}

static void vs_snapshot(struct vs_sampler *s, struct vs_counters *c)
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
	c->psi_some_ns = vs_psi_total(s->root, PSI_MEM_SOME);
	c->psi_full_ns = vs_psi_total(s->root, PSI_MEM_FULL);
	for (i = 0; i < s->nr_cg; i++)
		c->cg_psi_some_ns[i] = vs_psi_total(s->cg[i], PSI_MEM_SOME);
}

static u64 vs_cgroup_usage_pages(struct cgroup *cgrp)
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
static s16 vs_rate(u64 delta, u64 dt_ns, unsigned long total)
{
	return vs_q12_ratio(delta * NSEC_PER_SEC / max_t(u64, dt_ns, 1),
			    total);
}

void vs_sampler_read(struct vs_sampler *s, s16 raw[VS_NR_CHANNELS],
		     unsigned long balloon_pages)
{
	unsigned long total = totalram_pages();
	unsigned long anon, file, used;
	struct vs_counters c;
	u64 dt, cg_pages = 0, busy_us, cpu_us;
	s16 cg_psi = 0;
	unsigned int i;

	memset(raw, 0, sizeof(s16) * VS_NR_CHANNELS);
	vs_snapshot(s, &c);
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
	raw[VS_CH_USED] = vs_q12_ratio(used, total);
	raw[VS_CH_ANON] = vs_q12_ratio(anon, total);
	raw[VS_CH_FILE] = vs_q12_ratio(file, total);
	raw[VS_CH_FREE] = vs_q12_ratio(global_zone_page_state(NR_FREE_PAGES),
				       total);
	for (i = 0; i < s->nr_cg; i++)
		cg_pages += vs_cgroup_usage_pages(s->cg[i]);
	raw[VS_CH_CG_USAGE] = vs_q12_ratio(cg_pages, total);

	if (s->primed && c.time_ns > s->prev.time_ns) {
		struct vs_counters *p = &s->prev;

		dt = c.time_ns - p->time_ns;
		cpu_us = div_u64(dt, NSEC_PER_USEC) * num_online_cpus();
		busy_us = cpu_us - min(cpu_us, c.idle_us - p->idle_us);
		raw[VS_CH_CPU] = vs_q12_ratio(busy_us, cpu_us);
		raw[VS_CH_PGFAULT] = vs_rate(c.pgfault - p->pgfault, dt, total);
		raw[VS_CH_PGMAJFAULT] = vs_rate(c.pgmajfault - p->pgmajfault,
						dt, total);
		raw[VS_CH_REFAULT] = vs_rate(c.refault - p->refault, dt, total);
		raw[VS_CH_SWPIN] = vs_rate(c.pswpin - p->pswpin, dt, total);
		raw[VS_CH_SWPOUT] = vs_rate(c.pswpout - p->pswpout, dt, total);
		raw[VS_CH_PSI_SOME] = vs_q12_ratio(c.psi_some_ns -
						   p->psi_some_ns, dt);
		raw[VS_CH_PSI_FULL] = vs_q12_ratio(c.psi_full_ns -
						   p->psi_full_ns, dt);
		for (i = 0; i < s->nr_cg; i++)
			cg_psi = max(cg_psi,
				     vs_q12_ratio(c.cg_psi_some_ns[i] -
						  p->cg_psi_some_ns[i], dt));
		raw[VS_CH_CG_PSI_SOME] = cg_psi;
	}
	s->prev = c;
	s->primed = true;
}

static void vs_put_watched(struct vs_sampler *s)
{
	while (s->nr_cg)
		cgroup_put(s->cg[--s->nr_cg]);
	s->cg_paths[0] = '\0';
}

void vs_sampler_init(struct vs_sampler *s)
{
	s->root = cgroup_get_from_path("/");
	if (IS_ERR(s->root))
		s->root = NULL;	/* no cgroup v2: system PSI reads 0 */
}

void vs_sampler_release(struct vs_sampler *s)
{
	vs_put_watched(s);
	if (s->root)
		cgroup_put(s->root);
	s->root = NULL;
	s->primed = false;
}

/*
 * Replace the watched cgroups by the comma-separated cgroup v2 paths in
 * @paths ("" clears).  All or nothing: on error the old set is kept.
 */
int vs_sampler_set_cgroups(struct vs_sampler *s, const char *paths)
{
	struct cgroup *cg[VS_MAX_CGROUPS];
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
		if (n == VS_MAX_CGROUPS || *tok != '/' ||
		    strlen(tok) >= VS_CGROUP_PATH_MAX) {
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
	vs_put_watched(s);
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
