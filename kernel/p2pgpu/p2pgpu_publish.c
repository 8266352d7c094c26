// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu publishing: buffer objects other processes may map.
 *
 * A GEM object is mappable only through the DRM file that holds a handle
 * to it (drm_gem_mmap() refuses other files' offsets). Unmodified programs
 * that take a file name and an offset, such as perftest's --mmap=FILE
 * --mmap-offset=N, need something else. This file owns it: the owner
 * publishes an object (DRM_IOCTL_P2PGPU_BO_PUBLISH), and any process that
 * may open the device's publish node, /dev/p2pgpu/renderD<N> (a misc
 * device, mode 0600), can mmap(MAP_SHARED) a published object there at the
 * offset the ioctl returned (the object's fake mmap offset). Nothing else
 * can be mapped through the node.
 *
 * Rules: a publication lasts until DRM_IOCTL_P2PGPU_BO_UNPUBLISH or the
 * object's destruction; it holds no reference. A mapping through the node
 * holds the object (as any GEM mapping does) and faults only while the
 * object is published: unpublish zaps the object's mappings, after which
 * node mappings fault with SIGBUS. The node's files point their f_mapping
 * at the DRM device's address space, so eviction zaps, p2pmap imports and
 * device removal treat node mappings exactly like render-node mappings.
 * Remove deregisters the node (no new opens); open files then fail mmap
 * with -ENODEV, and their mappings were zapped by drm_dev_unplug().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "p2pgpu.h"
#include "p2pgpu_drm.h"

/**
 * struct p2pgpu_pub - the publish node of one device
 * @misc: the misc device, named "p2pgpu!renderD<N>" (/dev/p2pgpu/renderD<N>)
 * @gdev: its device
 * @name: storage for @misc.name
 *
 * Allocated at probe, freed at remove after misc_deregister(); open files
 * do not use it (they hold the DRM device instead).
 */
struct p2pgpu_pub {
	struct miscdevice misc;
	struct p2pgpu_device *gdev;
	char name[32];
};

static int p2pgpu_pub_open(struct inode *inode, struct file *filp)
{
	/* misc_open() set private_data; misc_mtx keeps @pub alive here. */
	struct p2pgpu_pub *pub = container_of(filp->private_data,
					      struct p2pgpu_pub, misc);
	struct p2pgpu_device *gdev = pub->gdev;
	int idx;

	if (!drm_dev_enter(&gdev->drm, &idx))
		return -ENODEV;
	drm_dev_get(&gdev->drm);
	drm_dev_exit(idx);
	filp->private_data = gdev;
	/* Same address space as the render node: zaps reach our mappings. */
	filp->f_mapping = gdev->drm.anon_inode->i_mapping;
	return 0;
}

static int p2pgpu_pub_release(struct inode *inode, struct file *filp)
{
	struct p2pgpu_device *gdev = filp->private_data;

	drm_dev_put(&gdev->drm);
	return 0;
}

static int p2pgpu_pub_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct p2pgpu_device *gdev = filp->private_data;
	struct drm_vma_offset_manager *mgr = gdev->drm.vma_offset_manager;
	struct drm_gem_object *obj = NULL;
	struct drm_vma_offset_node *node;
	bool published;
	int idx, ret;

	if (!drm_dev_enter(&gdev->drm, &idx))
		return -ENODEV;
	drm_vma_offset_lock_lookup(mgr);
	node = drm_vma_offset_lookup_locked(mgr, vma->vm_pgoff,
					    vma_pages(vma));
	if (node) {
		obj = container_of(node, struct drm_gem_object, vma_node);
		if (!kref_get_unless_zero(&obj->refcount))
			obj = NULL;
	}
	drm_vma_offset_unlock_lookup(mgr);
	if (!obj) {
		p2pgpu_reject(gdev,
			      "publish node: no object covers offset %#lx + %lu pages\n",
			      vma->vm_pgoff << PAGE_SHIFT, vma_pages(vma));
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&gdev->lock);
	published = to_p2pgpu_bo(obj)->published;
	mutex_unlock(&gdev->lock);
	if (!published) {
		p2pgpu_reject(gdev,
			      "publish node: the object at offset %#lx is not published\n",
			      vma->vm_pgoff << PAGE_SHIFT);
		ret = -EACCES;
		goto out_put;
	}
	ret = p2pgpu_gem_mmap(obj, vma);
	if (ret)
		goto out_put;
	/* The VMA's reference, dropped by drm_gem_vm_close(). */
	vma->vm_ops = &p2pgpu_pub_vm_ops;
	vma->vm_private_data = obj;
	drm_dev_exit(idx);
	return 0;

out_put:
	drm_gem_object_put(obj);
out:
	drm_dev_exit(idx);
	return ret;
}

static const struct file_operations p2pgpu_pub_fops = {
	.owner = THIS_MODULE,
	.open = p2pgpu_pub_open,
	.release = p2pgpu_pub_release,
	.mmap = p2pgpu_pub_mmap,
	.llseek = noop_llseek,
};

/**
 * p2pgpu_publish_init() - create the publish node, at probe
 * @gdev: the device, registered (its render minor is known)
 *
 * Return: 0, or a negative errno (the probe fails).
 */
int p2pgpu_publish_init(struct p2pgpu_device *gdev)
{
	struct p2pgpu_pub *pub;
	int ret;

	if (!gdev->drm.render)
		return -ENODEV;
	pub = kzalloc(sizeof(*pub), GFP_KERNEL);
	if (!pub)
		return -ENOMEM;
	snprintf(pub->name, sizeof(pub->name), "p2pgpu!renderD%d",
		 gdev->drm.render->index);
	pub->gdev = gdev;
	pub->misc.minor = MISC_DYNAMIC_MINOR;
	pub->misc.name = pub->name;
	pub->misc.fops = &p2pgpu_pub_fops;
	pub->misc.parent = gdev->drm.dev;
	pub->misc.mode = 0600;
	ret = misc_register(&pub->misc);
	if (ret) {
		kfree(pub);
		return ret;
	}
	gdev->pub = pub;
	return 0;
}

/**
 * p2pgpu_publish_fini() - remove the publish node, at remove
 * @gdev: the device
 */
void p2pgpu_publish_fini(struct p2pgpu_device *gdev)
{
	if (!gdev->pub)
		return;
	misc_deregister(&gdev->pub->misc);
	kfree(gdev->pub);
	gdev->pub = NULL;
}

static struct p2pgpu_bo *p2pgpu_pub_lookup(struct p2pgpu_device *gdev,
					   struct drm_file *file, u32 handle,
					   u32 flags, const char *what)
{
	struct drm_gem_object *obj;

	if (flags) {
		p2pgpu_reject(gdev, "%s: unknown flags %#x\n", what, flags);
		return ERR_PTR(-EINVAL);
	}
	obj = drm_gem_object_lookup(file, handle);
	if (!obj) {
		p2pgpu_reject(gdev, "%s: no object with handle %u\n", what,
			      handle);
		return ERR_PTR(-ENOENT);
	}
	return to_p2pgpu_bo(obj);
}

/**
 * p2pgpu_ioctl_bo_publish() - DRM_IOCTL_P2PGPU_BO_PUBLISH
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_bo_publish
 * @file: the caller's DRM file
 *
 * Return: 0, -EINVAL, -ENOENT, -ENOMEM.
 */
int p2pgpu_ioctl_bo_publish(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_publish *args = data;
	struct p2pgpu_bo *bo;
	int ret;

	bo = p2pgpu_pub_lookup(gdev, file, args->handle, args->flags,
			       "BO_PUBLISH");
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (!ret) {
		args->offset = drm_vma_node_offset_addr(&bo->base.vma_node);
		mutex_lock(&gdev->lock);
		bo->published = true;
		mutex_unlock(&gdev->lock);
	}
	drm_gem_object_put(&bo->base);
	return ret;
}

/**
 * p2pgpu_ioctl_bo_unpublish() - DRM_IOCTL_P2PGPU_BO_UNPUBLISH
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_bo_unpublish
 * @file: the caller's DRM file
 *
 * Clears the flag and zaps the object's mappings under the device lock,
 * so no publish-node fault can insert a PTE after the zap.
 *
 * Return: 0, -EINVAL, -ENOENT.
 */
int p2pgpu_ioctl_bo_unpublish(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_unpublish *args = data;
	struct p2pgpu_bo *bo;
	int ret = 0;

	bo = p2pgpu_pub_lookup(gdev, file, args->handle, args->flags,
			       "BO_UNPUBLISH");
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	mutex_lock(&gdev->lock);
	if (bo->published) {
		bo->published = false;
		p2pgpu_bo_zap_all(gdev, bo);
	} else {
		p2pgpu_reject(gdev, "BO_UNPUBLISH: handle %u is not published\n",
			      args->handle);
		ret = -EINVAL;
	}
	mutex_unlock(&gdev->lock);
	drm_gem_object_put(&bo->base);
	return ret;
}
