/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffer-object helpers for selftests that drive p2pgpu render nodes
 * through libdrm: create, mmap offset, CPU mapping, close. Header-only, for
 * single-file static test programs; needs xf86drm.h and p2pgpu_drm.h.
 */
#ifndef _P2PGPU_SELFTEST_H
#define _P2PGPU_SELFTEST_H

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"

/* Create a BO of *@size bytes (rounded up by the driver, written back). */
static inline int bo_create(int fd, uint64_t *size, uint32_t flags,
			    uint32_t *handle)
{
	struct drm_p2pgpu_bo_create c = { .size = *size, .flags = flags };

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CREATE, &c))
		return -errno;
	*size = c.size;
	*handle = c.handle;
	return 0;
}

static inline int bo_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_p2pgpu_bo_mmap_offset m = { .handle = handle };

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &m))
		return -errno;
	*offset = m.offset;
	return 0;
}

/* MAP_SHARED CPU mapping of a BO, or NULL. */
static inline void *bo_map(int fd, uint32_t handle, uint64_t size)
{
	uint64_t off = 0;
	void *p;

	if (bo_offset(fd, handle, &off))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	return p == MAP_FAILED ? NULL : p;
}

static inline int gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

#endif /* _P2PGPU_SELFTEST_H */
