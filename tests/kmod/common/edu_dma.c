// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma: probe-time setup of the QEMU edu device and its DMA command, for
 * the p2pmap test modules that link this file in (see edu_dma.h).
 */

#include <linux/bits.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/pci.h>

#include "edu_dma.h"

/**
 * edu_dma_probe() - set up a freshly bound edu device for DMA
 * @edu: state to fill; untouched on failure
 * @pdev: the edu PCI function, from the caller's pci_driver probe
 * @name: name for the BAR0 region request (the caller's KBUILD_MODNAME)
 *
 * Enables the device, maps BAR0, checks the identity register, sets a
 * 64-bit DMA mask, allocates the coherent bounce buffer and turns bus
 * mastering on. Everything is device-managed (pcim/dmam), so it is undone
 * when the driver unbinds; edu_dma_remove() only stops the device.
 *
 * Return: 0, or a negative errno (the reason is logged where it is not
 * obvious from the errno).
 */
int edu_dma_probe(struct edu_dma *edu, struct pci_dev *pdev, const char *name)
{
	void __iomem *regs;
	dma_addr_t coh_dma;
	void *coh;
	u32 ident;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	ret = pcim_iomap_regions(pdev, BIT(0), name);
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];

	ident = readl(regs + EDU_REG_ID);
	if ((ident & 0xff) != 0xed) {
		/* 0 or ~0: BAR0 not decoded, e.g. slot powered off by pciehp */
		pci_err(pdev, "unexpected edu id register %#x%s\n", ident,
			ident == 0 || ident == ~0u ?
			" (BAR0 not decoded: device or its slot powered off?)" :
			"");
		return -ENODEV;
	}

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		pci_err(pdev, "no 64-bit DMA: %d\n", ret);
		return ret;
	}
	/*
	 * The engine is programmed one address and length (at most
	 * EDU_DMA_MAX_LEN) per command, so a mapping of any length is
	 * usable: say so, or the DMA core assumes the 64 KiB default. p2pmap
	 * maps physically contiguous system memory (a large folio, a huge
	 * page) as one mapping, and a partial sync of it (allowed by the DMA
	 * API) is then looked up by CONFIG_DMA_API_DEBUG only within the
	 * device's maximum segment size of its start.
	 */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);

	coh = dmam_alloc_coherent(&pdev->dev, EDU_DMA_BUF_SIZE, &coh_dma,
				  GFP_KERNEL);
	if (!coh)
		return -ENOMEM;

	if (readl(regs + EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) {
		pci_err(pdev, "edu DMA engine already busy\n");
		return -EBUSY;
	}

	pci_set_master(pdev);
	edu->pdev = pdev;
	edu->regs = regs;
	edu->coh = coh;
	edu->coh_dma = coh_dma;
	edu->wedged = false;
	return 0;
}

/**
 * edu_dma_remove() - stop an edu device before its driver unbinds
 * @edu: state from edu_dma_probe()
 *
 * Clears bus mastering, so that a wedged command cannot write into the
 * coherent buffer after devm frees it, and forgets the device.
 */
void edu_dma_remove(struct edu_dma *edu)
{
	if (!edu->pdev)
		return;
	pci_clear_master(edu->pdev);
	edu->pdev = NULL;
	edu->regs = NULL;
	edu->coh = NULL;
	edu->coh_dma = 0;
	edu->wedged = false;
}

/**
 * edu_dma_cmd() - run one edu DMA command and wait for it
 * @edu: a probed edu device; the caller serialises all users
 * @src: source: a bus address for the device, or EDU_DMA_BUF_ADDR + offset
 * @dst: destination, likewise
 * @count: bytes, 1..EDU_DMA_MAX_LEN
 * @cmd: 0 (PCI -> edu buffer) or EDU_DMA_CMD_TO_PCI (edu buffer -> PCI)
 *
 * Polls for completion every EDU_DMA_POLL_US and gives up after
 * EDU_DMA_TIMEOUT_S seconds; a command that does not complete marks the
 * device wedged.
 *
 * Context: process context, may sleep.
 * Return: 0; -EINVAL for a bad @count or @cmd; -EBUSY if the engine is
 * still running a command; -EIO if the device is wedged; -ETIMEDOUT if
 * this command did not complete.
 */
int edu_dma_cmd(struct edu_dma *edu, u64 src, u64 dst, u32 count, u32 cmd)
{
	void __iomem *regs = edu->regs;
	u32 val;
	int ret;

	if (!count || count > EDU_DMA_MAX_LEN || (cmd & ~EDU_DMA_CMD_TO_PCI))
		return -EINVAL;
	if (edu->wedged)
		return -EIO;
	if (readl(regs + EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)
		return -EBUSY;

	writeq(src, regs + EDU_REG_DMA_SRC);
	writeq(dst, regs + EDU_REG_DMA_DST);
	writeq(count, regs + EDU_REG_DMA_CNT);
	writeq(cmd | EDU_DMA_CMD_START, regs + EDU_REG_DMA_CMD);
	edu->dma_count++;

	ret = read_poll_timeout(readl, val, !(val & EDU_DMA_CMD_START),
				EDU_DMA_POLL_US,
				EDU_DMA_TIMEOUT_S * USEC_PER_SEC, true,
				regs + EDU_REG_DMA_CMD);
	if (ret) {
		edu->wedged = true;
		pci_err(edu->pdev,
			"edu DMA %#llx -> %#llx (%u bytes) did not complete in %d s\n",
			src, dst, count, EDU_DMA_TIMEOUT_S);
	}
	return ret;
}
