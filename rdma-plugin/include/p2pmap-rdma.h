/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap-rdma: register device memory exported through p2pmap (p2pgpu
 * buffer objects, dma-bufs) as RDMA memory regions, the right way for the
 * device at hand, and say which way was used and why.
 *
 * p2pmap_reg_mr() tries a dma-buf MR first (ibv_reg_dmabuf_mr(): the NIC
 * maps the exporter's pages through the dma-buf, with move_notify for
 * dynamic importers such as mlx5, pinned for others such as efa) and falls
 * back to a plain VA MR (ibv_reg_mr()) when the device or kernel has no
 * dma-buf MRs (Soft-RoCE/rxe in Linux 6.1, for one). It never falls back
 * silently: the result says which kind of MR was made and, for a fallback,
 * the errno and reason of the dma-buf attempt.
 *
 * ABI (docs/abi.md): libp2pmap-rdma.so.0, every symbol versioned
 * (P2PMAP_RDMA_0.1); caller-allocated structs start with a size member.
 */
#ifndef P2PMAP_RDMA_H
#define P2PMAP_RDMA_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Which kind of memory region p2pmap_reg_mr() made. */
enum p2pmap_mr_kind {
	P2PMAP_MR_NONE = 0,	/* none: registration failed */
	P2PMAP_MR_DMABUF = 1,	/* ibv_reg_dmabuf_mr() on the object's dma-buf */
	P2PMAP_MR_VA = 2,	/* ibv_reg_mr() on the CPU mapping */
};

/** Where the memory was found to live (p2pmap_reg_mr() fills it in). */
enum p2pmap_mem_kind {
	P2PMAP_MEM_HOST = 0,	/* not p2pmap memory: ordinary host memory */
	P2PMAP_MEM_P2PGPU = 1,	/* a render-node mapping of a p2pgpu object */
	P2PMAP_MEM_DMABUF = 2,	/* a dma-buf fd given by the caller */
};

/* p2pmap_reg_mr() flags */
#define P2PMAP_REG_REQUIRE_DMABUF	0x1u	/* fail rather than fall back to a VA MR */
#define P2PMAP_REG_NO_DMABUF		0x2u	/* VA MR only, never try a dma-buf MR */
#define P2PMAP_REG_FLAGS		(P2PMAP_REG_REQUIRE_DMABUF | P2PMAP_REG_NO_DMABUF)

/**
 * struct p2pmap_mr_info - what p2pmap_reg_mr() did
 * @size: set by the caller to sizeof(struct p2pmap_mr_info) (the library
 *	fills no more than that; fields may be appended in later versions)
 * @kind: the kind of MR made (P2PMAP_MR_NONE on failure)
 * @mem: what the memory is
 * @dmabuf_errno: errno of the dma-buf MR attempt, 0 if it succeeded or
 *	was not tried
 * @va_errno: errno of the VA MR attempt, 0 if it succeeded or was not tried
 * @offset: byte offset of the registered range in its dma-buf or object
 * @reason: one line saying what was done and why, e.g. "VA MR: dma-buf MR
 *	refused by rxe0: Operation not supported (no dma-buf MRs on this
 *	device)"
 */
struct p2pmap_mr_info {
	size_t size;
	enum p2pmap_mr_kind kind;
	enum p2pmap_mem_kind mem;
	int dmabuf_errno;
	int va_errno;
	uint64_t offset;
	char reason[256];
};

/**
 * p2pmap_reg_mr() - register memory as an MR, dma-buf first
 * @pd: protection domain
 * @addr: start of the range in this process (also the MR's iova)
 * @length: bytes
 * @access: IBV_ACCESS_* flags
 * @flags: P2PMAP_REG_* flags
 * @info: filled in (may be NULL; else set @info->size first)
 *
 * If @addr lies in a mapping of a p2pgpu buffer object (render node,
 * publish node or dma-buf mmap), the object is exported as a dma-buf
 * (DRM_IOCTL_P2PGPU_BO_FROM_VA, PRIME) and
 * registered with ibv_reg_dmabuf_mr(); if that is refused, the VA is
 * registered with ibv_reg_mr(). Other memory is registered with
 * ibv_reg_mr() directly.
 *
 * Return: the MR (free with p2pmap_dereg_mr() or ibv_dereg_mr()), or NULL
 * with errno set (and @info->reason saying why; EINVAL without a reason if
 * @info->size is smaller than the struct of libp2pmap-rdma 0.1).
 */
struct ibv_mr *p2pmap_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			     int access, unsigned int flags,
			     struct p2pmap_mr_info *info);

/**
 * p2pmap_reg_mr_fd() - register a dma-buf range as an MR, dma-buf first
 * @pd: protection domain
 * @dmabuf_fd: dma-buf file descriptor (kept open by the caller)
 * @offset: byte offset in the dma-buf
 * @length: bytes
 * @addr: the caller's CPU mapping of that range (iova of the MR, and the
 *	VA for the fallback), or NULL: then the library maps the dma-buf
 *	itself if it must fall back (the mapping lives as long as the MR)
 * @access: IBV_ACCESS_* flags
 * @flags: P2PMAP_REG_* flags
 * @info: filled in (may be NULL; else set @info->size first)
 *
 * Return: the MR, or NULL with errno set.
 */
struct ibv_mr *p2pmap_reg_mr_fd(struct ibv_pd *pd, int dmabuf_fd,
				uint64_t offset, size_t length, void *addr,
				int access, unsigned int flags,
				struct p2pmap_mr_info *info);

/**
 * p2pmap_dereg_mr() - deregister an MR made by this library
 * @mr: the MR
 *
 * Also unmaps a dma-buf mapping p2pmap_reg_mr_fd() made for a fallback.
 *
 * Return: 0, or an errno value as ibv_dereg_mr().
 */
int p2pmap_dereg_mr(struct ibv_mr *mr);

/** p2pmap_mr_kind_name() - "dmabuf", "va" or "none" */
const char *p2pmap_mr_kind_name(enum p2pmap_mr_kind kind);

/**
 * p2pmap_find_mapping() - is @addr p2pmap-backed device memory?
 * @addr: an address in this process
 * @path: where the mapped file's path is stored (may be NULL)
 * @pathlen: size of @path
 *
 * Looks @addr up in /proc/self/maps.
 *
 * Return: P2PMAP_MEM_P2PGPU for a mapping through a DRM node
 * (/dev/dri/renderD*, /dev/dri/card*), a p2pgpu publish node
 * (/dev/p2pgpu/renderD*) or of a dma-buf (/dmabuf:), P2PMAP_MEM_HOST
 * otherwise (also when /proc is not readable). A dma-buf that is not a
 * p2pgpu object is then found out by the export, which fails with ENXIO.
 */
enum p2pmap_mem_kind p2pmap_find_mapping(const void *addr, char *path,
					 size_t pathlen);

#ifdef __cplusplus
}
#endif

#endif /* P2PMAP_RDMA_H */
