// SPDX-License-Identifier: GPL-2.0
/*
 * Directed unit tests for the p2pmap BAR aperture slot allocator
 * (kernel/p2pgpu/p2pgpu_aper.c, compiled here unchanged against the userland shim).
 * Each case checks one documented behaviour: allocation and exhaustion,
 * pinning, the minimum-residency rule and its -EBUSY reasons, LRU order,
 * the evicting state, aligned runs, lookup, counters and argument checks.
 */
/* kernel/p2pgpu/p2pgpu_aper.c, found through -I$(KLIB); see the Makefile. */
#include "p2pgpu_aper.c"

#include "aperture_check.h"
#include "tap.h"

#define OWNER_A	((void *)0x1000)
#define OWNER_B	((void *)0x2000)

static struct p2pgpu_aper *mk(u32 nslots, u64 min_residency)
{
	struct p2pgpu_aper *aper = p2pgpu_aper_create(nslots, min_residency);

	if (!TAP_CHECK(!IS_ERR(aper)))
		return NULL;
	return aper;
}

static struct p2pgpu_aper_stats stats(const struct p2pgpu_aper *aper)
{
	struct p2pgpu_aper_stats st;

	p2pgpu_aper_get_stats(aper, &st);
	return st;
}

static void t_create_args(const void *arg)
{
	struct p2pgpu_aper *aper;

	(void)arg;
	aper = p2pgpu_aper_create(0, 0);
	TAP_CHECK(IS_ERR(aper) && PTR_ERR(aper) == -EINVAL);
	aper = p2pgpu_aper_create(P2PGPU_APER_MAX_SLOTS + 1, 0);
	TAP_CHECK(IS_ERR(aper) && PTR_ERR(aper) == -EINVAL);
	aper = p2pgpu_aper_create(U32_MAX, 5);
	TAP_CHECK(IS_ERR(aper) && PTR_ERR(aper) == -EINVAL);
	TAP_CHECK_EQ(shim_allocs_live, 0);

	aper = mk(1, U64_MAX);
	if (!aper)
		return;
	TAP_CHECK_EQ(stats(aper).total, 1);
	TAP_CHECK_EQ(stats(aper).free, 1);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
	p2pgpu_aper_destroy(NULL);
}

static void t_alloc_free(const void *arg)
{
	struct p2pgpu_aper_info info;
	struct p2pgpu_aper *aper;
	int s[4], i, j;

	(void)arg;
	aper = mk(4, 0);
	if (!aper)
		return;
	for (i = 0; i < 4; i++) {
		s[i] = p2pgpu_aper_alloc(aper, OWNER_A, 100 + i, i);
		TAP_CHECK(s[i] >= 0 && s[i] < 4);
		for (j = 0; j < i; j++)
			TAP_CHECK(s[i] != s[j]);
	}
	TAP_CHECK(aper_check_invariants(aper));
	for (i = 0; i < 4; i++) {
		TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, s[i], &info), 0);
		TAP_CHECK(info.owner == OWNER_A);
		TAP_CHECK_U64(info.index, 100 + i);
		TAP_CHECK_EQ(info.head, s[i]);
		TAP_CHECK_EQ(info.order, 0);
		TAP_CHECK_EQ(info.pin_count, 0);
		TAP_CHECK_EQ(info.evicting, 0);
	}
	TAP_CHECK_EQ(stats(aper).used, 4);
	TAP_CHECK_EQ(stats(aper).free, 0);
	TAP_CHECK_U64(stats(aper).allocs, 4);

	TAP_CHECK_EQ(p2pgpu_aper_free(aper, s[1]), 0);
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, s[1], &info), -ENOENT);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, s[1]), -EINVAL);	/* double free */
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, 4), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, U32_MAX), -EINVAL);
	TAP_CHECK_EQ(stats(aper).used, 3);
	TAP_CHECK_EQ(stats(aper).free, 1);
	TAP_CHECK_U64(stats(aper).frees, 1);

	/* The freed slot is the only free one, so it comes back. */
	TAP_CHECK_EQ(p2pgpu_aper_alloc(aper, OWNER_B, 7, 10), s[1]);
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, s[1], &info), 0);
	TAP_CHECK(info.owner == OWNER_B);
	TAP_CHECK_U64(info.index, 7);
	for (i = 0; i < 4; i++)
		TAP_CHECK_EQ(p2pgpu_aper_free(aper, s[i]), 0);
	TAP_CHECK_EQ(stats(aper).used, 0);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_exhaustion(const void *arg)
{
	struct p2pgpu_aper *aper;
	int i, s;

	(void)arg;
	aper = mk(16, 0);
	if (!aper)
		return;
	for (i = 0; i < 16; i++)
		TAP_CHECK(p2pgpu_aper_alloc(aper, OWNER_A, i, 0) >= 0);
	TAP_CHECK_EQ(p2pgpu_aper_alloc(aper, OWNER_A, 16, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc(aper, OWNER_A, 17, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 0, OWNER_A, 17, 0), -ENOSPC);
	TAP_CHECK_U64(stats(aper).enospc, 2);
	TAP_CHECK_U64(stats(aper).run_enospc, 1);
	TAP_CHECK_U64(stats(aper).allocs, 16);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, 9), 0);
	s = p2pgpu_aper_alloc(aper, OWNER_B, 0, 0);
	TAP_CHECK_EQ(s, 9);
	TAP_CHECK_EQ(p2pgpu_aper_alloc(aper, OWNER_B, 1, 0), -ENOSPC);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_lookup_args(const void *arg)
{
	struct p2pgpu_aper_info info;
	struct p2pgpu_aper *aper;

	(void)arg;
	aper = mk(2, 0);
	if (!aper)
		return;
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, 0, &info), -ENOENT);
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, 2, &info), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, 5), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, 0, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, 5, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, 0, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, 5, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, 0, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, 5, 0), -EINVAL);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_pin_excludes_victim(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b, c;

	(void)arg;
	aper = mk(3, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 1);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 2);
	c = p2pgpu_aper_alloc(aper, OWNER_A, 2, 3);
	TAP_CHECK(a >= 0 && b >= 0 && c >= 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	TAP_CHECK_EQ(stats(aper).pinned, 1);
	/* a is oldest but pinned: b must be chosen. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 10, &why), b);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_NONE);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, b), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, c), 0);
	TAP_CHECK_EQ(stats(aper).pinned, 2);
	why = -1;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 20, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_PINNED);
	TAP_CHECK_U64(stats(aper).ebusy_pinned, 1);
	TAP_CHECK_U64(stats(aper).ebusy_residency, 0);
	TAP_CHECK_U64(stats(aper).evictions, 1);
	TAP_CHECK(aper_check_invariants(aper));
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 20), 0);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, c, 21), 0);
	TAP_CHECK_EQ(stats(aper).pinned, 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 30, NULL), a);
	p2pgpu_aper_destroy(aper);
}

static void t_pin_nesting(const void *arg)
{
	struct p2pgpu_aper_info info;
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	aper = mk(2, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, a, &info), 0);
	TAP_CHECK_EQ(info.pin_count, 2);
	TAP_CHECK_EQ(stats(aper).pinned, 1);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, a), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 1), 0);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, a), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 5, NULL), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 2), 0);
	TAP_CHECK_EQ(stats(aper).pinned, 0);
	TAP_CHECK(aper_check_invariants(aper));
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, a), 0);
	p2pgpu_aper_destroy(aper);
}

static void t_unpin_underflow_warns(const void *arg)
{
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	aper = mk(1, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	tap_expect_warns(1);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 0), -EINVAL);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_pin_overflow(const void *arg)
{
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	aper = mk(1, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	aper->slots[a].pin_count = U32_MAX - 1;	/* white-box shortcut */
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), -EOVERFLOW);
	TAP_CHECK_EQ(aper->slots[a].pin_count, U32_MAX);
	aper->slots[a].pin_count = 1;
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 0), 0);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_residency(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	aper = mk(2, 10);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 100);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 100, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	why = -1;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 109, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_U64(stats(aper).ebusy_residency, 2);
	TAP_CHECK_U64(stats(aper).ebusy_pinned, 0);
	/* Exactly min_residency old is old enough. */
	why = -1;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 110, &why), a);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_NONE);
	TAP_CHECK_U64(stats(aper).evictions, 1);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_residency_beats_pinned(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b;

	(void)arg;
	/* One pinned, one unpinned but young: residency is to blame. */
	aper = mk(2, 50);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 40);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 60, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 90, &why), b);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, b), 0);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 90), 0);
	/* Unpinning restarts the residency clock. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 139, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 140, &why), a);
	p2pgpu_aper_destroy(aper);
}

/* pick_victim_any ignores residency but never pinned or evicting slots. */
static void t_pick_any(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b, c;

	(void)arg;
	aper = mk(3, 1000);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 10);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 11);
	c = p2pgpu_aper_alloc(aper, OWNER_A, 2, 12);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	/* Far too young for the ordinary pick. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 20, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	/* The forced pick takes the LRU unpinned one: b, then c. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_any(aper, 20, &why), b);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_NONE);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_any(aper, 20, &why), c);
	/* Left: a pinned, b and c evicting: nothing. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_any(aper, 20, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_PINNED);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, b), 0);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, c, 21), 0);
	/* The clock was not moved: c is still young for the ordinary pick. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 22, &why), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_any(aper, 22, &why), c);
	TAP_CHECK_U64(stats(aper).evictions, 3);
	TAP_CHECK(aper_check_invariants(aper));
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, c), 0);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 30), 0);
	p2pgpu_aper_destroy(aper);
}

/* Victim filter: keep allocations whose page index lies in [lo, hi]. */
struct keep_range {
	void *owner;
	u64 lo, hi;
	unsigned int calls;
	u64 last_index;
	unsigned int last_order;
};

static bool keep_range(void *owner, u64 index, unsigned int order, void *arg)
{
	struct keep_range *k = arg;

	k->calls++;
	k->last_index = index;
	k->last_order = order;
	return owner == k->owner && index <= k->hi &&
	       index + (1ULL << order) - 1 >= k->lo;
}

/* The filter skips kept allocations and takes the next LRU one. */
static void t_filter_skips_kept(const void *arg)
{
	struct keep_range k = { .owner = OWNER_A, .lo = 0, .hi = 1 };
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b, c, d;

	(void)arg;
	aper = mk(4, 10);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 1);
	c = p2pgpu_aper_alloc(aper, OWNER_B, 0, 2);
	d = p2pgpu_aper_alloc(aper, OWNER_A, 2, 3);
	TAP_CHECK(a >= 0 && b >= 0 && c >= 0 && d >= 0);
	/* a and b are kept (owner A, index 0..1); c is the next in LRU order. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 100, false, keep_range,
						    &k, &why), c);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_NONE);
	TAP_CHECK_EQ(k.calls, 3);
	/* Kept allocations keep their LRU place: without a filter, a goes. */
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, c), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 100, false, NULL, NULL,
						    &why), a);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, a, 100), 0);
	/* a is now the most recent: b kept, then d. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 100, false, keep_range,
						    &k, &why), d);
	TAP_CHECK_U64(stats(aper).evictions, 3);
	TAP_CHECK_U64(stats(aper).ebusy_kept, 0);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

/* Everything that qualifies is kept: -EBUSY with KEPT, counted. */
static void t_filter_all_kept(const void *arg)
{
	struct keep_range k = { .owner = OWNER_A, .lo = 0, .hi = U64_MAX };
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b, c;

	(void)arg;
	aper = mk(3, 10);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 5, 0);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 6, 0);
	c = p2pgpu_aper_alloc(aper, OWNER_B, 7, 50);
	TAP_CHECK(a >= 0 && b >= 0 && c >= 0);
	/* At 20, a and b are old enough but kept, c is too young: KEPT. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 20, false, keep_range,
						    &k, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_KEPT);
	TAP_CHECK_U64(stats(aper).ebusy_kept, 1);
	/* The walk stops at c (too young): the filter never saw it. */
	TAP_CHECK_EQ(k.calls, 2);
	/* With any, c may go. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 20, true, keep_range,
						    &k, &why), c);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, c), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 20, true, keep_range,
						    &k, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_KEPT);
	/* Pinned ones are not candidates: nothing kept, PINNED. */
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, b), 0);
	k.calls = 0;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 20, true, keep_range,
						    &k, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_PINNED);
	TAP_CHECK_EQ(k.calls, 0);
	TAP_CHECK_U64(stats(aper).ebusy_kept, 2);
	TAP_CHECK(aper_check_invariants(aper));
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, a, 30), 0);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, b, 30), 0);
	p2pgpu_aper_destroy(aper);
}

/* A young LRU head with nothing kept is RESIDENCY, not KEPT. */
static void t_filter_residency(const void *arg)
{
	struct keep_range k = { .owner = OWNER_A, .lo = 0, .hi = 0 };
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b;

	(void)arg;
	aper = mk(2, 10);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 5);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 8);
	TAP_CHECK(a >= 0 && b >= 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 9, false, keep_range,
						    &k, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_EQ(k.calls, 0);
	/* At 15, a is old enough but kept and b is too young: KEPT. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 15, false, keep_range,
						    &k, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_KEPT);
	/* At 18 both are old enough: b goes. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 18, false, keep_range,
						    &k, &why), b);
	TAP_CHECK_U64(stats(aper).ebusy_residency, 1);
	TAP_CHECK_U64(stats(aper).ebusy_kept, 1);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

/* The filter sees the run's first index and its order. */
static void t_filter_runs(const void *arg)
{
	struct keep_range k = { .owner = OWNER_A, .lo = 3, .hi = 3 };
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int r, s;

	(void)arg;
	aper = mk(8, 0);
	if (!aper)
		return;
	r = p2pgpu_aper_alloc_run(aper, 2, OWNER_A, 0, 0);	/* pages 0..3 */
	s = p2pgpu_aper_alloc(aper, OWNER_A, 4, 0);
	TAP_CHECK(r >= 0 && s >= 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 1, false, keep_range,
						    &k, &why), s);
	TAP_CHECK_EQ(k.calls, 2);
	TAP_CHECK_U64(k.last_index, 4);
	TAP_CHECK_EQ(k.last_order, 0);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, s), 0);
	k.calls = 0;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim_filter(aper, 1, false, keep_range,
						    &k, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_KEPT);
	TAP_CHECK_EQ(k.calls, 1);
	TAP_CHECK_U64(k.last_index, 0);
	TAP_CHECK_EQ(k.last_order, 2);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_residency_huge(const void *arg)
{
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	/* Age arithmetic must not overflow at the ends of the u64 range. */
	aper = mk(1, U64_MAX);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, U64_MAX - 1, NULL), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, U64_MAX, NULL), a);
	p2pgpu_aper_destroy(aper);
}

static void t_time_backwards(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	aper = mk(1, 10);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 1000);
	/* A stale "now" must not make the slot look ancient. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 5, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, a, 3), 0);
	TAP_CHECK_U64(aper->slots[a].stamp, 1000);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 1010, &why), a);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_lru_placement_order(const void *arg)
{
	struct p2pgpu_aper *aper;
	int s[5], i;

	(void)arg;
	aper = mk(5, 0);
	if (!aper)
		return;
	for (i = 0; i < 5; i++)
		s[i] = p2pgpu_aper_alloc(aper, OWNER_A, i, 10 * i);
	/* Same timestamps keep call order. */
	for (i = 0; i < 5; i++) {
		TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 100, NULL), s[i]);
		TAP_CHECK_EQ(p2pgpu_aper_free(aper, s[i]), 0);
	}
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 100, NULL), -ENOENT);
	p2pgpu_aper_destroy(aper);
}

static void t_lru_touch(const void *arg)
{
	struct p2pgpu_aper *aper;
	int a, b, c, d;

	(void)arg;
	aper = mk(4, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 1);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 2);
	c = p2pgpu_aper_alloc(aper, OWNER_A, 2, 3);
	d = p2pgpu_aper_alloc(aper, OWNER_A, 3, 4);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, a, 5), 0);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, c, 6), 0);
	/* Pinned touch moves nothing now, but unpin makes it MRU. */
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, b), 0);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, b, 7), 0);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, b, 8), 0);
	TAP_CHECK(aper_check_invariants(aper));
	/* Expected LRU order: d, a, c, b. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 9, NULL), d);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 9, NULL), a);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 9, NULL), c);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 9, NULL), b);
	TAP_CHECK_U64(stats(aper).evictions, 4);
	p2pgpu_aper_destroy(aper);
}

static void t_touch_restarts_residency(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;
	int a, b;

	(void)arg;
	aper = mk(2, 10);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 0);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, a, 8), 0);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, b, 9), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 17, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 18, &why), a);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 18, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 19, &why), b);
	p2pgpu_aper_destroy(aper);
}

static void t_evicting_state(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper_info info;
	struct p2pgpu_aper *aper;
	int a, b;

	(void)arg;
	aper = mk(2, 5);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	b = p2pgpu_aper_alloc(aper, OWNER_B, 0, 1);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, a, 2), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 10, NULL), a);
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, a, &info), 0);
	TAP_CHECK_EQ(info.evicting, 1);
	TAP_CHECK(info.owner == OWNER_A);
	TAP_CHECK_EQ(stats(aper).evicting, 1);
	TAP_CHECK_EQ(stats(aper).used, 2);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, a, 10), -EBUSY);
	/* Not picked twice. */
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 10, NULL), b);
	why = -1;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 10, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_EVICTING);
	TAP_CHECK_U64(stats(aper).ebusy_evicting, 1);
	TAP_CHECK(aper_check_invariants(aper));

	/* Abort: back as MRU, young again. */
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, a, 20), 0);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, a, 20), -EINVAL);
	TAP_CHECK_U64(stats(aper).evict_aborts, 1);
	TAP_CHECK_EQ(stats(aper).evicting, 1);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 24, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_RESIDENCY);
	/* Complete b's eviction. */
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, b), 0);
	TAP_CHECK_EQ(stats(aper).evicting, 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 25, NULL), a);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, a), 0);
	TAP_CHECK_EQ(stats(aper).used, 0);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_pick_empty(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper *aper;

	(void)arg;
	aper = mk(3, 0);
	if (!aper)
		return;
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 0, &why), -ENOENT);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_NONE);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 0, NULL), -ENOENT);
	TAP_CHECK_U64(stats(aper).ebusy_pinned + stats(aper).ebusy_residency +
		      stats(aper).ebusy_evicting + stats(aper).evictions, 0);
	p2pgpu_aper_destroy(aper);
}

static void t_run_aligned(const void *arg)
{
	struct p2pgpu_aper_info info;
	struct p2pgpu_aper *aper;
	int r, i;

	(void)arg;
	aper = mk(16, 0);
	if (!aper)
		return;
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 0, OWNER_A, 0, 0), 0);
	r = p2pgpu_aper_alloc_run(aper, 2, OWNER_B, 1000, 0);
	TAP_CHECK_EQ(r, 4);	/* 0 is taken, so the first aligned run is 4..7 */
	for (i = 0; i < 4; i++) {
		TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, r + i, &info), 0);
		TAP_CHECK(info.owner == OWNER_B);
		TAP_CHECK_U64(info.index, 1000 + i);
		TAP_CHECK_EQ(info.head, r);
		TAP_CHECK_EQ(info.order, 2);
	}
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 3, OWNER_A, 0, 0), 8);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 1, OWNER_A, 0, 0), 2);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 1, OWNER_A, 0, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 0, OWNER_A, 0, 0), 1);
	TAP_CHECK_EQ(stats(aper).used, 16);
	TAP_CHECK_U64(stats(aper).run_allocs, 5);
	TAP_CHECK_U64(stats(aper).run_enospc, 1);
	TAP_CHECK(aper_check_invariants(aper));
	/* Freeing the run returns all four slots. */
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, r + 1), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, r), 0);
	TAP_CHECK_EQ(stats(aper).free, 4);
	for (i = 0; i < 4; i++)
		TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, r + i, &info), -ENOENT);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 2, OWNER_A, 0, 0), r);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_run_fragmented(const void *arg)
{
	struct p2pgpu_aper *aper;
	int i;

	(void)arg;
	aper = mk(8, 0);
	if (!aper)
		return;
	for (i = 0; i < 8; i++)
		TAP_CHECK(p2pgpu_aper_alloc(aper, OWNER_A, i, 0) >= 0);
	/* Free 1, 2, 3 and 5: four free slots but no aligned run of four. */
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, 1), 0);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, 2), 0);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, 3), 0);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, 5), 0);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 2, OWNER_B, 0, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 3, OWNER_B, 0, 0), -ENOSPC);
	/* 1..2 is contiguous but not aligned; 2..3 is. */
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 1, OWNER_B, 0, 0), 2);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 1, OWNER_B, 0, 0), -ENOSPC);
	TAP_CHECK_U64(stats(aper).run_enospc, 3);
	/* Single slots still work: fallback path. */
	TAP_CHECK(p2pgpu_aper_alloc(aper, OWNER_B, 0, 0) >= 0);
	TAP_CHECK(p2pgpu_aper_alloc(aper, OWNER_B, 0, 0) >= 0);
	TAP_CHECK_EQ(p2pgpu_aper_alloc(aper, OWNER_B, 0, 0), -ENOSPC);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_run_args(const void *arg)
{
	struct p2pgpu_aper *aper;

	(void)arg;
	aper = mk(6, 0);
	if (!aper)
		return;
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 32, OWNER_A, 0, 0), -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, U32_MAX, OWNER_A, 0, 0),
		     -EINVAL);
	/* index + 2^order - 1 must not wrap. */
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 1, OWNER_A, U64_MAX, 0),
		     -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 2, OWNER_A, U64_MAX - 2, 0),
		     -EINVAL);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 2, OWNER_A, U64_MAX - 3, 0),
		     0);
	/* Bigger than the window, or than the aligned part of it. */
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 3, OWNER_A, 0, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 31, OWNER_A, 0, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 2, OWNER_A, 0, 0), -ENOSPC);
	TAP_CHECK_EQ(p2pgpu_aper_alloc_run(aper, 1, OWNER_A, U64_MAX - 1, 0),
		     4);
	TAP_CHECK_EQ(stats(aper).used, 6);
	TAP_CHECK_U64(stats(aper).run_allocs, 2);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_run_is_one_unit(const void *arg)
{
	enum p2pgpu_aper_busy why = -1;
	struct p2pgpu_aper_info info;
	struct p2pgpu_aper *aper;
	int r, s;

	(void)arg;
	aper = mk(8, 0);
	if (!aper)
		return;
	r = p2pgpu_aper_alloc_run(aper, 2, OWNER_A, 0, 0);
	s = p2pgpu_aper_alloc(aper, OWNER_B, 0, 1);
	TAP_CHECK(r == 0 && s >= 4);
	/* Pin through a tail slot pins the whole run. */
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, r + 3), 0);
	TAP_CHECK_EQ(stats(aper).pinned, 4);
	TAP_CHECK_EQ(p2pgpu_aper_lookup(aper, r + 2, &info), 0);
	TAP_CHECK_EQ(info.pin_count, 1);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, r), -EBUSY);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 5, NULL), s);
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, s), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 5, &why), -EBUSY);
	TAP_CHECK_EQ(why, P2PGPU_APER_BUSY_PINNED);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, r + 1, 6), 0);
	TAP_CHECK_EQ(stats(aper).pinned, 0);
	TAP_CHECK_EQ(p2pgpu_aper_touch(aper, r + 2, 7), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 8, NULL), r);
	TAP_CHECK_EQ(stats(aper).evicting, 4);
	TAP_CHECK_EQ(p2pgpu_aper_abort_evict(aper, r + 1, 8), -EINVAL);
	TAP_CHECK(aper_check_invariants(aper));
	TAP_CHECK_EQ(p2pgpu_aper_free(aper, r), 0);
	TAP_CHECK_EQ(stats(aper).used, 0);
	TAP_CHECK_EQ(stats(aper).evicting, 0);
	TAP_CHECK(aper_check_invariants(aper));
	p2pgpu_aper_destroy(aper);
}

static void t_destroy_pinned_warns(const void *arg)
{
	struct p2pgpu_aper *aper;
	int a;

	(void)arg;
	aper = mk(2, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, a), 0);
	tap_expect_warns(1);
	p2pgpu_aper_destroy(aper);
}

static void t_destroy_used_quiet(const void *arg)
{
	struct p2pgpu_aper *aper;

	(void)arg;
	/* Used and evicting slots are fine at destroy time; only pins warn. */
	aper = mk(4, 0);
	if (!aper)
		return;
	TAP_CHECK(p2pgpu_aper_alloc(aper, OWNER_A, 0, 0) >= 0);
	TAP_CHECK(p2pgpu_aper_alloc_run(aper, 1, OWNER_A, 0, 0) >= 0);
	TAP_CHECK(p2pgpu_aper_pick_victim(aper, 0, NULL) >= 0);
	p2pgpu_aper_destroy(aper);
}

static void t_stats_snapshot(const void *arg)
{
	struct p2pgpu_aper_stats st;
	struct p2pgpu_aper *aper;
	int a, b, r;

	(void)arg;
	aper = mk(10, 0);
	if (!aper)
		return;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	b = p2pgpu_aper_alloc(aper, OWNER_A, 1, 0);
	r = p2pgpu_aper_alloc_run(aper, 1, OWNER_A, 2, 0);
	TAP_CHECK(a >= 0 && b >= 0 && r >= 0);
	TAP_CHECK_EQ(p2pgpu_aper_pin(aper, r), 0);
	TAP_CHECK_EQ(p2pgpu_aper_pick_victim(aper, 1, NULL), a);
	p2pgpu_aper_get_stats(aper, &st);
	TAP_CHECK_EQ(st.total, 10);
	TAP_CHECK_EQ(st.used, 4);
	TAP_CHECK_EQ(st.pinned, 2);
	TAP_CHECK_EQ(st.evicting, 1);
	TAP_CHECK_EQ(st.free, 6);
	TAP_CHECK_U64(st.allocs, 2);
	TAP_CHECK_U64(st.run_allocs, 1);
	TAP_CHECK_U64(st.evictions, 1);
	TAP_CHECK_U64(st.frees, 0);
	TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, r, 1), 0);
	p2pgpu_aper_destroy(aper);
}

static void t_ops_do_not_allocate(const void *arg)
{
	struct p2pgpu_aper *aper;
	unsigned long calls;
	int a, r;

	(void)arg;
	/* Only create allocates, so every other call is safe in atomic context. */
	aper = mk(8, 1);
	if (!aper)
		return;
	calls = shim_alloc_calls;
	a = p2pgpu_aper_alloc(aper, OWNER_A, 0, 0);
	r = p2pgpu_aper_alloc_run(aper, 2, OWNER_A, 0, 0);
	p2pgpu_aper_pin(aper, a);
	p2pgpu_aper_touch(aper, r, 2);
	p2pgpu_aper_pick_victim(aper, 9, NULL);
	p2pgpu_aper_pick_victim_filter(aper, 9, true, NULL, NULL, NULL);
	p2pgpu_aper_unpin(aper, a, 10);
	p2pgpu_aper_free(aper, r);
	p2pgpu_aper_free(aper, a);
	TAP_CHECK_EQ(shim_alloc_calls - calls, 0);
	p2pgpu_aper_destroy(aper);
}

static const struct tap_case cases[] = {
	{ "create rejects bad sizes", t_create_args, NULL },
	{ "alloc, lookup, free, double free", t_alloc_free, NULL },
	{ "exhaustion gives -ENOSPC and is counted", t_exhaustion, NULL },
	{ "calls on free or out-of-range slots give -EINVAL/-ENOENT", t_lookup_args, NULL },
	{ "pinned slot is never a victim; all pinned gives PINNED", t_pin_excludes_victim, NULL },
	{ "pins nest and block free", t_pin_nesting, NULL },
	{ "unpin of an unpinned slot warns and fails", t_unpin_underflow_warns, NULL },
	{ "pin count overflow gives -EOVERFLOW", t_pin_overflow, NULL },
	{ "too young gives RESIDENCY; min_residency old is evictable", t_residency, NULL },
	{ "young+pinned reports RESIDENCY; unpin restarts the clock", t_residency_beats_pinned, NULL },
	{ "residency arithmetic at the u64 limits", t_residency_huge, NULL },
	{ "pick_victim_any ignores residency, never pins", t_pick_any, NULL },
	{ "filter skips kept allocations, which keep their LRU place", t_filter_skips_kept, NULL },
	{ "filter keeping all that qualify gives KEPT", t_filter_all_kept, NULL },
	{ "filter: residency stops the walk; KEPT vs RESIDENCY", t_filter_residency, NULL },
	{ "filter sees a run's first index and order", t_filter_runs, NULL },
	{ "time going backwards is clamped", t_time_backwards, NULL },
	{ "victims come in placement order", t_lru_placement_order, NULL },
	{ "touch and unpin move to the MRU end", t_lru_touch, NULL },
	{ "touch restarts the residency clock", t_touch_restarts_residency, NULL },
	{ "evicting state: no pin/touch/re-pick; abort and free", t_evicting_state, NULL },
	{ "empty window gives -ENOENT", t_pick_empty, NULL },
	{ "runs are aligned, first fit, and free as a whole", t_run_aligned, NULL },
	{ "fragmented window gives run -ENOSPC, singles still fit", t_run_fragmented, NULL },
	{ "run argument checks", t_run_args, NULL },
	{ "a run pins, touches and evicts as one unit", t_run_is_one_unit, NULL },
	{ "destroy with a pinned slot warns", t_destroy_pinned_warns, NULL },
	{ "destroy with used slots is quiet", t_destroy_used_quiet, NULL },
	{ "stats snapshot", t_stats_snapshot, NULL },
	{ "only create allocates memory", t_ops_do_not_allocate, NULL },
};

int main(void)
{
	return tap_run("aperture_basic", cases, TAP_ARRAY_SIZE(cases));
}
