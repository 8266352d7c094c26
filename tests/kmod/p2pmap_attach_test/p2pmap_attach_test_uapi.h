/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pmap_attach_test: ioctl interface of /dev/p2pmap_attach_test, shared by
 * the test module (tests/kmod/p2pmap_attach_test) and its kselftest
 * (tests/selftests/p2pmap_attach). The module registers the first QEMU
 * ivshmem-plain device (BAR2) as a p2pmap provider and attaches the QEMU
 * edu device as an importer, without binding a driver to either; the
 * ioctls report p2pmap's verdict for that pair and run p2pmap's API with
 * bad arguments. Test interface only: no stability beyond
 * P2PMAP_AT_ABI_VERSION.
 */
#ifndef _P2PMAP_ATTACH_TEST_UAPI_H
#define _P2PMAP_ATTACH_TEST_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define P2PMAP_AT_DEVNAME		"p2pmap_attach_test"
#define P2PMAP_AT_ABI_VERSION		1u

/* Mirrors of p2pmap's internal enum p2pmap_route and enum p2pmap_reason. */
#define P2PMAP_AT_ROUTE_NONE		0u
#define P2PMAP_AT_ROUTE_BUS_ADDR	1u
#define P2PMAP_AT_ROUTE_HOST_BRIDGE	2u

#define P2PMAP_AT_REASON_NONE		0u
#define P2PMAP_AT_REASON_POLICY		1u
#define P2PMAP_AT_REASON_BAR_EXHAUSTED	2u
#define P2PMAP_AT_REASON_NO_ROUTE	3u
#define P2PMAP_AT_REASON_NO_KCONFIG	4u
#define P2PMAP_AT_REASON_DMA_MASK	5u
#define P2PMAP_AT_REASON_SYSTEM_PAGE	6u
#define P2PMAP_AT_REASON_NR		7u

/* struct p2pmap_at_info.flags */
#define P2PMAP_AT_F_P2PDMA_KCONFIG	0x01u /* CONFIG_PCI_P2PDMA=y */
#define P2PMAP_AT_F_HAVE_PROVIDER	0x02u /* ivshmem-plain found */
#define P2PMAP_AT_F_HAVE_IMPORTER	0x04u /* edu found */
#define P2PMAP_AT_F_REGISTERED		0x08u /* provider registered */
#define P2PMAP_AT_F_ATTACHED		0x10u /* importer attached */

/* The fake aperture the test provider reports (bytes). */
#define P2PMAP_AT_AP_USED		(3u * 4096u)
#define P2PMAP_AT_AP_PINNED		4096u
#define P2PMAP_AT_AP_DEVICE_TOTAL	0x40000000ull /* 1 GiB */

#define P2PMAP_AT_NAME_LEN		32
#define P2PMAP_AT_PATH_LEN		192

/**
 * struct p2pmap_at_info - the pair and its verdict (output only)
 * @abi_version: P2PMAP_AT_ABI_VERSION
 * @flags: P2PMAP_AT_F_* bits
 * @verdict_ret: 0 or the negative errno of p2pmap_attach_verdict()
 * @route: P2PMAP_AT_ROUTE_*
 * @reason: P2PMAP_AT_REASON_*
 * @distance: the verdict's pci_p2pdma_distance(), -1 if not computed
 * @verdict_same: a second verdict query returned the same values (cache)
 * @reserved: 0
 * @bus_offset: the verdict's bus address minus CPU physical address
 * @dma_mask: the edu's DMA mask at attach time
 * @bar_start: CPU physical address of the provider's BAR2
 * @bar_bus: PCI bus address of the provider's BAR2
 * @bar_len: length of BAR2
 * @ap_total: aperture total the provider reports (= @bar_len)
 * @provider: PCI name of the provider
 * @importer: PCI name of the importer
 * @reason_name: p2pmap's name for @reason
 * @sysfs_dir: the provider's sysfs group directory, /sys/.../p2pmap
 */
struct p2pmap_at_info {
	__u32 abi_version;
	__u32 flags;
	__s32 verdict_ret;
	__u32 route;
	__u32 reason;
	__s32 distance;
	__u32 verdict_same;
	__u32 reserved;
	__s64 bus_offset;
	__u64 dma_mask;
	__u64 bar_start;
	__u64 bar_bus;
	__u64 bar_len;
	__u64 ap_total;
	char provider[P2PMAP_AT_NAME_LEN];
	char importer[P2PMAP_AT_NAME_LEN];
	char reason_name[P2PMAP_AT_NAME_LEN];
	char sysfs_dir[P2PMAP_AT_PATH_LEN];
};

/* struct p2pmap_at_case.id: one call of p2pmap's API each */
enum p2pmap_at_case_id {
	P2PMAP_AT_REG_NULL_DESC = 1,	/* register(NULL) */
	P2PMAP_AT_REG_NULL_OPS,		/* desc.ops = NULL */
	P2PMAP_AT_REG_NO_MAP,		/* ops without p2p_map */
	P2PMAP_AT_REG_NO_UNMAP,		/* ops without p2p_unmap */
	P2PMAP_AT_REG_NO_APERTURE,	/* ops without aperture */
	P2PMAP_AT_REG_NULL_NAME,	/* desc.name = NULL */
	P2PMAP_AT_REG_EMPTY_NAME,	/* desc.name = "" */
	P2PMAP_AT_REG_NULL_DEV,		/* desc.dev = NULL */
	P2PMAP_AT_REG_NULL_OWNER,	/* desc.owner = NULL */
	P2PMAP_AT_REG_BAD_BAR,		/* desc.bar = 6 */
	P2PMAP_AT_REG_EMPTY_BAR,	/* desc.bar = 1 (ivshmem-plain: none) */
	P2PMAP_AT_REG_DUP_DEV,		/* second provider on the ivshmem */
	P2PMAP_AT_ATT_NULL_DEV,		/* attach(NULL, ...) */
	P2PMAP_AT_ATT_NO_CAPS,		/* caps 0 */
	P2PMAP_AT_ATT_BOTH_CAPS,	/* REVALIDATE | PIN_ONLY */
	P2PMAP_AT_ATT_UNKNOWN_CAPS,	/* REVALIDATE | 0x100 */
	P2PMAP_AT_ATT_REVAL_NULL_OPS,	/* REVALIDATE, ops NULL */
	P2PMAP_AT_ATT_REVAL_NO_INVAL,	/* REVALIDATE, ops->invalidate NULL */
	P2PMAP_AT_ATT_PIN_NULL_OPS,	/* PIN_ONLY, ops NULL: must succeed */
	P2PMAP_AT_BIND_TWICE,		/* bind one mapping twice: -EBUSY */
	P2PMAP_AT_BIND_OTHER,		/* bind it to a second provider: -EBUSY */
	P2PMAP_AT_BIND_FIND,		/* bind, find, unbind, find: 0 if right */
	P2PMAP_AT_COUNT_FALLBACK,	/* count 5 policy fallback pages: 0 */
	P2PMAP_AT_NOBAR_VERDICT,	/* provider without pdev: @reason */
	P2PMAP_AT_DMA_MASK_VERDICT,	/* attach with a 32-bit mask: @reason */
	P2PMAP_AT_CASE_NR,
};

/**
 * struct p2pmap_at_case - run one API case
 * @id: (in) enum p2pmap_at_case_id
 * @result: (out) 0 on success, or the negative errno p2pmap returned
 * @route: (out) verdict cases: P2PMAP_AT_ROUTE_*
 * @reason: (out) verdict cases: P2PMAP_AT_REASON_*
 */
struct p2pmap_at_case {
	__u32 id;
	__s32 result;
	__u32 route;
	__u32 reason;
};

#define P2PMAP_AT_IOC_MAGIC		0xE8
#define P2PMAP_AT_IOC_INFO		_IOR(P2PMAP_AT_IOC_MAGIC, 0x00, \
					     struct p2pmap_at_info)
#define P2PMAP_AT_IOC_CASE		_IOWR(P2PMAP_AT_IOC_MAGIC, 0x01, \
					      struct p2pmap_at_case)
/* Unregister the provider and detach the importer (before rmmod). */
#define P2PMAP_AT_IOC_TEARDOWN		_IO(P2PMAP_AT_IOC_MAGIC, 0x02)

#endif /* _P2PMAP_ATTACH_TEST_UAPI_H */
