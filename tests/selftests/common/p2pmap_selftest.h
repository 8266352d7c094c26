/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by p2pmap's VM selftests: the topology the runner booted
 * (P2PMAP_TOPOLOGY), data patterns that make stale data show, and byte
 * comparison. Header-only (static functions): each selftest is one
 * translation unit built into a static binary.
 */
#ifndef _P2PMAP_SELFTEST_H
#define _P2PMAP_SELFTEST_H

#include <stddef.h>
#include <stdint.h>
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
