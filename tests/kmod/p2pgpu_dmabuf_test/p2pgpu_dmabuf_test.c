// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_dmabuf_test: an in-kernel dma-buf importer driving the QEMU "edu"
 * PCI DMA engine, for tests of p2pgpu's PRIME export. It binds the edu
 * device and offers /dev/p2pgpu_dmabuf_test (p2pgpu_dmabuf_test_uapi.h): a
 * process hands it a dma-buf fd, the module attaches it for the edu (static,
 * or dynamic with allow_peer2peer), maps the attachment, reports whether the
 * segments are BAR bus addresses of an ivshmem (p2pgpu) device or system
 * memory, and moves bytes through the mapping with real edu DMA, at most
 * EDU_DMA_MAX_LEN bytes per command. The dynamic importer counts the
 * exporter's move_notify calls and maps again before the next transfer;
 * it holds the reservation lock across each transfer, so the exporter
 * cannot move the buffer while the edu is using the mapping. One attachment per open file, released
 * with the file (also when the process is killed) and when the edu unbinds.
 * Nothing here is meant for real hardware; no MODULE_DEVICE_TABLE.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <p2pmap_compat.h>

#include "../common/edu_dma.h"
#include "p2pgpu_dmabuf_test_uapi.h"

#define IVSHMEM_VENDOR_ID	0x1af4
#define IVSHMEM_DEVICE_ID	0x1110
#define IVSHMEM_WINDOW_BAR	2

/**
 * struct dbt_file - one open file and its attachment
 * @node: on dbt.files
 * @dmabuf: the attached dma-buf (a reference), or NULL
 * @att: the attachment
 * @sgt: its mapping
 * @dynamic: attached with dma_buf_dynamic_attach()
 * @pinned: dynamic, and pinned with dma_buf_pin() before mapping (as a
 *	pinned RDMA importer does)
 * @revocable: pinned, and revocable: a move_notify revokes the mapping
 * @pin_held: dma_buf_pin() is in effect (under the reservation lock)
 * @revoked: a revocable pinned attachment was revoked: @sgt unmapped and
 *	the pin dropped in the callback (under the reservation lock)
 * @invalid: the exporter called move_notify since @sgt was mapped (set
 *	under the reservation lock; read under it)
 * @move_notifies: move_notify calls received
 * @remaps: mappings made again after a move_notify
 */
struct dbt_file {
	struct list_head node;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *att;
	struct sg_table *sgt;
	bool dynamic;
	bool pinned;
	bool revocable;
	bool pin_held;
	bool revoked;
	bool invalid;
	atomic_t move_notifies;
	unsigned int remaps;
};

/**
 * struct dbt - the module's single edu device
 * @lock: serialises everything: the edu, @files and every attachment
 * @files: open files
 * @edu: the bound edu (@edu.pdev NULL if none)
 */
struct dbt {
	struct mutex lock; /* everything, see above */
	struct list_head files;
	struct edu_dma edu;
};

static struct dbt dbt_state = {
	.lock = __MUTEX_INITIALIZER(dbt_state.lock),
	.files = LIST_HEAD_INIT(dbt_state.files),
};

/*
 * The exporter is moving the buffer: the mapping is stale. Called with the
 * reservation lock held and, for p2pgpu, its device lock: no lock of ours
 * may be taken here (dbt.lock is held around our map calls). The next
 * transfer maps again (dbt_revalidate()).
 */
static void dbt_move_notify(struct dma_buf_attachment *att)
{
	struct dbt_file *f = att->importer_priv;

	dma_resv_assert_held(att->dmabuf->resv);
	WRITE_ONCE(f->invalid, true);
	atomic_inc(&f->move_notifies);
	/*
	 * A revocable pinned importer stops using the mapping now and unmaps
	 * in bounded time (here), as dma_buf_invalidate_mappings() wants.
	 * @sgt and the pin change only under the reservation lock.
	 */
	if (f->revocable && f->pin_held) {
		f->revoked = true;
		if (f->sgt)
			dma_buf_unmap_attachment(att, f->sgt, DMA_BIDIRECTIONAL);
		f->sgt = NULL;
		dma_buf_unpin(att);
		f->pin_held = false;
		pr_info("pinned attachment revoked by the exporter\n");
	}
}

static const struct dma_buf_attach_ops dbt_importer_ops = {
	.allow_peer2peer = true,
	P2PMAP_DMA_BUF_INVALIDATE_OP(dbt_move_notify),
};

/* Whether @addr lies in BAR2 of an ivshmem device, as a bus address. */
static bool dbt_in_gpu_bar(dma_addr_t addr, u64 len)
{
	struct pci_dev *pdev = NULL;
	bool hit = false;

	while (!hit && (pdev = pci_get_device(IVSHMEM_VENDOR_ID,
					      IVSHMEM_DEVICE_ID, pdev))) {
		u64 start = pci_bus_address(pdev, IVSHMEM_WINDOW_BAR);
		u64 blen = pci_resource_len(pdev, IVSHMEM_WINDOW_BAR);

		hit = blen && addr >= start && addr + len <= start + blen;
	}
	pci_dev_put(pdev);
	return hit;
}

/* Unmap and detach @f's attachment. Caller holds dbt.lock. */
static void dbt_detach_locked(struct dbt_file *f)
{
	struct dma_buf *dmabuf = f->dmabuf;

	if (!dmabuf)
		return;
	if (f->dynamic) {
		dma_resv_lock(dmabuf->resv, NULL);
		if (f->sgt)
			dma_buf_unmap_attachment(f->att, f->sgt,
						 DMA_BIDIRECTIONAL);
		if (f->pin_held)
			dma_buf_unpin(f->att);
		f->pin_held = false;
		dma_resv_unlock(dmabuf->resv);
	} else {
		dma_buf_unmap_attachment_unlocked(f->att, f->sgt,
						  DMA_BIDIRECTIONAL);
	}
	dma_buf_detach(dmabuf, f->att);
	dma_buf_put(dmabuf);
	f->dmabuf = NULL;
	f->att = NULL;
	f->sgt = NULL;
}

/* Count the DMA segments of @sgt in a GPU BAR and in system memory. */
static void dbt_count(struct sg_table *sgt, u32 *bar_entries, u64 *bar_bytes,
		      u32 *sys_entries, u64 *sys_bytes)
{
	struct scatterlist *sg;
	unsigned int i;

	*bar_entries = 0;
	*sys_entries = 0;
	*bar_bytes = 0;
	*sys_bytes = 0;
	if (!sgt)
		return;
	/* Only the DMA side of the table: an exporter may leave pages out. */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (dbt_in_gpu_bar(sg_dma_address(sg), sg_dma_len(sg))) {
			(*bar_entries)++;
			*bar_bytes += sg_dma_len(sg);
		} else {
			(*sys_entries)++;
			*sys_bytes += sg_dma_len(sg);
		}
	}
}

/*
 * The CPU side of @sgt: its entries (orig_nents) and those with a page. A
 * peer BAR must never show up with a struct page an importer could touch.
 * With CONFIG_DMABUF_DEBUG an importer never sees the exporter's table as
 * built: 6.1 scrambles the page links in place (mangle_sg_table()), 7.x
 * hands out a page-less copy (dma_buf_wrap_sg_table()); both report
 * U32_MAX then (not observable here).
 */
static void dbt_count_cpu(struct sg_table *sgt, u32 *nents, u32 *pages)
{
	struct scatterlist *sg;
	unsigned int i;

	if (IS_ENABLED(CONFIG_DMABUF_DEBUG)) {
		*nents = U32_MAX;
		*pages = U32_MAX;
		return;
	}

	*nents = sgt->orig_nents;
	*pages = 0;
	for_each_sgtable_sg(sgt, sg, i)
		if (sg_page(sg))
			(*pages)++;
}

/*
 * Dynamic importer, reservation lock held: map again if the exporter
 * invalidated the mapping. The stale mapping is unmapped first.
 */
static int dbt_revalidate(struct dbt_file *f)
{
	struct sg_table *sgt;

	dma_resv_assert_held(f->dmabuf->resv);
	if (f->revoked) {
		pr_warn_ratelimited("transfer after the exporter revoked the pinned attachment\n");
		return -ENODEV;
	}
	if (!f->invalid && f->sgt)
		return 0;
	if (f->sgt)
		dma_buf_unmap_attachment(f->att, f->sgt, DMA_BIDIRECTIONAL);
	f->sgt = NULL;
	sgt = dma_buf_map_attachment(f->att, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		pr_warn_ratelimited("re-map after move_notify failed: %ld\n",
				    PTR_ERR(sgt));
		return PTR_ERR(sgt);
	}
	f->sgt = sgt;
	f->invalid = false;
	f->remaps++;
	return 0;
}

static long dbt_ioctl_attach(struct dbt *st, struct dbt_file *f,
			     struct p2pgpu_dmabuf_test_attach __user *uarg)
{
	struct p2pgpu_dmabuf_test_attach a;
	struct dma_buf_attachment *att;
	struct device *dev;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~P2PGPU_DMABUF_TEST_F_ALL || a.reserved) {
		pr_warn_ratelimited("ATTACH: unknown flags or reserved not 0\n");
		return -EINVAL;
	}
	if ((a.flags & P2PGPU_DMABUF_TEST_F_PIN) &&
	    !(a.flags & P2PGPU_DMABUF_TEST_F_P2P)) {
		pr_warn_ratelimited("ATTACH: PIN needs the dynamic (P2P) importer\n");
		return -EINVAL;
	}
	if ((a.flags & P2PGPU_DMABUF_TEST_F_REVOCABLE) &&
	    !(a.flags & P2PGPU_DMABUF_TEST_F_PIN)) {
		pr_warn_ratelimited("ATTACH: REVOCABLE needs PIN\n");
		return -EINVAL;
	}
	if (!st->edu.pdev) {
		pr_warn_ratelimited("ATTACH: no edu (1234:11e8) device bound\n");
		return -ENODEV;
	}
	if (f->dmabuf) {
		pr_warn_ratelimited("ATTACH: this file already holds an attachment\n");
		return -EBUSY;
	}
	dev = &st->edu.pdev->dev;
	dmabuf = dma_buf_get(a.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	f->dynamic = a.flags & P2PGPU_DMABUF_TEST_F_P2P;
	f->pinned = a.flags & P2PGPU_DMABUF_TEST_F_PIN;
	f->revocable = a.flags & P2PGPU_DMABUF_TEST_F_REVOCABLE;
	f->revoked = false;
	f->pin_held = false;
	f->sgt = NULL;
	if (f->dynamic)
		att = dma_buf_dynamic_attach(dmabuf, dev, &dbt_importer_ops, f);
	else
		att = dma_buf_attach(dmabuf, dev);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto err_put;
	}
	if (f->dynamic) {
		dma_resv_lock(dmabuf->resv, NULL);
		ret = f->pinned ? dma_buf_pin(att) : 0;
		sgt = ret ? ERR_PTR(ret) :
		      dma_buf_map_attachment(att, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt) && f->pinned && !ret)
			dma_buf_unpin(att);
		/*
		 * Under the lock: a revoke may unmap as soon as it drops, so
		 * the mapping is also counted here.
		 */
		if (!IS_ERR(sgt)) {
			f->sgt = sgt;
			f->pin_held = f->pinned;
			a.nents = sgt->nents;
			dbt_count(sgt, &a.bar_entries, &a.bar_bytes,
				  &a.sys_entries, &a.sys_bytes);
			dbt_count_cpu(sgt, &a.cpu_nents, &a.cpu_pages);
		}
		dma_resv_unlock(dmabuf->resv);
	} else {
		sgt = dma_buf_map_attachment_unlocked(att, DMA_BIDIRECTIONAL);
	}
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_detach;
	}
	f->dmabuf = dmabuf;
	f->att = att;
	if (!f->dynamic)
		f->sgt = sgt;
	f->invalid = false;
	f->remaps = 0;
	atomic_set(&f->move_notifies, 0);

	a.size = dmabuf->size;
	if (!f->dynamic) {
		a.nents = sgt->nents;
		dbt_count(sgt, &a.bar_entries, &a.bar_bytes, &a.sys_entries,
			  &a.sys_bytes);
		dbt_count_cpu(sgt, &a.cpu_nents, &a.cpu_pages);
	}
	if (copy_to_user(uarg, &a, sizeof(a))) {
		dbt_detach_locked(f);
		return -EFAULT;
	}
	return 0;

err_detach:
	dma_buf_detach(dmabuf, att);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}

/*
 * Move @len bytes at dma-buf offset @off through the edu: READ gathers
 * into @kbuf, WRITE scatters from it. No DMA syncs: p2pgpu maps system
 * pages with dma_map_sgtable() (CPU caches handed over at map time) and
 * window segments are not cacheable memory; the test runs on x86, where
 * DMA is cache coherent.
 */
static int dbt_dma_locked(struct dbt *st, struct dbt_file *f, u64 off,
			  u64 len, u8 *kbuf, bool write)
{
	struct scatterlist *sg;
	u64 seg_off = 0;
	unsigned int i;
	int ret;

	for_each_sgtable_dma_sg(f->sgt, sg, i) {
		u64 seg_len = sg_dma_len(sg);

		while (len && off < seg_off + seg_len) {
			u64 in = off - seg_off;
			u32 n = min_t(u64, min_t(u64, len, seg_len - in),
				      EDU_DMA_MAX_LEN);
			dma_addr_t addr = sg_dma_address(sg) + in;

			if (write) {
				memcpy(st->edu.coh, kbuf, n);
				ret = edu_dma_cmd(&st->edu, st->edu.coh_dma,
						  EDU_DMA_BUF_ADDR, n, 0);
				if (!ret)
					ret = edu_dma_cmd(&st->edu,
							  EDU_DMA_BUF_ADDR, addr,
							  n, EDU_DMA_CMD_TO_PCI);
			} else {
				ret = edu_dma_cmd(&st->edu, addr,
						  EDU_DMA_BUF_ADDR, n, 0);
				if (!ret)
					ret = edu_dma_cmd(&st->edu,
							  EDU_DMA_BUF_ADDR,
							  st->edu.coh_dma, n,
							  EDU_DMA_CMD_TO_PCI);
				if (!ret)
					memcpy(kbuf, st->edu.coh, n);
			}
			if (ret)
				return ret;
			kbuf += n;
			off += n;
			len -= n;
		}
		seg_off += seg_len;
		if (!len)
			return 0;
	}
	pr_warn_ratelimited("mapping covers %llu bytes, short of the transfer\n",
			    seg_off);
	return -EIO;
}

static long dbt_ioctl_xfer(struct dbt *st, struct dbt_file *f,
			   struct p2pgpu_dmabuf_test_xfer __user *uarg,
			   bool write)
{
	struct p2pgpu_dmabuf_test_xfer x;
	u8 *kbuf;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (!f->dmabuf) {
		pr_warn_ratelimited("%s: nothing attached\n", write ? "WRITE" : "READ");
		return -ENXIO;
	}
	if (!st->edu.pdev)
		return -ENODEV;
	if (!x.len || x.len > P2PGPU_DMABUF_TEST_MAX_XFER ||
	    x.offset >= f->dmabuf->size || x.len > f->dmabuf->size - x.offset) {
		pr_warn_ratelimited("%s: offset %llu + %llu outside 1..%u bytes of a %zu-byte buffer\n",
				    write ? "WRITE" : "READ", x.offset, x.len,
				    P2PGPU_DMABUF_TEST_MAX_XFER, f->dmabuf->size);
		return -EINVAL;
	}
	kbuf = kvmalloc(x.len, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	if (write && copy_from_user(kbuf, u64_to_user_ptr(x.buf), x.len)) {
		ret = -EFAULT;
		goto out;
	}
	if (f->dynamic) {
		/* Held across the DMA: the exporter cannot move the buffer. */
		dma_resv_lock(f->dmabuf->resv, NULL);
		ret = dbt_revalidate(f);
		if (!ret)
			ret = dbt_dma_locked(st, f, x.offset, x.len, kbuf,
					     write);
		dma_resv_unlock(f->dmabuf->resv);
	} else {
		ret = dbt_dma_locked(st, f, x.offset, x.len, kbuf, write);
	}
	if (!ret && !write && copy_to_user(u64_to_user_ptr(x.buf), kbuf, x.len))
		ret = -EFAULT;
out:
	kvfree(kbuf);
	return ret;
}

static long dbt_ioctl_status(struct dbt_file *f,
			     struct p2pgpu_dmabuf_test_status __user *uarg)
{
	struct p2pgpu_dmabuf_test_status s;

	memset(&s, 0, sizeof(s));
	if (!f->dmabuf) {
		pr_warn_ratelimited("STATUS: nothing attached\n");
		return -ENXIO;
	}
	s.move_notifies = atomic_read(&f->move_notifies);
	s.remaps = f->remaps;
	if (f->dynamic) {
		dma_resv_lock(f->dmabuf->resv, NULL);
		if (f->invalid)
			s.flags |= P2PGPU_DMABUF_TEST_S_INVALID;
		if (f->revoked)
			s.flags |= P2PGPU_DMABUF_TEST_S_REVOKED;
		dbt_count(f->sgt, &s.bar_entries, &s.bar_bytes,
			  &s.sys_entries, &s.sys_bytes);
		dma_resv_unlock(f->dmabuf->resv);
	} else {
		dbt_count(f->sgt, &s.bar_entries, &s.bar_bytes,
			  &s.sys_entries, &s.sys_bytes);
	}
	return copy_to_user(uarg, &s, sizeof(s)) ? -EFAULT : 0;
}

static long dbt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct dbt_file *f = file->private_data;
	struct dbt *st = &dbt_state;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&st->lock);
	switch (cmd) {
	case P2PGPU_DMABUF_TEST_IOC_ATTACH:
		ret = dbt_ioctl_attach(st, f, uarg);
		break;
	case P2PGPU_DMABUF_TEST_IOC_DETACH:
		ret = f->dmabuf ? 0 : -ENXIO;
		dbt_detach_locked(f);
		break;
	case P2PGPU_DMABUF_TEST_IOC_READ:
		ret = dbt_ioctl_xfer(st, f, uarg, false);
		break;
	case P2PGPU_DMABUF_TEST_IOC_WRITE:
		ret = dbt_ioctl_xfer(st, f, uarg, true);
		break;
	case P2PGPU_DMABUF_TEST_IOC_STATUS:
		ret = dbt_ioctl_status(f, uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	mutex_unlock(&st->lock);
	return ret;
}

static int dbt_open(struct inode *inode, struct file *file)
{
	struct dbt *st = &dbt_state;
	struct dbt_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_lock(&st->lock);
	list_add_tail(&f->node, &st->files);
	mutex_unlock(&st->lock);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int dbt_release(struct inode *inode, struct file *file)
{
	struct dbt_file *f = file->private_data;
	struct dbt *st = &dbt_state;

	mutex_lock(&st->lock);
	list_del(&f->node);
	dbt_detach_locked(f);
	mutex_unlock(&st->lock);
	kfree(f);
	return 0;
}

static const struct file_operations dbt_fops = {
	.owner = THIS_MODULE,
	.open = dbt_open,
	.release = dbt_release,
	.unlocked_ioctl = dbt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice dbt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = P2PGPU_DMABUF_TEST_DEVNAME,
	.fops = &dbt_fops,
	.mode = 0600,
};

static int dbt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dbt *st = &dbt_state;
	int ret;

	mutex_lock(&st->lock);
	if (st->edu.pdev) {
		ret = -ENODEV;
		goto out;
	}
	ret = edu_dma_probe(&st->edu, pdev, KBUILD_MODNAME);
	if (!ret)
		pci_info(pdev, "dma-buf importer /dev/%s\n",
			 P2PGPU_DMABUF_TEST_DEVNAME);
out:
	mutex_unlock(&st->lock);
	return ret;
}

/* Every attachment goes before the device: they were made for it. */
static void dbt_remove(struct pci_dev *pdev)
{
	struct dbt *st = &dbt_state;
	struct dbt_file *f;

	mutex_lock(&st->lock);
	if (st->edu.pdev == pdev) {
		list_for_each_entry(f, &st->files, node)
			dbt_detach_locked(f);
		edu_dma_remove(&st->edu);
	}
	mutex_unlock(&st->lock);
}

static const struct pci_device_id dbt_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};

static struct pci_driver dbt_driver = {
	.name = KBUILD_MODNAME,
	.id_table = dbt_ids,
	.probe = dbt_probe,
	.remove = dbt_remove,
};

static int __init dbt_init(void)
{
	int ret;

	ret = pci_register_driver(&dbt_driver);
	if (ret)
		return ret;
	ret = misc_register(&dbt_misc);
	if (ret)
		pci_unregister_driver(&dbt_driver);
	return ret;
}
module_init(dbt_init);

static void __exit dbt_exit(void)
{
	misc_deregister(&dbt_misc);
	pci_unregister_driver(&dbt_driver);
}
module_exit(dbt_exit);

MODULE_DESCRIPTION("p2pgpu test: dma-buf importer driving the QEMU edu DMA engine");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(P2PMAP_NS(DMA_BUF));
