// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu-svm-bench: migration benchmark of p2pgpu's shared virtual memory,
 * run inside the test VM (it measures and reports; it is not a timed test).
 * For the same range size it measures, best and median of several rounds:
 *
 *  - p2pgpu: DRM_IOCTL_P2PGPU_SVM_MIGRATE to the device, the same followed
 *    by a device read of the whole range (SVM_ACCESS), and back to system
 *    memory; and CPU faults (migrate_to_ram) bringing the range back;
 *  - test_hmm's dmirror (/dev/hmm_dmirror0) on the same size:
 *    HMM_DMIRROR_MIGRATE_TO_DEV (which migrates and then reads the range
 *    back to user space for verification), HMM_DMIRROR_MIGRATE_TO_SYS, and
 *    CPU faults;
 *  - import through p2pmap by a second p2pgpu's copy engine
 *    (DRM_IOCTL_P2PGPU_COPY, whole ioctl: import, map, copy): of the range
 *    in system memory, of the range in the first GPU's device-private
 *    memory (first import placing the pages in the window, then again with
 *    them placed), and the fallback path (SYSMEM_ONLY policy: p2pmap
 *    migrates every page to system memory through migrate_to_ram()).
 *
 * The to-device ratio compares like with like: p2pgpu's migration plus
 * device read against dmirror's MIGRATE_TO_DEV, which does both. Both run
 * on the same range, in the same page states, after one untimed warm-up
 * round each, then interleaved in alternating order. Every round verifies
 * the data. Output: a table, one "key value" line per
 * figure, and TAP (ok as long as everything was measured and verified; the
 * target, >= 0.9x dmirror, is judged PASS or MISS in a diagnostic line).
 *
 *   p2pgpu-svm-bench [--quick | --full] [--help] [--version]
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
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "test_hmm_uapi.h"

#define PG		4096ULL
#define HMM_DEV		"/dev/hmm_dmirror0"
#define TARGET		0.9
#define MAX_ROUNDS	16

struct series {
	double ns[MAX_ROUNDS];
	int n;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(struct series *s)
{
	double v[MAX_ROUNDS];

	memcpy(v, s->ns, sizeof(double) * (size_t)s->n);
	qsort(v, (size_t)s->n, sizeof(double), cmp_d);
	return s->n ? (s->n & 1 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2) : 0;
}

/*
 * Median over the rounds of dmirror's time over p2pgpu's in the same
 * round (p2pgpu's throughput relative to dmirror's): the two ran within a
 * fraction of a second of each other, so a change of load on the host
 * between rounds cancels out, which it does not in a ratio of medians.
 */
static double paired_ratio(struct series *p2p, struct series *dmir)
{
	struct series r = { .n = p2p->n };
	int i;

	for (i = 0; i < r.n; i++)
		r.ns[i] = p2p->ns[i] > 0 ? dmir->ns[i] / p2p->ns[i] : 0;
	return median(&r);
}

/* MB/s of @bytes in @ns. */
static double mbps(uint64_t bytes, double ns)
{
	return ns > 0 ? (double)bytes * 1e3 / ns : 0;
}

/* The first p2pgpu render node. */
static int open_p2pgpu(void)
{
	char path[64];
	int minor;

	for (minor = 128; minor < 192; minor++) {
		drmVersionPtr v;
		int fd, match;

		snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		match = v && !strcmp(v->name, "p2pgpu");
		if (v)
			drmFreeVersion(v);
		if (match)
			return fd;
		close(fd);
	}
	return -1;
}

static void fill(uint8_t *p, uint64_t len, uint32_t seed)
{
	uint64_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t v = (i / 8) * 0x9e3779b97f4a7c15ULL ^ seed;

		memcpy(p + i, &v, 8);
	}
}

static int svm_migrate(int fd, void *p, uint64_t len, uint32_t op, uint64_t *moved)
{
	struct drm_p2pgpu_svm_migrate m = {
		.addr = (uintptr_t)p, .length = len, .op = op,
	};

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m))
		return -errno;
	*moved = m.moved;
	return 0;
}

static int svm_read(int fd, void *p, uint64_t len, void *buf)
{
	struct drm_p2pgpu_svm_access a = {
		.addr = (uintptr_t)p, .length = len, .buf = (uintptr_t)buf,
		.op = P2PGPU_SVM_READ,
	};

	return drmIoctl(fd, DRM_IOCTL_P2PGPU_SVM_ACCESS, &a) ? -errno : 0;
}

static int hmm_cmd(int fd, unsigned long req, void *p, uint64_t len, void *buf,
		   uint64_t *cpages)
{
	struct hmm_dmirror_cmd c = {
		.addr = (uintptr_t)p, .ptr = (uintptr_t)buf, .npages = len / PG,
	};

	if (ioctl(fd, req, &c))
		return -errno;
	*cpages = c.cpages;
	return 0;
}

/* Touch every page with a read: CPU faults bring them back. */
static uint64_t touch(const uint8_t *p, uint64_t len)
{
	const volatile uint8_t *v = p;
	uint64_t i, sum = 0;

	for (i = 0; i < len; i += PG)
		sum += v[i];
	return sum;
}

struct result {
	struct series to_dev, to_dev_read, to_sys, faults;
	int ok;
};

/* Import (copy-engine) figures. */
struct imp_result {
	struct series sys, dp_first, dp_placed, fallback;
	uint64_t p2p_pages, sysmem_pages;
};

/* The second p2pgpu render node, or -1. */
static int open_p2pgpu_second(void)
{
	char path[64];
	int minor, seen = 0;

	for (minor = 128; minor < 192; minor++) {
		drmVersionPtr v;
		int fd, match;

		snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		match = v && !strcmp(v->name, "p2pgpu");
		if (v)
			drmFreeVersion(v);
		if (match && seen++ == 1)
			return fd;
		close(fd);
	}
	return -1;
}

/* A buffer object of @len bytes on @fd with its CPU mapping. */
static int bo_make(int fd, uint64_t len, uint32_t *handle, uint8_t **cpu)
{
	struct drm_p2pgpu_bo_create c = { .size = len };
	struct drm_p2pgpu_bo_mmap_offset o = { 0 };
	void *m;

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CREATE, &c))
		return -errno;
	o.handle = c.handle;
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &o))
		return -errno;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, o.offset);
	if (m == MAP_FAILED)
		return -errno;
	*handle = c.handle;
	*cpu = m;
	return 0;
}

/* One copy of @len bytes at @p into the object; wall ns, or 0 on error. */
static double copy_once(int eng, uint32_t handle, const uint8_t *bo_cpu,
			const void *p, uint64_t len, uint32_t policy,
			const uint8_t *want, struct drm_p2pgpu_copy *out)
{
	struct drm_p2pgpu_copy c = {
		.user_ptr = (uintptr_t)p, .length = len, .handle = handle,
		.flags = P2PGPU_COPY_TO_BO, .policy = policy,
	};
	uint64_t t0 = now_ns(), t1;

	if (drmIoctl(eng, DRM_IOCTL_P2PGPU_COPY, &c)) {
		printf("# copy: %s\n", strerror(errno));
		return 0;
	}
	t1 = now_ns();
	if (memcmp(bo_cpu, want, len)) {
		printf("# copy: data mismatch\n");
		return 0;
	}
	*out = c;
	return (double)(t1 - t0);
}

/*
 * One import round: system range, device-private range (first and placed),
 * then the fallback (SYSMEM_ONLY migrates every page back). 0 if right.
 */
static int import_round(int gpu, int eng, uint32_t handle, const uint8_t *bo_cpu,
			uint8_t *p, uint8_t *want, uint64_t len,
			struct imp_result *r, uint32_t seed)
{
	struct drm_p2pgpu_copy c;
	uint64_t moved = 0;
	double ns;

	fill(want, len, seed);
	memcpy(p, want, len);
	ns = copy_once(eng, handle, bo_cpu, p, len, P2PGPU_COPY_PREFER_P2P, want, &c);
	if (!ns)
		return 1;
	r->sys.ns[r->sys.n++] = ns;
	if (svm_migrate(gpu, p, len, P2PGPU_SVM_TO_DEVICE, &moved) || moved != len / PG)
		return 1;
	ns = copy_once(eng, handle, bo_cpu, p, len, P2PGPU_COPY_PREFER_P2P, want, &c);
	if (!ns)
		return 1;
	r->dp_first.ns[r->dp_first.n++] = ns;
	r->p2p_pages = c.p2p_pages;
	r->sysmem_pages = c.sysmem_pages;
	ns = copy_once(eng, handle, bo_cpu, p, len, P2PGPU_COPY_PREFER_P2P, want, &c);
	if (!ns)
		return 1;
	r->dp_placed.ns[r->dp_placed.n++] = ns;
	ns = copy_once(eng, handle, bo_cpu, p, len, P2PGPU_COPY_SYSMEM_ONLY, want, &c);
	if (!ns || c.sysmem_pages != len / PG)
		return 1;
	r->fallback.ns[r->fallback.n++] = ns;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"NAME\n"
		"    p2pgpu-svm-bench - migration throughput of p2pgpu shared virtual memory\n\n"
		"SYNOPSIS\n"
		"    p2pgpu-svm-bench [--quick | --full] [--help] [--version]\n\n"
		"DESCRIPTION\n"
		"    Migrates an anonymous range to the first p2pgpu device and back\n"
		"    (ioctls and CPU faults), and does the same with test_hmm's\n"
		"    %s on the same size; prints the throughput of each, the\n"
		"    ratio p2pgpu/dmirror and whether it meets the %.1fx target;\n"
		"    then the second p2pgpu's copy engine imports the range in system\n"
		"    memory, in the first GPU's device-private memory, and through the\n"
		"    fallback (migration) path, and prints the time of each.\n\n"
		"OPTIONS\n"
		"    --quick  2 MiB, 3 rounds (seconds; the make check smoke test)\n"
		"    --full   8 MiB, 9 rounds (make bench)\n"
		"    --help   this text\n"
		"    --version  print the version and exit\n\n"
		"EXIT STATUS\n"
		"    0 if everything was measured and every byte verified, 1 if not,\n"
		"    2 on bad usage. A missed target is reported, not an error.\n",
		HMM_DEV, TARGET);
}

/*
 * One round on p2pgpu (@hmm < 0) or dmirror: migrate to the device (with
 * the read-back), back by request, to the device again, back by CPU
 * faults. Returns 0 if every byte was right.
 */
static int round_once(int gpu, int hmm, uint8_t *p, uint8_t *buf, uint8_t *want,
		      uint64_t len, struct result *r, uint32_t seed)
{
	uint64_t n = len / PG, moved = 0, t0, t1, t2;
	int ret;

	fill(want, len, seed);
	memcpy(p, want, len);
	t0 = now_ns();
	if (hmm < 0) {
		ret = svm_migrate(gpu, p, len, P2PGPU_SVM_TO_DEVICE, &moved);
		t1 = now_ns();
		if (!ret)
			ret = svm_read(gpu, p, len, buf);
	} else {
		ret = hmm_cmd(hmm, HMM_DMIRROR_MIGRATE_TO_DEV, p, len, buf, &moved);
		t1 = now_ns();
	}
	t2 = now_ns();
	if (ret || moved != n || memcmp(buf, want, len)) {
		printf("# %s: to device: ret %d, moved %llu of %llu\n",
		       hmm < 0 ? "p2pgpu" : "dmirror", ret,
		       (unsigned long long)moved, (unsigned long long)n);
		return 1;
	}
	r->to_dev.ns[r->to_dev.n++] = (double)(t1 - t0);
	r->to_dev_read.ns[r->to_dev_read.n++] = (double)(t2 - t0);

	t0 = now_ns();
	if (hmm < 0)
		ret = svm_migrate(gpu, p, len, P2PGPU_SVM_TO_SYSTEM, &moved);
	else
		ret = hmm_cmd(hmm, HMM_DMIRROR_MIGRATE_TO_SYS, p, len, buf, &moved);
	t1 = now_ns();
	if (ret || moved != n || memcmp(p, want, len)) {
		printf("# %s: to system: ret %d, moved %llu of %llu\n",
		       hmm < 0 ? "p2pgpu" : "dmirror", ret,
		       (unsigned long long)moved, (unsigned long long)n);
		return 1;
	}
	r->to_sys.ns[r->to_sys.n++] = (double)(t1 - t0);

	if (hmm < 0)
		ret = svm_migrate(gpu, p, len, P2PGPU_SVM_TO_DEVICE, &moved);
	else
		ret = hmm_cmd(hmm, HMM_DMIRROR_MIGRATE_TO_DEV, p, len, buf, &moved);
	if (ret || moved != n)
		return 1;
	t0 = now_ns();
	touch(p, len);
	t1 = now_ns();
	if (memcmp(p, want, len))
		return 1;
	r->faults.ns[r->faults.n++] = (double)(t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t len = 2ULL << 20;
	struct result rp = { 0 }, rh = { 0 }, wp = { 0 }, wh = { 0 };
	int rounds = 3, i, gpu, hmm, bad = 0;
	uint8_t *p, *buf, *want;
	double ratio_dev, ratio_sys, paired_dev, paired_sys;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			len = 2ULL << 20;
			rounds = 3;
		} else if (!strcmp(argv[i], "--full")) {
			len = 8ULL << 20;
			rounds = 9;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("p2pgpu-svm-bench %s\n", P2PMAP_VERSION);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	printf("TAP version 13\n1..4\n");
	gpu = open_p2pgpu();
	hmm = open(HMM_DEV, O_RDWR | O_CLOEXEC);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	buf = malloc(len);
	want = malloc(len);
	if (gpu < 0 || hmm < 0 || p == MAP_FAILED || !buf || !want) {
		printf("not ok 1 setup: p2pgpu %s, %s %s\n",
		       gpu < 0 ? "missing" : "ok", HMM_DEV,
		       hmm < 0 ? strerror(errno) : "ok");
		printf("ok 2 # SKIP no setup\nok 3 # SKIP no setup\nok 4 # SKIP no setup\n");
		return 1;
	}
	printf("ok 1 setup: p2pgpu and %s open, %llu KiB range, %d rounds\n",
	       HMM_DEV, (unsigned long long)(len >> 10), rounds);
	/*
	 * One untimed round of each first: the first migrations pay for
	 * things the others do not (p2pgpu maps its device memory, dmirror
	 * allocates its chunks, and guest pages never touched before are
	 * slow to fault in under emulation), and whoever went first paid
	 * for the guest pages. Then interleaved, in alternating order, so
	 * both see the same machine state over time and neither always
	 * runs right after the other's CPU faults.
	 */
	bad |= round_once(gpu, -1, p, buf, want, len, &wp, 1);
	bad |= round_once(gpu, hmm, p, buf, want, len, &wh, 2);
	for (i = 0; i < rounds && !bad; i++) {
		int first = i & 1 ? hmm : -1, second = i & 1 ? -1 : hmm;

		bad |= round_once(gpu, first, p, buf, want, len,
				  first < 0 ? &rp : &rh, 2 * i + 3);
		bad |= round_once(gpu, second, p, buf, want, len,
				  second < 0 ? &rp : &rh, 2 * i + 4);
	}
	if (bad) {
		printf("not ok 2 migrations measured and verified\n");
		printf("ok 3 # SKIP nothing to compare\nok 4 # SKIP not run\n");
		return 1;
	}
	printf("ok 2 migrations measured and verified (%d rounds each)\n", rounds);
	ratio_dev = mbps(len, median(&rp.to_dev_read)) / mbps(len, median(&rh.to_dev));
	ratio_sys = mbps(len, median(&rp.to_sys)) / mbps(len, median(&rh.to_sys));
	paired_dev = paired_ratio(&rp.to_dev_read, &rh.to_dev);
	paired_sys = paired_ratio(&rp.to_sys, &rh.to_sys);
	printf("# %-34s %12s %12s\n", "median MB/s", "p2pgpu", "dmirror");
	printf("# %-34s %12.1f %12s\n", "to device (migration only)",
	       mbps(len, median(&rp.to_dev)), "-");
	printf("# %-34s %12.1f %12.1f\n", "to device + read-back",
	       mbps(len, median(&rp.to_dev_read)), mbps(len, median(&rh.to_dev)));
	printf("# %-34s %12.1f %12.1f\n", "to system (request)",
	       mbps(len, median(&rp.to_sys)), mbps(len, median(&rh.to_sys)));
	printf("# %-34s %12.1f %12.1f\n", "to system (CPU faults)",
	       mbps(len, median(&rp.faults)), mbps(len, median(&rh.faults)));
	printf("# svm_bench size_bytes %llu\n", (unsigned long long)len);
	printf("# svm_bench rounds %d\n", rounds);
	printf("# svm_bench p2pgpu_to_device_mbps %.1f\n", mbps(len, median(&rp.to_dev)));
	printf("# svm_bench p2pgpu_to_device_readback_mbps %.1f\n",
	       mbps(len, median(&rp.to_dev_read)));
	printf("# svm_bench dmirror_to_device_readback_mbps %.1f\n",
	       mbps(len, median(&rh.to_dev)));
	printf("# svm_bench p2pgpu_to_system_mbps %.1f\n", mbps(len, median(&rp.to_sys)));
	printf("# svm_bench dmirror_to_system_mbps %.1f\n", mbps(len, median(&rh.to_sys)));
	printf("# svm_bench p2pgpu_cpu_fault_mbps %.1f\n", mbps(len, median(&rp.faults)));
	printf("# svm_bench dmirror_cpu_fault_mbps %.1f\n", mbps(len, median(&rh.faults)));
	printf("# svm_bench ratio_to_device %.2f\n", ratio_dev);
	printf("# svm_bench ratio_to_system %.2f\n", ratio_sys);
	printf("# svm_bench ratio_to_device_paired %.2f\n", paired_dev);
	printf("# svm_bench ratio_to_system_paired %.2f\n", paired_sys);
	printf("# svm_bench ratio_cpu_fault_paired %.2f\n",
	       paired_ratio(&rp.faults, &rh.faults));
	printf("# svm_bench target >= %.1fx: to device %s, to system %s\n", TARGET,
	       ratio_dev >= TARGET ? "PASS" : "MISS",
	       ratio_sys >= TARGET ? "PASS" : "MISS");
	printf("ok 3 ratio p2pgpu/dmirror computed: to device %.2fx, to system %.2fx\n",
	       ratio_dev, ratio_sys);

	/* Import by the second GPU's copy engine. */
	{
		struct imp_result ri = { 0 };
		uint8_t *bo_cpu = NULL;
		uint32_t handle = 0;
		int eng = open_p2pgpu_second();

		if (eng < 0 || bo_make(eng, len, &handle, &bo_cpu)) {
			printf("not ok 4 import: no second p2pgpu or no object on it\n");
			return 1;
		}
		for (i = 0; i < rounds && !bad; i++)
			bad |= import_round(gpu, eng, handle, bo_cpu, p, want, len,
					    &ri, 100 + i);
		if (bad) {
			printf("not ok 4 imports measured and verified\n");
			return 1;
		}
		printf("# %-34s %12s %12s\n", "import by GPU1's copy engine",
		       "median ms", "MB/s");
		printf("# %-34s %12.3f %12.1f\n", "system memory",
		       median(&ri.sys) / 1e6, mbps(len, median(&ri.sys)));
		printf("# %-34s %12.3f %12.1f\n", "device-private, first (places)",
		       median(&ri.dp_first) / 1e6, mbps(len, median(&ri.dp_first)));
		printf("# %-34s %12.3f %12.1f\n", "device-private, placed",
		       median(&ri.dp_placed) / 1e6, mbps(len, median(&ri.dp_placed)));
		printf("# %-34s %12.3f %12.1f\n", "device-private, fallback (migrate)",
		       median(&ri.fallback) / 1e6, mbps(len, median(&ri.fallback)));
		printf("# svm_bench import_device_private_p2p_pages %llu\n",
		       (unsigned long long)ri.p2p_pages);
		printf("# svm_bench import_device_private_sysmem_pages %llu\n",
		       (unsigned long long)ri.sysmem_pages);
		printf("# svm_bench import_system_ms %.3f\n", median(&ri.sys) / 1e6);
		printf("# svm_bench import_device_private_first_ms %.3f\n",
		       median(&ri.dp_first) / 1e6);
		printf("# svm_bench import_device_private_placed_ms %.3f\n",
		       median(&ri.dp_placed) / 1e6);
		printf("# svm_bench import_fallback_ms %.3f\n",
		       median(&ri.fallback) / 1e6);
		printf("# svm_bench ratio_import_device_private_placed_to_system %.2f\n",
		       median(&ri.dp_placed) / median(&ri.sys));
		printf("# svm_bench ratio_import_fallback_to_system %.2f\n",
		       median(&ri.fallback) / median(&ri.sys));
		printf("ok 4 imports measured and verified: device-private %llu P2P, %llu system pages\n",
		       (unsigned long long)ri.p2p_pages,
		       (unsigned long long)ri.sysmem_pages);
	}
	return 0;
}
