// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host sysfs: the ledger under /sys/kernel/vshape_host/ and one
 * "vshape" group per device under /sys/bus/vdpa/devices/<dev>/.
 * Documented in docs/ABI/testing/sysfs-kernel-vshape-host and
 * docs/ABI/testing/sysfs-bus-vdpa-devices-vshape-host.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/device.h>

#include "vshape_host.h"

static struct kobject *vsh_kobj;

static ssize_t capacity_bytes_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vsh_ledger_capacity());
}

static ssize_t capacity_bytes_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	u64 v;
	int ret = kstrtou64(buf, 0, &v);

	if (ret)
		return ret;
	ret = vsh_ledger_set_capacity(v);
	return ret ? ret : count;
}

static ssize_t charged_bytes_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vsh_ledger_charged());
}

static ssize_t free_bytes_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vsh_ledger_free_bytes());
}

static struct kobj_attribute capacity_bytes_attr = __ATTR_RW(capacity_bytes);
static struct kobj_attribute charged_bytes_attr = __ATTR_RO(charged_bytes);
static struct kobj_attribute free_bytes_attr = __ATTR_RO(free_bytes);

static struct attribute *vsh_ledger_attrs[] = {
	&capacity_bytes_attr.attr,
	&charged_bytes_attr.attr,
	&free_bytes_attr.attr,
	NULL,
};

static const struct attribute_group vsh_ledger_group = {
	.attrs = vsh_ledger_attrs,
};

int vsh_sysfs_init(void)
{
	int ret;

	vsh_kobj = kobject_create_and_add("vshape_host", kernel_kobj);
	if (!vsh_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(vsh_kobj, &vsh_ledger_group);
	if (ret) {
		kobject_put(vsh_kobj);
		vsh_kobj = NULL;
	}
	return ret;
}

void vsh_sysfs_exit(void)
{
	if (!vsh_kobj)
		return;
	sysfs_remove_group(vsh_kobj, &vsh_ledger_group);
	kobject_put(vsh_kobj);
	vsh_kobj = NULL;
}

static struct vsh_dev *dev_to_vsh(struct device *dev)
{
	return vdpa_to_vsh(dev_to_vdpa(dev));
}

static ssize_t target_pages_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vsh_get_target(dev_to_vsh(dev)));
}

static ssize_t target_pages_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	u32 v;
	int ret = kstrtou32(buf, 0, &v);

	if (ret)
		return ret;
	vsh_set_target(dev_to_vsh(dev), v);
	return count;
}

static ssize_t actual_pages_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vsh_get_actual(dev_to_vsh(dev)));
}

static ssize_t vsh_show_pages(struct device *dev, char *buf, int which)
{
	struct vsh_dev *d = dev_to_vsh(dev);
	u64 v;

	/*
	 * Without the device lock (the counters are written with
	 * WRITE_ONCE): a world-readable file must not make its reader wait
	 * for the worker.
	 */
	v = which == 0 ? READ_ONCE(d->nr_inflated) :
	    which == 1 ? READ_ONCE(d->nr_reserved) :
	    READ_ONCE(d->nr_committed);
	return sysfs_emit(buf, "%llu\n", v << VSH_PAGE_SHIFT);
}

static ssize_t inflated_bytes_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return vsh_show_pages(dev, buf, 0);
}

static ssize_t reserved_bytes_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return vsh_show_pages(dev, buf, 1);
}

static ssize_t committed_bytes_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return vsh_show_pages(dev, buf, 2);
}

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct vsh_dev *d = dev_to_vsh(dev);
	const char *m;

	/* lock free, like vsh_show_pages() */
	m = READ_ONCE(d->mm) ? "va" : READ_ONCE(d->loopback) ? "loopback" :
	    "none";
	return sysfs_emit(buf, "%s\n", m);
}

static ssize_t quota_bytes_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(dev_to_vsh(dev)->quota));
}

/*
 * A 4 KiB multiple, 0 for none.  Lowering it below the device's charge
 * only makes new charges fail until the guest releases pages.
 */
static ssize_t quota_bytes_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	u64 v;
	int ret = kstrtou64(buf, 0, &v);

	if (ret)
		return ret;
	if (v & (VSH_PAGE_SIZE - 1))
		return -EINVAL;
	WRITE_ONCE(dev_to_vsh(dev)->quota, v);
	return count;
}

static ssize_t capacity_hint_bytes_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	return sysfs_emit(buf, "%llu\n", vsh_dev_capacity(dev_to_vsh(dev)));
}

static DEVICE_ATTR_RW(target_pages);
static DEVICE_ATTR_RW(quota_bytes);
static DEVICE_ATTR_RO(capacity_hint_bytes);
static DEVICE_ATTR_RO(actual_pages);
static DEVICE_ATTR_RO(inflated_bytes);
static DEVICE_ATTR_RO(reserved_bytes);
static DEVICE_ATTR_RO(committed_bytes);
static DEVICE_ATTR_RO(mode);

static struct attribute *vsh_dev_attrs[] = {
	&dev_attr_target_pages.attr,
	&dev_attr_actual_pages.attr,
	&dev_attr_inflated_bytes.attr,
	&dev_attr_reserved_bytes.attr,
	&dev_attr_committed_bytes.attr,
	&dev_attr_mode.attr,
	&dev_attr_quota_bytes.attr,
	&dev_attr_capacity_hint_bytes.attr,
	NULL,
};

static const struct attribute_group vsh_dev_group = {
	.name = "vshape",
	.attrs = vsh_dev_attrs,
};

int vsh_sysfs_dev_add(struct vsh_dev *d)
{
	int ret = sysfs_create_group(&d->vdpa.dev.kobj, &vsh_dev_group);

	d->sysfs_done = !ret;
	return ret;
}

void vsh_sysfs_dev_del(struct vsh_dev *d)
{
	if (d->sysfs_done)
		sysfs_remove_group(&d->vdpa.dev.kobj, &vsh_dev_group);
	d->sysfs_done = false;
}
