#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rdmaplugin suite: libp2pmap-rdma and its LD_PRELOAD shim on Soft-RoCE
# (rdma_rxe on a veth) with p2pgpu objects (p2pmap_rdma_vmtest, built from
# rdma-plugin/tests/vmtest.c). The registration the library must choose is
# derived in the test from what the kernel and rxe really do (a dma-buf MR
# attempt on the object's dma-buf, ibv_query_device_ex() odp_caps,
# /sys/module/p2pmap/features): on the 6.1 test kernel a VA MR (rxe has
# neither dma-buf MRs nor ODP there, the kernel pins P2PDMA pages), on
# Debian's stock 7.3 an ODP MR (rxe ODP, odp_p2pdma yes, gup_p2pdma_pin no).
# Data is moved through the MR (RDMA WRITE and READ, MTU 4096, aligned) and
# checked through the object's mapping; render-node, publish-node and
# dma-buf mappings and a dma-buf fd; REQUIRE_DMABUF; the shim routes an
# unmodified program's ibv_reg_mr() on the object through the library,
# with the same choice, and passes host memory through. rxe0 and the veth
# pair are removed afterwards.
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
