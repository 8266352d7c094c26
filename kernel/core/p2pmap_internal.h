/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared between the translation units of p2pmap.ko and
 * nothing else: the object layouts of providers and attachments, and the
 * calls between main.c, features.c, provider.c (registration), object.c
 * (provider references and bound address spaces), attach.c (importer
 * negotiation and P2P verdict cache), pagemap.c, the import code (whose
 * own objects are in import.h), event.c and debugfs.c. The files depend on
 * each other in one direction only: scripts/depgraph.sh prints the graph.
 * Nothing in here is exported; the public API is include/linux/p2pmap.h.
 */
#ifndef _P2PMAP_INTERNAL_H
#define _P2PMAP_INTERNAL_H

#undef pr_fmt
#define pr_fmt(fmt) "p2pmap: " fmt

/*
 * Export @sym for p2pmap's own test modules only (like the kernel's
 * EXPORT_SYMBOL_IF_KUNIT()): in the P2PMAP_INTERNAL namespace, and only in
 * a build with CONFIG_P2PMAP_SELFTEST (Kbuild).
 */
#if IS_ENABLED(CONFIG_P2PMAP_SELFTEST)
#define EXPORT_SYMBOL_IF_P2PMAP_SELFTEST(sym) \
	EXPORT_SYMBOL_NS_GPL(sym, P2PMAP_NS(P2PMAP_INTERNAL))
#else
#define EXPORT_SYMBOL_IF_P2PMAP_SELFTEST(sym)
#endif

#include <linux/atomic.h>
#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <p2pmap_compat.h>

struct p2pmap_provider_sysfs;

/**
 * struct p2pmap_provider_stats - per-provider counters (sysfs)
 * @maps: successful p2p_map() calls
 * @unmaps: p2p_unmap() calls
 * @p2p_pages: pages handed out as P2P extents
 * @sysmem_pages: pages handed out as system memory extents
 * @fallback_pages: pages per enum p2pmap_reason that did not go P2P
 * @invalidations: import invalidations of any origin
 * @evictions: P2PMAP_EV_EVICT events raised by the exporter
 * @migrated_pages: device-private pages the core migrated to system memory
 *	because the provider could not peer-map them
 */
struct p2pmap_provider_stats {
	atomic64_t maps;
	atomic64_t unmaps;
	atomic64_t p2p_pages;
	atomic64_t sysmem_pages;
	atomic64_t fallback_pages[P2PMAP_REASON_NR];
	atomic64_t invalidations;
	atomic64_t evictions;
	atomic64_t migrated_pages;
};

/**
 * struct p2pmap_provider - an exporter, as the core sees it
 * @kref: references: the exporter's (dropped by unregister), one per bound
 *	mapping, one per import holding extents of it, one per attach cache
 *	entry is NOT taken (the cache is keyed by @id only)
 * @id: unique, never reused id (attach caches are keyed by it)
 * @desc: the exporter's description, @desc.name duplicated
 * @lock: protects @dead, @mappings, @imports, @resolvers and @inflight
 * @dead: unregister has started; new resolves fail with -ENODEV
 * @mappings: bound address spaces (struct p2pmap_mapping_bind.node)
 * @imports: imports linked to this provider, which may hold extents of it
 *	(struct p2pmap_link.prov_node)
 * @resolvers: p2pmap_import_map_and_lock() calls resolving memory of this provider
 *	that they have not installed yet (struct p2pmap_hold.prov_node)
 * @inflight: resolves of this provider in progress (they hold a
 *	reference); revoke waits for it to drop to zero
 * @itree: installed chunks of this provider by page offset
 *	(struct p2pmap_chunk.it), so that an exporter event finds the imports
 *	it hits in O(log n + hits) whatever the number of live imports
 * @itree_lock: protects @itree; a leaf lock, taken under import->lock
 *	(insert, remove) or provider->lock (lookup)
 * @revoke_wq: woken whenever an import unlinks or a resolve finishes
 * @stats: counters
 * @sysfs: the sysfs group under @desc.dev (provider.c's), NULL when absent
 * @p2pdma: the PCI core's provider of @desc.bar (6.19,
 *	%P2PMAP_P2PDMA_PROVIDER), or NULL; set at registration, devres memory
 *	of @desc.pdev that lives until its driver unbinds, so it is read only
 *	while the provider is alive (a resolve holds it) and copied into
 *	what is built then
 */
struct p2pmap_provider {
	struct kref kref;
	u32 id;
	struct p2pmap_provider_desc desc;
	struct mutex lock; /* protects @dead, @mappings, @imports, @inflight */
	bool dead;
	struct list_head mappings;
	struct list_head imports;
	struct list_head resolvers;
	unsigned int inflight; /* under @lock */
	struct rb_root_cached itree;
	spinlock_t itree_lock; /* protects @itree */
	wait_queue_head_t revoke_wq;
	struct p2pmap_provider_stats stats;
	struct p2pmap_provider_sysfs *sysfs;
	struct p2pdma_provider *p2pdma;
};

/**
 * enum p2pmap_route - how an importer reaches a provider's BAR
 * @P2PMAP_ROUTE_NONE: it cannot (see the verdict's reason)
 * @P2PMAP_ROUTE_BUS_ADDR: through a common PCIe switch: use PCI bus
 *	addresses, no IOMMU translation
 * @P2PMAP_ROUTE_HOST_BRIDGE: through a whitelisted host bridge: map with
 *	dma_map_resource()
 */
enum p2pmap_route {
	P2PMAP_ROUTE_NONE = 0,
	P2PMAP_ROUTE_BUS_ADDR,
	P2PMAP_ROUTE_HOST_BRIDGE,
};

/**
 * struct p2pmap_verdict - cached P2P decision for (importer, provider)
 * @route: enum p2pmap_route
 * @reason: why @route is NONE (enum p2pmap_reason)
 * @distance: pci_p2pdma_distance() result, -1 if not computed
 * @bus_offset: bus address minus CPU physical address of the BAR, for
 *	@route == P2PMAP_ROUTE_BUS_ADDR
 */
struct p2pmap_verdict {
	u8 route;
	u8 reason;
	int distance;
	s64 bus_offset;
};

/**
 * struct p2pmap_attach - an importer device, negotiated once
 * @dev: the importer's device (reference held)
 * @ops: the importer's callbacks
 * @caps: P2PMAP_CAP_* bits
 * @dma_mask: the importer's DMA mask at attach time
 * @verdicts: provider id -> struct p2pmap_verdict *, filled on first use
 * @nr_imports: live imports of this attachment
 */
struct p2pmap_attach {
	struct device *dev;
	const struct p2pmap_importer_ops *ops;
	unsigned long caps;
	u64 dma_mask;
	struct xarray verdicts;
	atomic_t nr_imports;
};

/* features.c */
unsigned int p2pmap_features_missing(void);
void p2pmap_features_report(void);
int p2pmap_features_sysfs_add(void);
void p2pmap_features_sysfs_remove(void);

/* provider.c */
struct seq_file;
int p2pmap_provider_init(void);
void p2pmap_provider_exit(void);
void p2pmap_providers_show(struct seq_file *m);

/* object.c */
struct p2pmap_provider *p2pmap_provider_find_mapping(struct address_space *mapping);
void p2pmap_provider_count_fallback(struct p2pmap_provider *prov,
				    enum p2pmap_reason reason,
				    unsigned long npages);
void p2pmap_provider_unbind_all(struct p2pmap_provider *prov);
void p2pmap_object_exit(void);

/* pagemap.c */
unsigned long p2pmap_pagemap_first_pfn(void);
struct p2pmap_provider *p2pmap_pagemap_provider(struct page *page);
void p2pmap_provider_drop_pagemaps(struct p2pmap_provider *prov);

/* attach.c */
int p2pmap_attach_verdict(struct p2pmap_attach *attach,
			  struct p2pmap_provider *prov,
			  struct p2pmap_verdict *out);
const char *p2pmap_reason_name(enum p2pmap_reason reason);

/* import.c */
void p2pmap_imports_show(struct seq_file *m);
#if P2PMAP_P2PDMA_PROVIDER
struct p2pdma_provider *p2pmap_import_p2pdma_ranges(struct p2pmap_import *imp,
						    struct phys_vec *vec,
						    unsigned int *nr,
						    size_t *size);
#endif

/* event.c */
void p2pmap_provider_revoke_imports(struct p2pmap_provider *prov);

/* debugfs.c */
void p2pmap_debugfs_init(void);
void p2pmap_debugfs_exit(void);

/* uapi.c: /dev/p2pmap */
int p2pmap_uapi_init(void);
void p2pmap_uapi_exit(void);

#endif /* _P2PMAP_INTERNAL_H */
