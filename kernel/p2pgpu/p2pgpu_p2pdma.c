// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu struct pages for the window, their page references, and
 * get_user_pages() pins on them.
 *
 * This file owns what makes a CPU mapping of a buffer object pinnable by
 * get_user_pages() users such as ib_umem_get() (an RDMA memory
 * registration): at probe the BAR is registered as P2PDMA memory
 * (pci_p2pdma_add_resource(), which memremap_pages() the BAR: struct pages
 * and a kernel linear mapping), so a CPU fault on a page in the window can
 * map the P2PDMA page of its slot (p2pgpu_gem.c). When that is impossible
 * (no CONFIG_PCI_P2PDMA, or the registration failed) CPU mappings are
 * system pages instead, and the reason is kept and reported.
 *
 * A get_user_pages(FOLL_PIN) pin is visible only as a page reference count
 * (page_maybe_dma_pinned()); nothing tells the exporter when it is taken
 * or dropped. So pinned pages are found when they matter: eviction,
 * placement and moves out of the window skip them (counted in
 * &p2pgpu_device.gup_keeps), the info ioctl and sysfs count them, and the
 * slots of a freed object that are still pinned become orphans, held out
 * of the allocator until the pin goes. Device removal waits for every pin
 * on the window to go before the struct pages are torn down.
 */

/**
 * DOC: p2pgpu window page lifetime
 *
 * At probe p2pgpu takes the whole window from its P2PDMA pool
 * (pci_alloc_p2pmem(), one pgmap reference), so no other user of the pool
 * (pci_alloc_p2pmem() callers, root mmapping p2pmem/allocate) can take a
 * page of it: the window belongs to the slot allocator until remove, when
 * devres returns all of it with one pci_free_p2pmem(). What a slot's page
 * looks like in between depends on the kernel (P2PMAP_P2PDMA_IDLE_REFCOUNT,
 * probe ZONE_DEVICE_REFCOUNTED):
 *
 * 6.1 to 6.14 (idle refcount 1): pages keep the count of 1 they were
 * created with. CPU PTEs are devmap PTEs (vmf_insert_mixed() with
 * PFN_DEV|PFN_MAP) that take no reference; GUP reaches the page through
 * its pagemap. Nothing ever drops a page to 0.
 *
 * 6.15 and later (idle refcount 0, &p2pgpu_device.window_refcounted):
 *
 * - allocate: a slot given to an object page (p2pgpu_place_locked())
 *   takes the object's reference: the page goes from 0 to 1
 *   (set_page_count(), as the core's p2pmem_alloc_mmap() does for a page it
 *   just took from the pool; nobody else can hold an idle window page,
 *   since speculative gets fail at 0) and the slot's bit in
 *   &p2pgpu_device.slot_refs is set.
 * - insert: a CPU fault vm_insert_page()s it into the VM_MIXEDMAP VMA; the
 *   PTE holds its own reference and an rmap entry, a normal PTE that
 *   hmm_range_fault() (RDMA ODP) walks and GUP with FOLL_PCI_P2PDMA may pin.
 * - evict: unmap_mapping_range() zaps every PTE of the slot, which fires
 *   the mmu notifiers (ODP MRs, p2pmap imports) and drops the PTE
 *   references before it returns; then the object's reference is dropped
 *   with page_ref_freeze(page, 1): only if it is the last one, and without
 *   put_page(), so the page idles at 0 again inside p2pgpu's allocation and
 *   the slot is reused. The pool's free op is never reached while the
 *   window is p2pgpu's: a put_page() to 0 would gen_pool_free() a page that
 *   is still part of the probe-time allocation, and the devres
 *   pci_free_p2pmem() of the window would then free it a second time.
 * - free: the same as evict when the object goes. If anyone else still
 *   holds the page (a FOLL_PIN pin, e.g. O_DIRECT with FOLL_PCI_P2PDMA, or
 *   a reference taken in a race with the zap), the freeze fails: the slot
 *   keeps the object's reference as an orphan, out of the allocator, and is
 *   reaped when the freeze succeeds. So the last put of a window page is
 *   always p2pgpu's, and it is never put_page().
 * - remove: after unplug nothing inserts PTEs; p2pgpu_p2pdma_drain() waits
 *   until it holds the only reference of every page it has one on, drops
 *   them all (0 again), and only then lets devres free the window and tear
 *   down the struct pages.
 *
 * Long-term GUP pins (RDMA VA MRs, FOLL_LONGTERM) of these pages do not
 * exist on such kernels (FOLL_PCI_P2PDMA, 6.2): ibv_reg_mr() over a window
 * mapping fails in GUP and leaves no pin; RDMA uses ODP or dma-buf MRs.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "p2pgpu_aper.h"
#include "p2pgpu.h"
#include "p2pgpu_drm.h"

static const char *const p2pgpu_fallback_names[] = {
	[P2PGPU_FALLBACK_NONE] = "none",
	[P2PGPU_FALLBACK_NO_KCONFIG] = "no_kconfig",
	[P2PGPU_FALLBACK_REGISTER_FAILED] = "register_failed",
	[P2PGPU_FALLBACK_WINDOW_FULL] = "bar_exhausted",
	[P2PGPU_FALLBACK_PINNED_DEVICE] = "pinned_device",
	[P2PGPU_FALLBACK_UNPORTED] = "p2pdma_unported",
};

/**
 * p2pgpu_slot_page() - the P2PDMA page of a window slot
 * @gdev: the device; &p2pgpu_device.window_struct_pages must be true
 * @slot: window slot
 *
 * Return: the struct page of @slot.
 */
struct page *p2pgpu_slot_page(struct p2pgpu_device *gdev, u32 slot)
{
	return pfn_to_page(PHYS_PFN(gdev->window_phys) + slot);
}

/**
 * p2pgpu_page_gup_pinned() - is a page pinned by get_user_pages()?
 * @page: a backing page or a P2PDMA window page
 *
 * Return: page_maybe_dma_pinned(): true while a FOLL_PIN pin is held (an
 * RDMA memory registration); false positives only with more than 1023
 * other references.
 */
bool p2pgpu_page_gup_pinned(struct page *page)
{
	return folio_maybe_dma_pinned(page_folio(page));
}

/**
 * p2pgpu_slot_gup_pinned() - is the P2PDMA page of a slot pinned?
 * @gdev: the device, with &p2pgpu_device.lock held
 * @slot: window slot
 *
 * Return: false if the window has no struct pages (nothing can pin it).
 */
bool p2pgpu_slot_gup_pinned(struct p2pgpu_device *gdev, u32 slot)
{
	lockdep_assert_held(&gdev->lock);
	return gdev->window_struct_pages &&
	       p2pgpu_page_gup_pinned(p2pgpu_slot_page(gdev, slot));
}

/**
 * p2pgpu_slot_get_locked() - an object page takes a window slot's page
 * @gdev: the device, with &p2pgpu_device.lock held
 * @slot: the slot just allocated to an object page
 *
 * Under the refcount-0 rules the page goes from idle (0) to 1: the
 * object's reference, which every CPU PTE of the slot nests in. Nothing to
 * do under the 6.1 rules, or once remove has torn the pages down.
 */
void p2pgpu_slot_get_locked(struct p2pgpu_device *gdev, u32 slot)
{
	struct page *page;

	lockdep_assert_held(&gdev->lock);
	if (!gdev->window_struct_pages || !gdev->window_refcounted)
		return;
	page = p2pgpu_slot_page(gdev, slot);
	if (WARN_ON_ONCE(test_bit(slot, gdev->slot_refs)))
		return;
	/* Idle: no PTE, no pin, and speculative gets fail at 0. */
	VM_WARN_ON_ONCE_PAGE(page_ref_count(page), page);
	set_page_count(page, 1);
	__set_bit(slot, gdev->slot_refs);
}

/**
 * p2pgpu_slot_put_locked() - drop the object's reference on a slot's page
 * @gdev: the device, with &p2pgpu_device.lock held
 * @slot: a slot leaving its object, its CPU PTEs already zapped
 *
 * Under the refcount-0 rules the reference is dropped only if it is the
 * last one, with page_ref_freeze() and not put_page(): the page idles at 0
 * inside p2pgpu's pool allocation instead of being handed back to the pool
 * (see "p2pgpu window page lifetime"). Under the 6.1 rules nothing is
 * dropped; the slot is free unless get_user_pages() pins its page.
 *
 * Return: true if the slot's page is idle and the slot may be reused;
 * false if someone else still holds the page (the reference stays).
 */
static bool p2pgpu_slot_put_locked(struct p2pgpu_device *gdev, u32 slot)
{
	lockdep_assert_held(&gdev->lock);
	if (!gdev->window_struct_pages)
		return true;
	if (!gdev->window_refcounted)
		return !p2pgpu_page_gup_pinned(p2pgpu_slot_page(gdev, slot));
	if (!test_bit(slot, gdev->slot_refs))
		return true;	/* released by remove */
	if (!page_ref_freeze(p2pgpu_slot_page(gdev, slot), 1))
		return false;
	__clear_bit(slot, gdev->slot_refs);
	return true;
}

/**
 * p2pgpu_slot_insert_locked() - map a window slot's page at a CPU fault
 * @gdev: the device, with &p2pgpu_device.lock held
 * @vmf: the fault, in a VM_MIXEDMAP mapping of an object
 * @slot: the slot of the faulting object page
 *
 * Refcount-0 rules: vm_insert_page() of the P2PDMA page, whose object
 * reference makes it insertable; the PTE takes its own reference and is a
 * normal PTE (hmm_range_fault() walks it). 6.1 rules: a devmap PTE of the
 * page. No struct pages: the bare PFN. The PTE is write-back like the
 * core's p2pmem/allocate mappings (the BAR's memtype is set by
 * memremap_pages()); vmf_insert_mixed() applies it itself.
 *
 * Return: the fault result.
 */
vm_fault_t p2pgpu_slot_insert_locked(struct p2pgpu_device *gdev,
				     struct vm_fault *vmf, u32 slot)
{
	lockdep_assert_held(&gdev->lock);
	if (gdev->window_struct_pages && gdev->window_refcounted) {
		if (WARN_ON_ONCE(!test_bit(slot, gdev->slot_refs)))
			return VM_FAULT_SIGBUS;
		return vmf_insert_page(vmf->vma, vmf->address,
				       p2pgpu_slot_page(gdev, slot));
	}
	return p2pmap_vmf_insert_mixed(vmf->vma, vmf->address,
				       PHYS_PFN(gdev->window_phys) + slot,
				       gdev->window_struct_pages);
}

/**
 * p2pgpu_orphan_slot_locked() - release a slot's page, or keep the slot
 * @gdev: the device, with &p2pgpu_device.lock held
 * @slot: slot leaving its object (object freed, or page evicted), its CPU
 *	PTEs zapped
 *
 * Drops the object's hold on the slot's page (p2pgpu_slot_put_locked()).
 * A slot whose P2PDMA page is still held by someone else (pinned by
 * get_user_pages(): the object was freed under a registered MR on 6.1; or
 * referenced beyond p2pgpu's own reference under the refcount-0 rules)
 * must not be reused: the holder may still write into it. It stays
 * allocated and is pinned in the allocator (never a victim, and its stale
 * owner is never looked at) until p2pgpu_reap_orphans_locked() can
 * release it.
 *
 * Return: true if @slot was kept as an orphan; false if its page is idle
 * and the caller frees the slot.
 */
bool p2pgpu_orphan_slot_locked(struct p2pgpu_device *gdev, u32 slot)
{
	lockdep_assert_held(&gdev->lock);
	if (p2pgpu_slot_put_locked(gdev, slot))
		return false;
	/* An eviction victim: it stays allocated after all. */
	p2pgpu_aper_abort_evict(gdev->aper, slot, get_jiffies_64());
	if (WARN_ON_ONCE(p2pgpu_aper_pin(gdev->aper, slot)))
		return false;
	__set_bit(slot, gdev->orphans);
	gdev->nr_orphans++;
	gdev->gup_keeps++;
	p2pgpu_reject(gdev,
		      "slot %u leaves its object while its P2PDMA page is still referenced (refcount %d, pinned %d): held until released\n",
		      slot, page_ref_count(p2pgpu_slot_page(gdev, slot)),
		      p2pgpu_slot_gup_pinned(gdev, slot));
	return true;
}

/**
 * p2pgpu_reap_orphans_locked() - free orphan slots whose pin went away
 * @gdev: the device, with &p2pgpu_device.lock held
 */
void p2pgpu_reap_orphans_locked(struct p2pgpu_device *gdev)
{
	unsigned long slot;

	lockdep_assert_held(&gdev->lock);
	if (!gdev->nr_orphans)
		return;
	for_each_set_bit(slot, gdev->orphans, gdev->window_pages) {
		if (!p2pgpu_slot_put_locked(gdev, slot))
			continue;
		WARN_ON_ONCE(p2pgpu_aper_unpin(gdev->aper, slot,
					       get_jiffies_64()));
		WARN_ON_ONCE(p2pgpu_aper_free(gdev->aper, slot));
		__clear_bit(slot, gdev->orphans);
		gdev->nr_orphans--;
	}
}

/* Window pages of the device pinned by get_user_pages(). */
static u64 p2pgpu_window_gup_count_locked(struct p2pgpu_device *gdev)
{
	u64 n = 0;
	u32 slot;

	lockdep_assert_held(&gdev->lock);
	if (!gdev->window_struct_pages)
		return 0;
	for (slot = 0; slot < gdev->window_pages; slot++)
		if (p2pgpu_page_gup_pinned(p2pgpu_slot_page(gdev, slot)))
			n++;
	return n;
}

/**
 * p2pgpu_ioctl_bo_cpu_info() - DRM_IOCTL_P2PGPU_BO_CPU_INFO
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_bo_cpu_info
 * @file: the caller's DRM file
 *
 * Return: 0, -EINVAL, -ENOENT.
 */
int p2pgpu_ioctl_bo_cpu_info(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_cpu_info *args = data;
	struct drm_gem_object *obj;
	struct p2pgpu_bo *bo;
	unsigned long i;
	u32 handle = args->handle;

	if (args->flags) {
		p2pgpu_reject(gdev, "BO_CPU_INFO: unknown flags %#x\n",
			      args->flags);
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, handle);
	if (!obj) {
		p2pgpu_reject(gdev, "BO_CPU_INFO: no object with handle %u\n",
			      handle);
		return -ENOENT;
	}
	bo = to_p2pgpu_bo(obj);
	memset(args, 0, sizeof(*args));
	args->handle = handle;

	mutex_lock(&gdev->lock);
	p2pgpu_reap_orphans_locked(gdev);
	for (i = 0; i < bo->npages; i++) {
		struct p2pgpu_bo_page *p = &bo->pages[i];

		if (p->slot != P2PGPU_NO_SLOT) {
			if (p2pgpu_slot_gup_pinned(gdev, p->slot))
				args->pages_gup_window++;
		} else if (p2pgpu_page_gup_pinned(p->page)) {
			args->pages_gup_system++;
		}
		if (p->cpu_direct)
			args->pages_cpu_system++;
	}
	if (gdev->window_struct_pages) {
		args->cpu_map = P2PGPU_CPU_MAP_BAR;
		args->fallback = bo->cpu_fallback;
	} else {
		args->cpu_map = P2PGPU_CPU_MAP_SYSTEM;
		args->fallback = gdev->cpu_fallback;
	}
	args->published = bo->published;
	args->dev_gup_window = p2pgpu_window_gup_count_locked(gdev);
	args->dev_cpu_fallbacks = gdev->cpu_fallbacks;
	args->dev_gup_keeps = gdev->gup_keeps;
	args->dev_gup_orphans = gdev->nr_orphans;
	mutex_unlock(&gdev->lock);
	drm_gem_object_put(obj);
	return 0;
}

/* ---- sysfs: <pci device>/p2pgpu/ --------------------------------------- */

static struct p2pgpu_device *p2pgpu_from_dev(struct device *dev)
{
	return pci_get_drvdata(to_pci_dev(dev));
}

static ssize_t cpu_map_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct p2pgpu_device *gdev = p2pgpu_from_dev(dev);
	ssize_t n;

	mutex_lock(&gdev->lock);
	if (gdev->window_struct_pages)
		n = sysfs_emit(buf, "bar\n");
	else
		n = sysfs_emit(buf, "system %s\n",
			       p2pgpu_fallback_names[gdev->cpu_fallback]);
	mutex_unlock(&gdev->lock);
	return n;
}
static DEVICE_ATTR_RO(cpu_map);

static ssize_t gup_pinned_window_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct p2pgpu_device *gdev = p2pgpu_from_dev(dev);
	u64 n;

	mutex_lock(&gdev->lock);
	n = p2pgpu_window_gup_count_locked(gdev);
	mutex_unlock(&gdev->lock);
	return sysfs_emit(buf, "%llu\n", n);
}
static DEVICE_ATTR_RO(gup_pinned_window);

#define P2PGPU_COUNTER_ATTR(name, expr)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct p2pgpu_device *gdev = p2pgpu_from_dev(dev);		\
	u64 n;								\
									\
	mutex_lock(&gdev->lock);					\
	n = (expr);							\
	mutex_unlock(&gdev->lock);					\
	return sysfs_emit(buf, "%llu\n", n);				\
}									\
static DEVICE_ATTR_RO(name)

P2PGPU_COUNTER_ATTR(cpu_fallbacks, gdev->cpu_fallbacks);
P2PGPU_COUNTER_ATTR(gup_keeps, gdev->gup_keeps);
P2PGPU_COUNTER_ATTR(gup_orphans, (u64)gdev->nr_orphans);

static struct attribute *p2pgpu_rdma_attrs[] = {
	&dev_attr_cpu_map.attr,
	&dev_attr_gup_pinned_window.attr,
	&dev_attr_cpu_fallbacks.attr,
	&dev_attr_gup_keeps.attr,
	&dev_attr_gup_orphans.attr,
	NULL,
};

static const struct attribute_group p2pgpu_rdma_group = {
	.name = "p2pgpu",
	.attrs = p2pgpu_rdma_attrs,
};

struct p2pgpu_p2pmem {
	struct pci_dev *pdev;
	void *addr;
	size_t size;
};

/* devres: runs before the P2PDMA pool and pages it was taken from go. */
static void p2pgpu_p2pmem_release(void *data)
{
	struct p2pgpu_p2pmem *m = data;

	pci_free_p2pmem(m->pdev, m->addr, m->size);
}

/**
 * p2pgpu_p2pdma_init() - give the window struct pages, at probe
 * @gdev: the device, BAR mapped, not yet registered
 *
 * Registers the whole window BAR with pci_p2pdma_add_resource() (devres:
 * torn down after remove) and takes all of it from the P2PDMA pool, so no
 * other driver can pci_alloc_p2pmem() from it: the window belongs to the
 * slot allocator. Never fails the probe: without struct pages CPU mappings
 * fall back to system pages, with the reason logged and reported.
 */
void p2pgpu_p2pdma_init(struct p2pgpu_device *gdev)
{
	struct pci_dev *pdev = gdev->pdev;
	struct p2pgpu_p2pmem *m;
	int ret;

	gdev->window_struct_pages = false;
	gdev->orphans = devm_bitmap_zalloc(&pdev->dev, gdev->window_pages,
					   GFP_KERNEL);
	if (devm_device_add_group(&pdev->dev, &p2pgpu_rdma_group))
		pci_warn(pdev, "cannot create the p2pgpu sysfs group\n");
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		gdev->cpu_fallback = P2PGPU_FALLBACK_NO_KCONFIG;
		pci_info(pdev, "CPU mappings use system pages: kernel without CONFIG_PCI_P2PDMA (no struct pages for the BAR)\n");
		return;
	}
	ret = gdev->orphans ? 0 : -ENOMEM;
	if (!ret)
		ret = pci_p2pdma_add_resource(pdev, P2PGPU_WINDOW_BAR, 0, 0);
	m = ret ? NULL : devm_kzalloc(&pdev->dev, sizeof(*m), GFP_KERNEL);
	if (!ret && !m)
		ret = -ENOMEM;
	if (!ret) {
		m->pdev = pdev;
		m->size = pci_resource_len(pdev, P2PGPU_WINDOW_BAR);
		m->addr = pci_alloc_p2pmem(pdev, m->size);
		ret = m->addr ? devm_add_action_or_reset(&pdev->dev,
							  p2pgpu_p2pmem_release,
							  m) : -EBUSY;
	}
	/*
	 * The build-time probe chose the page lifetime rules (see "p2pgpu
	 * window page lifetime"); the pages must agree. The refcount-1 rules
	 * also need devmap PTEs. If either fails, say so and use system
	 * pages: nothing took a page reference, so the devres
	 * pci_free_p2pmem() of the whole window stays balanced.
	 */
	if (!ret && (page_ref_count(virt_to_page(m->addr)) !=
		     P2PMAP_P2PDMA_IDLE_REFCOUNT ||
		     (P2PMAP_P2PDMA_IDLE_REFCOUNT && !P2PMAP_DEVMAP_PTE))) {
		gdev->cpu_fallback = P2PGPU_FALLBACK_UNPORTED;
		gdev->p2pdma_err = -EOPNOTSUPP;
		pci_warn(pdev, "CPU mappings use system pages: this kernel's P2PDMA pages idle at refcount %d, p2pgpu was built for refcount %d%s (p2pdma_unported)\n",
			 page_ref_count(virt_to_page(m->addr)),
			 P2PMAP_P2PDMA_IDLE_REFCOUNT,
			 P2PMAP_DEVMAP_PTE ? "" : " with devmap PTEs, which this kernel lacks");
		return;
	}
	if (!ret && !P2PMAP_P2PDMA_IDLE_REFCOUNT) {
		gdev->slot_refs = devm_bitmap_zalloc(&pdev->dev,
						     gdev->window_pages,
						     GFP_KERNEL);
		if (!gdev->slot_refs)
			ret = -ENOMEM;
	}
	if (ret) {
		gdev->cpu_fallback = P2PGPU_FALLBACK_REGISTER_FAILED;
		gdev->p2pdma_err = ret;
		pci_warn(pdev, "CPU mappings use system pages: P2PDMA registration of BAR%d failed: %d\n",
			 P2PGPU_WINDOW_BAR, ret);
		return;
	}
	gdev->cpu_fallback = P2PGPU_FALLBACK_NONE;
	gdev->window_refcounted = !P2PMAP_P2PDMA_IDLE_REFCOUNT;
	gdev->window_struct_pages = true;
	pci_info(pdev, "CPU mappings map the window's P2PDMA pages (%s)\n",
		 gdev->window_refcounted ?
		 "idle at refcount 0: PTEs and objects hold page references" :
		 "idle at refcount 1: devmap PTEs");
}

/**
 * p2pgpu_p2pdma_drain() - wait for every foreign hold on the window pages
 * @gdev: the device, at remove, after drm_dev_unplug()
 *
 * CPU mappings are zapped and fault with SIGBUS by now, so no new pin can
 * be taken; pins taken before (registered RDMA MRs on 6.1, FOLL_PCI_P2PDMA
 * pins later) cannot be revoked, and the P2PDMA struct pages they hold are
 * torn down by devres right after remove. So remove waits here until the
 * pinners let go (deregister their MRs, or exit), logging what it waits
 * for. Under the refcount-0 rules it drops p2pgpu's own reference on every
 * page it holds one on as soon as that is the last one, so every window
 * page is idle at 0 when devres frees the window. Then it frees the orphan
 * slots and stops using the struct pages.
 */
void p2pgpu_p2pdma_drain(struct p2pgpu_device *gdev)
{
	unsigned long next_log = jiffies;
	unsigned long slot;
	u64 n;

	for (;;) {
		mutex_lock(&gdev->lock);
		n = p2pgpu_window_gup_count_locked(gdev);
		if (gdev->window_struct_pages && gdev->window_refcounted) {
			n = 0;
			for_each_set_bit(slot, gdev->slot_refs, gdev->window_pages)
				n += !p2pgpu_slot_put_locked(gdev, slot);
		}
		if (!n) {
			p2pgpu_reap_orphans_locked(gdev);
			gdev->window_struct_pages = false;
			mutex_unlock(&gdev->lock);
			return;
		}
		mutex_unlock(&gdev->lock);
		if (time_after_eq(jiffies, next_log)) {
			pci_warn(gdev->pdev,
				 "remove: waiting for %llu window pages still referenced or pinned by get_user_pages() (deregister the RDMA MRs)\n",
				 n);
			next_log = jiffies + 10 * HZ;
		}
		msleep(100);
	}
}
