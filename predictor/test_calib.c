// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the online calibration (calib.h) on known sequences,
 * TAP output; exit status non-zero if any test fails.  The library is
 * fixed point; only the test's own data generators use doubles.
 */
#include <math.h>
#include <stdlib.h>
#include "calib.h"

#include "test_tap.h"

static unsigned long long seed = 42;

static double urand(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (seed >> 11) * (1.0 / 9007199254740992.0);
}

static double nrand(void)
{
	return sqrt(-2 * log(urand() + 1e-300)) * cos(2 * M_PI * urand());
}

static s16 q12(double x)
{
	return (s16)lrint(x * 4096);
}

static int cmp16(const void *a, const void *b)
{
	return *(const s16 *)a - *(const s16 *)b;
}

/*
 * The reference quantile, by sorting a copy: the ceil((n+1)(1-alpha))-th
 * smallest of v[0..n), the largest if that exceeds n, 0 if n == 0.
 */
static s16 ref_quantile(const s16 *v, int n, u32 ppm)
{
	s16 s[VS_CALIB_WMAX];
	long k;

	if (!n)
		return 0;
	memcpy(s, v, n * sizeof(s16));
	qsort(s, n, sizeof(s16), cmp16);
	k = (long)ceil((n + 1) * (1e6 - ppm) / 1e6 - 1e-9);
	if (k > n)
		k = n;
	return s[k - 1];
}

static void test_params(void)
{
	struct vs_calib c = { 0 };

	vs_calib_reset(&c, 10);
	ok(c.target_ppm == 10000 && c.window == 600 && c.horizon == 10 &&
	   !c.margin && !c.n_res,
	   "defaults: target 1%%, window 600, margin 0, empty ring");
	ok(vs_calib_set_target(&c, 0) == -ERANGE &&
	   vs_calib_set_target(&c, 500001) == -ERANGE && c.target_ppm == 10000,
	   "target 0 and > 50%% refused, target unchanged");
	ok(vs_calib_set_window(&c, 0) == -ERANGE &&
	   vs_calib_set_window(&c, VS_CALIB_WMAX + 1) == -ERANGE &&
	   c.window == 600, "window 0 and > %d refused, window unchanged",
	   VS_CALIB_WMAX);
	ok(!vs_calib_set_window(&c, 1) && !vs_calib_set_window(&c, 1024) &&
	   c.window == 1024, "window 1 and 1024 accepted");
	vs_calib_set_target(&c, 50000);
	vs_calib_set_window(&c, 77);
	vs_calib_reset(&c, 0);
	ok(c.target_ppm == 50000 && c.window == 77 && c.horizon == 1,
	   "reset keeps the target and window, horizon clamped to 1");
	vs_calib_reset(&c, 200);
	ok(c.horizon == VS_CALIB_RING, "horizon clamped to %d", VS_CALIB_RING);
}

static void test_exact(void)
{
	static const s16 r[10] = { 5, -3, 10, 0, 7, 2, 8, 1, -1, 4 };
	struct vs_calib c = { 0 };
	s16 b;
	int i;

	vs_calib_reset(&c, 1);
	b = vs_calib_step(&c, 1000, 900);
	ok(b == 900 && c.resolved == 0 && !c.n_res,
	   "first band = upper + 0 (empty ring: margin 0)");
	vs_calib_reset(&c, 1);
	/*
	 * Horizon 1, upper 0: the demand observed one step after a band is
	 * its residual, so the ring holds exactly the sequence fed.
	 */
	vs_calib_step(&c, 0, 0);
	for (i = 0; i < 10; i++)
		vs_calib_step(&c, r[i], 0);
	/* sorted: -3 -1 0 1 2 4 5 7 8 10 */
	ok(c.n_res == 10 && vs_calib_quantile(&c) == 10 && c.margin == 10,
	   "n 10, alpha 1%%: ceil(11 x 0.99) = 11 > n: the largest (%d)",
	   vs_calib_quantile(&c));
	vs_calib_set_target(&c, 100000);
	ok(vs_calib_quantile(&c) == 10, "alpha 10%%: ceil(9.9) = 10th: 10");
	vs_calib_set_target(&c, 200000);
	ok(vs_calib_quantile(&c) == 8, "alpha 20%%: ceil(8.8) = 9th: 8 (%d)",
	   vs_calib_quantile(&c));
	vs_calib_set_target(&c, 500000);
	ok(vs_calib_quantile(&c) == 4, "alpha 50%%: ceil(5.5) = 6th: 4 (%d)",
	   vs_calib_quantile(&c));
	/* margin = the largest so far: 5 > 0 and 10 > 5 fell short */
	ok(c.resolved == 10 && c.shortfalls == 2,
	   "outcomes: 2 residuals above the margin then published (%llu)",
	   (unsigned long long)c.shortfalls);
	vs_calib_set_window(&c, 4);
	/* the last four: 8 1 -1 4 -> -1 1 4 8 */
	ok(c.n_res == 4 && vs_calib_quantile(&c) == 4,
	   "window 4 drops the oldest six: ceil(2.5) = 3rd of -1 1 4 8 = 4");
	vs_calib_step(&c, -2, 0);	/* pushes -2, drops 8 */
	ok(c.n_res == 4 && vs_calib_quantile(&c) == 1,
	   "a fifth residual (-2) pushes out the oldest (8): 3rd of -2 -1 1 4 = 1 (%d)",
	   vs_calib_quantile(&c));
}

/* The incremental ring against a sorted copy, windows changed on the way. */
static void test_sliding(void)
{
	static const unsigned int wins[] = { 37, 1, 1024, 600, 5 };
	static s16 hist[20000];
	static u8 fell[20000];
	struct vs_calib c = { 0 };
	int t, i, bad = 0, badw = 0, n = 0, first = -1;
	u32 ppm = 10000;

	vs_calib_reset(&c, 1);
	vs_calib_step(&c, 0, 0);
	for (t = 0; t < 20000; t++) {
		int w = wins[(t / 4000) % 5], from;
		u32 res, sf, ref_sf = 0;

		if (t % 4000 == 0) {
			vs_calib_set_window(&c, w);
			n = n < w ? n : w;
		}
		if (t % 3000 == 0)
			ppm = 1 + (u32)(urand() * 499999);
		vs_calib_set_target(&c, ppm);
		hist[t] = (s16)lrint((urand() - 0.5) * 3000);	/* ties too */
		if (t % 7 == 0)
			hist[t] = 100;
		fell[t] = hist[t] > c.margin;	/* the band published was 0 + margin */
		vs_calib_step(&c, hist[t], 0);
		n = n + 1 < w ? n + 1 : w;
		from = t + 1 - n;
		if (vs_calib_quantile(&c) != ref_quantile(hist + from, n, ppm) ||
		    c.n_res != n) {
			if (first < 0)
				first = t;
			bad++;
		}
		for (i = from; i <= t; i++)
			ref_sf += fell[i];
		vs_calib_window_outcomes(&c, &res, &sf);
		if (res != (u32)n || sf != ref_sf)
			badw++;
	}
	ok(!bad, "20000 steps, windows 37/1/1024/600/5, random targets: quantile = sorted reference (%d differ, first at %d)",
	   bad, first);
	ok(!badw, "window outcomes = the last W bands and their shortfalls (%d differ)",
	   badw);
}

/* Horizon 5: a shortfall counts when the demand crosses, a hit at h. */
static void test_delayed(void)
{
	struct vs_calib c = { 0 };
	u32 res, sf;
	s16 b;
	int i;

	vs_calib_reset(&c, 5);
	vs_calib_step(&c, 100, 200);	/* band 200 published at t0 */
	for (i = 0; i < 4; i++)
		vs_calib_step(&c, 150, 10000);
	ok(c.resolved == 0 && !c.n_res, "no outcome before the window closes");
	vs_calib_step(&c, 150, 10000);
	ok(c.resolved == 1 && c.shortfalls == 0 && c.n_res == 1 &&
	   c.res[c.res_head] == 150 - 200,
	   "t0's band is a hit at t0+5, residual 150 - 200 = %d",
	   c.res[c.res_head]);

	vs_calib_reset(&c, 5);
	vs_calib_step(&c, 100, 200);
	vs_calib_step(&c, 150, 10000);
	vs_calib_step(&c, 201, 10000);
	vs_calib_window_outcomes(&c, &res, &sf);
	ok(c.resolved == 1 && c.shortfalls == 1 && res == 1 && sf == 1,
	   "demand 201 > band 200 at t0+2: shortfall counted at once (window too)");
	for (i = 0; i < 3; i++)
		vs_calib_step(&c, 300, 10000);
	ok(c.resolved == 1 && c.count == 5 && c.n_res == 1 &&
	   c.res_shortfalls == 1,
	   "an early shortfall is not counted again when its window closes");
	vs_calib_step(&c, 300, 10000);
	ok(c.resolved == 2 && c.shortfalls == 1,
	   "the next band (10000) is a hit at its own horizon");

	/* Early shortfall: the band widens during a ramp at once. */
	vs_calib_reset(&c, 5);
	b = vs_calib_step(&c, 0, 0);
	ok(b == 0, "ramp: band 0 published");
	b = vs_calib_step(&c, 100, 0);
	ok(b == 100 && c.margin == 100 && !c.n_res,
	   "demand 100 crosses it: margin = 100 - 0 at once, not h steps later (band %d)",
	   b);
	b = vs_calib_step(&c, 300, 20);
	ok(b == 320 && c.margin == 300,
	   "demand 300: margin = the largest crossed residual, 300 (band %d)", b);
	for (i = 0; i < 7; i++)
		b = vs_calib_step(&c, 300, 300);
	ok(c.n_res == 5 && c.margin == 300 && b == 600,
	   "the ring took over once the windows closed: largest of 5 = 300");
}

/*
 * A stationary sequence: demand = 0.4 + 0.03 N(0,1) of RAM, iid, forecast
 * 0.4.  At horizon 1 the residuals are exchangeable and the realised
 * shortfall rate is alpha (within sampling noise).  At horizon h > 1 the
 * residuals of consecutive bands share h - 1 demands (they are peaks of
 * overlapping windows), so they are not exchangeable: a new record in
 * the next h steps above every residual of the last W + h makes up to h
 * shortfalls at once, which no W-step memory can foresee.  The realised
 * rate is then above alpha by up to about h / (W + h) (calib.h); this
 * checks that bound and that the rate stays near alpha from below.
 */
static double run_stationary(u32 ppm, int h, int window, long n)
{
	struct vs_calib c = { 0 };
	long t;

	vs_calib_set_target(&c, ppm);
	vs_calib_set_window(&c, window);
	vs_calib_reset(&c, h);
	for (t = 0; t < n; t++)
		vs_calib_step(&c, q12(0.4 + 0.03 * nrand()), q12(0.4));
	return (double)c.shortfalls / c.resolved;
}

static void test_coverage(void)
{
	static const struct { u32 ppm; int h, w; } cs[] = {
		{ 10000, 1, 600 }, { 50000, 1, 600 }, { 10000, 1, 100 },
		{ 10000, 10, 600 }, { 10000, 50, 600 }, { 50000, 10, 600 },
		{ 50000, 50, 1024 },
	};
	unsigned int i;
	double r, a, hi;

	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		a = cs[i].ppm / 1e6;
		hi = cs[i].h == 1 ? 1.2 * a :
		     a + (double)cs[i].h / (cs[i].w + cs[i].h);
		r = run_stationary(cs[i].ppm, cs[i].h, cs[i].w, 200000);
		ok(r >= 0.8 * a && r <= hi,
		   "stationary, target %.1f%%, horizon %d, window %d: realised %.3f%% (in [%.2f%%, %.2f%%])",
		   100 * a, cs[i].h, cs[i].w, 100 * r, 80 * a, 100 * hi);
	}
}

/*
 * The property the additive rule lacked: a one-off surprise (demand 35%
 * of RAM above the forecast for 30 steps, like a 700 MiB job in a 2 GiB
 * guest) raises the margin, and W resolved outcomes after the last band
 * whose window saw it, the margin is exactly what it would have been
 * without the surprise (a twin fed the same noise without it): default
 * window, horizon 50 as in the guest.  Uses only reset/step/margin, the
 * calls the old rule had too (with it the margin stayed above the
 * twin's by more than 1% of RAM for thousands of outcomes).
 */
static void test_surprise(void)
{
	struct vs_calib c = { 0 }, twin = { 0 };
	s16 top = -32768, m;
	long t, last_diff = -1, far = -1;
	const long t0 = 5000, len = 30, h = 50, w = VS_CALIB_DEFAULT_WINDOW;
	const long end = t0 + len + h - 1;	/* last band touched resolves */

	vs_calib_reset(&c, h);
	vs_calib_reset(&twin, h);
	for (t = 0; t < 20000; t++) {
		double d = 0.4 + 0.01 * nrand();

		vs_calib_step(&twin, q12(d), q12(0.4));
		if (t >= t0 && t < t0 + len)
			d += 0.35;
		vs_calib_step(&c, q12(d), q12(0.4));
		m = vs_calib_margin_q12(&c);
		if (m > top)
			top = m;
		if (m != vs_calib_margin_q12(&twin))
			last_diff = t;
		if (m > vs_calib_margin_q12(&twin) + 41)	/* 1% of RAM */
			far = t;
	}
	ok(top >= q12(0.3), "the surprise raised the margin to %.1f%% of RAM",
	   100 * top / 4096.0);
	ok(last_diff >= end && last_diff - end <= w,
	   "margin = the twin's again %ld outcomes after the surprise's last band resolved (at most W = %ld; more than 1%% of RAM above it until %ld)",
	   last_diff - end, w, far - end);
}

/* Saturation: residuals and the margin stay in [-1, +1] of RAM. */
static void test_clamp(void)
{
	struct vs_calib c = { 0 };
	int i;
	s16 b = 0;

	vs_calib_reset(&c, 3);
	for (i = 0; i < 1000; i++)
		b = vs_calib_step(&c, 32767, -32768);
	ok(c.margin == 4096 && vs_calib_margin_q12(&c) == 4096 &&
	   b == -32768 + 4096, "margin clamped at +1 of RAM, band %d", b);
	for (i = 0; i < 1000; i++)
		b = vs_calib_step(&c, -32768, 32767);
	ok(c.margin == -4096 && b == 32767 - 4096,
	   "margin clamped at -1 of RAM, band %d", b);
	for (i = 0; i < 1000; i++)
		b = vs_calib_step(&c, 32767, 32767);
	ok(c.margin == 0 && b == 32767, "band saturates at the s16 top (%d)", b);
}

int main(void)
{
	test_params();
	test_exact();
	test_sliding();
	test_delayed();
	test_coverage();
	test_surprise();
	test_clamp();
	return tap_done();
}
