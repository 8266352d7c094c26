#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches Debian's stock kernel image matching the installed stock headers
# (linux-image-<abi>-amd64, the kernel p2pmap's "stock" modules are built
# for) and unpacks it, without installing it, under
# $P2PMAP_CACHE/stock-<abi>/. It owns nothing else: the stock VM run uses
# boot/vmlinuz-* and boot/config-* from there to prove that the modules load
# on a distribution kernel where DEVICE_PRIVATE, PCI_P2PDMA and
# DMABUF_MOVE_NOTIFY are off, and say so. Prints the directory.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

HDR=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$HDR" ] || die "no /usr/src/linux-headers-6.1.*-amd64 (apt-get install linux-headers-amd64)"
ABI=${HDR#/usr/src/linux-headers-}
D=$P2PMAP_CACHE/stock-$ABI
if [ -f "$D/.p2pmap-complete" ]; then
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
dpkg-deb --fsys-tarfile "$tmp"/linux-image-*.deb | tar -C "$tmp/x" -x ./boot
rm -rf "$D"
mkdir -p "$D"
cp "$tmp"/x/boot/vmlinuz-"$ABI" "$tmp"/x/boot/config-"$ABI" "$D/"
echo "$ABI" > "$D/kernel.release"
touch "$D/.p2pmap-complete"
log "stock kernel $ABI unpacked in $D"
echo "$D"
