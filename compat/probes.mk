# SPDX-License-Identifier: GPL-2.0
#
# Kernel feature probes shared by the Kbuild files of guest/, host/ and
# selftests/host/looptest/ (compat/vshape_compat.h uses the results).  A
# probe greps the headers of the kernel being built against, so that a
# distribution backport is detected as well as a version number would be.

# this directory, wherever the including Kbuild is
vs-compat-dir := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
ccflags-y += -I$(vs-compat-dir)

# Linux 6.11: virtio_find_vqs() takes one array of struct virtqueue_info.
ifneq ($(shell grep -s 'struct virtqueue_info {' $(srctree)/include/linux/virtio_config.h),)
ccflags-y += -DVS_HAVE_VQ_INFO
endif

# Linux 6.4: vdpa_config_ops.bind_mm (a device that works on the VMM's
# virtual addresses).  vshape_host.ko needs it; host/Kbuild tests this.
vs-have-vdpa-bind-mm := $(shell grep -s 'bind_mm' $(srctree)/include/linux/vdpa.h)
