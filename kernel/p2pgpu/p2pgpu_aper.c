// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu's window slot allocator, kernel/lib/aperture.c. It is p2pgpu's
 * private code (tests/unit compiles the same file in userspace), not part
 * of p2pmap's API: p2pmap.ko neither links nor exports it. It is included
 * rather than listed as ../lib/aperture.o in Kbuild because an out-of-tree
 * object path outside this directory is not built per module.
 */
#include "../lib/aperture.c"
