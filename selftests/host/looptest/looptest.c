// SPDX-License-Identifier: GPL-2.0
/*
 * vshape_looptest: a minimal virtio-balloon driver for the loopback test.
 *
 * It negotiates MUST_TELL_HOST and VSHAPE only (no stats queue), so the
 * shaping queue is queue 2, and drives it through guest/shaping.c, whose
 * debugfs test mode the selftest uses.  Test code, not a balloon: it
 * never inflates on its own.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_balloon.h>

#include "vshape_guest.h"
#include "vshape_compat.h"
#include "shaping.h"

static int vlt_probe(struct virtio_device *vdev)
{
	struct vs_vq_desc desc[3] = {
		{ "inflate", NULL },
		{ "deflate", NULL },
		{ "shaping", vsg_shaping_vq_done },
	};
	struct virtqueue *vqs[3];
	struct vsg_dev *vs;
	int ret;

	if (!virtio_has_feature(vdev, VIRTIO_BALLOON_F_VSHAPE))
		return -ENODEV;
	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return -ENOMEM;
	vs->vdev = vdev;
	vdev->priv = vs;
	ret = vs_find_vqs(vdev, 3, vqs, desc);
	if (ret)
		goto err_free;
	ret = vsg_shaping_init(vs, vqs[2]);
	if (ret)
		goto err_del;
	virtio_device_ready(vdev);
	return 0;

err_del:
	vdev->config->del_vqs(vdev);
err_free:
	vdev->priv = NULL;
	kfree(vs);
	return ret;
}

static void vlt_remove(struct virtio_device *vdev)
{
	struct vsg_dev *vs = vdev->priv;

	virtio_reset_device(vdev);
	vsg_shaping_remove(vs);
	vdev->config->del_vqs(vdev);
	vdev->priv = NULL;
	kfree(vs);
}

static unsigned int vlt_features[] = {
	VIRTIO_BALLOON_F_MUST_TELL_HOST,
	VIRTIO_BALLOON_F_VSHAPE,
};

static const struct virtio_device_id vlt_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct virtio_driver vlt_driver = {
	.feature_table = vlt_features,
	.feature_table_size = ARRAY_SIZE(vlt_features),
	.driver.name = "vshape_looptest",
	.id_table = vlt_id_table,
	.probe = vlt_probe,
	.remove = vlt_remove,
};
module_virtio_driver(vlt_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vshape loopback test driver (shaping queue only)");
