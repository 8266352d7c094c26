// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap debugfs: /sys/kernel/debug/p2pmap/.
 *
 * This file owns the debugfs tree: "providers" lists every registered
 * provider (id, name, device, whether unregister has started, number of
 * bound address spaces) from the provider registry (provider.c), and
 * "imports" every live import (import.c). A provider's counters and peer
 * window are in its sysfs group. Nothing here is ABI; the tree is absent
 * when debugfs is. Only main.c calls into this file, so it keeps no table
 * of its own: the files ask the registry and the import list when read.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "p2pmap_internal.h"

static struct dentry *p2pmap_debugfs_root;

static int p2pmap_providers_file_show(struct seq_file *m, void *unused)
{
	p2pmap_providers_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_providers_file);

static int p2pmap_imports_file_show(struct seq_file *m, void *unused)
{
	p2pmap_imports_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_imports_file);

/**
 * p2pmap_debugfs_init() - create /sys/kernel/debug/p2pmap at module load
 *
 * Failures are not fatal (debugfs may be absent or disabled); the files
 * are simply missing.
 */
void p2pmap_debugfs_init(void)
{
	p2pmap_debugfs_root = debugfs_create_dir("p2pmap", NULL);
	debugfs_create_file("providers", 0444, p2pmap_debugfs_root, NULL,
			    &p2pmap_providers_file_fops);
	debugfs_create_file("imports", 0444, p2pmap_debugfs_root, NULL,
			    &p2pmap_imports_file_fops);
}

/**
 * p2pmap_debugfs_exit() - remove /sys/kernel/debug/p2pmap at module unload
 */
void p2pmap_debugfs_exit(void)
{
	debugfs_remove(p2pmap_debugfs_root);
	p2pmap_debugfs_root = NULL;
}
