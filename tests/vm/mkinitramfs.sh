#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Assembles the test VM's initramfs from Debian binaries (busybox-static,
# iproute2, rdma-core, perftest), the test kernel's own modules, p2pmap's
# modules and test programs, and the guest /init plus suite scripts. It owns
# the guest file-system layout:
#   /init                  tests/vm/guest/init
#   /suites/<name>.sh      tests/vm/suites/*.sh
#   /tests/bin/            static test programs (out/bin)
#   /tests/modules/        p2pmap modules built against the test kernel
#   /lib/modules/<kver>/   the test kernel's modules (test_hmm, rdma_rxe, ...)
# Dynamic binaries are copied with the libraries ldd names and an
# ld.so.cache generated for the image.
#
# usage: mkinitramfs.sh KREL KMODS|none KCONFIG MODULE_DIR BIN_DIR OUTPUT.cpio.gz
#   KREL      kernel release the image is for
#   KMODS     the kernel's own /lib/modules/KREL tree to include, or "none"
#   KCONFIG   the kernel's .config, installed as /boot/config-KREL
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

[ $# -eq 6 ] || die "usage: $0 KREL KMODS|none KCONFIG MODULE_DIR BIN_DIR OUTPUT"
KVER=$1 KMODS=$2 KCONFIG=$3 MODDIR=$4 BINDIR=$5 OUTPUT=$6
VM=$P2PMAP_ROOT/tests/vm
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/p2pmap-initrd.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE"/{boot,bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,suites,tests/bin,tests/modules,etc/libibverbs.d}

# copy_with_libs FILE...: copy each file at its own path plus its libraries.
copy_with_libs() {
	local f lib
	for f in "$@"; do
		[ -e "$f" ] || die "missing $f (is its Debian package installed?)"
		mkdir -p "$STAGE$(dirname "$f")"
		cp -L "$f" "$STAGE$f"
		ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
			[ -e "$STAGE$lib" ] && continue
			mkdir -p "$STAGE$(dirname "$lib")"
			cp -L "$lib" "$STAGE$lib"
		done
	done
}

cp /bin/busybox "$STAGE/bin/busybox"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static (apt-get install busybox-static)"

MA=/usr/lib/x86_64-linux-gnu
copy_with_libs /usr/sbin/ip /usr/bin/rdma \
	/usr/bin/ibv_devices /usr/bin/ibv_devinfo /usr/bin/ibv_rc_pingpong \
	/usr/bin/ib_write_bw /usr/bin/ib_read_bw /usr/bin/ib_write_lat \
	/usr/bin/ib_send_lat "$MA"/libibverbs/librxe-rdmav*.so \
	"$MA"/libdrm.so.2
# (libdrm: p2pgpu-rdma, libp2pmap-rdma's shim and VM test are dynamic, like
# libibverbs, and use drmIoctl()/drmPrimeHandleToFD())
cp /etc/libibverbs.d/rxe.driver "$STAGE/etc/libibverbs.d/"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$STAGE/etc/passwd"
printf 'root:x:0:\n' > "$STAGE/etc/group"
printf '127.0.0.1 localhost\n' > "$STAGE/etc/hosts"
ldconfig -r "$STAGE" 2>/dev/null || true

mkdir -p "$STAGE/lib/modules"
[ "$KMODS" = none ] || cp -a "$KMODS" "$STAGE/lib/modules/$KVER"
cp "$KCONFIG" "$STAGE/boot/config-$KVER"
find "$MODDIR" -name '*.ko' -exec cp {} "$STAGE/tests/modules/" \;
if [ -d "$BINDIR" ]; then
	find "$BINDIR" -maxdepth 1 -type f -perm -u+x -exec cp {} "$STAGE/tests/bin/" \;
fi
cp "$VM"/suites/*.sh "$STAGE/suites/"
cp "$VM/guest/init" "$STAGE/init"
chmod +x "$STAGE/init"

(cd "$STAGE" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$OUTPUT.tmp"
mv "$OUTPUT.tmp" "$OUTPUT"
log "initramfs: $OUTPUT ($(du -h "$OUTPUT" | cut -f1)), kernel $KVER, $(find "$STAGE/tests/modules" -name '*.ko' | wc -l) p2pmap module(s), $(find "$STAGE/tests/bin" -type f | wc -l) test program(s)"
