// SPDX-License-Identifier: GPL-2.0
/*
 * memphase SEED SECONDS MAX_MIB: allocate and free anonymous memory in a
 * seeded random sequence of phases (steps, linear ramps, sawtooths,
 * short spikes, holds) for SECONDS, between 0 and MAX_MIB MiB.  Memory is
 * mapped in 8 MiB chunks, every page written; freeing unmaps chunks.  Each
 * phase is logged on stdout as "<CLOCK_MONOTONIC ns> <kind> <from> <to>".
 * Workload generator for bench/traces (recorded by tools/vs-record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../mono_clock.h"

#define CHUNK_MIB 8
#define MAXCH 1024
#define TICK_MS 100

static char *chunk[MAXCH];
static int nch;
static unsigned long long rs;

static unsigned int rnd(unsigned int n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned int)(rs % n);
}

static void set_mib(int mib)
{
	int want = mib / CHUNK_MIB;

	while (nch < want && nch < MAXCH) {
		size_t len = (size_t)CHUNK_MIB << 20, i;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return;
		for (i = 0; i < len; i += 4096)
			p[i] = (char)(i >> 12) | 1;
		chunk[nch++] = p;
	}
	while (nch > want) {
		munmap(chunk[--nch], (size_t)CHUNK_MIB << 20);
		chunk[nch] = NULL;
	}
}

/* move linearly from the current size to @to over @sec seconds */
static void ramp(int to, double sec)
{
	int from = nch * CHUNK_MIB, k, n = (int)(sec * 1000 / TICK_MS);
	double t0 = mono_now();

	for (k = 1; k <= n; k++) {
		set_mib(from + (to - from) * k / n);
		mono_sleep_until(t0 + k * TICK_MS / 1000.0);
	}
	set_mib(to);
}

static void hold(double sec)
{
	mono_sleep_until(mono_now() + sec);
}

static void logp(const char *kind, int to)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%lld %s %d %d\n", (long long)ts.tv_sec * 1000000000LL +
	       ts.tv_nsec, kind, nch * CHUNK_MIB, to);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double end;
	int max;

	if (argc < 4) {
		fprintf(stderr, "usage: memphase SEED SECONDS MAX_MIB\n");
		return 2;
	}
	rs = 0x9E3779B97F4A7C15ULL ^ (strtoull(argv[1], NULL, 0) * 7919 + 1);
	end = mono_now() + atof(argv[2]);
	max = atoi(argv[3]);
	while (mono_now() < end) {
		int to = rnd(max / CHUNK_MIB + 1) * CHUNK_MIB, base, i;

		switch (rnd(6)) {
		case 0:		/* step */
			logp("step", to);
			set_mib(to);
			hold(2 + rnd(8));
			break;
		case 1:		/* ramp */
			logp("ramp", to);
			ramp(to, 3 + rnd(12));
			hold(rnd(4));
			break;
		case 2:		/* sawtooth: ramp up, drop, 2-3 times */
			base = nch * CHUNK_MIB;
			if (to < base)
				to = base + (max - base) / 2;
			logp("saw", to);
			for (i = 0; i < 2 + (int)rnd(2); i++) {
				ramp(to, 2 + rnd(4));
				set_mib(base);
				hold(0.5 + rnd(2));
			}
			break;
		case 3:		/* spike */
			base = nch * CHUNK_MIB;
			logp("spike", to);
			set_mib(to);
			hold(0.5 + rnd(3) * 0.5);
			set_mib(base);
			hold(1 + rnd(3));
			break;
		case 4:		/* idle hold */
			logp("hold", nch * CHUNK_MIB);
			hold(2 + rnd(6));
			break;
		default:	/* free everything */
			logp("free", 0);
			set_mib(0);
			hold(1 + rnd(5));
			break;
		}
	}
	logp("end", 0);
	set_mib(0);
	return 0;
}
