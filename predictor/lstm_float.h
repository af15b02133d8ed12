/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Floating-point reference of the predictor (userspace only).
 *
 * Same architecture and data path as lstm.h, in float: the trainer's
 * parameter container, the quantizer's input, and the reference that the
 * fixed-point step is compared with.  All values are real numbers: raw
 * inputs and DEMAND outputs in physical units (fraction of RAM), features
 * and head outputs in normalised units.
 */
#ifndef VS_LSTM_FLOAT_H
#define VS_LSTM_FLOAT_H

#ifdef __KERNEL__
#error "lstm_float is userspace only"
#endif

#include "lstm.h"

struct vs_ffeat {
	int src, kind;
	float offset, scale;	/* x_norm = (raw or delta - offset) * scale */
};

struct vs_flayer {
	int in_dim;
	float wx[4 * VS_MAX_HIDDEN * VS_MAX_HIDDEN];	/* [4H][in_dim] */
	float wh[4 * VS_MAX_HIDDEN * VS_MAX_HIDDEN];	/* [4H][H] */
	float b[4 * VS_MAX_HIDDEN];
};

struct vs_fout {
	int kind, base, horizon;
	float quantile;		/* PEAK: level in (0, 1); 0 otherwise */
	float offset, scale;	/* out = offset + scale * y (+ raw[base]) */
};

struct vs_fmodel {
	char name[VS_MODEL_NAME_LEN + 1];
	unsigned int step_ms;
	int n_raw, n_feat, n_layers, hidden, n_out;
	int chan[VS_MAX_RAW];	/* channel id of raw input i */
	struct vs_ffeat feat[VS_MAX_FEAT];
	struct vs_flayer layer[VS_MAX_LAYERS];
	float wy[VS_MAX_OUT * VS_MAX_HIDDEN];	/* [n_out][H] */
	float by[VS_MAX_OUT];
	struct vs_fout out[VS_MAX_OUT];
	/*
	 * Compute in the kernel's range: features and cell state limited
	 * to Q3.12's [-8, 8), where lstm.c saturates them, so that the
	 * fixed-point step is compared with the function it computes and
	 * the difference is the quantization's alone.  0 (the trainer, and
	 * vs_f_from_fixed()): unlimited, the function that was trained.
	 */
	int kernel_range;
};

struct vs_fstate {
	float h[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float c[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float prev[VS_MAX_RAW];
	unsigned long steps;
};

float vs_f_sigmoid(float x);
void vs_f_reset(struct vs_fstate *st);
/* Normalised features of one step (updates st->prev and st->steps). */
/* @v limited to Q3.12's [-8, 8), where lstm.c saturates it */
float vs_f_q12(float v);
void vs_f_features(const struct vs_fmodel *m, struct vs_fstate *st,
		   const float *in, float *x);
void vs_f_step(const struct vs_fmodel *m, struct vs_fstate *st,
	       const float *in, float *out);
/* Exact real values of a parsed fixed-point model. */
void vs_f_from_fixed(const struct vs_model *q, struct vs_fmodel *m);
/* Check dims/fields against the limits of lstm.h; 0 or -EINVAL. */
int vs_f_check(const struct vs_fmodel *m);
/* Float model files (tools-internal format, native endian). */
int vs_f_save(const char *path, const struct vs_fmodel *m);
int vs_f_load(const char *path, struct vs_fmodel *m);

#endif /* VS_LSTM_FLOAT_H */
