// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs knobs under /sys/bus/virtio/devices/virtioN/vshape/, documented
 * in docs/ABI/testing/sysfs-bus-virtio-vshape.  A store validates first
 * and changes nothing on error; a valid store queues the update work.
 */

#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/virtio.h>

#include "policy.h"
#include "predict.h"
#include "vshape_guest.h"

#define KB_PER_PAGE	(PAGE_SIZE / 1024)

static struct vshape_dev *to_vs(struct device *dev)
{
	return dev_to_virtio(dev)->priv;
}

/*
 * Parse a size in KiB, a multiple of the page size, at most the guest's
 * RAM.  Returns pages through @pages.
 */
static int vs_parse_kb(const char *buf, unsigned long *pages)
{
	unsigned long kb;
	int err;

	err = kstrtoul(buf, 0, &kb);
	if (err)
		return err;
	if (kb % KB_PER_PAGE)
		return -EINVAL;
	if (kb / KB_PER_PAGE > totalram_pages())
		return -ERANGE;
	*pages = kb / KB_PER_PAGE;
	return 0;
}

/* Store a KiB knob held in pages, then let the balloon follow. */
static ssize_t vs_store_kb(struct device *dev, const char *buf, size_t count,
			   unsigned long *pages_field)
{
	unsigned long pages;
	int err;

	err = vs_parse_kb(buf, &pages);
	if (err)
		return err;
	WRITE_ONCE(*pages_field, pages);
	vs_queue_update(to_vs(dev));
	return count;
}

static ssize_t vs_show_kb(char *buf, unsigned long pages)
{
	return sysfs_emit(buf, "%lu\n", pages * KB_PER_PAGE);
}

static ssize_t guest_target_kb_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return vs_show_kb(buf, READ_ONCE(to_vs(dev)->guest_target_pages));
}

static ssize_t guest_target_kb_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	return vs_store_kb(dev, buf, count, &to_vs(dev)->guest_target_pages);
}
static DEVICE_ATTR_RW(guest_target_kb);

static ssize_t floor_margin_kb_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return vs_show_kb(buf, READ_ONCE(to_vs(dev)->floor_margin_pages));
}

static ssize_t floor_margin_kb_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	return vs_store_kb(dev, buf, count, &to_vs(dev)->floor_margin_pages);
}
static DEVICE_ATTR_RW(floor_margin_kb);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  vs_mode_names[READ_ONCE(to_vs(dev)->mode)]);
}

static ssize_t mode_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct vshape_dev *vs = to_vs(dev);
	int mode;

	mode = sysfs_match_string(vs_mode_names, buf);
	if (mode < 0)
		return mode;
	vs_policy_set_mode(vs, mode);
	return count;
}
static DEVICE_ATTR_RW(mode);

static ssize_t host_target_kb_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  (unsigned long)vs_host_target_pages(to_vs(dev)) *
			  KB_PER_PAGE);
}
static DEVICE_ATTR_RO(host_target_kb);

static ssize_t target_kb_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  vs_effective_target(to_vs(dev)) * KB_PER_PAGE);
}
static DEVICE_ATTR_RO(target_kb);

static ssize_t actual_kb_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  READ_ONCE(to_vs(dev)->held_pages) * KB_PER_PAGE);
}
static DEVICE_ATTR_RO(actual_kb);

static ssize_t floor_kb_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  vs_floor_pages(to_vs(dev)) * KB_PER_PAGE);
}
static DEVICE_ATTR_RO(floor_kb);

static ssize_t page_reporting_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", vs_reporting_active(to_vs(dev)));
}
static DEVICE_ATTR_RO(page_reporting);

/* ---- predictor knobs: thin wrappers over predict.c ---- */

static ssize_t vs_store_ms(struct device *dev, const char *buf, size_t count,
			   int (*set)(struct vshape_dev *, unsigned int))
{
	unsigned int ms;
	int err;

	err = kstrtouint(buf, 0, &ms);
	if (!err)
		err = set(to_vs(dev), ms);
	return err ? err : count;
}

static ssize_t period_ms_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;

	return sysfs_emit(buf, "%u\n", READ_ONCE(p->period_ms));
}

static ssize_t period_ms_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	return vs_store_ms(dev, buf, count, vs_predict_set_period);
}
static DEVICE_ATTR_RW(period_ms);

static ssize_t horizon_ms_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;

	return sysfs_emit(buf, "%u\n", READ_ONCE(p->horizon_ms));
}

static ssize_t horizon_ms_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	return vs_store_ms(dev, buf, count, vs_predict_set_horizon);
}
static DEVICE_ATTR_RW(horizon_ms);

static ssize_t model_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;
	ssize_t n;

	mutex_lock(&p->lock);
	n = sysfs_emit(buf, "%s crc=%08x layers=%u hidden=%u inputs=%u outputs=%u step_ms=%u\n",
		       p->model_name, p->model.crc, p->model.n_layers,
		       p->model.hidden, p->model.n_raw, p->model.n_out,
		       p->model.step_ms);
	mutex_unlock(&p->lock);
	return n;
}

static ssize_t model_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	char name[64];
	int err;

	if (count >= sizeof(name))
		return -ENAMETOOLONG;
	strscpy(name, buf, sizeof(name));
	err = vs_predict_load_model(to_vs(dev), strim(name));
	return err ? err : count;
}
static DEVICE_ATTR_RW(model);

static ssize_t cgroups_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;
	ssize_t n;

	mutex_lock(&p->lock);
	n = sysfs_emit(buf, "%s\n", p->sampler.cg_paths);
	mutex_unlock(&p->lock);
	return n;
}

static ssize_t cgroups_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct vs_predictor *p = to_vs(dev)->predictor;
	int err;

	mutex_lock(&p->lock);
	err = vs_sampler_set_cgroups(&p->sampler, buf);
	mutex_unlock(&p->lock);
	return err ? err : count;
}
static DEVICE_ATTR_RW(cgroups);

/* @q (Q3.12, negative read as 0) of @total. */
static unsigned long q12_of(unsigned long total, s16 q)
{
	return mult_frac(total, (unsigned long)max_t(s16, q, 0), 4096UL);
}

static ssize_t prediction_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;
	unsigned long total_kb = totalram_pages() * KB_PER_PAGE;
	struct vs_record r;
	unsigned int horizon;
	u64 steps;
	int n;

	mutex_lock(&p->lock);
	r = p->latest;
	steps = p->steps;
	horizon = p->horizon_ms;
	mutex_unlock(&p->lock);
	/* One snapshot, so several values: one "key=value" per line. */
	n = sysfs_emit(buf, "seq=%llu\nhorizon_ms=%u\n", steps ? r.seq : 0,
		       horizon);
	n += sysfs_emit_at(buf, n, "used_kb=%lu\ndemand_kb=%lu\n",
			   q12_of(total_kb, r.raw[VS_CH_USED]),
			   q12_of(total_kb, r.demand));
	n += sysfs_emit_at(buf, n, "confidence_pct=%u\nspare_kb=%lu\n",
			   vs_q15_to_pct(r.confidence),
			   READ_ONCE(to_vs(dev)->policy->want_pages) *
			   KB_PER_PAGE);
	return n;
}
static DEVICE_ATTR_RO(prediction);

/* ---- calibration of the upper band (predictor/calib.h) ---- */

static ssize_t calib_target_ppm_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;
	u32 ppm;

	mutex_lock(&p->lock);
	ppm = p->calib.target_ppm;
	mutex_unlock(&p->lock);
	return sysfs_emit(buf, "%u\n", ppm);
}

static ssize_t calib_target_ppm_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	unsigned int ppm;
	int err;

	err = kstrtouint(buf, 0, &ppm);
	if (!err)
		err = vs_predict_set_calib_target(to_vs(dev), ppm);
	return err ? err : count;
}
static DEVICE_ATTR_RW(calib_target_ppm);

/* Shortfalls per million resolved bands since the last reset. */
static ssize_t calib_shortfall_ppm_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	struct vs_predictor *p = to_vs(dev)->predictor;
	u64 res, sf;

	mutex_lock(&p->lock);
	res = p->calib.resolved;
	sf = p->calib.shortfalls;
	mutex_unlock(&p->lock);
	return sysfs_emit(buf, "%llu\n", res ? div64_u64(sf * 1000000, res) : 0);
}
static DEVICE_ATTR_RO(calib_shortfall_ppm);

static ssize_t calib_margin_kb_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct vs_prediction pr;

	vs_predict_get(to_vs(dev), &pr);
	return sysfs_emit(buf, "%ld\n", pr.margin_kb);
}
static DEVICE_ATTR_RO(calib_margin_kb);

/* Parse an unsigned int in [@min, @max] into *@field. */
static ssize_t vs_store_uint(const char *buf, size_t count, unsigned int min,
			     unsigned int max, unsigned int *field)
{
	unsigned int val;
	int err;

	err = kstrtouint(buf, 0, &val);
	if (err)
		return err;
	if (val < min || val > max)
		return -ERANGE;
	WRITE_ONCE(*field, val);
	return count;
}

static ssize_t commit_confidence_pct_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(to_vs(dev)->policy->commit_pct));
}

static ssize_t commit_confidence_pct_store(struct device *dev,
					   struct device_attribute *attr,
					   const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 0, 100,
			     &to_vs(dev)->policy->commit_pct);
}
static DEVICE_ATTR_RW(commit_confidence_pct);

static ssize_t reserve_grace_ms_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vs(dev)->policy->grace_ms));
}

static ssize_t reserve_grace_ms_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 100, 3600000,
			     &to_vs(dev)->policy->grace_ms);
}
static DEVICE_ATTR_RW(reserve_grace_ms);

static ssize_t report_commit_grace_ms_show(struct device *dev,
					   struct device_attribute *attr,
					   char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(to_vs(dev)->reporting.commit_grace_ms));
}

static ssize_t report_commit_grace_ms_store(struct device *dev,
					    struct device_attribute *attr,
					    const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 0, VS_MAX_REPORT_COMMIT_GRACE_MS,
			     &to_vs(dev)->reporting.commit_grace_ms);
}
static DEVICE_ATTR_RW(report_commit_grace_ms);

/* ---- the predict-mode policy's knobs (policy.h) ---- */

static ssize_t guard_psi_some_pct_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vs(dev)->policy->guard_psi_some_pct));
}

static ssize_t guard_psi_some_pct_store(struct device *dev,
					struct device_attribute *attr,
					const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 0, 100,
			     &to_vs(dev)->policy->guard_psi_some_pct);
}
static DEVICE_ATTR_RW(guard_psi_some_pct);

static ssize_t guard_refault_per_s_show(struct device *dev,
					struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vs(dev)->policy->guard_refault_per_s));
}

static ssize_t guard_refault_per_s_store(struct device *dev,
					 struct device_attribute *attr,
					 const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 0, 100000000,
			     &to_vs(dev)->policy->guard_refault_per_s);
}
static DEVICE_ATTR_RW(guard_refault_per_s);

static ssize_t guard_hold_ms_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vs(dev)->policy->guard_hold_ms));
}

static ssize_t guard_hold_ms_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 0, 3600000,
			     &to_vs(dev)->policy->guard_hold_ms);
}
static DEVICE_ATTR_RW(guard_hold_ms);

static ssize_t shrink_kb_per_s_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vs(dev)->policy->shrink_kb_per_s));
}

static ssize_t shrink_kb_per_s_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 1024, 64 * 1024 * 1024,
			     &to_vs(dev)->policy->shrink_kb_per_s);
}
static DEVICE_ATTR_RW(shrink_kb_per_s);

static ssize_t margin_kb_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vs(dev)->policy->margin_kb));
}

static ssize_t margin_kb_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	return vs_store_uint(buf, count, 0, 64 * 1024 * 1024,
			     &to_vs(dev)->policy->margin_kb);
}
static DEVICE_ATTR_RW(margin_kb);

static ssize_t predictor_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  vs_predictor_names[READ_ONCE(to_vs(dev)->policy->predictor)]);
}

static ssize_t predictor_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	int kind = sysfs_match_string(vs_predictor_names, buf);

	if (kind < 0)
		return kind;
	WRITE_ONCE(to_vs(dev)->policy->predictor, kind);
	return count;
}
static DEVICE_ATTR_RW(predictor);

static struct attribute *vs_attrs[] = {
	&dev_attr_commit_confidence_pct.attr,
	&dev_attr_reserve_grace_ms.attr,
	&dev_attr_report_commit_grace_ms.attr,
	&dev_attr_predictor.attr,
	&dev_attr_guard_psi_some_pct.attr,
	&dev_attr_guard_refault_per_s.attr,
	&dev_attr_guard_hold_ms.attr,
	&dev_attr_shrink_kb_per_s.attr,
	&dev_attr_margin_kb.attr,
	&dev_attr_period_ms.attr,
	&dev_attr_horizon_ms.attr,
	&dev_attr_model.attr,
	&dev_attr_cgroups.attr,
	&dev_attr_prediction.attr,
	&dev_attr_calib_target_ppm.attr,
	&dev_attr_calib_shortfall_ppm.attr,
	&dev_attr_calib_margin_kb.attr,
	&dev_attr_guest_target_kb.attr,
	&dev_attr_floor_margin_kb.attr,
	&dev_attr_mode.attr,
	&dev_attr_host_target_kb.attr,
	&dev_attr_target_kb.attr,
	&dev_attr_actual_kb.attr,
	&dev_attr_floor_kb.attr,
	&dev_attr_page_reporting.attr,
	NULL,
};

const struct attribute_group vs_attr_group = {
	.name = "vshape",
	.attrs = vs_attrs,
};
