// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_copy_test: the p2pgpu copy engine (DRM_IOCTL_P2PGPU_COPY), the
 * importer side of the reference driver. Every copy's data is checked
 * byte for byte against a private copy, through the objects' CPU mappings
 * and the user buffers, including the bytes just outside the range:
 *
 *  - system memory <-> object, both directions, unaligned pointer, offset
 *    and length, into pages in the window and device-only pages;
 *  - peer copies GPU0 <-> GPU1 both ways (the user range is a CPU mapping
 *    of the other GPU's object): P2P through the switch, system memory with
 *    reason no_route on the root bus; REQUIRE_P2P works or gets EREMOTEIO;
 *  - copies within one GPU, also between two ranges of one object;
 *  - copies under an eviction storm, and copies racing CPU faults that move
 *    the imported pages (retries);
 *  - one page mapped twice in the user range, both directions, with the
 *    DMA-API debugging error count unchanged;
 *  - bad input, each field on its own; kill -9 mid-copy; a fail-nth sweep;
 *  - unbinding the engine's GPU and the exporting GPU under running copies.
 *
 * Which placement is right is not assumed: the test finds from sysfs
 * whether the GPUs sit below a common PCI bridge and cross-checks that with
 * the route the suite derived (P2PMAP_ROUTE, see p2pgpu_copy_common.h); the
 * two GPUs are the suite's pair (P2PMAP_GPUS), one that reaches P2P if the
 * machine has one. The suite (copy.sh) loads
 * p2pgpu with a 1 MiB window, 64 MiB of device memory and no minimum
 * residency, so that peers may evict and CPU faults of a third object push
 * imported pages out of the window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xf86drm.h>

/* 6.1's harness has an unused parameter; keep -Wextra -Werror for our code */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "failnth_selftest.h"
#include "p2pgpu_copy_common.h"
#include "sysfs_num.h"

#define TO_BO		P2PGPU_COPY_TO_BO
#define FROM_BO		P2PGPU_COPY_FROM_BO
#define PREFER		P2PGPU_COPY_PREFER_P2P
#define REQUIRE		P2PGPU_COPY_REQUIRE_P2P
#define SYSMEM_ONLY	P2PGPU_COPY_SYSMEM_ONLY
#define DRV_PCI		"/sys/bus/pci/drivers/p2pgpu"

static void *anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int bo_info(int fd, uint32_t handle, struct drm_p2pgpu_bo_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->handle = handle;
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, bi) ? -errno : 0;
}

/*
 * From /sys/module/p2pmap/features, set by the fixture: whether the kernel
 * has CONFIG_PCI_P2PDMA (then a GPU reaches its own BAR, and CPU faults
 * place pages into the window and evict from it), and the reason the core
 * gives for pages it places in system memory when the GPUs cannot reach
 * each other (NO_KCONFIG without P2PDMA, NO_ROUTE on the root bus).
 */
static bool pci_p2pdma;
static int fallback_reason;
/* p2pgpu/cpu_map "bar": CPU faults place into (and evict from) the window */
static bool window_cpu;

FIXTURE(copy) {
	int g[2];
	char pci[2][32];
	int p2p;
};

FIXTURE_SETUP(copy)
{
	char why[256] = "";

	memset(self->pci, 0, sizeof(self->pci));
	self->g[0] = open_gpu(0, self->pci[0], sizeof(self->pci[0]));
	ASSERT_LE(0, self->g[0]) TH_LOG("no p2pgpu render node");
	self->g[1] = open_gpu(1, self->pci[1], sizeof(self->pci[1]));
	ASSERT_LE(0, self->g[1]) TH_LOG("no second p2pgpu render node");
	self->p2p = expect_peer_p2p(self->pci[0], self->pci[1], why, sizeof(why));
	ASSERT_LE(0, self->p2p) TH_LOG("%s", why);
	ASSERT_NE(-1, p2pmap_kernel_feature("pci_p2pdma"));
	pci_p2pdma = p2pmap_kernel_feature("pci_p2pdma") == 1;
	ASSERT_NE(-1, p2pgpu_window_cpu_map());
	window_cpu = p2pgpu_window_cpu_map() == 1;
	self->p2p = self->p2p && pci_p2pdma;
	fallback_reason = copy_expected_fallback_reason();
}

FIXTURE_TEARDOWN(copy)
{
	close(self->g[0]);
	close(self->g[1]);
}

/* System memory -> object -> system memory, unaligned everywhere. */
TEST_F(copy, sysmem_both_directions)
{
	const uint64_t len = 3 * PG + 1000, boff = PG + 777;
	int fd = self->g[0];
	struct drm_p2pgpu_bo_info bi;
	struct drm_p2pgpu_copy out;
	uint8_t *src, *dst, *dst2;
	uint64_t n;
	struct bo b, d;

	ASSERT_EQ(0, bo_new(fd, 8 * PG, &b));
	memset(b.cpu, 0x11, 2 * PG);	/* pages 0-1 in the window, 2-7 not */
	ASSERT_EQ(0, bo_info(fd, b.handle, &bi));
	TH_LOG("before: %llu pages in the window, %llu device-only",
	       bi.pages_window, bi.pages_device);
	ASSERT_NE(0ULL, bi.pages_device);
	src = anon(6 * PG, PROT_READ | PROT_WRITE);
	dst = anon(6 * PG, PROT_READ | PROT_WRITE);
	dst2 = anon(7 * PG, PROT_READ | PROT_WRITE);
	ASSERT_TRUE(src && dst && dst2);
	fill_pattern(src, 6 * PG);

	/* to the object: page 1 is in the window, pages 2-4 device-only */
	ASSERT_EQ(0, gpu_copy(fd, b.handle, src + 123, len, boff, TO_BO, PREFER, &out));
	n = pages_covered(src + 123, len);
	TH_LOG("to BO: p2p %llu sysmem %llu system_page %llu retries %llu, %llu ns",
	       out.p2p_pages, out.sysmem_pages, out.reason_pages[P2PGPU_COPY_REASON_SYSTEM_PAGE],
	       out.retries, out.elapsed_ns);
	EXPECT_EQ(n, out.sysmem_pages);
	EXPECT_EQ(0ULL, out.p2p_pages);
	EXPECT_EQ(n, out.reason_pages[P2PGPU_COPY_REASON_SYSTEM_PAGE]);
	EXPECT_LT(0ULL, out.elapsed_ns);
	EXPECT_EQ(-1, first_mismatch(b.cpu + boff, src + 123, len));
	EXPECT_EQ(0x11, b.cpu[boff - 1]);
	EXPECT_EQ(0, b.cpu[boff + len]);

	/* back into another buffer, from pages now all in the window */
	memset(dst, 0xaa, 6 * PG);
	ASSERT_EQ(0, gpu_copy(fd, b.handle, dst + 4000, len, boff, FROM_BO, PREFER, &out));
	EXPECT_EQ(pages_covered(dst + 4000, len), out.sysmem_pages);
	EXPECT_EQ(-1, first_mismatch(dst + 4000, src + 123, len));
	EXPECT_EQ(0xaa, dst[3999]);
	EXPECT_EQ(0xaa, dst[4000 + len]);

	/* a round trip through device-only pages that never enter the window */
	ASSERT_EQ(0, bo_new(fd, 16 * PG, &d));
	ASSERT_EQ(0, gpu_copy(fd, d.handle, src + 1, 5 * PG + 17, 5 * PG + 3,
			      TO_BO, SYSMEM_ONLY, &out));
	memset(dst2, 0x55, 7 * PG);
	ASSERT_EQ(0, gpu_copy(fd, d.handle, dst2 + 1, 5 * PG + 17, 5 * PG + 3,
			      FROM_BO, PREFER, &out));
	ASSERT_EQ(0, bo_info(fd, d.handle, &bi));
	EXPECT_EQ(0ULL, bi.pages_window);
	EXPECT_EQ(-1, first_mismatch(dst2 + 1, src + 1, 5 * PG + 17));
	EXPECT_EQ(0x55, dst2[0]);
	EXPECT_EQ(0x55, dst2[5 * PG + 18]);
	/* and the CPU, faulting them in, sees the same bytes */
	EXPECT_EQ(-1, first_mismatch(d.cpu + 5 * PG + 3, src + 1, 5 * PG + 17));
	EXPECT_EQ(0, d.cpu[5 * PG + 2]);

	bo_free(fd, &d);
	bo_free(fd, &b);
}

/*
 * The placement of a copy of @len bytes covering @n pages of a peer's
 * mapping: all peer-to-peer if @p2p, else all system memory for the
 * topology's fallback reason.
 */
static void expect_placement(struct __test_metadata *_metadata,
			     const char *what, unsigned long long len,
			     const struct drm_p2pgpu_copy *out, uint64_t n,
			     int p2p)
{
	TH_LOG("%s, %llu bytes: p2p %llu sysmem %llu reason %d %llu retries %llu, %llu ns",
	       what, len, out->p2p_pages, out->sysmem_pages, fallback_reason,
	       out->reason_pages[fallback_reason], out->retries,
	       out->elapsed_ns);
	if (p2p) {
		EXPECT_EQ(n, out->p2p_pages);
		EXPECT_EQ(0ULL, out->sysmem_pages);
	} else {
		EXPECT_EQ(0ULL, out->p2p_pages);
		EXPECT_EQ(n, out->sysmem_pages);
		EXPECT_EQ(n, out->reason_pages[fallback_reason]);
	}
}

/*
 * Engine @eng copies from and to a CPU mapping of an object of GPU @src;
 * @p2p: the engine reaches that GPU's BAR.
 */
static void peer_copy(struct __test_metadata *_metadata, int eng, int src,
		      int p2p)
{
	const unsigned long long len = 10 * PG, boff = 50, len2 = 5 * PG;
	uint8_t want[16 * PG], want2[16 * PG];
	struct drm_p2pgpu_copy out;
	struct bo s, d;
	int ret;

	ASSERT_EQ(0, bo_new(src, 16 * PG, &s));
	ASSERT_EQ(0, bo_new(eng, 16 * PG, &d));
	fill_pattern(want, sizeof(want));
	memcpy(s.cpu, want, sizeof(want));
	fill_pattern(want2, sizeof(want2));
	memcpy(d.cpu, want2, sizeof(want2));

	/* peer -> local */
	ASSERT_EQ(0, gpu_copy(eng, d.handle, s.cpu + 100, len, boff, TO_BO, PREFER, &out));
	expect_placement(_metadata, "peer -> local", len, &out,
			 pages_covered(s.cpu + 100, len), p2p);
	EXPECT_EQ(-1, first_mismatch(d.cpu + boff, want + 100, len));
	EXPECT_EQ(want2[boff - 1], d.cpu[boff - 1]);
	EXPECT_EQ(want2[boff + len], d.cpu[boff + len]);
	EXPECT_EQ(-1, first_mismatch(s.cpu, want, sizeof(want)));
	memcpy(want2 + boff, want + 100, len);

	/* local -> peer */
	ASSERT_EQ(0, gpu_copy(eng, d.handle, s.cpu + 3 * PG + 5, len2, 2 * PG + 9,
			      FROM_BO, PREFER, &out));
	expect_placement(_metadata, "local -> peer", len2, &out,
			 pages_covered(s.cpu + 3 * PG + 5, len2), p2p);
	memcpy(want + 3 * PG + 5, want2 + 2 * PG + 9, len2);
	EXPECT_EQ(-1, first_mismatch(s.cpu, want, sizeof(want)));
	EXPECT_EQ(-1, first_mismatch(d.cpu, want2, sizeof(want2)));

	/* REQUIRE_P2P: through the switch, or refused */
	ret = gpu_copy(eng, d.handle, s.cpu, 4 * PG, 0, TO_BO, REQUIRE, &out);
	if (p2p) {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(4ULL, out.p2p_pages);
		EXPECT_EQ(-1, first_mismatch(d.cpu, want, 4 * PG));
	} else {
		EXPECT_EQ(-EREMOTEIO, ret);
		EXPECT_EQ(-1, first_mismatch(d.cpu, want2, sizeof(want2)));
	}
	bo_free(src, &s);
	bo_free(eng, &d);
}

/* User range: a mapping of a GPU0 object; the engine: GPU1's. */
TEST_F(copy, peer_gpu0_to_gpu1)
{
	peer_copy(_metadata, self->g[1], self->g[0], self->p2p);
}

/* And the other way round. */
TEST_F(copy, peer_gpu1_to_gpu0)
{
	peer_copy(_metadata, self->g[0], self->g[1], self->p2p);
}

/*
 * Within one GPU: a device always reaches its own BAR (distance 0), on
 * either topology, when the kernel has CONFIG_PCI_P2PDMA; without it no
 * route can be checked at all, so REQUIRE_P2P is refused (-EREMOTEIO) and
 * the copies go through system memory with reason NO_KCONFIG. Also between
 * two ranges of one object, which must not deadlock (resolving the mapping
 * takes the device lock the copy holds later).
 */
TEST_F(copy, same_gpu)
{
	uint8_t want[8 * PG], got[3 * PG];
	struct drm_p2pgpu_copy out;
	int fd = self->g[0];
	struct bo a, b;
	int ret;

	ASSERT_EQ(0, bo_new(fd, 8 * PG, &a));
	ASSERT_EQ(0, bo_new(fd, 8 * PG, &b));
	fill_pattern(want, sizeof(want));
	memcpy(b.cpu, want, sizeof(want));
	memset(a.cpu, 0, a.size);

	ret = gpu_copy(fd, a.handle, b.cpu + 1, 6 * PG, 2, TO_BO, REQUIRE, &out);
	if (pci_p2pdma) {
		ASSERT_EQ(0, ret);
		EXPECT_EQ(7ULL, out.p2p_pages);
		EXPECT_EQ(0ULL, out.sysmem_pages);
	} else {
		ASSERT_EQ(-EREMOTEIO, ret);
		EXPECT_EQ(0, a.cpu[2]);
		ASSERT_EQ(0, gpu_copy(fd, a.handle, b.cpu + 1, 6 * PG, 2, TO_BO,
				      PREFER, &out));
		EXPECT_EQ(0ULL, out.p2p_pages);
		EXPECT_EQ(7ULL, out.sysmem_pages);
		EXPECT_EQ(7ULL, out.reason_pages[P2PGPU_COPY_REASON_NO_KCONFIG]);
	}
	EXPECT_EQ(-1, first_mismatch(a.cpu + 2, want + 1, 6 * PG));

	/* a's pages 0-1 -> a's pages 5-6, through a's own mapping */
	memcpy(got, a.cpu, 2 * PG);
	ASSERT_EQ(0, gpu_copy(fd, a.handle, a.cpu, 2 * PG, 5 * PG, TO_BO, PREFER, &out));
	EXPECT_EQ(pci_p2pdma ? 2ULL : 0ULL, out.p2p_pages);
	EXPECT_EQ(pci_p2pdma ? 0ULL : 2ULL, out.sysmem_pages);
	EXPECT_EQ(-1, first_mismatch(a.cpu + 5 * PG, got, 2 * PG));

	/* and back out into b, the other direction */
	ASSERT_EQ(0, gpu_copy(fd, a.handle, b.cpu + 4 * PG, PG, 5 * PG, FROM_BO, PREFER, &out));
	EXPECT_EQ(pci_p2pdma ? 1ULL : 0ULL, out.p2p_pages);
	EXPECT_EQ(pci_p2pdma ? 0ULL : 1ULL, out.sysmem_pages);
	EXPECT_EQ(-1, first_mismatch(b.cpu + 4 * PG, got, PG));
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, 4 * PG));
	bo_free(fd, &a);
	bo_free(fd, &b);
}

/* ---- copies racing CPU faults ------------------------------------------- */

struct hammer {
	volatile uint8_t *p;
	size_t size;
	volatile int stop;
	volatile unsigned int pause_us;
	unsigned long reads;
};

/*
 * Read one byte per page, round and round, pausing @pause_us after each:
 * each read of a page that is not mapped is a CPU fault.
 */
static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	size_t off = 0;
	unsigned int sum = 0;

	while (!h->stop) {
		sum += h->p[off];
		off = (off + PG) % h->size;
		h->reads++;
		if (h->pause_us)
			usleep(h->pause_us);
	}
	return (void *)(uintptr_t)sum;
}

/*
 * Engine @eng copies 60 pages from a mapping of an object of GPU @src
 * (policy @policy) while another thread's CPU faults move pages through
 * @src's 256-page window, and checks every byte of every copy.
 *
 * @touch_source false: the thread reads a third, 512-page object of @src,
 * so every read faults and evicts the least recently used window page: an
 * eviction storm around the copies. It rarely hits the imported pages
 * between map and copy, though: p2p_map() refreshes them in the LRU at
 * every map, so about 190 other pages must be evicted first, while the gap
 * the copy leaves is a few milliseconds. Here the test asserts that the
 * evictions happened and the data is right, and reports the retries.
 *
 * @touch_source true: the imported pages are system memory (no route, or
 * SYSMEM_ONLY), and the thread reads the source object itself: a CPU fault
 * places such a page in the window (P2PMAP_EV_MOVE), invalidating the
 * import; the next map moves it out again (P2PMAP_EV_EVICT). Both
 * invalidations race the copy, so the retry path runs: the test asserts
 * that retries happened, summed over a bounded loop (timing decides which
 * copy races), and that the data is right. The thread adapts its pace,
 * slowing down when a copy gives up with EBUSY (every round invalidated)
 * and speeding up after a copy that did not race, so the loop finds the
 * regime where copies both race and finish on any machine speed.
 */
static void race(struct __test_metadata *_metadata, int eng, int src,
		 uint32_t policy, bool touch_source)
{
	const uint64_t len = 60 * PG;
	struct drm_p2pgpu_device_info di0, di1;
	unsigned int it, ok = 0, busy = 0;
	unsigned long long retries = 0;
	struct drm_p2pgpu_copy out = {};
	struct hammer h = {};
	struct bo s, d, c = {};
	pthread_t th;
	uint8_t *want;
	int ret;

	want = malloc(64 * PG);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, bo_new(src, 64 * PG, &s));
	ASSERT_EQ(0, bo_new(eng, 64 * PG, &d));
	fill_pattern(want, 64 * PG);
	memcpy(s.cpu, want, 64 * PG);
	if (touch_source) {
		h.p = s.cpu;
		h.size = s.size;
		h.pause_us = 20000;
	} else {
		ASSERT_EQ(0, bo_new(src, 512 * PG, &c));
		h.p = c.cpu;
		h.size = c.size;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, hammer_fn, &h));
	/*
	 * The storm must be blowing before the first copy: on a slow
	 * single-threaded vCPU (stock 7.3 runs under one TCG thread) all
	 * eight copies once finished before the thread had read a second
	 * page. Wait (up to 60 s) until it has cycled through the window
	 * twice, then count only the evictions from the first copy on.
	 */
	for (it = 0; !touch_source && h.reads < 2 * 256 && it < 6000; it++)
		usleep(10000);
	ASSERT_EQ(0, dev_info(src, &di0));
	for (it = 0; it < 40; it++) {
		if (touch_source && window_cpu) {
			if (retries && ok >= 3)
				break;
		} else if (ok >= 8) {
			/* the storm: go on until it evicted once per copy */
			ASSERT_EQ(0, dev_info(src, &di1));
			if (!window_cpu || touch_source ||
			    di1.evictions - di0.evictions >= ok)
				break;
		}
		memset(d.cpu, 0, d.size);
		ret = gpu_copy(eng, d.handle, s.cpu + 7, len, 11, TO_BO, policy, &out);
		if (ret == -EBUSY) {
			busy++;
			h.pause_us = h.pause_us ? (h.pause_us * 2 > 200000 ?
				     200000 : h.pause_us * 2) : 1000;
			continue;
		}
		ASSERT_EQ(0, ret);
		ok++;
		retries += out.retries;
		if (!out.retries)
			h.pause_us /= 2;
		ASSERT_EQ(-1, first_mismatch(d.cpu + 11, want + 7, len))
			TH_LOG("copy %u (%llu retries) delivered wrong data", it, out.retries);
		ASSERT_EQ(0, d.cpu[10]);
		ASSERT_EQ(0, d.cpu[11 + len]);
	}
	h.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(0, dev_info(src, &di1));
	TH_LOG("%u copies: %u ok, %u EBUSY; %llu retries in all; %lu page reads by the other thread, %llu evictions, last pause %u us (last placement p2p %llu sysmem %llu)",
	       it, ok, busy, retries, h.reads, di1.evictions - di0.evictions,
	       h.pause_us, out.p2p_pages, out.sysmem_pages);
	EXPECT_LT(0U, ok);
	if (!window_cpu) {
		/*
		 * No struct pages for the window: CPU faults map the system
		 * pages, so nothing is placed or evicted and the imported
		 * pages never move: the copies never race a move.
		 */
		EXPECT_EQ(8U, ok);
		EXPECT_EQ(0ULL, retries);
		EXPECT_EQ(di0.evictions, di1.evictions);
		EXPECT_EQ(di0.placements, di1.placements);
	} else if (touch_source) {
		EXPECT_LT(0ULL, retries);
	} else {
		/* the storm: at least one eviction per copy */
		EXPECT_LE((unsigned long long)ok, di1.evictions - di0.evictions);
	}
	if (c.cpu)
		bo_free(src, &c);
	bo_free(src, &s);
	bo_free(eng, &d);
	free(want);
}

/* GPU0 copies from its own object while a third object evicts pages. */
TEST_F_TIMEOUT(copy, race_evictions_same_gpu, 180)
{
	race(_metadata, self->g[0], self->g[0], PREFER, false);
}

/* GPU1 copies from a GPU0 object while a third GPU0 object evicts pages. */
TEST_F_TIMEOUT(copy, race_evictions_peer, 180)
{
	race(_metadata, self->g[1], self->g[0], PREFER, false);
}

/*
 * GPU1 copies from a GPU0 object imported as system memory (no route on
 * the root bus; SYSMEM_ONLY through the switch) while CPU faults on that
 * object move its pages into GPU0's window: the copies must retry.
 */
TEST_F_TIMEOUT(copy, race_cpu_faults_move_source, 180)
{
	race(_metadata, self->g[1], self->g[0], self->p2p ? SYSMEM_ONLY : PREFER,
	     true);
}

/* ---- one page mapped twice ----------------------------------------------- */

/*
 * DMA-API debugging's error count (CONFIG_DMA_API_DEBUG), or -1 if the
 * kernel has none or it disabled itself. It counts every violation, also
 * those it does not print (it prints the first unless all_errors is set).
 */
static long dma_api_errors(void)
{
	char buf[32] = "";
	long n = -1;
	FILE *f;

	f = fopen("/sys/kernel/debug/dma-api/disabled", "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f) || buf[0] != 'N')
		n = -2;
	fclose(f);
	if (n == -2)
		return -1;
	n = (long)sysfs_num("/sys/kernel/debug/dma-api/error_count");
	return n < 0 ? -1 : n;
}

/*
 * The smallest sequence behind the copy engine's "device driver tries to
 * sync DMA memory it has not allocated": the user range maps one page twice (a
 * shared page at two neighbouring addresses, as a BO or shared mapping
 * duplicated by mremap(), or two processes copying the same page, give),
 * so p2pmap maps that page twice for the engine's device, which the DMA
 * API allows. The object offset 2817 splits every user page into chunks
 * of 1279 and 2817 bytes. The engine used to sync each chunk on its own,
 * FROM_DEVICE on a BIDIRECTIONAL mapping: a sync matching neither mapping
 * exactly, which DMA-API debugging cannot attribute to one of the two and
 * reports as memory never mapped. The bytes must land, and the DMA-API
 * error count must not move.
 */
TEST_F(copy, page_mapped_twice)
{
	const uint64_t boff = PG - 1279;	/* chunks of 1279 + 2817 */
	int fd = self->g[0], mfd;
	struct drm_p2pgpu_copy out;
	uint8_t *va, *want;
	long e0, e1;
	struct bo b;

	mfd = memfd_create("p2pgpu_copy_twice", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, PG));
	va = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, va);
	ASSERT_EQ(va + PG, mmap(va + PG, PG, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_FIXED, mfd, 0));
	/* volatile: the compiler may not reorder two accesses it sees as distinct */
	((volatile uint8_t *)va)[0] = 1;
	ASSERT_EQ(1, ((volatile uint8_t *)va)[PG]) TH_LOG("the two mappings are not one page");
	ASSERT_EQ(0, bo_new(fd, 4 * PG, &b));
	fill_pattern(b.cpu, 4 * PG);
	want = malloc(PG);
	ASSERT_NE(NULL, want);
	e0 = dma_api_errors();

	/* object -> both mappings: the second page's bytes win */
	ASSERT_EQ(0, gpu_copy(fd, b.handle, va, 2 * PG, boff, FROM_BO, PREFER, &out));
	EXPECT_EQ(2ULL, out.sysmem_pages);
	EXPECT_EQ(-1, first_mismatch(va, b.cpu + boff + PG, PG));
	/* both mappings -> object: the page twice */
	memcpy(want, va, PG);
	memset(b.cpu, 0, 4 * PG);
	ASSERT_EQ(0, gpu_copy(fd, b.handle, va, 2 * PG, boff, TO_BO, PREFER, &out));
	EXPECT_EQ(2ULL, out.sysmem_pages);
	EXPECT_EQ(-1, first_mismatch(b.cpu + boff, want, PG));
	EXPECT_EQ(-1, first_mismatch(b.cpu + boff + PG, want, PG));
	EXPECT_EQ(0, b.cpu[boff - 1]);
	EXPECT_EQ(0, b.cpu[boff + 2 * PG]);

	e1 = dma_api_errors();
	if (e0 < 0 || e1 < 0)
		TH_LOG("no DMA-API debugging on this kernel: data checked only");
	else
		EXPECT_EQ(e0, e1) TH_LOG("DMA-API debugging counted %ld error(s), see dmesg",
					 e1 - e0);
	free(want);
	bo_free(fd, &b);
	munmap(va, 2 * PG);
	close(mfd);
}

/* ---- bad input ----------------------------------------------------------- */

static int raw_copy(int fd, struct drm_p2pgpu_copy *c)
{
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_COPY, c) ? -errno : 0;
}

TEST_F(copy, bad_input)
{
	int fd = self->g[0], fd2;
	struct drm_p2pgpu_copy base, c;
	char pci[32];
	uint8_t *buf, *ro, *none, *gone, *holey;
	struct bo b, o1, o2, g1;

	ASSERT_EQ(0, bo_new(fd, 4 * PG, &b));
	buf = anon(2 * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	base = (struct drm_p2pgpu_copy){
		.user_ptr = (uintptr_t)buf, .length = 100, .handle = b.handle,
		.flags = TO_BO, .policy = PREFER,
	};
	c = base;
	ASSERT_EQ(0, raw_copy(fd, &c));

#define BAD(field, value, err) do {					\
		c = base;						\
		c.field = value;					\
		c.p2p_pages = 12345;					\
		EXPECT_EQ(-(err), raw_copy(fd, &c))			\
			TH_LOG(#field " = " #value);			\
		EXPECT_EQ(0ULL, c.p2p_pages);				\
	} while (0)

	BAD(flags, 0, EINVAL);
	BAD(flags, TO_BO | FROM_BO, EINVAL);
	BAD(flags, 0x4, EINVAL);
	BAD(flags, TO_BO | 0x80000000u, EINVAL);
	BAD(pad, 1, EINVAL);
	BAD(policy, 3, EINVAL);
	BAD(policy, 0xffffffffu, EINVAL);
	BAD(length, 0, EINVAL);
	BAD(length, P2PGPU_COPY_MAX + 1, EINVAL);
	BAD(length, ~0ULL, EINVAL);
	BAD(user_ptr, ~0ULL - 50, EINVAL);		/* wraps */
	BAD(user_ptr, 0xffff800000000000ULL, EFAULT);	/* kernel half */
	BAD(bo_offset, 4 * PG - 99, EINVAL);		/* one byte past the end */
	BAD(bo_offset, ~0ULL - 10, EINVAL);		/* wraps */
	BAD(handle, 0, ENOENT);
	BAD(handle, b.handle + 1000, ENOENT);
	/* the last byte of the object is fine */
	c = base;
	c.bo_offset = 4 * PG - 100;
	EXPECT_EQ(0, raw_copy(fd, &c));

	/* handles of another file, of this GPU and of the other one */
	pci[0] = 0;
	snprintf(pci, sizeof(pci), "%s", self->pci[0]);
	fd2 = open_gpu(0, pci, sizeof(pci));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, bo_new(fd2, PG, &o1));
	ASSERT_EQ(0, bo_new(fd2, PG, &o2));	/* a handle fd does not have */
	ASSERT_NE(b.handle, o2.handle);
	BAD(handle, o2.handle, ENOENT);
	ASSERT_EQ(0, bo_new(self->g[1], PG, &g1));
	if (g1.handle != b.handle)
		BAD(handle, g1.handle, ENOENT);
	/* a closed handle */
	ASSERT_EQ(0, gem_close(fd2, o2.handle));
	c = base;
	c.handle = o2.handle;
	EXPECT_EQ(-ENOENT, raw_copy(fd2, &c));
	munmap(o2.cpu, o2.size);

	/* unmapped, partly unmapped */
	gone = anon(2 * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, munmap(gone, 2 * PG));
	BAD(user_ptr, (uintptr_t)gone, EFAULT);
	c = base;
	c.user_ptr = (uintptr_t)gone;
	c.flags = FROM_BO;
	EXPECT_EQ(-EFAULT, raw_copy(fd, &c));
	holey = anon(3 * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, holey);
	ASSERT_EQ(0, munmap(holey + PG, PG));
	c = base;
	c.user_ptr = (uintptr_t)holey + PG - 10;
	c.length = PG + 20;
	EXPECT_EQ(-EFAULT, raw_copy(fd, &c));

	/* permissions: read-only is fine to read from, not to write to */
	ro = anon(PG, PROT_READ);
	ASSERT_NE(NULL, ro);
	c = base;
	c.user_ptr = (uintptr_t)ro;
	EXPECT_EQ(0, raw_copy(fd, &c));
	c.flags = FROM_BO;
	EXPECT_EQ(-EPERM, raw_copy(fd, &c));
	none = anon(PG, PROT_NONE);
	ASSERT_NE(NULL, none);
	BAD(user_ptr, (uintptr_t)none, EPERM);

	/* policies on system memory */
	BAD(policy, REQUIRE, EREMOTEIO);
	c = base;
	c.policy = SYSMEM_ONLY;
	EXPECT_EQ(0, raw_copy(fd, &c));
	EXPECT_EQ(1ULL, c.sysmem_pages);
#undef BAD

	bo_free(self->g[1], &g1);
	bo_free(fd2, &o1);
	close(fd2);
	munmap(ro, PG);
	munmap(none, PG);
	munmap(holey, PG);
	munmap(holey + 2 * PG, PG);
	munmap(buf, 2 * PG);
	bo_free(fd, &b);
}

/* ---- kill -9 mid-copy ---------------------------------------------------- */

/*
 * A child copying 8 MiB back and forth on its own DRM file is killed;
 * its object must go away with the file (the device memory count returns
 * to where it was) and the engine must keep working.
 */
TEST_F_TIMEOUT(copy, killed_mid_copy, 120)
{
	struct drm_p2pgpu_device_info before, after;
	const size_t sz = 8 << 20;
	int status, pfd[2];
	uint8_t buf[100];
	struct bo b;
	pid_t pid;
	char c;

	ASSERT_EQ(0, dev_info(self->g[1], &before));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char pci[32];
		struct bo cb;
		uint8_t *m;
		int fd;

		snprintf(pci, sizeof(pci), "%s", self->pci[1]);
		fd = open_gpu(0, pci, sizeof(pci));
		m = anon(sz, PROT_READ | PROT_WRITE);
		if (fd < 0 || !m || bo_new(fd, sz, &cb))
			_exit(2);
		memset(m, 0x5a, sz);
		if (write(pfd[1], "x", 1) != 1)
			_exit(3);
		for (;;) {
			if (gpu_copy(fd, cb.handle, m, sz, 0, TO_BO, PREFER, NULL) ||
			    gpu_copy(fd, cb.handle, m, sz, 0, FROM_BO, PREFER, NULL))
				_exit(4);
		}
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	usleep(300 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status %#x", status);
	close(pfd[0]);

	ASSERT_EQ(0, dev_info(self->g[1], &after));
	EXPECT_EQ(before.vram_used, after.vram_used);
	ASSERT_EQ(0, bo_new(self->g[1], PG, &b));
	fill_pattern(buf, sizeof(buf));
	ASSERT_EQ(0, gpu_copy(self->g[1], b.handle, buf, sizeof(buf), 9, TO_BO, PREFER, NULL));
	EXPECT_EQ(-1, first_mismatch(b.cpu + 9, buf, sizeof(buf)));
	bo_free(self->g[1], &b);
}

/* ---- fail-nth ------------------------------------------------------------ */

static int nth_fd = -1;

static int nth_setup(void)
{
	nth_fd = failnth_open();
	return nth_fd < 0 ? -1 : 0;
}

static int nth_set(unsigned int n)
{
	return failnth_set(nth_fd, n);
}

static long nth_left(void)
{
	return failnth_left(nth_fd);
}


/* One swept copy: engine fd, object, user range, direction. */
struct sweep {
	const char *name;
	int fd;
	struct bo *bo;
	uint8_t *user;		/* the user range */
	uint64_t len;
	uint64_t boff;
	uint32_t flags;
	const uint8_t *want;	/* what the destination must hold */
};

/* Reset the destination, so that a copy that did nothing shows. */
static void sweep_reset(const struct sweep *s)
{
	if (s->flags == TO_BO)
		memset(s->bo->cpu + s->boff, 0, s->len);
	else
		memset(s->user, 0, s->len);
}

static bool sweep_ok(const struct sweep *s)
{
	const uint8_t *dst = s->flags == TO_BO ? s->bo->cpu + s->boff : s->user;

	return first_mismatch(dst, s->want, s->len) < 0;
}

/*
 * Fail the N-th allocation of one COPY, N = 1, 2, ... until the copy runs
 * without reaching it. An injected failure must give ENOMEM (or EFAULT,
 * when it hits a page-table allocation of the fault path) and leave the
 * engine working; an absorbed one, correct data.
 */
static void sweep_run(struct __test_metadata *_metadata, const struct sweep *s)
{
	unsigned int n, enomem = 0, efault = 0, absorbed = 0;
	struct drm_p2pgpu_copy out;
	long left;
	int ret;

	for (n = 1; n < 2000; n++) {
		sweep_reset(s);
		ASSERT_EQ(0, nth_set(n));
		ret = gpu_copy(s->fd, s->bo->handle, s->user, s->len, s->boff,
			       s->flags, PREFER, &out);
		left = nth_left();
		ASSERT_EQ(0, nth_set(0));
		ASSERT_LE(0, left);
		if (left) {
			ASSERT_EQ(0, ret) TH_LOG("%s: N=%u without injection", s->name, n);
			ASSERT_TRUE(sweep_ok(s)) TH_LOG("%s: N=%u wrong data", s->name, n);
			break;
		}
		if (!ret) {
			absorbed++;
			ASSERT_TRUE(sweep_ok(s))
				TH_LOG("%s: N=%u absorbed, wrong data", s->name, n);
			continue;
		}
		ASSERT_TRUE(ret == -ENOMEM || ret == -EFAULT)
			TH_LOG("%s: N=%u: %s", s->name, n, strerror(-ret));
		if (ret == -ENOMEM)
			enomem++;
		else
			efault++;
		sweep_reset(s);
		ASSERT_EQ(0, gpu_copy(s->fd, s->bo->handle, s->user, s->len,
				      s->boff, s->flags, PREFER, &out))
			TH_LOG("%s: after injected failure %u", s->name, n);
		ASSERT_TRUE(sweep_ok(s)) TH_LOG("%s: N=%u recovery data", s->name, n);
	}
	TH_LOG("%s: %u failure points: ENOMEM x%u, EFAULT x%u, absorbed %u",
	       s->name, n - 1, enomem, efault, absorbed);
	ASSERT_LT(1U, n);
}

TEST_F_TIMEOUT(copy, failnth, 300)
{
	const uint64_t len = 2 * PG + 100;
	uint8_t *sys, *sysdst, want[3 * PG], want2[3 * PG];
	struct bo a, p;

	if (access("/proc/self/fail-nth", F_OK) ||
	    access("/sys/kernel/debug/failslab", F_OK))
		SKIP(return, "fault injection not available: kernel without CONFIG_FAULT_INJECTION/CONFIG_FAILSLAB");
	ASSERT_EQ(0, nth_setup()) TH_LOG("fault injection not available");
	sys = anon(3 * PG, PROT_READ | PROT_WRITE);
	sysdst = anon(3 * PG, PROT_READ | PROT_WRITE);
	ASSERT_TRUE(sys && sysdst);
	fill_pattern(want, sizeof(want));
	memcpy(sys, want, sizeof(want));
	ASSERT_EQ(0, bo_new(self->g[1], 4 * PG, &a));
	ASSERT_EQ(0, bo_new(self->g[0], 4 * PG, &p));
	fill_pattern(want2, sizeof(want2));
	memcpy(p.cpu, want2, sizeof(want2));

	{
		struct sweep s = { "system memory -> BO", self->g[1], &a, sys + 5,
				   len, 33, TO_BO, want + 5 };

		sweep_run(_metadata, &s);
	}
	{
		struct sweep s = { "GPU0 object -> GPU1 BO", self->g[1], &a,
				   p.cpu + 7, len, 40, TO_BO, want2 + 7 };

		sweep_run(_metadata, &s);
	}
	{
		/* a holds want2 + 7 at 40 since the last sweep */
		struct sweep s = { "GPU1 BO -> system memory", self->g[1], &a,
				   sysdst + 3, len, 40, FROM_BO, want2 + 7 };

		sweep_run(_metadata, &s);
	}
	bo_free(self->g[1], &a);
	bo_free(self->g[0], &p);
}

/* ---- unbind under running copies (last: it rebinds the devices) ---------- */

static int sysfs_write(const char *path, const char *val)
{
	return write_str(path, val);
}

/*
 * A child keeps copying from a mapping of a GPU @src object into a GPU
 * @eng object while the parent unbinds GPU @victim, then binds it again.
 * Every copy must succeed or fail cleanly with ENODEV (the engine's device
 * is gone) or EFAULT (the exported mapping is revoked); data of successful
 * ones is checked. The child reports through its exit status.
 */
static void unbind_during_copies(struct __test_metadata *_metadata,
				 FIXTURE_DATA(copy) *self, int eng, int src,
				 int victim)
{
	int status, pfd[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned int ok = 0, gone = 0;
		uint8_t want[8 * PG];
		struct bo s, d;
		int ret;

		if (bo_new(self->g[src], 8 * PG, &s) || bo_new(self->g[eng], 8 * PG, &d))
			_exit(2);
		fill_pattern(want, sizeof(want));
		memcpy(s.cpu, want, sizeof(want));
		if (write(pfd[1], "x", 1) != 1)
			_exit(3);
		for (;;) {
			ret = gpu_copy(self->g[eng], d.handle, s.cpu, 8 * PG, 0,
				       TO_BO, PREFER, NULL);
			if (ret == -ENODEV || ret == -EFAULT) {
				gone++;
				break;
			}
			if (ret)
				_exit(10 + (-ret & 0x7f) % 100);
			ok++;
		}
		/* the engine's object is unreachable once its device is gone */
		printf("# child: %u copies before the unbind, then %s\n", ok,
		       ret == -ENODEV ? "ENODEV" : "EFAULT");
		_exit(ok ? 0 : 5);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	usleep(200 * 1000);
	ASSERT_EQ(0, sysfs_write(DRV_PCI "/unbind", self->pci[victim]))
		TH_LOG("unbind %s", self->pci[victim]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	/* the files of the unbound device are dead: reopen after the bind */
	close(self->g[victim]);
	ASSERT_EQ(0, sysfs_write(DRV_PCI "/bind", self->pci[victim]))
		TH_LOG("bind %s", self->pci[victim]);
	self->g[victim] = open_gpu(0, self->pci[victim], sizeof(self->pci[victim]));
	ASSERT_LE(0, self->g[victim]);
}

TEST_F_TIMEOUT(copy, unbind_engine_gpu_during_copies, 120)
{
	unbind_during_copies(_metadata, self, 1, 0, 1);
}

TEST_F_TIMEOUT(copy, unbind_exporting_gpu_during_copies, 120)
{
	struct drm_p2pgpu_copy out;
	uint8_t buf[64];
	struct bo b, s;

	unbind_during_copies(_metadata, self, 1, 0, 0);
	/* both engines work again, across the rebound device too */
	ASSERT_EQ(0, bo_new(self->g[0], PG, &s));
	ASSERT_EQ(0, bo_new(self->g[1], PG, &b));
	fill_pattern(buf, sizeof(buf));
	memcpy(s.cpu, buf, sizeof(buf));
	ASSERT_EQ(0, gpu_copy(self->g[1], b.handle, s.cpu, sizeof(buf), 0, TO_BO,
			      PREFER, &out));
	EXPECT_EQ(-1, first_mismatch(b.cpu, buf, sizeof(buf)));
	EXPECT_EQ((unsigned long long)self->p2p, out.p2p_pages);
	bo_free(self->g[0], &s);
	bo_free(self->g[1], &b);
}

TEST_HARNESS_MAIN
