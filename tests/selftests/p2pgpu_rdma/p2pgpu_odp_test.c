// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_odp_test: On-Demand Paging MRs (IBV_ACCESS_ON_DEMAND) over p2pgpu
 * memory, on Soft-RoCE.
 *
 * An ODP MR does not pin: the NIC resolves the pages of the CPU mapping
 * with hmm_range_fault() under an mmu interval notifier. When p2pgpu
 * evicts an object's page from the window, it zaps the CPU PTE, the NIC's
 * mapping is invalidated, and the next access faults it back in (in the
 * window again, or in system memory when the window is full). This is how
 * an upstream RDMA driver revalidates p2pmap memory on 6.2+ kernels, where
 * GUP refuses to pin P2PDMA pages.
 *
 *  - window: RDMA WRITE into an object, READ back, bytes checked through
 *    the object's CPU mapping, placement reported;
 *  - subpage: a 16-byte WRITE to page 1 + 0x100 lands there and nowhere
 *    else (rxe before the fix in tests/vm/patches/7.3 puts it at +0);
 *  - evict_under_traffic: a second thread cycles the whole window with
 *    CPU faults on another object while WRITEs stream into the MR; the
 *    invalidations and re-faults are counted (p2pgpu's evictions and
 *    placements, rxe's ODP counters where the kernel has them) and the
 *    last round's bytes verify, through the CPU and through an RDMA READ;
 *  - device_private: process memory migrated to the GPU (device-private
 *    pages) under an ODP MR: a NIC fault migrates it back to RAM (upstream
 *    has no peer path to device-private pages), counted by p2pgpu's SVM
 *    counters, and the data is right.
 *
 * Environment (set by tests/vm/suites/odp.sh):
 *   P2PMAP_ODP_MTU=1024|4096   path MTU of the loopback QPs (default 4096)
 *   P2PMAP_ODP_KNOWN_BUG=text  the kernel's rxe misplaces sub-page ODP data:
 *                              tests that need sub-page placement skip,
 *                              naming this text; the others run page-aligned
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_selftest.h"
#include "rdma_counter.h"
#include "rdma_loop.h"

#define PG		4096ULL
#define OBJ_PAGES	128ULL
#define WR_CHUNK	(64 * 1024)

static uint32_t pat(size_t i, uint32_t seed)
{
	return (uint32_t)(i * 2654435761u) ^ seed;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		uint32_t v = pat(i / 4, seed);

		memcpy(p + i, &v, 4);
	}
}

/* Bytes of @p[0..len) that differ from the pattern; first bad offset. */
static size_t mismatches(const uint8_t *p, size_t len, uint32_t seed, long *first)
{
	size_t i, bad = 0;

	*first = -1;
	for (i = 0; i + 4 <= len; i += 4) {
		uint32_t v = pat(i / 4, seed), g;
		int b;

		memcpy(&g, p + i, 4);
		if (g == v)
			continue;
		for (b = 0; b < 4; b++)
			if (((g >> (8 * b)) & 0xff) != ((v >> (8 * b)) & 0xff))
				bad++;
		if (*first < 0)
			*first = (long)i;
	}
	return bad;
}

static int qp_reset(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE) ? -errno : 0;
}

static int odp_reg(struct rl *r, void *addr, size_t len, struct ibv_mr **mr)
{
	*mr = ibv_reg_mr(r->pd, addr, len, IBV_ACCESS_ON_DEMAND |
			 IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			 IBV_ACCESS_REMOTE_READ);
	return *mr ? 0 : -errno;
}

/* One RDMA op on qp[0] from @lmr+@loff to @rmr+@roff, waited for. */
static int rdma_op(struct rl *r, enum ibv_wr_opcode op, struct ibv_mr *lmr,
		   size_t loff, struct ibv_mr *rmr, size_t roff, size_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)lmr->addr + loff,
		.length = (uint32_t)len,
		.lkey = lmr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;
	time_t t0 = time(NULL);
	int n;

	wr.wr.rdma.remote_addr = (uintptr_t)rmr->addr + roff;
	wr.wr.rdma.rkey = rmr->rkey;
	if (ibv_post_send(r->qp[0], &wr, &bad))
		return -errno;
	do {
		n = ibv_poll_cq(r->cq, 1, &wc);
		if (n < 0)
			return -EIO;
		if (!n && time(NULL) - t0 > 60)
			return -ETIMEDOUT;
	} while (!n);
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(r->err, sizeof(r->err), "completion: %s",
			 ibv_wc_status_str(wc.status));
		return -EIO;
	}
	return 0;
}

/* WRITE (or READ) @len bytes in WR_CHUNK work requests. */
static int rdma_stream(struct rl *r, enum ibv_wr_opcode op, struct ibv_mr *lmr,
		       struct ibv_mr *rmr, size_t len)
{
	size_t off;
	int ret;

	for (off = 0; off < len; off += WR_CHUNK) {
		ret = rdma_op(r, op, lmr, off, rmr, off,
			      len - off < WR_CHUNK ? len - off : WR_CHUNK);
		if (ret)
			return ret;
	}
	return 0;
}

static void placement(int fd, uint32_t handle, char *buf, size_t len)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct drm_p2pgpu_bo_info bi;

	memset(&bi, 0, sizeof(bi));
	bi.handle = handle;
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, &bi) ||
	    bo_cpu_info(fd, handle, &ci)) {
		snprintf(buf, len, "unknown (%s)", strerror(errno));
		return;
	}
	snprintf(buf, len,
		 "%llu window (BAR) pages, %llu device-only, %llu CPU-mapped system pages; cpu_map %s",
		 (unsigned long long)bi.pages_window,
		 (unsigned long long)bi.pages_device,
		 (unsigned long long)ci.pages_cpu_system,
		 ci.cpu_map == P2PGPU_CPU_MAP_BAR ? "bar" : "system");
}

FIXTURE(odp) {
	int fd;
	struct rl rl;
	uint8_t *host;
	size_t host_len;
	struct ibv_mr *hmr;
	const char *known_bug;
};

FIXTURE_SETUP(odp)
{
	struct ibv_device_attr_ex ax;
	const char *mtu = getenv("P2PMAP_ODP_MTU");
	uint32_t need = IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ;
	char pci[32] = "";
	int ret;

	self->known_bug = getenv("P2PMAP_ODP_KNOWN_BUG");
	if (self->known_bug && !*self->known_bug)
		self->known_bug = NULL;	/* the suite exports it empty */
	self->fd = open_gpu(0, pci, sizeof(pci));
	ASSERT_LE(0, self->fd) TH_LOG("no p2pgpu render node");
	ret = rl_open(&self->rl, "rxe0");
	ASSERT_EQ(0, ret) TH_LOG("rxe0: %s", self->rl.err);
	memset(&ax, 0, sizeof(ax));
	ASSERT_EQ(0, ibv_query_device_ex(self->rl.ctx, NULL, &ax));
	if (!(ax.odp_caps.general_caps & IBV_ODP_SUPPORT) ||
	    (ax.odp_caps.per_transport_caps.rc_odp_caps & need) != need)
		SKIP(return, "rxe0 has no RC ODP WRITE/READ (odp general 0x%llx rc 0x%x)",
		     (unsigned long long)ax.odp_caps.general_caps,
		     ax.odp_caps.per_transport_caps.rc_odp_caps);
	TH_LOG("rxe0 ODP caps: general 0x%llx, rc 0x%x",
	       (unsigned long long)ax.odp_caps.general_caps,
	       ax.odp_caps.per_transport_caps.rc_odp_caps);
	/*
	 * rl_open() connected the QPs at the port's active MTU: back to RESET
	 * and connected again at the one asked for (rxe takes a path MTU
	 * above the port's active MTU).
	 */
	self->rl.mtu = mtu && !strcmp(mtu, "1024") ? IBV_MTU_1024 : IBV_MTU_4096;
	ASSERT_EQ(0, qp_reset(self->rl.qp[0]));
	ASSERT_EQ(0, qp_reset(self->rl.qp[1]));
	ASSERT_EQ(0, rl_qp_connect(&self->rl, self->rl.qp[0], self->rl.qp[1]->qp_num))
		TH_LOG("%s", self->rl.err);
	ASSERT_EQ(0, rl_qp_connect(&self->rl, self->rl.qp[1], self->rl.qp[0]->qp_num))
		TH_LOG("%s", self->rl.err);
	self->host_len = 2 * OBJ_PAGES * PG;
	self->host = mmap(NULL, self->host_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->host);
	self->hmr = rl_reg(&self->rl, self->host, self->host_len);
	ASSERT_NE(NULL, self->hmr) TH_LOG("%s", self->rl.err);
	TH_LOG("path MTU %s, %s", self->rl.mtu == IBV_MTU_1024 ? "1024" : "4096",
	       self->known_bug ? self->known_bug : "no known rxe ODP bug on this kernel");
}

FIXTURE_TEARDOWN(odp)
{
	if (self->hmr)
		ibv_dereg_mr(self->hmr);
	rl_close(&self->rl);
	munmap(self->host, self->host_len);
	close(self->fd);
}

/* WRITE into an object through an ODP MR, READ it back; bytes checked. */
TEST_F(odp, window)
{
	struct ibv_mr *mr;
	struct bo b;
	size_t len = OBJ_PAGES * PG, bad;
	char where[200];
	long first;

	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	ASSERT_EQ(0, odp_reg(&self->rl, b.cpu, len, &mr))
		TH_LOG("ODP ibv_reg_mr on the object: %s", strerror(errno));
	fill(self->host, len, 0x1111);
	ASSERT_EQ(0, rdma_stream(&self->rl, IBV_WR_RDMA_WRITE, self->hmr, mr, len))
		TH_LOG("%s", self->rl.err);
	bad = mismatches(b.cpu, len, 0x1111, &first);
	EXPECT_EQ(0U, bad) TH_LOG("RDMA WRITE: %zu of %zu bytes wrong, first at 0x%lx",
				  bad, len, first);
	memset(self->host + len, 0, len);
	fill(b.cpu, len, 0x2222);
	ASSERT_EQ(0, rdma_op(&self->rl, IBV_WR_RDMA_READ, self->hmr, len, mr, 0, len))
		TH_LOG("%s", self->rl.err);
	bad = mismatches(self->host + len, len, 0x2222, &first);
	EXPECT_EQ(0U, bad) TH_LOG("RDMA READ: %zu of %zu bytes wrong, first at 0x%lx",
				  bad, len, first);
	placement(self->fd, b.handle, where, sizeof(where));
	TH_LOG("placement: %s", where);
	ibv_dereg_mr(mr);
	bo_free(self->fd, &b);
}

/* A 16-byte WRITE to page 1 + 0x100 lands there, and only there. */
TEST_F(odp, subpage)
{
	struct ibv_mr *mr;
	struct bo b;
	size_t len = 4 * PG, i;
	size_t dst = PG + 0x100;
	long first;

	if (self->known_bug)
		SKIP(return, "sub-page ODP placement: %s", self->known_bug);
	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	ASSERT_EQ(0, odp_reg(&self->rl, b.cpu, len, &mr));
	memset(b.cpu, 0xee, len);
	fill(self->host, 64, 0x3333);
	ASSERT_EQ(0, rdma_op(&self->rl, IBV_WR_RDMA_WRITE, self->hmr, 0,
			     mr, dst, 16)) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(0U, mismatches(b.cpu + dst, 16, 0x3333, &first))
		TH_LOG("the 16 bytes are not at page1+0x100 (first wrong at +0x%lx)", first);
	for (i = 0; i < len; i++)
		if ((i < dst || i >= dst + 16) && b.cpu[i] != 0xee)
			break;
	EXPECT_EQ(len, i) TH_LOG("byte 0x%zx outside the target changed", i);
	ibv_dereg_mr(mr);
	bo_free(self->fd, &b);
}

struct cycler {
	uint8_t *cpu;
	size_t len;
	atomic_int stop;
	unsigned long passes;
};

/* Touch every page of another object until told to stop: each CPU fault
 * takes a window slot, evicting the LRU page (ours, under the ODP MR). */
static void *cycle_window(void *arg)
{
	struct cycler *c = arg;
	size_t off;

	while (!atomic_load(&c->stop)) {
		for (off = 0; off < c->len; off += PG)
			((volatile uint8_t *)c->cpu)[off] = (uint8_t)c->passes;
		c->passes++;
	}
	return NULL;
}

TEST_F_TIMEOUT(odp, evict_under_traffic, 240)
{
	struct drm_p2pgpu_device_info d0, d1;
	long long inv0, flt0, inv1, flt1;
	size_t len = OBJ_PAGES * PG, bad;
	struct cycler c = { 0 };
	struct ibv_mr *mr;
	char where[200];
	pthread_t th;
	struct bo a, b;
	uint32_t seed = 0;
	long first;
	int round;

	ASSERT_EQ(0, dev_info(self->fd, &d0));
	if (d0.min_residency_ms)
		SKIP(return, "p2pgpu min_residency_ms=%llu: pages cannot be evicted under traffic",
		     (unsigned long long)d0.min_residency_ms);
	ASSERT_EQ(0, bo_new(self->fd, len, &a));
	/* the cycler's object covers the whole window */
	ASSERT_EQ(0, bo_new(self->fd, d0.window_total, &b));
	ASSERT_EQ(0, odp_reg(&self->rl, a.cpu, len, &mr));
	inv0 = rdma_hw_counter("rxe0", "odp_invalidations");
	flt0 = rdma_hw_counter("rxe0", "odp_page_faults");
	c.cpu = b.cpu;
	c.len = b.size;
	ASSERT_EQ(0, pthread_create(&th, NULL, cycle_window, &c));
	for (round = 0; round < 12; round++) {
		seed = 0x5000 + round;
		fill(self->host, len, seed);
		if (rdma_stream(&self->rl, IBV_WR_RDMA_WRITE, self->hmr, mr, len))
			break;
	}
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	ASSERT_EQ(12, round) TH_LOG("round %d: %s", round, self->rl.err);
	ASSERT_EQ(0, dev_info(self->fd, &d1));
	inv1 = rdma_hw_counter("rxe0", "odp_invalidations");
	flt1 = rdma_hw_counter("rxe0", "odp_page_faults");
	bad = mismatches(a.cpu, len, seed, &first);
	EXPECT_EQ(0U, bad) TH_LOG("after eviction: %zu of %zu bytes wrong (CPU view), first at 0x%lx",
				  bad, len, first);
	memset(self->host + len, 0, len);
	ASSERT_EQ(0, rdma_op(&self->rl, IBV_WR_RDMA_READ, self->hmr, len, mr, 0, len))
		TH_LOG("%s", self->rl.err);
	bad = mismatches(self->host + len, len, seed, &first);
	EXPECT_EQ(0U, bad) TH_LOG("RDMA READ after eviction: %zu bytes wrong, first at 0x%lx",
				  bad, first);
	placement(self->fd, a.handle, where, sizeof(where));
	TH_LOG("12 rounds of %zu KiB, %lu window cycles; p2pgpu: %llu evictions, %llu placements, %llu CPU faults",
	       len >> 10, c.passes,
	       (unsigned long long)(d1.evictions - d0.evictions),
	       (unsigned long long)(d1.placements - d0.placements),
	       (unsigned long long)(d1.cpu_faults - d0.cpu_faults));
	if (inv0 >= 0 && flt0 >= 0)
		TH_LOG("rxe0: %lld ODP invalidations, %lld ODP page faults", inv1 - inv0, flt1 - flt0);
	else
		TH_LOG("rxe0: this kernel's rxe has no ODP counters (odp_invalidations, odp_page_faults)");
	TH_LOG("placement at the end: %s", where);
	if (p2pgpu_window_cpu_map() == 1) {
		/* the window was cycled under the MR: it must have seen it */
		EXPECT_LT(0ULL, d1.evictions - d0.evictions);
		if (inv0 >= 0) {
			EXPECT_LT(0, inv1 - inv0);
			EXPECT_LT(0, flt1 - flt0);
		}
	}
	ibv_dereg_mr(mr);
	bo_free(self->fd, &b);
	bo_free(self->fd, &a);
}

TEST_F(odp, device_private)
{
	struct drm_p2pgpu_svm_info s0, s1;
	struct drm_p2pgpu_svm_migrate m;
	size_t len = 32 * PG, bad;
	struct ibv_mr *mr;
	uint8_t *buf;
	long first;

	memset(&s0, 0, sizeof(s0));
	if (drmIoctl(self->fd, DRM_IOCTL_P2PGPU_SVM_INFO, &s0) ||
	    !(s0.flags & P2PGPU_SVM_DEVICE_PRIVATE))
		SKIP(return, "no device-private SVM on this kernel (SVM_INFO: %s, flags 0x%x)",
		     strerror(errno), s0.flags);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x77, len);
	memset(&m, 0, sizeof(m));
	m.addr = (uintptr_t)buf;
	m.length = len;
	m.op = P2PGPU_SVM_TO_DEVICE;
	ASSERT_EQ(0, drmIoctl(self->fd, DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m));
	ASSERT_EQ(len / PG, m.moved) TH_LOG("only %llu pages moved to the device",
					    (unsigned long long)m.moved);
	/* Registration does not touch the pages; the first NIC access does. */
	ASSERT_EQ(0, odp_reg(&self->rl, buf, len, &mr));
	fill(self->host, len, 0x6666);
	ASSERT_EQ(0, rdma_stream(&self->rl, IBV_WR_RDMA_WRITE, self->hmr, mr, len))
		TH_LOG("%s", self->rl.err);
	memset(&s1, 0, sizeof(s1));
	ASSERT_EQ(0, drmIoctl(self->fd, DRM_IOCTL_P2PGPU_SVM_INFO, &s1));
	TH_LOG("NIC faults on device-private pages: %llu pages migrated back to RAM (migrate_to_ram), %llu in use on the device",
	       (unsigned long long)(s1.cpu_faults - s0.cpu_faults),
	       (unsigned long long)s1.pages_used);
	/* upstream has no peer path: every page came back to RAM */
	EXPECT_EQ(len / PG, s1.cpu_faults - s0.cpu_faults);
	bad = mismatches(buf, len, 0x6666, &first);
	EXPECT_EQ(0U, bad) TH_LOG("%zu bytes wrong, first at 0x%lx", bad, first);
	ibv_dereg_mr(mr);
	munmap(buf, len);
}

TEST_HARNESS_MAIN
