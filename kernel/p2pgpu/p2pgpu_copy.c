// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu copy engine: the importer side of the reference driver.
 *
 * This file owns DRM_IOCTL_P2PGPU_COPY and the device's p2pmap attachment.
 * A copy moves bytes between a user VA range (system memory, or a CPU
 * mapping of another p2pgpu's object: peer access) and a local buffer
 * object. The engine imports the range through the p2pmap importer API and
 * then behaves like a DMA engine: it is given DMA addresses only and
 * translates them the way the hardware would, through the PCIe fabric (a
 * switch routes a peer's BAR address directly), the IOMMU domain of the GPU
 * if it has a translating one, or the host bridge (bus address -> CPU
 * physical address) otherwise; it then reads or writes that physical
 * memory, RAM through the kernel's direct map and BARs through memremap(). It
 * never uses a page or pointer of the exporter, so a wrong DMA address
 * shows up as wrong data in the tests.
 *
 * A copy runs the p2pmap sequence protocol in three phases:
 *
 * 1. map and snapshot (no lock of ours): p2pmap_import_begin(), then
 *    p2pmap_import_map_and_lock(), which returns with the import lock held
 *    and the extents valid; under it, a copy of every extent's DMA address
 *    into a preallocated array, and the placement;
 * 2. translate (no lock): each DMA address to a physical address, and
 *    memremap(MEMREMAP_WC) of what is MMIO. That allocates, and nothing under the
 *    import lock may (the mmu notifier takes it from reclaim);
 * 3. move (device lock, then import lock): the retry check again; if the
 *    range was invalidated since phase 1 everything is dropped and the copy
 *    starts over (bounded), else the bytes move while both locks are held.
 *
 * Lock order: &p2pgpu_device.lock -> import lock, the order of every
 * exporter-side invalidation (evictions run under the device lock and take
 * import locks). p2pmap_import_map_and_lock() is never called with the
 * device lock held: resolving a mapping of this same device's objects
 * takes it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/pci.h>
#include <linux/resource_ext.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "p2pgpu.h"
#include "p2pgpu_drm.h"

/*
 * Protocol rounds (p2pmap_import_map_and_lock() returning -EAGAIN, or the
 * retry check failing in phase 3) before a copy gives up with -EBUSY: an
 * invalidation storm must not keep the caller in the kernel for ever.
 */
#define P2PGPU_COPY_MAX_ROUNDS	64

/**
 * struct p2pgpu_copy_page - one page of the imported range, as the engine
 *	sees it
 * @dma: DMA address of the page (phase 1, from the import's extents)
 * @phys: where the fabric delivers @dma (phase 2)
 * @io: kernel mapping of @phys if it is MMIO (phase 2)
 * @io_alt: a second mapping of @phys whose virtual page number differs
 *	from @io's in its lowest bit, or NULL (see p2pgpu_copy_pick())
 * @mmio: @phys is MMIO (a PCI BAR), else RAM (a system-memory extent is
 *	synced as a whole: &struct p2pgpu_copy_sync)
 */
struct p2pgpu_copy_page {
	dma_addr_t dma;
	phys_addr_t phys;
	void *io;
	void *io_alt;
	bool mmio;
};

/**
 * struct p2pgpu_copy_sync - one system-memory mapping the engine syncs
 * @dma: the extent's DMA address, as p2pmap mapped it
 * @size: the extent's size in bytes, as p2pmap mapped it
 *
 * The engine syncs each mapping exactly as it was made: the extent's
 * address and size, and the direction of the import (see
 * p2pgpu_copy_dir()). A sync of part of a page in another direction names
 * no mapping unambiguously when the same page is mapped for this device
 * more than once, which the DMA API allows (two imports of one shared page,
 * or one import of a range that maps a page twice): without an IOMMU the
 * mappings have the same address, and CONFIG_DMA_API_DEBUG then reports the
 * sync as one of memory the driver never mapped.
 */
struct p2pgpu_copy_sync {
	dma_addr_t dma;
	size_t size;
};

/**
 * struct p2pgpu_copy_job - one DRM_IOCTL_P2PGPU_COPY in progress
 * @gdev: the local device (the importer)
 * @bo: the local object, referenced
 * @imp: the p2pmap import of the user range
 * @uaddr: first byte of the user range
 * @start: @uaddr rounded down to a page: the import's start
 * @length: bytes to copy
 * @bo_offset: first byte in @bo
 * @to_bo: direction: user range -> @bo
 * @npages: pages of the import
 * @pg: @npages page descriptors
 * @sync: the system-memory extents of the snapshot, at most @npages
 * @nr_sync: entries of @sync in use
 * @maps: memremap() mappings made in phase 2, at most 2 x @npages
 * @nr_maps: entries of @maps in use
 * @bounce: one page of the engine's own staging memory, for the pages
 *	p2pgpu_copy_pick() cannot pair with a mapping of a different TLB slot
 * @domain: the GPU's IOMMU domain if it translates, else NULL
 * @owner: cache of p2pgpu_copy_bar_owner(): the PCI function whose BAR
 *	@owner_res was, referenced, or NULL
 * @owner_res: that BAR
 * @owner_direct: a TLP from the GPU to @owner_res is routed peer-to-peer
 */
struct p2pgpu_copy_job {
	struct p2pgpu_device *gdev;
	struct p2pgpu_bo *bo;
	struct p2pmap_import *imp;
	unsigned long uaddr;
	unsigned long start;
	u64 length;
	u64 bo_offset;
	bool to_bo;
	unsigned long npages;
	struct p2pgpu_copy_page *pg;
	struct p2pgpu_copy_sync *sync;
	unsigned long nr_sync;
	void **maps;
	unsigned long nr_maps;
	void *bounce;
	struct iommu_domain *domain;
	struct pci_dev *owner;
	const struct resource *owner_res;
	bool owner_direct;
};

/*
 * The importer's invalidate callback. p2pmap calls it with the import lock
 * held and the engine reads the extents and moves bytes only under that
 * lock, after a passing p2pmap_import_retry(): when this runs, no copy of
 * @imp is touching memory, and the next attempt sees the bumped sequence
 * and starts over. The phase-2 memremap mappings are not device access;
 * they are used only under the lock. So there is nothing to stop.
 */
static void p2pgpu_copy_invalidate(struct p2pmap_import *imp,
				   enum p2pmap_event ev)
{
}

static const struct p2pmap_importer_ops p2pgpu_copy_importer_ops = {
	.invalidate = p2pgpu_copy_invalidate,
};

/* devm action: every copy has ended (see p2pgpu_copy_init()). */
static void p2pgpu_copy_detach(void *data)
{
	struct p2pgpu_device *gdev = data;

	p2pmap_detach(gdev->copy_attach);
	gdev->copy_attach = NULL;
}

/**
 * p2pgpu_copy_init() - attach a device's copy engine to p2pmap
 * @gdev: the device, before drm_dev_register()
 *
 * Sets a 64-bit DMA mask (the engine addresses 64 bits; the window BARs of
 * peers sit above 4 GiB) and attaches the device as a revalidating p2pmap
 * importer. The attachment is released by a devres action, which runs
 * after p2pgpu_remove() returns: by then drm_dev_unplug() has waited for
 * every ioctl in its drm_dev_enter() section, so no copy, and no import of
 * this attachment, is left. A failure is not fatal: the rest of the driver
 * works, and DRM_IOCTL_P2PGPU_COPY fails with -EOPNOTSUPP and the reason.
 */
void p2pgpu_copy_init(struct p2pgpu_device *gdev)
{
	struct device *dev = &gdev->pdev->dev;
	struct p2pmap_attach *att;
	int ret;

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		pci_warn(gdev->pdev, "no 64-bit DMA mask (%d): peers above the mask fall back to system memory\n",
			 ret);
	att = p2pmap_attach(dev, &p2pgpu_copy_importer_ops,
			    P2PMAP_CAP_REVALIDATE);
	if (IS_ERR(att)) {
		gdev->copy_attach_err = PTR_ERR(att);
		pci_warn(gdev->pdev, "copy engine unavailable: p2pmap_attach() failed: %d\n",
			 gdev->copy_attach_err);
		return;
	}
	gdev->copy_attach = att;
	ret = devm_add_action_or_reset(dev, p2pgpu_copy_detach, gdev);
	if (ret) {
		gdev->copy_attach_err = ret;
		pci_warn(gdev->pdev, "copy engine unavailable: %d\n", ret);
	}
}

/* ---- the fabric: DMA address -> physical address ------------------------ */

/*
 * A bus address inside one of the host bridge's memory windows is MMIO of
 * some device below it: its CPU physical address is the bus address plus
 * the window's offset (0 on x86). Host bridge windows are fixed once the
 * bus is enumerated, so the list is read without a lock, as
 * pcibios_bus_to_resource() does.
 */
static bool p2pgpu_copy_bus_to_cpu(struct pci_dev *me, dma_addr_t bus,
				   phys_addr_t *cpu)
{
	struct pci_host_bridge *bridge = pci_find_host_bridge(me->bus);
	struct resource_entry *w;

	resource_list_for_each_entry(w, &bridge->windows) {
		const struct resource *r = w->res;

		if (resource_type(r) != IORESOURCE_MEM)
			continue;
		if (bus >= r->start - w->offset && bus <= r->end - w->offset) {
			*cpu = bus + w->offset;
			return true;
		}
	}
	return false;
}

/*
 * Does a request from @me to a BAR of @target stay in the PCIe fabric? A
 * device decodes its own BARs; otherwise the request climbs until a bridge
 * that is also above @target claims it, unless a port on the way redirects
 * peer requests upstream (ACS). The walk is the one the kernel's P2PDMA
 * code uses to choose between bus addresses and the host bridge.
 */
static bool p2pgpu_copy_direct(struct pci_dev *me, struct pci_dev *target)
{
	return me == target || p2pmap_pci_route_direct(target, me);
}

/*
 * The memory BAR holding the page at CPU physical address @phys, and
 * whether the GPU reaches it through the fabric; cached in @job.
 */
static bool p2pgpu_copy_bar_owner(struct p2pgpu_copy_job *job,
				  phys_addr_t phys)
{
	struct pci_dev *pdev = NULL;
	int i;

	if (job->owner && phys >= job->owner_res->start &&
	    phys + PAGE_SIZE - 1 <= job->owner_res->end)
		return true;
	pci_dev_put(job->owner);
	job->owner = NULL;
	while ((pdev = pci_get_device(PCI_ANY_ID, PCI_ANY_ID, pdev))) {
		for (i = 0; i < PCI_STD_NUM_BARS; i++) {
			const struct resource *r = &pdev->resource[i];

			if (resource_type(r) != IORESOURCE_MEM || !r->start ||
			    phys < r->start || phys + PAGE_SIZE - 1 > r->end)
				continue;
			job->owner = pdev;	/* keeps the reference */
			job->owner_res = r;
			job->owner_direct = p2pgpu_copy_direct(job->gdev->pdev, pdev);
			return true;
		}
	}
	return false;
}

/*
 * Where does the page at DMA address @dma land, as the device sees it?
 * Sets *@phys and *@mmio, or returns -EIO for an address that reaches
 * nothing (the hardware would get an unsupported request or an IOMMU
 * fault).
 */
static int p2pgpu_copy_translate(struct p2pgpu_copy_job *job, dma_addr_t dma,
				 phys_addr_t *phys, bool *mmio)
{
	struct pci_dev *me = job->gdev->pdev;
	phys_addr_t cpu = 0, p;
	bool bus_mmio;

	/* A switch on the way routes a peer's BAR address directly. */
	bus_mmio = p2pgpu_copy_bus_to_cpu(me, dma, &cpu);
	if (bus_mmio && p2pgpu_copy_bar_owner(job, cpu) && job->owner_direct) {
		*phys = cpu;
		*mmio = true;
		return 0;
	}
	/* Otherwise it reaches the root complex: IOMMU, or untranslated. */
	if (job->domain) {
		p = iommu_iova_to_phys(job->domain, dma);
		if (!p) {
			p2pgpu_reject(job->gdev, "COPY: IOMMU fault at DMA address %pad\n",
				      &dma);
			return -EIO;
		}
	} else {
		p = bus_mmio ? cpu : dma_to_phys(&me->dev, dma);
	}
	if (pfn_valid(PHYS_PFN(p)) && page_is_ram(PHYS_PFN(p))) {
		*phys = p;
		*mmio = false;
		return 0;
	}
	if (p2pgpu_copy_bar_owner(job, p)) {
		*phys = p;
		*mmio = true;
		return 0;
	}
	p2pgpu_reject(job->gdev, "COPY: DMA address %pad (%pa) is neither RAM nor a BAR\n",
		      &dma, &p);
	return -EIO;
}

/* ---- the three phases ----------------------------------------------------- */

/*
 * Phase 1, with the import lock held and p2pmap_import_retry() false:
 * record every page's DMA address. No allocation here (see the header).
 */
static int p2pgpu_copy_snapshot(struct p2pgpu_copy_job *job)
{
	const struct p2pmap_extent *ext;
	unsigned long i = 0, k;
	unsigned int nr, e;

	job->nr_sync = 0;
	ext = p2pmap_import_extents(job->imp, &nr);
	for (e = 0; e < nr; e++) {
		const struct p2pmap_extent *x = &ext[e];

		if (x->type == P2PMAP_EXT_ERROR) {
			p2pgpu_reject(job->gdev, "COPY: page %lu of the range: exporter error %d\n",
				      i, x->error);
			return x->error < 0 ? x->error : -EIO;
		}
		if ((x->type != P2PMAP_EXT_P2P && x->type != P2PMAP_EXT_SYSMEM) ||
		    x->dma_addr == DMA_MAPPING_ERROR || !x->npages ||
		    x->npages > job->npages - i) {
			p2pgpu_reject(job->gdev, "COPY: malformed extent %u from p2pmap\n", e);
			return -EIO;
		}
		if (!job->to_bo && !(x->flags & P2PMAP_EXT_F_WRITE)) {
			p2pgpu_reject(job->gdev, "COPY: page %lu of the range is not writable\n",
				      i);
			return -EPERM;
		}
		for (k = 0; k < x->npages; k++, i++)
			job->pg[i].dma = x->dma_addr + (k << PAGE_SHIFT);
		/* At most one per page: every extent has a page (above). */
		if (x->type == P2PMAP_EXT_SYSMEM)
			job->sync[job->nr_sync++] = (struct p2pgpu_copy_sync) {
				.dma = x->dma_addr,
				.size = x->npages << PAGE_SHIFT,
			};
	}
	if (i != job->npages) {
		p2pgpu_reject(job->gdev, "COPY: p2pmap extents cover %lu of %lu pages\n",
			      i, job->npages);
		return -EIO;
	}
	return 0;
}

static void p2pgpu_copy_unmap_io(struct p2pgpu_copy_job *job)
{
	unsigned long i;

	for (i = 0; i < job->nr_maps; i++)
		memunmap(job->maps[i]);
	job->nr_maps = 0;
}

/*
 * Phase 2, no lock held: translate every page and map the MMIO ones,
 * physically contiguous runs with one memremap(MEMREMAP_WC)
 * (write-combining, like the BAR's owner maps it, so the memory types
 * agree). memremap() of a BAR is ioremap_wc() underneath, but gives a plain
 * pointer, so a BAR-to-BAR move is one memcpy_toio()/memcpy_fromio() with
 * no bounce buffer, as a DMA engine moves it in one pass.
 *
 * A run of more than one page is mapped a second time from its second
 * page on, for p2pgpu_copy_pick(): ioremap() aligns a mapping of two pages
 * or more to at least two pages, so there each page has a virtual page
 * number of the other parity. The pick checks the addresses it gets and
 * moves a page it cannot pair through @job->bounce, so a failure of the
 * second memremap() is not an error.
 */
static int p2pgpu_copy_translate_all(struct p2pgpu_copy_job *job)
{
	struct p2pgpu_copy_page *pg = job->pg;
	unsigned long i, j, k;
	int ret;

	for (i = 0; i < job->npages; i++) {
		pg[i].io = NULL;
		pg[i].io_alt = NULL;
		ret = p2pgpu_copy_translate(job, pg[i].dma, &pg[i].phys,
					    &pg[i].mmio);
		if (ret)
			return ret;
		cond_resched();
	}
	for (i = 0; i < job->npages; i = j) {
		void *base;

		j = i + 1;
		if (!pg[i].mmio)
			continue;
		while (j < job->npages && pg[j].mmio &&
		       pg[j].phys == pg[j - 1].phys + PAGE_SIZE)
			j++;
		base = memremap(pg[i].phys, (j - i) << PAGE_SHIFT, MEMREMAP_WC);
		if (!base) {
			p2pgpu_reject(job->gdev, "COPY: cannot map %lu pages of MMIO at %pa\n",
				      j - i, &pg[i].phys);
			return -ENOMEM;
		}
		job->maps[job->nr_maps++] = base;
		for (k = i; k < j; k++)
			pg[k].io = base + ((k - i) << PAGE_SHIFT);
		if (j - i < 2)
			continue;
		base = memremap(pg[i + 1].phys, (j - i - 1) << PAGE_SHIFT,
				MEMREMAP_WC);
		if (!base)
			continue;
		job->maps[job->nr_maps++] = base;
		for (k = i + 1; k < j; k++)
			pg[k].io_alt = base + ((k - i - 1) << PAGE_SHIFT);
	}
	return 0;
}

/*
 * The mapping of remote MMIO page @pg to move to or from the local window
 * page at @lio, or NULL to go through the bounce page.
 *
 * The engine's loads and stores alternate between the two pages. Under
 * QEMU's TCG (the test bed), whose software TLB is direct-mapped by
 * virtual page number, two pages whose virtual page numbers are equal
 * modulo its size evict each other on every access: a 4 MiB BAR-to-BAR
 * copy then took 35-70 ms instead of 3-7 ms for each half alone. BAR
 * mappings start at addresses aligned to large powers of two, so that was
 * the common case, and whether it happened depended on where the kernel
 * put the mappings and on the two objects' window slots: the "bimodal"
 * peer-copy figures. Two pages whose virtual page numbers differ in the
 * lowest bit never share a slot of such a TLB, whatever its size; on
 * hardware the choice of mapping changes nothing.
 */
static void *p2pgpu_copy_pick(const struct p2pgpu_copy_page *pg,
			      const void __iomem *lio)
{
	unsigned long l = (unsigned long)lio;

	if (((unsigned long)pg->io ^ l) & PAGE_SIZE)
		return pg->io;
	if (pg->io_alt && (((unsigned long)pg->io_alt ^ l) & PAGE_SIZE))
		return pg->io_alt;
	return NULL;
}

/*
 * Write @n bytes at @src into the window at @dst. When both are 8-byte
 * aligned and @n is a multiple of 32, in bursts of four 64-bit stores after
 * four loads; else with memcpy_toio(). The window is a prefetchable BAR
 * without side effects, so the access width is free; under TCG, 4 MiB took
 * 1.8-2.5 ms this way, 3.4-5.1 ms with __iowrite64_copy() (one store per
 * loop) and 4.4-10.4 ms with memcpy_toio() (x86: 32-bit "rep movsl"), the
 * three interleaved 15 times in one boot of the release kernel.
 */
static void p2pgpu_copy_to_window(void __iomem *dst, const void *src, size_t n)
{
#ifdef CONFIG_64BIT
	u64 __iomem *d = dst;
	const u64 *s = src;
	size_t i;

	if (!(((unsigned long)dst | (unsigned long)src) & 7) && !(n & 31)) {
		for (i = 0; i < n / 8; i += 4) {
			u64 a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];

			__raw_writeq(a, d + i);
			__raw_writeq(b, d + i + 1);
			__raw_writeq(c, d + i + 2);
			__raw_writeq(e, d + i + 3);
		}
		return;
	}
#endif
	memcpy_toio(dst, src, n);
}

/*
 * Move @n bytes at offset @off of user page @pi and @loff of local page
 * @li. Local side: the object's page is in this device's window (reached
 * through the device's own window mapping) or device-only (its backing
 * page); the device lock keeps that placement still.
 */
static void p2pgpu_copy_chunk(struct p2pgpu_copy_job *job, unsigned long pi,
			      size_t off, unsigned long li, size_t loff,
			      size_t n)
{
	struct p2pgpu_device *gdev = job->gdev;
	struct p2pgpu_copy_page *pg = &job->pg[pi];
	struct p2pgpu_bo_page *bp = &job->bo->pages[li];
	void __iomem *lio = NULL;
	void *lva = NULL, *rva = NULL;
	bool staged = false;

	if (bp->slot != P2PGPU_NO_SLOT)
		lio = gdev->window + ((size_t)bp->slot << PAGE_SHIFT) + loff;
	else
		lva = page_address(bp->page) + loff;

	if (pg->mmio && lio) {
		rva = p2pgpu_copy_pick(pg, lio - loff);
		staged = !rva;
		rva = (staged ? pg->io : rva) + off;
	} else if (pg->mmio) {
		rva = pg->io + off;
	} else {
		rva = kmap_local_page(pfn_to_page(PHYS_PFN(pg->phys))) + off;
	}

	if (staged && job->to_bo) {
		/* Through the engine's own memory (p2pgpu_copy_pick()). */
		memcpy(job->bounce, rva, n);
		p2pgpu_copy_to_window(lio, job->bounce, n);
	} else if (staged) {
		memcpy_fromio(job->bounce, lio, n);
		memcpy(rva, job->bounce, n);
	} else if (job->to_bo) {
		if (lio)
			p2pgpu_copy_to_window(lio, rva, n);
		else
			memcpy(lva, rva, n);
	} else {
		if (lio)
			memcpy_fromio(rva, lio, n);
		else
			memcpy(rva, lva, n);
	}

	if (!pg->mmio)
		kunmap_local(rva);
}

/*
 * The direction p2pmap mapped the system-memory extents in: the import is
 * created for writing exactly when the engine writes the user range
 * (&struct p2pmap_extent: %DMA_BIDIRECTIONAL for a writing import,
 * %DMA_TO_DEVICE otherwise).
 */
static enum dma_data_direction p2pgpu_copy_dir(const struct p2pgpu_copy_job *job)
{
	return job->to_bo ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL;
}

/*
 * Phase 3 body, with the device lock and the import lock held. Like a
 * device driver around a DMA transfer: every system-memory mapping of the
 * snapshot is synced for the device before the engine touches it, and
 * back for the CPU after the engine wrote it, each as the mapping it is
 * (see &struct p2pgpu_copy_sync).
 */
static void p2pgpu_copy_move(struct p2pgpu_copy_job *job)
{
	struct device *dev = &job->gdev->pdev->dev;
	enum dma_data_direction dir = p2pgpu_copy_dir(job);
	unsigned long s;
	u64 done = 0;

	for (s = 0; s < job->nr_sync; s++)
		dma_sync_single_for_device(dev, job->sync[s].dma,
					   job->sync[s].size, dir);

	while (done < job->length) {
		unsigned long ua = job->uaddr + done - job->start;
		u64 bo = job->bo_offset + done;
		size_t off = ua & ~PAGE_MASK, loff = bo & ~PAGE_MASK;
		size_t n = min3(job->length - done, (u64)(PAGE_SIZE - off),
				(u64)(PAGE_SIZE - loff));

		p2pgpu_copy_chunk(job, ua >> PAGE_SHIFT, off, bo >> PAGE_SHIFT,
				  loff, n);
		done += n;
		cond_resched();
	}
	if (job->to_bo)
		return;
	for (s = 0; s < job->nr_sync; s++)
		dma_sync_single_for_cpu(dev, job->sync[s].dma,
					job->sync[s].size, dir);
}

/*
 * The COPY uAPI numbers its policies and fallback reasons itself
 * (P2PGPU_COPY_*, stable); these tables translate p2pmap's into them. A
 * reason p2pmap adds fails the build here until it is given a place (or
 * P2PGPU_COPY_REASON_OTHER).
 */
static const u8 p2pgpu_copy_reason[] = {
	[P2PMAP_REASON_NONE]		= P2PGPU_COPY_REASON_NONE,
	[P2PMAP_REASON_POLICY]		= P2PGPU_COPY_REASON_POLICY,
	[P2PMAP_REASON_BAR_EXHAUSTED]	= P2PGPU_COPY_REASON_BAR_EXHAUSTED,
	[P2PMAP_REASON_NO_ROUTE]	= P2PGPU_COPY_REASON_NO_ROUTE,
	[P2PMAP_REASON_NO_KCONFIG]	= P2PGPU_COPY_REASON_NO_KCONFIG,
	[P2PMAP_REASON_DMA_MASK]	= P2PGPU_COPY_REASON_DMA_MASK,
	[P2PMAP_REASON_SYSTEM_PAGE]	= P2PGPU_COPY_REASON_SYSTEM_PAGE,
};

static_assert(ARRAY_SIZE(p2pgpu_copy_reason) == P2PMAP_REASON_NR);
static_assert(P2PGPU_COPY_REASON_OTHER < P2PGPU_COPY_REASON_SLOTS);

static const enum p2pmap_policy p2pgpu_copy_policy[] = {
	[P2PGPU_COPY_PREFER_P2P]	= P2PMAP_PREFER_P2P,
	[P2PGPU_COPY_REQUIRE_P2P]	= P2PMAP_REQUIRE_P2P,
	[P2PGPU_COPY_SYSMEM_ONLY]	= P2PMAP_SYSMEM_ONLY,
};

/*
 * The protocol loop. Returns 0 with the bytes moved, or a negative errno;
 * @args gets the retries, and on success the placement and the time.
 */
static int p2pgpu_copy_run(struct p2pgpu_copy_job *job,
			   struct drm_p2pgpu_copy *args)
{
	struct p2pgpu_device *gdev = job->gdev;
	struct p2pmap_placement pl;
	unsigned int round, r;
	struct p2pmap_seq seq;
	u64 t0;
	int ret;

	for (round = 0; round < P2PGPU_COPY_MAX_ROUNDS; round++) {
		if (round)
			args->retries++;
		if (fatal_signal_pending(current)) {
			p2pgpu_reject(gdev, "COPY: interrupted by a fatal signal\n");
			return -EINTR;
		}

		/* Phase 1: map and snapshot; success returns locked. */
		seq = p2pmap_import_begin(job->imp);
		ret = p2pmap_import_map_and_lock(job->imp, &seq);
		if (ret) {
			if (ret == -EAGAIN)
				continue;
			p2pgpu_reject(gdev, "COPY: cannot map 0x%lx+0x%lx: %d\n",
				      job->start, job->npages << PAGE_SHIFT, ret);
			return ret;
		}
		ret = p2pgpu_copy_snapshot(job);
		/* Where the extents just copied landed, in the same section. */
		p2pmap_import_placement_locked(job->imp, &pl);
		p2pmap_import_unlock(job->imp);
		if (ret)
			return ret;

		/* Phase 2: translate and map, no lock held. */
		ret = p2pgpu_copy_translate_all(job);
		if (ret) {
			p2pgpu_copy_unmap_io(job);
			return ret;
		}

		/* Phase 3: device lock, import lock, check, move. */
		mutex_lock(&gdev->lock);
		p2pmap_import_lock(job->imp);
		if (p2pmap_import_retry(job->imp, &seq)) {
			p2pmap_import_unlock(job->imp);
			mutex_unlock(&gdev->lock);
			p2pgpu_copy_unmap_io(job);
			continue;
		}
		t0 = ktime_get_ns();
		p2pgpu_copy_move(job);
		args->elapsed_ns = ktime_get_ns() - t0;
		p2pmap_import_unlock(job->imp);
		mutex_unlock(&gdev->lock);
		p2pgpu_copy_unmap_io(job);

		args->p2p_pages = pl.p2p_pages;
		args->sysmem_pages = pl.sysmem_pages;
		for (r = 0; r < P2PMAP_REASON_NR; r++)
			args->reason_pages[p2pgpu_copy_reason[r]] +=
				pl.reason_pages[r];
		return 0;
	}
	p2pgpu_reject(gdev, "COPY: 0x%lx+0x%lx still invalidated after %u rounds, giving up\n",
		      job->start, job->npages << PAGE_SHIFT, P2PGPU_COPY_MAX_ROUNDS);
	return -EBUSY;
}

/* ---- the ioctl ------------------------------------------------------------ */

static int p2pgpu_copy_check(struct p2pgpu_device *gdev,
			     const struct drm_p2pgpu_copy *args)
{
	u64 end;

	if (args->flags != P2PGPU_COPY_TO_BO &&
	    args->flags != P2PGPU_COPY_FROM_BO) {
		p2pgpu_reject(gdev, "COPY: flags %#x: need exactly one of TO_BO, FROM_BO\n",
			      args->flags);
		return -EINVAL;
	}
	if (args->pad) {
		p2pgpu_reject(gdev, "COPY: non-zero padding\n");
		return -EINVAL;
	}
	if (args->policy >= ARRAY_SIZE(p2pgpu_copy_policy)) {
		p2pgpu_reject(gdev, "COPY: unknown policy %u\n", args->policy);
		return -EINVAL;
	}
	if (!args->length || args->length > P2PGPU_COPY_MAX) {
		p2pgpu_reject(gdev, "COPY: length %llu outside 1..%llu\n",
			      args->length, P2PGPU_COPY_MAX);
		return -EINVAL;
	}
	if (check_add_overflow(args->user_ptr, args->length, &end)) {
		p2pgpu_reject(gdev, "COPY: user range 0x%llx+%llu wraps\n",
			      args->user_ptr, args->length);
		return -EINVAL;
	}
	if (end > TASK_SIZE) {
		p2pgpu_reject(gdev, "COPY: user range 0x%llx+%llu leaves the user address space\n",
			      args->user_ptr, args->length);
		return -EFAULT;
	}
	if (check_add_overflow(args->bo_offset, args->length, &end)) {
		p2pgpu_reject(gdev, "COPY: object range %llu+%llu wraps\n",
			      args->bo_offset, args->length);
		return -EINVAL;
	}
	return 0;
}

static void p2pgpu_copy_job_free(struct p2pgpu_copy_job *job)
{
	p2pmap_import_destroy(job->imp);
	pci_dev_put(job->owner);
	kfree(job->bounce);
	kvfree(job->maps);
	kvfree(job->sync);
	kvfree(job->pg);
}

/**
 * p2pgpu_ioctl_copy() - DRM_IOCTL_P2PGPU_COPY
 * @drm: the DRM device
 * @data: &struct drm_p2pgpu_copy
 * @file: the caller's DRM file, where the handle is looked up
 *
 * Validates the request, imports the pages covering the user range for
 * this device through p2pmap, and moves the bytes (see the file header).
 * The whole copy runs inside drm_dev_enter(), so device removal waits for
 * it and the p2pmap attachment outlives it.
 *
 * Return: 0 or a negative errno, each with a ratelimited reason in the
 * kernel log (see &struct drm_p2pgpu_copy).
 */
int p2pgpu_ioctl_copy(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct p2pgpu_device *gdev = to_p2pgpu(drm);
	struct drm_p2pgpu_copy *args = data;
	struct p2pgpu_copy_job job = {};
	struct drm_gem_object *obj;
	struct iommu_domain *dom;
	unsigned int policy;
	int idx, ret;

	args->p2p_pages = 0;
	args->sysmem_pages = 0;
	memset(args->reason_pages, 0, sizeof(args->reason_pages));
	args->retries = 0;
	args->elapsed_ns = 0;

	ret = p2pgpu_copy_check(gdev, args);
	if (ret)
		return ret;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		p2pgpu_reject(gdev, "COPY: no object with handle %u\n",
			      args->handle);
		return -ENOENT;
	}
	if (args->bo_offset + args->length > obj->size) {
		p2pgpu_reject(gdev, "COPY: object range %llu+%llu exceeds the object's %zu bytes\n",
			      args->bo_offset, args->length, obj->size);
		ret = -EINVAL;
		goto out_put;
	}
	if (!drm_dev_enter(drm, &idx)) {
		p2pgpu_reject(gdev, "COPY: the device is gone\n");
		ret = -ENODEV;
		goto out_put;
	}
	if (!gdev->copy_attach) {
		p2pgpu_reject(gdev, "COPY: engine not attached to p2pmap at probe (%d)\n",
			      gdev->copy_attach_err);
		ret = -EOPNOTSUPP;
		goto out_exit;
	}

	/* checked by p2pgpu_copy_check() */
	policy = array_index_nospec(args->policy, ARRAY_SIZE(p2pgpu_copy_policy));
	job.gdev = gdev;
	job.bo = to_p2pgpu_bo(obj);
	job.uaddr = args->user_ptr;
	job.start = job.uaddr & PAGE_MASK;
	job.length = args->length;
	job.bo_offset = args->bo_offset;
	job.to_bo = args->flags == P2PGPU_COPY_TO_BO;
	/* Cannot overflow: the range ends at or below TASK_SIZE. */
	job.npages = (PAGE_ALIGN(job.uaddr + job.length) - job.start) >> PAGE_SHIFT;
	dom = iommu_get_domain_for_dev(&gdev->pdev->dev);
	if (dom && dom->type == IOMMU_DOMAIN_BLOCKED) {
		p2pgpu_reject(gdev, "COPY: the IOMMU blocks DMA of this device\n");
		ret = -EIO;
		goto out_exit;
	}
	job.domain = dom && (dom->type & __IOMMU_DOMAIN_PAGING) ? dom : NULL;

	/* Everything phase 1 and 3 need, so that they never allocate. */
	job.pg = kvcalloc(job.npages, sizeof(*job.pg), GFP_KERNEL_ACCOUNT);
	job.sync = kvcalloc(job.npages, sizeof(*job.sync), GFP_KERNEL_ACCOUNT);
	job.maps = kvcalloc(2 * job.npages, sizeof(*job.maps),
			    GFP_KERNEL_ACCOUNT);
	job.bounce = kmalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!job.pg || !job.sync || !job.maps || !job.bounce) {
		p2pgpu_reject(gdev, "COPY: no memory to track %lu pages\n",
			      job.npages);
		ret = -ENOMEM;
		goto out_free;
	}
	job.imp = p2pmap_import_create(gdev->copy_attach, current->mm,
				       job.start, job.npages << PAGE_SHIFT,
				       p2pgpu_copy_policy[policy], !job.to_bo,
				       &job);
	if (IS_ERR(job.imp)) {
		ret = PTR_ERR(job.imp);
		job.imp = NULL;
		p2pgpu_reject(gdev, "COPY: cannot import 0x%lx+0x%lx: %d\n",
			      job.start, job.npages << PAGE_SHIFT, ret);
		goto out_free;
	}
	ret = p2pgpu_copy_run(&job, args);
out_free:
	/* The import goes before drm_dev_exit(): detach never sees it. */
	p2pgpu_copy_job_free(&job);
out_exit:
	drm_dev_exit(idx);
out_put:
	drm_gem_object_put(obj);
	return ret;
}
