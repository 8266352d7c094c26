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
 * minimum residency. If nothing can be evicted the page falls back to
 * system memory, page by page: its backing page is handed out as a
 * system-memory extent with P2PMAP_REASON_BAR_EXHAUSTED (or -ENOSPC under
 * REQUIRE_P2P). When the importer cannot reach the BAR at all (no route,
 * policy), pages in the window are moved out first, so the system-memory
 * copy is the current one.
 *
 * Locking: p2p_map() runs with the importer's mmap_lock held for read and
 * takes the device lock; evictions and placements call
 * p2pmap_provider_invalidate() under the device lock, so p2p_unmap() must
 * never take the device lock (it does nothing: revalidating importers hold
 * no window slot; pinned mode is not offered yet and is refused).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/p2pmap.h>
#include <linux/pci.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "../lib/aperture.h"
#include "p2pgpu.h"

/**
 * p2pgpu_notify_move() - tell importers that pages change location
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the buffer object
 * @pgoff: first page (within @bo)
 * @npages: number of pages
 * @ev: %P2PMAP_EV_EVICT (leaving the window) or %P2PMAP_EV_MOVE (entering)
 *
 * Returns when no importer can access the pages at their old location.
 * Objects without an mmap offset have no CPU mapping and so no importer.
 */
void p2pgpu_notify_move(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			unsigned long pgoff, unsigned long npages,
			enum p2pmap_event ev)
{
	struct drm_vma_offset_node *node = &bo->base.vma_node;
	unsigned long start;

	lockdep_assert_held(&gdev->lock);
	if (!gdev->prov || !drm_mm_node_allocated(&node->vm_node))
		return;
	start = drm_vma_node_start(node) + pgoff;
	p2pmap_provider_invalidate(gdev->prov, gdev->drm.anon_inode->i_mapping,
				   start, start + npages - 1, ev);
}

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
	u8 flags = req->write ? P2PMAP_EXT_F_WRITE : 0;

	if (e && e->type == type && e->reason == reason && e->flags == flags &&
	    ((type == P2PMAP_EXT_P2P &&
	      e->phys + (e->npages << PAGE_SHIFT) == phys) ||
	     (type == P2PMAP_EXT_SYSMEM && e->page + e->npages == page))) {
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
	else
		e->page = page;
}

static int p2pgpu_p2p_map(struct p2pmap_provider *prov,
			  struct p2pmap_map_req *req)
{
	struct p2pgpu_device *gdev = p2pmap_provider_priv(prov);
	unsigned long first, n, i;
	struct p2pgpu_bo *bo;
	int idx, ret = 0;

	if (req->pin) {
		p2pgpu_reject(gdev, "p2p_map: pinned imports are not offered yet\n");
		return -EOPNOTSUPP;
	}
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

	mutex_lock(&gdev->lock);
	for (i = 0; i < n; i++) {
		unsigned long pg = first + i;
		int slot = bo->pages[pg].slot;

		if (req->p2p_ok) {
			if (slot == P2PGPU_NO_SLOT)
				slot = p2pgpu_place_locked(gdev, bo, pg, false);
			else
				p2pmap_aper_touch(gdev->aper, slot, get_jiffies_64());
			if (slot >= 0) {
				p2pgpu_add_extent(req, P2PMAP_EXT_P2P,
						  P2PMAP_REASON_NONE,
						  gdev->window_phys +
						  ((phys_addr_t)slot << PAGE_SHIFT),
						  NULL);
				continue;
			}
			if (slot != -EBUSY && slot != -ENOSPC) {
				ret = slot;
				break;
			}
			if (req->require_p2p) {
				p2pgpu_reject(gdev, "p2p_map: window exhausted, P2P required\n");
				ret = -ENOSPC;
				break;
			}
			p2pgpu_add_extent(req, P2PMAP_EXT_SYSMEM,
					  P2PMAP_REASON_BAR_EXHAUSTED, 0,
					  bo->pages[pg].page);
			continue;
		}
		/* The importer cannot reach the BAR: hand out system memory. */
		if (slot != P2PGPU_NO_SLOT) {
			ret = p2pgpu_unplace_locked(gdev, bo, pg);
			if (ret)
				break;
		}
		p2pgpu_add_extent(req, P2PMAP_EXT_SYSMEM, P2PMAP_REASON_NONE, 0,
				  bo->pages[pg].page);
	}
	mutex_unlock(&gdev->lock);
	drm_gem_object_put(&bo->base);
	drm_dev_exit(idx);
	if (ret && !i)
		return ret;
	/* Pages resolved before an error are returned; the core asks again. */
	return i ? i : -EIO;
}

/*
 * Revalidating importers hold no window slot: eviction invalidates them
 * first. Nothing to release, and the device lock must not be taken here.
 */
static void p2pgpu_p2p_unmap(struct p2pmap_provider *prov,
			     struct p2pmap_map_req *req)
{
}

static void p2pgpu_aperture(struct p2pmap_provider *prov,
			    struct p2pmap_aperture *ap)
{
	struct p2pgpu_device *gdev = p2pmap_provider_priv(prov);
	struct p2pmap_aper_stats st;

	mutex_lock(&gdev->lock);
	p2pmap_aper_get_stats(gdev->aper, &st);
	mutex_unlock(&gdev->lock);
	ap->total = (u64)st.total << PAGE_SHIFT;
	ap->used = (u64)st.used << PAGE_SHIFT;
	ap->pinned = (u64)st.pinned << PAGE_SHIFT;
	ap->free = (u64)st.free << PAGE_SHIFT;
	ap->device_total = gdev->vram_pages << PAGE_SHIFT;
}

static const struct p2pmap_provider_ops p2pgpu_provider_ops = {
	.p2p_map = p2pgpu_p2p_map,
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
	mutex_unlock(&gdev->lock);
	if (!prov)
		return;
	/*
	 * Evictions and placements keep invalidating through @prov while
	 * it is revoked; it only stops being used once nothing can hold
	 * memory of it.
	 */
	p2pmap_provider_unregister(prov);
	mutex_lock(&gdev->lock);
	gdev->prov = NULL;
	mutex_unlock(&gdev->lock);
}
