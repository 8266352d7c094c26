// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu struct pages for the window, and get_user_pages() pins on them.
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
 * p2pgpu_orphan_slot_locked() - keep a freed object's pinned slot
 * @gdev: the device, with &p2pgpu_device.lock held
 * @slot: slot of an object being freed
 *
 * A slot whose P2PDMA page is still pinned by get_user_pages() (the object
 * was freed under a registered MR) must not be reused: the pinner may
 * still write into it. It stays allocated and is pinned in the allocator
 * (never a victim, and its stale owner is never looked at) until
 * p2pgpu_reap_orphans_locked() finds the pin gone.
 *
 * Return: true if @slot was kept as an orphan; false if it is not pinned
 * and the caller frees it.
 */
bool p2pgpu_orphan_slot_locked(struct p2pgpu_device *gdev, u32 slot)
{
	lockdep_assert_held(&gdev->lock);
	if (!p2pgpu_slot_gup_pinned(gdev, slot))
		return false;
	if (WARN_ON_ONCE(p2pgpu_aper_pin(gdev->aper, slot)))
		return false;
	__set_bit(slot, gdev->orphans);
	gdev->nr_orphans++;
	gdev->gup_keeps++;
	p2pgpu_reject(gdev,
		      "slot %u of a freed object is pinned by get_user_pages() (RDMA MR?): held until unpinned\n",
		      slot);
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
		if (gdev->window_struct_pages &&
		    p2pgpu_page_gup_pinned(p2pgpu_slot_page(gdev, slot)))
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
	 * 6.1/6.12 semantics only: the window's P2PDMA pages idle at refcount
	 * 1 and are mapped with devmap PTEs, which keep them reachable
	 * through their struct pages. Since 6.15 idle P2PDMA pages have
	 * refcount 0 and the last put frees them to the pool (folio_free),
	 * and devmap PTEs are gone (6.17); mapping slots the 6.1 way would
	 * either give special PTEs (not struct pages at all) or, with
	 * vm_insert_page(), hand our pages back to the pool on munmap. Until
	 * the window is ported to that lifetime, say so and use system pages.
	 * Nothing took a page reference, so the devres pci_free_p2pmem() of
	 * the whole window stays balanced.
	 */
	if (!ret && (!P2PMAP_DEVMAP_PTE ||
		     !page_ref_count(virt_to_page(m->addr)))) {
		gdev->cpu_fallback = P2PGPU_FALLBACK_UNPORTED;
		gdev->p2pdma_err = -EOPNOTSUPP;
		pci_warn(pdev, "CPU mappings use system pages: this kernel's P2PDMA pages idle at refcount %d%s; p2pgpu's window page lifetime is not ported to that yet (p2pdma_unported)\n",
			 page_ref_count(virt_to_page(m->addr)),
			 P2PMAP_DEVMAP_PTE ? "" : " and it has no devmap PTEs");
		return;
	}
	if (ret) {
		gdev->cpu_fallback = P2PGPU_FALLBACK_REGISTER_FAILED;
		gdev->p2pdma_err = ret;
		pci_warn(pdev, "CPU mappings use system pages: P2PDMA registration of BAR%d failed: %d\n",
			 P2PGPU_WINDOW_BAR, ret);
		return;
	}
	gdev->cpu_fallback = P2PGPU_FALLBACK_NONE;
	gdev->window_struct_pages = true;
}

/**
 * p2pgpu_p2pdma_drain() - wait for every get_user_pages() pin on the window
 * @gdev: the device, at remove, after drm_dev_unplug()
 *
 * CPU mappings are zapped and fault with SIGBUS by now, so no new pin can
 * be taken; pins taken before (registered RDMA MRs) cannot be revoked, and
 * the P2PDMA struct pages they hold are torn down by devres right after
 * remove. So remove waits here until the pinners let go (deregister their
 * MRs, or exit), logging what it waits for, then frees the orphan slots
 * and stops using the struct pages.
 */
void p2pgpu_p2pdma_drain(struct p2pgpu_device *gdev)
{
	unsigned long next_log = jiffies;
	u64 n;

	for (;;) {
		mutex_lock(&gdev->lock);
		n = p2pgpu_window_gup_count_locked(gdev);
		if (!n) {
			p2pgpu_reap_orphans_locked(gdev);
			gdev->window_struct_pages = false;
			mutex_unlock(&gdev->lock);
			return;
		}
		mutex_unlock(&gdev->lock);
		if (time_after_eq(jiffies, next_log)) {
			pci_warn(gdev->pdev,
				 "remove: waiting for %llu window pages pinned by get_user_pages() (deregister the RDMA MRs)\n",
				 n);
			next_log = jiffies + 10 * HZ;
		}
		msleep(100);
	}
}
