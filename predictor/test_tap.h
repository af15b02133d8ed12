/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output shared by the predictor's userspace unit tests
 * (test_predictor.c, test_calib.c): one result line per check, the plan
 * and the summary line at the end (tap_done()).
 */
#ifndef VS_TEST_TAP_H
#define VS_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int ntest, nfail;

static __attribute__((format(printf, 2, 3))) void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	if (!cond)
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Plan, summary, exit status. */
static int tap_done(void)
{
	printf("1..%d\n", ntest);
	printf("%d passed, %d failed\n", ntest - nfail, nfail);
	return nfail ? 1 : 0;
}

#endif
