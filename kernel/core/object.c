// SPDX-License-Identifier: GPL-2.0
/*
 * The provider object as the rest of the core uses it.
 *
 * This file owns the references of &struct p2pmap_provider (get, put and
 * the release of the last one), the exporter's private pointer, the
 * counters an exporter adds to, and the table of bound address spaces
 * that imports find the provider of a VMA in. It calls no other file of
 * the core: registration (provider.c), imports, events and pagemaps all
 * call down into it.
 *
 * Locks: provider->lock (a mutex) nests p2pmap_bind_lock (a spinlock
 * protecting the mapping hash table, so lookups from the import path are
 * short and never sleep).
 */

#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

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

/* Bound address spaces: struct p2pmap_mapping_bind.hnode. */
#define P2PMAP_BIND_HASH_BITS	8
static DEFINE_HASHTABLE(p2pmap_bind_table, P2PMAP_BIND_HASH_BITS);
static DEFINE_SPINLOCK(p2pmap_bind_lock);

/**
 * p2pmap_provider_release() - free a provider (kref release)
 * @kref: &struct p2pmap_provider.kref of a provider without references
 *
 * Drops the device references taken at register and frees the provider.
 * Called only through p2pmap_provider_put().
 */
static void p2pmap_provider_release(struct kref *kref)
{
	struct p2pmap_provider *prov =
		container_of(kref, struct p2pmap_provider, kref);

	WARN_ON(!list_empty(&prov->mappings));
	WARN_ON(!list_empty(&prov->imports));
	WARN_ON(!list_empty(&prov->resolvers));
	WARN_ON(!RB_EMPTY_ROOT(&prov->itree.rb_root));
	WARN_ON(prov->sysfs);
	pci_dev_put(prov->desc.pdev);
	put_device(prov->desc.dev);
	mutex_destroy(&prov->lock);
	kfree(prov->desc.name);
	kfree(prov);
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
		p2pmap_provider_get(prov);
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
	p2pmap_provider_put(prov);
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
		p2pmap_provider_get(prov);
	}
	spin_unlock(&p2pmap_bind_lock);
	return prov;
}
EXPORT_SYMBOL_IF_P2PMAP_SELFTEST(p2pmap_provider_find_mapping);

/**
 * p2pmap_provider_count_fallback() - count pages that did not go P2P
 * @prov: the provider
 * @reason: why they did not (not %P2PMAP_REASON_NONE)
 * @npages: how many pages
 *
 * The core counts every fallback an exporter reports in its extents; this
 * lets p2pmap's attach test check the sysfs fallback_<reason> files
 * without an exporter. Exported for the test modules only.
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
EXPORT_SYMBOL_IF_P2PMAP_SELFTEST(p2pmap_provider_count_fallback);

/**
 * p2pmap_provider_unbind_all() - unbind every address space of @prov
 * @prov: a provider being unregistered
 *
 * Drops the reference each binding held.
 */
void p2pmap_provider_unbind_all(struct p2pmap_provider *prov)
{
	struct p2pmap_mapping_bind *b, *tmp;
	LIST_HEAD(binds);

	mutex_lock(&prov->lock);
	spin_lock(&p2pmap_bind_lock);
	list_for_each_entry(b, &prov->mappings, node)
		hash_del(&b->hnode);
	spin_unlock(&p2pmap_bind_lock);
	list_splice_init(&prov->mappings, &binds);
	mutex_unlock(&prov->lock);
	list_for_each_entry_safe(b, tmp, &binds, node) {
		list_del(&b->node);
		kfree(b);
		p2pmap_provider_put(prov);
	}
}

/**
 * p2pmap_object_exit() - check no address space is bound at module unload
 */
void p2pmap_object_exit(void)
{
	WARN(!hash_empty(p2pmap_bind_table),
	     "p2pmap: address spaces still bound at unload\n");
}
