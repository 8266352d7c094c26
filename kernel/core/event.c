// SPDX-License-Identifier: GPL-2.0
/*
 * Exporter events and revoke.
 *
 * This file owns what happens to imports when an exporter takes its
 * memory back: p2pmap_provider_invalidate() and
 * p2pmap_provider_invalidate_pages() find the imports holding (through
 * provider->itree) or resolving (through provider->resolvers) the
 * affected pages, fail or drop their mappings and return only when no
 * importer can reach those pages; p2pmap_provider_revoke_imports() does
 * it for every import of a provider that is going away.
 */

#include <linux/interval_tree.h>
#include <linux/mm.h>

#include "import.h"
#include "trace.h"

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
		p2pmap_provider_put(prov);
	}
}
