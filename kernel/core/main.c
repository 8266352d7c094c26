// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap module entry and exit.
 *
 * This file owns the life cycle of p2pmap.ko: it brings up the pieces of the
 * core in order at load and tears them down in reverse at unload: the
 * kernel-feature probe, the provider registry, debugfs and the userspace
 * device /dev/p2pmap.
 */

#include <linux/module.h>

#include "p2pmap_internal.h"

static int __init p2pmap_init(void)
{
	int ret;

	p2pmap_features_report();
	ret = p2pmap_features_sysfs_add();
	if (ret) {
		pr_err("cannot create /sys/module/p2pmap/features: %d\n", ret);
		return ret;
	}
	ret = p2pmap_provider_init();
	if (ret) {
		pr_err("cannot set up the provider registry: %d\n", ret);
		goto err_features;
	}
	p2pmap_debugfs_init();
	ret = p2pmap_uapi_init();
	if (ret) {
		pr_err("cannot register /dev/p2pmap: %d\n", ret);
		goto err_provider;
	}
	pr_info("loaded; %u optional kernel feature(s) unavailable\n",
		p2pmap_features_missing());
	return 0;

err_provider:
	p2pmap_debugfs_exit();
	p2pmap_provider_exit();
err_features:
	p2pmap_features_sysfs_remove();
	return ret;
}

static void __exit p2pmap_exit(void)
{
	p2pmap_uapi_exit();
	p2pmap_debugfs_exit();
	p2pmap_provider_exit();
	p2pmap_features_sysfs_remove();
	pr_info("unloaded\n");
}

module_init(p2pmap_init);
module_exit(p2pmap_exit);

MODULE_DESCRIPTION("p2pmap: vendor-neutral peer-to-peer device memory mapping");
MODULE_AUTHOR("The p2pmap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION);
