// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap provider registry.
 *
 * This file owns the life cycle of &struct p2pmap_provider: registration
 * (validation, a never-reused id, the exporter-module reference, the sysfs
 * group "p2pmap" under the exporter's device and the debugfs entry),
 * references, the global table of bound address spaces that imports use
 * to find the provider of a VMA, the per-provider counters, and
 * unregistration. Revoking the imports of a provider is import.c's
 * (p2pmap_provider_revoke_imports()); unregister calls it before it tears
 * anything else down.
 *
 * Locks, outermost first: p2pmap_registry_lock (a mutex: membership of
 * the id table, duplicate-device check) is never held together with
 * provider->lock; provider->lock (a mutex) nests p2pmap_bind_lock (a
 * spinlock protecting the mapping hash table, so lookups from the import
 * path are short and never sleep).
 */

#include <linux/device.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "p2pmap_internal.h"

/**
 * struct p2pmap_mapping_bind - one bound address space
 * @hnode: entry in p2pmap_bind_table, keyed by @mapping
 * @node: entry in &struct p2pmap_provider.mappings
 * @mapping: the exporter's address space
 * @prov: its provider (a reference is held for the binding's lifetime)
 */
struct p2pmap_mapping_bind {
	struct hlist_node hnode;
	struct list_head node;
	struct address_space *mapping;
	struct p2pmap_provider *prov;
};

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
 * struct p2pmap_provider_obj - a provider and what only this file uses
 * @prov: the provider (the layout every file shares)
 * @attrs: its sysfs files
 * @attr_ptrs: NULL-terminated attribute list of @group
 * @group: the "p2pmap" sysfs group under the exporter's device
 */
struct p2pmap_provider_obj {
	struct p2pmap_provider prov;
	struct p2pmap_prov_attr attrs[P2PMAP_NR_ATTRS];
	struct attribute *attr_ptrs[P2PMAP_NR_ATTRS + 1];
	struct attribute_group group;
};

static inline struct p2pmap_provider_obj *to_obj(struct p2pmap_provider *prov)
{
	return container_of(prov, struct p2pmap_provider_obj, prov);
}

/* Live providers by id; ids are allocated cyclically, so never reused. */
static DEFINE_XARRAY_ALLOC1(p2pmap_providers);
static u32 p2pmap_next_id;
static DEFINE_MUTEX(p2pmap_registry_lock);

/* Bound address spaces: struct p2pmap_mapping_bind.hnode. */
#define P2PMAP_BIND_HASH_BITS	8
static DEFINE_HASHTABLE(p2pmap_bind_table, P2PMAP_BIND_HASH_BITS);
static DEFINE_SPINLOCK(p2pmap_bind_lock);

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

static void p2pmap_prov_attr_init(struct p2pmap_provider_obj *obj,
				  unsigned int i, enum p2pmap_attr_kind kind,
				  enum p2pmap_reason reason)
{
	struct p2pmap_prov_attr *a = &obj->attrs[i];

	a->prov = &obj->prov;
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

static int p2pmap_provider_sysfs_add(struct p2pmap_provider_obj *obj)
{
	unsigned int i = 0;
	int kind, reason, ret;

	for (kind = 0; kind < P2PMAP_NR_FIXED_ATTRS; kind++)
		p2pmap_prov_attr_init(obj, i++, kind, P2PMAP_REASON_NONE);
	for (reason = P2PMAP_REASON_NONE + 1; reason < P2PMAP_REASON_NR; reason++)
		p2pmap_prov_attr_init(obj, i++, P2PMAP_ATTR_FALLBACK, reason);
	obj->attr_ptrs[i] = NULL;
	obj->group.name = "p2pmap";
	obj->group.attrs = obj->attr_ptrs;

	ret = sysfs_create_group(&obj->prov.desc.dev->kobj, &obj->group);
	if (!ret)
		obj->prov.sysfs_added = true;
	return ret;
}

static void p2pmap_provider_sysfs_remove(struct p2pmap_provider_obj *obj)
{
	if (!obj->prov.sysfs_added)
		return;
	sysfs_remove_group(&obj->prov.desc.dev->kobj, &obj->group);
	obj->prov.sysfs_added = false;
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
	struct p2pmap_provider_obj *obj;
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
	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return ERR_PTR(ret);
	name = kstrdup(desc->name, GFP_KERNEL);
	if (!name)
		goto err_free;

	prov = &obj->prov;
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

	ret = p2pmap_provider_sysfs_add(obj);
	if (ret) {
		xa_erase(&p2pmap_providers, prov->id);
		mutex_unlock(&p2pmap_registry_lock);
		dev_warn(desc->dev, "p2pmap: provider %s: sysfs group: %d\n",
			 desc->name, ret);
		goto err_put;
	}
	xa_store(&p2pmap_providers, prov->id, prov, GFP_KERNEL);
	mutex_unlock(&p2pmap_registry_lock);

	p2pmap_debugfs_add_provider(prov);
	dev_info(desc->dev, "p2pmap: provider %u (%s) registered%s\n",
		 prov->id, prov->desc.name,
		 prov->desc.pdev ? "" : " without a peer-visible BAR");
	return prov;

err_put:
	pci_dev_put(prov->desc.pdev);
	put_device(prov->desc.dev);
	mutex_destroy(&prov->lock);
	kfree(name);
err_free:
	kfree(obj);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_register);

/* Unlink every binding of @prov; return them on @out, references held. */
static void p2pmap_provider_take_mappings(struct p2pmap_provider *prov,
					  struct list_head *out)
{
	struct p2pmap_mapping_bind *b;

	mutex_lock(&prov->lock);
	spin_lock(&p2pmap_bind_lock);
	list_for_each_entry(b, &prov->mappings, node)
		hash_del(&b->hnode);
	spin_unlock(&p2pmap_bind_lock);
	list_splice_init(&prov->mappings, out);
	mutex_unlock(&prov->lock);
}

/**
 * p2pmap_provider_unregister() - revoke and remove a provider
 * @prov: the provider, as returned by p2pmap_provider_register()
 *
 * Marks @prov dead (new resolves fail with -ENODEV), revokes every import
 * of it (invalidation with %P2PMAP_EV_UNBIND, then waiting until each has
 * dropped its extents), removes its sysfs group and debugfs entry, unbinds
 * every address space still bound, and drops the exporter's reference.
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
	struct p2pmap_mapping_bind *b, *tmp;
	LIST_HEAD(binds);

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

	p2pmap_debugfs_remove_provider(prov);
	mutex_lock(&p2pmap_registry_lock);
	xa_erase(&p2pmap_providers, prov->id);
	p2pmap_provider_sysfs_remove(to_obj(prov));
	mutex_unlock(&p2pmap_registry_lock);

	p2pmap_provider_take_mappings(prov, &binds);
	list_for_each_entry_safe(b, tmp, &binds, node) {
		list_del(&b->node);
		kfree(b);
		kref_put(&prov->kref, p2pmap_provider_release);
	}

	dev_info(prov->desc.dev, "p2pmap: provider %u (%s) unregistered\n",
		 prov->id, prov->desc.name);
	p2pmap_provider_put(prov);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_unregister);

/**
 * p2pmap_provider_release() - free a provider (kref release)
 * @kref: &struct p2pmap_provider.kref of a provider without references
 *
 * Drops the device references taken at register and frees the provider.
 * Called only through p2pmap_provider_put().
 */
void p2pmap_provider_release(struct kref *kref)
{
	struct p2pmap_provider *prov =
		container_of(kref, struct p2pmap_provider, kref);

	WARN_ON(!list_empty(&prov->mappings));
	WARN_ON(!list_empty(&prov->imports));
	WARN_ON(!list_empty(&prov->resolvers));
	WARN_ON(!RB_EMPTY_ROOT(&prov->itree.rb_root));
	WARN_ON(prov->sysfs_added);
	pci_dev_put(prov->desc.pdev);
	put_device(prov->desc.dev);
	mutex_destroy(&prov->lock);
	kfree(prov->desc.name);
	kfree(to_obj(prov));
}

/**
 * p2pmap_provider_get() - take a reference on a provider
 * @prov: the provider
 *
 * Context: any context.
 */
void p2pmap_provider_get(struct p2pmap_provider *prov)
{
	kref_get(&prov->kref);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_get);

/**
 * p2pmap_provider_put() - drop a reference on a provider
 * @prov: the provider, or NULL
 *
 * The last reference frees the provider, which drops its device
 * references (put_device()).
 *
 * Context: process context (may sleep when it drops the last reference).
 */
void p2pmap_provider_put(struct p2pmap_provider *prov)
{
	if (prov)
		kref_put(&prov->kref, p2pmap_provider_release);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_put);

/**
 * p2pmap_provider_priv() - the exporter's private pointer
 * @prov: the provider
 *
 * Context: any context.
 * Return: &struct p2pmap_provider_desc.priv as passed to register.
 */
void *p2pmap_provider_priv(const struct p2pmap_provider *prov)
{
	return prov->desc.priv;
}
EXPORT_SYMBOL_GPL(p2pmap_provider_priv);

/* ---- bound address spaces ---------------------------------------------- */

static struct p2pmap_mapping_bind *p2pmap_bind_lookup(struct address_space *mapping)
{
	struct p2pmap_mapping_bind *b;

	lockdep_assert_held(&p2pmap_bind_lock);

	hash_for_each_possible(p2pmap_bind_table, b, hnode,
			       hash_ptr(mapping, P2PMAP_BIND_HASH_BITS))
		if (b->mapping == mapping)
			return b;
	return NULL;
}

/**
 * p2pmap_provider_bind_mapping() - route imports of an address space to
 *	a provider
 * @prov: a registered provider
 * @mapping: the address space the exporter's memory is mmapped through
 *	(e.g. the anon inode mapping of a DRM device)
 *
 * From now on an import of a VMA whose vm_file->f_mapping is @mapping is
 * resolved by @prov. The binding holds a reference on @prov until
 * p2pmap_provider_unbind_mapping() or p2pmap_provider_unregister().
 *
 * Context: process context; takes @prov->lock.
 * Return: 0, -EINVAL for NULL arguments, -ENODEV if @prov is being
 * unregistered, -EBUSY if @mapping is already bound (to any provider),
 * or -ENOMEM.
 */
int p2pmap_provider_bind_mapping(struct p2pmap_provider *prov,
				 struct address_space *mapping)
{
	struct p2pmap_mapping_bind *b;
	int ret = 0;

	if (!prov || !mapping) {
		pr_warn_ratelimited("bind_mapping: NULL %s\n",
				    prov ? "mapping" : "provider");
		return -EINVAL;
	}

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->mapping = mapping;
	b->prov = prov;

	mutex_lock(&prov->lock);
	if (prov->dead) {
		ret = -ENODEV;
		goto out;
	}
	spin_lock(&p2pmap_bind_lock);
	if (p2pmap_bind_lookup(mapping)) {
		ret = -EBUSY;
	} else {
		hash_add(p2pmap_bind_table, &b->hnode,
			 hash_ptr(mapping, P2PMAP_BIND_HASH_BITS));
		list_add_tail(&b->node, &prov->mappings);
		kref_get(&prov->kref);
	}
	spin_unlock(&p2pmap_bind_lock);
out:
	mutex_unlock(&prov->lock);
	if (ret) {
		pr_warn_ratelimited("provider %s: bind_mapping refused: %s\n",
				    prov->desc.name,
				    ret == -EBUSY ? "the mapping is already bound" :
				    "the provider is being unregistered");
		kfree(b);
	}
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmap_provider_bind_mapping);

/**
 * p2pmap_provider_unbind_mapping() - stop routing an address space
 * @prov: the provider @mapping was bound to
 * @mapping: the address space
 *
 * New imports of @mapping no longer find @prov. Extents that imports
 * already resolved from it stay valid until they are invalidated: an
 * exporter that takes the memory away calls p2pmap_provider_invalidate()
 * over the range first. Unbinding a mapping that is not bound to @prov is
 * a no-op (logged, ratelimited); p2pmap_provider_unregister() unbinds
 * whatever is left.
 *
 * Context: process context; takes @prov->lock.
 */
void p2pmap_provider_unbind_mapping(struct p2pmap_provider *prov,
				    struct address_space *mapping)
{
	struct p2pmap_mapping_bind *b;

	if (!prov || !mapping)
		return;

	mutex_lock(&prov->lock);
	spin_lock(&p2pmap_bind_lock);
	b = p2pmap_bind_lookup(mapping);
	if (b && b->prov == prov) {
		hash_del(&b->hnode);
		list_del(&b->node);
	} else {
		b = NULL;
	}
	spin_unlock(&p2pmap_bind_lock);
	mutex_unlock(&prov->lock);

	if (!b) {
		pr_warn_ratelimited("provider %s: unbind_mapping: mapping not bound to it\n",
				    prov->desc.name);
		return;
	}
	kfree(b);
	kref_put(&prov->kref, p2pmap_provider_release);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_unbind_mapping);

/**
 * p2pmap_provider_find_mapping() - the provider an address space is bound to
 * @mapping: an address space, e.g. vma->vm_file->f_mapping
 *
 * Context: any context that may take a spinlock.
 * Return: the provider with a reference the caller drops with
 * p2pmap_provider_put(), or NULL if @mapping is not bound. The provider
 * may already be dead; callers check &struct p2pmap_provider.dead under
 * its lock. Exported only in the P2PMAP_INTERNAL namespace, for p2pmap's
 * own test modules; it is not part of the API.
 */
struct p2pmap_provider *p2pmap_provider_find_mapping(struct address_space *mapping)
{
	struct p2pmap_provider *prov = NULL;
	struct p2pmap_mapping_bind *b;

	if (!mapping)
		return NULL;

	spin_lock(&p2pmap_bind_lock);
	b = p2pmap_bind_lookup(mapping);
	if (b) {
		prov = b->prov;
		kref_get(&prov->kref);
	}
	spin_unlock(&p2pmap_bind_lock);
	return prov;
}
EXPORT_SYMBOL_NS_GPL(p2pmap_provider_find_mapping, P2PMAP_NS(P2PMAP_INTERNAL));

/**
 * p2pmap_provider_count_fallback() - count pages that did not go P2P
 * @prov: the provider
 * @reason: why they did not (not %P2PMAP_REASON_NONE)
 * @npages: how many pages
 *
 * For fallbacks the exporter decides on its own (e.g.
 * %P2PMAP_REASON_BAR_EXHAUSTED); they appear in the provider's sysfs
 * fallback_<reason> file.
 *
 * Context: any context.
 */
void p2pmap_provider_count_fallback(struct p2pmap_provider *prov,
				    enum p2pmap_reason reason,
				    unsigned long npages)
{
	if (WARN_ON_ONCE(!prov || reason <= P2PMAP_REASON_NONE ||
			 reason >= P2PMAP_REASON_NR))
		return;
	atomic64_add(npages, &prov->stats.fallback_pages[reason]);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_count_fallback);

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
	WARN(!hash_empty(p2pmap_bind_table),
	     "p2pmap: address spaces still bound at unload\n");
	xa_destroy(&p2pmap_providers);
}
