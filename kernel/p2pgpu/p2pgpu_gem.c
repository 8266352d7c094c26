// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu buffer objects and their CPU mappings.
 *
 * Every page of a buffer object is backed by a kernel page that stands in
 * for device memory the CPU and peers cannot reach. To be reached it must be
 * placed in the window (p2pgpu_window.c). A CPU mapping of an object is a
 * VM_MIXEDMAP mapping backed by struct pages, so hmm_range_fault() (RDMA
 * ODP) can walk it and get_user_pages() users (RDMA memory registration on
 * kernels that still pin P2PDMA pages) can pin it: a CPU fault on a
 * device-only page
 * places it in the window first and maps the P2PDMA page of its slot
 * (p2pgpu_p2pdma.c). It maps the page's system backing page instead (a
 * fallback mapping) when the page is pinned device-only, when no slot can
 * be had (every one pinned), or when the window has no struct pages at
 * all. Pages pinned by get_user_pages() are never evicted, placed or moved
 * out of the window while pinned. This file owns object creation and
 * freeing, mmap and the fault handlers.
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

#include "p2pgpu_aper.h"
#include "p2pgpu.h"
#include "p2pgpu_drm.h"

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
		p2pgpu_aper_touch(gdev->aper, slot, get_jiffies_64());
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
		p2pgpu_aper_touch(gdev->aper, slot, get_jiffies_64());
	}
	/* Under the lock: an eviction cannot zap before this insert. */
	ret = p2pgpu_slot_insert_locked(gdev, vmf, slot);
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
 * VM_MIXEDMAP, never VM_PFNMAP or VM_IO (hmm_range_fault() refuses those):
 * every PTE maps a struct page (window P2PDMA page or system backing page),
 * except window PFNs when the window has no struct pages. The protection
 * is the default write-back one, as for the core's p2pmem/allocate
 * mappings; see p2pgpu_slot_insert_locked().
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
		/* Releases the slot's page, or keeps the slot while held. */
		if (!p2pgpu_orphan_slot_locked(gdev, slot))
			WARN_ON_ONCE(p2pgpu_aper_free(gdev->aper, slot));
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
