/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed-point LSTM demand predictor (kernel and userspace).
 *
 * A model is a little-endian binary blob (docs/model-format.md) that
 * vs_model_parse() validates completely and then describes with a
 * struct vs_model whose weight pointers point INTO the caller's buffer: the
 * caller owns that memory and must keep it alive (and unmodified) while
 * the model is in use.  Nothing here allocates memory; vs_lstm_step() uses
 * only the caller's struct vs_lstm_state and a small, bounded stack.
 *
 * Data path of one step (formats in fixed.h):
 *   raw inputs  s16 Q3.12 physical values supplied by the caller (e.g.
 *               used memory as a fraction of RAM), n_raw of them
 *   features    per feature: raw[src] (RAW) or raw[src] - previous
 *               raw[src] (DELTA), minus offset, times (mult, shift)
 *               -> Q3.12 normalised
 *   LSTM layers gates i, f, g, o (in that order), Q0.15 h, Q3.12 c
 *   head        linear, Q0.15 h -> Q3.12 normalised outputs y
 *   outputs     DEMAND:     offset + y * (mult, shift) [+ raw[base]]
 *                           -> Q3.12 physical (fraction of RAM)
 *               CONFIDENCE: sigmoid(offset + y * (mult, shift))
 *                           -> Q0.15 in [0, 1)
 */
#ifndef VS_LSTM_H
#define VS_LSTM_H

#include "vs_types.h"
#include "fixed.h"

/* Limits enforced by vs_model_parse(). */
#define VS_MAX_HIDDEN	64
#define VS_MAX_LAYERS	2
#define VS_MAX_RAW	16
#define VS_MAX_FEAT	16
#define VS_MAX_OUT	16
#define VS_MAX_HORIZON	64		/* steps */
#define VS_MAX_STEP_MS	3600000u	/* one hour */
#define VS_MAX_BIAS	(64 * VS_Q12_ONE)	/* |bias| in Q3.12 */
#define VS_MAX_MODEL_BYTES 1048576u	/* 1 MiB */
/*
 * Channel ids a 1.1 model may ask for: the parser only bounds them, the
 * caller (the guest's sampler) refuses ids it does not provide.
 */
#define VS_MAX_CHANNEL_ID 63

#define VS_MODEL_MAGIC	0x4d4c5356u	/* "VSLM" little-endian */
#define VS_MODEL_MAJOR	1
#define VS_MODEL_MINOR	1		/* highest minor this parser reads */
#define VS_MODEL_HDR_LEN 64
#define VS_MODEL_NAME_LEN 16

enum vs_feat_kind {
	VS_FEAT_RAW = 0,
	VS_FEAT_DELTA = 1,
};

enum vs_out_kind {
	VS_OUT_DEMAND = 0,
	VS_OUT_CONFIDENCE = 1,
	VS_OUT_PEAK = 2,	/* 1.1: a quantile of the peak over (t, t+h] */
};

#define VS_OUT_NO_BASE	0xff

/* (mult, shift) pair: value * mult / 2^shift. */
struct vs_scale {
	s32 mult;
	u8 shift;
};

struct vs_feat {
	u8 src;			/* raw input index */
	u8 kind;		/* enum vs_feat_kind */
	s16 offset;		/* Q3.12 physical */
	struct vs_scale scale;	/* physical Q3.12 -> normalised Q3.12 */
};

struct vs_layer {
	u16 in_dim;		/* n_feat for layer 0, hidden otherwise */
	const s16 *wx;		/* [4 * hidden][in_dim], gates i, f, g, o */
	const s16 *wh;		/* [4 * hidden][hidden] */
	const s32 *bias;	/* [4 * hidden], Q3.12 pre-activation */
	struct vs_scale sx;	/* wx . x -> Q3.12 */
	struct vs_scale sh;	/* wh . h -> Q3.12 */
};

struct vs_out {
	u8 kind;		/* enum vs_out_kind */
	u8 base;		/* raw index added to a DEMAND, or 0xff */
	u8 horizon;		/* steps ahead (DEMAND, PEAK), 0 otherwise allowed */
	u16 quantile;		/* PEAK: Q0.15 level in (0, 1); 0 otherwise */
	s16 offset;		/* Q3.12 */
	struct vs_scale scale;	/* normalised Q3.12 -> physical Q3.12 */
};

struct vs_model {
	u16 ver_major, ver_minor;
	u32 step_ms;		/* sampling period the model was trained at */
	char name[VS_MODEL_NAME_LEN + 1];
	u8 n_raw, n_feat, n_layers, hidden, n_out;
	u8 chan[VS_MAX_RAW];	/* channel id of raw input i (1.0: i) */
	struct vs_feat feat[VS_MAX_FEAT];
	struct vs_layer layer[VS_MAX_LAYERS];
	const s16 *wy;		/* [n_out][hidden] */
	const s32 *by;		/* [n_out], Q3.12 */
	struct vs_scale sy;	/* wy . h -> Q3.12 */
	struct vs_out out[VS_MAX_OUT];
	u32 len;		/* bytes of the model file */
	u32 crc;
};

struct vs_lstm_state {
	s16 h[VS_MAX_LAYERS][VS_MAX_HIDDEN];	/* Q0.15 */
	s16 c[VS_MAX_LAYERS][VS_MAX_HIDDEN];	/* Q3.12 */
	s16 prev[VS_MAX_RAW];			/* last raw inputs, Q3.12 */
	s16 x[VS_MAX_FEAT];			/* scratch: features */
	s32 pre[4 * VS_MAX_HIDDEN];		/* scratch: pre-activations */
	u32 steps;				/* steps since reset */
};

/*
 * Validate buf[0..len) as a model file and fill *m.  buf must be 4-byte
 * aligned and stay valid while *m is used.  Returns 0, or -EINVAL,
 * -EBADMSG (checksum), -E2BIG (limits), -EPROTO (version); on error a
 * NUL-terminated reason is written to err (if errlen > 0) and *m is left
 * zeroed.
 */
int vs_model_parse(const void *buf, size_t len, struct vs_model *m,
		   char *err, size_t errlen);

/* Zero the recurrent state (h, c, previous inputs). */
void vs_lstm_reset(const struct vs_model *m, struct vs_lstm_state *st);

/*
 * One time step.  in[m->n_raw]: Q3.12 physical inputs; out[m->n_out]:
 * Q3.12 physical (DEMAND) or Q0.15 (CONFIDENCE).  On the first step after
 * a reset, DELTA features are 0.
 */
void vs_lstm_step(const struct vs_model *m, struct vs_lstm_state *st,
		  const s16 *in, s16 *out);

/* Index of the DEMAND output with this horizon, or -1. */
int vs_model_find_output(const struct vs_model *m, unsigned int horizon);

/*
 * The upper band: the PEAK output whose horizon is nearest @horizon
 * (ties: the shorter) and, among those, the highest quantile; -1 if the
 * model has no PEAK output.
 */
int vs_model_find_upper(const struct vs_model *m, unsigned int horizon);

/*
 * Gather a model's raw inputs from a caller's channel vector:
 * in[i] = chans[m->chan[i]] for i < n_raw.  The caller has checked that
 * every m->chan[i] indexes chans (see vs_model_max_channel()).
 */
void vs_model_gather(const struct vs_model *m, const s16 *chans, s16 *in);

/* Highest channel id the model reads. */
unsigned int vs_model_max_channel(const struct vs_model *m);

#endif /* VS_LSTM_H */
