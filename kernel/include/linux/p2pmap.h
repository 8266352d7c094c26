/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap: vendor-neutral peer-to-peer mapping of device memory.
 *
 * This header is the whole public API of p2pmap.ko; its DOC: sections
 * (Overview, Exporter contract, Importer protocol, Locking, Lifetime) are
 * the rules every other comment and document refers to.
 */
#ifndef _LINUX_P2PMAP_H
#define _LINUX_P2PMAP_H

#include <linux/err.h>
#include <linux/kref.h>
#include <linux/types.h>

/*
 * P2PMAP_API_VERSION: the version of the in-kernel API in this header.
 * Exporters and importers built outside the tree test it at build time,
 * e.g. "#if P2PMAP_API_VERSION >= 2" before using something added in 2.
 * It is raised by one whenever a function, struct member, flag or
 * capability is added or its meaning changes; the symbols themselves are
 * checked by modpost against Module.symvers (CRCs with MODVERSIONS).
 * Version 1: the API of p2pmap 0.1.
 */
#define P2PMAP_API_VERSION	1

struct address_space;
struct dev_pagemap;
struct device;
struct module;
struct mm_struct;
struct page;
struct pci_dev;
struct p2pmap_attach;
struct p2pmap_import;
struct sg_table;
struct p2pmap_provider;

/**
 * DOC: Overview
 *
 * p2pmap lets an importer device (an RDMA NIC, another GPU's copy engine)
 * DMA to a user virtual address range whatever memory backs it: the
 * peer-visible BAR of an exporter's device, device-private memory an
 * exporter migrated there with HMM, or ordinary system memory. Exporters
 * (GPU and accelerator drivers) register a &struct p2pmap_provider and
 * resolve their memory into typed extents (&struct p2pmap_extent) through
 * &struct p2pmap_provider_ops. Importers attach once per device with
 * p2pmap_attach() and import ranges with p2pmap_import_create(); the core
 * decides per (importer, provider) pair whether a peer-to-peer route
 * exists, does every DMA mapping for the importer's device, falls back to
 * system memory page by page when the peer window is exhausted or there
 * is no route (and says why, &enum p2pmap_reason), and drives one
 * invalidation and sequence protocol for CPU-side and exporter-side
 * events alike. Any range p2pmap can import also becomes a dma-buf
 * (p2pmap_dmabuf_export() in linux/p2pmap-dmabuf.h; for userspace the
 * EXPORT_RANGE ioctl of /dev/p2pmap, uapi/linux/p2pmap.h), which
 * dynamic importers revalidate and revocable pinned importers see revoked.
 * The design and its reasons are in docs/design.md; the
 * exporter and importer guides are docs/exporter-guide.md and
 * docs/importer-guide.md.
 */

/**
 * DOC: Exporter contract
 *
 * An exporter registers with p2pmap_provider_register() and binds the
 * address spaces its memory is mmapped through with
 * p2pmap_provider_bind_mapping(); device-private memory is added with
 * p2pmap_provider_add_pagemap(), its pagemap's owner being
 * p2pmap_pagemap_owner().
 *
 * ops->p2p_map() resolves pages of a bound address space, and
 * ops->p2p_map_pages() device-private pages, into extents: peer-to-peer
 * only where %P2PMAP_REQ_P2P_OK says the core found a route, system
 * memory (or, from p2p_map_pages(), %P2PMAP_EXT_MIGRATE) otherwise, with
 * a reason for every page that did not go peer-to-peer. Both are called
 * with the mm's mmap_lock held for read and no p2pmap lock held, so they
 * may allocate, migrate and evict, and may call
 * p2pmap_provider_invalidate() from inside for pages of the same request.
 * ops->p2p_unmap() gets every request back unchanged; it may run under an
 * import's lock, from reclaim, so it must not allocate with
 * __GFP_RECLAIM nor wait for anything that waits for an import's lock.
 *
 * Before the exporter moves, evicts or frees memory it handed out, it
 * calls p2pmap_provider_invalidate() (or p2pmap_provider_invalidate_pages()
 * for device-private pages): when that returns, no importer can reach the
 * old location. Pinned requests (%P2PMAP_REQ_PIN) must not be moved or
 * evicted; only reset and unbind take them back.
 *
 * Device-private pages: the core's hmm_range_fault() reports the pages of
 * every p2pmap provider instead of migrating them, finds the provider from
 * the page's pagemap and asks its ops->p2p_map_pages(). Pages it cannot
 * place come back as %P2PMAP_EXT_MIGRATE: the core migrates exactly those
 * pages to system memory (a fault through the exporter's migrate_to_ram(),
 * mmap_lock taken anew, no p2pmap lock held) and the map starts over, after
 * which they are system memory extents flagged %P2PMAP_EXT_F_MIGRATED with
 * the exporter's reason. A read-only device-private page in an import that
 * writes is moved the same way, which breaks copy-on-write as a CPU write
 * would. Migrations reach importers through their interval notifier, so an
 * exporter's own notifier must not ignore %MMU_NOTIFY_MIGRATE events by
 * owner alone (the owner is shared by every provider).
 */

/**
 * DOC: Importer protocol
 *
 * Every importer maps with p2pmap_import_map_and_lock(), which resolves,
 * DMA-maps and installs the range and, on success, returns with the
 * import's lock held and the extents valid:
 *
 *	again:
 *		seq = p2pmap_import_begin(imp);
 *		err = p2pmap_import_map_and_lock(imp, &seq);
 *		if (err == -EAGAIN)
 *			goto again;		(bound this loop)
 *		if (err)
 *			return err;
 *		ext = p2pmap_import_extents(imp, &n);
 *		program the device from ext[0..n);
 *		p2pmap_import_unlock(imp);
 *
 * An invalidation of any origin (munmap, migration, fork/COW, or the
 * exporter's eviction, BAR defragmentation, reset or unbind) takes the
 * import's lock, bumps the sequence, calls the importer's
 * ops->invalidate() (which must stop device access before it returns),
 * and then unmaps the DMA addresses. An importer that looks at its
 * mapping later (a device page fault, say) takes p2pmap_import_lock() and
 * checks p2pmap_import_retry() against the snapshot it mapped with before
 * it trusts the extents. A %P2PMAP_CAP_PIN_ONLY importer gets a pinned
 * import: mapped once, kept until destroy or until the exporter resets or
 * unbinds.
 */

/**
 * DOC: Locking
 *
 * Every lock of p2pmap.ko, and the kernel's it nests with, outermost
 * first; a lock is only ever taken while holding locks above it:
 *
 * 1. &p2pmap_dmabuf.refresh_lock (mutex, dmabuf.c): around a refresh of a
 *    range dma-buf, and attach and detach around its list changes.
 * 2. mmap_lock (read): taken by the core around the VMA walk and the
 *    exporter calls of p2pmap_import_map_and_lock().
 * 3. The dma-buf reservation lock (dmabuf.c's worker only, after it
 *    resolved).
 * 4. p2pmap_registry_lock (mutex, provider.c): registry membership.
 * 5. p2pmap_all_imports_lock (mutex, import.c): the list of live imports
 *    debugfs prints.
 * 6. provider->lock (mutex): a provider's state, bound mappings, linked
 *    imports and resolves in flight.
 * 7. import->lock (mutex): an import's "notifier lock". The core takes it
 *    in the mmu-notifier callback, so from reclaim: nothing allocates with
 *    __GFP_RECLAIM under it (lockdep is told so at p2pmap_import_create()).
 *    Exporter events take it under provider->lock; importers take it with
 *    p2pmap_import_lock() and it is held when ops->invalidate() and
 *    ops->p2p_unmap() run.
 * 8. Leaf spinlocks, never nested with each other: provider->itree_lock
 *    (under import->lock or provider->lock), p2pmap_bind_lock (object.c,
 *    under provider->lock), p2pmap_pagemaps_lock (pagemap.c, under
 *    provider->lock), &p2pmap_dmabuf.lock (dmabuf.c, under the reservation
 *    lock or import->lock).
 *
 * &p2pmap_dmabuf.reap_lock (mutex, dmabuf.c) is never held with another
 * lock. The exporter's ops->p2p_map() and ops->p2p_map_pages() run under
 * mmap_lock only; ops->aperture() under none.
 */

/**
 * DOC: Lifetime
 *
 * - &struct p2pmap_provider is refcounted (p2pmap_provider_get() and
 *   p2pmap_provider_put()): the exporter holds the first reference until
 *   p2pmap_provider_unregister(); every bound address space, every import
 *   linked to the provider and every resolve in flight holds one. The
 *   exporter calls p2pmap_provider_unregister() before its code or memory
 *   goes away (from remove() or module exit): it revokes every import
 *   synchronously, after which the core never calls the ops again.
 * - p2pmap holds no reference on the exporter's module
 *   (&p2pmap_provider_desc.owner): unregister is what keeps the ops
 *   valid, so rmmod of an exporter with live imports revokes them instead
 *   of failing.
 * - &struct p2pmap_attach is the importer's; it holds a reference on the
 *   importer's &struct device and caches one P2P verdict per provider.
 *   Imports must be destroyed before p2pmap_detach().
 * - &struct p2pmap_import holds its attachment and, through a link, every
 *   provider whose memory it may hold, until p2pmap_import_destroy() or
 *   the provider's revoke.
 */

/**
 * enum p2pmap_extent_type - what kind of memory an extent resolved to
 * @P2PMAP_EXT_NONE: not resolved (never handed to importers)
 * @P2PMAP_EXT_P2P: peer-visible device memory: @phys is a CPU physical
 *	address inside a PCI BAR of the provider's device
 * @P2PMAP_EXT_SYSMEM: system memory: @page is the first of @npages
 *	physically contiguous pages, each referenced by the exporter until
 *	ops->p2p_unmap()
 * @P2PMAP_EXT_ERROR: the exporter could not resolve this extent;
 *	@error holds the negative errno
 * @P2PMAP_EXT_MIGRATE: only from ops->p2p_map_pages(): these
 *	device-private pages cannot be mapped peer-to-peer (@reason says
 *	why); the core migrates exactly them to system memory and maps them
 *	from there. Never handed to importers.
 */
enum p2pmap_extent_type {
	P2PMAP_EXT_NONE = 0,
	P2PMAP_EXT_P2P,
	P2PMAP_EXT_SYSMEM,
	P2PMAP_EXT_ERROR,
	P2PMAP_EXT_MIGRATE,
};

/**
 * enum p2pmap_reason - why an extent is not peer-to-peer
 * @P2PMAP_REASON_NONE: it is P2P, or no reason applies
 * @P2PMAP_REASON_POLICY: the import asked for %P2PMAP_SYSMEM_ONLY
 * @P2PMAP_REASON_BAR_EXHAUSTED: the exporter's peer window was full and
 *	nothing in it could be evicted (all pinned or inside the minimum
 *	residency time)
 * @P2PMAP_REASON_NO_ROUTE: pci_p2pdma_distance() says the importer cannot
 *	reach the provider's BAR
 * @P2PMAP_REASON_NO_KCONFIG: the kernel was built without
 *	CONFIG_PCI_P2PDMA, so no route can be checked
 * @P2PMAP_REASON_DMA_MASK: the BAR lies above the importer's DMA mask
 * @P2PMAP_REASON_SYSTEM_PAGE: the memory was system memory to begin with
 * @P2PMAP_REASON_NR: number of reasons
 */
enum p2pmap_reason {
	P2PMAP_REASON_NONE = 0,
	P2PMAP_REASON_POLICY,
	P2PMAP_REASON_BAR_EXHAUSTED,
	P2PMAP_REASON_NO_ROUTE,
	P2PMAP_REASON_NO_KCONFIG,
	P2PMAP_REASON_DMA_MASK,
	P2PMAP_REASON_SYSTEM_PAGE,
	P2PMAP_REASON_NR,
};

/**
 * enum p2pmap_policy - where an import may place its memory
 * @P2PMAP_PREFER_P2P: peer-to-peer where possible; otherwise fall back to
 *	system memory page by page and report each fallback (the default)
 * @P2PMAP_REQUIRE_P2P: fail with a clear errno (-EREMOTEIO without a route,
 *	-ENOSPC when the window is exhausted) instead of falling back
 * @P2PMAP_SYSMEM_ONLY: never use peer-to-peer
 */
enum p2pmap_policy {
	P2PMAP_PREFER_P2P = 0,
	P2PMAP_REQUIRE_P2P,
	P2PMAP_SYSMEM_ONLY,
};

/**
 * enum p2pmap_event - origin of an invalidation
 * @P2PMAP_EV_CPU: the CPU side: munmap, mprotect, migration, fork/COW
 *	(delivered through the import's mmu interval notifier)
 * @P2PMAP_EV_EVICT: the exporter evicted memory from its peer window
 * @P2PMAP_EV_MOVE: the exporter moved memory (e.g. BAR defragmentation)
 * @P2PMAP_EV_RESET: the exporter's device was reset
 * @P2PMAP_EV_UNBIND: the exporter's device is going away; imports of it
 *	fail with -ENODEV from then on
 * @P2PMAP_EV_REMAP: p2pmap_import_map_and_lock() is replacing extents that were
 *	still installed; the importer stops using the old ones
 * @P2PMAP_EV_NR: number of events
 */
enum p2pmap_event {
	P2PMAP_EV_CPU = 0,
	P2PMAP_EV_EVICT,
	P2PMAP_EV_MOVE,
	P2PMAP_EV_RESET,
	P2PMAP_EV_UNBIND,
	P2PMAP_EV_REMAP,
	P2PMAP_EV_NR,
};

#define P2PMAP_EXT_F_WRITE	0x1	/* the importer may write the extent */
/*
 * A %P2PMAP_EXT_SYSMEM extent of pages that were device-private and that
 * p2pmap migrated to system memory because the provider could not map
 * them peer-to-peer (@reason is the provider's).
 */
#define P2PMAP_EXT_F_MIGRATED	0x2

/**
 * struct p2pmap_extent - one typed, contiguous piece of an import
 * @type: enum p2pmap_extent_type
 * @reason: enum p2pmap_reason: why a %P2PMAP_EXT_SYSMEM or
 *	%P2PMAP_EXT_ERROR extent is not P2P
 * @order: log2 of the page size backing the extent (0: 4 KiB pages,
 *	9: 2 MiB pages), so large pages map as one extent
 * @flags: P2PMAP_EXT_F_* bits
 * @error: negative errno for %P2PMAP_EXT_ERROR, else 0
 * @npages: length in PAGE_SIZE pages
 * @phys: %P2PMAP_EXT_P2P: CPU physical address of the first byte
 * @page: %P2PMAP_EXT_SYSMEM: first page
 * @dma_addr: address of the first byte for the importer's device, set by
 *	the core (bus address through a switch, or the result of
 *	dma_map_resource()/dma_map_page()); never set by exporters. Like an
 *	RDMA memory region, the mapping is long-lived and shared with the CPU,
 *	so it is made with DMA_ATTR_SKIP_CPU_SYNC: on platforms without cache
 *	coherent DMA the importer syncs around its transfers, in the
 *	direction of the mapping (%DMA_BIDIRECTIONAL for an import created
 *	for writing by p2pmap_import_create(), %DMA_TO_DEVICE otherwise)
 *
 * Exporters fill everything but @dma_addr. Importers read extents only
 * between p2pmap_import_lock() and p2pmap_import_unlock() after a
 * successful p2pmap_import_retry() check.
 */
struct p2pmap_extent {
	u8 type;
	u8 reason;
	u8 order;
	u8 flags;
	int error;
	unsigned long npages;
	union {
		phys_addr_t phys;
		struct page *page;
	};
	dma_addr_t dma_addr;
};

/*
 * &struct p2pmap_map_req.flags:
 * %P2PMAP_REQ_WRITE: the importer needs write access.
 * %P2PMAP_REQ_P2P_OK: the core found a usable route from the importer to
 *	this provider and the policy allows P2P; without it the exporter must
 *	return %P2PMAP_EXT_SYSMEM extents (or fail).
 * %P2PMAP_REQ_REQUIRE_P2P: fail with -ENOSPC rather than falling back to
 *	system memory.
 * %P2PMAP_REQ_PIN: the importer cannot revalidate (%P2PMAP_CAP_PIN_ONLY):
 *	keep the memory of every returned extent where it is until
 *	p2p_unmap() of this request, and keep it alive even if the CPU mapping
 *	goes away; the exporter must not evict or move pinned pages, never
 *	raises %P2PMAP_EV_EVICT or %P2PMAP_EV_MOVE for them, and counts them
 *	in &struct p2pmap_aperture.pinned.
 */
#define P2PMAP_REQ_WRITE		0x1
#define P2PMAP_REQ_P2P_OK		0x2
#define P2PMAP_REQ_REQUIRE_P2P		0x4
#define P2PMAP_REQ_PIN			0x8

/**
 * struct p2pmap_map_req - one resolve request from the core to an exporter
 * @attach: the importer the range is resolved for; its P2P verdict for this
 *	provider is %P2PMAP_REQ_P2P_OK in @flags
 * @mapping: the exporter's address space the range lies in (bound with
 *	p2pmap_provider_bind_mapping()); NULL for ops->p2p_map_pages()
 * @pgoff: first page of the range, in @mapping's page offsets; 0 for
 *	ops->p2p_map_pages()
 * @pages: ops->p2p_map_pages() only: @npages device-private pages of the
 *	provider (of a pagemap added with p2pmap_provider_add_pagemap()), in
 *	the order of the importer's virtual addresses; their pfns need not be
 *	contiguous. Valid until the matching ops->p2p_unmap(). NULL for
 *	ops->p2p_map()
 * @npages: pages requested
 * @flags: P2PMAP_REQ_* bits
 * @span_first: first page offset of @mapping that the same import resolves
 *	in this p2pmap_import_map_and_lock() call (@pgoff lies in the span)
 * @span_last: last page offset of that span (inclusive). Evicting pages of
 *	the span to make room for this request would invalidate the import
 *	being resolved and make it start over, so an exporter prefers other
 *	victims and falls back to system memory when there are none
 * @ext: array the exporter fills
 * @max_ext: entries available in @ext
 * @nr_ext: entries the exporter filled
 * @priv: exporter-private cookie kept with the extents until p2p_unmap()
 */
struct p2pmap_map_req {
	const struct p2pmap_attach *attach;
	struct address_space *mapping;
	pgoff_t pgoff;
	struct page **pages;
	unsigned long npages;
	unsigned int flags;
	pgoff_t span_first;
	pgoff_t span_last;
	struct p2pmap_extent *ext;
	unsigned int max_ext;
	unsigned int nr_ext;
	void *priv;
};

/**
 * struct p2pmap_aperture - peer window usage of a provider, in bytes
 * @total: size of the peer-visible window (the BAR)
 * @used: bytes holding resident pages
 * @pinned: bytes pinned by importers that cannot revalidate
 * @free: bytes free
 * @device_total: total device memory, of which the window is a part
 */
struct p2pmap_aperture {
	u64 total;
	u64 used;
	u64 pinned;
	u64 free;
	u64 device_total;
};

/**
 * struct p2pmap_provider_ops - what an exporter implements
 * @p2p_map: resolve @req->npages pages from @req->pgoff into typed extents
 *	in @req->ext, at most @req->max_ext of them. Return the number of
 *	pages resolved (at least one; the core calls again for the rest), or
 *	a negative errno for the whole request. Called with the mm's
 *	mmap_lock held for read and no p2pmap lock held; may sleep. An
 *	event it raises (p2pmap_provider_invalidate()) for pages of this
 *	request, e.g. moving a page out of the window for an importer
 *	without a route, must come before it records their extents; such an
 *	event does not make the import start over. It must never evict or
 *	move a page it already recorded in @req.
 * @p2p_unmap: release what one p2p_map() call took (window slot holds,
 *	page references, pins), given the same @req and extents. May be
 *	called with import->lock and provider->lock held, and for revalidating
 *	imports from the mmu notifier (reclaim): it must not allocate with
 *	__GFP_RECLAIM, nor take a lock the exporter holds around
 *	p2pmap_provider_invalidate(); exporters that must take such a lock to
 *	release pins defer that to a work item prepared in p2p_map()
 * @aperture: report peer window usage; may be called from sysfs at any
 *	time while the provider is registered
 * @p2p_map_pages: resolve @req->npages device-private pages
 *	(@req->pages, see &struct p2pmap_map_req) that the core found in an
 *	importer's range, with the same contract as @p2p_map: place a page
 *	in the peer window and return a %P2PMAP_EXT_P2P extent for it, or a
 *	%P2PMAP_EXT_MIGRATE extent with a reason (window exhausted, no
 *	route, policy) for pages that must move to system memory instead;
 *	under %P2PMAP_REQ_REQUIRE_P2P return -ENOSPC rather than such extents
 *	when the window is exhausted. A window slot returned here is held
 *	until ops->p2p_unmap(); to take it back earlier the exporter calls
 *	p2pmap_provider_invalidate_pages() first. Needed only by exporters
 *	that add a device-private pagemap.
 */
struct p2pmap_provider_ops {
	int (*p2p_map)(struct p2pmap_provider *prov, struct p2pmap_map_req *req);
	int (*p2p_map_pages)(struct p2pmap_provider *prov,
			     struct p2pmap_map_req *req);
	void (*p2p_unmap)(struct p2pmap_provider *prov, struct p2pmap_map_req *req);
	void (*aperture)(struct p2pmap_provider *prov, struct p2pmap_aperture *ap);
};

/**
 * struct p2pmap_provider_desc - how an exporter describes its device
 * @name: short name for logs, sysfs and debugfs
 * @dev: the exporter's device; sysfs files appear under it
 * @pdev: the PCI function owning the peer-visible BAR, for the route
 *	check, or NULL when peers can never reach the memory directly
 * @bar: index of that BAR
 * @owner: the exporter module (THIS_MODULE), required; named in the
 *	registration log. p2pmap holds no reference on it: see DOC: Lifetime
 * @ops: the exporter's callbacks
 * @priv: exporter-private pointer, returned by p2pmap_provider_priv()
 */
struct p2pmap_provider_desc {
	const char *name;
	struct device *dev;
	struct pci_dev *pdev;
	int bar;
	struct module *owner;
	const struct p2pmap_provider_ops *ops;
	void *priv;
};

/* Importer capabilities for p2pmap_attach(). */
#define P2PMAP_CAP_REVALIDATE	0x1	/* takes invalidations, remaps on demand */
#define P2PMAP_CAP_PIN_ONLY	0x2	/* cannot stop DMA in bounded time: pin */

/**
 * struct p2pmap_importer_ops - what an importer implements
 * @invalidate: stop every device access to @imp's current extents before
 *	returning. Called with import->lock held, possibly from reclaim: no
 *	allocation, no waiting for anything that allocates.
 */
struct p2pmap_importer_ops {
	void (*invalidate)(struct p2pmap_import *imp, enum p2pmap_event ev);
};

/**
 * struct p2pmap_seq - an import's sequence snapshot
 * @mmu: mmu_interval_read_begin() value of the import's notifier
 * @gen: exporter-event generation of the import
 *
 * Opaque to importers: take it with p2pmap_import_begin() and check it
 * with p2pmap_import_retry().
 */
struct p2pmap_seq {
	unsigned long mmu;
	unsigned long gen;
};

/**
 * struct p2pmap_placement - where an import's pages landed
 * @p2p_pages: pages mapped peer-to-peer
 * @sysmem_pages: pages mapped from system memory
 * @error_pages: pages the exporter could not resolve
 * @migrated_pages: of @sysmem_pages, pages that were device-private and
 *	that p2pmap migrated to system memory because they could not be
 *	peer-mapped (their reason is the exporter's, e.g. window exhausted)
 * @reason_pages: pages per enum p2pmap_reason (fallbacks and errors)
 */
struct p2pmap_placement {
	unsigned long p2p_pages;
	unsigned long sysmem_pages;
	unsigned long error_pages;
	unsigned long migrated_pages;
	unsigned long reason_pages[P2PMAP_REASON_NR];
};

/*
 * The calls below exist when p2pmap is built (CONFIG_P2PMAP, or
 * CONFIG_P2PMAP_MODULE, which p2pmap's own Kbuild files define; an
 * out-of-tree driver built against p2pmap.ko defines it too).
 */
#if IS_ENABLED(CONFIG_P2PMAP)

/* Exporter API. */
struct p2pmap_provider *p2pmap_provider_register(const struct p2pmap_provider_desc *desc);
void p2pmap_provider_unregister(struct p2pmap_provider *prov);
void p2pmap_provider_get(struct p2pmap_provider *prov);
void p2pmap_provider_put(struct p2pmap_provider *prov);
void *p2pmap_provider_priv(const struct p2pmap_provider *prov);
int p2pmap_provider_bind_mapping(struct p2pmap_provider *prov,
				 struct address_space *mapping);
void p2pmap_provider_unbind_mapping(struct p2pmap_provider *prov,
				    struct address_space *mapping);
void p2pmap_provider_invalidate(struct p2pmap_provider *prov,
				struct address_space *mapping, pgoff_t first,
				pgoff_t last, enum p2pmap_event ev);

/* Exporter API for device-private memory (CONFIG_DEVICE_PRIVATE). */
void *p2pmap_pagemap_owner(void);
int p2pmap_provider_add_pagemap(struct p2pmap_provider *prov,
				struct dev_pagemap *pgmap);
void p2pmap_provider_remove_pagemap(struct p2pmap_provider *prov,
				    struct dev_pagemap *pgmap);
void p2pmap_provider_invalidate_pages(struct p2pmap_provider *prov,
				      unsigned long pfn, unsigned long npages,
				      enum p2pmap_event ev);

/* Importer API. */
struct p2pmap_attach *p2pmap_attach(struct device *importer,
				    const struct p2pmap_importer_ops *ops,
				    unsigned long caps);
void p2pmap_detach(struct p2pmap_attach *attach);
bool p2pmap_pci_route_direct(struct pci_dev *provider, struct pci_dev *client);

struct p2pmap_import *p2pmap_import_create(struct p2pmap_attach *attach,
					   struct mm_struct *mm,
					   unsigned long start,
					   unsigned long length,
					   enum p2pmap_policy policy,
					   bool write, void *importer_priv);
void p2pmap_import_destroy(struct p2pmap_import *imp);
void *p2pmap_import_priv(const struct p2pmap_import *imp);
struct p2pmap_seq p2pmap_import_begin(struct p2pmap_import *imp);
int p2pmap_import_map_and_lock(struct p2pmap_import *imp,
			       const struct p2pmap_seq *seq);
void p2pmap_import_lock(struct p2pmap_import *imp) __acquires(imp);
void p2pmap_import_unlock(struct p2pmap_import *imp) __releases(imp);
bool p2pmap_import_retry(struct p2pmap_import *imp, const struct p2pmap_seq *seq);
const struct p2pmap_extent *p2pmap_import_extents(struct p2pmap_import *imp,
						  unsigned int *nr);
void p2pmap_import_placement(struct p2pmap_import *imp,
			     struct p2pmap_placement *out);
void p2pmap_import_placement_locked(struct p2pmap_import *imp,
				    struct p2pmap_placement *out);
int p2pmap_import_dma_sgt_nents(struct p2pmap_import *imp,
				unsigned int max_seg);
int p2pmap_import_fill_dma_sgt(struct p2pmap_import *imp,
			       struct sg_table *sgt, unsigned int max_seg);

#else /* !CONFIG_P2PMAP */

/*
 * Without p2pmap (as pci-p2pdma.h does without CONFIG_PCI_P2PDMA): an
 * exporter's registration and an importer's attach fail with -EOPNOTSUPP,
 * so a driver keeps its own paths; nothing else can be reached without
 * them.
 */
static inline struct p2pmap_provider *
p2pmap_provider_register(const struct p2pmap_provider_desc *desc)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void p2pmap_provider_unregister(struct p2pmap_provider *prov)
{
}

static inline void p2pmap_provider_get(struct p2pmap_provider *prov)
{
}

static inline void p2pmap_provider_put(struct p2pmap_provider *prov)
{
}

static inline void *p2pmap_provider_priv(const struct p2pmap_provider *prov)
{
	return NULL;
}

static inline int p2pmap_provider_bind_mapping(struct p2pmap_provider *prov,
					       struct address_space *mapping)
{
	return -EOPNOTSUPP;
}

static inline void
p2pmap_provider_unbind_mapping(struct p2pmap_provider *prov,
			       struct address_space *mapping)
{
}

static inline void p2pmap_provider_invalidate(struct p2pmap_provider *prov,
					      struct address_space *mapping,
					      pgoff_t first, pgoff_t last,
					      enum p2pmap_event ev)
{
}

static inline void *p2pmap_pagemap_owner(void)
{
	return NULL;
}

static inline int p2pmap_provider_add_pagemap(struct p2pmap_provider *prov,
					      struct dev_pagemap *pgmap)
{
	return -EOPNOTSUPP;
}

static inline void
p2pmap_provider_remove_pagemap(struct p2pmap_provider *prov,
			       struct dev_pagemap *pgmap)
{
}

static inline void
p2pmap_provider_invalidate_pages(struct p2pmap_provider *prov,
				 unsigned long pfn, unsigned long npages,
				 enum p2pmap_event ev)
{
}

static inline struct p2pmap_attach *
p2pmap_attach(struct device *importer, const struct p2pmap_importer_ops *ops,
	      unsigned long caps)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void p2pmap_detach(struct p2pmap_attach *attach)
{
}

static inline bool p2pmap_pci_route_direct(struct pci_dev *provider,
					   struct pci_dev *client)
{
	return false;
}

static inline struct p2pmap_import *
p2pmap_import_create(struct p2pmap_attach *attach, struct mm_struct *mm,
		     unsigned long start, unsigned long length,
		     enum p2pmap_policy policy, bool write, void *importer_priv)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void p2pmap_import_destroy(struct p2pmap_import *imp)
{
}

static inline void *p2pmap_import_priv(const struct p2pmap_import *imp)
{
	return NULL;
}

static inline struct p2pmap_seq p2pmap_import_begin(struct p2pmap_import *imp)
{
	return (struct p2pmap_seq){};
}

static inline int p2pmap_import_map_and_lock(struct p2pmap_import *imp,
					     const struct p2pmap_seq *seq)
{
	return -EOPNOTSUPP;
}

static inline void p2pmap_import_lock(struct p2pmap_import *imp)
	__acquires(imp)
{
	__acquire(imp);
}

static inline void p2pmap_import_unlock(struct p2pmap_import *imp)
	__releases(imp)
{
	__release(imp);
}

static inline bool p2pmap_import_retry(struct p2pmap_import *imp,
				       const struct p2pmap_seq *seq)
{
	return true;
}

static inline const struct p2pmap_extent *
p2pmap_import_extents(struct p2pmap_import *imp, unsigned int *nr)
{
	*nr = 0;
	return NULL;
}

static inline void p2pmap_import_placement(struct p2pmap_import *imp,
					   struct p2pmap_placement *out)
{
	*out = (struct p2pmap_placement){};
}

static inline void
p2pmap_import_placement_locked(struct p2pmap_import *imp,
			       struct p2pmap_placement *out)
{
	*out = (struct p2pmap_placement){};
}

static inline int p2pmap_import_dma_sgt_nents(struct p2pmap_import *imp,
					      unsigned int max_seg)
{
	return -EOPNOTSUPP;
}

static inline int p2pmap_import_fill_dma_sgt(struct p2pmap_import *imp,
					     struct sg_table *sgt,
					     unsigned int max_seg)
{
	return -EOPNOTSUPP;
}

#endif /* CONFIG_P2PMAP */

#ifdef __CHECKER__
/*
 * For sparse's lock context checking only: p2pmap_import_map_and_lock()
 * returns 0 with the import lock held (the context p2pmap_import_lock()
 * acquires and p2pmap_import_unlock() releases), and any other value
 * without it. __cond_acquires() is not used: sparse gives a caller no
 * context from it, and it takes one argument on 6.1 but two (the return
 * value that means acquired, then the context) since the kernel's
 * context analysis.
 */
#define p2pmap_import_map_and_lock(imp, seq) ({				\
	struct p2pmap_import *__p2pmap_imp = (imp);			\
	int __p2pmap_ret;						\
									\
	__p2pmap_ret = (p2pmap_import_map_and_lock)(__p2pmap_imp, seq);	\
	if (!__p2pmap_ret)						\
		__acquire(__p2pmap_imp);				\
	__p2pmap_ret;							\
})
#endif

#endif /* _LINUX_P2PMAP_H */
