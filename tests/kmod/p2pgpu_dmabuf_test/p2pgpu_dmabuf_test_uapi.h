/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pgpu_dmabuf_test: ioctl interface of /dev/p2pgpu_dmabuf_test, shared by
 * the test module (tests/kmod/p2pgpu_dmabuf_test) and its kselftest
 * (tests/selftests/p2pgpu_pin). The module binds the QEMU edu device and is
 * an in-kernel dma-buf importer for it: ATTACH attaches a dma-buf fd for the
 * edu and maps the attachment, READ and WRITE move bytes between the mapped
 * buffer and a user buffer with edu DMA (a dynamic attachment is mapped
 * again first if the exporter called move_notify), STATUS reports the
 * move_notify calls and the current mapping, DETACH unmaps and detaches. One
 * attachment per open file; it dies with the file. Test interface only.
 */
#ifndef _P2PGPU_DMABUF_TEST_UAPI_H
#define _P2PGPU_DMABUF_TEST_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define P2PGPU_DMABUF_TEST_DEVNAME	"p2pgpu_dmabuf_test"

/*
 * struct p2pgpu_dmabuf_test_attach.flags: attach as a dynamic importer
 * that allows peer-to-peer (dma_buf_dynamic_attach() with
 * allow_peer2peer); without it, a static dma_buf_attach().
 */
#define P2PGPU_DMABUF_TEST_F_P2P	0x1u
/*
 * With F_P2P: pin the attachment with dma_buf_pin() before mapping it (and
 * unpin after unmapping), as a pinned RDMA importer does.
 */
#define P2PGPU_DMABUF_TEST_F_PIN	0x2u
/*
 * With F_PIN: a revocable pinned importer (dma_buf_attach_revocable(),
 * 7.1): when the exporter calls invalidate_mappings, the importer unmaps
 * and unpins at once, inside the callback, and takes it as permanent:
 * READ and WRITE fail with -ENODEV, STATUS reports S_REVOKED. Without it
 * a pinned importer maps again before its next transfer.
 */
#define P2PGPU_DMABUF_TEST_F_REVOCABLE	0x4u
#define P2PGPU_DMABUF_TEST_F_ALL	(P2PGPU_DMABUF_TEST_F_P2P | \
					 P2PGPU_DMABUF_TEST_F_PIN | \
					 P2PGPU_DMABUF_TEST_F_REVOCABLE)

/* Largest READ or WRITE, bytes. */
#define P2PGPU_DMABUF_TEST_MAX_XFER	(64u << 10)

/**
 * struct p2pgpu_dmabuf_test_attach - attach and map a dma-buf for the edu
 * @fd: (in) dma-buf file descriptor
 * @flags: (in) P2PGPU_DMABUF_TEST_F_* bits
 * @size: (out) size of the dma-buf in bytes
 * @nents: (out) DMA segments of the mapping
 * @bar_entries: (out) segments whose DMA address lies in BAR2 of an
 *	ivshmem (p2pgpu) device: peer-to-peer bus addresses
 * @bar_bytes: (out) bytes in those segments
 * @sys_entries: (out) the other segments (system memory)
 * @reserved: (in) must be 0
 * @sys_bytes: (out) bytes in those segments
 * @cpu_nents: (out) entries of the table's CPU list (orig_nents): 0 when
 *	the table has none, as the PCI core's dma_buf_phys_vec_to_sgt()
 *	builds them (6.19)
 * @cpu_pages: (out) entries of the CPU list that carry a struct page
 *
 * @cpu_nents and @cpu_pages are 0xffffffff on a kernel with
 * CONFIG_DMABUF_DEBUG, whose dma-buf core hides the exporter's table from
 * importers.
 */
struct p2pgpu_dmabuf_test_attach {
	__s32 fd;
	__u32 flags;
	__u64 size;
	__u32 nents;
	__u32 bar_entries;
	__u64 bar_bytes;
	__u32 sys_entries;
	__u32 reserved;
	__u64 sys_bytes;
	__u32 cpu_nents;
	__u32 cpu_pages;
};

/**
 * struct p2pgpu_dmabuf_test_xfer - edu DMA through the mapped attachment
 * @offset: (in) byte offset into the dma-buf
 * @len: (in) bytes, 1..P2PGPU_DMABUF_TEST_MAX_XFER, inside the dma-buf
 * @buf: (in) user buffer: READ stores what the edu read, WRITE provides
 *	what the edu writes
 */
struct p2pgpu_dmabuf_test_xfer {
	__u64 offset;
	__u64 len;
	__u64 buf;
};

/* struct p2pgpu_dmabuf_test_status.flags: move_notify since the last map */
#define P2PGPU_DMABUF_TEST_S_INVALID	0x1u
/* ... a revocable pinned importer was revoked: nothing is mapped */
#define P2PGPU_DMABUF_TEST_S_REVOKED	0x2u

/**
 * struct p2pgpu_dmabuf_test_status - state of the attachment
 * @move_notifies: (out) move_notify calls the importer received
 * @remaps: (out) mappings made again after a move_notify
 * @flags: (out) P2PGPU_DMABUF_TEST_S_* bits
 * @bar_entries: (out) segments of the current mapping in a GPU BAR
 * @bar_bytes: (out) bytes in those segments
 * @sys_entries: (out) the other segments
 * @reserved: (out) 0
 * @sys_bytes: (out) bytes in those segments
 */
struct p2pgpu_dmabuf_test_status {
	__u32 move_notifies;
	__u32 remaps;
	__u32 flags;
	__u32 bar_entries;
	__u64 bar_bytes;
	__u32 sys_entries;
	__u32 reserved;
	__u64 sys_bytes;
};

#define P2PGPU_DMABUF_TEST_IOC_MAGIC	0xEA
#define P2PGPU_DMABUF_TEST_IOC_ATTACH	_IOWR(P2PGPU_DMABUF_TEST_IOC_MAGIC, 0x00, \
					      struct p2pgpu_dmabuf_test_attach)
#define P2PGPU_DMABUF_TEST_IOC_DETACH	_IO(P2PGPU_DMABUF_TEST_IOC_MAGIC, 0x01)
#define P2PGPU_DMABUF_TEST_IOC_READ	_IOW(P2PGPU_DMABUF_TEST_IOC_MAGIC, 0x02, \
					     struct p2pgpu_dmabuf_test_xfer)
#define P2PGPU_DMABUF_TEST_IOC_WRITE	_IOW(P2PGPU_DMABUF_TEST_IOC_MAGIC, 0x03, \
					     struct p2pgpu_dmabuf_test_xfer)
#define P2PGPU_DMABUF_TEST_IOC_STATUS	_IOR(P2PGPU_DMABUF_TEST_IOC_MAGIC, 0x04, \
					     struct p2pgpu_dmabuf_test_status)

#endif /* _P2PGPU_DMABUF_TEST_UAPI_H */
