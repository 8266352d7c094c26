/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgpu internal definitions: the device, its buffer objects, the window
 * (BAR2) placement and pinning code, and the entry points the p2pgpu_*.c
 * files share (each group below names the file that defines it).
 */
#ifndef _P2PGPU_H
#define _P2PGPU_H

#include <linux/device.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>

#include <linux/p2pmap.h>

#include <p2pmap_compat.h>

struct dma_buf;
struct drm_file;
struct page;
struct p2pgpu_aper;
struct p2pmap_attach;
struct p2pmap_provider;
struct p2pgpu_svm;
struct p2pgpu_pub;
struct vm_area_struct;

/**
 * DOC: p2pgpu locking and lifetime
 *
 * Each device has one mutex, &p2pgpu_device.lock. It protects the window
 * allocator (&p2pgpu_device.aper), the device-memory accounting
 * (&p2pgpu_device.vram_used, &p2pgpu_device.device_pinned), the counters,
 * and the placement and pin state of every buffer object of the device
 * (&p2pgpu_bo_page.slot, .pins and .cpu_direct, &p2pgpu_bo.resident and its
 * pinned counts). The BAR is only read or written under it, and CPU
 * page-table entries pointing into the window or at a backing page are
 * only inserted (fault) or zapped (eviction, placement) under it, so a slot
 * is never reused, and a page never moves into the window, while a PTE
 * still points at its old place.
 *
 * Pins: a page with &p2pgpu_bo_page.pins > 0 stays where it is. If it is
 * in the window, its slot is pinned in the allocator (never a victim, not
 * even for a CPU fault); otherwise it is pinned device-only: it must not be
 * placed into the window, so importers that were handed its backing page
 * (pinned p2pmap importers without a route, dma-buf importers mapping
 * system pages) keep seeing the current data, and a CPU fault maps the
 * backing page itself (&p2pgpu_bo_page.cpu_direct) instead of placing it.
 * Pinners: pinned p2pmap requests (p2pgpu_p2pmap.c; each holds a GEM
 * reference until its pins are dropped) and dma-buf attachments mapped by
 * importers (p2pgpu_prime.c; the dma-buf holds the object).
 *
 * CPU mappings and get_user_pages(): CPU PTEs map struct pages (the P2PDMA
 * page of the window slot, or the system backing page for fallback
 * mappings, see p2pgpu_gem.c and p2pgpu_p2pdma.c), so get_user_pages()
 * users such as RDMA memory registration can pin them. Such a pin is only
 * visible as page_maybe_dma_pinned() and holds no GEM reference; it is
 * honoured under the device lock wherever a page would change place: a
 * window page pinned that way is never an eviction victim and is never
 * moved out of the window, a backing page pinned that way is never placed
 * into the window, and the slots of an object freed while pinned stay
 * allocated (orphans) until the pin goes. Unlike importer pins these pages
 * are not counted in the pinned fields of BO_INFO/DEVICE_INFO; they are
 * counted when asked (BO_CPU_INFO, sysfs). PCI remove waits for every such
 * pin on the window before the struct pages go (p2pgpu_p2pdma_drain()).
 * Since 6.2 GUP pins no P2PDMA page long-term, so on newer kernels only
 * fallback (system) pages are pinned that way. Who holds a reference on a
 * window page, and when it drops, is in "p2pgpu window page lifetime"
 * (p2pgpu_p2pdma.c); all of it happens under the device lock.
 *
 * The unpin worker: p2pmap may call p2p_unmap() with import->lock and
 * provider->lock held, and p2pgpu calls p2pmap_provider_invalidate() with
 * the device lock held, so p2p_unmap() never takes the device lock. It
 * queues the request's pin record (allocated in p2p_map()) on
 * &p2pgpu_device.unpin_list and schedules &p2pgpu_device.unpin_work, which
 * takes the device lock, drops the pins, and then, outside the lock, drops
 * the GEM references (the last one frees the object, which takes the device
 * lock itself). Readers of pin counts that must be exact (DEVICE_INFO, the
 * aperture() op) flush the work first, holding no lock; remove flushes it
 * after p2pmap_provider_unregister() (after which p2p_unmap() is never
 * called again) and before the device goes away.
 *
 * Lock order: mmap_lock (read, held by the fault path) -> drm_dev_enter()
 * (SRCU) -> &p2pgpu_device.lock -> i_mmap_rwsem of the DRM anon inode and
 * page-table locks (taken by unmap_mapping_range() while evicting). The
 * device lock also comes before the lock of any p2pmap import: evictions
 * invalidate importers under it, and the copy engine (p2pgpu_copy.c)
 * moves bytes holding its own device lock and then its import's lock. The
 * device lock is never taken from reclaim (p2pgpu has no shrinker), so
 * GFP_KERNEL allocations under it, e.g. page tables in vmf_insert_mixed(),
 * are allowed. The backing pages of a buffer object are allocated at creation,
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
 * @device_pinned: pages pinned device-only (outside the window).
 * @prov: this device as a p2pmap provider (p2pgpu_p2pmap.c), or NULL.
 * @copy_attach: this device as a p2pmap importer, for its copy engine
 *	(p2pgpu_copy.c); NULL if p2pmap_attach() failed at probe. Set before
 *	drm_dev_register() and released by a devres action after remove(),
 *	so every ioctl inside drm_dev_enter() sees it stable.
 * @copy_attach_err: why @copy_attach is NULL (negative errno), for the
 *	reason a refused copy logs.
 * @unpin_list: pin records of released pinned p2pmap requests, waiting for
 *	@unpin_work (lock-free: filled from p2p_unmap()).
 * @unpin_work: drops the pins of @unpin_list under @lock.
 * @svm: shared virtual memory state (device-private pages, p2pgpu_devmem.c),
 *	or NULL when CONFIG_DEVICE_PRIVATE is off.
 * @devmem_evict: evicts the device-private page in a window slot: set by
 *	p2pgpu_devmem.c with @svm, called by p2pgpu_window.c under @lock (so
 *	the window engine calls no file that calls it); NULL without @svm.
 * @window_struct_pages: the window has P2PDMA struct pages (p2pgpu_p2pdma.c)
 *	and CPU faults map them; cleared under @lock when remove tears them
 *	down.
 * @window_refcounted: the window's P2PDMA pages follow the refcount-0 rules
 *	(P2PMAP_P2PDMA_IDLE_REFCOUNT == 0): slots in use hold a page reference
 *	(@slot_refs) and CPU faults vm_insert_page() them; false: 6.1 rules
 *	(devmap PTEs, no references). See "p2pgpu window page lifetime".
 * @slot_refs: window slots whose P2PDMA page p2pgpu holds one reference on
 *	(bitmap of @window_pages; only with @window_refcounted).
 * @cpu_fallback: P2PGPU_FALLBACK_* reason why the window has no struct pages
 *	(CPU mappings are then system pages), or %P2PGPU_FALLBACK_NONE.
 * @p2pdma_err: errno of pci_p2pdma_add_resource(), for the log and sysfs.
 * @orphans: window slots of freed objects still pinned by get_user_pages(),
 *	held pinned in @aper until the pin goes (bitmap of @window_pages).
 * @nr_orphans: bits set in @orphans.
 * @cpu_fallbacks: CPU faults that mapped a system page for lack of a slot.
 * @gup_keeps: times a get_user_pages() pin kept a page where it was.
 * @pub: the publish node (p2pgpu_publish.c), or NULL.
 * @dmabuf_cb_bo: the object whose reservation lock the dma-buf op running
 *	under @lock holds (p2pgpu_prime.c), or NULL.
 * @dmabuf_evict_bo: the object whose reservation lock eviction trylocked
 *	(p2pgpu_dmabuf_evict_trylock()), or NULL.
 * @dmabuf_move_notifies: dma_buf_move_notify() calls since probe.
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
	struct p2pgpu_aper *aper;
	u64 vram_used;
	u64 placements;
	u64 evictions;
	u64 cpu_faults;
	u64 device_pinned;
	struct p2pmap_provider *prov;
	struct p2pmap_attach *copy_attach;
	int copy_attach_err;
	struct llist_head unpin_list;
	struct work_struct unpin_work;
	struct p2pgpu_svm *svm;
	int (*devmem_evict)(struct p2pgpu_device *gdev, void *owner, u64 index,
			    u32 slot);
	/* rdma: struct-page CPU mappings, GUP pins, publishing */
	bool window_struct_pages;
	bool window_refcounted;
	unsigned long *slot_refs;
	int cpu_fallback;
	int p2pdma_err;
	unsigned long *orphans;
	u32 nr_orphans;
	u64 cpu_fallbacks;
	u64 gup_keeps;
	struct p2pgpu_pub *pub;
	/* dma-buf export (p2pgpu_prime.c), under @lock */
	struct p2pgpu_bo *dmabuf_cb_bo;
	struct p2pgpu_bo *dmabuf_evict_bo;
	u64 dmabuf_move_notifies;
};

/**
 * struct p2pgpu_bo_page - one page of a buffer object
 * @page: kernel page backing it while device-only; allocated for the life
 *	of the object, so eviction never allocates.
 * @slot: window slot holding it, or P2PGPU_NO_SLOT when device-only.
 * @pins: pin count: while non-zero the page stays in its slot (window pin)
 *	or out of the window (device pin), see "p2pgpu locking and lifetime".
 * @cpu_direct: CPU PTEs may map @page itself (installed while the page was
 *	pinned device-only, or as a fallback mapping); zapped before the page
 *	is placed in the window.
 * @busy_ext: a revalidating importer got an error extent (-EBUSY) for the
 *	page because it was pinned in the window; when the last pin goes the
 *	page is invalidated (%P2PMAP_EV_MOVE) so that importer resolves again.
 */
struct p2pgpu_bo_page {
	struct page *page;
	u32 slot;
	u32 pins;
	bool cpu_direct;
	bool busy_ext;
};

/**
 * struct p2pgpu_bo - a buffer object in device memory
 * @base: the GEM object.
 * @npages: size in pages.
 * @resident: pages in the window.
 * @pinned_window: pages pinned in the window.
 * @pinned_device: pages pinned device-only.
 * @pages: @npages page descriptors.
 * @published: mappable through the publish node (p2pgpu_publish.c); under
 *	&p2pgpu_device.lock.
 * @cpu_fallback: P2PGPU_FALLBACK_* reason of the last CPU fault that mapped
 *	a system page for lack of a window slot; under &p2pgpu_device.lock.
 * @dmabuf_dyn: the dma-buf of the live unpinned mappings (p2pgpu_prime.c);
 *	valid while @dmabuf_live is not 0.
 * @dmabuf_live: unpinned dma-buf window mappings not invalidated yet.
 * @dmabuf_gen: bumped by each move_notify; a mapping is live while its
 *	generation is the current one.
 * @dmabuf_move_notifies: dma_buf_move_notify() calls for this object.
 * @exported: the object's dma-buf while its file is open, or NULL: an
 *	object has at most one (p2pgpu_gem_prime_export() hands it out
 *	again); under the lock of p2pgpu_prime.c, not the device lock.
 *
 * The @dmabuf_* fields are under &p2pgpu_device.lock.
 */
struct p2pgpu_bo {
	struct drm_gem_object base;
	unsigned long npages;
	unsigned long resident;
	unsigned long pinned_window;
	unsigned long pinned_device;
	struct p2pgpu_bo_page *pages;
	bool published;
	u8 cpu_fallback;
	/* dma-buf export (p2pgpu_prime.c) */
	struct dma_buf *dmabuf_dyn;
	unsigned long dmabuf_live;
	u64 dmabuf_gen;
	u64 dmabuf_move_notifies;
	struct dma_buf *exported;
};

static inline struct p2pgpu_device *to_p2pgpu(struct drm_device *drm)
{
	return container_of(drm, struct p2pgpu_device, drm);
}

static inline struct p2pgpu_bo *to_p2pgpu_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct p2pgpu_bo, base);
}

/*
 * Victim filter for p2pgpu_place_locked(): see p2pgpu_aper_keep_fn in
 * kernel/p2pgpu/p2pgpu_aper.h; the owner cookie is a &struct p2pgpu_bo.
 */
typedef bool (*p2pgpu_keep_fn)(void *owner, u64 index, unsigned int order,
			       void *arg);

/* p2pgpu_gem.c */
int p2pgpu_bo_create(struct p2pgpu_device *gdev, struct drm_file *file,
		     u64 size, u32 *handle);

/* p2pgpu_window.c */
int p2pgpu_evict_one_locked(struct p2pgpu_device *gdev, bool cpu,
			    p2pgpu_keep_fn keep, void *arg);
int p2pgpu_place_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			unsigned long pgoff, bool cpu, p2pgpu_keep_fn keep,
			void *arg);
int p2pgpu_unplace_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			  unsigned long pgoff);
int p2pgpu_pin_page_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			   unsigned long pgoff);
void p2pgpu_unpin_page_locked(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo,
			      unsigned long pgoff);

/* p2pgpu_p2pmap.c */
void p2pgpu_pin_init(struct p2pgpu_device *gdev);
void p2pgpu_pin_flush(struct p2pgpu_device *gdev);
int p2pgpu_provider_register(struct p2pgpu_device *gdev);
void p2pgpu_provider_unregister(struct p2pgpu_device *gdev);

/* p2pgpu_copy.c */
void p2pgpu_copy_init(struct p2pgpu_device *gdev);
int p2pgpu_ioctl_copy(struct drm_device *drm, void *data,
		      struct drm_file *file);

/* p2pgpu_prime.c */
struct dma_buf *p2pgpu_gem_prime_export(struct drm_gem_object *obj, int flags);
struct drm_gem_object *p2pgpu_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dmabuf);

/* ---- shared virtual memory (p2pgpu_devmem.c, p2pgpu_svm.c) ----------- */

/*
 * Device memory as MEMORY_DEVICE_PRIVATE pages and the per-file device page
 * table (mirror) with its ioctls. Without CONFIG_DEVICE_PRIVATE (Debian's
 * stock kernel) the init hook only records the reason, the ioctls fail with
 * -EOPNOTSUPP and say why, and everything else keeps working.
 */
/*
 * Window slots of device-private pages carry the device's &struct
 * p2pgpu_svm with this bit set as the allocator's owner cookie; buffer
 * objects' cookies are untagged &struct p2pgpu_bo pointers.
 */
#define P2PGPU_OWNER_DEVMEM	0x1UL

static inline bool p2pgpu_owner_is_devmem(const void *owner)
{
	return (uintptr_t)owner & P2PGPU_OWNER_DEVMEM;
}

int p2pgpu_devmem_init(struct p2pgpu_device *gdev);
int p2pgpu_devmem_p2p_map_pages(struct p2pmap_provider *prov,
				struct p2pmap_map_req *req);
u64 p2pgpu_devmem_used(struct p2pgpu_device *gdev);
void p2pgpu_svm_postclose(struct drm_device *drm, struct drm_file *file);
int p2pgpu_ioctl_svm_info(struct drm_device *drm, void *data,
			  struct drm_file *file);
int p2pgpu_ioctl_svm_migrate(struct drm_device *drm, void *data,
			     struct drm_file *file);
int p2pgpu_ioctl_svm_access(struct drm_device *drm, void *data,
			    struct drm_file *file);
int p2pgpu_ioctl_svm_snapshot(struct drm_device *drm, void *data,
			      struct drm_file *file);

/* ---- end of shared virtual memory -------------------------------------- */
/* ---- rdma: struct-page CPU mappings, GUP pins, publishing ------------- */

/* p2pgpu_gem.c */
int p2pgpu_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma);
extern const struct vm_operations_struct p2pgpu_pub_vm_ops;

/* p2pgpu_window.c */
void p2pgpu_bo_zap_all(struct p2pgpu_device *gdev, struct p2pgpu_bo *bo);

/* p2pgpu_p2pdma.c */
void p2pgpu_p2pdma_init(struct p2pgpu_device *gdev);
void p2pgpu_p2pdma_drain(struct p2pgpu_device *gdev);
struct page *p2pgpu_slot_page(struct p2pgpu_device *gdev, u32 slot);
bool p2pgpu_slot_gup_pinned(struct p2pgpu_device *gdev, u32 slot);
bool p2pgpu_page_gup_pinned(struct page *page);
bool p2pgpu_orphan_slot_locked(struct p2pgpu_device *gdev, u32 slot);
void p2pgpu_slot_get_locked(struct p2pgpu_device *gdev, u32 slot);
vm_fault_t p2pgpu_slot_insert_locked(struct p2pgpu_device *gdev,
				     struct vm_fault *vmf, u32 slot);
void p2pgpu_reap_orphans_locked(struct p2pgpu_device *gdev);
int p2pgpu_ioctl_bo_cpu_info(struct drm_device *drm, void *data,
			     struct drm_file *file);

/* p2pgpu_publish.c */
int p2pgpu_publish_init(struct p2pgpu_device *gdev);
void p2pgpu_publish_fini(struct p2pgpu_device *gdev);
int p2pgpu_ioctl_bo_publish(struct drm_device *drm, void *data,
			    struct drm_file *file);
int p2pgpu_ioctl_bo_unpublish(struct drm_device *drm, void *data,
			      struct drm_file *file);

/* ---- end rdma ---------------------------------------------------------- */
/* ---- dma-buf export, dynamic (p2pgpu_prime.c) ---- */
/* p2pgpu_window.c: the dma-buf side of eviction */
bool p2pgpu_dmabuf_evict_trylock(struct p2pgpu_device *gdev,
				 struct p2pgpu_bo *bo);
void p2pgpu_dmabuf_evict_unlock(struct p2pgpu_device *gdev);
void p2pgpu_dmabuf_moving_locked(struct p2pgpu_device *gdev,
				 struct p2pgpu_bo *bo);
/* p2pgpu_prime.c */
void p2pgpu_dmabuf_unplug(struct p2pgpu_device *gdev);
int p2pgpu_ioctl_bo_dmabuf_info(struct drm_device *drm, void *data,
				struct drm_file *file);

/* p2pgpu_va.c */
int p2pgpu_ioctl_bo_from_va(struct drm_device *drm, void *data,
			    struct drm_file *file);
int p2pgpu_ioctl_export_range(struct drm_device *drm, void *data,
			      struct drm_file *file);
/* ---- end dma-buf export ---- */

#endif /* _P2PGPU_H */
