#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# p2pdma suite: the edu DMA engine moves data into and out of an ivshmem-plain
# BAR2 through the kernel's P2PDMA API (p2pdma_edu.ko + p2pdma_edu_test).
# With P2PMAP_TOPOLOGY=switch every transfer must arrive byte for byte; with
# rootbus the kernel must refuse the mapping (EREMOTEIO) and no DMA may run.
# The TAP on stdout is the test program's own; this script adds only "# "
# diagnostics after it, and fails the suite if the module does not unload.
. /suites/lib.sh
run_module_test "p2pdma_edu" /tests/bin/p2pdma_edu_test 'p2pdma_edu|peer-to-peer'
