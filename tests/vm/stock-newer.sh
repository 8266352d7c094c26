#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's stock 6.12 or 7.3 image for the VM, from what
# tests/vm/fetch-kernels.sh unpacked (nothing is installed): the kernel,
# its config, and a minimal module tree, decompressed from .ko.xz so
# busybox modprobe can load it, indexed with depmod:
#   drm                      p2pgpu needs it
#   veth                     the RDMA suites' netdev for Soft-RoCE
#   rdma_rxe, ib_uverbs      Soft-RoCE and the verbs char device
#                            (libibverbs); ib_core, ib_uverbs_support,
#                            udp_tunnel, ip6_udp_tunnel come with them
# each with every module it depends on. Debian builds all of these as
# modules (the 6.1 test kernel has them built in or in its own tree).
# Laid out like stock-kernel.sh's 6.1 directory (vmlinuz-<abi>,
# config-<abi>, kernel.release, modules/lib/modules/<abi>/) under
# <fetch dir>/vm-<key>/, where <key> hashes the module list, so a changed
# list makes a new directory instead of reusing an older one. Prints that
# directory.
#
# usage: stock-newer.sh 6.12|7.3
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

S=${1:?usage: stock-newer.sh 6.12|7.3}
D=$("$P2PMAP_ROOT/tests/vm/fetch-kernels.sh" "$S" | awk '{ print $2 }')
ABI=$(cat "$D/abi")
STOCK_MODS="drm veth rdma_rxe ib_uverbs"
V=$D/vm-$(echo "$STOCK_MODS" | sha256sum | cut -c1-8)
if [ -f "$V/.p2pmap-complete" ]; then
	echo "$V"
	exit 0
fi
M=$D/stock/lib/modules/$ABI
[ -d "$M" ] || M=$D/stock/usr/lib/modules/$ABI
[ -d "$M" ] || die "no module tree for $ABI under $D/stock"
rm -rf "$V.tmp"
mkdir -p "$V.tmp/modules/lib/modules/$ABI"
depmod -b "${M%/lib/modules/$ABI}" "$ABI" ||
	die "depmod of the unpacked $ABI tree failed"
# the dependency closure of STOCK_MODS, from the unpacked tree's modules.dep
want=$(for m in $STOCK_MODS; do
	awk -v m="/$m.ko" -F: 'index($1, m) { print $0 }' "$M/modules.dep"
done | tr ': ' '\n\n' | grep -E '\.ko' | sort -u)
for m in $STOCK_MODS; do
	echo "$want" | grep -q "/$m\.ko" || die "$m.ko not found in $M/modules.dep"
done
for f in $want; do
	mkdir -p "$V.tmp/modules/lib/modules/$ABI/$(dirname "$f")"
	case "$f" in
	*.xz) xz -dc "$M/$f" > "$V.tmp/modules/lib/modules/$ABI/${f%.xz}" ;;
	*.zst) zstd -qdc "$M/$f" > "$V.tmp/modules/lib/modules/$ABI/${f%.zst}" ;;
	*) cp "$M/$f" "$V.tmp/modules/lib/modules/$ABI/$f" ;;
	esac
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ ! -f "$M/$f" ] || sed 's/\.ko\.\(xz\|zst\)$/.ko/' "$M/$f" > "$V.tmp/modules/lib/modules/$ABI/$f"
done
depmod -b "$V.tmp/modules" "$ABI" || die "depmod of the minimal $ABI tree failed"
cp "$D/stock/boot/vmlinuz-$ABI" "$D/stock/boot/config-$ABI" "$V.tmp/"
echo "$ABI" > "$V.tmp/kernel.release"
rm -rf "$V"
mv "$V.tmp" "$V"
touch "$V/.p2pmap-complete"
log "stock $S kernel $ABI for the VM in $V ($(echo "$want" | wc -w) module(s))"
echo "$V"
