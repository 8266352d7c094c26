// SPDX-License-Identifier: GPL-2.0
/*
 * Fail-nth sweeps over the dma-buf export paths of p2pgpu: for N = 1, 2, ...
 * fail the N-th allocation of one ioctl until none is reached. Each
 * injected failure must give a clean errno, leave no pin, no live dynamic
 * mapping and no half-made attachment behind, and the same call must then
 * work. Swept: DRM_IOCTL_P2PGPU_BO_FROM_VA; the edu importer's ATTACH as a
 * static, a dynamic (unpinned) and a dma_buf_pin()ned importer (p2pgpu's
 * attach, pin and map ops); and a READ that must re-map after move_notify
 * (the dynamic re-map path); EXPORT_RANGE and a peer-to-peer ATTACH of
 * the range dma-buf it makes (the core's range exporter). BO_DMABUF_INFO
 * allocates nothing and is covered by the bad-input tests of
 * p2pgpu_dmabuf_dyn_test. kmemleak (the health suite) catches leaks.
 *
 * The suite (tests/vm/suites/failnth_dmabuf.sh) loads p2pgpu with
 * window_mb=1 and min_residency_ms=0; the re-map sweep needs a P2P route
 * between the GPU and the importer and skips without one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "failnth_selftest.h"
#include "p2pgpu_drm.h"
#include "p2pgpu_dmabuf_test_uapi.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"

#define PG		4096UL
#define NPAGES		4UL
#define WINDOW_PAGES	256UL
#define NTH_CAP		400U

FIXTURE(fn) {
	int gpu;
	int dfd;
	int nth;
	int fd;
	char pci[32];
	struct bo b;
	struct bo big;
	uint8_t want[NPAGES * PG];
	uint8_t got[PG];
};

FIXTURE_SETUP(fn)
{
	self->fd = -1;
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->dfd = open("/dev/" P2PGPU_DMABUF_TEST_DEVNAME, O_RDWR);
	ASSERT_LE(0, self->dfd);
	self->nth = failnth_open();
	ASSERT_LE(0, self->nth) TH_LOG("no fail-nth: %s", strerror(-self->nth));
	ASSERT_EQ(0, bo_new(self->gpu, NPAGES * PG, &self->b));
	fill_pattern(self->want, sizeof(self->want));
	memcpy(self->b.cpu, self->want, sizeof(self->want));
	ASSERT_EQ(0, drmPrimeHandleToFD(self->gpu, self->b.handle,
					DRM_CLOEXEC | DRM_RDWR, &self->fd));
	ASSERT_EQ(0, bo_new(self->gpu, (WINDOW_PAGES + 8) * PG, &self->big));
	memset(self->got, 0, sizeof(self->got));
}

FIXTURE_TEARDOWN(fn)
{
	failnth_set(self->nth, 0);
	close(self->nth);
	close(self->dfd);
	if (self->fd >= 0)
		close(self->fd);
	bo_free(self->gpu, &self->big);
	bo_free(self->gpu, &self->b);
	close(self->gpu);
}

/* Nothing of an attachment may outlive a failed ATTACH. */
static int no_leftovers(FIXTURE_DATA(fn) *self)
{
	struct drm_p2pgpu_bo_dmabuf_info di = { .handle = self->b.handle };
	struct drm_p2pgpu_bo_info bi = { .handle = self->b.handle };

	if (ioctl(self->gpu, DRM_IOCTL_P2PGPU_BO_INFO, &bi) ||
	    ioctl(self->gpu, DRM_IOCTL_P2PGPU_BO_DMABUF_INFO, &di))
		return -1;
	return bi.pages_pinned_window || bi.pages_pinned_device ||
	       di.live_mappings ? -1 : 0;
}

/* Evict everything with CPU faults on the big object. */
static void pressure(FIXTURE_DATA(fn) *self)
{
	unsigned long i;

	for (i = 0; i < WINDOW_PAGES + 8; i++)
		self->big.cpu[i * PG]++;
}

/*
 * Sweep ATTACH with @flags: every failure clean and leaving nothing, the
 * first uninjected run attaching with data readable through the edu.
 */
static void sweep_attach(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fn) *self, uint32_t flags)
{
	struct p2pgpu_dmabuf_test_xfer x = {
		.offset = PG, .len = PG, .buf = (uintptr_t)self->got,
	};
	struct p2pgpu_dmabuf_test_attach a;
	unsigned int n, fired = 0;
	long left;
	int ret;

	for (n = 1; n <= NTH_CAP; n++) {
		memset(&a, 0, sizeof(a));
		a.fd = self->fd;
		a.flags = flags;
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_ATTACH, &a) ?
		      -errno : 0;
		left = failnth_left(self->nth);
		failnth_set(self->nth, 0);
		if (left) {
			ASSERT_EQ(0, ret) TH_LOG("N=%u uninjected: %s", n,
						 strerror(-ret));
			break;
		}
		fired++;
		if (!ret) {
			/* absorbed: the attachment must work */
			ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
			continue;
		}
		ASSERT_TRUE(ret == -ENOMEM || ret == -EIO || ret == -ENOSPC ||
			    ret == -EBUSY)
			TH_LOG("N=%u: %d (%s)", n, ret, strerror(-ret));
		ASSERT_EQ(0, no_leftovers(self)) TH_LOG("N=%u: pins or live mappings left", n);
		ASSERT_EQ(-ENXIO, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH) ?
			  -errno : 0) TH_LOG("N=%u: a failed ATTACH left an attachment", n);
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("flags %#x: %u failure points", flags, fired);
	ASSERT_LT(0U, fired);
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_READ, &x));
	EXPECT_EQ(-1, first_mismatch(self->got, self->want + PG, PG));
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	ASSERT_EQ(0, no_leftovers(self));
}

TEST_F_TIMEOUT(fn, attach_static, 300)
{
	sweep_attach(_metadata, self, 0);
}

TEST_F_TIMEOUT(fn, attach_dynamic, 300)
{
	sweep_attach(_metadata, self, P2PGPU_DMABUF_TEST_F_P2P);
}

TEST_F_TIMEOUT(fn, attach_dynamic_pinned, 300)
{
	sweep_attach(_metadata, self, P2PGPU_DMABUF_TEST_F_P2P |
		     P2PGPU_DMABUF_TEST_F_PIN);
}

/*
 * The re-map after move_notify: a dynamic attachment is evicted, then a
 * READ re-maps it under injection. A failure is a clean errno; the next
 * READ re-maps and reads the right bytes.
 */
TEST_F_TIMEOUT(fn, remap_after_move_notify, 600)
{
	struct p2pgpu_dmabuf_test_xfer x = {
		.offset = 2 * PG, .len = PG, .buf = (uintptr_t)self->got,
	};
	struct p2pgpu_dmabuf_test_attach a = {
		.fd = self->fd, .flags = P2PGPU_DMABUF_TEST_F_P2P,
	};
	struct p2pgpu_dmabuf_test_status st;
	unsigned int n, fired = 0;
	long left;
	int ret;

	/*
	 * Only a peer-to-peer mapping sits in the window where CPU pressure
	 * can evict it; without a route (or P2PDMA) the attachment maps
	 * pinned system pages and is never told to move.
	 */
	if (!p2pmap_p2p_possible())
		SKIP(return, "no P2P route between the GPU and the importer (P2PMAP_ROUTE=%s): the attachment maps pinned system pages, nothing moves",
		     P2PMAP_PAIR_ROUTE_ENV);
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_ATTACH, &a));
	for (n = 1; n <= NTH_CAP; n++) {
		pressure(self);
		ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_STATUS, &st));
		ASSERT_EQ(P2PGPU_DMABUF_TEST_S_INVALID, st.flags)
			TH_LOG("N=%u: CPU pressure did not invalidate the mapping", n);
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_READ, &x) ? -errno : 0;
		left = failnth_left(self->nth);
		failnth_set(self->nth, 0);
		if (!left) {
			fired++;
			ASSERT_TRUE(!ret || ret == -ENOMEM || ret == -EIO ||
				    ret == -ENOSPC || ret == -EBUSY)
				TH_LOG("N=%u: %d (%s)", n, ret, strerror(-ret));
		}
		if (ret) {
			/* usable again: the next READ re-maps */
			ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_READ, &x));
		}
		EXPECT_EQ(-1, first_mismatch(self->got, self->want + 2 * PG, PG))
			TH_LOG("N=%u: wrong data after the re-map", n);
		if (left)
			break;
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("%u failure points", fired);
	ASSERT_LT(0U, fired);
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	ASSERT_EQ(0, no_leftovers(self));
}

TEST_F_TIMEOUT(fn, bo_from_va, 120)
{
	struct drm_p2pgpu_bo_from_va fv;
	unsigned int n, fired = 0;
	long left;
	int ret;

	for (n = 1; n <= NTH_CAP; n++) {
		memset(&fv, 0, sizeof(fv));
		fv.va = (uintptr_t)self->b.cpu + PG;
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = ioctl(self->gpu, DRM_IOCTL_P2PGPU_BO_FROM_VA, &fv) ?
		      -errno : 0;
		left = failnth_left(self->nth);
		failnth_set(self->nth, 0);
		if (!ret) {
			EXPECT_EQ(PG, fv.offset);
			EXPECT_EQ(0, gem_close(self->gpu, fv.handle));
		} else {
			ASSERT_EQ(-ENOMEM, ret) TH_LOG("N=%u: %s", n, strerror(-ret));
		}
		if (left)
			break;
		fired++;
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("%u failure points", fired);
	ASSERT_LT(0U, fired);
}

/*
 * EXPORT_RANGE of a range of the object's own mapping, then a peer-to-peer
 * ATTACH of that dma-buf (the core's range exporter: p2pmap attach, pinned
 * import, map): every failure clean, nothing pinned afterwards, and the
 * uninjected run reads the right bytes.
 */
TEST_F_TIMEOUT(fn, export_range_and_attach, 300)
{
	struct drm_p2pgpu_export_range er;
	struct p2pgpu_dmabuf_test_attach a;
	struct p2pgpu_dmabuf_test_xfer x = {
		.offset = 0, .len = PG, .buf = (uintptr_t)self->got,
	};
	unsigned int n, fired = 0;
	int ret, rfd = -1;
	long left;

	for (n = 1; n <= NTH_CAP; n++) {
		memset(&er, 0, sizeof(er));
		er.va = (uintptr_t)self->b.cpu + PG;
		er.length = 2 * PG;
		er.flags = P2PGPU_EXPORT_RANGE_WRITE;
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = ioctl(self->gpu, DRM_IOCTL_P2PGPU_EXPORT_RANGE, &er) ?
		      -errno : 0;
		left = failnth_left(self->nth);
		failnth_set(self->nth, 0);
		if (!ret)
			close(er.fd);
		else
			ASSERT_TRUE(ret == -ENOMEM || ret == -EMFILE)
				TH_LOG("EXPORT_RANGE N=%u: %s", n, strerror(-ret));
		if (left)
			break;
		fired++;
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("EXPORT_RANGE: %u failure points", fired);
	ASSERT_LT(0U, fired);

	ASSERT_EQ(0, ioctl(self->gpu, DRM_IOCTL_P2PGPU_EXPORT_RANGE, &er));
	rfd = er.fd;
	for (fired = 0, n = 1; n <= NTH_CAP; n++) {
		memset(&a, 0, sizeof(a));
		a.fd = rfd;
		a.flags = P2PGPU_DMABUF_TEST_F_P2P;
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_ATTACH, &a) ?
		      -errno : 0;
		left = failnth_left(self->nth);
		failnth_set(self->nth, 0);
		if (left) {
			ASSERT_EQ(0, ret);
			break;
		}
		fired++;
		if (!ret) {
			ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
			continue;
		}
		ASSERT_TRUE(ret == -ENOMEM || ret == -EIO || ret == -EBUSY ||
			    ret == -ENOSPC)
			TH_LOG("ATTACH N=%u: %d (%s)", n, ret, strerror(-ret));
		ASSERT_EQ(0, no_leftovers(self)) TH_LOG("N=%u: pins left", n);
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("ATTACH of the range: %u failure points", fired);
	ASSERT_LT(0U, fired);
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_READ, &x));
	EXPECT_EQ(-1, first_mismatch(self->got, self->want + PG, PG));
	ASSERT_EQ(0, ioctl(self->dfd, P2PGPU_DMABUF_TEST_IOC_DETACH));
	ASSERT_EQ(0, no_leftovers(self));
	close(rfd);
}

TEST_HARNESS_MAIN
