// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_peermem: an MLNX_OFED peer-memory client built on the p2pmap
 * importer API, the role nvidia-peermem plays for CUDA memory. With it, a
 * plain ibv_reg_mr() on a CPU mapping of p2pmap-exported device memory
 * (e.g. a p2pgpu buffer object) works on MLNX_OFED's ib_core: the NIC gets
 * the exporter's placement (BAR bus addresses where the topology allows
 * peer-to-peer, system memory otherwise) and the registration is
 * invalidated when the exporter moves the memory.
 *
 * UNTESTED ON REAL HARDWARE AND REAL MLNX_OFED. Without MLNX_OFED it is
 * only compiled, against rdma-plugin/peermem/include/rdma/peer_mem.h, a
 * declaration-only header that mirrors that ABI (make peermem).
 *
 * Mapping of the peer-memory callbacks onto p2pmap:
 *  - acquire: the range lies in one VM_IO/VM_PFNMAP file mapping of the
 *    caller (memory get_user_pages() cannot pin, so no other path could
 *    register it); the p2pmap import made at dma_map time decides whether
 *    an exporter owns it, and fails with its reason if none does.
 *  - get_pages: records the range; nothing can be resolved before the DMA
 *    device is known.
 *  - dma_map: p2pmap_attach() for the NIC (revalidating), an import of the
 *    page-aligned range, the begin/map/retry protocol, and one sg entry
 *    per extent with the DMA addresses the core computed.
 *  - invalidation: the import's invalidate() (called by p2pmap with
 *    import->lock held when the exporter evicts or moves the pages, the
 *    process unmaps them, or the exporter goes away) calls ib_core's
 *    invalidate callback, which stops the MR and then calls dma_unmap and
 *    put_pages for it, still under import->lock: those then only mark the
 *    context, and a work item destroys the import afterwards.
 *  - dma_unmap outside an invalidation: destroys the import and detaches.
 *
 * Locking: @pm_ctx.lock (a mutex) serialises dma_map, dma_unmap and the
 * destroy work of one context; it is never taken in invalidate(), which
 * may run from reclaim. State read by invalidate() is under import->lock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <rdma/peer_mem.h>

#define PM_NAME		"p2pmap"
#define PM_VERSION	"0.1"

static void *pm_reg_handle;
static invalidate_peer_memory pm_core_invalidate;

/**
 * struct pm_ctx - one acquired range
 * @lock: serialises dma_map, dma_unmap and @destroy_work
 * @mm: the registering process's mm (mmgrab()ed)
 * @start: page-aligned start of the range
 * @len: page-aligned length
 * @write: the MR may be written by the device
 * @core_context: ib_core's handle of the registration, for invalidation
 * @attach: p2pmap attachment of the DMA device, while mapped
 * @imp: the import, while mapped
 * @in_invalidate: ib_core is unmapping us from inside our invalidate():
 *	dma_unmap must not destroy the import (its lock is held)
 * @invalidated: the registration was invalidated (under import->lock)
 * @destroy_work: destroys an import that was unmapped during invalidation
 */
struct pm_ctx {
	struct mutex lock; /* dma_map / dma_unmap / destroy_work */
	struct mm_struct *mm;
	unsigned long start;
	unsigned long len;
	bool write;
	u64 core_context;
	struct p2pmap_attach *attach;
	struct p2pmap_import *imp;
	bool in_invalidate;
	bool invalidated;
	struct work_struct destroy_work;
};

/* Tear down @ctx's import and attachment. Caller holds ctx->lock. */
static void pm_unmap_locked(struct pm_ctx *ctx)
{
	if (ctx->imp)
		p2pmap_import_destroy(ctx->imp);
	if (ctx->attach)
		p2pmap_detach(ctx->attach);
	ctx->imp = NULL;
	ctx->attach = NULL;
}

static void pm_destroy_work(struct work_struct *work)
{
	struct pm_ctx *ctx = container_of(work, struct pm_ctx, destroy_work);

	mutex_lock(&ctx->lock);
	pm_unmap_locked(ctx);
	mutex_unlock(&ctx->lock);
}

/*
 * p2pmap invalidate(): called with import->lock held, maybe from reclaim.
 * ib_core's callback stops the MR (and calls our dma_unmap/put_pages).
 */
static void pm_invalidate(struct p2pmap_import *imp, enum p2pmap_event ev)
{
	struct pm_ctx *ctx = p2pmap_import_priv(imp);

	if (ctx->invalidated || !pm_core_invalidate)
		return;
	ctx->invalidated = true;
	ctx->in_invalidate = true;
	pm_core_invalidate(pm_reg_handle, ctx->core_context);
	ctx->in_invalidate = false;
}

static const struct p2pmap_importer_ops pm_importer_ops = {
	.invalidate = pm_invalidate,
};

static int pm_acquire(unsigned long addr, size_t size,
		      void *peer_mem_private_data, char *peer_mem_name,
		      void **client_context)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct pm_ctx *ctx;
	bool mine;

	if (!mm || !size || addr + size < addr)
		return 0;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	mine = vma && vma->vm_file && (vma->vm_flags & (VM_IO | VM_PFNMAP)) &&
	       addr + size <= vma->vm_end;
	mmap_read_unlock(mm);
	if (!mine)
		return 0;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return 0;
	mutex_init(&ctx->lock);
	INIT_WORK(&ctx->destroy_work, pm_destroy_work);
	mmgrab(mm);
	ctx->mm = mm;
	ctx->start = addr & PAGE_MASK;
	ctx->len = PAGE_ALIGN(addr + size) - ctx->start;
	*client_context = ctx;
	return 1;
}

static int pm_get_pages(unsigned long addr, size_t size, int write, int force,
			struct sg_table *sg_head, void *client_context,
			u64 core_context)
{
	struct pm_ctx *ctx = client_context;

	mutex_lock(&ctx->lock);
	ctx->write = write || force;
	ctx->core_context = core_context;
	ctx->invalidated = false;
	mutex_unlock(&ctx->lock);
	return 0;
}

static int pm_dma_map(struct sg_table *sg_head, void *client_context,
		      struct device *dma_device, int dmasync, int *nmap)
{
	struct pm_ctx *ctx = client_context;
	unsigned long npages = ctx->len >> PAGE_SHIFT;
	struct p2pmap_seq seq;
	int ret, rounds = 0;

	mutex_lock(&ctx->lock);
	if (ctx->imp) {
		ret = -EBUSY;
		goto out;
	}
	if (!mmget_not_zero(ctx->mm)) {
		ret = -ESRCH;
		goto out;
	}
	/* Worst case one entry per page, plus 1 GiB splits; allocated here. */
	ret = sg_alloc_table(sg_head, npages + (ctx->len >> 30) + 1,
			     GFP_KERNEL);
	if (ret)
		goto put_mm;
	ctx->attach = p2pmap_attach(dma_device, &pm_importer_ops,
				    P2PMAP_CAP_REVALIDATE);
	if (IS_ERR(ctx->attach)) {
		ret = PTR_ERR(ctx->attach);
		ctx->attach = NULL;
		goto free_sgt;
	}
	ctx->imp = p2pmap_import_create(ctx->attach, ctx->mm, ctx->start,
					ctx->len, P2PMAP_PREFER_P2P, ctx->write,
					ctx);
	if (IS_ERR(ctx->imp)) {
		ret = PTR_ERR(ctx->imp);
		ctx->imp = NULL;
		goto unmap;
	}
	for (;;) {
		if (++rounds > 64) {
			pr_info_ratelimited("dma_map: range kept being invalidated, giving up\n");
			ret = -EBUSY;
			goto unmap;
		}
		seq = p2pmap_import_begin(ctx->imp);
		/* Success returns locked, with the extents valid. */
		ret = p2pmap_import_map_and_lock(ctx->imp, &seq);
		if (ret) {
			if (ret == -EAGAIN)
				continue;
			pr_info_ratelimited("dma_map: p2pmap import of %#lx+%lu failed: %d\n",
					    ctx->start, ctx->len, ret);
			goto unmap;
		}
		/* One entry per extent, split at 1 GiB so lengths fit. */
		ret = p2pmap_import_fill_dma_sgt(ctx->imp, sg_head, SZ_1G);
		if (ret < 0) {
			p2pmap_import_unlock(ctx->imp);
			pr_info_ratelimited("dma_map: %#lx+%lu: no table of its extents: %d\n",
					    ctx->start, ctx->len, ret);
			goto unmap;
		}
		*nmap = ret;
		ctx->invalidated = false;
		p2pmap_import_unlock(ctx->imp);
		break;
	}
	mmput(ctx->mm);
	mutex_unlock(&ctx->lock);
	return 0;

unmap:
	pm_unmap_locked(ctx);
free_sgt:
	sg_free_table(sg_head);
put_mm:
	mmput(ctx->mm);
out:
	mutex_unlock(&ctx->lock);
	return ret;
}

static int pm_dma_unmap(struct sg_table *sg_head, void *client_context,
			struct device *dma_device)
{
	struct pm_ctx *ctx = client_context;

	if (ctx->in_invalidate) {
		/* Inside our invalidate(): import->lock is held. */
		schedule_work(&ctx->destroy_work);
	} else {
		mutex_lock(&ctx->lock);
		pm_unmap_locked(ctx);
		mutex_unlock(&ctx->lock);
	}
	sg_free_table(sg_head);
	return 0;
}

/* The pins belong to the import, dropped in dma_unmap. */
static void pm_put_pages(struct sg_table *sg_head, void *client_context)
{
}

static unsigned long pm_get_page_size(void *client_context)
{
	return PAGE_SIZE;
}

static void pm_release(void *client_context)
{
	struct pm_ctx *ctx = client_context;

	flush_work(&ctx->destroy_work);
	mutex_lock(&ctx->lock);
	pm_unmap_locked(ctx);
	mutex_unlock(&ctx->lock);
	mmdrop(ctx->mm);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

static const struct peer_memory_client pm_client = {
	.name = PM_NAME,
	.version = PM_VERSION,
	.acquire = pm_acquire,
	.get_pages = pm_get_pages,
	.dma_map = pm_dma_map,
	.dma_unmap = pm_dma_unmap,
	.put_pages = pm_put_pages,
	.get_page_size = pm_get_page_size,
	.release = pm_release,
};

static int __init pm_init(void)
{
	pm_reg_handle = ib_register_peer_memory_client(&pm_client,
						       &pm_core_invalidate);
	if (!pm_reg_handle) {
		pr_err("ib_register_peer_memory_client() failed\n");
		return -EINVAL;
	}
	pr_info("registered as peer-memory client \"%s\" (untested on real MLNX_OFED)\n",
		PM_NAME);
	return 0;
}
module_init(pm_init);

static void __exit pm_exit(void)
{
	ib_unregister_peer_memory_client(pm_reg_handle);
}
module_exit(pm_exit);

MODULE_DESCRIPTION("p2pmap peer-memory client for MLNX_OFED (compile-tested only)");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION);
