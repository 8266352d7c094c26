#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two test VMs joined by a QEMU socket network (run.sh --net), each with
# Soft-RoCE on its virtio-net NIC and p2pgpu: VM A RDMA-writes from its GPU
# memory into VM B's GPU memory and B verifies the data (suite pair,
# program p2pgpu_rdma_pair). The GPUDirect RDMA picture end to end, with
# Soft-RoCE standing in for the NICs.
main() {
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

usage() {
	cat <<'USAGE'
NAME
    run-pair.sh - RDMA between the GPU memories of two test VMs

SYNOPSIS
    tests/vm/run-pair.sh [--topology switch|rootbus] [--kernel test|7.3] [--timeout SEC]

DESCRIPTION
    Boots VM B (run.sh --net listen:PORT, name pair-b) and, once its QEMU
    listens, VM A (--net connect:PORT, name pair-a), both with the pair
    suite, and waits for both verdicts. Build first with `make vm-prereqs`
    (and, for --kernel 7.3, `scripts/build-modules.sh 7.3`). Results in
    out/vm/pair-a and out/vm/pair-b (pair73-a, pair73-b for 7.3).

    --kernel test (default) boots the 6.1 debug test kernel: pinned MRs.
    --kernel 7.3 boots the 7.3 debug test kernel: ODP MRs, with VM B
    evicting the target's pages mid-transfer.

EXIT STATUS
    0 both VMs passed; 1 otherwise; 2 usage
USAGE
}
TOPOLOGY=switch TIMEOUT=900 KERNEL=test
while [ $# -gt 0 ]; do
	case "$1" in
	--topology) TOPOLOGY=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--kernel) KERNEL=${2:?}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-pair.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$KERNEL" in
test) pfx=pair ;;
7.3) pfx=pair73 ;;
*) echo "run-pair.sh: --kernel test or 7.3" >&2; exit 2 ;;
esac
port=$((20000 + RANDOM % 20000))
bash "$P2PMAP_ROOT/tests/vm/run.sh" --name $pfx-b --topology "$TOPOLOGY" --kernel "$KERNEL" \
	--suites pair --net "listen:$port" --timeout "$TIMEOUT" &
b=$!
i=0
while [ $i -lt 120 ] && kill -0 $b 2>/dev/null &&
	! ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port "; do
	sleep 1
	i=$((i + 1))
done
bash "$P2PMAP_ROOT/tests/vm/run.sh" --name $pfx-a --topology "$TOPOLOGY" --kernel "$KERNEL" \
	--suites pair --net "connect:$port" --timeout "$TIMEOUT"
arc=$?
wait $b
brc=$?
log "$pfx: VM A rc=$arc, VM B rc=$brc"
[ $arc -eq 0 ] && [ $brc -eq 0 ]
}
main "$@"
exit $?
