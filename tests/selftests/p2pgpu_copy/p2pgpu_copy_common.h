/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the copy-engine test and demo: one DRM_IOCTL_P2PGPU_COPY
 * call, the pages a user range covers, and the placement the test bed must
 * give between the two GPUs, found from sysfs (do they sit below a common
 * PCI bridge?) and cross-checked with the route the suite derived for them
 * (P2PMAP_ROUTE, p2pmapctl's verdict).
 */
#ifndef _P2PGPU_COPY_COMMON_H
#define _P2PGPU_COPY_COMMON_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap_selftest.h"

#define PG			4096ULL

/*
 * The COPY reason (P2PGPU_COPY_REASON_*) of the pages that fall back to
 * system memory between the test devices: p2pmap_expected_fallback_reason()
 * in the COPY uAPI's numbering.
 */
static inline int copy_expected_fallback_reason(void)
{
	switch (p2pmap_expected_fallback_reason()) {
	case P2PMAP_SELFTEST_REASON_NO_KCONFIG:
		return P2PGPU_COPY_REASON_NO_KCONFIG;
	case P2PMAP_SELFTEST_REASON_NO_ROUTE:
		return P2PGPU_COPY_REASON_NO_ROUTE;
	default:
		return P2PGPU_COPY_REASON_NONE;
	}
}

/* One copy; 0 or -errno. @out (may be NULL) gets the ioctl's outputs. */
static inline int gpu_copy(int fd, uint32_t handle, const void *uptr,
			   uint64_t len, uint64_t bo_off, uint32_t flags,
			   uint32_t policy, struct drm_p2pgpu_copy *out)
{
	struct drm_p2pgpu_copy c = {
		.user_ptr = (uintptr_t)uptr, .length = len, .bo_offset = bo_off,
		.handle = handle, .flags = flags, .policy = policy,
	};
	int ret = drmIoctl(fd, DRM_IOCTL_P2PGPU_COPY, &c) ? -errno : 0;

	if (out)
		*out = c;
	return ret;
}

/* Pages covered by [p, p + len). */
static inline uint64_t pages_covered(const void *p, uint64_t len)
{
	uint64_t a = (uintptr_t)p;

	return (a + len + PG - 1) / PG - a / PG;
}

/*
 * 1 if PCI functions @a and @b sit below a common PCI bridge (the deepest
 * common directory of their sysfs paths is a PCI device, not the root
 * bus), 0 if not, -1 if a path cannot be resolved.
 */
static inline int pci_share_bridge(const char *a, const char *b)
{
	char la[96], lb[96], pa[PATH_MAX], pb[PATH_MAX];
	unsigned int d, bus, dev, fn;
	char *s, *last;
	size_t i, cut = 0;

	snprintf(la, sizeof(la), "/sys/bus/pci/devices/%s", a);
	snprintf(lb, sizeof(lb), "/sys/bus/pci/devices/%s", b);
	if (!realpath(la, pa) || !realpath(lb, pb))
		return -1;
	/* parents */
	s = strrchr(pa, '/');
	if (!s)
		return -1;
	*s = 0;
	s = strrchr(pb, '/');
	if (!s)
		return -1;
	*s = 0;
	/* longest common prefix that ends at a path component */
	for (i = 0; pa[i] && pa[i] == pb[i]; i++)
		if (pa[i] == '/')
			cut = i;
	if (!pa[i] && (!pb[i] || pb[i] == '/'))
		cut = i;
	pa[cut] = 0;
	last = strrchr(pa, '/');
	last = last ? last + 1 : pa;
	/* a PCI function's directory is named dddd:bb:dd.f */
	return strlen(last) == 12 &&
	       sscanf(last, "%4x:%2x:%2x.%1x", &d, &bus, &dev, &fn) == 4;
}

/*
 * Whether the copy engine of one GPU reaches the other's BAR peer to peer
 * on this machine: yes below a common bridge, no when their only common
 * upstream is the host bridge (Linux 6.1 does not whitelist QEMU's). When
 * the suite derived the route of this pair (P2PMAP_ROUTE), the two must
 * agree. Returns 1 or 0, or -1 with @why set when they do not.
 */
static inline int expect_peer_p2p(const char *pci0, const char *pci1,
				  char *why, size_t whylen)
{
	enum p2pmap_pair_route r = p2pmap_pair_route();
	int share = pci_share_bridge(pci0, pci1);

	if (share < 0) {
		snprintf(why, whylen, "cannot resolve the sysfs paths of %s and %s",
			 pci0, pci1);
		return -1;
	}
	if (r != P2PMAP_PAIR_INVALID && share != (r == P2PMAP_PAIR_P2P)) {
		snprintf(why, whylen, "sysfs says %s and %s %s a bridge, P2PMAP_ROUTE says %s",
			 pci0, pci1, share ? "share" : "do not share",
			 P2PMAP_PAIR_ROUTE_ENV);
		return -1;
	}
	return share;
}

#endif /* _P2PGPU_COPY_COMMON_H */
