/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CLOCK_MONOTONIC in seconds, and sleeping until such a time, for the
 * bench programs (bench/traces/memphase.c, bench/shaping/shtime.c,
 * bench/scenario/sampler.c): one copy instead of one per program.
 * Header-only, so that each program stays one gcc command.
 */
#ifndef BENCH_MONO_CLOCK_H
#define BENCH_MONO_CLOCK_H

#include <time.h>

/* seconds since an arbitrary start (CLOCK_MONOTONIC: never steps back) */
static inline double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* sleep until mono_now() reaches @t; at once if it has passed */
static inline void mono_sleep_until(double t)
{
	double d = t - mono_now();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

#endif
