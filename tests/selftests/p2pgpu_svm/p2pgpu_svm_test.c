// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_svm_test: shared virtual memory of p2pgpu, modelled on
 * the kernel's hmm-tests. Process memory is migrated to a GPU's
 * device-private memory and back (ioctls, CPU faults through
 * migrate_to_ram), the GPU reads and writes it through its page table
 * (SVM_ACCESS), and SVM_SNAPSHOT shows where each page is and how the CPU
 * and the device map it. Cases: read, write, fault and migration both ways;
 * never-touched pages; the minimum residency; read-only memory and
 * mprotect; fork and copy-on-write; partial munmap; mremap; THP (6.1
 * splits a THP to migrate it: asserted as such); a range larger than the
 * device memory (spills, reported); two GPUs (each moves only its own
 * pages, another GPU's pages are refused for device access); the copy
 * engine of GPU1 reading GPU0's device-private memory, and a migration by
 * request of pages it placed in GPU0's window and wrote there; concurrent
 * migration, CPU faults and device reads with the data verified; bad input;
 * a killed process; and unbinding the GPU with migrated memory (last: it
 * rebinds). Every case checks data byte for byte and the counters in sysfs
 * and SVM_INFO.
 *
 * The svm suite loads p2pgpu with window_mb=4, vram_mb=16,
 * min_residency_ms=60000 (no peer placement evicts another: exact window
 * exhaustion) and svm_min_residency_ms=100 (RESIDENCY_MS below must match).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* 6.1's harness has an unused parameter in its timeout handler. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "sysfs_num.h"

#define PG		4096ULL
#define RESIDENCY_MS	100
#define DRV_PCI		"/sys/bus/pci/drivers/p2pgpu"

#define ST_PRESENT	P2PGPU_SVM_PAGE_PRESENT
#define ST_WRITE	P2PGPU_SVM_PAGE_WRITE
#define ST_DP		P2PGPU_SVM_PAGE_DEVICE_PRIVATE
#define ST_THIS		P2PGPU_SVM_PAGE_THIS_DEVICE
#define ST_MIRROR	P2PGPU_SVM_PAGE_MIRROR
#define ST_MWRITE	P2PGPU_SVM_PAGE_MIRROR_WRITE
#define ST_HUGE		P2PGPU_SVM_PAGE_HUGE

/* ---- helpers ------------------------------------------------------------- */

static int svm_migrate(int fd, void *p, uint64_t len, uint32_t op,
		       struct drm_p2pgpu_svm_migrate *out)
{
	struct drm_p2pgpu_svm_migrate m = {
		.addr = (uintptr_t)p, .length = len, .op = op,
	};
	int ret = drmIoctl(fd, DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m) ? -errno : 0;

	if (out)
		*out = m;
	return ret;
}

static int svm_access(int fd, void *p, uint64_t len, void *buf, uint32_t op,
		      struct drm_p2pgpu_svm_access *out)
{
	struct drm_p2pgpu_svm_access a = {
		.addr = (uintptr_t)p, .length = len, .buf = (uintptr_t)buf,
		.op = op,
	};
	int ret = drmIoctl(fd, DRM_IOCTL_P2PGPU_SVM_ACCESS, &a) ? -errno : 0;

	if (out)
		*out = a;
	return ret;
}

static int svm_snapshot(int fd, void *p, uint64_t npages, uint8_t *st)
{
	struct drm_p2pgpu_svm_snapshot s = {
		.addr = (uintptr_t)p, .npages = npages, .states = (uintptr_t)st,
	};

	return drmIoctl(fd, DRM_IOCTL_P2PGPU_SVM_SNAPSHOT, &s) ? -errno : 0;
}

static int svm_info(int fd, struct drm_p2pgpu_svm_info *i)
{
	memset(i, 0, sizeof(*i));
	return drmIoctl(fd, DRM_IOCTL_P2PGPU_SVM_INFO, i) ? -errno : 0;
}

/* Number of the @n pages whose state masked with @mask equals @want. */
static uint64_t count_state(const uint8_t *st, uint64_t n, uint8_t mask,
			    uint8_t want)
{
	uint64_t i, c = 0;

	for (i = 0; i < n; i++)
		c += (st[i] & mask) == want;
	return c;
}

/* A counter of p2pgpu_svm in sysfs, or -1. */
static long long sysfs_counter(const char *pci, const char *name)
{
	return sysfs_num("/sys/bus/pci/devices/%s/p2pgpu_svm/%s", pci, name);
}

static int write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static void *anon(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * @len bytes of fresh anonymous memory holding the test pattern; *@want
 * gets a malloc()ed copy to compare with. The caller munmaps and frees both.
 */
static uint8_t *pattern_range(struct __test_metadata *_metadata, uint64_t len,
			      uint8_t **want)
{
	uint8_t *p = anon(len);

	*want = malloc(len);
	ASSERT_TRUE(p && *want);
	fill_pattern(*want, len);
	memcpy(p, *want, len);
	return p;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* Wait out the minimum residency of a migration to the device. */
static void wait_residency(void)
{
	sleep_ms(RESIDENCY_MS + 20);
}


/*
 * pages_used of @fd once it is back to @want: device pages a peer import
 * held are released by p2pgpu's unpin worker after the munmap, not in it.
 */
static uint64_t wait_pages_used(int fd, uint64_t want)
{
	struct drm_p2pgpu_svm_info i;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (svm_info(fd, &i))
			return ~0ULL;
		if (i.pages_used == want)
			break;
		sleep_ms(20);
	}
	return i.pages_used;
}

/* One copy-engine call (DRM_IOCTL_P2PGPU_COPY); 0 or -errno. */
static int gpu_copy(int fd, uint32_t handle, const void *uptr, uint64_t len,
		    uint32_t flags, uint32_t policy, struct drm_p2pgpu_copy *out)
{
	struct drm_p2pgpu_copy c = {
		.user_ptr = (uintptr_t)uptr, .length = len, .handle = handle,
		.flags = flags, .policy = policy,
	};
	int ret = drmIoctl(fd, DRM_IOCTL_P2PGPU_COPY, &c) ? -errno : 0;

	if (out)
		*out = c;
	return ret;
}

/* Wait until the window of @fd holds nothing (freed pages release slots
 * from a worker). 0 when empty.
 */
static int wait_window_empty(int fd)
{
	struct drm_p2pgpu_device_info di;
	int i;

	for (i = 0; i < 200; i++) {
		if (dev_info(fd, &di))
			return -1;
		if (!di.window_used)
			return 0;
		sleep_ms(10);
	}
	return -1;
}

FIXTURE(svm) {
	int fd;
	int fd1;
	char pci[32];
	char pci1[32];
};

FIXTURE_SETUP(svm)
{
	struct drm_p2pgpu_svm_info i;

	self->pci[0] = 0;
	self->pci1[0] = 0;
	self->fd = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->fd) TH_LOG("no p2pgpu render node");
	self->fd1 = open_gpu(1, self->pci1, sizeof(self->pci1));
	ASSERT_EQ(0, svm_info(self->fd, &i));
	ASSERT_NE(0U, i.flags & P2PGPU_SVM_DEVICE_PRIVATE)
		TH_LOG("device memory is not device-private on this kernel");
}

FIXTURE_TEARDOWN(svm)
{
	if (self->fd1 >= 0)
		close(self->fd1);
	close(self->fd);
}

/*
 * The importer check cases end with: GPU1's copy engine imports
 * [@p, @p + @len) of this process (PREFER_P2P) into a new object of its own
 * and must read exactly @want. The pages GPU0 holds in device memory at
 * that moment (from the snapshot) are read peer-to-peer through GPU0's
 * window over the switch and stay on GPU0; on the root bus exactly those
 * migrate to system memory, reported as no_route. The rest is system
 * memory either way. It may place or migrate pages, so cases call it last.
 */
static void peer_check(struct __test_metadata *_metadata,
		       FIXTURE_DATA(svm) *self, uint8_t *p, uint64_t len,
		       const uint8_t *want)
{
	enum p2pmap_pair_route topo = p2pmap_pair_route();
	uint64_t n = len / PG, dp, dp_after;
	struct drm_p2pgpu_copy c;
	uint8_t *st = malloc(n);
	struct bo b;

	ASSERT_NE(NULL, st);
	ASSERT_LE(0, self->fd1) TH_LOG("the importer check needs a second p2pgpu");
	ASSERT_NE(P2PMAP_PAIR_INVALID, topo) TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	dp = count_state(st, n, ST_DP | ST_THIS, ST_DP | ST_THIS);
	ASSERT_EQ(0, bo_new(self->fd1, len, &b));
	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	dp_after = count_state(st, n, ST_DP | ST_THIS, ST_DP | ST_THIS);
	TH_LOG("importer check: %llu of %llu pages in GPU0's memory; GPU1 read %llu P2P, %llu system",
	       (unsigned long long)dp, (unsigned long long)n,
	       (unsigned long long)c.p2p_pages,
	       (unsigned long long)c.sysmem_pages);
	if (topo == P2PMAP_PAIR_P2P) {
		EXPECT_EQ(dp, c.p2p_pages);
		EXPECT_EQ(n - dp, c.sysmem_pages);
		EXPECT_EQ(dp, dp_after); /* nothing migrated */
	} else {
		EXPECT_EQ(0ULL, c.p2p_pages);
		EXPECT_EQ(n, c.sysmem_pages);
		EXPECT_EQ(dp, c.reason_pages[P2PGPU_COPY_REASON_NO_ROUTE]);
		EXPECT_EQ(0ULL, dp_after);
	}
	bo_free(self->fd1, &b);
	free(st);
}

/* ---- info ---------------------------------------------------------------- */

TEST_F(svm, info_and_sysfs)
{
	struct drm_p2pgpu_svm_info i;
	char path[160], buf[64] = "";
	FILE *f;

	ASSERT_EQ(0, svm_info(self->fd, &i));
	EXPECT_EQ((unsigned long long)RESIDENCY_MS, i.min_residency_ms);
	EXPECT_EQ(16ULL << 20, i.pages_total * PG);
	EXPECT_EQ(0ULL, i.pad);
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/p2pgpu_svm/device_private", self->pci);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("available\n", buf);
	EXPECT_EQ((long long)i.to_device, sysfs_counter(self->pci, "to_device"));
	EXPECT_EQ((long long)i.cpu_faults,
		  sysfs_counter(self->pci, "cpu_faults"));
	EXPECT_EQ(RESIDENCY_MS, sysfs_counter(self->pci, "min_residency_ms"));
}

/* ---- migrate, device read/write, CPU fault back --------------------------- */

TEST_F(svm, migrate_read_write_fault)
{
	const uint64_t n = 16, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1, i2;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *want, *buf, st[16];

	p = pattern_range(_metadata, len, &want);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, svm_info(self->fd, &i0));

	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(n, m.moved);
	EXPECT_EQ(0ULL, m.skipped + m.busy + m.nomem + m.failed);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	/* In this device's memory, mapped writable by the CPU and the device. */
	EXPECT_EQ(n, count_state(st, n, 0xff & ~ST_HUGE,
				 ST_PRESENT | ST_WRITE | ST_DP | ST_THIS |
				 ST_MIRROR | ST_MWRITE));
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.to_device + n, i1.to_device);
	EXPECT_EQ(i0.pages_used + n, i1.pages_used);

	/* The device reads what the CPU wrote, from its own memory. */
	memset(buf, 0, len);
	ASSERT_EQ(0, svm_access(self->fd, p, len, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n, a.pages_device);
	EXPECT_EQ(0ULL, a.pages_system);
	EXPECT_EQ(0ULL, a.faults); /* mapped at migration */
	EXPECT_EQ(-1, first_mismatch(buf, want, len));

	/* The device writes; the CPU faults each page back and sees it. */
	fill_pattern(want, len);
	ASSERT_EQ(0, svm_access(self->fd, p, len, want, P2PGPU_SVM_WRITE, &a));
	EXPECT_EQ(n, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	ASSERT_EQ(0, svm_info(self->fd, &i2));
	EXPECT_EQ(i1.cpu_faults + n, i2.cpu_faults);
	EXPECT_EQ(i0.pages_used, i2.pages_used);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(0ULL, count_state(st, n, ST_DP, ST_DP));
	/* The CPU faults dropped the device's mappings. */
	EXPECT_EQ(0ULL, count_state(st, n, ST_MIRROR, ST_MIRROR));

	/* The device reads system memory now, faulting it in. */
	memset(buf, 0, len);
	ASSERT_EQ(0, svm_access(self->fd, p, len, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n, a.pages_system);
	EXPECT_EQ(n, a.faults);
	EXPECT_EQ(-1, first_mismatch(buf, want, len));
	peer_check(_metadata, self, p, len, want);
	munmap(p, len);
	free(want);
	free(buf);
}

TEST_F(svm, migrate_both_ways_by_request)
{
	const uint64_t n = 32, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	uint8_t *p, *want, st[32];

	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_info(self->fd, &i0));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	/* Already there: nothing to move. */
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(0ULL, m.moved);
	EXPECT_EQ(n, m.skipped);
	wait_residency();
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_SYSTEM, &m));
	EXPECT_EQ(n, m.moved);
	EXPECT_EQ(0ULL, m.busy);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	/* Back in system memory, still mapped by the device (TO_SYSTEM). */
	EXPECT_EQ(n, count_state(st, n, ST_DP | ST_PRESENT | ST_MIRROR | ST_MWRITE,
				 ST_PRESENT | ST_MIRROR | ST_MWRITE));
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.to_system + n, i1.to_system);
	EXPECT_EQ(i0.cpu_faults, i1.cpu_faults); /* no CPU fault was needed */
	EXPECT_EQ(-1, first_mismatch(p, want, len));

	/* EVICT: back to system memory and out of the device page table. */
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	wait_residency();
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_EVICT, &m));
	EXPECT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n, count_state(st, n, ST_DP | ST_PRESENT | ST_MIRROR, ST_PRESENT));
	EXPECT_EQ(-1, first_mismatch(p, want, len));

	/* PREFETCH on a half-migrated range: all of it mapped afterwards. */
	ASSERT_EQ(0, svm_migrate(self->fd, p, len / 2, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n / 2, m.moved);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_PREFETCH, &m));
	EXPECT_EQ(n / 2, m.moved);
	EXPECT_EQ(n / 2, m.skipped);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n, count_state(st, n, ST_THIS | ST_MIRROR, ST_THIS | ST_MIRROR));
	/* All of it on the device: the peer reads it in place. */
	peer_check(_metadata, self, p, len, want);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	munmap(p, len);
	free(want);
}

TEST_F(svm, never_touched_pages_zero_filled)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *buf, *zero, st[8];

	p = anon(len);
	buf = malloc(len);
	zero = calloc(1, len);
	ASSERT_TRUE(p && buf && zero);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n, count_state(st, n, ST_THIS | ST_MWRITE, ST_THIS | ST_MWRITE));
	memset(buf, 0xa5, len);
	ASSERT_EQ(0, svm_access(self->fd, p, len, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(buf, zero, len));
	peer_check(_metadata, self, p, len, zero);
	EXPECT_EQ(-1, first_mismatch(p, zero, len));
	munmap(p, len);
	free(buf);
	free(zero);
}

/* ---- anti-thrash ----------------------------------------------------------- */

TEST_F(svm, minimum_residency)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	uint8_t *p, *want;

	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_info(self->fd, &i0));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	/* Too young: a request leaves it on the device. */
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_SYSTEM, &m));
	EXPECT_EQ(0ULL, m.moved);
	EXPECT_EQ(n, m.busy);
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.residency_refusals + n, i1.residency_refusals);
	/* A CPU fault always gets the page back, residency or not. */
	EXPECT_EQ(want[5 * PG + 7], p[5 * PG + 7]);
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.cpu_faults + 1, i1.cpu_faults);
	wait_residency();
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_SYSTEM, &m));
	EXPECT_EQ(n - 1, m.moved);
	EXPECT_EQ(0ULL, m.busy);
	EXPECT_EQ(1ULL, m.skipped);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	peer_check(_metadata, self, p, len, want);
	munmap(p, len);
	free(want);
}

/* ---- permissions ------------------------------------------------------------ */

TEST_F(svm, read_only_stays_read_only)
{
	const uint64_t n = 4, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *want, *buf, st[4];

	p = pattern_range(_metadata, len, &want);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mprotect(p, len, PROT_READ));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	/* Device page, read-only for the CPU and for the device. */
	EXPECT_EQ(n, count_state(st, n, ST_THIS | ST_WRITE | ST_MIRROR | ST_MWRITE,
				 ST_THIS | ST_MIRROR));
	EXPECT_EQ(-EPERM, svm_access(self->fd, p, len, buf, P2PGPU_SVM_WRITE, &a));
	ASSERT_EQ(0, svm_access(self->fd, p, len, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(buf, want, len));
	if (self->fd1 >= 0) {
		struct drm_p2pgpu_copy c;
		struct bo b;

		/*
		 * Read-only for every importer too: a peer may read, not
		 * write (on the root bus the read migrates the pages).
		 */
		ASSERT_EQ(0, bo_new(self->fd1, len, &b));
		EXPECT_EQ(-EPERM, gpu_copy(self->fd1, b.handle, p, len,
					   P2PGPU_COPY_FROM_BO,
					   P2PGPU_COPY_PREFER_P2P, &c));
		ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len,
				      P2PGPU_COPY_TO_BO, P2PGPU_COPY_PREFER_P2P,
				      &c));
		EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
		bo_free(self->fd1, &b);
	}
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	munmap(p, len);
	free(want);
	free(buf);
}

TEST_F(svm, mprotect_after_migration)
{
	const uint64_t n = 4, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *want, st[4];

	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ(0, mprotect(p, len, PROT_READ));
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	/* The notifier dropped the device's writable mappings. */
	EXPECT_EQ(0ULL, count_state(st, n, ST_MWRITE, ST_MWRITE));
	EXPECT_EQ(n, count_state(st, n, ST_THIS | ST_WRITE, ST_THIS));
	fill_pattern(want, len);
	EXPECT_EQ(-EPERM, svm_access(self->fd, p, len, want, P2PGPU_SVM_WRITE, &a));
	ASSERT_EQ(0, mprotect(p, len, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, svm_info(self->fd, &i0));
	/*
	 * The device-private PTEs stay read-only until written: the device's
	 * write takes each page back to system memory and write-faults it
	 * there, as a CPU write would.
	 */
	ASSERT_EQ(0, svm_access(self->fd, p, len, want, P2PGPU_SVM_WRITE, &a));
	EXPECT_EQ(n, a.pages_system);
	EXPECT_EQ(n, a.faults);
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.to_system + n, i1.to_system);
	EXPECT_EQ(i0.cpu_faults, i1.cpu_faults);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	peer_check(_metadata, self, p, len, want);
	munmap(p, len);
	free(want);
}

/* ---- fork and copy-on-write --------------------------------------------------- */

TEST_F(svm, fork_cow)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *want, *mine, st[8];
	int status;
	pid_t pid;

	p = pattern_range(_metadata, len, &want);
	mine = malloc(len);
	ASSERT_NE(NULL, mine);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *other = malloc(len);

		/* The child sees the parent's data, then writes its own. */
		if (!other || first_mismatch(p, want, len) >= 0)
			_exit(1);
		/* The device mirrors the parent only. */
		if (svm_snapshot(self->fd, p, n, st) != -EPERM)
			_exit(2);
		fill_pattern(other, len);
		memcpy(p, other, len);
		_exit(first_mismatch(p, other, len) >= 0 ? 3 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);

	/* fork made the parent's pages copy-on-write for the device too. */
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(0ULL, count_state(st, n, ST_MWRITE, ST_MWRITE));
	/* The child's writes did not reach the parent. */
	ASSERT_EQ(0, svm_access(self->fd, p, len, mine, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(-1, first_mismatch(mine, want, len));
	/* A device write breaks COW like a CPU write does. */
	fill_pattern(want, len);
	ASSERT_EQ(0, svm_access(self->fd, p, len, want, P2PGPU_SVM_WRITE, &a));
	EXPECT_EQ(n, a.faults);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	peer_check(_metadata, self, p, len, want);
	munmap(p, len);
	free(want);
	free(mine);
}

TEST_F(svm, fork_child_writes_device_memory)
{
	const uint64_t n = 4, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	uint8_t *p, *want;
	int status;
	pid_t pid;

	p = pattern_range(_metadata, len, &want);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child migrates its COW copy on its own file, writes it. */
		char pci[32] = "";
		int fd = open_gpu(0, pci, sizeof(pci));
		struct drm_p2pgpu_svm_access a;
		uint8_t *x = malloc(len);

		if (fd < 0 || !x)
			_exit(1);
		if (svm_migrate(fd, p, len, P2PGPU_SVM_TO_DEVICE, &m) || m.moved != n)
			_exit(2);
		fill_pattern(x, len);
		/* Read-only (COW) device pages: written in system memory. */
		if (svm_access(fd, p, len, x, P2PGPU_SVM_WRITE, &a) ||
		    a.pages_device + a.pages_system != n)
			_exit(3);
		_exit(first_mismatch(p, x, len) >= 0 ? 4 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	/* The parent's pages: the child's device writes never reach them. */
	peer_check(_metadata, self, p, len, want);
	munmap(p, len);
	free(want);
}


/*
 * A peer writes copy-on-write device memory: p2pmap migrates the read-only
 * device-private pages (COW break, as a CPU write would), the writer's
 * process sees the peer's data, the other process keeps its own.
 */
TEST_F(svm, fork_cow_written_by_peer)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_copy c;
	int status, go[2];
	uint8_t *p, *want, ch;
	struct bo b;
	pid_t pid;

	if (self->fd1 < 0)
		SKIP(return, "one p2pgpu device only");
	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Wait for the parent's peer write, then check our copy. */
		if (read(go[0], &ch, 1) != 1)
			_exit(1);
		_exit(first_mismatch(p, want, len) >= 0 ? 2 : 0);
	}
	ASSERT_EQ(0, bo_new(self->fd1, len, &b));
	fill_pattern(b.cpu, len);
	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_FROM_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(-1, first_mismatch(p, b.cpu, len));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	close(go[0]);
	close(go[1]);
	bo_free(self->fd1, &b);
	munmap(p, len);
	free(want);
}

/* ---- munmap, mremap --------------------------------------------------------------- */

TEST_F(svm, partial_munmap)
{
	const uint64_t n = 16, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *want, *buf, st[16];

	p = pattern_range(_metadata, len, &want);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, svm_info(self->fd, &i0));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ(0, munmap(p + 4 * PG, 4 * PG));
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	/* The unmapped device pages were freed. */
	EXPECT_EQ(i0.pages_used + n - 4, i1.pages_used);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(4ULL, count_state(st, n, 0xff, 0));
	EXPECT_EQ(n - 4, count_state(st, n, ST_THIS | ST_MIRROR, ST_THIS | ST_MIRROR));
	EXPECT_EQ(-EFAULT, svm_access(self->fd, p, len, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(-EFAULT, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(0, svm_access(self->fd, p + 8 * PG, 8 * PG, buf,
				P2PGPU_SVM_READ, &a));
	EXPECT_EQ(8ULL, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(buf, want + 8 * PG, 8 * PG));
	if (self->fd1 >= 0) {
		struct drm_p2pgpu_copy c;
		struct bo b;

		/* A peer import of the hole fails; of the rest, it works. */
		ASSERT_EQ(0, bo_new(self->fd1, len, &b));
		EXPECT_EQ(-EFAULT, gpu_copy(self->fd1, b.handle, p, len,
					    P2PGPU_COPY_TO_BO,
					    P2PGPU_COPY_PREFER_P2P, &c));
		ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p + 8 * PG, 8 * PG,
				      P2PGPU_COPY_TO_BO, P2PGPU_COPY_PREFER_P2P,
				      &c));
		EXPECT_EQ(-1, first_mismatch(b.cpu, want + 8 * PG, 8 * PG));
		bo_free(self->fd1, &b);
	}
	EXPECT_EQ(-1, first_mismatch(p, want, 4 * PG));
	munmap(p, len);
	EXPECT_EQ(i0.pages_used, wait_pages_used(self->fd, i0.pages_used));
	free(want);
	free(buf);
}

TEST_F(svm, mremap_moves_device_pages)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *q, *want, *buf, st[8];

	p = pattern_range(_metadata, len, &want);
	q = anon(2 * len); /* a destination we own */
	buf = malloc(len);
	ASSERT_TRUE(q && buf);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ((void *)(q + len), mremap(p, len, len,
					    MREMAP_MAYMOVE | MREMAP_FIXED,
					    q + len));
	ASSERT_EQ(0, svm_snapshot(self->fd, q + len, n, st));
	/* Still device pages, at the new address; the old mappings are gone. */
	EXPECT_EQ(n, count_state(st, n, ST_THIS, ST_THIS));
	ASSERT_EQ(0, svm_access(self->fd, q + len, len, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(buf, want, len));
	if (self->fd1 >= 0) {
		struct drm_p2pgpu_copy c;
		struct bo b;

		/* A peer imports the device pages at their new address. */
		ASSERT_EQ(0, bo_new(self->fd1, len, &b));
		ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, q + len, len,
				      P2PGPU_COPY_TO_BO, P2PGPU_COPY_PREFER_P2P,
				      &c));
		EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
		if (p2pmap_pair_route() == P2PMAP_PAIR_P2P) {
			EXPECT_EQ(n, c.p2p_pages);
		}
		bo_free(self->fd1, &b);
	}
	EXPECT_EQ(-1, first_mismatch(q + len, want, len));
	munmap(q, 2 * len);
	free(want);
	free(buf);
}

/* ---- THP ---------------------------------------------------------------------------- */

static bool thp_usable(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return !strstr(buf, "[never]");
}

/*
 * 6.1's migrate_vma_collect_pmd() splits a THP before migrating it to
 * device-private memory (there are no device-private THPs in 6.1): all 512
 * pages move, as small pages, with the data intact, and come back small.
 */
TEST_F(svm, thp_migrated_split)
{
	const uint64_t sz = 2ULL << 20, n = sz / PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *raw, *p, *want, *buf, *st;

	if (!thp_usable())
		SKIP(return, "transparent hugepages disabled in this kernel");
	raw = anon(2 * sz);
	want = malloc(sz);
	buf = malloc(sz);
	st = malloc(n);
	ASSERT_TRUE(raw && want && buf && st);
	p = (uint8_t *)(((uintptr_t)raw + sz - 1) & ~(uintptr_t)(sz - 1));
	ASSERT_EQ(0, madvise(p, sz, MADV_HUGEPAGE));
	fill_pattern(want, sz);
	memcpy(p, want, sz);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	if (count_state(st, n, ST_HUGE, ST_HUGE) != n) {
		munmap(raw, 2 * sz);
		SKIP(return, "no THP for the range (fragmented memory)");
	}
	ASSERT_EQ(0, svm_migrate(self->fd, p, sz, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n, count_state(st, n, ST_THIS | ST_HUGE, ST_THIS));
	ASSERT_EQ(0, svm_access(self->fd, p, sz, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(buf, want, sz));
	wait_residency();
	ASSERT_EQ(0, svm_migrate(self->fd, p, sz, P2PGPU_SVM_TO_SYSTEM, &m));
	EXPECT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n, count_state(st, n, ST_PRESENT | ST_DP | ST_HUGE, ST_PRESENT));
	EXPECT_EQ(-1, first_mismatch(p, want, sz));
	peer_check(_metadata, self, p, sz, want);
	munmap(raw, 2 * sz);
	free(want);
	free(buf);
	free(st);
}

/* ---- larger than the device ---------------------------------------------------------- */

TEST_F_TIMEOUT(svm, range_larger_than_device_spills, 120)
{
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_device_info di;
	uint64_t len, n, room;
	uint8_t *p, *want;
	volatile uint32_t handle = 0;
	uint32_t h;
	uint64_t sz = PG;

	ASSERT_EQ(0, svm_info(self->fd, &i0));
	ASSERT_EQ(0, dev_info(self->fd, &di));
	room = i0.pages_total - di.vram_used / PG;
	n = i0.pages_total + 1024;
	len = n * PG;
	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(room, m.moved);
	EXPECT_EQ(n - room, m.nomem);
	EXPECT_EQ(0ULL, m.failed);
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.nomem + n - room, i1.nomem);
	EXPECT_EQ(i1.pages_total, i1.pages_used);
	/* Buffer objects share the device memory: none fits now. */
	EXPECT_EQ(-ENOSPC, bo_create(self->fd, &sz, 0, &h));
	ASSERT_EQ(0, dev_info(self->fd, &di));
	EXPECT_EQ(i1.pages_total * PG, di.vram_used);
	/* Device pages at the start, pages that did not fit at the end. */
	peer_check(_metadata, self, p, 16 * PG, want);
	peer_check(_metadata, self, p + len - 16 * PG, 16 * PG,
		   want + len - 16 * PG);
	/* Every byte is still right, on the device or not. */
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	munmap(p, len);
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.pages_used, i1.pages_used);
	sz = PG;
	h = 0;
	ASSERT_EQ(0, bo_create(self->fd, &sz, 0, &h));
	handle = h;
	gem_close(self->fd, handle);
	free(want);
}

/* ---- two GPUs ----------------------------------------------------------------------------- */

TEST_F(svm, two_gpus_own_pages_only)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	uint8_t *p, *want, *buf, st[8];

	if (self->fd1 < 0)
		SKIP(return, "one p2pgpu device only");
	p = pattern_range(_metadata, len, &want);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	/* Half on GPU0, half on GPU1. */
	ASSERT_EQ(0, svm_migrate(self->fd, p, len / 2, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n / 2, m.moved);
	ASSERT_EQ(0, svm_migrate(self->fd1, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(n / 2, m.moved);
	EXPECT_EQ(n / 2, m.skipped); /* GPU0's pages are not system memory */
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n / 2, count_state(st, n, ST_DP | ST_THIS, ST_DP | ST_THIS));
	EXPECT_EQ(n / 2, count_state(st, n, ST_DP | ST_THIS, ST_DP));
	/* GPU0 cannot reach GPU1's device-private pages directly. */
	EXPECT_EQ(-EREMOTEIO, svm_access(self->fd, p, len, buf, P2PGPU_SVM_READ, &a));
	ASSERT_EQ(0, svm_access(self->fd, p, len / 2, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(n / 2, a.pages_device);
	EXPECT_EQ(-1, first_mismatch(buf, want, len / 2));
	/* Each GPU moves back only its own pages. */
	wait_residency();
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_SYSTEM, &m));
	EXPECT_EQ(n / 2, m.moved);
	EXPECT_EQ(n / 2, m.skipped);
	ASSERT_EQ(0, svm_snapshot(self->fd1, p, n, st));
	EXPECT_EQ(n / 2, count_state(st, n, ST_DP | ST_THIS, ST_DP | ST_THIS));
	EXPECT_EQ(n / 2, count_state(st, n, ST_DP | ST_PRESENT, ST_PRESENT));
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	munmap(p, len);
	free(want);
	free(buf);
}


/* ---- peers: the copy engine of GPU1 imports GPU0's device-private memory -- */

TEST_F(svm, copy_engine_reads_device_private_memory)
{
	const uint64_t n = 16, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	struct drm_p2pgpu_copy c;
	enum p2pmap_pair_route topo = p2pmap_pair_route();
	uint8_t *p, *want, st[16];
	struct bo b;

	if (self->fd1 < 0)
		SKIP(return, "one p2pgpu device only");
	ASSERT_NE(P2PMAP_PAIR_INVALID, topo) TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, bo_new(self->fd1, len, &b));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_info(self->fd, &i0));

	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	if (topo == P2PMAP_PAIR_P2P) {
		/* Peer-to-peer through GPU0's window: nothing migrated. */
		EXPECT_EQ(n, c.p2p_pages);
		EXPECT_EQ(0ULL, c.sysmem_pages);
		EXPECT_EQ(i0.cpu_faults, i1.cpu_faults);
		EXPECT_EQ(i0.to_system, i1.to_system);
		EXPECT_EQ(i0.window_placements + n, i1.window_placements);
		EXPECT_EQ(i0.fallbacks, i1.fallbacks);
		EXPECT_EQ(n, count_state(st, n, ST_THIS | P2PGPU_SVM_PAGE_WINDOW,
					 ST_THIS | P2PGPU_SVM_PAGE_WINDOW));
	} else {
		/* No route: exactly these pages migrated to system memory. */
		EXPECT_EQ(0ULL, c.p2p_pages);
		EXPECT_EQ(n, c.sysmem_pages);
		EXPECT_EQ(n, c.reason_pages[P2PGPU_COPY_REASON_NO_ROUTE]);
		EXPECT_EQ(i0.fallbacks + n, i1.fallbacks);
		EXPECT_EQ(i0.cpu_faults + n, i1.cpu_faults);
		EXPECT_EQ(0ULL, count_state(st, n, ST_DP, ST_DP));
	}

	/* The device writes (into the window when placed); the peer sees it. */
	fill_pattern(want, len);
	ASSERT_EQ(0, svm_access(self->fd, p, len, want, P2PGPU_SVM_WRITE, &a));
	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
	/* And the CPU, faulting the pages back out of the window. */
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	bo_free(self->fd1, &b);
	munmap(p, len);
	free(want);
}

/*
 * A migration back to system memory by request, of pages GPU1's copy
 * engine placed in GPU0's window and wrote there: the data comes out of
 * the window (the peer's writes, with no CPU fault), the migration frees
 * the pages' window slots (counted as evictions, released by a worker
 * just after), the mirror maps the new system pages, and the peer's next
 * access finds system memory. On the root bus the peer's write already
 * migrated the pages (no route): the request has nothing to move.
 */
TEST_F(svm, to_system_request_leaves_the_window)
{
	const uint64_t n = 16, len = n * PG;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_copy c;
	enum p2pmap_pair_route topo = p2pmap_pair_route();
	uint8_t *p, *want, st[16];
	int tries;
	struct bo b;

	if (self->fd1 < 0)
		SKIP(return, "one p2pgpu device only");
	ASSERT_NE(P2PMAP_PAIR_INVALID, topo) TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, bo_new(self->fd1, len, &b));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);

	/* The peer writes the whole range: into GPU0's window when it can. */
	fill_pattern(b.cpu, len);
	memcpy(want, b.cpu, len);
	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_FROM_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	if (topo == P2PMAP_PAIR_P2P) {
		EXPECT_EQ(n, c.p2p_pages);
		EXPECT_EQ(n, count_state(st, n, ST_THIS | P2PGPU_SVM_PAGE_WINDOW,
					 ST_THIS | P2PGPU_SVM_PAGE_WINDOW));
	} else {
		EXPECT_EQ(n, c.sysmem_pages);
		EXPECT_EQ(0ULL, count_state(st, n, ST_DP, ST_DP));
	}
	ASSERT_EQ(0, svm_info(self->fd, &i0));

	wait_residency();
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_SYSTEM, &m));
	EXPECT_EQ(topo == P2PMAP_PAIR_P2P ? n : 0ULL, m.moved);
	EXPECT_EQ(0ULL, m.busy);
	EXPECT_EQ(0ULL, m.failed);
	/* Freed slots are released by a worker: wait for it. */
	for (tries = 0; tries < 200; tries++) {
		ASSERT_EQ(0, svm_info(self->fd, &i1));
		if (topo != P2PMAP_PAIR_P2P ||
		    i1.window_evictions >= i0.window_evictions + n)
			break;
		sleep_ms(10);
	}
	EXPECT_EQ(i0.to_system + m.moved, i1.to_system);
	EXPECT_EQ(i0.window_evictions + (topo == P2PMAP_PAIR_P2P ? n : 0),
		  i1.window_evictions);
	EXPECT_EQ(i0.cpu_faults, i1.cpu_faults); /* nothing faulted */
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(0ULL, count_state(st, n, ST_DP, ST_DP));
	EXPECT_EQ(n, count_state(st, n, ST_PRESENT, ST_PRESENT));
	if (topo == P2PMAP_PAIR_P2P) {
		/* The request maps the new system pages in the mirror. */
		EXPECT_EQ(n, count_state(st, n, ST_MIRROR | ST_MWRITE,
					 ST_MIRROR | ST_MWRITE));
	}
	/* The peer's data, read by the CPU without a fault. */
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.cpu_faults, i1.cpu_faults);

	/* The peer now reads system memory, and the same data. */
	memset(b.cpu, 0, len);
	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(0ULL, c.p2p_pages);
	EXPECT_EQ(n, c.sysmem_pages);
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
	bo_free(self->fd1, &b);
	munmap(p, len);
	free(want);
}

/*
 * GPU0's window (4 MiB, 1024 slots) is smaller than the range: the pages
 * that fit are peer-mapped, exactly the others (the last ones, in address
 * order) are migrated to system memory and reported as window exhausted.
 * The suite sets a 60 s window residency, so no placed page is evicted to
 * make room and the split is exact. On the root bus (no route) every page
 * migrates, reported as no_route, and REQUIRE_P2P is refused.
 */
TEST_F_TIMEOUT(svm, window_exhaustion_migrates_exactly_the_rest, 120)
{
	struct drm_p2pgpu_device_info di;
	struct drm_p2pgpu_svm_info i0, i1;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_copy c;
	uint64_t n, len, slots, i;
	uint8_t *p, *want, *st;
	struct bo b;

	if (self->fd1 < 0)
		SKIP(return, "one p2pgpu device only");
	ASSERT_NE(P2PMAP_PAIR_INVALID, p2pmap_pair_route());
	ASSERT_EQ(0, wait_window_empty(self->fd));
	ASSERT_EQ(0, dev_info(self->fd, &di));
	slots = di.window_total / PG;
	n = slots + 256;
	len = n * PG;
	p = pattern_range(_metadata, len, &want);
	st = malloc(n);
	ASSERT_NE(NULL, st);
	ASSERT_EQ(0, bo_new(self->fd1, len, &b));
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ(0, svm_info(self->fd, &i0));

	if (p2pmap_pair_route() == P2PMAP_PAIR_NO_ROUTE) {
		/*
		 * No route on the root bus: REQUIRE_P2P is refused, and
		 * otherwise every page migrates, reported as no_route.
		 */
		EXPECT_EQ(-EREMOTEIO, gpu_copy(self->fd1, b.handle, p, len,
					       P2PGPU_COPY_TO_BO,
					       P2PGPU_COPY_REQUIRE_P2P, &c));
		ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
				      P2PGPU_COPY_PREFER_P2P, &c));
		EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
		EXPECT_EQ(0ULL, c.p2p_pages);
		EXPECT_EQ(n, c.reason_pages[P2PGPU_COPY_REASON_NO_ROUTE]);
		ASSERT_EQ(0, svm_info(self->fd, &i1));
		EXPECT_EQ(i0.fallbacks + n, i1.fallbacks);
		EXPECT_EQ(i0.window_placements, i1.window_placements);
		goto out;
	}
	/* REQUIRE_P2P cannot be met: refused, nothing migrated. */
	EXPECT_EQ(-ENOSPC, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
				    P2PGPU_COPY_REQUIRE_P2P, &c));
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	EXPECT_EQ(n, count_state(st, n, ST_THIS, ST_THIS));

	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
	printf("# %llu P2P, %llu system memory (%llu window exhausted), %llu retries\n",
	       c.p2p_pages, c.sysmem_pages, c.reason_pages[P2PGPU_COPY_REASON_BAR_EXHAUSTED],
	       c.retries);
	EXPECT_EQ(slots, c.p2p_pages);
	EXPECT_EQ(256ULL, c.sysmem_pages);
	EXPECT_EQ(256ULL, c.reason_pages[P2PGPU_COPY_REASON_BAR_EXHAUSTED]);
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.fallbacks + 256, i1.fallbacks);
	EXPECT_EQ(i0.cpu_faults + 256, i1.cpu_faults);
	EXPECT_EQ(i0.to_system, i1.to_system);
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	for (i = 0; i < n; i++) {
		uint8_t want_st = i < slots ?
			ST_DP | ST_THIS | P2PGPU_SVM_PAGE_WINDOW : 0;

		if ((st[i] & (ST_THIS | ST_DP | P2PGPU_SVM_PAGE_WINDOW)) != want_st)
			break;
	}
	EXPECT_EQ(n, i) TH_LOG("page %llu has state %#x", (unsigned long long)i,
			       i < n ? st[i] : 0);
out:
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	bo_free(self->fd1, &b);
	munmap(p, len);
	free(want);
	free(st);
}

/* ---- concurrency ----------------------------------------------------------------------------- */

struct stress {
	int fd;
	int fd1;
	struct bo bo;
	uint8_t *p;
	const uint8_t *want;
	uint64_t len;
	atomic_bool stop;
	atomic_ulong migrations, cpu_checks, dev_checks, copies, errors, retries;
};

static void *stress_migrator(void *arg)
{
	struct stress *s = arg;
	struct drm_p2pgpu_svm_migrate m;
	unsigned int i = 0;

	while (!atomic_load(&s->stop)) {
		uint32_t op = (i++ & 1) ? P2PGPU_SVM_TO_SYSTEM : P2PGPU_SVM_TO_DEVICE;

		if (svm_migrate(s->fd, s->p, s->len, op, &m))
			atomic_fetch_add(&s->errors, 1);
		atomic_fetch_add(&s->migrations, m.moved);
		atomic_fetch_add(&s->retries, m.failed + m.busy);
	}
	return NULL;
}

static void *stress_cpu(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load(&s->stop)) {
		if (first_mismatch(s->p, s->want, s->len) >= 0)
			atomic_fetch_add(&s->errors, 1);
		atomic_fetch_add(&s->cpu_checks, 1);
	}
	return NULL;
}

/* GPU1's copy engine imports the range (P2P or migrated) into an object. */
static void *stress_copier(void *arg)
{
	struct stress *s = arg;
	struct drm_p2pgpu_copy c;

	while (!atomic_load(&s->stop)) {
		int ret = gpu_copy(s->fd1, s->bo.handle, s->p, s->len,
				   P2PGPU_COPY_TO_BO, P2PGPU_COPY_PREFER_P2P, &c);

		atomic_fetch_add(&s->retries, c.retries);
		if (ret == -EBUSY)
			continue;
		if (ret || first_mismatch(s->bo.cpu, s->want, s->len) >= 0)
			atomic_fetch_add(&s->errors, 1);
		atomic_fetch_add(&s->copies, 1);
	}
	return NULL;
}

static void *stress_device(void *arg)
{
	struct stress *s = arg;
	struct drm_p2pgpu_svm_access a;
	uint8_t *buf = malloc(s->len);

	while (buf && !atomic_load(&s->stop)) {
		int ret = svm_access(s->fd, s->p, s->len, buf, P2PGPU_SVM_READ, &a);

		if (ret == -EBUSY) {
			atomic_fetch_add(&s->retries, 1);
			continue;
		}
		if (ret || first_mismatch(buf, s->want, s->len) >= 0)
			atomic_fetch_add(&s->errors, 1);
		atomic_fetch_add(&s->dev_checks, 1);
	}
	free(buf);
	return NULL;
}

TEST_F_TIMEOUT(svm, concurrent_migration_faults_access, 180)
{
	struct stress s = { .fd = self->fd, .fd1 = self->fd1, .len = 64 * PG };
	pthread_t t[4];
	uint8_t *want;
	int i, nt = 3;

	s.p = anon(s.len);
	want = malloc(s.len);
	ASSERT_TRUE(s.p && want);
	fill_pattern(want, s.len);
	memcpy(s.p, want, s.len);
	s.want = want;
	ASSERT_EQ(0, pthread_create(&t[0], NULL, stress_migrator, &s));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, stress_cpu, &s));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, stress_device, &s));
	if (s.fd1 >= 0) {
		ASSERT_EQ(0, bo_new(s.fd1, s.len, &s.bo));
		ASSERT_EQ(0, pthread_create(&t[nt++], NULL, stress_copier, &s));
	}
	/*
	 * At least 3 s, and until every thread verified a pass: under a
	 * loaded host (TCG) a device read of the whole range can keep losing
	 * the race against the CPU faults for a while (counted as retries).
	 * At most 90 s.
	 */
	for (i = 0; i < 900; i++) {
		sleep_ms(100);
		if (i >= 30 && atomic_load(&s.dev_checks) &&
		    atomic_load(&s.cpu_checks) && atomic_load(&s.migrations) &&
		    (s.fd1 < 0 || atomic_load(&s.copies)))
			break;
	}
	atomic_store(&s.stop, true);
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	printf("# %lu pages migrated, %lu CPU, %lu device and %lu peer-copy passes verified, %lu retries\n",
	       atomic_load(&s.migrations), atomic_load(&s.cpu_checks),
	       atomic_load(&s.dev_checks), atomic_load(&s.copies),
	       atomic_load(&s.retries));
	if (s.fd1 >= 0) {
		EXPECT_LT(0UL, atomic_load(&s.copies));
		bo_free(s.fd1, &s.bo);
	}
	EXPECT_EQ(0UL, atomic_load(&s.errors));
	EXPECT_LT(0UL, atomic_load(&s.migrations));
	EXPECT_LT(0UL, atomic_load(&s.dev_checks));
	EXPECT_EQ(-1, first_mismatch(s.p, want, s.len));
	munmap(s.p, s.len);
	free(want);
}

/*
 * A mixed range: pages in GPU0's memory, in GPU1's memory and in system
 * memory. GPU1's copy engine imports it in one go and reads every byte
 * right. Its own device-private pages are mapped through its own window
 * (distance 0, on both topologies) and stay on GPU1; GPU0's are read
 * peer-to-peer through the switch, or migrate (exactly those, no_route)
 * on the root bus; the system pages are system pages.
 */
TEST_F(svm, mixed_range_two_gpus_and_system)
{
	const uint64_t q = 4, n = 3 * q, len = n * PG;
	enum p2pmap_pair_route topo = p2pmap_pair_route();
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_copy c;
	uint8_t *p, *want, st[12];
	struct bo b;

	if (self->fd1 < 0)
		SKIP(return, "one p2pgpu device only");
	ASSERT_NE(P2PMAP_PAIR_INVALID, topo) TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_migrate(self->fd, p, q * PG, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(q, m.moved);
	ASSERT_EQ(0, svm_migrate(self->fd1, p + q * PG, q * PG,
				 P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(q, m.moved);
	ASSERT_EQ(0, bo_new(self->fd1, len, &b));
	ASSERT_EQ(0, gpu_copy(self->fd1, b.handle, p, len, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &c));
	EXPECT_EQ(-1, first_mismatch(b.cpu, want, len));
	TH_LOG("mixed range: %llu P2P, %llu system pages, %llu no_route",
	       (unsigned long long)c.p2p_pages,
	       (unsigned long long)c.sysmem_pages,
	       (unsigned long long)c.reason_pages[P2PGPU_COPY_REASON_NO_ROUTE]);
	/* GPU1's own pages: through its window, still on GPU1. */
	ASSERT_EQ(0, svm_snapshot(self->fd1, p, n, st));
	EXPECT_EQ(q, count_state(st + q, q, ST_DP | ST_THIS, ST_DP | ST_THIS));
	ASSERT_EQ(0, svm_snapshot(self->fd, p, n, st));
	if (topo == P2PMAP_PAIR_P2P) {
		EXPECT_EQ(2 * q, c.p2p_pages);
		EXPECT_EQ(q, c.sysmem_pages);
		EXPECT_EQ(q, count_state(st, q, ST_DP | ST_THIS, ST_DP | ST_THIS));
	} else {
		EXPECT_EQ(q, c.p2p_pages);
		EXPECT_EQ(2 * q, c.sysmem_pages);
		EXPECT_EQ(q, c.reason_pages[P2PGPU_COPY_REASON_NO_ROUTE]);
		EXPECT_EQ(0ULL, count_state(st, q, ST_DP, ST_DP));
	}
	/* The CPU still sees every byte, wherever the pages are now. */
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	bo_free(self->fd1, &b);
	munmap(p, len);
	free(want);
}

/* ---- the file goes, the memory stays ----------------------------------------------------------- */

TEST_F(svm, close_file_keeps_memory)
{
	const uint64_t n = 8, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_info i0, i1;
	char pci[32] = "";
	uint8_t *p, *want;
	int fd;

	fd = open_gpu(0, pci, sizeof(pci));
	ASSERT_LE(0, fd);
	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_info(self->fd, &i0));
	ASSERT_EQ(0, svm_migrate(fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	close(fd);
	/* Device-private pages outlive the mirror; CPU faults bring them back. */
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	ASSERT_EQ(0, svm_info(self->fd, &i1));
	EXPECT_EQ(i0.cpu_faults + n, i1.cpu_faults);
	EXPECT_EQ(i0.pages_used, i1.pages_used);
	peer_check(_metadata, self, p, len, want);
	munmap(p, len);
	free(want);
}

/* ---- bad input ------------------------------------------------------------------------------------ */

TEST_F(svm, bad_input)
{
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	struct drm_p2pgpu_svm_snapshot s;
	uint8_t *p, buf[PG], st[4];
	char path[] = "/tmp/p2pgpu_svm_XXXXXX";
	void *f, *sh;
	int tmp;

	p = anon(4 * PG);
	ASSERT_NE(NULL, p);
	memset(p, 1, 4 * PG);
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p, PG, 0, &m));
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p, PG, 5, &m));
	memset(&m, 0, sizeof(m));
	m.addr = (uintptr_t)p;
	m.length = PG;
	m.op = P2PGPU_SVM_TO_DEVICE;
	m.flags = 1;
	EXPECT_EQ(-1, drmIoctl(self->fd, DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p + 1, PG, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p, PG + 1, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p, 0, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p, P2PGPU_SVM_MAX + PG,
				       P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, (void *)(uintptr_t)-PG, 2 * PG,
				       P2PGPU_SVM_TO_DEVICE, &m));
	/* A hole. */
	EXPECT_EQ(-EFAULT, svm_migrate(self->fd, (void *)PG, PG,
				       P2PGPU_SVM_TO_DEVICE, &m));
	/* File-backed and shared memory are refused. */
	tmp = mkstemp(path);
	ASSERT_LE(0, tmp);
	unlink(path);
	ASSERT_EQ(0, ftruncate(tmp, 4 * PG));
	f = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, tmp, 0);
	ASSERT_NE(MAP_FAILED, f);
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, f, PG, P2PGPU_SVM_TO_DEVICE, &m));
	sh = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, sh, PG, P2PGPU_SVM_TO_DEVICE, &m));
	/* Unreadable memory. */
	ASSERT_EQ(0, mprotect(p + 3 * PG, PG, PROT_NONE));
	EXPECT_EQ(-EINVAL, svm_migrate(self->fd, p, 4 * PG, P2PGPU_SVM_TO_DEVICE, &m));
	/* Nothing of the range was migrated by a refused call. */
	ASSERT_EQ(0, svm_snapshot(self->fd, p, 4, st));
	EXPECT_EQ(0ULL, count_state(st, 4, ST_DP, ST_DP));

	EXPECT_EQ(-EINVAL, svm_access(self->fd, p, PG, buf, 0, &a));
	EXPECT_EQ(-EINVAL, svm_access(self->fd, p, PG, buf, 3, &a));
	EXPECT_EQ(-EINVAL, svm_access(self->fd, p, 0, buf, P2PGPU_SVM_READ, &a));
	EXPECT_EQ(-EINVAL, svm_access(self->fd, p, P2PGPU_SVM_ACCESS_MAX + PG, buf,
				      P2PGPU_SVM_READ, &a));
	EXPECT_EQ(-EFAULT, svm_access(self->fd, p, PG, (void *)8,
				      P2PGPU_SVM_READ, &a));
	EXPECT_EQ(-EFAULT, svm_access(self->fd, p + 3 * PG, PG, buf,
				      P2PGPU_SVM_READ, &a));
	memset(&a, 0, sizeof(a));
	a.addr = (uintptr_t)p;
	a.length = PG;
	a.buf = (uintptr_t)buf;
	a.op = P2PGPU_SVM_READ;
	a.flags = 2;
	EXPECT_EQ(-1, drmIoctl(self->fd, DRM_IOCTL_P2PGPU_SVM_ACCESS, &a));
	EXPECT_EQ(EINVAL, errno);
	/* Device access of file memory works (it is not migrated). */
	EXPECT_EQ(0, svm_access(self->fd, f, PG, buf, P2PGPU_SVM_READ, &a));

	memset(&s, 0, sizeof(s));
	s.addr = (uintptr_t)p;
	s.npages = 1;
	s.states = (uintptr_t)st;
	s.pad = 1;
	EXPECT_EQ(-1, drmIoctl(self->fd, DRM_IOCTL_P2PGPU_SVM_SNAPSHOT, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, svm_snapshot(self->fd, p, 0, st));
	EXPECT_EQ(-EINVAL, svm_snapshot(self->fd, p + 5, 1, st));
	EXPECT_EQ(-EINVAL, svm_snapshot(self->fd, p, (P2PGPU_SVM_MAX / PG) + 1, st));
	EXPECT_EQ(-EFAULT, svm_snapshot(self->fd, p, 4, (uint8_t *)8));
	munmap(f, 4 * PG);
	munmap(sh, 4 * PG);
	close(tmp);
	munmap(p, 4 * PG);
}

/* ---- killed mid-operation ------------------------------------------------------------------------ */

TEST_F_TIMEOUT(svm, killed_while_migrating, 120)
{
	struct drm_p2pgpu_svm_info i0, i1;
	int status, pfd[2], tries;
	pid_t pid;
	char c;

	ASSERT_EQ(0, svm_info(self->fd, &i0));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		const uint64_t len = 256 * PG;
		struct drm_p2pgpu_svm_access a;
		struct drm_p2pgpu_svm_migrate m;
		char pci[32] = "";
		int fd = open_gpu(0, pci, sizeof(pci));
		uint8_t *p = anon(len), *buf = malloc(len);

		if (fd < 0 || !p || !buf)
			_exit(1);
		memset(p, 7, len);
		if (write(pfd[1], "x", 1) != 1)
			_exit(2);
		for (;;) {
			svm_migrate(fd, p, len, P2PGPU_SVM_TO_DEVICE, &m);
			svm_access(fd, p, len, buf, P2PGPU_SVM_READ, &a);
			p[0]++;
		}
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	sleep_ms(300);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* Its device pages are freed with its address space. */
	for (tries = 0; tries < 100; tries++) {
		ASSERT_EQ(0, svm_info(self->fd, &i1));
		if (i1.pages_used == i0.pages_used)
			break;
		sleep_ms(20);
	}
	EXPECT_EQ(i0.pages_used, i1.pages_used);
}

/* ---- unbind with migrated memory (last: it rebinds the device) ------------------------------------ */

TEST_F_TIMEOUT(svm, unbind_migrates_back, 120)
{
	const uint64_t n = 32, len = n * PG;
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_info i;
	uint8_t *p, *want;

	p = pattern_range(_metadata, len, &want);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	ASSERT_EQ(n, m.moved);
	ASSERT_EQ(0, write_str(DRV_PCI "/unbind", self->pci));
	/* The device is gone; its memory came back to system memory. */
	EXPECT_EQ(-ENODEV, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	ASSERT_EQ(0, write_str(DRV_PCI "/bind", self->pci));
	close(self->fd);
	self->fd = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, svm_info(self->fd, &i));
	EXPECT_EQ(0ULL, i.pages_used);
	ASSERT_EQ(0, svm_migrate(self->fd, p, len, P2PGPU_SVM_TO_DEVICE, &m));
	EXPECT_EQ(n, m.moved);
	EXPECT_EQ(-1, first_mismatch(p, want, len));
	munmap(p, len);
	free(want);
}

TEST_HARNESS_MAIN
