// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_odp_lat: the ODP invalidate-to-refault latency of an RDMA WRITE
 * into a p2pgpu object, against the same WRITE to a resident page. A
 * benchmark program for `make bench-rdma KERNEL=7.3-stock`
 * (tests/vm/suites/rdma_bench.sh); see --help for the method.
 *
 * Owns: the eviction of one page under an ODP MR, the timed WRITEs, the
 * byte check of every timed WRITE and the percentiles. The loopback QPs
 * are rdma_loop.h's; the p2pgpu helpers are p2pgpu_selftest.h's.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "rdma_counter.h"
#include "rdma_loop.h"

#define PG		4096UL
#define MAX_SAMPLES	100000U
#define P2PMAP_VERSION	"0.1.0"

static const char help_text[] =
"NAME\n"
"    p2pgpu_odp_lat - ODP invalidate-to-refault latency of an RDMA WRITE\n"
"    into p2pgpu device memory\n"
"\n"
"SYNOPSIS\n"
"    p2pgpu_odp_lat [-n SAMPLES] [-d IBDEV] [-m 1024|4096]\n"
"\n"
"DESCRIPTION\n"
"    Registers an On-Demand Paging MR (IBV_ACCESS_ON_DEMAND) over a\n"
"    one-page p2pgpu object on IBDEV (Soft-RoCE rxe0, two RC QPs of the\n"
"    device connected to each other) and, SAMPLES times:\n"
"\n"
"      1. invalidates the page under the MR (see METHODS);\n"
"      2. times one signalled 4096-byte RDMA WRITE from a pinned host MR\n"
"         into the page, from ibv_post_send() to its completion polled\n"
"         with ibv_poll_cq() (CLOCK_MONOTONIC): the NIC's page fault\n"
"         (hmm_range_fault(), p2pgpu's fault handler placing the page),\n"
"         the DMA re-map and the transfer (\"refault\");\n"
"      3. times the same WRITE again, now to the resident page\n"
"         (\"resident\", the baseline);\n"
"      4. checks the page's 4096 bytes through its CPU mapping after each\n"
"         WRITE (a new pattern per WRITE).\n"
"\n"
"    and prints p50, p90, p99 and max of both, and their p50 ratio.\n"
"\n"
"METHODS\n"
"    evict  (p2pgpu cpu_map bar) p2pgpu evicts the page from its window:\n"
"           the program writes one byte to every page of a second object\n"
"           as large as the window (p2pgpu min_residency_ms=0); the CPU\n"
"           faults take window slots, the least recently placed page is\n"
"           evicted, and one pass reaches the target page (up to 8 are\n"
"           made, untimed). p2pgpu zaps its\n"
"           CPU PTE, which is the mmu-notifier invalidation the ODP MR\n"
"           sees. A sample counts only if BO_INFO then shows the page out\n"
"           of the window and DEVICE_INFO one eviction more.\n"
"    zap    (cpu_map system, e.g. 7.3 before p2pgpu's window pages are\n"
"           ported: the window is not CPU-mapped, so no CPU fault evicts)\n"
"           MADV_DONTNEED on the page: the same PTE zap and mmu-notifier\n"
"           invalidation an eviction makes, without p2pgpu moving data.\n"
"    The method used is printed with the figures.\n"
"\n"
"OPTIONS\n"
"    -n, --samples N    samples (default 200, at most 100000)\n"
"    -d, --device IBDEV RDMA device (default rxe0)\n"
"    -m, --mtu M        path MTU of the QPs, 1024 or 4096 (default 4096:\n"
"                       rxe's ODP copy on Linux 7.2/7.3 is only correct for\n"
"                       whole pages at MTU 4096)\n"
"    -h, --help         this text\n"
"    -V, --version      print the version and exit\n"
"\n"
"OUTPUT\n"
"    On stdout, one line per figure:\n"
"      odp_lat: NAME method=M n=N p50_ns=A p90_ns=B p99_ns=C max_ns=D\n"
"    with NAME refault and resident, then\n"
"      odp_lat: ratio_p50 refault/resident=R\n"
"      odp_lat: counters evictions=E rxe_odp_invalidations=I rxe_odp_page_faults=F\n"
"    (-1 where rxe has no ODP counters).\n"
"\n"
"EXIT STATUS\n"
"    0 every sample was invalidated as the method says and every byte\n"
"    checked; 1 otherwise; 2 usage error; 4 rxe has no RC ODP WRITE.\n";

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v[0..n). */
static uint64_t pct(const uint64_t *v, unsigned int n, unsigned int p)
{
	unsigned int r = (unsigned int)(((uint64_t)p * n + 99) / 100);

	return v[r ? r - 1 : 0];
}

static void fill(uint8_t *p, uint32_t seed)
{
	size_t i;

	for (i = 0; i < PG; i += 4) {
		uint32_t v = (uint32_t)(i * 2654435761u) ^ seed;

		memcpy(p + i, &v, 4);
	}
}

/* Timed signalled WRITE of one page, @ns its post-to-completion time. */
static int timed_write(struct rl *r, struct ibv_mr *lmr, struct ibv_mr *rmr,
		       uint64_t *ns)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)lmr->addr, .length = PG, .lkey = lmr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;
	uint64_t t0, t;
	int n;

	wr.wr.rdma.remote_addr = (uintptr_t)rmr->addr;
	wr.wr.rdma.rkey = rmr->rkey;
	t0 = now_ns();
	if (ibv_post_send(r->qp[0], &wr, &bad))
		return rl_fail(r, "ibv_post_send", errno);
	do {
		n = ibv_poll_cq(r->cq, 1, &wc);
		t = now_ns();
		if (n < 0)
			return rl_fail(r, "ibv_poll_cq", EIO);
		if (!n && t - t0 > 60000000000ULL)
			return rl_fail(r, "no completion within 60 s", ETIMEDOUT);
	} while (!n);
	*ns = t - t0;
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(r->err, sizeof(r->err), "completion: %s",
			 ibv_wc_status_str(wc.status));
		return -EIO;
	}
	return 0;
}

static int qp_reset(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE) ? -errno : 0;
}

static void report(const char *name, const char *method, uint64_t *v,
		   unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("odp_lat: %s method=%s n=%u p50_ns=%llu p90_ns=%llu p99_ns=%llu max_ns=%llu\n",
	       name, method, n, (unsigned long long)pct(v, n, 50),
	       (unsigned long long)pct(v, n, 90), (unsigned long long)pct(v, n, 99),
	       (unsigned long long)v[n - 1]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 'n' },
		{ "device", required_argument, NULL, 'd' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	uint32_t need = IBV_ODP_SUPPORT_WRITE;
	struct drm_p2pgpu_device_info d0, d1, dv;
	struct drm_p2pgpu_bo_info bi;
	struct ibv_device_attr_ex ax;
	unsigned long n = 200, i, v;
	const char *dev = "rxe0", *method;
	uint64_t *refault, *resident;
	long long inv0, flt0;
	struct ibv_mr *hmr, *mr;
	enum ibv_mtu mtu = IBV_MTU_4096;
	struct bo a, w;
	uint8_t *host;
	struct rl r;
	char pci[32] = "", *end;
	int c, fd, evict, pass, ret;

	while ((c = getopt_long(argc, argv, "n:d:m:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || !n || n > MAX_SAMPLES) {
				fprintf(stderr, "p2pgpu_odp_lat: -n: 1 to %u\n", MAX_SAMPLES);
				return 2;
			}
			break;
		case 'd':
			dev = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "1024")) {
				mtu = IBV_MTU_1024;
			} else if (strcmp(optarg, "4096")) {
				fprintf(stderr, "p2pgpu_odp_lat: -m: 1024 or 4096\n");
				return 2;
			}
			break;
		case 'h':
			fputs(help_text, stdout);
			return 0;
		case 'V':
			printf("p2pgpu_odp_lat %s\n", P2PMAP_VERSION);
			return 0;
		default:
			fprintf(stderr, "p2pgpu_odp_lat: see --help\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "p2pgpu_odp_lat: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	fd = open_gpu(0, pci, sizeof(pci));
	if (fd < 0) {
		fprintf(stderr, "p2pgpu_odp_lat: no p2pgpu render node\n");
		return 1;
	}
	ret = rl_open(&r, dev);
	if (ret) {
		fprintf(stderr, "p2pgpu_odp_lat: %s: %s\n", dev, r.err);
		return 1;
	}
	memset(&ax, 0, sizeof(ax));
	if (ibv_query_device_ex(r.ctx, NULL, &ax) ||
	    !(ax.odp_caps.general_caps & IBV_ODP_SUPPORT) ||
	    (ax.odp_caps.per_transport_caps.rc_odp_caps & need) != need) {
		fprintf(stderr, "p2pgpu_odp_lat: %s has no RC ODP WRITE\n", dev);
		return 4;
	}
	/* rl_open() connected at the port's active MTU: again at @mtu */
	r.mtu = mtu;
	if (qp_reset(r.qp[0]) || qp_reset(r.qp[1]) ||
	    rl_qp_connect(&r, r.qp[0], r.qp[1]->qp_num) ||
	    rl_qp_connect(&r, r.qp[1], r.qp[0]->qp_num)) {
		fprintf(stderr, "p2pgpu_odp_lat: QPs at MTU %s: %s\n",
			mtu == IBV_MTU_4096 ? "4096" : "1024", r.err);
		return 1;
	}
	host = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (host == MAP_FAILED)
		return 1;
	hmr = rl_reg(&r, host, PG);
	if (!hmr) {
		fprintf(stderr, "p2pgpu_odp_lat: host MR: %s\n", r.err);
		return 1;
	}
	if (dev_info(fd, &d0) || bo_new(fd, PG, &a)) {
		fprintf(stderr, "p2pgpu_odp_lat: object: %s\n", strerror(errno));
		return 1;
	}
	evict = p2pgpu_window_cpu_map() == 1;
	method = evict ? "evict" : "zap";
	if (evict && d0.min_residency_ms) {
		fprintf(stderr, "p2pgpu_odp_lat: p2pgpu min_residency_ms=%llu: load it with min_residency_ms=0\n",
			(unsigned long long)d0.min_residency_ms);
		return 1;
	}
	if (evict && bo_new(fd, d0.window_total, &w)) {
		fprintf(stderr, "p2pgpu_odp_lat: window-sized object: %s\n", strerror(errno));
		return 1;
	}
	mr = ibv_reg_mr(r.pd, a.cpu, PG, IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!mr) {
		fprintf(stderr, "p2pgpu_odp_lat: ODP ibv_reg_mr on the object: %s\n",
			strerror(errno));
		return 1;
	}
	refault = calloc(n, sizeof(*refault));
	resident = calloc(n, sizeof(*resident));
	if (!refault || !resident)
		return 1;
	inv0 = rdma_hw_counter(dev, "odp_invalidations");
	flt0 = rdma_hw_counter(dev, "odp_page_faults");
	/* first touch by the NIC outside the samples */
	fill(host, 0xabc);
	if (timed_write(&r, hmr, mr, &refault[0])) {
		fprintf(stderr, "p2pgpu_odp_lat: first WRITE: %s\n", r.err);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (evict) {
			if (dev_info(fd, &dv))
				return 1;
			/* normally one pass; a few more if the LRU order differs */
			for (pass = 0; pass < 8; pass++) {
				for (v = 0; v < w.size; v += PG)
					((volatile uint8_t *)w.cpu)[v] = (uint8_t)(i + pass);
				memset(&bi, 0, sizeof(bi));
				bi.handle = a.handle;
				if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, &bi))
					return 1;
				if (!bi.pages_window)
					break;
			}
			if (dev_info(fd, &d1))
				return 1;
			if (bi.pages_window || d1.evictions <= dv.evictions) {
				fprintf(stderr, "p2pgpu_odp_lat: sample %lu: the page was not evicted (%llu window pages, %llu evictions)\n",
					i, (unsigned long long)bi.pages_window,
					(unsigned long long)(d1.evictions - dv.evictions));
				return 1;
			}
		} else if (madvise(a.cpu, PG, MADV_DONTNEED)) {
			fprintf(stderr, "p2pgpu_odp_lat: MADV_DONTNEED: %s\n", strerror(errno));
			return 1;
		}
		fill(host, (uint32_t)(2 * i));
		if (timed_write(&r, hmr, mr, &refault[i])) {
			fprintf(stderr, "p2pgpu_odp_lat: sample %lu, refault WRITE: %s\n", i, r.err);
			return 1;
		}
		if (memcmp(a.cpu, host, PG)) {
			fprintf(stderr, "p2pgpu_odp_lat: sample %lu: refault WRITE: bytes wrong\n", i);
			return 1;
		}
		fill(host, (uint32_t)(2 * i + 1));
		if (timed_write(&r, hmr, mr, &resident[i])) {
			fprintf(stderr, "p2pgpu_odp_lat: sample %lu, resident WRITE: %s\n", i, r.err);
			return 1;
		}
		if (memcmp(a.cpu, host, PG)) {
			fprintf(stderr, "p2pgpu_odp_lat: sample %lu: resident WRITE: bytes wrong\n", i);
			return 1;
		}
	}
	if (dev_info(fd, &d1))
		return 1;
	report("refault", method, refault, (unsigned int)n);
	report("resident", method, resident, (unsigned int)n);
	printf("odp_lat: ratio_p50 refault/resident=%.2f\n",
	       (double)pct(refault, (unsigned int)n, 50) /
	       (double)(pct(resident, (unsigned int)n, 50) ?: 1));
	printf("odp_lat: counters evictions=%llu rxe_odp_invalidations=%lld rxe_odp_page_faults=%lld\n",
	       (unsigned long long)(d1.evictions - d0.evictions),
	       inv0 < 0 ? -1 : rdma_hw_counter(dev, "odp_invalidations") - inv0,
	       flt0 < 0 ? -1 : rdma_hw_counter(dev, "odp_page_faults") - flt0);
	ibv_dereg_mr(mr);
	ibv_dereg_mr(hmr);
	rl_close(&r);
	if (evict)
		bo_free(fd, &w);
	bo_free(fd, &a);
	close(fd);
	free(refault);
	free(resident);
	return 0;
}
