#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# export suite: /dev/p2pmap's EXPORT_RANGE, p2pmap.ko's own dma-buf export
# of a VA range (kernel/core/uapi.c on kernel/core/dmabuf.c), through the
# in-kernel edu importer p2pgpu_dmabuf_test.ko (p2pmap_dmabuf_test.c): bad
# input and access checks, a read-only source staying read-only, a dynamic
# importer re-mapping after invalidate_mappings (move_notify before 7.1)
# with the bytes checked both ways, ranges of ordinary, provider (the
# other GPU's object) and device-private memory, a revocable pinned
# importer revoked by the provider's unbind (7.1 and later; never told
# before), a process killed mid-export. p2pgpu gets a 1 MiB window and no
# minimum residency.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
# the importer is the edu (p2pgpu_dmabuf_test), the provider a GPU of the
# pair p2pmap_devices picks
p2pmap_devices edu
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pgpu_dmabuf_test" \
	/tests/bin/p2pmap_dmabuf_test 'p2pmap|p2pgpu|dmabuf'
