// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_import_test: kselftest for p2pmap's importer API, through the test
 * importer tests/kmod/p2pmap_edu_importer (/dev/p2pmap_edu_imp), which
 * imports ranges of this process's memory with p2pmap_import_create() and
 * moves bytes in and out of them with the QEMU edu DMA engine. Everything
 * here imports anonymous memory: system pages, no exporter involved, so it
 * behaves the same whatever the PCI topology, and needs only the edu.
 * It checks the data the device reads and writes byte for byte, the
 * placement report, that CPU-side events (MADV_DONTNEED, mprotect, munmap,
 * fork/COW) invalidate the import and that the next transfer maps what the
 * process sees now, the errno of each refusal, that a killed process's
 * imports go away with it, and a transfer loop racing invalidations.
 * Also the benchmark interface: MAP (map without DMA, with its measured
 * cost), LATENCY (invalidation-to-revalidation samples), and the basic
 * behaviour of a pinned import (P2PMAP_EDU_IMP_F_PIN), which runs when the
 * p2pmap core offers pinned mode ("pinned_imports yes" in
 * /sys/module/p2pmap/features).
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* 6.1's harness has an unused parameter; keep -Wextra -Werror for our code */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pmap_selftest.h"
#include "p2pmap_edu_imp_uapi.h"

#define DEV_PATH	"/dev/" P2PMAP_EDU_IMP_DEVNAME
#define PAGE		4096ul
#define CPU_EV		P2PMAP_EDU_IMP_EV_CPU
#define SYSPAGE		P2PMAP_EDU_IMP_REASON_SYSTEM_PAGE

/* index of the first byte that is not @v, or -1 */
static long first_not(const uint8_t *p, uint8_t v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return (long)i;
	return -1;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int imp_create_raw(int fd, uint64_t va, uint64_t len, uint32_t policy,
			  uint32_t flags, uint32_t reserved, uint32_t *id)
{
	struct p2pmap_edu_imp_create c = {
		.va = va, .len = len, .policy = policy, .flags = flags,
		.reserved = reserved,
	};
	int ret = xioctl(fd, P2PMAP_EDU_IMP_IOC_CREATE, &c);

	if (!ret && id)
		*id = c.id;
	return ret;
}

static int imp_create(int fd, void *va, size_t len, uint32_t flags,
		      uint32_t *id)
{
	return imp_create_raw(fd, (uintptr_t)va, len,
			      P2PMAP_EDU_IMP_PREFER_P2P, flags, 0, id);
}

static int imp_destroy(int fd, uint32_t id)
{
	struct p2pmap_edu_imp_destroy d = { .id = id };

	return xioctl(fd, P2PMAP_EDU_IMP_IOC_DESTROY, &d);
}

static int imp_info(int fd, uint32_t id, struct p2pmap_edu_imp_info *in)
{
	memset(in, 0, sizeof(*in));
	in->id = id;
	return xioctl(fd, P2PMAP_EDU_IMP_IOC_INFO, in);
}

static int imp_xfer(int fd, bool write, uint32_t id, uint64_t off,
		    uint64_t len, void *buf)
{
	struct p2pmap_edu_imp_xfer x = {
		.id = id, .offset = off, .len = len, .buf = (uintptr_t)buf,
	};

	return xioctl(fd, write ? P2PMAP_EDU_IMP_IOC_WRITE :
			  P2PMAP_EDU_IMP_IOC_READ, &x);
}

static int imp_read(int fd, uint32_t id, uint64_t off, uint64_t len, void *buf)
{
	return imp_xfer(fd, false, id, off, len, buf);
}

static int imp_write(int fd, uint32_t id, uint64_t off, uint64_t len,
		     const void *buf)
{
	return imp_xfer(fd, true, id, off, len, (void *)buf);
}

static int get_status(int fd, struct p2pmap_edu_imp_status *s)
{
	memset(s, 0, sizeof(*s));
	return xioctl(fd, P2PMAP_EDU_IMP_IOC_STATUS, s);
}

static int imp_map(int fd, uint32_t id, uint32_t flags,
		   struct p2pmap_edu_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->flags = flags;
	return xioctl(fd, P2PMAP_EDU_IMP_IOC_MAP, m);
}

static int imp_latency(int fd, struct p2pmap_edu_imp_latency *l)
{
	memset(l, 0, sizeof(*l));
	return xioctl(fd, P2PMAP_EDU_IMP_IOC_LATENCY, l);
}

/* Whether /sys/module/p2pmap/features has the line "<name> yes". */
static bool p2pmap_feature(const char *name)
{
	FILE *f = fopen("/sys/module/p2pmap/features", "r");
	size_t n = strlen(name);
	char line[256];
	bool yes = false;

	if (!f)
		return false;
	while (!yes && fgets(line, sizeof(line), f))
		yes = !strncmp(line, name, n) && !strncmp(line + n, " yes", 4);
	fclose(f);
	return yes;
}

static uint8_t *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

FIXTURE(imp) {
	int fd;
	struct p2pmap_edu_imp_status status;
};

FIXTURE_SETUP(imp)
{
	self->fd = -1;
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s (are p2pmap.ko and p2pmap_edu_importer.ko loaded?)",
		       DEV_PATH, strerror(errno));
	}
	ASSERT_EQ(0, get_status(self->fd, &self->status));
	ASSERT_EQ(P2PMAP_EDU_IMP_ABI_VERSION, self->status.abi_version);
	ASSERT_TRUE(!!(self->status.flags & P2PMAP_EDU_IMP_S_ATTACHED)) {
		TH_LOG("no edu (1234:11e8) device bound and attached (flags %#x)",
		       self->status.flags);
	}
	ASSERT_FALSE(!!(self->status.flags & P2PMAP_EDU_IMP_S_WEDGED));
}

FIXTURE_TEARDOWN(imp)
{
	if (self->fd >= 0)
		close(self->fd);
}

static uint64_t dma_count(struct __test_metadata *_metadata, int fd)
{
	struct p2pmap_edu_imp_status s;

	EXPECT_EQ(0, get_status(fd, &s));
	return s.dma_count;
}

TEST_F(imp, status)
{
	const struct p2pmap_edu_imp_status *s = &self->status;

	TH_LOG("edu '%s' flags %#x live imports %u dma_count %llu",
	       s->edu, s->flags, s->live_imports,
	       (unsigned long long)s->dma_count);
	EXPECT_TRUE(!!(s->flags & P2PMAP_EDU_IMP_S_BOUND));
	EXPECT_NE('\0', s->edu[0]);
	EXPECT_EQ('\0', s->edu[P2PMAP_EDU_IMP_NAME_LEN - 1]);
	EXPECT_EQ(0u, s->reserved);
}

/* The CPU writes a pattern; the edu reads it out of the import. */
TEST_F(imp, cpu_write_edu_read)
{
	const size_t len = 4 * PAGE;
	uint8_t *mem = map_anon(len), *buf = malloc(len);
	uint64_t before;
	uint32_t id;
	long bad;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	fill_pattern(mem, len);
	memset(buf, 0, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	EXPECT_NE(0u, id);

	before = dma_count(_metadata, self->fd);
	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	bad = first_mismatch(mem, buf, len);
	EXPECT_EQ(-1, bad) {
		TH_LOG("byte %ld: edu read %#x, memory holds %#x", bad,
		       buf[bad], mem[bad]);
	}
	/* at least one command per 4095 bytes into RAM, one per piece in */
	EXPECT_LE(before + 2 * ((len + 4094) / 4095), dma_count(_metadata, self->fd));

	EXPECT_EQ(0, imp_destroy(self->fd, id));
	EXPECT_EQ(-EINVAL, imp_destroy(self->fd, id));
	munmap(mem, len);
	free(buf);
}

/* The edu writes a pattern into the import; the CPU sees it, and only it. */
TEST_F(imp, edu_write_cpu_read)
{
	const size_t len = 3 * PAGE, off = 100, n = 6000;
	uint8_t *mem = map_anon(len), *pat = malloc(n);
	uint32_t id;
	long bad;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, pat);
	memset(mem, 0x5a, len);
	fill_pattern(pat, n);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, P2PMAP_EDU_IMP_F_WRITE, &id));
	ASSERT_EQ(0, imp_write(self->fd, id, off, n, pat));
	bad = first_mismatch(pat, mem + off, n);
	EXPECT_EQ(-1, bad) {
		TH_LOG("byte %ld: memory holds %#x, edu wrote %#x", bad,
		       mem[off + bad], pat[bad]);
	}
	EXPECT_EQ(-1, first_not(mem, 0x5a, off)) {
		TH_LOG("bytes before the written range changed");
	}
	EXPECT_EQ(-1, first_not(mem + off + n, 0x5a, len - off - n)) {
		TH_LOG("bytes after the written range changed");
	}
	munmap(mem, len);
	free(pat);
}

/* Anonymous memory is system memory: every page says so, with its reason. */
TEST_F(imp, placement_sysmem)
{
	const size_t npages = 5, len = npages * PAGE;
	uint8_t *mem = map_anon(len), buf[64];
	struct p2pmap_edu_imp_info in;
	unsigned long long other;
	unsigned int r;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	memset(mem, 1, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));

	ASSERT_EQ(0, imp_info(self->fd, id, &in));
	EXPECT_EQ(0u, in.nr_extents);
	EXPECT_EQ(0ull, in.sysmem_pages);
	EXPECT_EQ(0ull, in.map_calls);
	EXPECT_EQ((uintptr_t)mem, in.va);
	EXPECT_EQ(len, in.len);
	EXPECT_EQ(P2PMAP_EDU_IMP_PREFER_P2P, in.policy);
	EXPECT_EQ(0u, in.flags);

	ASSERT_EQ(0, imp_read(self->fd, id, len - sizeof(buf), sizeof(buf), buf));
	ASSERT_EQ(0, imp_info(self->fd, id, &in));
	TH_LOG("%u extents; p2p %llu sysmem %llu error %llu pages; map calls %llu",
	       in.nr_extents, (unsigned long long)in.p2p_pages,
	       (unsigned long long)in.sysmem_pages,
	       (unsigned long long)in.error_pages,
	       (unsigned long long)in.map_calls);
	EXPECT_EQ(npages, in.sysmem_pages);
	EXPECT_EQ(0ull, in.p2p_pages);
	EXPECT_EQ(0ull, in.error_pages);
	EXPECT_EQ(npages, in.reason_pages[SYSPAGE]);
	for (r = 0, other = 0; r < P2PMAP_EDU_IMP_REASON_SLOTS; r++)
		if (r != SYSPAGE)
			other += in.reason_pages[r];
	EXPECT_EQ(0ull, other) {
		TH_LOG("%llu pages counted under other reasons",
		       (unsigned long long)other);
	}
	EXPECT_LE(1u, in.nr_extents);
	EXPECT_GE(npages, in.nr_extents);
	EXPECT_EQ(1ull, in.map_calls);
	EXPECT_EQ(1ull, in.xfers);

	/* still valid: the next transfer uses the extents it has */
	ASSERT_EQ(0, imp_read(self->fd, id, 0, sizeof(buf), buf));
	ASSERT_EQ(0, imp_info(self->fd, id, &in));
	EXPECT_EQ(1ull, in.map_calls);
	EXPECT_EQ(2ull, in.xfers);
	EXPECT_EQ(-1, first_not(buf, 1, sizeof(buf)));
	munmap(mem, len);
}

/* Odd offsets and lengths across page boundaries, both directions. */
TEST_F(imp, odd_ranges)
{
	static const struct { size_t off, len; } cases[] = {
		{ 0, 1 },
		{ 4095, 2 },
		{ 4000, 300 },
		{ 1, 4095 },
		{ 4097, 4095 },
		{ 3 * 4096 - 7, 4096 + 14 },
		{ 8191, 4097 },
		{ 5 * 4096 - 1, 1 },
	};
	const size_t len = 5 * PAGE;
	uint8_t *mem = map_anon(len), *shadow = malloc(len), *buf = malloc(len);
	uint32_t id;
	size_t i;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, shadow);
	ASSERT_NE(NULL, buf);
	fill_pattern(mem, len);
	memcpy(shadow, mem, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, P2PMAP_EDU_IMP_F_WRITE, &id));

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t off = cases[i].off, n = cases[i].len;
		long bad;

		fill_pattern(buf, n);
		memcpy(shadow + off, buf, n);
		ASSERT_EQ(0, imp_write(self->fd, id, off, n, buf)) {
			TH_LOG("WRITE off %zu len %zu", off, n);
		}
		bad = first_mismatch(shadow, mem, len);
		EXPECT_EQ(-1, bad) {
			TH_LOG("after WRITE off %zu len %zu: byte %ld is %#x, want %#x",
			       off, n, bad, mem[bad], shadow[bad]);
		}

		memset(buf, 0, n);
		ASSERT_EQ(0, imp_read(self->fd, id, off, n, buf)) {
			TH_LOG("READ off %zu len %zu", off, n);
		}
		bad = first_mismatch(shadow + off, buf, n);
		EXPECT_EQ(-1, bad) {
			TH_LOG("READ off %zu len %zu: byte %ld is %#x, want %#x",
			       off, n, bad, buf[bad], shadow[off + bad]);
		}
	}
	munmap(mem, len);
	free(shadow);
	free(buf);
}

/*
 * MADV_DONTNEED drops the pages: the import is invalidated (a CPU event),
 * and the next READ maps again and sees the fresh zero-filled memory.
 */
TEST_F(imp, dontneed_invalidates)
{
	const size_t len = 2 * PAGE;
	uint8_t *mem = map_anon(len), *buf = malloc(len);
	struct p2pmap_edu_imp_info a, b, c;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	fill_pattern(mem, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	ASSERT_EQ(-1, first_mismatch(mem, buf, len));
	ASSERT_EQ(0, imp_info(self->fd, id, &a));
	EXPECT_LT(0u, a.nr_extents);
	/* A new import maps at once: no retry check to fail. */
	EXPECT_EQ(0ull, a.retry_true);

	ASSERT_EQ(0, madvise(mem, len, MADV_DONTNEED));
	ASSERT_EQ(0, imp_info(self->fd, id, &b));
	EXPECT_LT(a.invalidations[CPU_EV], b.invalidations[CPU_EV]);
	EXPECT_EQ(0u, b.nr_extents);
	EXPECT_EQ(0ull, b.sysmem_pages);
	EXPECT_EQ(a.map_calls, b.map_calls);

	memset(buf, 0xee, len);
	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	EXPECT_EQ(-1, first_not(buf, 0, len)) {
		TH_LOG("READ after MADV_DONTNEED did not see zeros");
	}
	ASSERT_EQ(0, imp_info(self->fd, id, &c));
	EXPECT_LT(b.map_calls, c.map_calls);
	/* The READ's retry check found the extents gone, then it mapped. */
	EXPECT_EQ(1ull, c.retry_true);
	EXPECT_EQ(2ull, c.sysmem_pages);
	EXPECT_EQ(0ull, c.invalidations[P2PMAP_EDU_IMP_EV_EVICT] +
		  c.invalidations[P2PMAP_EDU_IMP_EV_MOVE] +
		  c.invalidations[P2PMAP_EDU_IMP_EV_RESET] +
		  c.invalidations[P2PMAP_EDU_IMP_EV_UNBIND]);
	munmap(mem, len);
	free(buf);
}

/* A writable import of memory that became read-only: EPERM, no DMA. */
TEST_F(imp, mprotect_eperm)
{
	const size_t len = PAGE;
	uint8_t *mem = map_anon(len), buf[128];
	struct p2pmap_edu_imp_info in;
	uint64_t before;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	memset(mem, 7, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, P2PMAP_EDU_IMP_F_WRITE, &id));
	ASSERT_EQ(0, imp_read(self->fd, id, 0, sizeof(buf), buf));
	ASSERT_EQ(0, mprotect(mem, len, PROT_READ));
	ASSERT_EQ(0, imp_info(self->fd, id, &in));
	EXPECT_LE(1ull, in.invalidations[CPU_EV]);

	before = dma_count(_metadata, self->fd);
	EXPECT_EQ(-EPERM, imp_read(self->fd, id, 0, sizeof(buf), buf));
	memset(buf, 9, sizeof(buf));
	EXPECT_EQ(-EPERM, imp_write(self->fd, id, 0, sizeof(buf), buf));
	EXPECT_EQ(before, dma_count(_metadata, self->fd));
	EXPECT_EQ(-1, first_not(mem, 7, len));

	/* writable again: the same import works */
	ASSERT_EQ(0, mprotect(mem, len, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, imp_write(self->fd, id, 0, sizeof(buf), buf));
	EXPECT_EQ(-1, first_not(mem, 9, sizeof(buf)));
	munmap(mem, len);
}

/* munmap: the import is invalidated and the next READ fails with EFAULT. */
TEST_F(imp, munmap_efault)
{
	const size_t len = 2 * PAGE;
	uint8_t *mem = map_anon(len), buf[64];
	struct p2pmap_edu_imp_info in;
	uint64_t before;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	memset(mem, 3, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	ASSERT_EQ(0, imp_read(self->fd, id, PAGE - 10, 20, buf));
	ASSERT_EQ(0, munmap(mem, len));
	ASSERT_EQ(0, imp_info(self->fd, id, &in));
	EXPECT_LE(1ull, in.invalidations[CPU_EV]);
	EXPECT_EQ(0u, in.nr_extents);

	before = dma_count(_metadata, self->fd);
	memset(buf, 0x11, sizeof(buf));
	EXPECT_EQ(-EFAULT, imp_read(self->fd, id, 0, sizeof(buf), buf));
	EXPECT_EQ(-1, first_not(buf, 0x11, sizeof(buf))) {
		TH_LOG("a failed READ changed the user buffer");
	}
	EXPECT_EQ(before, dma_count(_metadata, self->fd));
	EXPECT_EQ(0, imp_destroy(self->fd, id));
}

/*
 * fork() shares the pages copy-on-write. The parent's import must follow
 * the parent: after the parent writes (COW break) the edu reads the
 * parent's new data, and an edu WRITE through the parent's import lands in
 * the parent's memory only, never in the child's.
 */
TEST_F(imp, fork_cow)
{
	const size_t len = 2 * PAGE;
	uint8_t *mem = map_anon(len), *old = malloc(len), *buf = malloc(len);
	uint8_t *pat = malloc(len);
	struct p2pmap_edu_imp_info a, b;
	int go[2], done[2], status;
	uint32_t rid, wid;
	char c = 0;
	pid_t pid;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, old);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, pat);
	fill_pattern(mem, len);
	memcpy(old, mem, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, PAGE, 0, &rid));
	ASSERT_EQ(0, imp_create(self->fd, mem + PAGE, PAGE,
				P2PMAP_EDU_IMP_F_WRITE, &wid));
	ASSERT_EQ(0, imp_read(self->fd, rid, 0, PAGE, buf));
	ASSERT_EQ(0, imp_read(self->fd, wid, 0, PAGE, buf + PAGE));
	ASSERT_EQ(-1, first_mismatch(old, buf, len));
	ASSERT_EQ(0, imp_info(self->fd, rid, &a));

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* child: wait until the parent is done, check its own copy */
		close(go[1]);
		close(done[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(first_mismatch(old, mem, len) == -1 ? 0 : 1);
	}
	close(go[0]);
	close(done[1]);

	/* fork write-protected the parent's pages: that invalidates */
	ASSERT_EQ(0, imp_info(self->fd, rid, &b));
	EXPECT_LT(a.invalidations[CPU_EV], b.invalidations[CPU_EV]);
	/* shared with the child still: the edu reads the old data */
	ASSERT_EQ(0, imp_read(self->fd, rid, 0, PAGE, buf));
	EXPECT_EQ(-1, first_mismatch(old, buf, PAGE));

	/* the parent writes: COW break, the import follows the parent */
	fill_pattern(pat, len);
	memcpy(mem, pat, PAGE);
	memset(buf, 0, PAGE);
	ASSERT_EQ(0, imp_read(self->fd, rid, 0, PAGE, buf));
	EXPECT_EQ(-1, first_mismatch(pat, buf, PAGE)) {
		TH_LOG("after the parent's COW break the edu reads stale data");
	}

	/* the edu writes the second page through the parent's import */
	ASSERT_EQ(0, imp_write(self->fd, wid, 0, PAGE, pat + PAGE));
	EXPECT_EQ(-1, first_mismatch(pat + PAGE, mem + PAGE, PAGE)) {
		TH_LOG("edu WRITE after fork did not reach the parent's page");
	}

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("the child's copy changed: a DMA reached the child's pages");
	}
	close(go[1]);
	close(done[0]);
	munmap(mem, len);
	free(old);
	free(buf);
	free(pat);
}

/*
 * The edu reads @piece bytes at page @at[k] of import @id, for each of the
 * @nat samples, into @buf; each read must match @want at the same offset.
 */
static void read_samples(struct __test_metadata *_metadata, int fd,
			 uint32_t id, const uint8_t *want, const size_t *at,
			 size_t nat, size_t piece, uint8_t *buf)
{
	size_t k, off;
	long bad;

	for (k = 0; k < nat; k++) {
		off = at[k] * PAGE;
		memset(buf, 0, piece);
		ASSERT_EQ(0, imp_read(fd, id, off, piece, buf));
		bad = first_mismatch(want + off, buf, piece);
		EXPECT_EQ(-1, bad) {
			TH_LOG("page %zu byte %ld: edu read %#x, memory holds %#x",
			       (off + bad) / PAGE, bad % (long)PAGE, buf[bad],
			       want[off + bad]);
		}
	}
}

/*
 * A read import over pages of both permissions in one VMA. After fork()
 * the parent's pages are read-only, shared copy-on-write, until it writes
 * one: every third page here. A writable and a read-only page never share
 * an extent (which shows where neighbours are physically contiguous), and
 * the edu reads the pages right, across the 256-page batches the core
 * walks the range in.
 */
TEST_F(imp, read_mixed_permissions)
{
	/* the emulated edu takes 100 ms per DMA: the reads are samples */
	const size_t npages = 300, len = npages * PAGE, piece = 4 * PAGE;
	const size_t at[] = { 0, 254, npages - 4 };
	uint8_t *mem = map_anon(len), *want = malloc(len), *buf = malloc(piece);
	struct p2pmap_edu_imp_map m;
	unsigned int runs = 0;
	int go[2], status;
	uint32_t id;
	char c = 0;
	pid_t pid;
	size_t i;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, madvise(mem, len, MADV_NOHUGEPAGE));
	fill_pattern(mem, len);
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* keeps the pages shared until the parent is done */
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 2);
	}
	close(go[0]);
	for (i = 0; i < npages; i += 3)
		mem[i * PAGE] ^= 0xff;	/* COW break: writable again */
	memcpy(want, mem, len);
	for (i = 0; i < npages; i++)
		runs += !i || !(i % 3) || i % 3 == 1;

	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	TH_LOG("%zu pages in %u runs of one permission: %u extents",
	       npages, runs, m.nr_extents);
	EXPECT_EQ(npages, m.sysmem_pages);
	EXPECT_EQ(0ull, m.p2p_pages);
	EXPECT_LE(runs, m.nr_extents) {
		TH_LOG("an extent spans pages of both permissions");
	}
	EXPECT_GE(npages, m.nr_extents);
	/* the first pages, across the first batch's end, the last pages */
	read_samples(_metadata, self->fd, id, want, at, ARRAY_SIZE(at), piece,
		     buf);
	EXPECT_EQ(0, imp_destroy(self->fd, id));

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(go[1]);
	munmap(mem, len);
	free(want);
	free(buf);
}

/* REQUIRE_P2P on system memory: EREMOTEIO, and no DMA. */
TEST_F(imp, require_p2p_sysmem)
{
	const size_t len = PAGE;
	uint8_t *mem = map_anon(len), buf[16];
	uint64_t before;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	memset(mem, 1, len);
	ASSERT_EQ(0, imp_create_raw(self->fd, (uintptr_t)mem, len,
				    P2PMAP_EDU_IMP_REQUIRE_P2P, 0, 0, &id));
	before = dma_count(_metadata, self->fd);
	EXPECT_EQ(-EREMOTEIO, imp_read(self->fd, id, 0, sizeof(buf), buf));
	EXPECT_EQ(before, dma_count(_metadata, self->fd));

	/* SYSMEM_ONLY on the same memory works */
	ASSERT_EQ(0, imp_create_raw(self->fd, (uintptr_t)mem, len,
				    P2PMAP_EDU_IMP_SYSMEM_ONLY, 0, 0, &id));
	EXPECT_EQ(0, imp_read(self->fd, id, 0, sizeof(buf), buf));
	EXPECT_EQ(-1, first_not(buf, 1, sizeof(buf)));
	munmap(mem, len);
}

/* Every malformed request: EINVAL (EPERM for WRITE to a read import). */
TEST_F(imp, bad_input)
{
	const size_t len = 2 * PAGE;
	uint8_t *mem = map_anon(len), buf[64];
	struct p2pmap_edu_imp_destroy d = { 0 };
	struct p2pmap_edu_imp_xfer x = { 0 };
	struct p2pmap_edu_imp_info in;
	uint64_t va = (uintptr_t)mem, before;
	uint32_t id, wid;

	ASSERT_NE(NULL, mem);
	before = dma_count(_metadata, self->fd);

	/* CREATE */
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va + 1, len, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va + 2048, PAGE, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, 100, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, PAGE + 1, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, ~0ull & ~(PAGE - 1),
					  2 * PAGE, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, 1ull << 47, PAGE, 0, 0, 0,
					  NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va,
					  P2PMAP_EDU_IMP_MAX_IMPORT + PAGE,
					  0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, len, 3, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, len, ~0u, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, len, 0, 4, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, len, 0, ~0u, 0, NULL));
	EXPECT_EQ(-EINVAL, imp_create_raw(self->fd, va, len, 0, 0, 1, NULL));

	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	ASSERT_EQ(0, imp_create(self->fd, mem, len, P2PMAP_EDU_IMP_F_WRITE, &wid));
	EXPECT_NE(id, wid);

	/* unknown ids */
	EXPECT_EQ(-EINVAL, imp_destroy(self->fd, 0));
	EXPECT_EQ(-EINVAL, imp_destroy(self->fd, id + wid + 1000));
	d.id = id;
	d.reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, P2PMAP_EDU_IMP_IOC_DESTROY, &d));
	EXPECT_EQ(-EINVAL, imp_info(self->fd, 0, &in));
	EXPECT_EQ(-EINVAL, imp_info(self->fd, 99999, &in));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, 0, 0, 1, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, 99999, 0, 1, buf));
	EXPECT_EQ(-EINVAL, imp_write(self->fd, 99999, 0, 1, buf));

	/* ranges outside the import, empty and oversized transfers */
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, 0, 0, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, len, 1, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, len - 10, 11, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, 0, len + 1, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, ~0ull, 2, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, 1, ~0ull, buf));
	EXPECT_EQ(-EINVAL, imp_read(self->fd, id, 0,
				    P2PMAP_EDU_IMP_MAX_XFER + 1ull, buf));
	EXPECT_EQ(-EINVAL, imp_write(self->fd, wid, len, 1, buf));
	EXPECT_EQ(-EINVAL, imp_write(self->fd, wid, 0, 0, buf));
	x.id = id;
	x.len = 1;
	x.buf = (uintptr_t)buf;
	x.reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, P2PMAP_EDU_IMP_IOC_READ, &x));

	/* WRITE through an import created without F_WRITE */
	EXPECT_EQ(-EPERM, imp_write(self->fd, id, 0, 1, buf));
	/* a bad user buffer */
	EXPECT_EQ(-EFAULT, imp_write(self->fd, wid, 0, 16, NULL));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IO(P2PMAP_EDU_IMP_IOC_MAGIC, 0x7f),
				  NULL));

	EXPECT_EQ(before, dma_count(_metadata, self->fd)) {
		TH_LOG("refused requests issued edu DMA commands");
	}
	munmap(mem, len);
}

/*
 * A process killed with live, mapped imports: its file is released on exit
 * and every import goes away (kmemleak in the VM's health check covers the
 * memory; live_imports covers the count).
 */
TEST_F(imp, kill9_no_leak)
{
	struct p2pmap_edu_imp_status s;
	int ready[2], status;
	uint32_t live0;
	char c;
	pid_t pid;

	ASSERT_EQ(0, get_status(self->fd, &s));
	live0 = s.live_imports;
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		const size_t len = 4 * PAGE;
		uint8_t *mem = map_anon(len), buf[32];
		uint32_t id;
		int fd, i;

		close(ready[0]);
		fd = open(DEV_PATH, O_RDWR);
		if (fd < 0 || !mem)
			_exit(2);
		memset(mem, 4, len);
		/*
		 * Pages [0], [1, 2], [3]: writable imports must not overlap,
		 * or DMA-API debug reports overlapping DMA_BIDIRECTIONAL
		 * mappings of one page.
		 */
		for (i = 0; i < 3; i++) {
			size_t first = i ? 2 * i - 1 : 0, n = i == 1 ? 2 : 1;

			if (imp_create(fd, mem + first * PAGE, n * PAGE,
				       i ? P2PMAP_EDU_IMP_F_WRITE : 0, &id))
				_exit(3);
			if (imp_read(fd, id, 0, sizeof(buf), buf))
				_exit(4);
		}
		c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(5);
		for (;;)
			pause();
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) {
		TH_LOG("the child failed before it was ready");
	}
	close(ready[0]);
	ASSERT_EQ(0, get_status(self->fd, &s));
	EXPECT_EQ(live0 + 3, s.live_imports);

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ASSERT_EQ(0, get_status(self->fd, &s));
	EXPECT_EQ(live0, s.live_imports) {
		TH_LOG("%u imports of the killed process are still alive",
		       s.live_imports - live0);
	}
}

/* ---- READ racing MADV_DONTNEED + rewrite -------------------------------- */

/*
 * The reader READs a small window across the page boundary of a two-page
 * import (three edu commands); the invalidator drops both pages and
 * rewrites them with the next generation value, over and over. The race
 * runs for RACE_MIN_S seconds and until both sides did RACE_MIN_ROUNDS
 * rounds, at most RACE_MAX_S seconds (the edu is slow under TCG).
 */
#define RACE_MIN_S	3
#define RACE_MAX_S	20
#define RACE_MIN_ROUNDS	3ul
#define RACE_OFF	(PAGE - 64)
#define RACE_LEN	128

struct race {
	int fd;
	uint32_t id;
	uint8_t *mem;
	size_t len;
	volatile bool stop;
	volatile uint8_t gen;	/* last value the invalidator filled in */
	volatile unsigned long reads, invalidator_rounds;
	unsigned long errors, bad_bytes;
	int first_error;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint8_t buf[RACE_LEN];
	size_t i;

	while (!r->stop) {
		uint8_t hi;
		int ret = imp_read(r->fd, r->id, RACE_OFF, RACE_LEN, buf);

		if (ret) {
			if (!r->errors++)
				r->first_error = ret;
			continue;
		}
		r->reads++;
		/* zero-filled after DONTNEED, or a generation written so far */
		hi = r->gen;
		for (i = 0; i < RACE_LEN; i++)
			if (buf[i] > hi)
				r->bad_bytes++;
	}
	return NULL;
}

static void *race_invalidator(void *arg)
{
	struct race *r = arg;

	while (!r->stop) {
		if (madvise(r->mem, r->len, MADV_DONTNEED))
			break;
		if (r->gen < 250)
			r->gen++;
		memset(r->mem, r->gen, r->len);
		r->invalidator_rounds++;
		usleep(1000);
	}
	return NULL;
}

TEST_F_TIMEOUT(imp, race_read_vs_dontneed, 60)
{
	struct race r = { .fd = self->fd, .len = 2 * PAGE };
	struct p2pmap_edu_imp_info in;
	pthread_t rt, it;
	uint64_t remaps;
	time_t t0;

	r.mem = map_anon(r.len);
	ASSERT_NE(NULL, r.mem);
	r.gen = 1;
	memset(r.mem, r.gen, r.len);
	ASSERT_EQ(0, imp_create(self->fd, r.mem, r.len, 0, &r.id));

	t0 = time(NULL);
	ASSERT_EQ(0, pthread_create(&rt, NULL, race_reader, &r));
	ASSERT_EQ(0, pthread_create(&it, NULL, race_invalidator, &r));
	while (time(NULL) - t0 < RACE_MAX_S &&
	       (time(NULL) - t0 < RACE_MIN_S || r.reads < RACE_MIN_ROUNDS ||
		r.invalidator_rounds < RACE_MIN_ROUNDS))
		usleep(100000);
	r.stop = true;
	ASSERT_EQ(0, pthread_join(it, NULL));
	ASSERT_EQ(0, pthread_join(rt, NULL));

	ASSERT_EQ(0, imp_info(self->fd, r.id, &in));
	remaps = in.map_calls ? in.map_calls - 1 : 0;
	TH_LOG("%lus: %lu READs, %lu invalidator rounds; map calls %llu (-EAGAIN %llu), retry true %llu, CPU invalidations %llu",
	       (unsigned long)(time(NULL) - t0), r.reads, r.invalidator_rounds,
	       (unsigned long long)in.map_calls,
	       (unsigned long long)in.map_eagain,
	       (unsigned long long)in.retry_true,
	       (unsigned long long)in.invalidations[CPU_EV]);
	EXPECT_EQ(0ul, r.errors) {
		TH_LOG("%lu READs failed, the first with %s", r.errors,
		       strerror(-r.first_error));
	}
	EXPECT_EQ(0ul, r.bad_bytes);
	EXPECT_LE(RACE_MIN_ROUNDS, r.reads);
	EXPECT_LE(RACE_MIN_ROUNDS, r.invalidator_rounds);
	/*
	 * What must happen: the reader mapped, the invalidator dropped the
	 * mapping, the reader mapped again. Whether a drop lands inside a
	 * map (-EAGAIN) or between map and lock (retry true) is timing: it
	 * is logged above, not asserted.
	 */
	EXPECT_LE(1ull, in.invalidations[CPU_EV]);
	EXPECT_LE(1ull, remaps);
	EXPECT_LT(0ull, in.map_eagain + in.retry_true + remaps);
	EXPECT_EQ(r.reads, in.xfers);
	munmap(r.mem, r.len);
}

/*
 * MAP maps without DMA and says what it cost: one round on a fresh import,
 * none while the extents stay valid, one again when forced (replacing the
 * old extents, which the importer sees as a REMAP) or after an
 * invalidation. READ then uses the mapped extents without mapping.
 */
TEST_F(imp, map_ioctl)
{
	const size_t len = 8 * PAGE;
	uint8_t *mem = map_anon(len), *buf = malloc(len);
	struct p2pmap_edu_imp_info a, b;
	struct p2pmap_edu_imp_map m;
	uint64_t before;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	fill_pattern(mem, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	before = dma_count(_metadata, self->fd);

	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	EXPECT_EQ(1u, m.rounds);
	EXPECT_LT(0ull, m.map_ns);
	EXPECT_LE(m.map_ns, m.total_ns);
	EXPECT_LE(1u, m.nr_extents);
	EXPECT_GE(8u, m.nr_extents);
	EXPECT_EQ(8ull, m.sysmem_pages);
	EXPECT_EQ(0ull, m.p2p_pages);
	EXPECT_EQ(0ull, m.error_pages);
	TH_LOG("8 pages mapped in %llu ns, %u extent(s)",
	       (unsigned long long)m.map_ns, m.nr_extents);

	/* still valid: nothing to do */
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	EXPECT_EQ(0u, m.rounds);
	EXPECT_EQ(0ull, m.map_ns);
	EXPECT_EQ(8ull, m.sysmem_pages);

	/* forced: mapped again, the old extents dropped as a REMAP */
	ASSERT_EQ(0, imp_info(self->fd, id, &a));
	ASSERT_EQ(0, imp_map(self->fd, id, P2PMAP_EDU_IMP_MAP_F_FORCE, &m));
	EXPECT_EQ(1u, m.rounds);
	EXPECT_LT(0ull, m.map_ns);
	ASSERT_EQ(0, imp_info(self->fd, id, &b));
	EXPECT_EQ(a.map_calls + 1, b.map_calls);
	EXPECT_EQ(a.invalidations[P2PMAP_EDU_IMP_EV_REMAP] + 1,
		  b.invalidations[P2PMAP_EDU_IMP_EV_REMAP]);
	EXPECT_EQ(a.invalidations[CPU_EV], b.invalidations[CPU_EV]);
	EXPECT_EQ(before, dma_count(_metadata, self->fd)) {
		TH_LOG("MAP issued edu DMA commands");
	}

	/* READ uses the extents MAP installed */
	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	EXPECT_EQ(-1, first_mismatch(mem, buf, len));
	ASSERT_EQ(0, imp_info(self->fd, id, &a));
	EXPECT_EQ(b.map_calls, a.map_calls);

	/* untimed: mapped again, no time reported */
	ASSERT_EQ(0, imp_map(self->fd, id, P2PMAP_EDU_IMP_MAP_F_FORCE |
			     P2PMAP_EDU_IMP_MAP_F_UNTIMED, &m));
	EXPECT_EQ(1u, m.rounds);
	EXPECT_EQ(0ull, m.map_ns);
	EXPECT_EQ(0ull, m.total_ns);
	EXPECT_EQ(8ull, m.sysmem_pages);
	ASSERT_EQ(0, imp_info(self->fd, id, &b));
	EXPECT_EQ(a.map_calls + 1, b.map_calls);

	/* invalidated: MAP maps again and sees the new memory */
	ASSERT_EQ(0, madvise(mem, len, MADV_DONTNEED));
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	EXPECT_EQ(1u, m.rounds);
	EXPECT_EQ(8ull, m.sysmem_pages);
	memset(buf, 0xee, len);
	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	EXPECT_EQ(-1, first_not(buf, 0, len));

	/* refusals */
	EXPECT_EQ(-EINVAL, imp_map(self->fd, id, 4, &m));
	EXPECT_EQ(-EINVAL, imp_map(self->fd, id, ~0u, &m));
	EXPECT_EQ(-EINVAL, imp_map(self->fd, 0, 0, &m));
	EXPECT_EQ(-EINVAL, imp_map(self->fd, id + 1000, 0, &m));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, P2PMAP_EDU_IMP_IOC_MAP, NULL));
	ASSERT_EQ(0, munmap(mem, len));
	EXPECT_EQ(-EFAULT, imp_map(self->fd, id, 0, &m));
	EXPECT_EQ(0, imp_destroy(self->fd, id));
	free(buf);
}

/*
 * LATENCY: every invalidation followed by a map yields one sample, from the
 * invalidation to the end of the map, so a 2 ms pause in between shows in
 * it, also for a MAP that reads no clock for its own time (UNTIMED); a
 * forced remap (REMAP) and a map of a valid import yield none; the call
 * empties the buffer, and what does not fit is counted as dropped.
 */
TEST_F(imp, latency_samples)
{
	const size_t len = 2 * PAGE;
	const struct timespec pause = { 0, 2000000 };
	struct p2pmap_edu_imp_latency *l = malloc(sizeof(*l));
	uint8_t *mem = map_anon(len);
	struct p2pmap_edu_imp_map m;
	unsigned int i;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, l);
	memset(mem, 1, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, 0, &id));
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	ASSERT_EQ(0, imp_map(self->fd, id, P2PMAP_EDU_IMP_MAP_F_FORCE, &m));
	ASSERT_EQ(0, imp_latency(self->fd, l));
	EXPECT_EQ(0u, l->nr);
	EXPECT_EQ(0ull, l->dropped);

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, madvise(mem, len, MADV_DONTNEED));
		nanosleep(&pause, NULL);
		/* an untimed MAP still takes its sample */
		ASSERT_EQ(0, imp_map(self->fd, id,
				     (i & 1) ? P2PMAP_EDU_IMP_MAP_F_UNTIMED : 0, &m));
		EXPECT_EQ(1u, m.rounds);
		if (i & 1) {
			EXPECT_EQ(0ull, m.map_ns);
		} else {
			EXPECT_LT(0ull, m.map_ns);
		}
	}
	ASSERT_EQ(0, imp_latency(self->fd, l));
	ASSERT_EQ(5u, l->nr);
	EXPECT_EQ(0ull, l->dropped);
	for (i = 0; i < 5; i++) {
		EXPECT_LE(2000000ull, l->ns[i]) {
			TH_LOG("sample %u: %llu ns, shorter than the pause", i,
			       (unsigned long long)l->ns[i]);
		}
		EXPECT_GT(10000000000ull, l->ns[i]);
	}
	TH_LOG("samples (ns): %llu %llu %llu %llu %llu",
	       (unsigned long long)l->ns[0], (unsigned long long)l->ns[1],
	       (unsigned long long)l->ns[2], (unsigned long long)l->ns[3],
	       (unsigned long long)l->ns[4]);
	ASSERT_EQ(0, imp_latency(self->fd, l));
	EXPECT_EQ(0u, l->nr);

	/* more revalidations than slots: the rest are counted, not kept */
	for (i = 0; i < P2PMAP_EDU_IMP_LAT_SLOTS + 3; i++) {
		ASSERT_EQ(0, madvise(mem, len, MADV_DONTNEED));
		ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	}
	ASSERT_EQ(0, imp_latency(self->fd, l));
	EXPECT_EQ(P2PMAP_EDU_IMP_LAT_SLOTS, l->nr);
	EXPECT_EQ(3ull, l->dropped);
	for (i = 0; i < l->nr; i++)
		if (!l->ns[i])
			break;
	EXPECT_EQ(l->nr, i);

	l->flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, P2PMAP_EDU_IMP_IOC_LATENCY, l));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, P2PMAP_EDU_IMP_IOC_LATENCY, NULL));
	munmap(mem, len);
	free(l);
}

/*
 * A pinned import (P2PMAP_EDU_IMP_F_PIN): mapped once on first use, then
 * used until destroy without revalidation. So after MADV_DONTNEED the CPU
 * sees fresh zeroes while the edu still reads the pinned pages, and nothing
 * maps again. Needs the core's pinned mode: a p2pmap that does not report
 * it ("pinned_imports yes" in /sys/module/p2pmap/features) refuses imports
 * of PIN_ONLY attachments, and this test is skipped (import.skips).
 */
TEST_F(imp, pinned_basic)
{
	const size_t len = 3 * PAGE;
	uint8_t *mem = map_anon(len), *old = malloc(len), *buf = malloc(len);
	const uint32_t fl = P2PMAP_EDU_IMP_F_PIN | P2PMAP_EDU_IMP_F_WRITE;
	struct p2pmap_edu_imp_info a, b;
	struct p2pmap_edu_imp_map m;
	uint32_t id;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, old);
	ASSERT_NE(NULL, buf);
	if (!p2pmap_feature("pinned_imports"))
		SKIP(return, "p2pmap core without pinned imports (no 'pinned_imports yes' in /sys/module/p2pmap/features)");
	fill_pattern(mem, len);
	memcpy(old, mem, len);
	ASSERT_EQ(0, imp_create(self->fd, mem, len, fl, &id));
	ASSERT_EQ(0, imp_info(self->fd, id, &a));
	EXPECT_EQ(fl, a.flags);
	EXPECT_EQ(0u, a.nr_extents);

	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	EXPECT_EQ(-1, first_mismatch(old, buf, len));
	fill_pattern(buf, PAGE);
	ASSERT_EQ(0, imp_write(self->fd, id, PAGE, PAGE, buf));
	EXPECT_EQ(-1, first_mismatch(buf, mem + PAGE, PAGE));
	memcpy(old + PAGE, buf, PAGE);

	/* mapped once; MAP has nothing to do and may not be forced */
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	EXPECT_EQ(0u, m.rounds);
	EXPECT_LE(1u, m.nr_extents);
	EXPECT_EQ(3ull, m.sysmem_pages);
	EXPECT_EQ(-EINVAL, imp_map(self->fd, id, P2PMAP_EDU_IMP_MAP_F_FORCE, &m));

	/* the CPU drops its pages: the pinned ones stay the edu's */
	ASSERT_EQ(0, madvise(mem, len, MADV_DONTNEED));
	EXPECT_EQ(0, mem[0]);
	ASSERT_EQ(0, imp_read(self->fd, id, 0, len, buf));
	EXPECT_EQ(-1, first_mismatch(old, buf, len)) {
		TH_LOG("the edu did not read the pinned pages after MADV_DONTNEED");
	}
	ASSERT_EQ(0, imp_info(self->fd, id, &b));
	EXPECT_EQ(1ull, b.map_calls);
	EXPECT_EQ(0ull, b.invalidations[CPU_EV]);
	EXPECT_EQ(0ull, b.invalidations[P2PMAP_EDU_IMP_EV_UNBIND]);
	EXPECT_LE(1u, b.nr_extents);
	EXPECT_EQ(0, imp_destroy(self->fd, id));
	munmap(mem, len);
	free(old);
	free(buf);
}

/* kB of AnonHugePages in the mapping that holds @p (/proc/self/smaps). */
static long anon_huge_kb(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (kb < 0 && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) != 1)
			kb = -1;
	}
	fclose(f);
	return kb;
}

/*
 * Transparent huge pages: ranges that start and end inside a huge page, and
 * one that crosses from one huge page to the next, are imported page for
 * page (the core takes the rest of a huge mapping in one step): the edu
 * reads what the CPU wrote and writes what the CPU then reads at the
 * start, across the boundary and at the end of each range (edu DMA is
 * slow under emulation, so not every byte), and the extents are one per
 * huge page when the kernel gave huge pages.
 */
TEST_F(imp, thp_ranges)
{
	const size_t huge = 2ul << 20, len = 2 * huge, piece = 2 * PAGE;
	const size_t offs[] = { huge - 300 * PAGE, 5 * PAGE };
	const size_t lens[] = { 600 * PAGE, 60 * PAGE };
	uint8_t *raw = map_anon(len + huge), *mem, *buf = malloc(piece);
	struct p2pmap_edu_imp_map m;
	unsigned int t, k;
	long kb, bad;
	uint32_t id;

	ASSERT_NE(NULL, raw);
	ASSERT_NE(NULL, buf);
	mem = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	ASSERT_EQ(0, madvise(mem, len, MADV_HUGEPAGE));
	fill_pattern(mem, len);
	kb = anon_huge_kb(mem);
	TH_LOG("AnonHugePages of the buffer: %ld kB", kb);

	for (t = 0; t < 2; t++) {
		uint8_t *r = mem + offs[t];
		size_t n = lens[t];
		/* first pages, across the boundary (range 0), last pages */
		const size_t at[] = { 0, huge - offs[t] - PAGE - 100, n - piece };

		ASSERT_EQ(0, imp_create(self->fd, r, n, P2PMAP_EDU_IMP_F_WRITE, &id));
		ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
		EXPECT_EQ(n / PAGE, m.sysmem_pages);
		if (kb >= (long)(len >> 10)) {
			EXPECT_GE(offs[t] / huge == (offs[t] + n - 1) / huge ? 1u : 2u,
				  m.nr_extents);
		}
		TH_LOG("range %u: %zu pages at +%zu kB, %u extent(s)", t,
		       n / PAGE, offs[t] >> 10, m.nr_extents);
		for (k = 0; k < 3; k++) {
			if (at[k] + piece > n)
				continue;
			memset(buf, 0, piece);
			ASSERT_EQ(0, imp_read(self->fd, id, at[k], piece, buf));
			bad = first_mismatch(r + at[k], buf, piece);
			EXPECT_EQ(-1, bad) {
				TH_LOG("range %u +%zu byte %ld: edu read %#x, memory holds %#x",
				       t, at[k], bad, buf[bad], r[at[k] + bad]);
			}
			/* the edu writes the bytes back inverted; the CPU sees them */
			for (bad = 0; bad < (long)piece; bad++)
				buf[bad] = (uint8_t)~buf[bad];
			ASSERT_EQ(0, imp_write(self->fd, id, at[k], piece, buf));
			bad = first_mismatch(buf, r + at[k], piece);
			EXPECT_EQ(-1, bad) {
				TH_LOG("range %u +%zu byte %ld: memory holds %#x, edu wrote %#x",
				       t, at[k], bad, r[at[k] + bad], buf[bad]);
			}
		}
		EXPECT_EQ(0, imp_destroy(self->fd, id));
	}
	munmap(raw, len + huge);
	free(buf);
}

/*
 * One VMA of a huge page followed by scattered 4 KiB pages (the VMA ends
 * before the next 2 MiB boundary, so its tail cannot be huge). The core
 * sizes the extent array of a range that begins huge for one batch and
 * grows it when the 4 KiB pages come: the extents and the data read back
 * must be right across the huge page's end and the batch boundaries.
 */
TEST_F(imp, thp_then_scattered)
{
	const size_t huge = 2ul << 20, tail = 384, npages = huge / PAGE + tail;
	const size_t len = npages * PAGE, piece = 2 * PAGE;
	/* the huge page's end, batch boundaries at 768 pages, the end */
	const size_t at[] = { 0, 511, 767, npages - 2 };
	uint8_t *raw = map_anon(len + huge), *mem, *buf = malloc(piece);
	struct p2pmap_edu_imp_map m;
	uint32_t id;
	size_t i;
	long kb;

	ASSERT_NE(NULL, raw);
	ASSERT_NE(NULL, buf);
	mem = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	/* the VMA is [mem, mem + len): no room for a second huge page */
	ASSERT_EQ(0, munmap(mem + len, raw + len + huge - (mem + len)));
	if (mem != raw) {
		ASSERT_EQ(0, munmap(raw, mem - raw));
	}
	ASSERT_EQ(0, madvise(mem, len, MADV_HUGEPAGE));
	fill_pattern(mem, huge);
	/* the tail in two passes, so neighbours are not physically adjacent */
	for (i = 0; i < tail; i += 2)
		fill_pattern(mem + huge + i * PAGE, PAGE);
	for (i = 1; i < tail; i += 2)
		fill_pattern(mem + huge + i * PAGE, PAGE);
	kb = anon_huge_kb(mem);

	ASSERT_EQ(0, imp_create(self->fd, mem, len, P2PMAP_EDU_IMP_F_WRITE, &id));
	ASSERT_EQ(0, imp_map(self->fd, id, 0, &m));
	TH_LOG("AnonHugePages %ld kB; %zu pages: %u extents", kb, npages,
	       m.nr_extents);
	EXPECT_EQ(npages, m.sysmem_pages);
	EXPECT_GE(npages, m.nr_extents);
	if (kb >= (long)(huge >> 10)) {
		/* one for the huge page, at most one per tail page */
		EXPECT_GE(1 + tail, m.nr_extents);
		EXPECT_LE(2u, m.nr_extents);
	}
	read_samples(_metadata, self->fd, id, mem, at, ARRAY_SIZE(at), piece,
		     buf);
	EXPECT_EQ(0, imp_destroy(self->fd, id));
	munmap(mem, len);
	free(buf);
}

TEST_HARNESS_MAIN
