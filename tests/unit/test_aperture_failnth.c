// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation-failure sweep for the p2pmap BAR aperture slot allocator: the
 * userland analogue of the kernel's fail-nth. For N = 1, 2, ... the N-th
 * allocation inside p2pgpu_aper_create() fails; every such call must return
 * ERR_PTR(-ENOMEM), warn nothing and leave no allocation behind, until N
 * exceeds the number of allocation sites and creation succeeds.
 */
#include <limits.h>
#include <stdint.h>

/* kernel/p2pgpu/p2pgpu_aper.c, found through -I$(KLIB); see the Makefile. */
#include "p2pgpu_aper.c"

#include "aperture_check.h"
#include "tap.h"

#define MAX_SITES	64

struct sweep_arg {
	u32 nslots;
	u64 min_residency;
};

static void t_create_sweep(const void *arg)
{
	const struct sweep_arg *sa = arg;
	unsigned long n;

	for (n = 1; n <= MAX_SITES; n++) {
		unsigned long fails0 = shim_alloc_failures;
		long live0 = shim_allocs_live;
		struct p2pgpu_aper *aper;
		int s;

		shim_fail_nth(n);
		aper = p2pgpu_aper_create(sa->nslots, sa->min_residency);
		shim_fail_nth(0);
		if (IS_ERR(aper)) {
			TAP_CHECK_EQ(PTR_ERR(aper), -ENOMEM);
			TAP_CHECK_EQ(shim_alloc_failures - fails0, 1);
			TAP_CHECK_EQ(shim_allocs_live, live0);
			if (tap_case_failed)
				return;
			continue;
		}
		/* Succeeded: the injection point lay beyond the last site. */
		TAP_CHECK_EQ(shim_alloc_failures - fails0, 0);
		TAP_CHECK(n > 1);
		tap_diag("create(%u): %lu allocation site(s), each failure clean",
			 sa->nslots, n - 1);
		/* And the allocator that finally came up works. */
		TAP_CHECK(aper_check_invariants(aper));
		s = p2pgpu_aper_alloc(aper, NULL, 0, 0);
		TAP_CHECK(s >= 0);
		TAP_CHECK_EQ(p2pgpu_aper_free(aper, s), 0);
		p2pgpu_aper_destroy(aper);
		TAP_CHECK_EQ(shim_allocs_live, live0);
		return;
	}
	TAP_CHECK(!"create still failing after MAX_SITES injections");
}

static void t_injection_works(const void *arg)
{
	void *a, *b, *c;

	(void)arg;
	/* Self-test of the shim: fail-nth hits exactly the N-th call. */
	shim_fail_nth(2);
	a = kzalloc(8, GFP_KERNEL);
	b = kvcalloc(2, 8, GFP_KERNEL);
	c = kzalloc(8, GFP_KERNEL);
	TAP_CHECK(a && !b && c);
	kfree(a);
	kvfree(b);
	kfree(c);
	/* n * size overflow is refused, as kvcalloc() does in the kernel. */
	a = kvcalloc(SIZE_MAX / 2, 4, GFP_KERNEL);
	TAP_CHECK(!a);
	/* So is anything above INT_MAX bytes, with a warning (kvmalloc). */
	tap_expect_warns(1);
	a = kvcalloc(1, (size_t)INT_MAX + 1, GFP_KERNEL);
	TAP_CHECK(!a);
}

static const struct sweep_arg one = { 1, 0 };
static const struct sweep_arg many = { 4096, 100 };

static const struct tap_case cases[] = {
	{ "shim fail-nth injects exactly the N-th allocation", t_injection_works, NULL },
	{ "create(1): every allocation failure is a clean -ENOMEM", t_create_sweep, &one },
	{ "create(4096): every allocation failure is a clean -ENOMEM", t_create_sweep, &many },
};

int main(void)
{
	return tap_run("aperture_failnth", cases, TAP_ARRAY_SIZE(cases));
}
