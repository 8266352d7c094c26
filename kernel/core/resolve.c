// SPDX-License-Identifier: GPL-2.0
/*
 * Resolving an import's range through exporters.
 *
 * This file owns the holds a p2pmap_import_map() call takes on the
 * providers it resolves memory of (and the link of the import to them),
 * the calls to the exporter's ops->p2p_map() and ops->p2p_map_pages(),
 * the validation of what they return and the fallback reasons of the
 * pages that did not go peer-to-peer; and the resolve of ordinary memory
 * for a pinned import (pin_user_pages), which needs no HMM.
 */

#include <linux/hmm.h>
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
int p2pmap_import_hold(struct p2pmap_import *imp,
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
	kref_get(&prov->kref);
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
		kref_get(&prov->kref);
		list_add_tail(&spare->prov_node, &prov->imports);
		list_add_tail(&spare->imp_node, &imp->links);
		spare = NULL;
	}
	mutex_unlock(&imp->lock);
	mutex_unlock(&prov->lock);
	kfree(spare);
	return 0;
}

/* Drop the holds of one p2pmap_import_map() call, letting revokes finish. */
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
		kref_put(&h->prov->kref, p2pmap_provider_release);
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
			if (!prov->desc.pdev || !c->req.p2p_ok)
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

/* One exporter resolve of [va, va + npages) in @vma, appended to @out. */
int p2pmap_resolve_provider(struct p2pmap_import *imp,
			    struct p2pmap_provider *prov,
			    struct p2pmap_hold *h,
			    struct vm_area_struct *vma, unsigned long va,
			    unsigned long npages, struct list_head *out)
{
	unsigned long npages_total;
	pgoff_t span_first = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
	struct p2pmap_verdict v;
	bool p2p_ok;
	int ret;

	ret = p2pmap_attach_verdict(imp->attach, prov, &v);
	if (ret)
		return ret;
	p2p_ok = v.route != P2PMAP_ROUTE_NONE && imp->policy != P2PMAP_SYSMEM_ONLY;
	if (imp->policy == P2PMAP_REQUIRE_P2P && !p2p_ok) {
		pr_warn_ratelimited("import: REQUIRE_P2P but %s cannot reach %s: %s\n",
				    dev_name(imp->attach->dev), prov->desc.name,
				    p2pmap_reason_name(v.reason));
		return -EREMOTEIO;
	}

	npages_total = npages;
	while (npages) {
		unsigned long batch = min_t(unsigned long, npages, P2PMAP_EXT_BATCH);
		struct p2pmap_chunk *c;
		unsigned int i;
		long done;

		c = p2pmap_chunk_alloc(batch, true);
		if (!c)
			return -ENOMEM;
		c->prov = prov;
		c->va = va;
		c->req.attach = imp->attach;
		c->req.mapping = vma->vm_file->f_mapping;
		c->req.pgoff = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
		c->req.npages = batch;
		c->req.write = imp->write;
		c->req.p2p_ok = p2p_ok;
		c->req.require_p2p = imp->policy == P2PMAP_REQUIRE_P2P;
		c->req.pin = imp->pinned;
		c->req.span_first = span_first;
		c->req.span_last = span_first + npages_total - 1;
		c->req.ext = c->ext;
		c->req.max_ext = batch;
		p2pmap_import_note_resolving(imp, h, &c->req);
		done = prov->desc.ops->p2p_map(prov, &c->req);
		mutex_lock(&imp->lock);
		h->req_task = NULL;
		mutex_unlock(&imp->lock);
		if (done <= 0 || done > batch) {
			kvfree(c);
			if (done > (long)batch || !done) {
				pr_err_ratelimited("provider %s p2p_map returned %ld for %lu pages\n",
						   prov->desc.name, done, batch);
				return -EIO;
			}
			return done;
		}
		atomic64_inc(&prov->stats.maps);
		ret = p2pmap_chunk_validate(prov, c, done);
		if (ret) {
			prov->desc.ops->p2p_unmap(prov, &c->req);
			kvfree(c);
			return ret;
		}
		for (i = 0; i < c->req.nr_ext; i++) {
			struct p2pmap_extent *e = &c->ext[i];

			e->dma_addr = DMA_MAPPING_ERROR;
			if (e->type == P2PMAP_EXT_P2P) {
				atomic64_add(e->npages, &prov->stats.p2p_pages);
				continue;
			}
			if (e->type == P2PMAP_EXT_SYSMEM)
				atomic64_add(e->npages, &prov->stats.sysmem_pages);
			if (e->reason == P2PMAP_REASON_NONE)
				e->reason = p2p_ok ? P2PMAP_REASON_NONE :
					imp->policy == P2PMAP_SYSMEM_ONLY ?
					P2PMAP_REASON_POLICY : v.reason;
			atomic64_add(e->npages, &prov->stats.fallback_pages[e->reason]);
			trace_p2pmap_fallback(prov->desc.name, e->reason, e->npages);
		}
		list_add_tail(&c->node, out);
		va += done << PAGE_SHIFT;
		npages -= done;
	}
	return 0;
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
		got = pin_user_pages_remote(imp->mm, va, batch, gup, pages,
					    NULL, NULL);
		if (got <= 0) {
			p2pmap_chunk_release(imp, c);	/* the spare again */
			ret = got ? got : -EFAULT;
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

#if IS_ENABLED(CONFIG_HMM_MIRROR)
/*
 * Device-private pages [@va, @va + @n pages) of one pagemap (@hpfns from
 * hmm_range_fault()): resolve them through their provider's
 * p2p_map_pages(), appending chunks to @out; pages the provider cannot
 * peer-map go on @mig.
 */
int p2pmap_resolve_devpriv(struct p2pmap_import *imp,
			   const unsigned long *hpfns, unsigned long va,
			   unsigned long n, struct list_head *out,
			   struct list_head *holds,
			   struct p2pmap_migrate_list **mig)
{
	struct page *first = hmm_pfn_to_page(hpfns[0]);
	unsigned long idx0 = (va - imp->start) >> PAGE_SHIFT;
	struct p2pmap_provider *prov;
	struct p2pmap_verdict v;
	struct p2pmap_hold *h;
	bool p2p_ok;
	int ret;

	prov = p2pmap_pagemap_provider(first);
	if (!prov) {
		pr_warn_ratelimited("import: 0x%lx is device-private memory no p2pmap provider exports\n",
				    va);
		return -EFAULT;
	}
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
	while (n) {
		struct p2pmap_chunk *c;
		unsigned long i, k;
		long done;

		c = p2pmap_chunk_alloc(n, true);
		if (!c) {
			ret = -ENOMEM;
			goto out;
		}
		c->req.pages = kmalloc_array(n, sizeof(*c->req.pages), GFP_KERNEL);
		if (!c->req.pages) {
			kvfree(c);
			ret = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			c->req.pages[i] = hmm_pfn_to_page(hpfns[i]);
			/* Device-private again: no longer a migrated page. */
			xa_erase(&imp->migrated, idx0 + i);
		}
		c->prov = prov;
		c->va = va;
		c->req.attach = imp->attach;
		c->req.npages = n;
		c->req.write = imp->write;
		c->req.p2p_ok = p2p_ok;
		c->req.require_p2p = imp->policy == P2PMAP_REQUIRE_P2P;
		c->req.ext = c->ext;
		c->req.max_ext = n;
		p2pmap_import_note_resolving(imp, h, &c->req);
		done = prov->desc.ops->p2p_map_pages(prov, &c->req);
		mutex_lock(&imp->lock);
		h->req_task = NULL;
		mutex_unlock(&imp->lock);
		if (done <= 0 || done > n) {
			kfree(c->req.pages);
			kvfree(c);
			if (done > (long)n || !done) {
				pr_err_ratelimited("provider %s p2p_map_pages returned %ld for %lu pages\n",
						   prov->desc.name, done, n);
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
		for (i = 0, k = 0; i < c->req.nr_ext; k += c->ext[i++].npages) {
			struct p2pmap_extent *e = &c->ext[i];
			unsigned long j;

			e->dma_addr = DMA_MAPPING_ERROR;
			if (e->type == P2PMAP_EXT_P2P) {
				atomic64_add(e->npages, &prov->stats.p2p_pages);
				continue;
			}
			/*
			 * Without a usable route the core knows the reason
			 * better than the exporter (policy, no route, DMA
			 * mask, kernel config), as for p2p_map().
			 */
			if (!p2p_ok)
				e->reason = imp->policy == P2PMAP_SYSMEM_ONLY ?
					P2PMAP_REASON_POLICY : v.reason;
			atomic64_add(e->npages, &prov->stats.fallback_pages[e->reason]);
			trace_p2pmap_fallback(prov->desc.name, e->reason, e->npages);
			if (e->type != P2PMAP_EXT_MIGRATE)
				continue;
			atomic64_add(e->npages, &prov->stats.migrated_pages);
			for (j = 0; j < e->npages && !ret; j++)
				ret = p2pmap_migrate_add(mig, va + ((k + j) << PAGE_SHIFT),
							 e->reason);
		}
		if (ret) {
			p2pmap_chunk_release(imp, c);
			goto out;
		}
		list_add_tail(&c->node, out);
		va += done << PAGE_SHIFT;
		hpfns += done;
		idx0 += done;
		n -= done;
	}
out:
	p2pmap_provider_put(prov);
	return ret;
}
#endif
