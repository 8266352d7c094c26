// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap dma-buf export of a range: any range of a process's address space
 * that p2pmap can import (a CPU mapping of another device's memory that an
 * exporter registered, or ordinary memory) becomes a dma-buf. This file
 * owns that exporter: p2pmap_dmabuf_export() and its dma_buf_ops. Each
 * attachment is a p2pmap importer of the range for the attaching device: a
 * pinned import (%P2PMAP_CAP_PIN_ONLY), PREFER_P2P if the attachment
 * allows peer-to-peer, else SYSMEM_ONLY, so the provider decides the
 * placement per importer and the core maps it (bus addresses, or
 * dma_map_resource()/dma_map_page()). map_dma_buf resolves and pins the
 * range and hands out those DMA addresses (no struct pages); detach drops
 * the pins.
 *
 * Why static (no pin/unpin, no move_notify): a revalidating p2pmap import
 * is invalidated from mmu notifiers and exporter events with import->lock
 * held, and dma_buf_move_notify() needs the dma-buf's reservation lock,
 * which the kernel orders before mmu-notifier invalidation (see
 * dma_resv_lockdep() in drivers/dma-buf/dma-resv.c); taking it there would
 * invert that order. So the range is pinned for as long as an importer has
 * it mapped, like a VA MR. (p2pgpu's own objects are exported dynamically
 * by p2pgpu, whose eviction can trylock the reservation lock.)
 *
 * Lifetime and locking: the dma-buf holds the mm (mmgrab()) and copies of
 * the range; the process's mappings may change afterwards, and each
 * mapping resolves what is mapped then. A static exporter's map and unmap
 * are called without the reservation lock (the dma-buf core caches the
 * mapping of dynamic importers at attach), so p2pmap_import_map() may take
 * mmap_lock; the per-attachment mutex serialises map, unmap and detach.
 * Not done: when the provider goes away (unbind, reset), p2pmap revokes
 * the pinned import and unmaps its DMA addresses, but the dma-buf importer
 * cannot be told; it is logged.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

MODULE_IMPORT_NS(DMA_BUF);

/* Rounds of begin/map/retry before giving up (the import is pinned). */
#define P2PMAP_DMABUF_ROUNDS	16

/**
 * struct p2pmap_dmabuf - an exported range
 * @mm: the address space of the range (mmgrab()ed)
 * @start: first byte, page aligned
 * @length: bytes, page aligned
 * @write: importers may write
 */
struct p2pmap_dmabuf {
	struct mm_struct *mm;
	unsigned long start;
	unsigned long length;
	bool write;
};

/**
 * struct p2pmap_dmabuf_attach - one importer of an exported range
 * @lock: serialises map, unmap and detach of the attachment
 * @pa: the p2pmap attachment of the importing device
 * @imp: the pinned import of the range for that device
 * @mapped: a mapping is handed out (at most one per attachment)
 */
struct p2pmap_dmabuf_attach {
	struct mutex lock; /* map / unmap / detach */
	struct p2pmap_attach *pa;
	struct p2pmap_import *imp;
	bool mapped;
};

/*
 * A pinned import is only invalidated when its provider goes away (unbind,
 * reset): the DMA addresses are unmapped after this returns, and a
 * dma-buf importer has no way to be told. Called with import->lock held.
 */
static void p2pmap_dmabuf_invalidate(struct p2pmap_import *imp,
				     enum p2pmap_event ev)
{
	/* P2PMAP_EV_CPU: our own p2pmap_import_destroy() at detach */
	if (ev != P2PMAP_EV_UNBIND && ev != P2PMAP_EV_RESET)
		return;
	pr_warn_ratelimited("exported range revoked by its provider (event %d) under a dma-buf importer\n",
			    ev);
}

static const struct p2pmap_importer_ops p2pmap_dmabuf_imp_ops = {
	.invalidate = p2pmap_dmabuf_invalidate,
};

static int p2pmap_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct p2pmap_dmabuf *d = dmabuf->priv;
	struct p2pmap_dmabuf_attach *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	mutex_init(&a->lock);
	a->pa = p2pmap_attach(attach->dev, &p2pmap_dmabuf_imp_ops,
			      P2PMAP_CAP_PIN_ONLY);
	if (IS_ERR(a->pa)) {
		ret = PTR_ERR(a->pa);
		goto err_free;
	}
	a->imp = p2pmap_import_create(a->pa, d->mm, d->start, d->length,
				      attach->peer2peer ? P2PMAP_PREFER_P2P :
				      P2PMAP_SYSMEM_ONLY, d->write, a);
	if (IS_ERR(a->imp)) {
		ret = PTR_ERR(a->imp);
		goto err_detach;
	}
	attach->priv = a;
	return 0;

err_detach:
	p2pmap_detach(a->pa);
err_free:
	mutex_destroy(&a->lock);
	kfree(a);
	return ret;
}

static void p2pmap_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct p2pmap_dmabuf_attach *a = attach->priv;

	p2pmap_import_destroy(a->imp);
	p2pmap_detach(a->pa);
	mutex_destroy(&a->lock);
	kfree(a);
	attach->priv = NULL;
}

/*
 * Number of segments of at most @max_seg bytes the import's extents need,
 * or -EIO if an extent is an error. Under import->lock.
 */
static int p2pmap_dmabuf_count(struct p2pmap_import *imp, unsigned int max_seg)
{
	const struct p2pmap_extent *ext;
	unsigned int nr, i;
	u64 n = 0;

	ext = p2pmap_import_extents(imp, &nr);
	for (i = 0; i < nr; i++) {
		if (ext[i].type != P2PMAP_EXT_P2P &&
		    ext[i].type != P2PMAP_EXT_SYSMEM)
			return -EIO;
		n += DIV_ROUND_UP((u64)ext[i].npages << PAGE_SHIFT, max_seg);
	}
	return n && n <= INT_MAX ? (int)n : -EIO;
}

/*
 * Fill @sgt (allocated with exactly the entries p2pmap_dmabuf_count()
 * gave, under the same sequence) from the import's extents, DMA side only.
 * Under import->lock: no allocation.
 */
static void p2pmap_dmabuf_fill(struct p2pmap_import *imp,
			       struct sg_table *sgt, unsigned int max_seg)
{
	struct scatterlist *sg = sgt->sgl, *last = NULL;
	const struct p2pmap_extent *ext;
	unsigned int nr, i, n = 0;

	ext = p2pmap_import_extents(imp, &nr);
	for (i = 0; i < nr; i++) {
		u64 left = (u64)ext[i].npages << PAGE_SHIFT;
		dma_addr_t addr = ext[i].dma_addr;

		while (left && sg) {
			unsigned int chunk = min_t(u64, left, max_seg);

			/* no page: importers use the DMA address only */
			sg_set_page(sg, NULL, 0, 0);
			sg->length = chunk;
			sg_dma_address(sg) = addr;
			sg_dma_len(sg) = chunk;
			addr += chunk;
			left -= chunk;
			last = sg;
			sg = sg_next(sg);
			n++;
		}
	}
	if (last)
		sg_mark_end(last);
	sgt->nents = n;
	sgt->orig_nents = n;
}

static struct sg_table *p2pmap_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct p2pmap_dmabuf *d = attach->dmabuf->priv;
	struct p2pmap_dmabuf_attach *a = attach->priv;
	unsigned int max_seg, round;
	struct p2pmap_seq seq;
	struct sg_table *sgt;
	int ret, n;

	if (dir != DMA_TO_DEVICE && !d->write) {
		pr_info_ratelimited("map by %s: the range was exported read-only\n",
				    dev_name(attach->dev));
		return ERR_PTR(-EPERM);
	}
	max_seg = dma_get_max_seg_size(attach->dev);
	max_seg = max_t(unsigned int, round_down(max_seg, PAGE_SIZE), PAGE_SIZE);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&a->lock);
	if (a->mapped) {
		ret = -EBUSY;
		goto err_unlock;
	}
	for (round = 0; round < P2PMAP_DMABUF_ROUNDS; round++) {
		seq = p2pmap_import_begin(a->imp);
		ret = p2pmap_import_map(a->imp, &seq);
		if (ret == -EAGAIN)
			continue;
		if (ret)
			break;
		/* Count under the lock, allocate outside it, fill under it. */
		p2pmap_import_lock(a->imp);
		if (p2pmap_import_retry(a->imp, &seq)) {
			p2pmap_import_unlock(a->imp);
			ret = -EAGAIN;
			continue;
		}
		n = p2pmap_dmabuf_count(a->imp, max_seg);
		p2pmap_import_unlock(a->imp);
		if (n < 0) {
			ret = n;
			break;
		}
		ret = sg_alloc_table(sgt, n, GFP_KERNEL);
		if (ret)
			break;
		p2pmap_import_lock(a->imp);
		if (p2pmap_import_retry(a->imp, &seq)) {
			p2pmap_import_unlock(a->imp);
			sg_free_table(sgt);
			ret = -EAGAIN;
			continue;
		}
		p2pmap_dmabuf_fill(a->imp, sgt, max_seg);
		p2pmap_import_unlock(a->imp);
		break;
	}
	if (ret) {
		pr_info_ratelimited("map by %s: p2pmap import of %#lx+%lu failed: %d\n",
				    dev_name(attach->dev), d->start, d->length,
				    ret);
		goto err_unlock;
	}
	a->mapped = true;
	mutex_unlock(&a->lock);
	return sgt;

err_unlock:
	mutex_unlock(&a->lock);
	kfree(sgt);
	return ERR_PTR(ret);
}

/* The pins stay with the import until detach; only the table goes. */
static void p2pmap_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct p2pmap_dmabuf_attach *a = attach->priv;

	mutex_lock(&a->lock);
	a->mapped = false;
	mutex_unlock(&a->lock);
	sg_free_table(sgt);
	kfree(sgt);
}

static void p2pmap_dmabuf_release(struct dma_buf *dmabuf)
{
	struct p2pmap_dmabuf *d = dmabuf->priv;

	mmdrop(d->mm);
	kfree(d);
}

static const struct dma_buf_ops p2pmap_dmabuf_ops = {
	.attach = p2pmap_dmabuf_attach,
	.detach = p2pmap_dmabuf_detach,
	.map_dma_buf = p2pmap_dmabuf_map,
	.unmap_dma_buf = p2pmap_dmabuf_unmap,
	.release = p2pmap_dmabuf_release,
};

/**
 * p2pmap_dmabuf_export() - export a range of an address space as a dma-buf
 * @mm: the address space (usually current->mm)
 * @start: first byte of the range, page aligned
 * @length: bytes, page aligned, not 0
 * @flags: %P2PMAP_DMABUF_WRITE: importers may write
 *
 * The dma-buf resolves the range through p2pmap for each importer at map
 * time and pins it while mapped (see the file comment: a static exporter).
 * It holds @mm (not its mappings) until released.
 *
 * Return: the dma-buf, or ERR_PTR(-EINVAL) for bad arguments, -ENOMEM, or
 * an error of dma_buf_export().
 */
struct dma_buf *p2pmap_dmabuf_export(struct mm_struct *mm, unsigned long start,
				     unsigned long length, unsigned int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pmap_dmabuf *d;
	struct dma_buf *dmabuf;

	if (!mm || (flags & ~P2PMAP_DMABUF_FLAGS) || !length ||
	    !PAGE_ALIGNED(start) || !PAGE_ALIGNED(length) ||
	    start + length < start || start + length > mm->task_size)
		return ERR_PTR(-EINVAL);
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	mmgrab(mm);
	d->mm = mm;
	d->start = start;
	d->length = length;
	d->write = flags & P2PMAP_DMABUF_WRITE;
	exp_info.ops = &p2pmap_dmabuf_ops;
	exp_info.size = length;
	exp_info.flags = O_RDWR;
	exp_info.priv = d;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		mmdrop(mm);
		kfree(d);
	}
	return dmabuf;
}
EXPORT_SYMBOL_GPL(p2pmap_dmabuf_export);
