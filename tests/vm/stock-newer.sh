#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's stock 6.12 or 7.3 image for the VM, from what
# tests/vm/fetch-kernels.sh unpacked (nothing is installed): the kernel,
# its config, and a minimal module tree (drm.ko, which p2pgpu needs, with
# every module it depends on, decompressed from .ko.xz so busybox modprobe
# can load it, indexed with depmod). Laid out like stock-kernel.sh's 6.1
# directory (vmlinuz-<abi>, config-<abi>, kernel.release,
# modules/lib/modules/<abi>/) under <fetch dir>/vm/. Prints that directory.
#
# usage: stock-newer.sh 6.12|7.3
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

S=${1:?usage: stock-newer.sh 6.12|7.3}
D=$("$P2PMAP_ROOT/tests/vm/fetch-kernels.sh" "$S" | awk '{ print $2 }')
ABI=$(cat "$D/abi")
V=$D/vm
STOCK_MODS="drm"
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
[ -n "$want" ] || die "drm.ko not found in $M/modules.dep"
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
