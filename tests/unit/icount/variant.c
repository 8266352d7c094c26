// SPDX-License-Identifier: GPL-2.0
/*
 * One revision of the core's system-memory import, as the benchmark
 * driver sees it: compiled with that revision's sysmem.c, chunk.c and
 * headers (bench-icount.sh builds it once per revision, with -DVARIANT=
 * naming it, and hides every other symbol of the result). An import of
 * ordinary memory is set up as p2pmap_import_create() sets it up for the
 * fields the walk reads; icount_<VARIANT>_resolve() is
 * p2pmap_resolve_system() over the whole range, the call counted.
 */
#include <stdlib.h>

#include "import.h"
#include "variant.h"

#define CAT3(a, b, c) a##b##c
#define NAME(v, x) CAT3(icount_, v, x)
#define FN(x) NAME(VARIANT, _##x)

struct icount_import {
	struct p2pmap_import imp;
	struct p2pmap_attach attach;
	struct device dev;
	struct list_head out;
	struct p2pmap_placement pl;
};

struct icount_import *FN(create)(unsigned long start, unsigned long npages,
				 bool write)
{
	struct icount_import *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->dev.name = "icount";
	x->attach.dev = &x->dev;
	x->imp.attach = &x->attach;
	x->imp.start = start;
	x->imp.npages = npages;
	x->imp.policy = P2PMAP_PREFER_P2P;
	x->imp.write = write;
	INIT_LIST_HEAD(&x->out);
	if (npages <= P2PMAP_SMALL_RANGE) {
		x->imp.spare = p2pmap_chunk_alloc(P2PMAP_SMALL_RANGE, false);
		if (!x->imp.spare) {
			free(x);
			return NULL;
		}
		x->imp.spare->small = true;
	}
	return x;
}

int FN(resolve)(struct icount_import *x)
{
	struct p2pmap_migrate_list *mig = NULL;
	struct p2pmap_seq seq = {};
	LIST_HEAD_DECL(holds);

	memset(&x->pl, 0, sizeof(x->pl));
	return p2pmap_resolve_system(&x->imp, &seq, x->imp.start, x->imp.npages,
				     &x->out, &holds, &mig, &x->pl);
}

/*
 * The result of the last resolve, for comparison between revisions: the
 * extents in VA order into @ext (at most @max), the placement into @pl.
 * Returns the number of extents.
 */
unsigned long FN(result)(struct icount_import *x, struct icount_ext *ext,
			 unsigned long max, struct icount_placement *pl)
{
	struct p2pmap_chunk *c;
	unsigned long n = 0;
	unsigned int i;

	list_for_each_entry(c, &x->out, node) {
		for (i = 0; i < c->req.nr_ext; i++, n++) {
			const struct p2pmap_extent *e = &c->ext[i];

			if (n >= max)
				continue;
			ext[n].type = e->type;
			ext[n].reason = e->reason;
			ext[n].order = e->order;
			ext[n].flags = e->flags;
			ext[n].npages = e->npages;
			ext[n].pfn = page_to_pfn(e->page);
			ext[n].dma_addr = e->dma_addr;
		}
	}
	pl->sysmem_pages = x->pl.sysmem_pages;
	pl->p2p_pages = x->pl.p2p_pages;
	pl->system_reason_pages = x->pl.reason_pages[P2PMAP_REASON_SYSTEM_PAGE];
	return n;
}

/* Release the chunks of the last resolve, as a remap or destroy does. */
void FN(release)(struct icount_import *x)
{
	p2pmap_chunks_release(&x->imp, &x->out);
	INIT_LIST_HEAD(&x->out);
}

void FN(destroy)(struct icount_import *x)
{
	FN(release)(x);
	kvfree(x->imp.spare);
	free(x);
}
