// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu's own copy of the p2pmap window slot allocator. aperture.c is also
 * linked into p2pmap.ko; its symbols are not exported, so each module keeps
 * a private copy. It is included rather than listed as ../lib/aperture.o in
 * Kbuild because an out-of-tree object path outside this directory would be
 * the very object file p2pmap.ko builds, compiled twice with different
 * KBUILD_MODNAME.
 */
#include "../lib/aperture.c"
