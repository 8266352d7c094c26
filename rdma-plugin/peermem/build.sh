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
# usage: rdma-plugin/peermem/build.sh [FLAVOUR]...   (default: test stock)
#   FLAVOUR: test, stock, 6.12, 7.3, 6.12-stock, 7.3-stock (see kdir_for in
#   tests/vm/lib/common.sh). Diagnostics are matched with absolute paths
#   and with the M=-relative paths 7.3 prints; when the kernel turns C=1
#   off the result says sparse did not run.
set -euo pipefail
. "$(dirname "$0")/../../tests/vm/lib/common.sh"

OFED=/usr/src/ofa_kernel/default/include
[ -f "$OFED/rdma/peer_mem.h" ] || OFED=
for flavour in "${@:-test stock}"; do
	for f in $flavour; do
		KDIR=$(kdir_for "$f")
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
		our_diagnostics "$B/build.log" "$B/src" > "$B/diagnostics.txt"
		if [ $rc -ne 0 ] || [ -s "$B/diagnostics.txt" ]; then
			sed "s|$B/src/||" "$B/build.log" | grep -v '^make\[' | tail -40 >&2
			die "peermem ($f): compile test failed (rc=$rc)"
		fi
		[ -f "$M/p2pmap_peermem.o" ] || die "peermem ($f): no object built"
		if grep -q 'C=1 specified, but sparse is not available' "$B/build.log" ||
			! grep -qE '^  CHECK +' "$B/build.log"; then
			sp="W=1 clean; *** SPARSE DID NOT RUN ($(grep -m1 -o 'C=1 specified.*' "$B/build.log" || echo 'no CHECK line')): NOT sparse clean ***"
		else
			sp="W=1 + sparse clean"
		fi
		log "peermem ($f): p2pmap_peermem.o against $KDIR (${OFED:-mirrored peer_mem.h}), $sp; compile test only, untested on MLNX_OFED and hardware"
	done
done
