#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# peer suite: the edu DMA engine (p2pmap_edu_importer.ko) imports the CPU
# mappings of p2pgpu buffer objects through p2pmap and moves data through
# them: P2P placement when the GPU and the edu have a route (the pair
# p2pmap_devices picks, one with a route if there is one), system memory
# without,
# eviction while imported, BAR-window exhaustion falling back page by page,
# REQUIRE_P2P, and unbinding the exporter under a live import. p2pgpu gets
# a 1 MiB window and a 60 s minimum residency so exhaustion is
# deterministic (see p2pmap_peer_test.c).
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=60000 p2pmap_edu_importer" \
	/tests/bin/p2pmap_peer_test 'p2pmap|p2pgpu'
