#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# stress suite: the BAR path under stress (p2pmap_stress_test.c): edu copies
# through an import while CPU faults evict its pages and other imports are
# created and destroyed; an import bigger than the window settling without
# evicting its own pages; kill -9 and exit with live imports mid-transfer; rmmod of
# the importer with live imports (refused); unbinding the exporter while
# another process copies (bounded revoke, clean errors, rebind).
#
# p2pgpu gets a 1 MiB window (256 pages, so two 1 MiB objects touched by
# the CPU keep evicting everything) and min_residency_ms=0, so nothing
# shields a page from eviction: the CPU and the edu evict each other's
# pages freely and every exporter event reaches live imports. (The peer
# suite uses 60 s instead, to make exhaustion deterministic.)
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pmap_edu_importer" \
	/tests/bin/p2pmap_stress_test 'p2pmap|p2pgpu'
