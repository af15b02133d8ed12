// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_host: module init/exit and the "vshape" vDPA management device.
 *
 *   vdpa dev add mgmtdev vshape name vs0
 *
 * creates a virtio-balloon vDPA device with the vshape shaping queue.
 * Bound to vhost_vdpa it serves a VM through QEMU's vhost-vdpa-device-pci
 * (use_va: guest RAM must be a shared file mapping, e.g. a memfd); bound
 * to virtio_vdpa it serves this kernel (loopback protocol test).
 */
#include <linux/module.h>
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/dma-mapping.h>
#include <uapi/linux/vdpa.h>

#include "vshape_host.h"

#define CREATE_TRACE_POINTS
#include "vshape_host_trace.h"

unsigned int vsh_rate_limit = 2000;
module_param_named(rate_limit, vsh_rate_limit, uint, 0644);
MODULE_PARM_DESC(rate_limit,
		 "Descriptor chains per second each device processes (default 2000)");

unsigned int vsh_rate_burst = 256;
module_param_named(rate_burst, vsh_rate_burst, uint, 0644);
MODULE_PARM_DESC(rate_burst,
		 "Chains a device may process at once after being idle (default 256)");

unsigned long long vsh_rate_bytes = 1ULL << 30;
module_param_named(rate_bytes, vsh_rate_bytes, ullong, 0644);
MODULE_PARM_DESC(rate_bytes,
		 "Work bytes (extent bytes and PFN pages) per second each device processes, 0 = no bound (default 1 GiB)");

static unsigned long long capacity_bytes;
module_param(capacity_bytes, ullong, 0444);
MODULE_PARM_DESC(capacity_bytes,
		 "Initial ledger capacity in bytes (default 0; see sysfs)");

static struct device *vsh_parent;

static int vsh_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
		       const struct vdpa_dev_set_config *config)
{
	struct vsh_dev *d;
	struct device *dev;
	int ret;

	if (config->mask)
		return -EOPNOTSUPP;
	d = vdpa_alloc_device(struct vsh_dev, vdpa, vsh_parent, &vsh_config_ops,
			      1, 1, name, true);
	if (IS_ERR(d))
		return PTR_ERR(d);

	/* from here on, put_device() calls vsh_free() */
	mutex_init(&d->lock);
	spin_lock_init(&d->cfg_lock);
	spin_lock_init(&d->cb_lock);
	spin_lock_init(&d->map_lock);
	xa_init(&d->pages);
	kthread_init_delayed_work(&d->work, vsh_work_fn);
	kthread_init_delayed_work(&d->refill_work, vsh_refill_fn);
	d->tokens = vsh_rate_burst;
	d->last_refill = jiffies;
	d->byte_tokens = min_t(u64, vsh_rate_bytes, VSH_RATE_BYTES_MAX);
	d->last_byte_refill = jiffies;

	ret = -ENOMEM;
	d->ext = kcalloc(VSH_MAX_EXTENTS, sizeof(*d->ext), GFP_KERNEL);
	d->sorted = kcalloc(VSH_MAX_EXTENTS, sizeof(*d->sorted), GFP_KERNEL);
	if (!d->ext || !d->sorted)
		goto err_put;
	d->worker = kthread_create_worker(0, "vshape-%s", name ? name : "dev");
	if (IS_ERR(d->worker)) {
		ret = PTR_ERR(d->worker);
		d->worker = NULL;
		goto err_put;
	}

	dev = &d->vdpa.dev;
	dev->dma_mask = &dev->coherent_dma_mask;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_put;
	d->vdpa.dma_dev = dev;
	d->vdpa.mdev = mdev;

	ret = _vdpa_register_device(&d->vdpa, VSH_MAX_VQS);
	if (ret)
		goto err_put;
	ret = vsh_sysfs_dev_add(d);
	if (ret)
		dev_warn(dev, "sysfs group not created: %d\n", ret);
	vsh_debugfs_dev_add(d);
	return 0;

err_put:
	put_device(&d->vdpa.dev);
	return ret;
}

static void vsh_dev_del(struct vdpa_mgmt_dev *mdev, struct vdpa_device *vdpa)
{
	struct vsh_dev *d = vdpa_to_vsh(vdpa);

	vsh_debugfs_dev_del(d);
	vsh_sysfs_dev_del(d);
	_vdpa_unregister_device(vdpa);
}

static const struct vdpa_mgmtdev_ops vsh_mgmt_ops = {
	.dev_add = vsh_dev_add,
	.dev_del = vsh_dev_del,
};

static struct virtio_device_id vsh_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct vdpa_mgmt_dev vsh_mgmt = {
	.ops = &vsh_mgmt_ops,
	.id_table = vsh_id_table,
	.supported_features = VSH_FEATURES,
	.max_supported_vqs = VSH_MAX_VQS,
};

static int __init vsh_init(void)
{
	int ret;

	/* The wire layout of include/uapi/linux/vshape.h (docs/protocol.md). */
	BUILD_BUG_ON(sizeof(struct vshape_config) != 32);
	BUILD_BUG_ON(sizeof(struct vshape_req_hdr) != 16);
	BUILD_BUG_ON(sizeof(struct vshape_extent) != 16);
	BUILD_BUG_ON(sizeof(struct vshape_resp) != 24);
	/* vsh_get_config() puts vshape_config right after the balloon's */
	BUILD_BUG_ON(sizeof(struct virtio_balloon_config) !=
		     VSHAPE_CONFIG_OFFSET);

	vsh_ledger_init(round_down(capacity_bytes, VSH_PAGE_SIZE));
	ret = vsh_sysfs_init();
	if (ret)
		return ret;
	vsh_debugfs_init();

	vsh_parent = root_device_register(VSH_NAME);
	if (IS_ERR(vsh_parent)) {
		ret = PTR_ERR(vsh_parent);
		goto err_debugfs;
	}
	vsh_mgmt.device = vsh_parent;
	ret = vdpa_mgmtdev_register(&vsh_mgmt);
	if (ret)
		goto err_root;
	return 0;

err_root:
	root_device_unregister(vsh_parent);
err_debugfs:
	vsh_debugfs_exit();
	vsh_sysfs_exit();
	return ret;
}

static void __exit vsh_exit(void)
{
	/* deletes every device of the management device (vsh_dev_del) */
	vdpa_mgmtdev_unregister(&vsh_mgmt);
	root_device_unregister(vsh_parent);
	/* memory maps are freed by call_rcu (vsh_map_put) */
	rcu_barrier();
	vsh_debugfs_exit();
	vsh_sysfs_exit();
	WARN_ON(vsh_ledger_charged());
}

module_init(vsh_init);
module_exit(vsh_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vshape: vDPA virtio-balloon device with predictive shaping");
MODULE_AUTHOR("vshape developers");
