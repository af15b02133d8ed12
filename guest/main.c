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

static void vs_config_changed(struct virtio_device *vdev)
{
	vs_queue_update(vdev->priv);
}

/*
 * Give memory back to the guest instead of letting the OOM killer act
 * (VIRTIO_BALLOON_F_DEFLATE_ON_OOM).  The balloon does not refill until
 * the next target change; in predict mode the policy sees the count move
 * and deflates the rest at once (guard_oom).  Nothing here may take the
 * policy's lock: it is held across allocations that can end here.
 */
static int vs_oom_notify(struct notifier_block *nb, unsigned long dummy,
			 void *parm)
{
	struct vshape_dev *vs = container_of(nb, struct vshape_dev, oom_nb);
	unsigned long *freed = parm;
	unsigned long n;

	n = vs_deflate(vs, VS_OOM_PAGES, 0);
	if (n) {
		mutex_lock(&vs->balloon_lock);
		/* read without the lock by the policy (a guard) */
		WRITE_ONCE(vs->nr_oom_deflates, vs->nr_oom_deflates + 1);
		vs->oom_pages += n;
		mutex_unlock(&vs->balloon_lock);
		vs_update_actual(vs);
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
static int vs_init_vqs(struct vshape_dev *vs)
{
	struct vs_vq_desc desc[5] = {
		{ "inflate", vs_balloon_ack },
		{ "deflate", vs_balloon_ack },
	};
	struct virtqueue *vqs[5];
	unsigned int nvqs = 2, stats = 0, reporting = 0, shaping = 0;
	int err;

	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_STATS_VQ)) {
		stats = nvqs;
		desc[nvqs++] = (struct vs_vq_desc){ "stats", vs_stats_ack };
	}
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_REPORTING)) {
		reporting = nvqs;
		desc[nvqs++] = (struct vs_vq_desc){ "reporting",
						    vs_balloon_ack };
	}
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_VSHAPE)) {
		shaping = nvqs;
		desc[nvqs++] = (struct vs_vq_desc){ "shaping",
						    vs_shaping_vq_done };
	}
	err = vs_find_vqs(vs->vdev, nvqs, vqs, desc);
	if (err)
		return err;
	vs->inflate_vq = vqs[0];
	vs->deflate_vq = vqs[1];
	vs->stats_vq = stats ? vqs[stats] : NULL;
	vs->reporting.vq = reporting ? vqs[reporting] : NULL;
	if (shaping) {
		err = vs_shaping_init(vs, vqs[shaping]);
		if (!err)
			err = vs_hostmsg_shaping_start(vs);
		if (err) {
			/* Not fatal: the standard protocol still works. */
			dev_warn(&vs->vdev->dev, "shaping off: %d\n", err);
			vs_shaping_remove(vs);
		}
	}
	return 0;
}

static int vs_validate(struct virtio_device *vdev)
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
	return vs_reporting_validate(vdev);
}

/* Set up queues and start; shared by probe and restore. */
static int vs_start(struct vshape_dev *vs)
{
	int err;

	err = vs_init_vqs(vs);
	if (err)
		return err;
	spin_lock_irq(&vs->stop_update_lock);
	vs->stop_update = false;
	spin_unlock_irq(&vs->stop_update_lock);
	virtio_device_ready(vs->vdev);
	if (vs->stats_vq) {
		err = vs_stats_start(vs);
		if (err)
			goto err_reset;
	}
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
		err = register_oom_notifier(&vs->oom_nb);
		if (err)
			goto err_reset;
	}
	err = vs_reporting_start(vs);
	if (err)
		goto err_oom;
	vs_queue_update(vs);
	vs_predict_start(vs);
	vs_policy_start(vs);
	return 0;

err_oom:
	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		unregister_oom_notifier(&vs->oom_nb);
err_reset:
	virtio_reset_device(vs->vdev);
	vs_hostmsg_shaping_stop(vs);
	vs_shaping_remove(vs);
	vs->vdev->config->del_vqs(vs->vdev);
	return err;
}

/*
 * Stop all work, give every page back (telling the host while it still
 * listens), reset the device.  Shared by remove and freeze.
 */
static void vs_stop(struct vshape_dev *vs)
{
	/* No report may be in flight once the queues go (in-tree order). */
	vs_reporting_stop(vs);
	spin_lock_irq(&vs->stop_update_lock);
	vs->stop_update = true;
	spin_unlock_irq(&vs->stop_update_lock);
	vs_predict_stop(vs);
	vs_policy_stop(vs);
	cancel_work_sync(&vs->update_work);
	cancel_work_sync(&vs->stats_work);

	if (virtio_has_feature(vs->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		unregister_oom_notifier(&vs->oom_nb);

	while (READ_ONCE(vs->held_pages))
		if (!vs_deflate(vs, READ_ONCE(vs->held_pages), 0))
			break;
	vs_update_actual(vs);

	/*
	 * Reset first: the device forgets reservations and stops using our
	 * buffers; then the shaping state can go.
	 */
	virtio_reset_device(vs->vdev);
	vs_hostmsg_shaping_stop(vs);
	vs_shaping_remove(vs);
	vs->vdev->config->del_vqs(vs->vdev);
}

static int vs_probe(struct virtio_device *vdev)
{
	struct vshape_dev *vs;
	int err;

#ifdef VS_MUTANT_NO_BIND	/* test-only fault: scripts/check-mutants */
	return -ENODEV;
#endif
	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return -ENOMEM;
	vs->pfns = kcalloc(VS_PFNS_PER_MSG, sizeof(*vs->pfns), GFP_KERNEL);
	if (!vs->pfns) {
		err = -ENOMEM;
		goto err_free_vs;
	}
	vs->vdev = vdev;
	vdev->priv = vs;
	vs->mode = VS_MODE_MAX;
	vs->floor_margin_pages = VS_DEFAULT_FLOOR_MARGIN_KB >> (PAGE_SHIFT - 10);
	INIT_WORK(&vs->stats_work, vs_stats_work);
	spin_lock_init(&vs->stop_update_lock);
	vs_balloon_init(vs);
	vs_reporting_init(vs);
	vs->oom_nb.notifier_call = vs_oom_notify;
	vs->oom_nb.priority = 80;	/* same as the in-tree balloon */

	err = vs_policy_init(vs);
	if (err)
		goto err_free_pfns;
	err = vs_predict_init(vs);
	if (err)
		goto err_policy;
	err = sysfs_create_group(&vdev->dev.kobj, &vs_attr_group);
	if (err)
		goto err_predict;
	vs_debugfs_init(vs);

	err = vs_start(vs);
	if (err)
		goto err_debugfs;
	dev_info(&vdev->dev, "vshape balloon ready (stats %s, deflate-on-oom %s, shaping %s, page reporting %s)\n",
		 str_on_off(vs->stats_vq),
		 str_on_off(virtio_has_feature(vdev,
					       VIRTIO_BALLOON_F_DEFLATE_ON_OOM)),
		 str_on_off(vs->shaping), str_on_off(vs_reporting_active(vs)));
	return 0;

err_debugfs:
	vs_debugfs_exit(vs);
	sysfs_remove_group(&vdev->dev.kobj, &vs_attr_group);
err_predict:
	vs_predict_exit(vs);
err_policy:
	vs_policy_exit(vs);
err_free_pfns:
	kfree(vs->pfns);
err_free_vs:
	kfree(vs);
	vdev->priv = NULL;
	return err;
}

static void vs_remove(struct virtio_device *vdev)
{
	struct vshape_dev *vs = vdev->priv;

	sysfs_remove_group(&vdev->dev.kobj, &vs_attr_group);
	/* Before debugfs: the shaping state removes its own entries there. */
	vs_stop(vs);
	vs_debugfs_exit(vs);
	WARN_ON(vs->held_pages);
	vs_predict_exit(vs);
	vs_policy_exit(vs);
	kfree(vs->pfns);
	kfree(vs);
}

#ifdef CONFIG_PM_SLEEP
static int vs_freeze(struct virtio_device *vdev)
{
	vs_stop(vdev->priv);
	return 0;
}

static int vs_restore(struct virtio_device *vdev)
{
	return vs_start(vdev->priv);
}
#endif

static const struct virtio_device_id vs_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static unsigned int vs_features[] = {
	VIRTIO_BALLOON_F_MUST_TELL_HOST,
	VIRTIO_BALLOON_F_STATS_VQ,
	VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
	VIRTIO_BALLOON_F_REPORTING,
	VIRTIO_BALLOON_F_VSHAPE,
};

static struct virtio_driver vs_driver = {
	.feature_table = vs_features,
	.feature_table_size = ARRAY_SIZE(vs_features),
	.driver.name = KBUILD_MODNAME,
	.id_table = vs_id_table,
	.validate = vs_validate,
	.probe = vs_probe,
	.remove = vs_remove,
	.config_changed = vs_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze = vs_freeze,
	.restore = vs_restore,
#endif
};

static int __init vs_init(void)
{
	int err;

	vs_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	err = register_virtio_driver(&vs_driver);
	if (err)
		debugfs_remove(vs_debugfs_root);
	return err;
}

static void __exit vs_exit(void)
{
	unregister_virtio_driver(&vs_driver);
	debugfs_remove(vs_debugfs_root);
}

module_init(vs_init);
module_exit(vs_exit);
MODULE_DEVICE_TABLE(virtio, vs_id_table);
MODULE_DESCRIPTION("vshape predictive virtio-balloon driver");
MODULE_LICENSE("GPL");
