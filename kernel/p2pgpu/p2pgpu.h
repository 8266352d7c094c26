/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgpu internal definitions: the device, its buffer objects and the
 * window (BAR2) placement code shared by p2pgpu_drv.c and p2pgpu_gem.c.
 */
#ifndef _P2PGPU_H
#define _P2PGPU_H

#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>

#include <linux/p2pmap.h>

struct drm_file;
struct page;
struct p2pmap_aper;
struct p2pmap_attach;
struct p2pmap_provider;

/**
 * DOC: p2pgpu locking and lifetime
 *
 * Each device has one mutex, &p2pgpu_device.lock. It protects the window
 * allocator (&p2pgpu_device.aper), the device-memory accounting
 * (&p2pgpu_device.vram_used), the counters, and the placement state of every
 * buffer object of the device (&p2pgpu_bo_page.slot, &p2pgpu_bo.resident).
 * The BAR is only read or written under it, and CPU page-table entries
 * pointing into the window are only inserted (fault) or zapped (eviction)
 * under it, so a slot is never reused while a PTE still points at it.
 *
 * Lock order: mmap_lock (read, held by the fault path) -> drm_dev_enter()
 * (SRCU) -> &p2pgpu_device.lock -> i_mmap_rwsem of the DRM anon inode and
 * page-table locks (taken by unmap_mapping_range() while evicting). The
 * device lock also comes before the lock of any p2pmap import: evictions
 * invalidate importers under it, and the copy engine (p2pgpu_copy.c)
 * moves bytes holding its own device lock and then its import's lock. The
 * device lock is never taken from reclaim (p2pgpu has no shrinker), so
 * GFP_KERNEL allocations under it, e.g. page tables in vmf_insert_pfn(), are
 * allowed. The backing pages of a buffer object are allocated at creation,
 * so eviction never allocates.
 *
 * Lifetime: a &p2pgpu_bo is a GEM object; handles and mmaps each hold a
 * reference (drm_gem_mmap() takes one per VMA, dropped in drm_gem_vm_close),
 * so closing the handle of a mapped object leaves the mapping valid until
 * munmap(). The window allocator records the object as the owner cookie of
 * each of its slots; p2pgpu_bo_free() releases those slots under the device
 * lock before the object goes away, and eviction runs under the same lock,
 * so an owner found in the allocator is always alive.
 *
 * The &p2pgpu_device is embedded in its &drm_device and freed with it, when
 * the last DRM file is closed (open files hold the DRM device and mmaps hold
 * their file); the allocator and lock are released with it. The BAR mapping
 * is devm-managed and goes away at PCI remove. Remove calls
 * drm_dev_unplug(), which waits for every drm_dev_enter() section (every
 * fault in progress), then zaps every CPU mapping of the device. After that,
 * ioctls fail with -ENODEV and faults with SIGBUS, and no path touches the
 * BAR again: objects that outlive the device are only freed.
 */

/*
 * Ratelimited reason for a refused request, in dmesg under the PCI device
 * name. Info level: a refused request is the caller's problem, not ours.
 */
#define p2pgpu_reject(gdev, fmt, ...) \
	dev_info_ratelimited((gdev)->drm.dev, fmt, ##__VA_ARGS__)

/* The ivshmem-plain BAR that is the GPU's peer-visible window. */
#define P2PGPU_WINDOW_BAR	2

/* &p2pgpu_bo_page.slot value of a device-only page. */
#define P2PGPU_NO_SLOT	U32_MAX

/**
 * struct p2pgpu_device - one emulated GPU (one ivshmem-plain PCI function)
 * @drm: the DRM device; the struct is allocated and freed with it.
 * @pdev: the PCI function.
 * @window: BAR2 mapped write-combining, @window_size bytes.
 * @window_phys: CPU physical address of BAR2.
 * @window_size: bytes of BAR2 used as the window (module parameter
 *	window_mb, at most the BAR size).
 * @window_pages: @window_size in pages: the number of window slots.
 * @vram_pages: device memory in pages (module parameter vram_mb).
 * @min_residency: minimum window residency in jiffies before a page may be
 *	evicted for a peer placement.
 * @min_residency_ms: the same in milliseconds, as configured.
 * @lock: the device lock; see "p2pgpu locking and lifetime".
 * @aper: window slot allocator; owner cookies are &struct p2pgpu_bo.
 * @vram_used: pages of device memory held by buffer objects.
 * @placements: pages copied into the window.
 * @evictions: pages evicted from the window.
 * @cpu_faults: CPU faults handled on object mappings.
 * @prov: this device as a p2pmap provider (p2pgpu_p2pmap.c), or NULL.
 * @copy_attach: this device as a p2pmap importer, for its copy engine
 *	(p2pgpu_copy.c); NULL if p2pmap_attach() failed at probe. Set before
 *	drm_dev_register() and released by a devres action after remove(),
 *	so every ioctl inside drm_dev_enter() sees it stable.
 * @copy_attach_err: why @copy_attach is NULL (negative errno), for the
 *	reason a refused copy logs.
 */
struct p2pgpu_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *window;
	phys_addr_t window_phys;
	u64 window_size;
	u32 window_pages;
	u64 vram_pages;
	u64 min_residency;
	unsigned int min_residency_ms;

	struct mutex lock; /* window, accounting, BO placement state */
	struct p2pmap_aper *aper;
	u64 vram_used;
	u64 placements;
	u64 evictions;
	u64 cpu_faults;
	struct p2pmap_provider *prov;
	struct p2pmap_attach *copy_attach;
	int copy_attach_err;
};

/**
 * struct p2pgpu_bo_page - one page of a buffer object
 * @page: kernel page backing it while device-only; allocated for the life
 *	of the object, so eviction never allocates.
 * @slot: window slot holding it, or P2PGPU_NO_SLOT when device-only.
 */
struct p2pgpu_bo_page {
	struct page *page;
	u32 slot;
};

/**
 * struct p2pgpu_bo - a buffer object in device memory
 * @base: the GEM object.
 * @npages: size in pages.
 * @resident: pages in the window.
 * @pages: @npages page descriptors.
 */
struct p2pgpu_bo {
	struct drm_gem_object base;
	unsigned long npages;
	unsigned long resident;
	struct p2pgpu_bo_page *pages;
};

static inline struct p2pgpu_device *to_p2pgpu(struct drm_device *drm)
{
	return container_of(drm, struct p2pgpu_device, drm);
}

static inline struct p2pgpu_bo *to_p2pgpu_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct p2pgpu_bo, base);
}

int p2pgpu_bo_create(struct p2pgpu_device *gdev, struct drm_file *file,
		     u64 size, u32 *handle);
int p2pgpu_place_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			unsigned long pgoff, bool cpu);
int p2pgpu_unplace_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			  unsigned long pgoff);

/* p2pgpu_p2pmap.c */
void p2pgpu_notify_move(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			unsigned long pgoff, unsigned long npages,
			enum p2pmap_event ev);
int p2pgpu_provider_register(struct p2pgpu_device *gdev);
void p2pgpu_provider_unregister(struct p2pgpu_device *gdev);

/* p2pgpu_copy.c */
void p2pgpu_copy_init(struct p2pgpu_device *gdev);
int p2pgpu_ioctl_copy(struct drm_device *drm, void *data,
		      struct drm_file *file);

#endif /* _P2PGPU_H */
