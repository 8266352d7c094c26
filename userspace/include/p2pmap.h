/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap: read what p2pmap.ko exposes in sysfs and debugfs, and compute
 * the PCI peer-to-peer distance of an exporter-importer pair from sysfs.
 *
 * There is no global state: every call takes a struct p2pmap_ctx, which
 * holds the roots of the sysfs and debugfs trees it reads (so tests can
 * point it at a fake tree) and the reason for the last failure.
 *
 * Every function that can fail returns 0 or a negative errno and, on
 * failure, leaves a human-readable reason in the context, retrievable with
 * p2pmap_ctx_error(). A context is not thread-safe; use one per thread.
 *
 * The files read are documented in docs/ABI/testing/sysfs-p2pmap (stable)
 * and kernel/core/debugfs.c (debugfs, not ABI: parsed leniently).
 *
 * ABI (docs/abi.md): libp2pmap.so.0, every symbol versioned (P2PMAP_0.1).
 * Structs the caller allocates and the library fills start with a @size
 * member the caller sets to sizeof() of the struct it was compiled with;
 * the library fills no more than that, so fields can be appended without a
 * new soname. Structs in arrays the library allocates never change layout
 * (a change would come with a new symbol version of the function).
 */
#ifndef LIBP2PMAP_P2PMAP_H
#define LIBP2PMAP_P2PMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define P2PMAP_NAME_MAX		64	/* names, device names, reasons */
#define P2PMAP_PATH_MAX		4096
#define P2PMAP_MAX_REASONS	16	/* fallback reasons kept per record */

/** struct p2pmap_ctx - opaque library context */
struct p2pmap_ctx;

/**
 * p2pmap_ctx_new() - create a context
 * @sysfs_root: root of sysfs, or NULL for "/sys"
 * @debugfs_root: root of debugfs, or NULL for "/sys/kernel/debug"
 *
 * /proc/cpuinfo (used only by p2pmap_pci_distance() for the host-bridge
 * case) is read from "/proc" when @sysfs_root is NULL or "/sys", and from
 * "<parent of sysfs_root>/proc" otherwise, so a fake tree can carry its own.
 *
 * Return: a new context, or NULL with errno set (ENOMEM, or EINVAL for a
 * root longer than P2PMAP_PATH_MAX / 2).
 */
struct p2pmap_ctx *p2pmap_ctx_new(const char *sysfs_root,
				  const char *debugfs_root);

/** p2pmap_ctx_free() - free a context (NULL is ignored) */
void p2pmap_ctx_free(struct p2pmap_ctx *ctx);

/**
 * p2pmap_ctx_error() - the reason for the last failure on @ctx
 *
 * Return: a string owned by @ctx, valid until its next call; "" if no call
 * has failed yet.
 */
const char *p2pmap_ctx_error(const struct p2pmap_ctx *ctx);

/**
 * struct p2pmap_provider - one registered p2pmap provider (exporter)
 * @device: the exporter's device name (dev_name(); the BDF for PCI)
 * @name: the provider's name from debugfs, or @device if debugfs is absent
 * @sysfs_dir: the device's sysfs directory (holding the p2pmap/ group)
 * @id: debugfs provider id, or -1 if unknown
 * @dead: 1 if unregistration has started, 0 if not, -1 if unknown
 * @mappings: address spaces bound to it, or -1 if unknown
 * @is_pci: 1 if @device is a PCI device (its BDF can be used with
 *	p2pmap_pci_distance())
 */
struct p2pmap_provider {
	char device[P2PMAP_NAME_MAX];
	char name[P2PMAP_NAME_MAX];
	char sysfs_dir[P2PMAP_PATH_MAX];
	int id;
	int dead;
	int mappings;
	int is_pci;
};

/**
 * p2pmap_providers() - list registered providers
 * @ctx: context
 * @out: set to a malloc()ed array (free with free()); NULL if none
 * @n: set to the number of entries
 *
 * Providers are found by their sysfs "p2pmap" group: under every PCI
 * device (<sysfs>/bus/pci/devices/\*\/p2pmap), then, for providers that
 * debugfs (<debugfs>/p2pmap/providers) lists but that are not PCI devices,
 * by a search of <sysfs>/devices. Without debugfs, non-PCI providers are
 * not found and @id, @dead and @mappings are -1. Sorted by @device.
 *
 * Return: 0, or -ENODEV if p2pmap.ko is not loaded (no
 * <sysfs>/module/p2pmap), -EINVAL for a malformed debugfs listing,
 * -ENOMEM, or another -errno from reading the trees.
 */
int p2pmap_providers(struct p2pmap_ctx *ctx, struct p2pmap_provider **out,
		     size_t *n);

/**
 * struct p2pmap_aperture - a provider's peer-visible window, in bytes
 * (the aperture_* and device_total files)
 * @size: set by the caller to sizeof(struct p2pmap_aperture)
 */
struct p2pmap_aperture {
	size_t size;
	uint64_t total;
	uint64_t used;
	uint64_t pinned;
	uint64_t free;
	uint64_t device_total;
};

/**
 * p2pmap_read_aperture() - read a provider's aperture usage
 * @ctx: context
 * @prov: a provider from p2pmap_providers()
 * @ap: filled on success
 *
 * Return: 0; -ENOENT if a file is missing (provider gone); -EINVAL if a
 * file does not hold one unsigned decimal number and a newline, or if
 * @ap->size is smaller than the struct of libp2pmap 0.1.
 */
int p2pmap_read_aperture(struct p2pmap_ctx *ctx,
			 const struct p2pmap_provider *prov,
			 struct p2pmap_aperture *ap);

/** struct p2pmap_reason_count - pages counted against one reason name */
struct p2pmap_reason_count {
	char reason[P2PMAP_NAME_MAX];
	uint64_t pages;
};

/**
 * struct p2pmap_counters - a provider's counters since registration
 * @size: set by the caller to sizeof(struct p2pmap_counters); the library
 *	derives from it how many @fallback entries the caller has room for
 * @nr_fallback: entries filled in @fallback
 * @fallback_total: fallback_<reason> files found; more than @nr_fallback
 *	if @fallback had no room for all of them (the first ones by reason
 *	name are kept)
 * @fallback: one entry per fallback_<reason> file, sorted by reason; last
 *	member, so that a later P2PMAP_MAX_REASONS can make it longer
 * The other fields are the sysfs files of the same name.
 */
struct p2pmap_counters {
	size_t size;
	uint64_t maps;
	uint64_t unmaps;
	uint64_t p2p_pages;
	uint64_t sysmem_pages;
	uint64_t invalidations;
	uint64_t evictions;
	uint64_t migrated_pages;
	size_t nr_fallback;
	size_t fallback_total;
	struct p2pmap_reason_count fallback[P2PMAP_MAX_REASONS];
};

/**
 * p2pmap_read_counters() - read a provider's counters
 * @ctx: context
 * @prov: a provider from p2pmap_providers()
 * @c: filled on success
 *
 * Return: 0 (also when @c had room for fewer fallback reasons than exist:
 * see @c->fallback_total), -ENOENT for a missing file, -EINVAL for
 * malformed content or a @c->size too small for the counters of
 * libp2pmap 0.1 and one fallback entry, -ENOMEM.
 */
int p2pmap_read_counters(struct p2pmap_ctx *ctx,
			 const struct p2pmap_provider *prov,
			 struct p2pmap_counters *c);

/**
 * struct p2pmap_import - one live import (a line of debugfs p2pmap/imports)
 * @importer: the importing device's name
 * @pid: the process whose VA range is imported
 * @start: start of the VA range
 * @pages: its length in pages
 * @policy: placement policy name
 * @gen: exporter-event generation
 * @extents: extents currently mapped
 * @p2p_pages, @sysmem_pages, @error_pages: current placement
 * @reasons: pages not placed P2P, by reason; @nr_reasons entries
 */
struct p2pmap_import {
	char importer[P2PMAP_NAME_MAX];
	int pid;
	uint64_t start;
	uint64_t pages;
	char policy[P2PMAP_NAME_MAX];
	uint64_t gen;
	uint64_t extents;
	uint64_t p2p_pages;
	uint64_t sysmem_pages;
	uint64_t error_pages;
	struct p2pmap_reason_count reasons[P2PMAP_MAX_REASONS];
	size_t nr_reasons;
};

/**
 * p2pmap_imports() - list live imports
 * @ctx: context
 * @out: set to a malloc()ed array (free with free()); NULL if none
 * @n: set to the number of entries
 *
 * Return: 0; -ENOENT if <debugfs>/p2pmap/imports is missing (debugfs not
 * mounted, or p2pmap.ko not loaded); -EACCES without permission (debugfs
 * is root-only); -EINVAL for a malformed line; -ENOMEM.
 */
int p2pmap_imports(struct p2pmap_ctx *ctx, struct p2pmap_import **out,
		   size_t *n);

/**
 * struct p2pmap_feature - a line of /sys/module/p2pmap/features
 * @name: feature name (pci_p2pdma, device_private, ...)
 * @present: 1 if this build of p2pmap.ko can use it
 * @detail: for a missing feature, "<CONFIG_X>=n: <what degrades>"; "" else
 */
struct p2pmap_feature {
	char name[P2PMAP_NAME_MAX];
	int present;
	char detail[256];
};

/**
 * p2pmap_features() - read the kernel features p2pmap.ko can use
 * @ctx: context
 * @out: set to a malloc()ed array (free with free())
 * @n: set to the number of entries
 *
 * Return: 0; -ENODEV if p2pmap.ko is not loaded; -EINVAL for a line that
 * is not "<name> yes" or "<name> no <detail>"; -ENOMEM.
 */
int p2pmap_features(struct p2pmap_ctx *ctx, struct p2pmap_feature **out,
		    size_t *n);

/**
 * enum p2pmap_route - how the kernel would map the pair
 * @P2PMAP_ROUTE_BUS_ADDR: PCI bus addresses through a common upstream
 *	bridge (the kernel's PCI_P2PDMA_MAP_BUS_ADDR, ACS permitting)
 * @P2PMAP_ROUTE_HOST_BRIDGE: through the host bridge, which the kernel
 *	allows (AMD Zen CPU or a whitelisted Intel host bridge)
 * @P2PMAP_ROUTE_NOT_SUPPORTED: refused: no common upstream bridge and the
 *	host bridge is not whitelisted (pci_p2pdma_distance() < 0)
 * @P2PMAP_ROUTE_UNKNOWN: no common upstream bridge, and whether the host
 *	bridge path is allowed cannot be told from the files available
 * @P2PMAP_ROUTE_NO_KCONFIG: refused whatever the path: the running kernel
 *	has no CONFIG_PCI_P2PDMA (p2pmap.ko reports "pci_p2pdma no"), so
 *	p2pmap places every page of the pair in system memory
 */
enum p2pmap_route {
	P2PMAP_ROUTE_BUS_ADDR,
	P2PMAP_ROUTE_HOST_BRIDGE,
	P2PMAP_ROUTE_NOT_SUPPORTED,
	P2PMAP_ROUTE_UNKNOWN,
	P2PMAP_ROUTE_NO_KCONFIG,
};

/**
 * p2pmap_route_name() - "bus_addr", "host_bridge", "not_supported",
 * "unknown" or "no_kconfig"
 */
const char *p2pmap_route_name(enum p2pmap_route route);

/**
 * struct p2pmap_topology - the PCI path between a provider and a client
 * @route: how the kernel would map it
 * @distance: hops up from the provider plus hops down to the client
 *	through @common (BUS_ADDR), the kernel's distance for HOST_BRIDGE,
 *	and -1 for NOT_SUPPORTED, UNKNOWN and NO_KCONFIG (what
 *	pci_p2pdma_distance() returns for a refused pair); @hops_up,
 *	@hops_down and @common still describe the PCI path for NO_KCONFIG
 * @hops_up: bridges from the provider up to @common (0 if none common)
 * @hops_down: bridges from @common down to the client
 * @common: BDF of the common upstream bridge ("" if none; the device
 *	itself if one device is upstream of, or equal to, the other)
 * @reason: one line saying why, e.g. "not supported (host bridge not
 *	whitelisted): no common upstream bridge; host bridge 0000:00:00.0
 *	(8086:29c0) is not whitelisted and the CPU is not AMD Zen"
 * @size: set by the caller to sizeof(struct p2pmap_topology)
 */
struct p2pmap_topology {
	size_t size;
	enum p2pmap_route route;
	int distance;
	int hops_up;
	int hops_down;
	char common[P2PMAP_NAME_MAX];
	char reason[512];
};

/**
 * p2pmap_pci_distance() - P2P distance of a provider and a client, from sysfs
 * @ctx: context
 * @provider: BDF ("0000:05:00.0") of the exporting PCI device
 * @client: BDF of the importing PCI device
 * @t: filled on success
 *
 * Follows calc_map_type_and_dist() in Linux 6.1 drivers/pci/p2pdma.c:
 * walk the provider's chain of upstream bridges (from the realpath of
 * <sysfs>/bus/pci/devices/<bdf>) and, for each, the client's, until a
 * common one is found; distance = hops up + hops down. Without a common
 * bridge the kernel maps through the host bridge only on an AMD Zen CPU
 * (<proc>/cpuinfo) or if the device at <domain>:<bus>:00.0 of each host
 * bridge is on its Intel whitelist.
 *
 * If p2pmap.ko is loaded and reports "pci_p2pdma no" (a kernel without
 * CONFIG_PCI_P2PDMA, such as Debian's), every pair is refused: @t->route is
 * %P2PMAP_ROUTE_NO_KCONFIG, @t->distance -1, and @t->reason says so and
 * then gives the path. If p2pmap.ko is not loaded, kernel support is not
 * checked.
 *
 * Approximation: ACS redirect (which makes the kernel route a BUS_ADDR
 * pair through the host bridge) is not checked, since config space beyond
 * 64 bytes is root-only; nor are VFs mapped to their PF, nor the
 * pci=disable_acs_redir and pci_p2pdma parameters considered.
 *
 * Return: 0 (including for a refused pair: see @t->route); -ENOENT if a
 * BDF is not a PCI device in sysfs; -EINVAL for a malformed BDF or a
 * @t->size smaller than the struct of libp2pmap 0.1.
 */
int p2pmap_pci_distance(struct p2pmap_ctx *ctx, const char *provider,
			const char *client, struct p2pmap_topology *t);

/**
 * struct p2pmap_pci_dev - a PCI device in sysfs
 * @bdf: its name, "dddd:bb:dd.f"
 * @class_code: its PCI class code (24 bits) (not "class": C++ keyword)
 * @is_bridge: 1 for a bridge (class 0x06xxxx)
 */
struct p2pmap_pci_dev {
	char bdf[P2PMAP_NAME_MAX];
	uint32_t class_code;
	int is_bridge;
};

/**
 * p2pmap_pci_devices() - list PCI devices (<sysfs>/bus/pci/devices)
 * @ctx: context
 * @out: set to a malloc()ed array sorted by BDF (free with free())
 * @n: set to the number of entries
 *
 * Return: 0, -ENOENT if there is no PCI bus in sysfs, -EINVAL for a
 * malformed class file, -ENOMEM.
 */
int p2pmap_pci_devices(struct p2pmap_ctx *ctx, struct p2pmap_pci_dev **out,
		       size_t *n);

#ifdef __cplusplus
}
#endif

#endif /* LIBP2PMAP_P2PMAP_H */
