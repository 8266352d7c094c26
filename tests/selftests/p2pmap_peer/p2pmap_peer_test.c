// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap peer tests: a real PCI DMA engine (QEMU edu, through the test
 * importer p2pmap_edu_importer.ko) reads and writes p2pgpu buffer objects
 * through p2pmap imports of their CPU mappings. This is the end-to-end BAR
 * path: placement (P2P through the switch, system memory on the root bus),
 * data written and read back through the peer, eviction while imported,
 * BAR-window exhaustion falling back page by page with its reason, the
 * REQUIRE_P2P policy, and unbinding the exporter under a live import.
 *
 * The suite loads p2pgpu with window_mb=1 (256 window pages) and
 * min_residency_ms=60000, so peers can never evict pages the test placed
 * and exhaustion is deterministic; CPU faults still may.
 */
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

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "edu_imp_selftest.h"

#define PG		4096UL
#define REASON_BAR	2	/* P2PMAP_REASON_BAR_EXHAUSTED */
#define REASON_ROUTE	3	/* P2PMAP_REASON_NO_ROUTE */
#define EV_EVICT	P2PMAP_EDU_IMP_EV_EVICT
#define EV_UNBIND	P2PMAP_EDU_IMP_EV_UNBIND
#define POL_PREFER	0
#define POL_REQUIRE	1

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 131 + (i >> 12));
}

FIXTURE(peer) {
	int gpu;
	int efd;
	bool p2p;
	int why;	/* the fallback reason when !p2p */
	char pci[32];
	struct drm_p2pgpu_device_info di;
};

FIXTURE_SETUP(peer)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();

	ASSERT_NE(P2PMAP_PAIR_INVALID, t)
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	ASSERT_NE(-1, p2pmap_kernel_feature("pci_p2pdma"));
	self->p2p = p2pmap_p2p_possible();
	self->why = p2pmap_expected_fallback_reason();
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->efd = open("/dev/p2pmap_edu_imp", O_RDWR);
	ASSERT_LE(0, self->efd) TH_LOG("no /dev/p2pmap_edu_imp");
	ASSERT_EQ(0, drmIoctl(self->gpu, DRM_IOCTL_P2PGPU_DEVICE_INFO, &self->di));
	/* The suite loads p2pgpu with a 1 MiB window (see the header). */
	ASSERT_EQ(256 * PG, self->di.window_total);
}

FIXTURE_TEARDOWN(peer)
{
	close(self->efd);
	close(self->gpu);
}

/* The CPU writes a BO; the edu reads it through the import. */
TEST_F(peer, read_through_peer)
{
	struct p2pmap_edu_imp_info in;
	uint8_t got[PG + 100], want[16 * PG];
	struct bo b;
	uint32_t id = 0;

	/*
	 * Compare with a private copy: touching b.cpu after the import
	 * would make the CPU fault pages into the window, which moves them
	 * and (rightly) invalidates a system-memory import before INFO.
	 */
	ASSERT_EQ(0, bo_new(self->gpu, 16 * PG, &b));
	fill(want, sizeof(want), 1);
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));
	EXPECT_EQ(0, memcmp(got, want, PG));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 9 * PG - 50,
			      PG + 100, got));
	EXPECT_EQ(0, memcmp(got, want + 9 * PG - 50, PG + 100));
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	TH_LOG("placement: p2p %llu sysmem %llu, no_route %llu no_kconfig %llu",
	       in.p2p_pages, in.sysmem_pages, in.reason_pages[REASON_ROUTE],
	       in.reason_pages[P2PMAP_SELFTEST_REASON_NO_KCONFIG]);
	if (self->p2p) {
		EXPECT_EQ(16ULL, in.p2p_pages);
		EXPECT_EQ(0ULL, in.sysmem_pages);
	} else {
		EXPECT_EQ(0ULL, in.p2p_pages);
		EXPECT_EQ(16ULL, in.sysmem_pages);
		EXPECT_EQ(16ULL, in.reason_pages[self->why]);
	}
	bo_free(self->gpu, &b);
}

/* The edu writes into a BO through the import; the CPU reads it back. */
TEST_F(peer, write_through_peer)
{
	uint8_t pat[3 * PG];
	struct bo b;
	uint32_t id = 0;

	ASSERT_EQ(0, bo_new(self->gpu, 8 * PG, &b));
	memset(b.cpu, 0, b.size);
	fill(pat, sizeof(pat), 2);
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_WRITE, id, 2 * PG + 7,
			      sizeof(pat) - 7, pat));
	EXPECT_EQ(0, memcmp(b.cpu + 2 * PG + 7, pat, sizeof(pat) - 7));
	EXPECT_EQ(0, b.cpu[2 * PG + 6]);
	EXPECT_EQ(0, b.cpu[5 * PG]);
	bo_free(self->gpu, &b);
}

/*
 * REQUIRE_P2P: works through the switch, refused (-EREMOTEIO) on the root
 * bus and on a kernel without CONFIG_PCI_P2PDMA.
 */
TEST_F(peer, require_p2p)
{
	struct p2pmap_edu_imp_info in;
	uint8_t got[PG], want[4 * PG];
	struct bo b;
	uint32_t id = 0;
	int ret;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill(want, sizeof(want), 3);
	memcpy(b.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_REQUIRE, &id));
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, PG, PG, got);
	if (self->p2p) {
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, imp_info(self->efd, id, &in));
		EXPECT_EQ(0, memcmp(got, want + PG, PG));
		EXPECT_EQ(4ULL, in.p2p_pages);
	} else {
		EXPECT_EQ(-EREMOTEIO, ret);
	}
	bo_free(self->gpu, &b);
}

/*
 * Eviction while imported: the CPU touching 1 MiB of another BO evicts the
 * imported pages from the 1 MiB window; the importer is invalidated and
 * revalidates, and the data is intact wherever the pages now live.
 */
TEST_F_TIMEOUT(peer, evict_while_imported, 300)
{
	struct p2pmap_edu_imp_info before, after;
	uint8_t got[PG], want[8 * PG];
	struct bo a, big;
	uint32_t id = 0;
	size_t i;

	ASSERT_EQ(0, bo_new(self->gpu, 8 * PG, &a));
	fill(a.cpu, a.size, 4);
	ASSERT_EQ(0, imp_new(self->efd, a.cpu, a.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));
	ASSERT_EQ(0, memcmp(got, a.cpu, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &before));

	ASSERT_EQ(0, bo_new(self->gpu, 256 * PG, &big));
	for (i = 0; i < big.size; i += PG)
		big.cpu[i] = (uint8_t)i;

	ASSERT_EQ(0, imp_info(self->efd, id, &after));
	if (self->p2p) {
		EXPECT_LT(before.invalidations[EV_EVICT], after.invalidations[EV_EVICT]);
	} else {
		/* A lives in system memory: evicting the window leaves it. */
		EXPECT_EQ(before.invalidations[EV_EVICT], after.invalidations[EV_EVICT]);
	}
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 5 * PG, PG, got));
	fill(want, sizeof(want), 4);
	EXPECT_EQ(0, memcmp(got, want + 5 * PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &after));
	TH_LOG("after eviction: map_calls %llu -> %llu, evict invalidations %llu, p2p %llu sysmem %llu bar_exhausted %llu",
	       before.map_calls, after.map_calls, after.invalidations[EV_EVICT],
	       after.p2p_pages, after.sysmem_pages, after.reason_pages[REASON_BAR]);
	if (self->p2p) {
		EXPECT_LT(before.map_calls, after.map_calls);
		EXPECT_EQ(8ULL, after.p2p_pages + after.sysmem_pages);
		EXPECT_EQ(after.sysmem_pages, after.reason_pages[REASON_BAR]);
	}
	bo_free(self->gpu, &big);
	bo_free(self->gpu, &a);
}

/*
 * BAR-window exhaustion: importing 512 pages through a 256-page window
 * whose pages are all younger than the minimum residency gives exactly
 * window-size P2P pages and the rest in system memory, each fallback
 * reported as bar_exhausted; REQUIRE_P2P gets ENOSPC.
 */
TEST_F_TIMEOUT(peer, window_exhaustion_fallback, 300)
{
	struct p2pmap_edu_imp_info in;
	static uint8_t want[512 * PG];
	uint8_t got[PG];
	struct bo c;
	uint32_t id = 0, id2 = 0;
	int ret;

	ASSERT_EQ(0, bo_new(self->gpu, 512 * PG, &c));
	fill(want, sizeof(want), 5);
	memcpy(c.cpu, want, sizeof(want));
	ASSERT_EQ(0, imp_new(self->efd, c.cpu, c.size, POL_PREFER, &id));
	/* Page 0 falls back to system memory, page 511 is in the window. */
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));
	EXPECT_EQ(0, memcmp(got, want, PG));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 511 * PG, PG, got));
	EXPECT_EQ(0, memcmp(got, want + 511 * PG, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	TH_LOG("placement: p2p %llu sysmem %llu bar_exhausted %llu no_route %llu",
	       in.p2p_pages, in.sysmem_pages, in.reason_pages[REASON_BAR],
	       in.reason_pages[REASON_ROUTE]);
	if (self->p2p) {
		EXPECT_EQ(256ULL, in.p2p_pages);
		EXPECT_EQ(256ULL, in.sysmem_pages);
		EXPECT_EQ(256ULL, in.reason_pages[REASON_BAR]);
	} else {
		EXPECT_EQ(512ULL, in.sysmem_pages);
		EXPECT_EQ(512ULL, in.reason_pages[self->why]);
	}
	ASSERT_EQ(0, imp_new(self->efd, c.cpu, c.size, POL_REQUIRE, &id2));
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id2, 0, PG, got);
	EXPECT_EQ(self->p2p ? -ENOSPC : -EREMOTEIO, ret);
	bo_free(self->gpu, &c);
}

/*
 * Unbinding the exporter revokes a live import in bounded time: the
 * importer sees an unbind invalidation, further transfers fail, and the
 * device binds again afterwards.
 */
TEST_F_TIMEOUT(peer, unbind_revokes, 120)
{
	struct p2pmap_edu_imp_info in;
	char path[128];
	uint8_t got[PG];
	struct bo b;
	uint32_t id = 0;
	int fd, ret;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill(b.cpu, b.size, 6);
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/p2pgpu/unbind");
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(self->pci), write(fd, self->pci, strlen(self->pci)));
	close(fd);

	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_LE(1ULL, in.invalidations[EV_UNBIND]);
	EXPECT_EQ(0U, in.nr_extents);
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got);
	EXPECT_TRUE(ret == -EFAULT || ret == -ENODEV) TH_LOG("read after unbind: %d", ret);

	bo_free(self->gpu, &b);
	close(self->gpu);
	fd = open("/sys/bus/pci/drivers/p2pgpu/bind", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(self->pci), write(fd, self->pci, strlen(self->pci)));
	close(fd);
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu);
}

TEST_HARNESS_MAIN
