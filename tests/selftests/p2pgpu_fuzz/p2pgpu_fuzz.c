// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_fuzz: a structure-aware fuzzer of p2pgpu's uAPI, in the
 * spirit of syzkaller, which cannot be built on the test bed.
 *
 * Each worker process owns a DRM file on each p2pgpu render node, the
 * objects it created there (handle, size, CPU mappings), memory regions of
 * every kind an import meets (private anonymous, a shared memfd also mapped
 * a second time, a read-only file, huge-page-advised anonymous memory, CPU
 * mappings of objects) and dma-buf fds. A call is drawn from a weighted
 * table: one of the 15 p2pgpu ioctls plus GEM_CLOSE and PRIME import and
 * export, each with its struct filled from that live state or from edge
 * values (0, 1, page +- 1, unaligned, wrapping, beyond TASK_SIZE, another
 * file's handle); or an mm operation that drives invalidation (munmap,
 * partial munmap, mremap including the duplication of a shared mapping,
 * MADV_DONTNEED, MADV_HUGEPAGE, mprotect, touching pages, fork with the
 * child killed mid-way or exiting); or closing and reopening render nodes
 * and dma-bufs. An optional chaos process unbinds and rebinds the GPUs
 * through sysfs and tries writes to the module parameters (0444: refused).
 *
 * Everything a worker draws comes from its own xorshift generator, seeded
 * from --seed and the worker number, so a run replays its calls; the
 * interleaving of workers and of the chaos process is the scheduler's. On
 * a failed check a worker prints the seed and its last calls.
 *
 * Checks besides "the kernel does not splat" (the VM verdict counts those):
 *  - a handle is looked up in its own DRM file only: every handle-taking
 *    ioctl on a file that never created an object fails with ENOENT;
 *  - a read-only source stays read-only: the bytes of a file mapped
 *    PROT_READ (and reachable from every worker and forked child) are
 *    checked against their pattern at the end; a COPY into it or an
 *    EXPORT_RANGE for writing of it succeeding is a failure;
 *  - no import of another process's memory: every byte a worker copies out
 *    of an object is searched for another worker's secret marker;
 *  - nothing leaks after the workers are killed: the live imports listed
 *    in debugfs and the devices' used and pinned counters return to their
 *    values before the run (--leak-check).
 *
 * Coverage: the test kernel has no CONFIG_KCOV (see docs/testing.md), so
 * the report counts, per call, how often it ran, succeeded and failed with
 * each errno, and how many distinct p2pgpu/p2pmap kernel-log reasons the
 * run produced (each validation path logs its own reason).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"

#define FUZZ_VERSION	"1.0"
#define PG		4096ULL
#define MAX_GPU		2
#define MAX_BO		24
#define MAX_REG		24
#define MAX_DMABUF	8
#define MAX_WORKERS	8
#define LOG_N		64
#define LOG_LEN		160
#define NERR		134
#define SECRET_LEN	16
#define RO_LEN		(4 * PG)

/* ---- the call table ------------------------------------------------------ */

enum op {
	OP_BO_CREATE, OP_BO_MMAP, OP_BO_INFO, OP_DEVICE_INFO, OP_COPY,
	OP_SVM_INFO, OP_SVM_MIGRATE, OP_SVM_ACCESS, OP_SVM_SNAPSHOT,
	OP_BO_CPU_INFO, OP_BO_PUBLISH, OP_BO_UNPUBLISH, OP_BO_DMABUF_INFO,
	OP_BO_FROM_VA, OP_EXPORT_RANGE, OP_GEM_CLOSE, OP_PRIME_EXPORT,
	OP_PRIME_IMPORT, OP_MMAP_ANON, OP_MUNMAP, OP_MREMAP, OP_MADVISE,
	OP_MPROTECT, OP_TOUCH, OP_FORK, OP_REOPEN, OP_CLOSE_DMABUF,
	OP_FOREIGN_HANDLE, OP_NR
};

static const struct {
	const char *name;
	unsigned int weight;
} ops[OP_NR] = {
	[OP_BO_CREATE] = { "BO_CREATE", 6 },
	[OP_BO_MMAP] = { "BO_MMAP_OFFSET+mmap", 5 },
	[OP_BO_INFO] = { "BO_INFO", 3 },
	[OP_DEVICE_INFO] = { "DEVICE_INFO", 1 },
	[OP_COPY] = { "COPY", 20 },
	[OP_SVM_INFO] = { "SVM_INFO", 1 },
	[OP_SVM_MIGRATE] = { "SVM_MIGRATE", 6 },
	[OP_SVM_ACCESS] = { "SVM_ACCESS", 4 },
	[OP_SVM_SNAPSHOT] = { "SVM_SNAPSHOT", 2 },
	[OP_BO_CPU_INFO] = { "BO_CPU_INFO", 2 },
	[OP_BO_PUBLISH] = { "BO_PUBLISH", 2 },
	[OP_BO_UNPUBLISH] = { "BO_UNPUBLISH", 2 },
	[OP_BO_DMABUF_INFO] = { "BO_DMABUF_INFO", 1 },
	[OP_BO_FROM_VA] = { "BO_FROM_VA", 3 },
	[OP_EXPORT_RANGE] = { "EXPORT_RANGE", 3 },
	[OP_GEM_CLOSE] = { "GEM_CLOSE", 3 },
	[OP_PRIME_EXPORT] = { "PRIME_HANDLE_TO_FD", 2 },
	[OP_PRIME_IMPORT] = { "PRIME_FD_TO_HANDLE", 2 },
	[OP_MMAP_ANON] = { "mmap", 4 },
	[OP_MUNMAP] = { "munmap", 3 },
	[OP_MREMAP] = { "mremap", 2 },
	[OP_MADVISE] = { "madvise", 3 },
	[OP_MPROTECT] = { "mprotect", 2 },
	[OP_TOUCH] = { "touch", 4 },
	[OP_FORK] = { "fork", 1 },
	[OP_REOPEN] = { "reopen", 1 },
	[OP_CLOSE_DMABUF] = { "close-dmabuf", 1 },
	[OP_FOREIGN_HANDLE] = { "foreign-handle", 2 },
};

/* Per-call statistics, in shared memory (workers are processes). */
struct stats {
	uint64_t calls[OP_NR];
	uint64_t ok[OP_NR];
	uint64_t err[OP_NR][NERR];
	uint64_t violations;
};

/* ---- worker state --------------------------------------------------------- */

struct fbo {
	bool live;
	int gpu;
	uint32_t handle;
	uint64_t size;
};

enum reg_kind { REG_ANON, REG_HUGE, REG_SHARED, REG_BO, REG_RO };

struct region {
	bool live;
	enum reg_kind kind;
	uint8_t *va;
	uint64_t len;
	int prot;
};

struct worker {
	unsigned int id;
	uint64_t seed;
	uint64_t rng;
	int fd[MAX_GPU];
	int empty_fd;		/* a DRM file that never creates an object */
	int ngpu;
	struct fbo bo[MAX_BO];
	struct region reg[MAX_REG];
	int dmabuf[MAX_DMABUF];
	int memfd;
	int rofd;
	uint8_t *scratch;	/* destination of object reads */
	char log[LOG_N][LOG_LEN];
	uint64_t nlog;
	bool child;
};

static struct stats *st;
static unsigned int nworkers = 2;
static uint64_t base_seed = 1;
static uint64_t max_calls = 10000;
static unsigned int max_secs;
static bool verbose;
static char ro_path[64];

/*
 * User memory the fuzzer reads or writes itself may be gone under it: a
 * CPU mapping of an object of an unbound GPU SIGBUSes, a region another
 * call made PROT_NONE SIGSEGVs. Such accesses run guarded.
 */
static sigjmp_buf guard_jmp;
static volatile sig_atomic_t guard_on;

static void guard_handler(int sig)
{
	if (guard_on)
		siglongjmp(guard_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* memcpy() that returns false instead of dying of SIGBUS/SIGSEGV. */
static __attribute__((noinline)) bool guarded_copy(void *dst, const void *src,
						   size_t n)
{
	if (sigsetjmp(guard_jmp, 1)) {
		guard_on = 0;
		return false;
	}
	guard_on = 1;
	memcpy(dst, src, n);
	guard_on = 0;
	return true;
}

static const char *secret(unsigned int id)
{
	static char s[MAX_WORKERS][SECRET_LEN + 1];

	snprintf(s[id], sizeof(s[id]), "P2PFZSECRET%02u%03u", id % 100,
		 (unsigned int)(base_seed % 1000));
	return s[id];
}

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(struct worker *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

static bool chance(struct worker *w, unsigned int pct)
{
	return below(w, 100) < pct;
}

static void wlog(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->log[w->nlog % LOG_N], LOG_LEN, fmt, ap);
	va_end(ap);
	w->nlog++;
}

static void dump_log(struct worker *w)
{
	uint64_t i = w->nlog > LOG_N ? w->nlog - LOG_N : 0;

	fprintf(stderr, "# worker %u%s, seed %" PRIu64 " (run with --seed %" PRIu64
		" --workers %u): last %" PRIu64 " of %" PRIu64 " calls\n",
		w->id, w->child ? " (forked child)" : "", w->seed, base_seed,
		nworkers, w->nlog - i, w->nlog);
	for (; i < w->nlog; i++)
		fprintf(stderr, "#   %s\n", w->log[i % LOG_N]);
}

static void violation(struct worker *w, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	__atomic_add_fetch(&st->violations, 1, __ATOMIC_SEQ_CST);
	fprintf(stderr, "# VIOLATION: %s\n", msg);
	dump_log(w);
}

/* Count the result of call @op; returns @ret. */
static int account(struct worker *w, enum op op, int ret, const char *fmt, ...)
{
	char args[LOG_LEN - 40];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	__atomic_add_fetch(&st->calls[op], 1, __ATOMIC_RELAXED);
	if (ret >= 0)
		__atomic_add_fetch(&st->ok[op], 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&st->err[op][-ret < NERR ? -ret : 0], 1,
				   __ATOMIC_RELAXED);
	wlog(w, "%s(%s) = %d%s%s", ops[op].name, args, ret < 0 ? -1 : ret,
	     ret < 0 ? " " : "", ret < 0 ? strerror(-ret) : "");
	return ret;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* ---- drawing arguments ---------------------------------------------------- */

static uint64_t edge_u64(struct worker *w)
{
	static const uint64_t v[] = {
		0, 1, PG - 1, PG, PG + 1, 2 * PG, 63, 64 << 20, (64 << 20) + 1,
		1ULL << 31, 1ULL << 32, 1ULL << 47, 0x7ffffffff000ULL,
		~0ULL, ~0ULL - PG + 1, 1ULL << 63,
	};

	return v[below(w, sizeof(v) / sizeof(v[0]))];
}

static int pick_gpu(struct worker *w)
{
	return (int)below(w, w->ngpu);
}

static struct fbo *pick_bo(struct worker *w, int gpu)
{
	unsigned int i, start = below(w, MAX_BO);

	for (i = 0; i < MAX_BO; i++) {
		struct fbo *b = &w->bo[(start + i) % MAX_BO];

		if (b->live && (gpu < 0 || b->gpu == gpu))
			return b;
	}
	return NULL;
}

static uint32_t draw_handle(struct worker *w, int gpu, uint64_t *size)
{
	struct fbo *b = chance(w, 85) ? pick_bo(w, gpu) : NULL;

	*size = b ? b->size : 64 * PG;
	if (b)
		return b->handle;
	return chance(w, 50) ? (uint32_t)edge_u64(w) : (uint32_t)below(w, 64);
}

static struct region *pick_reg(struct worker *w)
{
	unsigned int i, start = below(w, MAX_REG);

	for (i = 0; i < MAX_REG; i++) {
		struct region *r = &w->reg[(start + i) % MAX_REG];

		if (r->live)
			return r;
	}
	return NULL;
}

/* A user range: mostly inside a live region, else edge values. */
static void draw_range(struct worker *w, uint64_t *va, uint64_t *len,
		       struct region **rp)
{
	struct region *r = chance(w, 90) ? pick_reg(w) : NULL;
	uint64_t off;

	*rp = r;
	if (!r) {
		*va = chance(w, 50) ? edge_u64(w) : rnd(w) & 0x7fffffffffffULL;
		*len = chance(w, 50) ? edge_u64(w) : 1 + below(w, 16 * PG);
		return;
	}
	off = below(w, r->len);
	if (chance(w, 40))
		off &= ~(PG - 1);
	*va = (uintptr_t)r->va + off;
	*len = 1 + below(w, r->len - off);
	if (chance(w, 10))
		*len += below(w, 4 * PG);	/* runs past the region */
}

static struct region *new_reg(struct worker *w)
{
	unsigned int i;

	for (i = 0; i < MAX_REG; i++)
		if (!w->reg[i].live)
			return &w->reg[i];
	return NULL;
}

static void plant_secret(struct worker *w, uint8_t *p, uint64_t len)
{
	uint64_t o;

	for (o = 0; o + SECRET_LEN <= len; o += 1024)
		memcpy(p + o, secret(w->id), SECRET_LEN);
}

/* Another worker's secret in @p? */
static void check_foreign(struct worker *w, const uint8_t *p, uint64_t len,
			  const char *what)
{
	const uint8_t *q = p, *end = p + len;
	unsigned int id;

	while ((q = memmem(q, end - q, "P2PFZSECRET", 11))) {
		if (end - q >= SECRET_LEN &&
		    sscanf((const char *)q + 11, "%2u", &id) == 1 && id != w->id &&
		    id < nworkers && !memcmp(q, secret(id), SECRET_LEN)) {
			violation(w, "%s: worker %u read worker %u's memory", what,
				  w->id, id);
			return;
		}
		q++;
	}
}

/* ---- the calls ------------------------------------------------------------ */

static void do_bo_create(struct worker *w)
{
	struct drm_p2pgpu_bo_create c = {};
	int gpu = pick_gpu(w), ret;
	unsigned int i;

	c.size = chance(w, 85) ? (1 + below(w, 32)) * PG - below(w, 2) : edge_u64(w);
	c.flags = chance(w, 95) ? 0 : (uint32_t)rnd(w);
	ret = account(w, OP_BO_CREATE, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_CREATE, &c),
		      "gpu%d size %#llx flags %#x", gpu, (unsigned long long)c.size, c.flags);
	if (ret)
		return;
	for (i = 0; i < MAX_BO; i++) {
		if (!w->bo[i].live) {
			w->bo[i] = (struct fbo){ true, gpu, c.handle, c.size };
			return;
		}
	}
	/* table full: forget the oldest one by closing it */
	struct drm_gem_close g = { .handle = c.handle };

	ioctl(w->fd[gpu], DRM_IOCTL_GEM_CLOSE, &g);
}

static void do_bo_mmap(struct worker *w)
{
	struct drm_p2pgpu_bo_mmap_offset m = {};
	int gpu = pick_gpu(w), ret;
	struct region *r = new_reg(w);
	uint64_t size, len;
	void *p;

	m.handle = draw_handle(w, gpu, &size);
	m.pad = chance(w, 95) ? 0 : 1;
	ret = account(w, OP_BO_MMAP, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &m),
		      "gpu%d handle %u", gpu, m.handle);
	if (ret || !r)
		return;
	len = chance(w, 80) ? size : (1 + below(w, size / PG + 2)) * PG;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd[gpu],
		 m.offset + (chance(w, 90) ? 0 : PG * below(w, 4)));
	if (p == MAP_FAILED)
		return;
	*r = (struct region){ true, REG_BO, p, len, PROT_READ | PROT_WRITE };
}

static void do_bo_info(struct worker *w)
{
	struct drm_p2pgpu_bo_info bi = {};
	int gpu = pick_gpu(w);
	uint64_t size;

	bi.handle = draw_handle(w, gpu, &size);
	bi.pad = chance(w, 95) ? 0 : 7;
	account(w, OP_BO_INFO, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_INFO, &bi),
		"gpu%d handle %u", gpu, bi.handle);
}

static void do_device_info(struct worker *w)
{
	struct drm_p2pgpu_device_info di = {};
	int gpu = pick_gpu(w);

	account(w, OP_DEVICE_INFO, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_DEVICE_INFO, &di),
		"gpu%d", gpu);
}

static void do_copy(struct worker *w)
{
	struct drm_p2pgpu_copy c = {};
	int gpu = pick_gpu(w), ret;
	struct region *r;
	uint64_t size, va, len;
	uint8_t before[64], after[64];
	size_t nb = 0;
	bool ro_dst;

	c.handle = draw_handle(w, gpu, &size);
	draw_range(w, &va, &len, &r);
	if (len > 256 * PG && chance(w, 90))
		len = 1 + below(w, 256 * PG);
	c.user_ptr = va;
	c.length = len;
	c.bo_offset = chance(w, 85) ? below(w, size + 1) : edge_u64(w);
	if (chance(w, 85) && c.bo_offset + len > size && len <= size)
		c.bo_offset = size - len;
	c.flags = chance(w, 95) ? (chance(w, 50) ? P2PGPU_COPY_TO_BO : P2PGPU_COPY_FROM_BO) :
		  (uint32_t)below(w, 8);
	c.policy = chance(w, 95) ? below(w, 3) : (uint32_t)rnd(w);
	c.pad = chance(w, 97) ? 0 : 1;
	ro_dst = r && r->kind == REG_RO && c.flags == P2PGPU_COPY_FROM_BO;
	if (ro_dst) {
		nb = (uintptr_t)r->va + r->len - va;
		nb = nb < 64 ? nb : 64;
		nb = nb < len ? nb : len;
		if (!(r->prot & PROT_READ) ||
		    !guarded_copy(before, (void *)(uintptr_t)va, nb))
			nb = 0;
	}
	ret = account(w, OP_COPY, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_COPY, &c),
		      "gpu%d handle %u va %#llx len %#llx off %#llx flags %u pol %u",
		      gpu, c.handle, (unsigned long long)va, (unsigned long long)len,
		      (unsigned long long)c.bo_offset, c.flags, c.policy);
	if (ro_dst && !ret)
		violation(w, "COPY FROM_BO into a read-only file mapping succeeded");
	if (nb && guarded_copy(after, (void *)(uintptr_t)va, nb) &&
	    memcmp(before, after, nb))
		violation(w, "COPY changed a read-only file mapping");
	/* read through the scratch buffer: the range may vanish (SIGBUS) */
	if (!ret && c.flags == P2PGPU_COPY_FROM_BO && r && r->kind != REG_RO &&
	    len <= 256 * PG && guarded_copy(w->scratch, (void *)(uintptr_t)va, len))
		check_foreign(w, w->scratch, len, "COPY FROM_BO");
}

static void do_svm_info(struct worker *w)
{
	struct drm_p2pgpu_svm_info si = {};
	int gpu = pick_gpu(w);

	si.flags = chance(w, 95) ? 0 : 1;
	account(w, OP_SVM_INFO, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_SVM_INFO, &si),
		"gpu%d", gpu);
}

static void draw_aligned(struct worker *w, uint64_t *va, uint64_t *len)
{
	struct region *r;

	draw_range(w, va, len, &r);
	if (chance(w, 85)) {
		*va &= ~(PG - 1);
		*len = (*len + PG - 1) & ~(PG - 1);
	}
}

static void do_svm_migrate(struct worker *w)
{
	struct drm_p2pgpu_svm_migrate m = {};
	int gpu = pick_gpu(w);
	uint64_t va, len;

	draw_aligned(w, &va, &len);
	m.addr = va;
	m.length = len;
	m.op = chance(w, 95) ? 1 + below(w, 4) : (uint32_t)rnd(w);
	m.flags = chance(w, 95) ? 0 : 1;
	account(w, OP_SVM_MIGRATE, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m),
		"gpu%d va %#llx len %#llx op %u", gpu, (unsigned long long)va,
		(unsigned long long)len, m.op);
}

static void do_svm_access(struct worker *w)
{
	struct drm_p2pgpu_svm_access a = {};
	int gpu = pick_gpu(w), ret;
	uint64_t va, len;
	struct region *r;

	draw_range(w, &va, &len, &r);
	if (len > 64 * PG)
		len = 1 + below(w, 64 * PG);
	if (chance(w, 85)) {
		va &= ~(PG - 1);
		len = (len + PG - 1) & ~(PG - 1);
	}
	a.addr = va;
	a.length = len;
	a.buf = chance(w, 95) ? (uintptr_t)w->scratch : edge_u64(w);
	a.op = chance(w, 95) ? 1 + below(w, 2) : (uint32_t)rnd(w);
	a.flags = chance(w, 95) ? 0 : 1;
	if (a.op == P2PGPU_SVM_WRITE && a.buf == (uintptr_t)w->scratch)
		memset(w->scratch, 0x5c, len);
	ret = account(w, OP_SVM_ACCESS, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_SVM_ACCESS, &a),
		      "gpu%d va %#llx len %#llx op %u", gpu, (unsigned long long)va,
		      (unsigned long long)len, a.op);
	if (!ret && a.op == P2PGPU_SVM_WRITE && r && r->kind == REG_RO)
		violation(w, "SVM_ACCESS WRITE into a read-only file mapping succeeded");
	if (!ret && a.op == P2PGPU_SVM_READ && a.buf == (uintptr_t)w->scratch)
		check_foreign(w, w->scratch, len, "SVM_ACCESS READ");
}

static void do_svm_snapshot(struct worker *w)
{
	struct drm_p2pgpu_svm_snapshot s = {};
	int gpu = pick_gpu(w);
	uint64_t va, len;

	draw_aligned(w, &va, &len);
	s.addr = va;
	s.npages = chance(w, 90) ? (len + PG - 1) / PG : edge_u64(w);
	if (s.npages > 64 * PG && chance(w, 90))
		s.npages = 64;
	s.states = chance(w, 95) ? (uintptr_t)w->scratch : edge_u64(w);
	s.flags = chance(w, 95) ? 0 : 1;
	account(w, OP_SVM_SNAPSHOT, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_SVM_SNAPSHOT, &s),
		"gpu%d va %#llx npages %llu", gpu, (unsigned long long)va,
		(unsigned long long)s.npages);
}

static void do_bo_cpu_info(struct worker *w)
{
	struct drm_p2pgpu_bo_cpu_info ci = {};
	int gpu = pick_gpu(w);
	uint64_t size;

	ci.handle = draw_handle(w, gpu, &size);
	ci.flags = chance(w, 95) ? 0 : 1;
	account(w, OP_BO_CPU_INFO, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_CPU_INFO, &ci),
		"gpu%d handle %u", gpu, ci.handle);
}

static void do_bo_publish(struct worker *w, bool publish)
{
	int gpu = pick_gpu(w);
	uint64_t size;

	if (publish) {
		struct drm_p2pgpu_bo_publish p = {};

		p.handle = draw_handle(w, gpu, &size);
		p.flags = chance(w, 95) ? 0 : 2;
		account(w, OP_BO_PUBLISH, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_PUBLISH, &p),
			"gpu%d handle %u", gpu, p.handle);
	} else {
		struct drm_p2pgpu_bo_unpublish u = {};

		u.handle = draw_handle(w, gpu, &size);
		u.flags = chance(w, 95) ? 0 : 2;
		account(w, OP_BO_UNPUBLISH, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_UNPUBLISH, &u),
			"gpu%d handle %u", gpu, u.handle);
	}
}

static void do_bo_dmabuf_info(struct worker *w)
{
	struct drm_p2pgpu_bo_dmabuf_info d = {};
	int gpu = pick_gpu(w);
	uint64_t size;

	d.handle = draw_handle(w, gpu, &size);
	d.flags = chance(w, 95) ? 0 : 4;
	account(w, OP_BO_DMABUF_INFO, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_DMABUF_INFO, &d),
		"gpu%d handle %u", gpu, d.handle);
}

static void remember_handle(struct worker *w, int gpu, uint32_t handle, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < MAX_BO; i++)
		if (w->bo[i].live && w->bo[i].gpu == gpu && w->bo[i].handle == handle)
			return;
	for (i = 0; i < MAX_BO; i++) {
		if (!w->bo[i].live) {
			w->bo[i] = (struct fbo){ true, gpu, handle, size };
			return;
		}
	}
}

static void do_bo_from_va(struct worker *w)
{
	struct drm_p2pgpu_bo_from_va f = {};
	int gpu = pick_gpu(w), ret;
	struct region *r;
	uint64_t va, len;

	draw_range(w, &va, &len, &r);
	f.va = va;
	f.flags = chance(w, 95) ? 0 : 1;
	ret = account(w, OP_BO_FROM_VA, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_BO_FROM_VA, &f),
		      "gpu%d va %#llx", gpu, (unsigned long long)va);
	if (!ret)
		remember_handle(w, gpu, f.handle, f.size);
}

static void keep_dmabuf(struct worker *w, int fd)
{
	unsigned int i = below(w, MAX_DMABUF);

	if (w->dmabuf[i] >= 0)
		close(w->dmabuf[i]);
	w->dmabuf[i] = fd;
}

static void do_export_range(struct worker *w)
{
	struct drm_p2pgpu_export_range e = {};
	int gpu = pick_gpu(w), ret;
	uint64_t va, len;
	struct region *r;

	draw_range(w, &va, &len, &r);
	if (chance(w, 85)) {
		va &= ~(PG - 1);
		len = (len + PG - 1) & ~(PG - 1);
	}
	e.va = va;
	e.length = len;
	e.flags = chance(w, 95) ? (uint32_t)below(w, 2) : (uint32_t)rnd(w);
	ret = account(w, OP_EXPORT_RANGE, xioctl(w->fd[gpu], DRM_IOCTL_P2PGPU_EXPORT_RANGE, &e),
		      "gpu%d va %#llx len %#llx flags %#x", gpu, (unsigned long long)va,
		      (unsigned long long)len, e.flags);
	if (ret)
		return;
	keep_dmabuf(w, e.fd);
}

static void do_gem_close(struct worker *w)
{
	struct drm_gem_close g = {};
	int gpu = pick_gpu(w), ret;
	struct fbo *b = chance(w, 90) ? pick_bo(w, gpu) : NULL;

	g.handle = b ? b->handle : (uint32_t)edge_u64(w);
	g.pad = chance(w, 97) ? 0 : 1;
	ret = account(w, OP_GEM_CLOSE, xioctl(w->fd[gpu], DRM_IOCTL_GEM_CLOSE, &g),
		      "gpu%d handle %u", gpu, g.handle);
	if (!ret && b)
		b->live = false;
}

static void do_prime_export(struct worker *w)
{
	struct drm_prime_handle p = {};
	int gpu = pick_gpu(w), ret;
	uint64_t size;

	p.handle = draw_handle(w, gpu, &size);
	p.flags = chance(w, 90) ? DRM_CLOEXEC | (chance(w, 50) ? DRM_RDWR : 0) : (uint32_t)rnd(w);
	p.fd = -1;
	ret = account(w, OP_PRIME_EXPORT, xioctl(w->fd[gpu], DRM_IOCTL_PRIME_HANDLE_TO_FD, &p),
		      "gpu%d handle %u flags %#x", gpu, p.handle, p.flags);
	if (!ret)
		keep_dmabuf(w, p.fd);
}

static void do_prime_import(struct worker *w)
{
	struct drm_prime_handle p = {};
	int gpu = pick_gpu(w), ret, i = below(w, MAX_DMABUF);

	p.fd = chance(w, 90) ? w->dmabuf[i] : (int)edge_u64(w);
	ret = account(w, OP_PRIME_IMPORT, xioctl(w->fd[gpu], DRM_IOCTL_PRIME_FD_TO_HANDLE, &p),
		      "gpu%d fd %d", gpu, p.fd);
	if (!ret) {
		off_t sz = lseek(p.fd, 0, SEEK_END);

		remember_handle(w, gpu, p.handle, sz > 0 ? (uint64_t)sz : PG);
	}
}

static void do_mmap_anon(struct worker *w)
{
	struct region *r = new_reg(w);
	uint64_t len = (1 + below(w, 64)) * PG;
	unsigned int kind = below(w, 4);
	uint8_t *p;
	int ret = 0;

	if (!r)
		return;
	if (kind == 1)
		len = 2 * 2 * 1024 * 1024;	/* room for an aligned THP */
	if (kind == 2) {
		/* the memfd's first page, twice in a row, and its others */
		len = 4 * PG;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->memfd, 0);
		if (p != MAP_FAILED && chance(w, 50) &&
		    mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 w->memfd, 0) == MAP_FAILED)
			ret = -errno;
	} else if (kind == 3) {
		len = RO_LEN;
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, w->rofd, 0);
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED)
		ret = -errno;
	account(w, OP_MMAP_ANON, ret, "kind %u len %#llx", kind, (unsigned long long)len);
	if (ret && p != MAP_FAILED)
		munmap(p, len);
	if (ret || p == MAP_FAILED)
		return;
	*r = (struct region){ true, kind == 1 ? REG_HUGE : kind == 2 ? REG_SHARED :
			      kind == 3 ? REG_RO : REG_ANON, p, len,
			      kind == 3 ? PROT_READ : PROT_READ | PROT_WRITE };
	if (kind == 1)
		madvise(p, len, MADV_HUGEPAGE);
	if (kind != 3 && chance(w, 70)) {
		memset(p, (int)w->id + 1, len);
		plant_secret(w, p, len);
	}
}

static void do_munmap(struct worker *w)
{
	struct region *r = pick_reg(w);
	uint64_t off, len;
	int ret;

	if (!r)
		return;
	if (chance(w, 50) || r->len <= PG) {
		ret = munmap(r->va, r->len) ? -errno : 0;
		account(w, OP_MUNMAP, ret, "%p len %#llx", r->va, (unsigned long long)r->len);
		r->live = false;
		return;
	}
	/* partial: the tail, so the region stays one mapping */
	off = (1 + below(w, r->len / PG - 1)) * PG;
	len = r->len - off;
	ret = munmap(r->va + off, len) ? -errno : 0;
	account(w, OP_MUNMAP, ret, "%p len %#llx (tail)", r->va + off, (unsigned long long)len);
	if (!ret)
		r->len = off;
}

static void do_mremap(struct worker *w)
{
	struct region *r = pick_reg(w), *n;
	uint64_t nlen;
	void *p;
	int ret;

	if (!r)
		return;
	if (r->kind == REG_SHARED || r->kind == REG_BO) {
		/* old_size 0: a second mapping of the same pages */
		n = new_reg(w);
		if (!n)
			return;
		p = mremap(r->va, 0, r->len, MREMAP_MAYMOVE);
		ret = p == MAP_FAILED ? -errno : 0;
		account(w, OP_MREMAP, ret, "%p 0 -> %#llx (dup)", r->va,
			(unsigned long long)r->len);
		if (!ret)
			*n = (struct region){ true, r->kind, p, r->len, r->prot };
		return;
	}
	nlen = chance(w, 50) ? r->len + PG * below(w, 8) : (r->len > PG ? r->len - PG : PG);
	p = mremap(r->va, r->len, nlen, MREMAP_MAYMOVE);
	ret = p == MAP_FAILED ? -errno : 0;
	account(w, OP_MREMAP, ret, "%p %#llx -> %#llx", r->va, (unsigned long long)r->len,
		(unsigned long long)nlen);
	if (!ret) {
		r->va = p;
		r->len = nlen;
	}
}

static void do_madvise(struct worker *w)
{
	static const int adv[] = { MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
				   MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED };
	struct region *r = pick_reg(w);
	uint64_t off, len;
	int a;

	if (!r)
		return;
	off = below(w, r->len / PG) * PG;
	len = (1 + below(w, (r->len - off) / PG)) * PG;
	a = adv[below(w, sizeof(adv) / sizeof(adv[0]))];
	account(w, OP_MADVISE, madvise(r->va + off, len, a) ? -errno : 0,
		"%p len %#llx advice %d", r->va + off, (unsigned long long)len, a);
}

static void do_mprotect(struct worker *w)
{
	struct region *r = pick_reg(w);
	int prot, ret;

	if (!r)
		return;
	prot = chance(w, 50) ? PROT_READ : PROT_READ | PROT_WRITE;
	if (chance(w, 5))
		prot = PROT_NONE;
	ret = mprotect(r->va, r->len, prot) ? -errno : 0;
	account(w, OP_MPROTECT, ret, "%p len %#llx prot %d", r->va,
		(unsigned long long)r->len, prot);
	if (!ret)
		r->prot = prot;
}

static void do_touch(struct worker *w)
{
	struct region *r = pick_reg(w);
	uint64_t off;
	uint8_t b;
	bool ok;

	if (!r || !(r->prot & PROT_WRITE))
		return;
	off = below(w, r->len / PG) * PG;
	/* a BO mapping beyond the object's end SIGBUSes: only touch inside */
	if (r->kind == REG_BO)
		off = 0;
	b = (uint8_t)rnd(w);
	ok = guarded_copy(r->va + off, &b, 1);
	if (ok && r->kind != REG_BO && off + SECRET_LEN + 8 <= r->len)
		ok = guarded_copy(r->va + off + 8, secret(w->id), SECRET_LEN);
	account(w, OP_TOUCH, ok ? 0 : -EFAULT, "%p", r->va + off);
}

static void run_calls(struct worker *w, uint64_t n, uint64_t deadline_ms);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void do_fork(struct worker *w)
{
	uint64_t n = 1 + below(w, 40), seed = rnd(w);
	bool kill_it = chance(w, 60);
	int status;
	pid_t pid;

	if (w->child)
		return;
	pid = fork();
	if (pid == 0) {
		w->child = true;
		w->rng = seed | 1;
		alarm(30);
		run_calls(w, n, 0);
		_exit(0);
	}
	account(w, OP_FORK, pid < 0 ? -errno : 0, "child of %llu calls%s",
		(unsigned long long)n, kill_it ? ", killed" : "");
	if (pid < 0)
		return;
	if (kill_it) {
		usleep(below(w, 3000));
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		__atomic_add_fetch(&st->violations, 1, __ATOMIC_SEQ_CST);
}

static int open_nth_gpu(int want);

static void do_reopen(struct worker *w)
{
	int gpu = pick_gpu(w), fd, i;

	fd = open_nth_gpu(gpu);
	account(w, OP_REOPEN, fd < 0 ? -ENODEV : 0, "gpu%d", gpu);
	if (fd < 0)
		return;
	close(w->fd[gpu]);
	w->fd[gpu] = fd;
	for (i = 0; i < MAX_BO; i++)
		if (w->bo[i].gpu == gpu)
			w->bo[i].live = false;
}

static void do_close_dmabuf(struct worker *w)
{
	int i = below(w, MAX_DMABUF);

	account(w, OP_CLOSE_DMABUF, w->dmabuf[i] < 0 ? -EBADF : close(w->dmabuf[i]),
		"fd %d", w->dmabuf[i]);
	w->dmabuf[i] = -1;
}

/*
 * A live handle of ours, used on a DRM file that never created or imported
 * anything: every call must fail with ENOENT.
 */
static void do_foreign_handle(struct worker *w)
{
	struct fbo *b = pick_bo(w, -1);
	struct drm_p2pgpu_bo_info bi = {};
	struct drm_p2pgpu_copy c = {};
	struct drm_p2pgpu_bo_mmap_offset m = {};
	int r1, r2, r3;

	if (!b || w->empty_fd < 0)
		return;
	bi.handle = b->handle;
	m.handle = b->handle;
	c.handle = b->handle;
	c.user_ptr = (uintptr_t)w->scratch;
	c.length = PG;
	c.flags = P2PGPU_COPY_FROM_BO;
	r1 = xioctl(w->empty_fd, DRM_IOCTL_P2PGPU_BO_INFO, &bi);
	r2 = xioctl(w->empty_fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &m);
	r3 = xioctl(w->empty_fd, DRM_IOCTL_P2PGPU_COPY, &c);
	account(w, OP_FOREIGN_HANDLE, r1 ? r1 : r2 ? r2 : r3, "handle %u", b->handle);
	/* ENODEV: the GPU of that file was unbound (--chaos) */
	if ((r1 != -ENOENT && r1 != -ENODEV) || (r2 != -ENOENT && r2 != -ENODEV) ||
	    (r3 != -ENOENT && r3 != -ENODEV))
		violation(w, "handle %u of another DRM file: BO_INFO %d, MMAP_OFFSET %d, COPY %d (want -ENOENT)",
			  b->handle, r1, r2, r3);
}

static void one_call(struct worker *w)
{
	static unsigned int total;
	unsigned int i, x;

	if (!total)
		for (i = 0; i < OP_NR; i++)
			total += ops[i].weight;
	x = below(w, total);
	for (i = 0; i < OP_NR && x >= ops[i].weight; i++)
		x -= ops[i].weight;
	switch (i) {
	case OP_BO_CREATE: do_bo_create(w); break;
	case OP_BO_MMAP: do_bo_mmap(w); break;
	case OP_BO_INFO: do_bo_info(w); break;
	case OP_DEVICE_INFO: do_device_info(w); break;
	case OP_COPY: do_copy(w); break;
	case OP_SVM_INFO: do_svm_info(w); break;
	case OP_SVM_MIGRATE: do_svm_migrate(w); break;
	case OP_SVM_ACCESS: do_svm_access(w); break;
	case OP_SVM_SNAPSHOT: do_svm_snapshot(w); break;
	case OP_BO_CPU_INFO: do_bo_cpu_info(w); break;
	case OP_BO_PUBLISH: do_bo_publish(w, true); break;
	case OP_BO_UNPUBLISH: do_bo_publish(w, false); break;
	case OP_BO_DMABUF_INFO: do_bo_dmabuf_info(w); break;
	case OP_BO_FROM_VA: do_bo_from_va(w); break;
	case OP_EXPORT_RANGE: do_export_range(w); break;
	case OP_GEM_CLOSE: do_gem_close(w); break;
	case OP_PRIME_EXPORT: do_prime_export(w); break;
	case OP_PRIME_IMPORT: do_prime_import(w); break;
	case OP_MMAP_ANON: do_mmap_anon(w); break;
	case OP_MUNMAP: do_munmap(w); break;
	case OP_MREMAP: do_mremap(w); break;
	case OP_MADVISE: do_madvise(w); break;
	case OP_MPROTECT: do_mprotect(w); break;
	case OP_TOUCH: do_touch(w); break;
	case OP_FORK: do_fork(w); break;
	case OP_REOPEN: do_reopen(w); break;
	case OP_CLOSE_DMABUF: do_close_dmabuf(w); break;
	default: do_foreign_handle(w); break;
	}
}

static void run_calls(struct worker *w, uint64_t n, uint64_t deadline_ms)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (deadline_ms && !(i & 63) && now_ms() > deadline_ms)
			break;
		one_call(w);
		if (verbose && !w->child)
			fprintf(stderr, "w%u %s\n", w->id, w->log[(w->nlog - 1) % LOG_N]);
	}
}

/* ---- devices --------------------------------------------------------------- */

/* The @want-th p2pgpu render node, opened (open_gpu() of p2pgpu_selftest.h). */
static int open_nth_gpu(int want)
{
	char pci[32] = "";

	return open_gpu(want, pci, sizeof(pci));
}

/* ---- leak baseline ----------------------------------------------------------- */

struct baseline {
	long imports;
	uint64_t vram_used[MAX_GPU];
	uint64_t window_pinned[MAX_GPU];
	uint64_t device_pinned[MAX_GPU];
	int ngpu;
};

static long count_lines(const char *path)
{
	char line[512];
	long n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void take_baseline(struct baseline *b)
{
	int g;

	memset(b, 0, sizeof(*b));
	b->imports = count_lines("/sys/kernel/debug/p2pmap/imports");
	for (g = 0; g < MAX_GPU; g++) {
		struct drm_p2pgpu_device_info di = {};
		int fd = open_nth_gpu(g);

		if (fd < 0)
			break;
		if (!xioctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &di)) {
			b->vram_used[g] = di.vram_used;
			b->window_pinned[g] = di.window_pinned;
			b->device_pinned[g] = di.device_pinned;
		}
		close(fd);
		b->ngpu = g + 1;
	}
}

/* Compare with @b0, letting deferred frees finish for up to ~10 s. */
static int leak_check(const struct baseline *b0)
{
	struct baseline b;
	int tries, g, bad = 0;

	for (tries = 0; tries < 20; tries++) {
		take_baseline(&b);
		bad = b.imports != b0->imports || b.ngpu != b0->ngpu;
		for (g = 0; g < b.ngpu && g < b0->ngpu; g++)
			bad |= b.vram_used[g] != b0->vram_used[g] ||
			       b.window_pinned[g] != b0->window_pinned[g] ||
			       b.device_pinned[g] != b0->device_pinned[g];
		if (!bad)
			break;
		usleep(500000);
	}
	printf("# leak check: imports %ld -> %ld", b0->imports, b.imports);
	for (g = 0; g < b.ngpu; g++)
		printf(", gpu%d vram_used %" PRIu64 " -> %" PRIu64 " window_pinned %"
		       PRIu64 " -> %" PRIu64 " device_pinned %" PRIu64 " -> %" PRIu64,
		       g, b0->vram_used[g], b.vram_used[g], b0->window_pinned[g],
		       b.window_pinned[g], b0->device_pinned[g], b.device_pinned[g]);
	printf("\n");
	return bad;
}

/* ---- chaos: unbind/rebind and parameter writes ------------------------------ */

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Workers are paused around each unbind: every process of their process
 * groups (a worker and the children it forks) is stopped, and seen
 * stopped or gone in /proc, before the unbind and continued after it.
 *
 * Why: at unbind p2pgpu moves its device-private pages back to RAM with
 * migrate_device_range() (as lib/test_hmm.c and drm_pagemap do), which
 * holds no mmap_lock and no anon_vma reference between unmapping a page
 * (migration entries) and migrate_device_finalize(). A munmap() or exit
 * of the owning process in that window frees the anon_vma, and
 * remove_migration_ptes() then walks freed memory: KASAN
 * slab-use-after-free in rmap_walk_anon() on the 7.3 debug kernel. That
 * race is in the kernel's device migration, not in p2pmap; it is written
 * up in docs/kernel-compat.md. `--chaos-concurrent` keeps the old
 * behaviour, to reproduce it.
 */
static bool chaos_concurrent;

static bool pgrps_quiet(const pid_t *pgrp, int n)
{
	char path[300], buf[512], state;
	struct dirent *d;
	bool quiet = true;
	DIR *dir = opendir("/proc");
	int i, g;

	if (!dir)
		return true;
	while (quiet && (d = readdir(dir))) {
		FILE *f;
		char *p;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* "pid (comm) S ppid pgrp ..." */
		if (!p || sscanf(p + 1, " %c %*d %d", &state, &g) != 2)
			continue;
		for (i = 0; i < n; i++)
			if (g == pgrp[i] && !strchr("TtZX", state))
				quiet = false;
	}
	closedir(dir);
	return quiet;
}

static void pgrps_signal(const pid_t *pgrp, int n, int sig)
{
	int i;

	for (i = 0; i < n; i++)
		kill(-pgrp[i], sig);
}

static void chaos(uint64_t seed, uint64_t start_ms, uint64_t deadline_ms,
		  const pid_t *workers, int nworkers)
{
	static const char *const params[] = {
		"/sys/module/p2pgpu/parameters/window_mb",
		"/sys/module/p2pgpu/parameters/min_residency_ms",
		"/sys/module/p2pgpu/parameters/vram_mb",
		"/sys/module/p2pgpu/parameters/svm_min_residency_ms",
	};
	struct worker w = { .rng = seed | 1 };
	char pci[MAX_GPU][64] = { "", "" }, link[256], path[128];
	uint64_t unbinds = 0, rebinds = 0, pwrites = 0, refused = 0;
	int g, n = 0;

	for (g = 128; g < 192 && n < MAX_GPU; g++) {
		ssize_t l;

		snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device/driver", g);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		if (!strstr(link, P2PGPU_DRIVER_NAME))
			continue;
		snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device", g);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		snprintf(pci[n++], sizeof(pci[0]), "%s", strrchr(link, '/') + 1);
	}
	while (now_ms() < start_ms)
		usleep(100000);
	while (now_ms() < deadline_ms) {
		usleep(200000 + below(&w, 800000));
		if (chance(&w, 30)) {
			const char *p = params[below(&w, 4)];
			char v[24];

			snprintf(v, sizeof(v), "%llu", (unsigned long long)edge_u64(&w));
			pwrites++;
			if (sysfs_write(p, v))
				refused++;
			continue;
		}
		if (!n)
			continue;
		g = below(&w, n);
		if (!chaos_concurrent) {
			uint64_t t = now_ms() + 5000;

			pgrps_signal(workers, nworkers, SIGSTOP);
			while (!pgrps_quiet(workers, nworkers) && now_ms() < t)
				usleep(1000);
		}
		if (!sysfs_write("/sys/bus/pci/drivers/p2pgpu/unbind", pci[g]))
			unbinds++;
		if (!chaos_concurrent)
			pgrps_signal(workers, nworkers, SIGCONT);
		usleep(below(&w, 300000));
		if (!sysfs_write("/sys/bus/pci/drivers/p2pgpu/bind", pci[g]))
			rebinds++;
	}
	/* leave both bound */
	for (g = 0; g < n; g++)
		sysfs_write("/sys/bus/pci/drivers/p2pgpu/bind", pci[g]);
	printf("# chaos: %d GPUs, %" PRIu64 " unbinds (%s), %" PRIu64 " rebinds, %" PRIu64
	       " parameter writes (%" PRIu64 " refused)\n", n, unbinds,
	       chaos_concurrent ? "workers running" :
	       "workers paused: migrate_device_range() races munmap",
	       rebinds, pwrites, refused);
	fflush(stdout);
}

/* ---- the worker -------------------------------------------------------------- */

static int worker_main(unsigned int id, uint64_t deadline_ms)
{
	struct worker *w = calloc(1, sizeof(*w));
	unsigned int i;
	uint64_t left;

	if (!w)
		return 1;
	w->id = id;
	w->seed = base_seed * 1000003ULL + id;
	w->rng = w->seed * 0x9E3779B97F4A7C15ULL | 1;
	for (i = 0; i < MAX_DMABUF; i++)
		w->dmabuf[i] = -1;
	for (i = 0; i < MAX_GPU; i++) {
		w->fd[i] = open_nth_gpu(i);
		if (w->fd[i] < 0)
			break;
		w->ngpu++;
	}
	if (!w->ngpu) {
		fprintf(stderr, "# worker %u: no p2pgpu render node\n", id);
		return 1;
	}
	w->empty_fd = open_nth_gpu(0);
	w->memfd = memfd_create("p2pgpu_fuzz", MFD_CLOEXEC);
	w->rofd = open(ro_path, O_RDONLY | O_CLOEXEC);
	if (w->memfd < 0 || ftruncate(w->memfd, 4 * PG) || w->rofd < 0) {
		fprintf(stderr, "# worker %u: memfd/read-only file: %s\n", id, strerror(errno));
		return 1;
	}
	w->scratch = mmap(NULL, 256 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->scratch == MAP_FAILED)
		return 1;
	for (left = max_calls; left; left -= left > 1000 ? 1000 : left) {
		run_calls(w, left > 1000 ? 1000 : left, deadline_ms);
		if (deadline_ms && now_ms() > deadline_ms)
			break;
	}
	return 0;
}

/* ---- reporting ------------------------------------------------------------------ */

/* Distinct p2pgpu/p2pmap kernel-log reasons since @from (digits folded). */
static unsigned int kernel_reasons(unsigned long long from_us)
{
	static char seen[512][96];
	unsigned int n = 0, i;
	char rec[1024];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t l;

	if (fd < 0)
		return 0;
	while ((l = read(fd, rec, sizeof(rec) - 1)) > 0 || (l < 0 && errno == EPIPE)) {
		unsigned long long ts;
		char *msg, key[96], *k;

		if (l <= 0)
			continue;
		rec[l] = 0;
		msg = strchr(rec, ';');
		if (!msg || sscanf(rec, "%*u,%*u,%llu", &ts) != 1 || ts < from_us)
			continue;
		msg++;
		if (strncmp(msg, "p2pgpu", 6) && strncmp(msg, "p2pmap", 6))
			continue;
		/* numbers (decimal, 0x hex) become one '#' */
		for (k = key; *msg && *msg != '\n' && k < key + sizeof(key) - 1; msg++) {
			bool num = (*msg >= '0' && *msg <= '9') ||
				   (k > key && k[-1] == '#' &&
				    (*msg == 'x' || (*msg >= 'a' && *msg <= 'f')));

			if (!num)
				*k++ = *msg;
			else if (k == key || k[-1] != '#')
				*k++ = '#';
		}
		*k = 0;
		for (i = 0; i < n && strcmp(seen[i], key); i++)
			;
		if (i == n && n < 512)
			snprintf(seen[n++], sizeof(seen[0]), "%s", key);
	}
	close(fd);
	if (verbose)
		for (i = 0; i < n; i++)
			printf("#   reason: %s\n", seen[i]);
	return n;
}

static unsigned long long uptime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void report(double secs, unsigned int reasons)
{
	uint64_t total = 0, ok = 0;
	unsigned int i, e, reached = 0;

	for (i = 0; i < OP_NR; i++) {
		total += st->calls[i];
		ok += st->ok[i];
		reached += st->ok[i] > 0;
	}
	printf("# calls %" PRIu64 " (%" PRIu64 " succeeded) in %.1f s: %.0f calls/s\n",
	       total, ok, secs, secs > 0 ? total / secs : 0.0);
	printf("# calls that succeeded at least once: %u of %u; distinct kernel-log reasons: %u\n",
	       reached, OP_NR, reasons);
	for (i = 0; i < OP_NR; i++) {
		char hist[512] = "";
		size_t len = 0;

		for (e = 0; e < NERR; e++)
			if (st->err[i][e] && len < sizeof(hist) - 32)
				len += snprintf(hist + len, sizeof(hist) - len, " %s:%" PRIu64,
						e ? strerrorname_np(e) ? strerrorname_np(e) : "?" : "E?",
						st->err[i][e]);
		printf("#   %-22s calls %8" PRIu64 " ok %8" PRIu64 "%s%s\n", ops[i].name,
		       st->calls[i], st->ok[i], len ? " errno" : "", hist);
	}
	printf("# violations: %" PRIu64 "\n", st->violations);
}

static void usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"    p2pgpu_fuzz - structure-aware fuzzer of the p2pgpu uAPI\n\n"
"SYNOPSIS\n"
"    p2pgpu_fuzz [--seed N] [--calls N] [--time SEC] [--workers N]\n"
"                [--chaos | --chaos-concurrent]\n"
"                [--leak-check] [--verbose]\n\n"
"DESCRIPTION\n"
"    Runs N worker processes, each drawing --calls calls (p2pgpu ioctls with\n"
"    their structs filled from live state and edge values, mm operations,\n"
"    fork/kill, closes) from its own generator seeded from --seed. Checks\n"
"    that handles of other DRM files fail, read-only file mappings stay\n"
"    unchanged, no worker reads another's memory, and with --leak-check\n"
"    that imports and pinned/used device memory return to their baseline.\n"
"    Prints the calls per second, each call's errno histogram and the\n"
"    distinct kernel-log reasons reached, and TAP (1 test).\n\n"
"OPTIONS\n"
"    -s, --seed N       base seed (default 1)\n"
"    -n, --calls N      calls per worker (default 10000)\n"
"    -t, --time SEC     stop each worker after SEC seconds\n"
"    -w, --workers N    worker processes, 1-%d (default 2)\n"
"    -c, --chaos        also unbind/rebind the GPUs and write module parameters\n"
"                       (the second half of a --time run, else 60 s); the\n"
"                       workers are paused around each unbind\n"
"    -C, --chaos-concurrent\n"
"                       --chaos with the workers running through the unbinds:\n"
"                       reproduces the kernel's migrate_device_range() race\n"
"                       with munmap (KASAN use-after-free in rmap_walk_anon)\n"
"    -l, --leak-check   compare debugfs imports and device counters with the\n"
"                       values before the run\n"
"    -v, --verbose      print every call and every kernel-log reason\n"
"    -h, --help         this text\n"
"    -V, --version      the version\n\n"
"EXIT STATUS\n"
"    0 when every check passed, 1 otherwise.\n", MAX_WORKERS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "chaos", no_argument, NULL, 'c' },
		{ "chaos-concurrent", no_argument, NULL, 'C' },
		{ "leak-check", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	bool do_chaos = false, do_leak = false, fail = false;
	pid_t pids[MAX_WORKERS + 1];
	unsigned long long t0_us;
	struct baseline b0;
	uint64_t t0, deadline = 0;
	unsigned int i, n = 0, reasons;
	int c, fd, status;
	uint8_t pat[RO_LEN];

	while ((c = getopt_long(argc, argv, "s:n:t:w:cClvhV", lo, NULL)) != -1) {
		switch (c) {
		case 's': base_seed = strtoull(optarg, NULL, 0); break;
		case 'n': max_calls = strtoull(optarg, NULL, 0); break;
		case 't': max_secs = strtoul(optarg, NULL, 0); break;
		case 'w': nworkers = strtoul(optarg, NULL, 0); break;
		case 'c': do_chaos = true; break;
		case 'C': do_chaos = chaos_concurrent = true; break;
		case 'l': do_leak = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("p2pgpu_fuzz %s\n", FUZZ_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!nworkers || nworkers > MAX_WORKERS || optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGBUS, guard_handler);
	signal(SIGSEGV, guard_handler);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return 1;
	/* The read-only file every worker maps: its bytes must never change. */
	snprintf(ro_path, sizeof(ro_path), "/tmp/p2pgpu_fuzz_ro.%d", getpid());
	for (i = 0; i < RO_LEN; i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	fd = open(ro_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (fd < 0 || write(fd, pat, RO_LEN) != RO_LEN) {
		perror(ro_path);
		return 1;
	}
	close(fd);
	if (do_leak)
		take_baseline(&b0);
	printf("TAP version 13\n1..1\n");
	printf("# p2pgpu_fuzz %s: seed %" PRIu64 ", %u workers x %" PRIu64 " calls%s%s\n",
	       FUZZ_VERSION, base_seed, nworkers, max_calls,
	       max_secs ? " (time-bounded)" : "", do_chaos ? ", chaos" : "");
	fflush(stdout);
	t0 = now_ms();
	t0_us = uptime_us();
	if (max_secs)
		deadline = t0 + max_secs * 1000ULL;
	for (i = 0; i < nworkers; i++) {
		pids[n] = fork();
		if (pids[n] == 0) {
			/* its own group, with its children: chaos pauses it */
			setpgid(0, 0);
			_exit(worker_main(i, deadline));
		}
		if (pids[n] > 0)
			setpgid(pids[n], pids[n]);
		if (pids[n] > 0)
			n++;
	}
	if (do_chaos) {
		pids[n] = fork();
		if (pids[n] == 0) {
			/* the second half of a timed run, else 60 s from the start */
			chaos(base_seed ^ 0xc4a05, deadline ? t0 + (deadline - t0) / 2 : t0,
			      deadline ? deadline : t0 + 60000, pids, n);
			_exit(0);
		}
		if (pids[n] > 0)
			n++;
	}
	for (i = 0; i < n; i++) {
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			printf("# process %d ended with status %#x\n", pids[i], status);
			fail = true;
		}
	}
	reasons = kernel_reasons(t0_us);
	report((now_ms() - t0) / 1000.0, reasons);
	/* read-only file unchanged, through the page cache */
	fd = open(ro_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		uint8_t now[RO_LEN];

		if (pread(fd, now, RO_LEN, 0) != RO_LEN || memcmp(now, pat, RO_LEN)) {
			printf("# VIOLATION: the read-only file changed\n");
			fail = true;
		}
		close(fd);
	}
	unlink(ro_path);
	if (st->violations)
		fail = true;
	if (do_leak && leak_check(&b0)) {
		printf("# VIOLATION: imports or device memory not back to the baseline\n");
		fail = true;
	}
	printf("%s 1 p2pgpu_fuzz seed %" PRIu64 "\n", fail ? "not ok" : "ok", base_seed);
	return fail;
}
