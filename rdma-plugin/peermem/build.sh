#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile test of the peer-memory client (make peermem): builds
# p2pmap_peermem.o with W=1 and sparse against the p2pmap test kernel and
# Debian's stock headers, and fails on any diagnostic in our sources. Only
# the object is built: without MLNX_OFED, ib_core does not export
# ib_register_peer_memory_client(), so the module could not link or load.
# With MLNX_OFED installed (/usr/src/ofa_kernel/default/include), its own
# <rdma/peer_mem.h> is used instead of the mirrored one.
#
# usage: rdma-plugin/peermem/build.sh [test|stock]...   (default: both)
set -euo pipefail
. "$(dirname "$0")/../../tests/vm/lib/common.sh"

OFED=/usr/src/ofa_kernel/default/include
[ -f "$OFED/rdma/peer_mem.h" ] || OFED=
for flavour in "${@:-test stock}"; do
	for f in $flavour; do
		case "$f" in
		test) KDIR=$("$P2PMAP_ROOT/tests/vm/build-kernel.sh") ;;
		stock) KDIR=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
			[ -n "$KDIR" ] || die "no /usr/src/linux-headers-6.1.*-amd64" ;;
		*) die "unknown flavour $f" ;;
		esac
		B=$P2PMAP_OUT/build-peermem-$f
		mkdir -p "$B/src/rdma-plugin" "$B/src/kernel"
		rsync -a --delete "$P2PMAP_ROOT/rdma-plugin/peermem/" "$B/src/rdma-plugin/peermem/"
		rsync -a --delete "$P2PMAP_ROOT/kernel/include/" "$B/src/kernel/include/"
		M=$B/src/rdma-plugin/peermem
		set +e
		make -C "$KDIR" M="$M" W=1 C=1 CHECK=sparse OFED_INCLUDE="$OFED" \
			CF="-D__CHECK_ENDIAN__ -fdiagnostic-prefix" p2pmap_peermem.o \
			> "$B/build.log" 2>&1
		rc=$?
		set -e
		if [ $rc -ne 0 ] || grep -qE "^$B/src/[^:]+:[0-9]+(:[0-9]+)?: (warning|error|sparse)" "$B/build.log"; then
			sed "s|$B/src/||" "$B/build.log" | grep -v '^make\[' | tail -40 >&2
			die "peermem ($f): compile test failed (rc=$rc)"
		fi
		[ -f "$M/p2pmap_peermem.o" ] || die "peermem ($f): no object built"
		log "peermem ($f): p2pmap_peermem.o against $KDIR (${OFED:-mirrored peer_mem.h}), W=1 + sparse clean; compile test only, untested on MLNX_OFED and hardware"
	done
done
