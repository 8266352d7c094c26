// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap importer attachments and the P2P verdict.
 *
 * This file owns &struct p2pmap_attach: what an importer device can do
 * (revalidate or only pin, its DMA mask), negotiated once in
 * p2pmap_attach(), and the per-provider P2P verdict, computed on first use
 * and cached in the attachment for its lifetime.
 *
 * The verdict answers "can this importer reach this provider's BAR, and
 * with which address?". Linux 6.1 keeps its answer to the second half (the
 * pci_p2pdma_map_type) private to drivers/pci/p2pdma.c and only publishes
 * it for p2pmem pagemaps, which p2pmap deliberately does not create
 * (no struct pages for a whole BAR). So p2pmap_attach_verdict() asks
 * pci_p2pdma_distance() whether a route exists at all (that works without
 * pci_p2pdma_add_resource(): the map-type cache write is skipped when the
 * provider has no p2pdma state), and when it does, recomputes the map type
 * with the same walk calc_map_type_and_dist() does: if provider and
 * importer share an upstream PCI device and no port on the path between
 * them redirects P2P requests upstream through ACS (RR, CR or EC set), the
 * route is %P2PMAP_ROUTE_BUS_ADDR; otherwise pci_p2pdma_distance() only
 * succeeded because the host bridge is whitelisted, and the route is
 * %P2PMAP_ROUTE_HOST_BRIDGE.
 */

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>

#include "p2pmap_internal.h"

#define P2PMAP_CAPS_ALL		(P2PMAP_CAP_REVALIDATE | P2PMAP_CAP_PIN_ONLY)

static const char *const p2pmap_reason_names[P2PMAP_REASON_NR] = {
	[P2PMAP_REASON_NONE] = "none",
	[P2PMAP_REASON_POLICY] = "policy",
	[P2PMAP_REASON_BAR_EXHAUSTED] = "bar_exhausted",
	[P2PMAP_REASON_NO_ROUTE] = "no_route",
	[P2PMAP_REASON_NO_KCONFIG] = "no_kconfig",
	[P2PMAP_REASON_DMA_MASK] = "dma_mask",
	[P2PMAP_REASON_SYSTEM_PAGE] = "system_page",
};

/**
 * p2pmap_reason_name() - stable name of a reason
 * @reason: enum p2pmap_reason
 *
 * The names are ABI: they appear in sysfs file names (fallback_<name>),
 * debugfs and logs. Exported in the P2PMAP_INTERNAL namespace only, for
 * p2pmap's own test modules.
 *
 * Return: a lowercase name, or "unknown" for an out-of-range value.
 */
const char *p2pmap_reason_name(enum p2pmap_reason reason)
{
	if ((unsigned int)reason >= P2PMAP_REASON_NR ||
	    !p2pmap_reason_names[reason])
		return "unknown";
	return p2pmap_reason_names[reason];
}
EXPORT_SYMBOL_NS_GPL(p2pmap_reason_name, P2PMAP_NS(P2PMAP_INTERNAL));

/**
 * p2pmap_attach() - attach an importer device to p2pmap
 * @importer: the device that will DMA to imported memory (for a PCI
 *	importer, its PCI function's device)
 * @ops: the importer's callbacks; @ops->invalidate is required with
 *	%P2PMAP_CAP_REVALIDATE, @ops may be NULL with %P2PMAP_CAP_PIN_ONLY
 * @caps: exactly one of %P2PMAP_CAP_REVALIDATE and %P2PMAP_CAP_PIN_ONLY
 *
 * Takes a reference on @importer and records its DMA mask as it is now
 * (set the mask before attaching). P2P verdicts against each provider are
 * computed on first use and cached for the attachment's lifetime.
 *
 * Context: process context.
 * Return: the attachment, ERR_PTR(-EINVAL) for invalid arguments (the
 * reason is logged, ratelimited) or ERR_PTR(-ENOMEM).
 */
struct p2pmap_attach *p2pmap_attach(struct device *importer,
				    const struct p2pmap_importer_ops *ops,
				    unsigned long caps)
{
	unsigned long mode = caps & P2PMAP_CAPS_ALL;
	struct p2pmap_attach *attach;
	const char *why = NULL;

	if (!importer)
		why = "no importer device";
	else if (caps & ~P2PMAP_CAPS_ALL)
		why = "unknown capability bits";
	else if (mode != P2PMAP_CAP_REVALIDATE && mode != P2PMAP_CAP_PIN_ONLY)
		why = "exactly one of P2PMAP_CAP_REVALIDATE and P2PMAP_CAP_PIN_ONLY is required";
	else if (mode == P2PMAP_CAP_REVALIDATE && (!ops || !ops->invalidate))
		why = "P2PMAP_CAP_REVALIDATE without ops->invalidate";
	if (why) {
		pr_warn_ratelimited("attach %s refused (caps %#lx): %s\n",
				    importer ? dev_name(importer) : "(null)",
				    caps, why);
		return ERR_PTR(-EINVAL);
	}

	attach = kzalloc(sizeof(*attach), GFP_KERNEL);
	if (!attach)
		return ERR_PTR(-ENOMEM);
	attach->dev = get_device(importer);
	attach->ops = ops;
	attach->caps = caps;
	attach->dma_mask = dma_get_mask(importer);
	xa_init(&attach->verdicts);
	atomic_set(&attach->nr_imports, 0);
	dev_dbg(importer, "p2pmap: attached, caps %#lx, DMA mask %#llx\n",
		caps, attach->dma_mask);
	return attach;
}
EXPORT_SYMBOL_GPL(p2pmap_attach);

/**
 * p2pmap_detach() - detach an importer
 * @attach: the attachment, or NULL
 *
 * Every import of @attach must have been destroyed. If some are still
 * live this warns and leaks the attachment rather than freeing it under
 * them.
 *
 * Context: process context.
 */
void p2pmap_detach(struct p2pmap_attach *attach)
{
	struct p2pmap_verdict *v;
	unsigned long id;
	int live;

	if (IS_ERR_OR_NULL(attach))
		return;

	live = atomic_read(&attach->nr_imports);
	if (WARN(live, "p2pmap: detach of %s with %d live import(s); leaking it\n",
		 dev_name(attach->dev), live))
		return;

	xa_for_each(&attach->verdicts, id, v)
		kfree(v);
	xa_destroy(&attach->verdicts);
	put_device(attach->dev);
	kfree(attach);
}
EXPORT_SYMBOL_GPL(p2pmap_detach);

/**
 * p2pmap_attach_device() - the importer device of an attachment
 * @attach: the attachment
 *
 * Context: any context.
 * Return: the device passed to p2pmap_attach() (valid while attached).
 */
struct device *p2pmap_attach_device(const struct p2pmap_attach *attach)
{
	return attach->dev;
}
EXPORT_SYMBOL_GPL(p2pmap_attach_device);

/* Same test as p2pdma.c's pci_bridge_has_acs_redir(). */
static bool p2pmap_acs_redirects(struct pci_dev *pdev)
{
	u16 ctrl;

	if (!pdev->acs_cap)
		return false;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

/*
 * The map type calc_map_type_and_dist() computes, for a pair that
 * pci_p2pdma_distance() accepted: bus addresses through a common upstream
 * device unless ACS redirects on the path, else the (whitelisted) host
 * bridge.
 */
static enum p2pmap_route p2pmap_route_type(struct pci_dev *provider,
					   struct pci_dev *client)
{
	struct pci_dev *a, *b;
	bool acs = false;

	for (a = provider; a; a = pci_upstream_bridge(a)) {
		acs |= p2pmap_acs_redirects(a);
		for (b = client; b; b = pci_upstream_bridge(b))
			if (a == b)
				goto common;
	}
	return P2PMAP_ROUTE_HOST_BRIDGE;

common:
	for (b = client; b != a; b = pci_upstream_bridge(b))
		acs |= p2pmap_acs_redirects(b);
	return acs ? P2PMAP_ROUTE_HOST_BRIDGE : P2PMAP_ROUTE_BUS_ADDR;
}

static void p2pmap_verdict_compute(struct p2pmap_attach *attach,
				   struct p2pmap_provider *prov,
				   struct p2pmap_verdict *v)
{
	struct pci_dev *pdev = prov->desc.pdev;
	int bar = prov->desc.bar;
	enum p2pmap_route route;
	u64 end;

	v->route = P2PMAP_ROUTE_NONE;
	v->reason = P2PMAP_REASON_NONE;
	v->distance = -1;
	v->bus_offset = 0;

	if (!IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		v->reason = P2PMAP_REASON_NO_KCONFIG;
		return;
	}
	if (!pdev || !dev_is_pci(attach->dev)) {
		v->reason = P2PMAP_REASON_NO_ROUTE;
		return;
	}

	/* verbose: the kernel says why there is no route, once per pair */
	v->distance = pci_p2pdma_distance(pdev, attach->dev, true);
	if (v->distance < 0) {
		v->reason = P2PMAP_REASON_NO_ROUTE;
		return;
	}

	route = p2pmap_route_type(pdev, to_pci_dev(attach->dev));
	if (route == P2PMAP_ROUTE_BUS_ADDR) {
		u64 bus = pci_bus_address(pdev, bar);

		v->bus_offset = (s64)(bus - pci_resource_start(pdev, bar));
		end = bus + pci_resource_len(pdev, bar) - 1;
	} else {
		end = pci_resource_end(pdev, bar);
	}
	if (end > attach->dma_mask) {
		v->reason = P2PMAP_REASON_DMA_MASK;
		return;
	}
	v->route = route;
}

/**
 * p2pmap_attach_verdict() - the P2P verdict of an importer for a provider
 * @attach: the importer
 * @prov: the provider
 * @out: the verdict
 *
 * Computed on first use (route check with pci_p2pdma_distance(), map type,
 * bus offset, DMA mask) and cached in @attach under @prov's id.
 *
 * Exported only in the P2PMAP_INTERNAL namespace, for p2pmap's own test
 * modules; it is not part of the API.
 *
 * Context: process context, no p2pmap lock held (allocates GFP_KERNEL).
 * Return: 0, or -ENOMEM.
 */
int p2pmap_attach_verdict(struct p2pmap_attach *attach,
			  struct p2pmap_provider *prov,
			  struct p2pmap_verdict *out)
{
	struct p2pmap_verdict *v, *old;

	v = xa_load(&attach->verdicts, prov->id);
	if (v) {
		*out = *v;
		return 0;
	}

	v = kmalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	p2pmap_verdict_compute(attach, prov, v);

	old = xa_cmpxchg(&attach->verdicts, prov->id, NULL, v, GFP_KERNEL);
	if (xa_is_err(old)) {
		kfree(v);
		return xa_err(old);
	}
	if (old) {
		/* lost a race: entries live until detach, use the winner */
		kfree(v);
		v = old;
	} else {
		dev_dbg(attach->dev,
			"p2pmap: provider %s: route %u reason %s distance %d bus offset %#llx\n",
			prov->desc.name, v->route, p2pmap_reason_name(v->reason),
			v->distance, (u64)v->bus_offset);
	}
	*out = *v;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(p2pmap_attach_verdict, P2PMAP_NS(P2PMAP_INTERNAL));
