// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs knobs under /sys/bus/virtio/devices/virtioN/vshape/, documented
 * in docs/ABI/testing/sysfs-bus-virtio-vshape; one value per file (the
 * multi-value views are debugfs.c's).  A store validates first and
 * changes nothing on error.
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

static struct vsg_dev *to_vs(struct device *dev)
{
	return dev_to_virtio(dev)->priv;
}

/* ---- number knobs: one table, one show, one store ---- */

/* Where a number knob's word lives, and so how a store applies it. */
enum vsg_knob_kind {
	/*
	 * unsigned long of pages in struct vsg_dev, in KiB in sysfs: a
	 * store queues the update work, which re-reads it.
	 */
	VSG_KNOB_DEV_PAGES,
	/* unsigned int in struct vsg_dev, read where it is used */
	VSG_KNOB_DEV,
	/* unsigned int in struct vsg_policy, read once per decision */
	VSG_KNOB_POLICY,
	/* unsigned int in struct vsg_predictor, set through predict.c */
	VSG_KNOB_PREDICT,
};

/*
 * A number knob: the device attribute, where its word is and what a
 * store accepts: [min, max] for VSG_KNOB_DEV and VSG_KNOB_POLICY;
 * predict.c's setter, which checks the range and resets what depends on
 * the knob, for VSG_KNOB_PREDICT; a page-aligned size up to the guest's
 * RAM for VSG_KNOB_DEV_PAGES.
 */
struct vsg_knob {
	struct device_attribute attr;
	/* the field's type is the kind's: unsigned long or unsigned int */
	enum vsg_knob_kind kind;
	size_t offset;
	unsigned int min, max;
	int (*set)(struct vsg_dev *vs, unsigned int val);
};

static unsigned long *vsg_knob_pages(struct vsg_dev *vs,
				     const struct vsg_knob *k)
{
	return (unsigned long *)((char *)vs + k->offset);
}

static unsigned int *vsg_knob_uint(struct vsg_dev *vs,
				   const struct vsg_knob *k)
{
	char *base = k->kind == VSG_KNOB_POLICY ? (char *)vs->policy :
		     k->kind == VSG_KNOB_PREDICT ? (char *)vs->predictor :
		     (char *)vs;

	return (unsigned int *)(base + k->offset);
}

/*
 * Parse a size in KiB, a multiple of the page size, at most the guest's
 * RAM.  Returns pages through @pages.
 */
static int vsg_parse_kb(const char *buf, unsigned long *pages)
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

static ssize_t vsg_knob_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	const struct vsg_knob *k = container_of(attr, struct vsg_knob, attr);
	struct vsg_dev *vs = to_vs(dev);

	if (k->kind == VSG_KNOB_DEV_PAGES)
		return sysfs_emit(buf, "%lu\n",
				  READ_ONCE(*vsg_knob_pages(vs, k)) * KB_PER_PAGE);
	return sysfs_emit(buf, "%u\n", READ_ONCE(*vsg_knob_uint(vs, k)));
}

static ssize_t vsg_knob_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	const struct vsg_knob *k = container_of(attr, struct vsg_knob, attr);
	struct vsg_dev *vs = to_vs(dev);
	unsigned long pages;
	unsigned int val;
	int err;

	if (k->kind == VSG_KNOB_DEV_PAGES) {
		err = vsg_parse_kb(buf, &pages);
		if (err)
			return err;
		WRITE_ONCE(*vsg_knob_pages(vs, k), pages);
		vsg_queue_update(vs);
		return count;
	}
	err = kstrtouint(buf, 0, &val);
	if (err)
		return err;
	if (k->kind == VSG_KNOB_PREDICT) {
		err = k->set(vs, val);
		return err ? err : count;
	}
	if (val < k->min || val > k->max)
		return -ERANGE;
	WRITE_ONCE(*vsg_knob_uint(vs, k), val);
	return count;
}

#define VSG_KNOB_ATTR(_name)						\
	__ATTR(_name, 0644, vsg_knob_show, vsg_knob_store)

/* A KiB knob over an unsigned long of pages in struct vsg_dev. */
#define VSG_PAGES_KNOB(_name, _field)					\
static struct vsg_knob vsg_knob_##_name = {				\
	.attr = VSG_KNOB_ATTR(_name),					\
	.kind = VSG_KNOB_DEV_PAGES,					\
	.offset = offsetof(struct vsg_dev, _field),			\
}

/* A knob over an unsigned int of struct vsg_dev, in [_min, _max]. */
#define VSG_DEV_KNOB(_name, _field, _min, _max)				\
static struct vsg_knob vsg_knob_##_name = {				\
	.attr = VSG_KNOB_ATTR(_name),					\
	.kind = VSG_KNOB_DEV,						\
	.offset = offsetof(struct vsg_dev, _field),			\
	.min = _min,							\
	.max = _max,							\
}

/* A knob over an unsigned int of struct vsg_policy, in [_min, _max]. */
#define VSG_POLICY_KNOB(_name, _field, _min, _max)			\
static struct vsg_knob vsg_knob_##_name = {				\
	.attr = VSG_KNOB_ATTR(_name),					\
	.kind = VSG_KNOB_POLICY,						\
	.offset = offsetof(struct vsg_policy, _field),			\
	.min = _min,							\
	.max = _max,							\
}

/* A knob over an unsigned int of struct vsg_predictor, set by @_set. */
#define VSG_PREDICT_KNOB(_name, _field, _set)				\
static struct vsg_knob vsg_knob_##_name = {				\
	.attr = VSG_KNOB_ATTR(_name),					\
	.kind = VSG_KNOB_PREDICT,					\
	.offset = offsetof(struct vsg_predictor, _field),		\
	.set = _set,							\
}

VSG_PAGES_KNOB(guest_target_kb, guest_target_pages);
VSG_PAGES_KNOB(floor_margin_kb, floor_margin_pages);
VSG_PREDICT_KNOB(period_ms, period_ms, vsg_predict_set_period);
VSG_PREDICT_KNOB(horizon_ms, horizon_ms, vsg_predict_set_horizon);
VSG_PREDICT_KNOB(calib_target_ppm, calib.target_ppm,
		 vsg_predict_set_calib_target);
VSG_PREDICT_KNOB(calib_window, calib.window, vsg_predict_set_calib_window);
VSG_POLICY_KNOB(commit_confidence_pct, commit_pct, 0, 100);
VSG_POLICY_KNOB(reserve_grace_ms, grace_ms, 100, 3600000);
VSG_DEV_KNOB(report_commit_grace_ms, reporting.commit_grace_ms, 0,
	     VSG_MAX_REPORT_COMMIT_GRACE_MS);
VSG_POLICY_KNOB(guard_psi_some_pct, guard_psi_some_pct, 0, 100);
VSG_POLICY_KNOB(guard_refault_per_s, guard_refault_per_s, 0, 100000000);
VSG_POLICY_KNOB(guard_hold_ms, guard_hold_ms, 0, 3600000);
VSG_POLICY_KNOB(shrink_kb_per_s, shrink_kb_per_s, 1024, 64 * 1024 * 1024);
VSG_POLICY_KNOB(margin_kb, margin_kb, 0, 64 * 1024 * 1024);

/* ---- the balloon and its targets ---- */

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  vsg_mode_names[READ_ONCE(to_vs(dev)->mode)]);
}

static ssize_t mode_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct vsg_dev *vs = to_vs(dev);
	int mode;

	mode = sysfs_match_string(vsg_mode_names, buf);
	if (mode < 0)
		return mode;
	vsg_policy_set_mode(vs, mode);
	return count;
}
static DEVICE_ATTR_RW(mode);

/* A read-only view, in KiB, of a page count (@_pages, an expression of vs). */
#define VSG_KB_VIEW(_name, _pages)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct vsg_dev *vs = to_vs(dev);				\
									\
	return sysfs_emit(buf, "%lu\n",					\
			  (unsigned long)(_pages) * KB_PER_PAGE);	\
}									\
static DEVICE_ATTR_RO(_name)

VSG_KB_VIEW(host_target_kb, vsg_host_target_pages(vs));
VSG_KB_VIEW(target_kb, vsg_effective_target(vs));
VSG_KB_VIEW(actual_kb, READ_ONCE(vs->held_pages));
VSG_KB_VIEW(floor_kb, vsg_floor_pages(vs));

static ssize_t page_reporting_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", vsg_reporting_active(to_vs(dev)));
}
static DEVICE_ATTR_RO(page_reporting);

/* ---- the predictor: thin wrappers over predict.c ---- */

/* The running model's name; its shape and CRC are in debugfs. */
static ssize_t model_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vsg_predictor *p = to_vs(dev)->predictor;
	ssize_t n;

	mutex_lock(&p->lock);
	n = sysfs_emit(buf, "%s\n", p->model_name);
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
	err = vsg_predict_load_model(to_vs(dev), strim(name));
	return err ? err : count;
}
static DEVICE_ATTR_RW(model);

static ssize_t cgroups_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct vsg_predictor *p = to_vs(dev)->predictor;
	ssize_t n;

	mutex_lock(&p->lock);
	n = sysfs_emit(buf, "%s\n", p->sampler.cg_paths);
	mutex_unlock(&p->lock);
	return n;
}

static ssize_t cgroups_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct vsg_predictor *p = to_vs(dev)->predictor;
	int err;

	mutex_lock(&p->lock);
	err = vsg_sampler_set_cgroups(&p->sampler, buf);
	mutex_unlock(&p->lock);
	return err ? err : count;
}
static DEVICE_ATTR_RW(cgroups);

/* The latest prediction (debugfs "prediction" has the whole snapshot). */
static struct vsg_prediction vsg_latest(struct device *dev)
{
	struct vsg_prediction pr;

	vsg_predict_get(to_vs(dev), &pr);
	return pr;
}

static ssize_t predicted_demand_kb_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	return sysfs_emit(buf, "%lu\n", vsg_latest(dev).demand_kb);
}
static DEVICE_ATTR_RO(predicted_demand_kb);

static ssize_t prediction_confidence_pct_show(struct device *dev,
					      struct device_attribute *attr,
					      char *buf)
{
	return sysfs_emit(buf, "%u\n", vs_q15_to_pct(vsg_latest(dev).confidence));
}
static DEVICE_ATTR_RO(prediction_confidence_pct);

/* Shortfalls per million resolved bands since the last reset. */
static ssize_t calib_shortfall_ppm_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	struct vsg_predictor *p = to_vs(dev)->predictor;
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
	return sysfs_emit(buf, "%ld\n", vsg_latest(dev).margin_kb);
}
static DEVICE_ATTR_RO(calib_margin_kb);

/* ---- the predict-mode policy (policy.h) ---- */

static ssize_t predictor_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  vsg_predictor_names[READ_ONCE(to_vs(dev)->policy->predictor)]);
}

static ssize_t predictor_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	int kind = sysfs_match_string(vsg_predictor_names, buf);

	if (kind < 0)
		return kind;
	WRITE_ONCE(to_vs(dev)->policy->predictor, kind);
	return count;
}
static DEVICE_ATTR_RW(predictor);

static struct attribute *vsg_attrs[] = {
	&vsg_knob_commit_confidence_pct.attr.attr,
	&vsg_knob_reserve_grace_ms.attr.attr,
	&vsg_knob_report_commit_grace_ms.attr.attr,
	&dev_attr_predictor.attr,
	&vsg_knob_guard_psi_some_pct.attr.attr,
	&vsg_knob_guard_refault_per_s.attr.attr,
	&vsg_knob_guard_hold_ms.attr.attr,
	&vsg_knob_shrink_kb_per_s.attr.attr,
	&vsg_knob_margin_kb.attr.attr,
	&vsg_knob_period_ms.attr.attr,
	&vsg_knob_horizon_ms.attr.attr,
	&dev_attr_model.attr,
	&dev_attr_cgroups.attr,
	&dev_attr_predicted_demand_kb.attr,
	&dev_attr_prediction_confidence_pct.attr,
	&vsg_knob_calib_target_ppm.attr.attr,
	&vsg_knob_calib_window.attr.attr,
	&dev_attr_calib_shortfall_ppm.attr,
	&dev_attr_calib_margin_kb.attr,
	&vsg_knob_guest_target_kb.attr.attr,
	&vsg_knob_floor_margin_kb.attr.attr,
	&dev_attr_mode.attr,
	&dev_attr_host_target_kb.attr,
	&dev_attr_target_kb.attr,
	&dev_attr_actual_kb.attr,
	&dev_attr_floor_kb.attr,
	&dev_attr_page_reporting.attr,
	NULL,
};

const struct attribute_group vsg_attr_group = {
	.name = "vshape",
	.attrs = vsg_attrs,
};
