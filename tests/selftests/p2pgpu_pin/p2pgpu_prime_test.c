// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu PRIME tests: buffer objects exported as dma-bufs. Through libdrm:
 * export and self-import give back the same object, a dma-buf mmap is
 * coherent with the object's own mapping (also across evictions, which
 * must zap it), imports of other devices' buffers are refused, and the
 * object lives as long as its last user. Through the in-kernel importer
 * p2pgpu_dmabuf_test.ko, which maps attachments for the edu DMA engine:
 * a static attachment gets system pages pinned device-only, a
 * peer-to-peer attachment gets BAR bus addresses pinned in the window on
 * the switch (system pages on the root bus), data moves both ways and
 * matches the object's CPU mapping, CPU pressure does not move a mapped
 * object, an object larger than the window falls back to system pages, and
 * pins are dropped on detach and when the importing process dies.
 *
 * The suite (tests/vm/suites/pin.sh) loads p2pgpu with window_mb=1 (256
 * window pages) and min_residency_ms=0.
 */
#define _GNU_SOURCE /* F_ADD_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/memfd.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_drm.h"
#include "p2pgpu_dmabuf_test_uapi.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"

#define PG		4096UL
#define WINDOW_PAGES	256UL
#define DBT_RD		P2PGPU_DMABUF_TEST_IOC_READ
#define DBT_WR		P2PGPU_DMABUF_TEST_IOC_WRITE

static int export_fd(int gpu, uint32_t handle, int *fd)
{
	return drmPrimeHandleToFD(gpu, handle, DRM_CLOEXEC | DRM_RDWR, fd) ?
	       -errno : 0;
}

static int bo_info(int gpu, uint32_t handle, struct drm_p2pgpu_bo_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->handle = handle;
	return drmIoctl(gpu, DRM_IOCTL_P2PGPU_BO_INFO, bi) ? -errno : 0;
}

static int dbt_attach(int dfd, int fd, uint32_t flags,
		      struct p2pgpu_dmabuf_test_attach *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->flags = flags;
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_ATTACH, a) ? -errno : 0;
}

static int dbt_detach(int dfd)
{
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_DETACH) ? -errno : 0;
}

static int dbt_xfer(int dfd, unsigned long cmd, size_t off, size_t len,
		    void *buf)
{
	struct p2pgpu_dmabuf_test_xfer x = {
		.offset = off, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(dfd, cmd, &x) ? -errno : 0;
}

/* Touch one byte of every page of a new @npages object: evicts others. */
static int cpu_pressure(int gpu, size_t npages, struct bo *big)
{
	size_t i;
	int ret;

	ret = bo_new(gpu, npages * PG, big);
	if (ret)
		return ret;
	for (i = 0; i < npages; i++)
		big->cpu[i * PG] = (uint8_t)i;
	return 0;
}

FIXTURE(prime) {
	int gpu;
	int dfd;
	bool p2p;
	char pci[32];
};

FIXTURE_SETUP(prime)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();
	struct drm_p2pgpu_device_info di;

	ASSERT_NE(P2PMAP_PAIR_INVALID, t)
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	ASSERT_NE(-1, p2pmap_kernel_feature("pci_p2pdma"));
	self->p2p = p2pmap_p2p_possible();
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->dfd = open("/dev/" P2PGPU_DMABUF_TEST_DEVNAME, O_RDWR);
	ASSERT_LE(0, self->dfd) TH_LOG("no /dev/" P2PGPU_DMABUF_TEST_DEVNAME);
	ASSERT_EQ(0, dev_info(self->gpu, &di));
	ASSERT_EQ(WINDOW_PAGES * PG, di.window_total);
	ASSERT_EQ(0ULL, di.window_pinned);
	ASSERT_EQ(0ULL, di.device_pinned);
}

FIXTURE_TEARDOWN(prime)
{
	close(self->dfd);
	close(self->gpu);
}

/* Export, then import on the same device: the same object comes back. */
TEST_F(prime, export_and_self_import)
{
	struct drm_p2pgpu_device_info d0, d1;
	struct drm_p2pgpu_bo_info bi;
	uint8_t pat[4 * PG];
	struct stat st1, st2;
	uint32_t h = 0, h2 = 0;
	int fd = -1, fd2 = -1, gpu2;
	char pci[32];
	uint8_t *m2;
	struct bo b;

	ASSERT_EQ(0, dev_info(self->gpu, &d0));
	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	ASSERT_EQ(0, drmPrimeFDToHandle(self->gpu, fd, &h));
	EXPECT_EQ(b.handle, h);
	/* A second export is the same dma-buf. */
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd2));
	ASSERT_EQ(0, fstat(fd, &st1));
	ASSERT_EQ(0, fstat(fd2, &st2));
	EXPECT_EQ(st1.st_ino, st2.st_ino);
	close(fd2);

	/* Another file of the same device imports the same object. */
	snprintf(pci, sizeof(pci), "%s", self->pci);
	gpu2 = open_gpu(0, pci, sizeof(pci));
	ASSERT_LE(0, gpu2);
	ASSERT_EQ(0, drmPrimeFDToHandle(gpu2, fd, &h2));
	ASSERT_EQ(0, bo_info(gpu2, h2, &bi));
	EXPECT_EQ(4 * PG, bi.size);
	ASSERT_EQ(0, dev_info(self->gpu, &d1));
	EXPECT_EQ(d0.vram_used + 4 * PG, d1.vram_used);
	m2 = bo_map(gpu2, h2, 4 * PG);
	ASSERT_NE(NULL, m2);
	fill_pattern(pat, sizeof(pat));
	memcpy(b.cpu, pat, sizeof(pat));
	EXPECT_EQ(-1, first_mismatch(m2, pat, sizeof(pat)));
	fill_pattern(pat, sizeof(pat));
	memcpy(m2 + PG, pat, PG);
	EXPECT_EQ(-1, first_mismatch(b.cpu + PG, pat, PG));
	munmap(m2, 4 * PG);
	close(gpu2);
	close(fd);
	bo_free(self->gpu, &b);
}

/*
 * mmap of the dma-buf is the object's own mapping: coherent both ways, and
 * zapped by evictions like the render-node mapping (else it would read the
 * window slot after another object took it).
 */
TEST_F_TIMEOUT(prime, dmabuf_mmap_coherent, 120)
{
	struct drm_p2pgpu_bo_info bi;
	uint8_t pat[4 * PG];
	struct bo b, big;
	uint8_t *m;
	void *p;
	int fd = -1;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill_pattern(pat, sizeof(pat));
	memcpy(m, pat, sizeof(pat));
	EXPECT_EQ(-1, first_mismatch(b.cpu, pat, sizeof(pat)));
	fill_pattern(pat, PG);
	memcpy(b.cpu + 2 * PG, pat, PG);
	EXPECT_EQ(-1, first_mismatch(m + 2 * PG, pat, PG));

	/* Evict every page of b, then read through the dma-buf mapping. */
	fill_pattern(pat, sizeof(pat));
	memcpy(m, pat, sizeof(pat));
	ASSERT_EQ(0, cpu_pressure(self->gpu, WINDOW_PAGES + 8, &big));
	ASSERT_EQ(0, bo_info(self->gpu, b.handle, &bi));
	EXPECT_EQ(0ULL, bi.pages_window);
	EXPECT_EQ(-1, first_mismatch(m, pat, sizeof(pat)));
	bo_free(self->gpu, &big);

	/* Private writable mappings and mappings past the end: refused. */
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 5 * PG, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	munmap(m, 4 * PG);
	close(fd);
	bo_free(self->gpu, &b);
}

/* Buffers of another GPU or another exporter are refused, cleanly. */
TEST_F(prime, foreign_import_refused)
{
	struct udmabuf_create uc = { 0 };
	char pci1[32] = "";
	uint32_t h = 0;
	int gpu1, fd = -1, memfd, udev, ufd;
	struct bo b;

	ASSERT_EQ(0, bo_new(self->gpu, PG, &b));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	gpu1 = open_gpu(1, pci1, sizeof(pci1));
	ASSERT_LE(0, gpu1) TH_LOG("the VM has two p2pgpu devices");
	ASSERT_STRNE(self->pci, pci1);
	EXPECT_EQ(-1, drmPrimeFDToHandle(gpu1, fd, &h));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(gpu1);

	/* A udmabuf: system memory exported by another driver. */
	memfd = syscall(SYS_memfd_create, "p2pgpu-prime", MFD_ALLOW_SEALING);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, PG));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	udev = open("/dev/udmabuf", O_RDWR);
	if (udev < 0 && errno == ENOENT && access("/sys/module/udmabuf", F_OK))
		SKIP(return, "no /dev/udmabuf: kernel without CONFIG_UDMABUF (the other-GPU refusal above ran)");
	ASSERT_LE(0, udev) TH_LOG("no /dev/udmabuf (CONFIG_UDMABUF)");
	uc.memfd = memfd;
	uc.flags = UDMABUF_FLAGS_CLOEXEC;
	uc.size = PG;
	ufd = ioctl(udev, UDMABUF_CREATE, &uc);
	ASSERT_LE(0, ufd);
	EXPECT_EQ(-1, drmPrimeFDToHandle(self->gpu, ufd, &h));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(ufd);
	close(udev);
	close(memfd);

	/* Still fine for its own device. */
	EXPECT_EQ(0, drmPrimeFDToHandle(self->gpu, fd, &h));
	EXPECT_EQ(b.handle, h);
	close(fd);
	bo_free(self->gpu, &b);
}

/* The object lives while a dma-buf mapping does; then it is freed. */
TEST_F(prime, close_keeps_dmabuf_mapping)
{
	struct drm_p2pgpu_device_info d0, d1, d2;
	uint8_t pat[2 * PG];
	struct bo b;
	uint8_t *m;
	int fd = -1;

	ASSERT_EQ(0, dev_info(self->gpu, &d0));
	ASSERT_EQ(0, bo_new(self->gpu, 2 * PG, &b));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	close(fd);
	bo_free(self->gpu, &b);
	ASSERT_EQ(0, dev_info(self->gpu, &d1));
	EXPECT_EQ(d0.vram_used + 2 * PG, d1.vram_used);
	fill_pattern(pat, sizeof(pat));
	memcpy(m, pat, sizeof(pat));
	EXPECT_EQ(-1, first_mismatch(m, pat, sizeof(pat)));
	munmap(m, 2 * PG);
	ASSERT_EQ(0, dev_info(self->gpu, &d2));
	EXPECT_EQ(d0.vram_used, d2.vram_used);
}

/*
 * A static attachment (no peer-to-peer): system pages, pinned device-only
 * while mapped; the edu moves data both ways, coherent with the CPU
 * mapping of the object (which now maps the same system pages).
 */
TEST_F_TIMEOUT(prime, edu_static_attach_system_pages, 120)
{
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_device_info d;
	struct drm_p2pgpu_bo_info bi;
	uint8_t want[3 * PG], got[2 * PG], pat[PG];
	struct bo b;
	int fd = -1;

	ASSERT_EQ(0, bo_new(self->gpu, 3 * PG, &b));
	fill_pattern(want, sizeof(want));
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, 0, &a));
	TH_LOG("static attach: %u segments, bar %u (%llu bytes), system %u (%llu bytes)",
	       a.nents, a.bar_entries, a.bar_bytes, a.sys_entries, a.sys_bytes);
	EXPECT_EQ(3 * PG, a.size);
	EXPECT_EQ(0U, a.bar_entries);
	EXPECT_EQ(3 * PG, a.sys_bytes);
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	ASSERT_EQ(0, bo_info(self->gpu, b.handle, &bi));
	EXPECT_EQ(3 * PG, d.device_pinned);
	EXPECT_EQ(0ULL, d.window_pinned);
	EXPECT_EQ(3ULL, bi.pages_pinned_device);
	EXPECT_EQ(0ULL, bi.pages_window);

	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 500, PG + 1000, got));
	EXPECT_EQ(-1, first_mismatch(got, want + 500, PG + 1000));
	fill_pattern(pat, sizeof(pat));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, 2 * PG + 7, 300, pat));
	EXPECT_EQ(-1, first_mismatch(b.cpu + 2 * PG + 7, pat, 300));
	EXPECT_EQ(want[2 * PG + 6], b.cpu[2 * PG + 6]);
	fill_pattern(pat, sizeof(pat));
	memcpy(b.cpu, pat, PG);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));

	ASSERT_EQ(0, dbt_detach(self->dfd));
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.device_pinned);
	EXPECT_EQ(-ENXIO, dbt_xfer(self->dfd, DBT_RD, 0, 1, got));
	close(fd);
	bo_free(self->gpu, &b);
}

/*
 * A pinned peer-to-peer attachment (dynamic importer calling dma_buf_pin(),
 * as a pinned RDMA importer does): through the switch the object is pinned
 * in the window and the edu gets BAR bus addresses; on the root bus there
 * is no route and it gets system pages. CPU pressure on another object
 * does not move it; data is right both ways. (Unpinned dynamic mappings,
 * which do move, are tested by tests/selftests/p2pgpu_dmabuf.)
 */
TEST_F_TIMEOUT(prime, edu_p2p_attach, 120)
{
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_device_info d;
	struct drm_p2pgpu_bo_info bi;
	uint8_t want[4 * PG], got[2 * PG], pat[PG];
	struct bo b, big;
	int fd = -1;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill_pattern(want, sizeof(want));
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, P2PGPU_DMABUF_TEST_F_P2P |
				P2PGPU_DMABUF_TEST_F_PIN, &a));
	TH_LOG("p2p attach: %u segments, bar %u (%llu bytes), system %u (%llu bytes)",
	       a.nents, a.bar_entries, a.bar_bytes, a.sys_entries, a.sys_bytes);
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	ASSERT_EQ(0, bo_info(self->gpu, b.handle, &bi));
	if (self->p2p) {
		EXPECT_EQ(4 * PG, a.bar_bytes);
		EXPECT_EQ(0U, a.sys_entries);
		EXPECT_EQ(4 * PG, d.window_pinned);
		EXPECT_EQ(4ULL, bi.pages_pinned_window);
		EXPECT_EQ(4ULL, bi.pages_window);
	} else {
		EXPECT_EQ(0U, a.bar_entries);
		EXPECT_EQ(4 * PG, a.sys_bytes);
		EXPECT_EQ(4 * PG, d.device_pinned);
		EXPECT_EQ(4ULL, bi.pages_pinned_device);
	}

	ASSERT_EQ(0, cpu_pressure(self->gpu, WINDOW_PAGES + 8, &big));
	ASSERT_EQ(0, bo_info(self->gpu, b.handle, &bi));
	EXPECT_EQ(self->p2p ? 4ULL : 0ULL, bi.pages_window);
	bo_free(self->gpu, &big);

	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, PG - 100, PG + 200, got));
	EXPECT_EQ(-1, first_mismatch(got, want + PG - 100, PG + 200));
	fill_pattern(pat, sizeof(pat));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, 3 * PG, PG, pat));
	EXPECT_EQ(-1, first_mismatch(b.cpu + 3 * PG, pat, PG));
	fill_pattern(pat, sizeof(pat));
	memcpy(b.cpu + PG, pat, PG);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));

	ASSERT_EQ(0, dbt_detach(self->dfd));
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.window_pinned);
	EXPECT_EQ(0ULL, d.device_pinned);
	close(fd);
	bo_free(self->gpu, &b);
}

/*
 * An object larger than the window cannot be mapped there: system pages,
 * pinned device-only for the life of the (unpinned, dynamic) mapping.
 */
TEST_F_TIMEOUT(prime, p2p_attach_larger_than_window, 120)
{
	size_t n = WINDOW_PAGES + 8;
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_device_info d;
	uint8_t pat[PG], got[PG];
	struct bo b;
	int fd = -1;

	ASSERT_EQ(0, bo_new(self->gpu, n * PG, &b));
	fill_pattern(pat, sizeof(pat));
	memcpy(b.cpu + (n - 1) * PG, pat, PG);
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, P2PGPU_DMABUF_TEST_F_P2P, &a));
	TH_LOG("%zu-page object: bar %llu bytes, system %llu bytes",
	       n, a.bar_bytes, a.sys_bytes);
	EXPECT_EQ(0U, a.bar_entries);
	EXPECT_EQ(n * PG, a.sys_bytes);
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(n * PG, d.device_pinned);
	EXPECT_EQ(0ULL, d.window_pinned);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, (n - 1) * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));
	ASSERT_EQ(0, dbt_detach(self->dfd));
	close(fd);
	bo_free(self->gpu, &b);
}

/* Bad input to the importer and a process dying while attached. */
TEST_F(prime, attach_errors_and_exit_while_attached)
{
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_device_info d;
	uint8_t got[16];
	int fd = -1, status;
	struct bo b;
	pid_t pid;

	ASSERT_EQ(0, bo_new(self->gpu, 2 * PG, &b));
	ASSERT_EQ(0, export_fd(self->gpu, b.handle, &fd));
	EXPECT_EQ(-EINVAL, dbt_attach(self->dfd, fd, 0x80, &a));
	EXPECT_EQ(-EBADF, dbt_attach(self->dfd, -1, 0, &a));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, 0, &a));
	EXPECT_EQ(-EBUSY, dbt_attach(self->dfd, fd, 0, &a));
	EXPECT_EQ(-EINVAL, dbt_xfer(self->dfd, DBT_RD, 2 * PG - 8, 16, got));
	EXPECT_EQ(-EINVAL, dbt_xfer(self->dfd, DBT_RD, 0, 0, got));
	ASSERT_EQ(0, dbt_detach(self->dfd));
	EXPECT_EQ(-ENXIO, dbt_detach(self->dfd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dfd = open("/dev/" P2PGPU_DMABUF_TEST_DEVNAME, O_RDWR);

		if (dfd < 0 || dbt_attach(dfd, fd, P2PGPU_DMABUF_TEST_F_P2P, &a))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.window_pinned);
	EXPECT_EQ(0ULL, d.device_pinned);
	close(fd);
	bo_free(self->gpu, &b);
}

TEST_HARNESS_MAIN
