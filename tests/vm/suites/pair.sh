#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pair suite: one half of the two-VM RDMA test (tests/vm/run-pair.sh). The
# two VMs share a QEMU socket network; each puts Soft-RoCE (rxe0) on its
# virtio-net NIC and loads p2pmap and p2pgpu. The VM booted with
# p2pmap.net=listen is B (10.1.0.2, the target), the one with
# p2pmap.net=connect is A (10.1.0.1, the source): p2pgpu_rdma_pair in A
# RDMA-writes a p2pgpu object of its GPU into a p2pgpu object of B's GPU,
# both MRs with BAR placement, and B checks every byte through its object's
# CPU mapping. The TAP is p2pgpu_rdma_pair's own.
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
tap_diag "pair: $mode side, rxe0 on $nic ($me)"
printf '#!/bin/sh\nexec timeout 300 /tests/bin/p2pgpu_rdma_pair %s\n' "$args" > /tmp/pair
chmod +x /tmp/pair
run_module_test "p2pmap p2pgpu" /tmp/pair 'p2pgpu|rxe'
rc=$?
rdma link delete rxe0 2>/dev/null
exit $rc
