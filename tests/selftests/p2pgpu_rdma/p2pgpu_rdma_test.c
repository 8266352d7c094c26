// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_rdma_test: RDMA on p2pgpu buffer objects over Soft-RoCE.
 *
 * Needs rxe0 (set up by tests/vm/suites/rdma.sh) and p2pgpu loaded with
 * window_mb=1. An object's CPU mapping is backed by struct pages, so
 * ibv_reg_mr() (ib_umem_get(), pin_user_pages_fast(FOLL_LONGTERM)) pins it
 * where the kernel pins P2PDMA pages long-term (feature gup_p2pdma_pin;
 * 6.1). Elsewhere pinned_mr_refused checks that the registration fails and
 * leaves no pin, and the tests that need such pins skip, saying why:
 *  - publish: another file (the publish node) maps published objects only;
 *    unpublish revokes its mappings (SIGBUS);
 *  - BAR placement: an MR on an object in the window pins its P2PDMA
 *    pages (counted), RDMA WRITE into it and READ from it move the right
 *    bytes, and the pins go with the MR;
 *  - pinned pages are never evicted by CPU faults cycling the window;
 *  - fallback: with every window slot pinned by an MR, a new object's CPU
 *    mapping is system pages (reason window_full), registrable and correct;
 *  - invalidation: freeing or unpublishing an object under a live MR, and
 *    kill -9 of a process with an MR and traffic in flight.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "rdma_loop.h"

#define WINDOW_PAGES	256ULL	/* window_mb=1 */
#define PG		4096ULL

static int cpu_info(int fd, uint32_t handle, struct drm_p2pgpu_bo_cpu_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->handle = handle;
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CPU_INFO, ci) ? -errno : 0;
}

static int bo_info(int fd, uint32_t handle, struct drm_p2pgpu_bo_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->handle = handle;
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, bi) ? -errno : 0;
}

static int publish(int fd, uint32_t handle, uint64_t *off)
{
	struct drm_p2pgpu_bo_publish p = { .handle = handle };

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_PUBLISH, &p))
		return -errno;
	*off = p.offset;
	return 0;
}

static int unpublish(int fd, uint32_t handle)
{
	struct drm_p2pgpu_bo_unpublish u = { .handle = handle };

	return drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_UNPUBLISH, &u) ? -errno : 0;
}

/* Open the publish node of render node @fd (/dev/p2pgpu/renderD<N>). */
static int open_pub(int fd)
{
	char path[64], sys[96];
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	snprintf(path, sizeof(path), "/dev/p2pgpu/renderD%u", minor(st.st_rdev));
	snprintf(sys, sizeof(sys), "/sys/class/misc/p2pgpu!renderD%u/dev",
		 minor(st.st_rdev));
	return open_dev_node(path, sys);
}

static void *map_pub(int nfd, uint64_t off, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, off);

	return p == MAP_FAILED ? NULL : p;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 31 + seed * 7 + (i >> 12)) ^ seed);
}

/* Index of the first wrong byte, or -1. */
static long check(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)((i * 31 + seed * 7 + (i >> 12)) ^ seed))
			return (long)i;
	return -1;
}

/* 1 if touching @p kills a child with SIGBUS, 0 if it reads fine. */
static int sigbus_on_touch(volatile uint8_t *p)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		(void)p[0];
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}

FIXTURE(rdma) {
	int gup;
	int fd;
	int nfd;
	int window;	/* CPU mappings use window pages (p2pgpu/cpu_map bar) */
	struct rl rl;
	uint8_t *host;
	size_t host_len;
};

FIXTURE_SETUP(rdma)
{
	char pci[32] = "";
	int ret;

	self->gup = p2pmap_kernel_feature("gup_p2pdma_pin");
	ASSERT_NE(-1, self->gup) TH_LOG("no gup_p2pdma_pin row in /sys/module/p2pmap/features");
	self->fd = open_gpu(0, pci, sizeof(pci));
	ASSERT_LE(0, self->fd) TH_LOG("no p2pgpu render node");
	/*
	 * Three cases. CPU mappings of window pages on a kernel that pins
	 * them (6.1): every test. Window pages on a kernel whose GUP refuses
	 * them (6.2+, gup_p2pdma_pin no): a pinned MR is refused
	 * (pinned_mr_refused), the tests that need one skip. System pages
	 * (no P2PDMA, or a fallback reason): a pinned MR pins those, and
	 * nothing about the window can be asserted: the window tests skip.
	 */
	ASSERT_NE(-1, p2pgpu_window_cpu_map());
	self->window = p2pgpu_window_cpu_map() == 1;
	self->nfd = open_pub(self->fd);
	ASSERT_LE(0, self->nfd) TH_LOG("no publish node: %s", strerror(errno));
	ret = rl_open(&self->rl, "rxe0");
	ASSERT_EQ(0, ret) TH_LOG("rxe0: %s", self->rl.err);
	self->host_len = 2 * WINDOW_PAGES * PG;
	self->host = mmap(NULL, self->host_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->host);
}

FIXTURE_TEARDOWN(rdma)
{
	rl_close(&self->rl);
	munmap(self->host, self->host_len);
	close(self->nfd);
	close(self->fd);
}

#define NO_GUP	"kernel pins no P2PDMA page long-term (gup_p2pdma_pin no): pinned MRs of window pages are refused (pinned_mr_refused)"

/*
 * Where GUP pins no P2PDMA page long-term (FOLL_PCI_P2PDMA, 6.2), an
 * unmodified pinned ibv_reg_mr() over an object whose pages are in the
 * window fails: EREMOTEIO from the P2PDMA page check, or EFAULT if GUP
 * refuses the writable shared mapping first. It must leave no pin behind
 * (counted by p2pgpu), and the object must stay usable and evictable.
 * Where it does pin them (6.1), mr_bar_write_read covers the same ground.
 */
TEST_F(rdma, pinned_mr_refused)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct drm_p2pgpu_bo_info bi;
	struct ibv_mr *mr;
	size_t len = 16 * PG;
	struct bo b;
	int err;

	if (self->gup)
		SKIP(return, "kernel pins P2PDMA pages long-term: mr_bar_write_read covers pinned MRs");
	if (!self->window)
		SKIP(return, "p2pgpu's CPU mappings use system pages on this kernel (cpu_map system): %s",
		     "a pinned MR pins those, see mr_bar_write_read");
	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	fill(b.cpu, len, 11);
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	ASSERT_EQ((__u32)P2PGPU_CPU_MAP_BAR, ci.cpu_map)
		TH_LOG("CPU mappings are not the window's P2PDMA pages");
	ASSERT_EQ(0, bo_info(self->fd, b.handle, &bi));
	ASSERT_EQ(16ULL, bi.pages_window);

	mr = ibv_reg_mr(self->rl.pd, b.cpu, len, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	err = errno;
	TH_LOG("ibv_reg_mr(writable) over window pages: %s",
	       mr ? "registered" : strerror(err));
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	else
		EXPECT_TRUE(err == EREMOTEIO || err == EFAULT);
	mr = ibv_reg_mr(self->rl.pd, b.cpu, len, IBV_ACCESS_REMOTE_READ);
	err = errno;
	TH_LOG("ibv_reg_mr(remote read) over window pages: %s",
	       mr ? "registered" : strerror(err));
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	else
		EXPECT_EQ(EREMOTEIO, err);

	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	EXPECT_EQ(0ULL, ci.pages_gup_window) TH_LOG("stale pins");
	EXPECT_EQ(0ULL, ci.pages_gup_system);
	EXPECT_EQ(0ULL, ci.dev_gup_window);
	EXPECT_EQ(0ULL, ci.dev_gup_orphans);
	EXPECT_EQ(-1, check(b.cpu, len, 11));
	bo_free(self->fd, &b);
}

/* Only published objects map through the node; unpublish revokes. */
TEST_F(rdma, publish_node)
{
	struct drm_p2pgpu_bo_publish bad = { .flags = 1 };
	struct drm_p2pgpu_bo_cpu_info ci;
	struct bo b;
	uint64_t off = 0, off2 = 0;
	uint8_t *n;

	ASSERT_EQ(0, bo_new(self->fd, 16 * PG, &b));
	ASSERT_EQ(0, bo_offset(self->fd, b.handle, &off));
	/* not published yet */
	EXPECT_EQ(NULL, map_pub(self->nfd, off, b.size));
	EXPECT_EQ(EACCES, errno);
	bad.handle = b.handle;
	EXPECT_EQ(-1, drmIoctl(self->fd, DRM_IOCTL_P2PGPU_BO_PUBLISH, &bad));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, unpublish(self->fd, b.handle));

	ASSERT_EQ(0, publish(self->fd, b.handle, &off2));
	ASSERT_EQ(off, off2);
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	EXPECT_EQ(1U, ci.published);
	/* past the end of the object */
	EXPECT_EQ(NULL, map_pub(self->nfd, off, b.size + PG));
	EXPECT_EQ(EINVAL, errno);
	n = map_pub(self->nfd, off, b.size);
	ASSERT_NE(NULL, n);
	fill(n, b.size, 1);
	EXPECT_EQ(-1, check(b.cpu, b.size, 1));
	fill(b.cpu, PG, 2);
	EXPECT_EQ(-1, check(n, PG, 2));

	ASSERT_EQ(0, unpublish(self->fd, b.handle));
	EXPECT_EQ(1, sigbus_on_touch(n));
	EXPECT_EQ(0, sigbus_on_touch(b.cpu)) TH_LOG("owner mapping must survive");
	EXPECT_EQ(-1, check(b.cpu, PG, 2));
	munmap(n, b.size);
	bo_free(self->fd, &b);
}

/*
 * An MR on an object: BAR placement where CPU mappings use the window,
 * system pages (the reported fallback) where they do not; data both ways.
 */
TEST_F(rdma, mr_bar_write_read)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct drm_p2pgpu_bo_info bi;
	struct ibv_mr *hmr, *bmr;
	struct bo b;
	uint64_t off = 0;
	uint8_t *n;
	size_t len = 16 * PG;
	int ret;

	if (self->window && !self->gup)
		SKIP(return, "%s", NO_GUP);

	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	ASSERT_EQ(0, publish(self->fd, b.handle, &off));
	n = map_pub(self->nfd, off, len);
	ASSERT_NE(NULL, n);
	hmr = rl_reg(&self->rl, self->host, self->host_len);
	ASSERT_NE(NULL, hmr) TH_LOG("%s", self->rl.err);
	bmr = rl_reg(&self->rl, n, len);
	ASSERT_NE(NULL, bmr) TH_LOG("%s", self->rl.err);

	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	TH_LOG("registered: cpu_map %u, gup window %llu, gup system %llu, fallback %u",
	       ci.cpu_map, (unsigned long long)ci.pages_gup_window,
	       (unsigned long long)ci.pages_gup_system, ci.fallback);
	if (self->window) {
		EXPECT_EQ((__u32)P2PGPU_CPU_MAP_BAR, ci.cpu_map);
		EXPECT_EQ(16ULL, ci.pages_gup_window);
		EXPECT_EQ(0ULL, ci.pages_gup_system);
		EXPECT_EQ(0ULL, ci.pages_cpu_system);
		EXPECT_LE(16ULL, ci.dev_gup_window);
	} else {
		EXPECT_NE((__u32)P2PGPU_CPU_MAP_BAR, ci.cpu_map);
		EXPECT_EQ(0ULL, ci.pages_gup_window);
		EXPECT_EQ(16ULL, ci.pages_gup_system);
		EXPECT_NE(0U, ci.fallback) TH_LOG("the fallback has a reason");
	}

	/* host -> device memory, checked through the owner's mapping */
	fill(self->host, len, 3);
	ret = rl_rdma(&self->rl, IBV_WR_RDMA_WRITE, hmr, self->host, bmr, n,
		      len);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(-1, check(b.cpu, len, 3));
	ASSERT_EQ(0, bo_info(self->fd, b.handle, &bi));
	EXPECT_EQ(self->window ? 16ULL : 0ULL, bi.pages_window)
		TH_LOG("the data must be in the BAR exactly where CPU mappings use it");

	/* device memory -> host */
	fill(b.cpu, len, 4);
	memset(self->host + len, 0, len);
	ret = rl_rdma(&self->rl, IBV_WR_RDMA_READ, hmr, self->host + len, bmr,
		      n, len);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(-1, check(self->host + len, len, 4));

	EXPECT_EQ(0, ibv_dereg_mr(bmr));
	EXPECT_EQ(0, ibv_dereg_mr(hmr));
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	EXPECT_EQ(0ULL, ci.pages_gup_window) TH_LOG("the pins go with the MR");
	munmap(n, len);
	bo_free(self->fd, &b);
}

/* CPU faults cycling the whole window never evict pages an MR pins. */
TEST_F(rdma, mr_pages_not_evicted)
{
	struct drm_p2pgpu_bo_cpu_info ci0, ci1;
	struct drm_p2pgpu_bo_info bi;
	struct ibv_mr *hmr, *bmr;
	struct bo b, big;
	size_t len = 16 * PG, i;
	int ret;

	if (!self->window)
		SKIP(return, "p2pgpu's CPU mappings use system pages on this kernel (cpu_map system): %s",
		     "no window page for an MR to pin against eviction");
	if (!self->gup)
		SKIP(return, "%s", NO_GUP);

	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	fill(b.cpu, len, 5);
	bmr = rl_reg(&self->rl, b.cpu, len);
	ASSERT_NE(NULL, bmr) TH_LOG("%s", self->rl.err);
	hmr = rl_reg(&self->rl, self->host, self->host_len);
	ASSERT_NE(NULL, hmr) TH_LOG("%s", self->rl.err);
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci0));
	EXPECT_EQ(16ULL, ci0.pages_gup_window);

	ASSERT_EQ(0, bo_new(self->fd, 2 * WINDOW_PAGES * PG, &big));
	for (i = 0; i < big.size; i += PG)
		big.cpu[i] = 1;
	ASSERT_EQ(0, bo_info(self->fd, b.handle, &bi));
	EXPECT_EQ(16ULL, bi.pages_window);
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci1));
	EXPECT_EQ(16ULL, ci1.pages_gup_window);
	EXPECT_LT(ci0.dev_gup_keeps, ci1.dev_gup_keeps)
		TH_LOG("evictions must have skipped the pinned pages");
	memset(self->host, 0, len);
	ret = rl_rdma(&self->rl, IBV_WR_RDMA_READ, hmr, self->host, bmr,
		      b.cpu, len);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(-1, check(self->host, len, 5));
	EXPECT_EQ(0, ibv_dereg_mr(bmr));
	EXPECT_EQ(0, ibv_dereg_mr(hmr));
	bo_free(self->fd, &big);
	bo_free(self->fd, &b);
}

/* Every slot pinned by an MR: the next mapping falls back to system pages. */
TEST_F(rdma, fallback_window_full)
{
	struct drm_p2pgpu_bo_cpu_info ci, cw;
	struct ibv_mr *hmr, *wmr, *bmr;
	struct bo w, b;
	size_t len = 16 * PG;
	int ret;

	if (!self->window)
		SKIP(return, "p2pgpu's CPU mappings use system pages on this kernel (cpu_map system): %s",
		     "no window for an MR to fill");
	if (!self->gup)
		SKIP(return, "%s", NO_GUP);

	ASSERT_EQ(0, bo_new(self->fd, WINDOW_PAGES * PG, &w));
	wmr = rl_reg(&self->rl, w.cpu, w.size);
	ASSERT_NE(NULL, wmr) TH_LOG("%s", self->rl.err);
	ASSERT_EQ(0, cpu_info(self->fd, w.handle, &cw));
	ASSERT_EQ(WINDOW_PAGES, cw.pages_gup_window)
		TH_LOG("the whole window must be pinned by the first MR");

	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	bmr = rl_reg(&self->rl, b.cpu, len);
	ASSERT_NE(NULL, bmr) TH_LOG("%s", self->rl.err);
	hmr = rl_reg(&self->rl, self->host, self->host_len);
	ASSERT_NE(NULL, hmr) TH_LOG("%s", self->rl.err);
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	TH_LOG("fallback: gup system %llu, cpu system %llu, reason %u, device fallbacks %llu",
	       (unsigned long long)ci.pages_gup_system,
	       (unsigned long long)ci.pages_cpu_system, ci.fallback,
	       (unsigned long long)ci.dev_cpu_fallbacks);
	EXPECT_EQ(0ULL, ci.pages_gup_window);
	EXPECT_EQ(16ULL, ci.pages_gup_system);
	EXPECT_EQ(16ULL, ci.pages_cpu_system);
	EXPECT_EQ((__u32)P2PGPU_FALLBACK_WINDOW_FULL, ci.fallback);
	EXPECT_LE(cw.dev_cpu_fallbacks + 16, ci.dev_cpu_fallbacks);

	fill(self->host, len, 6);
	ret = rl_rdma(&self->rl, IBV_WR_RDMA_WRITE, hmr, self->host, bmr,
		      b.cpu, len);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(-1, check(b.cpu, len, 6));

	EXPECT_EQ(0, ibv_dereg_mr(wmr));
	EXPECT_EQ(0, ibv_dereg_mr(bmr));
	EXPECT_EQ(0, ibv_dereg_mr(hmr));
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	EXPECT_EQ(0ULL, ci.pages_gup_system);
	EXPECT_EQ(0ULL, ci.dev_gup_window);
	/* unpinned, the fallback pages may move into the window again */
	bo_free(self->fd, &w);
	EXPECT_EQ(-1, check(b.cpu, len, 6));
	bo_free(self->fd, &b);
}

/* Freeing an object under a live MR: its slots stay pinned (orphans). */
TEST_F(rdma, free_under_mr)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct ibv_mr *hmr, *bmr;
	struct bo b, probe;
	size_t len = 16 * PG;
	uint8_t *p;
	int ret;

	if (!self->window)
		SKIP(return, "p2pgpu's CPU mappings use system pages on this kernel (cpu_map system): %s",
		     "no window slot for a freed object's MR to keep pinned");
	if (!self->gup)
		SKIP(return, "%s", NO_GUP);

	ASSERT_EQ(0, bo_new(self->fd, PG, &probe));
	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	p = b.cpu;
	bmr = rl_reg(&self->rl, p, len);
	ASSERT_NE(NULL, bmr) TH_LOG("%s", self->rl.err);
	hmr = rl_reg(&self->rl, self->host, self->host_len);
	ASSERT_NE(NULL, hmr) TH_LOG("%s", self->rl.err);
	/* free it: handle and mapping gone, the MR still pins the pages */
	bo_free(self->fd, &b);
	ASSERT_EQ(0, cpu_info(self->fd, probe.handle, &ci));
	EXPECT_EQ(16ULL, ci.dev_gup_orphans);
	EXPECT_EQ(16ULL, ci.dev_gup_window);
	/* traffic on the MR still completes: it writes the orphaned slots */
	fill(self->host, len, 7);
	ret = rl_rdma(&self->rl, IBV_WR_RDMA_WRITE, hmr, self->host, bmr, p,
		      len);
	EXPECT_EQ(0, ret) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(0, ibv_dereg_mr(bmr));
	ASSERT_EQ(0, cpu_info(self->fd, probe.handle, &ci));
	EXPECT_EQ(0ULL, ci.dev_gup_orphans) TH_LOG("orphans reaped after dereg");
	EXPECT_EQ(0ULL, ci.dev_gup_window);
	EXPECT_EQ(0, ibv_dereg_mr(hmr));
	bo_free(self->fd, &probe);
}

/* Unpublish under a live MR: the MR keeps the same (pinned) pages. */
TEST_F(rdma, unpublish_under_mr)
{
	struct ibv_mr *hmr, *bmr;
	struct bo b;
	size_t len = 16 * PG;
	uint64_t off = 0;
	uint8_t *n;
	int ret;

	if (self->window && !self->gup)
		SKIP(return, "%s", NO_GUP);

	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	ASSERT_EQ(0, publish(self->fd, b.handle, &off));
	n = map_pub(self->nfd, off, len);
	ASSERT_NE(NULL, n);
	bmr = rl_reg(&self->rl, n, len);
	ASSERT_NE(NULL, bmr) TH_LOG("%s", self->rl.err);
	hmr = rl_reg(&self->rl, self->host, self->host_len);
	ASSERT_NE(NULL, hmr) TH_LOG("%s", self->rl.err);
	ASSERT_EQ(0, unpublish(self->fd, b.handle));
	EXPECT_EQ(1, sigbus_on_touch(n));
	fill(self->host, len, 8);
	ret = rl_rdma(&self->rl, IBV_WR_RDMA_WRITE, hmr, self->host, bmr, n,
		      len);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->rl.err);
	EXPECT_EQ(-1, check(b.cpu, len, 8))
		TH_LOG("the owner sees what the MR wrote: same pinned pages");
	EXPECT_EQ(0, ibv_dereg_mr(bmr));
	EXPECT_EQ(0, ibv_dereg_mr(hmr));
	munmap(n, len);
	bo_free(self->fd, &b);
}

/* kill -9 of a process with an MR and RDMA traffic in flight. */
TEST_F(rdma, kill9_mid_transfer)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct bo b;
	size_t len = 16 * PG;
	uint64_t off = 0;
	int pfd[2], status, i;
	char c;
	pid_t pid;

	if (self->window && !self->gup)
		SKIP(return, "%s", NO_GUP);

	ASSERT_EQ(0, bo_new(self->fd, len, &b));
	ASSERT_EQ(0, publish(self->fd, b.handle, &off));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ibv_mr *hmr, *bmr;
		struct rl r;
		uint8_t *n;
		int nfd = open_pub(self->fd);

		n = nfd < 0 ? NULL : map_pub(nfd, off, len);
		if (!n || rl_open(&r, "rxe0"))
			_exit(2);
		bmr = rl_reg(&r, n, len);
		hmr = rl_reg(&r, self->host, self->host_len);
		if (!bmr || !hmr)
			_exit(3);
		for (i = 0;; i++) {
			if (rl_rdma(&r, i & 1 ? IBV_WR_RDMA_READ :
				    IBV_WR_RDMA_WRITE, hmr, self->host, bmr, n,
				    len))
				_exit(4);
			if (i == 0 && write(pfd[1], "x", 1) != 1)
				_exit(5);
		}
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1)) TH_LOG("child could not start traffic");
	close(pfd[0]);
	ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
	EXPECT_EQ(16ULL, self->window ? ci.pages_gup_window : ci.pages_gup_system);
	usleep(200000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, cpu_info(self->fd, b.handle, &ci));
		if (!ci.pages_gup_window && !ci.pages_gup_system)
			break;
		usleep(100000);
	}
	EXPECT_EQ(0ULL, ci.pages_gup_window) TH_LOG("pins released at exit");
	EXPECT_EQ(0ULL, ci.pages_gup_system) TH_LOG("pins released at exit");
	fill(b.cpu, len, 9);
	EXPECT_EQ(-1, check(b.cpu, len, 9));
	bo_free(self->fd, &b);
}

TEST_HARNESS_MAIN
