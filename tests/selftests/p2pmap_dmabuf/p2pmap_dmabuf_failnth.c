// SPDX-License-Identifier: GPL-2.0
/*
 * Fail-nth sweeps over /dev/p2pmap's EXPORT_RANGE: for N = 1, 2, ... fail
 * the N-th allocation of one call until none is reached. Each injected
 * failure must give a clean errno (-ENOMEM, or -EMFILE when the fd table
 * could not grow), leave no descriptor and no export behind, and the same
 * call must then work. Swept: EXPORT_RANGE of ordinary memory and of a
 * range of the other GPU's object (the mmu interval notifier, the dma-buf
 * and its file, the fd), then the attach of what it exported by a
 * dynamic, a pinned revocable and a static importer (p2pmap attach,
 * pinned import, sg_table), each failure leaving no pin on the object.
 * kmemleak (the health suite) catches leaks.
 *
 * The suite (tests/vm/suites/failnth_p2pmap_dmabuf.sh, switch only) loads
 * p2pgpu with window_mb=1 and min_residency_ms=0.
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
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "p2pmap_dmabuf_common.h"

#define NPAGES		4UL
#define NTH_CAP		400U

FIXTURE(fn) {
	int dev;
	int dfd;
	int gpu;
	int nth;
	char pci[32];
	struct bo o;
	uint8_t *buf;
	uint8_t want[NPAGES * PG];
	uint8_t got[PG];
};

FIXTURE_SETUP(fn)
{
	/* the provider: the GPU of the pair under test (P2PMAP_GPUS) */
	ASSERT_EQ(0, p2pmap_gpu_pci(0, self->pci, sizeof(self->pci)))
		TH_LOG("P2PMAP_GPUS names no GPU");
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu %s", self->pci);
	self->dev = p2pmap_dev_open();
	ASSERT_LE(0, self->dev) TH_LOG("no /dev/p2pmap: %s", strerror(-self->dev));
	self->dfd = dbt_open();
	ASSERT_LE(0, self->dfd) TH_LOG("no /dev/" P2PGPU_DMABUF_TEST_DEVNAME);
	self->nth = failnth_open();
	ASSERT_LE(0, self->nth) TH_LOG("no fail-nth: %s", strerror(-self->nth));
	fill_pattern(self->want, sizeof(self->want));
	ASSERT_EQ(0, bo_new(self->gpu, NPAGES * PG, &self->o));
	memcpy(self->o.cpu, self->want, sizeof(self->want));
	self->buf = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memcpy(self->buf, self->want, sizeof(self->want));
}

FIXTURE_TEARDOWN(fn)
{
	failnth_set(self->nth, 0);
	close(self->nth);
	munmap(self->buf, NPAGES * PG);
	bo_free(self->gpu, &self->o);
	close(self->dfd);
	close(self->dev);
	close(self->gpu);
}

/* Pages of the object pinned by importers (0 once all are gone). */
static long obj_pins(FIXTURE_DATA(fn) *self)
{
	struct drm_p2pgpu_bo_info bi = { .handle = self->o.handle };

	if (ioctl(self->gpu, DRM_IOCTL_P2PGPU_BO_INFO, &bi))
		return -1;
	return (long)(bi.pages_pinned_window + bi.pages_pinned_device);
}

/* Unpinning is deferred to the exporter's worker: poll. */
static long wait_no_pins(FIXTURE_DATA(fn) *self)
{
	long pins = 0;
	int i;

	for (i = 0; i < 500; i++) {
		pins = obj_pins(self);
		if (pins <= 0)
			return pins;
		usleep(10000);
	}
	return pins;
}

/* Sweep EXPORT_RANGE of @va; every failure clean, no descriptor left. */
static void sweep_export(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fn) *self, const void *va)
{
	struct p2pmap_export_range a;
	unsigned int n, fired = 0;
	int ret, nfd = count_fds();
	long left;

	for (n = 1; n <= NTH_CAP; n++) {
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.va = (uintptr_t)va;
		a.length = 2 * PG;
		a.flags = P2PMAP_EXPORT_WRITE;
		a.fd = -1;
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = ioctl(self->dev, P2PMAP_IOC_EXPORT_RANGE, &a) ? -errno : 0;
		left = failnth_left(self->nth);
		failnth_set(self->nth, 0);
		if (!ret) {
			ASSERT_LE(0, a.fd);
			close(a.fd);
		} else {
			ASSERT_TRUE(ret == -ENOMEM || ret == -EMFILE)
				TH_LOG("N=%u: %d (%s)", n, ret, strerror(-ret));
			ASSERT_EQ(-1, a.fd) TH_LOG("N=%u: fd written on failure", n);
		}
		ASSERT_EQ(nfd, count_fds()) TH_LOG("N=%u: a descriptor left", n);
		if (left)
			break;
		fired++;
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("EXPORT_RANGE: %u failure points", fired);
	ASSERT_LT(0U, fired);
}

TEST_F_TIMEOUT(fn, export_ordinary_memory, 300)
{
	sweep_export(_metadata, self, self->buf + PG);
}

TEST_F_TIMEOUT(fn, export_provider_range, 300)
{
	sweep_export(_metadata, self, self->o.cpu + PG);
}

/*
 * Sweep the attach of an export of the object's range with @flags: every
 * failure a clean errno, no attachment and no pin left; the uninjected
 * run reads the right bytes through the edu.
 */
static void sweep_attach(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fn) *self, uint32_t flags)
{
	struct p2pgpu_dmabuf_test_attach a;
	unsigned int n, fired = 0;
	int ret, fd;
	long left;

	ASSERT_EQ(0, p2pmap_export(self->dev, self->o.cpu + PG, 2 * PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	for (n = 1; n <= NTH_CAP; n++) {
		ASSERT_EQ(0, failnth_set(self->nth, n));
		ret = dbt_attach(self->dfd, fd, flags, &a);
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
			ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, self->got));
			EXPECT_EQ(-1, first_mismatch(self->got, self->want + PG, PG));
			ASSERT_EQ(0, dbt_detach(self->dfd));
			continue;
		}
		ASSERT_TRUE(ret == -ENOMEM || ret == -EIO || ret == -EBUSY ||
			    ret == -ENOSPC)
			TH_LOG("N=%u: %d (%s)", n, ret, strerror(-ret));
		ASSERT_EQ(-ENXIO, dbt_detach(self->dfd))
			TH_LOG("N=%u: a failed ATTACH left an attachment", n);
		ASSERT_EQ(0, wait_no_pins(self)) TH_LOG("N=%u: pins left", n);
	}
	ASSERT_GE(NTH_CAP, n);
	TH_LOG("ATTACH flags %#x: %u failure points", flags, fired);
	ASSERT_LT(0U, fired);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, self->got));
	EXPECT_EQ(-1, first_mismatch(self->got, self->want + PG, PG));
	ASSERT_EQ(0, dbt_detach(self->dfd));
	close(fd);
	EXPECT_EQ(0, wait_no_pins(self));
}

TEST_F_TIMEOUT(fn, attach_dynamic, 300)
{
	sweep_attach(_metadata, self, F_DYN);
}

TEST_F_TIMEOUT(fn, attach_pinned_revocable, 300)
{
	sweep_attach(_metadata, self, F_DYN | F_PIN | F_REV);
}

TEST_F_TIMEOUT(fn, attach_static, 300)
{
	sweep_attach(_metadata, self, 0);
}

TEST_HARNESS_MAIN
