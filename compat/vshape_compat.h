/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences of vshape_guest.ko and vshape_host.ko, kept
 * in one place (both modules have compat/ on their include path).  The
 * VS_HAVE_* macros come from the header probes in compat/probes.mk.
 * vshape_guest builds against Debian's 6.1 and 6.12 kernels; vshape_host
 * needs 6.4 or later and host/Kbuild skips it elsewhere.
 */
#ifndef _VSHAPE_COMPAT_H
#define _VSHAPE_COMPAT_H

#include <linux/virtio_config.h>

/*
 * Linux 6.11 replaced the parallel callbacks[] and names[] arrays of
 * virtio_find_vqs() with one array of struct virtqueue_info.  Kbuild
 * defines VS_HAVE_VQ_INFO by looking for that struct in the headers, so
 * a distribution backport is detected too (compat/probes.mk).
 */

struct vs_vq_desc {
	const char *name;
	vq_callback_t *callback;
};

static inline int vs_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			      struct virtqueue *vqs[],
			      const struct vs_vq_desc *desc)
{
#ifdef VS_HAVE_VQ_INFO
	struct virtqueue_info info[8] = {};
	unsigned int i;

	if (nvqs > ARRAY_SIZE(info))
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
		info[i].name = desc[i].name;
		info[i].callback = desc[i].callback;
	}
	return virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
#else
	vq_callback_t *callbacks[8];
	const char *names[8];
	unsigned int i;

	if (nvqs > ARRAY_SIZE(names))
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
		names[i] = desc[i].name;
		callbacks[i] = desc[i].callback;
	}
	return virtio_find_vqs(vdev, nvqs, vqs, callbacks, names, NULL);
#endif
}

#endif /* _VSHAPE_COMPAT_H */
