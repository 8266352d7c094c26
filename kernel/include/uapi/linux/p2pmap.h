/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * p2pmap userspace API: the ioctls of /dev/p2pmap, the misc device of
 * p2pmap.ko (kernel/core/uapi.c). Today it has one job: export a range of
 * the caller's address space (any provider's memory mapped there, ordinary
 * memory, or device-private memory) as a dma-buf, so that any dma-buf
 * importer (an RDMA NIC through ibv_reg_dmabuf_mr(), another GPU) can use
 * it without a driver-private ioctl. See "DOC: Range dma-buf export" in
 * kernel/core/dmabuf.c for what importers see.
 *
 * Extension rule: every argument struct starts with @size, the size of the
 * struct the caller was built with. The kernel accepts any size from the
 * first published one (the _SIZE_VER0 constant) up: fields the kernel does
 * not know must be zero (else -E2BIG), fields the caller does not know are
 * zero to the kernel, and only the bytes the caller passed are written
 * back. New behaviour is asked for with a new flag; unknown flags are
 * refused with -EINVAL.
 */
#ifndef _UAPI_LINUX_P2PMAP_H
#define _UAPI_LINUX_P2PMAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The device node: /dev/p2pmap (mode 0600: an export pins memory). */
#define P2PMAP_DEVNAME			"p2pmap"

/* &p2pmap_export_range.flags (in) */
/*
 * Importers may write the range (the device writes: DMA_FROM_DEVICE or
 * DMA_BIDIRECTIONAL mappings). Every mapping of the range must be writable
 * by the caller, else -EACCES. Without it the export is read-only:
 * importers may only map it DMA_TO_DEVICE (-EPERM otherwise).
 */
#define P2PMAP_EXPORT_WRITE		0x1u
#define P2PMAP_EXPORT_FLAGS		P2PMAP_EXPORT_WRITE

/*
 * &p2pmap_export_range.caps (out): what importers get on this kernel.
 *
 * Unpinned dynamic importers are told with invalidate_mappings (before
 * 7.1: move_notify) when the range changes and map again; without it the
 * dma-buf core pins every importer (CONFIG_DMABUF_MOVE_NOTIFY=n).
 */
#define P2PMAP_EXPORT_CAP_DYNAMIC	0x1u
/*
 * Pinned importers that implement invalidate_mappings (revocable,
 * dma_buf_attach_revocable(), 7.1) are told when the provider of the
 * memory is reset or unbound, and must unmap; without it (before 7.1)
 * pinned importers are never told.
 */
#define P2PMAP_EXPORT_CAP_REVOKE	0x2u

/* Largest range one export may cover: 64 GiB. */
#define P2PMAP_EXPORT_MAX_LENGTH	0x1000000000ull

/**
 * struct p2pmap_export_range - P2PMAP_IOC_EXPORT_RANGE: export a range of
 *	the caller's address space as a dma-buf
 * @size: in: sizeof(struct p2pmap_export_range) as the caller was built,
 *	at least %P2PMAP_EXPORT_RANGE_SIZE_VER0.
 * @flags: in: P2PMAP_EXPORT_* flags; unknown bits are refused (-EINVAL).
 * @va: in: first byte of the range, page aligned.
 * @length: in: bytes, page aligned, 1 page up to
 *	%P2PMAP_EXPORT_MAX_LENGTH, inside the caller's address space.
 * @fd: out: the dma-buf file descriptor (O_CLOEXEC), -1 on error.
 * @caps: out: P2PMAP_EXPORT_CAP_* bits of this kernel.
 *
 * Every byte of the range must be mapped, readable, and (with
 * %P2PMAP_EXPORT_WRITE) writable by the caller when the ioctl runs; the
 * check is done under the mmap lock. The dma-buf then follows the range:
 * each importer gets what the range holds when it maps, resolved for its
 * own device (peer-to-peer where its attachment allows it and a route
 * exists, system memory otherwise) and pinned while mapped. A later
 * munmap, mprotect, migration or the provider's reset or unbind is told
 * to importers (see the CAP bits) and mapping again gives what is there
 * then, or an error; a read-only export never becomes writable.
 *
 * Errors: -EINVAL (size, flags, alignment, zero, too long or overflowing
 * range; the reason is in the kernel log), -E2BIG (non-zero bytes past
 * the struct this kernel knows), -EFAULT (a bad pointer, or a hole in the
 * range), -EACCES (a mapping of the range is not readable, or not
 * writable with %P2PMAP_EXPORT_WRITE), -ENOMEM, -EMFILE, or an error of
 * dma_buf_export().
 */
struct p2pmap_export_range {
	__u32 size;
	__u32 flags;
	__u64 va;
	__u64 length;
	__s32 fd;
	__u32 caps;
};

#define P2PMAP_EXPORT_RANGE_SIZE_VER0	32

#define P2PMAP_IOC_MAGIC		0xBB
#define P2PMAP_IOC_EXPORT_RANGE		_IO(P2PMAP_IOC_MAGIC, 0x00)

#endif /* _UAPI_LINUX_P2PMAP_H */
