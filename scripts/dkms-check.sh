#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS check (make check stage "dkms", after "packages"): installs the
# p2pmap-dkms package's tree into a private DKMS tree (out/dkms; the
# host's /var/lib/dkms is not touched, nor its MOK key) and runs
# `dkms build` against every kernel given, or by default against the
# p2pmap test kernel tree (6.1, from the cache), Debian's stock 6.1
# headers, and the 6.12 and 7.3 trees prepared with Debian's stock configs. For each it checks that p2pmap.ko and p2pgpu.ko came out with
# MODULE_VERSION = VERSION and that an exporter built outside the tree
# (tests/abi/extmod) links against the installed header and the kept
# Module.symvers, as docs/exporter-guide.md describes.
#
# usage: dkms-check.sh [KDIR...]
set -euo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"
VERSION=$(cat "$P2PMAP_ROOT/VERSION")
DEB=$(ls "$P2PMAP_OUT"/packages/p2pmap-dkms_"$VERSION"_all.deb 2>/dev/null) ||
	die "no out/packages/p2pmap-dkms_${VERSION}_all.deb: run make packages first"
T=$P2PMAP_OUT/dkms
rm -rf "$T"
mkdir -p "$T/root" "$T/tree"
dpkg-deb -x "$DEB" "$T/root"
SRCTREE=$T/root/usr/src
# own trees, and an own MOK key pair for signing (dkms takes these from
# the environment when /etc/dkms/framework.conf does not set them)
export mok_signing_key=$T/mok.key mok_certificate=$T/mok.pub
DKMS=(dkms --dkmstree "$T/tree" --sourcetree "$SRCTREE")
"${DKMS[@]}" add -m p2pmap -v "$VERSION" >/dev/null

KDIRS=("$@")
if [ ${#KDIRS[@]} -eq 0 ]; then
	KDIRS=("$("$P2PMAP_ROOT/tests/vm/build-kernel.sh")")
	for h in /usr/src/linux-headers-6.1.*-amd64; do [ -d "$h" ] && KDIRS+=("$h"); done
	# Debian's 6.12 and 7.3 kernels: the trees prepared with their stock
	# configs (tests/vm/prepare-ktree.sh, make check stage ktrees-newer)
	KDIRS+=("$(kdir_for 6.12-stock)" "$(kdir_for 7.3-stock)")
fi
fail=0
for kdir in "${KDIRS[@]}"; do
	# Debian's header packages: kernel.release is the upstream version,
	# utsrelease.h the release the modules are for
	kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h")
	[ -n "$kver" ] || die "$kdir: no UTS_RELEASE in include/generated/utsrelease.h"
	log "dkms: build p2pmap $VERSION for $kver ($kdir)"
	if ! nice -n 10 "${DKMS[@]}" build -m p2pmap -v "$VERSION" -k "$kver" \
		--kernelsourcedir "$kdir" > "$T/build-$kver.log" 2>&1; then
		tail -30 "$T/build-$kver.log" >&2
		cat "$T/tree/p2pmap/$VERSION/build/make.log" 2>/dev/null | tail -30 >&2
		log "dkms: build for $kver FAILED"
		fail=1
		continue
	fi
	mods=$T/tree/p2pmap/$VERSION/$kver/$(uname -m)/module
	for m in p2pmap p2pgpu; do
		ko=$(ls "$mods/$m.ko"* 2>/dev/null | head -1)
		v=$([ -n "$ko" ] && modinfo -F version "$ko" || true)
		if [ "$v" != "$VERSION" ]; then
			log "dkms: $kver: $m.ko missing or version '$v' is not $VERSION"
			fail=1
		fi
	done
	sv=$SRCTREE/p2pmap-$VERSION/symvers/$kver/Module.symvers
	if [ ! -s "$sv" ]; then
		log "dkms: $kver: no $sv kept by the post-build script"
		fail=1
		continue
	fi
	# an out-of-tree exporter against the installed header and Module.symvers
	rm -rf "$T/extmod" && cp -r "$P2PMAP_ROOT/tests/abi/extmod" "$T/extmod"
	if ! make -C "$kdir" M="$T/extmod" \
		KBUILD_EXTRA_SYMBOLS="$sv" \
		KCFLAGS="-I$SRCTREE/p2pmap-$VERSION/kernel/include" modules \
		> "$T/extmod-$kver.log" 2>&1 ||
		grep -E 'WARNING: modpost: .*undefined' "$T/extmod-$kver.log"; then
		cat "$T/extmod-$kver.log" >&2
		log "dkms: $kver: out-of-tree exporter does not build or link"
		fail=1
		continue
	fi
	log "dkms: $kver: p2pmap.ko p2pgpu.ko $VERSION; out-of-tree exporter links against symvers/$kver/Module.symvers"
done
exit $fail
