#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# DKMS POST_BUILD (dkms.conf), run in the build directory: keep this
# build's Module.symvers, with the CRCs of p2pmap.ko's exports for kernel
# $1, under the source tree $2 (/usr/src/p2pmap-<version>) as
# symvers/<kernel>/Module.symvers, where out-of-tree exporters and
# importers find it for KBUILD_EXTRA_SYMBOLS.
set -e
kver=${1:?kernel version}
src=${2:?source tree}
[ -f Module.symvers ] || { echo "p2pmap dkms: no Module.symvers after the build" >&2; exit 1; }
mkdir -p "$src/symvers/$kver"
cp Module.symvers "$src/symvers/$kver/Module.symvers"
