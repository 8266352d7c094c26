/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for selftests that drive p2pgpu render nodes through libdrm:
 * finding a node by PCI name or its index in P2PMAP_GPUS, buffer objects with their CPU
 * mappings, device info. Header-only, for single-file static test
 * programs; needs xf86drm.h and p2pgpu_drm.h.
 */
#ifndef _P2PGPU_SELFTEST_H
#define _P2PGPU_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap_selftest.h"

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

/* A buffer object with its CPU mapping. */
struct bo {
	uint32_t handle;
	size_t size;
	uint8_t *cpu;
};

/* The PCI name of render node @minor's device into @pci, or "". */
static inline void render_pci(int minor, char *pci, size_t pcilen)
{
	char path[64], link[256];
	ssize_t l;

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device", minor);
	l = readlink(path, link, sizeof(link) - 1);
	link[l > 0 ? l : 0] = 0;
	snprintf(pci, pcilen, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : "");
}

/*
 * Open character device @path read-write; if it does not exist (devtmpfs
 * did not create it), create it, and its directory, from the "major:minor"
 * in sysfs file @sysdev first.
 */
static inline int open_dev_node(const char *path, const char *sysdev)
{
	char dir[64];
	unsigned int ma, mi;
	char *slash;
	FILE *f;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	f = fopen(sysdev, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%u:%u", &ma, &mi) != 2) {
		fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	if (mknod(path, S_IFCHR | 0600, makedev(ma, mi)) && errno != EEXIST)
		return -1;
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Open render node @minor, creating its /dev node if devtmpfs did not. */
static inline int open_render(int minor)
{
	char path[64], dev[64];

	snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
	snprintf(dev, sizeof(dev), "/sys/class/drm/renderD%d/dev", minor);
	return open_dev_node(path, dev);
}

/*
 * Open a p2pgpu render node: the one of device @pci, or if @pci is empty,
 * of the @want-th GPU of P2PMAP_GPUS (the devices the suite chose, the
 * provider of the pair under test first), whose PCI name is stored in
 * @pci. Without P2PMAP_GPUS (a program run by hand) the @want-th p2pgpu
 * render node.
 */
static inline int open_gpu(int want, char *pci, size_t pcilen)
{
	int minor, n = 0;

	if (!pci[0] && getenv("P2PMAP_GPUS") &&
	    p2pmap_gpu_pci(want, pci, pcilen))
		return -1;

	for (minor = 128; minor < 192; minor++) {
		char name[32];
		drmVersionPtr v;
		bool match;
		int fd;

		fd = open_render(minor);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		match = v && !strcmp(v->name, "p2pgpu");
		if (v)
			drmFreeVersion(v);
		if (match) {
			render_pci(minor, name, sizeof(name));
			if (pci[0] ? !strcmp(pci, name) : n++ == want) {
				snprintf(pci, pcilen, "%s", name);
				return fd;
			}
		}
		close(fd);
	}
	return -1;
}

static inline int bo_new(int fd, size_t size, struct bo *b)
{
	uint64_t sz = size;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = bo_create(fd, &sz, 0, &b->handle);
	if (ret)
		return ret;
	b->size = sz;
	b->cpu = bo_map(fd, b->handle, sz);
	return b->cpu ? 0 : -errno;
}

static inline void bo_free(int fd, struct bo *b)
{
	munmap(b->cpu, b->size);
	gem_close(fd, b->handle);
}

static inline int dev_info(int gpu, struct drm_p2pgpu_device_info *di)
{
	memset(di, 0, sizeof(*di));
	return drmIoctl(gpu, DRM_IOCTL_P2PGPU_DEVICE_INFO, di) ? -errno : 0;
}

/* What backs the CPU mappings of object @handle (BO_CPU_INFO). */
static inline int bo_cpu_info(int fd, uint32_t handle,
			      struct drm_p2pgpu_bo_cpu_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->handle = handle;
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CPU_INFO, ci) ? -errno : 0;
}

/*
 * Whether CPU faults on p2pgpu objects map window (BAR) pages: every bound
 * p2pgpu device's p2pgpu/cpu_map says "bar" (else "system <reason>"). Not
 * the same as feature pci_p2pdma: on kernels whose P2PDMA page lifetime
 * p2pgpu does not implement yet (7.x, reason p2pdma_unported) peers still
 * reach the BAR, but CPU mappings use system pages and nothing is placed
 * into or evicted from the window by CPU faults.
 *
 * Return: 1 (bar), 0 (system pages), -1 if no p2pgpu device is bound or
 * the devices disagree.
 */
static inline int p2pgpu_window_cpu_map(void)
{
	int ret = -1;
	glob_t g;
	size_t i;

	if (glob("/sys/bus/pci/drivers/p2pgpu/*/p2pgpu/cpu_map", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc; i++) {
		char buf[64] = "";
		FILE *f = fopen(g.gl_pathv[i], "r");
		int bar;

		if (!f || !fgets(buf, sizeof(buf), f)) {
			if (f)
				fclose(f);
			ret = -1;
			break;
		}
		fclose(f);
		bar = !strncmp(buf, "bar", 3);
		if (ret != -1 && ret != bar) {
			ret = -1;
			break;
		}
		ret = bar;
	}
	globfree(&g);
	return ret;
}

#endif /* _P2PGPU_SELFTEST_H */
