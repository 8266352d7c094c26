// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu PRIME: buffer objects as dma-bufs.
 *
 * This file owns p2pgpu's dma_buf_ops and the PRIME hooks. Export makes a
 * dma-buf of an object (drm_gem_dmabuf_export(), which points the dma-buf
 * file's f_mapping at the DRM device's address space); mmap of the dma-buf
 * is a mapping of the object's fake offset in that address space, so CPU
 * faults, eviction zaps and p2pmap imports treat it exactly like an mmap of
 * the object through the render node. Import takes back only this
 * device's own dma-bufs (the same object); anything else is refused with a
 * reason.
 *
 * It also owns BO_DMABUF_INFO (move_notify counters). BO_FROM_VA and
 * EXPORT_RANGE, which start from a user address, are p2pgpu_va.c's.
 *
 * p2pgpu is a dynamic exporter (it has pin and unpin ops), so the dma-buf
 * core calls every op below with the reservation lock of the object
 * (&drm_gem_object.resv, which is the dma-buf's) held.
 *
 * Pinned attachments: static importers (the core pins them at attach) and
 * dynamic importers that call dma_buf_pin() (or every dynamic importer on a
 * kernel without CONFIG_DMABUF_MOVE_NOTIFY, where the core pins around each
 * mapping). The pin op pins the whole object: if the attachment allows
 * peer-to-peer and the importer can reach the BAR (pci_p2pdma_distance()
 * >= 0 and the BAR below its DMA mask), every page is placed and pinned in
 * the window; otherwise, or when the window cannot hold the object, every
 * page is pinned device-only (the reason goes to dmesg). map_dma_buf then
 * hands out the pinned placement: bus addresses of window slots (no struct
 * pages, as p2pdma does; the PCI bus address when the route stays below a
 * common switch, dma_map_resource() when it goes through the host bridge),
 * or the backing pages mapped with dma_map_sgtable(). A mapping is never a
 * mix of both.
 *
 * Unpinned (dynamic) mappings: a dynamic importer that allows peer-to-peer
 * and reaches the BAR gets the object placed in the window WITHOUT pins.
 * The pages may then be evicted (CPU faults, peers, other mappings); before
 * a page of such a mapping leaves its slot, the exporter calls
 * dma_buf_move_notify() with the reservation lock held, and the importer
 * maps again. A dynamic importer without a route, or for which the window
 * is full, gets system pages pinned device-only for the life of that
 * mapping, as a pinned importer would: system memory is the page's home,
 * and the pin only keeps the page from moving into the window (CPU
 * mappings then map the backing page), so it never needs move_notify.
 * move_notify calls are counted per object and per device
 * (DRM_IOCTL_P2PGPU_BO_DMABUF_INFO).
 *
 * Lock order. The dma-buf core holds the reservation lock around every op
 * here, and the ops take the device lock: resv -> &p2pgpu_device.lock.
 * Eviction runs under the device lock (CPU faults, p2pmap placement and
 * other mappings evict), so it can never block on a reservation lock. It
 * only trylocks: the victim filter of eviction (p2pgpu_dmabuf_evict_trylock()
 * in p2pgpu_window.c, which owns this protocol) accepts a page of an object with live unpinned
 * mappings only if dma_resv_trylock() of that object succeeds (or the
 * caller is a dma-buf op of that very object, which already holds it), and
 * keeps the lock until the eviction is done; the move hook
 * (p2pgpu_dmabuf_moving_locked(), called by p2pgpu_window.c for every page
 * that changes place) then calls dma_buf_move_notify() under it. A
 * contended object is simply not a victim this time. Alternatives rejected:
 * taking the reservation lock before the device lock on the eviction path
 * (the victim is only known under the device lock), and notifying from a
 * worker (the slot would be reused while the importer may still DMA to it).
 * Importers' move_notify callbacks therefore run under the device lock and
 * the object's reservation lock: they must not take a lock that they hold
 * around dma_buf_map_attachment() (the edu test importer only sets a flag).
 *
 * Unplug: p2pgpu_dmabuf_unplug() invalidates every live unpinned mapping
 * (move_notify) after drm_dev_unplug(), and mapping again fails with
 * -ENODEV; pinned mappings stay until their importers unmap.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>
#include <drm/drm_vma_manager.h>

#include "p2pgpu_aper.h"
#include "p2pgpu.h"
#include "p2pgpu_drm.h"

/* dma_buf_move_notify() */
MODULE_IMPORT_NS(P2PMAP_NS(DMA_BUF));

/**
 * struct p2pgpu_dmabuf_attach - what p2pgpu decided for one attachment
 * @p2p: the importer reaches the window: map it with bus addresses
 * @host_bridge: the route goes through the host bridge: dma_map_resource()
 * @bus_offset: PCI bus address minus CPU physical address of the BAR, for
 *	the switch route
 * @pins: dma-buf pin count of the attachment (under the reservation lock)
 * @pin_p2p: while @pins: the object is pinned in the window for it (else
 *	pinned device-only)
 */
struct p2pgpu_dmabuf_attach {
	bool p2p;
	bool host_bridge;
	s64 bus_offset;
	unsigned int pins;
	bool pin_p2p;
};

/**
 * struct p2pgpu_dmabuf_map - one mapping handed to an importer
 * @sgt: the sg_table the importer got
 * @p2p: @sgt holds window bus addresses (no struct pages); else system
 *	pages mapped with dma_map_sgtable() (cache maintenance explicit)
 * @host_bridge: the window addresses come from dma_map_resource()
 * @pinned_sys: an unpinned attachment fell back to system pages: this
 *	mapping pinned the object device-only and unpins it on unmap
 * @dynamic: an unpinned window mapping, live while @gen equals
 *	&p2pgpu_bo.dmabuf_gen (move_notify bumps it)
 * @gen: see @dynamic
 */
struct p2pgpu_dmabuf_map {
	struct sg_table sgt;
	bool p2p;
	bool host_bridge;
	bool pinned_sys;
	bool dynamic;
	u64 gen;
};

/* Decide the route of @attach; NULL reason: peer-to-peer. */
static const char *p2pgpu_dmabuf_route(struct p2pgpu_device *gdev,
				       struct dma_buf_attachment *attach,
				       struct p2pgpu_dmabuf_attach *a)
{
	struct pci_dev *pdev = gdev->pdev;
	u64 end;

	if (!attach->peer2peer)
		return "the importer does not allow peer-to-peer";
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return "kernel built without CONFIG_PCI_P2PDMA";
	if (!dev_is_pci(attach->dev))
		return "the importer is not a PCI device";
	if (pci_p2pdma_distance(pdev, attach->dev, false) < 0)
		return "pci_p2pdma_distance() < 0: no peer-to-peer route";
	/* The core's walk, so that p2pmap imports and dma-buf agree. */
	a->host_bridge = !p2pmap_pci_route_direct(pdev, to_pci_dev(attach->dev));
	if (a->host_bridge) {
		end = gdev->window_phys + gdev->window_size - 1;
	} else {
		u64 bus = pci_bus_address(pdev, P2PGPU_WINDOW_BAR);

		a->bus_offset = (s64)(bus - gdev->window_phys);
		end = bus + gdev->window_size - 1;
	}
	if (end > dma_get_mask(attach->dev))
		return "the window lies above the importer's DMA mask";
	a->p2p = true;
	return NULL;
}

static int p2pgpu_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct drm_gem_object *obj = dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_dmabuf_attach *a;
	const char *why;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	why = p2pgpu_dmabuf_route(gdev, attach, a);
	if (why)
		dev_info_ratelimited(gdev->drm.dev,
				     "dma-buf attach by %s: system pages (%s)\n",
				     dev_name(attach->dev), why);
	else
		dev_dbg(gdev->drm.dev, "dma-buf attach by %s: peer-to-peer (%s)\n",
			dev_name(attach->dev),
			a->host_bridge ? "host bridge" : "bus address");
	if (dma_buf_attachment_is_dynamic(attach) &&
	    !P2PMAP_DMABUF_DYNAMIC_IMPORTERS)
		dev_info_ratelimited(gdev->drm.dev,
				     "dma-buf attach by %s: dynamic importer pinned at each mapping (kernel built without CONFIG_DMABUF_MOVE_NOTIFY)\n",
				     dev_name(attach->dev));
	attach->priv = a;
	return 0;
}

static void p2pgpu_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	kfree(attach->priv);
	attach->priv = NULL;
}

static void p2pgpu_bo_unpin_range_locked(struct p2pgpu_device *gdev,
					 struct p2pgpu_bo *bo,
					 unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		p2pgpu_unpin_page_locked(gdev, bo, i);
}

/* Victim filter: keep the pages of the object being pinned. */
static bool p2pgpu_keep_bo(void *owner, u64 index, unsigned int order,
			   void *arg)
{
	return owner == arg;
}

/*
 * Place and pin every page of @bo in the window. Returns 0, or -EBUSY /
 * -ENOSPC when the window cannot hold them (or a page is pinned
 * device-only), with nothing pinned.
 */
static int p2pgpu_bo_pin_window_locked(struct p2pgpu_device *gdev,
				       struct p2pgpu_bo *bo)
{
	unsigned long i;
	int ret = 0;

	lockdep_assert_held(&gdev->lock);
	for (i = 0; i < bo->npages; i++) {
		struct p2pgpu_bo_page *p = &bo->pages[i];

		if (p->slot == P2PGPU_NO_SLOT) {
			/* place refuses a page pinned device-only: -EBUSY */
			ret = p2pgpu_place_locked(gdev, bo, i, false,
						  p2pgpu_keep_bo, bo);
			if (ret < 0)
				break;
		}
		ret = p2pgpu_pin_page_locked(gdev, bo, i);
		if (ret)
			break;
	}
	if (i == bo->npages)
		return 0;
	p2pgpu_bo_unpin_range_locked(gdev, bo, i);
	return ret;
}

/*
 * Pin every page of @bo device-only, moving pages out of the window first.
 * Returns 0, or -EBUSY (with nothing pinned) if a page is pinned in the
 * window by an importer that reaches the BAR.
 */
static int p2pgpu_bo_pin_device_locked(struct p2pgpu_device *gdev,
				       struct p2pgpu_bo *bo,
				       struct dma_buf_attachment *attach)
{
	unsigned long i;
	int ret = 0;

	lockdep_assert_held(&gdev->lock);
	for (i = 0; i < bo->npages; i++) {
		if (bo->pages[i].slot != P2PGPU_NO_SLOT) {
			ret = p2pgpu_unplace_locked(gdev, bo, i);
			if (ret) {
				p2pgpu_reject(gdev,
					      "dma-buf map by %s: page %lu is pinned in the window by a peer, %s needs system pages\n",
					      dev_name(attach->dev), i,
					      dev_name(attach->dev));
				break;
			}
		}
		ret = p2pgpu_pin_page_locked(gdev, bo, i);
		if (ret)
			break;
	}
	if (i == bo->npages)
		return 0;
	p2pgpu_bo_unpin_range_locked(gdev, bo, i);
	return ret;
}

static void p2pgpu_sgt_window_unmap(struct dma_buf_attachment *attach,
				    struct sg_table *sgt, unsigned int nents,
				    enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i >= nents)
			break;
		dma_unmap_resource(attach->dev, sg_dma_address(sg),
				   sg_dma_len(sg), dir, DMA_ATTR_SKIP_CPU_SYNC);
	}
}

/*
 * Build the sg_table of @bo's window slots (pinned, so their slots are
 * fixed): one entry per run of consecutive slots, at most the importer's
 * maximum segment size, no struct pages, DMA addresses only.
 */
static int p2pgpu_sgt_window_locked(struct p2pgpu_device *gdev,
				    struct p2pgpu_bo *bo,
				    struct dma_buf_attachment *attach,
				    const struct p2pgpu_dmabuf_attach *a,
				    enum dma_data_direction dir,
				    struct sg_table *sgt)
{
	unsigned int max_seg = dma_get_max_seg_size(attach->dev);
	unsigned int nents = 0, i;
	struct scatterlist *sg = NULL;
	size_t run = 0;
	unsigned long pg;
	u32 prev = 0;
	int ret;

	lockdep_assert_held(&gdev->lock);
	max_seg = max_t(unsigned int, round_down(max_seg, PAGE_SIZE), PAGE_SIZE);
	for (pg = 0; pg < bo->npages; pg++) {
		u32 slot = bo->pages[pg].slot;

		if (!run || slot != prev + 1 || run + PAGE_SIZE > max_seg) {
			nents++;
			run = 0;
		}
		run += PAGE_SIZE;
		prev = slot;
	}
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;

	run = 0;
	for (pg = 0; pg < bo->npages; pg++) {
		u32 slot = bo->pages[pg].slot;

		if (!run || slot != prev + 1 || run + PAGE_SIZE > max_seg) {
			sg = sg ? sg_next(sg) : sgt->sgl;
			/* no page: importers must use the DMA address only */
			sg_set_page(sg, NULL, 0, 0);
			sg_dma_address(sg) = gdev->window_phys +
					     ((phys_addr_t)slot << PAGE_SHIFT);
			sg_dma_len(sg) = 0;
			run = 0;
		}
		sg->length += PAGE_SIZE;
		sg_dma_len(sg) += PAGE_SIZE;
		run += PAGE_SIZE;
		prev = slot;
	}

	/* CPU physical addresses -> addresses for the importer. */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		phys_addr_t phys = sg_dma_address(sg);
		dma_addr_t addr;

		if (!a->host_bridge) {
			sg_dma_address(sg) = phys + a->bus_offset;
			continue;
		}
		addr = dma_map_resource(attach->dev, phys, sg_dma_len(sg), dir,
					DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(attach->dev, addr)) {
			p2pgpu_sgt_window_unmap(attach, sgt, i, dir);
			sg_free_table(sgt);
			return -EIO;
		}
		sg_dma_address(sg) = addr;
	}
	return 0;
}

/* The backing pages of @bo (pinned device-only), mapped for the importer. */
static int p2pgpu_sgt_system(struct p2pgpu_bo *bo,
			     struct dma_buf_attachment *attach,
			     enum dma_data_direction dir, struct sg_table *sgt)
{
	unsigned int max_seg = dma_get_max_seg_size(attach->dev);
	struct page **pages;
	unsigned long i;
	int ret;

	max_seg = max_t(unsigned int, round_down(max_seg, PAGE_SIZE), PAGE_SIZE);
	pages = kvmalloc_array(bo->npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* The backing pages are fixed for the life of the object. */
	for (i = 0; i < bo->npages; i++)
		pages[i] = bo->pages[i].page;
	ret = sg_alloc_table_from_pages_segment(sgt, pages, bo->npages, 0,
						bo->npages << PAGE_SHIFT,
						max_seg, GFP_KERNEL);
	kvfree(pages);
	if (ret)
		return ret;
	/*
	 * Several attachments (importers) may map the same backing pages at
	 * once, which is what sharing a dma-buf means; the DMA API's cache
	 * maintenance is done explicitly per mapping instead of by the map
	 * call, so that overlapping mappings are not taken for a bug.
	 */
	ret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret) {
		sg_free_table(sgt);
		return ret;
	}
	dma_sync_sgtable_for_device(attach->dev, sgt, dir);
	return 0;
}

/*
 * Take the device lock in a dma-buf op of @bo, whose reservation lock the
 * dma-buf core holds: evictions and moves of @bo's pages under this device
 * lock may then call dma_buf_move_notify() (see the lock order above).
 */
static void p2pgpu_dmabuf_lock(struct p2pgpu_device *gdev,
			       struct p2pgpu_bo *bo)
{
	dma_resv_assert_held(bo->base.resv);
	mutex_lock(&gdev->lock);
	gdev->dmabuf_cb_bo = bo;
}

static void p2pgpu_dmabuf_unlock(struct p2pgpu_device *gdev)
{
	gdev->dmabuf_cb_bo = NULL;
	mutex_unlock(&gdev->lock);
}

/* A buffer object with live unpinned mappings, referenced, or NULL. */
static struct p2pgpu_bo *p2pgpu_dmabuf_next_live(struct p2pgpu_device *gdev)
{
	struct p2pgpu_aper_info info;
	struct p2pgpu_bo *bo;
	u32 slot;

	mutex_lock(&gdev->lock);
	for (slot = 0; slot < gdev->window_pages; slot++) {
		if (p2pgpu_aper_lookup(gdev->aper, slot, &info) ||
		    !info.owner || p2pgpu_owner_is_devmem(info.owner))
			continue;
		bo = info.owner;
		/* a mapped dma-buf holds the object: never at zero here */
		if (bo->dmabuf_live && kref_get_unless_zero(&bo->base.refcount)) {
			mutex_unlock(&gdev->lock);
			return bo;
		}
	}
	mutex_unlock(&gdev->lock);
	return NULL;
}

/**
 * p2pgpu_dmabuf_unplug() - revoke unpinned dma-buf mappings at removal
 * @gdev: the device, after drm_dev_unplug()
 *
 * Every object with live unpinned (dynamic) window mappings is found from
 * the window allocator's owner cookies and invalidated with
 * dma_buf_move_notify() under its reservation lock, as an eviction would;
 * mapping again fails with -ENODEV (drm_dev_enter() fails from now on), so
 * no new unpinned mapping appears. When this returns, dynamic importers
 * have been told and, if they follow the dma-buf rules (no DMA outside
 * the reservation lock or their fences), no longer use the BAR. Pinned
 * mappings are not revoked: static importers cannot be told (see
 * p2pgpu_remove()). Takes the reservation locks, then the device lock.
 */
void p2pgpu_dmabuf_unplug(struct p2pgpu_device *gdev)
{
	struct p2pgpu_bo *bo;
	unsigned int n = 0;

	while ((bo = p2pgpu_dmabuf_next_live(gdev))) {
		dma_resv_lock(bo->base.resv, NULL);
		p2pgpu_dmabuf_lock(gdev, bo);
		p2pgpu_dmabuf_moving_locked(gdev, bo);
		p2pgpu_dmabuf_unlock(gdev);
		dma_resv_unlock(bo->base.resv);
		drm_gem_object_put(&bo->base);
		n++;
	}
	if (n)
		dev_info(gdev->drm.dev,
			 "unplug: told the dynamic importers of %u object(s)\n",
			 n);
}

/*
 * Place every page of @bo in the window without pinning it, keeping the
 * object's own pages from being evicted to make room. Returns 0, or
 * -EBUSY / -ENOSPC when the window cannot hold them (pages already placed
 * stay placed).
 */
static int p2pgpu_bo_place_window_locked(struct p2pgpu_device *gdev,
					 struct p2pgpu_bo *bo)
{
	unsigned long i;
	int ret;

	lockdep_assert_held(&gdev->lock);
	for (i = 0; i < bo->npages; i++) {
		if (bo->pages[i].slot != P2PGPU_NO_SLOT)
			continue;
		ret = p2pgpu_place_locked(gdev, bo, i, false, p2pgpu_keep_bo,
					  bo);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * dma_buf_ops.pin: pin the whole object for @attach, in the window if the
 * importer reaches it and the window can hold the object, else
 * device-only. Pins nest per attachment; the first decides.
 */
static int p2pgpu_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct drm_gem_object *obj = attach->dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_dmabuf_attach *a = attach->priv;
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);
	int idx, ret = 0;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (a->pins) {
		if (a->pins == UINT_MAX)
			return -EOVERFLOW;
		a->pins++;
		return 0;
	}
	/* Moving pages in or out of the window touches the BAR. */
	if (!drm_dev_enter(obj->dev, &idx)) {
		p2pgpu_reject(gdev, "dma-buf pin by %s: device unplugged\n",
			      dev_name(attach->dev));
		return -ENODEV;
	}
	p2pgpu_dmabuf_lock(gdev, bo);
	a->pin_p2p = false;
	if (a->p2p) {
		ret = p2pgpu_bo_pin_window_locked(gdev, bo);
		if (!ret)
			a->pin_p2p = true;
		else if (ret == -EBUSY || ret == -ENOSPC)
			dev_info_ratelimited(gdev->drm.dev,
					     "dma-buf pin by %s: the window cannot hold the %lu pages, pinning system pages\n",
					     dev_name(attach->dev), bo->npages);
	}
	if (!a->pin_p2p && (!a->p2p || ret == -EBUSY || ret == -ENOSPC))
		ret = p2pgpu_bo_pin_device_locked(gdev, bo, attach);
	p2pgpu_dmabuf_unlock(gdev);
	drm_dev_exit(idx);
	if (!ret)
		a->pins = 1;
	return ret;
}

/* dma_buf_ops.unpin: the last unpin of @attach drops the object's pins. */
static void p2pgpu_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct drm_gem_object *obj = attach->dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_dmabuf_attach *a = attach->priv;
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);

	dma_resv_assert_held(attach->dmabuf->resv);
	if (WARN_ON_ONCE(!a->pins) || --a->pins)
		return;
	/* No BAR access: also after the device was unplugged. */
	p2pgpu_dmabuf_lock(gdev, bo);
	p2pgpu_bo_unpin_range_locked(gdev, bo, bo->npages);
	p2pgpu_dmabuf_unlock(gdev);
}

/* map_dma_buf of a pinned attachment: hand out the pinned placement. */
static int p2pgpu_dmabuf_map_pinned(struct p2pgpu_device *gdev,
				    struct p2pgpu_bo *bo,
				    struct dma_buf_attachment *attach,
				    enum dma_data_direction dir,
				    struct p2pgpu_dmabuf_map *m)
{
	struct p2pgpu_dmabuf_attach *a = attach->priv;
	int ret;

	if (!a->pin_p2p)
		return p2pgpu_sgt_system(bo, attach, dir, &m->sgt);
	m->p2p = true;
	m->host_bridge = a->host_bridge;
	p2pgpu_dmabuf_lock(gdev, bo);
	ret = p2pgpu_sgt_window_locked(gdev, bo, attach, a, dir, &m->sgt);
	p2pgpu_dmabuf_unlock(gdev);
	return ret;
}

/*
 * map_dma_buf of an unpinned (dynamic) attachment: the window without pins
 * if the importer reaches it and it can hold the object (invalidated with
 * move_notify), else system pages pinned device-only for this mapping.
 */
static int p2pgpu_dmabuf_map_dynamic(struct p2pgpu_device *gdev,
				     struct p2pgpu_bo *bo,
				     struct dma_buf_attachment *attach,
				     enum dma_data_direction dir,
				     struct p2pgpu_dmabuf_map *m)
{
	struct p2pgpu_dmabuf_attach *a = attach->priv;
	int idx, ret;

	/* Moving pages in or out of the window touches the BAR. */
	if (!drm_dev_enter(bo->base.dev, &idx)) {
		p2pgpu_reject(gdev, "dma-buf map by %s: device unplugged\n",
			      dev_name(attach->dev));
		return -ENODEV;
	}
	p2pgpu_dmabuf_lock(gdev, bo);
	if (a->p2p) {
		ret = p2pgpu_bo_place_window_locked(gdev, bo);
		if (!ret) {
			ret = p2pgpu_sgt_window_locked(gdev, bo, attach, a, dir,
						       &m->sgt);
			if (!ret) {
				m->p2p = true;
				m->host_bridge = a->host_bridge;
				m->dynamic = true;
				m->gen = bo->dmabuf_gen;
				bo->dmabuf_live++;
				bo->dmabuf_dyn = attach->dmabuf;
			}
			goto unlock;
		}
		if (ret != -EBUSY && ret != -ENOSPC)
			goto unlock;
		dev_info_ratelimited(gdev->drm.dev,
				     "dma-buf map by %s: the window cannot hold the %lu pages, mapping system pages\n",
				     dev_name(attach->dev), bo->npages);
	}
	ret = p2pgpu_bo_pin_device_locked(gdev, bo, attach);
	if (!ret)
		m->pinned_sys = true;
unlock:
	p2pgpu_dmabuf_unlock(gdev);
	drm_dev_exit(idx);
	if (ret || !m->pinned_sys)
		return ret;
	ret = p2pgpu_sgt_system(bo, attach, dir, &m->sgt);
	if (ret) {
		p2pgpu_dmabuf_lock(gdev, bo);
		p2pgpu_bo_unpin_range_locked(gdev, bo, bo->npages);
		p2pgpu_dmabuf_unlock(gdev);
	}
	return ret;
}

static struct sg_table *p2pgpu_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct drm_gem_object *obj = attach->dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_dmabuf_attach *a = attach->priv;
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);
	struct p2pgpu_dmabuf_map *m;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	if (a->pins)
		ret = p2pgpu_dmabuf_map_pinned(gdev, bo, attach, dir, m);
	else
		ret = p2pgpu_dmabuf_map_dynamic(gdev, bo, attach, dir, m);
	if (ret) {
		kfree(m);
		return ERR_PTR(ret);
	}
	return &m->sgt;
}

/* Also after the device was unplugged: no BAR access, only unpinning. */
static void p2pgpu_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct p2pgpu_dmabuf_map *m = container_of(sgt, struct p2pgpu_dmabuf_map,
						   sgt);
	struct drm_gem_object *obj = attach->dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);

	dma_resv_assert_held(attach->dmabuf->resv);
	if (!m->p2p) {
		dma_sync_sgtable_for_cpu(attach->dev, sgt, dir);
		dma_unmap_sgtable(attach->dev, sgt, dir,
				  DMA_ATTR_SKIP_CPU_SYNC);
	} else if (m->host_bridge) {
		p2pgpu_sgt_window_unmap(attach, sgt, sgt->nents, dir);
	}
	sg_free_table(sgt);
	if (m->pinned_sys || m->dynamic) {
		p2pgpu_dmabuf_lock(gdev, bo);
		if (m->pinned_sys)
			p2pgpu_bo_unpin_range_locked(gdev, bo, bo->npages);
		if (m->dynamic && m->gen == bo->dmabuf_gen &&
		    !WARN_ON_ONCE(!bo->dmabuf_live))
			bo->dmabuf_live--;
		p2pgpu_dmabuf_unlock(gdev);
	}
	kfree(m);
}

/* Like an mmap of the object: same fault path, same address space. */
static int p2pgpu_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	return drm_gem_prime_mmap(dmabuf->priv, vma);
}

/*
 * &p2pgpu_bo.exported of every object: a leaf lock, held only to read or
 * clear the pointer and to take a file reference on the dma-buf.
 */
static DEFINE_SPINLOCK(p2pgpu_prime_lock);

/* The dma-buf's file is going away: it is no longer the object's. */
static void p2pgpu_dmabuf_release(struct dma_buf *dmabuf)
{
	struct p2pgpu_bo *bo = to_p2pgpu_bo(dmabuf->priv);

	spin_lock(&p2pgpu_prime_lock);
	if (bo->exported == dmabuf)
		bo->exported = NULL;
	spin_unlock(&p2pgpu_prime_lock);
	drm_gem_dmabuf_release(dmabuf);
}

static const struct dma_buf_ops p2pgpu_dmabuf_ops = {
	.attach = p2pgpu_dmabuf_attach,
	.detach = p2pgpu_dmabuf_detach,
	.pin = p2pgpu_dmabuf_pin,
	.unpin = p2pgpu_dmabuf_unpin,
	.map_dma_buf = p2pgpu_dmabuf_map,
	.unmap_dma_buf = p2pgpu_dmabuf_unmap,
	.release = p2pgpu_dmabuf_release,
	.mmap = p2pgpu_dmabuf_mmap,
};

/**
 * p2pgpu_gem_prime_export() - &drm_gem_object_funcs.export of p2pgpu
 * @obj: the object
 * @flags: O_CLOEXEC / O_RDWR from the PRIME ioctl
 *
 * Gives the object an mmap offset first: mmaps of the dma-buf, eviction
 * zaps and p2pmap imports all address its pages by fake offset.
 *
 * An object has at most one dma-buf: if one is still open, it is handed
 * out again. DRM forgets an object's dma-buf (&drm_gem_object.dma_buf)
 * when the object's last handle goes, while the dma-buf may live on in a
 * file descriptor; BO_FROM_VA can then give the object a new handle, and a
 * second export would make a second dma-buf. Importing the first one again
 * would then meet an object whose dma_buf is the second: a WARN_ON() in
 * drm_gem_prime_fd_to_handle() (found by p2pgpu_fuzz), and two dma-bufs
 * whose dynamic mappings one &p2pgpu_bo.dmabuf_dyn cannot track. Exports
 * are serialised by &drm_device.object_name_lock, which the PRIME ioctl
 * holds around this call.
 *
 * Return: the dma-buf with a reference for the caller, or an ERR_PTR().
 */
struct dma_buf *p2pgpu_gem_prime_export(struct drm_gem_object *obj, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);
	struct dma_buf *dmabuf;
	int ret;

	spin_lock(&p2pgpu_prime_lock);
	dmabuf = bo->exported;
	/* A file whose last reference is gone is being released. */
	if (dmabuf && !p2pmap_get_file_unless_zero(dmabuf->file))
		dmabuf = NULL;
	spin_unlock(&p2pgpu_prime_lock);
	if (dmabuf)
		return dmabuf;

	ret = drm_gem_create_mmap_offset(obj);
	if (ret)
		return ERR_PTR(ret);
	exp_info.ops = &p2pgpu_dmabuf_ops;
	exp_info.size = obj->size;
	exp_info.flags = flags;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;
	dmabuf = drm_gem_dmabuf_export(obj->dev, &exp_info);
	if (IS_ERR(dmabuf))
		return dmabuf;
	spin_lock(&p2pgpu_prime_lock);
	bo->exported = dmabuf;
	spin_unlock(&p2pgpu_prime_lock);
	return dmabuf;
}

/**
 * p2pgpu_gem_prime_import() - &drm_driver.gem_prime_import of p2pgpu
 * @drm: the importing device
 * @dmabuf: the dma-buf
 *
 * A dma-buf exported by this device gives back its own object. Objects of
 * other devices are refused: a p2pgpu object is device memory of its own
 * GPU, and importing another device's buffer would need an object type
 * backed by somebody else's sg_table, which p2pgpu does not have (peers
 * reach other GPUs' objects through p2pmap instead).
 *
 * Return: the object with a new reference, or ERR_PTR(-EOPNOTSUPP).
 */
struct drm_gem_object *p2pgpu_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dmabuf)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_gem_object *obj;

	if (dmabuf->ops == &p2pgpu_dmabuf_ops) {
		obj = dmabuf->priv;
		if (obj->dev == drm) {
			drm_gem_object_get(obj);
			return obj;
		}
		p2pgpu_reject(gdev,
			      "PRIME import: the buffer is an object of p2pgpu %s; only this device's own buffers can be imported\n",
			      dev_name(obj->dev->dev));
	} else {
		p2pgpu_reject(gdev,
			      "PRIME import: %s buffers are not supported; only this device's own buffers can be imported\n",
			      dmabuf->exp_name ? dmabuf->exp_name : "foreign");
	}
	return ERR_PTR(-EOPNOTSUPP);
}

/**
 * p2pgpu_ioctl_bo_dmabuf_info() - DRM_IOCTL_P2PGPU_BO_DMABUF_INFO
 * @drm: the device
 * @data: &struct drm_p2pgpu_bo_dmabuf_info
 * @file: the DRM file holding the handle
 *
 * Return: 0, -EINVAL (padding or flags not 0), -ENOENT (no such handle).
 */
int p2pgpu_ioctl_bo_dmabuf_info(struct drm_device *drm, void *data,
				struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_dmabuf_info *args = data;
	struct drm_gem_object *obj;
	struct p2pgpu_bo *bo;

	if (args->pad || args->flags) {
		p2pgpu_reject(gdev, "BO_DMABUF_INFO: pad and flags must be 0\n");
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		p2pgpu_reject(gdev, "BO_DMABUF_INFO: no object with handle %u\n",
			      args->handle);
		return -ENOENT;
	}
	bo = to_p2pgpu_bo(obj);
	mutex_lock(&gdev->lock);
	args->move_notifies = bo->dmabuf_move_notifies;
	args->live_mappings = bo->dmabuf_live;
	args->device_move_notifies = gdev->dmabuf_move_notifies;
	mutex_unlock(&gdev->lock);
	if (P2PMAP_DMABUF_DYNAMIC_IMPORTERS)
		args->flags |= P2PGPU_DMABUF_INFO_MOVE_NOTIFY;
	drm_gem_object_put(obj);
	return 0;
}
