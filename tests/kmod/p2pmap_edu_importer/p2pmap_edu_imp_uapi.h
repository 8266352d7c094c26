/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pmap_edu_importer: ioctl interface of /dev/p2pmap_edu_imp, shared by the
 * test module (tests/kmod/p2pmap_edu_importer) and its kselftest
 * (tests/selftests/p2pmap_import). The module attaches the QEMU edu device
 * to p2pmap as an importer that can revalidate, imports ranges of the
 * caller's address space with p2pmap_import_create(), and moves bytes
 * between an import and a user buffer with the edu DMA engine, following
 * p2pmap's sequence protocol. Imports belong to the open file and die with
 * it. For benchmarks, MAP resolves and maps an import without any DMA and
 * reports the kernel-measured cost, and LATENCY returns the times from an
 * invalidation of an import to its next successful map. Test interface
 * only: no stability beyond P2PMAP_EDU_IMP_ABI_VERSION. Version 2 added
 * P2PMAP_EDU_IMP_F_PIN, MAP and LATENCY; everything of version 1 is
 * unchanged (STATUS reports the same flags).
 */
#ifndef _P2PMAP_EDU_IMP_UAPI_H
#define _P2PMAP_EDU_IMP_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define P2PMAP_EDU_IMP_DEVNAME		"p2pmap_edu_imp"
#define P2PMAP_EDU_IMP_ABI_VERSION	2u

/* struct p2pmap_edu_imp_create.policy (this header's numbering). */
#define P2PMAP_EDU_IMP_PREFER_P2P	0u
#define P2PMAP_EDU_IMP_REQUIRE_P2P	1u
#define P2PMAP_EDU_IMP_SYSMEM_ONLY	2u

/* struct p2pmap_edu_imp_create.flags */
#define P2PMAP_EDU_IMP_F_WRITE		0x1u /* the edu may write the range */
/*
 * Pinned mode: the import is made through the edu's second attachment,
 * which has P2PMAP_CAP_PIN_ONLY. It is mapped (pinned) once, on its first
 * READ, WRITE or MAP, and those extents are used until DESTROY: no
 * revalidation, CPU-side changes do not affect it. Only an exporter event
 * takes them away: after P2PMAP_EDU_IMP_EV_UNBIND, READ, WRITE and MAP fail
 * with -ENODEV; after P2PMAP_EDU_IMP_EV_RESET the next one pins again.
 */
#define P2PMAP_EDU_IMP_F_PIN		0x2u
#define P2PMAP_EDU_IMP_F_ALL		(P2PMAP_EDU_IMP_F_WRITE | P2PMAP_EDU_IMP_F_PIN)

/*
 * Indices of reason_pages[] and invalidations[]: this header's own
 * numbering, which the module translates p2pmap's reasons and events into.
 */
#define P2PMAP_EDU_IMP_REASON_NONE		0u
#define P2PMAP_EDU_IMP_REASON_POLICY		1u
#define P2PMAP_EDU_IMP_REASON_BAR_EXHAUSTED	2u
#define P2PMAP_EDU_IMP_REASON_NO_ROUTE		3u
#define P2PMAP_EDU_IMP_REASON_NO_KCONFIG	4u
#define P2PMAP_EDU_IMP_REASON_DMA_MASK		5u
#define P2PMAP_EDU_IMP_REASON_SYSTEM_PAGE	6u
#define P2PMAP_EDU_IMP_REASON_NR		7u
#define P2PMAP_EDU_IMP_REASON_SLOTS		8u /* array size, >= NR */

#define P2PMAP_EDU_IMP_EV_CPU		0u
#define P2PMAP_EDU_IMP_EV_EVICT		1u
#define P2PMAP_EDU_IMP_EV_MOVE		2u
#define P2PMAP_EDU_IMP_EV_RESET		3u
#define P2PMAP_EDU_IMP_EV_UNBIND	4u
#define P2PMAP_EDU_IMP_EV_REMAP		5u
#define P2PMAP_EDU_IMP_EV_NR		6u
#define P2PMAP_EDU_IMP_EV_SLOTS		8u /* array size, >= NR */

/* Limits (bytes). */
#define P2PMAP_EDU_IMP_MAX_IMPORT	(64ull << 20) /* one import */
#define P2PMAP_EDU_IMP_MAX_XFER		(256u << 10) /* one READ or WRITE */
/*
 * Default limit of live imports per open file. The limit in force is the
 * module parameter max_imports_per_file (1 .. 1048576, read-only after
 * load, in /sys/module/p2pmap_edu_importer/parameters/); CREATE beyond it
 * fails with -ENOSPC.
 */
#define P2PMAP_EDU_IMP_MAX_PER_FILE	256u
/* Latency samples kept per open file until LATENCY collects them. */
#define P2PMAP_EDU_IMP_LAT_SLOTS	256u

/* struct p2pmap_edu_imp_status.flags */
#define P2PMAP_EDU_IMP_S_BOUND		0x1u /* an edu device is bound */
#define P2PMAP_EDU_IMP_S_ATTACHED	0x2u /* and attached to p2pmap */
#define P2PMAP_EDU_IMP_S_WEDGED		0x4u /* an edu DMA timed out */

#define P2PMAP_EDU_IMP_NAME_LEN		32

/**
 * struct p2pmap_edu_imp_status - the module's state (output only)
 * @abi_version: P2PMAP_EDU_IMP_ABI_VERSION
 * @flags: P2PMAP_EDU_IMP_S_* bits
 * @live_imports: imports alive in all open files together
 * @reserved: 0
 * @dma_count: edu DMA commands issued since the device was bound
 * @edu: PCI name of the bound edu device ("" if none)
 */
struct p2pmap_edu_imp_status {
	__u32 abi_version;
	__u32 flags;
	__u32 live_imports;
	__u32 reserved;
	__u64 dma_count;
	char edu[P2PMAP_EDU_IMP_NAME_LEN];
};

/**
 * struct p2pmap_edu_imp_create - import a range of the caller's memory
 * @va: (in) page-aligned start address in the calling process
 * @len: (in) page-aligned length, 1 page .. P2PMAP_EDU_IMP_MAX_IMPORT
 * @policy: (in) P2PMAP_EDU_IMP_PREFER_P2P, _REQUIRE_P2P or _SYSMEM_ONLY
 * @flags: (in) P2PMAP_EDU_IMP_F_* bits; unknown bits give -EINVAL;
 *	P2PMAP_EDU_IMP_F_PIN gives -EOPNOTSUPP when p2pmap refused the edu's
 *	pinned-mode attachment at probe (the reason is in the kernel log), and
 *	whatever p2pmap_import_create() returns for a P2PMAP_CAP_PIN_ONLY
 *	attachment
 * @id: (out) handle of the new import in this open file, never 0
 * @reserved: (in) must be 0
 *
 * Nothing is resolved or mapped until the first READ, WRITE or MAP.
 */
struct p2pmap_edu_imp_create {
	__u64 va;
	__u64 len;
	__u32 policy;
	__u32 flags;
	__u32 id;
	__u32 reserved;
};

/**
 * struct p2pmap_edu_imp_destroy - drop an import
 * @id: (in) handle from CREATE
 * @reserved: (in) must be 0
 */
struct p2pmap_edu_imp_destroy {
	__u32 id;
	__u32 reserved;
};

/**
 * struct p2pmap_edu_imp_info - one import's placement and counters
 * @id: (in) handle from CREATE
 * @nr_extents: (out) extents the import currently holds (0 after an
 *	invalidation, until the next READ, WRITE or MAP maps it again)
 * @va: (out) as created
 * @len: (out) as created
 * @policy: (out) as created
 * @flags: (out) as created (P2PMAP_EDU_IMP_F_PIN for a pinned import)
 * @p2p_pages: (out) current placement: pages mapped peer-to-peer
 * @sysmem_pages: (out) pages mapped from system memory
 * @error_pages: (out) pages the exporter could not resolve
 * @reason_pages: (out) pages per P2PMAP_EDU_IMP_REASON_* (non-P2P pages)
 * @map_calls: (out) p2pmap_import_map_and_lock() calls (a READ, WRITE or
 *	MAP calls it only when the import holds no valid extents, or MAP is
 *	forced)
 * @map_eagain: (out) of those, how many returned -EAGAIN
 * @retry_true: (out) p2pmap_import_retry() returned true for an import
 *	that had been mapped: an invalidation took its extents, so the next
 *	READ, WRITE or MAP mapped it again. (Maps use
 *	p2pmap_import_map_and_lock(), which returns with the extents valid:
 *	an invalidation racing a map makes it return -EAGAIN, counted in
 *	@map_eagain.)
 * @xfers: (out) READ and WRITE calls that moved their bytes
 * @invalidations: (out) importer invalidate callbacks per
 *	P2PMAP_EDU_IMP_EV_*
 */
struct p2pmap_edu_imp_info {
	__u32 id;
	__u32 nr_extents;
	__u64 va;
	__u64 len;
	__u32 policy;
	__u32 flags;
	__u64 p2p_pages;
	__u64 sysmem_pages;
	__u64 error_pages;
	__u64 reason_pages[P2PMAP_EDU_IMP_REASON_SLOTS];
	__u64 map_calls;
	__u64 map_eagain;
	__u64 retry_true;
	__u64 xfers;
	__u64 invalidations[P2PMAP_EDU_IMP_EV_SLOTS];
};

/**
 * struct p2pmap_edu_imp_xfer - move bytes between an import and user memory
 * @id: (in) handle from CREATE
 * @reserved: (in) must be 0
 * @offset: (in) byte offset into the import
 * @len: (in) bytes, 1..P2PMAP_EDU_IMP_MAX_XFER; @offset + @len must lie
 *	inside the import
 * @buf: (in) user buffer of @len bytes. READ: the edu reads the import
 *	and the bytes land here. WRITE: the bytes are taken from here and the
 *	edu writes them into the import (which needs P2PMAP_EDU_IMP_F_WRITE).
 *	READ leaves @buf untouched when it fails.
 */
struct p2pmap_edu_imp_xfer {
	__u32 id;
	__u32 reserved;
	__u64 offset;
	__u64 len;
	__u64 buf;
};

/* struct p2pmap_edu_imp_map.flags */
#define P2PMAP_EDU_IMP_MAP_F_FORCE	0x1u /* map again even if still valid */
#define P2PMAP_EDU_IMP_MAP_F_UNTIMED	0x2u /* read no clock: map_ns, total_ns 0 */
#define P2PMAP_EDU_IMP_MAP_F_ALL	(P2PMAP_EDU_IMP_MAP_F_FORCE | \
					 P2PMAP_EDU_IMP_MAP_F_UNTIMED)

/**
 * struct p2pmap_edu_imp_map - map an import for the edu, without any DMA
 * @id: (in) handle from CREATE
 * @flags: (in) P2PMAP_EDU_IMP_MAP_F_* bits; unknown bits give -EINVAL.
 *	P2PMAP_EDU_IMP_MAP_F_FORCE maps again even when the current extents
 *	are still valid (the new ones replace them); refused with -EINVAL for
 *	pinned imports, which are mapped once. P2PMAP_EDU_IMP_MAP_F_UNTIMED
 *	reads no clock (@map_ns and @total_ns are 0), so that a caller timing
 *	the ioctl from user space does not also time the kernel's clock reads
 *	(two ktime_get() calls: a sizeable part of a small map under
 *	emulation); an invalidation-to-revalidation sample is still taken
 *	when the import had lost its extents
 * @rounds: (out) p2pmap_import_map_and_lock() calls this MAP made: 0 when the
 *	extents were still valid (nothing mapped), more than 1 when an
 *	invalidation raced a round and it started over
 * @nr_extents: (out) extents the import holds now
 * @map_ns: (out) kernel time (ktime) of the successful round, from
 *	p2pmap_import_begin() to p2pmap_import_retry() passing under the
 *	import lock: the cost of resolving and DMA-mapping the range; 0 when
 *	@rounds is 0
 * @total_ns: (out) the same from the first round, failed rounds included
 * @p2p_pages: (out) placement now: pages mapped peer-to-peer
 * @sysmem_pages: (out) pages mapped from system memory
 * @error_pages: (out) pages the exporter could not resolve
 *
 * The same protocol as READ and WRITE run, up to the point where they
 * would program the edu. Errors as for READ, plus -EINVAL for flags.
 */
struct p2pmap_edu_imp_map {
	__u32 id;
	__u32 flags;
	__u32 rounds;
	__u32 nr_extents;
	__u64 map_ns;
	__u64 total_ns;
	__u64 p2p_pages;
	__u64 sysmem_pages;
	__u64 error_pages;
};

/**
 * struct p2pmap_edu_imp_latency - collect invalidation-to-revalidation times
 * @flags: (in) must be 0
 * @nr: (out) valid entries in @ns
 * @dropped: (out) samples lost because @ns was full, since the last call
 * @ns: (out) one sample per revalidation, oldest first: the time from
 *	the first invalidation of an import (the importer's invalidate
 *	callback, any event but P2PMAP_EDU_IMP_EV_REMAP) to the end of its
 *	next successful map (by READ, WRITE or MAP), in nanoseconds
 *
 * Samples are collected per open file, over all of its imports; the call
 * returns them and empties the file's buffer.
 */
struct p2pmap_edu_imp_latency {
	__u32 flags;
	__u32 nr;
	__u64 dropped;
	__u64 ns[P2PMAP_EDU_IMP_LAT_SLOTS];
};

#define P2PMAP_EDU_IMP_IOC_MAGIC	0xE9
#define P2PMAP_EDU_IMP_IOC_STATUS	_IOR(P2PMAP_EDU_IMP_IOC_MAGIC, 0x00, \
					     struct p2pmap_edu_imp_status)
#define P2PMAP_EDU_IMP_IOC_CREATE	_IOWR(P2PMAP_EDU_IMP_IOC_MAGIC, 0x01, \
					      struct p2pmap_edu_imp_create)
#define P2PMAP_EDU_IMP_IOC_DESTROY	_IOW(P2PMAP_EDU_IMP_IOC_MAGIC, 0x02, \
					     struct p2pmap_edu_imp_destroy)
#define P2PMAP_EDU_IMP_IOC_INFO		_IOWR(P2PMAP_EDU_IMP_IOC_MAGIC, 0x03, \
					      struct p2pmap_edu_imp_info)
#define P2PMAP_EDU_IMP_IOC_READ		_IOW(P2PMAP_EDU_IMP_IOC_MAGIC, 0x04, \
					     struct p2pmap_edu_imp_xfer)
#define P2PMAP_EDU_IMP_IOC_WRITE	_IOW(P2PMAP_EDU_IMP_IOC_MAGIC, 0x05, \
					     struct p2pmap_edu_imp_xfer)
#define P2PMAP_EDU_IMP_IOC_MAP		_IOWR(P2PMAP_EDU_IMP_IOC_MAGIC, 0x06, \
					      struct p2pmap_edu_imp_map)
#define P2PMAP_EDU_IMP_IOC_LATENCY	_IOWR(P2PMAP_EDU_IMP_IOC_MAGIC, 0x07, \
					      struct p2pmap_edu_imp_latency)

#endif /* _P2PMAP_EDU_IMP_UAPI_H */
