// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap fault-injection sweeps: for every ioctl of the test modules and of
 * p2pgpu, fail the N-th allocation of that one syscall (fail-nth, N = 1,
 * 2, ...) until the call runs without reaching an injected failure. Each
 * injected failure must end cleanly: the ioctl returns a negative errno (or
 * succeeds with correct results, when the failed allocation had a
 * fallback), the object stays usable (the same call without injection
 * succeeds and returns correct data) and nothing leaks (module counters
 * here; kmemleak in the health suite). The number of failure points of
 * each ioctl is reported as a TAP diagnostic.
 *
 * Built once per group (FAILNTH_GROUP, see the Makefile), or with the
 * group as the only argument:
 *   imp     /dev/p2pmap_edu_imp on system memory and on a p2pgpu BO
 *           (including the benchmark ioctls MAP and LATENCY), and
 *           the p2pgpu DRM ioctls (p2pmap, p2pgpu, p2pmap_edu_importer)
 *   edu     /dev/p2pdma_edu (p2pdma_edu)
 *   attach  /dev/p2pmap_attach_test (p2pmap, p2pmap_attach_test)
 *
 * Plain TAP, not the kselftest harness: one test per swept ioctl.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "failnth_selftest.h"
#include "p2pmap_edu_imp_uapi.h"
#include "p2pdma_edu_uapi.h"
#include "p2pmap_attach_test_uapi.h"

#ifndef FAILNTH_GROUP
#define FAILNTH_GROUP ""
#endif

#define PG		4096UL
#define NTH_CAP		2000u
#define MAX_ERRNO	200

/* ---- TAP ---------------------------------------------------------------- */

static unsigned int tap_n, tap_failed;
static char why[512];

static void fail_why(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;	/* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

static void tap_result(bool ok, const char *name)
{
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %u %s\n", ok ? "" : "not ", tap_n, name);
	if (!ok)
		printf("# %s: %s\n", name, why);
	fflush(stdout);
}

/* ---- fail-nth ----------------------------------------------------------- */

static int nth_fd = -1;

static int nth_set(unsigned int n)
{
	return failnth_set(nth_fd, n);
}

static long nth_left(void)
{
	return failnth_left(nth_fd);
}

static int setup_injection(void)
{
	nth_fd = failnth_open();
	return nth_fd < 0 ? nth_fd : 0;
}

/*
 * One sweep. op() is exactly one ioctl (returns 0 or -errno) and must not
 * make any other system call or touch untouched memory. With ret == expect
 * check() verifies the results; with an injected failure's other errno
 * recover() repeats the call without injection and verifies. setup() and
 * cleanup() run around every N without injection.
 */
struct sweep {
	const char *name;
	int expect;
	int (*setup)(void);
	int (*op)(void);
	int (*check)(void);
	int (*recover)(void);
	void (*cleanup)(void);
};

static void run_sweep(const struct sweep *s)
{
	unsigned int counts[MAX_ERRNO] = { 0 }, n, ok_fired = 0;
	char errs[256] = "";
	bool ok = false;
	size_t off = 0;
	int e;

	why[0] = 0;
	for (n = 1; n <= NTH_CAP; n++) {
		long left;
		int ret;

		if (s->setup && s->setup()) {
			fail_why("N=%u: setup failed", n);
			break;
		}
		if (nth_set(n)) {
			fail_why("cannot write fail-nth: %s", strerror(errno));
			break;
		}
		ret = s->op();
		left = nth_left();
		nth_set(0);
		if (left < 0) {
			fail_why("cannot read fail-nth");
			break;
		}
		if (left) {
			/* Not reached: this must be the clean, correct run. */
			if (ret != s->expect)
				fail_why("N=%u (no fault injected): returned %d (%s), want %d",
					 n, ret, strerror(-ret), s->expect);
			else if (s->check && s->check())
				fail_why("N=%u (no fault injected): wrong results", n);
			else
				ok = true;
			if (s->cleanup)
				s->cleanup();
			break;
		}
		if (ret == s->expect) {
			ok_fired++;
			if (s->check && s->check()) {
				fail_why("N=%u: injected failure absorbed but results wrong", n);
				if (s->cleanup)
					s->cleanup();
				break;
			}
		} else if (ret >= 0 || ret == -EPROTO) {
			fail_why("N=%u: injected failure gave %d (%s), want %d or a clean errno",
				 n, ret, ret < 0 ? strerror(-ret) : "success", s->expect);
			if (s->cleanup)
				s->cleanup();
			break;
		} else {
			if (-ret < MAX_ERRNO)
				counts[-ret]++;
			if (s->recover && s->recover()) {
				fail_why("N=%u: after injected %s the object is not usable",
					 n, strerror(-ret));
				if (s->cleanup)
					s->cleanup();
				break;
			}
		}
		if (s->cleanup)
			s->cleanup();
	}
	if (n > NTH_CAP)
		fail_why("still failing at N=%u (cap)", NTH_CAP);
	for (e = 1; e < MAX_ERRNO; e++)
		if (counts[e] && off < sizeof(errs) - 40)
			off += snprintf(errs + off, sizeof(errs) - off, " %s x%u",
					strerrorname_np(e) ? strerrorname_np(e) : "?",
					counts[e]);
	printf("# %s: %u failure points (first uninjected run at N=%u); errnos:%s%s; absorbed: %u\n",
	       s->name, n - 1, n, errs[0] ? errs : " none", "", ok_fired);
	tap_result(ok && !why[0], s->name);
}

/* ---- /dev/p2pmap_edu_imp ------------------------------------------------- */

#define XOFF	(PG - 100)
#define XLEN	200	/* across a page boundary; each edu DMA takes ~100 ms */
#define TPAGES	16

struct target {
	const char *name;
	uint8_t *base;
	size_t len;
	uint8_t want[TPAGES * PG];
};

static int efd = -1;
static struct target *T;	/* current target */
static uint32_t cur_id;
static uint32_t base_live;
static uint8_t rbuf[XLEN], wbuf[XLEN];
static struct p2pmap_edu_imp_create g_create;
static struct p2pmap_edu_imp_xfer g_xfer;
static struct p2pmap_edu_imp_info g_info;
static struct p2pmap_edu_imp_destroy g_destroy;
static struct p2pmap_edu_imp_status g_status;
static struct p2pmap_edu_imp_map g_map;
static struct p2pmap_edu_imp_latency g_lat;

static int imp_status(struct p2pmap_edu_imp_status *s)
{
	memset(s, 0, sizeof(*s));
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_STATUS, s) ? -errno : 0;
}

static int imp_create(uint32_t *id)
{
	struct p2pmap_edu_imp_create c = {
		.va = (uintptr_t)T->base, .len = T->len,
		.policy = P2PMAP_EDU_IMP_PREFER_P2P,
		.flags = P2PMAP_EDU_IMP_F_WRITE,
	};

	if (ioctl(efd, P2PMAP_EDU_IMP_IOC_CREATE, &c))
		return -errno;
	*id = c.id;
	return 0;
}

static int imp_destroy(uint32_t id)
{
	struct p2pmap_edu_imp_destroy d = { .id = id };

	return ioctl(efd, P2PMAP_EDU_IMP_IOC_DESTROY, &d) ? -errno : 0;
}

static int imp_xfer(unsigned long cmd, uint32_t id, void *buf)
{
	struct p2pmap_edu_imp_xfer x = {
		.id = id, .offset = XOFF, .len = XLEN, .buf = (uintptr_t)buf,
	};

	return ioctl(efd, cmd, &x) ? -errno : 0;
}

static int imp_info(uint32_t id, struct p2pmap_edu_imp_info *in)
{
	memset(in, 0, sizeof(*in));
	in->id = id;
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_INFO, in) ? -errno : 0;
}

/* READ without injection must return the target's known contents. */
static int verify_read(uint32_t id)
{
	int ret;

	memset(rbuf, 0, sizeof(rbuf));
	ret = imp_xfer(P2PMAP_EDU_IMP_IOC_READ, id, rbuf);
	if (ret) {
		fail_why("verify READ: %s", strerror(-ret));
		return -1;
	}
	if (memcmp(rbuf, T->want + XOFF, XLEN)) {
		fail_why("verify READ: data mismatch at %ld",
			 first_mismatch(rbuf, T->want + XOFF, XLEN));
		return -1;
	}
	return 0;
}

/* Placement must cover the whole import with mapped pages. */
static int verify_info(uint32_t id, uint64_t min_xfers)
{
	struct p2pmap_edu_imp_info in;

	if (imp_info(id, &in)) {
		fail_why("verify INFO failed");
		return -1;
	}
	if (in.va != (uintptr_t)T->base || in.len != T->len ||
	    in.policy != P2PMAP_EDU_IMP_PREFER_P2P ||
	    in.flags != P2PMAP_EDU_IMP_F_WRITE || !in.nr_extents ||
	    in.p2p_pages + in.sysmem_pages != TPAGES || in.error_pages ||
	    in.xfers < min_xfers) {
		fail_why("INFO wrong: extents %u p2p %llu sysmem %llu error %llu xfers %llu",
			 in.nr_extents, (unsigned long long)in.p2p_pages,
			 (unsigned long long)in.sysmem_pages,
			 (unsigned long long)in.error_pages,
			 (unsigned long long)in.xfers);
		return -1;
	}
	return 0;
}

static int verify_live(void)
{
	struct p2pmap_edu_imp_status s;

	if (imp_status(&s) || s.live_imports != base_live) {
		fail_why("live imports %u, want %u (leaked import?)",
			 s.live_imports, base_live);
		return -1;
	}
	return 0;
}

static void imp_cleanup(void)
{
	if (cur_id)
		imp_destroy(cur_id);
	cur_id = 0;
}

static int setup_created(void)
{
	cur_id = 0;
	return imp_create(&cur_id);
}

static int setup_mapped(void)
{
	if (setup_created())
		return -1;
	return verify_read(cur_id);
}

/* CREATE */
static int op_create(void)
{
	memset(&g_create, 0, sizeof(g_create));
	g_create.va = (uintptr_t)T->base;
	g_create.len = T->len;
	g_create.policy = P2PMAP_EDU_IMP_PREFER_P2P;
	g_create.flags = P2PMAP_EDU_IMP_F_WRITE;
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_CREATE, &g_create) ? -errno : 0;
}

static int check_create(void)
{
	cur_id = g_create.id;
	if (!cur_id) {
		fail_why("CREATE returned id 0");
		return -1;
	}
	return verify_read(cur_id) || verify_info(cur_id, 1);
}

static int recover_create(void)
{
	if (verify_live())
		return -1;
	if (imp_create(&cur_id)) {
		fail_why("CREATE without injection failed");
		return -1;
	}
	return verify_read(cur_id);
}

/* READ */
static int op_read(void)
{
	g_xfer = (struct p2pmap_edu_imp_xfer){
		.id = cur_id, .offset = XOFF, .len = XLEN, .buf = (uintptr_t)rbuf,
	};
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_READ, &g_xfer) ? -errno : 0;
}

static int check_read(void)
{
	if (memcmp(rbuf, T->want + XOFF, XLEN)) {
		fail_why("READ data mismatch at %ld",
			 first_mismatch(rbuf, T->want + XOFF, XLEN));
		return -1;
	}
	return verify_info(cur_id, 1);
}

static int recover_read(void)
{
	return verify_read(cur_id) || verify_info(cur_id, 1);
}

static int setup_read(void)
{
	memset(rbuf, 0, sizeof(rbuf));
	return setup_created();
}

/* WRITE */
static int setup_write(void)
{
	fill_pattern(wbuf, sizeof(wbuf));
	return setup_created();
}

static int op_write(void)
{
	g_xfer = (struct p2pmap_edu_imp_xfer){
		.id = cur_id, .offset = XOFF, .len = XLEN, .buf = (uintptr_t)wbuf,
	};
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_WRITE, &g_xfer) ? -errno : 0;
}

static int check_write(void)
{
	memcpy(T->want + XOFF, wbuf, XLEN);
	return verify_read(cur_id) || verify_info(cur_id, 2);
}

static int recover_write(void)
{
	int ret = imp_xfer(P2PMAP_EDU_IMP_IOC_WRITE, cur_id, wbuf);

	if (ret) {
		fail_why("WRITE without injection: %s", strerror(-ret));
		return -1;
	}
	return check_write();
}

/* INFO */
static int op_info(void)
{
	memset(&g_info, 0, sizeof(g_info));
	g_info.id = cur_id;
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_INFO, &g_info) ? -errno : 0;
}

static int check_info(void)
{
	return verify_info(cur_id, 1);
}

/* DESTROY */
static int op_destroy(void)
{
	g_destroy = (struct p2pmap_edu_imp_destroy){ .id = cur_id };
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_DESTROY, &g_destroy) ? -errno : 0;
}

static int check_destroy(void)
{
	uint32_t id = cur_id;

	cur_id = 0;
	if (verify_live())
		return -1;
	if (imp_destroy(id) != -EINVAL) {
		fail_why("second DESTROY of %u did not give EINVAL", id);
		return -1;
	}
	return 0;
}

static int recover_destroy(void)
{
	if (verify_read(cur_id) || verify_info(cur_id, 1))
		return -1;
	if (imp_destroy(cur_id)) {
		fail_why("DESTROY without injection failed");
		return -1;
	}
	cur_id = 0;
	return verify_live();
}

/* STATUS */
static int op_status(void)
{
	memset(&g_status, 0, sizeof(g_status));
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_STATUS, &g_status) ? -errno : 0;
}

static int check_status(void)
{
	const uint32_t f = P2PMAP_EDU_IMP_S_BOUND | P2PMAP_EDU_IMP_S_ATTACHED;

	if (g_status.abi_version != P2PMAP_EDU_IMP_ABI_VERSION ||
	    (g_status.flags & f) != f || g_status.live_imports != base_live) {
		fail_why("STATUS wrong: abi %u flags %#x live %u",
			 g_status.abi_version, g_status.flags,
			 g_status.live_imports);
		return -1;
	}
	return 0;
}

static int recover_status(void)
{
	return op_status() || check_status();
}

/* MAP: a fresh import mapped without DMA; READ afterwards uses it. */
static int op_map(void)
{
	g_map = (struct p2pmap_edu_imp_map){ .id = cur_id };
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_MAP, &g_map) ? -errno : 0;
}

static int check_map(void)
{
	struct p2pmap_edu_imp_info before, in;

	if (g_map.rounds < 1 || !g_map.map_ns || !g_map.nr_extents ||
	    g_map.p2p_pages + g_map.sysmem_pages != TPAGES ||
	    g_map.error_pages) {
		fail_why("MAP: rounds %u ns %llu extents %u p2p %llu sysmem %llu error %llu",
			 g_map.rounds, (unsigned long long)g_map.map_ns,
			 g_map.nr_extents, (unsigned long long)g_map.p2p_pages,
			 (unsigned long long)g_map.sysmem_pages,
			 (unsigned long long)g_map.error_pages);
		return -1;
	}
	if (imp_info(cur_id, &before) || verify_read(cur_id) ||
	    verify_info(cur_id, 1) || imp_info(cur_id, &in))
		return -1;
	/* READ used what MAP installed (no invalidation in between) */
	if (in.map_calls != before.map_calls) {
		fail_why("READ after MAP mapped again (map_calls %llu, before %llu)",
			 (unsigned long long)in.map_calls,
			 (unsigned long long)before.map_calls);
		return -1;
	}
	return 0;
}

static int recover_map(void)
{
	if (op_map()) {
		fail_why("MAP without injection failed");
		return -1;
	}
	return check_map();
}

/* LATENCY: one sample (mprotect invalidated, MAP revalidated) to collect. */
static int lat_collect(void)
{
	memset(&g_lat, 0, sizeof(g_lat));
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_LATENCY, &g_lat) ? -errno : 0;
}

static int setup_latency(void)
{
	if (setup_mapped() || lat_collect())
		return -1;
	if (mprotect(T->base, T->len, PROT_READ) ||
	    mprotect(T->base, T->len, PROT_READ | PROT_WRITE)) {
		fail_why("mprotect: %s", strerror(errno));
		return -1;
	}
	if (op_map() || g_map.rounds != 1) {
		fail_why("MAP after mprotect: rounds %u", g_map.rounds);
		return -1;
	}
	return 0;
}

static int op_latency(void)
{
	g_lat.flags = 0;
	g_lat.nr = 0;
	return ioctl(efd, P2PMAP_EDU_IMP_IOC_LATENCY, &g_lat) ? -errno : 0;
}

static int check_latency(void)
{
	if (g_lat.nr != 1 || !g_lat.ns[0] || g_lat.dropped) {
		fail_why("LATENCY: %u samples (want 1), first %llu ns, dropped %llu",
			 g_lat.nr, (unsigned long long)g_lat.ns[0],
			 (unsigned long long)g_lat.dropped);
		return -1;
	}
	return 0;
}

/* A failed LATENCY must keep the sample for the next call. */
static int recover_latency(void)
{
	if (lat_collect()) {
		fail_why("LATENCY without injection failed");
		return -1;
	}
	return check_latency();
}

static void sweep_imp_target(struct target *t, bool with_status)
{
	char names[8][64];
	const struct sweep sw[] = {
		{ names[0], 0, NULL, op_create, check_create, recover_create, imp_cleanup },
		{ names[1], 0, setup_read, op_read, check_read, recover_read, imp_cleanup },
		{ names[2], 0, setup_write, op_write, check_write, recover_write, imp_cleanup },
		{ names[3], 0, setup_mapped, op_info, check_info, check_info, imp_cleanup },
		{ names[4], 0, setup_mapped, op_destroy, check_destroy, recover_destroy, imp_cleanup },
		{ names[5], 0, setup_created, op_map, check_map, recover_map, imp_cleanup },
		{ names[6], 0, setup_latency, op_latency, check_latency, recover_latency, imp_cleanup },
		{ names[7], 0, NULL, op_status, check_status, recover_status, NULL },
	};
	unsigned int i;

	T = t;
	snprintf(names[0], 64, "edu_imp CREATE on %s", t->name);
	snprintf(names[1], 64, "edu_imp READ on %s", t->name);
	snprintf(names[2], 64, "edu_imp WRITE on %s", t->name);
	snprintf(names[3], 64, "edu_imp INFO on %s", t->name);
	snprintf(names[4], 64, "edu_imp DESTROY on %s", t->name);
	snprintf(names[5], 64, "edu_imp MAP on %s", t->name);
	snprintf(names[6], 64, "edu_imp LATENCY on %s", t->name);
	snprintf(names[7], 64, "edu_imp STATUS");
	for (i = 0; i < (with_status ? 8u : 7u); i++)
		run_sweep(&sw[i]);
}

/* ---- p2pgpu DRM ioctls --------------------------------------------------- */

static int gfd = -1;
static char gpci[32];
static uint64_t base_vram_used;
static uint32_t gpu_bo;		/* persistent BO for BO_INFO */
static uint32_t cur_bo;
static struct drm_p2pgpu_bo_create g_bc;
static struct drm_p2pgpu_bo_mmap_offset g_mo;
static struct drm_p2pgpu_bo_info g_bi;
static struct drm_p2pgpu_device_info g_di;

static int verify_vram(uint64_t want)
{
	struct drm_p2pgpu_device_info di;

	if (dev_info(gfd, &di) || di.vram_used != want) {
		fail_why("vram_used %llu, want %llu (leaked accounting?)",
			 (unsigned long long)di.vram_used,
			 (unsigned long long)want);
		return -1;
	}
	return 0;
}

static void gpu_cleanup(void)
{
	if (cur_bo)
		gem_close(gfd, cur_bo);
	cur_bo = 0;
}

/* BO_CREATE */
static int op_bo_create(void)
{
	g_bc = (struct drm_p2pgpu_bo_create){ .size = 8 * PG };
	return ioctl(gfd, DRM_IOCTL_P2PGPU_BO_CREATE, &g_bc) ? -errno : 0;
}

static int check_bo_create(void)
{
	struct drm_p2pgpu_bo_info bi = { .handle = g_bc.handle };

	cur_bo = g_bc.handle;
	if (!cur_bo || g_bc.size != 8 * PG) {
		fail_why("BO_CREATE: handle %u size %llu", cur_bo,
			 (unsigned long long)g_bc.size);
		return -1;
	}
	if (ioctl(gfd, DRM_IOCTL_P2PGPU_BO_INFO, &bi) || bi.size != 8 * PG) {
		fail_why("BO_INFO of the new BO failed");
		return -1;
	}
	return verify_vram(base_vram_used + 8 * PG);
}

static int recover_bo_create(void)
{
	if (verify_vram(base_vram_used))
		return -1;
	if (op_bo_create()) {
		fail_why("BO_CREATE without injection failed");
		return -1;
	}
	return check_bo_create();
}

/* BO_MMAP_OFFSET */
static int setup_mo(void)
{
	uint64_t sz = 2 * PG;

	cur_bo = 0;
	return bo_create(gfd, &sz, 0, &cur_bo);
}

static int op_mo(void)
{
	g_mo = (struct drm_p2pgpu_bo_mmap_offset){ .handle = cur_bo };
	return ioctl(gfd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &g_mo) ? -errno : 0;
}

static int check_mo(void)
{
	uint8_t *p;
	int bad;

	if (!g_mo.offset) {
		fail_why("BO_MMAP_OFFSET returned offset 0");
		return -1;
	}
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, gfd,
		 (off_t)g_mo.offset);
	if (p == MAP_FAILED) {
		fail_why("mmap at the offset: %s", strerror(errno));
		return -1;
	}
	bad = p[0] || p[2 * PG - 1];
	p[PG] = 0x5a;
	bad |= p[PG] != 0x5a;
	munmap(p, 2 * PG);
	if (bad)
		fail_why("BO mapping has wrong contents");
	return bad ? -1 : 0;
}

static int recover_mo(void)
{
	if (op_mo()) {
		fail_why("BO_MMAP_OFFSET without injection failed");
		return -1;
	}
	return check_mo();
}

/* BO_INFO */
static int op_bo_info(void)
{
	g_bi = (struct drm_p2pgpu_bo_info){ .handle = gpu_bo };
	return ioctl(gfd, DRM_IOCTL_P2PGPU_BO_INFO, &g_bi) ? -errno : 0;
}

static int check_bo_info(void)
{
	if (g_bi.size != TPAGES * PG) {
		fail_why("BO_INFO size %llu", (unsigned long long)g_bi.size);
		return -1;
	}
	return 0;
}

static int recover_bo_info(void)
{
	return op_bo_info() || check_bo_info();
}

/* DEVICE_INFO */
static int op_dev_info(void)
{
	memset(&g_di, 0, sizeof(g_di));
	return ioctl(gfd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &g_di) ? -errno : 0;
}

static int check_dev_info(void)
{
	if (g_di.page_size != PG || g_di.window_total != 256 * PG ||
	    g_di.vram_used != base_vram_used) {
		fail_why("DEVICE_INFO: page %llu window %llu used %llu",
			 (unsigned long long)g_di.page_size,
			 (unsigned long long)g_di.window_total,
			 (unsigned long long)g_di.vram_used);
		return -1;
	}
	return 0;
}

static int recover_dev_info(void)
{
	return op_dev_info() || check_dev_info();
}

static const struct sweep gpu_sweeps[] = {
	{ "p2pgpu BO_CREATE", 0, NULL, op_bo_create, check_bo_create, recover_bo_create, gpu_cleanup },
	{ "p2pgpu BO_MMAP_OFFSET", 0, setup_mo, op_mo, check_mo, recover_mo, gpu_cleanup },
	{ "p2pgpu BO_INFO", 0, NULL, op_bo_info, check_bo_info, recover_bo_info, NULL },
	{ "p2pgpu DEVICE_INFO", 0, NULL, op_dev_info, check_dev_info, recover_dev_info, NULL },
};

#define IMP_TESTS	(8 + 7 + 4)

static int group_imp(void)
{
	static struct target sys = { .name = "system memory" };
	static struct target bot = { .name = "p2pgpu BO" };
	struct p2pmap_edu_imp_status s;
	uint64_t sz = TPAGES * PG;
	unsigned int i;

	printf("1..%u\n", IMP_TESTS);
	efd = open("/dev/" P2PMAP_EDU_IMP_DEVNAME, O_RDWR);
	gfd = open_gpu(0, gpci, sizeof(gpci));
	if (efd < 0 || gfd < 0 || imp_status(&s)) {
		printf("Bail out! no /dev/p2pmap_edu_imp or p2pgpu render node\n");
		return 1;
	}
	base_live = s.live_imports;
	sys.len = TPAGES * PG;
	sys.base = mmap(NULL, sys.len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sys.base == MAP_FAILED || bo_create(gfd, &sz, 0, &gpu_bo) ||
	    !(bot.base = bo_map(gfd, gpu_bo, sz))) {
		printf("Bail out! cannot set up the buffers\n");
		return 1;
	}
	bot.len = sz;
	fill_pattern(sys.want, sizeof(sys.want));
	memcpy(sys.base, sys.want, sys.len);
	fill_pattern(bot.want, sizeof(bot.want));
	memcpy(bot.base, bot.want, bot.len);
	/* Fault in every buffer the ioctls copy to or from. */
	memset(rbuf, 0, sizeof(rbuf));
	memset(wbuf, 0, sizeof(wbuf));
	if (dev_info(gfd, &g_di)) {
		printf("Bail out! DEVICE_INFO\n");
		return 1;
	}
	base_vram_used = g_di.vram_used;

	if (setup_injection()) {
		printf("Bail out! fault injection is not available\n");
		return 1;
	}
	sweep_imp_target(&sys, true);
	sweep_imp_target(&bot, false);
	for (i = 0; i < sizeof(gpu_sweeps) / sizeof(gpu_sweeps[0]); i++)
		run_sweep(&gpu_sweeps[i]);

	munmap(bot.base, bot.len);
	gem_close(gfd, gpu_bo);
	munmap(sys.base, sys.len);
	close(gfd);
	close(efd);
	return 0;
}

/* ---- /dev/p2pdma_edu ---------------------------------------------------- */

#define EDU_OFF	100u
#define EDU_LEN	3000u

static int dfd = -1;
static struct p2pdma_edu_info g_ei;
static struct p2pdma_edu_transfer g_xt;
static uint8_t ebuf[EDU_LEN], epat[EDU_LEN];
static uint32_t edu_dir;
static int edu_expect;

static int op_edu_info(void)
{
	memset(&g_ei, 0, sizeof(g_ei));
	return ioctl(dfd, P2PDMA_EDU_IOC_INFO, &g_ei) ? -errno : 0;
}

static int check_edu_info(void)
{
	const uint32_t f = P2PDMA_EDU_INFO_HAVE_PROVIDER | P2PDMA_EDU_INFO_HAVE_CLIENT;

	if (g_ei.abi_version != P2PDMA_EDU_ABI_VERSION || (g_ei.flags & f) != f) {
		fail_why("INFO: abi %u flags %#x", g_ei.abi_version, g_ei.flags);
		return -1;
	}
	return 0;
}

static int recover_edu_info(void)
{
	return op_edu_info() || check_edu_info();
}

static int setup_xt(void)
{
	fill_pattern(epat, sizeof(epat));
	memcpy(ebuf, epat, sizeof(ebuf));
	return 0;
}

static int op_xt(void)
{
	g_xt = (struct p2pdma_edu_transfer){
		.direction = edu_dir, .length = EDU_LEN, .offset = EDU_OFF,
		.buf = (uintptr_t)ebuf,
	};
	return ioctl(dfd, P2PDMA_EDU_IOC_TRANSFER, &g_xt) ? -errno : 0;
}

static int check_xt(void)
{
	if (edu_expect)
		return 0;	/* refused as without injection */
	if (memcmp(ebuf, epat, EDU_LEN) || g_xt.guard_errors) {
		fail_why("TRANSFER: mismatch at %ld, guard errors %u",
			 first_mismatch(ebuf, epat, EDU_LEN), g_xt.guard_errors);
		return -1;
	}
	return 0;
}

static int recover_xt(void)
{
	int ret;

	memcpy(ebuf, epat, sizeof(ebuf));
	ret = op_xt();
	if (ret != edu_expect) {
		fail_why("TRANSFER without injection: %d", ret);
		return -1;
	}
	return check_xt();
}

static int group_edu(void)
{
	struct sweep info = { "p2pdma_edu INFO", 0, NULL, op_edu_info,
			      check_edu_info, recover_edu_info, NULL };
	struct sweep xt = { NULL, 0, setup_xt, op_xt, check_xt, recover_xt, NULL };

	printf("1..3\n");
	dfd = open("/dev/" P2PDMA_EDU_DEVNAME, O_RDWR);
	if (dfd < 0) {
		printf("Bail out! no /dev/p2pdma_edu\n");
		return 1;
	}
	memset(ebuf, 0, sizeof(ebuf));
	/* Baseline: the switch moves data, the root bus refuses. */
	edu_dir = P2PDMA_EDU_DIR_TO_BAR;
	setup_xt();
	edu_expect = op_xt();
	printf("# TRANSFER without injection: %d%s\n", edu_expect,
	       edu_expect ? " (refused; swept against that result)" : "");
	if (p2pmap_pair_route() == P2PMAP_PAIR_P2P && edu_expect) {
		printf("Bail out! TRANSFER fails without injection on the switch\n");
		return 1;
	}
	if (setup_injection()) {
		printf("Bail out! fault injection is not available\n");
		return 1;
	}
	run_sweep(&info);
	xt.expect = edu_expect;
	xt.name = "p2pdma_edu TRANSFER to BAR";
	run_sweep(&xt);
	edu_dir = P2PDMA_EDU_DIR_FROM_BAR;
	xt.name = "p2pdma_edu TRANSFER from BAR";
	run_sweep(&xt);
	close(dfd);
	return 0;
}

/* ---- /dev/p2pmap_attach_test --------------------------------------------- */

static int afd = -1;
static struct p2pmap_at_info base_ai, g_ai;
static struct p2pmap_at_case base_case, g_case;
static uint32_t case_id;

static int op_at_info(void)
{
	memset(&g_ai, 0, sizeof(g_ai));
	return ioctl(afd, P2PMAP_AT_IOC_INFO, &g_ai) ? -errno : 0;
}

static int check_at_info(void)
{
	if (g_ai.flags != base_ai.flags || g_ai.verdict_ret ||
	    g_ai.route != base_ai.route || g_ai.reason != base_ai.reason ||
	    g_ai.distance != base_ai.distance ||
	    g_ai.bus_offset != base_ai.bus_offset || !g_ai.verdict_same ||
	    strcmp(g_ai.sysfs_dir, base_ai.sysfs_dir)) {
		fail_why("INFO differs: flags %#x verdict %d route %u reason %u sysfs '%s'",
			 g_ai.flags, g_ai.verdict_ret, g_ai.route, g_ai.reason,
			 g_ai.sysfs_dir);
		return -1;
	}
	return 0;
}

static int recover_at_info(void)
{
	return op_at_info() || check_at_info();
}

static int op_case(void)
{
	g_case = (struct p2pmap_at_case){ .id = case_id };
	if (ioctl(afd, P2PMAP_AT_IOC_CASE, &g_case))
		return -errno;
	return g_case.result;
}

static int check_case(void)
{
	if (g_case.route != base_case.route || g_case.reason != base_case.reason) {
		fail_why("case %u: route %u reason %u, want %u %u", case_id,
			 g_case.route, g_case.reason, base_case.route,
			 base_case.reason);
		return -1;
	}
	return 0;
}

static int recover_case(void)
{
	int ret = op_case();

	if (ret != base_case.result) {
		fail_why("case %u without injection: %d, want %d", case_id, ret,
			 base_case.result);
		return -1;
	}
	return check_case();
}

#define AT_TESTS	(1 + P2PMAP_AT_CASE_NR - 1)

static int group_attach(void)
{
	struct sweep info = { "attach_test INFO", 0, NULL, op_at_info,
			      check_at_info, recover_at_info, NULL };
	struct sweep cs = { NULL, 0, NULL, op_case, check_case, recover_case, NULL };
	char name[64];
	uint32_t id;

	printf("1..%u\n", AT_TESTS);
	afd = open("/dev/" P2PMAP_AT_DEVNAME, O_RDWR);
	if (afd < 0 || op_at_info()) {
		printf("Bail out! no /dev/p2pmap_attach_test\n");
		return 1;
	}
	base_ai = g_ai;
	if (!(base_ai.flags & P2PMAP_AT_F_ATTACHED) || base_ai.verdict_ret) {
		printf("Bail out! provider not registered or importer not attached\n");
		return 1;
	}
	if (setup_injection()) {
		printf("Bail out! fault injection is not available\n");
		return 1;
	}
	run_sweep(&info);
	for (id = 1; id < P2PMAP_AT_CASE_NR; id++) {
		case_id = id;
		snprintf(name, sizeof(name), "attach_test CASE %u", id);
		base_case = (struct p2pmap_at_case){ .id = id };
		if (ioctl(afd, P2PMAP_AT_IOC_CASE, &base_case))
			base_case.result = -errno;
		cs.name = name;
		cs.expect = base_case.result;
		printf("# CASE %u without injection: %d\n", id, base_case.result);
		run_sweep(&cs);
	}
	close(afd);
	return 0;
}

int main(int argc, char **argv)
{
	int ret;

	const char *group = FAILNTH_GROUP;

	printf("TAP version 13\n");
	if (argc == 2)
		group = argv[1];
	if (!strcmp(group, "imp"))
		ret = group_imp();
	else if (!strcmp(group, "edu"))
		ret = group_edu();
	else if (!strcmp(group, "attach"))
		ret = group_attach();
	else
		ret = 1;
	if (nth_fd >= 0)
		close(nth_fd);
	return ret || tap_failed ? 1 : 0;
}
