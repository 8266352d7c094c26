// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-line kernel calls of kshim.h, for the instruction-count
 * benchmark: hmm_range_fault() hands out the pfns of the scenario the
 * driver set up (kshim_pfns, from virtual address kshim_va0), the DMA
 * calls map a page to its physical address, allocation is malloc(). The
 * calls of other p2pmap files (resolve.c, pagemap.c, attach.c) are for
 * device-private and provider memory, which the benchmark does not
 * import: they fail loudly if reached. None of these calls another
 * (bench-icount.sh adds up their inclusive counts).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kshim.h"

struct page *kshim_vmemmap;
void *high_memory;
const unsigned long *kshim_pfns;
unsigned long kshim_va0;
unsigned long kshim_log_count;

/* What the older revisions of the core read directly (pagemap.c's). */
unsigned long p2pmap_devpriv_first = ULONG_MAX;
int p2pmap_owner_cookie;

void kshim_log(const char *fmt, ...)
{
	(void)fmt;
	kshim_log_count++;
}

static noinline void kshim_unreached(const char *what)
{
	fprintf(stderr, "icount: %s reached: the benchmark does not import this kind of memory\n",
		what);
	abort();
}

int hmm_range_fault(struct hmm_range *range)
{
	unsigned long i, n = (range->end - range->start) >> PAGE_SHIFT;
	const unsigned long *src = kshim_pfns + ((range->start - kshim_va0) >> PAGE_SHIFT);

	for (i = 0; i < n; i++)
		range->hmm_pfns[i] = src[i];
	return 0;
}

unsigned long mmu_interval_read_begin(struct mmu_interval_notifier *n)
{
	return n->invalidate_seq;
}

dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)size; (void)dir; (void)attrs;
	return ((dma_addr_t)page_to_pfn(page) << PAGE_SHIFT) + offset;
}

void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)addr; (void)size; (void)dir; (void)attrs;
}

dma_addr_t dma_map_resource(struct device *dev, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)phys; (void)size; (void)dir; (void)attrs;
	kshim_unreached("dma_map_resource()");
	return DMA_MAPPING_ERROR;
}

void dma_unmap_resource(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)addr; (void)size; (void)dir; (void)attrs;
	kshim_unreached("dma_unmap_resource()");
}

void *kvmalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	return malloc(size);
}

void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	return n && size > SIZE_MAX / n ? NULL : malloc(n * size);
}

void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	return n && size > SIZE_MAX / n ? NULL : malloc(n * size);
}

void kfree(const void *p)
{
	free((void *)p);
}

void kvfree(const void *p)
{
	free((void *)p);
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	(void)xa; (void)index;
	return NULL;
}

void *xa_store(struct xarray *xa, unsigned long index, void *e, gfp_t gfp)
{
	(void)xa; (void)index; (void)e; (void)gfp;
	kshim_unreached("xa_store()");
	return NULL;
}

void interval_tree_insert(struct interval_tree_node *n, struct rb_root_cached *r)
{
	(void)n; (void)r;
	kshim_unreached("interval_tree_insert()");
}

void interval_tree_remove(struct interval_tree_node *n, struct rb_root_cached *r)
{
	(void)n; (void)r;
	kshim_unreached("interval_tree_remove()");
}

void unpin_user_page_range_dirty_lock(struct page *page, unsigned long npages,
				      bool make_dirty)
{
	(void)page; (void)npages; (void)make_dirty;
	kshim_unreached("unpin_user_page_range_dirty_lock()");
}

/* Calls into other files of p2pmap.ko. */
struct p2pmap_provider;
struct p2pmap_attach;
struct p2pmap_verdict;

unsigned long p2pmap_pagemap_first_pfn(void)
{
	return p2pmap_devpriv_first;
}

void *p2pmap_pagemap_owner(void)
{
	return &p2pmap_owner_cookie;
}

struct p2pmap_provider *p2pmap_pagemap_provider(struct page *page)
{
	(void)page;
	kshim_unreached("p2pmap_pagemap_provider()");
	return NULL;
}

void p2pmap_provider_put(struct p2pmap_provider *prov)
{
	(void)prov;
	kshim_unreached("p2pmap_provider_put()");
}

int p2pmap_attach_verdict(struct p2pmap_attach *attach,
			  struct p2pmap_provider *prov,
			  struct p2pmap_verdict *out)
{
	(void)attach; (void)prov; (void)out;
	kshim_unreached("p2pmap_attach_verdict()");
	return -EINVAL;
}

int p2pmap_resolve_exporter(void)
{
	kshim_unreached("p2pmap_resolve_exporter()");
	return -EINVAL;
}

int p2pmap_migrate_add(void)
{
	kshim_unreached("p2pmap_migrate_add()");
	return -EINVAL;
}
