// SPDX-License-Identifier: GPL-2.0
/*
 * An exporter built outside the p2pmap tree, the way docs/exporter-guide.md
 * says: against the installed header (/usr/src/p2pmap-<version>/kernel/
 * include) and Module.symvers (KBUILD_EXTRA_SYMBOLS). scripts/dkms-check.sh
 * builds it after `dkms build`; modpost fails on an unresolved p2pmap
 * symbol. Compile and link test only: it is never loaded.
 */
#include <linux/module.h>
#include <linux/p2pmap.h>

#if !defined(P2PMAP_API_VERSION) || P2PMAP_API_VERSION < 1
#error "linux/p2pmap.h without P2PMAP_API_VERSION"
#endif

static int __init p2pmap_extmod_init(void)
{
	struct p2pmap_provider_desc desc = { };
	struct p2pmap_provider *prov;

	/* links against two exports; registration fails without a device */
	prov = p2pmap_provider_register(&desc);
	if (!IS_ERR_OR_NULL(prov))
		p2pmap_provider_unregister(prov);
	return -ENODEV;
}
module_init(p2pmap_extmod_init);

MODULE_DESCRIPTION("p2pmap out-of-tree build test");
MODULE_LICENSE("GPL");
