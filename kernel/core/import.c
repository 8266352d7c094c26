// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap imports of user VA ranges.
 *
 * This file owns the life of struct p2pmap_import (import.h): an importer's
 * view of a range of a process's address space, its mmu interval notifier,
 * the sequence protocol that covers CPU-side and exporter-side
 * invalidations alike (begin, lock, retry), the accessors importers read
 * the extents and placement with, and the map: the walk over the VMAs of
 * the range, which hands memory a provider exports to resolve.c, ordinary
 * memory to sysmem.c (or, for a pinned import, to resolve.c), then
 * DMA-maps the exporters' chunks (chunk.c) and installs the result.
 * Exporter events and revoke are event.c's. The lock order and lifetime
 * rules it relies on are the DOC: sections of include/linux/p2pmap.h; the
 * ones specific to this file are next to the code below.
 */

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "import.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* The sparse-only wrapper of <linux/p2pmap.h> is for callers. */
#undef p2pmap_import_map_and_lock

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
 * or mapped until p2pmap_import_map_and_lock().
 *
 * An attachment with %P2PMAP_CAP_PIN_ONLY (and without
 * %P2PMAP_CAP_REVALIDATE) makes a pinned import instead: no notifier; the
 * first successful p2pmap_import_map_and_lock() pins the memory (exporters are asked
 * with %P2PMAP_REQ_PIN, ordinary memory is pinned with FOLL_LONGTERM)
 * and later calls keep it. CPU-side changes (munmap, fork, migration) do
 * not affect it, as with pin_user_pages(); only an exporter event that must
 * take the memory back (%P2PMAP_EV_RESET, %P2PMAP_EV_UNBIND) invalidates
 * it, after which p2pmap_import_map_and_lock() pins again or fails.
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
	/*
	 * The mmu notifier takes @lock from reclaim (DOC: Locking): teach
	 * lockdep, so that an allocation that may reclaim under it is
	 * reported even when no reclaim happens, as drm_gpusvm_init() does
	 * for its notifier lock.
	 */
	if (IS_ENABLED(CONFIG_LOCKDEP)) {
		fs_reclaim_acquire(GFP_KERNEL);
		might_lock(&imp->lock);
		fs_reclaim_release(GFP_KERNEL);
	}
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
		p2pmap_provider_put(prov);
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
			p2pmap_provider_get(prov);
		}
		mutex_unlock(&imp->lock);
		if (!prov)
			break;
		p2pmap_import_unlink(imp, prov);
		p2pmap_provider_put(prov);
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
 * Return: the snapshot to pass to p2pmap_import_map_and_lock() and
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
	__acquires(imp)
{
	mutex_lock(&imp->lock);
	__acquire(imp);
}
EXPORT_SYMBOL_GPL(p2pmap_import_lock);

/**
 * p2pmap_import_unlock() - release the import's notifier lock
 * @imp: the import
 */
void p2pmap_import_unlock(struct p2pmap_import *imp)
	__releases(imp)
{
	__release(imp);
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

#if P2PMAP_P2PDMA_PROVIDER
/**
 * p2pmap_import_p2pdma_ranges() - the import as MMIO ranges of one PCI BAR
 * @imp: the import, with p2pmap_import_lock() held and
 *	p2pmap_import_retry() false
 * @vec: room for at least p2pmap_import_dma_sgt_nents() entries
 * @nr: (out) entries filled, physically adjacent extents merged
 * @size: (out) bytes in them
 *
 * For the range dma-buf, which hands such an import to the PCI core's
 * dma_buf_phys_vec_to_sgt() (6.19) instead of its own table. Only an
 * import that is wholly peer memory of one provider, which has the PCI
 * core's provider of its BAR, and that the importer reaches by bus address
 * qualifies. A host-bridge route does not: the import already mapped those
 * extents with dma_map_resource() (dma_map_phys() with %DMA_ATTR_MMIO
 * since 6.18, the call the helper makes without an IOMMU), and handing
 * them over too would map the BAR twice. Internal to p2pmap.ko.
 *
 * Return: the PCI core's provider, with @vec, @nr and @size set; NULL if
 * the import does not qualify (@vec is then undefined).
 */
struct p2pdma_provider *p2pmap_import_p2pdma_ranges(struct p2pmap_import *imp,
						    struct phys_vec *vec,
						    unsigned int *nr,
						    size_t *size)
{
	struct p2pdma_provider *p2pdma = NULL;
	struct p2pmap_provider *prov = NULL;
	struct p2pmap_chunk *c;
	unsigned int i, n = 0;
	size_t total = 0;

	lockdep_assert_held(&imp->lock);
	list_for_each_entry(c, &imp->chunks, node) {
		if (!c->prov || c->route != P2PMAP_ROUTE_BUS_ADDR ||
		    !c->prov->p2pdma || (prov && c->prov != prov))
			return NULL;
		prov = c->prov;
		for (i = 0; i < c->req.nr_ext; i++) {
			const struct p2pmap_extent *e = &c->ext[i];
			size_t len = (size_t)e->npages << PAGE_SHIFT;

			if (e->type != P2PMAP_EXT_P2P)
				return NULL;
			if (n && vec[n - 1].paddr + vec[n - 1].len == e->phys) {
				vec[n - 1].len += len;
			} else {
				vec[n].paddr = e->phys;
				vec[n].len = len;
				n++;
			}
			total += len;
		}
	}
	if (prov)
		p2pdma = prov->p2pdma;
	*nr = n;
	*size = total;
	return n ? p2pdma : NULL;
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
		struct p2pmap_resolve_src src = {};
		struct p2pmap_provider *prov = NULL;
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
		src.mapping = vma->vm_file->f_mapping;
		src.pgoff = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
		ret = p2pmap_resolve_exporter(imp, prov, holds, &src, va, n, out,
					      &mig);
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

/**
 * p2pmap_import_map_and_lock() - resolve and DMA-map the range, return locked
 * @imp: the import
 * @seq: the snapshot from p2pmap_import_begin()
 *
 * Finds each VMA of the range: memory a provider exports is resolved
 * through that provider's p2p_map() according to the placement policy,
 * ordinary memory through hmm_range_fault() (device-private pages of a
 * provider through its p2p_map_pages()). Every extent is then mapped for
 * the importer's device and installed. On success it returns with
 * p2pmap_import_lock() held and the extents it installed still valid: the
 * importer programs its device from p2pmap_import_extents() and calls
 * p2pmap_import_unlock(), with no p2pmap_import_retry() in between and no
 * window for an invalidation between the install and the programming
 * (what ib_umem_odp_map_dma_and_lock() is to RDMA ODP). A pinned import
 * that is already mapped is returned locked at once. For sparse,
 * <linux/p2pmap.h> wraps it so that it hands the lock context to the
 * caller on 0: test the result for non-zero first (e.g. "if (ret) { if
 * (ret == -EAGAIN) continue; ... }") and sparse follows the lock to
 * p2pmap_import_unlock().
 *
 * Context: process context; must be called without p2pmap_import_lock()
 * and without any lock an invalidation of the range takes.
 * Return: 0 with the import lock held; otherwise the lock is not held:
 * -EAGAIN if the range was invalidated meanwhile (start over from
 * p2pmap_import_begin()), -EREMOTEIO (REQUIRE_P2P without a route),
 * -ENOSPC (REQUIRE_P2P and the peer window is exhausted), -EFAULT
 * (unmapped, or device memory nobody exports), -EPERM (permissions),
 * -ENODEV (provider gone), -ESRCH (the process exited), -ENOMEM, -EIO
 * (broken exporter).
 */
int p2pmap_import_map_and_lock(struct p2pmap_import *imp,
			       const struct p2pmap_seq *seq)
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
		if (!ret)
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
	if (list_empty(&holds))
		return 0;
	mutex_unlock(&imp->lock);
	p2pmap_import_unhold(imp, &holds);
	mutex_lock(&imp->lock);
	if (p2pmap_import_retry(imp, seq)) {
		mutex_unlock(&imp->lock);
		return -EAGAIN;
	}
	return 0;

undo:
	p2pmap_chunks_release(imp, &chunks);
	if (!list_empty(&holds))
		p2pmap_import_unhold(imp, &holds);
	return ret;
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
