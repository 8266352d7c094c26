// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu PRIME: buffer objects as dma-bufs.
 *
 * This file owns p2pgpu's dma_buf_ops and the PRIME hooks. Export makes a
 * dma-buf of an object (drm_gem_dmabuf_export(), which points the dma-buf
 * file's f_mapping at the DRM device's address space); mmap of the dma-buf
 * is a mapping of the object's fake offset in that address space, so CPU
 * faults, eviction zaps and p2pmap imports treat it exactly like an mmap of
 * the object through the render node. Import takes back only this
 * device's own dma-bufs (the same object); anything else is refused with a
 * reason.
 *
 * In-kernel importers (dma_buf_map_attachment()) get the whole object
 * pinned for as long as the mapping lives, with the page pins of
 * p2pgpu_gem.c. If the attachment allows peer-to-peer and the importer can
 * reach the BAR (pci_p2pdma_distance() >= 0 and the BAR below its DMA
 * mask), every page is placed and pinned in the window and the sg_table
 * holds bus addresses of window slots (no struct pages, as p2pdma does):
 * the PCI bus address when the route stays below a common switch,
 * dma_map_resource() when it goes through the host bridge. Otherwise, or
 * when the window cannot hold the object, every page is pinned device-only
 * and the backing pages are mapped with dma_map_sgtable(). A mapping is
 * never a mix of both.
 *
 * p2pgpu is a static exporter: it has no pin/unpin ops and never calls
 * dma_buf_move_notify(). Dynamic importers work (the dma-buf core maps and
 * caches their mapping at attach, pinning the object for the life of the
 * attachment), but nothing is ever moved under them and they are not
 * revoked when the device is unbound: moving mapped objects with
 * move_notify() and invalidation through dma-buf are not implemented yet.
 *
 * Locking: map and unmap take the device lock (see "p2pgpu locking and
 * lifetime" in p2pgpu.h); the dma-buf core may hold the reservation lock
 * around them, which is never taken under the device lock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>

#include "p2pgpu.h"

/**
 * struct p2pgpu_dmabuf_attach - what p2pgpu decided for one attachment
 * @p2p: map the object in the window, with bus addresses
 * @host_bridge: the route goes through the host bridge: dma_map_resource()
 * @bus_offset: PCI bus address minus CPU physical address of the BAR, for
 *	the switch route
 */
struct p2pgpu_dmabuf_attach {
	bool p2p;
	bool host_bridge;
	s64 bus_offset;
};

/**
 * struct p2pgpu_dmabuf_map - one mapping handed to an importer
 * @sgt: the sg_table the importer got
 * @p2p: @sgt holds window bus addresses (no struct pages); else system
 *	pages mapped with dma_map_sgtable()
 * @host_bridge: the window addresses come from dma_map_resource()
 */
struct p2pgpu_dmabuf_map {
	struct sg_table sgt;
	bool p2p;
	bool host_bridge;
};

/* Same test as p2pdma.c's pci_bridge_has_acs_redir() (and p2pmap's). */
static bool p2pgpu_acs_redirects(struct pci_dev *pdev)
{
	u16 ctrl;

	if (!pdev->acs_cap)
		return false;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

/*
 * For a pair pci_p2pdma_distance() accepted: true if the route goes through
 * the (whitelisted) host bridge, false if it stays below a common upstream
 * device with no ACS redirection on the way, where PCI bus addresses work.
 * The same walk as calc_map_type_and_dist() in drivers/pci/p2pdma.c, whose
 * result 6.1 keeps private (kernel/core/attach.c does the same).
 */
static bool p2pgpu_route_via_host(struct pci_dev *provider,
				  struct pci_dev *client)
{
	struct pci_dev *a, *b;
	bool acs = false;

	for (a = provider; a; a = pci_upstream_bridge(a)) {
		acs |= p2pgpu_acs_redirects(a);
		for (b = client; b; b = pci_upstream_bridge(b))
			if (a == b)
				goto common;
	}
	return true;

common:
	for (b = client; b != a; b = pci_upstream_bridge(b))
		acs |= p2pgpu_acs_redirects(b);
	return acs;
}

/* Decide the route of @attach; NULL reason: peer-to-peer. */
static const char *p2pgpu_dmabuf_route(struct p2pgpu_device *gdev,
				       struct dma_buf_attachment *attach,
				       struct p2pgpu_dmabuf_attach *a)
{
	struct pci_dev *pdev = gdev->pdev;
	u64 end;

	if (!attach->peer2peer)
		return "the importer does not allow peer-to-peer";
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return "kernel built without CONFIG_PCI_P2PDMA";
	if (!dev_is_pci(attach->dev))
		return "the importer is not a PCI device";
	if (pci_p2pdma_distance(pdev, attach->dev, false) < 0)
		return "pci_p2pdma_distance() < 0: no peer-to-peer route";
	a->host_bridge = p2pgpu_route_via_host(pdev, to_pci_dev(attach->dev));
	if (a->host_bridge) {
		end = gdev->window_phys + gdev->window_size - 1;
	} else {
		u64 bus = pci_bus_address(pdev, P2PGPU_WINDOW_BAR);

		a->bus_offset = (s64)(bus - gdev->window_phys);
		end = bus + gdev->window_size - 1;
	}
	if (end > dma_get_mask(attach->dev))
		return "the window lies above the importer's DMA mask";
	a->p2p = true;
	return NULL;
}

static int p2pgpu_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct drm_gem_object *obj = dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_dmabuf_attach *a;
	const char *why;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	why = p2pgpu_dmabuf_route(gdev, attach, a);
	if (why)
		dev_info_ratelimited(gdev->drm.dev,
				     "dma-buf attach by %s: system pages (%s)\n",
				     dev_name(attach->dev), why);
	else
		dev_dbg(gdev->drm.dev, "dma-buf attach by %s: peer-to-peer (%s)\n",
			dev_name(attach->dev),
			a->host_bridge ? "host bridge" : "bus address");
	attach->priv = a;
	return 0;
}

static void p2pgpu_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	kfree(attach->priv);
	attach->priv = NULL;
}

static void p2pgpu_bo_unpin_range_locked(struct p2pgpu_device *gdev,
					 struct p2pgpu_bo *bo,
					 unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		p2pgpu_unpin_page_locked(gdev, bo, i);
}

/* Victim filter: keep the pages of the object being pinned. */
static bool p2pgpu_keep_bo(void *owner, u64 index, unsigned int order,
			   void *arg)
{
	return owner == arg;
}

/*
 * Place and pin every page of @bo in the window. Returns 0, or -EBUSY /
 * -ENOSPC when the window cannot hold them (or a page is pinned
 * device-only), with nothing pinned.
 */
static int p2pgpu_bo_pin_window_locked(struct p2pgpu_device *gdev,
				       struct p2pgpu_bo *bo)
{
	unsigned long i;
	int ret = 0;

	lockdep_assert_held(&gdev->lock);
	for (i = 0; i < bo->npages; i++) {
		struct p2pgpu_bo_page *p = &bo->pages[i];

		if (p->slot == P2PGPU_NO_SLOT) {
			/* place refuses a page pinned device-only: -EBUSY */
			ret = p2pgpu_place_locked(gdev, bo, i, false,
						  p2pgpu_keep_bo, bo);
			if (ret < 0)
				break;
		}
		ret = p2pgpu_pin_page_locked(gdev, bo, i);
		if (ret)
			break;
	}
	if (i == bo->npages)
		return 0;
	p2pgpu_bo_unpin_range_locked(gdev, bo, i);
	return ret;
}

/*
 * Pin every page of @bo device-only, moving pages out of the window first.
 * Returns 0, or -EBUSY (with nothing pinned) if a page is pinned in the
 * window by an importer that reaches the BAR.
 */
static int p2pgpu_bo_pin_device_locked(struct p2pgpu_device *gdev,
				       struct p2pgpu_bo *bo,
				       struct dma_buf_attachment *attach)
{
	unsigned long i;
	int ret = 0;

	lockdep_assert_held(&gdev->lock);
	for (i = 0; i < bo->npages; i++) {
		if (bo->pages[i].slot != P2PGPU_NO_SLOT) {
			ret = p2pgpu_unplace_locked(gdev, bo, i);
			if (ret) {
				p2pgpu_reject(gdev,
					      "dma-buf map by %s: page %lu is pinned in the window by a peer, %s needs system pages\n",
					      dev_name(attach->dev), i,
					      dev_name(attach->dev));
				break;
			}
		}
		ret = p2pgpu_pin_page_locked(gdev, bo, i);
		if (ret)
			break;
	}
	if (i == bo->npages)
		return 0;
	p2pgpu_bo_unpin_range_locked(gdev, bo, i);
	return ret;
}

static void p2pgpu_sgt_window_unmap(struct dma_buf_attachment *attach,
				    struct sg_table *sgt, unsigned int nents,
				    enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i >= nents)
			break;
		dma_unmap_resource(attach->dev, sg_dma_address(sg),
				   sg_dma_len(sg), dir, DMA_ATTR_SKIP_CPU_SYNC);
	}
}

/*
 * Build the sg_table of @bo's window slots (pinned, so their slots are
 * fixed): one entry per run of consecutive slots, at most the importer's
 * maximum segment size, no struct pages, DMA addresses only.
 */
static int p2pgpu_sgt_window_locked(struct p2pgpu_device *gdev,
				    struct p2pgpu_bo *bo,
				    struct dma_buf_attachment *attach,
				    const struct p2pgpu_dmabuf_attach *a,
				    enum dma_data_direction dir,
				    struct sg_table *sgt)
{
	unsigned int max_seg = dma_get_max_seg_size(attach->dev);
	unsigned int nents = 0, i;
	struct scatterlist *sg = NULL;
	size_t run = 0;
	unsigned long pg;
	u32 prev = 0;
	int ret;

	lockdep_assert_held(&gdev->lock);
	max_seg = max_t(unsigned int, round_down(max_seg, PAGE_SIZE), PAGE_SIZE);
	for (pg = 0; pg < bo->npages; pg++) {
		u32 slot = bo->pages[pg].slot;

		if (!run || slot != prev + 1 || run + PAGE_SIZE > max_seg) {
			nents++;
			run = 0;
		}
		run += PAGE_SIZE;
		prev = slot;
	}
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;

	run = 0;
	for (pg = 0; pg < bo->npages; pg++) {
		u32 slot = bo->pages[pg].slot;

		if (!run || slot != prev + 1 || run + PAGE_SIZE > max_seg) {
			sg = sg ? sg_next(sg) : sgt->sgl;
			/* no page: importers must use the DMA address only */
			sg_set_page(sg, NULL, 0, 0);
			sg_dma_address(sg) = gdev->window_phys +
					     ((phys_addr_t)slot << PAGE_SHIFT);
			sg_dma_len(sg) = 0;
			run = 0;
		}
		sg->length += PAGE_SIZE;
		sg_dma_len(sg) += PAGE_SIZE;
		run += PAGE_SIZE;
		prev = slot;
	}

	/* CPU physical addresses -> addresses for the importer. */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		phys_addr_t phys = sg_dma_address(sg);
		dma_addr_t addr;

		if (!a->host_bridge) {
			sg_dma_address(sg) = phys + a->bus_offset;
			continue;
		}
		addr = dma_map_resource(attach->dev, phys, sg_dma_len(sg), dir,
					DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(attach->dev, addr)) {
			p2pgpu_sgt_window_unmap(attach, sgt, i, dir);
			sg_free_table(sgt);
			return -EIO;
		}
		sg_dma_address(sg) = addr;
	}
	return 0;
}

/* The backing pages of @bo (pinned device-only), mapped for the importer. */
static int p2pgpu_sgt_system(struct p2pgpu_bo *bo,
			     struct dma_buf_attachment *attach,
			     enum dma_data_direction dir, struct sg_table *sgt)
{
	unsigned int max_seg = dma_get_max_seg_size(attach->dev);
	struct page **pages;
	unsigned long i;
	int ret;

	max_seg = max_t(unsigned int, round_down(max_seg, PAGE_SIZE), PAGE_SIZE);
	pages = kvmalloc_array(bo->npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* The backing pages are fixed for the life of the object. */
	for (i = 0; i < bo->npages; i++)
		pages[i] = bo->pages[i].page;
	ret = sg_alloc_table_from_pages_segment(sgt, pages, bo->npages, 0,
						bo->npages << PAGE_SHIFT,
						max_seg, GFP_KERNEL);
	kvfree(pages);
	if (ret)
		return ret;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		sg_free_table(sgt);
	return ret;
}

static struct sg_table *p2pgpu_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct drm_gem_object *obj = attach->dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_dmabuf_attach *a = attach->priv;
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);
	struct p2pgpu_dmabuf_map *m;
	int idx, ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	/* Moving pages in or out of the window touches the BAR. */
	if (!drm_dev_enter(obj->dev, &idx)) {
		kfree(m);
		p2pgpu_reject(gdev, "dma-buf map by %s: device unplugged\n",
			      dev_name(attach->dev));
		return ERR_PTR(-ENODEV);
	}
	mutex_lock(&gdev->lock);
	if (a->p2p) {
		ret = p2pgpu_bo_pin_window_locked(gdev, bo);
		if (!ret) {
			m->p2p = true;
			m->host_bridge = a->host_bridge;
			ret = p2pgpu_sgt_window_locked(gdev, bo, attach, a, dir,
						       &m->sgt);
			if (ret)
				p2pgpu_bo_unpin_range_locked(gdev, bo,
							     bo->npages);
			goto unlock;
		}
		if (ret != -EBUSY && ret != -ENOSPC)
			goto unlock;
		dev_info_ratelimited(gdev->drm.dev,
				     "dma-buf map by %s: the window cannot hold the %lu pages, mapping system pages\n",
				     dev_name(attach->dev), bo->npages);
	}
	ret = p2pgpu_bo_pin_device_locked(gdev, bo, attach);
unlock:
	mutex_unlock(&gdev->lock);
	drm_dev_exit(idx);
	if (ret)
		goto err;
	if (!m->p2p) {
		ret = p2pgpu_sgt_system(bo, attach, dir, &m->sgt);
		if (ret) {
			mutex_lock(&gdev->lock);
			p2pgpu_bo_unpin_range_locked(gdev, bo, bo->npages);
			mutex_unlock(&gdev->lock);
			goto err;
		}
	}
	return &m->sgt;

err:
	kfree(m);
	return ERR_PTR(ret);
}

/* Also after the device was unplugged: no BAR access, only unpinning. */
static void p2pgpu_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct p2pgpu_dmabuf_map *m = container_of(sgt, struct p2pgpu_dmabuf_map,
						   sgt);
	struct drm_gem_object *obj = attach->dmabuf->priv;
	struct p2pgpu_device *gdev = to_p2pgpu(obj->dev);
	struct p2pgpu_bo *bo = to_p2pgpu_bo(obj);

	if (!m->p2p)
		dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	else if (m->host_bridge)
		p2pgpu_sgt_window_unmap(attach, sgt, sgt->nents, dir);
	sg_free_table(sgt);
	mutex_lock(&gdev->lock);
	p2pgpu_bo_unpin_range_locked(gdev, bo, bo->npages);
	mutex_unlock(&gdev->lock);
	kfree(m);
}

/* Like an mmap of the object: same fault path, same address space. */
static int p2pgpu_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	return drm_gem_prime_mmap(dmabuf->priv, vma);
}

static const struct dma_buf_ops p2pgpu_dmabuf_ops = {
	.attach = p2pgpu_dmabuf_attach,
	.detach = p2pgpu_dmabuf_detach,
	.map_dma_buf = p2pgpu_dmabuf_map,
	.unmap_dma_buf = p2pgpu_dmabuf_unmap,
	.release = drm_gem_dmabuf_release,
	.mmap = p2pgpu_dmabuf_mmap,
};

/**
 * p2pgpu_gem_prime_export() - &drm_gem_object_funcs.export of p2pgpu
 * @obj: the object
 * @flags: O_CLOEXEC / O_RDWR from the PRIME ioctl
 *
 * Gives the object an mmap offset first: mmaps of the dma-buf, eviction
 * zaps and p2pmap imports all address its pages by fake offset.
 *
 * Return: the dma-buf, or an ERR_PTR().
 */
struct dma_buf *p2pgpu_gem_prime_export(struct drm_gem_object *obj, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	int ret;

	ret = drm_gem_create_mmap_offset(obj);
	if (ret)
		return ERR_PTR(ret);
	exp_info.ops = &p2pgpu_dmabuf_ops;
	exp_info.size = obj->size;
	exp_info.flags = flags;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;
	return drm_gem_dmabuf_export(obj->dev, &exp_info);
}

/**
 * p2pgpu_gem_prime_import() - &drm_driver.gem_prime_import of p2pgpu
 * @drm: the importing device
 * @dmabuf: the dma-buf
 *
 * A dma-buf exported by this device gives back its own object. Objects of
 * other devices are refused: a p2pgpu object is device memory of its own
 * GPU, and importing another device's buffer would need an object type
 * backed by somebody else's sg_table, which p2pgpu does not have (peers
 * reach other GPUs' objects through p2pmap instead).
 *
 * Return: the object with a new reference, or ERR_PTR(-EOPNOTSUPP).
 */
struct drm_gem_object *p2pgpu_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dmabuf)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_gem_object *obj;

	if (dmabuf->ops == &p2pgpu_dmabuf_ops) {
		obj = dmabuf->priv;
		if (obj->dev == drm) {
			drm_gem_object_get(obj);
			return obj;
		}
		p2pgpu_reject(gdev,
			      "PRIME import: the buffer is an object of p2pgpu %s; only this device's own buffers can be imported\n",
			      dev_name(obj->dev->dev));
	} else {
		p2pgpu_reject(gdev,
			      "PRIME import: %s buffers are not supported; only this device's own buffers can be imported\n",
			      dmabuf->exp_name ? dmabuf->exp_name : "foreign");
	}
	return ERR_PTR(-EOPNOTSUPP);
}
