// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu pinned-mode tests: the edu DMA engine (p2pmap_edu_importer.ko)
 * imports p2pgpu buffer objects as an importer that cannot revalidate
 * (CREATE flag P2PMAP_EDU_IMP_F_PIN, P2PMAP_CAP_PIN_ONLY in p2pmap), and
 * p2pgpu pins what it resolves: in the window through the switch,
 * device-only on the root bus. Checked: the pins are counted (DEVICE_INFO,
 * sysfs aperture_pinned, BO_INFO), CPU faults on other objects never evict
 * them and the data stays right, a window full of pins makes peers fall
 * back (BAR_EXHAUSTED, REQUIRE_P2P -> ENOSPC) while device-pinned pages
 * stay CPU-accessible, GEM close and munmap keep pinned memory alive until
 * the import is destroyed, destroy drops the pins, a page pinned in the
 * window is an error for an importer that cannot reach the BAR until the
 * pin goes, and unbind revokes a pinned import in bounded time.
 *
 * Also the self-eviction fix, with the ordinary revalidating importer: an
 * import larger than the window settles with a mix of P2P and
 * BAR_EXHAUSTED pages instead of evicting its own pages forever.
 *
 * The suite (tests/vm/suites/pin.sh) loads p2pgpu with window_mb=1 (256
 * window pages) and min_residency_ms=0: nothing but a pin protects a page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "edu_imp_selftest.h"
#include "sysfs_num.h"

#define PG		4096UL
#define WINDOW_PAGES	256UL
#define REASON_BAR	P2PMAP_EDU_IMP_REASON_BAR_EXHAUSTED
#define REASON_ROUTE	P2PMAP_EDU_IMP_REASON_NO_ROUTE
#define EV_EVICT	P2PMAP_EDU_IMP_EV_EVICT
#define EV_MOVE		P2PMAP_EDU_IMP_EV_MOVE
#define EV_UNBIND	P2PMAP_EDU_IMP_EV_UNBIND
#define POL_PREFER	P2PMAP_EDU_IMP_PREFER_P2P
#define POL_REQUIRE	P2PMAP_EDU_IMP_REQUIRE_P2P
#define POL_SYSMEM	P2PMAP_EDU_IMP_SYSMEM_ONLY
#define F_PINNED	(P2PMAP_EDU_IMP_F_WRITE | P2PMAP_EDU_IMP_F_PIN)
#define RD		P2PMAP_EDU_IMP_IOC_READ
#define WR		P2PMAP_EDU_IMP_IOC_WRITE

static int bo_info(int gpu, uint32_t handle, struct drm_p2pgpu_bo_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->handle = handle;
	return drmIoctl(gpu, DRM_IOCTL_P2PGPU_BO_INFO, bi) ? -errno : 0;
}

/* /sys/bus/pci/devices/<pci>/p2pmap/aperture_pinned, or ~0 on error. */
static uint64_t sysfs_pinned(const char *pci)
{
	long long v = sysfs_num("/sys/bus/pci/devices/%s/p2pmap/aperture_pinned",
				pci);

	return v < 0 ? ~0ULL : (uint64_t)v;
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(pin) {
	int gpu;
	int efd;
	bool p2p;	/* p2pmap_p2p_possible() */
	bool window;	/* p2pgpu/cpu_map "bar": CPU faults place in the window */
	int why;	/* fallback reason when !p2p */
	char pci[32];
};

FIXTURE_SETUP(pin)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();
	struct drm_p2pgpu_device_info di;

	ASSERT_NE(P2PMAP_PAIR_INVALID, t)
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	ASSERT_NE(-1, p2pmap_kernel_feature("pci_p2pdma"));
	ASSERT_NE(-1, p2pgpu_window_cpu_map());
	self->window = p2pgpu_window_cpu_map() == 1;
	self->p2p = p2pmap_p2p_possible();
	self->why = p2pmap_expected_fallback_reason();
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->efd = open("/dev/p2pmap_edu_imp", O_RDWR);
	ASSERT_LE(0, self->efd) TH_LOG("no /dev/p2pmap_edu_imp");
	ASSERT_EQ(0, dev_info(self->gpu, &di));
	/* The suite's parameters (see the header). */
	ASSERT_EQ(WINDOW_PAGES * PG, di.window_total);
	ASSERT_EQ(0ULL, di.min_residency_ms);
	/* Every test starts without pins: earlier tests released theirs. */
	ASSERT_EQ(0ULL, di.window_pinned);
	ASSERT_EQ(0ULL, di.device_pinned);
}

FIXTURE_TEARDOWN(pin)
{
	close(self->efd);
	close(self->gpu);
}

/*
 * A pinned import pins every page it resolved, where it landed, and the
 * pins show in DEVICE_INFO, sysfs and BO_INFO until the import is gone.
 */
TEST_F(pin, pinned_pages_counted)
{
	struct drm_p2pgpu_device_info d1, d2;
	struct drm_p2pgpu_bo_info bi;
	struct p2pmap_edu_imp_info in;
	uint8_t want[8 * PG], got[PG];
	struct bo b;
	uint32_t id = 0;

	ASSERT_EQ(0, bo_new(self->gpu, 8 * PG, &b));
	fill_pattern(want, sizeof(want));
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new_flags(self->efd, b.cpu, b.size, POL_PREFER,
				   F_PINNED, &id))
		TH_LOG("pinned CREATE refused: importer without P2PMAP_EDU_IMP_F_PIN?");
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 3 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want + 3 * PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	ASSERT_EQ(0, dev_info(self->gpu, &d1));
	ASSERT_EQ(0, bo_info(self->gpu, b.handle, &bi));
	TH_LOG("pinned: p2p %llu sysmem %llu; window_pinned %llu device_pinned %llu sysfs %llu; bo pinned window %llu device %llu",
	       in.p2p_pages, in.sysmem_pages, d1.window_pinned,
	       d1.device_pinned, (unsigned long long)sysfs_pinned(self->pci),
	       bi.pages_pinned_window, bi.pages_pinned_device);
	if (self->p2p) {
		EXPECT_EQ(8ULL, in.p2p_pages);
		EXPECT_EQ(8 * PG, d1.window_pinned);
		EXPECT_EQ(0ULL, d1.device_pinned);
		EXPECT_EQ(8ULL, bi.pages_pinned_window);
		EXPECT_EQ(8ULL, bi.pages_window);
		EXPECT_EQ(0ULL, bi.pages_pinned_device);
	} else {
		EXPECT_EQ(8ULL, in.sysmem_pages);
		EXPECT_EQ(8ULL, in.reason_pages[self->why]);
		EXPECT_EQ(0ULL, d1.window_pinned);
		EXPECT_EQ(8 * PG, d1.device_pinned);
		EXPECT_EQ(0ULL, bi.pages_pinned_window);
		EXPECT_EQ(8ULL, bi.pages_pinned_device);
		EXPECT_EQ(0ULL, bi.pages_window);
	}
	EXPECT_EQ(d1.window_pinned, sysfs_pinned(self->pci));

	ASSERT_EQ(0, imp_destroy(self->efd, id));
	/* DEVICE_INFO and BO_INFO wait for the unpin worker. */
	ASSERT_EQ(0, dev_info(self->gpu, &d2));
	ASSERT_EQ(0, bo_info(self->gpu, b.handle, &bi));
	EXPECT_EQ(0ULL, d2.window_pinned);
	EXPECT_EQ(0ULL, d2.device_pinned);
	EXPECT_EQ(0ULL, sysfs_pinned(self->pci));
	EXPECT_EQ(0ULL, bi.pages_pinned_window);
	EXPECT_EQ(0ULL, bi.pages_pinned_device);
	bo_free(self->gpu, &b);
}

/*
 * CPU faults on another object cycle the whole window; the pinned pages
 * stay put (no invalidation reaches the pinned import), the evictions hit
 * the other object only, and data moves right both ways through the edu,
 * also right after the CPU wrote it (device-pinned pages are mapped to the
 * CPU directly on the root bus).
 */
TEST_F_TIMEOUT(pin, cpu_pressure_never_evicts_pins, 120)
{
	struct drm_p2pgpu_device_info d0, d1;
	struct p2pmap_edu_imp_info before, after;
	struct drm_p2pgpu_bo_info bi;
	uint8_t want[8 * PG], got[2 * PG], pat[PG];
	size_t i, big_pages = WINDOW_PAGES + 44;
	struct bo a, big;
	uint32_t id = 0;

	ASSERT_EQ(0, bo_new(self->gpu, 8 * PG, &a));
	fill_pattern(want, sizeof(want));
	memcpy(a.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new_flags(self->efd, a.cpu, a.size, POL_PREFER,
				   F_PINNED, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 0, PG, got));
	ASSERT_EQ(-1, first_mismatch(got, want, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &before));
	ASSERT_EQ(0, dev_info(self->gpu, &d0));

	ASSERT_EQ(0, bo_new(self->gpu, big_pages * PG, &big));
	for (i = 0; i < big_pages; i++)
		big.cpu[i * PG] = (uint8_t)i;

	ASSERT_EQ(0, dev_info(self->gpu, &d1));
	ASSERT_EQ(0, imp_info(self->efd, id, &after));
	ASSERT_EQ(0, bo_info(self->gpu, a.handle, &bi));
	TH_LOG("evictions %llu -> %llu; pinned import evict/move invalidations %llu/%llu; A window %llu pinned window %llu device %llu",
	       d0.evictions, d1.evictions, after.invalidations[EV_EVICT],
	       after.invalidations[EV_MOVE], bi.pages_window,
	       bi.pages_pinned_window, bi.pages_pinned_device);
	/* The other object alone overflows what the pins leave free. */
	if (self->window) {
		EXPECT_LE(d0.evictions + big_pages - (WINDOW_PAGES - (self->p2p ? 8 : 0)),
			  d1.evictions);
	} else {
		/* CPU faults map system pages: no pressure on the window */
		EXPECT_EQ(d0.evictions, d1.evictions);
	}
	EXPECT_EQ(before.invalidations[EV_EVICT], after.invalidations[EV_EVICT]);
	EXPECT_EQ(before.invalidations[EV_MOVE], after.invalidations[EV_MOVE]);
	EXPECT_EQ(d0.window_pinned, d1.window_pinned);
	EXPECT_EQ(d0.device_pinned, d1.device_pinned);
	if (self->p2p) {
		EXPECT_EQ(8ULL, bi.pages_window);
		EXPECT_EQ(8ULL, bi.pages_pinned_window);
	} else {
		EXPECT_EQ(8ULL, bi.pages_pinned_device);
		EXPECT_EQ(0ULL, bi.pages_window);
	}

	/* Old data through the edu, then CPU -> edu and edu -> CPU. */
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 5 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want + 5 * PG, PG));
	fill_pattern(pat, sizeof(pat));
	memcpy(a.cpu + 2 * PG, pat, PG);
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 2 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));
	fill_pattern(pat, sizeof(pat));
	ASSERT_EQ(0, imp_xfer(self->efd, WR, id, 6 * PG + 9, PG - 9, pat));
	EXPECT_EQ(-1, first_mismatch(a.cpu + 6 * PG + 9, pat, PG - 9));
	EXPECT_EQ(want[6 * PG + 8], a.cpu[6 * PG + 8]);
	/* Still no invalidation of the pinned import. */
	ASSERT_EQ(0, imp_info(self->efd, id, &after));
	EXPECT_EQ(before.invalidations[EV_EVICT], after.invalidations[EV_EVICT]);
	EXPECT_EQ(before.invalidations[EV_MOVE], after.invalidations[EV_MOVE]);

	ASSERT_EQ(0, imp_destroy(self->efd, id));
	bo_free(self->gpu, &big);
	bo_free(self->gpu, &a);
}

/*
 * A window full of pins (switch): peers fall back to system memory with
 * BAR_EXHAUSTED, REQUIRE_P2P fails with ENOSPC, a pinned importer pins its
 * fallback pages device-only and the CPU still reaches them. On the root
 * bus pins never take window slots.
 */
TEST_F_TIMEOUT(pin, window_full_of_pins, 180)
{
	struct drm_p2pgpu_device_info d;
	struct p2pmap_edu_imp_info in;
	struct drm_p2pgpu_bo_info bi;
	uint8_t qwant[4 * PG], got[PG], pat[PG];
	uint32_t pid = 0, qid = 0, rid = 0, sid = 0;
	struct bo p, q;
	int ret;

	/* Q first: with a window full of pins the CPU cannot place it. */
	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &q));
	fill_pattern(qwant, sizeof(qwant));
	memcpy(q.cpu, qwant, sizeof(qwant));

	ASSERT_EQ(0, bo_new(self->gpu, WINDOW_PAGES * PG, &p));
	ASSERT_EQ(0, imp_new_flags(self->efd, p.cpu, p.size, POL_PREFER,
				   F_PINNED, &pid));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, pid, 0, PG, got));
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	TH_LOG("P pinned: window_pinned %llu device_pinned %llu",
	       d.window_pinned, d.device_pinned);
	if (self->p2p) {
		ASSERT_EQ(WINDOW_PAGES * PG, d.window_pinned);
		EXPECT_EQ(WINDOW_PAGES * PG, sysfs_pinned(self->pci));
	} else {
		EXPECT_EQ(0ULL, d.window_pinned);
		EXPECT_EQ(WINDOW_PAGES * PG, d.device_pinned);
	}

	/* A revalidating peer of Q: system memory, with the reason. */
	ASSERT_EQ(0, imp_new_flags(self->efd, q.cpu, q.size, POL_PREFER,
				   P2PMAP_EDU_IMP_F_WRITE, &qid));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, qid, PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, qwant + PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, qid, &in));
	TH_LOG("Q (revalidating): p2p %llu sysmem %llu bar_exhausted %llu no_route %llu",
	       in.p2p_pages, in.sysmem_pages, in.reason_pages[REASON_BAR],
	       in.reason_pages[REASON_ROUTE]);
	EXPECT_EQ(4ULL, in.sysmem_pages);
	EXPECT_EQ(4ULL, in.reason_pages[self->p2p ? (int)REASON_BAR : self->why]);

	/* REQUIRE_P2P: no slot can be had. */
	ASSERT_EQ(0, imp_new_flags(self->efd, q.cpu, q.size, POL_REQUIRE,
				   P2PMAP_EDU_IMP_F_WRITE, &rid));
	ret = imp_xfer(self->efd, RD, rid, 0, PG, got);
	EXPECT_EQ(self->p2p ? -ENOSPC : -EREMOTEIO, ret);

	/* A pinned peer of Q pins its fallback pages device-only. */
	ASSERT_EQ(0, imp_new_flags(self->efd, q.cpu, q.size, POL_PREFER,
				   F_PINNED, &sid));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, sid, 2 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, qwant + 2 * PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, sid, &in));
	EXPECT_EQ(4ULL, in.sysmem_pages);
	EXPECT_EQ(4ULL, in.reason_pages[self->p2p ? (int)REASON_BAR : self->why]);
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	ASSERT_EQ(0, bo_info(self->gpu, q.handle, &bi));
	EXPECT_EQ((self->p2p ? 4 : 4 + WINDOW_PAGES) * PG, d.device_pinned);
	EXPECT_EQ(4ULL, bi.pages_pinned_device);

	/*
	 * The CPU reaches device-pinned pages without a window slot: it
	 * maps their system copy, the one the importers use.
	 */
	EXPECT_EQ(-1, first_mismatch(q.cpu, qwant, 4 * PG));
	fill_pattern(pat, sizeof(pat));
	memcpy(q.cpu + 3 * PG, pat, PG);
	ASSERT_EQ(0, imp_xfer(self->efd, RD, sid, 3 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, qid, 3 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));
	ASSERT_EQ(0, bo_info(self->gpu, q.handle, &bi));
	EXPECT_EQ(0ULL, bi.pages_window);

	ASSERT_EQ(0, imp_destroy(self->efd, sid));
	ASSERT_EQ(0, imp_destroy(self->efd, pid));
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.window_pinned);
	EXPECT_EQ(0ULL, d.device_pinned);
	ASSERT_EQ(0, imp_destroy(self->efd, qid));
	ASSERT_EQ(0, imp_destroy(self->efd, rid));
	bo_free(self->gpu, &p);
	bo_free(self->gpu, &q);
}

/*
 * Pinned memory outlives its handle and its CPU mapping: the import holds
 * the object until it is destroyed, and the edu still reads and writes it.
 */
TEST_F(pin, close_and_munmap_keep_pinned_memory)
{
	struct drm_p2pgpu_device_info d0, d1, d2;
	uint8_t want[4 * PG], got[PG], pat[PG];
	struct bo b;
	uint32_t id = 0;

	ASSERT_EQ(0, dev_info(self->gpu, &d0));
	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill_pattern(want, sizeof(want));
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new_flags(self->efd, b.cpu, b.size, POL_PREFER,
				   F_PINNED, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 0, PG, got));

	ASSERT_EQ(0, munmap(b.cpu, b.size));
	ASSERT_EQ(0, gem_close(self->gpu, b.handle));
	ASSERT_EQ(0, dev_info(self->gpu, &d1));
	EXPECT_EQ(d0.vram_used + 4 * PG, d1.vram_used);
	EXPECT_EQ(4 * PG, d1.window_pinned + d1.device_pinned);

	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, PG + 17, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want + PG + 17, PG));
	fill_pattern(pat, sizeof(pat));
	ASSERT_EQ(0, imp_xfer(self->efd, WR, id, 3 * PG, PG, pat));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 3 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, pat, PG));

	ASSERT_EQ(0, imp_destroy(self->efd, id));
	ASSERT_EQ(0, dev_info(self->gpu, &d2));
	EXPECT_EQ(d0.vram_used, d2.vram_used);
	EXPECT_EQ(0ULL, d2.window_pinned);
	EXPECT_EQ(0ULL, d2.device_pinned);
}

/*
 * A page pinned in the window cannot be handed to an importer that cannot
 * reach the BAR (SYSMEM_ONLY here): a revalidating one gets an error for
 * it until the pin goes, then resolves it again; a pinned one is refused.
 * On the root bus the pin is device-only and both simply get system pages.
 */
TEST_F(pin, window_pin_vs_sysmem_importer)
{
	struct drm_p2pgpu_device_info d;
	struct p2pmap_edu_imp_info in;
	uint8_t want[4 * PG], got[PG];
	uint32_t xid = 0, yid = 0, zid = 0;
	struct bo b;
	int ret;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill_pattern(want, sizeof(want));
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new_flags(self->efd, b.cpu, b.size, POL_PREFER,
				   F_PINNED, &xid));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, xid, 0, PG, got));

	ASSERT_EQ(0, imp_new_flags(self->efd, b.cpu, b.size, POL_SYSMEM,
				   P2PMAP_EDU_IMP_F_WRITE, &yid));
	ASSERT_EQ(0, imp_new_flags(self->efd, b.cpu, b.size, POL_SYSMEM,
				   F_PINNED, &zid));
	ret = imp_xfer(self->efd, RD, yid, PG, PG, got);
	ASSERT_EQ(0, imp_info(self->efd, yid, &in));
	TH_LOG("sysmem-only importer while pinned: %d, error pages %llu", ret,
	       in.error_pages);
	if (self->p2p) {
		EXPECT_EQ(-EBUSY, ret);
		EXPECT_EQ(4ULL, in.error_pages);
		EXPECT_EQ(-EBUSY, imp_xfer(self->efd, RD, zid, 0, PG, got));
	} else {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(-1, first_mismatch(got, want + PG, PG));
		ASSERT_EQ(0, imp_xfer(self->efd, RD, zid, 0, PG, got));
		EXPECT_EQ(-1, first_mismatch(got, want, PG));
	}

	/*
	 * The pin goes (DEVICE_INFO waits for the unpin worker): the
	 * revalidating importer is invalidated, resolves and reads.
	 */
	ASSERT_EQ(0, imp_destroy(self->efd, xid));
	ASSERT_EQ(0, imp_destroy(self->efd, zid));
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.window_pinned + d.device_pinned);
	ASSERT_EQ(0, imp_xfer(self->efd, RD, yid, 2 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want + 2 * PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, yid, &in));
	EXPECT_EQ(4ULL, in.sysmem_pages);
	EXPECT_EQ(0ULL, in.error_pages);
	ASSERT_EQ(0, imp_destroy(self->efd, yid));
	bo_free(self->gpu, &b);
}

/*
 * Self-eviction: an import of 300 pages through the 256-page window, with
 * no minimum residency, must not evict its own pages to place others (it
 * would be invalidated by itself on every round and never settle). It
 * completes with window-size P2P pages and the rest BAR_EXHAUSTED, in one
 * map through the switch. On the root bus the map moves the pages the CPU
 * placed out of the window, which zaps the CPU mapping the import covers:
 * its own notifier makes it start over once, then it settles.
 */
TEST_F_TIMEOUT(pin, oversized_import_settles, 180)
{
	size_t n = WINDOW_PAGES + 44;
	struct p2pmap_edu_imp_info in;
	unsigned long long calls;
	uint8_t got[PG];
	uint8_t *want;
	struct bo c;
	uint32_t id = 0;
	int ret;

	want = malloc(n * PG);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, bo_new(self->gpu, n * PG, &c));
	fill_pattern(want, n * PG);
	memcpy(c.cpu, want, n * PG);
	ASSERT_EQ(0, imp_new_flags(self->efd, c.cpu, c.size, POL_PREFER,
				   P2PMAP_EDU_IMP_F_WRITE, &id));
	ret = imp_xfer(self->efd, RD, id, 0, PG, got);
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	TH_LOG("READ of a %zu-page import: %d; p2p %llu sysmem %llu bar_exhausted %llu no_route %llu; map_calls %llu eagain %llu retry %llu",
	       n, ret, in.p2p_pages, in.sysmem_pages, in.reason_pages[REASON_BAR],
	       in.reason_pages[REASON_ROUTE], in.map_calls, in.map_eagain,
	       in.retry_true);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-1, first_mismatch(got, want, PG));
	/* the CPU placed pages in the window only when it has struct pages */
	EXPECT_EQ(!self->p2p && self->window ? 1ULL : 0ULL, in.map_eagain);
	EXPECT_EQ(in.map_eagain + 1, in.map_calls);
	EXPECT_EQ(0ULL, in.retry_true);
	calls = in.map_calls;
	if (self->p2p) {
		EXPECT_EQ(WINDOW_PAGES, in.p2p_pages);
		EXPECT_EQ(n - WINDOW_PAGES, in.sysmem_pages);
		EXPECT_EQ(n - WINDOW_PAGES, in.reason_pages[REASON_BAR]);
	} else {
		EXPECT_EQ(n, in.sysmem_pages);
		EXPECT_EQ(n, in.reason_pages[self->why]);
	}
	/* Settled: the next transfers use the same mapping. */
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, (n - 1) * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want + (n - 1) * PG, PG));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 100 * PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want + 100 * PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_EQ(calls, in.map_calls);
	ASSERT_EQ(0, imp_destroy(self->efd, id));
	bo_free(self->gpu, &c);
	free(want);
}

/*
 * Unbinding the exporter revokes a pinned import in bounded time: the
 * importer sees EV_UNBIND, its extents are gone, transfers fail, the pins
 * are dropped; the device binds again afterwards with no pins.
 */
TEST_F_TIMEOUT(pin, unbind_revokes_pinned, 120)
{
	struct drm_p2pgpu_device_info d;
	struct p2pmap_edu_imp_info in;
	uint8_t got[PG];
	double t0, dt;
	struct bo b;
	uint32_t id = 0;
	int ret;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill_pattern(b.cpu, b.size);
	ASSERT_EQ(0, imp_new_flags(self->efd, b.cpu, b.size, POL_PREFER,
				   F_PINNED, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, RD, id, 0, PG, got));

	t0 = now_s();
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/unbind", self->pci));
	dt = now_s() - t0;
	TH_LOG("unbind with a pinned import took %.3f s", dt);
	EXPECT_GT(10.0, dt);

	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_LE(1ULL, in.invalidations[EV_UNBIND]);
	EXPECT_EQ(0U, in.nr_extents);
	ret = imp_xfer(self->efd, RD, id, 0, PG, got);
	EXPECT_TRUE(ret == -EFAULT || ret == -ENODEV) TH_LOG("read after unbind: %d", ret);
	ASSERT_EQ(0, imp_destroy(self->efd, id));

	bo_free(self->gpu, &b);
	close(self->gpu);
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/bind", self->pci));
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu);
	ASSERT_EQ(0, dev_info(self->gpu, &d));
	EXPECT_EQ(0ULL, d.window_pinned);
	EXPECT_EQ(0ULL, d.device_pinned);
}

TEST_HARNESS_MAIN
