#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pair suite: one half of the two-VM RDMA test (tests/vm/run-pair.sh). The
# two VMs share a QEMU socket network; each puts Soft-RoCE (rxe0) on its
# virtio-net NIC and loads p2pmap and p2pgpu. The VM booted with
# p2pmap.net=listen is B (10.1.0.2, the target), the one with
# p2pmap.net=connect is A (10.1.0.1, the source): p2pgpu_rdma_pair in A
# RDMA-writes a p2pgpu object of its GPU into a p2pgpu object of B's GPU,
# and B checks every byte through its object's CPU mapping: pinned MRs with
# BAR placement on 6.1, ODP MRs on kernels whose GUP refuses P2PDMA pages,
# with B evicting the target's pages mid-transfer. The TAP is
# p2pgpu_rdma_pair's own.
. /suites/lib.sh
IP=/usr/sbin/ip
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
mode=
for arg in $(cat /proc/cmdline); do
	case "$arg" in p2pmap.net=*) mode=${arg#*=} ;; esac
done
case "$mode" in
listen) me=10.1.0.2 args="server rxe0" ;;
connect) me=10.1.0.1 args="client rxe0 10.1.0.2" ;;
*)
	tap_plan 1
	tap_fail "pair: no p2pmap.net=listen|connect (run it with tests/vm/run-pair.sh)"
	tap_done ;;
esac
nic=
for d in /sys/class/net/*; do
	[ -e "$d/device" ] && nic=${d##*/} && break
done
if [ -z "$nic" ] || ! $IP link set lo up || ! $IP link set "$nic" up ||
	! $IP addr add $me/24 dev "$nic" || ! modprobe rdma_rxe ||
	! rdma link add rxe0 type rxe netdev "$nic"; then
	tap_plan 1
	tap_fail "pair: rxe0 on the virtio-net NIC '${nic:-none}' as $me"
	tap_done
fi
# Pinned MRs where the kernel lets get_user_pages() pin P2PDMA pages
# (p2pmap's feature gup_p2pdma_pin; 6.1), else ODP MRs with eviction of the
# target mid-transfer (p2pgpu min_residency_ms=0, a 1 MiB window).
mods="p2pmap p2pgpu"
insmod /tests/modules/p2pmap.ko 2>/dev/null
if grep -q '^gup_p2pdma_pin no' /sys/module/p2pmap/features 2>/dev/null; then
	args="--odp $args"
	mods="p2pmap p2pgpu:window_mb=1,min_residency_ms=0"
fi
rmmod p2pmap 2>/dev/null
tap_diag "pair: $mode side, rxe0 on $nic ($me), kernel $(uname -r): p2pgpu_rdma_pair $args"
printf '#!/bin/sh\nexec timeout 300 /tests/bin/p2pgpu_rdma_pair %s\n' "$args" > /tmp/pair
chmod +x /tmp/pair
run_module_test "$mods" /tmp/pair 'p2pgpu|rxe'
rc=$?
rdma link delete rxe0 2>/dev/null
exit $rc
