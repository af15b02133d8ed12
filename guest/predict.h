/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The predictor runtime: every period, sample the counters, step the
 * fixed-point LSTM, blend with recent history, and publish a prediction
 * of memory demand over the horizon with a confidence.
 */
#ifndef _VSHAPE_PREDICT_H
#define _VSHAPE_PREDICT_H

#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "adapt.h"
#include "calib.h"
#include "lstm.h"
#include "sampler.h"

#define VSG_RING_LEN		256	/* predictions kept for debugfs */
#define VSG_DEFAULT_PERIOD_MS	100
#define VSG_DEFAULT_HORIZON_MS	5000
#define VSG_MIN_PERIOD_MS	10
#define VSG_MAX_PERIOD_MS	60000

/* One period: what was seen and what was predicted. */
struct vsg_record {
	u64 seq;
	u64 time_ns;
	s16 raw[VSG_NR_CHANNELS];	/* Q3.12 */
	s16 demand;			/* Q3.12 fraction of RAM, at horizon */
	u16 confidence;			/* Q0.15 */
	u32 step_ns;			/* cost of the LSTM step */
	s16 upper;			/* Q3.12: upper forecast of the peak */
	s16 band;			/* Q3.12: upper + calibration margin */
	s16 margin;			/* Q3.12: the margin band - upper */
};

/*
 * What the policy reads: the peak demand expected over the horizon, as
 * the model's upper forecast and the calibration margin that keeps the
 * realised shortfall rate at its target (band = upper + margin), and the
 * model's confidence output.  Valid once a prediction was made.
 */
struct vsg_prediction {
	bool valid;
	u64 seq;
	unsigned long upper_kb;		/* model's upper forecast, >= 0 */
	long margin_kb;			/* may be negative */
	unsigned long band_kb;		/* upper + margin, clamped to [0, RAM] */
	unsigned long demand_kb;	/* DEMAND output at the horizon, >= 0 */
	u16 confidence;			/* Q0.15 */
	/*
	 * The band's outcomes over the calibration window (calib.h,
	 * vs_calib_window_outcomes()): the last calib_window resolved bands
	 * plus the pending ones already exceeded, so that the policy's
	 * sureness forgets a surprise when the margin does.
	 */
	u64 calib_resolved;
	u64 calib_shortfalls;
	/* What was observed in the same period (sampler channels). */
	unsigned long used_kb;		/* MemTotal - MemAvailable - balloon */
	s16 psi_some;			/* Q3.12: memory "some" stall time */
	s16 refault;			/* Q3.12: refaults per second / RAM */
};

struct vsg_dev;

struct vsg_predictor {
	struct vsg_dev *vs;
	struct delayed_work work;

	/*
	 * lock guards everything below: the model and its buffer, the LSTM
	 * and adaptation state, the sampler, the knobs that shape a step
	 * and the ring.  Taken by the periodic work, by sysfs stores (model
	 * swap, knobs) and by debugfs readers; never from atomic context.
	 */
	struct mutex lock;
	void *model_buf;	/* NULL: the built-in default model */
	char model_name[64];
	struct vs_model model;
	struct vs_lstm_state state;
	struct vs_adapt adapt;
	struct vsg_sampler sampler;
	unsigned int period_ms;
	unsigned int horizon_ms;
	int out_idx;		/* DEMAND output nearest the horizon */
	int conf_idx;		/* CONFIDENCE output, or -1 */
	int upper_idx;		/* PEAK output of the upper band, or -1 */
	struct vs_calib calib;	/* margin on the upper band */
	u64 reset_seq;		/* first seq after the last model load */
	u64 calib_seq;		/* first seq after the last calibration reset */
	u64 seq;
	u64 steps;
	u64 step_ns_total;
	struct vsg_record ring[VSG_RING_LEN];
	struct vsg_record latest;
};

int vsg_predict_init(struct vsg_dev *vs);
void vsg_predict_start(struct vsg_dev *vs);
void vsg_predict_stop(struct vsg_dev *vs);
void vsg_predict_exit(struct vsg_dev *vs);
int vsg_predict_load_model(struct vsg_dev *vs, const char *name);
int vsg_predict_set_period(struct vsg_dev *vs, unsigned int ms);
int vsg_predict_set_horizon(struct vsg_dev *vs, unsigned int ms);
void vsg_predict_get(struct vsg_dev *vs, struct vsg_prediction *out);
int vsg_predict_set_calib_target(struct vsg_dev *vs, unsigned int ppm);
int vsg_predict_set_calib_window(struct vsg_dev *vs, unsigned int window);

#endif /* _VSHAPE_PREDICT_H */
