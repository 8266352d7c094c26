/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by p2pmap's VM selftests: the topology the runner booted
 * (P2PMAP_TOPOLOGY), data patterns that make stale data show, and byte
 * comparison. Header-only (static functions): each selftest is one
 * translation unit built into a static binary.
 */
#ifndef _P2PMAP_SELFTEST_H
#define _P2PMAP_SELFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum p2pmap_topology {
	P2PMAP_TOPO_INVALID = -1,
	P2PMAP_TOPO_SWITCH = 0,	/* devices behind one PCIe switch: P2P allowed */
	P2PMAP_TOPO_ROOTBUS,	/* devices on the q35 root bus: P2P refused */
};

/* The topology from P2PMAP_TOPOLOGY, or P2PMAP_TOPO_INVALID (never a guess). */
static inline enum p2pmap_topology p2pmap_topology(void)
{
	const char *t = getenv("P2PMAP_TOPOLOGY");

	if (t && !strcmp(t, "switch"))
		return P2PMAP_TOPO_SWITCH;
	if (t && !strcmp(t, "rootbus"))
		return P2PMAP_TOPO_ROOTBUS;
	return P2PMAP_TOPO_INVALID;
}

/*
 * Whether the loaded p2pmap core can use optional kernel feature @name
 * ("pci_p2pdma", "device_private", "dmabuf_move_notify", ...), as the core
 * reports it in /sys/module/p2pmap/features ("<name> yes" or
 * "<name> no <CONFIG>=n: <reason>"): 1 yes, 0 no, -1 when the file or the
 * row is missing (p2pmap not loaded: never a guess). Tests derive their
 * expectations from this, never from which kernel they think they run on.
 */
static inline int p2pmap_kernel_feature(const char *name)
{
	char line[256], fname[64], state[8];
	int ret = -1;
	FILE *f;

	f = fopen("/sys/module/p2pmap/features", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %7s", fname, state) != 2 ||
		    strcmp(fname, name))
			continue;
		ret = !strcmp(state, "yes");
		break;
	}
	fclose(f);
	return ret;
}

/*
 * Whether peer-to-peer between the test devices is possible at all: they
 * sit behind one switch (P2PMAP_TOPOLOGY=switch) and the kernel has
 * CONFIG_PCI_P2PDMA (feature pci_p2pdma). Otherwise imports fall back to
 * system memory (reason no_route on the root bus, no_kconfig without
 * P2PDMA) and REQUIRE_P2P fails with -EREMOTEIO.
 */
static inline bool p2pmap_p2p_possible(void)
{
	return p2pmap_topology() == P2PMAP_TOPO_SWITCH &&
	       p2pmap_kernel_feature("pci_p2pdma") == 1;
}

/* enum p2pmap_reason values (kernel/include/linux/p2pmap.h) tests expect */
#define P2PMAP_SELFTEST_REASON_NONE		0
#define P2PMAP_SELFTEST_REASON_NO_ROUTE		3
#define P2PMAP_SELFTEST_REASON_NO_KCONFIG	4

/*
 * The reason the core gives for every page it places in system memory
 * instead of peer-to-peer between the test devices when
 * p2pmap_p2p_possible() is false: NO_KCONFIG on a kernel without
 * CONFIG_PCI_P2PDMA (checked first, attach.c), else NO_ROUTE (root bus).
 * NONE when P2P is possible.
 */
static inline int p2pmap_expected_fallback_reason(void)
{
	if (p2pmap_kernel_feature("pci_p2pdma") == 0)
		return P2PMAP_SELFTEST_REASON_NO_KCONFIG;
	if (p2pmap_topology() != P2PMAP_TOPO_SWITCH)
		return P2PMAP_SELFTEST_REASON_NO_ROUTE;
	return P2PMAP_SELFTEST_REASON_NONE;
}

static uint32_t p2pmap_seed_counter;

/* xorshift32 pattern; each call gets a fresh seed so stale data mismatches. */
static inline void fill_pattern(uint8_t *p, size_t len)
{
	uint32_t x = ((uint32_t)getpid() << 12) ^ (++p2pmap_seed_counter * 2654435761u);
	size_t i;

	if (!x)
		x = 1;
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
}

/* Index of the first differing byte, or -1. */
static inline long first_mismatch(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

#endif /* _P2PMAP_SELFTEST_H */
