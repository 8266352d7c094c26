// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap-rdma: p2pmap_reg_mr() and friends (see p2pmap-rdma.h and
 * p2pmap_reg_mr(3)). This file owns the registration decision: find out
 * whether an address is p2pgpu device memory (/proc/self/maps), turn it
 * into a dma-buf (DRM_IOCTL_P2PGPU_BO_FROM_VA + PRIME export), try a
 * dma-buf MR, fall back to a VA MR, and report which was made and why.
 * No global state except the table of fallback mappings made by
 * p2pmap_reg_mr_fd(), under a mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap_rdma_int.h"

static struct ibv_mr *real_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
					 size_t length, uint64_t iova, int fd,
					 int access)
{
	return ibv_reg_dmabuf_mr(pd, offset, length, iova, fd, access);
}

static struct ibv_mr *real_reg_mr(struct ibv_pd *pd, void *addr,
				  size_t length, int access)
{
	return ibv_reg_mr(pd, addr, length, access);
}

struct p2pmap_rdma_ops p2pmap_rdma_ops = {
	.reg_dmabuf_mr = real_reg_dmabuf_mr,
	.reg_mr = real_reg_mr,
	.dereg_mr = ibv_dereg_mr,
	.maps_path = "/proc/self/maps",
};

/* Mappings of dma-bufs made for a VA fallback, unmapped at deregistration. */
struct fb_map {
	struct fb_map *next;
	struct ibv_mr *mr;
	void *addr;
	size_t len;
};

static pthread_mutex_t fb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fb_map *fb_maps;

const char *p2pmap_mr_kind_name(enum p2pmap_mr_kind kind)
{
	switch (kind) {
	case P2PMAP_MR_DMABUF:
		return "dmabuf";
	case P2PMAP_MR_VA:
		return "va";
	default:
		return "none";
	}
}

int p2pmap_rdma_parse_maps_line(const char *line, uintptr_t addr, char *path,
				size_t pathlen)
{
	unsigned long start, end, off, inode;
	unsigned int maj, min;
	char perms[8];
	int n = 0;
	const char *p;
	size_t len;

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms,
		   &off, &maj, &min, &inode, &n) < 7 || start >= end)
		return -1;
	if (addr < start || addr >= end)
		return 0;
	if (path && pathlen) {
		p = n ? line + n : "";
		while (*p == ' ')
			p++;
		len = strcspn(p, "\n");
		if (len >= pathlen)
			len = pathlen - 1;
		memcpy(path, p, len);
		path[len] = 0;
	}
	return 1;
}

int p2pmap_rdma_is_drm_node(const char *path)
{
	return !strncmp(path, "/dev/dri/renderD", 16) ||
	       !strncmp(path, "/dev/dri/card", 13) ||
	       !strncmp(path, "/dev/p2pgpu/renderD", 19) ||
	       !strncmp(path, "/dmabuf:", 8);
}

int p2pmap_rdma_dmabuf_unsupported(int err)
{
	return err == EOPNOTSUPP || err == EPROTONOSUPPORT || err == ENOTSUP;
}

enum p2pmap_mem_kind p2pmap_find_mapping(const void *addr, char *path,
					 size_t pathlen)
{
	enum p2pmap_mem_kind kind = P2PMAP_MEM_HOST;
	char line[4352], p[4096];
	FILE *f;
	int r;

	if (path && pathlen)
		path[0] = 0;
	f = fopen(p2pmap_rdma_ops.maps_path, "re");
	if (!f)
		return P2PMAP_MEM_HOST;
	while (fgets(line, sizeof(line), f)) {
		r = p2pmap_rdma_parse_maps_line(line, (uintptr_t)addr, p,
						sizeof(p));
		if (r != 1)
			continue;
		if (path && pathlen)
			snprintf(path, pathlen, "%s", p);
		if (p2pmap_rdma_is_drm_node(p))
			kind = P2PMAP_MEM_P2PGPU;
		break;
	}
	fclose(f);
	return kind;
}

static void set_reason(struct p2pmap_mr_info *info, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(struct p2pmap_mr_info *info, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(info->reason, sizeof(info->reason), fmt, ap);
	va_end(ap);
}

static const char *dev_name(struct ibv_pd *pd)
{
	const char *n = NULL;

	if (pd && pd->context && pd->context->device)
		n = ibv_get_device_name(pd->context->device);
	return n ? n : "?";
}

/*
 * The p2pgpu object mapped at @addr, exported as a dma-buf through the
 * render node @node. Returns 0 with *@fd and *@off set, or an errno with
 * @why filled in.
 */
static int p2pgpu_export_node(const char *node, void *addr, size_t length,
			      int *fd, uint64_t *off, char *why, size_t whylen)
{
	struct drm_p2pgpu_bo_from_va fv;
	int dfd, dmabuf, err = 0;

	dfd = open(node, O_RDWR | O_CLOEXEC);
	if (dfd < 0) {
		err = errno;
		snprintf(why, whylen, "open %.64s: %s", node, strerror(err));
		return err;
	}
	memset(&fv, 0, sizeof(fv));
	fv.va = (uintptr_t)addr;
	if (drmIoctl(dfd, DRM_IOCTL_P2PGPU_BO_FROM_VA, &fv)) {
		err = errno;
		snprintf(why, whylen,
			 "%.64s: BO_FROM_VA: %s (not a p2pgpu node, or p2pgpu without dma-buf export; see dmesg)",
			 node, strerror(err));
		goto out;
	}
	if (length > fv.mapped) {
		err = EINVAL;
		snprintf(why, whylen,
			 "the range runs %zu bytes past the mapping of the object",
			 length - (size_t)fv.mapped);
		goto close_handle;
	}
	if (drmPrimeHandleToFD(dfd, fv.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf)) {
		err = errno;
		snprintf(why, whylen, "PRIME export: %s", strerror(err));
		goto close_handle;
	}
	*fd = dmabuf;
	*off = fv.offset;
close_handle:
	drmCloseBufferHandle(dfd, fv.handle);
out:
	close(dfd);
	return err;
}

/*
 * The same for a mapping of file @path: a render node is used as is, the
 * publish node /dev/p2pgpu/renderD<N> through /dev/dri/renderD<N>, and a
 * dma-buf mmap ("/dmabuf:...") through whichever render node owns it.
 */
static int p2pgpu_export(const char *path, void *addr, size_t length, int *fd,
			 uint64_t *off, char *why, size_t whylen)
{
	char node[64];
	int minor, err = ENXIO;

	if (!strncmp(path, "/dev/p2pgpu/renderD", 19)) {
		snprintf(node, sizeof(node), "/dev/dri/%.32s", path + 12);
		return p2pgpu_export_node(node, addr, length, fd, off, why,
					  whylen);
	}
	if (strncmp(path, "/dmabuf:", 8))
		return p2pgpu_export_node(path, addr, length, fd, off, why,
					  whylen);
	snprintf(why, whylen, "a dma-buf mapping no p2pgpu render node claims");
	for (minor = 128; minor < 192 && err == ENXIO; minor++) {
		snprintf(node, sizeof(node), "/dev/dri/renderD%d", minor);
		if (access(node, F_OK))
			continue;
		err = p2pgpu_export_node(node, addr, length, fd, off, why,
					 whylen);
	}
	return err;
}

static const char *unsupported_hint(int err)
{
	return p2pmap_rdma_dmabuf_unsupported(err) ?
	       "no dma-buf MRs on this device or kernel, e.g. rxe in Linux 6.1" :
	       "see dmesg";
}

/*
 * The common tail: try a dma-buf MR on (@fd, @off) unless told not to, then
 * a VA MR on @addr. @what describes the memory for the reason.
 */
static struct ibv_mr *reg_dmabuf_then_va(struct ibv_pd *pd, int fd,
					 uint64_t off, size_t length,
					 void *addr, int access,
					 unsigned int flags,
					 struct p2pmap_mr_info *info,
					 const char *what)
{
	char first[160] = "";
	struct ibv_mr *mr;

	info->offset = off;
	if (!(flags & P2PMAP_REG_NO_DMABUF)) {
		errno = 0;
		mr = p2pmap_rdma_ops.reg_dmabuf_mr(pd, off, length,
						   (uintptr_t)addr, fd, access);
		if (mr) {
			info->kind = P2PMAP_MR_DMABUF;
			set_reason(info, "dma-buf MR on %s (%s, offset %llu)",
				   dev_name(pd), what, (unsigned long long)off);
			return mr;
		}
		info->dmabuf_errno = errno ? errno : EIO;
		snprintf(first, sizeof(first), "dma-buf MR refused: %s (%s)",
			 strerror(info->dmabuf_errno),
			 unsupported_hint(info->dmabuf_errno));
		if (flags & P2PMAP_REG_REQUIRE_DMABUF) {
			set_reason(info, "no MR on %s: %s; a VA MR was not allowed (P2PMAP_REG_REQUIRE_DMABUF)",
				   dev_name(pd), first);
			errno = info->dmabuf_errno;
			return NULL;
		}
	} else {
		snprintf(first, sizeof(first), "dma-buf MR not tried (P2PMAP_REG_NO_DMABUF)");
	}
	if (!addr) {
		set_reason(info, "no MR on %s: %s; no CPU mapping for a VA MR",
			   dev_name(pd), first);
		errno = info->dmabuf_errno ? info->dmabuf_errno : EINVAL;
		return NULL;
	}
	errno = 0;
	mr = p2pmap_rdma_ops.reg_mr(pd, addr, length, access);
	if (mr) {
		info->kind = P2PMAP_MR_VA;
		set_reason(info, "VA MR on %s (%s): %s", dev_name(pd), what,
			   first);
		return mr;
	}
	info->va_errno = errno ? errno : EIO;
	set_reason(info, "no MR on %s (%s): %s; VA MR refused: %s (%s)",
		   dev_name(pd), what, first, strerror(info->va_errno),
		   info->va_errno == EFAULT ?
		   "the CPU mapping cannot be pinned: not backed by struct pages" :
		   "see dmesg");
	errno = info->va_errno;
	return NULL;
}

static struct ibv_mr *reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			     int access, unsigned int flags,
			     struct p2pmap_mr_info *info)
{
	struct p2pmap_mr_info local;
	char path[256], why[200];
	struct ibv_mr *mr;
	uint64_t off = 0;
	int fd = -1, err;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	if ((flags & ~P2PMAP_REG_FLAGS) ||
	    (flags & P2PMAP_REG_FLAGS) == P2PMAP_REG_FLAGS || !length) {
		set_reason(info, "invalid arguments: flags %#x, length %zu",
			   flags, length);
		errno = EINVAL;
		return NULL;
	}
	info->mem = p2pmap_find_mapping(addr, path, sizeof(path));
	if (info->mem == P2PMAP_MEM_HOST) {
		if (flags & P2PMAP_REG_REQUIRE_DMABUF) {
			set_reason(info, "no MR: %p is not p2pmap device memory (%s), no dma-buf to register",
				   addr, path[0] ? path : "anonymous");
			errno = EINVAL;
			return NULL;
		}
		errno = 0;
		mr = p2pmap_rdma_ops.reg_mr(pd, addr, length, access);
		if (mr) {
			info->kind = P2PMAP_MR_VA;
			set_reason(info, "VA MR on %s (host memory)",
				   dev_name(pd));
		} else {
			info->va_errno = errno ? errno : EIO;
			set_reason(info, "no MR on %s (host memory): %s",
				   dev_name(pd), strerror(info->va_errno));
			errno = info->va_errno;
		}
		return mr;
	}
	if (flags & P2PMAP_REG_NO_DMABUF)
		return reg_dmabuf_then_va(pd, -1, 0, length, addr, access,
					  flags, info, path);
	err = p2pgpu_export(path, addr, length, &fd, &off, why, sizeof(why));
	if (err) {
		info->dmabuf_errno = err;
		if (flags & P2PMAP_REG_REQUIRE_DMABUF) {
			set_reason(info, "no MR: %s", why);
			errno = err;
			return NULL;
		}
		/* No dma-buf: the VA MR is all there is, and we say why. */
		errno = 0;
		mr = p2pmap_rdma_ops.reg_mr(pd, addr, length, access);
		if (mr) {
			info->kind = P2PMAP_MR_VA;
			set_reason(info, "VA MR on %s (%s): no dma-buf: %s",
				   dev_name(pd), path, why);
			return mr;
		}
		info->va_errno = errno ? errno : EIO;
		set_reason(info, "no MR on %s (%s): no dma-buf: %s; VA MR refused: %s",
			   dev_name(pd), path, why, strerror(info->va_errno));
		errno = info->va_errno;
		return NULL;
	}
	mr = reg_dmabuf_then_va(pd, fd, off, length, addr, access, flags,
				info, path);
	/* A dma-buf MR holds its own reference on the dma-buf. */
	err = errno;
	close(fd);
	errno = err;
	return mr;
}

static struct ibv_mr *reg_mr_fd(struct ibv_pd *pd, int dmabuf_fd,
				uint64_t offset, size_t length, void *addr,
				int access, unsigned int flags,
				struct p2pmap_mr_info *info)
{
	struct p2pmap_mr_info local;
	struct fb_map *fb = NULL;
	void *map = NULL;
	size_t maplen = 0;
	struct ibv_mr *mr;
	uint64_t pgoff;
	long pg;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	info->mem = P2PMAP_MEM_DMABUF;
	if (dmabuf_fd < 0 || !length || (flags & ~P2PMAP_REG_FLAGS) ||
	    (flags & P2PMAP_REG_FLAGS) == P2PMAP_REG_FLAGS) {
		set_reason(info, "invalid arguments: fd %d, flags %#x, length %zu",
			   dmabuf_fd, flags, length);
		errno = EINVAL;
		return NULL;
	}
	if (!addr && !(flags & P2PMAP_REG_REQUIRE_DMABUF)) {
		/*
		 * The fallback needs a CPU mapping: map the dma-buf now (only
		 * used if the dma-buf MR is refused; then it lives with the
		 * MR). The iova of a dma-buf MR is then the offset.
		 */
		pg = sysconf(_SC_PAGESIZE);
		pgoff = offset & ~((uint64_t)pg - 1);
		maplen = length + (size_t)(offset - pgoff);
		map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
			   dmabuf_fd, (off_t)pgoff);
		if (map == MAP_FAILED) {
			map = NULL;
		} else {
			fb = calloc(1, sizeof(*fb));
			if (!fb) {
				munmap(map, maplen);
				map = NULL;
			}
		}
	}
	mr = reg_dmabuf_then_va(pd, dmabuf_fd, offset, length,
				addr ? addr :
				map ? (char *)map + (offset & (sysconf(_SC_PAGESIZE) - 1)) :
				NULL, access, flags, info, "dma-buf");
	if (map && (!mr || info->kind != P2PMAP_MR_VA)) {
		munmap(map, maplen);
		free(fb);
		return mr;
	}
	if (map) {
		fb->mr = mr;
		fb->addr = map;
		fb->len = maplen;
		pthread_mutex_lock(&fb_lock);
		fb->next = fb_maps;
		fb_maps = fb;
		pthread_mutex_unlock(&fb_lock);
	}
	return mr;
}

/*
 * struct p2pmap_mr_info is allocated by the caller, who sets .size to the
 * sizeof() it was compiled with (docs/abi.md). The size of 0.1 is the floor
 * (frozen); the library fills what the caller's struct has room for.
 */
#define MR_INFO_SIZE_0_1	sizeof(struct p2pmap_mr_info)

static int info_size_ok(const struct p2pmap_mr_info *info)
{
	if (info && info->size < MR_INFO_SIZE_0_1) {
		errno = EINVAL;
		return 0;
	}
	return 1;
}

static void info_copy_out(struct p2pmap_mr_info *info,
			  const struct p2pmap_mr_info *full)
{
	size_t n;

	if (!info)
		return;
	n = info->size < sizeof(*full) ? info->size : sizeof(*full);
	memcpy((char *)info + sizeof(size_t), (const char *)full + sizeof(size_t),
	       n - sizeof(size_t));
}

struct ibv_mr *p2pmap_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			     int access, unsigned int flags,
			     struct p2pmap_mr_info *info)
{
	struct p2pmap_mr_info full;
	struct ibv_mr *mr;
	int err;

	if (!info_size_ok(info))
		return NULL;
	mr = reg_mr(pd, addr, length, access, flags, &full);
	err = errno;
	info_copy_out(info, &full);
	errno = err;
	return mr;
}

struct ibv_mr *p2pmap_reg_mr_fd(struct ibv_pd *pd, int dmabuf_fd,
				uint64_t offset, size_t length, void *addr,
				int access, unsigned int flags,
				struct p2pmap_mr_info *info)
{
	struct p2pmap_mr_info full;
	struct ibv_mr *mr;
	int err;

	if (!info_size_ok(info))
		return NULL;
	mr = reg_mr_fd(pd, dmabuf_fd, offset, length, addr, access, flags,
		       &full);
	err = errno;
	info_copy_out(info, &full);
	errno = err;
	return mr;
}

int p2pmap_dereg_mr(struct ibv_mr *mr)
{
	struct fb_map **pp, *fb = NULL;
	int ret;

	ret = p2pmap_rdma_ops.dereg_mr(mr);
	if (ret)
		return ret;
	pthread_mutex_lock(&fb_lock);
	for (pp = &fb_maps; *pp; pp = &(*pp)->next) {
		if ((*pp)->mr == mr) {
			fb = *pp;
			*pp = fb->next;
			break;
		}
	}
	pthread_mutex_unlock(&fb_lock);
	if (fb) {
		munmap(fb->addr, fb->len);
		free(fb);
	}
	return 0;
}
