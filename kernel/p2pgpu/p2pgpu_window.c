// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu's small-BAR window engine.
 *
 * A page of a buffer object is reached by the CPU and peers only while it
 * is placed in the window: a slot of BAR2 taken from the window allocator
 * (kernel/p2pgpu/p2pgpu_aper.c), into which the page is copied. When the window
 * is full the least recently used unpinned page is evicted: its importers
 * are told (p2pgpu_notify_move()), its CPU mappings zapped, its data copied
 * back to the backing page, and its slot reused. This file also owns page
 * pins (p2pgpu_pin_page_locked()): a pinned page stays in its window slot,
 * or stays out of the window, until its last pin goes.
 *
 * Everyone who maps a page is told here before it moves: p2pmap importers
 * (p2pgpu_notify_move()), dma-buf importers of unpinned mappings
 * (p2pgpu_dmabuf_moving_locked(), under the reservation lock that the
 * victim filter p2pgpu_dmabuf_evict_trylock() took; the protocol is
 * described in p2pgpu_prime.c) and CPU mappings (p2pgpu_bo_zap()). A
 * device-private page in a slot is evicted by p2pgpu_devmem.c through
 * &p2pgpu_device.devmem_evict. The files above call this one and it calls
 * none of them back (scripts/depgraph.sh kernel/p2pgpu).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/drm_vma_manager.h>

#include <linux/p2pmap.h>

#include "p2pgpu_aper.h"
#include "p2pgpu.h"
#include "p2pgpu_drm.h"

/*
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
static void p2pgpu_notify_move(struct p2pgpu_device *gdev,
			       struct p2pgpu_bo *bo, unsigned long pgoff,
			       unsigned long npages, enum p2pmap_event ev)
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

/* ---- dma-buf importers of a page that moves (see p2pgpu_prime.c) ---- */

/**
 * p2pgpu_dmabuf_evict_trylock() - may a page of @bo be evicted now?
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the owner of the candidate page
 *
 * Victim filter of eviction (p2pgpu_evict_keep()). An object with live unpinned
 * dma-buf mappings may only lose a page with its reservation lock held, for
 * dma_buf_move_notify(): held already if the caller is a dma-buf op of
 * @bo, else trylocked here (never waited for: the device lock is held) and
 * kept until p2pgpu_dmabuf_evict_unlock(). At most one object is
 * trylocked at a time.
 *
 * Return: true if the page may be evicted.
 */
bool p2pgpu_dmabuf_evict_trylock(struct p2pgpu_device *gdev,
				 struct p2pgpu_bo *bo)
{
	lockdep_assert_held(&gdev->lock);
	if (!bo->dmabuf_live || bo == gdev->dmabuf_cb_bo ||
	    bo == gdev->dmabuf_evict_bo)
		return true;
	if (WARN_ON_ONCE(gdev->dmabuf_evict_bo))
		return false;
	if (!dma_resv_trylock(bo->base.resv))
		return false;
	gdev->dmabuf_evict_bo = bo;
	return true;
}

/**
 * p2pgpu_dmabuf_evict_unlock() - end of an eviction
 * @gdev: the device, with &p2pgpu_device.lock held
 *
 * Drops the reservation lock p2pgpu_dmabuf_evict_trylock() took, if any.
 */
void p2pgpu_dmabuf_evict_unlock(struct p2pgpu_device *gdev)
{
	struct p2pgpu_bo *bo = gdev->dmabuf_evict_bo;

	lockdep_assert_held(&gdev->lock);
	if (!bo)
		return;
	gdev->dmabuf_evict_bo = NULL;
	dma_resv_unlock(bo->base.resv);
}

/**
 * p2pgpu_dmabuf_moving_locked() - pages of @bo are about to change place
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the object
 *
 * Called before any page of @bo is evicted from or placed
 * into the window. If unpinned dma-buf mappings of @bo are live, they are all
 * invalidated: dma_buf_move_notify() (the mappings cover the whole object)
 * and counted. The reservation lock is held by then (see
 * p2pgpu_dmabuf_evict_trylock()); if it is not, that is a bug in the
 * callers, and nothing is notified rather than calling move_notify unlocked.
 */
void p2pgpu_dmabuf_moving_locked(struct p2pgpu_device *gdev,
				 struct p2pgpu_bo *bo)
{
	lockdep_assert_held(&gdev->lock);
	if (!bo->dmabuf_live)
		return;
	if (WARN_ON_ONCE(bo != gdev->dmabuf_cb_bo &&
			 bo != gdev->dmabuf_evict_bo))
		return;
	bo->dmabuf_gen++;
	bo->dmabuf_live = 0;
	bo->dmabuf_move_notifies++;
	gdev->dmabuf_move_notifies++;
	dma_buf_invalidate_mappings(bo->dmabuf_dyn);
}

/* ---- the window ---- */

/* Zap every CPU PTE of pages [pgoff, pgoff + npages) of @bo. */
static void p2pgpu_bo_zap(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			  unsigned long pgoff, unsigned long npages)
{
	struct drm_vma_offset_node *node = &bo->base.vma_node;

	if (!drm_mm_node_allocated(&node->vm_node))
		return; /* never given an mmap offset: no PTEs */
	unmap_mapping_range(gdev->drm.anon_inode->i_mapping,
			    (loff_t)(drm_vma_node_start(node) + pgoff) << PAGE_SHIFT,
			    (loff_t)npages << PAGE_SHIFT, 1);
}

/**
 * p2pgpu_bo_zap_all() - zap every CPU mapping of an object
 * @gdev: the device
 * @bo: the buffer object
 *
 * Mappings through the render node, dma-bufs and the publish node share
 * the DRM device's address space, so all of them go.
 */
void p2pgpu_bo_zap_all(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo)
{
	p2pgpu_bo_zap(gdev, bo, 0, bo->npages);
}

static void __iomem *p2pgpu_slot_io(struct p2pgpu_device *gdev, u32 slot)
{
	return gdev->window + ((size_t)slot << PAGE_SHIFT);
}

/*
 * Take page @pgoff of @bo out of window slot @slot: importers first (they
 * stop before this returns), then CPU PTEs (unmap_mapping_range(): the mmu
 * notifiers of ODP MRs and imports fire, and the PTEs' page references are
 * gone when it returns), then the data, then the object's hold on the
 * slot's page and the slot ("p2pgpu window page lifetime"). A page someone
 * else still holds keeps its slot as an orphan.
 */
static void p2pgpu_evict_page_locked(struct p2pgpu_device *gdev,
				     struct p2pgpu_bo *bo, unsigned long pgoff,
				     u32 slot)
{
	lockdep_assert_held(&gdev->lock);
	p2pgpu_dmabuf_moving_locked(gdev, bo);
	p2pgpu_notify_move(gdev, bo, pgoff, 1, P2PMAP_EV_EVICT);
	p2pgpu_bo_zap(gdev, bo, pgoff, 1);
	memcpy_fromio(page_address(bo->pages[pgoff].page),
		      p2pgpu_slot_io(gdev, slot), PAGE_SIZE);
	bo->pages[pgoff].slot = P2PGPU_NO_SLOT;
	bo->resident--;
	if (!p2pgpu_orphan_slot_locked(gdev, slot))
		WARN_ON_ONCE(p2pgpu_aper_free(gdev->aper, slot));
	gdev->evictions++;
}

/* Victim filter: the caller's, plus pages pinned by get_user_pages(). */
struct p2pgpu_keep_ctx {
	struct p2pgpu_device *gdev;
	p2pgpu_keep_fn keep;
	void *arg;
};

static bool p2pgpu_keep_gup(void *owner, u64 index, unsigned int order,
			    void *arg)
{
	struct p2pgpu_keep_ctx *ctx = arg;
	struct p2pgpu_bo *bo = owner;

	if (ctx->keep && ctx->keep(owner, index, order, ctx->arg))
		return true;
	/* Device-private pages are never CPU-mapped, so never GUP-pinned. */
	if (p2pgpu_owner_is_devmem(owner))
		return false;
	if (index < bo->npages && bo->pages[index].slot != P2PGPU_NO_SLOT &&
	    p2pgpu_slot_gup_pinned(ctx->gdev, bo->pages[index].slot)) {
		ctx->gdev->gup_keeps++;
		return true;
	}
	return false;
}

/*
 * Victim filter of every eviction. Device-private pages (tagged owners):
 * the caller's filter only. Buffer objects: the caller's filter and
 * get_user_pages() pins (p2pgpu_keep_gup()), then the dma-buf exporter's
 * (an object with live unpinned dma-buf mappings is a victim only if its
 * reservation lock could be taken without waiting, see
 * p2pgpu_dmabuf_evict_trylock(); it stays locked until the eviction ends).
 */
static bool p2pgpu_evict_keep(void *owner, u64 index, unsigned int order,
			      void *arg)
{
	struct p2pgpu_keep_ctx *ctx = arg;

	if (p2pgpu_owner_is_devmem(owner))
		return ctx->keep && ctx->keep(owner, index, order, ctx->arg);
	if (p2pgpu_keep_gup(owner, index, order, ctx))
		return true;
	return !p2pgpu_dmabuf_evict_trylock(ctx->gdev, owner);
}

/*
 * Evict one page to make room. @cpu: the caller is a CPU fault. @keep, if
 * not NULL, keeps pages that must not be evicted for this caller (called
 * with @arg). Returns 0 when a slot was freed, -EBUSY when every used slot
 * is pinned or kept (or, for a non-CPU caller, too young), -ENOSPC when the
 * window holds nothing at all.
 */
int p2pgpu_evict_one_locked(struct p2pgpu_device *gdev, bool cpu,
			    p2pgpu_keep_fn keep, void *arg)
{
	struct p2pgpu_keep_ctx ctx = { gdev, keep, arg };
	struct p2pgpu_aper_info info;
	enum p2pgpu_aper_busy why;
	u64 now = get_jiffies_64();
	struct p2pgpu_bo *bo;
	unsigned long pgoff;
	int victim, ret = 0;

	lockdep_assert_held(&gdev->lock);
	/*
	 * The CPU can only reach the window, so a CPU fault must get a slot:
	 * it evicts the least recently used unpinned page even if it is
	 * younger than the minimum residency, which only protects peer
	 * placements from ping-ponging. Only pinned pages are untouchable.
	 */
	victim = p2pgpu_aper_pick_victim_filter(gdev->aper, now, cpu,
						p2pgpu_evict_keep, &ctx, &why);
	if (victim < 0) {
		ret = victim == -ENOENT ? -ENOSPC : -EBUSY;
		goto out;
	}

	if (WARN_ON_ONCE(p2pgpu_aper_lookup(gdev->aper, victim, &info))) {
		ret = -EIO;
		goto out;
	}
	/* A device-private page (shared virtual memory, p2pgpu_devmem.c). */
	if (p2pgpu_owner_is_devmem(info.owner)) {
		ret = -EIO;
		if (!WARN_ON_ONCE(!gdev->devmem_evict))
			ret = gdev->devmem_evict(gdev, info.owner, info.index,
						 victim);
		goto out;
	}
	bo = info.owner;
	pgoff = info.index;
	if (WARN_ON_ONCE(pgoff >= bo->npages || bo->pages[pgoff].slot != victim)) {
		p2pgpu_aper_abort_evict(gdev->aper, victim, now);
		ret = -EIO;
		goto out;
	}

	p2pgpu_evict_page_locked(gdev, bo, pgoff, victim);
out:
	p2pgpu_dmabuf_evict_unlock(gdev);
	return ret;
}

/**
 * p2pgpu_unplace_locked() - move one page out of the window
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the buffer object
 * @pgoff: page within @bo, currently in the window
 *
 * Used when a peer that cannot reach the BAR needs the page in system
 * memory: importers and CPU mappings of the slot are dropped and the data
 * copied back to the backing page, as for an eviction.
 *
 * Return: 0, or -EBUSY if the page is pinned in the window (by an importer
 * or by get_user_pages()), or mapped by an unpinned dma-buf importer whose
 * reservation lock is contended.
 */
int p2pgpu_unplace_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			  unsigned long pgoff)
{
	u32 slot = bo->pages[pgoff].slot;

	lockdep_assert_held(&gdev->lock);
	if (slot == P2PGPU_NO_SLOT)
		return 0;
	if (bo->pages[pgoff].pins)
		return -EBUSY;
	if (p2pgpu_slot_gup_pinned(gdev, slot)) {
		gdev->gup_keeps++;
		return -EBUSY;
	}
	if (!p2pgpu_dmabuf_evict_trylock(gdev, bo))
		return -EBUSY;
	p2pgpu_evict_page_locked(gdev, bo, pgoff, slot);
	p2pgpu_dmabuf_evict_unlock(gdev);
	return 0;
}

/**
 * p2pgpu_place_locked() - place one page in the window
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the buffer object
 * @pgoff: page within @bo, currently device-only
 * @cpu: the caller is a CPU fault (may evict pages younger than the
 *	minimum residency; peers may not)
 * @keep: victim filter: pages it keeps are not evicted to make room (e.g.
 *	the pages a peer is resolving), or NULL
 * @arg: passed to @keep
 *
 * Evicts if the window is full. Importers holding the page as system
 * memory are invalidated, and CPU PTEs mapping its backing page zapped,
 * before its data moves. A page pinned device-only, or whose backing page
 * is pinned by get_user_pages() through a fallback CPU mapping, is never
 * placed. Orphan slots whose pin went away are reclaimed first when the
 * window is full.
 *
 * Return: the slot, or -EBUSY (the page is pinned device-only, or every
 * used slot is pinned, kept or, for peers, too young), -ENOSPC (the window
 * holds nothing), -EIO.
 */
int p2pgpu_place_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			unsigned long pgoff, bool cpu, p2pgpu_keep_fn keep,
			void *arg)
{
	struct p2pgpu_bo_page *p = &bo->pages[pgoff];
	int slot, ret;

	lockdep_assert_held(&gdev->lock);
	if (p->pins)
		return -EBUSY;
	if (p->cpu_direct && p2pgpu_page_gup_pinned(p->page)) {
		gdev->gup_keeps++;
		return -EBUSY;
	}
	slot = p2pgpu_aper_alloc(gdev->aper, bo, pgoff, get_jiffies_64());
	if (slot == -ENOSPC && gdev->nr_orphans) {
		p2pgpu_reap_orphans_locked(gdev);
		slot = p2pgpu_aper_alloc(gdev->aper, bo, pgoff,
					 get_jiffies_64());
	}
	if (slot == -ENOSPC) {
		ret = p2pgpu_evict_one_locked(gdev, cpu, keep, arg);
		if (ret)
			return ret;
		slot = p2pgpu_aper_alloc(gdev->aper, bo, pgoff,
					 get_jiffies_64());
	}
	if (slot < 0)
		return slot;

	p2pgpu_dmabuf_moving_locked(gdev, bo);
	p2pgpu_notify_move(gdev, bo, pgoff, 1, P2PMAP_EV_MOVE);
	if (p->cpu_direct) {
		p2pgpu_bo_zap(gdev, bo, pgoff, 1);
		p->cpu_direct = false;
	}
	memcpy_toio(p2pgpu_slot_io(gdev, slot),
		    page_address(bo->pages[pgoff].page), PAGE_SIZE);
	p2pgpu_slot_get_locked(gdev, slot);
	bo->pages[pgoff].slot = slot;
	bo->resident++;
	gdev->placements++;
	return slot;
}

/**
 * p2pgpu_pin_page_locked() - pin one page where it is
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the buffer object
 * @pgoff: page within @bo
 *
 * A page in the window is pinned in its slot (the allocator never picks it
 * as a victim); a device-only page is pinned device-only (it is not placed
 * into the window until unpinned). Pins nest; the first one decides, since
 * a pinned page never changes place. Counted per object and, for
 * device-only pins, per device.
 *
 * Return: 0, or -EOVERFLOW if the pin count would wrap.
 */
int p2pgpu_pin_page_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			   unsigned long pgoff)
{
	struct p2pgpu_bo_page *p = &bo->pages[pgoff];
	int ret;

	lockdep_assert_held(&gdev->lock);
	if (p->pins == U32_MAX)
		return -EOVERFLOW;
	if (!p->pins) {
		if (p->slot != P2PGPU_NO_SLOT) {
			ret = p2pgpu_aper_pin(gdev->aper, p->slot);
			if (WARN_ON_ONCE(ret))
				return ret;
			bo->pinned_window++;
		} else {
			bo->pinned_device++;
			gdev->device_pinned++;
		}
	}
	p->pins++;
	return 0;
}

/**
 * p2pgpu_unpin_page_locked() - drop one pin of a page
 * @gdev: the device, with &p2pgpu_device.lock held
 * @bo: the buffer object
 * @pgoff: page within @bo, pinned
 *
 * When the last pin goes, a window page becomes an eviction candidate
 * again (the most recently used one) and a device-only page may be placed;
 * a window page that revalidating importers got an error extent for is
 * invalidated so they resolve it again. Touches neither the BAR nor page
 * tables, so it also runs after the device was unplugged.
 */
void p2pgpu_unpin_page_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			      unsigned long pgoff)
{
	struct p2pgpu_bo_page *p = &bo->pages[pgoff];

	lockdep_assert_held(&gdev->lock);
	if (WARN_ON_ONCE(!p->pins))
		return;
	if (--p->pins)
		return;
	if (p->slot != P2PGPU_NO_SLOT) {
		WARN_ON_ONCE(p2pgpu_aper_unpin(gdev->aper, p->slot,
					       get_jiffies_64()));
		bo->pinned_window--;
		if (p->busy_ext) {
			p->busy_ext = false;
			p2pgpu_notify_move(gdev, bo, pgoff, 1, P2PMAP_EV_MOVE);
		}
	} else {
		bo->pinned_device--;
		gdev->device_pinned--;
	}
}
