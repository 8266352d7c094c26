/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The calls of one revision of the system-memory import (variant.c),
 * named icount_<revision>_*, as the benchmark driver calls them, and the
 * plain records their results are compared in.
 */
#ifndef _P2PMAP_ICOUNT_VARIANT_H
#define _P2PMAP_ICOUNT_VARIANT_H

#include <stdbool.h>
#include <stdint.h>

#define LIST_HEAD_DECL(name) struct list_head name = { &(name), &(name) }

struct icount_import;

struct icount_ext {
	unsigned int type, reason, order, flags;
	unsigned long npages;
	unsigned long pfn;
	uint64_t dma_addr;
};

struct icount_placement {
	unsigned long sysmem_pages;
	unsigned long p2p_pages;
	unsigned long system_reason_pages;
};

#define ICOUNT_DECLARE(v)						\
struct icount_import *icount_##v##_create(unsigned long start,		\
					  unsigned long npages,		\
					  bool write);			\
int icount_##v##_resolve(struct icount_import *x);			\
unsigned long icount_##v##_result(struct icount_import *x,		\
				  struct icount_ext *ext,		\
				  unsigned long max,			\
				  struct icount_placement *pl);		\
void icount_##v##_release(struct icount_import *x);			\
void icount_##v##_destroy(struct icount_import *x)

ICOUNT_DECLARE(old);
ICOUNT_DECLARE(new);

#endif /* _P2PMAP_ICOUNT_VARIANT_H */
