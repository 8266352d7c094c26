#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds every p2pmap kernel module (top-level Kbuild) against one kernel
# tree with W=1 and sparse (C=1), and fails on any compiler or sparse
# warning in our sources. Out-of-tree builds write objects next to the
# sources, so each flavour builds in its own copy of the tree under
# out/build-<flavour>/src; the .ko files are collected in
# out/build-<flavour>/modules.
#
# usage: build-modules.sh test|stock [KDIR]
#   test   the p2pmap test kernel (built or found in the cache)
#   stock  Debian's linux-headers-*-amd64 (6.1), where DEVICE_PRIVATE,
#          PCI_P2PDMA and DMABUF_MOVE_NOTIFY are off
set -euo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"

FLAVOUR=${1:?usage: build-modules.sh test|stock [KDIR]}
KDIR=${2:-}
case "$FLAVOUR" in
test) [ -n "$KDIR" ] || KDIR=$("$P2PMAP_ROOT/tests/vm/build-kernel.sh") ;;
stock)
	if [ -z "$KDIR" ]; then
		KDIR=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
		[ -n "$KDIR" ] || die "no /usr/src/linux-headers-6.1.*-amd64 (apt-get install linux-headers-amd64)"
	fi ;;
*) die "unknown flavour $FLAVOUR" ;;
esac

B=$P2PMAP_OUT/build-$FLAVOUR
mkdir -p "$B/src" "$B/modules"
# One build of a flavour at a time: they share $B.
exec 8>"$B/.lock"
flock 8
rsync -a --delete --exclude /out --exclude /.git --exclude '*.o' --exclude '*.ko' \
	--exclude '*.mod*' --exclude '.*.cmd' --exclude Module.symvers --exclude modules.order \
	"$P2PMAP_ROOT/" "$B/src/"
log "modules ($FLAVOUR): make -C $KDIR M=$B/src W=1 C=1"
set +e
make -C "$KDIR" M="$B/src" W=1 C=1 CHECK="sparse" CONFIG_P2PMAP_SELFTEST=y \
	CF="-D__CHECK_ENDIAN__ -fdiagnostic-prefix -fmax-warnings=unlimited" \
	KCFLAGS="-g" modules > "$B/build.log" 2>&1
rc=$?
set -e
# Any diagnostic pointing into our tree is a failure, even if make succeeded.
grep -E "^$B/src/[^:]+:[0-9]+(:[0-9]+)?: (warning|error|sparse)" "$B/build.log" |
	sed "s|$B/src/||" > "$B/diagnostics.txt" || true
if [ $rc -ne 0 ] || [ -s "$B/diagnostics.txt" ]; then
	sed "s|$B/src/||" "$B/build.log" | grep -v '^make\[' | tail -60 >&2
	die "module build ($FLAVOUR) failed: rc=$rc, $(wc -l < "$B/diagnostics.txt") diagnostic(s) in our sources"
fi
rm -f "$B"/modules/*.ko
find "$B/src" -name '*.ko' -exec cp {} "$B/modules/" \;
log "modules ($FLAVOUR): $(cd "$B/modules" && ls *.ko | tr '\n' ' ')against $KDIR, W=1 + sparse clean"
