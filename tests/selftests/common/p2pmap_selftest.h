/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by p2pmap's VM selftests: the devices under test and the
 * route between them as the suite derived them (P2PMAP_GPUS, P2PMAP_EDU,
 * P2PMAP_ROUTE: see p2pmap_devices in tests/vm/suites/lib.sh), data
 * patterns that make stale data show, and byte comparison. Header-only
 * (static functions): each selftest is one translation unit built into a
 * static binary.
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

/*
 * The route between the pair of devices a test works on (the first GPU of
 * P2PMAP_GPUS as provider; the second GPU or the edu as importer, as the
 * suite chose), from p2pmapctl's verdict in P2PMAP_ROUTE. Never derived
 * from the name of a VM topology.
 */
enum p2pmap_pair_route {
	P2PMAP_PAIR_INVALID = -1,	/* not set, or the pair is missing */
	P2PMAP_PAIR_P2P = 0,		/* bus_addr or host_bridge */
	P2PMAP_PAIR_NO_ROUTE,		/* not_supported: Linux refuses P2P */
};

/* The route from P2PMAP_ROUTE, or P2PMAP_PAIR_INVALID (never a guess). */
static inline enum p2pmap_pair_route p2pmap_pair_route(void)
{
	const char *r = getenv("P2PMAP_ROUTE");

	if (r && (!strcmp(r, "bus_addr") || !strcmp(r, "host_bridge")))
		return P2PMAP_PAIR_P2P;
	if (r && !strcmp(r, "not_supported"))
		return P2PMAP_PAIR_NO_ROUTE;
	return P2PMAP_PAIR_INVALID;
}

/* For TH_LOG when P2PMAP_ROUTE is missing or names no usable pair */
#define P2PMAP_PAIR_ROUTE_HELP \
	"P2PMAP_ROUTE='%s': run from a VM suite, which derives the devices " \
	"under test (tests/vm/suites/lib.sh, p2pmap_devices)"
#define P2PMAP_PAIR_ROUTE_ENV (getenv("P2PMAP_ROUTE") ?: "(unset)")

/*
 * The PCI name of the @n-th GPU of P2PMAP_GPUS (0: the provider of the pair
 * under test) into @pci; -1 if the list is unset, shorter, or the name does
 * not fit.
 */
static inline int p2pmap_gpu_pci(int n, char *pci, size_t len)
{
	const char *l = getenv("P2PMAP_GPUS");
	int i = 0;

	while (l && *l) {
		size_t w;

		l += strspn(l, " ");
		w = strcspn(l, " ");
		if (!w)
			break;
		if (i++ == n) {
			if (w >= len)
				return -1;
			memcpy(pci, l, w);
			pci[w] = 0;
			return 0;
		}
		l += w;
	}
	return -1;
}

/* How many GPUs P2PMAP_GPUS names (0 when it is unset). */
static inline int p2pmap_gpu_count(void)
{
	char pci[32];
	int n = 0;

	while (!p2pmap_gpu_pci(n, pci, sizeof(pci)))
		n++;
	return n;
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
 * Whether peer-to-peer between the devices under test is possible at all:
 * their route allows it (P2PMAP_ROUTE) and the kernel has CONFIG_PCI_P2PDMA
 * (feature pci_p2pdma). Otherwise imports fall back to system memory
 * (reason no_route without a route, no_kconfig without P2PDMA) and
 * REQUIRE_P2P fails with -EREMOTEIO.
 */
static inline bool p2pmap_p2p_possible(void)
{
	return p2pmap_pair_route() == P2PMAP_PAIR_P2P &&
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
 * CONFIG_PCI_P2PDMA (checked first, attach.c), else NO_ROUTE (the pair
 * has no route).
 * NONE when P2P is possible.
 */
static inline int p2pmap_expected_fallback_reason(void)
{
	if (p2pmap_kernel_feature("pci_p2pdma") == 0)
		return P2PMAP_SELFTEST_REASON_NO_KCONFIG;
	if (p2pmap_pair_route() != P2PMAP_PAIR_P2P)
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
