/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgpu's BAR window slot allocator: its interface. Private to p2pgpu
 * (p2pmap.ko neither links nor exports it); tests/unit compiles it too.
 *
 * A small-BAR device exposes a peer-visible window of a fixed number of
 * PAGE_SIZE slots. This header owns the API for handing out those slots to
 * resident pages of exporter objects (singly or as naturally aligned runs for
 * large pages), pinning them, and choosing eviction victims under a
 * least-recently-used policy with a minimum-residency rule. It is pure
 * bookkeeping: it never touches the BAR, page tables or DMA mappings.
 */
#ifndef _P2PGPU_APER_H
#define _P2PGPU_APER_H

#include <linux/types.h>

/**
 * DOC: Window allocator locking and lifetime
 *
 * The aperture allocator takes no locks and never sleeps except in
 * p2pgpu_aper_create(), which allocates with GFP_KERNEL. The caller must
 * serialise every call on one &struct p2pgpu_aper, typically with the mutex or
 * spinlock that already protects its window. Reads such as
 * p2pgpu_aper_lookup() and p2pgpu_aper_get_stats() need the same lock if they
 * must be consistent with concurrent updates.
 *
 * The allocator never reads a clock. Every call that records or compares
 * times takes a @now argument in caller-defined units (normally
 * get_jiffies_64()). @now must not go backwards; if it does, the allocator
 * treats it as the latest time it has seen, so time stands still rather than
 * reordering the LRU.
 *
 * A slot has three states:
 *
 * - free: on the free list;
 * - used: holds a resident page of an exporter object; it is an eviction
 *   candidate while its pin count is zero;
 * - evicting: returned by p2pgpu_aper_pick_victim(). It still counts as used,
 *   cannot be pinned, touched or picked again, and stays that way until the
 *   caller has invalidated all importers and calls p2pgpu_aper_free(), or
 *   gives up and calls p2pgpu_aper_abort_evict().
 *
 * A run allocated by p2pgpu_aper_alloc_run() is one unit: pin, unpin, touch
 * and lookup accept any slot of the run and act on the whole run, while
 * p2pgpu_aper_free() and p2pgpu_aper_abort_evict() take its first (head) slot.
 *
 * The owner cookie is opaque: the allocator stores and returns it but never
 * dereferences it. Keeping the owner alive while it holds slots is the
 * caller's job. p2pgpu_aper_destroy() frees the allocator whatever state the
 * slots are in, and warns if any slot is still pinned.
 */

/**
 * P2PGPU_APER_MAX_SLOTS - largest window p2pgpu_aper_create() accepts
 *
 * 2^24 slots is a 64 GiB window with 4 KiB pages; the cap keeps the slot
 * array well below the kvmalloc() size limit and slot numbers within int.
 */
#define P2PGPU_APER_MAX_SLOTS	0x1000000U	/* 2^24 */

struct p2pgpu_aper;

/**
 * enum p2pgpu_aper_busy - why p2pgpu_aper_pick_victim() found no victim
 * @P2PGPU_APER_BUSY_NONE: a victim was found, or no slot is in use at all.
 * @P2PGPU_APER_BUSY_PINNED: every used slot is pinned (or being evicted and
 *	at least one is pinned).
 * @P2PGPU_APER_BUSY_RESIDENCY: at least one used slot is unpinned, but all of
 *	those were placed or touched less than the minimum residency ago.
 * @P2PGPU_APER_BUSY_EVICTING: every used slot is already being evicted.
 * @P2PGPU_APER_BUSY_KEPT: at least one allocation would have qualified, but
 *	the caller's filter kept every such allocation (see
 *	p2pgpu_aper_pick_victim_filter()).
 */
enum p2pgpu_aper_busy {
	P2PGPU_APER_BUSY_NONE = 0,
	P2PGPU_APER_BUSY_PINNED,
	P2PGPU_APER_BUSY_RESIDENCY,
	P2PGPU_APER_BUSY_EVICTING,
	P2PGPU_APER_BUSY_KEPT,
};

/**
 * typedef p2pgpu_aper_keep_fn - victim filter
 * @owner: owner cookie of a candidate allocation.
 * @index: page index of the candidate's first slot.
 * @order: the candidate spans 2^@order slots.
 * @arg: the argument given to p2pgpu_aper_pick_victim_filter().
 *
 * Called with the caller's allocator lock held (the allocator takes none);
 * must not call back into the allocator.
 *
 * Return: true to keep the candidate: it is skipped by this pick and stays
 * where it is in the LRU.
 */
typedef bool (*p2pgpu_aper_keep_fn)(void *owner, u64 index,
				    unsigned int order, void *arg);

/**
 * struct p2pgpu_aper_info - what a used slot holds
 * @owner: the owner cookie given at allocation.
 * @index: the page index of this slot: the allocation's index plus the
 *	slot's offset within its run.
 * @head: first slot of the allocation this slot belongs to.
 * @order: the allocation spans 2^@order slots starting at @head.
 * @pin_count: pin count of the allocation.
 * @evicting: the allocation was picked as an eviction victim.
 */
struct p2pgpu_aper_info {
	void *owner;
	u64 index;
	u32 head;
	u32 order;
	u32 pin_count;
	bool evicting;
};

/**
 * struct p2pgpu_aper_stats - occupancy and event counters
 * @total: number of slots in the window.
 * @used: slots holding a page, including slots being evicted.
 * @pinned: slots whose allocation has a non-zero pin count.
 * @evicting: slots picked as victims and not yet freed.
 * @free: slots on the free list; always @total - @used.
 * @allocs: successful p2pgpu_aper_alloc() calls.
 * @run_allocs: successful p2pgpu_aper_alloc_run() calls.
 * @frees: successful p2pgpu_aper_free() calls.
 * @evictions: victims returned by p2pgpu_aper_pick_victim().
 * @evict_aborts: successful p2pgpu_aper_abort_evict() calls.
 * @enospc: p2pgpu_aper_alloc() calls that failed with -ENOSPC.
 * @run_enospc: p2pgpu_aper_alloc_run() calls that failed with -ENOSPC.
 * @ebusy_pinned: victim picks that failed because of pinning.
 * @ebusy_residency: victim picks that failed because of the minimum
 *	residency.
 * @ebusy_evicting: victim picks that failed because every used slot was
 *	already being evicted.
 * @ebusy_kept: victim picks that failed because the caller's filter kept
 *	every allocation that qualified.
 */
struct p2pgpu_aper_stats {
	u32 total;
	u32 used;
	u32 pinned;
	u32 evicting;
	u32 free;
	u64 allocs;
	u64 run_allocs;
	u64 frees;
	u64 evictions;
	u64 evict_aborts;
	u64 enospc;
	u64 run_enospc;
	u64 ebusy_pinned;
	u64 ebusy_residency;
	u64 ebusy_evicting;
	u64 ebusy_kept;
};

struct p2pgpu_aper *p2pgpu_aper_create(u32 nslots, u64 min_residency);
void p2pgpu_aper_destroy(struct p2pgpu_aper *aper);
int p2pgpu_aper_alloc(struct p2pgpu_aper *aper, void *owner, u64 index,
		      u64 now);
int p2pgpu_aper_alloc_run(struct p2pgpu_aper *aper, unsigned int order,
			  void *owner, u64 index, u64 now);
int p2pgpu_aper_free(struct p2pgpu_aper *aper, u32 slot);
int p2pgpu_aper_pin(struct p2pgpu_aper *aper, u32 slot);
int p2pgpu_aper_unpin(struct p2pgpu_aper *aper, u32 slot, u64 now);
int p2pgpu_aper_touch(struct p2pgpu_aper *aper, u32 slot, u64 now);
int p2pgpu_aper_pick_victim(struct p2pgpu_aper *aper, u64 now,
			    enum p2pgpu_aper_busy *why);
int p2pgpu_aper_pick_victim_any(struct p2pgpu_aper *aper, u64 now,
				enum p2pgpu_aper_busy *why);
int p2pgpu_aper_pick_victim_filter(struct p2pgpu_aper *aper, u64 now,
				   bool any, p2pgpu_aper_keep_fn keep,
				   void *arg, enum p2pgpu_aper_busy *why);
int p2pgpu_aper_abort_evict(struct p2pgpu_aper *aper, u32 slot, u64 now);
int p2pgpu_aper_lookup(const struct p2pgpu_aper *aper, u32 slot,
		       struct p2pgpu_aper_info *info);
void p2pgpu_aper_get_stats(const struct p2pgpu_aper *aper,
			   struct p2pgpu_aper_stats *stats);

#endif /* _P2PGPU_APER_H */
