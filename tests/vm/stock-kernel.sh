#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches Debian's stock kernel image matching the installed stock headers
# (linux-image-<abi>-amd64, the kernel p2pmap's "stock" modules are built
# for) and unpacks it, without installing it, under
# $P2PMAP_CACHE/stock-<abi>/. It owns nothing else: the stock VM run uses
# boot/vmlinuz-* and boot/config-* from there, plus a minimal module tree
# (modules/lib/modules/<abi>/: drm.ko, which p2pgpu needs and Debian builds
# as a module, indexed with depmod), to prove that the modules load and
# work on a distribution kernel where DEVICE_PRIVATE, PCI_P2PDMA and
# DMABUF_MOVE_NOTIFY are off, and say so. Prints the directory.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

HDR=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$HDR" ] || die "no /usr/src/linux-headers-6.1.*-amd64 (apt-get install linux-headers-amd64)"
ABI=${HDR#/usr/src/linux-headers-}
D=$P2PMAP_CACHE/stock-$ABI
# The modules of the image that the stock VM loads (with their dependencies).
STOCK_MODS="kernel/drivers/gpu/drm/drm.ko"
if [ -f "$D/.p2pmap-complete" ] && [ -f "$D/modules/lib/modules/$ABI/modules.dep" ]; then
	echo "$D"
	exit 0
fi
mkdir -p "$P2PMAP_CACHE"
tmp=$(mktemp -d "$P2PMAP_CACHE/stock.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "linux-image-$ABI" >/dev/null 2>&1) ||
	{ apt-get update -qq && (cd "$tmp" && apt-get download "linux-image-$ABI" >/dev/null); } ||
	die "cannot download linux-image-$ABI"
mkdir -p "$tmp/x"
members=./boot
for m in $STOCK_MODS modules.order modules.builtin modules.builtin.modinfo; do
	members="$members ./lib/modules/$ABI/$m"
done
# shellcheck disable=SC2086 # word splitting of the member list is wanted
dpkg-deb --fsys-tarfile "$tmp"/linux-image-*.deb | tar -C "$tmp/x" -x $members
depmod -b "$tmp/x" "$ABI" || die "depmod of the stock module tree failed"
rm -rf "$D"
mkdir -p "$D/modules/lib/modules"
cp "$tmp"/x/boot/vmlinuz-"$ABI" "$tmp"/x/boot/config-"$ABI" "$D/"
cp -a "$tmp/x/lib/modules/$ABI" "$D/modules/lib/modules/"
echo "$ABI" > "$D/kernel.release"
touch "$D/.p2pmap-complete"
log "stock kernel $ABI unpacked in $D"
echo "$D"
