// SPDX-License-Identifier: GPL-2.0
/*
 * Chunks of an import: one exporter call's result, or one span of ordinary
 * memory. This file owns their allocation, their installation in the
 * provider's interval tree, the DMA mapping of their extents for the
 * importer (exporter chunks in one pass, ordinary memory extent by extent
 * as it is built) and their release, including the drop of an import's
 * whole mapping after its importer was told to stop. It calls no other
 * file of the import code.
 */

#include <linux/dma-mapping.h>
#include <linux/interval_tree.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "import.h"
#include "trace.h"

/* Undo the DMA mapping of one chunk. Safe under import->lock. */
static void p2pmap_chunk_dma_unmap(struct p2pmap_import *imp,
				   struct p2pmap_chunk *c)
{
	struct device *dev = imp->attach->dev;
	enum dma_data_direction dir = p2pmap_import_dir(imp);
	unsigned int i;

	if (!c->dma_mapped)
		return;
	c->dma_mapped = false;
	for (i = 0; i < c->req.nr_ext; i++) {
		struct p2pmap_extent *e = &c->ext[i];
		size_t len = e->npages << PAGE_SHIFT;

		if (e->dma_addr == DMA_MAPPING_ERROR)
			continue;
		if (e->type == P2PMAP_EXT_SYSMEM) {
			dma_unmap_page_attrs(dev, e->dma_addr, len, dir,
					     DMA_ATTR_SKIP_CPU_SYNC);
		} else if (e->type == P2PMAP_EXT_P2P &&
			   c->route == P2PMAP_ROUTE_HOST_BRIDGE) {
			dma_unmap_resource(dev, e->dma_addr, len, dir,
					   DMA_ATTR_SKIP_CPU_SYNC);
		}
		e->dma_addr = DMA_MAPPING_ERROR;
	}
}

/*
 * A chunk with room for @n extents. Only the header is zeroed: the core
 * fills every field of the extents it builds itself; @zero_ext also
 * zeroes the extents, for chunks an exporter fills. Freed with kvfree().
 */
struct p2pmap_chunk *p2pmap_chunk_alloc(unsigned long n, bool zero_ext)
{
	struct p2pmap_chunk *c;

	c = kvmalloc(struct_size(c, ext, n), GFP_KERNEL);
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (zero_ext)
		memset(c->ext, 0, array_size(n, sizeof(c->ext[0])));
	return c;
}

/* Pages a chunk resolved (the exporter may resolve fewer than it was asked). */
static unsigned long p2pmap_chunk_pages(const struct p2pmap_chunk *c)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < c->req.nr_ext; i++)
		n += c->ext[i].npages;
	return n;
}

/*
 * Make an installed chunk of a provider findable by exporter events.
 * Caller holds import->lock; provider->itree_lock nests inside it.
 */
void p2pmap_chunk_install(struct p2pmap_import *imp,
			  struct p2pmap_chunk *c)
{
	lockdep_assert_held(&imp->lock);
	c->imp = imp;
	if (!c->prov)
		return;
	if (c->req.pages) {
		unsigned long i, pfn, lo = ULONG_MAX, hi = 0;

		for (i = 0; i < c->req.npages; i++) {
			pfn = page_to_pfn(c->req.pages[i]);
			lo = min(lo, pfn);
			hi = max(hi, pfn);
		}
		c->it.start = lo;
		c->it.last = hi;
	} else {
		c->it.start = c->req.pgoff;
		c->it.last = c->req.pgoff + p2pmap_chunk_pages(c) - 1;
	}
	spin_lock(&c->prov->itree_lock);
	interval_tree_insert(&c->it, &c->prov->itree);
	spin_unlock(&c->prov->itree_lock);
	c->in_tree = true;
}

/*
 * Release one chunk: take it out of its provider's tree, DMA unmap, hand
 * the memory back to the exporter (or unpin the user pages of a pinned
 * import), free. May run under import->lock and, for revalidating imports,
 * from the mmu notifier (reclaim), so it neither allocates nor takes
 * provider->lock. User pages are only pinned for pinned imports, which have
 * no notifier, so unpinning them (which may take page locks to dirty them)
 * never happens in reclaim.
 */
void p2pmap_chunk_release(struct p2pmap_import *imp,
			  struct p2pmap_chunk *c)
{
	unsigned int i;

	if (c->in_tree) {
		spin_lock(&c->prov->itree_lock);
		interval_tree_remove(&c->it, &c->prov->itree);
		spin_unlock(&c->prov->itree_lock);
		c->in_tree = false;
	}
	p2pmap_chunk_dma_unmap(imp, c);
	if (c->prov) {
		c->prov->desc.ops->p2p_unmap(c->prov, &c->req);
		atomic64_inc(&c->prov->stats.unmaps);
	}
	kfree(c->req.pages);
	if (c->user_pinned)
		for (i = 0; i < c->req.nr_ext; i++)
			unpin_user_page_range_dirty_lock(c->ext[i].page,
							 c->ext[i].npages,
							 imp->write);
	/* The import's spare again, unless another small chunk is. */
	if (c->small && !cmpxchg(&imp->spare, NULL, c))
		return;
	kvfree(c);
}

void p2pmap_chunks_release(struct p2pmap_import *imp,
			   struct list_head *chunks)
{
	struct p2pmap_chunk *c, *tmp;

	list_for_each_entry_safe(c, tmp, chunks, node) {
		list_del(&c->node);
		p2pmap_chunk_release(imp, c);
	}
}

/*
 * Drop the import's current mapping after telling the importer to stop.
 * Caller holds import->lock. The flat array is freed here too: kvfree()
 * does not allocate, so this is fine from reclaim.
 */
void p2pmap_import_drop_locked(struct p2pmap_import *imp,
			       enum p2pmap_event ev)
{
	struct p2pmap_link *l;

	lockdep_assert_held(&imp->lock);
	if (list_empty(&imp->chunks))
		return;
	trace_p2pmap_invalidate(imp, ev);
	if (imp->attach->ops && imp->attach->ops->invalidate)
		imp->attach->ops->invalidate(imp, ev);
	trace_p2pmap_unmap(imp, imp->nr_flat);
	list_for_each_entry(l, &imp->links, imp_node)
		atomic64_inc(&l->prov->stats.invalidations);
	p2pmap_chunks_release(imp, &imp->chunks);
	if (!imp->flat_borrowed)
		kvfree(imp->flat);
	imp->flat = NULL;
	imp->flat_borrowed = false;
	imp->nr_flat = 0;
	memset(&imp->placement, 0, sizeof(imp->placement));
}

/*
 * Chunks of ordinary memory are DMA-mapped for the importer while they are
 * built, extent by extent, rather than in a second pass over the finished
 * chunk (as provider chunks are, by p2pmap_chunk_dma_map()): an import of
 * scattered 4 KiB pages has one extent per page, and a second pass reads
 * every one of them back only to map it. The rule: every extent of such
 * a chunk but the last is mapped and counted into the placement; the last
 * (still open: the next page may continue it) is mapped by
 * p2pmap_sys_finish() or when the next extent starts. An
 * extent not mapped yet has dma_addr DMA_MAPPING_ERROR, so a chunk released
 * on an error unmaps exactly what was mapped.
 */

/* Report a failed DMA mapping for the importer's device. */
int p2pmap_dma_map_failed(struct device *dev)
{
	pr_warn_ratelimited("import: DMA mapping for %s failed\n", dev_name(dev));
	return -ENOMEM;
}

/*
 * DMA-map extent @e of ordinary memory for the importer; count it in @pl.
 * (sysmem.c's 4 KiB loop maps its extents itself and counts them at once.)
 */
int p2pmap_sys_map_ext(struct p2pmap_import *imp,
		       struct p2pmap_extent *e,
		       struct p2pmap_placement *pl)
{
	struct device *dev = imp->attach->dev;
	dma_addr_t addr;

	/*
	 * Long-lived mappings shared with the CPU, like RDMA MRs: no CPU
	 * sync at map or unmap (see struct p2pmap_extent), which also lets
	 * two imports of one page coexist.
	 */
	addr = dma_map_page_attrs(dev, e->page, 0, e->npages << PAGE_SHIFT,
				  p2pmap_import_dir(imp), DMA_ATTR_SKIP_CPU_SYNC);
	if (unlikely(dma_mapping_error(dev, addr)))
		return p2pmap_dma_map_failed(dev);
	e->dma_addr = addr;
	pl->sysmem_pages += e->npages;
	pl->reason_pages[e->reason] += e->npages;
	if (e->flags & P2PMAP_EXT_F_MIGRATED)
		pl->migrated_pages += e->npages;
	return 0;
}

/*
 * A new, still open chunk of ordinary memory of @imp with room for @n
 * extents, for the range from @va: the import's spare if it is small.
 */
struct p2pmap_chunk *p2pmap_sys_chunk(struct p2pmap_import *imp,
				      unsigned long n, unsigned long va)
{
	bool small = imp->npages <= P2PMAP_SMALL_RANGE;
	struct p2pmap_chunk *c = small ? xchg(&imp->spare, NULL) : NULL;

	if (c)
		memset(c, 0, sizeof(*c));
	else
		c = p2pmap_chunk_alloc(small ? P2PMAP_SMALL_RANGE : n, false);
	if (!c)
		return NULL;
	c->va = va;
	c->req.max_ext = n;
	c->small = small;
	/* Mapped as it is built: p2pmap_chunk_dma_unmap() must look at it. */
	c->dma_mapped = true;
	return c;
}

/*
 * Make room in the open chunk *@cp for @n more extents, of the @left pages
 * still to resolve: a copy twice as large, or as large as @left can need,
 * replaces it. Only a chunk begun on a huge mapping is ever short: it is
 * allocated for one batch of pages, not for every page left, so a range
 * of huge pages does not allocate an extent for each 4 KiB page it covers.
 * Returns 0, or -ENOMEM with the chunk as it was.
 */
int p2pmap_sys_room(struct p2pmap_chunk **cp, unsigned long n,
		    unsigned long left)
{
	struct p2pmap_chunk *c = *cp, *big;
	unsigned int nr = c->req.nr_ext;
	unsigned long want;

	if (c->req.max_ext - nr >= n)
		return 0;
	want = nr + min(left, max_t(unsigned long, n, nr));
	big = kvmalloc(struct_size(c, ext, want), GFP_KERNEL);
	if (!big)
		return -ENOMEM;
	memcpy(big, c, struct_size(c, ext, nr));
	big->req.max_ext = want;
	kvfree(c);
	*cp = big;
	return 0;
}

/*
 * Append @n physically contiguous system-memory pages from @page to the
 * open chunk @c, merging them with its last extent when they continue it
 * with equal flags, order and reason; otherwise that extent is complete
 * and mapped first.
 */
int p2pmap_sys_append(struct p2pmap_import *imp, struct p2pmap_chunk *c,
		      struct p2pmap_placement *pl, struct page *page,
		      unsigned long n, u8 flags, u8 order, u8 reason)
{
	struct p2pmap_extent *e = &c->ext[c->req.nr_ext];
	int ret;

	if (c->req.nr_ext) {
		if (e[-1].page + e[-1].npages == page && e[-1].flags == flags &&
		    e[-1].order == order && e[-1].reason == reason) {
			e[-1].npages += n;
			return 0;
		}
		ret = p2pmap_sys_map_ext(imp, &e[-1], pl);
		if (ret)
			return ret;
	}
	p2pmap_sys_open(e, page, flags, order, reason);
	e->npages = n;
	e->dma_addr = DMA_MAPPING_ERROR;
	c->req.nr_ext++;
	return 0;
}

/* Unused extent slots worth a smaller copy of a finished chunk: a page. */
#define P2PMAP_SYS_SHRINK	(PAGE_SIZE / sizeof(struct p2pmap_extent))

/*
 * Finish the open chunk @c after a resolve that returned @ret: map its
 * last extent (unless @ret is an error), and put it on @out, where the
 * caller's error path finds it too. A chunk begun on 4 KiB pages is
 * allocated with an extent slot for every page left in the range (one
 * begun on a huge mapping grows as it needs: p2pmap_sys_room()), and it
 * keeps them for the life of the mapping; when huge pages or merged runs
 * left at least a page of those slots unused, a copy of the right size
 * replaces it (a 2 MiB huge page is one extent, not 512 slots). Returns
 * @ret, or the mapping error.
 */
int p2pmap_sys_finish(struct p2pmap_import *imp, struct p2pmap_chunk *c,
		      struct p2pmap_placement *pl, int ret,
		      struct list_head *out)
{
	unsigned int nr = c->req.nr_ext;
	struct p2pmap_chunk *fit;

	if (!ret && nr)
		ret = p2pmap_sys_map_ext(imp, &c->ext[nr - 1], pl);
	if (!c->small && c->req.max_ext - nr >= P2PMAP_SYS_SHRINK) {
		fit = kvmalloc(struct_size(c, ext, nr), GFP_KERNEL);
		if (fit) {
			memcpy(fit, c, struct_size(c, ext, nr));
			fit->req.max_ext = nr;
			kvfree(c);
			c = fit;
		}
	}
	list_add_tail(&c->node, out);
	return ret;
}

/*
 * DMA-map every extent of @c for the importer and count its pages into @pl
 * (by type and fallback reason). Called without locks.
 */
int p2pmap_chunk_dma_map(struct p2pmap_import *imp, struct p2pmap_chunk *c,
			 struct p2pmap_placement *pl)
{
	struct device *dev = imp->attach->dev;
	enum dma_data_direction dir = p2pmap_import_dir(imp);
	struct p2pmap_verdict v = {};
	unsigned int i;
	int ret;

	if (c->prov) {
		ret = p2pmap_attach_verdict(imp->attach, c->prov, &v);
		if (ret)
			return ret;
		c->route = v.route;
	}
	c->dma_mapped = true;
	for (i = 0; i < c->req.nr_ext; i++) {
		struct p2pmap_extent *e = &c->ext[i];
		dma_addr_t addr = DMA_MAPPING_ERROR;

		if (e->type == P2PMAP_EXT_SYSMEM) {
			ret = p2pmap_sys_map_ext(imp, e, pl);
			if (ret)
				return ret;
			continue;
		}
		if (e->type != P2PMAP_EXT_P2P) {
			pl->error_pages += e->npages;
			pl->reason_pages[e->reason] += e->npages;
			continue;
		}
		pl->p2p_pages += e->npages;
		if (v.route == P2PMAP_ROUTE_BUS_ADDR)
			addr = e->phys + v.bus_offset;
		else if (v.route == P2PMAP_ROUTE_HOST_BRIDGE)
			addr = dma_map_resource(dev, e->phys, e->npages << PAGE_SHIFT,
						dir, DMA_ATTR_SKIP_CPU_SYNC);
		if (addr == DMA_MAPPING_ERROR || dma_mapping_error(dev, addr))
			return p2pmap_dma_map_failed(dev);
		e->dma_addr = addr;
	}
	return 0;
}
