// SPDX-License-Identifier: GPL-2.0
/* A deliberately floating-point object for check-nofpu.sh's self-test. */
double vs_nofpu_sample(double a, double b)
{
	return a * b + 1.5;
}
