// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap debugfs: /sys/kernel/debug/p2pmap/.
 *
 * This file owns the debugfs tree: "providers" lists every registered
 * provider (id, name, device, whether unregister has started, number of
 * bound address spaces), and each provider gets a directory
 * providers.d/<id> for per-provider files. Live imports are listed by
 * import.c in an "imports" file next to "providers". Nothing here is ABI;
 * the tree is absent when debugfs is.
 *
 * Providers are tracked here in their own table, filled and emptied by
 * p2pmap_debugfs_add_provider()/p2pmap_debugfs_remove_provider(), which
 * provider.c calls while it holds the exporter's reference, so a provider
 * in the table is always alive. Lock order: p2pmap_debugfs_lock, then
 * provider->lock.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/xarray.h>

#include "p2pmap_internal.h"

static struct dentry *p2pmap_debugfs_root;
static struct dentry *p2pmap_debugfs_provdir;
static DEFINE_XARRAY(p2pmap_debugfs_providers);
static DEFINE_MUTEX(p2pmap_debugfs_lock);

static unsigned int p2pmap_debugfs_nr_mappings(struct p2pmap_provider *prov)
{
	struct list_head *pos;
	unsigned int n = 0;

	lockdep_assert_held(&prov->lock);

	list_for_each(pos, &prov->mappings)
		n++;
	return n;
}

static void p2pmap_debugfs_show_one(struct seq_file *m,
				    struct p2pmap_provider *prov)
{
	unsigned int nmap;
	bool dead;

	mutex_lock(&prov->lock);
	dead = prov->dead;
	nmap = p2pmap_debugfs_nr_mappings(prov);
	mutex_unlock(&prov->lock);

	seq_printf(m, "%u\t%s\t%s\t%d\t%u\n", prov->id, prov->desc.name,
		   dev_name(prov->desc.dev), dead, nmap);
}

static int p2pmap_providers_show(struct seq_file *m, void *unused)
{
	struct p2pmap_provider *prov;
	unsigned long id;

	seq_puts(m, "# id\tname\tdevice\tdead\tmappings\n");
	mutex_lock(&p2pmap_debugfs_lock);
	xa_for_each(&p2pmap_debugfs_providers, id, prov)
		p2pmap_debugfs_show_one(m, prov);
	mutex_unlock(&p2pmap_debugfs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_providers);

static int p2pmap_imports_file_show(struct seq_file *m, void *unused)
{
	p2pmap_imports_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_imports_file);

static int p2pmap_provider_info_show(struct seq_file *m, void *unused)
{
	struct p2pmap_provider *prov = m->private;
	struct p2pmap_aperture ap = { };
	int reason;

	/* debugfs_remove() waits for us: @prov and its ops are still valid */
	mutex_lock(&prov->lock);
	seq_printf(m, "id: %u\nname: %s\ndevice: %s\npci: %s\nbar: %d\ndead: %d\nmappings: %u\n",
		   prov->id, prov->desc.name, dev_name(prov->desc.dev),
		   prov->desc.pdev ? pci_name(prov->desc.pdev) : "none",
		   prov->desc.bar, prov->dead,
		   p2pmap_debugfs_nr_mappings(prov));
	mutex_unlock(&prov->lock);

	prov->desc.ops->aperture(prov, &ap);
	seq_printf(m, "aperture: total %llu used %llu pinned %llu free %llu device_total %llu\n",
		   ap.total, ap.used, ap.pinned, ap.free, ap.device_total);
	for (reason = P2PMAP_REASON_NONE + 1; reason < P2PMAP_REASON_NR; reason++)
		seq_printf(m, "fallback_%s: %lld\n", p2pmap_reason_name(reason),
			   (long long)atomic64_read(&prov->stats.fallback_pages[reason]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_provider_info);

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
			    &p2pmap_providers_fops);
	debugfs_create_file("imports", 0444, p2pmap_debugfs_root, NULL,
			    &p2pmap_imports_file_fops);
	p2pmap_debugfs_provdir = debugfs_create_dir("providers.d",
						    p2pmap_debugfs_root);
}

/**
 * p2pmap_debugfs_exit() - remove /sys/kernel/debug/p2pmap at module unload
 */
void p2pmap_debugfs_exit(void)
{
	debugfs_remove(p2pmap_debugfs_root);
	p2pmap_debugfs_root = NULL;
	p2pmap_debugfs_provdir = NULL;
	WARN_ON(!xa_empty(&p2pmap_debugfs_providers));
	xa_destroy(&p2pmap_debugfs_providers);
}

/**
 * p2pmap_debugfs_add_provider() - list a newly registered provider
 * @prov: the provider, fully set up
 *
 * Context: process context; takes the debugfs table lock.
 */
void p2pmap_debugfs_add_provider(struct p2pmap_provider *prov)
{
	char name[16];
	int ret;

	mutex_lock(&p2pmap_debugfs_lock);
	ret = xa_insert(&p2pmap_debugfs_providers, prov->id, prov, GFP_KERNEL);
	mutex_unlock(&p2pmap_debugfs_lock);
	if (ret)
		pr_warn("provider %s: not listed in debugfs: %d\n",
			prov->desc.name, ret);

	snprintf(name, sizeof(name), "%u", prov->id);
	prov->debugfs = debugfs_create_dir(name, p2pmap_debugfs_provdir);
	debugfs_create_file("info", 0444, prov->debugfs, prov,
			    &p2pmap_provider_info_fops);
}

/**
 * p2pmap_debugfs_remove_provider() - stop listing a provider
 * @prov: the provider; called during unregister, before the exporter's
 *	reference is dropped and before its module is released
 *
 * Waits for readers of the provider's files to finish.
 *
 * Context: process context; takes the debugfs table lock.
 */
void p2pmap_debugfs_remove_provider(struct p2pmap_provider *prov)
{
	debugfs_remove(prov->debugfs);
	prov->debugfs = NULL;
	mutex_lock(&p2pmap_debugfs_lock);
	xa_erase(&p2pmap_debugfs_providers, prov->id);
	mutex_unlock(&p2pmap_debugfs_lock);
}
