#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lifecycle suite: live imports when what they depend on goes away
# (p2pmap_lifecycle_test.c): PCI remove of the exporter under traffic
# (bounded revoke, clean errors, SIGBUS on the CPU mapping, rescan brings it
# back), module unload refused while in use and revoking linked imports once
# allowed (then loaded again with the same parameters), kill -9 in the
# middle of imports. Runs on the switch topology, late: it removes and
# re-adds a GPU.
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
export P2PGPU_PARAMS="window_mb=1 min_residency_ms=0"
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pmap_edu_importer" \
	/tests/bin/p2pmap_lifecycle_test 'p2pmap|p2pgpu|pci'
