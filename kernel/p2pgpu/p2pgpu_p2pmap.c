// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu as a p2pmap provider.
 *
 * This file owns what the reference exporter tells p2pmap: it registers
 * each device as a provider, binds the DRM device's mmap address space (so
 * an import of a buffer object's CPU mapping finds this provider), resolves
 * ranges of buffer objects into typed extents (p2p_map), reports window
 * usage, and raises an invalidation every time a page changes its physical
 * location: eviction out of the window (P2PMAP_EV_EVICT) and placement into
 * it (P2PMAP_EV_MOVE, because importers may hold the page as system memory).
 *
 * Placement for a peer: a page already in the window is handed out as a
 * P2P extent of its BAR slot; otherwise it is placed in the window, evicting
 * the least recently used unpinned page that has stayed at least the
 * minimum residency and that is not part of the span the same import is
 * resolving (evicting those would invalidate the import being resolved, so
 * an import larger than the window would never settle). If nothing can be
 * evicted the page falls back to system memory, page by page: its backing
 * page is handed out as a system-memory extent with
 * P2PMAP_REASON_BAR_EXHAUSTED (or -ENOSPC under REQUIRE_P2P). When the
 * importer cannot reach the BAR at all (no route, policy), pages in the
 * window are moved out first, so the system-memory copy is the current one;
 * a page another importer pinned in the window cannot move and is an error
 * extent (-EBUSY) for a revalidating importer, which is invalidated when
 * the pin goes.
 *
 * Pinned requests (importers with P2PMAP_CAP_PIN_ONLY) get the same
 * placement, and every page they resolve is pinned where it lands: in its
 * window slot, or device-only when it falls back (window exhausted by pins
 * or residency, no route, SYSMEM_ONLY). A pinned importer without a route
 * that meets a page pinned in the window is refused with -EBUSY, and under
 * REQUIRE_P2P an exhausted window gives -ENOSPC. Each pinned request holds
 * a reference on its object, so closing the handle and unmapping the CPU
 * mapping do not free pinned memory, until p2p_unmap().
 *
 * Locking: p2p_map() runs with the importer's mmap_lock held for read and
 * takes the device lock; evictions and placements call
 * p2pmap_provider_invalidate() under the device lock, so p2p_unmap() must
 * never take the device lock: it hands the pins to the unpin worker (see
 * "p2pgpu locking and lifetime" in p2pgpu.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/p2pmap.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "p2pgpu_aper.h"
#include "p2pgpu.h"

/* Find the object mapped at fake offset @pgoff, with a reference. */
static struct p2pgpu_bo *p2pgpu_lookup_offset(struct p2pgpu_device *gdev,
					      pgoff_t pgoff)
{
	struct drm_vma_offset_manager *mgr = gdev->drm.vma_offset_manager;
	struct drm_vma_offset_node *node;
	struct drm_gem_object *obj = NULL;

	drm_vma_offset_lock_lookup(mgr);
	node = drm_vma_offset_lookup_locked(mgr, pgoff, 1);
	if (node) {
		obj = container_of(node, struct drm_gem_object, vma_node);
		if (!kref_get_unless_zero(&obj->refcount))
			obj = NULL;
	}
	drm_vma_offset_unlock_lookup(mgr);
	return obj ? to_p2pgpu_bo(obj) : NULL;
}

/* Append one page to @req's extents, merging with the previous extent. */
static void p2pgpu_add_extent(struct p2pmap_map_req *req, u8 type, u8 reason,
			      phys_addr_t phys, struct page *page)
{
	struct p2pmap_extent *e = req->nr_ext ? &req->ext[req->nr_ext - 1] : NULL;
	u8 flags = (req->flags & P2PMAP_REQ_WRITE) ? P2PMAP_EXT_F_WRITE : 0;

	if (e && e->type == type && e->reason == reason && e->flags == flags &&
	    ((type == P2PMAP_EXT_P2P &&
	      e->phys + (e->npages << PAGE_SHIFT) == phys) ||
	     (type == P2PMAP_EXT_SYSMEM && e->page + e->npages == page) ||
	     (type == P2PMAP_EXT_ERROR && e->error == -EBUSY))) {
		e->npages++;
		return;
	}
	e = &req->ext[req->nr_ext++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->reason = reason;
	e->flags = flags;
	e->npages = 1;
	if (type == P2PMAP_EXT_P2P)
		e->phys = phys;
	else if (type == P2PMAP_EXT_SYSMEM)
		e->page = page;
	else
		e->error = -EBUSY;
}

/**
 * struct p2pgpu_pin_rec - what one pinned p2p_map() call pinned
 * @node: on &p2pgpu_device.unpin_list once p2p_unmap() released it
 * @bo: the object; the record holds a GEM reference on it
 * @first: first page pinned, within @bo
 * @npages: pages pinned: every page the call resolved
 *
 * Allocated by p2p_map() for a pinned request and kept in &p2pmap_map_req.priv;
 * p2p_unmap() queues it for p2pgpu_unpin_work(), which drops the pins under
 * the device lock and then the reference.
 */
struct p2pgpu_pin_rec {
	struct llist_node node;
	struct p2pgpu_bo *bo;
	unsigned long first;
	unsigned long npages;
};

/*
 * Pages of the mapping, in fake-offset page numbers, that a placement for
 * this request must not evict (see p2pgpu_keep_span()).
 */
struct p2pgpu_span {
	pgoff_t first;
	pgoff_t last;
};

/*
 * Victim filter of a peer placement: keep every page whose fake offset lies
 * in the span the importer is resolving. Evicting one would invalidate the
 * very import being resolved (it would start over and, for an import larger
 * than the window, never settle); falling back to system memory for the
 * page being placed is better.
 */
static bool p2pgpu_keep_span(void *owner, u64 index, unsigned int order,
			     void *arg)
{
	const struct p2pgpu_span *span = arg;
	struct p2pgpu_bo *bo = owner;
	struct drm_vma_offset_node *node;
	u64 start;

	/* A device-private page is in no object's span. */
	if (p2pgpu_owner_is_devmem(owner))
		return false;
	node = &bo->base.vma_node;
	/* Without an mmap offset no importer can map the object. */
	if (!drm_mm_node_allocated(&node->vm_node))
		return false;
	start = drm_vma_node_start(node) + index;
	return start <= span->last && start + (1ULL << order) - 1 >= span->first;
}

/*
 * The span to protect: the request's own pages, plus the span the core says
 * the same import resolves in this p2pmap_import_map_and_lock() call. A core that
 * does not fill it leaves both fields 0 (fake offsets never start at 0), in
 * which case only the request itself is protected.
 */
static void p2pgpu_req_span(const struct p2pmap_map_req *req, unsigned long n,
			    struct p2pgpu_span *span)
{
	span->first = req->pgoff;
	span->last = req->pgoff + n - 1;
	if (req->span_last < req->span_first ||
	    (!req->span_first && !req->span_last))
		return;
	span->first = min(span->first, req->span_first);
	span->last = max(span->last, req->span_last);
}

/*
 * Resolve @n pages of @bo from @first for @req, with the device lock held.
 * Returns the number of pages resolved before an error (the error in *@err),
 * or @n. In pinned mode every resolved page is pinned.
 */
static unsigned long p2pgpu_resolve_locked(struct p2pgpu_device *gdev,
					   struct p2pmap_map_req *req,
					   struct p2pgpu_bo *bo,
					   unsigned long first, unsigned long n,
					   int *err)
{
	struct p2pgpu_span span;
	bool exhausted = false;
	unsigned long i;
	int ret = 0;

	lockdep_assert_held(&gdev->lock);
	p2pgpu_req_span(req, n, &span);
	for (i = 0; i < n; i++) {
		unsigned long pg = first + i;
		struct p2pgpu_bo_page *p = &bo->pages[pg];
		int slot = p->slot == P2PGPU_NO_SLOT ? -ENOENT : (int)p->slot;

		if (req->flags & P2PMAP_REQ_P2P_OK) {
			/*
			 * Place unless pinned device-only (a pinned importer
			 * holds the backing page) or the window already
			 * proved full for this call: nothing this call does
			 * frees a slot, so do not scan the LRU again.
			 */
			if (slot < 0 && !p->pins && !exhausted) {
				slot = p2pgpu_place_locked(gdev, bo, pg, false,
							   p2pgpu_keep_span,
							   &span);
				if (slot == -EBUSY || slot == -ENOSPC) {
					exhausted = true;
				} else if (slot < 0) {
					ret = slot;
					break;
				}
			} else if (slot >= 0) {
				p2pgpu_aper_touch(gdev->aper, slot,
						  get_jiffies_64());
			}
			if (slot >= 0) {
				if (req->flags & P2PMAP_REQ_PIN) {
					ret = p2pgpu_pin_page_locked(gdev, bo, pg);
					if (ret)
						break;
				}
				p2pgpu_add_extent(req, P2PMAP_EXT_P2P,
						  P2PMAP_REASON_NONE,
						  gdev->window_phys +
						  ((phys_addr_t)slot << PAGE_SHIFT),
						  NULL);
				continue;
			}
			if (req->flags & P2PMAP_REQ_REQUIRE_P2P) {
				p2pgpu_reject(gdev, "p2p_map: page %lu: %s, P2P required\n",
					      pg, p->pins ?
					      "pinned outside the window by a pinned importer" :
					      "window exhausted");
				ret = -ENOSPC;
				break;
			}
			if (req->flags & P2PMAP_REQ_PIN) {
				ret = p2pgpu_pin_page_locked(gdev, bo, pg);
				if (ret)
					break;
			}
			p2pgpu_add_extent(req, P2PMAP_EXT_SYSMEM,
					  P2PMAP_REASON_BAR_EXHAUSTED, 0, p->page);
			continue;
		}

		/* The importer cannot reach the BAR: hand out system memory. */
		if (slot >= 0) {
			if (p->pins) {
				/*
				 * Pinned in the window by an importer that
				 * reaches the BAR: its system copy is stale and
				 * it may not move. A revalidating importer gets
				 * an error extent for this page, and an
				 * invalidation when the last pin goes; a pinned
				 * one, which never revalidates, gets the
				 * request refused.
				 */
				if (req->flags & P2PMAP_REQ_PIN) {
					p2pgpu_reject(gdev,
						      "p2p_map: page %lu is pinned in the window by another importer; this pinned importer cannot reach the BAR\n",
						      pg);
					ret = -EBUSY;
					break;
				}
				p->busy_ext = true;
				p2pgpu_add_extent(req, P2PMAP_EXT_ERROR,
						  P2PMAP_REASON_NONE, 0, NULL);
				continue;
			}
			ret = p2pgpu_unplace_locked(gdev, bo, pg);
			if (ret)
				break;
		}
		if (req->flags & P2PMAP_REQ_PIN) {
			ret = p2pgpu_pin_page_locked(gdev, bo, pg);
			if (ret)
				break;
		}
		p2pgpu_add_extent(req, P2PMAP_EXT_SYSMEM, P2PMAP_REASON_NONE, 0,
				  p->page);
	}
	*err = ret;
	return i;
}

static int p2pgpu_p2p_map(struct p2pmap_provider *prov,
			  struct p2pmap_map_req *req)
{
	struct p2pgpu_device *gdev = p2pmap_provider_priv(prov);
	struct p2pgpu_pin_rec *rec = NULL;
	unsigned long first, n, done;
	struct p2pgpu_bo *bo;
	int idx, ret;

	if (!drm_dev_enter(&gdev->drm, &idx))
		return -ENODEV;
	bo = p2pgpu_lookup_offset(gdev, req->pgoff);
	if (!bo) {
		drm_dev_exit(idx);
		p2pgpu_reject(gdev, "p2p_map: no buffer object at offset page %lu\n",
			      req->pgoff);
		return -EFAULT;
	}
	first = req->pgoff - drm_vma_node_start(&bo->base.vma_node);
	n = min_t(unsigned long, req->npages, bo->npages - first);
	n = min_t(unsigned long, n, req->max_ext);
	if (req->flags & P2PMAP_REQ_PIN) {
		rec = kzalloc(sizeof(*rec), GFP_KERNEL);
		if (!rec) {
			ret = -ENOMEM;
			goto out;
		}
	}

	mutex_lock(&gdev->lock);
	done = p2pgpu_resolve_locked(gdev, req, bo, first, n, &ret);
	mutex_unlock(&gdev->lock);
	if (!done) {
		/* Nothing resolved, nothing pinned. */
		kfree(rec);
		if (WARN_ON_ONCE(!ret))
			ret = -EIO;
		goto out;
	}
	if (rec) {
		/* The record keeps the lookup's reference until unpinned. */
		rec->bo = bo;
		rec->first = first;
		rec->npages = done;
		req->priv = rec;
		bo = NULL;
	}
	/* Pages resolved before an error are returned; the core asks again. */
	ret = done;
out:
	if (bo)
		drm_gem_object_put(&bo->base);
	drm_dev_exit(idx);
	return ret;
}

/*
 * Revalidating importers hold no window slot: eviction invalidates them
 * first, and there is nothing to release. A pinned request hands its pin
 * record to the unpin worker: this may run under import->lock and
 * provider->lock, inside a p2pmap_provider_invalidate() that p2pgpu called
 * with the device lock held, so it must not take the device lock. llist_add()
 * and schedule_work() neither sleep nor allocate.
 */
static void p2pgpu_p2p_unmap(struct p2pmap_provider *prov,
			     struct p2pmap_map_req *req)
{
	struct p2pgpu_device *gdev = p2pmap_provider_priv(prov);
	struct p2pgpu_pin_rec *rec = req->priv;

	if (!rec)
		return;
	req->priv = NULL;
	llist_add(&rec->node, &gdev->unpin_list);
	schedule_work(&gdev->unpin_work);
}

/* Drop the pins of released pinned requests; see "The unpin worker". */
static void p2pgpu_unpin_work(struct work_struct *work)
{
	struct p2pgpu_device *gdev =
		container_of(work, struct p2pgpu_device, unpin_work);
	struct llist_node *list = llist_del_all(&gdev->unpin_list);
	struct p2pgpu_pin_rec *rec, *tmp;
	unsigned long i;

	if (!list)
		return;
	mutex_lock(&gdev->lock);
	llist_for_each_entry(rec, list, node)
		for (i = 0; i < rec->npages; i++)
			p2pgpu_unpin_page_locked(gdev, rec->bo, rec->first + i);
	mutex_unlock(&gdev->lock);
	/* The last reference frees the object, which takes the device lock. */
	llist_for_each_entry_safe(rec, tmp, list, node) {
		drm_gem_object_put(&rec->bo->base);
		kfree(rec);
	}
}

/**
 * p2pgpu_pin_init() - set up the unpin worker of a device
 * @gdev: the device, before anything can call p2pgpu_pin_flush()
 */
void p2pgpu_pin_init(struct p2pgpu_device *gdev)
{
	init_llist_head(&gdev->unpin_list);
	INIT_WORK(&gdev->unpin_work, p2pgpu_unpin_work);
}

/**
 * p2pgpu_pin_flush() - drop the pins of every released pinned request now
 * @gdev: the device
 *
 * Context: process context; no lock held that the unpin worker takes (the
 * device lock, or any p2pmap lock).
 */
void p2pgpu_pin_flush(struct p2pgpu_device *gdev)
{
	flush_work(&gdev->unpin_work);
}

static void p2pgpu_aperture(struct p2pmap_provider *prov,
			    struct p2pmap_aperture *ap)
{
	struct p2pgpu_device *gdev = p2pmap_provider_priv(prov);
	struct p2pgpu_aper_stats st;

	/* Pins of destroyed imports are gone once this returns. */
	p2pgpu_pin_flush(gdev);
	mutex_lock(&gdev->lock);
	p2pgpu_aper_get_stats(gdev->aper, &st);
	mutex_unlock(&gdev->lock);
	ap->total = (u64)st.total << PAGE_SHIFT;
	ap->used = (u64)st.used << PAGE_SHIFT;
	ap->pinned = (u64)st.pinned << PAGE_SHIFT;
	ap->free = (u64)st.free << PAGE_SHIFT;
	ap->device_total = gdev->vram_pages << PAGE_SHIFT;
}

static const struct p2pmap_provider_ops p2pgpu_provider_ops = {
	.p2p_map = p2pgpu_p2p_map,
	.p2p_map_pages = p2pgpu_devmem_p2p_map_pages,
	.p2p_unmap = p2pgpu_p2p_unmap,
	.aperture = p2pgpu_aperture,
};

/**
 * p2pgpu_provider_register() - make a device's memory importable
 * @gdev: the device, fully set up and registered with DRM
 *
 * Return: 0 or a negative errno from p2pmap.
 */
int p2pgpu_provider_register(struct p2pgpu_device *gdev)
{
	struct p2pmap_provider_desc desc = {
		.name = pci_name(gdev->pdev),
		.dev = &gdev->pdev->dev,
		.pdev = gdev->pdev,
		.bar = P2PGPU_WINDOW_BAR,
		.owner = THIS_MODULE,
		.ops = &p2pgpu_provider_ops,
		.priv = gdev,
	};
	struct p2pmap_provider *prov;
	int ret;

	prov = p2pmap_provider_register(&desc);
	if (IS_ERR(prov))
		return PTR_ERR(prov);
	ret = p2pmap_provider_bind_mapping(prov, gdev->drm.anon_inode->i_mapping);
	if (ret) {
		p2pmap_provider_unregister(prov);
		return ret;
	}
	mutex_lock(&gdev->lock);
	gdev->prov = prov;
	mutex_unlock(&gdev->lock);
	return 0;
}

/**
 * p2pgpu_provider_unregister() - revoke every import of a device
 * @gdev: the device
 *
 * Returns when no importer accesses the device's memory any more.
 */
void p2pgpu_provider_unregister(struct p2pgpu_device *gdev)
{
	struct p2pmap_provider *prov;

	mutex_lock(&gdev->lock);
	prov = gdev->prov;
	if (prov)
		p2pmap_provider_get(prov);
	mutex_unlock(&gdev->lock);
	if (!prov)
		return;
	/*
	 * Evictions and placements (CPU faults still run until
	 * drm_dev_unplug()) keep invalidating through @gdev->prov, under the
	 * device lock, while it is revoked; it only stops being used once
	 * nothing can hold memory of it. Unregistering drops the reference
	 * the registration held, so ours keeps @prov allocated until
	 * @gdev->prov is cleared (a fault in between once used it after it
	 * was freed: KASAN, stress suite, PCI unbind under traffic).
	 */
	p2pmap_provider_unregister(prov);
	mutex_lock(&gdev->lock);
	gdev->prov = NULL;
	mutex_unlock(&gdev->lock);
	p2pmap_provider_put(prov);
	/*
	 * Every pinned request has been through p2p_unmap() now, and no new
	 * one comes: drop their pins and object references before the
	 * device goes away.
	 */
	p2pgpu_pin_flush(gdev);
}
