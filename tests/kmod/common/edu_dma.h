/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu_dma: the QEMU "edu" PCI device's DMA engine, shared by the p2pmap test
 * modules (tests/kmod/p2pdma_edu, tests/kmod/p2pmap_edu_importer). It holds
 * the register layout, the probe-time setup (BAR0, identity check, 64-bit DMA
 * mask, a coherent bounce buffer, bus mastering) and one DMA command with a
 * bounded poll. The edu moves data between a PCI address and its internal
 * 4 KiB buffer (EDU_DMA_BUF_ADDR on the device side), one command at a time.
 * QEMU 7.2's edu aborts the guest on a transfer that ends exactly at the end
 * of that buffer, so no command moves more than EDU_DMA_MAX_LEN bytes and no
 * command reaches past EDU_DMA_BUF_ADDR + EDU_DMA_MAX_LEN.
 */
#ifndef _P2PMAP_TEST_EDU_DMA_H
#define _P2PMAP_TEST_EDU_DMA_H

#include <linux/bits.h>
#include <linux/types.h>

struct pci_dev;

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_CMD_START	BIT(0)
#define EDU_DMA_CMD_TO_PCI	BIT(1)	/* clear: PCI -> edu buffer */

#define EDU_DMA_BUF_ADDR	0x40000	/* edu internal buffer, device side */
#define EDU_DMA_BUF_SIZE	4096
#define EDU_DMA_MAX_LEN		(EDU_DMA_BUF_SIZE - 1)
#define EDU_DMA_POLL_US		5000
#define EDU_DMA_TIMEOUT_S	5

/**
 * struct edu_dma - one bound edu device
 * @pdev: the edu PCI function, or NULL when none is bound
 * @regs: its BAR0
 * @coh: EDU_DMA_BUF_SIZE bytes of coherent RAM, mapped for @pdev
 * @coh_dma: DMA address of @coh
 * @wedged: a command did not complete in time; edu_dma_cmd() refuses from
 *	then on, until the device is probed again
 * @dma_count: commands issued since probe
 *
 * The caller serialises every use (edu_dma_probe(), edu_dma_remove(),
 * edu_dma_cmd() and the fields) with a lock of its own; the edu runs one
 * command at a time.
 */
struct edu_dma {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *coh;
	dma_addr_t coh_dma;
	bool wedged;
	u64 dma_count;
};

int edu_dma_probe(struct edu_dma *edu, struct pci_dev *pdev, const char *name);
void edu_dma_remove(struct edu_dma *edu);
int edu_dma_cmd(struct edu_dma *edu, u64 src, u64 dst, u32 count, u32 cmd);

#endif /* _P2PMAP_TEST_EDU_DMA_H */
