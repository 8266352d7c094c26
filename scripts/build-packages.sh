#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make packages` (and the make check stage "packages"): builds the Debian
# source and binary packages from debian/ with dpkg-buildpackage in a clean
# copy of the tree under out/packages/, then runs lintian on all of them
# (the .changes: source and binaries); fails on any lintian error or
# warning that debian/*.lintian-overrides does not justify. The packages'
# host tests are skipped here (DEB_BUILD_OPTIONS=nocheck) because make
# check runs the same tests as the stages userspace-check and
# rdma-plugin-check; `make packages CHECK=1` runs them in the build too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/out/packages
VERSION=$(cat "$ROOT/VERSION")
SRC=$OUT/p2pmap-$VERSION
T0=$(date +%s)

rm -rf "$OUT"
mkdir -p "$SRC"
# the tree as it is (committed or not), without build products
rsync -a --exclude /out --exclude /.git --exclude build/ --exclude '*.o' \
	--exclude '*.ko' --exclude '.*.cmd' --exclude '*.mod' --exclude '*.mod.c' \
	--exclude Module.symvers --exclude modules.order "$ROOT/" "$SRC/"
opts=nocheck
[ "${CHECK:-0}" = 1 ] && opts=
cd "$SRC"
if ! DEB_BUILD_OPTIONS="$opts parallel=2" nice -n 10 dpkg-buildpackage -us -uc \
	> "$OUT/build.log" 2>&1; then
	tail -40 "$OUT/build.log" >&2
	echo "packages: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
	exit 1
fi
T1=$(date +%s)
cd "$OUT"
ls -1 ./*.deb | sed 's|^\./|packages: built |'
CHANGES=$(ls "$OUT"/p2pmap_*.changes)
# lintian: errors and warnings fail, overrides must carry a justification
if ! lintian --fail-on error,warning --display-info --show-overrides \
	"$CHANGES" > "$OUT/lintian.txt" 2>&1; then
	cat "$OUT/lintian.txt" >&2
	echo "packages: lintian found errors or warnings (see above)" >&2
	exit 1
fi
grep -v 'running with root privileges' "$OUT/lintian.txt" | sed 's/^/packages: lintian: /' || true
echo "packages: $(ls "$OUT"/*.deb | wc -l) packages; lintian: no error or warning, $(grep -c '^O:' "$OUT/lintian.txt" || true) override(s) (each justified in debian/*.lintian-overrides), $(grep -c '^[IP]:' "$OUT/lintian.txt" || true) info/pedantic tag(s) shown above; build $((T1 - T0))s, lintian $(( $(date +%s) - T1 ))s"
