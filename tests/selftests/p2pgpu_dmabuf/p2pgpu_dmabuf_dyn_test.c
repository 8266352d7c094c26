// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu as a dynamic dma-buf exporter, through the in-kernel importer
 * p2pgpu_dmabuf_test.ko (edu DMA). An unpinned dynamic attachment that
 * allows peer-to-peer gets the object in the window without pins (switch)
 * and is told with move_notify when CPU pressure evicts it; the importer
 * maps again and the edu moves the right data both ways. Without a route
 * (root bus) it gets system pages pinned device-only and is never
 * notified. Static and dma_buf_pin()ned attachments are never notified;
 * a static attachment pinning system pages moves the object out of the
 * window under a live dynamic mapping, which is notified. Every
 * notification is counted by the exporter (BO_DMABUF_INFO) and by the
 * importer (STATUS). Bad input to BO_DMABUF_INFO, and a process killed
 * while attached, leave nothing behind.
 *
 * The suite (tests/vm/suites/dmabuf.sh) loads p2pgpu with window_mb=1 (256
 * window pages) and min_residency_ms=0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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
#define NPAGES		4UL
#define DBT_RD		P2PGPU_DMABUF_TEST_IOC_READ
#define DBT_WR		P2PGPU_DMABUF_TEST_IOC_WRITE
#define F_DYN		P2PGPU_DMABUF_TEST_F_P2P
#define F_PIN		P2PGPU_DMABUF_TEST_F_PIN

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

static int dmabuf_info(int gpu, uint32_t handle,
		       struct drm_p2pgpu_bo_dmabuf_info *di)
{
	memset(di, 0, sizeof(*di));
	di->handle = handle;
	return drmIoctl(gpu, DRM_IOCTL_P2PGPU_BO_DMABUF_INFO, di) ? -errno : 0;
}

static int dbt_open(void)
{
	return open("/dev/" P2PGPU_DMABUF_TEST_DEVNAME, O_RDWR);
}

static int dbt_attach(int dfd, int fd, uint32_t flags,
		      struct p2pgpu_dmabuf_test_attach *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->flags = flags;
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_ATTACH, a) ? -errno : 0;
}

static int dbt_status(int dfd, struct p2pgpu_dmabuf_test_status *s)
{
	memset(s, 0, sizeof(*s));
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_STATUS, s) ? -errno : 0;
}

static int dbt_xfer(int dfd, unsigned long cmd, size_t off, size_t len,
		    void *buf)
{
	struct p2pgpu_dmabuf_test_xfer x = {
		.offset = off, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(dfd, cmd, &x) ? -errno : 0;
}

/* Touch one byte of every page of a new object: evicts the others. */
static int cpu_pressure(int gpu, struct bo *big)
{
	size_t i, npages = WINDOW_PAGES + 8;
	int ret;

	ret = bo_new(gpu, npages * PG, big);
	if (ret)
		return ret;
	for (i = 0; i < npages; i++)
		big->cpu[i * PG] = (uint8_t)i;
	return 0;
}

FIXTURE(dyn) {
	int gpu;
	int dfd;
	bool p2p;	/* p2pmap_p2p_possible() */
	/*
	 * Feature dmabuf_move_notify: without it the dma-buf core pins every
	 * dynamic importer around its mappings, so none is ever notified and
	 * each keeps the pages it mapped until it unmaps.
	 */
	bool mn;
	char pci[32];
	struct bo b;
	int fd;
	uint8_t want[NPAGES * PG];
};

FIXTURE_SETUP(dyn)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();
	struct drm_p2pgpu_device_info di;

	ASSERT_NE(P2PMAP_PAIR_INVALID, t)
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	ASSERT_NE(-1, p2pmap_kernel_feature("dmabuf_move_notify"));
	self->p2p = p2pmap_p2p_possible();
	self->mn = p2pmap_kernel_feature("dmabuf_move_notify") == 1;
	self->fd = -1;
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->dfd = dbt_open();
	ASSERT_LE(0, self->dfd) TH_LOG("no /dev/" P2PGPU_DMABUF_TEST_DEVNAME);
	ASSERT_EQ(0, dev_info(self->gpu, &di));
	ASSERT_EQ(WINDOW_PAGES * PG, di.window_total);
	ASSERT_EQ(0ULL, di.window_pinned);
	ASSERT_EQ(0ULL, di.device_pinned);
	ASSERT_EQ(0, bo_new(self->gpu, NPAGES * PG, &self->b));
	fill_pattern(self->want, sizeof(self->want));
	memcpy(self->b.cpu, self->want, sizeof(self->want));
	ASSERT_EQ(0, export_fd(self->gpu, self->b.handle, &self->fd));
}

FIXTURE_TEARDOWN(dyn)
{
	struct drm_p2pgpu_device_info di;

	close(self->dfd);
	if (self->fd >= 0)
		close(self->fd);
	/* Every attachment is gone: no pins may remain. */
	if (!dev_info(self->gpu, &di) && (di.window_pinned || di.device_pinned))
		fprintf(stderr, "# pins left: window %llu device %llu bytes\n",
			(unsigned long long)di.window_pinned,
			(unsigned long long)di.device_pinned);
	bo_free(self->gpu, &self->b);
	close(self->gpu);
}

/*
 * An unpinned dynamic attachment: through the switch the object is mapped
 * in the window without pins, CPU pressure evicts it and move_notify tells
 * the importer, which maps again before the next DMA; the data is right
 * both ways. On the root bus: system pages pinned device-only, never moved
 * and never notified.
 */
TEST_F_TIMEOUT(dyn, move_notify_on_eviction_then_remap, 120)
{
	struct drm_p2pgpu_bo_dmabuf_info di0, di;
	struct p2pgpu_dmabuf_test_status st;
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_bo_info bi;
	uint8_t got[2 * PG], pat[PG];
	struct bo big;

	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di0));
	ASSERT_EQ(0, dbt_attach(self->dfd, self->fd, F_DYN, &a));
	TH_LOG("dynamic attach: bar %llu bytes, system %llu bytes",
	       (unsigned long long)a.bar_bytes, (unsigned long long)a.sys_bytes);
	ASSERT_EQ(0, bo_info(self->gpu, self->b.handle, &bi));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(0ULL, di.move_notifies);
	if (self->p2p) {
		EXPECT_EQ(NPAGES * PG, a.bar_bytes);
		EXPECT_EQ(0U, a.sys_entries);
		EXPECT_EQ(NPAGES, bi.pages_window);
		EXPECT_EQ(0ULL, bi.pages_pinned_window);
		EXPECT_EQ(1ULL, di.live_mappings);
	} else {
		EXPECT_EQ(0U, a.bar_entries);
		EXPECT_EQ(NPAGES * PG, a.sys_bytes);
		EXPECT_EQ(NPAGES, bi.pages_pinned_device);
		EXPECT_EQ(0ULL, di.live_mappings);
	}

	ASSERT_EQ(0, cpu_pressure(self->gpu, &big));
	ASSERT_EQ(0, bo_info(self->gpu, self->b.handle, &bi));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	ASSERT_EQ(0, dbt_status(self->dfd, &st));
	TH_LOG("after pressure: window pages %llu, exporter notifies %llu, importer notifies %u",
	       (unsigned long long)bi.pages_window,
	       (unsigned long long)di.move_notifies, st.move_notifies);
	if (self->p2p) {
		EXPECT_EQ(0ULL, bi.pages_window);
		EXPECT_EQ(1ULL, di.move_notifies);
		EXPECT_EQ(0ULL, di.live_mappings);
		EXPECT_EQ(1U, st.move_notifies);
		EXPECT_EQ(P2PGPU_DMABUF_TEST_S_INVALID, st.flags);
		EXPECT_LE(di0.device_move_notifies + 1, di.device_move_notifies);
	} else {
		EXPECT_EQ(0ULL, bi.pages_window);
		EXPECT_EQ(NPAGES, bi.pages_pinned_device);
		EXPECT_EQ(0ULL, di.move_notifies);
		EXPECT_EQ(0U, st.move_notifies);
		EXPECT_EQ(0U, st.flags);
	}

	/* Changed by the CPU while not mapped: the re-map must see it. */
	fill_pattern(pat, sizeof(pat));
	memcpy(self->b.cpu + PG, pat, PG);
	memcpy(self->want + PG, pat, PG);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, PG - 100, PG + 200, got));
	EXPECT_EQ(-1, first_mismatch(got, self->want + PG - 100, PG + 200));
	ASSERT_EQ(0, dbt_status(self->dfd, &st));
	EXPECT_EQ(0U, st.flags);
	EXPECT_EQ(self->p2p ? 1U : 0U, st.remaps);
	if (self->p2p) {
		EXPECT_EQ(NPAGES * PG, st.bar_bytes);
	} else {
		EXPECT_EQ(NPAGES * PG, st.sys_bytes);
	}
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(self->p2p ? 1ULL : 0ULL, di.live_mappings);

	/* And the edu writes through the new mapping. */
	fill_pattern(pat, sizeof(pat));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, 3 * PG, PG, pat));
	EXPECT_EQ(-1, first_mismatch(self->b.cpu + 3 * PG, pat, PG));
	bo_free(self->gpu, &big);

	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(0ULL, di.live_mappings);
	ASSERT_EQ(0, bo_info(self->gpu, self->b.handle, &bi));
	EXPECT_EQ(0ULL, bi.pages_pinned_window);
	EXPECT_EQ(0ULL, bi.pages_pinned_device);
}

/* Two dynamic importers of one buffer: one eviction notifies both. */
TEST_F_TIMEOUT(dyn, two_dynamic_importers_both_notified, 120)
{
	struct p2pgpu_dmabuf_test_status s1, s2;
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_bo_dmabuf_info di;
	uint8_t got[PG];
	struct bo big;
	int dfd2;

	dfd2 = dbt_open();
	ASSERT_LE(0, dfd2);
	ASSERT_EQ(0, dbt_attach(self->dfd, self->fd, F_DYN, &a));
	ASSERT_EQ(0, dbt_attach(dfd2, self->fd, F_DYN, &a));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(self->p2p ? 2ULL : 0ULL, di.live_mappings);
	ASSERT_EQ(0, cpu_pressure(self->gpu, &big));
	ASSERT_EQ(0, dbt_status(self->dfd, &s1));
	ASSERT_EQ(0, dbt_status(dfd2, &s2));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	/* One move_notify call reaches every attachment. */
	EXPECT_EQ(self->p2p ? 1ULL : 0ULL, di.move_notifies);
	EXPECT_EQ(self->p2p ? 1U : 0U, s1.move_notifies);
	EXPECT_EQ(self->p2p ? 1U : 0U, s2.move_notifies);
	EXPECT_EQ(0ULL, di.live_mappings);
	bo_free(self->gpu, &big);
	ASSERT_EQ(0, dbt_xfer(dfd2, DBT_RD, 2 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->want + 2 * PG, PG));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->want, PG));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(self->p2p ? 2ULL : 0ULL, di.live_mappings);
	close(dfd2);
}

/*
 * Static (pinned at attach by the dma-buf core) and dma_buf_pin()ned
 * attachments: CPU pressure moves nothing and nobody is notified.
 */
TEST_F_TIMEOUT(dyn, pinned_importers_never_notified, 120)
{
	static const uint32_t modes[] = { 0, F_DYN | F_PIN };
	struct drm_p2pgpu_bo_dmabuf_info di;
	struct p2pgpu_dmabuf_test_status st;
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_bo_info bi;
	uint8_t got[PG];
	unsigned int i;
	struct bo big;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, dbt_attach(self->dfd, self->fd, modes[i], &a));
		ASSERT_EQ(0, bo_info(self->gpu, self->b.handle, &bi));
		TH_LOG("flags %#x: bar %llu system %llu; pinned window %llu device %llu",
		       modes[i], (unsigned long long)a.bar_bytes,
		       (unsigned long long)a.sys_bytes,
		       (unsigned long long)bi.pages_pinned_window,
		       (unsigned long long)bi.pages_pinned_device);
		if (self->p2p && modes[i]) {
			EXPECT_EQ(NPAGES * PG, a.bar_bytes);
			EXPECT_EQ(NPAGES, bi.pages_pinned_window);
		} else {
			EXPECT_EQ(NPAGES * PG, a.sys_bytes);
			EXPECT_EQ(NPAGES, bi.pages_pinned_device);
		}
		ASSERT_EQ(0, cpu_pressure(self->gpu, &big));
		ASSERT_EQ(0, dbt_status(self->dfd, &st));
		ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
		EXPECT_EQ(0U, st.move_notifies);
		EXPECT_EQ(0ULL, di.move_notifies);
		EXPECT_EQ(0ULL, di.live_mappings);
		ASSERT_EQ(0, bo_info(self->gpu, self->b.handle, &bi));
		EXPECT_EQ(self->p2p && modes[i] ? NPAGES : 0ULL,
			  bi.pages_window);
		bo_free(self->gpu, &big);
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 3 * PG, PG, got));
		EXPECT_EQ(-1, first_mismatch(got, self->want + 3 * PG, PG));
		ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
		ASSERT_EQ(0, bo_info(self->gpu, self->b.handle, &bi));
		EXPECT_EQ(0ULL, bi.pages_pinned_window);
		EXPECT_EQ(0ULL, bi.pages_pinned_device);
	}
}

/*
 * A static importer pins the object device-only while a dynamic one has it
 * mapped in the window: the pages move out (move_notify, from inside the
 * dma-buf core's pin call, which holds the reservation lock), and the
 * dynamic importer's re-map gets the system pages.
 */
TEST_F_TIMEOUT(dyn, static_pin_moves_dynamic_mapping, 120)
{
	struct drm_p2pgpu_bo_dmabuf_info di;
	struct p2pgpu_dmabuf_test_status st;
	struct p2pgpu_dmabuf_test_attach a;
	uint8_t got[PG];
	int dfd2;

	dfd2 = dbt_open();
	ASSERT_LE(0, dfd2);
	ASSERT_EQ(0, dbt_attach(self->dfd, self->fd, F_DYN, &a));
	EXPECT_EQ(self->p2p ? NPAGES * PG : 0ULL, a.bar_bytes);
	ASSERT_EQ(0, dbt_attach(dfd2, self->fd, 0, &a));
	EXPECT_EQ(NPAGES * PG, a.sys_bytes);
	ASSERT_EQ(0, dbt_status(self->dfd, &st));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(self->p2p ? 1U : 0U, st.move_notifies);
	EXPECT_EQ(self->p2p ? 1ULL : 0ULL, di.move_notifies);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->want + PG, PG));
	ASSERT_EQ(0, dbt_status(self->dfd, &st));
	EXPECT_EQ(0U, st.bar_entries);
	EXPECT_EQ(NPAGES * PG, st.sys_bytes);
	close(dfd2);
	/* The static pin is gone; the dynamic mapping still pins its copy. */
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->want, PG));
}

/* BO_DMABUF_INFO validates its input; no allocation to fail. */
TEST_F(dyn, dmabuf_info_bad_input)
{
	struct drm_p2pgpu_bo_dmabuf_info di;

	memset(&di, 0, sizeof(di));
	di.handle = self->b.handle;
	di.pad = 1;
	EXPECT_EQ(-1, drmIoctl(self->gpu, DRM_IOCTL_P2PGPU_BO_DMABUF_INFO, &di));
	EXPECT_EQ(EINVAL, errno);
	memset(&di, 0, sizeof(di));
	di.handle = self->b.handle;
	di.flags = P2PGPU_DMABUF_INFO_MOVE_NOTIFY;
	EXPECT_EQ(-1, drmIoctl(self->gpu, DRM_IOCTL_P2PGPU_BO_DMABUF_INFO, &di));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-ENOENT, dmabuf_info(self->gpu, 0xdead, &di));
	EXPECT_EQ(-ENOENT, dmabuf_info(self->gpu, 0, &di));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	/* The flag says what /sys/module/p2pmap/features says. */
	EXPECT_EQ(self->mn ? (uint32_t)P2PGPU_DMABUF_INFO_MOVE_NOTIFY : 0U,
		  di.flags);
	EXPECT_EQ(0U, di.pad2);
}

/* F_PIN without the dynamic importer is refused by the test module. */
TEST_F(dyn, pin_flag_needs_dynamic)
{
	struct p2pgpu_dmabuf_test_attach a;
	struct p2pgpu_dmabuf_test_status st;

	EXPECT_EQ(-EINVAL, dbt_attach(self->dfd, self->fd, F_PIN, &a));
	EXPECT_EQ(-ENXIO, dbt_status(self->dfd, &st));
}

/* A process killed with a live dynamic attachment leaves nothing behind. */
TEST_F_TIMEOUT(dyn, killed_while_dynamic_attached, 120)
{
	struct drm_p2pgpu_bo_dmabuf_info di;
	struct drm_p2pgpu_device_info d;
	struct p2pgpu_dmabuf_test_attach a;
	struct bo big;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dfd = dbt_open();

		if (dfd < 0 || dbt_attach(dfd, self->fd, F_DYN, &a))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(0ULL, di.live_mappings);
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.window_pinned);
	EXPECT_EQ(0ULL, d.device_pinned);
	/* Nothing is left to notify. */
	ASSERT_EQ(0, cpu_pressure(self->gpu, &big));
	ASSERT_EQ(0, dmabuf_info(self->gpu, self->b.handle, &di));
	EXPECT_EQ(0ULL, di.move_notifies);
	bo_free(self->gpu, &big);
}

static int bo_from_va(int gpu, const void *va, uint32_t flags,
		      struct drm_p2pgpu_bo_from_va *fv)
{
	memset(fv, 0, sizeof(*fv));
	fv->va = (uintptr_t)va;
	fv->flags = flags;
	return drmIoctl(gpu, DRM_IOCTL_P2PGPU_BO_FROM_VA, fv) ? -errno : 0;
}

/*
 * BO_FROM_VA turns a pointer into the caller's mapping into a handle of
 * the same object (the RDMA plugin exports it as a dma-buf); bad input is
 * refused with the documented errors.
 */
TEST_F(dyn, bo_from_va)
{
	struct drm_p2pgpu_bo_from_va fv;
	struct p2pgpu_dmabuf_test_attach a;
	uint8_t got[PG], stack_byte = 0;
	void *anon;
	int fd2;

	ASSERT_EQ(0, bo_from_va(self->gpu, self->b.cpu + 2 * PG + 100, 0, &fv));
	EXPECT_EQ(2 * PG + 100, fv.offset);
	EXPECT_EQ(NPAGES * PG, fv.size);
	EXPECT_EQ(NPAGES * PG - 2 * PG - 100, fv.mapped);
	EXPECT_NE(0U, fv.handle);
	/* The handle is the same object: its dma-buf reads the same bytes. */
	ASSERT_EQ(0, export_fd(self->gpu, fv.handle, &fd2));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd2, F_DYN, &a));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 2 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->want + 2 * PG, PG));
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	close(fd2);
	EXPECT_EQ(0, gem_close(self->gpu, fv.handle));

	/* Through a dma-buf mmap of the object: the same object and offset. */
	anon = mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_EQ(0, bo_from_va(self->gpu, (char *)anon + 3 * PG, 0, &fv));
	EXPECT_EQ(3 * PG, fv.offset);
	EXPECT_EQ(NPAGES * PG, fv.size);
	EXPECT_EQ(0, gem_close(self->gpu, fv.handle));
	munmap(anon, NPAGES * PG);

	EXPECT_EQ(-EINVAL, bo_from_va(self->gpu, self->b.cpu, 1, &fv));
	EXPECT_EQ(-ENXIO, bo_from_va(self->gpu, &stack_byte, 0, &fv));
	anon = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	EXPECT_EQ(-ENXIO, bo_from_va(self->gpu, anon, 0, &fv));
	munmap(anon, PG);
	EXPECT_EQ(-EFAULT, bo_from_va(self->gpu, anon, 0, &fv));
	EXPECT_EQ(-EFAULT, bo_from_va(self->gpu, NULL, 0, &fv));
	fv.va = ~0ULL;
	EXPECT_EQ(-1, drmIoctl(self->gpu, DRM_IOCTL_P2PGPU_BO_FROM_VA, &fv));
	EXPECT_EQ(EFAULT, errno);
}

/*
 * One dma-buf per object (found by p2pgpu_fuzz). DRM forgets an
 * object's dma-buf when its last handle is closed, while the dma-buf lives
 * on in a file descriptor; BO_FROM_VA then gives the object a new handle.
 * Exporting that handle must give the same dma-buf back (same file), and
 * importing the first descriptor must give that handle: it used to export
 * a second dma-buf, and the import then hit the WARN_ON() of
 * drm_gem_prime_fd_to_handle() on an object whose dma-buf is another one.
 */
TEST_F(dyn, one_dmabuf_per_object)
{
	struct drm_p2pgpu_bo_from_va fv;
	struct stat s1, s2;
	uint32_t h = 0;
	int fd2 = -1;

	ASSERT_EQ(0, gem_close(self->gpu, self->b.handle));
	ASSERT_EQ(0, bo_from_va(self->gpu, self->b.cpu, 0, &fv));
	self->b.handle = fv.handle;	/* the teardown closes it */
	ASSERT_EQ(0, export_fd(self->gpu, fv.handle, &fd2));
	ASSERT_EQ(0, fstat(self->fd, &s1));
	ASSERT_EQ(0, fstat(fd2, &s2));
	EXPECT_EQ(s1.st_ino, s2.st_ino) TH_LOG("the object has two dma-bufs");
	ASSERT_EQ(0, drmPrimeFDToHandle(self->gpu, self->fd, &h) ? -errno : 0);
	EXPECT_EQ(fv.handle, h);
	close(fd2);
}

static int export_range(int gpu, const void *va, uint64_t len, uint32_t flags,
			int *fd)
{
	struct drm_p2pgpu_export_range er = {
		.va = (uintptr_t)va, .length = len, .flags = flags, .fd = -1,
	};

	if (drmIoctl(gpu, DRM_IOCTL_P2PGPU_EXPORT_RANGE, &er))
		return -errno;
	*fd = er.fd;
	return 0;
}

/*
 * EXPORT_RANGE (the core's generic range exporter): a range of the CPU
 * mapping of the OTHER GPU's object becomes a dma-buf. The edu attaches it:
 * a peer-to-peer attachment gets that GPU's BAR through the switch (system
 * pages on the root bus), a static one system pages; the range is pinned
 * while attached, and the edu reads and writes the right bytes.
 */
TEST_F_TIMEOUT(dyn, export_range_of_other_gpu, 120)
{
	struct p2pgpu_dmabuf_test_attach a;
	struct drm_p2pgpu_bo_info bi;
	uint8_t want[4 * PG], got[2 * PG], pat[PG];
	char pci1[32] = "";
	struct bo o;
	int gpu1, rfd = -1, i;

	gpu1 = open_gpu(1, pci1, sizeof(pci1));
	ASSERT_LE(0, gpu1) TH_LOG("no second p2pgpu");
	ASSERT_EQ(0, bo_new(gpu1, 4 * PG, &o));
	fill_pattern(want, sizeof(want));
	memcpy(o.cpu, want, sizeof(want));
	ASSERT_EQ(0, export_range(self->gpu, o.cpu + PG, 2 * PG,
				  P2PGPU_EXPORT_RANGE_WRITE, &rfd));
	for (i = 0; i < 2; i++) {
		uint32_t flags = i ? F_DYN : 0;

		ASSERT_EQ(0, dbt_attach(self->dfd, rfd, flags, &a));
		TH_LOG("range of %s, flags %#x: bar %llu, system %llu bytes",
		       pci1, flags, (unsigned long long)a.bar_bytes,
		       (unsigned long long)a.sys_bytes);
		EXPECT_EQ(2 * PG, a.size);
		if (self->p2p && flags) {
			EXPECT_EQ(2 * PG, a.bar_bytes);
		} else {
			EXPECT_EQ(2 * PG, a.sys_bytes);
		}
		ASSERT_EQ(0, bo_info(gpu1, o.handle, &bi));
		EXPECT_EQ(2ULL, bi.pages_pinned_window + bi.pages_pinned_device);
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
		EXPECT_EQ(-1, first_mismatch(got, want + PG, 2 * PG));
		fill_pattern(pat, sizeof(pat));
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, PG, PG, pat));
		memcpy(want + 2 * PG, pat, PG);
		EXPECT_EQ(-1, first_mismatch(o.cpu + 2 * PG, pat, PG));
		ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
		ASSERT_EQ(0, bo_info(gpu1, o.handle, &bi));
		EXPECT_EQ(0ULL, bi.pages_pinned_window + bi.pages_pinned_device);
	}
	close(rfd);
	bo_free(gpu1, &o);
	close(gpu1);
}

/* Poll the importer until it has seen more than @n move_notify calls. */
static int wait_notified(int dfd, uint32_t n, struct p2pgpu_dmabuf_test_status *s)
{
	int i, ret;

	for (i = 0; i < 1000; i++) {
		ret = dbt_status(dfd, s);
		if (ret || s->move_notifies > n)
			return ret;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static void fill_byte(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/*
 * A range of ordinary memory, attached by a dynamic importer: after
 * MADV_DONTNEED the process maps new pages there; the exporter's worker
 * tells the importer with move_notify, and its next DMA reads what the
 * process wrote into the new pages, and writes land where the process sees
 * them. A static and a dma_buf_pin()ned importer are never told and keep
 * the pages they mapped (pinned): they still read the old bytes.
 */
TEST_F_TIMEOUT(dyn, export_range_move_notify_on_cpu_change, 120)
{
	static const uint32_t modes[] = { F_DYN, 0, F_DYN | F_PIN };
	uint8_t a[4 * PG], b[4 * PG], c[PG], got[4 * PG];
	struct p2pgpu_dmabuf_test_status s0, s;
	struct p2pgpu_dmabuf_test_attach at;
	unsigned int m;
	uint8_t *buf;

	buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		/* pinned by the dma-buf core without move_notify */
		bool dynamic = modes[m] == F_DYN && self->mn;
		int rfd[1] = { -1 };

		fill_byte(a, sizeof(a), (uint8_t)(0x10 + m));
		fill_byte(b, sizeof(b), (uint8_t)(0x80 + m));
		memcpy(buf, a, sizeof(a));
		ASSERT_EQ(0, export_range(self->gpu, buf, 4 * PG,
					  P2PGPU_EXPORT_RANGE_WRITE, rfd));
		ASSERT_EQ(0, dbt_attach(self->dfd, rfd[0], modes[m], &at));
		EXPECT_EQ(4 * PG, at.sys_bytes);
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 4 * PG, got));
		EXPECT_EQ(-1, first_mismatch(got, a, sizeof(a)));
		ASSERT_EQ(0, dbt_status(self->dfd, &s0));

		/* New pages behind the same addresses. */
		ASSERT_EQ(0, madvise(buf, 4 * PG, MADV_DONTNEED));
		memcpy(buf, b, sizeof(b));
		if (dynamic) {
			ASSERT_EQ(0, wait_notified(self->dfd, s0.move_notifies,
						   &s));
			ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 4 * PG,
					      got));
			EXPECT_EQ(-1, first_mismatch(got, b, sizeof(b)));
			ASSERT_EQ(0, dbt_status(self->dfd, &s));
			EXPECT_EQ(s0.remaps + 1, s.remaps);
			/* The importer's write lands in the new page. */
			fill_byte(c, sizeof(c), 0x5a);
			ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, PG, PG, c));
			EXPECT_EQ(-1, first_mismatch(buf + PG, c, PG));
		} else {
			/* Give the worker time to (wrongly) notify. */
			usleep(300000);
			ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 4 * PG,
					      got));
			EXPECT_EQ(-1, first_mismatch(got, a, sizeof(a)));
			ASSERT_EQ(0, dbt_status(self->dfd, &s));
			EXPECT_EQ(s0.move_notifies, s.move_notifies);
			EXPECT_EQ(s0.remaps, s.remaps);
		}
		TH_LOG("mode %#x: move_notify %u -> %u, remaps %u -> %u",
		       modes[m], s0.move_notifies, s.move_notifies, s0.remaps,
		       s.remaps);
		ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
		close(rfd[0]);
	}
	munmap(buf, 4 * PG);
}

/* Poll until the object has @want pinned pages (unpinning is deferred). */
static int wait_pins(int gpu, uint32_t handle, uint64_t want)
{
	struct drm_p2pgpu_bo_info bi;
	int i, ret;

	for (i = 0; i < 1000; i++) {
		ret = bo_info(gpu, handle, &bi);
		if (ret)
			return ret;
		if (bi.pages_pinned_window + bi.pages_pinned_device == want)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/*
 * A range of the other GPU's object mapping, attached by a dynamic
 * importer, then unmapped by the process: the importer is told, the pins
 * of its old mapping go once it unmaps, and mapping again fails cleanly
 * (nothing is mapped there any more) instead of reaching the object.
 */
TEST_F_TIMEOUT(dyn, export_range_munmap_revokes_dynamic, 120)
{
	struct p2pgpu_dmabuf_test_status s0, s;
	struct p2pgpu_dmabuf_test_attach at;
	uint8_t want[2 * PG], got[2 * PG];
	char pci1[32] = "";
	struct bo o;
	int gpu1, rfd = -1, ret;

	gpu1 = open_gpu(1, pci1, sizeof(pci1));
	ASSERT_LE(0, gpu1) TH_LOG("no second p2pgpu");
	ASSERT_EQ(0, bo_new(gpu1, 2 * PG, &o));
	fill_byte(want, sizeof(want), 0x33);
	memcpy(o.cpu, want, sizeof(want));
	ASSERT_EQ(0, export_range(self->gpu, o.cpu, 2 * PG,
				  P2PGPU_EXPORT_RANGE_WRITE, &rfd));
	ASSERT_EQ(0, dbt_attach(self->dfd, rfd, F_DYN, &at));
	if (self->p2p) {
		EXPECT_EQ(2 * PG, at.bar_bytes);
	} else {
		EXPECT_EQ(2 * PG, at.sys_bytes);
	}
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	EXPECT_EQ(0, wait_pins(gpu1, o.handle, 2));
	ASSERT_EQ(0, dbt_status(self->dfd, &s0));

	ASSERT_EQ(0, munmap(o.cpu, 2 * PG));
	o.cpu = NULL;
	if (!self->mn) {
		/*
		 * Pinned by the dma-buf core: never told, it keeps the
		 * pages it mapped (pinned) until it detaches, and still
		 * reads the bytes they held.
		 */
		usleep(300000);
		ASSERT_EQ(0, dbt_status(self->dfd, &s));
		EXPECT_EQ(s0.move_notifies, s.move_notifies);
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
		EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
		EXPECT_EQ(0, wait_pins(gpu1, o.handle, 2));
		ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
		EXPECT_EQ(0, wait_pins(gpu1, o.handle, 0));
		close(rfd);
		gem_close(gpu1, o.handle);
		close(gpu1);
		return;
	}
	ASSERT_EQ(0, wait_notified(self->dfd, s0.move_notifies, &s));
	usleep(300000);
	ASSERT_EQ(0, dbt_status(self->dfd, &s));
	EXPECT_EQ(s0.move_notifies + 1, s.move_notifies);
	ret = dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got);
	TH_LOG("after munmap: move_notify %u -> %u, DMA: %s", s0.move_notifies,
	       s.move_notifies, strerror(-ret));
	EXPECT_GT(0, ret);
	/* The old mapping was unmapped by the failed re-map: no pins left. */
	EXPECT_EQ(0, wait_pins(gpu1, o.handle, 0));
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	close(rfd);
	bo_free(gpu1, &o);
	close(gpu1);
}

/*
 * The process whose memory a range dma-buf exports is killed while
 * another process's dynamic importer has it mapped: the importer is told
 * (the address space is gone), mapping again fails cleanly, and detaching
 * frees the dead process's pages (kmemleak and the pin accounting check
 * the rest).
 */
TEST_F_TIMEOUT(dyn, export_range_owner_killed, 120)
{
	struct p2pgpu_dmabuf_test_status s0, s;
	uint8_t got[2 * PG];
	int pfd[2], status, ret;
	pid_t pid;
	char c = 0;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct p2pgpu_dmabuf_test_attach a;
		uint8_t *buf;
		int rfd = -1;

		close(pfd[0]);
		buf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			_exit(1);
		memset(buf, 0x42, 2 * PG);
		/* The same importer file as the parent's: it outlives us. */
		if (export_range(self->gpu, buf, 2 * PG,
				 P2PGPU_EXPORT_RANGE_WRITE, &rfd) ||
		    dbt_attach(self->dfd, rfd, F_DYN, &a) ||
		    dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, buf + PG) ||
		    write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(2);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1)) TH_LOG("child failed to attach");
	close(pfd[0]);
	ASSERT_EQ(0, dbt_status(self->dfd, &s0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
	if (!self->mn) {
		/*
		 * Pinned by the dma-buf core: never told; its mapping keeps
		 * the dead process's pages until it detaches, which frees
		 * them (kmemleak checks).
		 */
		usleep(300000);
		ASSERT_EQ(0, dbt_status(self->dfd, &s));
		EXPECT_EQ(s0.move_notifies, s.move_notifies);
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
		EXPECT_EQ(0x42, got[0]);
		EXPECT_EQ(0x42, got[2 * PG - 1]);
		EXPECT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
		return;
	}
	ASSERT_EQ(0, wait_notified(self->dfd, s0.move_notifies, &s));
	ret = dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got);
	TH_LOG("after the owner's death: move_notify %u -> %u, DMA: %s",
	       s0.move_notifies, s.move_notifies, strerror(-ret));
	EXPECT_GT(0, ret);
	EXPECT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
}

/* EXPORT_RANGE validates its input. */
TEST_F(dyn, export_range_bad_input)
{
	struct p2pgpu_dmabuf_test_attach a;
	int rfd = -1;
	void *hole;

	EXPECT_EQ(-EINVAL, export_range(self->gpu, self->b.cpu, PG, 0x2, &rfd));
	EXPECT_EQ(-EINVAL, export_range(self->gpu, self->b.cpu, 0, 0, &rfd));
	EXPECT_EQ(-EINVAL, export_range(self->gpu, self->b.cpu + 1, PG, 0, &rfd));
	EXPECT_EQ(-EINVAL, export_range(self->gpu, self->b.cpu, PG + 1, 0, &rfd));
	EXPECT_EQ(-EINVAL, export_range(self->gpu, (void *)(uintptr_t)~0xfffULL,
					2 * PG, 0, &rfd));
	/* Nothing mapped there: the export works, mapping it fails cleanly. */
	hole = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	munmap(hole, PG);
	ASSERT_EQ(0, export_range(self->gpu, hole, PG,
				  P2PGPU_EXPORT_RANGE_WRITE, &rfd));
	EXPECT_GT(0, dbt_attach(self->dfd, rfd, 0, &a));
	EXPECT_EQ(-ENXIO, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH) ?
		  -errno : 0);
	close(rfd);
	/* Read-only export: a read-write mapping is refused. */
	ASSERT_EQ(0, export_range(self->gpu, self->b.cpu, PG, 0, &rfd));
	EXPECT_EQ(-EPERM, dbt_attach(self->dfd, rfd, 0, &a));
	close(rfd);
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The render node of PCI device @pci, once p2pgpu is bound to it again. */
static int wait_gpu(const char *pci, unsigned int tries)
{
	char name[32];
	int fd;

	while (tries--) {
		snprintf(name, sizeof(name), "%s", pci);
		fd = open_gpu(0, name, sizeof(name));
		if (fd >= 0)
			return fd;
		usleep(100000);
	}
	return -1;
}

/*
 * Unbinding the other GPU under two dynamic importers: one of a dma-buf of
 * its object, one of an exported range of the object's mapping. The range's
 * importer is told (its pinned generation is revoked) and cannot map again;
 * the object's importer is told when it mapped the window unpinned (switch)
 * and cannot map again; on the root bus it holds system pages pinned
 * device-only, is never told and still reads the object's bytes. Rebinding
 * brings the GPU back.
 */
TEST_F_TIMEOUT(dyn, unbind_tells_dynamic_importers, 120)
{
	struct p2pgpu_dmabuf_test_status s1a, s1b, s2a, s2b;
	struct p2pgpu_dmabuf_test_attach a1, a2;
	uint8_t want[2 * PG], got[2 * PG];
	char pci1[32] = "";
	int gpu1, d2, ret;
	int fds[2] = { -1, -1 };
	struct bo o;

	gpu1 = open_gpu(1, pci1, sizeof(pci1));
	ASSERT_LE(0, gpu1) TH_LOG("no second p2pgpu");
	d2 = dbt_open();
	ASSERT_LE(0, d2);
	ASSERT_EQ(0, bo_new(gpu1, 2 * PG, &o));
	fill_byte(want, sizeof(want), 0x61);
	memcpy(o.cpu, want, sizeof(want));
	ASSERT_EQ(0, export_fd(gpu1, o.handle, &fds[0]));
	ASSERT_EQ(0, export_range(self->gpu, o.cpu, 2 * PG,
				  P2PGPU_EXPORT_RANGE_WRITE, &fds[1]));
	ASSERT_EQ(0, dbt_attach(self->dfd, fds[0], F_DYN, &a1));
	ASSERT_EQ(0, dbt_attach(d2, fds[1], F_DYN, &a2));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	ASSERT_EQ(0, dbt_xfer(d2, DBT_RD, 0, 2 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	ASSERT_EQ(0, dbt_status(self->dfd, &s1a));
	ASSERT_EQ(0, dbt_status(d2, &s2a));

	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/unbind", pci1));
	if (self->mn)
		ASSERT_EQ(0, wait_notified(d2, s2a.move_notifies, &s2b));
	/* Once per mapping, however many events (revoke, zap) follow. */
	usleep(300000);
	ASSERT_EQ(0, dbt_status(d2, &s2b));
	ret = dbt_xfer(d2, DBT_RD, 0, 2 * PG, got);
	TH_LOG("range importer: move_notify %u -> %u, DMA after unbind: %s",
	       s2a.move_notifies, s2b.move_notifies, strerror(-ret));
	if (self->mn) {
		EXPECT_EQ(s2a.move_notifies + 1, s2b.move_notifies);
		EXPECT_GT(0, ret);
	} else {
		/* pinned by the dma-buf core: never told, keeps its pages */
		EXPECT_EQ(s2a.move_notifies, s2b.move_notifies);
		EXPECT_EQ(0, ret);
		EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	}
	ASSERT_EQ(0, dbt_status(self->dfd, &s1b));
	ret = dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got);
	TH_LOG("object importer: move_notify %u -> %u, DMA after unbind: %s",
	       s1a.move_notifies, s1b.move_notifies, strerror(-ret));
	if (self->p2p) {
		EXPECT_EQ(s1a.move_notifies + 1, s1b.move_notifies);
		EXPECT_EQ(-ENODEV, ret);
	} else {
		EXPECT_EQ(s1a.move_notifies, s1b.move_notifies);
		EXPECT_EQ(0, ret);
		EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	}
	EXPECT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	EXPECT_EQ(0, ioctl(d2, P2PGPU_DMABUF_TEST_IOC_DETACH));
	close(d2);
	close(fds[0]);
	close(fds[1]);
	munmap(o.cpu, o.size);
	/* The DRM device is unplugged: the handle goes with the file. */
	close(gpu1);
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/bind", pci1));
	gpu1 = wait_gpu(pci1, 300);
	ASSERT_LE(0, gpu1) TH_LOG("%s did not come back", pci1);
	ASSERT_EQ(0, bo_new(gpu1, PG, &o));
	bo_free(gpu1, &o);
	close(gpu1);
}

TEST_HARNESS_MAIN
