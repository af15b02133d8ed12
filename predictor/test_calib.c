// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the online calibration (calib.h) on known sequences,
 * TAP output; exit status non-zero if any test fails.
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

/* eta * alpha as the update rounds it */
static s64 ea(const struct vs_calib *c)
{
	return ((s64)c->eta * c->alpha_q16 + (1 << 15)) >> 16;
}

static void test_params(void)
{
	struct vs_calib c = { 0 };

	vs_calib_reset(&c, 10);
	ok(c.target_ppm == 10000 && c.alpha_q16 == 655 &&
	   c.eta == VS_CALIB_ONE >> 8 && c.horizon == 10 && !c.margin,
	   "defaults: 1%% = %u/65536, eta 1/256 of RAM, margin 0", c.alpha_q16);
	ok(vs_calib_set_target(&c, 0) == -ERANGE &&
	   vs_calib_set_target(&c, 500001) == -ERANGE && c.target_ppm == 10000,
	   "target 0 and > 50%% refused, target unchanged");
	ok(!vs_calib_set_target(&c, 1) && c.alpha_q16 == 1 &&
	   !vs_calib_set_target(&c, 500000) && c.alpha_q16 == 32768,
	   "1 ppm -> 1/65536 (never 0), 50%% -> 32768/65536");
	ok(vs_calib_set_eta(&c, 0) == -ERANGE &&
	   vs_calib_set_eta(&c, VS_CALIB_ONE + 1) == -ERANGE &&
	   c.eta == VS_CALIB_ONE >> 8, "eta 0 and > 1 refused");
	vs_calib_set_target(&c, 50000);
	vs_calib_reset(&c, 0);
	ok(c.target_ppm == 50000 && c.horizon == 1,
	   "reset keeps the target, horizon clamped to 1");
	vs_calib_reset(&c, 200);
	ok(c.horizon == VS_CALIB_RING, "horizon clamped to %d", VS_CALIB_RING);
}

/* Horizon 1, constant demand above the forecast: exact margins. */
static void test_exact(void)
{
	struct vs_calib c = { 0 };
	s32 m1;
	s16 b;
	int i;

	vs_calib_reset(&c, 1);
	b = vs_calib_step(&c, 1000, 900);
	ok(b == 900 && c.resolved == 0, "first band = upper + 0, nothing resolved");
	b = vs_calib_step(&c, 1000, 900);
	m1 = VS_CALIB_ONE / 256 - 10480;
	ok(c.resolved == 1 && c.shortfalls == 1 && c.margin == m1 &&
	   b == 900 + 16, "a shortfall: margin = eta - eta*alpha = %d (%d), band %d",
	   c.margin, m1, b);
	/*
	 * Forecast now far above the demand: the band published with the
	 * old forecast (916) is a second shortfall, then nine hits,
	 * -eta*alpha each.
	 */
	for (i = 0; i < 10; i++)
		vs_calib_step(&c, 1000, 2000);
	ok(c.resolved == 11 && c.shortfalls == 2 &&
	   c.margin == 2 * m1 - 9 * 10480,
	   "one more shortfall then nine hits: margin %d", c.margin);
}

/* Horizon 5: a shortfall counts when the demand crosses, a hit at h. */
static void test_delayed(void)
{
	struct vs_calib c = { 0 };
	int i;

	vs_calib_reset(&c, 5);
	vs_calib_step(&c, 100, 200);	/* band 200 published at t0 */
	for (i = 0; i < 4; i++)
		vs_calib_step(&c, 150, 10000);
	ok(c.resolved == 0, "no outcome before the window closes (%llu)",
	   (unsigned long long)c.resolved);
	vs_calib_step(&c, 150, 10000);
	ok(c.resolved == 1 && c.shortfalls == 0, "t0's band is a hit at t0+5");

	vs_calib_reset(&c, 5);
	vs_calib_step(&c, 100, 200);
	vs_calib_step(&c, 150, 10000);
	vs_calib_step(&c, 201, 10000);
	ok(c.resolved == 1 && c.shortfalls == 1,
	   "demand 201 > band 200 at t0+2: shortfall counted at once");
	for (i = 0; i < 3; i++)
		vs_calib_step(&c, 300, 10000);
	ok(c.resolved == 1 && c.count == 5,
	   "an early shortfall is not counted again when its window closes");
	vs_calib_step(&c, 300, 10000);
	ok(c.resolved == 2 && c.shortfalls == 1,
	   "the next band (10000) is a hit at its own horizon");
}

/*
 * Random walks with regime changes, forecast = last value (no skill):
 * the realised rate tracks the target, and margin = eta * sf - ea * n
 * exactly (the telescoping identity behind the guarantee).
 */
static void run_walk(u32 ppm, int horizon, long n, double *rate,
		     int *identity)
{
	struct vs_calib c = { 0 };
	double x = 0.5, sd;
	long t;

	vs_calib_set_target(&c, ppm);
	vs_calib_reset(&c, horizon);
	for (t = 0; t < n; t++) {
		sd = (t / 20000) % 2 ? 0.01 : 0.002;	/* volatility regimes */
		x += sd * nrand();
		if (urand() < 0.001)
			x += 0.1;			/* rare jumps */
		if (x < 0.05)
			x = 0.05;
		if (x > 0.95)
			x -= 0.3;
		vs_calib_step(&c, (s16)lrint(x * 4096), (s16)lrint(x * 4096));
	}
	*rate = (double)c.shortfalls / c.resolved;
	*identity = (s64)c.margin == (s64)c.shortfalls * c.eta -
				     (s64)c.resolved * ea(&c);
}

static void test_converge(void)
{
	static const struct { u32 ppm; int h; } cs[] = {
		{ 10000, 1 }, { 10000, 10 }, { 10000, 50 }, { 50000, 10 },
		{ 50000, 50 },
	};
	unsigned int i;
	double r;
	int id;

	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		run_walk(cs[i].ppm, cs[i].h, 200000, &r, &id);
		ok(fabs(r - cs[i].ppm / 1e6) < 0.001,
		   "walk, target %.1f%%, horizon %d: realised %.3f%%",
		   cs[i].ppm / 1e4, cs[i].h, 100 * r);
		ok(id, "margin = eta x shortfalls - eta x alpha x resolved");
	}
}

/* Saturation: a forecast always far below keeps the margin at +1 RAM. */
static void test_clamp(void)
{
	struct vs_calib c = { 0 };
	int i;
	s16 b = 0;

	vs_calib_reset(&c, 3);
	vs_calib_set_eta(&c, VS_CALIB_ONE);
	for (i = 0; i < 1000; i++)
		b = vs_calib_step(&c, 32767, -32768);
	ok(c.margin == VS_CALIB_ONE && vs_calib_margin_q12(&c) == 4096 &&
	   b == -32768 + 4096, "margin clamped at +1 of RAM, band %d", b);
	for (i = 0; i < 1000; i++)
		b = vs_calib_step(&c, -32768, 32767);
	ok(c.margin == -VS_CALIB_ONE && b == 32767 - 4096,
	   "margin clamped at -1 of RAM, band %d", b);
}

int main(void)
{
	test_params();
	test_exact();
	test_delayed();
	test_converge();
	test_clamp();
	return tap_done();
}
