/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pdma_edu test module: ioctl interface of /dev/p2pdma_edu, shared by the
 * kernel module (tests/kmod/p2pdma_edu) and its kselftest
 * (tests/selftests/p2pdma_edu). The module pairs a QEMU ivshmem-plain BAR2
 * (P2PDMA provider) with a QEMU edu device (DMA client) and moves data
 * between the two with the edu DMA engine through the kernel's P2PDMA API.
 * This is a test interface: it has no stability guarantee beyond
 * P2PDMA_EDU_ABI_VERSION.
 */
#ifndef _P2PDMA_EDU_UAPI_H
#define _P2PDMA_EDU_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define P2PDMA_EDU_DEVNAME		"p2pdma_edu"
#define P2PDMA_EDU_ABI_VERSION		1u

/* Largest transfer; QEMU 7.2's edu aborts on a full 4096-byte one. */
#define P2PDMA_EDU_MAX_LEN		4095u
/* Size of the p2pmem buffer the module allocates from the provider BAR. */
#define P2PDMA_EDU_P2PMEM_SIZE		8192u
/* Byte the module fills untouched destination bytes with (guard check). */
#define P2PDMA_EDU_POISON		0xa5u

/* struct p2pdma_edu_info.flags */
#define P2PDMA_EDU_INFO_P2PDMA_KCONFIG	0x01u /* CONFIG_PCI_P2PDMA=y */
#define P2PDMA_EDU_INFO_HAVE_PROVIDER	0x02u /* ivshmem bound */
#define P2PDMA_EDU_INFO_HAVE_CLIENT	0x04u /* edu bound */
#define P2PDMA_EDU_INFO_P2PMEM		0x08u /* BAR2 registered */
#define P2PDMA_EDU_INFO_WEDGED		0x10u /* edu DMA timed out */

/* Result of mapping provider p2pmem for the client (map_type fields). */
#define P2PDMA_EDU_MAP_UNKNOWN		0u /* not attempted */
#define P2PDMA_EDU_MAP_NOT_SUPPORTED	1u /* refused (-EREMOTEIO) */
#define P2PDMA_EDU_MAP_BUS_ADDR		2u /* PCI bus address, via switch */
#define P2PDMA_EDU_MAP_THRU_HOST_BRIDGE	3u /* CPU physical address */
#define P2PDMA_EDU_MAP_ERROR		4u /* other mapping error */

/* struct p2pdma_edu_transfer.direction */
#define P2PDMA_EDU_DIR_TO_BAR		1u /* buf -> RAM -> edu -> p2pmem */
#define P2PDMA_EDU_DIR_FROM_BAR		2u /* p2pmem -> edu -> RAM -> buf */

/*
 * struct p2pdma_edu_transfer.flags: FROM_BAR only. Do not copy @buf into
 * p2pmem first; read back what an earlier TO_BAR transfer left there.
 */
#define P2PDMA_EDU_XFER_F_NO_CPU_FILL	0x01u
#define P2PDMA_EDU_XFER_FLAGS_ALL	P2PDMA_EDU_XFER_F_NO_CPU_FILL

#define P2PDMA_EDU_NAME_LEN		32
#define P2PDMA_EDU_REASON_LEN		96

/**
 * struct p2pdma_edu_info - state of the provider/client pair (output only)
 * @abi_version: P2PDMA_EDU_ABI_VERSION
 * @flags: P2PDMA_EDU_INFO_* bits
 * @distance: pci_p2pdma_distance(provider, client), -1 if refused or if
 *	either device is missing or P2PDMA is not compiled in
 * @map_type: P2PDMA_EDU_MAP_* result of a trial dma_map_sgtable() of one
 *	p2pmem page for the client; P2PDMA_EDU_MAP_UNKNOWN if not attempted
 * @map_error: 0 or the negative errno the trial mapping returned
 * @p2pmem_size: P2PDMA_EDU_P2PMEM_SIZE (bytes addressable by @offset)
 * @max_len: P2PDMA_EDU_MAX_LEN
 * @reserved: always 0
 * @provider_bar_size: size of the provider's BAR2 in bytes, 0 if none
 * @dma_count: edu DMA commands issued since the module was loaded
 * @provider: PCI name of the provider ("" if none)
 * @client: PCI name of the client ("" if none)
 * @reason: NUL-terminated reason why transfers cannot work, "" if they may
 */
struct p2pdma_edu_info {
	__u32 abi_version;
	__u32 flags;
	__s32 distance;
	__u32 map_type;
	__s32 map_error;
	__u32 p2pmem_size;
	__u32 max_len;
	__u32 reserved;
	__u64 provider_bar_size;
	__u64 dma_count;
	char provider[P2PDMA_EDU_NAME_LEN];
	char client[P2PDMA_EDU_NAME_LEN];
	char reason[P2PDMA_EDU_REASON_LEN];
};

/**
 * struct p2pdma_edu_transfer - one edu DMA transfer to or from p2pmem
 * @direction: (in) P2PDMA_EDU_DIR_TO_BAR or P2PDMA_EDU_DIR_FROM_BAR
 * @flags: (in) P2PDMA_EDU_XFER_F_* bits; unknown bits give -EINVAL
 * @length: (in) bytes to move, 1..P2PDMA_EDU_MAX_LEN
 * @offset: (in) offset into the p2pmem buffer;
 *	@offset + @length <= P2PDMA_EDU_P2PMEM_SIZE
 * @buf: (in/out) user pointer to @length bytes. In: the pattern (ignored
 *	with P2PDMA_EDU_XFER_F_NO_CPU_FILL). Out: the bytes that arrived at
 *	the destination (TO_BAR: read back from p2pmem by the CPU; FROM_BAR:
 *	what the edu DMA wrote into RAM). Untouched when the ioctl fails.
 * @dma_addr: (out) DMA address of p2pmem + @offset as seen by the edu
 * @map_type: (out) P2PDMA_EDU_MAP_* of the mapping used
 * @guard_errors: (out) destination bytes outside the transferred range
 *	that no longer hold P2PDMA_EDU_POISON (0 = no overrun)
 */
struct p2pdma_edu_transfer {
	__u32 direction;
	__u32 flags;
	__u32 length;
	__u32 offset;
	__u64 buf;
	__u64 dma_addr;
	__u32 map_type;
	__u32 guard_errors;
};

#define P2PDMA_EDU_IOC_MAGIC		0xE7
#define P2PDMA_EDU_IOC_INFO		_IOR(P2PDMA_EDU_IOC_MAGIC, 0x00, \
					     struct p2pdma_edu_info)
#define P2PDMA_EDU_IOC_TRANSFER		_IOWR(P2PDMA_EDU_IOC_MAGIC, 0x01, \
					      struct p2pdma_edu_transfer)

#endif /* _P2PDMA_EDU_UAPI_H */
