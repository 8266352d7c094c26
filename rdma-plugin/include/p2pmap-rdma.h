/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap-rdma: register device memory exported through p2pmap (p2pgpu
 * buffer objects, dma-bufs) as RDMA memory regions, the right way for the
 * NIC and the kernel at hand, and say which way was used and why.
 *
 * For device memory p2pmap_reg_mr() asks the device and the kernel what
 * they can do (p2pmap_rdma_query(): a probe of ibv_reg_dmabuf_mr(),
 * ibv_query_device_ex()'s odp_caps, /sys/module/p2pmap/features) and
 * makes, in this order, the first of:
 *   1. a dma-buf MR (ibv_reg_dmabuf_mr()) where the device takes them
 *      (mlx5, efa, irdma, bnxt_re, mana, ionic);
 *   2. an On-Demand-Paging MR (ibv_reg_mr() with IBV_ACCESS_ON_DEMAND)
 *      where the device has RC ODP for the access asked and the kernel maps
 *      P2PDMA pages under ODP (features: odp_p2pdma, Linux 6.16+): the NIC
 *      faults pages in through hmm_range_fault() and is invalidated by the
 *      mmu notifier when p2pmap moves them;
 *   3. a VA MR (ibv_reg_mr(), pinned) only where the kernel still pins
 *      P2PDMA pages long-term (features: gup_p2pdma_pin, Linux 6.1).
 * It never falls back silently: the result says which kind of MR was made,
 * why, and why each earlier kind was not.
 *
 * ABI (docs/abi.md): libp2pmap-rdma.so.0, every symbol versioned
 * (P2PMAP_RDMA_0.1, P2PMAP_RDMA_0.2); caller-allocated structs start with a
 * size member.
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
	P2PMAP_MR_VA = 2,	/* ibv_reg_mr() on the CPU mapping (pinned) */
	P2PMAP_MR_ODP = 3,	/* ibv_reg_mr(IBV_ACCESS_ON_DEMAND) on the CPU mapping (0.2) */
};

/** Where the memory was found to live (p2pmap_reg_mr() fills it in). */
enum p2pmap_mem_kind {
	P2PMAP_MEM_HOST = 0,	/* not p2pmap memory: ordinary host memory */
	P2PMAP_MEM_P2PGPU = 1,	/* a render-node mapping of a p2pgpu object */
	P2PMAP_MEM_DMABUF = 2,	/* a dma-buf fd given by the caller */
	/* a mapping of another DRM driver's node (0.2): registered as host
	 * memory would be, no private ioctl is sent to it
	 */
	P2PMAP_MEM_FOREIGN = 3,
};

/* p2pmap_reg_mr() flags */
#define P2PMAP_REG_REQUIRE_DMABUF	0x1u	/* fail rather than fall back to a VA MR */
#define P2PMAP_REG_NO_DMABUF		0x2u	/* never try a dma-buf MR */
#define P2PMAP_REG_NO_ODP		0x4u	/* never make an ODP MR (0.2) */
#define P2PMAP_REG_FLAGS		(P2PMAP_REG_REQUIRE_DMABUF | P2PMAP_REG_NO_DMABUF | \
					 P2PMAP_REG_NO_ODP)

/* p2pmap_rdma_caps.caps and p2pmap_mr_info.caps bits (0.2) */
#define P2PMAP_RDMA_CAP_DMABUF_MR	0x1u	/* the device takes dma-buf MRs */
#define P2PMAP_RDMA_CAP_ODP		0x2u	/* the device has RC ODP for the access */
#define P2PMAP_RDMA_CAP_KERNEL_KNOWN	0x4u	/* /sys/module/p2pmap/features was read */
#define P2PMAP_RDMA_CAP_KERNEL_ODP_P2P	0x8u	/* the kernel maps P2PDMA pages under ODP */
#define P2PMAP_RDMA_CAP_KERNEL_PIN_P2P	0x10u	/* the kernel pins P2PDMA pages (VA MRs) */

/**
 * struct p2pmap_mr_info - what p2pmap_reg_mr() did
 * @size: set by the caller to sizeof(struct p2pmap_mr_info) (the library
 *	fills no more than that; fields may be appended in later versions)
 * @kind: the kind of MR made (P2PMAP_MR_NONE on failure)
 * @mem: what the memory is
 * @dmabuf_errno: errno of the dma-buf MR attempt, or of the probe that
 *	found the device has no dma-buf MRs (EOPNOTSUPP); 0 if it succeeded
 *	or was not tried
 * @va_errno: errno of the VA MR attempt, 0 if it succeeded or was not tried
 * @offset: byte offset of the registered range in its dma-buf or object
 * @reason: one line saying what was done and why, e.g. "ODP MR on rxe0
 *	(/dev/p2pgpu/renderD128): rxe0 has RC ODP and the kernel maps P2PDMA
 *	pages under ODP; dma-buf MR: rxe0 has none (probe: Operation not
 *	supported)"
 * @caps: P2PMAP_RDMA_CAP_* bits the decision was made on (0.2; 0 for host
 *	memory, which needs no decision)
 * @odp_errno: errno of the ODP MR attempt, 0 if it succeeded or was not
 *	tried (0.2)
 *
 * Fields marked 0.2 are filled only if @size covers them.
 */
struct p2pmap_mr_info {
	size_t size;
	enum p2pmap_mr_kind kind;
	enum p2pmap_mem_kind mem;
	int dmabuf_errno;
	int va_errno;
	uint64_t offset;
	char reason[256];
	/* 0.2 */
	unsigned int caps;
	int odp_errno;
};

/**
 * struct p2pmap_rdma_caps - what a device and the kernel can do (0.2)
 * @size: set by the caller to sizeof(struct p2pmap_rdma_caps)
 * @caps: P2PMAP_RDMA_CAP_* bits
 * @dmabuf_probe_errno: errno of ibv_reg_dmabuf_mr() on an invalid fd:
 *	EOPNOTSUPP (or EPROTONOSUPPORT) when the device or its provider has
 *	no dma-buf MRs, EBADF when the kernel got as far as the fd
 * @odp_general_caps: ibv_query_device_ex() odp_caps.general_caps (0 if the
 *	query failed)
 * @odp_rc_caps: odp_caps.per_transport_caps.rc_odp_caps
 * @reason: one line: the answers and where each came from
 */
struct p2pmap_rdma_caps {
	size_t size;
	unsigned int caps;
	int dmabuf_probe_errno;
	uint64_t odp_general_caps;
	uint32_t odp_rc_caps;
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
 * publish node or dma-buf mmap), the choice described at the top of this
 * header is made: a dma-buf MR on the object exported as a dma-buf
 * (DRM_IOCTL_P2PGPU_BO_FROM_VA, PRIME; sent only after DRM_IOCTL_VERSION
 * named the node's driver p2pgpu), else an ODP MR, else a VA MR, each only
 * where the device and the kernel support it. Other memory (also a
 * mapping of another DRM driver) is registered with ibv_reg_mr() directly.
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
 * A dma-buf MR is made where the device takes them; otherwise an ODP or
 * VA MR on the CPU mapping, by the same rules as p2pmap_reg_mr().
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

/**
 * p2pmap_rdma_query() - what @pd's device and the kernel can do (0.2)
 * @pd: protection domain of the device
 * @access: the IBV_ACCESS_* flags the MR would have (they decide which RC
 *	ODP capabilities are needed)
 * @caps: filled in (@caps->size set first)
 *
 * The answers come from the device and the kernel, never from version
 * strings: a call of ibv_reg_dmabuf_mr() with an invalid fd (refused with
 * EOPNOTSUPP where there are no dma-buf MRs, EBADF where there are),
 * ibv_query_device_ex() (odp_caps), and /sys/module/p2pmap/features
 * (odp_p2pdma, gup_p2pdma_pin).
 *
 * Return: 0, or -1 with errno EINVAL (no @pd, no @caps, or @caps->size too
 * small).
 */
int p2pmap_rdma_query(struct ibv_pd *pd, int access,
		      struct p2pmap_rdma_caps *caps);

/** p2pmap_mr_kind_name() - "dmabuf", "va", "odp" or "none" */
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
