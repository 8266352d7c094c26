// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap dma-buf export of a range: any range of a process's address space
 * that p2pmap can import (a CPU mapping of another device's memory that an
 * exporter registered, or ordinary memory) becomes a dma-buf. This file
 * owns that exporter: p2pmap_dmabuf_export(), its dma_buf_ops, the mmu
 * interval notifier that watches the range, and the worker that re-resolves
 * the range after a change and tells dynamic importers with move_notify
 * (invalidate_mappings since 7.1), and revocable pinned importers when the
 * provider takes the memory back.
 */

/**
 * DOC: Range dma-buf export
 *
 * An exported range is a dynamic dma-buf exporter (it has pin and unpin
 * ops): a dynamic importer that allows it is told with move_notify when
 * the range changes under it (munmap, mremap, MADV_DONTNEED, migration,
 * fork/COW, process exit, or the provider's reset or unbind) and maps
 * again to get what the range holds then.
 *
 * Generations. What an attachment maps is a *generation*: a pinned p2pmap
 * import of the whole range for the attaching device (%P2PMAP_CAP_PIN_ONLY;
 * PREFER_P2P if the attachment allows peer-to-peer, so the provider
 * decides the placement per importer after pci_p2pdma_distance(), else
 * SYSMEM_ONLY) plus the sg_table of its DMA addresses (no struct pages).
 * A generation is pinned: nothing it maps is freed, evicted or reused
 * while an importer may still use it, whatever the CPU side does. That is
 * what makes a late move_notify safe, and the notification is always late:
 *
 * - dma_buf_move_notify() and map_dma_buf of a dynamic exporter need the
 *   reservation lock, which the kernel orders after mmap_lock and before
 *   mmu-notifier invalidation (dma_resv_lockdep() in
 *   drivers/dma-buf/dma-resv.c). The range's notifier therefore cannot
 *   notify, and map_dma_buf cannot resolve the range (that takes
 *   mmap_lock). Both are done by a worker instead: it resolves a new
 *   generation for every dynamic attachment with mmap_lock and no other
 *   lock of ours, then takes the reservation lock, makes the new
 *   generations the ones map_dma_buf hands out, and calls move_notify
 *   for every attachment whose live mapping is an older generation.
 *   Until the importer unmaps, its old generation stays pinned: its DMA
 *   goes to memory the process no longer maps, never to freed memory.
 * - map_dma_buf never sleeps on the range: it hands out the newest
 *   generation (possibly one the worker is about to replace, in which
 *   case move_notify follows), or that generation's error.
 * - A provider's reset or unbind takes a generation back at once
 *   (p2pmap revokes pinned imports for those). The invalidate callback
 *   then trylocks the reservation lock and notifies the attachment that
 *   maps it synchronously; if the lock is contended it leaves that to the
 *   worker and says so in the kernel log.
 *
 * BAR memory has no struct page in any table this exporter hands out.
 * Where the PCI core describes BARs as providers (6.19,
 * %P2PMAP_P2PDMA_PROVIDER in p2pmap_compat.h), a generation that is wholly
 * one provider's BAR, reached by bus address, is mapped at map_dma_buf by
 * the PCI core's dma_buf_phys_vec_to_sgt() from the BAR's physical ranges,
 * on the PCI core's own map type (a route it refuses fails the map with
 * its error, logged), and unmapped with dma_buf_free_sgt(): the table has
 * no CPU list at all (orig_nents 0), as vfio-pci's BAR dma-bufs. Mixed
 * generations (system pages, several providers) and host-bridge routes
 * get p2pmap's own table of the import's DMA addresses (entries without a
 * page; p2pmap_import_fill_dma_sgt()).
 *
 * After an unbind, the attachment's range is not resolved again until the
 * range changes (the removal's zap of the object's mapping does that, and
 * the resolution then fails): pinning the object's pages again would hold
 * the removal up. A CPU-side change in the short interval between the
 * provider's unregistration and the exporter's drm_dev_unplug() (or
 * equivalent) can still resolve the range through pin_user_pages(); the
 * removal then waits for that importer to unmap, as for VA memory regions.
 *
 * Static importers (no move_notify) and dynamic importers that called
 * dma_buf_pin() are not notified of CPU-side changes: they keep the
 * generation they mapped, pinned, until they unmap (as a VA memory region
 * keeps its pages). On a kernel without CONFIG_DMABUF_MOVE_NOTIFY the
 * dma-buf core pins every dynamic importer around its mappings, so none
 * is notified either.
 *
 * Revocation (7.1 and later, P2PMAP_DMABUF_REVOKE in p2pmap_compat.h): a
 * pinned importer that is revocable (dma_buf_attach_revocable(): it has
 * invalidate_mappings and unmaps in bounded time after it) IS told when
 * the provider takes its generation back (reset, unbind), from the
 * provider's invalidate callback or the worker like a dynamic importer,
 * because the DMA addresses it holds are gone. It may unmap (and unpin)
 * from inside the callback; mapping again gets the provider's memory
 * after a reset and -ENODEV after an unbind. Before 7.1 pinned importers
 * are never told, as the move_notify contract of those kernels says.
 *
 * Locking, outermost first: &p2pmap_dmabuf.refresh_lock (the worker around
 * a whole refresh, attach and detach around list changes) -> mmap_lock
 * (inside p2pmap_import_map_and_lock()) -> the reservation lock (worker only, after
 * resolving) -> &p2pmap_dmabuf.lock (spinlock: the ready and mapped
 * generations of each attachment, generation reference counts, the dead
 * list; nothing sleeps under it). map, unmap, pin and unpin run under the
 * reservation lock and take only &p2pmap_dmabuf.lock; the notifier takes
 * only &p2pmap_dmabuf.lock. &p2pmap_dmabuf.reap_lock serialises the
 * destruction of dead generations and is never held with another lock.
 *
 * Lifetime: the dma-buf holds the mm (mmgrab()) and its notifier; each
 * attachment holds a p2pmap attachment of its device. A generation is
 * referenced by its attachment's ready slot and by a live mapping; when
 * the last reference goes it is put on the dead list and destroyed (the
 * import unpinned and destroyed) by the worker, or at once by detach, so
 * that no pin outlives the detach that dropped it. Release removes the
 * notifier, reaps, cancels the worker and reaps again.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/p2pmap-dmabuf.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <p2pmap_compat.h>

#include "p2pmap_internal.h"

MODULE_IMPORT_NS(P2PMAP_NS(DMA_BUF));

/* Rounds of begin/map/retry for one generation before giving up. */
#define P2PMAP_DMABUF_ROUNDS	16

/**
 * struct p2pmap_dmabuf - an exported range
 * @dmabuf: the dma-buf (set once exported)
 * @mm: the address space of the range (mmgrab()ed)
 * @start: first byte, page aligned
 * @length: bytes, page aligned
 * @write: importers may write
 * @notifier: watches the range for the CPU-side changes
 * @lock: see DOC: Range dma-buf export (spinlock)
 * @refresh_lock: held around a refresh and around changes of @attachments
 * @reap_lock: held while destroying dead generations
 * @attachments: &struct p2pmap_dmabuf_attach.node; changed under
 *	@refresh_lock and @lock, read under either
 * @dead: generations without references, to destroy (under @lock)
 * @work: the refresh and reap worker
 */
struct p2pmap_dmabuf {
	struct dma_buf *dmabuf;
	struct mm_struct *mm;
	unsigned long start;
	unsigned long length;
	bool write;
	struct mmu_interval_notifier notifier;
	spinlock_t lock; /* see DOC: Range dma-buf export */
	struct mutex refresh_lock; /* a refresh, @attachments changes */
	struct mutex reap_lock; /* destruction of @dead generations */
	struct list_head attachments;
	struct list_head dead;
	struct work_struct work;
};

/**
 * struct p2pmap_dmabuf_gen - one resolution of the range for one device
 * @d: the exported range
 * @imp: the pinned import that resolved it
 * @sgt: its DMA addresses, what map_dma_buf hands out
 * @refs: references (under &p2pmap_dmabuf.lock): the ready slot and a
 *	live mapping
 * @revoked: the provider took it back: the event (%P2PMAP_EV_RESET or
 *	%P2PMAP_EV_UNBIND), else 0; its DMA addresses are unmapped
 * @dead: on &p2pmap_dmabuf.dead
 * @p2pdma: the PCI core's provider of the BAR when the generation is wholly
 *	that BAR's memory reached by bus address (6.19,
 *	%P2PMAP_P2PDMA_PROVIDER): map_dma_buf then hands out
 *	dma_buf_phys_vec_to_sgt()'s table of @vec instead of @sgt; else NULL
 * @vec: the BAR ranges, physically adjacent extents merged
 * @nvec: entries in @vec
 * @size: bytes in @vec
 */
struct p2pmap_dmabuf_gen {
	struct p2pmap_dmabuf *d;
	struct p2pmap_import *imp;
	struct sg_table sgt;
	unsigned int refs;
	int revoked;
	struct list_head dead;
#if P2PMAP_P2PDMA_PROVIDER
	struct p2pdma_provider *p2pdma;
	struct phys_vec *vec;
	unsigned int nvec;
	size_t size;
#endif
};

/**
 * struct p2pmap_dmabuf_attach - one importer of an exported range
 * @node: on &p2pmap_dmabuf.attachments
 * @attach: the dma-buf attachment
 * @pa: the p2pmap attachment of the importing device
 * @max_seg: largest segment the importing device takes, page multiple
 * @ready: the generation map_dma_buf hands out, or NULL (under
 *	&p2pmap_dmabuf.lock)
 * @ready_err: why there is no @ready
 * @ready_seq: notifier sequence @ready was resolved at
 * @mapped: the generation of the live mapping, or NULL (under
 *	&p2pmap_dmabuf.lock, changed only with the reservation lock held)
 * @pins: dma_buf_pin() count (under the reservation lock)
 * @told: @mapped was announced with move_notify already (under the
 *	reservation lock; cleared when @mapped is unmapped)
 * @mapped_sgt: the table of the live mapping when the PCI core built it
 *	(&p2pmap_dmabuf_gen.p2pdma), else NULL (under the reservation lock)
 */
struct p2pmap_dmabuf_attach {
	struct list_head node;
	struct dma_buf_attachment *attach;
	struct p2pmap_attach *pa;
	unsigned int max_seg;
	struct p2pmap_dmabuf_gen *ready;
	int ready_err;
	unsigned long ready_seq;
	struct p2pmap_dmabuf_gen *mapped;
	unsigned int pins;
	bool told;
	struct sg_table *mapped_sgt;
};

static void p2pmap_dmabuf_gen_free(struct p2pmap_dmabuf_gen *gen)
{
	p2pmap_import_destroy(gen->imp);
	sg_free_table(&gen->sgt);
#if P2PMAP_P2PDMA_PROVIDER
	kvfree(gen->vec);
#endif
	kfree(gen);
}

/* Destroy the dead generations: unpins what they mapped. No lock held. */
static void p2pmap_dmabuf_reap(struct p2pmap_dmabuf *d)
{
	struct p2pmap_dmabuf_gen *gen, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&d->reap_lock);
	spin_lock(&d->lock);
	list_splice_init(&d->dead, &dead);
	spin_unlock(&d->lock);
	list_for_each_entry_safe(gen, tmp, &dead, dead)
		p2pmap_dmabuf_gen_free(gen);
	mutex_unlock(&d->reap_lock);
}

/*
 * Drop a reference under d->lock. The last one queues the generation for
 * destruction (callers may hold the reservation lock or an import lock,
 * under which p2pmap_import_destroy() must not run); returns true then.
 */
static bool p2pmap_dmabuf_gen_put_locked(struct p2pmap_dmabuf_gen *gen)
{
	lockdep_assert_held(&gen->d->lock);
	if (--gen->refs)
		return false;
	list_add_tail(&gen->dead, &gen->d->dead);
	return true;
}

/*
 * A provider takes a generation back (reset, unbind): its DMA addresses
 * are unmapped when this returns. Called with the import's lock held, so
 * the reservation lock is only trylocked (see DOC: Range dma-buf export).
 */
static void p2pmap_dmabuf_revoke(struct p2pmap_import *imp,
				 enum p2pmap_event ev)
{
	struct p2pmap_dmabuf_gen *gen = p2pmap_import_priv(imp);
	struct p2pmap_dmabuf *d = gen->d;
	struct dma_buf_attachment *att;
	bool told = false;

	/* P2PMAP_EV_CPU: our own p2pmap_import_destroy() */
	if (ev != P2PMAP_EV_UNBIND && ev != P2PMAP_EV_RESET)
		return;
	WRITE_ONCE(gen->revoked, ev);
	queue_work(system_dfl_wq, &d->work);
	if (!dma_resv_trylock(d->dmabuf->resv)) {
		pr_warn_ratelimited("exported range %#lx+%#lx revoked by its provider (event %d): reservation lock busy, importers are told by the worker\n",
				    d->start, d->length, ev);
		return;
	}
	/* Attachments on the dma-buf's list still have their priv. */
	list_for_each_entry(att, &d->dmabuf->attachments, node) {
		struct p2pmap_dmabuf_attach *a = att->priv;

		if (a && READ_ONCE(a->mapped) == gen && att->importer_ops &&
		    (!a->pins || p2pmap_dma_buf_attach_revocable(att)) &&
		    !a->told) {
			a->told = true;
			p2pmap_importer_invalidate(att);
			told = true;
		}
	}
	dma_resv_unlock(d->dmabuf->resv);
	if (told)
		pr_info_ratelimited("exported range %#lx+%#lx revoked by its provider (event %d): importer told\n",
				    d->start, d->length, ev);
}

static const struct p2pmap_importer_ops p2pmap_dmabuf_imp_ops = {
	.invalidate = p2pmap_dmabuf_revoke,
};

/* Resolve and pin the range once for @gen->imp and build its table. */
static int p2pmap_dmabuf_gen_build(struct p2pmap_dmabuf_gen *gen,
				   unsigned int max_seg)
{
	struct p2pmap_import *imp = gen->imp;
	unsigned int round;
	struct p2pmap_seq seq;
	int ret = -EAGAIN, n;

	for (round = 0; round < P2PMAP_DMABUF_ROUNDS; round++) {
		seq = p2pmap_import_begin(imp);
		/* Success returns locked, with the extents valid. */
		ret = p2pmap_import_map_and_lock(imp, &seq);
		if (ret) {
			if (ret == -EAGAIN)
				continue;
			return ret;
		}
		/* Count under the lock, allocate outside it, fill under it. */
		n = p2pmap_import_dma_sgt_nents(imp, max_seg);
		p2pmap_import_unlock(imp);
		if (n < 0)
			return n;
		ret = sg_alloc_table(&gen->sgt, n, GFP_KERNEL);
		if (ret)
			return ret;
#if P2PMAP_P2PDMA_PROVIDER
		/* at most one range per extent, and n >= the extents */
		kvfree(gen->vec);
		gen->vec = kvmalloc_array(n, sizeof(*gen->vec), GFP_KERNEL);
		if (!gen->vec) {
			sg_free_table(&gen->sgt);
			return -ENOMEM;
		}
#endif
		p2pmap_import_lock(imp);
		if (p2pmap_import_retry(imp, &seq)) {
			p2pmap_import_unlock(imp);
			sg_free_table(&gen->sgt);
			ret = -EAGAIN;
			continue;
		}
		n = p2pmap_import_fill_dma_sgt(imp, &gen->sgt, max_seg);
#if P2PMAP_P2PDMA_PROVIDER
		if (n >= 0)
			gen->p2pdma = p2pmap_import_p2pdma_ranges(imp, gen->vec,
								  &gen->nvec,
								  &gen->size);
#endif
		p2pmap_import_unlock(imp);
		if (n < 0) {
			sg_free_table(&gen->sgt);
			return n;
		}
		return 0;
	}
	return ret;
}

/*
 * A new generation of the range for @a: a pinned import, resolved and
 * mapped, with its table. Sleeps, takes mmap_lock: no lock of ours held
 * but &p2pmap_dmabuf.refresh_lock.
 */
static struct p2pmap_dmabuf_gen *
p2pmap_dmabuf_gen_new(struct p2pmap_dmabuf *d, struct p2pmap_dmabuf_attach *a)
{
	struct p2pmap_dmabuf_gen *gen;
	int ret;

	gen = kzalloc(sizeof(*gen), GFP_KERNEL);
	if (!gen)
		return ERR_PTR(-ENOMEM);
	gen->d = d;
	gen->refs = 1;
	INIT_LIST_HEAD(&gen->dead);
	gen->imp = p2pmap_import_create(a->pa, d->mm, d->start, d->length,
					a->attach->peer2peer ?
					P2PMAP_PREFER_P2P : P2PMAP_SYSMEM_ONLY,
					d->write, gen);
	if (IS_ERR(gen->imp)) {
		ret = PTR_ERR(gen->imp);
		kfree(gen);
		return ERR_PTR(ret);
	}
	ret = p2pmap_dmabuf_gen_build(gen, a->max_seg);
	if (ret) {
		p2pmap_import_destroy(gen->imp);
#if P2PMAP_P2PDMA_PROVIDER
		/* a round that failed after an earlier one allocated it */
		kvfree(gen->vec);
#endif
		kfree(gen);
		pr_info_ratelimited("range %#lx+%#lx for %s: p2pmap import failed: %d\n",
				    d->start, d->length,
				    dev_name(a->attach->dev), ret);
		return ERR_PTR(ret);
	}
	return gen;
}

/*
 * Make @gen (or the error it is) @a's ready generation, resolved at @seq.
 * The old one, if that was its last reference, goes on the dead list for
 * the caller (or the worker) to reap.
 */
static void p2pmap_dmabuf_set_ready(struct p2pmap_dmabuf *d,
				    struct p2pmap_dmabuf_attach *a,
				    struct p2pmap_dmabuf_gen *gen,
				    unsigned long seq)
{
	struct p2pmap_dmabuf_gen *old;

	spin_lock(&d->lock);
	old = a->ready;
	a->ready = IS_ERR(gen) ? NULL : gen;
	a->ready_err = IS_ERR(gen) ? PTR_ERR(gen) : 0;
	a->ready_seq = seq;
	if (old)
		p2pmap_dmabuf_gen_put_locked(old);
	spin_unlock(&d->lock);
}

/*
 * What the refresh must do for @a at notifier sequence @seq: nothing, resolve
 * the range again (it changed, or the provider was reset), or only drop a
 * generation that an unbind took back. The range is not resolved again
 * after an unbind until it changes: the object may still be mapped there
 * while its device goes away, and pinning it again would hold the removal
 * up (a CPU-side change, such as the removal's zap of the mapping, comes
 * with a new sequence).
 */
enum p2pmap_dmabuf_todo { P2PMAP_DMABUF_FRESH, P2PMAP_DMABUF_RESOLVE,
			  P2PMAP_DMABUF_GONE };

static enum p2pmap_dmabuf_todo
p2pmap_dmabuf_todo(struct p2pmap_dmabuf *d, struct p2pmap_dmabuf_attach *a,
		   unsigned long seq)
{
	enum p2pmap_dmabuf_todo todo = P2PMAP_DMABUF_FRESH;
	int revoked;

	spin_lock(&d->lock);
	revoked = a->ready ? READ_ONCE(a->ready->revoked) : 0;
	if (a->ready_seq != seq || revoked == P2PMAP_EV_RESET)
		todo = P2PMAP_DMABUF_RESOLVE;
	else if (revoked)
		todo = P2PMAP_DMABUF_GONE;
	spin_unlock(&d->lock);
	return todo;
}

/*
 * Resolve a new generation for every dynamic attachment whose ready one is
 * stale, publish them under the reservation lock and tell the importers
 * whose mapping is now old. Under refresh_lock.
 */
static void p2pmap_dmabuf_refresh(struct p2pmap_dmabuf *d)
{
	struct p2pmap_dmabuf_gen **next;
	struct p2pmap_dmabuf_attach *a;
	unsigned int n = 0, i;
	unsigned long seq;

	lockdep_assert_held(&d->refresh_lock);
	list_for_each_entry(a, &d->attachments, node)
		n++;
	if (!n)
		return;
	next = kcalloc(n, sizeof(*next), GFP_KERNEL);
	if (!next) {
		pr_warn_ratelimited("range %#lx+%#lx: no memory to re-resolve; importers keep their pinned mapping\n",
				    d->start, d->length);
		return;
	}
	seq = mmu_interval_read_begin(&d->notifier);
	i = 0;
	list_for_each_entry(a, &d->attachments, node) {
		/* static importers never map again: nothing to resolve */
		if (a->attach->importer_ops) {
			switch (p2pmap_dmabuf_todo(d, a, seq)) {
			case P2PMAP_DMABUF_RESOLVE:
				next[i] = p2pmap_dmabuf_gen_new(d, a);
				break;
			case P2PMAP_DMABUF_GONE:
				next[i] = ERR_PTR(-ENODEV);
				break;
			case P2PMAP_DMABUF_FRESH:
				break;
			}
		}
		i++;
	}
	/*
	 * Changed again while resolving: the notifier queued this work again,
	 * which resolves once more. Publish nothing now (what we resolved is
	 * pinned and safe, but already stale).
	 */
	if (mmu_interval_read_retry(&d->notifier, seq)) {
		for (i = 0; i < n; i++)
			if (!IS_ERR_OR_NULL(next[i]))
				p2pmap_dmabuf_gen_free(next[i]);
		kfree(next);
		return;
	}

	dma_resv_lock(d->dmabuf->resv, NULL);
	i = 0;
	list_for_each_entry(a, &d->attachments, node) {
		struct dma_buf_attachment *att = a->attach;
		bool notify, revoked;

		if (!next[i++])
			continue;
		p2pmap_dmabuf_set_ready(d, a, next[i - 1], seq);
		spin_lock(&d->lock);
		notify = a->mapped && a->mapped != a->ready;
		revoked = notify && READ_ONCE(a->mapped->revoked);
		spin_unlock(&d->lock);
		/* A pinned importer hears only of a revoke, if revocable. */
		if (notify && a->pins &&
		    !(revoked && p2pmap_dma_buf_attach_revocable(att)))
			notify = false;
		if (notify && !a->told) {
			a->told = true;
			p2pmap_importer_invalidate(att);
		}
	}
	dma_resv_unlock(d->dmabuf->resv);
	kfree(next);
}

static void p2pmap_dmabuf_work(struct work_struct *work)
{
	struct p2pmap_dmabuf *d = container_of(work, struct p2pmap_dmabuf,
					       work);

	mutex_lock(&d->refresh_lock);
	p2pmap_dmabuf_refresh(d);
	mutex_unlock(&d->refresh_lock);
	p2pmap_dmabuf_reap(d);
}

/*
 * The CPU side changed the range (or the process exits): re-resolve it
 * from the worker. Nothing here sleeps, so this never fails.
 */
static bool p2pmap_dmabuf_mni_invalidate(struct mmu_interval_notifier *mni,
					 const struct mmu_notifier_range *range,
					 unsigned long cur_seq)
{
	struct p2pmap_dmabuf *d = container_of(mni, struct p2pmap_dmabuf,
					       notifier);

	spin_lock(&d->lock);
	mmu_interval_set_seq(mni, cur_seq);
	spin_unlock(&d->lock);
	queue_work(system_dfl_wq, &d->work);
	return true;
}

static const struct mmu_interval_notifier_ops p2pmap_dmabuf_mni_ops = {
	.invalidate = p2pmap_dmabuf_mni_invalidate,
};

static int p2pmap_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct p2pmap_dmabuf *d = dmabuf->priv;
	struct p2pmap_dmabuf_gen *gen = NULL;
	struct p2pmap_dmabuf_attach *a;
	unsigned long seq = 0;
	unsigned int round;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->attach = attach;
	a->max_seg = dma_get_max_seg_size(attach->dev);
	a->max_seg = max_t(unsigned int, round_down(a->max_seg, PAGE_SIZE),
			   PAGE_SIZE);
	a->pa = p2pmap_attach(attach->dev, &p2pmap_dmabuf_imp_ops,
			      P2PMAP_CAP_PIN_ONLY);
	if (IS_ERR(a->pa)) {
		ret = PTR_ERR(a->pa);
		kfree(a);
		return ret;
	}
	/*
	 * Resolve the first generation now: map_dma_buf runs under the
	 * reservation lock and cannot. A failure is reported by map_dma_buf
	 * (the range may be mapped later; a dynamic importer is then told).
	 */
	mutex_lock(&d->refresh_lock);
	for (round = 0; round < P2PMAP_DMABUF_ROUNDS; round++) {
		seq = mmu_interval_read_begin(&d->notifier);
		gen = p2pmap_dmabuf_gen_new(d, a);
		if (IS_ERR(gen) || !mmu_interval_read_retry(&d->notifier, seq))
			break;
		p2pmap_dmabuf_gen_free(gen);
		gen = ERR_PTR(-EAGAIN);
	}
	p2pmap_dmabuf_set_ready(d, a, gen, seq);
	spin_lock(&d->lock);
	list_add_tail(&a->node, &d->attachments);
	spin_unlock(&d->lock);
	mutex_unlock(&d->refresh_lock);
	attach->priv = a;
	return 0;
}

static void p2pmap_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct p2pmap_dmabuf *d = dmabuf->priv;
	struct p2pmap_dmabuf_attach *a = attach->priv;

	mutex_lock(&d->refresh_lock);
	spin_lock(&d->lock);
	list_del(&a->node);
	WARN_ON_ONCE(a->mapped);
	if (a->ready)
		p2pmap_dmabuf_gen_put_locked(a->ready);
	a->ready = NULL;
	spin_unlock(&d->lock);
	mutex_unlock(&d->refresh_lock);
	/* No pin of this attachment outlives its detach. */
	p2pmap_dmabuf_reap(d);
	p2pmap_detach(a->pa);
	kfree(a);
	attach->priv = NULL;
}

static int p2pmap_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct p2pmap_dmabuf_attach *a = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	a->pins++;
	return 0;
}

static void p2pmap_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct p2pmap_dmabuf_attach *a = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (!WARN_ON_ONCE(!a->pins))
		a->pins--;
}

static struct sg_table *p2pmap_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct p2pmap_dmabuf *d = attach->dmabuf->priv;
	struct p2pmap_dmabuf_attach *a = attach->priv;
	struct p2pmap_dmabuf_gen *gen;
	int ret = 0;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (dir != DMA_TO_DEVICE && !d->write) {
		pr_info_ratelimited("map by %s: the range was exported read-only\n",
				    dev_name(attach->dev));
		return ERR_PTR(-EPERM);
	}
	spin_lock(&d->lock);
	gen = a->ready;
	if (a->mapped)
		ret = -EBUSY;
	else if (!gen)
		ret = a->ready_err ? a->ready_err : -EIO;
	else if (READ_ONCE(gen->revoked))
		ret = -ENODEV;
	if (!ret) {
		gen->refs++;
		a->mapped = gen;
	}
	spin_unlock(&d->lock);
	if (ret) {
		pr_info_ratelimited("map of range %#lx+%#lx by %s: %s (%d)\n",
				    d->start, d->length, dev_name(attach->dev),
				    ret == -EBUSY ? "already mapped" :
				    ret == -ENODEV ? "revoked by its provider" :
				    "the range does not resolve", ret);
		return ERR_PTR(ret);
	}
#if P2PMAP_P2PDMA_PROVIDER
	if (gen->p2pdma) {
		struct sg_table *sgt;
		bool reap;

		/* The PCI core maps the BAR on its own route (no CPU list). */
		sgt = dma_buf_phys_vec_to_sgt(attach, gen->p2pdma, gen->vec,
					      gen->nvec, gen->size, dir);
		if (!IS_ERR(sgt)) {
			a->mapped_sgt = sgt;
			return sgt;
		}
		pr_info_ratelimited("map of range %#lx+%#lx by %s: the PCI core maps no route to the BAR (%ld)\n",
				    d->start, d->length, dev_name(attach->dev),
				    PTR_ERR(sgt));
		spin_lock(&d->lock);
		a->mapped = NULL;
		reap = p2pmap_dmabuf_gen_put_locked(gen);
		spin_unlock(&d->lock);
		if (reap)
			queue_work(system_dfl_wq, &d->work);
		return sgt;
	}
#endif
	return &gen->sgt;
}

/* The generation stays pinned until its last reference goes. */
static void p2pmap_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct p2pmap_dmabuf_attach *a = attach->priv;
	struct p2pmap_dmabuf_gen *gen;
	struct p2pmap_dmabuf *d;
	bool reap;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (a->mapped_sgt && sgt == a->mapped_sgt) {
		/* @mapped changes only under the reservation lock */
		gen = a->mapped;
		a->mapped_sgt = NULL;
#if P2PMAP_P2PDMA_PROVIDER
		/*
		 * dma_buf_phys_vec_to_sgt() sets orig_nents to 0 (no CPU
		 * list) and dma_buf_free_sgt() then calls sg_free_table(),
		 * which frees orig_nents entries: as of 7.3 every table's
		 * scatterlist leaked (kmemleak, 7.3 debug kernel). nents is
		 * what the helper allocated; giving it back as orig_nents
		 * frees exactly that, and stays right if the kernel restores
		 * it itself.
		 */
		sgt->orig_nents = sgt->nents;
		dma_buf_free_sgt(attach, sgt, dir);
#endif
	} else {
		gen = container_of(sgt, struct p2pmap_dmabuf_gen, sgt);
	}
	d = gen->d;
	spin_lock(&d->lock);
	if (a->mapped == gen) {
		a->mapped = NULL;
		a->told = false;
	}
	reap = p2pmap_dmabuf_gen_put_locked(gen);
	spin_unlock(&d->lock);
	if (reap)
		queue_work(system_dfl_wq, &d->work);
}

static void p2pmap_dmabuf_release(struct dma_buf *dmabuf)
{
	struct p2pmap_dmabuf *d = dmabuf->priv;

	mmu_interval_notifier_remove(&d->notifier);
	p2pmap_dmabuf_reap(d);
	cancel_work_sync(&d->work);
	p2pmap_dmabuf_reap(d);
	mmdrop(d->mm);
	mutex_destroy(&d->refresh_lock);
	mutex_destroy(&d->reap_lock);
	kfree(d);
}

static const struct dma_buf_ops p2pmap_dmabuf_ops = {
	.attach = p2pmap_dmabuf_attach,
	.detach = p2pmap_dmabuf_detach,
	.pin = p2pmap_dmabuf_pin,
	.unpin = p2pmap_dmabuf_unpin,
	.map_dma_buf = p2pmap_dmabuf_map,
	.unmap_dma_buf = p2pmap_dmabuf_unmap,
	.release = p2pmap_dmabuf_release,
};

/**
 * p2pmap_dmabuf_export() - export a range of an address space as a dma-buf
 * @mm: the address space; its users must not be zero (usually current->mm)
 * @start: first byte of the range, page aligned
 * @length: bytes, page aligned, not 0
 * @flags: %P2PMAP_DMABUF_WRITE: importers may write; without it only
 *	DMA_TO_DEVICE mappings are allowed (-EPERM) and the dma-buf's file is
 *	read-only
 *
 * Each attachment resolves the range through p2pmap for its device and
 * pins what it maps; dynamic importers are told with move_notify when the
 * range changes and map again (see DOC: Range dma-buf export). The dma-buf
 * holds @mm (not its mappings) until released.
 *
 * Return: the dma-buf, or ERR_PTR(-EINVAL) for bad arguments, -ENOMEM, or
 * an error of mmu_interval_notifier_insert() or dma_buf_export().
 */
struct dma_buf *p2pmap_dmabuf_export(struct mm_struct *mm, unsigned long start,
				     unsigned long length, unsigned int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pmap_dmabuf *d;
	struct dma_buf *dmabuf;
	int ret;

	if (!mm || (flags & ~P2PMAP_DMABUF_FLAGS) || !length ||
	    !PAGE_ALIGNED(start) || !PAGE_ALIGNED(length) ||
	    start + length < start || start + length > mm->task_size)
		return ERR_PTR(-EINVAL);
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	mmgrab(mm);
	d->mm = mm;
	d->start = start;
	d->length = length;
	d->write = flags & P2PMAP_DMABUF_WRITE;
	spin_lock_init(&d->lock);
	mutex_init(&d->refresh_lock);
	mutex_init(&d->reap_lock);
	INIT_LIST_HEAD(&d->attachments);
	INIT_LIST_HEAD(&d->dead);
	INIT_WORK(&d->work, p2pmap_dmabuf_work);
	ret = mmu_interval_notifier_insert(&d->notifier, mm, start, length,
					   &p2pmap_dmabuf_mni_ops);
	if (ret)
		goto err_free;
	exp_info.ops = &p2pmap_dmabuf_ops;
	exp_info.size = length;
	exp_info.flags = d->write ? O_RDWR : O_RDONLY;
	exp_info.priv = d;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_notifier;
	}
	/* No attachment yet: nothing reads ->dmabuf before this. */
	d->dmabuf = dmabuf;
	return dmabuf;

err_notifier:
	mmu_interval_notifier_remove(&d->notifier);
	cancel_work_sync(&d->work);
err_free:
	mutex_destroy(&d->refresh_lock);
	mutex_destroy(&d->reap_lock);
	mmdrop(mm);
	kfree(d);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(p2pmap_dmabuf_export);
