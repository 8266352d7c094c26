// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * p2pmap-rdma-preload.so: an LD_PRELOAD shim that makes unmodified verbs
 * applications register p2pmap device memory the right way. It interposes
 * ibv_reg_mr() and ibv_reg_mr_iova2() (the entry points rdma-core's
 * ibv_reg_mr()/ibv_reg_mr_iova() macros end in): a range that lies in a
 * mapping of a p2pgpu object goes through p2pmap_reg_mr(), which makes
 * the same choice as for any caller (dma-buf MR where the device takes
 * them, else an ODP MR where the device has ODP and the kernel maps P2PDMA
 * pages under ODP, else a VA MR where the kernel still pins P2PDMA pages),
 * and one line on stderr says which MR was made and why; any other range
 * goes straight to libibverbs. Environment (see p2pmap_reg_mr(3)):
 *   P2PMAP_RDMA_MODE=auto|dmabuf|odp|va
 *                                     auto (default); dma-buf only; no
 *                                     dma-buf MR (ODP, else VA); VA only
 *   P2PMAP_RDMA_QUIET=1               no stderr line (errors still print)
 *   P2PMAP_RDMA_DISABLE=1             pass everything through untouched
 * Built with -fvisibility=hidden: the library copy inside it is private,
 * so an application that also links libp2pmap-rdma keeps its own.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pmap_rdma_int.h"

typedef struct ibv_mr *(*reg_mr_fn)(struct ibv_pd *, void *, size_t, int);
typedef struct ibv_mr *(*reg_mr_iova2_fn)(struct ibv_pd *, void *, size_t,
					  uint64_t, unsigned int);

static reg_mr_fn real_reg_mr;
static reg_mr_iova2_fn real_reg_mr_iova2;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned int mode_flags;
static int quiet, disabled;
/* set while the library registers, so its own ibv_reg_mr() is the real one */
static __thread int inside;

static struct ibv_mr *call_real_reg_mr(struct ibv_pd *pd, void *addr,
				       size_t length, int access)
{
	if (!real_reg_mr) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	return real_reg_mr(pd, addr, length, access);
}

static void init(void)
{
	const char *m = getenv("P2PMAP_RDMA_MODE");

	real_reg_mr = (reg_mr_fn)dlvsym(RTLD_NEXT, "ibv_reg_mr", "IBVERBS_1.1");
	if (!real_reg_mr)
		real_reg_mr = (reg_mr_fn)dlsym(RTLD_NEXT, "ibv_reg_mr");
	real_reg_mr_iova2 = (reg_mr_iova2_fn)dlvsym(RTLD_NEXT,
						    "ibv_reg_mr_iova2",
						    "IBVERBS_1.8");
	if (!real_reg_mr_iova2)
		real_reg_mr_iova2 = (reg_mr_iova2_fn)dlsym(RTLD_NEXT,
							   "ibv_reg_mr_iova2");
	p2pmap_rdma_ops.reg_mr = call_real_reg_mr;
	if (m && !strcmp(m, "dmabuf"))
		mode_flags = P2PMAP_REG_REQUIRE_DMABUF;
	else if (m && !strcmp(m, "odp"))
		mode_flags = P2PMAP_REG_NO_DMABUF;
	else if (m && !strcmp(m, "va"))
		mode_flags = P2PMAP_REG_NO_DMABUF | P2PMAP_REG_NO_ODP;
	else if (m && *m && strcmp(m, "auto"))
		fprintf(stderr, "p2pmap-rdma: unknown P2PMAP_RDMA_MODE '%s', using auto\n",
			m);
	quiet = getenv("P2PMAP_RDMA_QUIET") && *getenv("P2PMAP_RDMA_QUIET") &&
		strcmp(getenv("P2PMAP_RDMA_QUIET"), "0");
	disabled = getenv("P2PMAP_RDMA_DISABLE") &&
		   *getenv("P2PMAP_RDMA_DISABLE") &&
		   strcmp(getenv("P2PMAP_RDMA_DISABLE"), "0");
}

/* NULL with *@handled = 0: not ours, the caller passes it through. */
static struct ibv_mr *maybe_p2pmap(struct ibv_pd *pd, void *addr,
				   size_t length, int access, int *handled)
{
	struct p2pmap_mr_info info = { .size = sizeof(info) };
	struct ibv_mr *mr;
	int err;

	*handled = 0;
	pthread_once(&once, init);
	if (disabled || inside ||
	    p2pmap_find_mapping(addr, NULL, 0) == P2PMAP_MEM_HOST)
		return NULL;
	*handled = 1;
	inside = 1;
	mr = p2pmap_reg_mr(pd, addr, length, access, mode_flags, &info);
	err = errno;
	inside = 0;
	if (!mr || !quiet)
		fprintf(stderr, "p2pmap-rdma: ibv_reg_mr(%p, %zu): %s MR: %s\n",
			addr, length, p2pmap_mr_kind_name(info.kind),
			info.reason);
	errno = err;
	return mr;
}

/* verbs.h makes ibv_reg_mr a macro; this defines the function itself. */
#undef ibv_reg_mr
__attribute__((visibility("default")))
struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			  int access)
{
	struct ibv_mr *mr;
	int handled;

	mr = maybe_p2pmap(pd, addr, length, access, &handled);
	if (handled)
		return mr;
	return call_real_reg_mr(pd, addr, length, access);
}

__attribute__((visibility("default")))
struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length,
				uint64_t iova, unsigned int access)
{
	struct ibv_mr *mr;
	int handled = 0;

	/* p2pmap MRs use the address as iova; other iovas pass through. */
	if (iova == (uintptr_t)addr) {
		mr = maybe_p2pmap(pd, addr, length, (int)access, &handled);
		if (handled)
			return mr;
	}
	pthread_once(&once, init);
	if (!real_reg_mr_iova2) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	return real_reg_mr_iova2(pd, addr, length, iova, access);
}
