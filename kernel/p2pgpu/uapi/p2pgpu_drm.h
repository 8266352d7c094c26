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
 * @vram_used: out: bytes of device memory held by buffer objects.
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

/* struct drm_p2pgpu_copy.policy: mirrors enum p2pmap_policy. */
#define P2PGPU_COPY_PREFER_P2P		0
#define P2PGPU_COPY_REQUIRE_P2P		1
#define P2PGPU_COPY_SYSMEM_ONLY		2

/* Reasons counted in struct drm_p2pgpu_copy.reason_pages: enum p2pmap_reason. */
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
 * @reason_pages: out: non-P2P pages per enum p2pmap_reason (why each
 *	fallback happened).
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
 *	(%P2PGPU_FALLBACK_NO_KCONFIG or %P2PGPU_FALLBACK_REGISTER_FAILED);
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

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_P2PGPU_DRM_H */
