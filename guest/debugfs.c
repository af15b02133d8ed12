// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs view of one device: /sys/kernel/debug/vshape_guest/<virtioN>/.
 * Read-only; each file is one snapshot, taken under the lock of what it
 * shows (balloon_lock, the predictor's or the policy's lock).
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "policy.h"
#include "predict.h"
#include "vshape_guest.h"

/* Parent of the per-device directories; lives as long as the module. */
struct dentry *vsg_debugfs_root;

static int vsg_state_show(struct seq_file *m, void *unused)
{
	struct vsg_dev *vs = m->private;

	mutex_lock(&vs->balloon_lock);
	seq_printf(m, "held_pages: %lu\n", vs->held_pages);
	seq_printf(m, "blocks_2m: %lu\n", vs->nr_blocks[VSG_CLASS_2M]);
	seq_printf(m, "pages_4k: %lu\n", vs->nr_blocks[VSG_CLASS_4K]);
	seq_printf(m, "in_flight: %u\n", vs->in_flight);
	seq_printf(m, "inflate_msgs: %llu\n", vs->nr_inflate_msgs);
	seq_printf(m, "deflate_msgs: %llu\n", vs->nr_deflate_msgs);
	seq_printf(m, "alloc_fail_2m: %llu\n", vs->nr_alloc_fail_2m);
	seq_printf(m, "alloc_fail_4k: %llu\n", vs->nr_alloc_fail_4k);
	seq_printf(m, "floor_stops: %llu\n", vs->nr_floor_stops);
	seq_printf(m, "oom_deflates: %llu\n", vs->nr_oom_deflates);
	seq_printf(m, "oom_pages: %llu\n", vs->oom_pages);
	seq_printf(m, "last_error: %d\n", vs->last_error);
	seq_printf(m, "shaping: %s\n", vs->shaping ? "on" : "off");
	seq_printf(m, "shaping_msgs: %llu\n", vs->nr_shaping_msgs);
	seq_printf(m, "shaping_refused: %llu\n", vs->nr_shaping_refused);
	seq_printf(m, "commits: %llu\n", vs->nr_commits);
	seq_printf(m, "reserves: %llu\n", vs->nr_reserves);
	seq_printf(m, "releases: %llu\n", vs->nr_releases);
	mutex_unlock(&vs->balloon_lock);
	/* Not under balloon_lock: the policy's lock comes first. */
	seq_printf(m, "reservations_held: %u\n", vsg_policy_reservations(vs));
	seq_printf(m, "floor_pages: %lu\n", vsg_floor_pages(vs));
	seq_printf(m, "target_pages: %lu\n", vsg_effective_target(vs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_state);

/*
 * The ring of records, oldest first, as CSV: one line per period with
 * every input channel (Q3.12), the prediction and the step's cost.
 * tools/vs-record polls this file and appends the rows it has not seen.
 */
static int vsg_records_show(struct seq_file *m, void *unused)
{
	struct vsg_dev *vs = m->private;
	struct vsg_predictor *p = vs->predictor;
	u64 first, seq;
	unsigned int c;

	seq_puts(m, "seq,time_ns");
	for (c = 0; c < VSG_NR_CHANNELS; c++)
		seq_printf(m, ",%s", vsg_channel_names[c]);
	seq_puts(m, ",demand,confidence,step_ns,upper,band,margin\n");

	mutex_lock(&p->lock);
	first = p->seq > VSG_RING_LEN ? p->seq - VSG_RING_LEN : 0;
	for (seq = first; seq < p->seq; seq++) {
		const struct vsg_record *r = &p->ring[seq % VSG_RING_LEN];

		seq_printf(m, "%llu,%llu", r->seq, r->time_ns);
		for (c = 0; c < VSG_NR_CHANNELS; c++)
			seq_printf(m, ",%d", r->raw[c]);
		seq_printf(m, ",%d,%u,%u,%d,%d,%d\n", r->demand,
			   r->confidence, r->step_ns, r->upper, r->band,
			   r->margin);
	}
	mutex_unlock(&p->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_records);

static int vsg_predictor_show(struct seq_file *m, void *unused)
{
	struct vsg_dev *vs = m->private;
	struct vsg_predictor *p = vs->predictor;
	u32 win_res, win_sf;

	mutex_lock(&p->lock);
	seq_printf(m, "model: %s\n", p->model_name);
	seq_printf(m, "model_crc: 0x%08x\n", p->model.crc);
	seq_printf(m, "model_layers: %u\n", p->model.n_layers);
	seq_printf(m, "model_hidden: %u\n", p->model.hidden);
	seq_printf(m, "model_inputs: %u\n", p->model.n_raw);
	seq_printf(m, "model_outputs: %u\n", p->model.n_out);
	seq_printf(m, "model_step_ms: %u\n", p->model.step_ms);
	seq_printf(m, "model_bytes: %u\n", p->model.len);
	seq_printf(m, "state_bytes: %zu\n",
		   sizeof(p->state) + sizeof(p->adapt) + sizeof(p->model));
	seq_printf(m, "steps: %llu\n", p->steps);
	seq_printf(m, "step_ns_mean: %llu\n",
		   p->steps ? div64_u64(p->step_ns_total, p->steps) : 0);
	seq_printf(m, "demand_output: %d\n", p->out_idx);
	seq_printf(m, "confidence_output: %d\n", p->conf_idx);
	seq_printf(m, "upper_output: %d\n", p->upper_idx);
	seq_printf(m, "reset_seq: %llu\n", p->reset_seq);
	seq_printf(m, "calib_seq: %llu\n", p->calib_seq);
	seq_printf(m, "calib_target_ppm: %u\n", p->calib.target_ppm);
	seq_printf(m, "calib_window: %u\n", p->calib.window);
	seq_printf(m, "calib_horizon: %u\n", p->calib.horizon);
	seq_printf(m, "calib_margin_q12: %d\n", p->calib.margin);
	seq_printf(m, "calib_quantile_q12: %d\n", vs_calib_quantile(&p->calib));
	seq_printf(m, "calib_pending: %u\n", p->calib.count);
	vs_calib_window_outcomes(&p->calib, &win_res, &win_sf);
	seq_printf(m, "calib_pending_crossed: %u\n", win_res - p->calib.n_res);
	seq_printf(m, "calib_ring: %u\n", p->calib.n_res);
	seq_printf(m, "calib_ring_shortfalls: %u\n", p->calib.res_shortfalls);
	seq_printf(m, "calib_resolved: %llu\n", p->calib.resolved);
	seq_printf(m, "calib_shortfalls: %llu\n", p->calib.shortfalls);
	mutex_unlock(&p->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_predictor);

/*
 * The latest prediction as one snapshot (sysfs has its values one per
 * file): what was used and what is predicted at the horizon, and what
 * the predict-mode policy last sized the balloon to give.
 */
static int vsg_prediction_show(struct seq_file *m, void *unused)
{
	struct vsg_dev *vs = m->private;
	struct vsg_prediction pr;

	vsg_predict_get(vs, &pr);
	seq_printf(m, "seq: %llu\n", pr.valid ? pr.seq : 0);
	seq_printf(m, "horizon_ms: %u\n", READ_ONCE(vs->predictor->horizon_ms));
	seq_printf(m, "used_kb: %lu\n", pr.used_kb);
	seq_printf(m, "demand_kb: %lu\n", pr.demand_kb);
	seq_printf(m, "confidence_pct: %u\n", vs_q15_to_pct(pr.confidence));
	seq_printf(m, "spare_kb: %lu\n",
		   READ_ONCE(vs->policy->want_pages) * (PAGE_SIZE / 1024));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsg_prediction);

void vsg_debugfs_init(struct vsg_dev *vs)
{
	vs->debugfs_dir = debugfs_create_dir(dev_name(&vs->vdev->dev),
					     vsg_debugfs_root);
	debugfs_create_file("state", 0400, vs->debugfs_dir, vs,
			    &vsg_state_fops);
	debugfs_create_file("records", 0400, vs->debugfs_dir, vs,
			    &vsg_records_fops);
	debugfs_create_file("predictor", 0400, vs->debugfs_dir, vs,
			    &vsg_predictor_fops);
	debugfs_create_file("prediction", 0400, vs->debugfs_dir, vs,
			    &vsg_prediction_fops);
	vsg_reporting_debugfs(vs, vs->debugfs_dir);
	vsg_policy_debugfs(vs, vs->debugfs_dir);
}

void vsg_debugfs_exit(struct vsg_dev *vs)
{
	debugfs_remove_recursive(vs->debugfs_dir);
	vs->debugfs_dir = NULL;
}
