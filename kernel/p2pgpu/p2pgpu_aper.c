// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu's BAR window ("aperture") slot allocator, private to p2pgpu.
 *
 * This file owns the bookkeeping for a device's peer-visible BAR window: which
 * PAGE_SIZE slot holds which page of which exporter object, which slots are
 * free, pinned or being evicted, and which resident page to evict next. Free
 * slots sit on a free list and unpinned used allocations on an LRU list, so
 * single-slot allocation, freeing and victim selection are O(1) (with a
 * caller's victim filter, O(1 + allocations it keeps)); naturally aligned
 * multi-slot runs are found by an O(n) first-fit scan. It calls the
 * kernel only through p2pgpu_aper_internal.h so that the userland unit tests in
 * tests/unit/ can compile it unchanged. See "DOC: Window allocator locking
 * and lifetime" in p2pgpu_aper.h for the caller's obligations.
 */

#include "p2pgpu_aper_internal.h"
#include "p2pgpu_aper.h"

/* Values of &p2pgpu_aper_slot.state. */
enum {
	APER_SLOT_FREE = 0,
	APER_SLOT_USED,
};

/**
 * struct p2pgpu_aper_slot - bookkeeping for one window slot
 * @node: on &p2pgpu_aper.free_list while free; for the head slot of a used
 *	allocation, on &p2pgpu_aper.lru while unpinned and not being evicted;
 *	otherwise self-linked.
 * @owner: owner cookie (head slot only).
 * @index: page index of the first slot of the allocation (head slot only).
 * @stamp: time of the last placement, touch, unpin or aborted eviction (head
 *	slot only); the LRU is sorted by it.
 * @head: first slot of the allocation this slot belongs to; the slot's own
 *	number while free.
 * @pin_count: pin count of the allocation (head slot only).
 * @order: the allocation spans 2^@order slots (head slot only).
 * @state: APER_SLOT_FREE or APER_SLOT_USED (every slot of an allocation).
 * @evicting: non-zero while the allocation is an eviction victim (head slot
 *	only).
 */
struct p2pgpu_aper_slot {
	struct list_head node;
	void *owner;
	u64 index;
	u64 stamp;
	u32 head;
	u32 pin_count;
	u8 order;
	u8 state;
	u8 evicting;
};

/**
 * struct p2pgpu_aper - a BAR window slot allocator
 * @slots: array of @nslots slot descriptors.
 * @free_list: free slots.
 * @lru: head slots of used, unpinned allocations that are not being
 *	evicted, least recently used first.
 * @min_residency: a head slot is an eviction candidate only once
 *	@now - &p2pgpu_aper_slot.stamp >= @min_residency.
 * @now: latest time passed in by the caller.
 * @nslots: number of slots in the window.
 * @nr_used: slots holding a page, including those being evicted.
 * @nr_pinned: slots belonging to pinned allocations.
 * @nr_evicting: slots belonging to allocations being evicted.
 * @ev: event counters; the occupancy fields are unused here.
 */
struct p2pgpu_aper {
	struct p2pgpu_aper_slot *slots;
	struct list_head free_list;
	struct list_head lru;
	u64 min_residency;
	u64 now;
	u32 nslots;
	u32 nr_used;
	u32 nr_pinned;
	u32 nr_evicting;
	struct p2pgpu_aper_stats ev;
};

/* Record @now and return the latest time seen; time never goes backwards. */
static u64 aper_clock(struct p2pgpu_aper *aper, u64 now)
{
	aper->now = max(aper->now, now);
	return aper->now;
}

static u32 aper_slot_nr(const struct p2pgpu_aper *aper,
			const struct p2pgpu_aper_slot *s)
{
	return s - aper->slots;
}

/* Head slot of the used allocation containing @slot, or NULL. */
static struct p2pgpu_aper_slot *aper_unit(const struct p2pgpu_aper *aper,
					  u32 slot)
{
	if (slot >= aper->nslots || aper->slots[slot].state != APER_SLOT_USED)
		return NULL;
	return &aper->slots[aper->slots[slot].head];
}

/* Head slot of the used allocation whose first slot is @slot, or NULL. */
static struct p2pgpu_aper_slot *aper_head(const struct p2pgpu_aper *aper,
					  u32 slot)
{
	struct p2pgpu_aper_slot *h = aper_unit(aper, slot);

	if (!h || aper_slot_nr(aper, h) != slot)
		return NULL;
	return h;
}

/*
 * Mark the 2^@order slots starting at @first used and put the allocation at
 * the LRU tail. The slots must already be off the free list.
 */
static void aper_place(struct p2pgpu_aper *aper, u32 first, unsigned int order,
		       void *owner, u64 index, u64 now)
{
	struct p2pgpu_aper_slot *h = &aper->slots[first];
	u32 nr = 1U << order;
	u32 i;

	for (i = 0; i < nr; i++) {
		aper->slots[first + i].state = APER_SLOT_USED;
		aper->slots[first + i].head = first;
	}
	h->owner = owner;
	h->index = index;
	h->order = order;
	h->stamp = now;
	h->pin_count = 0;
	h->evicting = 0;
	list_add_tail(&h->node, &aper->lru);
	aper->nr_used += nr;
}

/**
 * p2pgpu_aper_create() - allocate a window slot allocator
 * @nslots: number of slots in the window, 1 to %P2PGPU_APER_MAX_SLOTS.
 * @min_residency: minimum time, in the caller's units, between a slot's last
 *	placement, touch or unpin and its selection as an eviction victim.
 *
 * All slots start free. May sleep.
 *
 * Return: the new allocator, ERR_PTR(-EINVAL) if @nslots is out of range, or
 * ERR_PTR(-ENOMEM).
 */
struct p2pgpu_aper *p2pgpu_aper_create(u32 nslots, u64 min_residency)
{
	struct p2pgpu_aper *aper;
	u32 i;

	if (!nslots || nslots > P2PGPU_APER_MAX_SLOTS)
		return ERR_PTR(-EINVAL);

	aper = kzalloc(sizeof(*aper), GFP_KERNEL);
	if (!aper)
		return ERR_PTR(-ENOMEM);
	aper->slots = kvcalloc(nslots, sizeof(*aper->slots), GFP_KERNEL);
	if (!aper->slots) {
		kfree(aper);
		return ERR_PTR(-ENOMEM);
	}

	INIT_LIST_HEAD(&aper->free_list);
	INIT_LIST_HEAD(&aper->lru);
	aper->nslots = nslots;
	aper->min_residency = min_residency;
	for (i = 0; i < nslots; i++) {
		aper->slots[i].head = i;
		list_add_tail(&aper->slots[i].node, &aper->free_list);
	}
	return aper;
}

/**
 * p2pgpu_aper_destroy() - free a window slot allocator
 * @aper: allocator from p2pgpu_aper_create(), or NULL.
 *
 * Frees the allocator whatever state its slots are in. Warns if any slot is
 * still pinned, since a pinned slot means an importer may still use it.
 */
void p2pgpu_aper_destroy(struct p2pgpu_aper *aper)
{
	if (!aper)
		return;
	WARN_ON(aper->nr_pinned);
	kvfree(aper->slots);
	kfree(aper);
}

/**
 * p2pgpu_aper_alloc() - allocate one slot
 * @aper: the allocator.
 * @owner: opaque owner cookie to store.
 * @index: page index within @owner to store.
 * @now: current time in the caller's units.
 *
 * The slot becomes the most recently used. O(1).
 *
 * Return: the slot number, or -ENOSPC if no slot is free.
 */
int p2pgpu_aper_alloc(struct p2pgpu_aper *aper, void *owner, u64 index,
		      u64 now)
{
	struct p2pgpu_aper_slot *s;
	u32 nr;

	now = aper_clock(aper, now);
	s = list_first_entry_or_null(&aper->free_list, struct p2pgpu_aper_slot,
				     node);
	if (!s) {
		aper->ev.enospc++;
		return -ENOSPC;
	}
	list_del_init(&s->node);
	nr = aper_slot_nr(aper, s);
	aper_place(aper, nr, 0, owner, index, now);
	aper->ev.allocs++;
	return nr;
}

/**
 * p2pgpu_aper_alloc_run() - allocate a naturally aligned run of slots
 * @aper: the allocator.
 * @order: the run spans 2^@order slots and starts at a multiple of 2^@order.
 * @owner: opaque owner cookie to store.
 * @index: page index within @owner of the first slot; slot i of the run
 *	holds page @index + i.
 * @now: current time in the caller's units.
 *
 * Picks the lowest-numbered free run. The run is one allocation: it is
 * pinned, touched, evicted and freed as a whole. O(number of slots).
 *
 * Return: the first slot of the run; -ENOSPC if no aligned run of free slots
 * exists (the caller should fall back to single slots); -EINVAL if @order is
 * above 31 or @index + 2^@order - 1 overflows.
 */
int p2pgpu_aper_alloc_run(struct p2pgpu_aper *aper, unsigned int order,
			  void *owner, u64 index, u64 now)
{
	u64 last;
	u32 nr, base, i;

	if (order > 31)
		return -EINVAL;
	nr = 1U << order;
	if (check_add_overflow(index, (u64)nr - 1, &last))
		return -EINVAL;

	now = aper_clock(aper, now);
	if (nr > aper->nslots - aper->nr_used)
		goto nospc;

	/* nr <= nslots here, so base + nr cannot overflow. */
	for (base = 0; base <= aper->nslots - nr; base += nr) {
		for (i = 0; i < nr; i++)
			if (aper->slots[base + i].state != APER_SLOT_FREE)
				break;
		if (i == nr)
			goto found;
	}
nospc:
	aper->ev.run_enospc++;
	return -ENOSPC;

found:
	for (i = 0; i < nr; i++)
		list_del_init(&aper->slots[base + i].node);
	aper_place(aper, base, order, owner, index, now);
	aper->ev.run_allocs++;
	return base;
}

/**
 * p2pgpu_aper_free() - free an allocation
 * @aper: the allocator.
 * @slot: first slot of the allocation, as returned by p2pgpu_aper_alloc(),
 *	p2pgpu_aper_alloc_run() or p2pgpu_aper_pick_victim().
 *
 * Frees every slot of the allocation, whether it is in use or being evicted.
 * O(1) for a single slot, O(2^order) for a run.
 *
 * Return: 0; -EINVAL if @slot is out of range, free, or not the first slot
 * of its allocation; -EBUSY if the allocation is pinned.
 */
int p2pgpu_aper_free(struct p2pgpu_aper *aper, u32 slot)
{
	struct p2pgpu_aper_slot *h = aper_head(aper, slot);
	u32 nr, i;

	if (!h)
		return -EINVAL;
	if (h->pin_count)
		return -EBUSY;

	nr = 1U << h->order;
	if (h->evicting)
		aper->nr_evicting -= nr;
	list_del_init(&h->node);
	for (i = 0; i < nr; i++) {
		struct p2pgpu_aper_slot *s = &aper->slots[slot + i];

		s->owner = NULL;
		s->index = 0;
		s->stamp = 0;
		s->head = slot + i;
		s->pin_count = 0;
		s->order = 0;
		s->state = APER_SLOT_FREE;
		s->evicting = 0;
		list_add_tail(&s->node, &aper->free_list);
	}
	aper->nr_used -= nr;
	aper->ev.frees++;
	return 0;
}

/**
 * p2pgpu_aper_pin() - take a pin on an allocation
 * @aper: the allocator.
 * @slot: any slot of the allocation.
 *
 * A pinned allocation is never chosen as an eviction victim. Pins nest. O(1).
 *
 * Return: 0; -EINVAL if @slot is out of range or free; -EBUSY if the
 * allocation is being evicted; -EOVERFLOW if the pin count would wrap.
 */
int p2pgpu_aper_pin(struct p2pgpu_aper *aper, u32 slot)
{
	struct p2pgpu_aper_slot *h = aper_unit(aper, slot);

	if (!h)
		return -EINVAL;
	if (h->evicting)
		return -EBUSY;
	if (h->pin_count == U32_MAX)
		return -EOVERFLOW;
	if (h->pin_count++ == 0) {
		list_del_init(&h->node);
		aper->nr_pinned += 1U << h->order;
	}
	return 0;
}

/**
 * p2pgpu_aper_unpin() - drop a pin on an allocation
 * @aper: the allocator.
 * @slot: any slot of the allocation.
 * @now: current time in the caller's units.
 *
 * When the last pin goes, the allocation becomes the most recently used and
 * its residency clock restarts at @now. O(1).
 *
 * Return: 0; -EINVAL if @slot is out of range or free, or (with a warning)
 * if the allocation is not pinned.
 */
int p2pgpu_aper_unpin(struct p2pgpu_aper *aper, u32 slot, u64 now)
{
	struct p2pgpu_aper_slot *h = aper_unit(aper, slot);

	now = aper_clock(aper, now);
	if (!h)
		return -EINVAL;
	if (WARN_ON(!h->pin_count))
		return -EINVAL;
	if (--h->pin_count == 0) {
		aper->nr_pinned -= 1U << h->order;
		h->stamp = now;
		list_add_tail(&h->node, &aper->lru);
	}
	return 0;
}

/**
 * p2pgpu_aper_touch() - mark an allocation as just used
 * @aper: the allocator.
 * @slot: any slot of the allocation.
 * @now: current time in the caller's units.
 *
 * Moves the allocation to the most recently used end of the LRU and restarts
 * its residency clock at @now. A caller that never touches gets
 * least-recently-placed order. O(1).
 *
 * Return: 0; -EINVAL if @slot is out of range or free; -EBUSY if the
 * allocation is being evicted.
 */
int p2pgpu_aper_touch(struct p2pgpu_aper *aper, u32 slot, u64 now)
{
	struct p2pgpu_aper_slot *h = aper_unit(aper, slot);

	now = aper_clock(aper, now);
	if (!h)
		return -EINVAL;
	if (h->evicting)
		return -EBUSY;
	h->stamp = now;
	if (!h->pin_count)
		list_move_tail(&h->node, &aper->lru);
	return 0;
}

/*
 * Pick the least recently used allocation that may go (@force: whatever its
 * residency) and that @keep, if given, does not keep. The LRU is sorted by
 * stamp, so the walk stops at the first allocation too young to go; it
 * passes over kept ones, so it costs O(1 + allocations kept).
 */
static int aper_pick(struct p2pgpu_aper *aper, u64 now,
		     enum p2pgpu_aper_busy *why, bool force,
		     p2pgpu_aper_keep_fn keep, void *arg)
{
	enum p2pgpu_aper_busy reason;
	struct p2pgpu_aper_slot *h;
	bool kept = false;

	now = aper_clock(aper, now);
	list_for_each_entry(h, &aper->lru, node) {
		if (!force && now - h->stamp < aper->min_residency)
			break;
		if (keep && keep(h->owner, h->index, h->order, arg)) {
			kept = true;
			continue;
		}
		goto found;
	}

	if (kept) {
		reason = P2PGPU_APER_BUSY_KEPT;
		aper->ev.ebusy_kept++;
	} else if (!list_empty(&aper->lru)) {
		reason = P2PGPU_APER_BUSY_RESIDENCY;
		aper->ev.ebusy_residency++;
	} else if (aper->nr_pinned) {
		reason = P2PGPU_APER_BUSY_PINNED;
		aper->ev.ebusy_pinned++;
	} else if (aper->nr_evicting) {
		reason = P2PGPU_APER_BUSY_EVICTING;
		aper->ev.ebusy_evicting++;
	} else {
		if (why)
			*why = P2PGPU_APER_BUSY_NONE;
		return -ENOENT;
	}
	if (why)
		*why = reason;
	return -EBUSY;

found:
	list_del_init(&h->node);
	h->evicting = 1;
	aper->nr_evicting += 1U << h->order;
	aper->ev.evictions++;
	if (why)
		*why = P2PGPU_APER_BUSY_NONE;
	return aper_slot_nr(aper, h);
}

/**
 * p2pgpu_aper_pick_victim() - choose an allocation to evict
 * @aper: the allocator.
 * @now: current time in the caller's units.
 * @why: if not NULL, set to the reason no victim was found, or to
 *	%P2PGPU_APER_BUSY_NONE.
 *
 * Chooses the least recently used allocation that is unpinned, not already
 * being evicted, and was placed, touched or unpinned at least the minimum
 * residency before @now. The victim moves to the evicting state: it still
 * holds its slots but cannot be picked, pinned or touched again until the
 * caller frees it with p2pgpu_aper_free() or returns it with
 * p2pgpu_aper_abort_evict(). The LRU is sorted by time, so only its first
 * entry needs checking: O(1).
 *
 * Return: the first slot of the victim; -EBUSY if no allocation qualifies
 * (@why says whether residency, pinning or pending evictions are to blame);
 * -ENOENT if no slot is in use.
 */
int p2pgpu_aper_pick_victim(struct p2pgpu_aper *aper, u64 now,
			    enum p2pgpu_aper_busy *why)
{
	return aper_pick(aper, now, why, false, NULL, NULL);
}

/**
 * p2pgpu_aper_pick_victim_any() - choose an allocation to evict, now
 * @aper: the allocator.
 * @now: current time in the caller's units.
 * @why: as for p2pgpu_aper_pick_victim().
 *
 * Like p2pgpu_aper_pick_victim() but ignoring the minimum residency: for a
 * caller that must get a slot (a CPU fault on a small-BAR device, which can
 * reach device memory only through the window). Pinned allocations and
 * allocations being evicted are still never chosen. O(1).
 *
 * Return: as for p2pgpu_aper_pick_victim(), where -EBUSY now only means
 * every allocation is pinned or being evicted.
 */
int p2pgpu_aper_pick_victim_any(struct p2pgpu_aper *aper, u64 now,
				enum p2pgpu_aper_busy *why)
{
	return aper_pick(aper, now, why, true, NULL, NULL);
}

/**
 * p2pgpu_aper_pick_victim_filter() - choose an allocation to evict, with a
 *	filter
 * @aper: the allocator.
 * @now: current time in the caller's units.
 * @any: ignore the minimum residency, as p2pgpu_aper_pick_victim_any() does.
 * @keep: victim filter, or NULL for none; called for each allocation that
 *	would qualify, least recently used first, until it returns false.
 * @arg: passed to @keep.
 * @why: as for p2pgpu_aper_pick_victim(), plus %P2PGPU_APER_BUSY_KEPT when
 *	the filter kept every allocation that qualified.
 *
 * Like p2pgpu_aper_pick_victim() (or p2pgpu_aper_pick_victim_any() with
 * @any) but skipping the allocations @keep keeps, e.g. pages the caller is
 * about to hand out itself. Kept allocations keep their LRU position.
 * O(1 + number of allocations kept).
 *
 * Return: the first slot of the victim; -EBUSY if no allocation qualifies
 * or every one that does is kept (@why says which); -ENOENT if no slot is
 * in use.
 */
int p2pgpu_aper_pick_victim_filter(struct p2pgpu_aper *aper, u64 now,
				   bool any, p2pgpu_aper_keep_fn keep,
				   void *arg, enum p2pgpu_aper_busy *why)
{
	return aper_pick(aper, now, why, any, keep, arg);
}

/**
 * p2pgpu_aper_abort_evict() - return an eviction victim to use
 * @aper: the allocator.
 * @slot: first slot of an allocation returned by p2pgpu_aper_pick_victim().
 * @now: current time in the caller's units.
 *
 * For a caller that could not complete the eviction. The allocation becomes
 * the most recently used and its residency clock restarts at @now, so it is
 * not picked again straight away. O(1).
 *
 * Return: 0, or -EINVAL if @slot is not the first slot of an allocation
 * being evicted.
 */
int p2pgpu_aper_abort_evict(struct p2pgpu_aper *aper, u32 slot, u64 now)
{
	struct p2pgpu_aper_slot *h = aper_head(aper, slot);

	now = aper_clock(aper, now);
	if (!h || !h->evicting)
		return -EINVAL;
	h->evicting = 0;
	aper->nr_evicting -= 1U << h->order;
	h->stamp = now;
	list_add_tail(&h->node, &aper->lru);
	aper->ev.evict_aborts++;
	return 0;
}

/**
 * p2pgpu_aper_lookup() - report what a slot holds
 * @aper: the allocator.
 * @slot: slot number.
 * @info: filled in on success.
 *
 * Return: 0; -EINVAL if @slot is out of range; -ENOENT if it is free.
 */
int p2pgpu_aper_lookup(const struct p2pgpu_aper *aper, u32 slot,
		       struct p2pgpu_aper_info *info)
{
	const struct p2pgpu_aper_slot *h;

	if (slot >= aper->nslots)
		return -EINVAL;
	h = aper_unit(aper, slot);
	if (!h)
		return -ENOENT;
	info->owner = h->owner;
	info->head = aper_slot_nr(aper, h);
	info->index = h->index + (slot - info->head);
	info->order = h->order;
	info->pin_count = h->pin_count;
	info->evicting = h->evicting;
	return 0;
}

/**
 * p2pgpu_aper_get_stats() - snapshot occupancy and counters
 * @aper: the allocator.
 * @stats: filled in.
 */
void p2pgpu_aper_get_stats(const struct p2pgpu_aper *aper,
			   struct p2pgpu_aper_stats *stats)
{
	*stats = aper->ev;
	stats->total = aper->nslots;
	stats->used = aper->nr_used;
	stats->pinned = aper->nr_pinned;
	stats->evicting = aper->nr_evicting;
	stats->free = aper->nslots - aper->nr_used;
}
