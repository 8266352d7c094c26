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
 */
struct drm_p2pgpu_bo_info {
	__u32 handle;
	__u32 pad;
	__u64 size;
	__u64 pages_window;
	__u64 pages_device;
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

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_P2PGPU_DRM_H */
