#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# failnth_export suite: fail-nth sweeps over /dev/p2pmap's EXPORT_RANGE
# (ordinary memory and a range of the other GPU's object) and the attach
# of what it exports by a dynamic, a revocable pinned and a static importer
# (p2pmap_dmabuf_failnth.c). Each injected failure must give a clean errno
# and leave no descriptor, attachment or pin; the health suite's kmemleak
# scan catches leaks. Switch only, like the other fail-nth suites.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
# the importer is the edu (p2pgpu_dmabuf_test), the provider a GPU of the
# pair p2pmap_devices picks
p2pmap_devices edu
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pgpu_dmabuf_test" \
	/tests/bin/p2pmap_dmabuf_failnth 'p2pmap|p2pgpu|dmabuf|FAULT_INJECTION'
