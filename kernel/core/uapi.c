// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap's own userspace API: the misc device /dev/p2pmap and its ioctls
 * (include/uapi/linux/p2pmap.h). This file owns argument validation and
 * the permission check of the caller's address space; the export itself
 * is dmabuf.c's p2pmap_dmabuf_export(), which this file calls and which
 * never calls back here.
 *
 * Every refusal returns an errno and logs one ratelimited line saying why,
 * naming the process. An ioctl that fails, or whose process is killed
 * half-way, leaves nothing behind: the fd is installed only after the
 * result has reached userspace, and a dma-buf that was never installed is
 * released at once.
 */

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/p2pmap-dmabuf.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <uapi/linux/p2pmap.h>

#include "p2pmap_internal.h"

#define p2pmap_uapi_reject(fmt, ...)					\
	pr_info_ratelimited("%s[%d]: " fmt, current->comm,		\
			    task_pid_nr(current), ##__VA_ARGS__)

/* P2PMAP_EXPORT_CAP_* of this kernel (see p2pmap_compat.h). */
static u32 p2pmap_uapi_export_caps(void)
{
	u32 caps = 0;

	if (P2PMAP_DMABUF_DYNAMIC_IMPORTERS)
		caps |= P2PMAP_EXPORT_CAP_DYNAMIC;
	if (P2PMAP_DMABUF_REVOKE)
		caps |= P2PMAP_EXPORT_CAP_REVOKE;
	return caps;
}

/*
 * Every byte of [start, end) must be mapped and readable (and writable
 * for a writable export) by the caller, checked under the mmap lock. The
 * import that resolves the range for each importer checks the same again
 * under the lock it resolves with (import.c), so a change after this
 * check (mprotect, munmap) is caught there: it is a CPU-side change the
 * exporter's notifier sees, and importers are told.
 */
static int p2pmap_uapi_check_access(struct mm_struct *mm, unsigned long start,
				    unsigned long end, bool write)
{
	unsigned long addr = start;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	while (addr < end) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || vma->vm_start > addr) {
			p2pmap_uapi_reject("EXPORT_RANGE: %#lx is not mapped\n",
					   addr);
			ret = -EFAULT;
			break;
		}
		if (!(vma->vm_flags & VM_READ) ||
		    (write && !(vma->vm_flags & VM_WRITE))) {
			p2pmap_uapi_reject("EXPORT_RANGE: %#lx-%#lx is not %s by the caller\n",
					   vma->vm_start, vma->vm_end,
					   write ? "writable" : "readable");
			ret = -EACCES;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

static long p2pmap_uapi_export_range(void __user *uarg)
{
	struct p2pmap_export_range a;
	struct dma_buf *dmabuf;
	unsigned long start, end;
	u32 usize;
	int fd, ret;

	BUILD_BUG_ON(sizeof(a) != P2PMAP_EXPORT_RANGE_SIZE_VER0);
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < P2PMAP_EXPORT_RANGE_SIZE_VER0 || usize > PAGE_SIZE) {
		p2pmap_uapi_reject("EXPORT_RANGE: size %u outside %u..%lu\n",
				   usize, P2PMAP_EXPORT_RANGE_SIZE_VER0,
				   PAGE_SIZE);
		return -EINVAL;
	}
	ret = copy_struct_from_user(&a, sizeof(a), uarg, usize);
	if (ret) {
		if (ret == -E2BIG)
			p2pmap_uapi_reject("EXPORT_RANGE: non-zero bytes past byte %zu\n",
					   sizeof(a));
		return ret;
	}
	if (a.flags & ~P2PMAP_EXPORT_FLAGS) {
		p2pmap_uapi_reject("EXPORT_RANGE: unknown flags %#x\n",
				   a.flags & ~P2PMAP_EXPORT_FLAGS);
		return -EINVAL;
	}
	if (!a.length || a.length > P2PMAP_EXPORT_MAX_LENGTH) {
		p2pmap_uapi_reject("EXPORT_RANGE: length %#llx not in 1 page..%#llx\n",
				   a.length, P2PMAP_EXPORT_MAX_LENGTH);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(a.va) || !PAGE_ALIGNED(a.length)) {
		p2pmap_uapi_reject("EXPORT_RANGE: %#llx+%#llx is not page aligned\n",
				   a.va, a.length);
		return -EINVAL;
	}
	if (a.va > current->mm->task_size ||
	    a.length > current->mm->task_size - a.va) {
		p2pmap_uapi_reject("EXPORT_RANGE: %#llx+%#llx is outside the address space\n",
				   a.va, a.length);
		return -EINVAL;
	}
	start = a.va;
	end = start + a.length;
	ret = p2pmap_uapi_check_access(current->mm, start, end,
				       a.flags & P2PMAP_EXPORT_WRITE);
	if (ret)
		return ret;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	dmabuf = p2pmap_dmabuf_export(current->mm, start, a.length,
				      a.flags & P2PMAP_EXPORT_WRITE ?
				      P2PMAP_DMABUF_WRITE : 0);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		p2pmap_uapi_reject("EXPORT_RANGE: %#lx+%#llx: export failed (%d)\n",
				   start, a.length, ret);
		goto err_fd;
	}
	a.fd = fd;
	a.caps = p2pmap_uapi_export_caps();
	/* Only the bytes the caller passed; the fd is not installed yet. */
	if (copy_to_user(uarg, &a, min_t(size_t, usize, sizeof(a)))) {
		ret = -EFAULT;
		goto err_put;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_put:
	dma_buf_put(dmabuf);
err_fd:
	put_unused_fd(fd);
	return ret;
}

static long p2pmap_uapi_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case P2PMAP_IOC_EXPORT_RANGE:
		return p2pmap_uapi_export_range(uarg);
	default:
		p2pmap_uapi_reject("unknown ioctl %#x on /dev/%s\n", cmd,
				   P2PMAP_DEVNAME);
		return -ENOTTY;
	}
}

static const struct file_operations p2pmap_uapi_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = p2pmap_uapi_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice p2pmap_uapi_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = P2PMAP_DEVNAME,
	.fops = &p2pmap_uapi_fops,
	/* An export pins memory without RLIMIT_MEMLOCK accounting. */
	.mode = 0600,
};

/**
 * p2pmap_uapi_init() - register /dev/p2pmap
 *
 * Return: 0 or the error of misc_register().
 */
int p2pmap_uapi_init(void)
{
	return misc_register(&p2pmap_uapi_misc);
}

/**
 * p2pmap_uapi_exit() - unregister /dev/p2pmap
 *
 * Open files keep the module (fops owner) and exported dma-bufs keep it
 * too (dma_buf_export() takes a reference on the exporter's module).
 */
void p2pmap_uapi_exit(void)
{
	misc_deregister(&p2pmap_uapi_misc);
}
