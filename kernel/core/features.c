// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap kernel-feature probe.
 *
 * This file owns the answer to "what can p2pmap do on this kernel?". The
 * same module source builds against the p2pmap test kernel and against
 * distribution headers where CONFIG_DEVICE_PRIVATE, CONFIG_PCI_P2PDMA or
 * CONFIG_DMABUF_MOVE_NOTIFY are off. Code that needs those options is
 * compiled out; this file records which options were present at build time,
 * logs the missing ones once at load with the reason, and serves the table
 * read-only through /sys/module/p2pmap/features so tools and tests never
 * have to guess.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "p2pmap_internal.h"

struct p2pmap_feature {
	const char *name;
	const char *kconfig;
	const char *why;	/* when absent for a reason other than @kconfig=n */
	bool present;
	const char *effect;
};

static const struct p2pmap_feature p2pmap_features[] = {
	{
		.name = "pci_p2pdma",
		.kconfig = "CONFIG_PCI_P2PDMA",
		.present = IS_ENABLED(CONFIG_PCI_P2PDMA),
		.effect = "peer BAR placement unavailable; imports fall back to system memory",
	},
	{
		.name = "device_private",
		.kconfig = "CONFIG_DEVICE_PRIVATE",
		.present = IS_ENABLED(CONFIG_DEVICE_PRIVATE),
		.effect = "migration of process memory to device memory unavailable",
	},
	{
		/*
		 * Probed: the option was removed in 7.1, where dynamic
		 * importers are always on (p2pmap_compat.h).
		 */
		.name = "dmabuf_move_notify",
		.kconfig = P2PMAP_DMABUF_DYNAMIC_KCONFIG,
		.present = P2PMAP_DMABUF_DYNAMIC_IMPORTERS,
		.effect = "dma-buf importers are pinned instead of revalidated",
	},
	{
		/*
		 * Probed: dma_buf_attach_revocable() (7.1). Pinned importers
		 * of an exported range are told on the provider's reset or
		 * unbind only where the kernel defines revocable importers.
		 */
		.name = "dmabuf_revoke",
		.kconfig = "",
		.why = "the kernel has no dma_buf_attach_revocable() (7.1)",
		.present = P2PMAP_DMABUF_REVOKE,
		.effect = "pinned dma-buf importers are not told of a provider's reset or unbind",
	},
	{
		/*
		 * Probed: struct p2pdma_provider and
		 * dma_buf_phys_vec_to_sgt() (6.19), with PCI_P2PDMA.
		 */
		.name = "p2pdma_provider",
		.kconfig = "",
		.why = "no PCI P2PDMA providers, dma_buf_phys_vec_to_sgt() (6.19)",
		.present = P2PMAP_P2PDMA_PROVIDER,
		.effect = "range dma-bufs of BAR memory are mapped on p2pmap's own route walk",
	},
	{
		/* Needs nothing optional: always present in this build. */
		.name = "pinned_imports",
		.kconfig = "",
		.present = true,
		.effect = "",
	},
	{
		/* Probed: FOLL_PCI_P2PDMA (6.2) gates GUP of P2PDMA pages. */
		.name = "gup_p2pdma_pin",
		.kconfig = "",
		.why = "GUP pins no P2PDMA page long-term since 6.2 (FOLL_PCI_P2PDMA)",
		.present = P2PMAP_GUP_PINS_P2PDMA,
		.effect = "pinned imports and RDMA MRs of P2PDMA mappings get EREMOTEIO",
	},
	{
		/* Probed: HMM's DMA helpers map P2PDMA pages (6.16). */
		.name = "odp_p2pdma",
		.kconfig = "",
		.why = "ODP maps no P2PDMA pages (needs HMM_PFN_P2PDMA, 6.16, and PCI_P2PDMA)",
		.present = P2PMAP_ODP_MAPS_P2PDMA,
		.effect = "RDMA ODP MRs cannot cover P2PDMA device memory",
	},
	{
		.name = "mmu_notifier",
		.kconfig = "CONFIG_MMU_NOTIFIER",
		.present = IS_ENABLED(CONFIG_MMU_NOTIFIER),
		.effect = "user VA imports cannot be revalidated",
	},
};

/**
 * p2pmap_features_missing() - count kernel features p2pmap cannot use
 *
 * Return: the number of optional kernel features compiled out of this build.
 */
unsigned int p2pmap_features_missing(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(p2pmap_features); i++)
		n += !p2pmap_features[i].present;
	return n;
}

/**
 * p2pmap_features_report() - log the feature table once at module load
 *
 * Present features are logged at info level; each missing one is logged
 * at notice level with the Kconfig option and what degrades without it.
 */
void p2pmap_features_report(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p2pmap_features); i++) {
		const struct p2pmap_feature *f = &p2pmap_features[i];

		if (f->present)
			pr_info("feature %s: available\n", f->name);
		else if (f->why)
			pr_notice("feature %s: unavailable (%s): %s\n",
				  f->name, f->why, f->effect);
		else
			pr_notice("feature %s: unavailable (%s is not set): %s\n",
				  f->name, f->kconfig, f->effect);
	}
}

static ssize_t features_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < ARRAY_SIZE(p2pmap_features); i++) {
		const struct p2pmap_feature *f = &p2pmap_features[i];

		if (f->present)
			len += sysfs_emit_at(buf, len, "%s yes\n", f->name);
		else if (f->why)
			len += sysfs_emit_at(buf, len, "%s no %s: %s\n",
					     f->name, f->why, f->effect);
		else
			len += sysfs_emit_at(buf, len, "%s no %s=n: %s\n",
					     f->name, f->kconfig, f->effect);
	}
	return len;
}

static struct kobj_attribute features_attr = __ATTR_RO(features);

/**
 * p2pmap_features_sysfs_add() - publish /sys/module/p2pmap/features
 *
 * Return: 0 on success or a negative errno from sysfs.
 */
int p2pmap_features_sysfs_add(void)
{
	return sysfs_create_file(&THIS_MODULE->mkobj.kobj, &features_attr.attr);
}

/**
 * p2pmap_features_sysfs_remove() - remove /sys/module/p2pmap/features
 */
void p2pmap_features_sysfs_remove(void)
{
	sysfs_remove_file(&THIS_MODULE->mkobj.kobj, &features_attr.attr);
}
