// SPDX-License-Identifier: GPL-2.0
/*
 * Instruction-count benchmark of the per-page work of the core's
 * system-memory import: p2pmap_resolve_system() of two revisions of
 * kernel/core/sysmem.c and chunk.c (variant.c, "old" and "new"), run over
 * the same hmm_range_fault() results. Run under
 * valgrind --tool=callgrind --collect-atstart=no (bench-icount.sh): only
 * the resolve calls are collected, and the counts of each revision and
 * scenario are dumped under the label "<scenario> <revision>". Without
 * valgrind it only checks that both revisions build the same extents and
 * placement for every scenario (exit status 1 if not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "kshim.h"
#include "variant.h"

#define VA0		0x7f0000000000UL	/* 2 MiB aligned */
#define PFN0		0x40000UL		/* 1 GiB, 2 MiB aligned */
#define MAX_PAGES	4096UL
#define VMEMMAP_PAGES	(PFN0 + 4 * MAX_PAGES)
#define REPS		10

extern struct page *kshim_vmemmap;
extern void *high_memory;
extern const unsigned long *kshim_pfns;
extern unsigned long kshim_va0;
extern unsigned long kshim_log_count;

enum layout { SCATTERED, CONTIG, RUNS8, THP };

struct scenario {
	const char *name;
	enum layout layout;
	unsigned long npages;
	bool write;		/* the import writes */
	bool writable;		/* the pages are mapped writable */
};

static const struct scenario scenarios[] = {
	{ "4k-scattered-rw", SCATTERED, MAX_PAGES, true, true },
	{ "4k-scattered-ro", SCATTERED, MAX_PAGES, false, false },
	{ "4k-runs8-rw", RUNS8, MAX_PAGES, true, true },
	{ "4k-contig-rw", CONTIG, MAX_PAGES, true, true },
	{ "thp-rw", THP, MAX_PAGES, true, true },
	{ "small16-scattered-rw", SCATTERED, 16, true, true },
};

static unsigned long pfns[MAX_PAGES];

static void fill(const struct scenario *s)
{
	unsigned long flags = HMM_PFN_VALID | (s->writable ? HMM_PFN_WRITE : 0);
	unsigned long i, pfn;

	for (i = 0; i < s->npages; i++) {
		switch (s->layout) {
		case SCATTERED:
			pfn = PFN0 + 2 * i;	/* no two neighbours adjacent */
			break;
		case RUNS8:
			pfn = PFN0 + i + i / 8;	/* runs of 8, a hole after each */
			break;
		case CONTIG:
			pfn = PFN0 + i;
			break;
		default:	/* THP: 2 MiB mappings, order 9 */
			pfn = PFN0 + i;
			flags |= 9UL << HMM_PFN_ORDER_SHIFT;
			break;
		}
		pfns[i] = pfn | flags;
	}
	kshim_pfns = pfns;
	kshim_va0 = VA0;
}

struct run {
	struct icount_ext ext[MAX_PAGES];
	unsigned long n;
	struct icount_placement pl;
};

static struct run res[2];

#define RUN(v, s, r, label) ({						\
	struct icount_import *x = icount_##v##_create(VA0, (s)->npages, (s)->write); \
	int ret = x ? icount_##v##_resolve(x) : -ENOMEM;		\
	int k;								\
									\
	if (x)								\
		icount_##v##_release(x);	/* warm-up, not counted */	\
	for (k = 0; k < REPS && !ret; k++) {				\
		CALLGRIND_TOGGLE_COLLECT;				\
		ret = icount_##v##_resolve(x);				\
		CALLGRIND_TOGGLE_COLLECT;				\
		if (!ret && k == REPS - 1)				\
			(r)->n = icount_##v##_result(x, (r)->ext,	\
						     MAX_PAGES, &(r)->pl); \
		icount_##v##_release(x);				\
	}								\
	CALLGRIND_DUMP_STATS_AT(label);					\
	if (x)								\
		icount_##v##_destroy(x);				\
	ret;								\
})

int main(void)
{
	unsigned int i;
	char label[128];
	int bad = 0;

	kshim_vmemmap = calloc(VMEMMAP_PAGES, sizeof(struct page));
	if (!kshim_vmemmap)
		return 1;
	high_memory = (void *)(KSHIM_PAGE_OFFSET + (VMEMMAP_PAGES << PAGE_SHIFT));
	printf("# icount: pages reps extents per scenario; counts under the label \"<scenario> <revision>\"\n");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		int r0, r1;

		fill(s);
		memset(res, 0, sizeof(res));
		snprintf(label, sizeof(label), "%s old", s->name);
		r0 = RUN(old, s, &res[0], label);
		snprintf(label, sizeof(label), "%s new", s->name);
		r1 = RUN(new, s, &res[1], label);
		if (r0 || r1 || res[0].n != res[1].n ||
		    memcmp(res[0].ext, res[1].ext, res[0].n * sizeof(res[0].ext[0])) ||
		    memcmp(&res[0].pl, &res[1].pl, sizeof(res[0].pl)) ||
		    res[1].pl.sysmem_pages != s->npages ||
		    res[1].pl.system_reason_pages != s->npages) {
			printf("not ok %u %s: old ret %d, %lu extents, %lu pages; new ret %d, %lu extents, %lu pages\n",
			       i + 1, s->name, r0, res[0].n, res[0].pl.sysmem_pages,
			       r1, res[1].n, res[1].pl.sysmem_pages);
			bad = 1;
			continue;
		}
		printf("ok %u %s pages=%lu reps=%d extents=%lu\n", i + 1, s->name,
		       s->npages, REPS, res[1].n);
	}
	if (kshim_log_count) {
		printf("not ok: %lu warnings logged\n", kshim_log_count);
		bad = 1;
	}
	free(kshim_vmemmap);
	return bad;
}
