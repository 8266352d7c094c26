/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap-rdma internals shared by the library, the LD_PRELOAD shim and
 * the unit tests: the verbs entry points the library calls (replaced by the
 * shim with the real ones behind its interposers, and by the unit tests
 * with fakes) and the /proc/self/maps line parser.
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
	/* the maps file to read (tests point it at a fixture) */
	const char *maps_path;
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

#endif /* P2PMAP_RDMA_INT_H */
