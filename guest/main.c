// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_guest: a virtio-balloon driver (virtio device ID 5).
 *
 * Device lifecycle: probe, remove, freeze and restore, the queues, the
 * OOM notifier.  Targets and every decision are policy.c's; config
 * changes and sysfs stores only queue its update work, where all
 * inflation and deflation happens, on a freezable workqueue.
 */

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "hostmsg.h"
#include "policy.h"
#include "vshape_compat.h"
#include "predict.h"
#include "reporting.h"
#include "shaping.h"
#include "vshape_guest.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * Read at each probe (validate): with shaping=0 the driver does not ack
 * VIRTIO_BALLOON_F_VSHAPE and keeps to the standard PFN-array protocol even
 * on a device that offers it, e.g. to compare the two on one device.
 */
static bool shaping = true;
module_param(shaping, bool, 0444);
MODULE_PARM_DESC(shaping, "negotiate the shaping feature (bit 23) when offered (default: 1)");

static void vsg_config_changed(struct virtio_device *vdev)
{
	vsg_queue_update(vdev->priv);
}

/*
 * Give memory back to the guest instead of letting the OOM killer act
 * (VIRTIO_BALLOON_F_DEFLATE_ON_OOM).  The balloon does not refill until
 * the next target change; in predict mode the policy sees the count move
 * and deflates the rest at once (guard_oom).  Nothing here may take the
 * policy's lock: it is held across allocations that can end here.
 */
static int vsg_oom_notify(struct notifier_block *nb, unsigned long dummy,
			  void *parm)
{
	struct vsg_dev *vs = container_of(nb, struct vsg_dev, oom_nb);
	unsigned long *freed = parm;
	unsigned long n;

	n = vsg_deflate(vs, VSG_OOM_PAGES, 0);
	if (n) {
		mutex_lock(&vs->balloon_lock);
		/* read without the lock by the policy (a guard) */
		WRITE_ONCE(vs->nr_oom_deflates, vs->nr_oom_deflates + 1);
		vs->oom_pages += n;
		mutex_unlock(&vs->balloon_lock);
		vsg_update_actual(vs);
	}
	*freed += n;
	return NOTIFY_OK;
}

/*
 * Queues are numbered in order of the features that bring them: inflate,
 * deflate, stats (STATS_VQ), reporting (REPORTING; free page hinting is
 * never negotiated), then the shaping queue (VSHAPE), as docs/protocol.md
 * says.
 */
static int vsg_init_vqs(struct vsg_dev *vs)
{
	struct vs_vq_desc desc[5] = {
		{ "inflate", vsg_balloon_ack },
		{ "deflate", vsg_balloon_ack },
	};
	struct virtqueue *vqs[5];
	unsigned int nvqs = 2, stats = 0, reporting = 0, shaping = 0;
	int err;

	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_STATS_VQ)) {
		stats = nvqs;
		desc[nvqs++] = (struct vs_vq_desc){ "stats", vsg_stats_ack };
	}
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_REPORTING)) {
		reporting = nvqs;
		desc[nvqs++] = (struct vs_vq_desc){ "reporting",
						    vsg_balloon_ack };
	}
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_VSHAPE)) {
		shaping = nvqs;
		desc[nvqs++] = (struct vs_vq_desc){ "shaping",
						    vsg_shaping_vq_done };
	}
	err = vs_find_vqs(vs->vdev, nvqs, vqs, desc);
	if (err)
		return err;
	vs->inflate_vq = vqs[0];
	vs->deflate_vq = vqs[1];
	vs->stats_vq = stats ? vqs[stats] : NULL;
	vs->reporting.vq = reporting ? vqs[reporting] : NULL;
	if (shaping) {
		err = vsg_shaping_init(vs, vqs[shaping]);
		if (!err)
			err = vsg_hostmsg_shaping_start(vs);
		if (err) {
			/* Not fatal: the standard protocol still works. */
			dev_warn(&vs->vdev->dev, "shaping off: %d\n", err);
			vsg_shaping_remove(vs);
		}
	}
	return 0;
}

static int vsg_validate(struct virtio_device *vdev)
{
	if (!vdev->config->get) {
		dev_err(&vdev->dev, "config access disabled\n");
		return -EINVAL;
	}
	/* Poisoning and free page hints are not implemented: never ack. */
	__virtio_clear_bit(vdev, VIRTIO_BALLOON_F_PAGE_POISON);
	__virtio_clear_bit(vdev, VIRTIO_BALLOON_F_FREE_PAGE_HINT);
	if (!shaping)
		__virtio_clear_bit(vdev, VIRTIO_BALLOON_F_VSHAPE);
	return vsg_reporting_validate(vdev);
}

/* Set up queues and start; shared by probe and restore. */
static int vsg_start(struct vsg_dev *vs)
{
	int err;

	err = vsg_init_vqs(vs);
	if (err)
		return err;
	spin_lock_irq(&vs->stop_update_lock);
	vs->stop_update = false;
	spin_unlock_irq(&vs->stop_update_lock);
	virtio_device_ready(vs->vdev);
	if (vs->stats_vq) {
		err = vsg_stats_start(vs);
		if (err)
			goto err_reset;
	}
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
		err = register_oom_notifier(&vs->oom_nb);
		if (err)
			goto err_reset;
	}
	err = vsg_reporting_start(vs);
	if (err)
		goto err_oom;
	vsg_queue_update(vs);
	vsg_predict_start(vs);
	vsg_policy_start(vs);
	return 0;

err_oom:
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		unregister_oom_notifier(&vs->oom_nb);
err_reset:
	virtio_reset_device(vs->vdev);
	vsg_hostmsg_shaping_stop(vs);
	vsg_shaping_remove(vs);
	vs->vdev->config->del_vqs(vs->vdev);
	return err;
}

/*
 * Stop all work, give every page back (telling the host while it still
 * listens), reset the device.  Shared by remove and freeze.
 */
static void vsg_stop(struct vsg_dev *vs)
{
	/* No report may be in flight once the queues go (in-tree order). */
	vsg_reporting_stop(vs);
	spin_lock_irq(&vs->stop_update_lock);
	vs->stop_update = true;
	spin_unlock_irq(&vs->stop_update_lock);
	vsg_predict_stop(vs);
	vsg_policy_stop(vs);
	cancel_work_sync(&vs->update_work);
	cancel_work_sync(&vs->stats_work);

	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		unregister_oom_notifier(&vs->oom_nb);

#ifdef VS_MUTANT_RESET_KEEPS_LEDGER	/* test-only fault: scripts/check-mutants */
	WRITE_ONCE(vs->held_pages, 0);	/* forget the balloon, tell no one */
#endif
	while (READ_ONCE(vs->held_pages))
		if (!vsg_deflate(vs, READ_ONCE(vs->held_pages), 0))
			break;
	vsg_update_actual(vs);

	/*
	 * Reset first: the device forgets reservations and stops using our
	 * buffers; then the shaping state can go.
	 */
	virtio_reset_device(vs->vdev);
	vsg_hostmsg_shaping_stop(vs);
	vsg_shaping_remove(vs);
	vs->vdev->config->del_vqs(vs->vdev);
}

static int vsg_probe(struct virtio_device *vdev)
{
	struct vsg_dev *vs;
	int err;

#ifdef VS_MUTANT_NO_BIND	/* test-only fault: scripts/check-mutants */
	return -ENODEV;
#endif
	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return -ENOMEM;
	vs->pfns = kcalloc(VSG_PFNS_PER_MSG, sizeof(*vs->pfns), GFP_KERNEL);
	if (!vs->pfns) {
		err = -ENOMEM;
		goto err_free_vs;
	}
	vs->vdev = vdev;
	vdev->priv = vs;
	vs->mode = VSG_MODE_MAX;
	vs->floor_margin_pages = VSG_DEFAULT_FLOOR_MARGIN_KB >> (PAGE_SHIFT - 10);
	INIT_WORK(&vs->stats_work, vsg_stats_work);
	spin_lock_init(&vs->stop_update_lock);
	vsg_balloon_init(vs);
	vsg_reporting_init(vs);
	vs->oom_nb.notifier_call = vsg_oom_notify;
	vs->oom_nb.priority = 80;	/* same as the in-tree balloon */

	err = vsg_policy_init(vs);
	if (err)
		goto err_free_pfns;
	err = vsg_predict_init(vs);
	if (err)
		goto err_policy;
	err = sysfs_create_group(&vdev->dev.kobj, &vsg_attr_group);
	if (err)
		goto err_predict;
	vsg_debugfs_init(vs);

	err = vsg_start(vs);
	if (err)
		goto err_debugfs;
	dev_info(&vdev->dev, "vshape balloon ready (stats %s, deflate-on-oom %s, shaping %s, page reporting %s)\n",
		 str_on_off(vs->stats_vq),
		 str_on_off(virtio_has_feature(vdev,
					       VIRTIO_BALLOON_F_DEFLATE_ON_OOM)),
		 str_on_off(vs->shaping), str_on_off(vsg_reporting_active(vs)));
	return 0;

err_debugfs:
	vsg_debugfs_exit(vs);
	sysfs_remove_group(&vdev->dev.kobj, &vsg_attr_group);
err_predict:
	vsg_predict_exit(vs);
err_policy:
	vsg_policy_exit(vs);
err_free_pfns:
	kfree(vs->pfns);
err_free_vs:
	kfree(vs);
	vdev->priv = NULL;
	return err;
}

static void vsg_remove(struct virtio_device *vdev)
{
	struct vsg_dev *vs = vdev->priv;

	sysfs_remove_group(&vdev->dev.kobj, &vsg_attr_group);
	/* Before debugfs: the shaping state removes its own entries there. */
	vsg_stop(vs);
	vsg_debugfs_exit(vs);
	WARN_ON(vs->held_pages);
	vsg_predict_exit(vs);
	vsg_policy_exit(vs);
	kfree(vs->pfns);
	kfree(vs);
}

#ifdef CONFIG_PM_SLEEP
static int vsg_freeze(struct virtio_device *vdev)
{
	vsg_stop(vdev->priv);
	return 0;
}

static int vsg_restore(struct virtio_device *vdev)
{
	return vsg_start(vdev->priv);
}
#endif

static const struct virtio_device_id vsg_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static unsigned int vsg_features[] = {
	VIRTIO_BALLOON_F_MUST_TELL_HOST,
	VIRTIO_BALLOON_F_STATS_VQ,
	VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
	VIRTIO_BALLOON_F_REPORTING,
	VIRTIO_BALLOON_F_VSHAPE,
};

static struct virtio_driver vsg_driver = {
	.feature_table = vsg_features,
	.feature_table_size = ARRAY_SIZE(vsg_features),
	.driver.name = KBUILD_MODNAME,
	.id_table = vsg_id_table,
	.validate = vsg_validate,
	.probe = vsg_probe,
	.remove = vsg_remove,
	.config_changed = vsg_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze = vsg_freeze,
	.restore = vsg_restore,
#endif
};

static int __init vsg_init(void)
{
	int err;

	vsg_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	err = register_virtio_driver(&vsg_driver);
	if (err)
		debugfs_remove(vsg_debugfs_root);
	return err;
}

static void __exit vsg_exit(void)
{
	unregister_virtio_driver(&vsg_driver);
	debugfs_remove(vsg_debugfs_root);
}

module_init(vsg_init);
module_exit(vsg_exit);
MODULE_DEVICE_TABLE(virtio, vsg_id_table);
MODULE_DESCRIPTION("vshape predictive virtio-balloon driver");
MODULE_LICENSE("GPL");
