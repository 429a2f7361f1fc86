# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build wrapper. Plain "make" builds okvm.ko for the running
# kernel (DKMS style). Cross build example:
#   make KDIR=/path/to/linux-build ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
# ARCH, CROSS_COMPILE, W, C and OKVM_CFLAGS given on the command line are
# passed on to Kbuild by make itself.

KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all modules clean check

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Extra warnings (W=1) and sparse (C=1) on every object.
check:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=1 modules
