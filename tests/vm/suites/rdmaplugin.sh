#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rdmaplugin suite: libp2pmap-rdma and its LD_PRELOAD shim on Soft-RoCE
# (rdma_rxe on a veth) with p2pgpu objects (p2pmap_rdma_vmtest, built from
# rdma-plugin/tests/vmtest.c): host memory gets a VA MR; an object's
# mapping is exported as a dma-buf, rxe refuses the dma-buf MR with
# EOPNOTSUPP (Linux 6.1's rxe has no dma-buf MRs) and the library falls back
# to a VA MR, saying so; REQUIRE_DMABUF fails cleanly; the shim routes an
# unmodified program's ibv_reg_mr() on the object through the library and
# passes host memory through. The VA MR on the object needs struct-page
# backed mappings; while p2pgpu's are VM_PFNMAP it is refused, and those
# checks are explained skips (rdmaplugin.skips). rxe0 and the veth pair are
# removed afterwards.
. /suites/lib.sh
IP=/usr/sbin/ip
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
rdma link delete rxe0 2>/dev/null
$IP link del veth0 2>/dev/null
if ! modprobe rdma_rxe || ! $IP link add veth0 type veth peer name veth1 ||
	! $IP addr add 10.0.0.1/24 dev veth0 || ! $IP link set veth0 up ||
	! $IP link set veth1 up || ! rdma link add rxe0 type rxe netdev veth0; then
	tap_plan 1
	tap_fail "rdma_rxe on veth0"
	exit 1
fi
run_module_test "p2pmap p2pgpu" /tests/bin/p2pmap_rdma_vmtest 'p2pgpu|rxe'
rc=$?
rdma link delete rxe0 2>/dev/null
$IP link del veth0 2>/dev/null
exit $rc
