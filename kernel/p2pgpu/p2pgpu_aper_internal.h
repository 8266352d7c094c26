/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgpu's window allocator: the only kernel dependencies of p2pgpu_aper.c.
 *
 * p2pgpu_aper.c includes nothing but this file and p2pgpu_aper.h, in the way
 * mm/vma.c includes only mm/vma_internal.h. In the kernel build this file
 * pulls in the real headers. The userland unit tests force-include a
 * replacement from their shim directory first; it defines the same include
 * guard, so this file then expands to nothing and the shim's allocator,
 * WARN_ON and list helpers are used instead. Anything new p2pgpu_aper.c needs
 * from the kernel must be added both here and to the shim.
 */
#ifndef _P2PGPU_APER_INTERNAL_H
#define _P2PGPU_APER_INTERNAL_H

#include <linux/bug.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/types.h>

#endif /* _P2PGPU_APER_INTERNAL_H */
