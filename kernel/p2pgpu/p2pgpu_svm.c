// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu shared virtual memory: the device page table and the SVM ioctls.
 *
 * This file owns the mirror, the device's page table of one process's
 * address space (one per DRM file, for the process that first used it),
 * kept coherent by an mmu interval notifier over the whole address space,
 * and the ioctls that use it: migration of anonymous memory to and from
 * the device (migrate_vma_*(); migrated pages are mapped in the mirror at
 * once with the permissions of their source CPU PTE, as nouveau does, which
 * is what keeps copy-on-write and read-only pages read-only for the
 * device), prefetch and evict, device reads and writes through the mirror
 * (faulting with hmm_range_fault() and p2pmap's shared pagemap owner, so
 * device-private memory stays where it is), a snapshot of the CPU and
 * device page tables, and the SVM counters. Device memory itself is
 * p2pgpu_devmem.c; the locking rules are in p2pgpu_svm.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hmm.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "p2pgpu.h"
#include "p2pgpu_drm.h"
#include "p2pgpu_svm.h"

/*
 * Pages per migrate_vma / hmm_range_fault batch: 64, as test_hmm's dmirror
 * migrates (512 measured 0.88x of dmirror back to system memory in two
 * release-kernel runs, 64 measured 0.91x and 0.94x).
 */
#define P2PGPU_SVM_BATCH	64UL
/* hmm_range_fault() rounds before an access gives up with -EBUSY. */
#define P2PGPU_SVM_RETRIES	64
/* Tag of a writable entry in &p2pgpu_mirror.pt. */
#define P2PGPU_PT_WRITE		1UL

/**
 * struct p2pgpu_mirror - the device's page table of one address space
 * @notifier: interval notifier over the whole address space of @notifier.mm.
 * @gdev: the device.
 * @op_lock: serialises the SVM ioctls of this mirror (migrations, accesses,
 *	snapshots), so an access never sees a migration of its own mirror
 *	half done.
 * @lock: protects @pt and the in-flight migration record.
 * @pt: virtual page number -> struct page, tagged %P2PGPU_PT_WRITE when
 *	the device may write it.
 * @migr_task: task running this mirror's migration, or NULL.
 * @migr_start: start of the range it migrates.
 * @migr_end: end of that range.
 */
struct p2pgpu_mirror {
	struct mmu_interval_notifier notifier;
	struct p2pgpu_device *gdev;
	struct mutex op_lock; /* one SVM ioctl at a time */
	struct mutex lock; /* @pt, migration record */
	struct xarray pt;
	struct task_struct *migr_task;
	unsigned long migr_start;
	unsigned long migr_end;
};

/*
 * Drop the mirror's entries for [start, end), with @m->lock held: one walk
 * of the page table under one xa_lock (xa_erase() per entry walks it from
 * the root twice per page, and a CPU fault invalidates one page at a time).
 */
static void p2pgpu_mirror_clear(struct p2pgpu_mirror *m, unsigned long start,
				unsigned long end)
{
	XA_STATE(xas, &m->pt, start >> PAGE_SHIFT);
	void *entry;

	lockdep_assert_held(&m->lock);
	xas_lock(&xas);
	xas_for_each(&xas, entry, (end >> PAGE_SHIFT) - 1)
		xas_store(&xas, NULL);
	xas_unlock(&xas);
}

/*
 * The notifier: drop the device's entries for the range, unless this is
 * the mirror's own migration (see "p2pgpu SVM locking and lifetime"): the
 * migration maps its pages itself, and the pages it does not migrate are
 * restored unchanged. The owner alone is no proof: it is shared by every
 * p2pmap provider, and CPU faults migrate with it too.
 */
static bool p2pgpu_mirror_invalidate(struct mmu_interval_notifier *mni,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct p2pgpu_mirror *m = container_of(mni, struct p2pgpu_mirror,
					       notifier);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&m->lock);
	else if (!mutex_trylock(&m->lock))
		return false;

	if (range->event == MMU_NOTIFY_MIGRATE &&
	    range->owner == p2pgpu_devmem_owner() &&
	    m->migr_task == current && range->start >= m->migr_start &&
	    range->end <= m->migr_end) {
		mutex_unlock(&m->lock);
		return true;
	}
	mmu_interval_set_seq(mni, cur_seq);
	p2pgpu_mirror_clear(m, range->start, range->end);
	mutex_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops p2pgpu_mirror_ops = {
	.invalidate = p2pgpu_mirror_invalidate,
};

/*
 * The mirror of @file, created at the first SVM ioctl for the calling
 * process. Another process (a child that inherited the file) is refused:
 * the device mirrors one address space.
 */
static struct p2pgpu_mirror *p2pgpu_mirror_get(struct p2pgpu_device *gdev,
					       struct drm_file *file,
					       const char *what)
{
	struct p2pgpu_mirror *m, *old;
	int ret;

	m = READ_ONCE(file->driver_priv);
	if (!m) {
		m = kzalloc(sizeof(*m), GFP_KERNEL);
		if (!m)
			return ERR_PTR(-ENOMEM);
		m->gdev = gdev;
		mutex_init(&m->op_lock);
		mutex_init(&m->lock);
		xa_init(&m->pt);
		ret = mmu_interval_notifier_insert(&m->notifier, current->mm, 0,
						   ULONG_MAX & PAGE_MASK,
						   &p2pgpu_mirror_ops);
		if (ret) {
			kfree(m);
			return ERR_PTR(ret);
		}
		old = cmpxchg(&file->driver_priv, NULL, m);
		if (old) {
			mmu_interval_notifier_remove(&m->notifier);
			kfree(m);
			m = old;
		}
	}
	if (m->notifier.mm != current->mm) {
		p2pgpu_reject(gdev,
			      "%s: the device mirrors the address space of the process that first used SVM on this file\n",
			      what);
		return ERR_PTR(-EPERM);
	}
	return m;
}

/**
 * p2pgpu_svm_postclose() - drop the mirror of a closed DRM file
 * @drm: the DRM device
 * @file: the file being closed
 *
 * The mirror holds no page references; device-private pages it migrated
 * stay in the process until the CPU touches them or the device goes away.
 */
void p2pgpu_svm_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct p2pgpu_mirror *m = file->driver_priv;

	if (!m)
		return;
	file->driver_priv = NULL;
	mmu_interval_notifier_remove(&m->notifier);
	xa_destroy(&m->pt);
	mutex_destroy(&m->lock);
	mutex_destroy(&m->op_lock);
	kfree(m);
}

/* ---- validation -------------------------------------------------------- */

static int p2pgpu_svm_check_range(struct p2pgpu_device *gdev, u64 addr,
				  u64 length, u64 max, const char *what)
{
	if (!length || length > max) {
		p2pgpu_reject(gdev, "%s: length %llu not in 1..%llu\n", what,
			      length, max);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(addr) || !PAGE_ALIGNED(length)) {
		p2pgpu_reject(gdev, "%s: address %#llx or length %llu not page aligned\n",
			      what, addr, length);
		return -EINVAL;
	}
	if (addr + length < addr || addr + length > TASK_SIZE) {
		p2pgpu_reject(gdev, "%s: range %#llx+%llu outside the user address space\n",
			      what, addr, length);
		return -EINVAL;
	}
	return 0;
}

/*
 * Every VMA of [start, end) must be private anonymous memory the process
 * can read: migrate_vma_*() only populates anonymous memory, and a device
 * must not take file pages or I/O memory away from their owner.
 */
static int p2pgpu_svm_check_vmas(struct p2pgpu_device *gdev,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr;

	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = vma_lookup(mm, addr);
		if (!vma) {
			p2pgpu_reject(gdev, "SVM_MIGRATE: nothing mapped at %#lx\n",
				      addr);
			return -EFAULT;
		}
		if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) {
			p2pgpu_reject(gdev,
				      "SVM_MIGRATE: %#lx is I/O memory, refused\n",
				      addr);
			return -EINVAL;
		}
		if (!vma_is_anonymous(vma) || (vma->vm_flags & VM_SHARED)) {
			p2pgpu_reject(gdev,
				      "SVM_MIGRATE: %#lx is file or shared memory, refused\n",
				      addr);
			return -EINVAL;
		}
		if (!(vma->vm_flags & VM_READ)) {
			p2pgpu_reject(gdev, "SVM_MIGRATE: %#lx is not readable, refused\n",
				      addr);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- device faults ------------------------------------------------------ */

/*
 * hmm_range_fault() reports this device's pages as they are, without
 * faulting: a read-only one (copy-on-write after fork, or mprotect) comes
 * back without HMM_PFN_WRITE even for a write. A device write then needs
 * what a CPU write does: the page goes back to system memory (as
 * migrate_to_ram() would do; no minimum residency), where the next fault
 * breaks COW or upgrades the PTE. The mirror is invalidated by the
 * migration (it is not recorded as the mirror's own). Another device's
 * read-only page is left to the caller, which refuses it.
 */
static int p2pgpu_mirror_upgrade(struct p2pgpu_mirror *m, unsigned long addr)
{
	struct p2pgpu_device *gdev = m->gdev;
	struct p2pgpu_mig_count cnt = { };
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vma_lookup(m->notifier.mm, addr),
		.start = addr,
		.end = addr + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = p2pgpu_devmem_owner(),
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
	};

	/* No write permission at all: nothing to upgrade, as for the CPU. */
	if (!args.vma || !(args.vma->vm_flags & VM_WRITE))
		return -EPERM;
	if (migrate_vma_setup(&args) || !args.cpages)
		return 0; /* raced: fault again */
	p2pgpu_devmem_fill_system(gdev, &args, false, &cnt);
	migrate_vma_pages(&args);
	if (dst && (src & MIGRATE_PFN_MIGRATE))
		atomic64_inc(&gdev->svm->to_system);
	migrate_vma_finalize(&args);
	return 0;
}

/*
 * Fault [start, end) into the mirror, as the device's page-fault handler
 * would: hmm_range_fault() with p2pmap's owner (device-private pages are
 * returned, not migrated), for write if @write. Called with mmap_lock held
 * for read and @m->op_lock.
 */
static int p2pgpu_mirror_fault(struct p2pgpu_mirror *m, unsigned long start,
			       unsigned long end, bool write,
			       unsigned long *pfns)
{
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
		.dev_private_owner = p2pgpu_devmem_owner(),
	};
	unsigned long i, n = (end - start) >> PAGE_SHIFT;
	bool upgraded;
	int ret, tries;

	for (tries = 0; tries < P2PGPU_SVM_RETRIES; tries++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		range.notifier_seq = mmu_interval_read_begin(&m->notifier);
		ret = hmm_range_fault(&range);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;
		for (i = 0, upgraded = false; write && i < n; i++) {
			struct page *page = hmm_pfn_to_page(pfns[i]);

			if ((pfns[i] & HMM_PFN_WRITE) ||
			    !p2pgpu_devmem_is_ours(m->gdev, page))
				continue;
			ret = p2pgpu_mirror_upgrade(m, start + (i << PAGE_SHIFT));
			if (ret)
				return ret;
			upgraded = true;
		}
		if (upgraded)
			continue;
		mutex_lock(&m->lock);
		if (mmu_interval_read_retry(&m->notifier, range.notifier_seq)) {
			mutex_unlock(&m->lock);
			continue;
		}
		for (i = 0; i < n; i++) {
			void *entry = hmm_pfn_to_page(pfns[i]);

			if (pfns[i] & HMM_PFN_WRITE)
				entry = xa_tag_pointer(entry, P2PGPU_PT_WRITE);
			entry = xa_store(&m->pt, (start >> PAGE_SHIFT) + i,
					 entry, GFP_KERNEL);
			if (xa_is_err(entry)) {
				mutex_unlock(&m->lock);
				return xa_err(entry);
			}
		}
		mutex_unlock(&m->lock);
		return 0;
	}
	return -EBUSY;
}

/* ---- migration ---------------------------------------------------------- */

static void p2pgpu_mirror_set_migr(struct p2pgpu_mirror *m,
				   unsigned long start, unsigned long end)
{
	mutex_lock(&m->lock);
	m->migr_task = start < end ? current : NULL;
	m->migr_start = start;
	m->migr_end = end;
	mutex_unlock(&m->lock);
}

/*
 * Map the pages migrate_vma_pages() moved into the mirror; count them.
 *
 * One walk of the page table for the whole batch, under one xa_lock: the
 * indices are consecutive, so xas_next() steps to the next slot instead of
 * descending from the root for every page (per-page xa_store() took about
 * a tenth of a migration back to system memory: 3-9 ms of 30-70 ms for
 * 2048 pages on the release VM kernel, this walk 0.6-1.1 ms). Pages that
 * did not move keep their entries: the migration left them where they
 * were, and the notifier skipped the mirror's own event. If a slot cannot be allocated,
 * that entry and every later one of a moved page are erased instead, so
 * the mirror never keeps a page the migration freed: the device faults
 * them in later.
 */
static int p2pgpu_mirror_map_migrated(struct p2pgpu_mirror *m,
				      struct migrate_vma *args,
				      struct p2pgpu_mig_count *cnt)
{
	unsigned long i, first = args->start >> PAGE_SHIFT;
	XA_STATE(xas, &m->pt, first);
	bool walked = false;
	int ret;

	for (i = 0; i < args->npages; i++) {
		if (!migrate_pfn_to_page(args->dst[i]))
			continue;
		if (args->src[i] & MIGRATE_PFN_MIGRATE)
			cnt->moved++;
		else
			cnt->failed++;
	}

	mutex_lock(&m->lock);
	i = 0;
	do {
		xas_lock(&xas);
		for (; i < args->npages; i++) {
			struct page *page = migrate_pfn_to_page(args->dst[i]);
			void *entry = page;

			if (!page || !(args->src[i] & MIGRATE_PFN_MIGRATE))
				continue;
			if (args->dst[i] & MIGRATE_PFN_WRITE)
				entry = xa_tag_pointer(entry, P2PGPU_PT_WRITE);
			/*
			 * xas_next() advances only a state that was walked
			 * (by the previous store); otherwise it loads the
			 * current index again: position explicitly then.
			 */
			if (walked && xas.xa_index + 1 == first + i)
				xas_next(&xas);
			else
				xas_set(&xas, first + i);
			xas_store(&xas, entry);
			walked = !xas_error(&xas);
			if (!walked)
				break;
		}
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL));
	ret = xas_error(&xas);
	if (ret) {
		/* The device just lacks these entries: it faults them later. */
		for (; i < args->npages; i++)
			if (migrate_pfn_to_page(args->dst[i]) &&
			    (args->src[i] & MIGRATE_PFN_MIGRATE))
				xa_erase(&m->pt, first + i);
	}
	mutex_unlock(&m->lock);
	return ret;
}

static int p2pgpu_svm_migrate_batch(struct p2pgpu_mirror *m,
				    struct vm_area_struct *vma,
				    unsigned long start, unsigned long end,
				    bool to_device, unsigned long *src,
				    unsigned long *dst,
				    struct p2pgpu_mig_count *cnt)
{
	struct p2pgpu_device *gdev = m->gdev;
	struct p2pgpu_mig_count c = { };
	struct migrate_vma args = {
		.vma = vma,
		.start = start,
		.end = end,
		.src = src,
		.dst = dst,
		.pgmap_owner = p2pgpu_devmem_owner(),
		.flags = to_device ? MIGRATE_VMA_SELECT_SYSTEM :
				     MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
	};
	unsigned long npages = (end - start) >> PAGE_SHIFT;
	int ret;

	p2pgpu_mirror_set_migr(m, start, end);
	ret = migrate_vma_setup(&args);
	if (ret)
		goto out;
	if (!args.cpages) {
		cnt->skipped += npages;
		goto out;
	}
	if (to_device) {
		ret = p2pgpu_devmem_fill_device(gdev, &args, &c);
		if (ret) {
			p2pgpu_devmem_abort_device(&args);
			migrate_vma_finalize(&args);
			goto out;
		}
	} else {
		p2pgpu_devmem_fill_system(gdev, &args, true, &c);
	}
	migrate_vma_pages(&args);
	ret = p2pgpu_mirror_map_migrated(m, &args, &c);
	migrate_vma_finalize(&args);

	if (to_device) {
		atomic64_add(c.moved, &gdev->svm->to_device);
		atomic64_add(c.nomem, &gdev->svm->nomem);
	} else {
		atomic64_add(c.moved, &gdev->svm->to_system);
		atomic64_add(c.busy, &gdev->svm->residency_refusals);
	}
	cnt->moved += c.moved;
	cnt->busy += c.busy;
	cnt->nomem += c.nomem;
	cnt->failed += c.failed;
	cnt->skipped += npages - c.moved - c.busy - c.nomem - c.failed;
out:
	p2pgpu_mirror_set_migr(m, 0, 0);
	return ret;
}

/**
 * p2pgpu_ioctl_svm_migrate() - DRM_IOCTL_P2PGPU_SVM_MIGRATE
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_svm_migrate
 * @file: the caller's DRM file
 *
 * Return: 0 or a negative errno, see &struct drm_p2pgpu_svm_migrate.
 */
int p2pgpu_ioctl_svm_migrate(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_svm_migrate *args = data;
	struct p2pgpu_mig_count cnt = { };
	unsigned long start, end, addr, next, *pfns = NULL;
	struct mm_struct *mm = current->mm;
	struct p2pgpu_mirror *m;
	bool to_device;
	int ret, idx;

	if (args->op < P2PGPU_SVM_TO_DEVICE || args->op > P2PGPU_SVM_EVICT) {
		p2pgpu_reject(gdev, "SVM_MIGRATE: unknown op %u\n", args->op);
		return -EINVAL;
	}
	if (args->flags) {
		p2pgpu_reject(gdev, "SVM_MIGRATE: unknown flags %#x\n",
			      args->flags);
		return -EINVAL;
	}
	ret = p2pgpu_svm_check_range(gdev, args->addr, args->length,
				     P2PGPU_SVM_MAX, "SVM_MIGRATE");
	if (ret)
		return ret;
	to_device = args->op == P2PGPU_SVM_TO_DEVICE ||
		    args->op == P2PGPU_SVM_PREFETCH;
	start = args->addr;
	end = start + args->length;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	m = p2pgpu_mirror_get(gdev, file, "SVM_MIGRATE");
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_exit;
	}
	pfns = kvmalloc_array(2 * P2PGPU_SVM_BATCH, sizeof(*pfns), GFP_KERNEL);
	if (!pfns) {
		ret = -ENOMEM;
		goto out_exit;
	}
	ret = mutex_lock_interruptible(&m->op_lock);
	if (ret)
		goto out_free;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out_unlock;
	ret = p2pgpu_svm_check_vmas(gdev, mm, start, end);
	for (addr = start; !ret && addr < end; addr = next) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		next = min3(end, vma->vm_end,
			    addr + (P2PGPU_SVM_BATCH << PAGE_SHIFT));
		ret = p2pgpu_svm_migrate_batch(m, vma, addr, next, to_device,
					       pfns, pfns + P2PGPU_SVM_BATCH,
					       &cnt);
	}
	if (!ret && args->op == P2PGPU_SVM_PREFETCH) {
		for (addr = start; !ret && addr < end; addr = next) {
			next = min(end, addr + (P2PGPU_SVM_BATCH << PAGE_SHIFT));
			ret = p2pgpu_mirror_fault(m, addr, next, false, pfns);
		}
		if (ret)
			p2pgpu_reject(gdev, "SVM_MIGRATE: prefetch fault of %#lx failed: %d\n",
				      addr, ret);
	}
	if (!ret && args->op == P2PGPU_SVM_EVICT) {
		mutex_lock(&m->lock);
		p2pgpu_mirror_clear(m, start, end);
		mutex_unlock(&m->lock);
	}
	mmap_read_unlock(mm);

	args->moved = cnt.moved;
	args->skipped = cnt.skipped;
	args->busy = cnt.busy;
	args->nomem = cnt.nomem;
	args->failed = cnt.failed;
	if (ret == -ENOMEM)
		p2pgpu_reject(gdev, "SVM_MIGRATE: out of memory\n");
out_unlock:
	mutex_unlock(&m->op_lock);
out_free:
	kvfree(pfns);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* ---- device access ------------------------------------------------------ */

/*
 * Copy between the bounce buffer and the pages the mirror maps for
 * [start, end). Returns -EAGAIN when an entry is missing or read-only for
 * a write (invalidated since the fault): the caller faults again.
 */
static int p2pgpu_mirror_copy(struct p2pgpu_mirror *m, unsigned long start,
			      unsigned long end, bool write, char *bounce,
			      struct drm_p2pgpu_svm_access *args)
{
	struct p2pgpu_device *gdev = m->gdev;
	unsigned long va, ndev = 0, nsys = 0;
	int ret = 0;

	/* Device lock first: the device page may be in a window slot. */
	mutex_lock(&gdev->lock);
	mutex_lock(&m->lock);
	for (va = start; va < end; va += PAGE_SIZE, bounce += PAGE_SIZE) {
		void *entry = xa_load(&m->pt, va >> PAGE_SHIFT);
		struct page *page = xa_untag_pointer(entry);
		void *kaddr;

		if (!entry || (write && xa_pointer_tag(entry) != P2PGPU_PT_WRITE)) {
			ret = -EAGAIN;
			break;
		}
		if (p2pgpu_devmem_is_ours(gdev, page)) {
			if (write)
				p2pgpu_devmem_write(gdev, page, bounce);
			else
				p2pgpu_devmem_read(gdev, page, bounce);
			ndev++;
			continue;
		}
		if (is_zone_device_page(page)) {
			p2pgpu_reject(gdev,
				      "SVM_ACCESS: %#lx is another device's memory\n",
				      va);
			ret = -EREMOTEIO;
			break;
		}
		kaddr = kmap_local_page(page);
		if (write)
			memcpy(kaddr, bounce, PAGE_SIZE);
		else
			memcpy(bounce, kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
		nsys++;
	}
	mutex_unlock(&m->lock);
	mutex_unlock(&gdev->lock);
	if (!ret) {
		args->pages_device += ndev;
		args->pages_system += nsys;
	}
	return ret;
}

/* Count pages of [start, end) the mirror cannot use as they are. */
static unsigned long p2pgpu_mirror_missing(struct p2pgpu_mirror *m,
					   unsigned long start,
					   unsigned long end, bool write)
{
	unsigned long va, n = 0;

	mutex_lock(&m->lock);
	for (va = start; va < end; va += PAGE_SIZE) {
		void *entry = xa_load(&m->pt, va >> PAGE_SHIFT);

		if (!entry || (write && xa_pointer_tag(entry) != P2PGPU_PT_WRITE))
			n++;
	}
	mutex_unlock(&m->lock);
	return n;
}

static int p2pgpu_svm_access_chunk(struct p2pgpu_mirror *m,
				   struct mm_struct *mm, unsigned long start,
				   unsigned long end, bool write, char *bounce,
				   unsigned long *pfns,
				   struct drm_p2pgpu_svm_access *args)
{
	unsigned long missing;
	int ret, tries;

	for (tries = 0; tries < P2PGPU_SVM_RETRIES; tries++) {
		ret = mmap_read_lock_killable(mm);
		if (ret)
			return ret;
		missing = p2pgpu_mirror_missing(m, start, end, write);
		if (missing) {
			args->faults += missing;
			ret = p2pgpu_mirror_fault(m, start, end, write, pfns);
		}
		if (!ret)
			ret = p2pgpu_mirror_copy(m, start, end, write, bounce,
						 args);
		mmap_read_unlock(mm);
		if (ret != -EAGAIN)
			return ret;
	}
	return -EBUSY;
}

/**
 * p2pgpu_ioctl_svm_access() - DRM_IOCTL_P2PGPU_SVM_ACCESS
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_svm_access
 * @file: the caller's DRM file
 *
 * Return: 0 or a negative errno, see &struct drm_p2pgpu_svm_access.
 */
int p2pgpu_ioctl_svm_access(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_svm_access *args = data;
	unsigned long start, end, addr, next, *pfns = NULL;
	char __user *ubuf = u64_to_user_ptr(args->buf);
	struct mm_struct *mm = current->mm;
	struct p2pgpu_mirror *m;
	char *bounce = NULL;
	bool write;
	int ret, idx;

	if (args->op != P2PGPU_SVM_READ && args->op != P2PGPU_SVM_WRITE) {
		p2pgpu_reject(gdev, "SVM_ACCESS: unknown op %u\n", args->op);
		return -EINVAL;
	}
	if (args->flags) {
		p2pgpu_reject(gdev, "SVM_ACCESS: unknown flags %#x\n",
			      args->flags);
		return -EINVAL;
	}
	ret = p2pgpu_svm_check_range(gdev, args->addr, args->length,
				     P2PGPU_SVM_ACCESS_MAX, "SVM_ACCESS");
	if (ret)
		return ret;
	if (!access_ok(ubuf, args->length)) {
		p2pgpu_reject(gdev, "SVM_ACCESS: buffer outside the user address space\n");
		return -EFAULT;
	}
	write = args->op == P2PGPU_SVM_WRITE;
	start = args->addr;
	end = start + args->length;
	args->pages_device = 0;
	args->pages_system = 0;
	args->faults = 0;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	m = p2pgpu_mirror_get(gdev, file, "SVM_ACCESS");
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_exit;
	}
	pfns = kvmalloc_array(P2PGPU_SVM_BATCH, sizeof(*pfns), GFP_KERNEL);
	bounce = kvmalloc(P2PGPU_SVM_BATCH << PAGE_SHIFT, GFP_KERNEL);
	if (!pfns || !bounce) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = mutex_lock_interruptible(&m->op_lock);
	if (ret)
		goto out_free;
	for (addr = start; addr < end; addr = next) {
		size_t off = addr - start;

		next = min(end, addr + (P2PGPU_SVM_BATCH << PAGE_SHIFT));
		/* User copies without the mmap or mirror locks held. */
		if (write && copy_from_user(bounce, ubuf + off, next - addr)) {
			ret = -EFAULT;
			break;
		}
		ret = p2pgpu_svm_access_chunk(m, mm, addr, next, write, bounce,
					      pfns, args);
		if (ret)
			break;
		if (!write && copy_to_user(ubuf + off, bounce, next - addr)) {
			ret = -EFAULT;
			break;
		}
	}
	mutex_unlock(&m->op_lock);
	if (ret == -EFAULT || ret == -EPERM || ret == -EBUSY)
		p2pgpu_reject(gdev, "SVM_ACCESS: %s of %#lx failed: %d\n",
			      write ? "write" : "read", addr, ret);
out_free:
	kvfree(bounce);
	kvfree(pfns);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* ---- snapshot ---------------------------------------------------------- */

static u8 p2pgpu_svm_page_state(struct p2pgpu_device *gdev, unsigned long pfn)
{
	struct page *page;
	u8 st = 0;

	if (!(pfn & HMM_PFN_VALID))
		return 0;
	st |= P2PGPU_SVM_PAGE_PRESENT;
	if (pfn & HMM_PFN_WRITE)
		st |= P2PGPU_SVM_PAGE_WRITE;
	if (hmm_pfn_to_map_order(pfn))
		st |= P2PGPU_SVM_PAGE_HUGE;
	page = hmm_pfn_to_page(pfn);
	if (is_device_private_page(page)) {
		st |= P2PGPU_SVM_PAGE_DEVICE_PRIVATE;
		if (p2pgpu_devmem_is_ours(gdev, page)) {
			st |= P2PGPU_SVM_PAGE_THIS_DEVICE;
			if (READ_ONCE(p2pgpu_devmem_dpage(page)->slot) !=
			    P2PGPU_NO_SLOT)
				st |= P2PGPU_SVM_PAGE_WINDOW;
		}
	}
	return st;
}

/* Snapshot [start, end), inside one VMA, into @states. */
static int p2pgpu_svm_snapshot_range(struct p2pgpu_mirror *m,
				     unsigned long start, unsigned long end,
				     unsigned long *pfns, u8 *states)
{
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.dev_private_owner = p2pgpu_devmem_owner(),
	};
	unsigned long i, n = (end - start) >> PAGE_SHIFT;
	int ret, tries;

	for (tries = 0; tries < P2PGPU_SVM_RETRIES; tries++) {
		range.notifier_seq = mmu_interval_read_begin(&m->notifier);
		ret = hmm_range_fault(&range);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;
		mutex_lock(&m->lock);
		if (mmu_interval_read_retry(&m->notifier, range.notifier_seq)) {
			mutex_unlock(&m->lock);
			continue;
		}
		for (i = 0; i < n; i++) {
			void *entry = xa_load(&m->pt, (start >> PAGE_SHIFT) + i);

			states[i] = p2pgpu_svm_page_state(m->gdev, pfns[i]);
			if (entry)
				states[i] |= P2PGPU_SVM_PAGE_MIRROR;
			if (entry && xa_pointer_tag(entry) == P2PGPU_PT_WRITE)
				states[i] |= P2PGPU_SVM_PAGE_MIRROR_WRITE;
		}
		mutex_unlock(&m->lock);
		return 0;
	}
	return -EBUSY;
}

/**
 * p2pgpu_ioctl_svm_snapshot() - DRM_IOCTL_P2PGPU_SVM_SNAPSHOT
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_svm_snapshot
 * @file: the caller's DRM file
 *
 * Return: 0 or a negative errno, see &struct drm_p2pgpu_svm_snapshot.
 */
int p2pgpu_ioctl_svm_snapshot(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_svm_snapshot *args = data;
	u8 __user *ustates = u64_to_user_ptr(args->states);
	unsigned long start, end, addr, next, *pfns = NULL;
	struct mm_struct *mm = current->mm;
	struct p2pgpu_mirror *m;
	u8 *states = NULL;
	int ret, idx;

	if (args->flags || args->pad) {
		p2pgpu_reject(gdev, "SVM_SNAPSHOT: unknown flags %#x or non-zero padding\n",
			      args->flags);
		return -EINVAL;
	}
	if (args->npages > P2PGPU_SVM_MAX >> PAGE_SHIFT) {
		p2pgpu_reject(gdev, "SVM_SNAPSHOT: %llu pages exceed %llu\n",
			      args->npages, P2PGPU_SVM_MAX >> PAGE_SHIFT);
		return -EINVAL;
	}
	ret = p2pgpu_svm_check_range(gdev, args->addr,
				     args->npages << PAGE_SHIFT, P2PGPU_SVM_MAX,
				     "SVM_SNAPSHOT");
	if (ret)
		return ret;
	start = args->addr;
	end = start + (args->npages << PAGE_SHIFT);

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	m = p2pgpu_mirror_get(gdev, file, "SVM_SNAPSHOT");
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_exit;
	}
	pfns = kvmalloc_array(P2PGPU_SVM_BATCH, sizeof(*pfns), GFP_KERNEL);
	states = kvzalloc(args->npages, GFP_KERNEL);
	if (!pfns || !states) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = mutex_lock_interruptible(&m->op_lock);
	if (ret)
		goto out_free;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out_unlock;
	for (addr = start; !ret && addr < end; addr = next) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || vma->vm_start >= end)
			break; /* holes read as 0 */
		if (vma->vm_start > addr) {
			next = vma->vm_start;
			continue;
		}
		next = min3(end, vma->vm_end,
			    addr + (P2PGPU_SVM_BATCH << PAGE_SHIFT));
		ret = p2pgpu_svm_snapshot_range(m, addr, next, pfns,
						states + ((addr - start) >> PAGE_SHIFT));
	}
	mmap_read_unlock(mm);
out_unlock:
	mutex_unlock(&m->op_lock);
	if (!ret && copy_to_user(ustates, states, args->npages))
		ret = -EFAULT;
out_free:
	kvfree(states);
	kvfree(pfns);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* ---- info -------------------------------------------------------------- */

/**
 * p2pgpu_ioctl_svm_info() - DRM_IOCTL_P2PGPU_SVM_INFO
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_svm_info
 * @file: the caller's DRM file
 *
 * Return: 0, or -ENODEV if the device is gone.
 */
int p2pgpu_ioctl_svm_info(struct drm_device *drm, void *data,
			  struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_svm_info *args = data;
	struct p2pgpu_svm *svm;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	svm = gdev->svm;
	memset(args, 0, sizeof(*args));
	args->flags = P2PGPU_SVM_DEVICE_PRIVATE;
	args->min_residency_ms = svm->residency_ms;
	args->pages_total = gdev->vram_pages;
	args->pages_used = atomic_long_read(&svm->used);
	args->to_device = atomic64_read(&svm->to_device);
	args->to_system = atomic64_read(&svm->to_system);
	args->cpu_faults = atomic64_read(&svm->cpu_faults);
	args->residency_refusals = atomic64_read(&svm->residency_refusals);
	args->nomem = atomic64_read(&svm->nomem);
	args->window_placements = atomic64_read(&svm->placements);
	args->window_evictions = atomic64_read(&svm->evictions);
	args->fallbacks = atomic64_read(&svm->fallbacks);
	drm_dev_exit(idx);
	return 0;
}
