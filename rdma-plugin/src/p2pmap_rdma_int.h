/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap-rdma internals shared by the library, the LD_PRELOAD shim and
 * the unit tests: the verbs, DRM and file entry points the library calls
 * (replaced by the shim with the real ones behind its interposers, and by
 * the unit tests with fakes), the /proc/self/maps line parser, and the
 * registration choice as a pure function of the capabilities.
 */
#ifndef P2PMAP_RDMA_INT_H
#define P2PMAP_RDMA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "p2pmap-rdma.h"

struct p2pmap_rdma_ops {
	struct ibv_mr *(*reg_dmabuf_mr)(struct ibv_pd *pd, uint64_t offset,
					size_t length, uint64_t iova, int fd,
					int access);
	struct ibv_mr *(*reg_mr)(struct ibv_pd *pd, void *addr, size_t length,
				 int access);
	int (*dereg_mr)(struct ibv_mr *mr);
	/* ibv_query_device_ex()'s RC ODP capabilities: 0 or an errno */
	int (*query_odp)(struct ibv_pd *pd, uint64_t *general, uint32_t *rc);
	/* open a DRM node: an fd or -1 with errno */
	int (*open_node)(const char *path);
	/* DRM_IOCTL_VERSION (drmGetVersion()): the driver's name; 0 or errno */
	int (*drm_name)(int fd, char *name, size_t len);
	/*
	 * The p2pgpu object mapped at @addr as a dma-buf (the driver-private
	 * DRM_IOCTL_P2PGPU_BO_FROM_VA and PRIME export): 0 with *@dmabuf and
	 * *@off, or an errno with @why. Called only for a node drm_name()
	 * named p2pgpu.
	 */
	int (*export_bo)(int fd, void *addr, size_t length, int *dmabuf,
			 uint64_t *off, char *why, size_t whylen);
	/* the files to read (tests point them at fixtures) */
	const char *maps_path;
	const char *features_path;
};

extern struct p2pmap_rdma_ops p2pmap_rdma_ops;

/*
 * Parse one /proc/<pid>/maps line. Returns 1 if it maps @addr (its path,
 * possibly empty, is stored in @path), 0 if not, -1 if malformed.
 */
int p2pmap_rdma_parse_maps_line(const char *line, uintptr_t addr, char *path,
				size_t pathlen);

/* Whether @path is a DRM device node (render or primary). */
int p2pmap_rdma_is_drm_node(const char *path);

/* Whether a failed ibv_reg_dmabuf_mr() errno means "not supported here". */
int p2pmap_rdma_dmabuf_unsupported(int err);

/* The RC ODP capability bits (IBV_ODP_SUPPORT_*) an MR with @access needs. */
uint32_t p2pmap_rdma_odp_needed(int access);

/*
 * Parse the text of /sys/module/p2pmap/features into
 * P2PMAP_RDMA_CAP_KERNEL_* bits (KERNEL_KNOWN always set).
 */
unsigned int p2pmap_rdma_parse_features(const char *text);

/*
 * The registration choice for device memory, as a pure function: the kinds
 * of MR to try, in order (at most 3, then P2PMAP_MR_NONE), given the
 * P2PMAP_RDMA_CAP_* bits, the P2PMAP_REG_* flags, whether a dma-buf exists
 * (if not, @nodmabuf says why; may be NULL) and whether a CPU mapping
 * does. @dev names the device. @why gets one "; "-separated clause per
 * kind not tried and why.
 */
void p2pmap_rdma_plan(unsigned int caps, unsigned int flags, int have_dmabuf,
		      const char *nodmabuf, int have_addr, const char *dev,
		      enum p2pmap_mr_kind order[4], char *why, size_t whylen);

#endif /* P2PMAP_RDMA_INT_H */
