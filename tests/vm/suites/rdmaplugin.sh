#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rdmaplugin suite: libp2pmap-rdma and its LD_PRELOAD shim on Soft-RoCE
# (rdma_rxe on a veth) with p2pgpu objects (p2pmap_rdma_vmtest, built from
# rdma-plugin/tests/vmtest.c): host memory gets a VA MR; an object's
# mapping is exported as a dma-buf, rxe refuses the dma-buf MR with
# EOPNOTSUPP (Linux 6.1's rxe has no dma-buf MRs) and the library falls back
# to a VA MR (p2pgpu's CPU mappings are struct-page backed, so rxe pins
# them), saying so; the same through the publish node (perftest's --mmap)
# and a dma-buf mmap; REQUIRE_DMABUF fails cleanly; the shim routes an
# unmodified program's ibv_reg_mr() on the object through the library and
# passes host memory through. rxe0 and the veth pair are removed afterwards.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
if ! rxe_up; then
	tap_plan 1
	tap_fail "rdma_rxe on veth0"
	rxe_down
	exit 1
fi
run_module_test "p2pmap p2pgpu" /tests/bin/p2pmap_rdma_vmtest 'p2pgpu|rxe'
rc=$?
rxe_down
exit $rc
