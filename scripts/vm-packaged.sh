#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test VM with the p2pmap modules that came out of the packages
# (make check stage "vm-packaged", after "dkms"): p2pmap.ko and p2pgpu.ko
# as `dkms build` made them from the p2pmap-dkms package
# (scripts/dkms-check.sh, out/dkms), not from the build tree, next to the
# test-only modules of tests/kmod (which no package ships), and run
# suites that exercise them (modload also checks that the loaded module's
# version is the tools' version). Logs the packaged modules' version,
# srcversion and signer (DKMS signs with its MOK key).
#
# usage: vm-packaged.sh [test|stock|6.12-stock|7.3-stock] [SUITES]
set -euo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"
KERNEL=${1:-test}
SUITES=${2:-modload,gpu}
VERSION=$(cat "$P2PMAP_ROOT/VERSION")
case "$KERNEL" in
test)
	KB=$("$P2PMAP_ROOT/tests/vm/build-kernel.sh")
	KVER=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$KB/include/generated/utsrelease.h") ;;
stock | 6.12-stock | 7.3-stock)
	# Debian's stock 6.1 headers, or the 6.12/7.3 trees prepared with
	# Debian's stock configs (the release string is the image's)
	KDIR=$(kdir_for "$KERNEL")
	KVER=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$KDIR/include/generated/utsrelease.h") ;;
*) die "unknown kernel $KERNEL" ;;
esac
PKG=$P2PMAP_OUT/dkms/tree/p2pmap/$VERSION/$KVER/$(uname -m)/module
[ -f "$PKG/p2pmap.ko" ] && [ -f "$PKG/p2pgpu.ko" ] ||
	die "$PKG: no DKMS-built p2pmap.ko/p2pgpu.ko for $KVER (run scripts/dkms-check.sh)"
TESTMODS=$P2PMAP_OUT/build-$KERNEL/modules
[ -d "$TESTMODS" ] || die "$TESTMODS missing (make modules / modules-stock)"
M=$P2PMAP_OUT/vm-packaged-$KERNEL/modules
rm -rf "$M" && mkdir -p "$M"
# the test-only modules from the build tree, p2pmap and p2pgpu from DKMS
for ko in "$TESTMODS"/*.ko; do
	case "$(basename "$ko")" in p2pmap.ko|p2pgpu.ko) ;; *) cp "$ko" "$M/" ;; esac
done
cp "$PKG/p2pmap.ko" "$PKG/p2pgpu.ko" "$M/"
for m in p2pmap p2pgpu; do
	log "vm-packaged: $m.ko from the package: version $(modinfo -F version "$M/$m.ko"), srcversion $(modinfo -F srcversion "$M/$m.ko"), signer '$(modinfo -F signer "$M/$m.ko")'"
	[ "$(modinfo -F version "$M/$m.ko")" = "$VERSION" ] || die "$m.ko: version is not $VERSION"
done
exec bash "$P2PMAP_ROOT/tests/vm/run.sh" --name "vm-packaged-$KERNEL" --topology switch \
	--kernel "$KERNEL" --moddir "$M" --suites "$SUITES"
