// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_test: kselftest for kernel/p2pgpu, the p2pmap reference exporter.
 * It finds every p2pgpu render node by driver name (drmGetVersion), expects
 * exactly the GPUs the suite found (P2PMAP_GPUS; any number, any BAR sizes,
 * default module parameters) and checks through libdrm:
 *
 *  - DEVICE_INFO on every GPU (window = its BAR2 as sysfs gives it, device
 *    memory = 4 x window);
 *  - create / mmap / write / read back / close for several sizes;
 *  - data survives eviction on the GPU with the smallest window: objects
 *    larger than its window in total (sized from the window), written and
 *    verified round-robin, with evictions counted, also with several
 *    processes evicting each other's pages;
 *  - bad input: size 0, unaligned size (rounded up, by contract), size
 *    beyond the device memory (EINVAL) or the free device memory (ENOSPC),
 *    unknown flags, padding, bad and closed handles, MAP_PRIVATE, oversize
 *    mmap;
 *  - an object closed while mapped stays valid until munmap();
 *  - kill -9 of a child holding mappings releases everything;
 *  - unbinding a GPU with a live mapping: access gets SIGBUS, ioctls
 *    ENODEV, and the device binds again afterwards.
 * Tests that need a second GPU (a handle unknown to another device's file)
 * check that part only when there is one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
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
#include "sysfs_num.h"

#define MIB		(1024ull * 1024)
#define MAX_GPUS	8
#define DRV_PCI		"/sys/bus/pci/drivers/p2pgpu"

struct gpu {
	int fd;
	int minor;
	char pci[32];		/* PCI name of the device */
	uint64_t bar;		/* its BAR2 size, from sysfs */
	struct drm_p2pgpu_device_info info;
};

static long page_size;

static int gpu_info(int fd, struct drm_p2pgpu_device_info *info)
{
	memset(info, 0, sizeof(*info));
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, info) ? -errno : 0;
}

static int cmp_gpu(const void *a, const void *b)
{
	const struct gpu *x = a, *y = b;

	/* largest window first: the last GPU has the smallest window */
	if (x->info.window_total != y->info.window_total)
		return x->info.window_total < y->info.window_total ? 1 : -1;
	return x->minor - y->minor;
}

/* The size of BAR2 of render node @minor's device, from sysfs, or 0. */
static uint64_t render_bar2(int minor)
{
	unsigned long long start = 0, end = 0, flags;
	char path[96], line[128];
	int i, ok = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device/resource",
		 minor);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i < 3 && fgets(line, sizeof(line), f); i++)
		ok = i == 2 && sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3;
	fclose(f);
	return ok && end > start ? end - start + 1 : 0;
}

/* Open every p2pgpu render node; returns how many, sorted by window. */
static int find_gpus(struct gpu *g, int max)
{
	char path[64];
	int n = 0, minor;

	for (minor = 128; minor < 192 && n < max; minor++) {
		drmVersionPtr v;
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, P2PGPU_DRIVER_NAME) &&
		    !gpu_info(fd, &g[n].info)) {
			g[n].fd = fd;
			g[n].minor = minor;
			render_pci(minor, g[n].pci, sizeof(g[n].pci));
			g[n].bar = render_bar2(minor);
			n++;
		} else {
			close(fd);
		}
		if (v)
			drmFreeVersion(v);
	}
	qsort(g, n, sizeof(*g), cmp_gpu);
	return n;
}

static void close_gpus(struct gpu *g, int n)
{
	while (n-- > 0)
		close(g[n].fd);
}

static int bo_info(int fd, uint32_t handle, struct drm_p2pgpu_bo_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->handle = handle;
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, bi) ? -errno : 0;
}

static uint64_t pat(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed << 32) ^ i ^ 0x9e3779b97f4a7c15ull;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static void fill(void *p, uint64_t size, uint64_t seed)
{
	volatile uint64_t *q = p;
	uint64_t i;

	for (i = 0; i < size / 8; i++)
		q[i] = pat(seed, i);
}

/* index of the first mismatching u64, or -1 */
static int64_t check(const void *p, uint64_t size, uint64_t seed)
{
	const volatile uint64_t *q = p;
	uint64_t i;

	for (i = 0; i < size / 8; i++)
		if (q[i] != pat(seed, i))
			return i;
	return -1;
}

static int64_t check_zero(const void *p, uint64_t size)
{
	const volatile uint64_t *q = p;
	uint64_t i;

	for (i = 0; i < size / 8; i++)
		if (q[i])
			return i;
	return -1;
}

FIXTURE(gpu) {
	struct gpu g[MAX_GPUS];
	int n;
	/*
	 * The window has struct pages (the device's p2pgpu/cpu_map is
	 * "bar"): CPU faults map window pages and evict when it is full.
	 * Otherwise CPU mappings use the system backing pages, for the
	 * reason cpu_map names (no_kconfig without CONFIG_PCI_P2PDMA,
	 * p2pdma_unported on kernels whose P2PDMA page lifetime p2pgpu does
	 * not implement yet), and nothing is ever placed into or evicted
	 * from the window.
	 */
	bool window;
	__u32 fallback;
};

/* The P2PGPU_FALLBACK_* of "system <reason>" in p2pgpu/cpu_map, or -1. */
static int cpu_map_fallback(const char *reason)
{
	static const char *const names[] = {
		[P2PGPU_FALLBACK_NO_KCONFIG] = "no_kconfig",
		[P2PGPU_FALLBACK_REGISTER_FAILED] = "register_failed",
		[P2PGPU_FALLBACK_UNPORTED] = "p2pdma_unported",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] && !strcmp(names[i], reason))
			return (int)i;
	return -1;
}

FIXTURE_SETUP(gpu)
{
	int f = p2pmap_kernel_feature("pci_p2pdma");

	ASSERT_NE(-1, f) TH_LOG("no pci_p2pdma row in /sys/module/p2pmap/features");
	page_size = sysconf(_SC_PAGESIZE);
	self->n = find_gpus(self->g, MAX_GPUS);
	ASSERT_LE(1, self->n) TH_LOG("no p2pgpu render node");
	/* exactly the GPUs the suite found on the machine, whatever their number */
	if (getenv("P2PMAP_GPUS")) {
		int i;

		ASSERT_EQ(p2pmap_gpu_count(), self->n)
			TH_LOG("P2PMAP_GPUS '%s', %d p2pgpu render nodes",
			       getenv("P2PMAP_GPUS"), self->n);
		for (i = 0; i < self->n; i++) {
			char pci[32];
			int k, found = 0;

			for (k = 0; !p2pmap_gpu_pci(k, pci, sizeof(pci)); k++)
				found |= !strcmp(pci, self->g[i].pci);
			ASSERT_TRUE(found) TH_LOG("renderD%d (%s) is not in P2PMAP_GPUS",
						  self->g[i].minor, self->g[i].pci);
		}
	}
	{
		char path[96], buf[64] = "", reason[48] = "";
		FILE *fp;

		snprintf(path, sizeof(path),
			 "/sys/class/drm/renderD%d/device/p2pgpu/cpu_map",
			 self->g[0].minor);
		fp = fopen(path, "r");
		ASSERT_NE(NULL, fp) TH_LOG("cannot open %s", path);
		ASSERT_NE(NULL, fgets(buf, sizeof(buf), fp));
		fclose(fp);
		self->window = !strncmp(buf, "bar", 3);
		if (!self->window) {
			int fb;

			ASSERT_EQ(1, sscanf(buf, "system %47s", reason))
				TH_LOG("cpu_map '%s'", buf);
			fb = cpu_map_fallback(reason);
			ASSERT_NE(-1, fb) TH_LOG("unknown cpu_map reason '%s'", reason);
			self->fallback = fb;
		}
		/* without CONFIG_PCI_P2PDMA the window can never be BAR pages */
		if (f == 0)
			ASSERT_EQ((__u32)P2PGPU_FALLBACK_NO_KCONFIG, self->fallback)
				TH_LOG("pci_p2pdma unavailable but cpu_map '%s'", buf);
	}
}

FIXTURE_TEARDOWN(gpu)
{
	close_gpus(self->g, self->n);
}

TEST_F(gpu, device_info)
{
	int i;

	for (i = 0; i < self->n; i++) {
		struct drm_p2pgpu_device_info *in = &self->g[i].info;

		TH_LOG("renderD%d (%s, BAR2 %llu MiB): vram %llu/%llu window %llu used %llu pinned %llu free %llu",
		       self->g[i].minor, self->g[i].pci, (unsigned long long)(self->g[i].bar / MIB),
		       (unsigned long long)in->vram_used,
		       (unsigned long long)in->vram_total,
		       (unsigned long long)in->window_total,
		       (unsigned long long)in->window_used,
		       (unsigned long long)in->window_pinned,
		       (unsigned long long)in->window_free);
		ASSERT_LT(0ull, self->g[i].bar) TH_LOG("no BAR2 size in sysfs");
		EXPECT_EQ((uint64_t)page_size, in->page_size);
		/* default parameters: the window is all of BAR2 */
		EXPECT_EQ(self->g[i].bar, in->window_total);
		EXPECT_EQ(4 * self->g[i].bar, in->vram_total);
		EXPECT_LE(in->vram_used, in->vram_total);
		EXPECT_LE(in->window_used, in->window_total);
		EXPECT_EQ(in->window_total, in->window_used + in->window_free);
		EXPECT_EQ(0ull, in->window_pinned);
		EXPECT_EQ(10ull, in->min_residency_ms);
	}
}

TEST_F_TIMEOUT(gpu, create_mmap_rw, 120)
{
	const uint64_t sizes[] = { 4096, 3 * 4096, MIB, 5 * MIB + 4096 };
	unsigned int s;
	int i;

	for (i = 0; i < self->n; i++) {
		int fd = self->g[i].fd;

		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct drm_p2pgpu_bo_info bi;
			uint64_t size = sizes[s];
			uint32_t h = 0;
			void *p;

			ASSERT_EQ(0, bo_create(fd, &size, 0, &h));
			ASSERT_EQ(sizes[s], size);
			ASSERT_EQ(0, bo_info(fd, h, &bi));
			EXPECT_EQ(size, bi.size);
			EXPECT_EQ(size / page_size, bi.pages_device);
			EXPECT_EQ(0ull, bi.pages_window);
			p = bo_map(fd, h, size);
			ASSERT_NE(NULL, p);
			EXPECT_EQ(-1, check_zero(p, size));
			fill(p, size, 100 + s);
			EXPECT_EQ(-1, check(p, size, 100 + s));
			ASSERT_EQ(0, bo_info(fd, h, &bi));
			EXPECT_EQ(size / page_size, bi.pages_window + bi.pages_device);
			if (self->window) {
				EXPECT_LT(0ull, bi.pages_window);
			} else {
				struct drm_p2pgpu_bo_cpu_info ci;

				/* never the window: system pages, and why */
				EXPECT_EQ(0ull, bi.pages_window);
				ASSERT_EQ(0, bo_cpu_info(fd, h, &ci));
				EXPECT_EQ((__u32)P2PGPU_CPU_MAP_SYSTEM, ci.cpu_map);
				EXPECT_EQ(self->fallback, ci.fallback);
				EXPECT_EQ(size / page_size, ci.pages_cpu_system);
			}
			EXPECT_EQ(0, munmap(p, size));
			/* a second mapping sees the same data */
			p = bo_map(fd, h, size);
			ASSERT_NE(NULL, p);
			EXPECT_EQ(-1, check(p, size, 100 + s));
			EXPECT_EQ(0, munmap(p, size));
			EXPECT_EQ(0, gem_close(fd, h));
		}
	}
}

#define EVICT_BO_SIZE	(8 * MIB)
#define EVICT_BOS_MAX	64		/* windows up to 504 MiB */

/*
 * How many EVICT_BO_SIZE objects @procs processes each need so that, all
 * alive at once, they exceed @window by at least one object (40 MiB for a
 * 32 MiB window, 24 MiB for 16 MiB), or 0 if that needs more than
 * EVICT_BOS_MAX.
 */
static int evict_bos(uint64_t window, int procs)
{
	uint64_t n = window / (procs * EVICT_BO_SIZE) + 1;

	return n > EVICT_BOS_MAX ? 0 : (int)n;
}

/* The GPU with the smallest window: the cheapest to overcommit. */
static struct gpu *small_gpu(struct gpu *g, int n)
{
	return &g[n - 1];
}

/*
 * Bytes of the device's P2PDMA pool that are free (p2pmem/available), or
 * -1 if the device registered no pool (no CONFIG_PCI_P2PDMA). p2pgpu takes
 * the whole window from the pool at probe and keeps it until remove, so
 * this stays 0 however often window pages are mapped, evicted and freed:
 * a window page whose last reference went through put_page() (the pool's
 * free op on kernels where P2PDMA pages idle at refcount 0) would show up
 * here, PAGE_SIZE at a time, and be freed twice at remove.
 */
static long long p2pmem_available(int minor)
{
	return sysfs_num("/sys/class/drm/renderD%d/device/p2pmem/available",
			 minor);
}

TEST_F_TIMEOUT(gpu, data_survives_eviction, 600)
{
	struct gpu *g = small_gpu(self->g, self->n);
	struct drm_p2pgpu_device_info before, after;
	int nbos = evict_bos(g->info.window_total, 1);
	uint32_t h[EVICT_BOS_MAX];
	void *p[EVICT_BOS_MAX];
	uint64_t resident = 0;
	long long pool;
	int b, pass;

	ASSERT_EQ(g->bar, g->info.window_total);
	ASSERT_LT(0, nbos) TH_LOG("window of %llu MiB too large to overcommit",
				  (unsigned long long)(g->info.window_total / MIB));
	TH_LOG("renderD%d (%s): %d x %llu MiB through a %llu MiB window",
	       g->minor, g->pci, nbos, EVICT_BO_SIZE / MIB,
	       (unsigned long long)(g->info.window_total / MIB));
	ASSERT_EQ(0, gpu_info(g->fd, &before));
	pool = p2pmem_available(g->minor);
	if (self->window) {
		ASSERT_EQ(0, pool)
			TH_LOG("window mapped as BAR pages but p2pmem/available %lld",
			       pool);
	} else {
		ASSERT_NE(-2, pool);
	}
	for (b = 0; b < nbos; b++) {
		uint64_t size = EVICT_BO_SIZE;

		ASSERT_EQ(0, bo_create(g->fd, &size, 0, &h[b]));
		p[b] = bo_map(g->fd, h[b], size);
		ASSERT_NE(NULL, p[b]);
	}
	/* round-robin, one MiB of each object at a time */
	for (pass = 0; pass < 2; pass++) {
		uint64_t off;

		for (off = 0; off < EVICT_BO_SIZE; off += MIB)
			for (b = 0; b < nbos; b++)
				fill((char *)p[b] + off, MIB,
				     (pass * 1000 + b) * 64 + off / MIB);
	}
	/* verify in a different order: every object was evicted meanwhile */
	for (b = nbos - 1; b >= 0; b--) {
		uint64_t off;

		for (off = 0; off < EVICT_BO_SIZE; off += MIB)
			ASSERT_EQ(-1, check((char *)p[b] + off, MIB,
					    (1000 + b) * 64 + off / MIB))
				TH_LOG("bo %d offset %llu", b,
				       (unsigned long long)off);
	}
	ASSERT_EQ(0, gpu_info(g->fd, &after));
	TH_LOG("placements %llu evictions %llu cpu faults %llu",
	       (unsigned long long)(after.placements - before.placements),
	       (unsigned long long)(after.evictions - before.evictions),
	       (unsigned long long)(after.cpu_faults - before.cpu_faults));
	if (self->window) {
		EXPECT_LT(before.evictions, after.evictions);
	} else {
		/* the same data, all in system pages: nothing to evict */
		EXPECT_EQ(before.evictions, after.evictions);
		EXPECT_EQ(before.placements, after.placements);
		EXPECT_EQ(0ull, after.window_used);
	}
	EXPECT_LE(after.window_used, after.window_total);
	EXPECT_EQ(after.window_total, after.window_used + after.window_free);
	for (b = 0; b < nbos; b++) {
		struct drm_p2pgpu_bo_info bi;

		ASSERT_EQ(0, bo_info(g->fd, h[b], &bi));
		EXPECT_EQ(EVICT_BO_SIZE / page_size,
			  bi.pages_window + bi.pages_device);
		resident += bi.pages_window;
	}
	EXPECT_LE(resident * page_size, after.window_total);
	if (self->window) {
		EXPECT_LT(0ull, resident);
	} else {
		EXPECT_EQ(0ull, resident);
	}
	for (b = 0; b < nbos; b++) {
		EXPECT_EQ(0, munmap(p[b], EVICT_BO_SIZE));
		EXPECT_EQ(0, gem_close(g->fd, h[b]));
	}
	ASSERT_EQ(0, gpu_info(g->fd, &after));
	EXPECT_EQ(before.vram_used, after.vram_used);
	EXPECT_EQ(before.window_used, after.window_used);
	/* nothing went back to the P2PDMA pool behind p2pgpu's back */
	EXPECT_EQ(pool, p2pmem_available(g->minor));
}

#define STRESS_PROCS	3

/*
 * One stress process: own file, own objects (@nbos of EVICT_BO_SIZE on the
 * GPU of PCI name @pci), fill and verify twice. The children meet after
 * creating their objects (@ready, @go pipes) and again after filling them
 * once (@ready, @go2), so all STRESS_PROCS x @nbos objects (48 MiB for a
 * 32 MiB window) are alive and touched at once and the window must evict
 * whatever the order the scheduler runs them in.
 */
static int stress_child(int idx, const char *pci, int nbos, int ready, int go,
			int go2)
{
	struct gpu g[MAX_GPUS], *s = NULL;
	uint32_t h[EVICT_BOS_MAX];
	void *p[EVICT_BOS_MAX];
	int n = find_gpus(g, MAX_GPUS), b, round;
	char c = 'r';

	for (b = 0; b < n; b++)
		if (!strcmp(g[b].pci, pci))
			s = &g[b];
	if (!s)
		return 1;
	for (b = 0; b < nbos; b++) {
		uint64_t size = EVICT_BO_SIZE;

		if (bo_create(s->fd, &size, 0, &h[b]))
			return 2;
		p[b] = bo_map(s->fd, h[b], size);
		if (!p[b])
			return 3;
	}
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 0)
		return 5;
	for (round = 0; round < 2; round++) {
		for (b = 0; b < nbos; b++)
			fill(p[b], EVICT_BO_SIZE, idx * 100 + round * 10 + b);
		/*
		 * Meet again after the first fill: until every process has
		 * touched all its pages, none exits and frees its slots, so
		 * the pages really went through the window together.
		 */
		if (!round && (write(ready, &c, 1) != 1 || read(go2, &c, 1) != 0))
			return 5;
		for (b = 0; b < nbos; b++)
			if (check(p[b], EVICT_BO_SIZE,
				  idx * 100 + round * 10 + b) != -1)
				return 4;
	}
	return 0;
}

/* Several processes evicting each other's pages through one window. */
TEST_F_TIMEOUT(gpu, concurrent_eviction, 600)
{
	struct gpu *g = small_gpu(self->g, self->n);
	int nbos = evict_bos(g->info.window_total, STRESS_PROCS);
	struct drm_p2pgpu_device_info before, after;
	pid_t pid[STRESS_PROCS];
	int ready[2], go[2], go2[2];
	int i, status;
	char c;

	ASSERT_LT(0, nbos);
	TH_LOG("renderD%d (%s): %d processes x %d x %llu MiB through a %llu MiB window",
	       g->minor, g->pci, STRESS_PROCS, nbos, EVICT_BO_SIZE / MIB,
	       (unsigned long long)(g->info.window_total / MIB));
	ASSERT_EQ(0, gpu_info(g->fd, &before));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(go2));
	for (i = 0; i < STRESS_PROCS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			close(ready[0]);
			close(go[1]);
			close(go2[1]);
			_exit(stress_child(i, g->pci, nbos, ready[1], go[0],
					   go2[0]));
		}
	}
	close(ready[1]);
	close(go[0]);
	close(go2[0]);
	/* Every child has its objects (or died: read returns 0 early). */
	for (i = 0; i < STRESS_PROCS; i++)
		EXPECT_EQ(1, read(ready[0], &c, 1));
	close(go[1]);
	/* ... and has filled them once: all of it went through the window */
	for (i = 0; i < STRESS_PROCS; i++)
		EXPECT_EQ(1, read(ready[0], &c, 1));
	close(go2[1]);
	close(ready[0]);
	for (i = 0; i < STRESS_PROCS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("stress child %d", i);
	}
	ASSERT_EQ(0, gpu_info(g->fd, &after));
	if (self->window) {
		EXPECT_LT(before.evictions, after.evictions);
	} else {
		/* more than the window through system pages: it stays unused */
		EXPECT_EQ(before.evictions, after.evictions);
		EXPECT_EQ(before.placements, after.placements);
	}
	EXPECT_EQ(before.vram_used, after.vram_used);
	EXPECT_EQ(before.window_used, after.window_used);
}

TEST_F_TIMEOUT(gpu, bad_input, 120)
{
	struct gpu *g = small_gpu(self->g, self->n);
	struct drm_p2pgpu_bo_mmap_offset mo;
	struct drm_p2pgpu_bo_info bi;
	uint64_t size, off = 0, vram = g->info.vram_total;
	uint32_t h = 0, h2 = 0;
	void *p;

	size = 0;
	EXPECT_EQ(-EINVAL, bo_create(g->fd, &size, 0, &h));
	size = vram + 1;
	EXPECT_EQ(-EINVAL, bo_create(g->fd, &size, 0, &h));
	size = UINT64_MAX;
	EXPECT_EQ(-EINVAL, bo_create(g->fd, &size, 0, &h));
	size = UINT64_MAX - 4095;
	EXPECT_EQ(-EINVAL, bo_create(g->fd, &size, 0, &h));
	size = 4096;
	EXPECT_EQ(-EINVAL, bo_create(g->fd, &size, 1, &h));
	size = 4096;
	EXPECT_EQ(-EINVAL, bo_create(g->fd, &size, 0x80000000u, &h));

	/* unaligned sizes are rounded up to whole pages */
	size = page_size + 1;
	ASSERT_EQ(0, bo_create(g->fd, &size, 0, &h));
	EXPECT_EQ(2 * (uint64_t)page_size, size);
	ASSERT_EQ(0, bo_info(g->fd, h, &bi));
	EXPECT_EQ(2 * (uint64_t)page_size, bi.size);

	/* the device memory is exhausted: ENOSPC, not ENOMEM or a crash */
	size = vram - g->info.vram_used - 2 * page_size;
	ASSERT_EQ(0, bo_create(g->fd, &size, 0, &h2));
	size = page_size;
	EXPECT_EQ(-ENOSPC, bo_create(g->fd, &size, 0, &h));
	EXPECT_EQ(0, gem_close(g->fd, h2));
	size = page_size;
	ASSERT_EQ(0, bo_create(g->fd, &size, 0, &h2));
	EXPECT_EQ(0, gem_close(g->fd, h2));

	/* padding must be zero */
	memset(&mo, 0, sizeof(mo));
	mo.handle = h;
	mo.pad = 1;
	EXPECT_EQ(-1, drmIoctl(g->fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &mo));
	EXPECT_EQ(EINVAL, errno);
	memset(&bi, 0, sizeof(bi));
	bi.handle = h;
	bi.pad = 1;
	EXPECT_EQ(-1, drmIoctl(g->fd, DRM_IOCTL_P2PGPU_BO_INFO, &bi));
	EXPECT_EQ(EINVAL, errno);

	/* bad handles */
	EXPECT_EQ(-ENOENT, bo_info(g->fd, 0, &bi));
	EXPECT_EQ(-ENOENT, bo_info(g->fd, 0xdeadbeef, &bi));
	EXPECT_EQ(-ENOENT, bo_offset(g->fd, 0xdeadbeef, &off));
	/* another device's file (if there is one) does not know this handle */
	if (self->n > 1)
		EXPECT_EQ(-ENOENT, bo_info(self->g[0].fd, h + 1000, &bi));

	/* mmap: MAP_PRIVATE and oversize are refused */
	ASSERT_EQ(0, bo_offset(g->fd, h, &off));
	p = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 g->fd, off);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 3 * page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 g->fd, off);
	EXPECT_EQ(MAP_FAILED, p);
	/* an offset that names no object */
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd,
		 off + (1ull << 40));
	EXPECT_EQ(MAP_FAILED, p);

	/* closed handle: no offset, no info, no second close */
	EXPECT_EQ(0, gem_close(g->fd, h));
	EXPECT_EQ(-ENOENT, bo_offset(g->fd, h, &off));
	EXPECT_EQ(-ENOENT, bo_info(g->fd, h, &bi));
	EXPECT_NE(0, gem_close(g->fd, h));
	/* the old offset no longer maps anything */
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd,
		 off);
	EXPECT_EQ(MAP_FAILED, p);
}

TEST_F(gpu, close_while_mapped)
{
	struct gpu *g = &self->g[0];
	struct drm_p2pgpu_device_info before, after;
	struct drm_p2pgpu_bo_info bi;
	uint64_t size = 2 * MIB;
	uint32_t h = 0;
	void *p;

	ASSERT_EQ(0, gpu_info(g->fd, &before));
	ASSERT_EQ(0, bo_create(g->fd, &size, 0, &h));
	p = bo_map(g->fd, h, size);
	ASSERT_NE(NULL, p);
	fill(p, size, 7);
	ASSERT_EQ(0, gem_close(g->fd, h));
	EXPECT_EQ(-ENOENT, bo_info(g->fd, h, &bi));
	/* the mapping holds the object */
	EXPECT_EQ(-1, check(p, size, 7));
	fill(p, size, 8);
	EXPECT_EQ(-1, check(p, size, 8));
	ASSERT_EQ(0, gpu_info(g->fd, &after));
	EXPECT_EQ(before.vram_used + size, after.vram_used);
	EXPECT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, gpu_info(g->fd, &after));
	EXPECT_EQ(before.vram_used, after.vram_used);
	EXPECT_EQ(before.window_used, after.window_used);
}

TEST_F_TIMEOUT(gpu, kill9_child_with_mappings, 120)
{
	struct drm_p2pgpu_device_info before[MAX_GPUS], after;
	int pfd[2], status, i;
	pid_t pid;
	char c;

	for (i = 0; i < self->n; i++)
		ASSERT_EQ(0, gpu_info(self->g[i].fd, &before[i]));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct gpu g[MAX_GPUS];
		int n = find_gpus(g, MAX_GPUS), k;

		close(pfd[0]);
		for (i = 0; i < n; i++) {
			for (k = 0; k < 3; k++) {
				uint64_t size = (k + 1) * MIB;
				uint32_t h = 0;
				void *p;

				if (bo_create(g[i].fd, &size, 0, &h))
					_exit(1);
				p = bo_map(g[i].fd, h, size);
				if (!p)
					_exit(2);
				fill(p, size, k);
				if (k == 1)	/* mapping only, no handle */
					gem_close(g[i].fd, h);
			}
		}
		if (write(pfd[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1)) TH_LOG("child failed to set up");
	close(pfd[0]);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, gpu_info(self->g[i].fd, &after));
		EXPECT_EQ(before[i].vram_used, after.vram_used);
		EXPECT_EQ(before[i].window_used, after.window_used);
	}
}

/* PCI address of a render node's device, from sysfs. */
static int pci_name_of(int minor, char *buf, size_t len)
{
	char link[128], target[PATH_MAX];
	const char *base;
	ssize_t r;

	snprintf(link, sizeof(link), "/sys/class/drm/renderD%d/device", minor);
	r = readlink(link, target, sizeof(target) - 1);
	if (r < 0)
		return -errno;
	target[r] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
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

/*
 * Last test: unbinds the GPU with the smallest window under a live mapping,
 * then binds it again.
 */
TEST_F_TIMEOUT(gpu, unbind_with_live_mapping, 120)
{
	struct gpu *g = small_gpu(self->g, self->n);
	struct drm_p2pgpu_device_info in;
	struct gpu again[MAX_GPUS];
	uint64_t size = MIB;
	char pci[64];
	int status, n, i, seen = 0;
	uint32_t h = 0;
	pid_t pid;
	void *p;

	ASSERT_EQ(0, pci_name_of(g->minor, pci, sizeof(pci)));
	ASSERT_EQ(0, bo_create(g->fd, &size, 0, &h));
	p = bo_map(g->fd, h, size);
	ASSERT_NE(NULL, p);
	fill(p, size, 42);
	ASSERT_EQ(-1, check(p, size, 42));

	ASSERT_EQ(0, sysfs_write(DRV_PCI "/unbind", pci)) TH_LOG("unbind %s", pci);
	/* ioctls fail, the mapping is revoked: touching it is SIGBUS */
	EXPECT_EQ(-ENODEV, gpu_info(g->fd, &in));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		volatile uint64_t *q = p;

		_exit(q[0] == 0x1234 ? 10 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		EXPECT_EQ(SIGBUS, WTERMSIG(status));

	/* the object and file outlive the device; release them */
	EXPECT_EQ(0, munmap(p, size));
	close(g->fd);
	g->fd = open("/dev/null", O_RDONLY);	/* for the teardown */

	ASSERT_EQ(0, sysfs_write(DRV_PCI "/bind", pci)) TH_LOG("bind %s", pci);
	n = find_gpus(again, MAX_GPUS);
	EXPECT_EQ(self->n, n);
	for (i = 0; i < n; i++) {
		if (strcmp(again[i].pci, pci))
			continue;
		seen = 1;
		EXPECT_EQ(again[i].bar, again[i].info.window_total);
		EXPECT_EQ(0ull, again[i].info.vram_used);
	}
	EXPECT_TRUE(seen) TH_LOG("%s has no render node after bind", pci);
	close_gpus(again, n);
}

TEST_HARNESS_MAIN
