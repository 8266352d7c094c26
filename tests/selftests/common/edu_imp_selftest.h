/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wrappers of the test importer's ioctls (/dev/p2pmap_edu_imp, uapi in
 * tests/kmod/p2pmap_edu_importer/p2pmap_edu_imp_uapi.h) for selftests:
 * create (write-enabled), destroy, info, status, transfer. Each returns 0
 * or -errno. Header-only, for single-file static test programs.
 */
#ifndef _EDU_IMP_SELFTEST_H
#define _EDU_IMP_SELFTEST_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "p2pmap_edu_imp_uapi.h"

/* Create a write-enabled import of [@va, @va + @len) with @policy. */
static inline int imp_new(int efd, void *va, size_t len, uint32_t policy,
			  uint32_t *id)
{
	struct p2pmap_edu_imp_create c = {
		.va = (uintptr_t)va, .len = len, .policy = policy,
		.flags = P2PMAP_EDU_IMP_F_WRITE,
	};

	if (ioctl(efd, P2PMAP_EDU_IMP_IOC_CREATE, &c))
		return -errno;
	*id = c.id;
	return 0;
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
