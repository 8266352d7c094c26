// SPDX-License-Identifier: GPL-2.0
/*
 * Ordinary memory of an import, through hmm_range_fault().
 *
 * This file owns the walk of a VMA that no provider exports: it faults
 * the pages in, builds DMA-mapped chunks of system memory, hands runs of
 * device-private pages of p2pmap providers to resolve.c, and moves the
 * device-private pages that cannot be peer-mapped to system memory. Built
 * only with CONFIG_HMM_MIRROR; without it import.h makes these calls fail
 * with -EOPNOTSUPP and a reason in the log.
 */

#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "import.h"

/* How the core treats one hmm_range_fault() result. */
enum p2pmap_pfn_kind {
	P2PMAP_PFN_SYSTEM,	/* ordinary page */
	P2PMAP_PFN_DEVPRIV,	/* device-private page: ask its provider */
	P2PMAP_PFN_COW,		/* read-only device-private page, writing import */
	P2PMAP_PFN_FOREIGN,	/* other ZONE_DEVICE memory (a P2PDMA BAR page) */
};

/*
 * hmm_range_fault() reports every page of a huge mapping on its own:
 * @pfns[@i], of a mapping of 2^@order pages, starts a run of consecutive
 * pfns with the same flags that ends at most at the end of that mapping
 * (or of the batch; @va_pfn is the virtual pfn of @pfns[0]). Returns the
 * index after the run. The pages of one huge mapping are one folio of
 * system memory: they need neither p2pmap_pfn_kind() nor a merge test
 * each, and become one extent.
 */
static unsigned long p2pmap_huge_run(const unsigned long *pfns,
				     unsigned long i, unsigned long batch,
				     unsigned long va_pfn, unsigned int order)
{
	unsigned long span = 1UL << order;
	unsigned long end = min(batch, i + span - ((va_pfn + i) & (span - 1)));
	unsigned long j = i + 1;

	while (j < end && pfns[j] == pfns[j - 1] + 1)
		j++;
	return j;
}

static inline enum p2pmap_pfn_kind p2pmap_pfn_kind(const struct p2pmap_import *imp,
						   unsigned long hpfn)
{
	struct page *page = hmm_pfn_to_page(hpfn);

	if (!(hpfn & HMM_PFN_VALID) || !is_zone_device_page(page))
		return P2PMAP_PFN_SYSTEM;
	/*
	 * A P2PDMA page (or other ZONE_DEVICE memory) in a mapping no
	 * provider registered: it has no struct-page DMA mapping (7.x's
	 * dma_map_page() refuses ZONE_DEVICE pages), and p2pmap does not
	 * know its exporter, so it cannot map it peer to peer either.
	 */
	if (!is_device_private_page(page))
		return P2PMAP_PFN_FOREIGN;
	/*
	 * hmm_range_fault() reports a read-only device-private page as it
	 * is, even with HMM_PFN_REQ_WRITE. Writing needs the copy-on-write
	 * break a CPU write fault does, after the page is back in system
	 * memory.
	 */
	if (imp->write && !(hpfn & HMM_PFN_WRITE))
		return P2PMAP_PFN_COW;
	return P2PMAP_PFN_DEVPRIV;
}

/*
 * Device-private pages [@va, @va + @n pages) of one pagemap (@hpfns from
 * hmm_range_fault()): resolve them through their provider's
 * p2p_map_pages() with p2pmap_resolve_exporter(), appending chunks to
 * @out; pages the provider cannot peer-map go on @mig.
 */
static int p2pmap_sys_devpriv(struct p2pmap_import *imp,
			      const unsigned long *hpfns, unsigned long va,
			      unsigned long n, struct list_head *out,
			      struct list_head *holds,
			      struct p2pmap_migrate_list **mig)
{
	struct p2pmap_resolve_src src = {};
	struct p2pmap_provider *prov;
	struct page **pages;
	unsigned long i;
	int ret;

	prov = p2pmap_pagemap_provider(hmm_pfn_to_page(hpfns[0]));
	if (!prov) {
		pr_warn_ratelimited("import: 0x%lx is device-private memory no p2pmap provider exports\n",
				    va);
		return -EFAULT;
	}
	pages = kmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		p2pmap_provider_put(prov);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		pages[i] = hmm_pfn_to_page(hpfns[i]);
	src.pages = pages;
	ret = p2pmap_resolve_exporter(imp, prov, holds, &src, va, n, out, mig);
	kfree(pages);
	return ret;
}

/*
 * The flag bits of a hmm_range_fault() entry, all above its pfn, of a page
 * p2pmap_sys_run() takes: valid, no error, order 0 (not part of a huge
 * mapping); read-only (_R) or writable (_W). A loop that takes pages of
 * one kind compares the bits above the pfn with one constant.
 */
#define P2PMAP_HPFN_TOP(hpfn)	((hpfn) >> HMM_PFN_ORDER_SHIFT)
#define P2PMAP_HPFN_TOP_R	(HMM_PFN_VALID >> HMM_PFN_ORDER_SHIFT)
#define P2PMAP_HPFN_TOP_W	((HMM_PFN_VALID | HMM_PFN_WRITE) >> HMM_PFN_ORDER_SHIFT)
static_assert((unsigned long)HMM_PFN_FLAGS == ~0UL << HMM_PFN_ORDER_SHIFT);

/*
 * Whether @hpfn, from hmm_range_fault(), is a page p2pmap_sys_run() takes:
 * a valid 4 KiB page of ordinary memory (not device-private, not part of a
 * huge mapping). Below @floor, p2pmap_sys_floor(), a pfn is ordinary
 * memory and its struct page is not read. (hmm_range_fault() reports
 * device-private pages as valid only with our owner; debug kernels check
 * that none lies below the floor.)
 */
static inline bool p2pmap_sys_page(unsigned long hpfn, unsigned long floor)
{
	unsigned long top = P2PMAP_HPFN_TOP(hpfn);
	struct page *page = hmm_pfn_to_page(hpfn);

	if (top != P2PMAP_HPFN_TOP_R && top != P2PMAP_HPFN_TOP_W)
		return false;
	if (page_to_pfn(page) >= floor)
		return !is_zone_device_page(page);
	if (IS_ENABLED(CONFIG_DEBUG_VM) && is_device_private_page(page)) {
		WARN_ONCE(1, "p2pmap: device-private pfn %#lx below the end of RAM, of a pagemap never added\n",
			  page_to_pfn(page));
		return false;
	}
	return true;
}

/*
 * The pfn from which a page reported by hmm_range_fault() may be
 * device-private: the lowest pfn of the pagemaps providers added, or the
 * end of RAM, whichever is lower. Device-private memory is not RAM: it
 * takes physical addresses nothing else uses, and request_free_mem_region()
 * hands them out from the top of the physical address space down, so a
 * pagemap an exporter failed to add is above RAM too. Read after the walk
 * read the page tables (smp_rmb()): a page the walk found in a pagemap was
 * migrated there after the pagemap was added. Reading every struct page
 * instead takes 1.23x-1.68x the instructions per 4 KiB page
 * ("make -C tests/unit bench-icount-ablate").
 */
static unsigned long p2pmap_sys_floor(void)
{
	unsigned long ram_end;

	/* Pairs with the pagemap's addition before the page table update. */
	smp_rmb();
	ram_end = PHYS_PFN(__pa(READ_ONCE(high_memory) - 1)) + 1;
	return min(p2pmap_pagemap_first_pfn(), ram_end);
}

/**
 * struct p2pmap_sys_state - what p2pmap_sys_loop() keeps across calls
 * @dev: the importer's device, which the extents are mapped for
 * @floor: p2pmap_sys_floor()
 * @e: the open extent: type, flags and @page written, @npages and @dma_addr
 *	not yet (the caller writes them when the loop ends)
 * @first: the hmm_range_fault() entry of the open extent's first page
 * @n: pages in the open extent (0: none open)
 * @ret: a mapping error
 */
struct p2pmap_sys_state {
	struct device *dev;
	unsigned long floor;
	struct p2pmap_extent *e;
	unsigned long first;
	unsigned long n;
	int ret;
};

/*
 * The loop of p2pmap_sys_run(), for pages whose flag bits are @top, mapped
 * for @dir: both constants, so that each of the callers in
 * p2pmap_sys_loops() is a copy with its own constants. From @p, until the
 * first entry it does not take (at the latest the sentinel after the last
 * one): merge physically contiguous pages into the open extent; map an
 * extent when the next page does not continue it. Returns that entry.
 *
 * This runs once per page: the entry is compared with one constant and
 * one limit, and an extent is written in four stores. It is always
 * inlined, so that the constants are: the instructions it takes per page,
 * counted with "make -C tests/unit bench-icount" (docs/benchmarks.md),
 * are 1.35x as many for scattered pages when it is one function for every
 * direction and permission, and the general loop of
 * p2pmap_resolve_system() takes 6x as many for such pages.
 */
static __always_inline const unsigned long *
p2pmap_sys_loop(struct p2pmap_sys_state *r, const unsigned long *p,
		const enum dma_data_direction dir, const unsigned long top)
{
	/* Same flag bits: the pfn is below the floor iff the entry is < lim. */
	const unsigned long lim = r->floor | (top << HMM_PFN_ORDER_SHIFT);
	const u8 flags = top == P2PMAP_HPFN_TOP_W ? P2PMAP_EXT_F_WRITE : 0;
	struct p2pmap_extent *e = r->e;
	unsigned long first = r->first, n = r->n, hpfn;
	dma_addr_t addr;

	for (;; p++) {
		hpfn = *p;
		if (P2PMAP_HPFN_TOP(hpfn) != top)
			break;
		if (unlikely(hpfn >= lim || IS_ENABLED(CONFIG_DEBUG_VM)) &&
		    !p2pmap_sys_page(hpfn, r->floor))
			break;
		/* (false while @n is 0: @first is then no entry) */
		if (hpfn == first + n) {
			n++;
			continue;
		}
		if (n) {
			/* Complete: map it (see p2pmap_sys_map_ext()). */
			e->npages = n;
			addr = dma_map_page_attrs(r->dev, e->page, 0,
						  n << PAGE_SHIFT, dir,
						  DMA_ATTR_SKIP_CPU_SYNC);
			if (unlikely(dma_mapping_error(r->dev, addr))) {
				r->ret = p2pmap_dma_map_failed(r->dev);
				break;
			}
			e->dma_addr = addr;
			e++;
			hpfn = *p;
		}
		p2pmap_sys_open(e, hmm_pfn_to_page(hpfn), flags, 0,
				P2PMAP_REASON_SYSTEM_PAGE);
		first = hpfn;
		n = 1;
	}
	r->e = e;
	r->first = first;
	r->n = n;
	return p;
}

/*
 * p2pmap_sys_loop() for an import that writes (@write, its pages all
 * writable: see p2pmap_sys_run()) or not, and the flags of the page at @p,
 * with the direction of p2pmap_import_dir().
 */
static const unsigned long *
p2pmap_sys_loops(struct p2pmap_sys_state *r, const unsigned long *p, bool write)
{
	if (write)
		return p2pmap_sys_loop(r, p, DMA_BIDIRECTIONAL, P2PMAP_HPFN_TOP_W);
	if (P2PMAP_HPFN_TOP(*p) == P2PMAP_HPFN_TOP_W)
		return p2pmap_sys_loop(r, p, DMA_TO_DEVICE, P2PMAP_HPFN_TOP_W);
	return p2pmap_sys_loop(r, p, DMA_TO_DEVICE, P2PMAP_HPFN_TOP_R);
}

/*
 * The common case, in a loop of its own: append the pages from @pfns[@i]
 * that p2pmap_sys_page() takes to the open chunk @c, merging physically
 * contiguous ones and mapping each extent as it completes. Only for an
 * import without migrated pages (whose reason each page must look up).
 * @pfns ends with a sentinel entry that is no page. The pages mapped are
 * counted once at the end. Returns the index of the first page it did not
 * take (@i if none); *@ret is set if a mapping failed.
 */
static unsigned long p2pmap_sys_run(struct p2pmap_import *imp,
				    struct p2pmap_chunk *c,
				    struct p2pmap_placement *pl,
				    const unsigned long *pfns,
				    unsigned long i, int *ret)
{
	struct p2pmap_sys_state r = {
		.dev = imp->attach->dev,
		.floor = p2pmap_sys_floor(),
		.e = &c->ext[c->req.nr_ext],
		.first = ~0UL,
	};
	const unsigned long *p = pfns + i;
	struct p2pmap_extent *e = r.e;
	unsigned long mapped;

	/*
	 * The first page is taken: the loop starts there. A writing import
	 * has its pages faulted in writable; a read-only one (none is
	 * expected) is left to the general path.
	 */
	if (!p2pmap_sys_page(*p, r.floor) ||
	    (imp->write && P2PMAP_HPFN_TOP(*p) != P2PMAP_HPFN_TOP_W))
		return i;
	/*
	 * The chunk's open extent: continue it if it is plain system memory
	 * like ours, else it is complete: map it.
	 */
	if (e != c->ext) {
		if (!e[-1].order && e[-1].reason == P2PMAP_REASON_SYSTEM_PAGE &&
		    !(e[-1].flags & ~P2PMAP_EXT_F_WRITE)) {
			r.e = --e;
			r.n = e->npages;
			r.first = page_to_pfn(e->page) |
				  ((e->flags & P2PMAP_EXT_F_WRITE) ?
				   HMM_PFN_VALID | HMM_PFN_WRITE : HMM_PFN_VALID);
		} else {
			*ret = p2pmap_sys_map_ext(imp, &e[-1], pl);
			if (*ret)
				return i;
		}
	}
	/* Every page taken is mapped, but for the @n of the last extent. */
	mapped = r.n;
	p = p2pmap_sys_loops(&r, p, imp->write);
	e = r.e;
	/* Still open, or not mapped because mapping it failed. */
	if (r.n) {
		e->npages = r.n;
		e->dma_addr = DMA_MAPPING_ERROR;
		e++;
	}
	*ret = r.ret;
	c->req.nr_ext = e - c->ext;
	mapped += (p - (pfns + i)) - r.n;
	pl->sysmem_pages += mapped;
	pl->reason_pages[P2PMAP_REASON_SYSTEM_PAGE] += mapped;
	return p - pfns;
}

/*
 * Ordinary memory in @vma: fault it in with hmm_range_fault(). Device-private
 * pages of p2pmap providers are reported rather than migrated (the shared
 * owner) and resolved through their provider; pages that must move to
 * system memory are collected in @mig and end the walk. Chunks of ordinary
 * memory are DMA-mapped and counted into @pl as they are built.
 */
int p2pmap_resolve_system(struct p2pmap_import *imp,
			  const struct p2pmap_seq *seq,
			  unsigned long va, unsigned long npages,
			  struct list_head *out, struct list_head *holds,
			  struct p2pmap_migrate_list **mig,
			  struct p2pmap_placement *pl)
{
	bool require = imp->policy == P2PMAP_REQUIRE_P2P;
	struct hmm_range range = {
		.notifier = &imp->notifier,
		.notifier_seq = seq->mmu,
		/*
		 * REQUIRE_P2P only accepts device-private pages: look without
		 * faulting anything in, and refuse the first other page.
		 */
		.default_flags = require ? 0 : HMM_PFN_REQ_FAULT |
				 (imp->write ? HMM_PFN_REQ_WRITE : 0),
		.dev_private_owner = p2pmap_pagemap_owner(),
	};
	/*
	 * hmm_range_fault() writes every entry before one is read: no need
	 * for CONFIG_INIT_STACK_ALL_ZERO to clear it on every call. One more
	 * entry for the sentinel that ends p2pmap_sys_run()'s loop.
	 */
	unsigned long small_pfns[P2PMAP_SMALL_RANGE + 1] __uninitialized;
	unsigned long left = npages, *pfns = small_pfns;
	/* System pages go into one chunk until a device-private run. */
	struct p2pmap_chunk *c = NULL;
	int ret = 0;

	if (npages > P2PMAP_SMALL_RANGE) {
		pfns = kvmalloc_array(min_t(unsigned long, npages, P2PMAP_EXT_BATCH) + 1,
				      sizeof(*pfns), GFP_KERNEL);
		if (!pfns)
			return -ENOMEM;
	}
	while (npages && !ret && !*mig) {
		unsigned long batch = min_t(unsigned long, npages, P2PMAP_EXT_BATCH);
		bool migrated = !xa_empty(&imp->migrated);
		unsigned long i, j, idx0, room;

		range.start = va;
		range.end = va + (batch << PAGE_SHIFT);
		range.hmm_pfns = pfns;
		ret = hmm_range_fault(&range);
		if (ret == -EBUSY) {
			ret = -EAGAIN;
			break;
		}
		if (ret)
			break;
		pfns[batch] = 0;	/* the sentinel: no page */
		idx0 = (va - imp->start) >> PAGE_SHIFT;
		for (i = 0; i < batch && !ret; i = j) {
			enum p2pmap_pfn_kind kind = p2pmap_pfn_kind(imp, pfns[i]);
			struct dev_pagemap *pgmap;
			u8 flags, reason, order;
			void *entry;

			j = i + 1;
			if (kind == P2PMAP_PFN_FOREIGN) {
				pr_warn_ratelimited("import: 0x%lx is device memory (pfn %#lx) in a mapping no p2pmap provider registered: import it through its exporter's mapping\n",
						    va + (i << PAGE_SHIFT),
						    page_to_pfn(hmm_pfn_to_page(pfns[i])));
				/* e.g. an exporter unbound while its PTEs go */
				ret = -ENODEV;
				break;
			}
			if (kind == P2PMAP_PFN_SYSTEM) {
				if (require) {
					pr_warn_ratelimited("import: REQUIRE_P2P but 0x%lx is system memory\n",
							    va + (i << PAGE_SHIFT));
					ret = -EREMOTEIO;
					break;
				}
				if (!c) {
					/*
					 * Room for every page left in the
					 * range; for a batch if it begins
					 * with a huge mapping.
					 */
					room = left - i;
					if (hmm_pfn_to_map_order(pfns[i]))
						room = min_t(unsigned long, room,
							     P2PMAP_EXT_BATCH);
					c = p2pmap_sys_chunk(imp, room,
							     va + (i << PAGE_SHIFT));
					if (!c) {
						ret = -ENOMEM;
						break;
					}
				}
				if (!migrated) {
					ret = p2pmap_sys_room(&c, batch - i, left - i);
					if (ret)
						break;
					j = p2pmap_sys_run(imp, c, pl, pfns, i, &ret);
					if (j > i || ret)
						continue;
					j = i + 1;
				}
				flags = (pfns[i] & HMM_PFN_WRITE) ? P2PMAP_EXT_F_WRITE : 0;
				reason = P2PMAP_REASON_SYSTEM_PAGE;
				entry = migrated ? xa_load(&imp->migrated, idx0 + i) : NULL;
				if (entry) {
					flags |= P2PMAP_EXT_F_MIGRATED;
					reason = xa_to_value(entry);
				}
				/*
				 * Merge physically contiguous pages with the
				 * same permission, page size and reason; the
				 * rest of a huge mapping in one step.
				 */
				order = hmm_pfn_to_map_order(pfns[i]);
				if (order && !migrated)
					j = p2pmap_huge_run(pfns, i, batch,
							    PHYS_PFN(va), order);
				ret = p2pmap_sys_room(&c, 1, left - i);
				if (ret)
					break;
				ret = p2pmap_sys_append(imp, c, pl,
							hmm_pfn_to_page(pfns[i]),
							j - i, flags, order, reason);
				continue;
			}
			if (c) {
				ret = p2pmap_sys_finish(imp, c, pl, ret, out);
				c = NULL;
				if (ret)
					break;
			}
			if (kind == P2PMAP_PFN_COW) {
				ret = p2pmap_migrate_add(mig, va + (i << PAGE_SHIFT),
							 P2PMAP_REASON_NONE);
				continue;
			}
			pgmap = page_pgmap(hmm_pfn_to_page(pfns[i]));
			while (j < batch &&
			       p2pmap_pfn_kind(imp, pfns[j]) == P2PMAP_PFN_DEVPRIV &&
			       page_pgmap(hmm_pfn_to_page(pfns[j])) == pgmap)
				j++;
			ret = p2pmap_sys_devpriv(imp, &pfns[i], va + (i << PAGE_SHIFT),
						 j - i, out, holds, mig);
		}
		va += batch << PAGE_SHIFT;
		npages -= batch;
		left -= batch;
	}
	if (c)
		ret = p2pmap_sys_finish(imp, c, pl, ret, out);
	if (pfns != small_pfns)
		kvfree(pfns);
	return ret;
}

/*
 * Move the pages on @mig to system memory, each on its own: fault it with
 * a range that does not own device-private memory, so the fault calls its
 * exporter's migrate_to_ram() (and breaks copy-on-write for a writing
 * import). The migration invalidates the import, so the map starts over;
 * the pages the exporter could not peer-map are remembered with its reason.
 * Called without mmap_lock.
 */
int p2pmap_migrate_to_ram(struct p2pmap_import *imp,
			  const struct p2pmap_migrate_list *mig)
{
	unsigned int i, tries;
	int ret = 0;

	for (i = 0; i < mig->nr && !ret; i++) {
		unsigned long hpfn;
		struct hmm_range range = {
			.notifier = &imp->notifier,
			.start = mig->va[i],
			.end = mig->va[i] + PAGE_SIZE,
			.hmm_pfns = &hpfn,
			.default_flags = HMM_PFN_REQ_FAULT |
					 (imp->write ? HMM_PFN_REQ_WRITE : 0),
		};

		for (tries = 0; tries < 16; tries++) {
			range.notifier_seq = mmu_interval_read_begin(&imp->notifier);
			mmap_read_lock(imp->mm);
			ret = hmm_range_fault(&range);
			mmap_read_unlock(imp->mm);
			if (ret != -EBUSY)
				break;
		}
		if (ret == -EBUSY)
			ret = -EAGAIN;
		if (ret) {
			pr_warn_ratelimited("import: cannot move device-private page at 0x%lx to system memory: %d\n",
					    mig->va[i], ret);
			break;
		}
		/* Best effort: without the entry the page reports as system. */
		if (mig->reason[i] != P2PMAP_REASON_NONE)
			xa_store(&imp->migrated, (mig->va[i] - imp->start) >> PAGE_SHIFT,
				 xa_mk_value(mig->reason[i]), GFP_KERNEL);
	}
	return ret ? ret : -EAGAIN;
}
