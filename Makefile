# SPDX-License-Identifier: GPL-2.0
#
# p2pmap top-level Makefile. Two commands matter (see README.md):
#   make demo    boot the test VM and show what p2pmap can do today
#   make check   run every test layer (installs what is missing, builds the
#                cached test kernel, boots the VMs)
#
# Everything else is a building block of those two:
#   make deps            install missing Debian packages
#   make kernel          build or find the cached test kernel
#   make modules         modules against the test kernel (W=1, sparse, -g)
#   make modules-stock   modules against Debian's stock 6.1 headers
#   make checkpatch      checkpatch --strict over our kernel sources
#   make depgraph        which file calls which, in the core and in p2pgpu; fails on a cycle
#   make unit            userland unit tests (ASan + UBSan)
#   make userspace       library and tools (-Wall -Wextra -Werror)
#   make selftests       static test programs for the VM (incl. hmm-tests)
#   make vm-prereqs-7.3  the 7.3 debug test kernel (linux-source-7.3 + our
#                        fragment + tests/vm/patches/7.3), modules against
#                        it, test programs incl. 7.3's hmm-tests
#   make rdma-plugin     libp2pmap-rdma + LD_PRELOAD shim, host unit tests
#   make abi-check       versioned exports only (objdump -T), C++ header test
#   make install         libraries, headers, .pc, tools, man pages, udev rule
#                        [DESTDIR= PREFIX=/usr/local LIBDIR= ...: mk/dirs.mk]
#   make uninstall       remove what make install installed (same variables)
#   make packages        Debian packages (dpkg-buildpackage) + lintian:
#                        out/packages/
#   make dkms-check      dkms build of p2pmap-dkms (private DKMS tree) for
#                        the test kernel and the stock 6.1 headers
#   make peermem         compile test of the MLNX_OFED peer-memory client
#   make vm TOPOLOGY=switch|rootbus|mixed SUITES=a,b [VMFLAGS=--shell]
#   make vm-shell        boot the VM and get a shell
#   make fuzz            p2pgpu_fuzz campaign in the VM, both topologies
#                        (FUZZ_SECS, FUZZ_ROUNDS, FUZZ_SEED, FUZZ_TOPOLOGIES)
#   make bench           run the full benchmark in the VM (not a test):
#                        out/bench/bench.json, .txt and docs/benchmarks.md
#   make bench-rdma      perftest on host, BAR and fallback memory in the VM:
#                        docs/rdma-benchmarks.md and .png; ODP MRs on
#                        Debian's stock 7.3 (the release kernel) with the
#                        ODP invalidate-to-refault latency (KERNEL=test:
#                        pinned MRs on the 6.1 test kernel)
#   make vm-pair         two VMs on one socket network: RDMA from GPU memory
#                        in one into GPU memory in the other
#   make clean

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
OUT := $(ROOT)/out
VM := $(ROOT)/tests/vm
TOPOLOGY ?= switch
SUITES ?= modload
VMFLAGS ?=

# Path of the cached test kernel source tree (extracted by build-kernel.sh).
KSRC = $(shell bash -c '. $(VM)/lib/common.sh; ksrc_dir')

.PHONY: all deps kernel modules modules-stock checkpatch depgraph unit userspace \
	selftests selftests-7.3 hmm-tests-7.3 modules-7.3 vm-prereqs-7.3 vm-prereqs vm vm-shell vm-pair check demo bench bench-rdma bench-rdma-prereqs-newer \
	clean help rdma-plugin peermem abi-check install uninstall packages \
	dkms-check fuzz

all: modules userspace

help:
	@sed -n '3,40p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

deps:
	@bash $(ROOT)/scripts/install-deps.sh

kernel: deps
	@bash $(VM)/build-kernel.sh >/dev/null

modules: kernel
	@bash $(ROOT)/scripts/build-modules.sh test

modules-stock: deps
	@bash $(ROOT)/scripts/build-modules.sh stock

checkpatch: kernel
	@bash $(ROOT)/scripts/checkpatch.sh

depgraph:
	@bash $(ROOT)/scripts/depgraph.sh

unit:
	@$(MAKE) -s -C $(ROOT)/tests/unit check

userspace:
	@if [ -f $(ROOT)/userspace/Makefile ]; then $(MAKE) -s -C $(ROOT)/userspace; fi

selftests: kernel
	@$(MAKE) -s -C $(ROOT)/tests/selftests KSRC=$(KSRC) OUT=$(OUT)/bin

# The 7.3 debug test kernel (built from linux-source-7.3 with our fragment
# and tests/vm/patches/7.3), the modules built against it, and the test
# programs built from its tree, including its own hmm-tests: all that
# `run.sh --kernel 7.3` (and `make demo`) needs, without the 6.1 kernel.
KSRC73 = $$(bash $(VM)/fetch-kernels.sh 7.3 | awk '{ print $$2 }')/src
modules-7.3: deps
	@bash $(ROOT)/scripts/build-modules.sh 7.3

selftests-7.3: deps
	@$(MAKE) -s -C $(ROOT)/tests/selftests all hmm-tests-newer SERIES=7.3 \
		OUT=$(OUT)/bin KSRC=$(KSRC73)

hmm-tests-7.3: deps
	@$(MAKE) -s -C $(ROOT)/tests/selftests hmm-tests-newer SERIES=7.3 \
		OUT=$(OUT)/bin KSRC=$(KSRC73)

vm-prereqs-7.3: modules-7.3 selftests-7.3

rdma-plugin: deps
	@$(MAKE) -s -C $(ROOT)/rdma-plugin check

abi-check:
	@bash $(ROOT)/scripts/abi-check.sh

# Variables given on the command line (PREFIX, LIBDIR, DESTDIR, CFLAGS, ...)
# reach both sub-makes through MAKEFLAGS.
install uninstall:
	@$(MAKE) -C $(ROOT)/userspace $@
	@$(MAKE) -C $(ROOT)/rdma-plugin $@

packages:
	@bash $(ROOT)/scripts/build-packages.sh

dkms-check: packages kernel
	@bash $(ROOT)/scripts/dkms-check.sh

peermem: kernel
	@bash $(ROOT)/rdma-plugin/peermem/build.sh

vm-prereqs: modules selftests

vm: vm-prereqs
	@bash $(VM)/run.sh --topology $(TOPOLOGY) --suites $(SUITES) $(VMFLAGS)

vm-shell: vm-prereqs
	@bash $(VM)/run.sh --topology $(TOPOLOGY) --suites $(SUITES) --shell

vm-pair: vm-prereqs
	@bash $(VM)/run-pair.sh --topology $(TOPOLOGY)

check:
	@bash $(ROOT)/scripts/check.sh

demo:
	@bash $(ROOT)/scripts/demo.sh

bench: vm-prereqs
	@bash $(ROOT)/tests/bench/run-bench.sh

fuzz: vm-prereqs
	@bash $(VM)/fuzz-campaign.sh

# KERNEL=7.3-stock (default; or 7.3): ODP MRs, with the modules built for
# that kernel and the test programs of `make selftests`; KERNEL=test:
# pinned MRs on the 6.1 test kernel.
KERNEL ?= 7.3-stock
bench-rdma: $(if $(filter test,$(KERNEL)),vm-prereqs,bench-rdma-prereqs-newer)
	@bash $(ROOT)/tests/bench/run-rdma-bench.sh --kernel $(KERNEL)

bench-rdma-prereqs-newer: selftests
	@bash $(ROOT)/scripts/build-modules.sh $(KERNEL)

clean:
	rm -rf $(OUT)
	-$(MAKE) -s -C $(ROOT)/userspace clean
	-$(MAKE) -s -C $(ROOT)/rdma-plugin clean
	-$(MAKE) -s -C $(ROOT)/tests/unit clean
