# SPDX-License-Identifier: GPL-2.0
#
# vshape top-level Makefile.
#
#   make                 build the modules for KDIR (default: running kernel)
#   make KVER=<ver>      build against /lib/modules/<ver>/build
#   make demo            set up, boot a VM, move the balloon, show numbers
#   make check           set up and run every test (last line: N passed, N failed)
#
# Kernel objects are built by kbuild from ./Kbuild.  Builds for the Debian
# test kernels go to build/<kver>/ so that both kernels can coexist.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

.PHONY: all modules clean install insmod rmmod setup kmods unit lint check demo bench

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build
	$(MAKE) -C predictor clean 2>/dev/null || true

install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install
	depmod -a $(KVER)

insmod: modules
	insmod ./vshape_guest.ko

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

demo: setup
	scripts/demo

bench: setup
	scripts/bench
