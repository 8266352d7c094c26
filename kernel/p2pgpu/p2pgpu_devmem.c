// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu device memory as MEMORY_DEVICE_PRIVATE pages.
 *
 * This file owns the device-private side of shared virtual memory: the
 * dev_pagemap covering the device memory (created at the first migration,
 * with p2pmap's shared pagemap owner), the allocator of device pages (each
 * backed by a kernel page that stands in for device memory, like the pages
 * of buffer objects, and charged to the same device memory), the copies
 * into and out of device pages done for migrate_vma_*(), migrate_to_ram()
 * for CPU faults, the minimum residency, the SVM counters and their sysfs
 * files, and the teardown at remove, which migrates every page back to
 * system memory. Locking is in "p2pgpu SVM locking and lifetime"
 * (p2pgpu_svm.h). Modelled on lib/test_hmm.c and nouveau_dmem.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/jiffies.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include <drm/drm_drv.h>

#include <linux/p2pmap.h>

#include "p2pgpu_aper.h"
#include "p2pgpu.h"
#include "p2pgpu_svm.h"

#define P2PGPU_SVM_MAX_RESIDENCY_MS	60000

static unsigned int svm_min_residency_ms = 10;
module_param(svm_min_residency_ms, uint, 0444);
MODULE_PARM_DESC(svm_min_residency_ms,
		 "Minimum time in ms process memory migrated to the device stays there before a migration request may move it back; CPU faults always can (default 10, max 60000)");

/**
 * p2pgpu_devmem_owner() - the dev_pagemap owner of p2pgpu's device memory
 *
 * Description: p2pmap's owner, shared by every p2pmap provider: hmm_range_fault() and
 * migrate_vma_*() calls with it see (and do not migrate) the device-private
 * pages of every provider, p2pgpu devices included.
 *
 * Return: the owner cookie put in &dev_pagemap.owner, &migrate_vma.pgmap_owner
 * and &hmm_range.dev_private_owner.
 */
void *p2pgpu_devmem_owner(void)
{
	return p2pmap_pagemap_owner();
}

static const struct dev_pagemap_ops p2pgpu_devmem_ops;

static struct p2pgpu_svm *p2pgpu_page_svm(struct page *page)
{
	return container_of(page_pgmap(page), struct p2pgpu_svm, pagemap);
}

/**
 * p2pgpu_devmem_is_ours() - is a page device-private memory of this device
 * @gdev: the device
 * @page: any page
 *
 * Return: true if @page is one of @gdev's device-private pages.
 */
bool p2pgpu_devmem_is_ours(struct p2pgpu_device *gdev, struct page *page)
{
	return is_device_private_page(page) &&
	       page_pgmap(page)->ops == &p2pgpu_devmem_ops &&
	       p2pgpu_page_svm(page)->gdev == gdev;
}

/**
 * p2pgpu_devmem_dpage() - the state of a p2pgpu device-private page
 * @page: a device-private page of some p2pgpu device
 *
 * Return: its &struct p2pgpu_dpage.
 */
struct p2pgpu_dpage *p2pgpu_devmem_dpage(struct page *page)
{
	struct p2pgpu_svm *svm = p2pgpu_page_svm(page);

	return &svm->dpages[page_to_pfn(page) - svm->first_pfn];
}

/* ---- allocator ----------------------------------------------------------- */

/*
 * Map the device memory as device-private pages: one pagemap, sized to the
 * device memory rounded up to the memory-section size that
 * request_free_mem_region() hands out, all of it on the free list (the
 * accounting against vram, not the pagemap size, limits what is used).
 */
static int p2pgpu_devmem_map(struct p2pgpu_svm *svm)
{
	struct p2pgpu_device *gdev = svm->gdev;
	unsigned long size, pfn;
	struct resource *res;
	void *ptr;
	int ret = 0;

	mutex_lock(&svm->grow_lock);
	if (svm->live || svm->removing) {
		ret = svm->live ? 0 : -ENODEV;
		goto out;
	}
	size = gdev->vram_pages << PAGE_SHIFT;
	res = request_free_mem_region(&iomem_resource, size, "p2pgpu-devmem");
	if (IS_ERR(res)) {
		ret = PTR_ERR(res);
		goto out;
	}
	svm->npages = resource_size(res) >> PAGE_SHIFT;
	svm->dpages = kvcalloc(svm->npages, sizeof(*svm->dpages), GFP_KERNEL);
	if (!svm->dpages) {
		ret = -ENOMEM;
		goto err_release;
	}
	svm->pagemap.type = MEMORY_DEVICE_PRIVATE;
	svm->pagemap.range.start = res->start;
	svm->pagemap.range.end = res->end;
	svm->pagemap.nr_range = 1;
	svm->pagemap.ops = &p2pgpu_devmem_ops;
	svm->pagemap.owner = p2pgpu_devmem_owner();
	ptr = memremap_pages(&svm->pagemap, dev_to_node(&gdev->pdev->dev));
	if (IS_ERR(ptr)) {
		ret = PTR_ERR(ptr);
		goto err_free;
	}
	svm->res = res;
	svm->first_pfn = res->start >> PAGE_SHIFT;

	spin_lock(&svm->free_lock);
	for (pfn = svm->first_pfn + svm->npages; pfn-- > svm->first_pfn;) {
		struct page *page = pfn_to_page(pfn);

		svm->dpages[pfn - svm->first_pfn].slot = P2PGPU_NO_SLOT;
		page->zone_device_data = svm->free_pages;
		svm->free_pages = page;
	}
	spin_unlock(&svm->free_lock);
	WRITE_ONCE(svm->live, true);
	/*
	 * Peers reach the pages through p2pmap from now on. Under the device
	 * lock, so the provider is not unregistered meanwhile; without a
	 * provider (being removed) the pages are only reachable by the CPU.
	 */
	mutex_lock(&gdev->lock);
	if (gdev->prov) {
		ret = p2pmap_provider_add_pagemap(gdev->prov, &svm->pagemap);
		if (ret)
			pci_warn(gdev->pdev,
				 "device-private pages not importable by peers: add_pagemap: %d\n",
				 ret);
		ret = 0;
	}
	mutex_unlock(&gdev->lock);
	pci_info(gdev->pdev,
		 "device memory mapped as %lu device-private pages, pfn %#lx..%#lx\n",
		 svm->npages, svm->first_pfn, svm->first_pfn + svm->npages - 1);
	goto out;

err_free:
	kvfree(svm->dpages);
	svm->dpages = NULL;
err_release:
	release_mem_region(res->start, resource_size(res));
out:
	mutex_unlock(&svm->grow_lock);
	return ret;
}

/* Charge up to @n pages to the device memory; returns how many it got. */
static unsigned long p2pgpu_devmem_reserve(struct p2pgpu_svm *svm,
					   unsigned long n)
{
	struct p2pgpu_device *gdev = svm->gdev;
	long avail;

	mutex_lock(&gdev->lock);
	avail = gdev->vram_pages - gdev->vram_used -
		atomic_long_read(&svm->used);
	n = min_t(long, n, max(avail, 0L));
	atomic_long_add(n, &svm->used);
	mutex_unlock(&gdev->lock);
	return n;
}

static struct page *p2pgpu_devmem_pop(struct p2pgpu_svm *svm)
{
	struct page *page;

	spin_lock(&svm->free_lock);
	page = svm->free_pages;
	if (page)
		svm->free_pages = page->zone_device_data;
	spin_unlock(&svm->free_lock);
	return page;
}

/*
 * The last reference to a device page is gone (after migration back, an
 * munmap, or exit): release its backing page and its charge. May run in
 * atomic context, so a page that still holds a window slot is handed to
 * the free worker, which releases the slot under the device lock first.
 */
static void p2pgpu_devmem_page_free(struct page *page)
{
	struct p2pgpu_svm *svm = p2pgpu_page_svm(page);
	struct p2pgpu_dpage *dp = p2pgpu_devmem_dpage(page);
	struct page *backing;

	spin_lock(&svm->free_lock);
	if (dp->slot != P2PGPU_NO_SLOT) {
		dp->dead = true;
		llist_add(&dp->free_node, &svm->free_deferred);
		spin_unlock(&svm->free_lock);
		schedule_work(&svm->free_work);
		return;
	}
	backing = dp->backing;
	dp->backing = NULL;
	page->zone_device_data = svm->free_pages;
	svm->free_pages = page;
	spin_unlock(&svm->free_lock);
	if (backing)
		__free_page(backing);
	atomic_long_dec(&svm->used);
}

P2PMAP_DEFINE_PAGEMAP_FREE(p2pgpu_devmem_free, p2pgpu_devmem_page_free)

/* Releases the window slots of pages freed while they held one. */
static void p2pgpu_devmem_free_work(struct work_struct *work)
{
	struct p2pgpu_svm *svm = container_of(work, struct p2pgpu_svm,
					      free_work);
	struct p2pgpu_device *gdev = svm->gdev;
	struct p2pgpu_dpage *dp, *next;
	struct llist_node *list;

	list = llist_del_all(&svm->free_deferred);
	mutex_lock(&gdev->lock);
	llist_for_each_entry_safe(dp, next, list, free_node) {
		struct page *page = pfn_to_page(svm->first_pfn +
						(dp - svm->dpages));
		struct page *backing;

		if (dp->slot != P2PGPU_NO_SLOT)
			p2pgpu_devmem_unplace_locked(gdev, page, false);
		spin_lock(&svm->free_lock);
		backing = dp->backing;
		dp->backing = NULL;
		dp->dead = false;
		page->zone_device_data = svm->free_pages;
		svm->free_pages = page;
		spin_unlock(&svm->free_lock);
		if (backing)
			__free_page(backing);
		atomic_long_dec(&svm->used);
	}
	mutex_unlock(&gdev->lock);
}

/* ---- the window ------------------------------------------------------- */

/*
 * A device-private page in the window is recorded in the slot allocator
 * with a tagged owner cookie (&struct p2pgpu_svm with bit 0 set; buffer
 * objects are untagged) and its index in the pagemap, so eviction finds it
 * (p2pgpu_evict_one_locked() in p2pgpu_window.c dispatches on the tag,
 * to &p2pgpu_device.devmem_evict). While
 * it is placed, the slot holds its current data: peers read and write it
 * there, and copies out of the page read the slot.
 */
static void *p2pgpu_devmem_cookie(struct p2pgpu_svm *svm)
{
	return (void *)((uintptr_t)svm | P2PGPU_OWNER_DEVMEM);
}

/**
 * p2pgpu_devmem_unplace_locked() - take a device-private page out of the
 *	window
 * @gdev: the device, with &p2pgpu_device.lock held
 * @page: its device-private page, placed in the window
 * @copy: copy the slot's data back to the backing page (false when the
 *	page is free: nothing reads it again)
 *
 * Importers of the slot are invalidated first (they stop before the data
 * moves), then the slot is freed.
 */
void p2pgpu_devmem_unplace_locked(struct p2pgpu_device *gdev,
				  struct page *page, bool copy)
{
	struct p2pgpu_svm *svm = gdev->svm;
	struct p2pgpu_dpage *dp = p2pgpu_devmem_dpage(page);
	u32 slot = dp->slot;
	void *dst;

	lockdep_assert_held(&gdev->lock);
	if (gdev->prov)
		p2pmap_provider_invalidate_pages(gdev->prov, page_to_pfn(page), 1,
						 P2PMAP_EV_EVICT);
	if (copy) {
		dst = kmap_local_page(dp->backing);
		memcpy_fromio(dst, gdev->window + ((size_t)slot << PAGE_SHIFT),
			      PAGE_SIZE);
		kunmap_local(dst);
	}
	spin_lock(&svm->free_lock);
	dp->slot = P2PGPU_NO_SLOT;
	spin_unlock(&svm->free_lock);
	WARN_ON_ONCE(p2pgpu_aper_free(gdev->aper, slot));
	atomic64_inc(&svm->evictions);
}

/*
 * p2pgpu_devmem_evict_locked() - evict the device-private page in a slot
 * @gdev: the device, with &p2pgpu_device.lock held
 * @owner: the slot's owner cookie (tagged &struct p2pgpu_svm)
 * @index: the page's index in the pagemap
 * @slot: the slot, picked as a victim
 *
 * Return: 0, or -EIO if the slot does not hold that page.
 */
static int p2pgpu_devmem_evict_locked(struct p2pgpu_device *gdev,
				      void *owner, u64 index, u32 slot)
{
	struct p2pgpu_svm *svm = gdev->svm;

	lockdep_assert_held(&gdev->lock);
	if (WARN_ON_ONCE(!svm || owner != p2pgpu_devmem_cookie(svm) ||
			 index >= svm->npages || svm->dpages[index].slot != slot))
		return -EIO;
	p2pgpu_devmem_unplace_locked(gdev, pfn_to_page(svm->first_pfn + index),
				     true);
	return 0;
}

/* Victim filter: the pages the current p2p_map_pages() call resolves. */
static bool p2pgpu_devmem_keep(void *owner, u64 index, unsigned int order,
			       void *arg)
{
	struct p2pgpu_svm *svm = arg;

	return owner == p2pgpu_devmem_cookie(svm) && svm->dpages[index].keep;
}

/*
 * Place @page in the window, evicting the least recently used page that
 * has stayed the minimum residency and is not kept. Returns the slot,
 * -EBUSY or -ENOSPC when the window has no room for a peer, -ENOENT if the
 * page was freed meanwhile.
 */
static int p2pgpu_devmem_place_locked(struct p2pgpu_device *gdev,
				      struct page *page)
{
	struct p2pgpu_svm *svm = gdev->svm;
	struct p2pgpu_dpage *dp = p2pgpu_devmem_dpage(page);
	unsigned long index = page_to_pfn(page) - svm->first_pfn;
	int slot, ret;
	void *src;

	lockdep_assert_held(&gdev->lock);
	if (dp->slot != P2PGPU_NO_SLOT) {
		p2pgpu_aper_touch(gdev->aper, dp->slot, get_jiffies_64());
		return dp->slot;
	}
	slot = p2pgpu_aper_alloc(gdev->aper, p2pgpu_devmem_cookie(svm), index,
				 get_jiffies_64());
	if (slot == -ENOSPC) {
		ret = p2pgpu_evict_one_locked(gdev, false, p2pgpu_devmem_keep,
					      svm);
		if (ret)
			return ret;
		slot = p2pgpu_aper_alloc(gdev->aper, p2pgpu_devmem_cookie(svm),
					 index, get_jiffies_64());
	}
	if (slot < 0)
		return slot;
	/*
	 * The page is alive while it has references (it is mapped); once
	 * page_free() has run it must not take a slot (nothing would free it).
	 */
	spin_lock(&svm->free_lock);
	if (!page_ref_count(page) || dp->dead || !dp->backing) {
		spin_unlock(&svm->free_lock);
		WARN_ON_ONCE(p2pgpu_aper_free(gdev->aper, slot));
		return -ENOENT;
	}
	src = kmap_local_page(dp->backing);
	memcpy_toio(gdev->window + ((size_t)slot << PAGE_SHIFT), src, PAGE_SIZE);
	kunmap_local(src);
	dp->slot = slot;
	spin_unlock(&svm->free_lock);
	atomic64_inc(&svm->placements);
	return slot;
}

/* Append one page to @req's extents, merging with the previous one. */
static void p2pgpu_devmem_add_extent(struct p2pmap_map_req *req, u8 type,
				     u8 reason, phys_addr_t phys)
{
	struct p2pmap_extent *e = req->nr_ext ? &req->ext[req->nr_ext - 1] : NULL;
	u8 flags = (req->flags & P2PMAP_REQ_WRITE) ? P2PMAP_EXT_F_WRITE : 0;

	if (e && e->type == type && e->reason == reason && e->flags == flags &&
	    (type != P2PMAP_EXT_P2P ||
	     e->phys + (e->npages << PAGE_SHIFT) == phys)) {
		e->npages++;
		return;
	}
	e = &req->ext[req->nr_ext++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->reason = reason;
	e->flags = flags;
	e->npages = 1;
	if (type == P2PMAP_EXT_P2P)
		e->phys = phys;
}

/**
 * p2pgpu_devmem_p2p_map_pages() - &p2pmap_provider_ops.p2p_map_pages
 * @prov: this device as a p2pmap provider
 * @req: device-private pages of this device an importer's range holds
 *
 * Places each page in the window (a P2P extent of its slot) when the
 * importer can reach the BAR; pages that do not fit (every other slot
 * pinned, kept for this request, or younger than the minimum residency)
 * and every page of an importer without a route get %P2PMAP_EXT_MIGRATE
 * extents: p2pmap migrates exactly those pages to system memory. Holds
 * nothing until p2p_unmap(): taking a slot back goes through
 * p2pmap_provider_invalidate_pages() (p2pgpu_devmem_unplace_locked()).
 * Runs with the importer's mmap_lock held for read and takes the device
 * lock.
 *
 * Return: pages resolved (all of them), -ENOSPC under REQUIRE_P2P when the
 * window is exhausted, -EINVAL for a page of another device, -ENODEV.
 */
int p2pgpu_devmem_p2p_map_pages(struct p2pmap_provider *prov,
				struct p2pmap_map_req *req)
{
	struct p2pgpu_device *gdev = p2pmap_provider_priv(prov);
	struct p2pgpu_svm *svm = gdev->svm;
	unsigned long i, n = min_t(unsigned long, req->npages, req->max_ext);
	bool exhausted = false;
	int idx, ret = 0;

	if (!drm_dev_enter(&gdev->drm, &idx))
		return -ENODEV;
	for (i = 0; i < n; i++) {
		if (!p2pgpu_devmem_is_ours(gdev, req->pages[i])) {
			p2pgpu_reject(gdev,
				      "p2p_map_pages: page %lu is another device's\n",
				      i);
			drm_dev_exit(idx);
			return -EINVAL;
		}
	}
	mutex_lock(&gdev->lock);
	for (i = 0; i < n; i++)
		p2pgpu_devmem_dpage(req->pages[i])->keep = true;
	for (i = 0; i < n; i++) {
		struct page *page = req->pages[i];
		int slot = -EBUSY;

		if (!(req->flags & P2PMAP_REQ_P2P_OK) ||
		    (req->flags & P2PMAP_REQ_PIN)) {
			/* No route (or policy); pinned imports never get here. */
			p2pgpu_devmem_add_extent(req, P2PMAP_EXT_MIGRATE,
						 (req->flags & P2PMAP_REQ_PIN) ?
						 P2PMAP_REASON_POLICY :
						 P2PMAP_REASON_NO_ROUTE, 0);
			atomic64_inc(&svm->fallbacks);
			continue;
		}
		if (!exhausted || p2pgpu_devmem_dpage(page)->slot != P2PGPU_NO_SLOT)
			slot = p2pgpu_devmem_place_locked(gdev, page);
		if (slot >= 0) {
			p2pgpu_devmem_add_extent(req, P2PMAP_EXT_P2P,
						 P2PMAP_REASON_NONE,
						 gdev->window_phys +
						 ((phys_addr_t)slot << PAGE_SHIFT));
			continue;
		}
		if (slot != -EBUSY && slot != -ENOSPC && slot != -ENOENT) {
			ret = slot;
			break;
		}
		/* Nothing this call does frees a slot: stop scanning. */
		exhausted = slot != -ENOENT;
		if (req->flags & P2PMAP_REQ_REQUIRE_P2P) {
			p2pgpu_reject(gdev, "p2p_map_pages: window exhausted, P2P required\n");
			ret = -ENOSPC;
			break;
		}
		p2pgpu_devmem_add_extent(req, P2PMAP_EXT_MIGRATE,
					 P2PMAP_REASON_BAR_EXHAUSTED, 0);
		atomic64_inc(&svm->fallbacks);
	}
	for (i = 0; i < n; i++)
		p2pgpu_devmem_dpage(req->pages[i])->keep = false;
	mutex_unlock(&gdev->lock);
	drm_dev_exit(idx);
	if (ret) {
		/* Placements already made stay: they are ordinary residents. */
		req->nr_ext = 0;
		return ret;
	}
	return n;
}

/* ---- copies ------------------------------------------------------------- */

/**
 * p2pgpu_devmem_read() - copy a device page's data out
 * @gdev: the device, with &p2pgpu_device.lock held
 * @page: a device-private page of @gdev
 * @dst: PAGE_SIZE bytes of kernel memory
 *
 * Reads from the window slot when the page is placed there (peers may have
 * written it), otherwise from its backing page.
 */
void p2pgpu_devmem_read(struct p2pgpu_device *gdev, struct page *page,
			void *dst)
{
	struct p2pgpu_dpage *dp = p2pgpu_devmem_dpage(page);
	void *src;

	lockdep_assert_held(&gdev->lock);
	if (dp->slot != P2PGPU_NO_SLOT) {
		memcpy_fromio(dst, gdev->window + ((size_t)dp->slot << PAGE_SHIFT),
			      PAGE_SIZE);
		return;
	}
	src = kmap_local_page(dp->backing);
	memcpy(dst, src, PAGE_SIZE);
	kunmap_local(src);
}

/**
 * p2pgpu_devmem_write() - copy data into a device page
 * @gdev: the device, with &p2pgpu_device.lock held
 * @page: a device-private page of @gdev
 * @src: PAGE_SIZE bytes of kernel memory
 */
void p2pgpu_devmem_write(struct p2pgpu_device *gdev, struct page *page,
			 const void *src)
{
	struct p2pgpu_dpage *dp = p2pgpu_devmem_dpage(page);
	void *dst;

	lockdep_assert_held(&gdev->lock);
	if (dp->slot != P2PGPU_NO_SLOT) {
		memcpy_toio(gdev->window + ((size_t)dp->slot << PAGE_SHIFT), src,
			    PAGE_SIZE);
		return;
	}
	dst = kmap_local_page(dp->backing);
	memcpy(dst, src, PAGE_SIZE);
	kunmap_local(dst);
}

/**
 * p2pgpu_devmem_fill_device() - allocate and fill device pages for a
 *	migration to the device
 * @gdev: the device
 * @args: after migrate_vma_setup(); dst entries are filled here
 * @cnt: @nomem counts pages left behind for lack of device memory
 *
 * Every collected system page (or empty PTE, zero-filled) gets a device
 * page, locked, with a copy of the data and the write permission of the
 * source PTE (of the VMA for an empty PTE). Pages that do not fit stay in
 * system memory: their dst entry stays 0.
 *
 * Return: 0, or a negative errno if the device memory cannot be mapped.
 */
int p2pgpu_devmem_fill_device(struct p2pgpu_device *gdev,
			      struct migrate_vma *args,
			      struct p2pgpu_mig_count *cnt)
{
	struct p2pgpu_svm *svm = gdev->svm;
	unsigned long i, want = 0, got;
	u64 now = get_jiffies_64();
	int ret;

	ret = p2pgpu_devmem_map(svm);
	if (ret)
		return ret;
	for (i = 0; i < args->npages; i++)
		if (args->src[i] & MIGRATE_PFN_MIGRATE)
			want++;
	got = p2pgpu_devmem_reserve(svm, want);

	for (i = 0; i < args->npages; i++) {
		struct page *spage, *dpage, *backing;
		struct p2pgpu_dpage *dp;

		args->dst[i] = 0;
		if (!(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		spage = migrate_pfn_to_page(args->src[i]);
		if (WARN_ON_ONCE(spage && is_zone_device_page(spage)))
			continue;
		if (!got) {
			cnt->nomem++;
			continue;
		}
		backing = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
		dpage = backing ? p2pgpu_devmem_pop(svm) : NULL;
		if (!dpage) {
			if (backing)
				__free_page(backing);
			cnt->nomem++;
			continue;
		}
		got--;
		if (spage)
			copy_highpage(backing, spage);
		else
			clear_highpage(backing);
		dp = p2pgpu_devmem_dpage(dpage);
		dp->backing = backing;
		dp->stamp = now;
		/* Takes a pagemap reference and locks the page. */
		p2pmap_zone_device_page_init(dpage, page_pgmap(dpage));
		args->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if ((args->src[i] & MIGRATE_PFN_WRITE) ||
		    (!spage && (args->vma->vm_flags & VM_WRITE)))
			args->dst[i] |= MIGRATE_PFN_WRITE;
	}
	if (got)
		atomic_long_sub(got, &svm->used);
	return 0;
}

/**
 * p2pgpu_devmem_abort_device() - undo p2pgpu_devmem_fill_device()
 * @args: the migration, not yet passed to migrate_vma_pages()
 *
 * Drops the device pages so migrate_vma_finalize() restores the sources.
 */
void p2pgpu_devmem_abort_device(struct migrate_vma *args)
{
	unsigned long i;

	for (i = 0; i < args->npages; i++) {
		struct page *dpage = migrate_pfn_to_page(args->dst[i]);

		if (!dpage)
			continue;
		args->dst[i] = 0;
		unlock_page(dpage);
		put_page(dpage);
	}
}

/**
 * p2pgpu_devmem_fill_system() - allocate and fill system pages for a
 *	migration out of the device
 * @gdev: the device; only its own pages are migrated
 * @args: after migrate_vma_setup() with MIGRATE_VMA_SELECT_DEVICE_PRIVATE
 *	and the shared owner (or migrate_device_range(), @args->vma NULL)
 * @residency: leave pages younger than the minimum residency (requests);
 *	false for CPU faults and remove, which must always succeed
 * @cnt: @busy (too young) and @failed (no system page) are counted; pages
 *	of another device are left alone
 */
void p2pgpu_devmem_fill_system(struct p2pgpu_device *gdev,
			       struct migrate_vma *args, bool residency,
			       struct p2pgpu_mig_count *cnt)
{
	struct p2pgpu_svm *svm = gdev->svm;
	u64 now = get_jiffies_64();
	unsigned long i, n = 0;

	for (i = 0; i < args->npages; i++) {
		unsigned long addr = args->start + (i << PAGE_SHIFT);
		struct page *spage, *page;

		args->dst[i] = 0;
		spage = migrate_pfn_to_page(args->src[i]);
		if (!spage || !(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		if (!p2pgpu_devmem_is_ours(gdev, spage))
			continue; /* another device's page: not ours to move */
		if (residency &&
		    time_before64(now, p2pgpu_devmem_dpage(spage)->stamp +
				  svm->residency)) {
			cnt->busy++;
			continue;
		}
		if (args->vma)
			page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, args->vma,
					      addr);
		else
			page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL);
		if (!page) {
			cnt->failed++;
			continue;
		}
		lock_page(page);
		args->dst[i] = migrate_pfn(page_to_pfn(page));
		if (args->src[i] & MIGRATE_PFN_WRITE)
			args->dst[i] |= MIGRATE_PFN_WRITE;
		n++;
	}
	if (!n)
		return;

	/*
	 * The data: from the window if a peer has the page placed there,
	 * otherwise a page copy from the backing page (copy_highpage(), as
	 * test_hmm does: measurably cheaper than a kmap and memcpy()).
	 */
	mutex_lock(&gdev->lock);
	for (i = 0; i < args->npages; i++) {
		struct page *page = migrate_pfn_to_page(args->dst[i]);
		struct page *spage = migrate_pfn_to_page(args->src[i]);
		struct p2pgpu_dpage *dp;
		void *dst;

		if (!page)
			continue;
		dp = p2pgpu_devmem_dpage(spage);
		if (dp->slot == P2PGPU_NO_SLOT) {
			copy_highpage(page, dp->backing);
			continue;
		}
		dst = kmap_local_page(page);
		p2pgpu_devmem_read(gdev, spage, dst);
		kunmap_local(dst);
	}
	mutex_unlock(&gdev->lock);
}

/*
 * CPU fault on a device-private page: migrate that page back to system
 * memory. Always allowed, whatever the minimum residency: the CPU cannot
 * reach device-private memory any other way. The migration's notifier
 * event (MMU_NOTIFY_MIGRATE, p2pmap's owner) invalidates this device's
 * mirror (it is not the mirror's own migration) and every importer.
 */
static vm_fault_t p2pgpu_devmem_migrate_to_ram(struct vm_fault *vmf)
{
	struct p2pgpu_svm *svm = p2pgpu_page_svm(vmf->page);
	struct p2pgpu_mig_count cnt = { };
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = vmf->address,
		.end = vmf->address + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = p2pgpu_devmem_owner(),
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
		.fault_page = vmf->page,
	};

	if (migrate_vma_setup(&args))
		return VM_FAULT_SIGBUS;
	if (!args.cpages)
		return 0; /* migrated by someone else meanwhile */
	p2pgpu_devmem_fill_system(svm->gdev, &args, false, &cnt);
	if (!dst) {
		migrate_vma_finalize(&args);
		return cnt.failed ? VM_FAULT_OOM : 0;
	}
	migrate_vma_pages(&args);
	if (src & MIGRATE_PFN_MIGRATE)
		atomic64_inc(&svm->cpu_faults);
	migrate_vma_finalize(&args);
	return 0;
}

static const struct dev_pagemap_ops p2pgpu_devmem_ops = {
	P2PMAP_PAGEMAP_FREE_OP(p2pgpu_devmem_free),
	.migrate_to_ram = p2pgpu_devmem_migrate_to_ram,
};

/* ---- sysfs ------------------------------------------------------------- */

static struct p2pgpu_svm *p2pgpu_dev_svm(struct device *dev)
{
	struct p2pgpu_device *gdev = dev_get_drvdata(dev);

	return gdev->svm;
}

static ssize_t device_private_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "available\n");
}
static DEVICE_ATTR_RO(device_private);

static ssize_t min_residency_ms_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", p2pgpu_dev_svm(dev)->residency_ms);
}
static DEVICE_ATTR_RO(min_residency_ms);

static ssize_t pages_used_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&p2pgpu_dev_svm(dev)->used));
}
static DEVICE_ATTR_RO(pages_used);

/* The counter files: &dev_ext_attribute.var is the offset in the svm. */
static ssize_t p2pgpu_svm_counter_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct dev_ext_attribute *ea = container_of(attr, struct dev_ext_attribute,
						    attr);
	atomic64_t *v = (void *)p2pgpu_dev_svm(dev) + (uintptr_t)ea->var;

	return sysfs_emit(buf, "%lld\n", atomic64_read(v));
}

static struct dev_ext_attribute p2pgpu_attr_to_device = {
	__ATTR(to_device, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, to_device)
};

static struct dev_ext_attribute p2pgpu_attr_to_system = {
	__ATTR(to_system, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, to_system)
};

static struct dev_ext_attribute p2pgpu_attr_cpu_faults = {
	__ATTR(cpu_faults, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, cpu_faults)
};

static struct dev_ext_attribute p2pgpu_attr_residency_refusals = {
	__ATTR(residency_refusals, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, residency_refusals)
};

static struct dev_ext_attribute p2pgpu_attr_nomem = {
	__ATTR(nomem, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, nomem)
};

static struct dev_ext_attribute p2pgpu_attr_placements = {
	__ATTR(placements, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, placements)
};

static struct dev_ext_attribute p2pgpu_attr_evictions = {
	__ATTR(evictions, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, evictions)
};

static struct dev_ext_attribute p2pgpu_attr_fallbacks = {
	__ATTR(fallbacks, 0444, p2pgpu_svm_counter_show, NULL),
	(void *)offsetof(struct p2pgpu_svm, fallbacks)
};

static struct attribute *p2pgpu_svm_attrs[] = {
	&dev_attr_device_private.attr,
	&dev_attr_min_residency_ms.attr,
	&dev_attr_pages_used.attr,
	&p2pgpu_attr_to_device.attr.attr,
	&p2pgpu_attr_to_system.attr.attr,
	&p2pgpu_attr_cpu_faults.attr.attr,
	&p2pgpu_attr_residency_refusals.attr.attr,
	&p2pgpu_attr_nomem.attr.attr,
	&p2pgpu_attr_placements.attr.attr,
	&p2pgpu_attr_evictions.attr.attr,
	&p2pgpu_attr_fallbacks.attr.attr,
	NULL
};

static const struct attribute_group p2pgpu_svm_group = {
	.name = "p2pgpu_svm",
	.attrs = p2pgpu_svm_attrs,
};

/* ---- setup and teardown ------------------------------------------------ */

/*
 * Migrate every device page that holds data back to system memory. A page
 * that is busy (locked by a migration or fault in progress) is retried;
 * such windows are short, since no new migration to the device can start
 * (the DRM device is unplugged and @svm->removing is set).
 */
static void p2pgpu_devmem_evict_all(struct p2pgpu_svm *svm)
{
	unsigned long *src, *dst, i, round;

	src = kvcalloc(svm->npages, sizeof(*src), GFP_KERNEL | __GFP_NOFAIL);
	dst = kvcalloc(svm->npages, sizeof(*dst), GFP_KERNEL | __GFP_NOFAIL);
	for (round = 0; atomic_long_read(&svm->used); round++) {
		struct migrate_vma args = {
			.src = src,
			.dst = dst,
			.npages = svm->npages,
		};
		struct p2pgpu_mig_count cnt = { };

		if (round)
			msleep(20);
		if (round && !(round % 500))
			pci_warn(svm->gdev->pdev,
				 "%ld device-private pages still busy at remove\n",
				 atomic_long_read(&svm->used));
		memset(src, 0, svm->npages * sizeof(*src));
		migrate_device_range(src, svm->first_pfn, svm->npages);
		p2pgpu_devmem_fill_system(svm->gdev, &args, false, &cnt);
		migrate_device_pages(src, dst, svm->npages);
		for (i = 0; i < svm->npages; i++)
			if ((src[i] & MIGRATE_PFN_MIGRATE) && dst[i])
				atomic64_inc(&svm->to_system);
		migrate_device_finalize(src, dst, svm->npages);
		flush_work(&svm->free_work);
	}
	kvfree(src);
	kvfree(dst);
}

static void p2pgpu_devmem_release(void *data)
{
	struct p2pgpu_device *gdev = data;
	struct p2pgpu_svm *svm = gdev->svm;

	device_remove_group(&gdev->pdev->dev, &p2pgpu_svm_group);
	mutex_lock(&svm->grow_lock);
	svm->removing = true;
	mutex_unlock(&svm->grow_lock);
	if (svm->live) {
		p2pgpu_devmem_evict_all(svm);
		flush_work(&svm->free_work);
		memunmap_pages(&svm->pagemap);
		release_mem_region(svm->res->start, resource_size(svm->res));
		kvfree(svm->dpages);
	}
	mutex_destroy(&svm->grow_lock);
	gdev->svm = NULL;
	kfree(svm);
}

/**
 * p2pgpu_devmem_init() - set up shared virtual memory for a device
 * @gdev: the device, with its drvdata set and its window mapped
 *
 * The device-private pagemap itself is created at the first migration.
 * Teardown is a devres action of the PCI device (after remove(), when no
 * ioctl runs any more): every device page is migrated back to system
 * memory, then the pagemap is unmapped.
 *
 * Return: 0 or a negative errno.
 */
int p2pgpu_devmem_init(struct p2pgpu_device *gdev)
{
	struct p2pgpu_svm *svm;
	int ret;

	if (svm_min_residency_ms > P2PGPU_SVM_MAX_RESIDENCY_MS) {
		pci_err(gdev->pdev, "svm_min_residency_ms=%u exceeds %u\n",
			svm_min_residency_ms, P2PGPU_SVM_MAX_RESIDENCY_MS);
		return -EINVAL;
	}
	svm = kzalloc(sizeof(*svm), GFP_KERNEL);
	if (!svm)
		return -ENOMEM;
	svm->gdev = gdev;
	mutex_init(&svm->grow_lock);
	spin_lock_init(&svm->free_lock);
	init_llist_head(&svm->free_deferred);
	INIT_WORK(&svm->free_work, p2pgpu_devmem_free_work);
	svm->residency_ms = svm_min_residency_ms;
	svm->residency = msecs_to_jiffies(svm_min_residency_ms);
	gdev->svm = svm;
	gdev->devmem_evict = p2pgpu_devmem_evict_locked;
	ret = device_add_group(&gdev->pdev->dev, &p2pgpu_svm_group);
	if (ret) {
		gdev->svm = NULL;
		mutex_destroy(&svm->grow_lock);
		kfree(svm);
		return ret;
	}
	ret = devm_add_action_or_reset(&gdev->pdev->dev, p2pgpu_devmem_release,
				       gdev);
	if (ret)
		return ret;
	pci_info(gdev->pdev,
		 "device_private: available (min residency %u ms)\n",
		 svm->residency_ms);
	return 0;
}

/**
 * p2pgpu_devmem_used() - device memory held by device-private pages
 * @gdev: the device
 *
 * Return: pages reserved or holding migrated data (0 without SVM).
 */
u64 p2pgpu_devmem_used(struct p2pgpu_device *gdev)
{
	return gdev->svm ? atomic_long_read(&gdev->svm->used) : 0;
}
