/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * p2pgpu: ioctl interface of the p2pmap reference exporter, a DRM render-node
 * driver for an emulated small-BAR GPU (QEMU ivshmem-plain, BAR2 is the
 * peer- and CPU-visible window).
 *
 * Userspace includes this after libdrm's "drm.h" search path
 * (pkg-config --cflags libdrm). Buffer objects are freed with the generic
 * DRM_IOCTL_GEM_CLOSE and mapped with mmap() on the render node at the
 * offset returned by DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET (MAP_SHARED only).
 *
 * Every ioctl rejects unknown flags and non-zero padding with -EINVAL.
 */
#ifndef _UAPI_P2PGPU_DRM_H
#define _UAPI_P2PGPU_DRM_H

#ifdef __KERNEL__
#include <drm/drm.h>
#else
#include "drm.h"
#endif

#if defined(__cplusplus)
extern "C" {
#endif

#define P2PGPU_DRIVER_NAME		"p2pgpu"

/*
 * Driver version, as DRM_IOCTL_VERSION reports it: the minor grows with
 * each block of ioctls, so userspace can tell what a kernel offers.
 *   0.1: BO_CREATE, BO_MMAP_OFFSET, BO_INFO, DEVICE_INFO
 *   0.2: COPY
 *   0.3: SVM_INFO, SVM_MIGRATE, SVM_ACCESS, SVM_SNAPSHOT (they fail with
 *        -EOPNOTSUPP on a kernel without CONFIG_DEVICE_PRIVATE)
 *   0.4: BO_DMABUF_INFO, BO_FROM_VA
 *   0.5: BO_CPU_INFO, BO_PUBLISH, BO_UNPUBLISH
 *   0.6: EXPORT_RANGE
 *   0.7: COPY reasons numbered by this header (P2PGPU_COPY_REASON_*, the
 *        same values as before), unnamed ones in P2PGPU_COPY_REASON_OTHER
 */
#define P2PGPU_VERSION_MAJOR		0
#define P2PGPU_VERSION_MINOR		7

#define DRM_P2PGPU_BO_CREATE		0x00
#define DRM_P2PGPU_BO_MMAP_OFFSET	0x01
#define DRM_P2PGPU_BO_INFO		0x02
#define DRM_P2PGPU_DEVICE_INFO		0x03
#define DRM_P2PGPU_COPY			0x04

/* No BO_CREATE flags are defined yet; any set bit is rejected. */
#define P2PGPU_BO_CREATE_FLAGS		0x0

/**
 * struct drm_p2pgpu_bo_create - create a buffer object in device memory
 * @size: in: requested size in bytes, > 0; a size that is not a multiple of
 *	the page size is rounded up. out: the size actually allocated.
 *	-EINVAL if 0 or larger than the device memory, -ENOSPC if the device
 *	memory still free cannot hold it.
 * @flags: in: P2PGPU_BO_CREATE_* flags (none defined yet; must be 0).
 * @handle: out: GEM handle of the new object.
 *
 * The object starts zero-filled and device-only: no page occupies the
 * window until it is touched.
 */
struct drm_p2pgpu_bo_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
};

/**
 * struct drm_p2pgpu_bo_mmap_offset - get the fake mmap offset of an object
 * @handle: in: GEM handle.
 * @pad: must be 0.
 * @offset: out: offset to pass to mmap() on the DRM file.
 */
struct drm_p2pgpu_bo_mmap_offset {
	__u32 handle;
	__u32 pad;
	__u64 offset;
};

/**
 * struct drm_p2pgpu_bo_info - where the pages of an object are
 * @handle: in: GEM handle.
 * @pad: must be 0.
 * @size: out: size in bytes.
 * @pages_window: out: pages currently in the peer/CPU-visible window.
 * @pages_device: out: pages currently device-only (outside the window).
 * @pages_pinned_window: out: of @pages_window, pages pinned there by
 *	importers that cannot revalidate (pinned p2pmap imports, mapped dma-buf
 *	attachments): never evicted, not even by CPU faults.
 * @pages_pinned_device: out: of @pages_device, pages pinned device-only:
 *	importers use their system-memory copy, so they are not placed into
 *	the window until unpinned (CPU mappings then map that copy directly).
 *
 * Pins of p2pmap imports destroyed before this call are already dropped.
 */
struct drm_p2pgpu_bo_info {
	__u32 handle;
	__u32 pad;
	__u64 size;
	__u64 pages_window;
	__u64 pages_device;
	__u64 pages_pinned_window;
	__u64 pages_pinned_device;
};

/**
 * struct drm_p2pgpu_device_info - memory model and counters of a device
 * @page_size: out: bytes per page (window slot).
 * @vram_total: out: device memory in bytes (module parameter vram_mb).
 * @vram_used: out: bytes of device memory held by buffer objects and by
 *	device-private pages of shared virtual memory.
 * @window_total: out: size of the peer/CPU-visible window in bytes.
 * @window_used: out: bytes of the window holding object pages.
 * @window_pinned: out: bytes of the window pinned (never evicted).
 * @window_free: out: bytes of the window free.
 * @placements: out: pages copied into the window since probe.
 * @evictions: out: pages evicted from the window since probe.
 * @cpu_faults: out: CPU page faults on object mappings since probe.
 * @min_residency_ms: out: minimum window residency before eviction.
 * @device_pinned: out: bytes of device memory pinned outside the window
 *	(see &drm_p2pgpu_bo_info.pages_pinned_device); pinned window bytes
 *	are @window_pinned.
 *
 * Pins of p2pmap imports destroyed before this call are already dropped
 * from @window_pinned and @device_pinned.
 */
struct drm_p2pgpu_device_info {
	__u64 page_size;
	__u64 vram_total;
	__u64 vram_used;
	__u64 window_total;
	__u64 window_used;
	__u64 window_pinned;
	__u64 window_free;
	__u64 placements;
	__u64 evictions;
	__u64 cpu_faults;
	__u64 min_residency_ms;
	__u64 device_pinned;
};

/* struct drm_p2pgpu_copy.flags: exactly one direction. */
#define P2PGPU_COPY_TO_BO		0x1 /* user VA range -> object */
#define P2PGPU_COPY_FROM_BO		0x2 /* object -> user VA range */
#define P2PGPU_COPY_FLAGS		(P2PGPU_COPY_TO_BO | P2PGPU_COPY_FROM_BO)

/*
 * struct drm_p2pgpu_copy.policy: where the engine's import of the user range
 * may place its pages.
 */
#define P2PGPU_COPY_PREFER_P2P		0 /* peer-to-peer where possible */
#define P2PGPU_COPY_REQUIRE_P2P		1 /* fail rather than fall back */
#define P2PGPU_COPY_SYSMEM_ONLY		2 /* never peer-to-peer */

/*
 * Indices of struct drm_p2pgpu_copy.reason_pages: why pages of the user range
 * were not reached peer-to-peer. This numbering belongs to this interface
 * and never changes; the driver translates its framework's reasons into it.
 */
#define P2PGPU_COPY_REASON_NONE		0 /* no reason given */
#define P2PGPU_COPY_REASON_POLICY	1 /* P2PGPU_COPY_SYSMEM_ONLY */
#define P2PGPU_COPY_REASON_BAR_EXHAUSTED	2 /* exporter's peer window full */
#define P2PGPU_COPY_REASON_NO_ROUTE	3 /* no PCI route to the exporter */
#define P2PGPU_COPY_REASON_NO_KCONFIG	4 /* kernel without PCI P2PDMA */
#define P2PGPU_COPY_REASON_DMA_MASK	5 /* BAR above this GPU's DMA mask */
#define P2PGPU_COPY_REASON_SYSTEM_PAGE	6 /* system memory to begin with */
#define P2PGPU_COPY_REASON_OTHER	7 /* a reason this header does not name */
#define P2PGPU_COPY_REASON_SLOTS	8

/* Largest single copy, in bytes. */
#define P2PGPU_COPY_MAX			(64ull << 20)

/**
 * struct drm_p2pgpu_copy - copy engine: move bytes between a user VA range
 *	and a local buffer object, through the p2pmap importer API
 * @user_ptr: in: start of the VA range in the calling process. Any byte
 *	alignment; the engine imports the pages that cover it. The range may be
 *	ordinary memory or a CPU mapping of another p2pgpu's object (peer
 *	access), but it must be mapped, readable, and writable for
 *	%P2PGPU_COPY_FROM_BO.
 * @length: in: bytes, 1 .. %P2PGPU_COPY_MAX.
 * @bo_offset: in: byte offset into the object; @bo_offset + @length must
 *	lie inside it.
 * @handle: in: GEM handle of the local object.
 * @flags: in: %P2PGPU_COPY_TO_BO or %P2PGPU_COPY_FROM_BO.
 * @policy: in: P2PGPU_COPY_* placement policy of the import.
 * @pad: in: must be 0.
 * @p2p_pages: out: pages of the VA range the engine reached peer-to-peer.
 * @sysmem_pages: out: pages it reached in system memory.
 * @reason_pages: out: non-P2P pages per P2PGPU_COPY_REASON_* (why each
 *	fallback happened; since 0.7 a reason the header does not name is
 *	counted in %P2PGPU_COPY_REASON_OTHER).
 * @retries: out: times the sequence check failed and the engine mapped the
 *	range again (invalidations raced with the copy).
 * @elapsed_ns: out: time spent moving bytes (map and translation excluded).
 *
 * The engine uses only the DMA addresses p2pmap gives it, translated as a
 * device would: through the IOMMU domain of the GPU if it has one,
 * otherwise as bus/physical addresses. The output fields are zeroed first;
 * on failure only @retries may be non-zero. A user range that is a mapping
 * of the same object and overlaps [@bo_offset, @bo_offset + @length) gives
 * unspecified bytes in the overlap, as memcpy() would.
 *
 * Errors: -EINVAL (@flags not exactly one direction, non-zero @pad,
 * unknown @policy, @length 0 or above %P2PGPU_COPY_MAX, @user_ptr + @length
 * or @bo_offset + @length wraps, or the object range exceeds the object),
 * -ENOENT (no such handle in this file), -EFAULT (range not mapped, outside
 * the user address space, or device memory no p2pmap exporter owns),
 * -EPERM (range not readable, or not writable for %P2PGPU_COPY_FROM_BO),
 * -EREMOTEIO (REQUIRE_P2P and a page is system memory or has no P2P
 * route), -ENOSPC (REQUIRE_P2P and the exporter's window is exhausted),
 * -EBUSY (the range kept being invalidated: no stable mapping after a
 * bounded number of rounds), -ENODEV (this or the exporting device went
 * away), -EOPNOTSUPP (the copy engine could not attach to p2pmap at probe),
 * -EIO (a DMA address reached neither RAM nor a BAR), -ENOMEM, -EINTR
 * (fatal signal). Each comes with a ratelimited reason in the kernel log.
 */
struct drm_p2pgpu_copy {
	__u64 user_ptr;
	__u64 length;
	__u64 bo_offset;
	__u32 handle;
	__u32 flags;
	__u32 policy;
	__u32 pad;
	__u64 p2p_pages;
	__u64 sysmem_pages;
	__u64 reason_pages[P2PGPU_COPY_REASON_SLOTS];
	__u64 retries;
	__u64 elapsed_ns;
};

#define DRM_IOCTL_P2PGPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_CREATE, \
		 struct drm_p2pgpu_bo_create)
#define DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_MMAP_OFFSET, \
		 struct drm_p2pgpu_bo_mmap_offset)
#define DRM_IOCTL_P2PGPU_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_INFO, \
		 struct drm_p2pgpu_bo_info)
#define DRM_IOCTL_P2PGPU_DEVICE_INFO \
	DRM_IOR(DRM_COMMAND_BASE + DRM_P2PGPU_DEVICE_INFO, \
		struct drm_p2pgpu_device_info)
#define DRM_IOCTL_P2PGPU_COPY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_COPY, struct drm_p2pgpu_copy)

/* ---- shared virtual memory: ioctls 0x10..0x1f ---------------------------- */

#define DRM_P2PGPU_SVM_INFO		0x10
#define DRM_P2PGPU_SVM_MIGRATE		0x11
#define DRM_P2PGPU_SVM_ACCESS		0x12
#define DRM_P2PGPU_SVM_SNAPSHOT		0x13

/* struct drm_p2pgpu_svm_info.flags */
#define P2PGPU_SVM_DEVICE_PRIVATE	0x1 /* device memory is device-private */

/**
 * struct drm_p2pgpu_svm_info - shared virtual memory state of a device
 * @flags: out: %P2PGPU_SVM_DEVICE_PRIVATE when the device's memory can hold
 *	migrated process memory (kernel built with CONFIG_DEVICE_PRIVATE).
 *	Without it every other SVM ioctl fails with -EOPNOTSUPP.
 * @pad: out: 0.
 * @min_residency_ms: out: minimum time a page migrated to the device stays
 *	there before a migration request may move it back (module parameter
 *	svm_min_residency_ms); CPU faults always move it back at once.
 * @pages_total: out: device memory in pages (shared with buffer objects).
 * @pages_used: out: device-private pages holding process memory now.
 * @to_device: out: pages migrated to the device since probe.
 * @to_system: out: pages migrated back by request (ioctl, eviction, unbind).
 * @cpu_faults: out: pages migrated back by CPU faults (migrate_to_ram).
 * @residency_refusals: out: pages a back-migration request left on the
 *	device because they were younger than @min_residency_ms.
 * @nomem: out: pages a migration to the device left in system memory
 *	because the device memory was full.
 * @window_placements: out: device-private pages copied into the window for
 *	peers.
 * @window_evictions: out: device-private pages evicted from the window.
 * @fallbacks: out: device-private pages a peer could not map through the
 *	window (reported to p2pmap for migration to system memory).
 *
 * Counters are per device, since probe; the same values are in sysfs under
 * the PCI device, directory p2pgpu_svm.
 */
struct drm_p2pgpu_svm_info {
	__u32 flags;
	__u32 pad;
	__u64 min_residency_ms;
	__u64 pages_total;
	__u64 pages_used;
	__u64 to_device;
	__u64 to_system;
	__u64 cpu_faults;
	__u64 residency_refusals;
	__u64 nomem;
	__u64 window_placements;
	__u64 window_evictions;
	__u64 fallbacks;
};

/* struct drm_p2pgpu_svm_migrate.op */
#define P2PGPU_SVM_TO_DEVICE		1 /* system -> this device */
#define P2PGPU_SVM_TO_SYSTEM		2 /* this device -> system */
#define P2PGPU_SVM_PREFETCH		3 /* TO_DEVICE, then mirror the rest */
#define P2PGPU_SVM_EVICT		4 /* TO_SYSTEM, then unmirror the range */

/* Largest range one SVM_MIGRATE or SVM_SNAPSHOT call handles, in bytes. */
#define P2PGPU_SVM_MAX			(1024ull << 20)
/* Largest range one SVM_ACCESS call handles, in bytes. */
#define P2PGPU_SVM_ACCESS_MAX		(64ull << 20)

/**
 * struct drm_p2pgpu_svm_migrate - migrate a range of process memory
 * @addr: in: start of the range, page aligned.
 * @length: in: bytes, page aligned, 1 page .. %P2PGPU_SVM_MAX.
 * @op: in: P2PGPU_SVM_TO_DEVICE, _TO_SYSTEM, _PREFETCH or _EVICT.
 * @flags: in: must be 0.
 * @moved: out: pages migrated.
 * @skipped: out: pages not selected: already at the destination, device
 *	memory of another device, not present (TO_SYSTEM), or busy (locked,
 *	pinned, under migration elsewhere).
 * @busy: out: pages left where they were because they are younger than the
 *	minimum residency (TO_SYSTEM, EVICT).
 * @nomem: out: pages left in system memory because device memory is full
 *	(TO_DEVICE, PREFETCH): a range larger than the device spills.
 * @failed: out: pages selected but not migrated (raced with a fault or
 *	migration elsewhere, or no system page for a back-migration).
 *
 * The range must lie in private anonymous mappings of the calling process
 * (the process that opened the file: the device mirrors its address space),
 * readable, without holes. File-backed, shared, VM_IO and VM_PFNMAP ranges
 * are refused (-EINVAL). Pages migrated to the device are mapped in the
 * device's page table at once, with the permissions of their CPU PTE: a
 * read-only (or copy-on-write) page stays read-only for the device too.
 * TO_DEVICE and PREFETCH zero-fill never-touched pages on the device; a
 * back-migration moves only this device's pages.
 *
 * Errors: -EINVAL (bad op, flags, alignment, length, wrap, or a VMA of the
 * wrong kind), -EFAULT (a hole in the range), -EPERM (called from another
 * process than the one that opened the file), -EOPNOTSUPP (no
 * device-private memory), -ENODEV (device gone), -ENOMEM, -EINTR.
 */
struct drm_p2pgpu_svm_migrate {
	__u64 addr;
	__u64 length;
	__u32 op;
	__u32 flags;
	__u64 moved;
	__u64 skipped;
	__u64 busy;
	__u64 nomem;
	__u64 failed;
};

/* struct drm_p2pgpu_svm_access.op */
#define P2PGPU_SVM_READ			1 /* device reads the range into buf */
#define P2PGPU_SVM_WRITE		2 /* device writes buf into the range */

/**
 * struct drm_p2pgpu_svm_access - device access through its page table
 * @addr: in: start of the range in the calling process, page aligned.
 * @length: in: bytes, page aligned, 1 page .. %P2PGPU_SVM_ACCESS_MAX.
 * @buf: in: user buffer of @length bytes (source or destination).
 * @op: in: %P2PGPU_SVM_READ or %P2PGPU_SVM_WRITE.
 * @flags: in: must be 0.
 * @pages_device: out: pages accessed in this device's memory.
 * @pages_system: out: pages accessed in system memory.
 * @faults: out: pages the device had to fault (not in its page table, or
 *	read-only there for a write).
 *
 * The device accesses the range as a GPU would: through its page table,
 * faulting missing entries with hmm_range_fault() (p2pmap's pagemap owner,
 * so device memory is not migrated back for the access). A write to a
 * copy-on-write or read-only page faults for write like the CPU does, and
 * fails with -EPERM if the VMA is not writable. Pages in another device's
 * memory are refused with -EREMOTEIO (use the copy engine).
 *
 * Errors: -EINVAL, -EFAULT, -EPERM, -EREMOTEIO, -EOPNOTSUPP, -ENODEV,
 * -EBUSY (the range kept changing under the access), -ENOMEM, -EINTR.
 */
struct drm_p2pgpu_svm_access {
	__u64 addr;
	__u64 length;
	__u64 buf;
	__u32 op;
	__u32 flags;
	__u64 pages_device;
	__u64 pages_system;
	__u64 faults;
};

/* State bits of one page in struct drm_p2pgpu_svm_snapshot.states */
#define P2PGPU_SVM_PAGE_PRESENT		0x01 /* the CPU page table maps it */
#define P2PGPU_SVM_PAGE_WRITE		0x02 /* ... writable */
#define P2PGPU_SVM_PAGE_DEVICE_PRIVATE	0x04 /* in some device's memory */
#define P2PGPU_SVM_PAGE_THIS_DEVICE	0x08 /* ... in this device's memory */
#define P2PGPU_SVM_PAGE_MIRROR		0x10 /* in this device's page table */
#define P2PGPU_SVM_PAGE_MIRROR_WRITE	0x20 /* ... writable there */
#define P2PGPU_SVM_PAGE_WINDOW		0x40 /* this device's, in the window */
#define P2PGPU_SVM_PAGE_HUGE		0x80 /* CPU maps it with a PMD */

/**
 * struct drm_p2pgpu_svm_snapshot - where each page of a range is
 * @addr: in: start, page aligned.
 * @npages: in: pages, 1 .. %P2PGPU_SVM_MAX / page size.
 * @states: in: user array of @npages bytes; out: P2PGPU_SVM_PAGE_* bits.
 * @flags: in: must be 0.
 * @pad: in: must be 0.
 *
 * A snapshot of the CPU page table (without faulting anything in, and
 * without migrating) and of this device's page table. Unmapped holes and
 * VMAs the device cannot mirror read as 0.
 *
 * Errors: -EINVAL, -EFAULT, -EPERM, -EOPNOTSUPP, -ENODEV, -EBUSY, -ENOMEM.
 */
struct drm_p2pgpu_svm_snapshot {
	__u64 addr;
	__u64 npages;
	__u64 states;
	__u32 flags;
	__u32 pad;
};

#define DRM_IOCTL_P2PGPU_SVM_INFO \
	DRM_IOR(DRM_COMMAND_BASE + DRM_P2PGPU_SVM_INFO, \
		struct drm_p2pgpu_svm_info)
#define DRM_IOCTL_P2PGPU_SVM_MIGRATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_SVM_MIGRATE, \
		 struct drm_p2pgpu_svm_migrate)
#define DRM_IOCTL_P2PGPU_SVM_ACCESS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_SVM_ACCESS, \
		 struct drm_p2pgpu_svm_access)
#define DRM_IOCTL_P2PGPU_SVM_SNAPSHOT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_P2PGPU_SVM_SNAPSHOT, \
		struct drm_p2pgpu_svm_snapshot)

/* ---- end of shared virtual memory --------------------------------------- */
/* ---- rdma: CPU-mapping placement and publishing (0x20..0x2f) ---------- */

#define DRM_P2PGPU_BO_CPU_INFO		0x20
#define DRM_P2PGPU_BO_PUBLISH		0x21
#define DRM_P2PGPU_BO_UNPUBLISH		0x22

/* struct drm_p2pgpu_bo_cpu_info.cpu_map: what CPU mappings are made of. */
#define P2PGPU_CPU_MAP_BAR		0 /* P2PDMA pages of the window */
#define P2PGPU_CPU_MAP_SYSTEM		1 /* system pages (see .fallback) */

/* Why a CPU mapping uses system pages instead of window (BAR) pages. */
#define P2PGPU_FALLBACK_NONE		0
#define P2PGPU_FALLBACK_NO_KCONFIG	1 /* kernel without CONFIG_PCI_P2PDMA */
#define P2PGPU_FALLBACK_REGISTER_FAILED	2 /* pci_p2pdma_add_resource() failed */
#define P2PGPU_FALLBACK_WINDOW_FULL	3 /* every window slot pinned */
#define P2PGPU_FALLBACK_PINNED_DEVICE	4 /* page pinned device-only */
/*
 * The kernel's P2PDMA page lifetime is one p2pgpu does not implement yet:
 * idle pages at refcount 0, handed back to the pool by folio_free on the
 * last put (6.15+), and no devmap PTEs (6.17+). See docs/kernel-compat.md.
 */
#define P2PGPU_FALLBACK_UNPORTED	5

/**
 * struct drm_p2pgpu_bo_cpu_info - what backs the CPU mapping of an object,
 *	and the pages get_user_pages() users (RDMA MRs) hold pinned
 * @handle: in: GEM handle.
 * @flags: in: must be 0.
 * @pages_gup_window: out: pages of the object in the window whose P2PDMA
 *	page is pinned by get_user_pages() (FOLL_PIN), e.g. by an RDMA memory
 *	registration: placement BAR. They are never evicted while pinned.
 * @pages_gup_system: out: pages of the object whose system backing page is
 *	pinned that way: placement fallback. They are never placed into the
 *	window while pinned.
 * @pages_cpu_system: out: pages whose CPU mapping is currently the system
 *	backing page (fallback mappings).
 * @cpu_map: out: %P2PGPU_CPU_MAP_BAR if the window has struct pages (CPU
 *	faults map window pages), %P2PGPU_CPU_MAP_SYSTEM otherwise.
 * @fallback: out: for %P2PGPU_CPU_MAP_SYSTEM the device's reason
 *	(%P2PGPU_FALLBACK_NO_KCONFIG, %P2PGPU_FALLBACK_REGISTER_FAILED or
 *	%P2PGPU_FALLBACK_UNPORTED);
 *	otherwise the reason of the last CPU fault of this object that mapped
 *	a system page (%P2PGPU_FALLBACK_WINDOW_FULL), or
 *	%P2PGPU_FALLBACK_NONE.
 * @published: out: 1 if the object is published (BO_PUBLISH), else 0.
 * @pad: out: 0.
 * @dev_gup_window: out: window pages of the whole device pinned by
 *	get_user_pages(), including those of freed objects (@dev_gup_orphans).
 * @dev_cpu_fallbacks: out: CPU faults of the device that mapped a system
 *	page because no window page could be had, since probe.
 * @dev_gup_keeps: out: times a get_user_pages() pin kept a page from being
 *	evicted, placed or moved out of the window, since probe.
 * @dev_gup_orphans: out: window slots of freed objects still pinned by
 *	get_user_pages(): held out of the allocator until the pin goes.
 *
 * Errors: -EINVAL (non-zero @flags), -ENOENT (no such handle).
 */
struct drm_p2pgpu_bo_cpu_info {
	__u32 handle;
	__u32 flags;
	__u64 pages_gup_window;
	__u64 pages_gup_system;
	__u64 pages_cpu_system;
	__u32 cpu_map;
	__u32 fallback;
	__u32 published;
	__u32 pad;
	__u64 dev_gup_window;
	__u64 dev_cpu_fallbacks;
	__u64 dev_gup_keeps;
	__u64 dev_gup_orphans;
};

/**
 * struct drm_p2pgpu_bo_publish - make an object mappable by other processes
 * @handle: in: GEM handle.
 * @flags: in: must be 0.
 * @offset: out: the offset at which the object is mapped through the
 *	device's publish node, /dev/p2pgpu/renderD<N> (same N as the render
 *	node): mmap(MAP_SHARED) of that file at @offset (or any page inside
 *	the object) maps the object, as perftest's --mmap=FILE
 *	--mmap-offset=@offset does.
 *
 * A publication lasts until DRM_IOCTL_P2PGPU_BO_UNPUBLISH or until the
 * object is destroyed; mappings made through the publish node hold the
 * object. Who may map is decided by the publish node's file permissions
 * (0600, root, unless udev says otherwise); only published objects can be
 * mapped through it. Publishing twice is allowed (no-op).
 *
 * Errors: -EINVAL (non-zero @flags), -ENOENT (no such handle), -ENOMEM.
 */
struct drm_p2pgpu_bo_publish {
	__u32 handle;
	__u32 flags;
	__u64 offset;
};

/**
 * struct drm_p2pgpu_bo_unpublish - revoke a publication
 * @handle: in: GEM handle.
 * @flags: in: must be 0.
 *
 * Every CPU mapping of the object is zapped; mappings made through the
 * publish node then fault with SIGBUS, the owner's own mappings fault back
 * in. Pages already pinned by get_user_pages() through such a mapping (a
 * registered RDMA MR) stay pinned until the pinner lets go.
 *
 * Errors: -EINVAL (non-zero @flags, or the object is not published),
 * -ENOENT (no such handle).
 */
struct drm_p2pgpu_bo_unpublish {
	__u32 handle;
	__u32 flags;
};

#define DRM_IOCTL_P2PGPU_BO_CPU_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_CPU_INFO, \
		 struct drm_p2pgpu_bo_cpu_info)
#define DRM_IOCTL_P2PGPU_BO_PUBLISH \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_PUBLISH, \
		 struct drm_p2pgpu_bo_publish)
#define DRM_IOCTL_P2PGPU_BO_UNPUBLISH \
	DRM_IOW(DRM_COMMAND_BASE + DRM_P2PGPU_BO_UNPUBLISH, \
		struct drm_p2pgpu_bo_unpublish)

/* ---- end rdma ---------------------------------------------------------- */

/* ---- dma-buf export (dmabuf helper; ioctl numbers 0x30..0x3f) ---- */

#define DRM_P2PGPU_BO_DMABUF_INFO	0x30

/* &drm_p2pgpu_bo_dmabuf_info.flags (out): dma_buf_move_notify() works */
#define P2PGPU_DMABUF_INFO_MOVE_NOTIFY	0x1u

/**
 * struct drm_p2pgpu_bo_dmabuf_info - dma-buf export state of an object
 * @handle: in: GEM handle.
 * @pad: must be 0.
 * @move_notifies: out: dma_buf_move_notify() calls for this object: each
 *	invalidated every live unpinned (dynamic) mapping of its dma-buf.
 * @live_mappings: out: unpinned dma-buf mappings of the object in the
 *	window that were not invalidated yet.
 * @device_move_notifies: out: dma_buf_move_notify() calls of the device
 *	since probe.
 * @flags: in: must be 0; out: %P2PGPU_DMABUF_INFO_MOVE_NOTIFY if the
 *	kernel has CONFIG_DMABUF_MOVE_NOTIFY (else dynamic importers are
 *	pinned at each mapping and never notified).
 * @pad2: must be 0.
 */
struct drm_p2pgpu_bo_dmabuf_info {
	__u32 handle;
	__u32 pad;
	__u64 move_notifies;
	__u64 live_mappings;
	__u64 device_move_notifies;
	__u32 flags;
	__u32 pad2;
};

#define DRM_IOCTL_P2PGPU_BO_DMABUF_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_DMABUF_INFO, \
		 struct drm_p2pgpu_bo_dmabuf_info)

#define DRM_P2PGPU_BO_FROM_VA		0x31

/**
 * struct drm_p2pgpu_bo_from_va - the object a CPU address maps
 * @va: in: an address in the caller's mapping of a buffer object of this
 *	device: through a render node, the publish node or a dma-buf of it.
 * @flags: in: must be 0.
 * @handle: out: a new GEM handle to that object in this DRM file (close
 *	it with DRM_IOCTL_GEM_CLOSE), e.g. for PRIME export as a dma-buf.
 * @offset: out: byte offset of @va within the object.
 * @size: out: size of the object in bytes.
 * @mapped: out: bytes from @va to the end of that mapping (the same
 *	object, contiguous).
 *
 * Lets a library that is given only a pointer (an RDMA registration, say)
 * turn it into a dma-buf. The caller already maps the object, so no access
 * is granted that it did not have. Errors: -EINVAL (flags not 0), -EFAULT
 * (nothing mapped at @va), -ENXIO (@va does not map an object of this
 * device), -EXDEV (a render-node mapping of another p2pgpu device),
 * -ENOMEM.
 */
struct drm_p2pgpu_bo_from_va {
	__u64 va;
	__u32 flags;
	__u32 handle;
	__u64 offset;
	__u64 size;
	__u64 mapped;
};

#define DRM_IOCTL_P2PGPU_BO_FROM_VA \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_BO_FROM_VA, \
		 struct drm_p2pgpu_bo_from_va)

#define DRM_P2PGPU_EXPORT_RANGE		0x32

/* &drm_p2pgpu_export_range.flags */
#define P2PGPU_EXPORT_RANGE_WRITE	0x1u	/* importers may write */
#define P2PGPU_EXPORT_RANGE_FLAGS	P2PGPU_EXPORT_RANGE_WRITE

/**
 * struct drm_p2pgpu_export_range - export a range of the caller's address
 *	space as a dma-buf
 * @va: in: first byte, page aligned.
 * @length: in: bytes, page aligned, not 0.
 * @flags: in: P2PGPU_EXPORT_RANGE_* flags.
 * @fd: out: the dma-buf file descriptor (O_CLOEXEC).
 *
 * Any range p2pmap can import (a CPU mapping of another GPU's object,
 * ordinary memory) becomes a dma-buf (p2pmap_dmabuf_export()): each
 * importer gets the range resolved for its own device when it maps it,
 * peer-to-peer where its attachment allows it and a route exists, system
 * memory otherwise, pinned while mapped. This is the generic exporter; a
 * p2pgpu object itself is better exported with PRIME (dynamic, movable).
 * Errors: -EINVAL (flags, alignment, zero or overflowing length), -ENOMEM,
 * or an error of dma_buf_export() / get_unused_fd_flags(); problems with
 * the range itself show when an importer maps it.
 */
struct drm_p2pgpu_export_range {
	__u64 va;
	__u64 length;
	__u32 flags;
	__s32 fd;
};

#define DRM_IOCTL_P2PGPU_EXPORT_RANGE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGPU_EXPORT_RANGE, \
		 struct drm_p2pgpu_export_range)

/* ---- end dma-buf export ---- */

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_P2PGPU_DRM_H */
