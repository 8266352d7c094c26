// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu ioctls that start from a user address rather than a handle.
 *
 * This file owns BO_FROM_VA (a handle to the object a CPU address of the
 * caller maps, for libraries given only a pointer) and EXPORT_RANGE (the
 * userspace entry point of the core's range exporter,
 * p2pmap_dmabuf_export(), for ranges that are not p2pgpu objects).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/mm.h>
#include <linux/p2pmap-dmabuf.h>

#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "p2pgpu.h"
#include "p2pgpu_drm.h"

/**
 * p2pgpu_ioctl_bo_from_va() - DRM_IOCTL_P2PGPU_BO_FROM_VA
 * @drm: the device
 * @data: &struct drm_p2pgpu_bo_from_va
 * @file: the DRM file the new handle is created in
 *
 * The mapping at the address must map an object of @drm: through a render
 * node, the publish node or a dma-buf of the device, all of whose files
 * point their f_mapping at the DRM device's address space, and whose mmap
 * paths (drm_gem_mmap(), the publish node, drm_gem_prime_mmap()) set
 * vm_private_data to the object and vm_pgoff to its fake offset. The
 * object is held across the handle creation, which happens after mmap_lock
 * is dropped.
 *
 * Return: 0 or a negative errno, see &struct drm_p2pgpu_bo_from_va.
 */
int p2pgpu_ioctl_bo_from_va(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_bo_from_va *args = data;
	struct mm_struct *mm = current->mm;
	struct drm_gem_object *obj = NULL;
	struct vm_area_struct *vma;
	unsigned long va;
	u64 pgoff;
	int ret = 0;

	if (args->flags) {
		p2pgpu_reject(gdev, "BO_FROM_VA: flags must be 0\n");
		return -EINVAL;
	}
	if (args->va > ULONG_MAX) {
		p2pgpu_reject(gdev, "BO_FROM_VA: address %#llx out of range\n",
			      args->va);
		return -EFAULT;
	}
	va = args->va;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, va);
	if (!vma) {
		p2pgpu_reject(gdev, "BO_FROM_VA: nothing mapped at %#lx\n", va);
		ret = -EFAULT;
		goto unlock;
	}
	if (vma->vm_file && vma->vm_private_data &&
	    vma->vm_file->f_mapping != drm->anon_inode->i_mapping &&
	    vma->vm_file->f_op == drm->driver->fops) {
		p2pgpu_reject(gdev,
			      "BO_FROM_VA: %#lx maps an object of another p2pgpu, not of this device\n",
			      va);
		ret = -EXDEV;
		goto unlock;
	}
	if (!vma->vm_file || !vma->vm_private_data ||
	    vma->vm_file->f_mapping != drm->anon_inode->i_mapping) {
		p2pgpu_reject(gdev,
			      "BO_FROM_VA: %#lx is not a mapping of a p2pgpu object of this device\n",
			      va);
		ret = -ENXIO;
		goto unlock;
	}
	obj = vma->vm_private_data;
	pgoff = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT) -
		drm_vma_node_start(&obj->vma_node);
	args->offset = (pgoff << PAGE_SHIFT) | (va & ~PAGE_MASK);
	args->size = obj->size;
	args->mapped = vma->vm_end - va;
	drm_gem_object_get(obj);
unlock:
	mmap_read_unlock(mm);
	if (ret)
		return ret;
	ret = drm_gem_handle_create(file, obj, &args->handle);
	drm_gem_object_put(obj);
	return ret;
}

/**
 * p2pgpu_ioctl_export_range() - DRM_IOCTL_P2PGPU_EXPORT_RANGE
 * @drm: the device
 * @data: &struct drm_p2pgpu_export_range
 * @file: the DRM file (unused: the range is the caller's, not an object's)
 *
 * The userspace entry point of p2pmap_dmabuf_export() (kernel/core).
 *
 * Return: 0 with the new fd in &drm_p2pgpu_export_range.fd, or a negative
 * errno.
 */
int p2pgpu_ioctl_export_range(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_export_range *args = data;
	struct dma_buf *dmabuf;
	int fd;

	if (args->flags & ~P2PGPU_EXPORT_RANGE_FLAGS) {
		p2pgpu_reject(gdev, "EXPORT_RANGE: unknown flags %#x\n",
			      args->flags);
		return -EINVAL;
	}
	if (!args->length || !PAGE_ALIGNED(args->va) ||
	    !PAGE_ALIGNED(args->length) || args->va > ULONG_MAX ||
	    args->length > ULONG_MAX - args->va) {
		p2pgpu_reject(gdev,
			      "EXPORT_RANGE: range %#llx+%#llx must be page aligned, non-empty and not wrap\n",
			      args->va, args->length);
		return -EINVAL;
	}
	dmabuf = p2pmap_dmabuf_export(current->mm, args->va, args->length,
				      args->flags & P2PGPU_EXPORT_RANGE_WRITE ?
				      P2PMAP_DMABUF_WRITE : 0);
	if (IS_ERR(dmabuf)) {
		p2pgpu_reject(gdev, "EXPORT_RANGE: %#llx+%#llx: export failed (%ld)\n",
			      args->va, args->length, PTR_ERR(dmabuf));
		return PTR_ERR(dmabuf);
	}
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	args->fd = fd;
	return 0;
}
