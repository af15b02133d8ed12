# SPDX-License-Identifier: GPL-2.0
#
# vshape top-level Makefile.
#
#   make                 build the modules for KDIR (default: running kernel)
#   make KVER=<ver>      build against /lib/modules/<ver>/build
#   make guest | host    build one module alone (guest/Kbuild, host/Kbuild)
#   make install         modules_install + depmod; INSTALL_MOD_PATH=<root>
#                        installs under <root> and runs depmod there
#   make dkms-install    both modules through DKMS for KVER (and, by
#                        AUTOINSTALL, every later kernel); DKMS_PACKAGES=
#                        vshape-guest or vshape-host for one of them
#   make dkms-remove     remove them from DKMS
#   make demo            set up, boot a VM, move the balloon, show numbers
#   make check           set up and run every test (last line: N passed, N failed)
#   make check-mutants   build deliberate faults and check the suites catch them
#   make check-debug     host suites on a debug 6.12 kernel built here (hours)
#
# Kernel objects are built by kbuild from ./Kbuild, which descends into
# guest/ and host/.  Builds for the Debian test kernels go to build/<kver>/
# (scripts/build-kmods) so that both kernels can coexist.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

.PHONY: all modules guest host clean install dkms-install dkms-remove insmod rmmod setup kmods unit lint check check-mutants check-debug demo bench

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

guest host:
	$(MAKE) -C $(KDIR) M=$(PWD)/$@ modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build
	$(MAKE) -C predictor clean 2>/dev/null || true

# kbuild installs under $(INSTALL_MOD_PATH)/lib/modules/<release of KDIR>/
# but skips depmod when the headers have no System.map (Debian's do not):
# run it for that release and that root.  The release is UTS_RELEASE (the
# modules' vermagic): Debian 6.1's kernel.release holds the upstream one.
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h)
install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)

# scripts/dkms-vshape: packages vshape-guest and vshape-host (dkms.conf in
# guest/ and host/), sources under /usr/src/vshape-{guest,host}-<version>/.
dkms-install:
	DKMS_KVERS="$(KVER)" scripts/dkms-vshape install $(DKMS_PACKAGES)

dkms-remove:
	scripts/dkms-vshape remove $(DKMS_PACKAGES)

insmod: modules
	insmod ./guest/vshape_guest.ko

rmmod:
	rmmod vshape_guest

# Install build and test dependencies from Debian's archive (idempotent).
setup:
	scripts/setup

# Build modules for every Debian kernel installed by setup (build/<kver>/).
kmods:
	scripts/build-kmods

unit:
	$(MAKE) -C predictor test
	$(MAKE) -C tools test

lint:
	scripts/lint

check: setup
	scripts/check

# Separate from check: one suite run per mutant, about 10 minutes each;
# SET_MAP_LOCKED needs the debug kernel built (docs/testing.md).
check-mutants: setup
	scripts/check-mutants

# Builds a debug kernel first: hours of CPU (docs/testing.md).
check-debug: setup
	scripts/check-debug

demo: setup
	scripts/demo

bench: setup
	scripts/bench
