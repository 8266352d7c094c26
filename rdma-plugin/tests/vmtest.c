// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * p2pmap_rdma_vmtest: libp2pmap-rdma and its LD_PRELOAD shim on Soft-RoCE
 * (rxe0) in the test VM, with p2pgpu buffer objects. TAP on stdout.
 *
 * The expected registration of device memory is derived here,
 * independently of the library, from what this kernel and device do:
 *   - dma-buf MR: ibv_reg_dmabuf_mr() on the object's real dma-buf is
 *     accepted (rxe: never, EOPNOTSUPP);
 *   - ODP MR: ibv_query_device_ex() gives RC ODP SEND/RECV/WRITE/READ and
 *     /sys/module/p2pmap/features says odp_p2pdma yes (7.3's rxe);
 *   - VA MR: the features say gup_p2pdma_pin yes (6.1).
 * The first that holds is the expected kind (none if none does). Checks:
 *  - host memory: a VA MR, never a dma-buf attempt;
 *  - p2pmap_rdma_query() agrees with those answers;
 *  - an object's render-node mapping: found, the expected kind made, and
 *    the MR moves data: an RDMA WRITE of 60 KiB into it (path MTU 4096,
 *    page-aligned: the configuration stock 7.3's rxe ODP copies right) is
 *    read back byte for byte through the object's CPU mapping, and an RDMA
 *    READ from it returns the same bytes;
 *  - REQUIRE_DMABUF; a dma-buf fd (p2pmap_reg_mr_fd(), the library maps
 *    the dma-buf itself when no dma-buf MR is made); the publish node and
 *    a dma-buf mmap: the same expected kind;
 *  - the shim in an unmodified child (plain ibv_reg_mr()): host memory
 *    passes through silently, the object goes through p2pmap_reg_mr()
 *    with one stderr line naming the expected kind; P2PMAP_RDMA_MODE=va
 *    and =odp follow the same rules; P2PMAP_RDMA_DISABLE=1 turns it off.
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
#include "rdma_loop.h"

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

/* What this kernel and device support, asked directly (not the library). */
static enum p2pmap_mr_kind expected;
static int dev_odp, k_odp, k_pin, dev_dmabuf;

static int feature_yes(const char *name)
{
	char line[256], n[64], v[8];
	FILE *f = fopen("/sys/module/p2pmap/features", "re");
	int yes = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %7s", n, v) == 2 && !strcmp(n, name))
			yes = !strcmp(v, "yes");
	fclose(f);
	return yes;
}

static void derive_expected(struct ibv_pd *pd, int dmabuf_fd)
{
	uint32_t need = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
			IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ;
	struct ibv_device_attr_ex ax;
	struct ibv_mr *mr;

	memset(&ax, 0, sizeof(ax));
	if (!ibv_query_device_ex(pd->context, NULL, &ax))
		dev_odp = (ax.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
			  (ax.odp_caps.per_transport_caps.rc_odp_caps & need) == need;
	mr = ibv_reg_dmabuf_mr(pd, 0, LEN, 0, dmabuf_fd, ACCESS);
	dev_dmabuf = !!mr;
	printf("# device: ibv_reg_dmabuf_mr on the object's dma-buf: %s; RC ODP %s (general 0x%llx rc 0x%x)\n",
	       mr ? "accepted" : strerror(errno), dev_odp ? "yes" : "no",
	       (unsigned long long)ax.odp_caps.general_caps,
	       ax.odp_caps.per_transport_caps.rc_odp_caps);
	if (mr)
		ibv_dereg_mr(mr);
	k_odp = feature_yes("odp_p2pdma");
	k_pin = feature_yes("gup_p2pdma_pin");
	printf("# kernel: odp_p2pdma %s, gup_p2pdma_pin %s\n", k_odp ? "yes" : "no",
	       k_pin ? "yes" : "no");
	expected = dev_dmabuf ? P2PMAP_MR_DMABUF :
		   dev_odp && k_odp ? P2PMAP_MR_ODP :
		   k_pin ? P2PMAP_MR_VA : P2PMAP_MR_NONE;
	printf("# expected registration of device memory: %s\n",
	       p2pmap_mr_kind_name(expected));
}

/* The expected kind was made (or, for none, nothing was). */
static void kind_outcome(const char *what, struct ibv_mr *mr,
			 const struct p2pmap_mr_info *info)
{
	tap(expected == P2PMAP_MR_NONE ? !mr && info->kind == P2PMAP_MR_NONE :
	    mr && info->kind == expected && mr->length >= LEN - 4096,
	    "%s: %s MR as expected (%s)", what, p2pmap_mr_kind_name(expected),
	    info->reason);
}

/*
 * Data through @mr (the library's MR on the object at @obj + 4096): an RDMA
 * WRITE from host memory into it, checked through the CPU mapping, and an
 * RDMA READ from it, checked in host memory. Path MTU 4096, page-aligned.
 */
static void data_check(struct rl *r, struct ibv_mr *mr, unsigned char *obj)
{
	size_t n = LEN - 4096, i, bad = 0, first = 0;
	unsigned char *host = aligned_alloc(4096, n);
	struct ibv_mr *hmr = NULL;
	int ret;

	if (host)
		hmr = ibv_reg_mr(r->pd, host, n, ACCESS);
	if (!mr || !hmr) {
		tap(0, "data: RDMA WRITE into the MR (%s)",
		    !mr ? "no MR" : strerror(errno));
		tap(0, "data: RDMA READ from the MR (not run)");
		goto out;
	}
	for (i = 0; i < n; i++)
		host[i] = (unsigned char)(i * 7 + (i >> 12) + 1);
	memset(obj + 4096, 0, n);
	ret = rl_rdma(r, IBV_WR_RDMA_WRITE, hmr, host, mr, obj + 4096,
		      (uint32_t)n);
	for (i = 0; !ret && i < n; i++)
		if (obj[4096 + i] != host[i] && !bad++)
			first = i;
	if (bad)
		printf("# first wrong byte at +0x%zx of the range: got 0x%02x want 0x%02x\n",
		       first, obj[4096 + first], host[first]);
	tap(!ret && !bad, "data: RDMA WRITE of %zu bytes into the %s MR, read back through the object's mapping: %s%s%zu wrong byte(s)",
	    n, p2pmap_mr_kind_name(expected), ret ? r->err : "",
	    ret ? "; " : "", bad);
	memset(host, 0, n);
	bad = 0;
	ret = rl_rdma(r, IBV_WR_RDMA_READ, hmr, host, mr, obj + 4096,
		      (uint32_t)n);
	for (i = 0; !ret && i < n; i++)
		bad += host[i] != obj[4096 + i];
	tap(!ret && !bad, "data: RDMA READ of %zu bytes from the %s MR: %s%s%zu wrong byte(s)",
	    n, p2pmap_mr_kind_name(expected), ret ? r->err : "",
	    ret ? "; " : "", bad);
out:
	if (hmr)
		ibv_dereg_mr(hmr);
	free(host);
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
	struct p2pmap_rdma_caps caps = { .size = sizeof(caps) };
	struct drm_prime_handle ph;
	char path[64], out[4096], want[32], *obj_line;
	struct ibv_mr *mr;
	struct ibv_pd *pd;
	struct rl r;
	void *host, *obj;
	uint32_t h;
	int gpu, rc;

	if (argc > 1 && !strcmp(argv[1], "--plain"))
		return plain();
	printf("TAP version 13\n1..21\n");
	if (rl_open_mtu(&r, "rxe0", IBV_MTU_4096)) {
		printf("Bail out! rxe0: %s\n", r.err);
		return 1;
	}
	pd = r.pd;
	gpu = open_p2pgpu(path, sizeof(path));
	host = malloc(LEN);
	if (gpu < 0 || !host) {
		printf("Bail out! no p2pgpu render node\n");
		return 1;
	}
	obj = new_bo(gpu, &h);
	if (!obj) {
		printf("Bail out! cannot create and map a p2pgpu object: %s\n",
		       strerror(errno));
		return 1;
	}
	memset(&ph, 0, sizeof(ph));
	ph.handle = h;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	if (ioctl(gpu, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph)) {
		printf("Bail out! PRIME export: %s\n", strerror(errno));
		return 1;
	}
	derive_expected(pd, ph.fd);

	/* 1-2: host memory */
	mr = p2pmap_reg_mr(pd, host, LEN, ACCESS, 0, &info);
	tap(mr && info.kind == P2PMAP_MR_VA && info.mem == P2PMAP_MEM_HOST &&
	    !info.dmabuf_errno, "host memory: VA MR (%s)", info.reason);
	tap(mr && !p2pmap_dereg_mr(mr), "host memory: deregistered");

	/* 3-4: the library's own answers agree with the kernel's and device's */
	tap(!p2pmap_rdma_query(pd, ACCESS, &caps) &&
	    !!(caps.caps & P2PMAP_RDMA_CAP_DMABUF_MR) == dev_dmabuf &&
	    !!(caps.caps & P2PMAP_RDMA_CAP_ODP) == dev_odp &&
	    !!(caps.caps & P2PMAP_RDMA_CAP_KERNEL_ODP_P2P) == k_odp &&
	    !!(caps.caps & P2PMAP_RDMA_CAP_KERNEL_PIN_P2P) == k_pin,
	    "p2pmap_rdma_query agrees with the device and kernel (%s)",
	    caps.reason);
	tap(!!(caps.caps & P2PMAP_RDMA_CAP_KERNEL_KNOWN),
	    "p2pmap_rdma_query read /sys/module/p2pmap/features");

	/* 5-8: the object's render-node mapping, with data through the MR */
	mr = p2pmap_reg_mr(pd, (char *)obj + 4096, LEN - 4096, ACCESS, 0,
			   &info);
	tap(info.mem == P2PMAP_MEM_P2PGPU &&
	    (info.kind != P2PMAP_MR_DMABUF || info.offset == 4096),
	    "object: found as p2pgpu memory");
	kind_outcome("object", mr, &info);
	data_check(&r, mr, obj);
	if (mr)
		p2pmap_dereg_mr(mr);

	/* 9: REQUIRE_DMABUF */
	errno = 0;
	mr = p2pmap_reg_mr(pd, obj, LEN, ACCESS, P2PMAP_REG_REQUIRE_DMABUF,
			   &info);
	tap(dev_dmabuf ? mr && info.kind == P2PMAP_MR_DMABUF :
	    !mr && errno == EOPNOTSUPP && info.kind == P2PMAP_MR_NONE,
	    "object + REQUIRE_DMABUF: %s (%s)",
	    dev_dmabuf ? "dma-buf MR" : "no MR, EOPNOTSUPP", info.reason);
	if (mr)
		p2pmap_dereg_mr(mr);

	/* 10-11: from a dma-buf fd */
	mr = p2pmap_reg_mr_fd(pd, ph.fd, 0, LEN, NULL, ACCESS, 0, &info);
	tap(info.mem == P2PMAP_MEM_DMABUF &&
	    (dev_dmabuf || info.dmabuf_errno == EOPNOTSUPP),
	    "dma-buf fd: %s", dev_dmabuf ? "dma-buf MRs supported" :
	    "the device has no dma-buf MRs (EOPNOTSUPP)");
	kind_outcome("dma-buf fd", mr, &info);
	if (mr)
		p2pmap_dereg_mr(mr);
	close(ph.fd);

	/* 12-13: the object through its publish node (perftest's --mmap) */
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
		tap(info.mem == P2PMAP_MEM_P2PGPU,
		    "publish node: found as p2pgpu memory (through %s)", path);
		kind_outcome("publish node", mr, &info);
		if (mr)
			p2pmap_dereg_mr(mr);
		munmap(pub, LEN);
		close(pfd);
	}

	/* 14-15: the object's dma-buf, mmapped */
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
		tap(info.mem == P2PMAP_MEM_P2PGPU,
		    "dma-buf mmap: found as p2pgpu memory");
		kind_outcome("dma-buf mmap", mr, &info);
		if (mr)
			p2pmap_dereg_mr(mr);
		munmap(dm, LEN);
		close(ph.fd);
	} else {
		printf("Bail out! PRIME export: %s\n", strerror(errno));
		return 1;
	}

	/* 16-21: the shim in an unmodified child */
	rc = run_child(argv[0], "LD_PRELOAD=" SHIM, NULL, out, sizeof(out));
	printf("# shim child (rc %d):\n", rc);
	for (obj_line = strtok(strdup(out), "\n"); obj_line;
	     obj_line = strtok(NULL, "\n"))
		printf("#   %s\n", obj_line);
	obj_line = strstr(out, "-- object --");
	tap(rc == 0 && strstr(out, "host ok") &&
	    obj_line && !memmem(out, (size_t)(obj_line - out), "p2pmap-rdma:", 12),
	    "shim: host memory passes through to libibverbs silently");
	tap(obj_line && strstr(obj_line, "p2pmap-rdma: ibv_reg_mr("),
	    "shim: the object goes through p2pmap_reg_mr(), which says what it did");
	snprintf(want, sizeof(want), ": %s MR:", p2pmap_mr_kind_name(expected));
	tap(obj_line && strstr(obj_line, want) &&
	    !!strstr(obj_line, "object ok") == (expected != P2PMAP_MR_NONE),
	    "shim: the same choice as the library (%s MR), and the outcome matches",
	    p2pmap_mr_kind_name(expected));
	rc = run_child(argv[0], "LD_PRELOAD=" SHIM, "P2PMAP_RDMA_MODE=va", out,
		       sizeof(out));
	obj_line = strstr(out, "-- object --");
	printf("# shim child, P2PMAP_RDMA_MODE=va: %s\n",
	       obj_line ? obj_line + 13 : out);
	tap(obj_line && (k_pin ?
			 strstr(obj_line, ": va MR:") && strstr(obj_line, "object ok") :
			 strstr(obj_line, ": none MR:") &&
			 strstr(obj_line, "gup_p2pdma_pin no")),
	    "shim, P2PMAP_RDMA_MODE=va: %s", k_pin ?
	    "VA MR (the kernel pins P2PDMA pages)" :
	    "no MR: the kernel pins no P2PDMA pages, and it says so");
	rc = run_child(argv[0], "LD_PRELOAD=" SHIM, "P2PMAP_RDMA_MODE=odp", out,
		       sizeof(out));
	obj_line = strstr(out, "-- object --");
	printf("# shim child, P2PMAP_RDMA_MODE=odp: %s\n",
	       obj_line ? obj_line + 13 : out);
	tap(obj_line && !strstr(obj_line, ": dmabuf MR:") &&
	    (dev_odp && k_odp ? !!strstr(obj_line, ": odp MR:") :
	     k_pin ? !!strstr(obj_line, ": va MR:") : !!strstr(obj_line, ": none MR:")),
	    "shim, P2PMAP_RDMA_MODE=odp: no dma-buf MR; %s",
	    dev_odp && k_odp ? "ODP MR" : k_pin ? "VA MR" : "no MR");
	rc = run_child(argv[0], "LD_PRELOAD=" SHIM, "P2PMAP_RDMA_DISABLE=1", out,
		       sizeof(out));
	tap(rc == 0 && !strstr(out, "p2pmap-rdma:"),
	    "shim: P2PMAP_RDMA_DISABLE=1 passes everything through");

	munmap(obj, LEN);
	close(gpu);
	rl_close(&r);
	free(host);
	return nfail ? 1 : 0;
}
