/* SPDX-License-Identifier: GPL-2.0 */
/*
 * White-box consistency check of a struct p2pgpu_aper for the unit tests.
 *
 * Include after kernel/p2pgpu/p2pgpu_aper.c (the tests #include the .c file, so the
 * private structures are visible). aper_check_invariants() walks the free
 * list, the LRU and the slot array and verifies every structural rule the
 * allocator relies on, reporting each violation through the TAP helper.
 */
#ifndef _P2PMAP_UNIT_APERTURE_CHECK_H
#define _P2PMAP_UNIT_APERTURE_CHECK_H

#include <string.h>

#include "tap.h"

#define AC_FAIL(...) ({ tap_diag(__VA_ARGS__); tap_case_failed = 1; ok = false; })

static inline bool aper_check_invariants(const struct p2pgpu_aper *aper)
{
	const struct p2pgpu_aper_slot *slots = aper->slots;
	u32 n = aper->nslots, nfree = 0, nlru = 0, used = 0, pinned = 0;
	u32 evicting = 0, i;
	const struct list_head *pos;
	unsigned char *on_free, *on_lru;
	u64 last_stamp = 0;
	bool ok = true;

	on_free = calloc(n, 1);
	on_lru = calloc(n, 1);
	if (!on_free || !on_lru) {
		free(on_free);
		free(on_lru);
		AC_FAIL("  invariants: out of memory");
		return false;
	}

	list_for_each(pos, &aper->free_list) {
		const struct p2pgpu_aper_slot *s =
			list_entry(pos, struct p2pgpu_aper_slot, node);
		ptrdiff_t k = s - slots;

		if (k < 0 || k >= (ptrdiff_t)n || nfree > n) {
			AC_FAIL("  invariants: free list corrupt");
			goto out;
		}
		if (on_free[k]++)
			AC_FAIL("  invariants: slot %td twice on free list", k);
		if (s->state != APER_SLOT_FREE || s->head != k)
			AC_FAIL("  invariants: slot %td on free list not free", k);
		nfree++;
	}

	list_for_each(pos, &aper->lru) {
		const struct p2pgpu_aper_slot *s =
			list_entry(pos, struct p2pgpu_aper_slot, node);
		ptrdiff_t k = s - slots;

		if (k < 0 || k >= (ptrdiff_t)n || nlru > n) {
			AC_FAIL("  invariants: LRU corrupt");
			goto out;
		}
		if (on_lru[k]++)
			AC_FAIL("  invariants: slot %td twice on LRU", k);
		if (s->state != APER_SLOT_USED || s->head != k ||
		    s->pin_count || s->evicting)
			AC_FAIL("  invariants: slot %td on LRU but not an unpinned idle head",
				k);
		if (s->stamp < last_stamp)
			AC_FAIL("  invariants: LRU not sorted at slot %td", k);
		if (s->stamp > aper->now)
			AC_FAIL("  invariants: slot %td stamped in the future", k);
		last_stamp = s->stamp;
		nlru++;
	}

	for (i = 0; i < n; i++) {
		const struct p2pgpu_aper_slot *s = &slots[i];
		const struct p2pgpu_aper_slot *h;
		u32 nr;

		if (s->state == APER_SLOT_FREE) {
			if (!on_free[i])
				AC_FAIL("  invariants: free slot %u not on free list", i);
			continue;
		}
		if (s->state != APER_SLOT_USED) {
			AC_FAIL("  invariants: slot %u bad state %u", i, s->state);
			continue;
		}
		used++;
		if (on_free[i])
			AC_FAIL("  invariants: used slot %u on free list", i);
		if (s->head >= n) {
			AC_FAIL("  invariants: slot %u head %u out of range", i, s->head);
			continue;
		}
		h = &slots[s->head];
		nr = 1U << h->order;
		if (h->state != APER_SLOT_USED || h->head != s->head)
			AC_FAIL("  invariants: slot %u head %u is not a head", i, s->head);
		if (s->head & (nr - 1) || i < s->head || i - s->head >= nr)
			AC_FAIL("  invariants: slot %u outside run %u order %u", i,
				s->head, h->order);
		if (h != s)
			continue;
		if (s->pin_count && s->evicting)
			AC_FAIL("  invariants: slot %u pinned and evicting", i);
		if (s->pin_count)
			pinned += nr;
		if (s->evicting)
			evicting += nr;
		if (!s->pin_count && !s->evicting) {
			if (!on_lru[i])
				AC_FAIL("  invariants: idle head %u not on LRU", i);
		} else if (s->node.next != &s->node || s->node.prev != &s->node) {
			AC_FAIL("  invariants: busy head %u not self-linked", i);
		}
	}

	if (nfree != n - aper->nr_used || used != aper->nr_used)
		AC_FAIL("  invariants: free %u used %u nr_used %u nslots %u",
			nfree, used, aper->nr_used, n);
	if (pinned != aper->nr_pinned)
		AC_FAIL("  invariants: pinned %u nr_pinned %u", pinned,
			aper->nr_pinned);
	if (evicting != aper->nr_evicting)
		AC_FAIL("  invariants: evicting %u nr_evicting %u", evicting,
			aper->nr_evicting);
out:
	free(on_free);
	free(on_lru);
	return ok;
}

#endif /* _P2PMAP_UNIT_APERTURE_CHECK_H */
