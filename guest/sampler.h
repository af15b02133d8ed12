/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sampler: the kernel's real memory counters, read every period and
 * turned into the predictor's raw inputs.
 *
 * Channels are in a fixed order (docs/predictor.md, "Input channels"); a
 * model with n_raw inputs reads channels 0 .. n_raw - 1.  Every channel
 * is a Q3.12 value: a fraction of RAM, a fraction of time, or a rate in
 * fractions of RAM per second, saturated to the Q3.12 range.
 */
#ifndef _VSHAPE_SAMPLER_H
#define _VSHAPE_SAMPLER_H

#include <linux/types.h>

enum vsg_channel {
	VSG_CH_USED,		/* (MemTotal - MemAvailable - balloon) / MemTotal */
	VSG_CH_CPU,		/* busy fraction of all CPUs */
	VSG_CH_ANON,		/* anon LRU / MemTotal */
	VSG_CH_FILE,		/* file LRU / MemTotal */
	VSG_CH_FREE,		/* MemFree / MemTotal */
	VSG_CH_PGFAULT,		/* page faults per second / MemTotal pages */
	VSG_CH_PGMAJFAULT,	/* major faults per second / MemTotal pages */
	VSG_CH_REFAULT,		/* workingset refaults per second / MemTotal */
	VSG_CH_SWPIN,		/* pages swapped in per second / MemTotal */
	VSG_CH_SWPOUT,		/* pages swapped out per second / MemTotal */
	VSG_CH_PSI_SOME,		/* memory "some" stall, fraction of time */
	VSG_CH_PSI_FULL,		/* memory "full" stall, fraction of time */
	VSG_CH_CG_USAGE,		/* watched cgroups' memory usage / MemTotal */
	VSG_CH_CG_PSI_SOME,	/* worst watched cgroup's "some" stall */
	VSG_NR_CHANNELS,
};

#define VSG_MAX_CGROUPS		4
#define VSG_CGROUP_PATH_MAX	128

/* Cumulative counters; the channels are derived from two snapshots. */
struct vsg_counters {
	u64 time_ns;
	u64 idle_us;		/* summed over online CPUs */
	u64 pgfault, pgmajfault, pswpin, pswpout, refault;
	u64 psi_some_ns, psi_full_ns;
	u64 cg_psi_some_ns[VSG_MAX_CGROUPS];
};

struct cgroup;

struct vsg_sampler {
	struct vsg_counters prev;
	bool primed;		/* prev holds a snapshot */
	struct cgroup *root;	/* reference held; NULL without cgroup v2 */
	struct cgroup *cg[VSG_MAX_CGROUPS];	/* references held */
	unsigned int nr_cg;
	char cg_paths[VSG_MAX_CGROUPS * VSG_CGROUP_PATH_MAX];
};

void vsg_sampler_init(struct vsg_sampler *s);
void vsg_sampler_read(struct vsg_sampler *s, s16 raw[VSG_NR_CHANNELS],
		      unsigned long balloon_pages);
int vsg_sampler_set_cgroups(struct vsg_sampler *s, const char *paths);
void vsg_sampler_release(struct vsg_sampler *s);
extern const char * const vsg_channel_names[VSG_NR_CHANNELS];

#endif /* _VSHAPE_SAMPLER_H */
