#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# p2pdma suite: the edu DMA engine moves data into and out of an ivshmem-plain
# BAR2 through the kernel's P2PDMA API (p2pdma_edu.ko + p2pdma_edu_test).
# When the pair has a P2P route (p2pmapctl: bus_addr) every transfer must
# arrive byte for byte; without one the kernel must refuse the mapping
# (EREMOTEIO) and no DMA may run.
# The TAP on stdout is the test program's own; this script adds only "# "
# diagnostics after it, and fails the suite if the module does not unload.
. /suites/lib.sh
# the provider and the edu client: a pair with a P2P route if there is one
p2pmap_devices edu
set -- $P2PMAP_GPUS
run_module_test "p2pdma_edu:provider=${1:-none},client=${P2PMAP_EDU:-none}" \
	/tests/bin/p2pdma_edu_test 'p2pdma_edu|peer-to-peer'
