#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# failnth_dmabuf suite: fail-nth sweeps over p2pgpu's dma-buf export paths
# (p2pgpu_dmabuf_failnth.c): BO_FROM_VA, the edu importer's ATTACH as a
# static, dynamic and pinned importer, and a re-map after move_notify. Each
# injected failure must give a clean errno and leave no pin, live mapping
# or attachment; the health suite's kmemleak scan catches leaks. Without a
# P2P route (the root bus) the re-map sweep skips: nothing moves there.
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pgpu_dmabuf_test" \
	/tests/bin/p2pgpu_dmabuf_failnth 'p2pgpu|dmabuf|FAULT_INJECTION'
