// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap imports of user VA ranges.
 *
 * This file owns struct p2pmap_import: an importer's view of a range of a
 * process's address space, its mmu interval notifier, the sequence protocol
 * that covers CPU-side and exporter-side invalidations alike, the resolve
 * step (provider VMAs through ops->p2p_map(), plain memory through
 * hmm_range_fault(), device-private pages of providers through
 * ops->p2p_map_pages() or, when they cannot be peer-mapped, migration of
 * exactly those pages to system memory), the DMA mapping of every extent for the importer's
 * device, the placement report, exporter events
 * (p2pmap_provider_invalidate()) and the revoke of every import of a
 * provider that is going away. The lock order and lifetime rules it relies
 * on are the DOC: section of include/linux/p2pmap.h; the ones specific to
 * this file are next to the code below.
 */

#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/interval_tree.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "import.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * Every live import, for the debugfs "imports" file only. The lock is a
 * leaf except in p2pmap_imports_show(), which takes import->lock inside it.
 */
static LIST_HEAD(p2pmap_all_imports);
static DEFINE_MUTEX(p2pmap_all_imports_lock);

static bool p2pmap_import_mni_invalidate(struct mmu_interval_notifier *mni,
					 const struct mmu_notifier_range *range,
					 unsigned long cur_seq)
{
	struct p2pmap_import *imp = container_of(mni, struct p2pmap_import, notifier);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&imp->lock);
	else if (!mutex_trylock(&imp->lock))
		return false;
	mmu_interval_set_seq(mni, cur_seq);
	p2pmap_import_drop_locked(imp, P2PMAP_EV_CPU);
	if (range->event == MMU_NOTIFY_UNMAP && !xa_empty(&imp->migrated)) {
		unsigned long first = (max(range->start, imp->start) - imp->start) >> PAGE_SHIFT;
		unsigned long last = (min(range->end, imp->start + (imp->npages << PAGE_SHIFT)) -
				      imp->start - 1) >> PAGE_SHIFT;
		unsigned long idx;
		void *entry;

		/* Erasing never allocates: fine from reclaim. */
		xa_for_each_range(&imp->migrated, idx, entry, first, last)
			xa_erase(&imp->migrated, idx);
	}
	mutex_unlock(&imp->lock);
	return true;
}

static const struct mmu_interval_notifier_ops p2pmap_import_mni_ops = {
	.invalidate = p2pmap_import_mni_invalidate,
};

/**
 * p2pmap_import_create() - start importing a user VA range
 * @attach: the importer, from p2pmap_attach()
 * @mm: the address space, usually current->mm
 * @start: page-aligned start address
 * @length: page-aligned, non-zero length in bytes
 * @policy: placement policy
 * @write: the importer's device will write to the range
 * @importer_priv: pointer returned by p2pmap_import_priv()
 *
 * Registers an mmu interval notifier over the range. Nothing is resolved
 * or mapped until p2pmap_import_map().
 *
 * An attachment with %P2PMAP_CAP_PIN_ONLY (and without
 * %P2PMAP_CAP_REVALIDATE) makes a pinned import instead: no notifier; the
 * first successful p2pmap_import_map() pins the memory (exporters are asked
 * with &p2pmap_map_req.pin, ordinary memory is pinned with FOLL_LONGTERM)
 * and later calls keep it. CPU-side changes (munmap, fork, migration) do
 * not affect it, as with pin_user_pages(); only an exporter event that must
 * take the memory back (%P2PMAP_EV_RESET, %P2PMAP_EV_UNBIND) invalidates
 * it, after which p2pmap_import_map() pins again or fails.
 *
 * Return: the import, or ERR_PTR(-EINVAL) for bad arguments (with a
 * ratelimited reason in the kernel log), ERR_PTR(-ENOMEM).
 */
struct p2pmap_import *p2pmap_import_create(struct p2pmap_attach *attach,
					   struct mm_struct *mm,
					   unsigned long start,
					   unsigned long length,
					   enum p2pmap_policy policy,
					   bool write, void *importer_priv)
{
	struct p2pmap_import *imp;
	int ret;

	if (!attach || !mm) {
		pr_warn_ratelimited("import: no attachment or mm\n");
		return ERR_PTR(-EINVAL);
	}
	if (!length || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(length) ||
	    start + length < start || start + length > mm->task_size) {
		pr_warn_ratelimited("import: bad range 0x%lx+0x%lx (page-aligned, non-empty, inside the user address space)\n",
				    start, length);
		return ERR_PTR(-EINVAL);
	}
	if (policy != P2PMAP_PREFER_P2P && policy != P2PMAP_REQUIRE_P2P &&
	    policy != P2PMAP_SYSMEM_ONLY) {
		pr_warn_ratelimited("import: unknown placement policy %d\n", policy);
		return ERR_PTR(-EINVAL);
	}
	if (!(attach->caps & (P2PMAP_CAP_REVALIDATE | P2PMAP_CAP_PIN_ONLY))) {
		pr_warn_ratelimited("import: %s neither revalidates nor pins (P2PMAP_CAP_REVALIDATE or P2PMAP_CAP_PIN_ONLY)\n",
				    dev_name(attach->dev));
		return ERR_PTR(-EINVAL);
	}

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return ERR_PTR(-ENOMEM);
	imp->attach = attach;
	imp->mm = mm;
	imp->start = start;
	imp->npages = length >> PAGE_SHIFT;
	imp->policy = policy;
	imp->write = write;
	imp->pinned = !(attach->caps & P2PMAP_CAP_REVALIDATE);
	imp->priv = importer_priv;
	mutex_init(&imp->lock);
	xa_init(&imp->migrated);
	INIT_LIST_HEAD(&imp->chunks);
	INIT_LIST_HEAD(&imp->links);
	if (imp->npages <= P2PMAP_SMALL_RANGE) {
		imp->spare = p2pmap_chunk_alloc(P2PMAP_SMALL_RANGE, false);
		if (!imp->spare) {
			kfree(imp);
			return ERR_PTR(-ENOMEM);
		}
	}

	mmgrab(mm);
	/*
	 * A pinned import keeps its memory whatever the CPU side does (like
	 * pin_user_pages()), so it has no notifier: only exporter events that
	 * must take the memory back (reset, unbind) invalidate it.
	 */
	ret = imp->pinned ? 0 :
		mmu_interval_notifier_insert(&imp->notifier, mm, start, length,
					     &p2pmap_import_mni_ops);
	if (ret) {
		mmdrop(mm);
		kvfree(imp->spare);
		kfree(imp);
		return ERR_PTR(ret);
	}
	imp->pid = task_tgid_nr(current);
	atomic_inc(&attach->nr_imports);
	mutex_lock(&p2pmap_all_imports_lock);
	list_add_tail(&imp->all_node, &p2pmap_all_imports);
	mutex_unlock(&p2pmap_all_imports_lock);
	return imp;
}
EXPORT_SYMBOL_GPL(p2pmap_import_create);

/*
 * Remove the link of @imp to @prov, if it is still there: the provider's
 * revoke may have removed (and freed) it since the caller looked. The
 * caller holds a reference on @prov. Takes provider->lock then
 * import->lock.
 */
static void p2pmap_import_unlink(struct p2pmap_import *imp,
				 struct p2pmap_provider *prov)
{
	struct p2pmap_link *l, *found = NULL;

	mutex_lock(&prov->lock);
	mutex_lock(&imp->lock);
	list_for_each_entry(l, &imp->links, imp_node) {
		if (l->prov == prov) {
			found = l;
			list_del(&l->prov_node);
			list_del(&l->imp_node);
			break;
		}
	}
	mutex_unlock(&imp->lock);
	wake_up_all(&prov->revoke_wq);
	mutex_unlock(&prov->lock);
	kfree(found);
	if (found)
		kref_put(&prov->kref, p2pmap_provider_release);
}

/**
 * p2pmap_import_destroy() - stop importing and free the import
 * @imp: the import; may be an ERR_PTR or NULL, which is ignored
 *
 * Removes the notifier, releases every extent (the importer's invalidate
 * callback runs first if extents are mapped) and drops all references.
 * Must not be called with p2pmap_import_lock() held.
 */
void p2pmap_import_destroy(struct p2pmap_import *imp)
{
	struct p2pmap_link *l;

	if (IS_ERR_OR_NULL(imp))
		return;
	mutex_lock(&p2pmap_all_imports_lock);
	list_del(&imp->all_node);
	mutex_unlock(&p2pmap_all_imports_lock);
	if (!imp->pinned)
		mmu_interval_notifier_remove(&imp->notifier);
	mutex_lock(&imp->lock);
	p2pmap_import_drop_locked(imp, P2PMAP_EV_CPU);
	mutex_unlock(&imp->lock);
	/*
	 * The list only shrinks here and in a provider's revoke, which
	 * unlinks and frees links under provider->lock and import->lock. A
	 * link seen under import->lock is valid and holds its provider, so
	 * the provider reference taken here keeps it alive while the link
	 * itself may go away before p2pmap_import_unlink() looks again.
	 */
	for (;;) {
		struct p2pmap_provider *prov = NULL;

		mutex_lock(&imp->lock);
		l = list_first_entry_or_null(&imp->links, struct p2pmap_link, imp_node);
		if (l) {
			prov = l->prov;
			kref_get(&prov->kref);
		}
		mutex_unlock(&imp->lock);
		if (!prov)
			break;
		p2pmap_import_unlink(imp, prov);
		kref_put(&prov->kref, p2pmap_provider_release);
	}
	atomic_dec(&imp->attach->nr_imports);
	mmdrop(imp->mm);
	xa_destroy(&imp->migrated);
	mutex_destroy(&imp->lock);
	/* Every chunk is released: a small one is back here. */
	kvfree(imp->spare);
	kfree(imp);
}
EXPORT_SYMBOL_GPL(p2pmap_import_destroy);

/**
 * p2pmap_import_priv() - the importer's private pointer
 * @imp: the import
 *
 * Return: the @importer_priv given to p2pmap_import_create().
 */
void *p2pmap_import_priv(const struct p2pmap_import *imp)
{
	return imp->priv;
}
EXPORT_SYMBOL_GPL(p2pmap_import_priv);

/**
 * p2pmap_import_begin() - take a sequence snapshot before mapping
 * @imp: the import
 *
 * May sleep until a running invalidation of the range has finished.
 *
 * Return: the snapshot to pass to p2pmap_import_map() and
 * p2pmap_import_retry().
 */
struct p2pmap_seq p2pmap_import_begin(struct p2pmap_import *imp)
{
	struct p2pmap_seq seq;

	seq.mmu = imp->pinned ? 0 : mmu_interval_read_begin(&imp->notifier);
	/*
	 * No lock: @gen only grows (under @lock), and the check under @lock
	 * in p2pmap_import_retry() decides. A value read early only costs a
	 * round; the acquire keeps the read before every access of the
	 * resolve that follows, so a resolve can never pair exporter state
	 * from before an event with the generation after it.
	 */
	seq.gen = smp_load_acquire(&imp->gen);
	return seq;
}
EXPORT_SYMBOL_GPL(p2pmap_import_begin);

/**
 * p2pmap_import_lock() - take the import's notifier lock
 * @imp: the import
 *
 * Importers hold it around p2pmap_import_retry() and the programming of
 * their device from p2pmap_import_extents(). Invalidations wait for it.
 */
void p2pmap_import_lock(struct p2pmap_import *imp)
{
	mutex_lock(&imp->lock);
}
EXPORT_SYMBOL_GPL(p2pmap_import_lock);

/**
 * p2pmap_import_unlock() - release the import's notifier lock
 * @imp: the import
 */
void p2pmap_import_unlock(struct p2pmap_import *imp)
{
	mutex_unlock(&imp->lock);
}
EXPORT_SYMBOL_GPL(p2pmap_import_unlock);

/**
 * p2pmap_import_retry() - has the range been invalidated since @seq?
 * @imp: the import, with p2pmap_import_lock() held
 * @seq: the snapshot from p2pmap_import_begin()
 *
 * Return: true if the importer must start over from p2pmap_import_begin().
 */
bool p2pmap_import_retry(struct p2pmap_import *imp, const struct p2pmap_seq *seq)
{
	lockdep_assert_held(&imp->lock);
	return (!imp->pinned &&
		mmu_interval_read_retry(&imp->notifier, seq->mmu)) ||
	       imp->gen != seq->gen || !imp->nr_flat;
}
EXPORT_SYMBOL_GPL(p2pmap_import_retry);

/**
 * p2pmap_import_extents() - the import's current extents
 * @imp: the import, with p2pmap_import_lock() held and
 *	p2pmap_import_retry() false
 * @nr: set to the number of extents
 *
 * Return: the extents in VA order, valid until p2pmap_import_unlock().
 */
const struct p2pmap_extent *p2pmap_import_extents(struct p2pmap_import *imp,
						  unsigned int *nr)
{
	lockdep_assert_held(&imp->lock);
	*nr = imp->nr_flat;
	return imp->flat;
}
EXPORT_SYMBOL_GPL(p2pmap_import_extents);

/**
 * p2pmap_import_placement() - where the current extents landed
 * @imp: the import
 * @out: pages by extent type and by fallback reason; all zero when the
 *	import holds no extents
 */
void p2pmap_import_placement(struct p2pmap_import *imp,
			     struct p2pmap_placement *out)
{
	mutex_lock(&imp->lock);
	p2pmap_import_placement_locked(imp, out);
	mutex_unlock(&imp->lock);
}
EXPORT_SYMBOL_GPL(p2pmap_import_placement);

/**
 * p2pmap_import_placement_locked() - p2pmap_import_placement(), lock held
 * @imp: the import, with p2pmap_import_lock() held
 * @out: as for p2pmap_import_placement()
 *
 * For an importer that reads the placement of the extents it programs in
 * the same critical section as p2pmap_import_extents().
 */
void p2pmap_import_placement_locked(struct p2pmap_import *imp,
				    struct p2pmap_placement *out)
{
	lockdep_assert_held(&imp->lock);
	*out = imp->placement;
}
EXPORT_SYMBOL_GPL(p2pmap_import_placement_locked);

/**
 * p2pmap_import_dma_sgt_nents() - scatterlist entries the extents need
 * @imp: the import, with p2pmap_import_lock() held and
 *	p2pmap_import_retry() false
 * @max_seg: largest segment in bytes the importing device takes, a
 *	non-zero multiple of PAGE_SIZE
 *
 * For importers that hand the import on as an sg_table (a dma-buf, an RDMA
 * peer-memory client): size the table with this, then fill it with
 * p2pmap_import_fill_dma_sgt() under the same sequence.
 *
 * Return: the entries needed, each extent split at @max_seg; -EIO if an
 * extent is an error extent (there is nothing to describe); -EINVAL for
 * a bad @max_seg; -E2BIG above INT_MAX.
 */
int p2pmap_import_dma_sgt_nents(struct p2pmap_import *imp,
				unsigned int max_seg)
{
	u64 n = 0;
	unsigned int i;

	lockdep_assert_held(&imp->lock);
	if (!max_seg || !PAGE_ALIGNED(max_seg)) {
		pr_warn_ratelimited("sg_table: segment size %u is not a page multiple\n",
				    max_seg);
		return -EINVAL;
	}
	for (i = 0; i < imp->nr_flat; i++) {
		const struct p2pmap_extent *e = &imp->flat[i];

		if (e->type != P2PMAP_EXT_P2P && e->type != P2PMAP_EXT_SYSMEM)
			return -EIO;
		n += DIV_ROUND_UP((u64)e->npages << PAGE_SHIFT, max_seg);
	}
	return n <= INT_MAX ? (int)n : -E2BIG;
}
EXPORT_SYMBOL_GPL(p2pmap_import_dma_sgt_nents);

/**
 * p2pmap_import_fill_dma_sgt() - describe the extents in a DMA-only sg_table
 * @imp: the import, with p2pmap_import_lock() held and
 *	p2pmap_import_retry() false
 * @sgt: a table of at least p2pmap_import_dma_sgt_nents() entries
 * @max_seg: as given to p2pmap_import_dma_sgt_nents()
 *
 * Sets the DMA address and length of one entry per segment, in VA order,
 * marks the last one the end and sets @sgt->nents (@sgt->orig_nents, the
 * allocated size, stays for sg_free_table()). The entries carry no page:
 * peer memory has no struct page an importer may touch, so importers
 * program their device from the DMA side only. Does not allocate: callable
 * under the import lock.
 *
 * Return: the entries filled; -ENOSPC if @sgt is too small, -EIO or
 * -EINVAL as p2pmap_import_dma_sgt_nents() (the table is then unusable).
 */
int p2pmap_import_fill_dma_sgt(struct p2pmap_import *imp,
			       struct sg_table *sgt, unsigned int max_seg)
{
	struct scatterlist *sg = sgt->sgl, *last = NULL;
	int need = p2pmap_import_dma_sgt_nents(imp, max_seg);
	unsigned int i, n = 0;

	if (need < 0)
		return need;
	if (need > sgt->orig_nents) {
		pr_warn_ratelimited("sg_table: %u entries, the extents need %d\n",
				    sgt->orig_nents, need);
		return -ENOSPC;
	}
	for (i = 0; i < imp->nr_flat; i++) {
		u64 left = (u64)imp->flat[i].npages << PAGE_SHIFT;
		dma_addr_t addr = imp->flat[i].dma_addr;

		while (left) {
			unsigned int seg = min_t(u64, left, max_seg);

			sg_set_page(sg, NULL, 0, 0);
			sg->length = seg;
			sg_dma_address(sg) = addr;
			sg_dma_len(sg) = seg;
			addr += seg;
			left -= seg;
			last = sg;
			sg = sg_next(sg);
			n++;
		}
	}
	if (last)
		sg_mark_end(last);
	sgt->nents = n;
	return n;
}
EXPORT_SYMBOL_GPL(p2pmap_import_fill_dma_sgt);

#if IS_ENABLED(CONFIG_HMM_MIRROR)
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
 * system memory: they need neither p2pmap_pfn_kind() nor a merge test each
 * (that per-page pass was most of the cost of importing THP-backed
 * memory, which took 2.0-3.5x the page walk of test_hmm at 512 pages and
 * 0.74-0.78x without it, in one boot of the release test kernel).
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
static __always_inline bool p2pmap_sys_page(unsigned long hpfn,
					    unsigned long floor)
{
	unsigned long top = P2PMAP_HPFN_TOP(hpfn);
	struct page *page = hmm_pfn_to_page(hpfn);

	if (top != P2PMAP_HPFN_TOP_R && top != P2PMAP_HPFN_TOP_W)
		return false;
	if (page_to_pfn(page) >= floor)
		return !is_device_private_page(page);
	if (IS_ENABLED(CONFIG_DEBUG_VM) && is_device_private_page(page)) {
		WARN_ONCE(1, "p2pmap: device-private pfn %#lx below the end of RAM, of a pagemap never added\n",
			  page_to_pfn(page));
		return false;
	}
	return true;
}

/* p2pmap_sys_page(), out of the loop (pages at or above the floor). */
static noinline bool p2pmap_sys_page_checked(unsigned long hpfn,
					     unsigned long floor)
{
	return p2pmap_sys_page(hpfn, floor);
}

/*
 * The pfn from which a page reported by hmm_range_fault() may be
 * device-private: the lowest pfn of the pagemaps providers added, or the
 * end of RAM, whichever is lower. Device-private memory is not RAM: it
 * takes physical addresses nothing else uses, and request_free_mem_region()
 * hands them out from the top of the physical address space down, so a
 * pagemap an exporter failed to add is above RAM too. Read after the walk
 * read the page tables (smp_rmb()): a page the walk found in a pagemap was
 * migrated there after the pagemap was added.
 */
static unsigned long p2pmap_sys_floor(void)
{
	unsigned long ram_end;

	/* Pairs with the pagemap's addition before the page table update. */
	smp_rmb();
	ram_end = PHYS_PFN(__pa(READ_ONCE(high_memory) - 1)) + 1;
	return min(READ_ONCE(p2pmap_devpriv_first), ram_end);
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
 * This runs once per page, so it is kept lean for emulation too (the VM
 * tests and benchmarks), where every memory access costs: the entry is
 * compared with one constant and one limit; an extent is written in four
 * stores; nothing but the loop's own state is live across the mapping
 * call, and the entry is read again after it rather than saved.
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
		    !p2pmap_sys_page_checked(hpfn, r->floor))
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
static noinline const unsigned long *
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
static noinline unsigned long p2pmap_sys_run(struct p2pmap_import *imp,
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
static int p2pmap_resolve_system(struct p2pmap_import *imp,
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
		.dev_private_owner = &p2pmap_owner_cookie,
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
			pgmap = hmm_pfn_to_page(pfns[i])->pgmap;
			while (j < batch &&
			       p2pmap_pfn_kind(imp, pfns[j]) == P2PMAP_PFN_DEVPRIV &&
			       hmm_pfn_to_page(pfns[j])->pgmap == pgmap)
				j++;
			ret = p2pmap_resolve_devpriv(imp, &pfns[i], va + (i << PAGE_SHIFT),
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
static int p2pmap_migrate_to_ram(struct p2pmap_import *imp,
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
#else
static int p2pmap_resolve_system(struct p2pmap_import *imp,
				 const struct p2pmap_seq *seq,
				 unsigned long va, unsigned long npages,
				 struct list_head *out, struct list_head *holds,
				 struct p2pmap_migrate_list **mig,
				 struct p2pmap_placement *pl)
{
	pr_warn_ratelimited("import: kernel built without CONFIG_HMM_MIRROR: cannot import ordinary memory\n");
	return -EOPNOTSUPP;
}

static int p2pmap_migrate_to_ram(struct p2pmap_import *imp,
				 const struct p2pmap_migrate_list *mig)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * Resolve the whole range into @out; chunks of ordinary memory come back
 * DMA-mapped and counted into @pl. Caller holds a reference on the mm.
 */
static int p2pmap_import_resolve(struct p2pmap_import *imp,
				 const struct p2pmap_seq *seq,
				 struct list_head *out, struct list_head *holds,
				 struct p2pmap_placement *pl)
{
	unsigned long va = imp->start;
	unsigned long end = imp->start + (imp->npages << PAGE_SHIFT);
	struct p2pmap_migrate_list *mig = NULL;
	int ret = 0;

	mmap_read_lock(imp->mm);
	while (va < end && !ret) {
		struct vm_area_struct *vma = vma_lookup(imp->mm, va);
		struct p2pmap_provider *prov = NULL;
		struct p2pmap_hold *h;
		unsigned long n;

		if (!vma) {
			pr_warn_ratelimited("import: 0x%lx is not mapped\n", va);
			ret = -EFAULT;
			break;
		}
		if (!(vma->vm_flags & VM_READ) ||
		    (imp->write && !(vma->vm_flags & VM_WRITE))) {
			pr_warn_ratelimited("import: 0x%lx is not %s\n", va,
					    imp->write ? "writable" : "readable");
			ret = -EPERM;
			break;
		}
		n = (min(end, vma->vm_end) - va) >> PAGE_SHIFT;
		if (vma->vm_file)
			prov = p2pmap_provider_find_mapping(vma->vm_file->f_mapping);
		if (!prov) {
			if (imp->policy == P2PMAP_REQUIRE_P2P &&
			    (imp->pinned || !IS_ENABLED(CONFIG_DEVICE_PRIVATE))) {
				pr_warn_ratelimited("import: REQUIRE_P2P but 0x%lx is system memory\n",
						    va);
				ret = -EREMOTEIO;
				break;
			}
			if (vma->vm_flags & (VM_IO | VM_PFNMAP)) {
				pr_warn_ratelimited("import: 0x%lx is device memory no p2pmap provider exports\n",
						    va);
				ret = -EFAULT;
				break;
			}
			if (imp->pinned)
				ret = p2pmap_resolve_pinned(imp, va, n, out, pl);
			else
				ret = p2pmap_resolve_system(imp, seq, va, n, out,
							    holds, &mig, pl);
			if (mig)
				break;
			va += n << PAGE_SHIFT;
			continue;
		}
		ret = p2pmap_import_hold(imp, prov, holds, &h);
		if (!ret)
			ret = p2pmap_resolve_provider(imp, prov, h, vma, va, n, out);
		kref_put(&prov->kref, p2pmap_provider_release);
		va += n << PAGE_SHIFT;
	}
	mmap_read_unlock(imp->mm);
	if (mig && !ret)
		ret = p2pmap_migrate_to_ram(imp, mig);
	kfree(mig);
	return ret;
}

/*
 * Build the flat extent array of @chunks. A single chunk (the common case:
 * one VMA of ordinary memory, or up to P2PMAP_EXT_BATCH pages of one
 * exporter) lends its own extent array, which lives exactly as long as the
 * flat array would (*@borrowed).
 */
static struct p2pmap_extent *p2pmap_flatten(struct list_head *chunks,
					    unsigned int *nr, bool *borrowed)
{
	struct p2pmap_extent *flat;
	struct p2pmap_chunk *c;
	unsigned int n = 0;

	list_for_each_entry(c, chunks, node)
		n += c->req.nr_ext;
	*nr = n;
	*borrowed = n && list_is_singular(chunks);
	if (*borrowed)
		return list_first_entry(chunks, struct p2pmap_chunk, node)->ext;
	flat = kvmalloc_array(n ? n : 1, sizeof(*flat), GFP_KERNEL);
	if (!flat)
		return NULL;
	n = 0;
	list_for_each_entry(c, chunks, node) {
		memcpy(&flat[n], c->ext, array_size(c->req.nr_ext, sizeof(*flat)));
		n += c->req.nr_ext;
	}
	return flat;
}

/*
 * p2pmap_import_map() and p2pmap_import_map_and_lock(): with @keep_lock,
 * success returns with @imp->lock held and the new extents valid.
 */
static int p2pmap_import_map_common(struct p2pmap_import *imp,
				    const struct p2pmap_seq *seq, bool keep_lock)
{
	/* Counted extent by extent as the extents are DMA-mapped. */
	struct p2pmap_placement pl = {};
	struct p2pmap_extent *flat;
	struct p2pmap_chunk *c;
	LIST_HEAD(chunks);
	LIST_HEAD(holds);
	bool borrowed;
	unsigned int nr;
	int ret;

	if (imp->pinned) {
		/* Pinned memory stays put: map once, until an exporter event. */
		mutex_lock(&imp->lock);
		ret = imp->nr_flat && imp->gen == seq->gen;
		if (!ret || !keep_lock)
			mutex_unlock(&imp->lock);
		if (ret)
			return 0;
	}
	if (!mmget_not_zero(imp->mm))
		return -ESRCH;
	ret = p2pmap_import_resolve(imp, seq, &chunks, &holds, &pl);
	mmput(imp->mm);
	if (!ret) {
		/* Chunks of ordinary memory were mapped as they were built. */
		list_for_each_entry(c, &chunks, node) {
			if (c->dma_mapped)
				continue;
			ret = p2pmap_chunk_dma_map(imp, c, &pl);
			if (ret)
				break;
		}
	}
	flat = ret ? NULL : p2pmap_flatten(&chunks, &nr, &borrowed);
	if (!ret && !flat)
		ret = -ENOMEM;
	if (ret)
		goto undo;

	mutex_lock(&imp->lock);
	if ((!imp->pinned && mmu_interval_read_retry(&imp->notifier, seq->mmu)) ||
	    imp->gen != seq->gen) {
		mutex_unlock(&imp->lock);
		if (!borrowed)
			kvfree(flat);
		ret = -EAGAIN;
		goto undo;
	}
	/*
	 * A previous mapping is replaced the way an invalidation would drop
	 * it: the importer is told to stop first. Its chunks are released
	 * under the lock, while our holds still keep their providers alive.
	 */
	if (!list_empty(&imp->chunks))
		p2pmap_import_drop_locked(imp, P2PMAP_EV_REMAP);
	list_for_each_entry(c, &chunks, node)
		p2pmap_chunk_install(imp, c);
	list_splice_init(&chunks, &imp->chunks);
	imp->flat = flat;
	imp->flat_borrowed = borrowed;
	imp->nr_flat = nr;
	imp->placement = pl;
	trace_p2pmap_map(imp, imp->start, imp->npages, pl.p2p_pages,
			 pl.sysmem_pages, pl.error_pages);
	/*
	 * Valid while the lock is held: every invalidation takes it. Holds
	 * on providers are given back under provider->lock, which nests
	 * outside it: then the lock is dropped, and taken again to check.
	 */
	if (keep_lock && list_empty(&holds))
		return 0;
	mutex_unlock(&imp->lock);
	if (!list_empty(&holds))
		p2pmap_import_unhold(imp, &holds);
	if (keep_lock) {
		mutex_lock(&imp->lock);
		if (p2pmap_import_retry(imp, seq)) {
			mutex_unlock(&imp->lock);
			return -EAGAIN;
		}
	}
	return 0;

undo:
	p2pmap_chunks_release(imp, &chunks);
	if (!list_empty(&holds))
		p2pmap_import_unhold(imp, &holds);
	return ret;
}

/**
 * p2pmap_import_map() - resolve and DMA-map the range for the importer
 * @imp: the import
 * @seq: the snapshot from p2pmap_import_begin()
 *
 * Finds each VMA of the range: memory a provider exports is resolved
 * through that provider's p2p_map() according to the placement policy,
 * ordinary memory through hmm_range_fault(). Every extent is then mapped
 * for the importer's device. Must be called without p2pmap_import_lock().
 *
 * Return: 0 when the new extents are installed (the importer still checks
 * p2pmap_import_retry() under p2pmap_import_lock() before using them),
 * -EAGAIN if the range was invalidated meanwhile (start over),
 * -EREMOTEIO (REQUIRE_P2P without a route), -ENOSPC (REQUIRE_P2P and the
 * peer window is exhausted), -EFAULT (unmapped, or device memory nobody
 * exports), -EPERM (permissions), -ENODEV (provider gone), -ESRCH (the
 * process exited), -ENOMEM, -EIO (broken exporter).
 */
int p2pmap_import_map(struct p2pmap_import *imp, const struct p2pmap_seq *seq)
{
	return p2pmap_import_map_common(imp, seq, false);
}
EXPORT_SYMBOL_GPL(p2pmap_import_map);

/**
 * p2pmap_import_map_and_lock() - p2pmap_import_map(), returning locked
 * @imp: the import
 * @seq: the snapshot from p2pmap_import_begin()
 *
 * Like p2pmap_import_map(), but on success it returns with
 * p2pmap_import_lock() held and the extents it installed still valid: the
 * importer programs its device from p2pmap_import_extents() and calls
 * p2pmap_import_unlock(), with no p2pmap_import_retry() in between and no
 * window for an invalidation between the install and the programming
 * (what ib_umem_odp_map_dma_and_lock() is to RDMA ODP). A pinned import
 * that is already mapped is returned locked at once. Must be called
 * without p2pmap_import_lock().
 *
 * Return: 0 with the import lock held; otherwise the lock is not held and
 * the errors are those of p2pmap_import_map().
 */
int p2pmap_import_map_and_lock(struct p2pmap_import *imp,
			       const struct p2pmap_seq *seq)
{
	return p2pmap_import_map_common(imp, seq, true);
}
EXPORT_SYMBOL_GPL(p2pmap_import_map_and_lock);

static const char *const p2pmap_policy_names[] = {
	[P2PMAP_PREFER_P2P] = "prefer_p2p",
	[P2PMAP_REQUIRE_P2P] = "require_p2p",
	[P2PMAP_SYSMEM_ONLY] = "sysmem_only",
};

/**
 * p2pmap_imports_show() - the debugfs "imports" file
 * @m: seq_file to print to
 *
 * One line per live import: importer device, process, VA range, policy,
 * exporter-event generation, extents and placement by type and reason.
 */
void p2pmap_imports_show(struct seq_file *m)
{
	struct p2pmap_import *imp;
	unsigned int r;

	seq_puts(m, "importer pid start pages policy gen extents p2p sysmem error reasons\n");
	mutex_lock(&p2pmap_all_imports_lock);
	list_for_each_entry(imp, &p2pmap_all_imports, all_node) {
		mutex_lock(&imp->lock);
		seq_printf(m, "%s %d 0x%lx %lu %s%s %lu %u %lu %lu %lu",
			   dev_name(imp->attach->dev), imp->pid, imp->start,
			   imp->npages, p2pmap_policy_names[imp->policy],
			   imp->pinned ? "/pinned" : "",
			   imp->gen, imp->nr_flat, imp->placement.p2p_pages,
			   imp->placement.sysmem_pages, imp->placement.error_pages);
		for (r = 1; r < P2PMAP_REASON_NR; r++)
			if (imp->placement.reason_pages[r])
				seq_printf(m, " %s=%lu", p2pmap_reason_name(r),
					   imp->placement.reason_pages[r]);
		seq_putc(m, '\n');
		mutex_unlock(&imp->lock);
	}
	mutex_unlock(&p2pmap_all_imports_lock);
}
