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

enum vs_channel {
	VS_CH_USED,		/* (MemTotal - MemAvailable - balloon) / MemTotal */
	VS_CH_CPU,		/* busy fraction of all CPUs */
	VS_CH_ANON,		/* anon LRU / MemTotal */
	VS_CH_FILE,		/* file LRU / MemTotal */
	VS_CH_FREE,		/* MemFree / MemTotal */
	VS_CH_PGFAULT,		/* page faults per second / MemTotal pages */
	VS_CH_PGMAJFAULT,	/* major faults per second / MemTotal pages */
	VS_CH_REFAULT,		/* workingset refaults per second / MemTotal */
	VS_CH_SWPIN,		/* pages swapped in per second / MemTotal */
	VS_CH_SWPOUT,		/* pages swapped out per second / MemTotal */
	VS_CH_PSI_SOME,		/* memory "some" stall, fraction of time */
	VS_CH_PSI_FULL,		/* memory "full" stall, fraction of time */
	VS_CH_CG_USAGE,		/* watched cgroups' memory usage / MemTotal */
	VS_CH_CG_PSI_SOME,	/* worst watched cgroup's "some" stall */
	VS_NR_CHANNELS,
};

#define VS_MAX_CGROUPS		4
#define VS_CGROUP_PATH_MAX	128

/* Cumulative counters; the channels are derived from two snapshots. */
struct vs_counters {
	u64 time_ns;
	u64 idle_us;		/* summed over online CPUs */
	u64 pgfault, pgmajfault, pswpin, pswpout, refault;
	u64 psi_some_ns, psi_full_ns;
	u64 cg_psi_some_ns[VS_MAX_CGROUPS];
};

struct cgroup;

struct vs_sampler {
	struct vs_counters prev;
	bool primed;		/* prev holds a snapshot */
	struct cgroup *root;	/* reference held; NULL without cgroup v2 */
	struct cgroup *cg[VS_MAX_CGROUPS];	/* references held */
	unsigned int nr_cg;
	char cg_paths[VS_MAX_CGROUPS * VS_CGROUP_PATH_MAX];
};

void vs_sampler_init(struct vs_sampler *s);
void vs_sampler_read(struct vs_sampler *s, s16 raw[VS_NR_CHANNELS],
		     unsigned long balloon_pages);
int vs_sampler_set_cgroups(struct vs_sampler *s, const char *paths);
void vs_sampler_release(struct vs_sampler *s);
extern const char * const vs_channel_names[VS_NR_CHANNELS];

#endif /* _VSHAPE_SAMPLER_H */
