// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu: the p2pmap reference exporter, a DRM render-node driver for an
 * emulated small-BAR GPU. Every QEMU ivshmem-plain PCI function (1af4:1110)
 * becomes one DRM device: BAR2 is the window, the part of the device memory
 * the CPU and peers can reach; the rest of the device memory is simulated
 * with kernel pages (see p2pgpu_gem.c). This file holds the module
 * parameters, the PCI driver and the ioctls.
 *
 * Buffer objects are shared through p2pmap (peers import their CPU
 * mappings; p2pgpu_p2pmap.c) and through PRIME (p2pgpu_prime.c): an object
 * exports as a dma-buf that mmaps like the object, and in-kernel importers
 * mapping it get the object pinned for the duration of the mapping, in the
 * window (bus addresses) when they allow peer-to-peer and can reach the
 * BAR, device-only (system pages) otherwise. PRIME import takes back only
 * this device's own dma-bufs.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_prime.h>
#include <drm/drm_vma_manager.h>

#include "p2pgpu_aper.h"
#include "p2pgpu.h"
#include "p2pgpu_drm.h"

#define P2PGPU_VENDOR_ID	0x1af4	/* Red Hat (QEMU ivshmem) */
#define P2PGPU_DEVICE_ID	0x1110	/* ivshmem-plain */
#define P2PGPU_VRAM_PER_WINDOW	4	/* default vram = 4 x window */
#define P2PGPU_MAX_RESIDENCY_MS	60000

static unsigned int window_mb;
module_param(window_mb, uint, 0444);
MODULE_PARM_DESC(window_mb,
		 "Window (peer/CPU-visible device memory) in MiB, at most the BAR2 size (default 0: all of BAR2)");

static unsigned int vram_mb;
module_param(vram_mb, uint, 0444);
MODULE_PARM_DESC(vram_mb,
		 "Device memory in MiB, at least the window (default 0: 4 x the window)");

static unsigned int min_residency_ms = 10;
module_param(min_residency_ms, uint, 0444);
MODULE_PARM_DESC(min_residency_ms,
		 "Minimum window residency in ms before a page may be evicted for a peer (default 10, max 60000)");

/* ---- ioctls ------------------------------------------------------------ */

static int p2pgpu_ioctl_bo_create(struct drm_device *drm, void *data,
				  struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_create *args = data;
	u64 vram_bytes = gdev->vram_pages << PAGE_SHIFT;
	u64 size;
	int ret;

	if (args->flags & ~P2PGPU_BO_CREATE_FLAGS) {
		p2pgpu_reject(gdev, "BO_CREATE: unknown flags %#x\n",
			      args->flags & ~P2PGPU_BO_CREATE_FLAGS);
		return -EINVAL;
	}
	if (!args->size) {
		p2pgpu_reject(gdev, "BO_CREATE: size 0\n");
		return -EINVAL;
	}
	if (args->size > vram_bytes) {
		p2pgpu_reject(gdev,
			      "BO_CREATE: size %llu exceeds the device memory of %llu bytes\n",
			      args->size, vram_bytes);
		return -EINVAL;
	}
	/* Cannot overflow: size <= vram_bytes, a multiple of PAGE_SIZE. */
	size = PAGE_ALIGN(args->size);
	ret = p2pgpu_bo_create(gdev, file, size, &args->handle);
	if (ret)
		return ret;
	args->size = size;
	return 0;
}

static struct drm_gem_object *p2pgpu_lookup(struct p2pgpu_device *gdev,
					    struct drm_file *file, u32 handle,
					    u32 pad, const char *what)
{
	struct drm_gem_object *obj;

	if (pad) {
		p2pgpu_reject(gdev, "%s: non-zero padding\n", what);
		return ERR_PTR(-EINVAL);
	}
	obj = drm_gem_object_lookup(file, handle);
	if (!obj) {
		p2pgpu_reject(gdev, "%s: no object with handle %u\n", what,
			      handle);
		return ERR_PTR(-ENOENT);
	}
	return obj;
}

static int p2pgpu_ioctl_bo_mmap_offset(struct drm_device *drm, void *data,
				       struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	obj = p2pgpu_lookup(gdev, file, args->handle, args->pad,
			    "BO_MMAP_OFFSET");
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}

static int p2pgpu_ioctl_bo_info(struct drm_device *drm, void *data,
				struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_info *args = data;
	struct drm_gem_object *obj;
	struct p2pgpu_bo *bo;

	obj = p2pgpu_lookup(gdev, file, args->handle, args->pad, "BO_INFO");
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	bo = to_p2pgpu_bo(obj);
	p2pgpu_pin_flush(gdev);
	mutex_lock(&gdev->lock);
	args->size = obj->size;
	args->pages_window = bo->resident;
	args->pages_device = bo->npages - bo->resident;
	args->pages_pinned_window = bo->pinned_window;
	args->pages_pinned_device = bo->pinned_device;
	mutex_unlock(&gdev->lock);
	drm_gem_object_put(obj);
	return 0;
}

static int p2pgpu_ioctl_device_info(struct drm_device *drm, void *data,
				    struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_device_info *args = data;
	struct p2pgpu_aper_stats st;

	memset(args, 0, sizeof(*args));
	/* Pins of destroyed pinned imports are dropped before counting. */
	p2pgpu_pin_flush(gdev);
	mutex_lock(&gdev->lock);
	p2pgpu_aper_get_stats(gdev->aper, &st);
	args->vram_used = (gdev->vram_used + p2pgpu_devmem_used(gdev)) <<
			  PAGE_SHIFT;
	args->device_pinned = gdev->device_pinned << PAGE_SHIFT;
	args->placements = gdev->placements;
	args->evictions = gdev->evictions;
	args->cpu_faults = gdev->cpu_faults;
	mutex_unlock(&gdev->lock);

	args->page_size = PAGE_SIZE;
	args->vram_total = gdev->vram_pages << PAGE_SHIFT;
	args->window_total = (u64)st.total << PAGE_SHIFT;
	args->window_used = (u64)st.used << PAGE_SHIFT;
	args->window_pinned = (u64)st.pinned << PAGE_SHIFT;
	args->window_free = (u64)st.free << PAGE_SHIFT;
	args->min_residency_ms = gdev->min_residency_ms;
	return 0;
}

static const struct drm_ioctl_desc p2pgpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_CREATE, p2pgpu_ioctl_bo_create,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_MMAP_OFFSET, p2pgpu_ioctl_bo_mmap_offset,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_INFO, p2pgpu_ioctl_bo_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_DEVICE_INFO, p2pgpu_ioctl_device_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_COPY, p2pgpu_ioctl_copy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_SVM_INFO, p2pgpu_ioctl_svm_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_SVM_MIGRATE, p2pgpu_ioctl_svm_migrate,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_SVM_ACCESS, p2pgpu_ioctl_svm_access,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_SVM_SNAPSHOT, p2pgpu_ioctl_svm_snapshot,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_CPU_INFO, p2pgpu_ioctl_bo_cpu_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_PUBLISH, p2pgpu_ioctl_bo_publish,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_UNPUBLISH, p2pgpu_ioctl_bo_unpublish,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_DMABUF_INFO, p2pgpu_ioctl_bo_dmabuf_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_BO_FROM_VA, p2pgpu_ioctl_bo_from_va,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGPU_EXPORT_RANGE, p2pgpu_ioctl_export_range,
			  DRM_RENDER_ALLOW),
};

DEFINE_DRM_GEM_FOPS(p2pgpu_fops);

static const struct drm_driver p2pgpu_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER,
	.ioctls = p2pgpu_ioctls,
	.num_ioctls = ARRAY_SIZE(p2pgpu_ioctls),
	.fops = &p2pgpu_fops,
	.postclose = p2pgpu_svm_postclose,
	.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
	.prime_fd_to_handle = drm_gem_prime_fd_to_handle,
	.gem_prime_import = p2pgpu_gem_prime_import,
	.name = P2PGPU_DRIVER_NAME,
	.desc = "p2pmap " P2PMAP_VERSION " reference exporter (emulated small-BAR GPU)",
#ifdef P2PMAP_HAVE_DRM_DRIVER_DATE
	.date = "20250101",
#endif
	/* the uAPI version (p2pgpu_drm.h); the release is MODULE_VERSION */
	.major = P2PGPU_VERSION_MAJOR,
	.minor = P2PGPU_VERSION_MINOR,
	.patchlevel = 0,
};

/* ---- PCI --------------------------------------------------------------- */

/* drmm action: runs when the last reference to the DRM device is gone. */
static void p2pgpu_drm_release(struct drm_device *drm, void *data)
{
	struct p2pgpu_device *gdev = data;

	p2pgpu_aper_destroy(gdev->aper);
	mutex_destroy(&gdev->lock);
}

static int p2pgpu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct p2pgpu_device *gdev;
	u64 bar_len, window, vram;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	bar_len = pci_resource_len(pdev, P2PGPU_WINDOW_BAR);
	if (!(pci_resource_flags(pdev, P2PGPU_WINDOW_BAR) & IORESOURCE_MEM) ||
	    bar_len < PAGE_SIZE) {
		pci_err(pdev, "BAR%d is not a memory BAR of at least one page\n",
			P2PGPU_WINDOW_BAR);
		return -ENODEV;
	}
	window = window_mb ? (u64)window_mb * SZ_1M : bar_len;
	if (window > bar_len) {
		pci_err(pdev, "window_mb=%u exceeds BAR%d (%llu MiB)\n",
			window_mb, P2PGPU_WINDOW_BAR, bar_len / SZ_1M);
		return -EINVAL;
	}
	window = round_down(window, PAGE_SIZE);
	if (window >> PAGE_SHIFT > P2PGPU_APER_MAX_SLOTS) {
		pci_err(pdev, "window of %llu MiB exceeds %u pages\n",
			window / SZ_1M, P2PGPU_APER_MAX_SLOTS);
		return -EINVAL;
	}
	vram = vram_mb ? (u64)vram_mb * SZ_1M : window * P2PGPU_VRAM_PER_WINDOW;
	if (vram < window) {
		pci_err(pdev, "vram_mb=%u is smaller than the window (%llu MiB)\n",
			vram_mb, window / SZ_1M);
		return -EINVAL;
	}

	ret = pcim_request_region(pdev, P2PGPU_WINDOW_BAR, KBUILD_MODNAME);
	if (ret) {
		pci_err(pdev, "BAR%d busy: %d\n", P2PGPU_WINDOW_BAR, ret);
		return ret;
	}

	gdev = devm_drm_dev_alloc(&pdev->dev, &p2pgpu_drm_driver,
				  struct p2pgpu_device, drm);
	if (IS_ERR(gdev))
		return PTR_ERR(gdev);
	gdev->pdev = pdev;
	mutex_init(&gdev->lock);
	p2pgpu_pin_init(gdev);
	gdev->window_phys = pci_resource_start(pdev, P2PGPU_WINDOW_BAR);
	gdev->window_size = window;
	gdev->window_pages = window >> PAGE_SHIFT;
	gdev->vram_pages = vram >> PAGE_SHIFT;
	gdev->min_residency_ms = min_residency_ms;
	gdev->min_residency = msecs_to_jiffies(min_residency_ms);
	gdev->aper = p2pgpu_aper_create(gdev->window_pages,
					gdev->min_residency);
	if (IS_ERR(gdev->aper)) {
		ret = PTR_ERR(gdev->aper);
		gdev->aper = NULL;
		mutex_destroy(&gdev->lock);
		return ret;
	}
	ret = drmm_add_action_or_reset(&gdev->drm, p2pgpu_drm_release, gdev);
	if (ret)
		return ret;

	gdev->window = devm_ioremap_wc(&pdev->dev, gdev->window_phys, window);
	if (!gdev->window) {
		pci_err(pdev, "cannot map BAR%d\n", P2PGPU_WINDOW_BAR);
		return -ENOMEM;
	}

	/* Struct pages for the window (or the fallback reason); devres. */
	p2pgpu_p2pdma_init(gdev);

	/* The importer side; released by devres after remove(). */
	p2pgpu_copy_init(gdev);

	pci_set_drvdata(pdev, gdev);
	ret = p2pgpu_devmem_init(gdev);
	if (ret)
		return ret;
	ret = drm_dev_register(&gdev->drm, 0);
	if (ret)
		return ret;
	ret = p2pgpu_provider_register(gdev);
	if (ret) {
		pci_err(pdev, "cannot register with p2pmap: %d\n", ret);
		drm_dev_unplug(&gdev->drm);
		return ret;
	}
	if (p2pgpu_publish_init(gdev))
		pci_warn(pdev, "no publish node: objects cannot be published\n");

	pci_info(pdev, "p2pgpu %s: window %llu MiB of BAR%d %pR, device memory %llu MiB, min residency %u ms\n",
		 gdev->drm.render ? gdev->drm.render->kdev->kobj.name : "?",
		 window / SZ_1M, P2PGPU_WINDOW_BAR,
		 &pdev->resource[P2PGPU_WINDOW_BAR], vram / SZ_1M,
		 min_residency_ms);
	return 0;
}

/*
 * Unbind, rmmod or PCI removal. p2pmap revokes every import of the device
 * and waits until importers have stopped, and the pins of pinned imports
 * are dropped (p2pgpu_provider_unregister()). Static (pinned) dma-buf
 * attachments have no way to be told, so objects they have mapped stay
 * pinned (and alive) until they unmap; the BAR is not touched for that.
 * Dynamic dma-buf importers of unpinned window mappings are told with
 * move_notify right after drm_dev_unplug() (p2pgpu_dmabuf_unplug()), and
 * mapping again fails with -ENODEV. drm_dev_unplug() then waits for every fault in
 * progress, unregisters the device and zaps every CPU mapping into the
 * window; afterwards faults get SIGBUS and ioctls -ENODEV (it also waits for
 * copies in progress, which run inside drm_dev_enter()). The publish node
 * goes first; get_user_pages() pins on window pages (RDMA MRs) cannot be
 * revoked, so remove then waits for them (p2pgpu_p2pdma_drain()) before
 * devres tears the window's struct pages down. Objects and the
 * DRM device live on until their last user is gone; devres then detaches
 * the copy engine from p2pmap (no import of it is left), unmaps the BAR
 * and releases the region, which nothing touches any more.
 */
static void p2pgpu_remove(struct pci_dev *pdev)
{
	struct p2pgpu_device *gdev = pci_get_drvdata(pdev);

	p2pgpu_publish_fini(gdev);
	/* Peers first: when this returns no importer touches the BAR. */
	p2pgpu_provider_unregister(gdev);
	drm_dev_unplug(&gdev->drm);
	/* Dynamic dma-buf importers: told, and cannot map again. */
	p2pgpu_dmabuf_unplug(gdev);
	p2pgpu_p2pdma_drain(gdev);
}

static const struct pci_device_id p2pgpu_pci_ids[] = {
	{ PCI_DEVICE(P2PGPU_VENDOR_ID, P2PGPU_DEVICE_ID) },
	{ }
};

/* No MODULE_DEVICE_TABLE: ivshmem-plain is generic, never autoload. */

static struct pci_driver p2pgpu_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = p2pgpu_pci_ids,
	.probe = p2pgpu_probe,
	.remove = p2pgpu_remove,
};

static int __init p2pgpu_init(void)
{
	if (min_residency_ms > P2PGPU_MAX_RESIDENCY_MS) {
		pr_err("min_residency_ms=%u exceeds %u\n", min_residency_ms,
		       P2PGPU_MAX_RESIDENCY_MS);
		return -EINVAL;
	}
	if (vram_mb && window_mb && vram_mb < window_mb) {
		pr_err("vram_mb=%u is smaller than window_mb=%u\n", vram_mb,
		       window_mb);
		return -EINVAL;
	}
	return pci_register_driver(&p2pgpu_pci_driver);
}

static void __exit p2pgpu_exit(void)
{
	pci_unregister_driver(&p2pgpu_pci_driver);
}

module_init(p2pgpu_init);
module_exit(p2pgpu_exit);

MODULE_DESCRIPTION("p2pmap reference exporter: DRM driver for an emulated small-BAR GPU");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION);
