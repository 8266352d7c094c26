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

#include "p2pmap_internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Extents asked for per p2p_map() call; the core loops for the rest. */
#define P2PMAP_EXT_BATCH	256
/* Ranges up to this many pages walk with an on-stack pfn array. */
#define P2PMAP_SMALL_RANGE	16

/*
 * A link ties an import to one provider whose memory it may hold. It sits
 * on provider->imports (under provider->lock) and on import->links (under
 * import->lock), so it is added and removed with both locks held, in the
 * documented order. A link holds a provider reference; it outlives every
 * chunk of that provider in the import.
 */
struct p2pmap_link {
	struct list_head prov_node;
	struct list_head imp_node;
	struct p2pmap_provider *prov;
	struct p2pmap_import *imp;
};

/*
 * A hold keeps a provider from finishing its revoke while one
 * p2pmap_import_map() call may still hand memory of it back through
 * p2p_unmap(): it counts in provider->inflight and holds a reference. It
 * is on the caller's list (@node, private) and on provider->resolvers
 * (@prov_node, under provider->lock), where exporter events find the
 * imports that resolve memory they have not installed yet. While the
 * exporter's p2p_map() runs for this hold, @req_task, @req_mapping,
 * @req_first and @req_last (under import->lock) name the calling task and
 * the request's pages: an event that task raises inside that range from
 * within p2p_map() (moving a page before handing out its new location) is
 * already reflected in the extents being built and does not fail the map.
 * For ops->p2p_map_pages() @req_mapping is NULL, the range is the pfns of
 * @req_pages and only events on pages of @req_pages count as its own.
 */
struct p2pmap_hold {
	struct list_head node;
	struct list_head prov_node;
	struct p2pmap_provider *prov;
	struct p2pmap_import *imp;
	struct task_struct *req_task;
	struct address_space *req_mapping;
	pgoff_t req_first;
	pgoff_t req_last;
	struct page **req_pages;
	unsigned long req_npages;
};

/*
 * A chunk is the result of one p2p_map() call (or one hmm_range_fault()
 * or pin_user_pages span when @prov is NULL): the request the exporter
 * saw, which p2p_unmap() gets back unchanged, and the extents, DMA-mapped
 * for the importer. While installed in an import (@in_tree), a provider's
 * chunk is in provider->itree over the page offsets it resolved (@it), and
 * @imp is the import it belongs to. A @small chunk has room for
 * P2PMAP_SMALL_RANGE extents and is its import's spare when released. A
 * chunk of device-private pages
 * (@req.pages, from ops->p2p_map_pages()) is in the tree over the pfns of
 * its pages (lowest to highest; lookups then check the pages themselves),
 * with @req.mapping NULL, and owns the @req.pages array.
 */
struct p2pmap_chunk {
	struct list_head node;
	struct p2pmap_provider *prov;
	struct p2pmap_import *imp;
	struct interval_tree_node it;
	struct p2pmap_map_req req;
	unsigned long va;
	u8 route;
	bool dma_mapped;
	bool in_tree;
	bool user_pinned;
	bool small;
	struct p2pmap_extent ext[];
};

/**
 * struct p2pmap_import - an importer's mapping of a user VA range
 * @attach: the importer (its nr_imports counts this import)
 * @mm: the address space (mmgrab() reference)
 * @start: first byte of the range
 * @npages: length in pages
 * @policy: enum p2pmap_policy
 * @write: the importer writes
 * @pinned: made for a %P2PMAP_CAP_PIN_ONLY importer: no notifier, the
 *	memory is pinned from the first successful map until destroy or the
 *	provider's revoke
 * @priv: importer-private pointer
 * @notifier: interval notifier over [@start, @start + @npages pages);
 *	not registered for @pinned imports
 * @lock: the notifier lock: protects @gen, @chunks, @links, @flat,
 *	@nr_flat, @placement
 * @gen: exporter-event generation, bumped under @lock (WRITE_ONCE(): read
 *	without it by p2pmap_import_begin())
 * @resolving: p2pmap_import_map() calls holding memory of some provider
 *	that is not installed yet
 * @res_mapping: while @resolving, the address space being resolved
 * @res_first: first page offset being resolved in @res_mapping
 * @res_last: last page offset being resolved in @res_mapping
 * @res_any: resolving in more than one address space: every exporter event
 *	of a linked provider counts as overlapping
 * @res_set: @res_mapping, @res_first and @res_last are set (a NULL
 *	@res_mapping is the pfn space of device-private pages)
 * @chunks: current extents (struct p2pmap_chunk.node)
 * @links: providers this import may hold memory of
 * @flat: all extents of @chunks in VA order, for importers
 * @nr_flat: entries in @flat
 * @flat_borrowed: @flat is the extent array of the only chunk (no copy),
 *	freed with it
 * @placement: where the current extents landed
 * @migrated: page index in the import -> xa_mk_value(enum p2pmap_reason)
 *	of device-private pages p2pmap migrated to system memory because
 *	they could not be peer-mapped, so later maps report them (flag
 *	%P2PMAP_EXT_F_MIGRATED, the exporter's reason). An entry goes when
 *	the page is device-private again or the range is unmapped.
 * @spare: an import of at most P2PMAP_SMALL_RANGE pages: a chunk of that
 *	many extents for its ordinary memory, allocated with the import (as
 *	ib_umem_odp allocates its page lists with the umem), so that a map,
 *	or a revalidation after an invalidation, allocates nothing; NULL
 *	while a mapping holds it. Taken with xchg() by a map (no lock) and
 *	given back with cmpxchg() by the release of the chunk (under @lock,
 *	maybe in reclaim: no allocation); freed by p2pmap_import_destroy()
 * @all_node: on p2pmap_all_imports, for debugfs
 * @pid: thread group of the creator, for debugfs
 */
struct p2pmap_import {
	struct p2pmap_attach *attach;
	struct mm_struct *mm;
	unsigned long start;
	unsigned long npages;
	enum p2pmap_policy policy;
	bool write;
	bool pinned;
	void *priv;
	struct mmu_interval_notifier notifier;
	struct mutex lock; /* the notifier lock, see above */
	unsigned long gen;
	unsigned int resolving;
	struct address_space *res_mapping;
	pgoff_t res_first;
	pgoff_t res_last;
	bool res_any;
	bool res_set;
	struct list_head chunks;
	struct list_head links;
	struct p2pmap_extent *flat;
	unsigned int nr_flat;
	bool flat_borrowed;
	struct p2pmap_placement placement;
	struct xarray migrated;
	struct p2pmap_chunk *spare;
	struct list_head all_node;
	pid_t pid;
};

/*
 * Every live import, for the debugfs "imports" file only. The lock is a
 * leaf except in p2pmap_imports_show(), which takes import->lock inside it.
 */
static LIST_HEAD(p2pmap_all_imports);
static DEFINE_MUTEX(p2pmap_all_imports_lock);

static enum dma_data_direction p2pmap_import_dir(const struct p2pmap_import *imp)
{
	return imp->write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
}

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
 * The header is cleared with a constant size on its own: a memset() of a
 * size known only at run time was inlined here as a byte-wise "rep stosb"
 * over the whole header; with a constant size it is cleared in words.
 */
static struct p2pmap_chunk *p2pmap_chunk_alloc(unsigned long n, bool zero_ext)
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
static void p2pmap_chunk_install(struct p2pmap_import *imp,
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
static void p2pmap_chunk_release(struct p2pmap_import *imp,
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

static void p2pmap_chunks_release(struct p2pmap_import *imp,
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
static void p2pmap_import_drop_locked(struct p2pmap_import *imp,
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

/*
 * Make sure @imp is linked to @prov and take a hold on it for the current
 * resolve, or fail with -ENODEV if the provider is being revoked. Lock
 * order: provider->lock, then import->lock.
 */
static int p2pmap_import_hold(struct p2pmap_import *imp,
			      struct p2pmap_provider *prov,
			      struct list_head *holds, struct p2pmap_hold **hp)
{
	struct p2pmap_link *l, *spare;
	struct p2pmap_hold *h;
	bool linked = false;

	list_for_each_entry(h, holds, node) {
		if (h->prov == prov) {
			*hp = h;
			return 0;
		}
	}
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!h || !spare) {
		kfree(h);
		kfree(spare);
		return -ENOMEM;
	}
	mutex_lock(&prov->lock);
	if (prov->dead) {
		mutex_unlock(&prov->lock);
		kfree(h);
		kfree(spare);
		pr_warn_ratelimited("import: provider %s is gone\n", prov->desc.name);
		return -ENODEV;
	}
	prov->inflight++;
	kref_get(&prov->kref);
	h->prov = prov;
	h->imp = imp;
	*hp = h;
	list_add_tail(&h->node, holds);
	list_add_tail(&h->prov_node, &prov->resolvers);
	mutex_lock(&imp->lock);
	imp->resolving++;
	list_for_each_entry(l, &imp->links, imp_node)
		if (l->prov == prov)
			linked = true;
	if (!linked) {
		spare->prov = prov;
		spare->imp = imp;
		kref_get(&prov->kref);
		list_add_tail(&spare->prov_node, &prov->imports);
		list_add_tail(&spare->imp_node, &imp->links);
		spare = NULL;
	}
	mutex_unlock(&imp->lock);
	mutex_unlock(&prov->lock);
	kfree(spare);
	return 0;
}

/* Drop the holds of one p2pmap_import_map() call, letting revokes finish. */
static void p2pmap_import_unhold(struct p2pmap_import *imp,
				 struct list_head *holds)
{
	struct p2pmap_hold *h, *tmp;

	list_for_each_entry_safe(h, tmp, holds, node) {
		mutex_lock(&h->prov->lock);
		mutex_lock(&imp->lock);
		if (!--imp->resolving) {
			imp->res_mapping = NULL;
			imp->res_any = false;
			imp->res_set = false;
		}
		mutex_unlock(&imp->lock);
		list_del(&h->prov_node);
		h->prov->inflight--;
		wake_up_all(&h->prov->revoke_wq);
		mutex_unlock(&h->prov->lock);
		kref_put(&h->prov->kref, p2pmap_provider_release);
		list_del(&h->node);
		kfree(h);
	}
}

/* Check what the exporter returned; a broken exporter must not crash us. */
static int p2pmap_chunk_validate(struct p2pmap_provider *prov,
				 struct p2pmap_chunk *c, long pages)
{
	unsigned long sum = 0;
	unsigned int i;

	if (c->req.nr_ext > c->req.max_ext)
		goto bad;
	for (i = 0; i < c->req.nr_ext; i++) {
		struct p2pmap_extent *e = &c->ext[i];

		if (!e->npages || e->reason >= P2PMAP_REASON_NR)
			goto bad;
		switch (e->type) {
		case P2PMAP_EXT_P2P:
			/* P2P only where the core said a route exists. */
			if (!prov->desc.pdev || !c->req.p2p_ok)
				goto bad;
			if (e->phys < pci_resource_start(prov->desc.pdev, prov->desc.bar) ||
			    e->phys + (e->npages << PAGE_SHIFT) - 1 >
			    pci_resource_end(prov->desc.pdev, prov->desc.bar))
				goto bad;
			break;
		case P2PMAP_EXT_SYSMEM:
			/* A device-private page is never system memory. */
			if (!e->page || c->req.pages)
				goto bad;
			break;
		case P2PMAP_EXT_ERROR:
			if (e->error >= 0)
				goto bad;
			break;
		case P2PMAP_EXT_MIGRATE:
			if (!c->req.pages || e->reason == P2PMAP_REASON_NONE ||
			    e->reason == P2PMAP_REASON_SYSTEM_PAGE)
				goto bad;
			break;
		default:
			goto bad;
		}
		sum += e->npages;
	}
	if (sum == pages)
		return 0;
bad:
	pr_err_ratelimited("provider %s returned malformed extents (%u extents for %ld pages)\n",
			   prov->desc.name, c->req.nr_ext, pages);
	return -EIO;
}

/*
 * Record that [@first, @last] of @mapping (for device-private pages: the
 * pfn range of @req->pages, with @mapping NULL) is being resolved, before
 * the exporter is asked: an exporter event on those pages from now on
 * makes the install fail (p2pmap_provider_invalidate()), one elsewhere
 * does not.
 */
static void p2pmap_import_note_resolving(struct p2pmap_import *imp,
					 struct p2pmap_hold *h,
					 const struct p2pmap_map_req *req)
{
	struct address_space *mapping = req->mapping;
	pgoff_t first = req->pgoff, last = req->pgoff + req->npages - 1;

	if (req->pages) {
		unsigned long i, pfn;

		first = ULONG_MAX;
		last = 0;
		for (i = 0; i < req->npages; i++) {
			pfn = page_to_pfn(req->pages[i]);
			first = min(first, pfn);
			last = max(last, pfn);
		}
	}
	mutex_lock(&imp->lock);
	h->req_task = current;
	h->req_mapping = mapping;
	h->req_first = first;
	h->req_last = last;
	h->req_pages = req->pages;
	h->req_npages = req->npages;
	if (imp->res_any) {
		/* nothing to narrow */
	} else if (!imp->res_set) {
		imp->res_set = true;
		imp->res_mapping = mapping;
		imp->res_first = first;
		imp->res_last = last;
	} else if (imp->res_mapping != mapping) {
		imp->res_any = true;
	} else {
		imp->res_first = min(imp->res_first, first);
		imp->res_last = max(imp->res_last, last);
	}
	mutex_unlock(&imp->lock);
}

/* One exporter resolve of [va, va + npages) in @vma, appended to @out. */
static int p2pmap_resolve_provider(struct p2pmap_import *imp,
				   struct p2pmap_provider *prov,
				   struct p2pmap_hold *h,
				   struct vm_area_struct *vma, unsigned long va,
				   unsigned long npages, struct list_head *out)
{
	unsigned long npages_total;
	pgoff_t span_first = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
	struct p2pmap_verdict v;
	bool p2p_ok;
	int ret;

	ret = p2pmap_attach_verdict(imp->attach, prov, &v);
	if (ret)
		return ret;
	p2p_ok = v.route != P2PMAP_ROUTE_NONE && imp->policy != P2PMAP_SYSMEM_ONLY;
	if (imp->policy == P2PMAP_REQUIRE_P2P && !p2p_ok) {
		pr_warn_ratelimited("import: REQUIRE_P2P but %s cannot reach %s: %s\n",
				    dev_name(imp->attach->dev), prov->desc.name,
				    p2pmap_reason_name(v.reason));
		return -EREMOTEIO;
	}

	npages_total = npages;
	while (npages) {
		unsigned long batch = min_t(unsigned long, npages, P2PMAP_EXT_BATCH);
		struct p2pmap_chunk *c;
		unsigned int i;
		long done;

		c = p2pmap_chunk_alloc(batch, true);
		if (!c)
			return -ENOMEM;
		c->prov = prov;
		c->va = va;
		c->req.attach = imp->attach;
		c->req.mapping = vma->vm_file->f_mapping;
		c->req.pgoff = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
		c->req.npages = batch;
		c->req.write = imp->write;
		c->req.p2p_ok = p2p_ok;
		c->req.require_p2p = imp->policy == P2PMAP_REQUIRE_P2P;
		c->req.pin = imp->pinned;
		c->req.span_first = span_first;
		c->req.span_last = span_first + npages_total - 1;
		c->req.ext = c->ext;
		c->req.max_ext = batch;
		p2pmap_import_note_resolving(imp, h, &c->req);
		done = prov->desc.ops->p2p_map(prov, &c->req);
		mutex_lock(&imp->lock);
		h->req_task = NULL;
		mutex_unlock(&imp->lock);
		if (done <= 0 || done > batch) {
			kvfree(c);
			if (done > (long)batch || !done) {
				pr_err_ratelimited("provider %s p2p_map returned %ld for %lu pages\n",
						   prov->desc.name, done, batch);
				return -EIO;
			}
			return done;
		}
		atomic64_inc(&prov->stats.maps);
		ret = p2pmap_chunk_validate(prov, c, done);
		if (ret) {
			prov->desc.ops->p2p_unmap(prov, &c->req);
			kvfree(c);
			return ret;
		}
		for (i = 0; i < c->req.nr_ext; i++) {
			struct p2pmap_extent *e = &c->ext[i];

			e->dma_addr = DMA_MAPPING_ERROR;
			if (e->type == P2PMAP_EXT_P2P) {
				atomic64_add(e->npages, &prov->stats.p2p_pages);
				continue;
			}
			if (e->type == P2PMAP_EXT_SYSMEM)
				atomic64_add(e->npages, &prov->stats.sysmem_pages);
			if (e->reason == P2PMAP_REASON_NONE)
				e->reason = p2p_ok ? P2PMAP_REASON_NONE :
					imp->policy == P2PMAP_SYSMEM_ONLY ?
					P2PMAP_REASON_POLICY : v.reason;
			atomic64_add(e->npages, &prov->stats.fallback_pages[e->reason]);
			trace_p2pmap_fallback(prov->desc.name, e->reason, e->npages);
		}
		list_add_tail(&c->node, out);
		va += done << PAGE_SHIFT;
		npages -= done;
	}
	return 0;
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
static noinline int p2pmap_dma_map_failed(struct device *dev)
{
	pr_warn_ratelimited("import: DMA mapping for %s failed\n", dev_name(dev));
	return -ENOMEM;
}

/*
 * DMA-map extent @e of ordinary memory for the importer; count it in @pl.
 * Inlined into its callers: under emulation (the VM tests and benchmarks)
 * a call and its return cost more than the instructions of a mapping, and
 * this runs once per extent, which is once per page for scattered memory.
 */
static __always_inline int p2pmap_sys_map_ext(struct p2pmap_import *imp,
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
 * Open a system-memory extent at @e from @page: everything but @npages and
 * @dma_addr, which the caller writes when the extent is complete. The
 * 4 KiB loop passes constants for all but the page: one store.
 */
static __always_inline void p2pmap_sys_open(struct p2pmap_extent *e,
					    struct page *page, u8 flags,
					    u8 order, u8 reason)
{
	e->type = P2PMAP_EXT_SYSMEM;
	e->reason = reason;
	e->order = order;
	e->flags = flags;
	e->error = 0;
	e->page = page;
}

/*
 * A new, still open chunk of ordinary memory of @imp with room for @n
 * extents, for the range from @va: the import's spare if it is small.
 */
static struct p2pmap_chunk *p2pmap_sys_chunk(struct p2pmap_import *imp,
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
static int p2pmap_sys_room(struct p2pmap_chunk **cp, unsigned long n,
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
static int p2pmap_sys_append(struct p2pmap_import *imp, struct p2pmap_chunk *c,
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
static int p2pmap_sys_finish(struct p2pmap_import *imp, struct p2pmap_chunk *c,
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
 * Ordinary memory for a pinned import: pin it long-term, like an RDMA
 * memory registration does, so it stays where it is until the import is
 * destroyed; each chunk is DMA-mapped and counted into @pl as it is built.
 * Called with mmap_lock held for read.
 */
static int p2pmap_resolve_pinned(struct p2pmap_import *imp, unsigned long va,
				 unsigned long npages, struct list_head *out,
				 struct p2pmap_placement *pl)
{
	unsigned int gup = FOLL_LONGTERM | (imp->write ? FOLL_WRITE : 0);
	u8 flags = imp->write ? P2PMAP_EXT_F_WRITE : 0;
	struct page **pages;
	int ret = 0;

	pages = kvcalloc(min_t(unsigned long, npages, P2PMAP_EXT_BATCH),
			 sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (npages && !ret) {
		unsigned long batch = min_t(unsigned long, npages, P2PMAP_EXT_BATCH);
		struct p2pmap_chunk *c;
		long got, i;

		c = p2pmap_sys_chunk(imp, batch, va);
		if (!c) {
			ret = -ENOMEM;
			break;
		}
		got = p2pmap_pin_user_pages_remote(imp->mm, va, batch, gup,
						   pages, NULL);
		if (got <= 0) {
			p2pmap_chunk_release(imp, c);	/* the spare again */
			ret = got ? got : -EFAULT;
			if (ret == -EREMOTEIO && !P2PMAP_GUP_PINS_P2PDMA)
				pr_warn_ratelimited("import: cannot pin 0x%lx: %d: a P2PDMA page, which GUP refuses to pin long-term on this kernel (FOLL_PCI_P2PDMA, 6.2)\n",
						    va, ret);
			else
				pr_warn_ratelimited("import: cannot pin 0x%lx: %d\n", va, ret);
			break;
		}
		c->user_pinned = true;
		for (i = 0; i < got; i++) {
			ret = p2pmap_sys_append(imp, c, pl, pages[i], 1, flags, 0,
						P2PMAP_REASON_SYSTEM_PAGE);
			if (ret)
				break;
		}
		/* The chunk unpins what it holds; the rest is ours to unpin. */
		if (i < got)
			unpin_user_pages(&pages[i], got - i);
		ret = p2pmap_sys_finish(imp, c, pl, ret, out);
		va += got << PAGE_SHIFT;
		npages -= got;
	}
	kvfree(pages);
	return ret;
}

/*
 * Device-private pages a resolve found that must move to system memory:
 * filled by p2pmap_resolve_system(), migrated by p2pmap_import_resolve()
 * once it has dropped mmap_lock, after which the map starts over.
 */
struct p2pmap_migrate_list {
	unsigned int nr;
	unsigned long va[P2PMAP_EXT_BATCH];
	u8 reason[P2PMAP_EXT_BATCH];
};

/*
 * Queue the page at @va for migration; the list is allocated on first use
 * (at most one resolve batch of pages, so it never overflows).
 */
static int p2pmap_migrate_add(struct p2pmap_migrate_list **mig,
			      unsigned long va, u8 reason)
{
	if (!*mig) {
		*mig = kzalloc(sizeof(**mig), GFP_KERNEL);
		if (!*mig)
			return -ENOMEM;
	}
	if (WARN_ON_ONCE((*mig)->nr >= P2PMAP_EXT_BATCH))
		return -EIO;
	(*mig)->va[(*mig)->nr] = va;
	(*mig)->reason[(*mig)->nr++] = reason;
	return 0;
}

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
 * Device-private pages [@va, @va + @n pages) of one pagemap (@hpfns from
 * hmm_range_fault()): resolve them through their provider's
 * p2p_map_pages(), appending chunks to @out; pages the provider cannot
 * peer-map go on @mig.
 */
static int p2pmap_resolve_devpriv(struct p2pmap_import *imp,
				  const unsigned long *hpfns, unsigned long va,
				  unsigned long n, struct list_head *out,
				  struct list_head *holds,
				  struct p2pmap_migrate_list **mig)
{
	struct page *first = hmm_pfn_to_page(hpfns[0]);
	unsigned long idx0 = (va - imp->start) >> PAGE_SHIFT;
	struct p2pmap_provider *prov;
	struct p2pmap_verdict v;
	struct p2pmap_hold *h;
	bool p2p_ok;
	int ret;

	prov = p2pmap_pagemap_provider(first);
	if (!prov) {
		pr_warn_ratelimited("import: 0x%lx is device-private memory no p2pmap provider exports\n",
				    va);
		return -EFAULT;
	}
	ret = p2pmap_import_hold(imp, prov, holds, &h);
	if (!ret)
		ret = p2pmap_attach_verdict(imp->attach, prov, &v);
	if (ret)
		goto out;
	p2p_ok = v.route != P2PMAP_ROUTE_NONE && imp->policy != P2PMAP_SYSMEM_ONLY;
	if (imp->policy == P2PMAP_REQUIRE_P2P && !p2p_ok) {
		pr_warn_ratelimited("import: REQUIRE_P2P but %s cannot reach %s: %s\n",
				    dev_name(imp->attach->dev), prov->desc.name,
				    p2pmap_reason_name(v.reason));
		ret = -EREMOTEIO;
		goto out;
	}
	while (n) {
		struct p2pmap_chunk *c;
		unsigned long i, k;
		long done;

		c = p2pmap_chunk_alloc(n, true);
		if (!c) {
			ret = -ENOMEM;
			goto out;
		}
		c->req.pages = kmalloc_array(n, sizeof(*c->req.pages), GFP_KERNEL);
		if (!c->req.pages) {
			kvfree(c);
			ret = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			c->req.pages[i] = hmm_pfn_to_page(hpfns[i]);
			/* Device-private again: no longer a migrated page. */
			xa_erase(&imp->migrated, idx0 + i);
		}
		c->prov = prov;
		c->va = va;
		c->req.attach = imp->attach;
		c->req.npages = n;
		c->req.write = imp->write;
		c->req.p2p_ok = p2p_ok;
		c->req.require_p2p = imp->policy == P2PMAP_REQUIRE_P2P;
		c->req.ext = c->ext;
		c->req.max_ext = n;
		p2pmap_import_note_resolving(imp, h, &c->req);
		done = prov->desc.ops->p2p_map_pages(prov, &c->req);
		mutex_lock(&imp->lock);
		h->req_task = NULL;
		mutex_unlock(&imp->lock);
		if (done <= 0 || done > n) {
			kfree(c->req.pages);
			kvfree(c);
			if (done > (long)n || !done) {
				pr_err_ratelimited("provider %s p2p_map_pages returned %ld for %lu pages\n",
						   prov->desc.name, done, n);
				ret = -EIO;
			} else {
				ret = done;
			}
			goto out;
		}
		atomic64_inc(&prov->stats.maps);
		ret = p2pmap_chunk_validate(prov, c, done);
		if (ret) {
			prov->desc.ops->p2p_unmap(prov, &c->req);
			kfree(c->req.pages);
			kvfree(c);
			goto out;
		}
		for (i = 0, k = 0; i < c->req.nr_ext; k += c->ext[i++].npages) {
			struct p2pmap_extent *e = &c->ext[i];
			unsigned long j;

			e->dma_addr = DMA_MAPPING_ERROR;
			if (e->type == P2PMAP_EXT_P2P) {
				atomic64_add(e->npages, &prov->stats.p2p_pages);
				continue;
			}
			/*
			 * Without a usable route the core knows the reason
			 * better than the exporter (policy, no route, DMA
			 * mask, kernel config), as for p2p_map().
			 */
			if (!p2p_ok)
				e->reason = imp->policy == P2PMAP_SYSMEM_ONLY ?
					P2PMAP_REASON_POLICY : v.reason;
			atomic64_add(e->npages, &prov->stats.fallback_pages[e->reason]);
			trace_p2pmap_fallback(prov->desc.name, e->reason, e->npages);
			if (e->type != P2PMAP_EXT_MIGRATE)
				continue;
			atomic64_add(e->npages, &prov->stats.migrated_pages);
			for (j = 0; j < e->npages && !ret; j++)
				ret = p2pmap_migrate_add(mig, va + ((k + j) << PAGE_SHIFT),
							 e->reason);
		}
		if (ret) {
			p2pmap_chunk_release(imp, c);
			goto out;
		}
		list_add_tail(&c->node, out);
		va += done << PAGE_SHIFT;
		hpfns += done;
		idx0 += done;
		n -= done;
	}
out:
	p2pmap_provider_put(prov);
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
			pgmap = page_pgmap(hmm_pfn_to_page(pfns[i]));
			while (j < batch &&
			       p2pmap_pfn_kind(imp, pfns[j]) == P2PMAP_PFN_DEVPRIV &&
			       page_pgmap(hmm_pfn_to_page(pfns[j])) == pgmap)
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
 * DMA-map every extent of @c for the importer and count its pages into @pl
 * (by type and fallback reason). Called without locks.
 */
static int p2pmap_chunk_dma_map(struct p2pmap_import *imp, struct p2pmap_chunk *c,
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

/* Does one of @npages @pages have a pfn in [@first, @last]? */
static bool p2pmap_pages_hit(struct page **pages, unsigned long npages,
			     unsigned long first, unsigned long last)
{
	unsigned long i, pfn;

	for (i = 0; i < npages; i++) {
		pfn = page_to_pfn(pages[i]);
		if (pfn >= first && pfn <= last)
			return true;
	}
	return false;
}

/* Is every pfn of [@first, @last] one of @npages @pages? */
static bool p2pmap_pages_cover(struct page **pages, unsigned long npages,
			       unsigned long first, unsigned long last)
{
	unsigned long pfn;

	if (last - first >= npages)
		return false;
	for (pfn = first; pfn <= last; pfn++)
		if (!p2pmap_pages_hit(pages, npages, pfn, pfn))
			return false;
	return true;
}

/*
 * The import owning the first installed chunk of @prov that overlaps
 * [@first, @last] of @mapping (NULL: pfns of device-private pages), or
 * NULL. Caller holds provider->lock.
 */
static struct p2pmap_import *
p2pmap_itree_first_import(struct p2pmap_provider *prov,
			  struct address_space *mapping, pgoff_t first,
			  pgoff_t last)
{
	struct p2pmap_import *imp = NULL;
	struct interval_tree_node *it;

	lockdep_assert_held(&prov->lock);
	spin_lock(&prov->itree_lock);
	for (it = interval_tree_iter_first(&prov->itree, first, last); it;
	     it = interval_tree_iter_next(it, first, last)) {
		struct p2pmap_chunk *c = container_of(it, struct p2pmap_chunk, it);

		if (c->req.mapping != mapping)
			continue;
		if (!mapping && !p2pmap_pages_hit(c->req.pages, c->req.npages,
						  first, last))
			continue;
		imp = c->imp;
		break;
	}
	spin_unlock(&prov->itree_lock);
	return imp;
}

/*
 * The exporter event on [@first, @last] of @mapping, or, for a NULL
 * @mapping, on the pfns [@first, @last] of device-private pages.
 */
static void p2pmap_invalidate_space(struct p2pmap_provider *prov,
				    struct address_space *mapping,
				    pgoff_t first, pgoff_t last,
				    enum p2pmap_event ev)
{
	struct p2pmap_import *imp;
	struct p2pmap_hold *h;

	if (ev == P2PMAP_EV_EVICT) {
		atomic64_inc(&prov->stats.evictions);
		trace_p2pmap_evict(prov->desc.name, first, last);
	}
	mutex_lock(&prov->lock);
	/*
	 * An import still resolving may hold the affected pages in extents
	 * it has not installed: make its install fail, but only if it is
	 * resolving those pages.
	 */
	list_for_each_entry(h, &prov->resolvers, prov_node) {
		imp = h->imp;
		mutex_lock(&imp->lock);
		if (h->req_task == current && h->req_mapping == mapping &&
		    h->req_first <= first && last <= h->req_last &&
		    (mapping || p2pmap_pages_cover(h->req_pages, h->req_npages,
						   first, last))) {
			/* Raised by this very p2p_map() for its own pages. */
		} else if (imp->res_any ||
			   (imp->res_set && imp->res_mapping == mapping &&
			    imp->res_first <= last && imp->res_last >= first)) {
			WRITE_ONCE(imp->gen, imp->gen + 1);
		}
		mutex_unlock(&imp->lock);
	}
	/*
	 * Installed extents: each import found in the tree is linked to
	 * @prov, and cannot unlink (so cannot be freed) while we hold
	 * provider->lock. Dropping its mapping takes all its chunks out of
	 * the tree, so every pass removes what it found and the loop ends.
	 */
	while ((imp = p2pmap_itree_first_import(prov, mapping, first, last))) {
		mutex_lock(&imp->lock);
		WRITE_ONCE(imp->gen, imp->gen + 1);
		p2pmap_import_drop_locked(imp, ev);
		mutex_unlock(&imp->lock);
	}
	mutex_unlock(&prov->lock);
}

/**
 * p2pmap_provider_invalidate() - an exporter event on part of its memory
 * @prov: the provider
 * @mapping: the bound address space the pages are in
 * @first: first page offset affected
 * @last: last page offset affected (inclusive)
 * @ev: what happened (evict, move, reset, unbind)
 *
 * Every import holding extents of @prov in [@first, @last] gets its
 * generation bumped and its importer told to stop, and its extents are
 * unmapped and handed back through p2p_unmap(). Synchronous: when this
 * returns, no importer can touch those pages any more and the exporter may
 * reuse them. May sleep; the caller must not hold a lock its p2p_unmap()
 * takes.
 */
void p2pmap_provider_invalidate(struct p2pmap_provider *prov,
				struct address_space *mapping, pgoff_t first,
				pgoff_t last, enum p2pmap_event ev)
{
	if (WARN_ON_ONCE(!mapping))
		return;
	p2pmap_invalidate_space(prov, mapping, first, last, ev);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_invalidate);

/**
 * p2pmap_provider_invalidate_pages() - an exporter event on device-private
 *	pages
 * @prov: the provider that added the pages' pagemap
 * @pfn: first pfn affected
 * @npages: number of pfns
 * @ev: what happened (e.g. %P2PMAP_EV_EVICT when the exporter takes back
 *	the window slot it returned from ops->p2p_map_pages())
 *
 * Same contract as p2pmap_provider_invalidate(), for the pages an
 * exporter resolved through ops->p2p_map_pages(): when it returns, no
 * importer can reach the peer addresses of those pages any more. A
 * migration of the pages themselves needs no call: the mmu notifier of
 * the migration reaches every import.
 */
void p2pmap_provider_invalidate_pages(struct p2pmap_provider *prov,
				      unsigned long pfn, unsigned long npages,
				      enum p2pmap_event ev)
{
	if (!npages)
		return;
	p2pmap_invalidate_space(prov, NULL, pfn, pfn + npages - 1, ev);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_invalidate_pages);

/**
 * p2pmap_provider_revoke_imports() - take every import's memory of @prov back
 * @prov: the provider, already marked dead under its lock
 *
 * Invalidates every linked import with %P2PMAP_EV_UNBIND and unlinks it.
 * New resolves see the provider dead and fail with -ENODEV. A resolve that
 * took its hold before the provider died is invalidated like any other
 * import, finds its generation stale, hands back what it resolved, and
 * drops its hold; this waits for that, so when it returns no importer holds
 * or can obtain memory of @prov.
 */
void p2pmap_provider_revoke_imports(struct p2pmap_provider *prov)
{
	struct p2pmap_link *l;

	for (;;) {
		mutex_lock(&prov->lock);
		l = list_first_entry_or_null(&prov->imports, struct p2pmap_link,
					     prov_node);
		if (!l && !prov->inflight) {
			mutex_unlock(&prov->lock);
			return;
		}
		if (!l) {
			mutex_unlock(&prov->lock);
			/* A resolve in flight: it finishes in bounded time. */
			wait_event(prov->revoke_wq, READ_ONCE(prov->inflight) == 0);
			continue;
		}
		mutex_lock(&l->imp->lock);
		WRITE_ONCE(l->imp->gen, l->imp->gen + 1);
		p2pmap_import_drop_locked(l->imp, P2PMAP_EV_UNBIND);
		list_del(&l->prov_node);
		list_del(&l->imp_node);
		mutex_unlock(&l->imp->lock);
		mutex_unlock(&prov->lock);
		kfree(l);
		kref_put(&prov->kref, p2pmap_provider_release);
	}
}

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
