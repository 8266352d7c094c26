// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * p2pmap_rdma_vmtest: libp2pmap-rdma and its LD_PRELOAD shim on Soft-RoCE
 * (rxe0) in the test VM, with p2pgpu buffer objects. TAP on stdout.
 *
 *  - host memory: p2pmap_reg_mr() makes a VA MR, never tries a dma-buf;
 *  - a p2pgpu object's render-node mapping: the library exports it as a
 *    dma-buf (BO_FROM_VA + PRIME), rxe refuses the dma-buf MR with
 *    EOPNOTSUPP (no dma-buf MRs in Linux 6.1's rxe), the library falls back
 *    to a VA MR and says so; REQUIRE_DMABUF fails with EOPNOTSUPP;
 *  - the same from a dma-buf fd (p2pmap_reg_mr_fd(), the library maps the
 *    dma-buf itself for the fallback);
 *  - the shim, in an unmodified child (plain ibv_reg_mr()): host memory
 *    passes through silently, the object is routed through p2pmap_reg_mr()
 *    with one stderr line naming the MR kind and the dma-buf refusal;
 *    P2PMAP_RDMA_DISABLE=1 turns the shim off.
 *
 *  - the object mapped through its publish node and through a dma-buf
 *    mmap: found, exported, refused by rxe, VA MR made.
 *
 * p2pgpu's CPU mappings are struct-page backed, so the VA MR fallback on
 * an object must succeed (rxe's ib_umem_get() pins the pages).
 *
 * Usage: p2pmap_rdma_vmtest [--plain]   (--plain: the unmodified child)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap-rdma.h"

#define LEN	(64u << 10)
#define ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		 IBV_ACCESS_REMOTE_READ)
#define SHIM	"/tests/bin/p2pmap-rdma-preload.so"

static int ntest, nfail;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		nfail++;
	fflush(stdout);
}

/* The first p2pgpu render node, by its driver's name in sysfs. */
static int open_p2pgpu(char *path, size_t len)
{
	char link[256], sys[96];
	int minor;
	ssize_t n;

	for (minor = 128; minor < 192; minor++) {
		snprintf(sys, sizeof(sys),
			 "/sys/class/drm/renderD%d/device/driver", minor);
		n = readlink(sys, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link,
			   "p2pgpu"))
			continue;
		snprintf(path, len, "/dev/dri/renderD%d", minor);
		return open(path, O_RDWR | O_CLOEXEC);
	}
	errno = ENODEV;
	return -1;
}

/* A LEN-byte object, mapped; its handle in *@handle. */
static void *new_bo(int gpu, uint32_t *handle)
{
	struct drm_p2pgpu_bo_create c = { .size = LEN };
	struct drm_p2pgpu_bo_mmap_offset o;
	void *p;

	if (ioctl(gpu, DRM_IOCTL_P2PGPU_BO_CREATE, &c))
		return NULL;
	memset(&o, 0, sizeof(o));
	o.handle = c.handle;
	if (ioctl(gpu, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &o))
		return NULL;
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, gpu,
		 (off_t)o.offset);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, LEN);
	*handle = c.handle;
	return p;
}

static struct ibv_pd *open_rxe(struct ibv_context **ctx)
{
	struct ibv_device **list;
	struct ibv_pd *pd = NULL;
	int i, n;

	*ctx = NULL;
	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strcmp(ibv_get_device_name(list[i]), "rxe0"))
			continue;
		*ctx = ibv_open_device(list[i]);
		break;
	}
	ibv_free_device_list(list);
	if (*ctx)
		pd = ibv_alloc_pd(*ctx);
	return pd;
}

/*
 * VA MR outcome on an object: p2pgpu's CPU mappings are struct-page backed
 * (BAR P2PDMA pages, or system pages on fallback), so rxe's ib_umem_get()
 * pins them and the fallback VA MR must be made.
 */
static void va_outcome(const char *what, struct ibv_mr *mr,
		       const struct p2pmap_mr_info *info)
{
	tap(mr && info->kind == P2PMAP_MR_VA && mr->length >= LEN - 4096,
	    "%s: VA MR made after the refusal (%s)", what,
	    mr ? "made" : strerror(info->va_errno));
	tap(!!strstr(info->reason, "VA MR on rxe0"),
	    "%s: the reason names the VA MR and the device", what);
}

/* The unmodified child: plain verbs calls only. */
static int plain(void)
{
	struct ibv_context *ctx;
	struct ibv_mr *mr;
	struct ibv_pd *pd;
	char path[64];
	uint32_t h;
	void *host, *obj;
	int gpu;

	pd = open_rxe(&ctx);
	gpu = open_p2pgpu(path, sizeof(path));
	host = malloc(LEN);
	if (!pd || gpu < 0 || !host)
		return 2;
	obj = new_bo(gpu, &h);
	if (!obj)
		return 3;
	mr = ibv_reg_mr(pd, host, LEN, ACCESS);
	printf("host %s\n", mr ? "ok" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	fflush(stdout);
	fprintf(stderr, "-- object --\n");
	mr = ibv_reg_mr(pd, obj, LEN, ACCESS);
	printf("object %s\n", mr ? "ok" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	return 0;
}

/* Run the plain child with @env added; its stdout and stderr in @out. */
static int run_child(const char *self, const char *env1, const char *env2,
		     char *out, size_t outlen)
{
	int pfd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		if (env1)
			putenv((char *)env1);
		if (env2)
			putenv((char *)env2);
		execl(self, self, "--plain", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (got + 1 < outlen &&
	       (n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv)
{
	struct p2pmap_mr_info info = { .size = sizeof(info) };
	struct ibv_context *ctx;
	struct drm_prime_handle ph;
	char path[64], out[4096], *obj_line;
	struct ibv_mr *mr;
	struct ibv_pd *pd;
	void *host, *obj;
	uint32_t h;
	int gpu, rc;

	if (argc > 1 && !strcmp(argv[1], "--plain"))
		return plain();
	printf("TAP version 13\n1..20\n");
	pd = open_rxe(&ctx);
	gpu = open_p2pgpu(path, sizeof(path));
	host = malloc(LEN);
	if (!pd || gpu < 0 || !host) {
		printf("Bail out! no rxe0 protection domain or no p2pgpu render node\n");
		return 1;
	}
	obj = new_bo(gpu, &h);
	if (!obj) {
		printf("Bail out! cannot create and map a p2pgpu object: %s\n",
		       strerror(errno));
		return 1;
	}

	/* 1-2: host memory */
	mr = p2pmap_reg_mr(pd, host, LEN, ACCESS, 0, &info);
	tap(mr && info.kind == P2PMAP_MR_VA && info.mem == P2PMAP_MEM_HOST &&
	    !info.dmabuf_errno, "host memory: VA MR (%s)", info.reason);
	tap(mr && !p2pmap_dereg_mr(mr), "host memory: deregistered");

	/* 3-6: the object's render-node mapping */
	mr = p2pmap_reg_mr(pd, (char *)obj + 4096, LEN - 4096, ACCESS, 0,
			   &info);
	printf("# object: %s MR: %s\n", p2pmap_mr_kind_name(info.kind),
	       info.reason);
	tap(info.mem == P2PMAP_MEM_P2PGPU && info.offset == 4096,
	    "object: found as p2pgpu memory at offset %llu of the object",
	    (unsigned long long)info.offset);
	tap(info.dmabuf_errno == EOPNOTSUPP &&
	    strstr(info.reason, "dma-buf MR refused: Operation not supported"),
	    "object: exported as a dma-buf, rxe refused the dma-buf MR: %s",
	    strerror(info.dmabuf_errno));
	va_outcome("object", mr, &info);
	if (mr)
		p2pmap_dereg_mr(mr);

	/* 7: REQUIRE_DMABUF */
	errno = 0;
	mr = p2pmap_reg_mr(pd, obj, LEN, ACCESS, P2PMAP_REG_REQUIRE_DMABUF,
			   &info);
	tap(!mr && errno == EOPNOTSUPP && info.kind == P2PMAP_MR_NONE,
	    "object + REQUIRE_DMABUF: no MR, EOPNOTSUPP (%s)", info.reason);
	if (mr)
		p2pmap_dereg_mr(mr);

	/* 8-10: from a dma-buf fd */
	memset(&ph, 0, sizeof(ph));
	ph.handle = h;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	if (ioctl(gpu, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph)) {
		printf("Bail out! PRIME export: %s\n", strerror(errno));
		return 1;
	}
	mr = p2pmap_reg_mr_fd(pd, ph.fd, 0, LEN, NULL, ACCESS, 0, &info);
	printf("# dma-buf fd: %s MR: %s\n", p2pmap_mr_kind_name(info.kind),
	       info.reason);
	tap(info.dmabuf_errno == EOPNOTSUPP && info.mem == P2PMAP_MEM_DMABUF,
	    "dma-buf fd: rxe refused the dma-buf MR");
	va_outcome("dma-buf fd", mr, &info);
	if (mr)
		p2pmap_dereg_mr(mr);
	close(ph.fd);

	/* 11-13: the object through its publish node (perftest's --mmap) */
	{
		struct drm_p2pgpu_bo_publish pb = { .handle = h };
		char pubpath[96];
		void *pub = MAP_FAILED;
		int pfd;

		snprintf(pubpath, sizeof(pubpath), "/dev/p2pgpu/%s", path + 9);
		pfd = open(pubpath, O_RDWR | O_CLOEXEC);
		if (pfd >= 0 && !ioctl(gpu, DRM_IOCTL_P2PGPU_BO_PUBLISH, &pb))
			pub = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
				   MAP_SHARED, pfd, (off_t)pb.offset);
		if (pub == MAP_FAILED) {
			printf("Bail out! publish node %s: %s\n", pubpath,
			       strerror(errno));
			return 1;
		}
		mr = p2pmap_reg_mr(pd, pub, LEN, ACCESS, 0, &info);
		printf("# publish node: %s MR: %s\n",
		       p2pmap_mr_kind_name(info.kind), info.reason);
		tap(info.mem == P2PMAP_MEM_P2PGPU &&
		    info.dmabuf_errno == EOPNOTSUPP,
		    "publish node: exported as a dma-buf (BO_FROM_VA through %s), rxe refused it",
		    path);
		va_outcome("publish node", mr, &info);
		if (mr)
			p2pmap_dereg_mr(mr);
		munmap(pub, LEN);
		close(pfd);
	}

	/* 14-16: the object's dma-buf, mmapped */
	memset(&ph, 0, sizeof(ph));
	ph.handle = h;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	if (!ioctl(gpu, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph)) {
		void *dm = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
				ph.fd, 0);

		if (dm == MAP_FAILED) {
			printf("Bail out! dma-buf mmap: %s\n", strerror(errno));
			return 1;
		}
		mr = p2pmap_reg_mr(pd, dm, LEN, ACCESS, 0, &info);
		printf("# dma-buf mmap: %s MR: %s\n",
		       p2pmap_mr_kind_name(info.kind), info.reason);
		tap(info.mem == P2PMAP_MEM_P2PGPU &&
		    info.dmabuf_errno == EOPNOTSUPP,
		    "dma-buf mmap: found, exported, rxe refused the dma-buf MR");
		va_outcome("dma-buf mmap", mr, &info);
		if (mr)
			p2pmap_dereg_mr(mr);
		munmap(dm, LEN);
		close(ph.fd);
	} else {
		printf("Bail out! PRIME export: %s\n", strerror(errno));
		return 1;
	}

	/* 17-20: the shim in an unmodified child */
	rc = run_child(argv[0], "LD_PRELOAD=" SHIM, NULL, out, sizeof(out));
	printf("# shim child (rc %d):\n", rc);
	for (obj_line = strtok(strdup(out), "\n"); obj_line;
	     obj_line = strtok(NULL, "\n"))
		printf("#   %s\n", obj_line);
	obj_line = strstr(out, "-- object --");
	tap(rc == 0 && strstr(out, "host ok") &&
	    obj_line && !memmem(out, (size_t)(obj_line - out), "p2pmap-rdma:", 12),
	    "shim: host memory passes through to libibverbs silently");
	tap(obj_line && strstr(obj_line, "p2pmap-rdma: ibv_reg_mr(") &&
	    strstr(obj_line, "dma-buf MR refused: Operation not supported"),
	    "shim: the object goes through p2pmap_reg_mr(), which says what it did");
	tap(obj_line && (strstr(obj_line, "object ok") ?
			 !!strstr(obj_line, ": va MR:") :
			 !!strstr(obj_line, ": none MR:")),
	    "shim: the MR kind it reports matches the outcome");
	rc = run_child(argv[0], "LD_PRELOAD=" SHIM, "P2PMAP_RDMA_DISABLE=1", out,
		       sizeof(out));
	tap(rc == 0 && !strstr(out, "p2pmap-rdma:"),
	    "shim: P2PMAP_RDMA_DISABLE=1 passes everything through");

	munmap(obj, LEN);
	close(gpu);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	free(host);
	return nfail ? 1 : 0;
}
