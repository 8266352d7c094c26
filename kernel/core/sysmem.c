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

	if (!(hpfn & HMM_PFN_VALID) || !is_device_private_page(page))
		return P2PMAP_PFN_SYSTEM;
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
	 * for CONFIG_INIT_STACK_ALL_ZERO to clear it on every call.
	 */
	unsigned long small_pfns[P2PMAP_SMALL_RANGE] __uninitialized;
	unsigned long left = npages, *pfns = small_pfns;
	/* System pages go into one chunk until a device-private run. */
	struct p2pmap_chunk *c = NULL;
	int ret = 0;

	if (npages > P2PMAP_SMALL_RANGE) {
		pfns = kvmalloc_array(min_t(unsigned long, npages, P2PMAP_EXT_BATCH),
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
		idx0 = (va - imp->start) >> PAGE_SHIFT;
		for (i = 0; i < batch && !ret; i = j) {
			enum p2pmap_pfn_kind kind = p2pmap_pfn_kind(imp, pfns[i]);
			struct dev_pagemap *pgmap;
			u8 flags, reason, order;
			void *entry;

			j = i + 1;
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
