// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu buffer objects and the small-BAR window.
 *
 * Every page of a buffer object is backed by a kernel page that stands in
 * for device memory the CPU and peers cannot reach. To be reached it must be
 * placed in the window: a slot of BAR2 taken from the p2pmap window
 * allocator (kernel/lib/aperture.c), into which the page is copied. When the
 * window is full the least recently used unpinned page is evicted: its
 * importers are told (p2pgpu_notify_move()), its CPU mappings zapped,
 * its data copied back to the backing page, and its slot reused. This file
 * also owns page pins (p2pgpu_pin_page_locked()): a pinned page stays in
 * its window slot, or stays out of the window, until its last pin goes.
 *
 * A CPU mapping of an object is a VM_MIXEDMAP mapping backed by struct
 * pages, so get_user_pages() users (RDMA memory registration) can pin it:
 * a CPU fault on a device-only page places it in the window first and maps
 * the P2PDMA page of its slot (p2pgpu_p2pdma.c). It maps the page's system
 * backing page instead (a fallback mapping) when the page is pinned
 * device-only, when no slot can be had (every one pinned), or when the
 * window has no struct pages at all. Pages pinned by get_user_pages() are
 * never evicted, placed or moved out of the window while pinned.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

#include "../lib/aperture.h"
#include "p2pgpu.h"
#include "p2pgpu_drm.h"

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
 * stop before this returns), then CPU PTEs, then the data, then the slot.
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
	WARN_ON_ONCE(p2pmap_aper_free(gdev->aper, slot));
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
	struct p2pmap_aper_info info;
	enum p2pmap_aper_busy why;
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
	victim = p2pmap_aper_pick_victim_filter(gdev->aper, now, cpu,
						p2pgpu_evict_keep, &ctx, &why);
	if (victim < 0) {
		ret = victim == -ENOENT ? -ENOSPC : -EBUSY;
		goto out;
	}

	if (WARN_ON_ONCE(p2pmap_aper_lookup(gdev->aper, victim, &info))) {
		ret = -EIO;
		goto out;
	}
	/* A device-private page (shared virtual memory, p2pgpu_devmem.c). */
	if (p2pgpu_owner_is_devmem(info.owner)) {
		ret = p2pgpu_devmem_evict_locked(gdev, info.owner, info.index,
						 victim);
		goto out;
	}
	bo = info.owner;
	pgoff = info.index;
	if (WARN_ON_ONCE(pgoff >= bo->npages || bo->pages[pgoff].slot != victim)) {
		p2pmap_aper_abort_evict(gdev->aper, victim, now);
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
	slot = p2pmap_aper_alloc(gdev->aper, bo, pgoff, get_jiffies_64());
	if (slot == -ENOSPC && gdev->nr_orphans) {
		p2pgpu_reap_orphans_locked(gdev);
		slot = p2pmap_aper_alloc(gdev->aper, bo, pgoff,
					 get_jiffies_64());
	}
	if (slot == -ENOSPC) {
		ret = p2pgpu_evict_one_locked(gdev, cpu, keep, arg);
		if (ret)
			return ret;
		slot = p2pmap_aper_alloc(gdev->aper, bo, pgoff,
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
			ret = p2pmap_aper_pin(gdev->aper, p->slot);
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
		WARN_ON_ONCE(p2pmap_aper_unpin(gdev->aper, p->slot,
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

/*
 * Map the backing page of device-only page @pgoff: a fallback mapping
 * (@reason) or the page pinned device-only. vmf_insert_page() makes a
 * normal PTE with a page reference, so get_user_pages() can pin it;
 * p2pgpu_place_locked() zaps it before the page ever moves into the window
 * (and refuses while it is pinned).
 */
static vm_fault_t p2pgpu_fault_system_locked(struct p2pgpu_device *gdev,
					     struct p2pgpu_bo *bo,
					     struct vm_fault *vmf,
					     unsigned long pgoff, int reason)
{
	struct p2pgpu_bo_page *p = &bo->pages[pgoff];

	if (reason != P2PGPU_FALLBACK_PINNED_DEVICE) {
		gdev->cpu_fallbacks++;
		if (reason == P2PGPU_FALLBACK_WINDOW_FULL) {
			bo->cpu_fallback = reason;
			p2pgpu_reject(gdev,
				      "CPU fault at page %lu: no window slot (every one pinned), mapping system memory (fallback)\n",
				      pgoff);
		}
	}
	p->cpu_direct = true;
	return vmf_insert_page(vmf->vma, vmf->address, p->page);
}

/*
 * Map window slot @slot: its P2PDMA page when the window has struct pages
 * (a devmap PTE: get_user_pages() pins the page through its pagemap), the
 * bare PFN otherwise. vmf_insert_mixed() applies the BAR's cache mode.
 */
static vm_fault_t p2pgpu_fault_window_locked(struct p2pgpu_device *gdev,
					     struct vm_fault *vmf, u32 slot)
{
	unsigned long pfn = PHYS_PFN(gdev->window_phys) + slot;

	return p2pmap_vmf_insert_mixed(vmf->vma, vmf->address, pfn,
				       gdev->window_struct_pages);
}

static vm_fault_t p2pgpu_fault(struct vm_fault *vmf, bool pub)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *obj = vma->vm_private_data;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);
	unsigned long pgoff;
	vm_fault_t ret;
	int idx, slot;

	pgoff = vmf->pgoff - drm_vma_node_start(&obj->vma_node);
	if (pgoff >= bo->npages)
		return VM_FAULT_SIGBUS;
	/* After drm_dev_unplug() the BAR is gone: SIGBUS, never touch it. */
	if (!drm_dev_enter(obj->dev, &idx))
		return VM_FAULT_SIGBUS;

	mutex_lock(&gdev->lock);
	if (pub && !bo->published) {
		/* Unpublished after this mapping was made: revoked. */
		p2pgpu_reject(gdev,
			      "CPU fault through the publish node on an unpublished object: SIGBUS\n");
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	gdev->cpu_faults++;
	slot = bo->pages[pgoff].slot;
	if (slot == P2PGPU_NO_SLOT && (bo->pages[pgoff].pins ||
				       (bo->pages[pgoff].cpu_direct &&
					p2pgpu_page_gup_pinned(bo->pages[pgoff].page)))) {
		/*
		 * Pinned device-only, or a fallback page still pinned by
		 * get_user_pages(): its current data is the backing page,
		 * which an importer or an MR holds as system memory. Map
		 * that page (not counted again as a fallback).
		 */
		ret = p2pgpu_fault_system_locked(gdev, bo, vmf, pgoff,
						 P2PGPU_FALLBACK_PINNED_DEVICE);
		goto out;
	}
	if (!gdev->window_struct_pages) {
		/*
		 * No struct pages for the window: the CPU maps system pages,
		 * taking the page out of the window if it is there and not
		 * pinned; a page pinned there is mapped by PFN (not pinnable).
		 */
		if (slot == P2PGPU_NO_SLOT ||
		    !p2pgpu_unplace_locked(gdev, bo, pgoff)) {
			ret = p2pgpu_fault_system_locked(gdev, bo, vmf, pgoff,
							 gdev->cpu_fallback);
			goto out;
		}
		p2pmap_aper_touch(gdev->aper, slot, get_jiffies_64());
	} else if (slot == P2PGPU_NO_SLOT) {
		slot = p2pgpu_place_locked(gdev, bo, pgoff, true, NULL, NULL);
		if (slot == -EBUSY || slot == -ENOSPC) {
			/* Every slot pinned: system memory, not SIGBUS. */
			ret = p2pgpu_fault_system_locked(gdev, bo, vmf, pgoff,
							 P2PGPU_FALLBACK_WINDOW_FULL);
			goto out;
		}
		if (slot < 0) {
			p2pgpu_reject(gdev,
				      "CPU fault at page %lu: window allocation failed (%d), SIGBUS\n",
				      pgoff, slot);
			ret = VM_FAULT_SIGBUS;
			goto out;
		}
	} else {
		p2pmap_aper_touch(gdev->aper, slot, get_jiffies_64());
	}
	/* Under the lock: an eviction cannot zap before this insert. */
	ret = p2pgpu_fault_window_locked(gdev, vmf, slot);
out:
	mutex_unlock(&gdev->lock);
	drm_dev_exit(idx);
	return ret;
}

static vm_fault_t p2pgpu_gem_fault(struct vm_fault *vmf)
{
	return p2pgpu_fault(vmf, false);
}

/* Mappings made through the publish node: only while published. */
static vm_fault_t p2pgpu_pub_fault(struct vm_fault *vmf)
{
	return p2pgpu_fault(vmf, true);
}

static const struct vm_operations_struct p2pgpu_gem_vm_ops = {
	.fault = p2pgpu_gem_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

const struct vm_operations_struct p2pgpu_pub_vm_ops = {
	.fault = p2pgpu_pub_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

/**
 * p2pgpu_gem_mmap() - set up a VMA mapping an object
 * @obj: the object
 * @vma: the VMA (render node, dma-buf or publish node)
 *
 * VM_MIXEDMAP: every PTE maps a struct page (window P2PDMA page or system
 * backing page), except window PFNs when the window has no struct pages.
 * The protection is the default write-back one; vmf_insert_mixed()
 * applies the BAR's own cache mode to window PTEs.
 *
 * Return: 0, or -EINVAL for a private mapping.
 */
int p2pgpu_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);

	/* Private writable mappings would need copy-on-write of BAR pages. */
	if (vma_is_cow_mapping(vma)) {
		p2pgpu_reject(gdev,
			      "mmap: MAP_PRIVATE of a buffer object refused, use MAP_SHARED\n");
		return -EINVAL;
	}
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_decrypted(vm_get_page_prot(vma->vm_flags));
	return 0;
}

static void p2pgpu_bo_free_pages(struct p2pgpu_bo *bo)
{
	unsigned long i;

	for (i = 0; i < bo->npages; i++)
		if (bo->pages[i].page)
			__free_page(bo->pages[i].page);
	kvfree(bo->pages);
}

/*
 * Last reference gone: no handle, no mmap, so no CPU PTE. get_user_pages()
 * pins may outlive the mapping: backing pages are reference counted and
 * stay with the pinner, window slots still pinned become orphans
 * (p2pgpu_orphan_slot_locked()). Release the
 * window slots and the device-memory accounting under the device lock (so
 * no eviction can pick a slot of this object any more), then the pages. No
 * BAR access: the device may already be unplugged.
 */
static void p2pgpu_bo_free(struct drm_gem_object *obj)
{
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);
	unsigned long i;

	mutex_lock(&gdev->lock);
	/* Pinners hold a reference: a pinned object is never freed. */
	WARN_ON_ONCE(bo->pinned_window || bo->pinned_device);
	for (i = 0; i < bo->npages && bo->resident; i++) {
		u32 slot = bo->pages[i].slot;

		if (slot == P2PGPU_NO_SLOT)
			continue;
		/* Still pinned by get_user_pages(): kept until unpinned. */
		if (!p2pgpu_orphan_slot_locked(gdev, slot))
			WARN_ON_ONCE(p2pmap_aper_free(gdev->aper, slot));
		bo->pages[i].slot = P2PGPU_NO_SLOT;
		bo->resident--;
	}
	gdev->vram_used -= bo->npages;
	mutex_unlock(&gdev->lock);

	drm_gem_object_release(obj);
	p2pgpu_bo_free_pages(bo);
	kfree(bo);
}

static const struct drm_gem_object_funcs p2pgpu_gem_funcs = {
	.free = p2pgpu_bo_free,
	.export = p2pgpu_gem_prime_export,
	.mmap = p2pgpu_gem_mmap,
	.vm_ops = &p2pgpu_gem_vm_ops,
};

/**
 * p2pgpu_bo_create() - create a buffer object and a handle to it
 * @gdev: the device.
 * @file: DRM file the handle is created in.
 * @size: size in bytes, non-zero, page-aligned, at most the device memory.
 * @handle: where the new handle is stored.
 *
 * Charges the object against the device memory, then allocates its zeroed
 * backing pages. The object starts device-only.
 *
 * Return: 0, -ENOSPC if the free device memory is too small, -ENOMEM.
 */
int p2pgpu_bo_create(struct p2pgpu_device *gdev, struct drm_file *file,
		     u64 size, u32 *handle)
{
	unsigned long i, npages = size >> PAGE_SHIFT;
	struct p2pgpu_bo *bo;
	u64 free;
	int ret;

	mutex_lock(&gdev->lock);
	/* Device-private pages (p2pgpu_devmem.c) share the device memory. */
	free = gdev->vram_pages - gdev->vram_used - p2pgpu_devmem_used(gdev);
	if (npages > free) {
		mutex_unlock(&gdev->lock);
		p2pgpu_reject(gdev,
			      "BO_CREATE: %llu bytes do not fit in the %llu bytes of device memory still free\n",
			      size, free << PAGE_SHIFT);
		return -ENOSPC;
	}
	gdev->vram_used += npages;
	mutex_unlock(&gdev->lock);

	bo = kzalloc(sizeof(*bo), GFP_KERNEL_ACCOUNT);
	if (!bo) {
		ret = -ENOMEM;
		goto err_unaccount;
	}
	bo->pages = kvcalloc(npages, sizeof(*bo->pages), GFP_KERNEL_ACCOUNT);
	if (!bo->pages) {
		ret = -ENOMEM;
		goto err_free_bo;
	}
	bo->npages = npages;
	for (i = 0; i < npages; i++) {
		bo->pages[i].slot = P2PGPU_NO_SLOT;
		/* User-sized: fail rather than warn or invoke the OOM killer. */
		bo->pages[i].page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					       __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
		if (!bo->pages[i].page) {
			ret = -ENOMEM;
			goto err_free_pages;
		}
		cond_resched();
	}

	bo->base.funcs = &p2pgpu_gem_funcs;
	drm_gem_private_object_init(&gdev->drm, &bo->base, size);
	/* From here on p2pgpu_bo_free() undoes everything. */
	ret = drm_gem_handle_create(file, &bo->base, handle);
	drm_gem_object_put(&bo->base);
	return ret;

err_free_pages:
	p2pgpu_bo_free_pages(bo);
err_free_bo:
	kfree(bo);
err_unaccount:
	mutex_lock(&gdev->lock);
	gdev->vram_used -= npages;
	mutex_unlock(&gdev->lock);
	return ret;
}
