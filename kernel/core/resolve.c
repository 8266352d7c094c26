// SPDX-License-Identifier: GPL-2.0
/*
 * Resolving an import's range through exporters.
 *
 * This file owns the holds a p2pmap_import_map_and_lock() call takes on the
 * providers it resolves memory of (and the link of the import to them),
 * the calls to the exporter's ops->p2p_map() and ops->p2p_map_pages(),
 * the validation of what they return and the fallback reasons of the
 * pages that did not go peer-to-peer; and the resolve of ordinary memory
 * for a pinned import (pin_user_pages), which needs no HMM.
 */

#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "import.h"
#include "trace.h"

/*
 * Make sure @imp is linked to @prov and take a hold on it for the current
 * resolve, or fail with -ENODEV if the provider is being revoked. Lock
 * order: provider->lock, then import->lock.
 */
static int p2pmap_import_hold(struct p2pmap_import *imp,
			      struct p2pmap_provider *prov,
			      struct list_head *holds, struct p2pmap_hold **hp)
{
	struct p2pmap_link *l, *spare;
	struct p2pmap_hold *h;
	bool linked = false;

	list_for_each_entry(h, holds, node) {
		if (h->prov == prov) {
			*hp = h;
			return 0;
		}
	}
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!h || !spare) {
		kfree(h);
		kfree(spare);
		return -ENOMEM;
	}
	mutex_lock(&prov->lock);
	if (prov->dead) {
		mutex_unlock(&prov->lock);
		kfree(h);
		kfree(spare);
		pr_warn_ratelimited("import: provider %s is gone\n", prov->desc.name);
		return -ENODEV;
	}
	prov->inflight++;
	p2pmap_provider_get(prov);
	h->prov = prov;
	h->imp = imp;
	*hp = h;
	list_add_tail(&h->node, holds);
	list_add_tail(&h->prov_node, &prov->resolvers);
	mutex_lock(&imp->lock);
	imp->resolving++;
	list_for_each_entry(l, &imp->links, imp_node)
		if (l->prov == prov)
			linked = true;
	if (!linked) {
		spare->prov = prov;
		spare->imp = imp;
		p2pmap_provider_get(prov);
		list_add_tail(&spare->prov_node, &prov->imports);
		list_add_tail(&spare->imp_node, &imp->links);
		spare = NULL;
	}
	mutex_unlock(&imp->lock);
	mutex_unlock(&prov->lock);
	kfree(spare);
	return 0;
}

/* Drop the holds of one p2pmap_import_map_and_lock() call, letting revokes finish. */
void p2pmap_import_unhold(struct p2pmap_import *imp,
			  struct list_head *holds)
{
	struct p2pmap_hold *h, *tmp;

	list_for_each_entry_safe(h, tmp, holds, node) {
		mutex_lock(&h->prov->lock);
		mutex_lock(&imp->lock);
		if (!--imp->resolving) {
			imp->res_mapping = NULL;
			imp->res_any = false;
			imp->res_set = false;
		}
		mutex_unlock(&imp->lock);
		list_del(&h->prov_node);
		h->prov->inflight--;
		wake_up_all(&h->prov->revoke_wq);
		mutex_unlock(&h->prov->lock);
		p2pmap_provider_put(h->prov);
		list_del(&h->node);
		kfree(h);
	}
}

/* Check what the exporter returned; a broken exporter must not crash us. */
static int p2pmap_chunk_validate(struct p2pmap_provider *prov,
				 struct p2pmap_chunk *c, long pages)
{
	unsigned long sum = 0;
	unsigned int i;

	if (c->req.nr_ext > c->req.max_ext)
		goto bad;
	for (i = 0; i < c->req.nr_ext; i++) {
		struct p2pmap_extent *e = &c->ext[i];

		if (!e->npages || e->reason >= P2PMAP_REASON_NR)
			goto bad;
		switch (e->type) {
		case P2PMAP_EXT_P2P:
			/* P2P only where the core said a route exists. */
			if (!prov->desc.pdev || !(c->req.flags & P2PMAP_REQ_P2P_OK))
				goto bad;
			if (e->phys < pci_resource_start(prov->desc.pdev, prov->desc.bar) ||
			    e->phys + (e->npages << PAGE_SHIFT) - 1 >
			    pci_resource_end(prov->desc.pdev, prov->desc.bar))
				goto bad;
			break;
		case P2PMAP_EXT_SYSMEM:
			/* A device-private page is never system memory. */
			if (!e->page || c->req.pages)
				goto bad;
			break;
		case P2PMAP_EXT_ERROR:
			if (e->error >= 0)
				goto bad;
			break;
		case P2PMAP_EXT_MIGRATE:
			if (!c->req.pages || e->reason == P2PMAP_REASON_NONE ||
			    e->reason == P2PMAP_REASON_SYSTEM_PAGE)
				goto bad;
			break;
		default:
			goto bad;
		}
		sum += e->npages;
	}
	if (sum == pages)
		return 0;
bad:
	pr_err_ratelimited("provider %s returned malformed extents (%u extents for %ld pages)\n",
			   prov->desc.name, c->req.nr_ext, pages);
	return -EIO;
}

/*
 * Record that [@first, @last] of @mapping (for device-private pages: the
 * pfn range of @req->pages, with @mapping NULL) is being resolved, before
 * the exporter is asked: an exporter event on those pages from now on
 * makes the install fail (p2pmap_provider_invalidate()), one elsewhere
 * does not.
 */
static void p2pmap_import_note_resolving(struct p2pmap_import *imp,
					 struct p2pmap_hold *h,
					 const struct p2pmap_map_req *req)
{
	struct address_space *mapping = req->mapping;
	pgoff_t first = req->pgoff, last = req->pgoff + req->npages - 1;

	if (req->pages) {
		unsigned long i, pfn;

		first = ULONG_MAX;
		last = 0;
		for (i = 0; i < req->npages; i++) {
			pfn = page_to_pfn(req->pages[i]);
			first = min(first, pfn);
			last = max(last, pfn);
		}
	}
	mutex_lock(&imp->lock);
	h->req_task = current;
	h->req_mapping = mapping;
	h->req_first = first;
	h->req_last = last;
	h->req_pages = req->pages;
	h->req_npages = req->npages;
	if (imp->res_any) {
		/* nothing to narrow */
	} else if (!imp->res_set) {
		imp->res_set = true;
		imp->res_mapping = mapping;
		imp->res_first = first;
		imp->res_last = last;
	} else if (imp->res_mapping != mapping) {
		imp->res_any = true;
	} else {
		imp->res_first = min(imp->res_first, first);
		imp->res_last = max(imp->res_last, last);
	}
	mutex_unlock(&imp->lock);
}

/*
 * The fallback reason of an extent that did not go peer-to-peer, the one
 * rule for both exporter calls: when the core gave the exporter no route
 * (@p2p_ok false: the import's policy, or the verdict's reason: no route,
 * no CONFIG_PCI_P2PDMA, the importer's DMA mask), the core knows why better
 * than the exporter and its reason replaces the exporter's; with a route,
 * the exporter's reason stands (its window was exhausted, say).
 */
static u8 p2pmap_fallback_reason(const struct p2pmap_import *imp,
				 const struct p2pmap_verdict *v, bool p2p_ok,
				 u8 reason)
{
	if (p2p_ok)
		return reason;
	return imp->policy == P2PMAP_SYSMEM_ONLY ? P2PMAP_REASON_POLICY :
						   v->reason;
}

/*
 * Account what the exporter returned in @c and queue the pages it asked
 * the core to migrate (%P2PMAP_EXT_MIGRATE, only from p2p_map_pages()).
 */
static int p2pmap_resolve_account(struct p2pmap_import *imp,
				  struct p2pmap_provider *prov,
				  struct p2pmap_chunk *c,
				  const struct p2pmap_verdict *v, bool p2p_ok,
				  struct p2pmap_migrate_list **mig)
{
	unsigned long j, k;
	unsigned int i;
	int ret = 0;

	for (i = 0, k = 0; i < c->req.nr_ext; k += c->ext[i++].npages) {
		struct p2pmap_extent *e = &c->ext[i];

		e->dma_addr = DMA_MAPPING_ERROR;
		if (e->type == P2PMAP_EXT_P2P) {
			atomic64_add(e->npages, &prov->stats.p2p_pages);
			continue;
		}
		if (e->type == P2PMAP_EXT_SYSMEM)
			atomic64_add(e->npages, &prov->stats.sysmem_pages);
		e->reason = p2pmap_fallback_reason(imp, v, p2p_ok, e->reason);
		atomic64_add(e->npages, &prov->stats.fallback_pages[e->reason]);
		trace_p2pmap_fallback(prov->desc.name, e->reason, e->npages);
		if (e->type != P2PMAP_EXT_MIGRATE)
			continue;
		atomic64_add(e->npages, &prov->stats.migrated_pages);
		for (j = 0; j < e->npages && !ret; j++)
			ret = p2pmap_migrate_add(mig, c->va + ((k + j) << PAGE_SHIFT),
						 e->reason);
	}
	return ret;
}

/**
 * p2pmap_resolve_exporter() - resolve memory of one provider through it
 * @imp: the import
 * @prov: the provider; the caller's reference, which this consumes
 * @holds: the hold list of the p2pmap_import_map_and_lock() call
 * @src: what to resolve: pages of a bound address space (@src->mapping,
 *	through ops->p2p_map()) or device-private pages (@src->pages, through
 *	ops->p2p_map_pages())
 * @va: user address of the first page
 * @npages: pages to resolve
 * @out: list the chunks go on, in VA order
 * @mig: pages the exporter asks the core to move to system memory
 *
 * The one path for both exporter calls. It owns the hold on @prov (taken
 * here, on @holds, given back by p2pmap_import_unhold() when the map is
 * over) and the caller's provider reference (dropped here on every path).
 * It asks for the verdict, refuses %P2PMAP_REQUIRE_P2P without a route,
 * calls the exporter in batches of at most P2PMAP_EXT_BATCH pages,
 * validates and accounts every answer, and sets the fallback reasons by
 * p2pmap_fallback_reason().
 *
 * Context: process context, mmap_lock held for read, no p2pmap lock held.
 * Return: 0, or a negative errno (the exporter's, -EREMOTEIO, -ENODEV,
 * -ENOMEM, -EIO for a broken exporter).
 */
int p2pmap_resolve_exporter(struct p2pmap_import *imp,
			    struct p2pmap_provider *prov,
			    struct list_head *holds,
			    const struct p2pmap_resolve_src *src,
			    unsigned long va, unsigned long npages,
			    struct list_head *out,
			    struct p2pmap_migrate_list **mig)
{
	unsigned long idx0 = (va - imp->start) >> PAGE_SHIFT, done_total = 0;
	const char *call = src->pages ? "p2p_map_pages" : "p2p_map";
	struct p2pmap_verdict v;
	struct p2pmap_hold *h;
	bool p2p_ok;
	int ret;

	ret = p2pmap_import_hold(imp, prov, holds, &h);
	if (!ret)
		ret = p2pmap_attach_verdict(imp->attach, prov, &v);
	if (ret)
		goto out;
	p2p_ok = v.route != P2PMAP_ROUTE_NONE && imp->policy != P2PMAP_SYSMEM_ONLY;
	if (imp->policy == P2PMAP_REQUIRE_P2P && !p2p_ok) {
		pr_warn_ratelimited("import: REQUIRE_P2P but %s cannot reach %s: %s\n",
				    dev_name(imp->attach->dev), prov->desc.name,
				    p2pmap_reason_name(v.reason));
		ret = -EREMOTEIO;
		goto out;
	}
	while (done_total < npages) {
		unsigned long batch = min_t(unsigned long, npages - done_total,
					    P2PMAP_EXT_BATCH);
		struct p2pmap_chunk *c;
		unsigned long i;
		long done;

		c = p2pmap_chunk_alloc(batch, true);
		if (!c) {
			ret = -ENOMEM;
			goto out;
		}
		if (src->pages) {
			c->req.pages = kmalloc_array(batch, sizeof(*c->req.pages),
						     GFP_KERNEL);
			if (!c->req.pages) {
				kvfree(c);
				ret = -ENOMEM;
				goto out;
			}
			for (i = 0; i < batch; i++) {
				c->req.pages[i] = src->pages[done_total + i];
				/* Device-private again: no longer a migrated page. */
				xa_erase(&imp->migrated, idx0 + done_total + i);
			}
		} else {
			c->req.mapping = src->mapping;
			c->req.pgoff = src->pgoff + done_total;
			c->req.span_first = src->pgoff;
			c->req.span_last = src->pgoff + npages - 1;
		}
		c->prov = prov;
		c->va = va + (done_total << PAGE_SHIFT);
		c->req.attach = imp->attach;
		c->req.npages = batch;
		c->req.flags = (imp->write ? P2PMAP_REQ_WRITE : 0) |
			       (p2p_ok ? P2PMAP_REQ_P2P_OK : 0) |
			       (imp->policy == P2PMAP_REQUIRE_P2P ?
				P2PMAP_REQ_REQUIRE_P2P : 0) |
			       (imp->pinned ? P2PMAP_REQ_PIN : 0);
		c->req.ext = c->ext;
		c->req.max_ext = batch;
		p2pmap_import_note_resolving(imp, h, &c->req);
		done = src->pages ? prov->desc.ops->p2p_map_pages(prov, &c->req) :
				    prov->desc.ops->p2p_map(prov, &c->req);
		mutex_lock(&imp->lock);
		h->req_task = NULL;
		mutex_unlock(&imp->lock);
		if (done <= 0 || done > batch) {
			kfree(c->req.pages);
			kvfree(c);
			if (done > (long)batch || !done) {
				pr_err_ratelimited("provider %s %s returned %ld for %lu pages\n",
						   prov->desc.name, call, done, batch);
				ret = -EIO;
			} else {
				ret = done;
			}
			goto out;
		}
		atomic64_inc(&prov->stats.maps);
		ret = p2pmap_chunk_validate(prov, c, done);
		if (ret) {
			prov->desc.ops->p2p_unmap(prov, &c->req);
			kfree(c->req.pages);
			kvfree(c);
			goto out;
		}
		ret = p2pmap_resolve_account(imp, prov, c, &v, p2p_ok, mig);
		if (ret) {
			p2pmap_chunk_release(imp, c);
			goto out;
		}
		list_add_tail(&c->node, out);
		done_total += done;
	}
out:
	p2pmap_provider_put(prov);
	return ret;
}

/*
 * Ordinary memory for a pinned import: pin it long-term, like an RDMA
 * memory registration does, so it stays where it is until the import is
 * destroyed; each chunk is DMA-mapped and counted into @pl as it is built.
 * Called with mmap_lock held for read.
 */
int p2pmap_resolve_pinned(struct p2pmap_import *imp, unsigned long va,
			  unsigned long npages, struct list_head *out,
			  struct p2pmap_placement *pl)
{
	unsigned int gup = FOLL_LONGTERM | (imp->write ? FOLL_WRITE : 0);
	u8 flags = imp->write ? P2PMAP_EXT_F_WRITE : 0;
	struct page **pages;
	int ret = 0;

	pages = kvcalloc(min_t(unsigned long, npages, P2PMAP_EXT_BATCH),
			 sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (npages && !ret) {
		unsigned long batch = min_t(unsigned long, npages, P2PMAP_EXT_BATCH);
		struct p2pmap_chunk *c;
		long got, i;

		c = p2pmap_sys_chunk(imp, batch, va);
		if (!c) {
			ret = -ENOMEM;
			break;
		}
		got = p2pmap_pin_user_pages_remote(imp->mm, va, batch, gup,
						   pages, NULL);
		if (got <= 0) {
			p2pmap_chunk_release(imp, c);	/* the spare again */
			ret = got ? got : -EFAULT;
			if (ret == -EREMOTEIO && !P2PMAP_GUP_PINS_P2PDMA)
				pr_warn_ratelimited("import: cannot pin 0x%lx: %d: a P2PDMA page, which GUP refuses to pin long-term on this kernel (FOLL_PCI_P2PDMA, 6.2)\n",
						    va, ret);
			else
				pr_warn_ratelimited("import: cannot pin 0x%lx: %d\n", va, ret);
			break;
		}
		c->user_pinned = true;
		for (i = 0; i < got; i++) {
			ret = p2pmap_sys_append(imp, c, pl, pages[i], 1, flags, 0,
						P2PMAP_REASON_SYSTEM_PAGE);
			if (ret)
				break;
		}
		/* The chunk unpins what it holds; the rest is ours to unpin. */
		if (i < got)
			unpin_user_pages(&pages[i], got - i);
		ret = p2pmap_sys_finish(imp, c, pl, ret, out);
		va += got << PAGE_SHIFT;
		npages -= got;
	}
	kvfree(pages);
	return ret;
}

/*
 * Queue the page at @va for migration; the list is allocated on first use
 * (at most one resolve batch of pages, so it never overflows).
 */
int p2pmap_migrate_add(struct p2pmap_migrate_list **mig,
		       unsigned long va, u8 reason)
{
	if (!*mig) {
		*mig = kzalloc(sizeof(**mig), GFP_KERNEL);
		if (!*mig)
			return -ENOMEM;
	}
	if (WARN_ON_ONCE((*mig)->nr >= P2PMAP_EXT_BATCH))
		return -EIO;
	(*mig)->va[(*mig)->nr] = va;
	(*mig)->reason[(*mig)->nr++] = reason;
	return 0;
}
