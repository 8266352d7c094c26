/* SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB */
/*
 * MIRRORED ABI, DECLARATIONS ONLY. This header restates, from its public
 * documentation and headers, the peer-memory client interface that
 * MLNX_OFED's ib_core exports in <rdma/peer_mem.h> (the interface
 * nvidia-peermem and the AMD peer-direct bridge register with). It exists
 * so that p2pmap_peermem.c can be compile-tested where MLNX_OFED is not
 * installed. It is not MLNX_OFED's file: when MLNX_OFED is present, build
 * against its own header instead (the Kbuild prefers it). The layout
 * below must match that ABI exactly: two fixed-size strings, then seven
 * callbacks in this order. Nothing here was tested against real MLNX_OFED
 * or real hardware.
 */
#ifndef PEER_MEM_H
#define PEER_MEM_H

#include <linux/scatterlist.h>
#include <linux/types.h>

struct device;

#define IB_PEER_MEMORY_NAME_MAX	64
#define IB_PEER_MEMORY_VER_MAX	16
/* The core context handed to get_pages() is a u64 in this ABI revision. */
#define PEER_MEM_U64_CORE_CONTEXT

/**
 * struct peer_memory_client - a peer-memory client, as ib_core sees it
 * @name: client name (shown under /sys/kernel/mm/memory_peers/)
 * @version: client version string
 * @acquire: does [addr, addr + size) of the calling process belong to this
 *	client? Returns 1 (and sets *client_context) or 0. Called in the
 *	registering process's context.
 * @get_pages: pin the range; the client allocates @sg_head and may fill
 *	pages. @core_context identifies the registration for a later
 *	invalidation. Returns 0 or a negative errno.
 * @dma_map: map the pinned range for @dma_device, filling the DMA side of
 *	@sg_head and *nmap. Returns 0 or a negative errno.
 * @dma_unmap: undo @dma_map. Returns 0 or a negative errno.
 * @put_pages: undo @get_pages (also frees @sg_head's table).
 * @get_page_size: the page size the range is mapped with, in bytes.
 * @release: free @client_context; no pages are pinned through it any more.
 */
struct peer_memory_client {
	char name[IB_PEER_MEMORY_NAME_MAX];
	char version[IB_PEER_MEMORY_VER_MAX];
	int (*acquire)(unsigned long addr, size_t size,
		       void *peer_mem_private_data, char *peer_mem_name,
		       void **client_context);
	int (*get_pages)(unsigned long addr, size_t size, int write, int force,
			 struct sg_table *sg_head, void *client_context,
			 u64 core_context);
	int (*dma_map)(struct sg_table *sg_head, void *client_context,
		       struct device *dma_device, int dmasync, int *nmap);
	int (*dma_unmap)(struct sg_table *sg_head, void *client_context,
			 struct device *dma_device);
	void (*put_pages)(struct sg_table *sg_head, void *client_context);
	unsigned long (*get_page_size)(void *client_context);
	void (*release)(void *client_context);
};

/*
 * Filled in by ib_register_peer_memory_client() when the client asks for
 * invalidation support: call it with the handle and the core context of a
 * registration to make ib_core stop the hardware using those pages. ib_core
 * then calls dma_unmap() and put_pages() for them.
 */
typedef int (*invalidate_peer_memory)(void *reg_handle, u64 core_context);

void *ib_register_peer_memory_client(const struct peer_memory_client *peer_client,
				     invalidate_peer_memory *invalidate_callback);
void ib_unregister_peer_memory_client(void *reg_handle);

#endif /* PEER_MEM_H */
