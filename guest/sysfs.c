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

static ssize_t guest_target_kb_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  READ_ONCE(to_vs(dev)->guest_target_pages) *
			  KB_PER_PAGE);
}

static ssize_t guest_target_kb_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct vshape_dev *vs = to_vs(dev);
	unsigned long pages;
	int err;

	err = vs_parse_kb(buf, &pages);
	if (err)
		return err;
	WRITE_ONCE(vs->guest_target_pages, pages);
	vs_queue_update(vs);
	return count;
}
static DEVICE_ATTR_RW(guest_target_kb);

static ssize_t floor_margin_kb_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  READ_ONCE(to_vs(dev)->floor_margin_pages) *
			  KB_PER_PAGE);
}

static ssize_t floor_margin_kb_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct vshape_dev *vs = to_vs(dev);
	unsigned long pages;
	int err;

	err = vs_parse_kb(buf, &pages);
	if (err)
		return err;
	WRITE_ONCE(vs->floor_margin_pages, pages);
	vs_queue_update(vs);
	return count;
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
	WRITE_ONCE(vs->mode, mode);
	vs_queue_update(vs);
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

static struct attribute *vs_attrs[] = {
	&dev_attr_guest_target_kb.attr,
	&dev_attr_floor_margin_kb.attr,
	&dev_attr_mode.attr,
	&dev_attr_host_target_kb.attr,
	&dev_attr_target_kb.attr,
	&dev_attr_actual_kb.attr,
	&dev_attr_floor_kb.attr,
	NULL,
};

const struct attribute_group vs_attr_group = {
	.name = "vshape",
	.attrs = vs_attrs,
};
