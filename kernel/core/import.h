/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The objects of an import, private to the files of p2pmap.ko that build
 * and tear them down: struct p2pmap_import with its chunks, links and
 * holds, and the calls between those files. They depend on each other in
 * one direction only (scripts/depgraph.sh): import.c (object life, the
 * notifier, the sequence protocol, the map) calls sysmem.c (ordinary
 * memory through hmm_range_fault()), resolve.c (holds, the exporter calls)
 * and chunk.c (chunks, their DMA mapping and release); sysmem.c calls
 * resolve.c and chunk.c; resolve.c calls chunk.c; event.c (exporter events
 * and revoke) calls chunk.c. Nothing in here is exported.
 */
#ifndef _P2PMAP_IMPORT_H
#define _P2PMAP_IMPORT_H

#include <linux/dma-direction.h>

#include "p2pmap_internal.h"

/* Extents asked for per p2p_map() call; the core loops for the rest. */
#define P2PMAP_EXT_BATCH	256
/* Ranges up to this many pages walk with an on-stack pfn array. */
#define P2PMAP_SMALL_RANGE	16

/*
 * A link ties an import to one provider whose memory it may hold. It sits
 * on provider->imports (under provider->lock) and on import->links (under
 * import->lock), so it is added and removed with both locks held, in the
 * documented order. A link holds a provider reference; it outlives every
 * chunk of that provider in the import.
 */
struct p2pmap_link {
	struct list_head prov_node;
	struct list_head imp_node;
	struct p2pmap_provider *prov;
	struct p2pmap_import *imp;
};

/*
 * A hold keeps a provider from finishing its revoke while one
 * p2pmap_import_map_and_lock() call may still hand memory of it back through
 * p2p_unmap(): it counts in provider->inflight and holds a reference. It
 * is on the caller's list (@node, private) and on provider->resolvers
 * (@prov_node, under provider->lock), where exporter events find the
 * imports that resolve memory they have not installed yet. While the
 * exporter's p2p_map() runs for this hold, @req_task, @req_mapping,
 * @req_first and @req_last (under import->lock) name the calling task and
 * the request's pages: an event that task raises inside that range from
 * within p2p_map() (moving a page before handing out its new location) is
 * already reflected in the extents being built and does not fail the map.
 * For ops->p2p_map_pages() @req_mapping is NULL, the range is the pfns of
 * @req_pages and only events on pages of @req_pages count as its own.
 */
struct p2pmap_hold {
	struct list_head node;
	struct list_head prov_node;
	struct p2pmap_provider *prov;
	struct p2pmap_import *imp;
	struct task_struct *req_task;
	struct address_space *req_mapping;
	pgoff_t req_first;
	pgoff_t req_last;
	struct page **req_pages;
	unsigned long req_npages;
};

/*
 * A chunk is the result of one p2p_map() call (or one hmm_range_fault()
 * or pin_user_pages span when @prov is NULL): the request the exporter
 * saw, which p2p_unmap() gets back unchanged, and the extents, DMA-mapped
 * for the importer. While installed in an import (@in_tree), a provider's
 * chunk is in provider->itree over the page offsets it resolved (@it), and
 * @imp is the import it belongs to. A @small chunk has room for
 * P2PMAP_SMALL_RANGE extents and is its import's spare when released. A
 * chunk of device-private pages
 * (@req.pages, from ops->p2p_map_pages()) is in the tree over the pfns of
 * its pages (lowest to highest; lookups then check the pages themselves),
 * with @req.mapping NULL, and owns the @req.pages array.
 */
struct p2pmap_chunk {
	struct list_head node;
	struct p2pmap_provider *prov;
	struct p2pmap_import *imp;
	struct interval_tree_node it;
	struct p2pmap_map_req req;
	unsigned long va;
	u8 route;
	bool dma_mapped;
	bool in_tree;
	bool user_pinned;
	bool small;
	struct p2pmap_extent ext[];
};

/**
 * struct p2pmap_import - an importer's mapping of a user VA range
 * @attach: the importer (its nr_imports counts this import)
 * @mm: the address space (mmgrab() reference)
 * @start: first byte of the range
 * @npages: length in pages
 * @policy: enum p2pmap_policy
 * @write: the importer writes
 * @pinned: made for a %P2PMAP_CAP_PIN_ONLY importer: no notifier, the
 *	memory is pinned from the first successful map until destroy or the
 *	provider's revoke
 * @priv: importer-private pointer
 * @notifier: interval notifier over [@start, @start + @npages pages);
 *	not registered for @pinned imports
 * @lock: the notifier lock: protects @gen, @chunks, @links, @flat,
 *	@nr_flat, @placement
 * @gen: exporter-event generation, bumped under @lock (WRITE_ONCE(): read
 *	without it by p2pmap_import_begin())
 * @resolving: p2pmap_import_map_and_lock() calls holding memory of some provider
 *	that is not installed yet
 * @res_mapping: while @resolving, the address space being resolved
 * @res_first: first page offset being resolved in @res_mapping
 * @res_last: last page offset being resolved in @res_mapping
 * @res_any: resolving in more than one address space: every exporter event
 *	of a linked provider counts as overlapping
 * @res_set: @res_mapping, @res_first and @res_last are set (a NULL
 *	@res_mapping is the pfn space of device-private pages)
 * @chunks: current extents (struct p2pmap_chunk.node)
 * @links: providers this import may hold memory of
 * @flat: all extents of @chunks in VA order, for importers
 * @nr_flat: entries in @flat
 * @flat_borrowed: @flat is the extent array of the only chunk (no copy),
 *	freed with it
 * @placement: where the current extents landed
 * @migrated: page index in the import -> xa_mk_value(enum p2pmap_reason)
 *	of device-private pages p2pmap migrated to system memory because
 *	they could not be peer-mapped, so later maps report them (flag
 *	%P2PMAP_EXT_F_MIGRATED, the exporter's reason). An entry goes when
 *	the page is device-private again or the range is unmapped.
 * @spare: an import of at most P2PMAP_SMALL_RANGE pages: a chunk of that
 *	many extents for its ordinary memory, allocated with the import (as
 *	ib_umem_odp allocates its page lists with the umem), so that a map,
 *	or a revalidation after an invalidation, allocates nothing; NULL
 *	while a mapping holds it. Taken with xchg() by a map (no lock) and
 *	given back with cmpxchg() by the release of the chunk (under @lock,
 *	maybe in reclaim: no allocation); freed by p2pmap_import_destroy()
 * @all_node: on p2pmap_all_imports, for debugfs
 * @pid: thread group of the creator, for debugfs
 */
struct p2pmap_import {
	struct p2pmap_attach *attach;
	struct mm_struct *mm;
	unsigned long start;
	unsigned long npages;
	enum p2pmap_policy policy;
	bool write;
	bool pinned;
	void *priv;
	struct mmu_interval_notifier notifier;
	struct mutex lock; /* the notifier lock, see above */
	unsigned long gen;
	unsigned int resolving;
	struct address_space *res_mapping;
	pgoff_t res_first;
	pgoff_t res_last;
	bool res_any;
	bool res_set;
	struct list_head chunks;
	struct list_head links;
	struct p2pmap_extent *flat;
	unsigned int nr_flat;
	bool flat_borrowed;
	struct p2pmap_placement placement;
	struct xarray migrated;
	struct p2pmap_chunk *spare;
	struct list_head all_node;
	pid_t pid;
};

static inline enum dma_data_direction p2pmap_import_dir(const struct p2pmap_import *imp)
{
	return imp->write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
}

/*
 * Device-private pages a resolve found that must move to system memory:
 * filled by p2pmap_resolve_system(), migrated by p2pmap_import_resolve()
 * once it has dropped mmap_lock, after which the map starts over.
 */
struct p2pmap_migrate_list {
	unsigned int nr;
	unsigned long va[P2PMAP_EXT_BATCH];
	u8 reason[P2PMAP_EXT_BATCH];
};

/**
 * struct p2pmap_resolve_src - what p2pmap_resolve_exporter() resolves
 * @mapping: a bound address space (ops->p2p_map()), or NULL
 * @pgoff: with @mapping: the page offset of the first page
 * @pages: without @mapping: the device-private pages, one per page of the
 *	range (ops->p2p_map_pages()); the caller's array, copied
 */
struct p2pmap_resolve_src {
	struct address_space *mapping;
	pgoff_t pgoff;
	struct page *const *pages;
};

/*
 * Open a system-memory extent at @e from @page: everything but @npages and
 * @dma_addr, which the caller writes when the extent is complete. The
 * 4 KiB loop of sysmem.c passes constants for all but the page, so the
 * compiler merges the byte stores.
 */
static inline void p2pmap_sys_open(struct p2pmap_extent *e,
				   struct page *page, u8 flags,
				   u8 order, u8 reason)
{
	e->type = P2PMAP_EXT_SYSMEM;
	e->reason = reason;
	e->order = order;
	e->flags = flags;
	e->error = 0;
	e->page = page;
}

/* chunk.c */
void p2pmap_import_drop_locked(struct p2pmap_import *imp,
			       enum p2pmap_event ev);

struct p2pmap_chunk *p2pmap_chunk_alloc(unsigned long n, bool zero_ext);
void p2pmap_chunk_install(struct p2pmap_import *imp,
			  struct p2pmap_chunk *c);
void p2pmap_chunk_release(struct p2pmap_import *imp,
			  struct p2pmap_chunk *c);
void p2pmap_chunks_release(struct p2pmap_import *imp,
			   struct list_head *chunks);
int p2pmap_chunk_dma_map(struct p2pmap_import *imp, struct p2pmap_chunk *c,
			 struct p2pmap_placement *pl);
int p2pmap_dma_map_failed(struct device *dev);
int p2pmap_sys_map_ext(struct p2pmap_import *imp, struct p2pmap_extent *e,
		       struct p2pmap_placement *pl);
struct p2pmap_chunk *p2pmap_sys_chunk(struct p2pmap_import *imp,
				      unsigned long n, unsigned long va);
int p2pmap_sys_room(struct p2pmap_chunk **cp, unsigned long n,
		    unsigned long left);
int p2pmap_sys_append(struct p2pmap_import *imp, struct p2pmap_chunk *c,
		      struct p2pmap_placement *pl, struct page *page,
		      unsigned long n, u8 flags, u8 order, u8 reason);
int p2pmap_sys_finish(struct p2pmap_import *imp, struct p2pmap_chunk *c,
		      struct p2pmap_placement *pl, int ret,
		      struct list_head *out);

/* resolve.c */
void p2pmap_import_unhold(struct p2pmap_import *imp,
			  struct list_head *holds);
int p2pmap_resolve_pinned(struct p2pmap_import *imp, unsigned long va,
			  unsigned long npages, struct list_head *out,
			  struct p2pmap_placement *pl);
int p2pmap_migrate_add(struct p2pmap_migrate_list **mig,
		       unsigned long va, u8 reason);
int p2pmap_resolve_exporter(struct p2pmap_import *imp,
			    struct p2pmap_provider *prov,
			    struct list_head *holds,
			    const struct p2pmap_resolve_src *src,
			    unsigned long va, unsigned long npages,
			    struct list_head *out,
			    struct p2pmap_migrate_list **mig);

/* sysmem.c (ordinary memory through hmm_range_fault()) */
#if IS_ENABLED(CONFIG_HMM_MIRROR)
int p2pmap_resolve_system(struct p2pmap_import *imp,
			  const struct p2pmap_seq *seq,
			  unsigned long va, unsigned long npages,
			  struct list_head *out, struct list_head *holds,
			  struct p2pmap_migrate_list **mig,
			  struct p2pmap_placement *pl);
int p2pmap_migrate_to_ram(struct p2pmap_import *imp,
			  const struct p2pmap_migrate_list *mig);
#else
static inline int p2pmap_resolve_system(struct p2pmap_import *imp,
					const struct p2pmap_seq *seq,
					unsigned long va, unsigned long npages,
					struct list_head *out, struct list_head *holds,
					struct p2pmap_migrate_list **mig,
					struct p2pmap_placement *pl)
{
	pr_warn_ratelimited("import: kernel built without CONFIG_HMM_MIRROR: cannot import ordinary memory\n");
	return -EOPNOTSUPP;
}

static inline int p2pmap_migrate_to_ram(struct p2pmap_import *imp,
					const struct p2pmap_migrate_list *mig)
{
	return -EOPNOTSUPP;
}
#endif

#endif /* _P2PMAP_IMPORT_H */
