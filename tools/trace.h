/* SPDX-License-Identifier: GPL-2.0 */
/* Load machine-usage traces and resample them to a fixed grid. */
#ifndef VS_TRACE_H
#define VS_TRACE_H

#include "vs_types.h"

/* The guest sampler's channels, in its order (guest/sampler.h). */
#define VS_TRACE_NCH	14
extern const char * const vs_trace_ch_names[VS_TRACE_NCH];

struct vs_trace {
	char id[32];
	int n;			/* grid points */
	long t0;		/* time of grid point 0 (s) */
	s16 *mem;		/* Q3.12 fraction of RAM in use (= ch[0]) */
	s16 *cpu;		/* Q3.12 fraction of CPU in use (= ch[1]) */
	s16 *ch[VS_TRACE_NCH];	/* every channel the file has, else NULL */
	int max_gap;		/* longest gap between samples (s) */
};

/* Channel id of @name ("used", "pgfault", ...), or -1. */
int vs_trace_ch_id(const char *name);

/*
 * Load an Alibaba-2018 machine_usage CSV (header line, columns machine_id,
 * time_stamp, cpu_util_percent, mem_util_percent, ...).  Each machine is
 * resampled to a grid of step_s seconds from its first sample to its last
 * with sample-and-hold (the value of the latest sample at or before each
 * grid time).  Returns the number of machines (sorted by id) or -errno.
 */
int vs_trace_load(const char *path, int step_s, struct vs_trace **out);
/*
 * Load traces recorded by tools/vs-record from the guest driver's debugfs
 * records (CSV header "seq,time_ns,used,cpu,..."; channels already Q3.12):
 * @paths is a comma-separated list of files, one trace per file (".xz"
 * files are read through xz -dc).  mem = "used", cpu = "cpu", one grid
 * point per record; a seq gap is filled by holding the last row.
 * *step_ms gets the median time between consecutive records.  The trace
 * id is the file's base name without extensions.  Returns the number of
 * traces or -errno.
 */
int vs_trace_load_records(const char *paths, int *step_ms,
			  struct vs_trace **out);
void vs_trace_free(struct vs_trace *t, int n);

#endif /* VS_TRACE_H */
