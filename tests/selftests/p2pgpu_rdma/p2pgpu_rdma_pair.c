// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_rdma_pair: GPU memory to GPU memory across two hosts over RDMA.
 *
 *   p2pgpu_rdma_pair [--odp] server IBDEV      (VM B: the target)
 *   p2pgpu_rdma_pair [--odp] client IBDEV IP   (VM A: the source)
 *
 * Each side creates a p2pgpu buffer object, maps it and registers the
 * mapping with IBDEV (Soft-RoCE on the VMs' virtio-net link).
 *
 * Pinned (the default; kernels that let get_user_pages() pin P2PDMA pages,
 * i.e. 6.1): 64 KiB objects; the MR must pin P2PDMA pages of the BAR
 * window (placement BAR, from DRM_IOCTL_P2PGPU_BO_CPU_INFO).
 *
 * --odp (kernels since 6.2): 1 MiB objects under On-Demand Paging MRs,
 * which pin nothing: the NICs fault the pages in with hmm_range_fault().
 * While the client's WRITEs stream in, the server cycles its whole window
 * with CPU faults on a second object (p2pgpu min_residency_ms=0), so pages
 * of the target are evicted mid-transfer: each eviction invalidates the
 * server NIC's mapping, which faults the page back in. The server reports
 * the evictions, its rxe's ODP counters where the kernel has them, and
 * the final placement.
 *
 * The client fills its object with a pattern through the CPU mapping,
 * learns the server's QP number, GID, buffer address and rkey over a TCP
 * side channel (port 18600), RDMA WRITEs its object into the server's (in
 * 64 KiB work requests), and tells the server it is done; the server
 * checks every byte through its own object's mapping and sends its
 * verdict back. Each side prints TAP (3 tests; the --odp server 4).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>

#include <infiniband/verbs.h>

#include "drm.h"
#include "p2pgpu_drm.h"
#include "rdma_counter.h"

#define LEN_PINNED	65536u
#define LEN_ODP		(1024u * 1024u)
#define CHUNK		65536u
#define PORT		18600
#define GID_INDEX	1
#define IB_PORT		1

struct wire {
	uint32_t qpn;
	uint32_t rkey;
	uint64_t addr;
	uint8_t gid[16];
};

static int tap_n;
static int tap_failed;

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static void fill(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 0x5a);
}

static long check(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i * 7 + (i >> 8) * 13 + 0x5a))
			return (long)i;
	return -1;
}

/* A p2pgpu object of @len bytes on the first p2pgpu render node, mapped. */
static uint8_t *gpu_object(int *fdp, uint32_t *handle, size_t len)
{
	struct drm_p2pgpu_bo_mmap_offset mo;
	struct drm_p2pgpu_bo_create bc;
	char path[64], link[256], drv[96];
	int minor, fd = -1;
	ssize_t l;
	void *p;

	for (minor = 128; minor < 192 && fd < 0 && *fdp < 0; minor++) {
		snprintf(drv, sizeof(drv), "/sys/class/drm/renderD%d/device/driver", minor);
		l = readlink(drv, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		if (!strstr(link, "/p2pgpu"))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (*fdp >= 0)
		fd = *fdp;
	if (fd < 0)
		return NULL;
	memset(&bc, 0, sizeof(bc));
	bc.size = len;
	if (ioctl(fd, DRM_IOCTL_P2PGPU_BO_CREATE, &bc))
		return NULL;
	memset(&mo, 0, sizeof(mo));
	mo.handle = bc.handle;
	if (ioctl(fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &mo))
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, mo.offset);
	if (p == MAP_FAILED)
		return NULL;
	*fdp = fd;
	*handle = bc.handle;
	return p;
}

/* Pinned: pages pinned in the window / in system memory. ODP: nothing is
 * pinned; pages in the window / CPU-mapped system pages. */
static int placement(int fd, uint32_t handle, bool odp, uint64_t *bar, uint64_t *sys)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct drm_p2pgpu_bo_info bi;

	memset(&ci, 0, sizeof(ci));
	ci.handle = handle;
	if (ioctl(fd, DRM_IOCTL_P2PGPU_BO_CPU_INFO, &ci))
		return -errno;
	*bar = ci.pages_gup_window;
	*sys = ci.pages_gup_system;
	if (!odp)
		return 0;
	memset(&bi, 0, sizeof(bi));
	bi.handle = handle;
	if (ioctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, &bi))
		return -errno;
	*bar = bi.pages_window;
	*sys = ci.pages_cpu_system;
	return 0;
}

static int device_info(int fd, struct drm_p2pgpu_device_info *di)
{
	memset(di, 0, sizeof(*di));
	return ioctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, di) ? -errno : 0;
}

/* Does p2pgpu map the window's P2PDMA pages to the CPU (cpu_map "bar")? */
static bool window_cpu_map(int fd, char *why, size_t len)
{
	char path[128];
	struct stat st;
	FILE *f;

	snprintf(why, len, "unknown");
	if (fstat(fd, &st))
		return false;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device/p2pgpu/cpu_map",
		 major(st.st_rdev), minor(st.st_rdev));
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(why, (int)len, f))
		snprintf(why, len, "unreadable");
	fclose(f);
	why[strcspn(why, "\n")] = 0;
	return !strcmp(why, "bar");
}

/* The server's evictor: CPU faults on a window-sized object, until told. */
struct evictor {
	volatile uint8_t *p;
	size_t len;
	atomic_int stop;
};

static void *evict_loop(void *arg)
{
	struct evictor *e = arg;
	uint8_t pass = 0;
	size_t off;

	while (!atomic_load(&e->stop)) {
		for (off = 0; off < e->len; off += 4096)
			e->p[off] = pass;
		pass++;
	}
	return NULL;
}

static int qp_connect(struct ibv_qp *qp, const struct wire *peer,
		      enum ibv_mtu mtu)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = IB_PORT;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = peer->qpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	memcpy(a.ah_attr.grh.dgid.raw, peer->gid, 16);
	a.ah_attr.grh.sgid_index = GID_INDEX;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = IB_PORT;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) ? -1 : 0;
}

static int xfer(int s, void *buf, size_t len, bool send_it)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send_it ? send(s, (char *)buf + done, len - done, MSG_NOSIGNAL) :
			      recv(s, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* TCP side channel: the server listens (180 s), the client retries (180 s). */
static int side_channel(bool server, const char *ip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { .tv_sec = 180 };
	int s, c, one = 1, i;

	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	if (server) {
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1))
			return -1;
		c = accept(s, NULL, NULL);
		close(s);
		if (c >= 0)
			setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		return c;
	}
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -1;
	for (i = 0; i < 180; i++) {
		if (!connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
			setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			return s;
		}
		close(s);
		sleep(1);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
	}
	close(s);
	return -1;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_port_attr pa;
	struct ibv_qp_init_attr qa;
	struct wire me, peer;
	union ibv_gid gid;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	struct drm_p2pgpu_device_info d0, d1;
	struct evictor ev = { 0 };
	pthread_t evth;
	uint64_t bar = 0, sys = 0;
	uint32_t handle = 0, ehandle = 0;
	bool server, odp = false;
	uint8_t *buf, verdict = 0;
	int fd = -1, s, i, n;
	long long inv0 = -1, flt0 = -1;
	unsigned int len = LEN_PINNED;

	if (argc > 1 && !strcmp(argv[1], "--odp")) {
		odp = true;
		len = LEN_ODP;
		argv++;
		argc--;
	}
	if (argc < 3 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (!strcmp(argv[1], "client") && argc < 4)) {
		fprintf(stderr, "usage: %s [--odp] server IBDEV | [--odp] client IBDEV SERVER_IP\n",
			argv[0]);
		return 2;
	}
	server = !strcmp(argv[1], "server");
	printf("TAP version 13\n1..%d\n", server && odp ? 4 : 3);
	fflush(stdout);

	buf = gpu_object(&fd, &handle, len);
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), argv[2]))
			ctx = ibv_open_device(list[i]);
	if (!buf || !ctx || ibv_query_port(ctx, IB_PORT, &pa) ||
	    ibv_query_gid(ctx, IB_PORT, GID_INDEX, &gid)) {
		tap(false, "%s: p2pgpu object and %s (%s)", argv[1], argv[2],
		    strerror(errno));
		return 1;
	}
	if (server)
		memset(buf, 0, len);
	else
		fill(buf, len);
	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 4, NULL, NULL, 0) : NULL;
	mr = pd ? ibv_reg_mr(pd, buf, len, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_WRITE |
			     (odp ? IBV_ACCESS_ON_DEMAND : 0)) : NULL;
	if (mr)
		placement(fd, handle, false, &bar, &sys);
	if (odp)
		tap(mr && !bar && !sys,
		    "%s: ODP MR on a 1 MiB p2pgpu object: %llu pages pinned (ODP pins nothing)%s%s",
		    argv[1], (unsigned long long)(bar + sys),
		    mr ? "" : ": ibv_reg_mr: ", mr ? "" : strerror(errno));
	else
		tap(mr && bar == len / 4096 && !sys,
		    "%s: MR on a 64 KiB p2pgpu object: placement %s (%llu BAR pages, %llu system pages pinned)%s%s",
		    argv[1], bar && !sys ? "BAR" : sys ? "fallback" : "none",
		    (unsigned long long)bar, (unsigned long long)sys,
		    mr ? "" : ": ibv_reg_mr: ", mr ? "" : strerror(errno));
	if (!mr || !cq)
		return 1;
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = cq;
	qa.recv_cq = cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 2;
	qa.cap.max_recv_wr = 2;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qp = ibv_create_qp(pd, &qa);
	if (!qp) {
		tap(false, "%s: ibv_create_qp: %s", argv[1], strerror(errno));
		return 1;
	}
	me.qpn = qp->qp_num;
	me.rkey = mr->rkey;
	me.addr = (uintptr_t)buf;
	memcpy(me.gid, gid.raw, 16);

	s = side_channel(server, server ? NULL : argv[3]);
	if (s < 0 || xfer(s, &me, sizeof(me), true) ||
	    xfer(s, &peer, sizeof(peer), false) ||
	    qp_connect(qp, &peer, pa.active_mtu)) {
		tap(false, "%s: side channel and QP connection to the peer (%s)",
		    argv[1], strerror(errno));
		return 1;
	}
	if (server && odp) {
		device_info(fd, &d0);
		inv0 = rdma_hw_counter(argv[2], "odp_invalidations");
		flt0 = rdma_hw_counter(argv[2], "odp_page_faults");
		ev.p = gpu_object(&fd, &ehandle, d0.window_total);
		ev.len = d0.window_total;
		if (!ev.p || d0.min_residency_ms ||
		    pthread_create(&evth, NULL, evict_loop, &ev)) {
			tap(false, "server: evictor on a %llu-byte object (min_residency_ms %llu): %s",
			    (unsigned long long)d0.window_total,
			    (unsigned long long)d0.min_residency_ms, strerror(errno));
			return 1;
		}
	}
	if (server) {
		uint8_t done = 0;
		bool got;
		long bad;

		got = !xfer(s, &done, 1, false);
		if (odp) {
			long long inv1, flt1;
			uint64_t evicted;
			char why[64];

			atomic_store(&ev.stop, 1);
			pthread_join(evth, NULL);
			device_info(fd, &d1);
			inv1 = rdma_hw_counter(argv[2], "odp_invalidations");
			flt1 = rdma_hw_counter(argv[2], "odp_page_faults");
			placement(fd, handle, true, &bar, &sys);
			evicted = d1.evictions - d0.evictions;
			printf("# server: %llu window evictions and %llu placements on this GPU during the transfer; ",
			       (unsigned long long)evicted,
			       (unsigned long long)(d1.placements - d0.placements));
			if (inv0 >= 0)
				printf("%s: %lld ODP invalidations, %lld ODP page faults\n",
				       argv[2], inv1 - inv0, flt1 - flt0);
			else
				printf("%s has no ODP counters on this kernel\n", argv[2]);
			if (!window_cpu_map(fd, why, sizeof(why)))
				printf("ok %d server: eviction mid-transfer # SKIP p2pgpu CPU mappings are system pages (cpu_map: %s): nothing is placed in or evicted from the window\n",
				       ++tap_n, why);
			else
				tap(evicted > 0 && (inv0 < 0 || (inv1 > inv0 && flt1 > flt0)),
			    "server: pages of the target were evicted mid-transfer and faulted back (%llu evictions; placement at the end: %llu BAR pages, %llu CPU-mapped system pages)",
				    (unsigned long long)evicted, (unsigned long long)bar,
				    (unsigned long long)sys);
		}
		tap(got && done == 1,
		    "server: the client reports its RDMA WRITE completed (%s)",
		    !got ? "side channel closed" : done == 1 ? "yes" : "no");
		bad = check(buf, len);
		verdict = bad < 0;
		tap(verdict, "server: the %u bytes VM A wrote from its GPU memory are intact in this GPU's memory (first bad byte %ld)",
		    len, bad);
		xfer(s, &verdict, 1, true);
	} else {
		struct ibv_sge sge = { 0, 0, mr->lkey };
		struct ibv_send_wr wr, *badwr;
		struct ibv_wc wc = { 0 };
		uint8_t done = 1;
		unsigned int off;

		/* one work request per CHUNK: the target is evicted between them */
		for (off = 0; off < len && done; off += CHUNK) {
			time_t t0 = time(NULL);

			sge.addr = (uintptr_t)buf + off;
			sge.length = len - off < CHUNK ? len - off : CHUNK;
			memset(&wr, 0, sizeof(wr));
			wr.sg_list = &sge;
			wr.num_sge = 1;
			wr.opcode = IBV_WR_RDMA_WRITE;
			wr.send_flags = IBV_SEND_SIGNALED;
			wr.wr.rdma.remote_addr = peer.addr + off;
			wr.wr.rdma.rkey = peer.rkey;
			n = ibv_post_send(qp, &wr, &badwr) ? -1 : 0;
			while (!n && (n = ibv_poll_cq(cq, 1, &wc)) == 0 &&
			       time(NULL) - t0 < 60)
				;
			done = n == 1 && wc.status == IBV_WC_SUCCESS;
		}
		tap(done, "client: RDMA WRITE of %u bytes from this GPU's memory into VM B's GPU memory completed (%s)",
		    len, n == 1 ? ibv_wc_status_str(wc.status) : "no completion");
		xfer(s, &done, 1, true);
		n = xfer(s, &verdict, 1, false);
		tap(!n && verdict == 1,
		    "client: VM B verified every byte in its GPU memory (%s)",
		    n ? "no answer" : verdict == 1 ? "intact" : "corrupt");
	}
	close(s);
	ibv_destroy_qp(qp);
	ibv_dereg_mr(mr);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	if (list)
		ibv_free_device_list(list);
	return tap_failed ? 1 : 0;
}
