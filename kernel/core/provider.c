// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap provider registry.
 *
 * This file owns the registration and unregistration of providers:
 * validation, a never-reused id, the registry of live providers, the sysfs
 * group "p2pmap" under the exporter's device, its debugfs listing, and the
 * order of the teardown. The provider object's references, counters and
 * bound address spaces are object.c's. Unregister revokes the imports of
 * a provider (event.c) and its pagemaps (pagemap.c) before it tears
 * anything else down.
 *
 * Locks: p2pmap_registry_lock (a mutex: membership of the id table,
 * duplicate-device check) nests provider->lock, in the debugfs listing
 * only; register and unregister never hold the two together.
 */

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "p2pmap_internal.h"

/* What a provider sysfs attribute shows. */
enum p2pmap_attr_kind {
	P2PMAP_ATTR_AP_TOTAL,
	P2PMAP_ATTR_AP_USED,
	P2PMAP_ATTR_AP_PINNED,
	P2PMAP_ATTR_AP_FREE,
	P2PMAP_ATTR_DEVICE_TOTAL,
	P2PMAP_ATTR_MAPS,
	P2PMAP_ATTR_UNMAPS,
	P2PMAP_ATTR_P2P_PAGES,
	P2PMAP_ATTR_SYSMEM_PAGES,
	P2PMAP_ATTR_INVALIDATIONS,
	P2PMAP_ATTR_EVICTIONS,
	P2PMAP_ATTR_MIGRATED,
	P2PMAP_ATTR_FALLBACK,		/* one per reason, see @reason */
};

static const char *const p2pmap_attr_names[] = {
	[P2PMAP_ATTR_AP_TOTAL] = "aperture_total",
	[P2PMAP_ATTR_AP_USED] = "aperture_used",
	[P2PMAP_ATTR_AP_PINNED] = "aperture_pinned",
	[P2PMAP_ATTR_AP_FREE] = "aperture_free",
	[P2PMAP_ATTR_DEVICE_TOTAL] = "device_total",
	[P2PMAP_ATTR_MAPS] = "maps",
	[P2PMAP_ATTR_UNMAPS] = "unmaps",
	[P2PMAP_ATTR_P2P_PAGES] = "p2p_pages",
	[P2PMAP_ATTR_SYSMEM_PAGES] = "sysmem_pages",
	[P2PMAP_ATTR_INVALIDATIONS] = "invalidations",
	[P2PMAP_ATTR_EVICTIONS] = "evictions",
	[P2PMAP_ATTR_MIGRATED] = "migrated_pages",
};

/* fixed attributes, then fallback_<reason> for every reason but NONE */
#define P2PMAP_NR_FIXED_ATTRS	P2PMAP_ATTR_FALLBACK
#define P2PMAP_NR_ATTRS		(P2PMAP_NR_FIXED_ATTRS + P2PMAP_REASON_NR - 1)
#define P2PMAP_ATTR_NAME_LEN	32

/**
 * struct p2pmap_prov_attr - one sysfs file of one provider
 * @dattr: the device attribute (dynamically allocated, so lockdep-keyed
 *	with sysfs_attr_init())
 * @prov: the provider it reports on
 * @kind: enum p2pmap_attr_kind
 * @reason: for %P2PMAP_ATTR_FALLBACK, the enum p2pmap_reason counted
 * @name: the file name
 */
struct p2pmap_prov_attr {
	struct device_attribute dattr;
	struct p2pmap_provider *prov;
	enum p2pmap_attr_kind kind;
	enum p2pmap_reason reason;
	char name[P2PMAP_ATTR_NAME_LEN];
};

/**
 * struct p2pmap_provider_sysfs - a provider's sysfs group
 * @attrs: its sysfs files
 * @attr_ptrs: NULL-terminated attribute list of @group
 * @group: the "p2pmap" sysfs group under the exporter's device
 *
 * Allocated when the group is created and freed when it is removed (at
 * unregister, after which no show() runs), so that the provider object
 * itself is freed by its last reference without this file.
 */
struct p2pmap_provider_sysfs {
	struct p2pmap_prov_attr attrs[P2PMAP_NR_ATTRS];
	struct attribute *attr_ptrs[P2PMAP_NR_ATTRS + 1];
	struct attribute_group group;
};

/* Live providers by id; ids are allocated cyclically, so never reused. */
static DEFINE_XARRAY_ALLOC1(p2pmap_providers);
static u32 p2pmap_next_id;
static DEFINE_MUTEX(p2pmap_registry_lock);

/* ---- sysfs ------------------------------------------------------------- */

static ssize_t p2pmap_prov_attr_show(struct device *dev,
				     struct device_attribute *dattr, char *buf)
{
	struct p2pmap_prov_attr *a =
		container_of(dattr, struct p2pmap_prov_attr, dattr);
	struct p2pmap_provider *prov = a->prov;
	struct p2pmap_provider_stats *st = &prov->stats;
	struct p2pmap_aperture ap = { };
	u64 val;

	switch (a->kind) {
	case P2PMAP_ATTR_AP_TOTAL:
	case P2PMAP_ATTR_AP_USED:
	case P2PMAP_ATTR_AP_PINNED:
	case P2PMAP_ATTR_AP_FREE:
	case P2PMAP_ATTR_DEVICE_TOTAL:
		/* the group is removed before the exporter module is put */
		prov->desc.ops->aperture(prov, &ap);
		val = a->kind == P2PMAP_ATTR_AP_TOTAL ? ap.total :
		      a->kind == P2PMAP_ATTR_AP_USED ? ap.used :
		      a->kind == P2PMAP_ATTR_AP_PINNED ? ap.pinned :
		      a->kind == P2PMAP_ATTR_AP_FREE ? ap.free :
		      ap.device_total;
		break;
	case P2PMAP_ATTR_MAPS:
		val = atomic64_read(&st->maps);
		break;
	case P2PMAP_ATTR_UNMAPS:
		val = atomic64_read(&st->unmaps);
		break;
	case P2PMAP_ATTR_P2P_PAGES:
		val = atomic64_read(&st->p2p_pages);
		break;
	case P2PMAP_ATTR_SYSMEM_PAGES:
		val = atomic64_read(&st->sysmem_pages);
		break;
	case P2PMAP_ATTR_INVALIDATIONS:
		val = atomic64_read(&st->invalidations);
		break;
	case P2PMAP_ATTR_EVICTIONS:
		val = atomic64_read(&st->evictions);
		break;
	case P2PMAP_ATTR_MIGRATED:
		val = atomic64_read(&st->migrated_pages);
		break;
	case P2PMAP_ATTR_FALLBACK:
		val = atomic64_read(&st->fallback_pages[a->reason]);
		break;
	default:
		return -EINVAL;
	}
	return sysfs_emit(buf, "%llu\n", val);
}

static void p2pmap_prov_attr_init(struct p2pmap_provider *prov,
				  struct p2pmap_provider_sysfs *obj,
				  unsigned int i, enum p2pmap_attr_kind kind,
				  enum p2pmap_reason reason)
{
	struct p2pmap_prov_attr *a = &obj->attrs[i];

	a->prov = prov;
	a->kind = kind;
	a->reason = reason;
	if (kind == P2PMAP_ATTR_FALLBACK)
		snprintf(a->name, sizeof(a->name), "fallback_%s",
			 p2pmap_reason_name(reason));
	else
		strscpy(a->name, p2pmap_attr_names[kind], sizeof(a->name));
	sysfs_attr_init(&a->dattr.attr);
	a->dattr.attr.name = a->name;
	a->dattr.attr.mode = 0444;
	a->dattr.show = p2pmap_prov_attr_show;
	obj->attr_ptrs[i] = &a->dattr.attr;
}

static int p2pmap_provider_sysfs_add(struct p2pmap_provider *prov)
{
	struct p2pmap_provider_sysfs *obj;
	unsigned int i = 0;
	int kind, reason, ret;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	for (kind = 0; kind < P2PMAP_NR_FIXED_ATTRS; kind++)
		p2pmap_prov_attr_init(prov, obj, i++, kind, P2PMAP_REASON_NONE);
	for (reason = P2PMAP_REASON_NONE + 1; reason < P2PMAP_REASON_NR; reason++)
		p2pmap_prov_attr_init(prov, obj, i++, P2PMAP_ATTR_FALLBACK, reason);
	obj->attr_ptrs[i] = NULL;
	obj->group.name = "p2pmap";
	obj->group.attrs = obj->attr_ptrs;

	ret = sysfs_create_group(&prov->desc.dev->kobj, &obj->group);
	if (ret)
		kfree(obj);
	else
		prov->sysfs = obj;
	return ret;
}

/* Remove the group; sysfs waits for every show() in progress. */
static void p2pmap_provider_sysfs_remove(struct p2pmap_provider *prov)
{
	if (!prov->sysfs)
		return;
	sysfs_remove_group(&prov->desc.dev->kobj, &prov->sysfs->group);
	kfree(prov->sysfs);
	prov->sysfs = NULL;
}

/* ---- registration ------------------------------------------------------ */

static bool p2pmap_desc_valid(const struct p2pmap_provider_desc *desc)
{
	const char *why = NULL;

	if (!desc)
		why = "NULL descriptor";
	else if (!desc->name || !*desc->name)
		why = "no name";
	else if (!desc->dev)
		why = "no device";
	else if (!desc->owner)
		why = "no owner module";
	else if (!desc->ops)
		why = "no ops";
	else if (!desc->ops->p2p_map || !desc->ops->p2p_unmap ||
		 !desc->ops->aperture)
		why = "ops->p2p_map, ->p2p_unmap and ->aperture are required";
	else if (desc->pdev && (desc->bar < 0 || desc->bar >= PCI_STD_NUM_BARS))
		why = "BAR index out of range";
	else if (desc->pdev &&
		 (!(pci_resource_flags(desc->pdev, desc->bar) & IORESOURCE_MEM) ||
		  !pci_resource_len(desc->pdev, desc->bar)))
		why = "the BAR is not a memory BAR";

	if (why)
		pr_warn_ratelimited("provider %s: register refused: %s\n",
				    desc && desc->name ? desc->name : "(null)",
				    why);
	return !why;
}

/* A live provider on @dev already owns the "p2pmap" group there. */
static bool p2pmap_dev_has_provider(struct device *dev)
{
	struct p2pmap_provider *prov;
	unsigned long id;

	lockdep_assert_held(&p2pmap_registry_lock);

	xa_for_each(&p2pmap_providers, id, prov)
		if (prov->desc.dev == dev)
			return true;
	return false;
}

/*
 * The PCI core's provider of the BAR (6.19, %P2PMAP_P2PDMA_PROVIDER): range
 * dma-bufs of this memory are then mapped with dma_buf_phys_vec_to_sgt(),
 * on the PCI core's own route (dmabuf.c). pcim_p2pdma_init() is devres
 * on the PCI function, so the function must be bound to a driver: the
 * exporter registering here from its probe, whose remove() unregisters,
 * and so revokes every import and waits for every pinned one, before the
 * devres goes. That is the contract pcim_p2pdma_provider() states. Not
 * getting one is not an error: p2pmap then maps the ranges itself, and
 * the kernel log says why. Return: 0 or -ENOMEM.
 */
static int p2pmap_provider_p2pdma_init(struct p2pmap_provider *prov)
{
#if P2PMAP_P2PDMA_PROVIDER
	struct pci_dev *pdev = prov->desc.pdev;
	const char *why;
	int ret;

	if (!pdev)
		return 0;
	if (!pdev->dev.driver) {
		why = "the function has no driver";
		ret = -ENODEV;
	} else {
		why = "pcim_p2pdma_init";
		ret = pcim_p2pdma_init(pdev);
		if (ret == -ENOMEM)
			return ret;
	}
	if (!ret) {
		prov->p2pdma = pcim_p2pdma_provider(pdev, prov->desc.bar);
		why = "not a memory BAR";
	}
	if (!prov->p2pdma)
		dev_notice(prov->desc.dev,
			   "p2pmap: provider %s: no PCI P2PDMA provider for %s BAR %d (%s, %d): p2pmap maps its dma-bufs itself\n",
			   prov->desc.name, pci_name(pdev), prov->desc.bar,
			   why, ret);
#endif
	return 0;
}

/**
 * p2pmap_provider_register() - register an exporter's device memory
 * @desc: what the exporter is: name, device, optional PCI function and BAR
 *	for the route check, owner module and ops. Copied; @desc->name is
 *	duplicated, the rest must stay valid until unregister.
 *
 * Creates the provider with one reference (the exporter's, dropped by
 * p2pmap_provider_unregister()) and publishes the sysfs group "p2pmap" under @desc->dev (see
 * Documentation/ABI/testing/sysfs-p2pmap) and a debugfs entry. A device
 * has at most one provider. Provider ids are allocated cyclically from a
 * 32-bit space and so are not reused while any attachment could still
 * hold a verdict cached under an old one.
 *
 * Context: process context; takes and releases p2pmap's registry lock.
 * Return: the provider, or ERR_PTR(-EINVAL) for an invalid @desc (the
 * reason is logged, ratelimited), ERR_PTR(-EBUSY) if @desc->dev already has a provider,
 * ERR_PTR(-ENOMEM), or another errno from sysfs.
 */
struct p2pmap_provider *p2pmap_provider_register(const struct p2pmap_provider_desc *desc)
{
	struct p2pmap_provider *prov;
	const char *name;
	int ret;

	if (!p2pmap_desc_valid(desc))
		return ERR_PTR(-EINVAL);

	/*
	 * No reference is taken on @desc->owner: the exporter unregisters
	 * from its remove() or module exit, unregister revokes synchronously
	 * and the core never calls the ops afterwards, so holding the module
	 * would only make rmmod impossible while the device is bound.
	 */
	ret = -ENOMEM;
	prov = kzalloc(sizeof(*prov), GFP_KERNEL);
	if (!prov)
		return ERR_PTR(ret);
	name = kstrdup(desc->name, GFP_KERNEL);
	if (!name)
		goto err_free;

	kref_init(&prov->kref);
	prov->desc = *desc;
	prov->desc.name = name;
	mutex_init(&prov->lock);
	INIT_LIST_HEAD(&prov->mappings);
	INIT_LIST_HEAD(&prov->imports);
	INIT_LIST_HEAD(&prov->resolvers);
	prov->itree = RB_ROOT_CACHED;
	spin_lock_init(&prov->itree_lock);
	init_waitqueue_head(&prov->revoke_wq);
	get_device(prov->desc.dev);
	pci_dev_get(prov->desc.pdev);
	ret = p2pmap_provider_p2pdma_init(prov);
	if (ret)
		goto err_put;

	mutex_lock(&p2pmap_registry_lock);
	if (p2pmap_dev_has_provider(desc->dev)) {
		mutex_unlock(&p2pmap_registry_lock);
		dev_warn_ratelimited(desc->dev,
				     "p2pmap: provider %s: register refused: the device already has a provider\n",
				     desc->name);
		ret = -EBUSY;
		goto err_put;
	}
	/* Not visible to lookups (debugfs) until fully set up: store NULL. */
	ret = xa_alloc_cyclic(&p2pmap_providers, &prov->id, NULL,
			      xa_limit_32b, &p2pmap_next_id, GFP_KERNEL);
	if (ret < 0) {
		mutex_unlock(&p2pmap_registry_lock);
		goto err_put;
	}

	ret = p2pmap_provider_sysfs_add(prov);
	if (ret) {
		xa_erase(&p2pmap_providers, prov->id);
		mutex_unlock(&p2pmap_registry_lock);
		dev_warn(desc->dev, "p2pmap: provider %s: sysfs group: %d\n",
			 desc->name, ret);
		goto err_put;
	}
	xa_store(&p2pmap_providers, prov->id, prov, GFP_KERNEL);
	mutex_unlock(&p2pmap_registry_lock);

	dev_info(desc->dev, "p2pmap: provider %u (%s) registered by %s%s\n",
		 prov->id, prov->desc.name, module_name(desc->owner),
		 prov->desc.pdev ? "" : " without a peer-visible BAR");
	return prov;

err_put:
	pci_dev_put(prov->desc.pdev);
	put_device(prov->desc.dev);
	mutex_destroy(&prov->lock);
	kfree(name);
err_free:
	kfree(prov);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_register);

/**
 * p2pmap_provider_unregister() - revoke and remove a provider
 * @prov: the provider, as returned by p2pmap_provider_register()
 *
 * Marks @prov dead (new resolves fail with -ENODEV), revokes every import
 * of it (invalidation with %P2PMAP_EV_UNBIND, then waiting until each has
 * dropped its extents), removes it from the registry (and so from debugfs)
 * and its sysfs group, unbinds every address space still bound, and drops
 * the exporter's reference.
 * When it returns no importer accesses the exporter's memory any more and
 * the ops are never called again, so the exporter may free its memory.
 * Other references may still keep the (inert) provider object alive for a
 * while.
 *
 * Context: process context, may sleep for as long as the importers take
 * to stop; no p2pmap lock may be held.
 */
void p2pmap_provider_unregister(struct p2pmap_provider *prov)
{
	if (WARN_ON(IS_ERR_OR_NULL(prov)))
		return;

	mutex_lock(&prov->lock);
	if (WARN(prov->dead, "p2pmap: provider %s unregistered twice\n",
		 prov->desc.name)) {
		mutex_unlock(&prov->lock);
		return;
	}
	prov->dead = true;
	mutex_unlock(&prov->lock);

	p2pmap_provider_revoke_imports(prov);
	p2pmap_provider_drop_pagemaps(prov);

	mutex_lock(&p2pmap_registry_lock);
	xa_erase(&p2pmap_providers, prov->id);
	p2pmap_provider_sysfs_remove(prov);
	mutex_unlock(&p2pmap_registry_lock);

	p2pmap_provider_unbind_all(prov);

	dev_info(prov->desc.dev, "p2pmap: provider %u (%s) unregistered\n",
		 prov->id, prov->desc.name);
	p2pmap_provider_put(prov);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_unregister);

/**
 * p2pmap_providers_show() - the debugfs "providers" file
 * @m: seq_file to print to
 *
 * One line per registered provider: id, name, device, whether unregister
 * has started, number of bound address spaces. A provider in the registry
 * is alive: unregister removes it under the registry lock before it drops
 * the exporter's reference.
 *
 * Context: process context; takes the registry lock, then each
 * provider->lock.
 */
void p2pmap_providers_show(struct seq_file *m)
{
	struct p2pmap_provider *prov;
	struct list_head *pos;
	unsigned int nmap;
	unsigned long id;
	bool dead;

	seq_puts(m, "# id\tname\tdevice\tdead\tmappings\n");
	mutex_lock(&p2pmap_registry_lock);
	xa_for_each(&p2pmap_providers, id, prov) {
		nmap = 0;
		mutex_lock(&prov->lock);
		dead = prov->dead;
		list_for_each(pos, &prov->mappings)
			nmap++;
		mutex_unlock(&prov->lock);
		seq_printf(m, "%u\t%s\t%s\t%d\t%u\n", prov->id, prov->desc.name,
			   dev_name(prov->desc.dev), dead, nmap);
	}
	mutex_unlock(&p2pmap_registry_lock);
}

/**
 * p2pmap_provider_init() - set up the provider registry at module load
 *
 * Return: 0.
 */
int p2pmap_provider_init(void)
{
	BUILD_BUG_ON(ARRAY_SIZE(p2pmap_attr_names) != P2PMAP_NR_FIXED_ATTRS);
	return 0;
}

/**
 * p2pmap_provider_exit() - check the registry is empty at module unload
 *
 * Every exporter module holds a reference on p2pmap.ko through the symbols
 * it uses, so nothing can be registered here; warn if something is.
 */
void p2pmap_provider_exit(void)
{
	WARN(!xa_empty(&p2pmap_providers),
	     "p2pmap: providers still registered at unload\n");
	p2pmap_object_exit();
	xa_destroy(&p2pmap_providers);
}
