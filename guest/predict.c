// SPDX-License-Identifier: GPL-2.0
/*
 * The predictor runtime (see predict.h): sampler -> fixed-point LSTM ->
 * adaptation -> the latest prediction, a ring of records for debugfs and
 * a tracepoint.  No floating point: the LSTM is predictor/'s Q-format
 * code, shared bit for bit with the userspace tools.
 *
 * Models: the built-in default (predictor/default_model.c) at probe; a
 * new one through request_firmware() when a name is written to the
 * "model" knob.  A model that does not parse, or does not fit the
 * sampler's channels, is refused with the parser's errno and the running
 * model is kept.
 */

#include <linux/firmware.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "default_model.h"
#include "predict.h"
#include "trace.h"
#include "vshape_guest.h"

/* Adaptation: weight of a new error sample and decay, as predictor/ advises. */
#define VSG_ADAPT_ALPHA		32767
#define VSG_ADAPT_DECAY_SHIFT	4

static void vsg_queue_predict(struct vsg_dev *vs, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&vs->stop_update_lock, flags);
	if (!vs->stop_update)
		mod_delayed_work(system_freezable_wq, &vs->predictor->work,
				 delay);
	spin_unlock_irqrestore(&vs->stop_update_lock, flags);
}

/*
 * Choose the DEMAND output nearest the horizon and the upper band (the
 * highest PEAK quantile at the nearest horizon; without PEAK outputs the
 * blended DEMAND output is the band's base), and restart the
 * calibration over that output's horizon.  Called with lock held.
 */
static void vsg_pick_outputs(struct vsg_predictor *p)
{
	unsigned int want = DIV_ROUND_CLOSEST(p->horizon_ms, p->period_ms);
	unsigned int i, best_d = UINT_MAX;

	p->upper_idx = vs_model_find_upper(&p->model, want);
	p->out_idx = -1;
	p->conf_idx = -1;
	for (i = 0; i < p->model.n_out; i++) {
		const struct vs_out *o = &p->model.out[i];
		unsigned int d;

		if (o->kind == VS_OUT_CONFIDENCE) {
			if (p->conf_idx < 0)
				p->conf_idx = i;
			continue;
		}
		if (o->kind != VS_OUT_DEMAND)
			continue;
		d = abs((int)o->horizon - (int)want);
		if (d < best_d) {
			best_d = d;
			p->out_idx = i;
		}
	}
	i = p->upper_idx >= 0 ? p->model.out[p->upper_idx].horizon :
	    p->out_idx >= 0 ? p->model.out[p->out_idx].horizon : want;
	vs_calib_reset(&p->calib, i);
	p->calib_seq = p->seq;
}

static bool vsg_has_demand(const struct vs_model *m)
{
	unsigned int i;

	for (i = 0; i < m->n_out; i++)
		if (m->out[i].kind == VS_OUT_DEMAND ||
		    m->out[i].kind == VS_OUT_PEAK)
			return true;
	return false;
}

/*
 * Parse @buf and make it the running model.  On success the predictor
 * owns @buf (NULL for the built-in model); on error the caller keeps it
 * and nothing changes.
 */
static int vsg_use_model(struct vsg_dev *vs, const void *buf, size_t len,
			 void *owned, const char *name)
{
	struct vsg_predictor *p = vs->predictor;
	struct vs_model *m;
	char why[96];
	void *old;
	int err;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	err = vs_model_parse(buf, len, m, why, sizeof(why));
	if (!err && vs_model_max_channel(m) >= VSG_NR_CHANNELS) {
		snprintf(why, sizeof(why),
			 "asks for channel %u, the sampler has 0..%u",
			 vs_model_max_channel(m), VSG_NR_CHANNELS - 1);
		err = -EINVAL;
	}
	if (!err && !vsg_has_demand(m)) {
		snprintf(why, sizeof(why), "no demand output");
		err = -EINVAL;
	}
	if (err) {
		dev_warn(&vs->vdev->dev, "model %s refused: %s (%d); keeping %s\n",
			 name, why, err, p->model_name);
		kfree(m);
		return err;
	}

	mutex_lock(&p->lock);
	old = p->model_buf;
	p->model = *m;
	p->model_buf = owned;
	strscpy(p->model_name, name, sizeof(p->model_name));
	vs_lstm_reset(&p->model, &p->state);
	vs_adapt_init(&p->adapt, VSG_ADAPT_ALPHA, VSG_ADAPT_DECAY_SHIFT);
	p->reset_seq = p->seq;
	vsg_pick_outputs(p);
	mutex_unlock(&p->lock);

	kvfree(old);
	kfree(m);
	if (p->model.step_ms != p->period_ms)
		dev_info(&vs->vdev->dev, "model %s was trained at %u ms steps, sampling every %u ms\n",
			 name, p->model.step_ms, p->period_ms);
	return 0;
}

int vsg_predict_load_model(struct vsg_dev *vs, const char *name)
{
	const struct firmware *fw;
	void *buf;
	int err;

	if (!strcmp(name, "default"))
		return vsg_use_model(vs, vs_default_model, vs_default_model_len,
				     NULL, "default");
	if (!*name || strstr(name, "..") || strlen(name) >= 64)
		return -EINVAL;
	err = request_firmware(&fw, name, &vs->vdev->dev);
	if (err)
		return err;
	if (fw->size > VS_MAX_MODEL_BYTES) {
		release_firmware(fw);
		return -EFBIG;
	}
	/* kvmalloc memory is at least 8-byte aligned, as the parser needs. */
	buf = kvmalloc(fw->size, GFP_KERNEL);
	if (!buf) {
		release_firmware(fw);
		return -ENOMEM;
	}
	memcpy(buf, fw->data, fw->size);
	err = vsg_use_model(vs, buf, fw->size, buf, name);
	release_firmware(fw);
	if (err)
		kvfree(buf);
	return err;
}

static void vsg_predict_work(struct work_struct *work)
{
	struct vsg_predictor *p = container_of(to_delayed_work(work),
					       struct vsg_predictor, work);
	struct vsg_dev *vs = p->vs;
	s16 out[VS_MAX_OUT], blended[VS_MAX_OUT], in[VS_MAX_RAW];
	struct vsg_record *rec, latest;
	u64 resolved, shortfalls;
	unsigned int period;
	u64 t0;

	mutex_lock(&p->lock);
	rec = &p->ring[p->seq % VSG_RING_LEN];
	rec->seq = p->seq++;
	rec->time_ns = ktime_get_ns();
	vsg_sampler_read(&p->sampler, rec->raw, READ_ONCE(vs->held_pages));

	t0 = ktime_get_ns();
	vs_model_gather(&p->model, rec->raw, in);
	vs_lstm_step(&p->model, &p->state, in, out);
	vs_adapt_step(&p->model, &p->adapt, rec->raw[VSG_CH_USED], out,
		      blended);
	rec->step_ns = min_t(u64, ktime_get_ns() - t0, U32_MAX);

	rec->confidence = p->conf_idx >= 0 ?
			  clamp_t(s16, out[p->conf_idx], 0, S16_MAX) : 0;
	/* The band is calibrated against the used memory it forecasts. */
	rec->upper = p->upper_idx >= 0 ? out[p->upper_idx] :
		     p->out_idx >= 0 ? blended[p->out_idx] : rec->raw[VSG_CH_USED];
	rec->band = vs_calib_step(&p->calib, rec->raw[VSG_CH_USED], rec->upper);
	rec->margin = vs_calib_margin_q12(&p->calib);
	/* A model without DEMAND outputs: demand is the calibrated band. */
	rec->demand = clamp_t(s16, p->out_idx >= 0 ? blended[p->out_idx] :
			      rec->band, 0, VS_Q12_ONE);
	resolved = p->calib.resolved;
	shortfalls = p->calib.shortfalls;
#ifdef VS_MUTANT_PREDICT_CONST	/* test-only fault: scripts/check-mutants */
	rec->demand = VS_Q12_ONE / 2;
#endif
	p->steps++;
	p->step_ns_total += rec->step_ns;
	p->latest = *rec;
	latest = *rec;
	period = p->period_ms;
	mutex_unlock(&p->lock);

	trace_vshape_predict(&latest);
	trace_vshape_calib(&latest, resolved, shortfalls);

	vsg_queue_predict(vs, msecs_to_jiffies(period));
}

static long vsg_q12_kb(unsigned long total_kb, s16 q)
{
	return (long)total_kb * q / VS_Q12_ONE;
}

/* The latest band for the policy (see struct vsg_prediction). */
void vsg_predict_get(struct vsg_dev *vs, struct vsg_prediction *out)
{
	struct vsg_predictor *p = vs->predictor;
	unsigned long total_kb = totalram_pages() * (PAGE_SIZE / 1024);
	struct vsg_record r;
	u32 win_res, win_sf;
	long band;

	mutex_lock(&p->lock);
	out->valid = p->steps > 0;
	r = p->latest;
	vs_calib_window_outcomes(&p->calib, &win_res, &win_sf);
	mutex_unlock(&p->lock);

	out->calib_resolved = win_res;
	out->calib_shortfalls = win_sf;

	out->seq = r.seq;
	out->upper_kb = max(vsg_q12_kb(total_kb, r.upper), 0L);
	out->margin_kb = vsg_q12_kb(total_kb, r.margin);
	band = vsg_q12_kb(total_kb, r.band);
	out->band_kb = clamp(band, 0L, (long)total_kb);
	out->demand_kb = max(vsg_q12_kb(total_kb, r.demand), 0L);
	out->confidence = r.confidence;
	out->used_kb = max(vsg_q12_kb(total_kb, r.raw[VSG_CH_USED]), 0L);
	out->psi_some = r.raw[VSG_CH_PSI_SOME];
	out->refault = r.raw[VSG_CH_REFAULT];
}

int vsg_predict_set_calib_target(struct vsg_dev *vs, unsigned int ppm)
{
	struct vsg_predictor *p = vs->predictor;
	int err;

	mutex_lock(&p->lock);
	err = vs_calib_set_target(&p->calib, ppm);
	mutex_unlock(&p->lock);
	return err;
}

/* Window of the calibration, in resolved bands (calib.h); kept on reset. */
int vsg_predict_set_calib_window(struct vsg_dev *vs, unsigned int window)
{
	struct vsg_predictor *p = vs->predictor;
	int err;

	mutex_lock(&p->lock);
	err = vs_calib_set_window(&p->calib, window);
	mutex_unlock(&p->lock);
	return err;
}

int vsg_predict_set_period(struct vsg_dev *vs, unsigned int ms)
{
	struct vsg_predictor *p = vs->predictor;

	if (ms < VSG_MIN_PERIOD_MS || ms > VSG_MAX_PERIOD_MS)
		return -ERANGE;
	mutex_lock(&p->lock);
	p->period_ms = ms;
	if (p->horizon_ms < ms)
		p->horizon_ms = ms;
	vsg_pick_outputs(p);
	mutex_unlock(&p->lock);
	vsg_queue_predict(vs, msecs_to_jiffies(ms));
	return 0;
}

int vsg_predict_set_horizon(struct vsg_dev *vs, unsigned int ms)
{
	struct vsg_predictor *p = vs->predictor;
	int err = 0;

	mutex_lock(&p->lock);
	if (ms < p->period_ms || ms > VS_MAX_HORIZON * p->period_ms) {
		err = -ERANGE;
	} else {
		p->horizon_ms = ms;
		vsg_pick_outputs(p);
	}
	mutex_unlock(&p->lock);
	return err;
}

int vsg_predict_init(struct vsg_dev *vs)
{
	struct vsg_predictor *p;
	int err;

	p = kvzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->vs = vs;
	mutex_init(&p->lock);
	INIT_DELAYED_WORK(&p->work, vsg_predict_work);
	p->period_ms = VSG_DEFAULT_PERIOD_MS;
	p->horizon_ms = VSG_DEFAULT_HORIZON_MS;
	vsg_sampler_init(&p->sampler);
	vs->predictor = p;
	err = vsg_predict_load_model(vs, "default");
	if (err) {
		vsg_sampler_release(&p->sampler);
		kvfree(p);
		vs->predictor = NULL;
	}
	return err;
}

void vsg_predict_start(struct vsg_dev *vs)
{
	vsg_queue_predict(vs, 0);
}

/* The caller has set stop_update: the work cannot requeue itself. */
void vsg_predict_stop(struct vsg_dev *vs)
{
	cancel_delayed_work_sync(&vs->predictor->work);
}

void vsg_predict_exit(struct vsg_dev *vs)
{
	struct vsg_predictor *p = vs->predictor;

	vsg_sampler_release(&p->sampler);
	kvfree(p->model_buf);
	kvfree(p);
	vs->predictor = NULL;
}
