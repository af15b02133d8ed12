/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The factor the suites' own time bounds take on a slower kernel, for
 * the C tests: VSHAPE_VM_TIMEOUT_SCALE as scripts/vm passed it into this
 * VM (scripts/vm refuses anything but a positive integer and multiplies
 * the VM's own limit by it; scripts/check-debug sets 4 for its debug
 * kernel).  1 if unset or not 1-100.  The shell suites read the same
 * variable through VS_TIME_SCALE (selftests/lib/wait.sh).
 */
#ifndef VS_TIME_SCALE_H
#define VS_TIME_SCALE_H

#include <stdlib.h>

static inline int vs_time_scale(void)
{
	const char *e = getenv("VSHAPE_VM_TIMEOUT_SCALE");
	char *end;
	long n;

	if (!e)
		return 1;
	n = strtol(e, &end, 10);
	return *e && !*end && n >= 1 && n <= 100 ? (int)n : 1;
}

#endif /* VS_TIME_SCALE_H */
