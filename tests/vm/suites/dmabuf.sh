#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dmabuf suite: p2pgpu as a dynamic dma-buf exporter (p2pgpu_prime.c),
# through the in-kernel edu importer p2pgpu_dmabuf_test.ko: move_notify when
# CPU pressure evicts an unpinned dynamic mapping, re-map and edu DMA both
# ways, two importers notified by one eviction, static and dma_buf_pin()ned
# importers never notified, a static pin moving a dynamic mapping out of
# the window, BO_FROM_VA / BO_DMABUF_INFO / EXPORT_RANGE bad input, a
# process killed while attached, and EXPORT_RANGE (the core's range
# exporter, kernel/core/dmabuf.c) of a range of the other GPU's object and
# of ordinary memory: move_notify from the worker after MADV_DONTNEED and
# munmap, re-map to the new pages, static and pinned importers keeping
# theirs (p2pgpu_dmabuf_dyn_test.c). Through the switch the dynamic
# importer maps the window; on the root bus it gets system pages and must
# never be notified. p2pgpu gets a 1 MiB window and no minimum residency.
# Lock order resv -> device lock and the trylock on the eviction path are
# checked by lockdep on the debug kernel (a splat fails the run).
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pgpu_dmabuf_test" \
	/tests/bin/p2pgpu_dmabuf_dyn_test 'p2pgpu|dmabuf'
