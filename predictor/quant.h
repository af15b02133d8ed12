/* SPDX-License-Identifier: GPL-2.0 */
/* Float model -> binary model file (docs/model-format.md). */
#ifndef VS_QUANT_H
#define VS_QUANT_H

#include "lstm_float.h"

/*
 * Quantize m into a freshly malloc()ed model file (*buf, *len).
 * Returns 0 or a negative errno with a reason in err.
 */
int vs_quantize(const struct vs_fmodel *m, u8 **buf, size_t *len,
		char *err, size_t errlen);
/* Scale factor s as (mult, shift) with mult in [2^14, 2^15) if possible. */
int vs_quant_scale(double s, struct vs_scale *out);

#endif /* VS_QUANT_H */
