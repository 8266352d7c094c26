// SPDX-License-Identifier: GPL-2.0
/*
 * Device-private pagemaps of p2pmap providers.
 *
 * This file owns the dev_pagemap owner that every p2pmap provider shares,
 * and the registry that maps a MEMORY_DEVICE_PRIVATE pagemap to the
 * provider that added it, so that the import code (import.c) can find the
 * exporter of a device-private page hmm_range_fault() returned. A provider
 * adds its pagemap after memremap_pages() and removes it before
 * memunmap_pages(); removal revokes every import that holds pages of it.
 */

#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "p2pmap_internal.h"

/*
 * A registered pagemap. On p2pmap_pagemaps under p2pmap_pagemaps_lock (a
 * leaf spinlock); it holds a provider reference until removed.
 */
struct p2pmap_pagemap_bind {
	struct list_head node;
	struct dev_pagemap *pgmap;
	struct p2pmap_provider *prov;
};

static LIST_HEAD(p2pmap_pagemaps);
static DEFINE_SPINLOCK(p2pmap_pagemaps_lock);

/*
 * The lowest pfn of any pagemap ever added. It only goes down, under
 * p2pmap_pagemaps_lock and before the pagemap is on the list, so before
 * the exporter can migrate a page to it; it is not raised again when a
 * pagemap is removed, so the pages of a removed pagemap still take the
 * full check (and fail). Read without the lock: p2pmap_pagemap_first_pfn().
 */
static unsigned long p2pmap_devpriv_first = ULONG_MAX;

/*
 * The owner cookie. Only its address matters: hmm_range_fault() and
 * migrate_vma_setup() compare &struct dev_pagemap.owner against it.
 */
static int p2pmap_owner_cookie;

/*
 * The lowest pfn any pagemap of a provider ever covered (ULONG_MAX: none),
 * so that the system-memory import (sysmem.c, p2pmap_sys_floor()) tells
 * ordinary pages below it from device-private ones without reading their
 * struct page. A pagemap lowers it before its pages can be migrated to,
 * so a walk that finds a device-private page, and then reads this (after
 * a read barrier), reads a value at or below that page's pfn.
 */
unsigned long p2pmap_pagemap_first_pfn(void)
{
	return READ_ONCE(p2pmap_devpriv_first);
}

/**
 * p2pmap_pagemap_owner() - the dev_pagemap owner of every p2pmap provider
 *
 * Description: an exporter that adds device-private memory to p2pmap sets its
 * &struct dev_pagemap.owner to this value, and uses it as
 * &struct migrate_vma.pgmap_owner. The core's hmm_range_fault() then
 * reports the device-private pages of every p2pmap provider instead of
 * migrating them, and resolves them through the owning provider.
 *
 * Because the owner is shared, an exporter's own mmu notifier must not
 * ignore %MMU_NOTIFY_MIGRATE events just because they carry this owner,
 * since another provider's migrations carry it too. It may ignore only
 * the events of migrations it runs itself. p2pmap's importers never
 * ignore any event.
 *
 * Context: any context.
 * Return: the owner cookie.
 */
void *p2pmap_pagemap_owner(void)
{
	return &p2pmap_owner_cookie;
}
EXPORT_SYMBOL_GPL(p2pmap_pagemap_owner);

/**
 * p2pmap_provider_add_pagemap() - let importers reach device-private pages
 * @prov: a registered provider with an ops->p2p_map_pages()
 * @pgmap: its MEMORY_DEVICE_PRIVATE pagemap, already passed to
 *	memremap_pages(), whose owner is p2pmap_pagemap_owner()
 *
 * From now on, an import of a range holding pages of @pgmap resolves them
 * through @prov->ops->p2p_map_pages(). The registration holds a reference
 * on @prov until p2pmap_provider_remove_pagemap() or
 * p2pmap_provider_unregister(). Add the pagemap before the first page is
 * migrated to it: imports look at the struct page of a pfn only from the
 * lowest pfn of the pagemaps added, or from the end of RAM, on.
 *
 * Context: process context.
 * Return: 0; -EOPNOTSUPP when the kernel has no CONFIG_DEVICE_PRIVATE;
 * -EINVAL for a wrong type or owner or a provider without p2p_map_pages
 * (each with a ratelimited reason); -EBUSY if @pgmap is already added;
 * -ENODEV if @prov is being unregistered; -ENOMEM.
 */
int p2pmap_provider_add_pagemap(struct p2pmap_provider *prov,
				struct dev_pagemap *pgmap)
{
	struct p2pmap_pagemap_bind *b, *pos;
	unsigned long first;
	int i, ret = 0;

	if (!IS_ENABLED(CONFIG_DEVICE_PRIVATE)) {
		pr_warn_ratelimited("add_pagemap: kernel built without CONFIG_DEVICE_PRIVATE\n");
		return -EOPNOTSUPP;
	}
	if (!prov || !pgmap || !prov->desc.ops->p2p_map_pages ||
	    pgmap->type != MEMORY_DEVICE_PRIVATE ||
	    pgmap->owner != p2pmap_pagemap_owner()) {
		pr_warn_ratelimited("add_pagemap: %s\n",
				    !prov || !pgmap ? "NULL argument" :
				    !prov->desc.ops->p2p_map_pages ?
				    "the provider has no p2p_map_pages op" :
				    pgmap->type != MEMORY_DEVICE_PRIVATE ?
				    "not a MEMORY_DEVICE_PRIVATE pagemap" :
				    "pagemap owner is not p2pmap_pagemap_owner()");
		return -EINVAL;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->pgmap = pgmap;
	b->prov = prov;

	mutex_lock(&prov->lock);
	if (prov->dead) {
		ret = -ENODEV;
		goto out;
	}
	spin_lock(&p2pmap_pagemaps_lock);
	list_for_each_entry(pos, &p2pmap_pagemaps, node)
		if (pos->pgmap == pgmap)
			ret = -EBUSY;
	if (!ret) {
		for (i = 0; i < pgmap->nr_range; i++) {
			first = PHYS_PFN(pgmap->ranges[i].start);
			if (first < p2pmap_devpriv_first)
				WRITE_ONCE(p2pmap_devpriv_first, first);
		}
		list_add_tail(&b->node, &p2pmap_pagemaps);
		p2pmap_provider_get(prov);
	}
	spin_unlock(&p2pmap_pagemaps_lock);
out:
	mutex_unlock(&prov->lock);
	if (ret) {
		pr_warn_ratelimited("provider %s: add_pagemap refused: %s\n",
				    prov->desc.name, ret == -EBUSY ?
				    "pagemap already added" :
				    "the provider is being unregistered");
		kfree(b);
	}
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmap_provider_add_pagemap);

/* Unlink the registration of @pgmap (of @prov if non-NULL), or NULL. */
static struct p2pmap_pagemap_bind *
p2pmap_pagemap_take(struct p2pmap_provider *prov, struct dev_pagemap *pgmap)
{
	struct p2pmap_pagemap_bind *b;

	spin_lock(&p2pmap_pagemaps_lock);
	list_for_each_entry(b, &p2pmap_pagemaps, node) {
		if (b->prov == prov && (!pgmap || b->pgmap == pgmap)) {
			list_del(&b->node);
			spin_unlock(&p2pmap_pagemaps_lock);
			return b;
		}
	}
	spin_unlock(&p2pmap_pagemaps_lock);
	return NULL;
}

/**
 * p2pmap_provider_remove_pagemap() - stop resolving a device-private pagemap
 * @prov: the provider that added @pgmap
 * @pgmap: the pagemap
 *
 * New imports no longer resolve pages of @pgmap through @prov (they fail
 * with -EFAULT). Every import that holds extents of its pages is
 * invalidated with %P2PMAP_EV_UNBIND before this returns, so the exporter
 * may then call memunmap_pages(). Removing a pagemap that is not added is
 * a no-op (logged, ratelimited).
 *
 * Context: process context; no p2pmap lock held.
 */
void p2pmap_provider_remove_pagemap(struct p2pmap_provider *prov,
				    struct dev_pagemap *pgmap)
{
	struct p2pmap_pagemap_bind *b;
	unsigned long pfn, npages;
	int i;

	if (!prov || !pgmap)
		return;
	b = p2pmap_pagemap_take(prov, pgmap);
	if (!b) {
		pr_warn_ratelimited("provider %s: remove_pagemap: pagemap not added\n",
				    prov->desc.name);
		return;
	}
	for (i = 0; i < pgmap->nr_range; i++) {
		pfn = PHYS_PFN(pgmap->ranges[i].start);
		npages = PHYS_PFN(range_len(&pgmap->ranges[i]));
		p2pmap_provider_invalidate_pages(prov, pfn, npages, P2PMAP_EV_UNBIND);
	}
	kfree(b);
	p2pmap_provider_put(prov);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_remove_pagemap);

/**
 * p2pmap_pagemap_provider() - the provider of a device-private page
 * @page: a device-private page hmm_range_fault() returned
 *
 * Context: any context that may take a spinlock.
 * Return: the provider that added @page's pagemap, with a reference the
 * caller drops with p2pmap_provider_put(), or NULL if no provider added it.
 */
struct p2pmap_provider *p2pmap_pagemap_provider(struct page *page)
{
	struct p2pmap_provider *prov = NULL;
	struct p2pmap_pagemap_bind *b;

	spin_lock(&p2pmap_pagemaps_lock);
	list_for_each_entry(b, &p2pmap_pagemaps, node) {
		if (b->pgmap == page_pgmap(page)) {
			prov = b->prov;
			p2pmap_provider_get(prov);
			break;
		}
	}
	spin_unlock(&p2pmap_pagemaps_lock);
	return prov;
}

/**
 * p2pmap_provider_drop_pagemaps() - forget every pagemap of a provider
 * @prov: a provider being unregistered, whose imports are already revoked
 */
void p2pmap_provider_drop_pagemaps(struct p2pmap_provider *prov)
{
	struct p2pmap_pagemap_bind *b;

	while ((b = p2pmap_pagemap_take(prov, NULL))) {
		kfree(b);
		p2pmap_provider_put(prov);
	}
}
