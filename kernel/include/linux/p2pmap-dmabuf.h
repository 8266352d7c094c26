/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap: dma-buf export of a user VA range (kernel/core/dmabuf.c).
 *
 * A layer on top of the importer API of linux/p2pmap.h: the core imports
 * the range for each attaching device and hands it on as a dma-buf. See
 * "DOC: Range dma-buf export" in kernel/core/dmabuf.c. Userspace reaches
 * it through /dev/p2pmap (include/uapi/linux/p2pmap.h, kernel/core/uapi.c),
 * which checks the caller's access to the range first.
 */
#ifndef _LINUX_P2PMAP_DMABUF_H
#define _LINUX_P2PMAP_DMABUF_H

struct dma_buf;
struct mm_struct;

#define P2PMAP_DMABUF_WRITE	0x1	/* importers may write the range */
#define P2PMAP_DMABUF_FLAGS	P2PMAP_DMABUF_WRITE

struct dma_buf *p2pmap_dmabuf_export(struct mm_struct *mm, unsigned long start,
				     unsigned long length, unsigned int flags);

#endif /* _LINUX_P2PMAP_DMABUF_H */
