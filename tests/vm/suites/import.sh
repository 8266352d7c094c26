#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# import suite: p2pmap's importer API on ordinary memory
# (p2pmap.ko + p2pmap_edu_importer.ko + p2pmap_import_test). The test module
# attaches the edu DMA engine as a p2pmap importer; the test imports
# anonymous memory and checks, byte for byte, what the edu reads and writes
# through the imports, the placement report, invalidation by MADV_DONTNEED,
# mprotect, munmap and fork/COW, the errno of each refusal, cleanup of a
# killed process's imports, and transfers racing invalidations. The TAP on
# stdout is the test program's own; this script adds only "# " diagnostics
# after it, and fails the suite if a module does not unload.
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
run_module_test "p2pmap p2pmap_edu_importer" /tests/bin/p2pmap_import_test 'p2pmap'
