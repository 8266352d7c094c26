/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wrappers of the test importer's ioctls (/dev/p2pmap_edu_imp, uapi in
 * tests/kmod/p2pmap_edu_importer/p2pmap_edu_imp_uapi.h) for selftests:
 * create (write-enabled, or with any flags, e.g. pinned), destroy, info,
 * status, transfer, map without DMA, latency samples. Each returns 0 or
 * -errno. Header-only, for single-file static test programs.
 */
#ifndef _EDU_IMP_SELFTEST_H
#define _EDU_IMP_SELFTEST_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "p2pmap_edu_imp_uapi.h"

/* Import [@va, @va + @len) with @policy and P2PMAP_EDU_IMP_F_* @flags. */
static inline int imp_new_flags(int efd, void *va, size_t len, uint32_t policy,
				uint32_t flags, uint32_t *id)
{
	struct p2pmap_edu_imp_create c = {
		.va = (uintptr_t)va, .len = len, .policy = policy,
		.flags = flags,
	};

	if (ioctl(efd, P2PMAP_EDU_IMP_IOC_CREATE, &c))
		return -errno;
	*id = c.id;
	return 0;
}

/* Create a write-enabled import of [@va, @va + @len) with @policy. */
static inline int imp_new(int efd, void *va, size_t len, uint32_t policy,
			  uint32_t *id)
{
	return imp_new_flags(efd, va, len, policy, P2PMAP_EDU_IMP_F_WRITE, id);
}

/* MAP without DMA (P2PMAP_EDU_IMP_MAP_F_* @flags); results in *@m. */
static inline int imp_map(int efd, uint32_t id, uint32_t flags,
			  struct p2pmap_edu_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->flags = flags;
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_MAP, m) ? -errno : 0;
}

/* Collect (and empty) this file's invalidation-to-revalidation samples. */
static inline int imp_latency(int efd, struct p2pmap_edu_imp_latency *l)
{
	memset(l, 0, sizeof(*l));
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_LATENCY, l) ? -errno : 0;
}

static inline int imp_destroy(int efd, uint32_t id)
{
	struct p2pmap_edu_imp_destroy d = { .id = id };

	return ioctl(efd, P2PMAP_EDU_IMP_IOC_DESTROY, &d) ? -errno : 0;
}

static inline int imp_info(int efd, uint32_t id, struct p2pmap_edu_imp_info *in)
{
	memset(in, 0, sizeof(*in));
	in->id = id;
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_INFO, in) ? -errno : 0;
}

static inline int imp_status(int efd, struct p2pmap_edu_imp_status *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_STATUS, st) ? -errno : 0;
}

static inline int imp_xfer(int efd, unsigned long cmd, uint32_t id, size_t off,
		    size_t len, void *buf)
{
	struct p2pmap_edu_imp_xfer x = {
		.id = id, .offset = off, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(efd, cmd, &x) ? -errno : 0;
}

/* WRITE a fresh pattern at @off, READ it back; 1 if the bytes differ. */

#endif /* _EDU_IMP_SELFTEST_H */
