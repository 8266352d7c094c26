// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap stress tests of the BAR path: the QEMU edu DMA engine (through
 * p2pmap_edu_importer.ko) moves data through imports of p2pgpu buffer
 * objects while the window is being fought over, while processes die, and
 * while the modules and the exporter device go away.
 *
 * The suite loads p2pgpu with window_mb=1 (256 window pages) and
 * min_residency_ms=0: peers and the CPU may evict any unpinned page at any
 * time, so the edu and CPU mappings of other objects evict each other
 * freely and every exporter event (EVICT, MOVE) reaches live imports.
 *
 * The edu runs one DMA command (at most 4095 bytes) per 100 ms of QEMU
 * virtual time, so transfers here are small (about a kilobyte: two
 * commands each way) and the race runs for a bounded time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
#define EV_CPU		P2PMAP_EDU_IMP_EV_CPU
#define EV_EVICT	P2PMAP_EDU_IMP_EV_EVICT
#define EV_MOVE		P2PMAP_EDU_IMP_EV_MOVE
#define EV_UNBIND	P2PMAP_EDU_IMP_EV_UNBIND
#define POL_PREFER	P2PMAP_EDU_IMP_PREFER_P2P
#define IMP_MODULE	"p2pmap_edu_importer"
#define XFER_LEN	1000UL	/* one edu command each side of the buffer */
#define REASON_BAR	P2PMAP_EDU_IMP_REASON_BAR_EXHAUSTED

/*
 * The race: at least this long, this many A rounds and two B sweeps (each
 * sweep evicts the whole window), at most RACE_MAX_MS. A and C pause
 * between rounds: every exporter event takes the lock of every import of
 * the provider, which a transfer holds for its whole DMA, so with the edu
 * busy all the time B would make almost no progress.
 */
#define RACE_MS		12000
#define RACE_MIN_ROUNDS	12
#define RACE_MIN_SWEEPS	3	/* the last one may be cut short */
#define RACE_MAX_MS	45000
#define RACE_PAUSE_US	150000
/* Unbind (revoke) must finish within this, with a transfer in flight. */
#define REVOKE_MAX_MS	20000ULL

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int round_trip(int efd, uint32_t id, size_t off, size_t len,
		      int *wret, int *rret)
{
	uint8_t pat[XFER_LEN], got[XFER_LEN];

	fill_pattern(pat, len);
	*rret = 0;
	*wret = imp_xfer(efd, P2PMAP_EDU_IMP_IOC_WRITE, id, off, len, pat);
	if (*wret)
		return 0;
	*rret = imp_xfer(efd, P2PMAP_EDU_IMP_IOC_READ, id, off, len, got);
	return !*rret && memcmp(pat, got, len) ? 1 : 0;
}

static void log_info(struct __test_metadata *_metadata, const char *what,
		     const struct p2pmap_edu_imp_info *in)
{
	TH_LOG("%s: map_calls %llu map_eagain %llu retry_true %llu xfers %llu inval cpu %llu evict %llu move %llu unbind %llu remap %llu; p2p %llu sysmem %llu",
	       what, in->map_calls, in->map_eagain, in->retry_true, in->xfers,
	       in->invalidations[EV_CPU], in->invalidations[EV_EVICT],
	       in->invalidations[EV_MOVE], in->invalidations[EV_UNBIND],
	       in->invalidations[P2PMAP_EDU_IMP_EV_REMAP],
	       in->p2p_pages, in->sysmem_pages);
}

FIXTURE(stress) {
	int gpu;
	int efd;
	bool p2p;
	char pci[32];
	struct drm_p2pgpu_device_info di;
};

FIXTURE_SETUP(stress)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();

	ASSERT_NE(P2PMAP_PAIR_INVALID, t)
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	self->p2p = t == P2PMAP_PAIR_P2P;
	self->pci[0] = 0;
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->efd = open("/dev/p2pmap_edu_imp", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->efd) TH_LOG("no /dev/p2pmap_edu_imp");
	ASSERT_EQ(0, dev_info(self->gpu, &self->di));
	/* The suite loads p2pgpu with a 1 MiB window, no minimum residency. */
	ASSERT_EQ(WINDOW_PAGES * PG, self->di.window_total);
	ASSERT_EQ(0ULL, self->di.min_residency_ms);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->efd >= 0)
		close(self->efd);
	if (self->gpu >= 0)
		close(self->gpu);
}

/* ---- eviction racing import and copy ------------------------------------ */

#define A_PAGES	4
#define D_PAGES	4

struct race {
	int efd;
	atomic_int stop;
	/* A: the copier */
	struct bo a;
	uint32_t a_id;
	uint8_t shadow[A_PAGES * PG];
	unsigned long a_rounds, a_ok, a_busy, a_mismatch, a_eagain, a_xfers;
	int a_bad;		/* first unexpected errno, 0 if none */
	/* B: the CPU evicting */
	struct bo big[2];
	unsigned long b_sweeps, b_touches;
	/* C: the importer churning */
	struct bo d;
	uint8_t dwant[D_PAGES * PG];
	unsigned long c_iters, c_reads, c_busy, c_mismatch, c_eagain;
	int c_bad;
};

static void race_err(int ret, unsigned long *busy, unsigned long *eagain,
		     int *bad)
{
	if (ret == -EBUSY)
		(*busy)++;
	else if (ret == -EAGAIN)
		(*eagain)++;
	else if (!*bad)
		*bad = ret;
}

/*
 * A: WRITE a fresh pattern into a rotating place of the imported BO, READ
 * it back, compare; the shadow tracks what the BO must hold.
 */
static void *race_copier(void *arg)
{
	struct race *r = arg;
	uint8_t pat[XFER_LEN], got[XFER_LEN];

	while (!atomic_load(&r->stop)) {
		size_t off = (r->a_rounds * 5 * PG / 3 + r->a_rounds * 97) %
			     (A_PAGES * PG - XFER_LEN);
		int ret;

		if (r->a_rounds++)
			usleep(RACE_PAUSE_US);
		fill_pattern(pat, XFER_LEN);
		ret = imp_xfer(r->efd, P2PMAP_EDU_IMP_IOC_WRITE, r->a_id, off,
			       XFER_LEN, pat);
		if (ret) {
			race_err(ret, &r->a_busy, &r->a_eagain, &r->a_bad);
			continue;
		}
		r->a_xfers++;
		memcpy(r->shadow + off, pat, XFER_LEN);
		ret = imp_xfer(r->efd, P2PMAP_EDU_IMP_IOC_READ, r->a_id, off,
			       XFER_LEN, got);
		if (ret) {
			race_err(ret, &r->a_busy, &r->a_eagain, &r->a_bad);
			continue;
		}
		r->a_xfers++;
		if (memcmp(got, pat, XFER_LEN))
			r->a_mismatch++;
		else
			r->a_ok++;
	}
	return NULL;
}

/*
 * B: fault two window-sized BOs in alternately through the CPU, so every
 * touch evicts the least recently used window page (A's and D's pages
 * among them); also read A's and D's pages through the CPU, which moves
 * them into the window (an exporter MOVE for imports holding them as
 * system memory, the only event on the root bus).
 */
static void *race_evictor(void *arg)
{
	struct race *r = arg;
	volatile uint8_t sink;
	size_t i;

	while (!atomic_load(&r->stop)) {
		struct bo *b = &r->big[r->b_sweeps & 1];

		for (i = 0; i < b->size && !atomic_load(&r->stop); i += PG) {
			b->cpu[i] = (uint8_t)(i >> 12);
			r->b_touches++;
		}
		for (i = 0; i < A_PAGES * PG; i += PG)
			sink = ((volatile uint8_t *)r->a.cpu)[i + 7];
		for (i = 0; i < D_PAGES * PG; i += PG)
			sink = ((volatile uint8_t *)r->d.cpu)[i + 11];
		(void)sink;
		r->b_sweeps++;
	}
	return NULL;
}

/*
 * C: create and destroy imports: one of D (read-only data) that is
 * mapped by a READ every fourth time and checked, and one of A's range
 * that is never mapped.
 */
static void *race_churner(void *arg)
{
	struct race *r = arg;
	uint8_t got[256];

	while (!atomic_load(&r->stop)) {
		uint32_t id = 0, id2 = 0;
		int ret;

		if (r->c_iters++)
			usleep(RACE_PAUSE_US);
		ret = imp_new(r->efd, r->d.cpu, r->d.size, POL_PREFER, &id);
		if (ret) {
			race_err(ret, &r->c_busy, &r->c_eagain, &r->c_bad);
			continue;
		}
		ret = imp_new(r->efd, r->a.cpu, r->a.size, POL_PREFER, &id2);
		if (ret)
			race_err(ret, &r->c_busy, &r->c_eagain, &r->c_bad);
		if (!(r->c_iters & 3)) {
			size_t off = (r->c_iters / 4 % D_PAGES) * PG +
				     (r->c_iters * 131) % (PG - sizeof(got));

			ret = imp_xfer(r->efd, P2PMAP_EDU_IMP_IOC_READ, id, off,
				       sizeof(got), got);
			if (ret)
				race_err(ret, &r->c_busy, &r->c_eagain, &r->c_bad);
			else if (memcmp(got, r->dwant + off, sizeof(got)))
				r->c_mismatch++;
			else
				r->c_reads++;
		}
		if (id2) {
			ret = imp_destroy(r->efd, id2);
			if (ret && !r->c_bad)
				r->c_bad = ret;
		}
		ret = imp_destroy(r->efd, id);
		if (ret && !r->c_bad)
			r->c_bad = ret;
	}
	return NULL;
}

/*
 * A copies through an import of BO A while B evicts through the CPU and C
 * churns imports. No byte may be lost or stale (each READ returns what
 * the WRITE before it put there; afterwards the CPU sees the shadow), the
 * only error a transfer may return is -EBUSY (the importer's bounded
 * retries), never -EAGAIN, and the import must have been invalidated by
 * exporter events and mapped again (the sequence retry path).
 */
TEST_F_TIMEOUT(stress, evict_import_copy_race, 180)
{
	struct drm_p2pgpu_device_info before, after;
	struct p2pmap_edu_imp_info in;
	pthread_t ta, tb, tc;
	struct race *r;
	uint64_t t0, el;
	long bad;
	int i;

	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	r->efd = self->efd;
	ASSERT_EQ(0, bo_new(self->gpu, A_PAGES * PG, &r->a));
	ASSERT_EQ(0, bo_new(self->gpu, D_PAGES * PG, &r->d));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, bo_new(self->gpu, WINDOW_PAGES * PG, &r->big[i]));
	fill_pattern(r->shadow, sizeof(r->shadow));
	memcpy(r->a.cpu, r->shadow, sizeof(r->shadow));
	fill_pattern(r->dwant, sizeof(r->dwant));
	memcpy(r->d.cpu, r->dwant, sizeof(r->dwant));
	ASSERT_EQ(0, imp_new(self->efd, r->a.cpu, r->a.size, POL_PREFER, &r->a_id));
	ASSERT_EQ(0, dev_info(self->gpu, &before));

	t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&ta, NULL, race_copier, r));
	ASSERT_EQ(0, pthread_create(&tb, NULL, race_evictor, r));
	ASSERT_EQ(0, pthread_create(&tc, NULL, race_churner, r));
	for (;;) {
		el = now_ms() - t0;
		if (el >= RACE_MAX_MS ||
		    (el >= RACE_MS && r->a_rounds >= RACE_MIN_ROUNDS &&
		     r->b_sweeps >= RACE_MIN_SWEEPS))
			break;
		usleep(100 * 1000);
	}
	atomic_store(&r->stop, 1);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
	el = now_ms() - t0;

	ASSERT_EQ(0, imp_info(self->efd, r->a_id, &in));
	ASSERT_EQ(0, dev_info(self->gpu, &after));
	TH_LOG("%llu ms: A rounds %lu ok %lu busy %lu mismatch %lu eagain %lu bad %d; B sweeps %lu touches %lu; C iters %lu reads %lu busy %lu mismatch %lu eagain %lu bad %d",
	       (unsigned long long)el, r->a_rounds, r->a_ok, r->a_busy,
	       r->a_mismatch, r->a_eagain, r->a_bad, r->b_sweeps, r->b_touches,
	       r->c_iters, r->c_reads, r->c_busy, r->c_mismatch, r->c_eagain,
	       r->c_bad);
	log_info(_metadata, "import A", &in);
	TH_LOG("device: evictions %llu -> %llu, placements %llu -> %llu, cpu_faults %llu -> %llu",
	       before.evictions, after.evictions, before.placements,
	       after.placements, before.cpu_faults, after.cpu_faults);

	/* Data: every read-back matched, and the CPU sees the last writes. */
	EXPECT_EQ(0UL, r->a_mismatch);
	EXPECT_EQ(0UL, r->c_mismatch);
	bad = first_mismatch(r->a.cpu, r->shadow, sizeof(r->shadow));
	EXPECT_EQ(-1, bad) TH_LOG("BO A differs from the shadow at byte %ld", bad);
	bad = first_mismatch(r->d.cpu, r->dwant, sizeof(r->dwant));
	EXPECT_EQ(-1, bad) TH_LOG("BO D differs at byte %ld", bad);
	/* Errors: only the bounded-retry -EBUSY; -EAGAIN never leaks. */
	EXPECT_EQ(0, r->a_bad);
	EXPECT_EQ(0, r->c_bad);
	EXPECT_EQ(0UL, r->a_eagain);
	EXPECT_EQ(0UL, r->c_eagain);
	/*
	 * Progress: A moved data, C mapped and read. B evicts A's own pages
	 * all the time (minimum residency 0), so a round may legitimately
	 * give up with -EBUSY after the importer's bounded retries; how many
	 * do depends on scheduling, so only progress is asserted.
	 */
	EXPECT_LE((unsigned long)RACE_MIN_ROUNDS, r->a_rounds);
	EXPECT_LE(1UL, r->a_ok);
	EXPECT_LE(1UL, r->c_reads);
	EXPECT_LE((unsigned long)RACE_MIN_SWEEPS, r->b_sweeps);
	/*
	 * The retry path: B's evictions (and, on the root bus, its moves of
	 * A's pages into the window) invalidated A's mapping between
	 * transfers, so the next transfer's retry check failed and it
	 * mapped again: more than one map, as many exporter events.
	 */
	if (self->p2p) {
		EXPECT_LE(1ULL, in.invalidations[EV_EVICT]);
	} else {
		EXPECT_LE(1ULL, in.invalidations[EV_MOVE]);
	}
	EXPECT_LE(2ULL, in.map_calls);
	/*
	 * Maps lost to the sequence (an exporter event on A's pages while A
	 * resolves them) happen here only when B's timing hits that window;
	 * they are logged above. Events the map raises itself never fail
	 * it (asserted by oversized_import_settles).
	 */
	EXPECT_EQ((unsigned long long)r->a_xfers, in.xfers);
	/* The device evicted, far more than A's pages: a full sweep or so. */
	EXPECT_LT(before.evictions + WINDOW_PAGES / 2, after.evictions);

	ASSERT_EQ(0, imp_destroy(self->efd, r->a_id));
	for (i = 0; i < 2; i++)
		bo_free(self->gpu, &r->big[i]);
	bo_free(self->gpu, &r->d);
	bo_free(self->gpu, &r->a);
	free(r);
}

/*
 * With no minimum residency an import larger than the window must not
 * evict its own pages while it resolves (it would invalidate itself on
 * every round and never settle): the exporter keeps the span the import
 * resolves and falls back for the rest. Through the switch it settles in
 * one map with window-size P2P pages and the rest BAR_EXHAUSTED; on the
 * root bus everything is system memory.
 *
 * Events the exporter raises from p2p_map() for pages of the request it is
 * resolving (placing a fresh object's device-only pages into the window,
 * moving the pages the CPU placed out of it) come before their extents are
 * recorded and must not make the import start over. Moving a page out of
 * the window also zaps the CPU mapping the import covers, which is a
 * CPU-side event for the import's own notifier: on the root bus the big
 * import's first map starts over once, then finds system memory.
 */
TEST_F_TIMEOUT(stress, oversized_import_settles, 120)
{
	struct drm_p2pgpu_device_info before, after;
	struct p2pmap_edu_imp_info in;
	size_t n = WINDOW_PAGES + 4;
	uint8_t got[XFER_LEN], want[XFER_LEN];
	uint32_t id = 0, id2 = 0;
	struct bo c, s;
	int ret, w, rr;

	ASSERT_EQ(0, bo_new(self->gpu, n * PG, &c));
	memset(c.cpu, 0x5a, c.size);
	ASSERT_EQ(0, dev_info(self->gpu, &before));
	ASSERT_EQ(0, imp_new(self->efd, c.cpu, c.size, POL_PREFER, &id));
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, XFER_LEN, got);
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	ASSERT_EQ(0, dev_info(self->gpu, &after));
	TH_LOG("READ of a %zu-page import: %d; evictions %llu -> %llu; bar_exhausted %llu",
	       n, ret, before.evictions, after.evictions,
	       in.reason_pages[REASON_BAR]);
	log_info(_metadata, "oversized import", &in);
	ASSERT_EQ(0, ret);
	memset(want, 0x5a, sizeof(want));
	EXPECT_EQ(0, memcmp(got, want, sizeof(want))) TH_LOG("stale data");
	EXPECT_EQ(0ULL, in.retry_true);
	EXPECT_EQ(self->p2p ? 0ULL : 1ULL, in.map_eagain);
	EXPECT_EQ(in.map_eagain + 1, in.map_calls);
	if (self->p2p) {
		/* The CPU left pages 4.. in the window; 0..3 fall back. */
		EXPECT_EQ((unsigned long long)WINDOW_PAGES, in.p2p_pages);
		EXPECT_EQ(n - WINDOW_PAGES, in.sysmem_pages);
		EXPECT_EQ(n - WINDOW_PAGES, in.reason_pages[REASON_BAR]);
		/* Nothing of the import was evicted for the import. */
		EXPECT_EQ(before.evictions, after.evictions);
	} else {
		EXPECT_EQ(n, in.sysmem_pages);
	}
	/* Settled: a transfer at the other end needs no new map. */
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id,
			      (n - 1) * PG, XFER_LEN, got));
	EXPECT_EQ(0, memcmp(got, want, sizeof(want))) TH_LOG("stale data");
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_EQ(0ULL, in.retry_true);
	ASSERT_EQ(0, imp_destroy(self->efd, id));

	/* A fresh object: placed into the window by its map, no retry. */
	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &s));
	ASSERT_EQ(0, imp_new(self->efd, s.cpu, s.size, POL_PREFER, &id2));
	EXPECT_EQ(0, round_trip(self->efd, id2, PG + 5, XFER_LEN, &w, &rr));
	EXPECT_EQ(0, w);
	EXPECT_EQ(0, rr);
	ASSERT_EQ(0, imp_info(self->efd, id2, &in));
	log_info(_metadata, "fresh import", &in);
	EXPECT_EQ(0ULL, in.map_eagain);
	EXPECT_EQ(1ULL, in.map_calls);
	EXPECT_EQ(4ULL, self->p2p ? in.p2p_pages : in.sysmem_pages);
	ASSERT_EQ(0, imp_destroy(self->efd, id2));
	bo_free(self->gpu, &s);
	bo_free(self->gpu, &c);
}

/* ---- processes dying with live imports ----------------------------------- */

/*
 * Child body: open its own render node and importer file, import two
 * ranges of a BO (both mapped by a transfer), report on @ready, then copy
 * in a loop until killed (or, with @exit_after_ms, exit(0) from the main
 * thread while a second thread is inside a transfer).
 */
struct child_arg {
	int efd;
	uint32_t id;
};

static void *child_copier(void *arg)
{
	struct child_arg *c = arg;
	int w, rr;

	for (;;)
		round_trip(c->efd, c->id, 3 * PG - 300, XFER_LEN, &w, &rr);
	return NULL;
}

static void child_body(const char *pci, int ready, int exit_after_ms)
{
	char mypci[32];
	struct child_arg ca;
	uint32_t id2 = 0;
	pthread_t t;
	struct bo b;
	int gpu, w, rr;

	snprintf(mypci, sizeof(mypci), "%s", pci);
	gpu = open_gpu(0, mypci, sizeof(mypci));
	ca.efd = open("/dev/p2pmap_edu_imp", O_RDWR);
	if (gpu < 0 || ca.efd < 0 || bo_new(gpu, 8 * PG, &b))
		_exit(10);
	memset(b.cpu, 0x33, b.size);
	if (imp_new(ca.efd, b.cpu, b.size, POL_PREFER, &ca.id) ||
	    imp_new(ca.efd, b.cpu + 4 * PG, 4 * PG, POL_PREFER, &id2))
		_exit(11);
	if (round_trip(ca.efd, ca.id, 100, XFER_LEN, &w, &rr) || w || rr)
		_exit(12);
	if (round_trip(ca.efd, id2, 100, XFER_LEN, &w, &rr) || w || rr)
		_exit(13);
	if (write(ready, "r", 1) != 1)
		_exit(14);
	if (exit_after_ms) {
		if (pthread_create(&t, NULL, child_copier, &ca))
			_exit(15);
		usleep(exit_after_ms * 1000);
		_exit(0);	/* imports, BO, mapping, files: all left live */
	}
	child_copier(&ca);
	_exit(16);
}

/* Fork a child running child_body(); wait until it reports ready. */
static pid_t spawn_child(struct __test_metadata *_metadata, const char *pci,
			 int exit_after_ms)
{
	struct pollfd pfd;
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		close(p[0]);
		child_body(pci, p[1], exit_after_ms);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (pid < 0 || poll(&pfd, 1, 30000) != 1 || read(p[0], &c, 1) != 1) {
		TH_LOG("child %d never became ready", pid);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* After a child died: no import left, its BO freed, the device usable. */
static void check_clean(struct __test_metadata *_metadata, int gpu, int efd,
			uint64_t vram_used)
{
	struct drm_p2pgpu_device_info di;
	struct p2pmap_edu_imp_status st;
	uint32_t id = 0;
	struct bo b;
	int w, rr;

	ASSERT_EQ(0, imp_status(efd, &st));
	EXPECT_EQ(0U, st.live_imports);
	EXPECT_EQ(P2PMAP_EDU_IMP_S_BOUND | P2PMAP_EDU_IMP_S_ATTACHED, st.flags);
	ASSERT_EQ(0, dev_info(gpu, &di));
	EXPECT_EQ(vram_used, di.vram_used);
	ASSERT_EQ(0, bo_new(gpu, 2 * PG, &b));
	ASSERT_EQ(0, imp_new(efd, b.cpu, b.size, POL_PREFER, &id));
	EXPECT_EQ(0, round_trip(efd, id, PG - 200, XFER_LEN, &w, &rr));
	EXPECT_EQ(0, w);
	EXPECT_EQ(0, rr);
	EXPECT_EQ(0, imp_destroy(efd, id));
	bo_free(gpu, &b);
}

/*
 * kill -9 of a process with live imports of P2P memory (system memory on
 * the root bus) while it copies: the process dies promptly, its imports,
 * objects and files go with it, the edu is not wedged, and the next
 * process imports and copies as before. Three kills at different points.
 */
TEST_F_TIMEOUT(stress, kill9_live_imports, 120)
{
	int i, status;

	for (i = 0; i < 3; i++) {
		uint64_t t0;
		pid_t pid;

		pid = spawn_child(_metadata, self->pci, 0);
		ASSERT_LT(0, pid);
		usleep(50000 + i * 130000);
		t0 = now_ms();
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		TH_LOG("kill %d: reaped in %llu ms", i,
		       (unsigned long long)(now_ms() - t0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("child status %#x", status);
		check_clean(_metadata, self->gpu, self->efd, self->di.vram_used);
	}
}

/*
 * A process exits (exit_group) with mapped imports, one thread inside a
 * transfer, nothing destroyed or closed: the same cleanup as kill -9.
 */
TEST_F_TIMEOUT(stress, exit_live_imports, 120)
{
	int i, status;

	for (i = 0; i < 2; i++) {
		pid_t pid = spawn_child(_metadata, self->pci, 150 + 170 * i);

		ASSERT_LT(0, pid);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child status %#x", status);
		check_clean(_metadata, self->gpu, self->efd, self->di.vram_used);
	}
}

/* ---- modules and devices going away ------------------------------------- */

static long read_long(const char *path)
{
	return (long)sysfs_num("%s", path);
}

/*
 * Unloading the importer while a process holds live, mapped imports is
 * refused: the open /dev/p2pmap_edu_imp holds a module reference, so
 * delete_module() fails with EWOULDBLOCK (what Linux 6.1 returns for a
 * module in use; busybox rmmod prints it as "Resource temporarily
 * unavailable"), the module stays live and the imports keep working. The
 * core cannot go either while p2pgpu and the importer use it. The suite's
 * own rmmod after the program closed every file must then succeed, which
 * run_module_test checks.
 */
TEST_F(stress, rmmod_importer_live_imports)
{
	struct p2pmap_edu_imp_info in;
	uint32_t id = 0;
	struct bo b;
	long ret, refcnt;
	int w, rr;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, round_trip(self->efd, id, 10, XFER_LEN, &w, &rr));
	ASSERT_EQ(0, w);
	ASSERT_EQ(0, rr);
	refcnt = read_long("/sys/module/" IMP_MODULE "/refcnt");
	EXPECT_LE(1, refcnt);

	errno = 0;
	ret = syscall(SYS_delete_module, IMP_MODULE, O_NONBLOCK);
	TH_LOG("delete_module(%s) with %ld references: %ld (%s)", IMP_MODULE,
	       refcnt, ret, strerror(errno));
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(0, access("/sys/module/" IMP_MODULE "/initstate", R_OK));
	errno = 0;
	ret = syscall(SYS_delete_module, "p2pmap", O_NONBLOCK);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);

	/* Still loaded, still attached, the live import still copies. */
	ASSERT_EQ(0, round_trip(self->efd, id, 2 * PG + 1, XFER_LEN, &w, &rr));
	EXPECT_EQ(0, w);
	EXPECT_EQ(0, rr);
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_EQ(0ULL, in.invalidations[EV_UNBIND]);
	EXPECT_EQ(0, imp_destroy(self->efd, id));
	bo_free(self->gpu, &b);
}

/* State a transferring child shares with the test. */
struct xfer_log {
	atomic_int stop;
	atomic_int unbinding;		/* set by the parent before unbind */
	atomic_int unbound;		/* set by the parent after unbind */
	atomic_ulong ok;
	atomic_ulong err_after;		/* errors seen once unbind began */
	atomic_ulong err_before;	/* errors seen before it began */
	atomic_ulong ok_after;		/* rounds started after unbind, ok */
	atomic_ulong mismatch;
	atomic_int first_bad;		/* first errno not ENODEV/EFAULT */
	atomic_int errs[8];		/* distinct errnos seen */
};

static void note_err(struct xfer_log *lg, int ret)
{
	int i, e = -ret, zero;

	for (i = 0; i < 8; i++) {
		zero = 0;
		if (atomic_load(&lg->errs[i]) == e ||
		    atomic_compare_exchange_strong(&lg->errs[i], &zero, e))
			break;
	}
	if (e != ENODEV && e != EFAULT) {
		zero = 0;
		atomic_compare_exchange_strong(&lg->first_bad, &zero, e);
	}
}

static void xfer_child(struct xfer_log *lg, const char *pci)
{
	char mypci[32];
	uint32_t id = 0;
	struct bo b;
	int gpu, efd;

	snprintf(mypci, sizeof(mypci), "%s", pci);
	gpu = open_gpu(0, mypci, sizeof(mypci));
	efd = open("/dev/p2pmap_edu_imp", O_RDWR);
	if (gpu < 0 || efd < 0 || bo_new(gpu, 16 * PG, &b))
		_exit(10);
	memset(b.cpu, 0x77, b.size);
	if (imp_new(efd, b.cpu, b.size, POL_PREFER, &id))
		_exit(11);
	while (!atomic_load(&lg->stop)) {
		int after = atomic_load(&lg->unbound), w, rr, bad;

		bad = round_trip(efd, id, (atomic_load(&lg->ok) % 12) * PG + 33,
				 XFER_LEN, &w, &rr);
		if (bad)
			atomic_fetch_add(&lg->mismatch, 1);
		if (w || rr) {
			note_err(lg, w ? w : rr);
			atomic_fetch_add(atomic_load(&lg->unbinding) ?
					 &lg->err_after : &lg->err_before, 1);
		} else {
			atomic_fetch_add(&lg->ok, 1);
			if (after)
				atomic_fetch_add(&lg->ok_after, 1);
		}
	}
	/* The CPU mapping is SIGBUS now; drop it, the object and the files. */
	imp_destroy(efd, id);
	bo_free(gpu, &b);
	close(efd);
	close(gpu);
	_exit(0);
}

static int sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return (int)n;
}

/*
 * Unbinding the exporter while another process copies through an import
 * of it in a loop: the revoke (the unbind write) finishes in bounded time
 * although a transfer holds the import lock; that process gets only clean
 * errors afterwards (-ENODEV or -EFAULT: the mapping belongs to no
 * provider any more), never stale data, and exits normally; the device
 * binds again and works.
 */
TEST_F_TIMEOUT(stress, unbind_mid_transfer, 180)
{
	struct drm_p2pgpu_device_info di;
	struct p2pmap_edu_imp_status st;
	struct xfer_log *lg;
	uint64_t t0, revoke_ms;
	int ret, status, i, w, rr;
	uint32_t id = 0;
	struct bo b;
	pid_t pid;

	lg = mmap(NULL, sizeof(*lg), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, lg);
	memset(lg, 0, sizeof(*lg));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		xfer_child(lg, self->pci);

	for (i = 0; i < 300 && atomic_load(&lg->ok) < 3; i++)
		usleep(100 * 1000);
	ASSERT_LE(3UL, atomic_load(&lg->ok)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	/* Land inside a transfer: each takes several 100 ms edu commands. */
	usleep(150 * 1000);
	close(self->gpu);
	self->gpu = -1;
	atomic_store(&lg->unbinding, 1);
	t0 = now_ms();
	ret = sysfs_write("/sys/bus/pci/drivers/p2pgpu/unbind", self->pci);
	revoke_ms = now_ms() - t0;
	atomic_store(&lg->unbound, 1);
	TH_LOG("unbind %s with a transfer in flight: %d in %llu ms (ok before %lu)",
	       self->pci, ret, (unsigned long long)revoke_ms,
	       atomic_load(&lg->ok));
	EXPECT_EQ(0, ret);
	EXPECT_GT(REVOKE_MAX_MS, (unsigned long long)revoke_ms);

	/* Let the child run into the revoked import for a while. */
	for (i = 0; i < 100 && atomic_load(&lg->err_after) < 3; i++)
		usleep(50 * 1000);
	atomic_store(&lg->stop, 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("child: ok %lu (after unbind %lu), errors before %lu after %lu, mismatches %lu, errnos %d %d %d",
	       atomic_load(&lg->ok), atomic_load(&lg->ok_after),
	       atomic_load(&lg->err_before), atomic_load(&lg->err_after),
	       atomic_load(&lg->mismatch), lg->errs[0], lg->errs[1], lg->errs[2]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(0UL, atomic_load(&lg->mismatch));
	EXPECT_EQ(0UL, atomic_load(&lg->err_before));
	EXPECT_LE(1UL, atomic_load(&lg->err_after));
	EXPECT_EQ(0UL, atomic_load(&lg->ok_after));
	EXPECT_EQ(0, atomic_load(&lg->first_bad))
		TH_LOG("unexpected errno %d", atomic_load(&lg->first_bad));
	ASSERT_EQ(0, imp_status(self->efd, &st));
	EXPECT_EQ(0U, st.live_imports);
	EXPECT_EQ(P2PMAP_EDU_IMP_S_BOUND | P2PMAP_EDU_IMP_S_ATTACHED, st.flags);
	munmap(lg, sizeof(*lg));

	/* The device binds again and works. */
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/bind", self->pci));
	for (i = 0; i < 50 && self->gpu < 0; i++) {
		self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
		if (self->gpu < 0)
			usleep(100 * 1000);
	}
	ASSERT_LE(0, self->gpu) TH_LOG("%s has no render node after bind", self->pci);
	ASSERT_EQ(0, dev_info(self->gpu, &di));
	EXPECT_EQ(WINDOW_PAGES * PG, di.window_total);
	EXPECT_EQ(0ULL, di.vram_used);
	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	EXPECT_EQ(0, round_trip(self->efd, id, PG + 9, XFER_LEN, &w, &rr));
	EXPECT_EQ(0, w);
	EXPECT_EQ(0, rr);
	EXPECT_EQ(0, imp_destroy(self->efd, id));
	bo_free(self->gpu, &b);
}

TEST_HARNESS_MAIN
