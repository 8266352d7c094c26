// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap-bench: the p2pmap benchmark, run inside the test VM (not a timed
 * test: it measures and reports, and judges each target from the measured
 * figures). It drives the test importer /dev/p2pmap_edu_imp (MAP and
 * LATENCY, no DMA), test_hmm's /dev/hmm_dmirror0 (the hmm_range_fault
 * baseline) and the p2pgpu render nodes, and prints a table and a JSON
 * document with: import throughput against the page-walk baseline, import
 * of a p2pgpu buffer object (P2P placement), the invalidation-to-
 * revalidation latency distribution, peer copy bandwidth against memcpy,
 * and how import and invalidation costs grow with the number of live
 * imports. All state lives in one struct bench passed around; see --help.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap_edu_imp_uapi.h"
#include "test_hmm_uapi.h"

#define PG		4096UL
#define MAX_POINTS	8
#define MAX_GPUS	2
#define WHY_LEN		256
#define LAT_SOURCES	2

#define EDU_DEV		"/dev/" P2PMAP_EDU_IMP_DEVNAME
#define HMM_DEV		"/dev/hmm_dmirror0"
#define EDU_PARAM	"/sys/module/p2pmap_edu_importer/parameters/max_imports_per_file"

/* ---- results ------------------------------------------------------------- */

enum st_kind { ST_NOTRUN, ST_OK, ST_UNAVAILABLE, ST_FAILED };

/* Outcome of one part: measured, or why not ("unavailable: ..."). */
struct status {
	enum st_kind kind;
	char why[WHY_LEN];
};

/* One range size of the throughput part. */
struct tp_point {
	unsigned long pages;
	struct status st;
	double map_ns;		/* median of MAP's kernel-measured map_ns */
	double remap_ns;	/* median map_ns of a forced MAP right after */
	double map_wall_ns;	/* median wall time of the MAP ioctl */
	double create_wall_ns;
	double destroy_wall_ns;
	double base_wall_ns;	/* median wall time of HMM_DMIRROR_SNAPSHOT */
	double map_wall_min_ns;	/* fastest round of each, for the spread */
	double base_wall_min_ns;
	double map_wall_p90_ns;	/* 90th percentile of each: the slow rounds */
	double base_wall_p90_ns;
	double ratio_paired;	/* median of each round's MAP / SNAPSHOT */
	unsigned int extents;
	uint64_t p2p_pages;
	uint64_t sysmem_pages;
	double first_map_ns;	/* BO: first map, placing pages in the window */
	unsigned long placed;	/* BO: pages that first map placed */
};

struct lat_result {
	const char *name;
	const char *what;
	struct status st;
	unsigned int n;
	uint64_t dropped;
	double min, p50, p90, p99, max, mean;
};

struct copy_side {
	double ns;		/* median */
	double wall_ns;		/* median, ioctl only */
};

struct copy_result {
	struct status st;
	size_t bytes;
	unsigned int reps;
	struct copy_side copy;	/* DRM_IOCTL_P2PGPU_COPY: elapsed_ns, wall */
	double memcpy_bo_ns;	/* gpu0 mapping -> gpu1 mapping */
	double memcpy_ram_ns;	/* malloc -> malloc */
	uint64_t p2p_pages;
	uint64_t sysmem_pages;
	uint64_t retries;
	bool data_ok;
};

struct scale_point {
	unsigned long live;
	double setup_s;		/* creating + mapping the imports added */
	double lifecycle_ns;	/* create + map + destroy one more, median */
	double inval_ns;	/* CPU fault moving one held page, median */
	/*
	 * The same two measurements on gpu1 with the baseline's live imports
	 * (struct scale_result.base_live), alternated with the ones above in
	 * the same rounds: 0 if there is no gpu1.
	 */
	double base_lifecycle_ns;
	double base_inval_ns;
	unsigned int reps;
};

struct scale_result {
	struct status st;
	unsigned long base_live;	/* gpu1's live imports, 0 if no gpu1 */
	/*
	 * The baseline measured once more after gpu0's imports are gone: if
	 * it is back to its first value, a slower baseline at the largest
	 * count came from gpu0's live imports (global state), not the host.
	 */
	double base_after_lifecycle_ns;
	double base_after_inval_ns;
	struct scale_point pt[MAX_POINTS];
	unsigned int n;
	double teardown_s;
};

struct gpu {
	int fd;
	int minor;
	char pci[32];
	struct drm_p2pgpu_device_info info;
};

/* Command line. */
struct opts {
	bool quick;
	const char *json_path;
	const char *table_path;
	unsigned int reps;
	unsigned int import_reps;
	unsigned int lat_reps;
	unsigned int scale_reps;
	unsigned long sizes[MAX_POINTS];
	unsigned int nr_sizes;
	unsigned long live[MAX_POINTS];
	unsigned int nr_live;
	size_t copy_bytes;
	unsigned int parts;
	bool verbose;
};

#define PART_IMPORT	0x1u
#define PART_LATENCY	0x2u
#define PART_COPY	0x4u
#define PART_SCALING	0x8u
#define PART_ALL	0xfu

/* Everything the benchmark knows; passed to every part. */
struct bench {
	struct opts o;
	char command[1024];
	char date[32];
	char kernel[256];
	char hypervisor[16];
	char topology[16];
	int cpus;
	unsigned long mem_kb;
	bool kasan, lockdep, kmemleak, dma_debug;
	bool cc_os;		/* kernel built with -Os, not -O2 */
	unsigned int edu_abi;
	unsigned long edu_max_per_file;
	struct gpu gpu[MAX_GPUS];
	unsigned int nr_gpus;
	bool have_hmm;
	struct status import_st, base_st, bo_st;
	struct tp_point sys[MAX_POINTS];	/* 4 KiB pages, scattered */
	struct tp_point thp[MAX_POINTS];	/* transparent huge pages */
	struct tp_point bo[MAX_POINTS];
	struct lat_result lat[LAT_SOURCES];
	struct copy_result copy;
	struct scale_result scale;
	bool failed;
};

static void set_status(struct status *s, enum st_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_status(struct status *s, enum st_kind kind, const char *fmt, ...)
{
	va_list ap;

	s->kind = kind;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

/* "unavailable: <what>: ENODEV (No such device)" */
#define UNAVAIL_ERRNO(s, e, fmt, ...) \
	set_status(s, ST_UNAVAILABLE, fmt ": %s (%s)", ##__VA_ARGS__, \
		   errname(e), strerror(e))
#define FAIL_ERRNO(b, s, e, fmt, ...) do { \
	set_status(s, ST_FAILED, fmt ": %s (%s)", ##__VA_ARGS__, \
		   errname(e), strerror(e)); \
	(b)->failed = true; \
} while (0)

static void progress(const struct bench *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress(const struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->o.verbose)
		return;
	va_start(ap, fmt);
	fputs("# ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- small helpers -------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n values (sorted in place). */
static double median(double *v, unsigned int n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of sorted @v. */
static double pct(const double *v, unsigned int n, double p)
{
	unsigned int r;

	if (!n)
		return 0;
	r = (unsigned int)(p / 100.0 * n + 0.999999);
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

/*
 * ioctl() retried on EINTR, as -errno. Not libdrm's drmIoctl() for the
 * driver-private DRM ioctls: it also retries on EAGAIN, which would hide
 * an exporter's -EAGAIN inside a timed call. libdrm is used where it fits:
 * drmGetVersion() to find p2pgpu nodes, drmCloseBufferHandle().
 */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static int read_ulong(const char *path, unsigned long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%lu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* 4 KiB pages: the same page walk for the import and the baseline */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* ---- the test importer ---------------------------------------------------- */

/*
 * Open the test importer, or say in @s why a part cannot use it: missing,
 * or older than ABI 2 (no MAP and LATENCY).
 */
static int edu_open_for(const struct bench *b, struct status *s)
{
	int fd;

	if (b->edu_abi < 2) {
		set_status(s, ST_UNAVAILABLE,
			   "unavailable: %s %s", EDU_DEV,
			   b->edu_abi ? "speaks ABI 1; MAP and LATENCY need 2" :
			   "missing (is p2pmap_edu_importer.ko loaded?)");
		return -1;
	}
	fd = open(EDU_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		UNAVAIL_ERRNO(s, errno, "unavailable: %s", EDU_DEV);
	return fd;
}

static int edu_create(int fd, const void *va, size_t len, uint32_t policy,
		      uint32_t flags, uint32_t *id)
{
	struct p2pmap_edu_imp_create c = {
		.va = (uintptr_t)va, .len = len, .policy = policy,
		.flags = flags,
	};
	int ret = xioctl(fd, P2PMAP_EDU_IMP_IOC_CREATE, &c);

	if (!ret)
		*id = c.id;
	return ret;
}

static int edu_destroy(int fd, uint32_t id)
{
	struct p2pmap_edu_imp_destroy d = { .id = id };

	return xioctl(fd, P2PMAP_EDU_IMP_IOC_DESTROY, &d);
}

static int edu_map(int fd, uint32_t id, uint32_t flags,
		   struct p2pmap_edu_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->flags = flags;
	return xioctl(fd, P2PMAP_EDU_IMP_IOC_MAP, m);
}

static int edu_info(int fd, uint32_t id, struct p2pmap_edu_imp_info *in)
{
	memset(in, 0, sizeof(*in));
	in->id = id;
	return xioctl(fd, P2PMAP_EDU_IMP_IOC_INFO, in);
}

/* Append this file's latency samples to @v (capacity @cap) at *@n. */
static int edu_collect(int fd, double *v, unsigned int cap, unsigned int *n,
		       uint64_t *dropped)
{
	struct p2pmap_edu_imp_latency *l = calloc(1, sizeof(*l));
	unsigned int i;
	int ret;

	if (!l)
		return -ENOMEM;
	ret = xioctl(fd, P2PMAP_EDU_IMP_IOC_LATENCY, l);
	if (!ret) {
		for (i = 0; i < l->nr; i++) {
			if (*n < cap)
				v[(*n)++] = (double)l->ns[i];
			else
				(*dropped)++;
		}
		*dropped += l->dropped;
	}
	free(l);
	return ret;
}

/* ---- p2pgpu --------------------------------------------------------------- */

static int gpu_bo_create(const struct gpu *g, uint64_t size, uint32_t *handle)
{
	struct drm_p2pgpu_bo_create c = { .size = size };
	int ret = xioctl(g->fd, DRM_IOCTL_P2PGPU_BO_CREATE, &c);

	if (!ret)
		*handle = c.handle;
	return ret;
}

static void gpu_bo_close(const struct gpu *g, uint32_t handle)
{
	drmCloseBufferHandle(g->fd, handle);
}

/* MAP_SHARED CPU mapping of a BO, or NULL with errno set. */
static uint8_t *gpu_bo_map(const struct gpu *g, uint32_t handle, size_t size)
{
	struct drm_p2pgpu_bo_mmap_offset m = { .handle = handle };
	void *p;
	int ret;

	ret = xioctl(g->fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &m);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd,
		 (off_t)m.offset);
	return p == MAP_FAILED ? NULL : p;
}

static int gpu_info(struct gpu *g)
{
	memset(&g->info, 0, sizeof(g->info));
	return xioctl(g->fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &g->info);
}

static unsigned long gpu_free_window_pages(struct gpu *g)
{
	if (gpu_info(g) || !g->info.page_size)
		return 0;
	return g->info.window_free / g->info.page_size;
}

static unsigned long gpu_free_vram_pages(struct gpu *g)
{
	if (gpu_info(g) || !g->info.page_size)
		return 0;
	return (g->info.vram_total - g->info.vram_used) / g->info.page_size;
}

/*
 * Open render node @minor as the next GPU if it is a p2pgpu one and, when
 * @pci is given, that device's. Returns whether it did.
 */
static bool gpu_open_minor(struct bench *b, int minor, const char *pci)
{
	struct gpu *g = &b->gpu[b->nr_gpus];
	char path[64], link[256];
	drmVersionPtr v;
	ssize_t l;
	int fd, ours;

	snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	v = drmGetVersion(fd);
	ours = v && !strcmp(v->name, P2PGPU_DRIVER_NAME);
	drmFreeVersion(v);
	if (!ours) {
		close(fd);
		return false;
	}
	g->fd = fd;
	g->minor = minor;
	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device", minor);
	l = readlink(path, link, sizeof(link) - 1);
	link[l > 0 ? l : 0] = 0;
	snprintf(g->pci, sizeof(g->pci), "%s",
		 strrchr(link, '/') ? strrchr(link, '/') + 1 : "?");
	if ((pci && strcmp(pci, g->pci)) || gpu_info(g)) {
		close(fd);
		return false;
	}
	b->nr_gpus++;
	return true;
}

/*
 * Open the p2pgpu render nodes: those of the GPUs P2PMAP_GPUS names, in its
 * order (the VM suite's choice: the GPU that reaches the edu peer to peer
 * first, if one does), else every one in minor order.
 */
static void gpu_open_all(struct bench *b)
{
	const char *l = getenv("P2PMAP_GPUS");
	int minor;

	while (l && *l && b->nr_gpus < MAX_GPUS) {
		char pci[32];
		size_t w;

		l += strspn(l, " ");
		w = strcspn(l, " ");
		if (!w)
			break;
		snprintf(pci, sizeof(pci), "%.*s", (int)w, l);
		l += w;
		for (minor = 128; minor < 192; minor++)
			if (gpu_open_minor(b, minor, pci))
				break;
	}
	if (getenv("P2PMAP_GPUS"))
		return;
	for (minor = 128; minor < 192 && b->nr_gpus < MAX_GPUS; minor++)
		gpu_open_minor(b, minor, NULL);
}

/* ---- environment ---------------------------------------------------------- */

static bool config_has(const char *kernel_release, const char *sym)
{
	char path[300], line[256];
	size_t n = strlen(sym);
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/boot/config-%s", kernel_release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!yes && fgets(line, sizeof(line), f))
		yes = !strncmp(line, sym, n) && !strcmp(line + n, "=y\n");
	fclose(f);
	return yes;
}

/* @word appears as a whole parameter on the kernel command line. */
static bool cmdline_has(const char *word)
{
	char line[4096];
	bool yes = false;
	char *tok, *save;
	FILE *f;

	f = fopen("/proc/cmdline", "r");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f))
		for (tok = strtok_r(line, " \n", &save); tok && !yes;
		     tok = strtok_r(NULL, " \n", &save))
			yes = !strcmp(tok, word);
	fclose(f);
	return yes;
}

static void probe_env(struct bench *b)
{
	struct utsname u;
	struct tm tm;
	time_t t = time(NULL);
	const char *topo = getenv("P2PMAP_TOPOLOGY");
	unsigned long v;
	FILE *f;

	gmtime_r(&t, &tm);
	strftime(b->date, sizeof(b->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!uname(&u)) {
		snprintf(b->kernel, sizeof(b->kernel), "%s %s", u.release,
			 u.version);
		b->kasan = config_has(u.release, "CONFIG_KASAN");
		b->lockdep = config_has(u.release, "CONFIG_PROVE_LOCKING");
		/* Built in but booted with kmemleak=off counts as off. */
		b->kmemleak = config_has(u.release, "CONFIG_DEBUG_KMEMLEAK") &&
			      !cmdline_has("kmemleak=off");
		b->dma_debug = config_has(u.release, "CONFIG_DMA_API_DEBUG");
		b->cc_os = config_has(u.release, "CONFIG_CC_OPTIMIZE_FOR_SIZE");
	}
	snprintf(b->topology, sizeof(b->topology), "%s", topo ? topo : "unknown");
	snprintf(b->hypervisor, sizeof(b->hypervisor), "none");
#if defined(__x86_64__) || defined(__i386__)
	{
		unsigned int eax, ebx, ecx, edx;

		__cpuid(1, eax, ebx, ecx, edx);
		if (ecx & (1u << 31)) {
			__cpuid(0x40000000, eax, ebx, ecx, edx);
			memcpy(b->hypervisor, &ebx, 4);
			memcpy(b->hypervisor + 4, &ecx, 4);
			memcpy(b->hypervisor + 8, &edx, 4);
			b->hypervisor[12] = 0;
		}
	}
#endif
	b->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	f = fopen("/proc/meminfo", "r");
	if (f) {
		if (fscanf(f, "MemTotal: %lu kB", &v) == 1)
			b->mem_kb = v;
		fclose(f);
	}
	if (!read_ulong(EDU_PARAM, &v))
		b->edu_max_per_file = v;
}

/* ---- part 1: import throughput -------------------------------------------- */

/* Where the system-memory pages of the throughput part come from. */
enum layout {
	LAYOUT_SCATTERED,	/* 4 KiB pages, no two neighbours adjacent */
	LAYOUT_THP,		/* 2 MiB transparent huge pages */
};

/*
 * A faulted-in anonymous buffer of @pages pages. SCATTERED: 4 KiB pages
 * faulted in two passes, even pages first, so that pages next to each
 * other in the buffer are (almost always) not next to each other in
 * physical memory and every page is its own extent: the most DMA mappings
 * an import of that size can need. THP: 2 MiB aligned, MADV_HUGEPAGE, so
 * the range is a few physically contiguous huge pages. The extents MAP
 * reports show what each layout really got. *@maplen gets the length to
 * munmap from the returned *@base.
 */
static uint8_t *layout_buffer(enum layout lay, unsigned long pages,
			      uint8_t **base, size_t *maplen)
{
	const size_t huge = 2ul << 20;
	size_t len = pages * PG, i;
	uint8_t *p;

	*maplen = len + (lay == LAYOUT_THP ? huge : 0);
	*base = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*base == MAP_FAILED) {
		*base = NULL;
		return NULL;
	}
	if (lay == LAYOUT_SCATTERED) {
		p = *base;
		madvise(p, len, MADV_NOHUGEPAGE);
		for (i = 0; i < pages; i += 2)
			memset(p + i * PG, 0x5a, PG);
		for (i = 1; i < pages; i += 2)
			memset(p + i * PG, 0x5a, PG);
		return p;
	}
	p = (uint8_t *)(((uintptr_t)*base + huge - 1) & ~(huge - 1));
	madvise(p, len, MADV_HUGEPAGE);
	memset(p, 0x5a, len);
	return p;
}

/*
 * The baseline: HMM_DMIRROR_SNAPSHOT of @pages pages at @buf, checked.
 * Returns its wall time in ns, or 0 with b->base_st set (the baseline is
 * then given up).
 */
static uint64_t snapshot_once(struct bench *b, int hfd, uint8_t *buf,
			      uint8_t *perm, unsigned long pages)
{
	struct hmm_dmirror_cmd c = {
		.addr = (uintptr_t)buf,
		.ptr = (uintptr_t)perm,
		.npages = pages,
	};
	uint64_t t0, t1;
	unsigned long k;
	int ret;

	t0 = now_ns();
	ret = xioctl(hfd, HMM_DMIRROR_SNAPSHOT, &c);
	t1 = now_ns();
	if (ret) {
		FAIL_ERRNO(b, &b->base_st, -ret,
			   "HMM_DMIRROR_SNAPSHOT of %lu pages", pages);
		return 0;
	}
	for (k = 0; k < pages; k++)
		if ((perm[k] & ~HMM_DMIRROR_PROT_PMD) != HMM_DMIRROR_PROT_WRITE)
			break;
	if (c.cpages != pages || k != pages) {
		set_status(&b->base_st, ST_FAILED,
			   "SNAPSHOT: %llu pages, page %lu is %#x, not a writable PTE",
			   (unsigned long long)c.cpages, k, k < pages ? perm[k] : 0);
		b->failed = true;
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

/*
 * System memory: for each size, a fresh import of the first @pages pages
 * of a faulted-in anonymous buffer is created, mapped (MAP, no DMA) and
 * destroyed; the baseline is HMM_DMIRROR_SNAPSHOT over the same pages,
 * test_hmm's hmm_range_fault() walk. The two alternate, after one warm-up
 * round each, so that a slow period of the (emulated, shared) machine hits
 * both alike, and take turns going first (odd rounds start with the
 * snapshot), so that neither always runs right after the other has walked
 * the same page tables and struct pages. Ratios compare wall times of the
 * two ioctls; the timed MAP reads no clock in the kernel
 * (P2PMAP_EDU_IMP_MAP_F_UNTIMED), as the snapshot reads none. The kernel
 * time of a fresh map (map_ns) comes from a second fresh import of the same
 * pages in the same round, mapped with the ioctl's own clock.
 */
static void run_import_sysmem(struct bench *b, int efd, int hfd,
			      enum layout lay, struct tp_point *pts)
{
	unsigned long maxp = 0;
	unsigned int i, r, n = b->o.import_reps;
	uint8_t *buf, *base = NULL, *perm;
	size_t maplen = 0;
	double *v;

	for (i = 0; i < b->o.nr_sizes; i++)
		if (b->o.sizes[i] > maxp)
			maxp = b->o.sizes[i];
	buf = layout_buffer(lay, maxp, &base, &maplen);
	perm = malloc(maxp);
	v = calloc(7 * (size_t)n, sizeof(*v));
	if (!buf || !perm || !v) {
		FAIL_ERRNO(b, &b->import_st, ENOMEM, "buffers of %lu pages", maxp);
		goto out;
	}

	for (i = 0; i < b->o.nr_sizes; i++) {
		struct tp_point *p = &pts[i];
		double *map = v, *wall = v + n, *cr = v + 2 * n, *de = v + 3 * n;
		double *base_ns = v + 4 * n, *remap = v + 5 * n, *pair = v + 6 * n;
		unsigned int nb = 0;

		p->pages = b->o.sizes[i];
		progress(b, "import throughput: %lu pages of system memory (%s)",
			 p->pages, lay == LAYOUT_THP ? "THP" : "4 KiB, scattered");
		for (r = 0; r <= n; r++) {	/* round 0 warms up */
			struct p2pmap_edu_imp_map m, m2, mk;
			uint64_t t0, t1, t2, t3, t4, snap = 0;
			uint32_t id;
			int ret;

			if (hfd >= 0 && (r & 1)) {
				snap = snapshot_once(b, hfd, buf, perm, p->pages);
				if (!snap)
					hfd = -1;
			}
			t0 = now_ns();
			ret = edu_create(efd, buf, p->pages * PG,
					 P2PMAP_EDU_IMP_PREFER_P2P, 0, &id);
			t1 = now_ns();
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "CREATE of %lu pages", p->pages);
				break;
			}
			/* wall time without the ioctl's own clock reads */
			ret = edu_map(efd, id, P2PMAP_EDU_IMP_MAP_F_UNTIMED, &m);
			t2 = now_ns();
			if (!ret && (m.rounds < 1 || m.sysmem_pages != p->pages)) {
				set_status(&p->st, ST_FAILED,
					   "MAP: %u rounds, %llu of %lu pages in system memory",
					   m.rounds, (unsigned long long)m.sysmem_pages,
					   p->pages);
				b->failed = true;
				edu_destroy(efd, id);
				break;
			}
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "MAP of %lu pages", p->pages);
				edu_destroy(efd, id);
				break;
			}
			/* the same range again, replacing valid extents */
			ret = edu_map(efd, id, P2PMAP_EDU_IMP_MAP_F_FORCE, &m2);
			if (ret || m2.rounds < 1) {
				FAIL_ERRNO(b, &p->st, ret ? -ret : EPROTO,
					   "forced MAP of %lu pages", p->pages);
				edu_destroy(efd, id);
				break;
			}
			t3 = now_ns();
			ret = edu_destroy(efd, id);
			t4 = now_ns();
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "DESTROY");
				break;
			}
			/*
			 * The kernel's own time of a fresh map, on a second
			 * import of the same pages, outside the wall times.
			 */
			ret = edu_create(efd, buf, p->pages * PG,
					 P2PMAP_EDU_IMP_PREFER_P2P, 0, &id);
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "CREATE of %lu pages", p->pages);
				break;
			}
			ret = edu_map(efd, id, 0, &mk);
			if (ret || mk.rounds < 1 || !mk.map_ns) {
				FAIL_ERRNO(b, &p->st, ret ? -ret : EPROTO,
					   "timed MAP of %lu pages", p->pages);
				edu_destroy(efd, id);
				break;
			}
			ret = edu_destroy(efd, id);
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "DESTROY");
				break;
			}
			p->extents = m.nr_extents;
			p->sysmem_pages = m.sysmem_pages;
			p->p2p_pages = m.p2p_pages;
			if (r) {
				map[r - 1] = (double)mk.map_ns;
				wall[r - 1] = (double)(t2 - t1);
				cr[r - 1] = (double)(t1 - t0);
				de[r - 1] = (double)(t4 - t3);
				remap[r - 1] = (double)m2.map_ns;
			}

			if (hfd >= 0 && !(r & 1)) {
				snap = snapshot_once(b, hfd, buf, perm, p->pages);
				if (!snap)
					hfd = -1;
			}
			if (snap && r)
				base_ns[nb++] = (double)snap;
		}
		if (p->st.kind != ST_NOTRUN)
			continue;
		/* each round's MAP over the same round's SNAPSHOT, before sorting */
		for (r = 0; nb == n && r < n; r++)
			pair[r] = wall[r] / base_ns[r];
		p->ratio_paired = nb == n ? median(pair, n) : -1;
		p->map_ns = median(map, n);
		p->remap_ns = median(remap, n);
		p->map_wall_ns = median(wall, n);
		p->map_wall_min_ns = wall[0];	/* sorted by median() */
		p->map_wall_p90_ns = pct(wall, n, 90);
		p->create_wall_ns = median(cr, n);
		p->destroy_wall_ns = median(de, n);
		p->base_wall_ns = nb == n ? median(base_ns, n) : -1;
		p->base_wall_min_ns = nb == n ? base_ns[0] : -1;
		p->base_wall_p90_ns = nb == n ? pct(base_ns, n, 90) : -1;
		set_status(&p->st, ST_OK, "ok");
	}
out:
	if (base)
		munmap(base, maplen);
	free(perm);
	free(v);
}

/*
 * A p2pgpu buffer object on gpu0, imported by the edu (PREFER_P2P): the
 * first import of each size places the pages not yet in the window; the
 * measured rounds then import resident pages, as an RDMA registration of
 * a GPU buffer in use would.
 */
static void run_import_bo(struct bench *b, int efd)
{
	struct gpu *g = &b->gpu[0];
	unsigned long maxp = 0, winp, resident = 0;
	unsigned int i, r, n = b->o.reps;
	uint32_t handle;
	uint8_t *cpu;
	double *v;
	int ret;

	if (b->nr_gpus < 1) {
		set_status(&b->bo_st, ST_UNAVAILABLE, "unavailable: no p2pgpu render node");
		return;
	}
	winp = gpu_free_window_pages(g);
	for (i = 0; i < b->o.nr_sizes; i++)
		if (b->o.sizes[i] > maxp && b->o.sizes[i] <= winp)
			maxp = b->o.sizes[i];
	if (!maxp) {
		set_status(&b->bo_st, ST_UNAVAILABLE,
			   "unavailable: gpu0 window has %lu free pages", winp);
		return;
	}
	ret = gpu_bo_create(g, maxp * PG, &handle);
	if (ret) {
		FAIL_ERRNO(b, &b->bo_st, -ret, "BO_CREATE of %lu pages", maxp);
		return;
	}
	cpu = gpu_bo_map(g, handle, maxp * PG);
	v = calloc(2 * (size_t)n, sizeof(*v));
	if (!cpu || !v) {
		FAIL_ERRNO(b, &b->bo_st, errno ? errno : ENOMEM, "BO mapping");
		goto out;
	}

	for (i = 0; i < b->o.nr_sizes; i++) {
		struct tp_point *p = &b->bo[i];
		double *map = v, *wall = v + n;

		p->pages = b->o.sizes[i];
		if (p->pages > maxp) {
			set_status(&p->st, ST_UNAVAILABLE,
				   "unavailable: %lu pages do not fit the %lu free pages of gpu0's window",
				   p->pages, winp);
			continue;
		}
		progress(b, "import throughput: %lu pages of a p2pgpu object", p->pages);
		for (r = 0; r <= n; r++) {	/* round 0 places the pages */
			struct p2pmap_edu_imp_map m;
			uint64_t t0, t1;
			uint32_t id;

			ret = edu_create(efd, cpu, p->pages * PG,
					 P2PMAP_EDU_IMP_PREFER_P2P, 0, &id);
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "CREATE of %lu BO pages", p->pages);
				break;
			}
			t0 = now_ns();
			ret = edu_map(efd, id, 0, &m);
			t1 = now_ns();
			edu_destroy(efd, id);
			if (ret) {
				FAIL_ERRNO(b, &p->st, -ret, "MAP of %lu BO pages", p->pages);
				break;
			}
			p->extents = m.nr_extents;
			p->p2p_pages = m.p2p_pages;
			p->sysmem_pages = m.sysmem_pages;
			if (!r) {
				p->first_map_ns = (double)m.map_ns;
				p->placed = p->pages > resident ? p->pages - resident : 0;
				if (p->pages > resident)
					resident = p->pages;
				continue;
			}
			map[r - 1] = (double)m.map_ns;
			wall[r - 1] = (double)(t1 - t0);
		}
		if (p->st.kind != ST_NOTRUN)
			continue;
		p->map_ns = median(map, n);
		p->map_wall_ns = median(wall, n);
		p->base_wall_ns = -1;
		set_status(&p->st, ST_OK, "ok");
	}
	set_status(&b->bo_st, ST_OK, "ok");
out:
	if (cpu)
		munmap(cpu, maxp * PG);
	gpu_bo_close(g, handle);
	free(v);
}

static void run_import(struct bench *b)
{
	int efd, hfd = open(HMM_DEV, O_RDWR | O_CLOEXEC);

	if (hfd < 0)
		UNAVAIL_ERRNO(&b->base_st, errno, "unavailable: %s (is test_hmm loaded?)",
			      HMM_DEV);
	else
		set_status(&b->base_st, ST_OK, "ok");
	efd = edu_open_for(b, &b->import_st);
	if (efd < 0) {
		b->bo_st = b->import_st;
		if (hfd >= 0)
			close(hfd);
		return;
	}
	set_status(&b->import_st, ST_OK, "ok");
	run_import_sysmem(b, efd, hfd, LAYOUT_SCATTERED, b->sys);
	run_import_sysmem(b, efd, hfd, LAYOUT_THP, b->thp);
	run_import_bo(b, efd);
	if (hfd >= 0)
		close(hfd);
	close(efd);
}

/* ---- part 2: invalidation -> revalidation latency ------------------------- */

static void lat_stats(struct lat_result *l, double *v, unsigned int n)
{
	double sum = 0;
	unsigned int i;

	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	l->n = n;
	l->min = n ? v[0] : 0;
	l->p50 = pct(v, n, 50);
	l->p90 = pct(v, n, 90);
	l->p99 = pct(v, n, 99);
	l->max = n ? v[n - 1] : 0;
	l->mean = n ? sum / n : 0;
}

/* Collect often enough that the module's buffer never overflows. */
#define LAT_BATCH	(P2PMAP_EDU_IMP_LAT_SLOTS / 2)

/*
 * CPU side: MADV_DONTNEED drops the pages of a 16-page import (a CPU
 * invalidation through the import's mmu notifier); MAP right after maps
 * the range again. Each round is one sample.
 */
static void run_latency_cpu(struct bench *b, struct lat_result *l, double *v)
{
	const size_t len = 16 * PG;
	unsigned int r, n = 0;
	uint8_t *buf = map_anon(len);
	struct p2pmap_edu_imp_map m;
	int efd, ret;
	uint32_t id;

	l->name = "cpu_madv_dontneed";
	l->what = "MADV_DONTNEED on a 16-page import of anonymous memory, then MAP";
	efd = edu_open_for(b, &l->st);
	if (efd < 0)
		goto out;
	if (!buf) {
		FAIL_ERRNO(b, &l->st, ENOMEM, "buffer");
		goto out;
	}
	memset(buf, 1, len);
	ret = edu_create(efd, buf, len, P2PMAP_EDU_IMP_PREFER_P2P, 0, &id);
	if (!ret)
		ret = edu_map(efd, id, 0, &m);
	if (!ret)
		ret = edu_collect(efd, v, 0, &n, &l->dropped);
	l->dropped = 0;
	for (r = 0; !ret && r < b->o.lat_reps; r++) {
		if (madvise(buf, len, MADV_DONTNEED)) {
			ret = -errno;
			break;
		}
		ret = edu_map(efd, id, 0, &m);
		if (!ret && !m.rounds)
			ret = -EPROTO;	/* not invalidated: nothing measured */
		if (!ret && (r + 1) % LAT_BATCH == 0)
			ret = edu_collect(efd, v, b->o.lat_reps, &n, &l->dropped);
	}
	if (!ret)
		ret = edu_collect(efd, v, b->o.lat_reps, &n, &l->dropped);
	if (ret) {
		FAIL_ERRNO(b, &l->st, -ret, "round %u", r);
		goto out;
	}
	if (n != b->o.lat_reps || l->dropped) {
		set_status(&l->st, ST_FAILED, "%u samples for %u revalidations, %llu dropped",
			   n, b->o.lat_reps, (unsigned long long)l->dropped);
		b->failed = true;
		goto out;
	}
	lat_stats(l, v, n);
	set_status(&l->st, ST_OK, "ok");
out:
	if (efd >= 0)
		close(efd);
	if (buf)
		munmap(buf, len);
}

/*
 * Exporter side: one page of a p2pgpu object, imported twice from two
 * files: A with PREFER_P2P (placed in gpu0's window), B with SYSMEM_ONLY.
 * Each round B's MAP makes p2pgpu move the page out of the window, which
 * invalidates A with P2PMAP_EV_EVICT; A's MAP then places it again. A's
 * samples are the exporter-eviction latency, placement included.
 */
static void run_latency_evict(struct bench *b, struct lat_result *l, double *v)
{
	struct gpu *g = &b->gpu[0];
	struct p2pmap_edu_imp_info in;
	struct p2pmap_edu_imp_map m;
	int fa = -1, fb = -1, ret;
	uint32_t handle = 0, ia, ib;
	unsigned int r = 0, n = 0;
	uint8_t *cpu = NULL;

	l->name = "exporter_evict";
	l->what = "p2pgpu moves a P2P-mapped page out of its window (P2PMAP_EV_EVICT), then MAP places it again";
	if (b->nr_gpus < 1) {
		set_status(&l->st, ST_UNAVAILABLE, "unavailable: no p2pgpu render node");
		return;
	}
	fa = edu_open_for(b, &l->st);
	fb = fa < 0 ? -1 : edu_open_for(b, &l->st);
	if (fa < 0 || fb < 0)
		goto out;
	ret = gpu_bo_create(g, PG, &handle);
	if (ret) {
		FAIL_ERRNO(b, &l->st, -ret, "BO_CREATE");
		goto out;
	}
	cpu = gpu_bo_map(g, handle, PG);
	if (!cpu) {
		FAIL_ERRNO(b, &l->st, errno, "BO mmap");
		goto out;
	}
	ret = edu_create(fa, cpu, PG, P2PMAP_EDU_IMP_PREFER_P2P, 0, &ia);
	if (!ret)
		ret = edu_create(fb, cpu, PG, P2PMAP_EDU_IMP_SYSMEM_ONLY, 0, &ib);
	if (!ret)
		ret = edu_map(fa, ia, 0, &m);
	if (ret) {
		FAIL_ERRNO(b, &l->st, -ret, "setting up the two imports");
		goto out;
	}
	if (m.p2p_pages != 1) {
		set_status(&l->st, ST_UNAVAILABLE,
			   "unavailable: the page is not mapped peer-to-peer (%llu P2P, %llu system pages; topology %s), so there is nothing to evict",
			   (unsigned long long)m.p2p_pages,
			   (unsigned long long)m.sysmem_pages, b->topology);
		goto out;
	}
	ret = edu_collect(fa, v, 0, &n, &l->dropped);
	l->dropped = 0;
	for (r = 0; !ret && r < b->o.lat_reps; r++) {
		ret = edu_map(fb, ib, 0, &m);
		if (!ret)
			ret = edu_map(fa, ia, 0, &m);
		if (!ret && (!m.rounds || m.p2p_pages != 1))
			ret = -EPROTO;
		if (!ret && (r + 1) % LAT_BATCH == 0)
			ret = edu_collect(fa, v, b->o.lat_reps, &n, &l->dropped);
	}
	if (!ret)
		ret = edu_collect(fa, v, b->o.lat_reps, &n, &l->dropped);
	if (!ret)
		ret = edu_info(fa, ia, &in);
	if (ret) {
		FAIL_ERRNO(b, &l->st, -ret, "round %u", r);
		goto out;
	}
	if (n != b->o.lat_reps || l->dropped ||
	    in.invalidations[P2PMAP_EDU_IMP_EV_EVICT] < b->o.lat_reps) {
		set_status(&l->st, ST_FAILED,
			   "%u samples, %llu dropped, %llu evictions for %u rounds",
			   n, (unsigned long long)l->dropped,
			   (unsigned long long)in.invalidations[P2PMAP_EDU_IMP_EV_EVICT],
			   b->o.lat_reps);
		b->failed = true;
		goto out;
	}
	lat_stats(l, v, n);
	set_status(&l->st, ST_OK, "ok");
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	if (cpu)
		munmap(cpu, PG);
	if (handle)
		gpu_bo_close(g, handle);
}

static void run_latency(struct bench *b)
{
	double *v = calloc(b->o.lat_reps, sizeof(*v));

	if (!v) {
		FAIL_ERRNO(b, &b->lat[0].st, ENOMEM, "sample buffer");
		FAIL_ERRNO(b, &b->lat[1].st, ENOMEM, "sample buffer");
		return;
	}
	progress(b, "latency: MADV_DONTNEED -> MAP, %u rounds", b->o.lat_reps);
	run_latency_cpu(b, &b->lat[0], v);
	progress(b, "latency: p2pgpu eviction -> MAP, %u rounds", b->o.lat_reps);
	run_latency_evict(b, &b->lat[1], v);
	free(v);
}

/* ---- part 3: peer copy ---------------------------------------------------- */

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	size_t i;

	for (i = 0; i < len; i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(p + i, &x, len - i < 4 ? len - i : 4);
	}
}

/*
 * gpu1's copy engine (DRM_IOCTL_P2PGPU_COPY) copies from the CPU mapping
 * of a gpu0 object into a gpu1 object, peer-to-peer through the switch;
 * against a CPU memcpy between the two objects' mappings and a memcpy
 * between two malloc buffers, same size, same run.
 */
static void run_copy(struct bench *b)
{
	struct copy_result *c = &b->copy;
	struct gpu *g0 = &b->gpu[0], *g1 = &b->gpu[1];
	size_t len = b->o.copy_bytes;
	uint32_t h0 = 0, h1 = 0;
	uint8_t *m0 = NULL, *m1 = NULL, *ra = NULL, *rb = NULL, *pat = NULL;
	unsigned int r, n = b->o.reps;
	double *v = NULL;
	int ret;

	c->bytes = len;
	c->reps = n;
	if (b->nr_gpus < 2) {
		set_status(&c->st, ST_UNAVAILABLE,
			   "unavailable: %u p2pgpu render node(s), two needed", b->nr_gpus);
		return;
	}
	if (len / PG > gpu_free_window_pages(g0) || len / PG > gpu_free_window_pages(g1)) {
		set_status(&c->st, ST_UNAVAILABLE,
			   "unavailable: %zu bytes do not fit both windows", len);
		return;
	}
	ret = gpu_bo_create(g0, len, &h0);
	if (!ret)
		ret = gpu_bo_create(g1, len, &h1);
	if (ret) {
		FAIL_ERRNO(b, &c->st, -ret, "BO_CREATE");
		goto out;
	}
	m0 = gpu_bo_map(g0, h0, len);
	m1 = gpu_bo_map(g1, h1, len);
	ra = malloc(len);
	rb = malloc(len);
	pat = malloc(len);
	v = calloc(4 * (size_t)n, sizeof(*v));
	if (!m0 || !m1 || !ra || !rb || !pat || !v) {
		FAIL_ERRNO(b, &c->st, errno ? errno : ENOMEM, "buffers");
		goto out;
	}
	fill(pat, len, 0x1234567u);
	memcpy(m0, pat, len);
	memset(m1, 0, len);
	memcpy(ra, pat, len);
	memset(rb, 0, len);

	for (r = 0; r <= n; r++) {	/* round 0 checks the data */
		struct drm_p2pgpu_copy cp = {
			.user_ptr = (uintptr_t)m0, .length = len, .handle = h1,
			.flags = P2PGPU_COPY_TO_BO, .policy = P2PGPU_COPY_PREFER_P2P,
		};
		uint64_t t0, t1, t2, t3;

		t0 = now_ns();
		ret = xioctl(g1->fd, DRM_IOCTL_P2PGPU_COPY, &cp);
		t1 = now_ns();
		if (ret && !r) {
			UNAVAIL_ERRNO(&c->st, -ret,
				      "unavailable: DRM_IOCTL_P2PGPU_COPY on gpu1 failed");
			goto out;
		}
		if (ret) {
			FAIL_ERRNO(b, &c->st, -ret, "DRM_IOCTL_P2PGPU_COPY round %u", r);
			goto out;
		}
		c->p2p_pages = cp.p2p_pages;
		c->sysmem_pages = cp.sysmem_pages;
		c->retries += cp.retries;
		if (!r) {
			c->data_ok = !memcmp(m1, pat, len);
			if (!c->data_ok) {
				set_status(&c->st, ST_FAILED,
					   "gpu1's object does not hold the copied bytes");
				b->failed = true;
				goto out;
			}
			continue;
		}
		t2 = now_ns();
		memcpy(m1, m0, len);
		t3 = now_ns();
		v[r - 1] = (double)cp.elapsed_ns;
		v[n + r - 1] = (double)(t1 - t0);
		v[2 * n + r - 1] = (double)(t3 - t2);
		t0 = now_ns();
		memcpy(rb, ra, len);
		t1 = now_ns();
		v[3 * n + r - 1] = (double)(t1 - t0);
		/* keep the compiler from dropping the copy */
		if (rb[len / 2] != ra[len / 2])
			c->data_ok = false;
	}
	c->copy.ns = median(v, n);
	c->copy.wall_ns = median(v + n, n);
	c->memcpy_bo_ns = median(v + 2 * n, n);
	c->memcpy_ram_ns = median(v + 3 * n, n);
	set_status(&c->st, ST_OK, "ok");
out:
	if (m0)
		munmap(m0, len);
	if (m1)
		munmap(m1, len);
	if (h0)
		gpu_bo_close(g0, h0);
	if (h1)
		gpu_bo_close(g1, h1);
	free(ra);
	free(rb);
	free(pat);
	free(v);
}

/* ---- part 4: scaling with live imports ------------------------------------ */

/*
 * Live imports: one page each of one big gpu0 object, SYSMEM_ONLY (so
 * mapping them never touches the window and never raises an exporter
 * event), each mapped once, so each is linked to gpu0's provider. At each
 * count it measures (i) create + map + destroy of one more import, of a
 * page of another object that is resident in the window, and (ii) an
 * exporter invalidation of one page exactly one import holds: a CPU read
 * of a held page that is not in the window makes p2pgpu place it there,
 * raising P2PMAP_EV_MOVE on that page, which must find and invalidate its
 * one importer among all the live ones (checked after each round).
 */
/*
 * One create + map + destroy of an import of the resident page @cpu on
 * edu file @efd: its wall time in ns, or -errno.
 */
static int64_t scale_lifecycle(int efd, uint8_t *cpu)
{
	struct p2pmap_edu_imp_map m;
	uint64_t t0, t1;
	uint32_t id;
	int ret;

	t0 = now_ns();
	ret = edu_create(efd, cpu, PG, P2PMAP_EDU_IMP_PREFER_P2P, 0, &id);
	if (!ret) {
		ret = edu_map(efd, id, 0, &m);
		if (edu_destroy(efd, id) && !ret)
			ret = -EIO;
	}
	t1 = now_ns();
	return ret ? ret : (int64_t)(t1 - t0);
}

/*
 * Move one page of the @n live imports of @cpu (ids @ids, never moved
 * before: @touched) into the window by a CPU read: the fault time in ns,
 * or -errno; -EPROTO (with @st set) if the import of that page did not see
 * exactly one move invalidation. @salt picks the page.
 */
static int64_t scale_invalidate(struct bench *b, struct status *st, int efd,
				uint8_t *cpu, const uint32_t *ids,
				uint8_t *touched, unsigned long n,
				unsigned long salt)
{
	unsigned long pg = (salt * 2654435761ul + n / 3) % n, tries;
	struct p2pmap_edu_imp_info in;
	volatile uint8_t *q;
	uint64_t t0, t1;
	int ret;

	for (tries = 0; touched[pg] && tries < n; tries++)
		pg = (pg + 1) % n;
	if (touched[pg])
		return -ENOSPC;
	touched[pg] = 1;
	q = cpu + pg * PG;
	t0 = now_ns();
	(void)*q;
	t1 = now_ns();
	ret = edu_info(efd, ids[pg], &in);
	if (ret)
		return ret;
	if (in.invalidations[P2PMAP_EDU_IMP_EV_MOVE] != 1 || in.nr_extents) {
		set_status(st, ST_FAILED,
			   "page %lu moved into the window but its import saw %llu move invalidations and holds %u extents",
			   pg,
			   (unsigned long long)in.invalidations[P2PMAP_EDU_IMP_EV_MOVE],
			   in.nr_extents);
		b->failed = true;
		return -EPROTO;
	}
	return (int64_t)(t1 - t0);
}

/*
 * The baseline on gpu1: @n live imports of one page each of a gpu1 object
 * (as on gpu0), on their own edu file, and a resident gpu1 page for the
 * lifecycle. 0, or -errno (the scaling then runs without a baseline).
 */
struct scale_base {
	int efd;
	uint32_t hf, hl, *ids;
	uint8_t *fcpu, *lcpu, *touched;
	unsigned long n;
};

static int scale_base_setup(struct bench *b, struct scale_base *sb,
			    unsigned long n)
{
	struct gpu *g = &b->gpu[1];
	struct status dummy = { 0 };
	unsigned long i;
	int ret;

	memset(sb, 0, sizeof(*sb));
	sb->efd = -1;
	if (b->nr_gpus < 2 || gpu_free_vram_pages(g) < n + 1)
		return -ENODEV;
	sb->efd = edu_open_for(b, &dummy);
	if (sb->efd < 0)
		return -ENODEV;
	ret = gpu_bo_create(g, n * PG, &sb->hf);
	if (!ret)
		ret = gpu_bo_create(g, PG, &sb->hl);
	if (ret)
		return ret;
	sb->fcpu = gpu_bo_map(g, sb->hf, n * PG);
	sb->lcpu = gpu_bo_map(g, sb->hl, PG);
	sb->ids = calloc(n, sizeof(*sb->ids));
	sb->touched = calloc(n, 1);
	if (!sb->fcpu || !sb->lcpu || !sb->ids || !sb->touched)
		return -ENOMEM;
	sb->lcpu[0] = 1;
	for (i = 0; i < n; i++) {
		struct p2pmap_edu_imp_map m;

		ret = edu_create(sb->efd, sb->fcpu + i * PG, PG,
				 P2PMAP_EDU_IMP_SYSMEM_ONLY, 0, &sb->ids[i]);
		if (!ret)
			ret = edu_map(sb->efd, sb->ids[i], 0, &m);
		if (!ret && m.sysmem_pages != 1)
			ret = -EPROTO;
		if (ret)
			return ret;
	}
	sb->n = n;
	return 0;
}

static void scale_base_free(struct bench *b, struct scale_base *sb, unsigned long n)
{
	if (sb->efd >= 0)
		close(sb->efd);
	if (sb->fcpu)
		munmap(sb->fcpu, n * PG);
	if (sb->lcpu)
		munmap(sb->lcpu, PG);
	if (sb->hf)
		gpu_bo_close(&b->gpu[1], sb->hf);
	if (sb->hl)
		gpu_bo_close(&b->gpu[1], sb->hl);
	free(sb->ids);
	free(sb->touched);
}

static void run_scaling(struct bench *b)
{
	struct scale_result *s = &b->scale;
	struct gpu *g = &b->gpu[0];
	unsigned long maxl = 0, live = 0, need, ntouched = 0;
	unsigned int i, r, reps = b->o.scale_reps;
	uint32_t hf = 0, hl = 0, *ids = NULL;
	uint8_t *fcpu = NULL, *lcpu = NULL, *touched = NULL;
	struct scale_base sb = { .efd = -1 };
	double *v = NULL;
	int efd = -1, ret;
	int64_t dt;
	uint64_t t0;

	for (i = 0; i < b->o.nr_live; i++)
		if (b->o.live[i] > maxl)
			maxl = b->o.live[i];
	if (b->nr_gpus < 1) {
		set_status(&s->st, ST_UNAVAILABLE, "unavailable: no p2pgpu render node");
		return;
	}
	if (b->edu_max_per_file < maxl + 1) {
		set_status(&s->st, ST_UNAVAILABLE,
			   "unavailable: p2pmap_edu_importer max_imports_per_file is %lu, %lu needed (load it with max_imports_per_file=%lu)",
			   b->edu_max_per_file, maxl + 1, maxl + 1);
		return;
	}
	need = maxl + 1;
	if (gpu_free_vram_pages(g) < need) {
		set_status(&s->st, ST_UNAVAILABLE,
			   "unavailable: gpu0 has %lu free device pages, %lu needed (load p2pgpu with vram_mb=%lu)",
			   gpu_free_vram_pages(g), need, (need * PG >> 20) + 64);
		return;
	}
	if (b->o.live[0] < 2 * reps) {
		set_status(&s->st, ST_UNAVAILABLE,
			   "unavailable: %lu live imports are too few for %u measurements per count",
			   b->o.live[0], reps);
		return;
	}
	efd = edu_open_for(b, &s->st);
	if (efd < 0)
		return;
	ret = gpu_bo_create(g, maxl * PG, &hf);
	if (!ret)
		ret = gpu_bo_create(g, PG, &hl);
	if (ret) {
		FAIL_ERRNO(b, &s->st, -ret, "BO_CREATE of %lu pages", maxl);
		goto out;
	}
	fcpu = gpu_bo_map(g, hf, maxl * PG);
	lcpu = gpu_bo_map(g, hl, PG);
	ids = calloc(maxl, sizeof(*ids));
	touched = calloc(maxl, 1);
	v = calloc(4 * (size_t)reps, sizeof(*v));
	if (!fcpu || !lcpu || !ids || !touched || !v) {
		FAIL_ERRNO(b, &s->st, errno ? errno : ENOMEM, "buffers");
		goto out;
	}
	lcpu[0] = 1;	/* resident in the window from now on */

	/*
	 * The baseline, measured alternately with gpu0 in the same rounds so
	 * that the ratios do not depend on how loaded the host was when each
	 * count was reached: gpu1 with the smallest count of live imports.
	 */
	progress(b, "scaling: baseline of %lu live imports on gpu1", b->o.live[0]);
	ret = scale_base_setup(b, &sb, b->o.live[0]);
	if (ret) {
		progress(b, "scaling: no gpu1 baseline (%s)", strerror(-ret));
		scale_base_free(b, &sb, b->o.live[0]);
		memset(&sb, 0, sizeof(sb));
		sb.efd = -1;
	}
	s->base_live = sb.n;

	for (i = 0; i < b->o.nr_live; i++) {
		struct scale_point *p = &s->pt[s->n];
		unsigned long target = b->o.live[i];

		progress(b, "scaling: growing to %lu live imports", target);
		t0 = now_ns();
		for (; live < target; live++) {
			struct p2pmap_edu_imp_map m;

			ret = edu_create(efd, fcpu + live * PG, PG,
					 P2PMAP_EDU_IMP_SYSMEM_ONLY, 0, &ids[live]);
			if (!ret)
				ret = edu_map(efd, ids[live], 0, &m);
			if (!ret && m.sysmem_pages != 1)
				ret = -EPROTO;
			if (ret) {
				FAIL_ERRNO(b, &s->st, -ret, "import %lu", live);
				goto out;
			}
		}
		p->live = target;
		p->setup_s = (double)(now_ns() - t0) / 1e9;
		p->reps = reps;
		progress(b, "scaling: %lu live imports (%.1f s); measuring", target,
			 p->setup_s);

		for (r = 0; r <= reps; r++) {	/* round 0 warms up */
			dt = scale_lifecycle(efd, lcpu);
			if (dt < 0) {
				FAIL_ERRNO(b, &s->st, (int)-dt,
					   "create+map+destroy at %lu live", target);
				goto out;
			}
			if (r)
				v[r - 1] = (double)dt;
			if (!sb.n)
				continue;
			dt = scale_lifecycle(sb.efd, sb.lcpu);
			if (dt < 0) {
				FAIL_ERRNO(b, &s->st, (int)-dt,
					   "baseline create+map+destroy");
				goto out;
			}
			if (r)
				v[2 * reps + r - 1] = (double)dt;
		}
		p->lifecycle_ns = median(v, reps);
		p->base_lifecycle_ns = sb.n ? median(v + 2 * reps, reps) : 0;

		if (ntouched + reps > target) {
			set_status(&s->st, ST_UNAVAILABLE,
				   "unavailable: %lu live imports leave fewer than %u untouched pages",
				   target, reps);
			goto out;
		}
		for (r = 0; r < reps; r++) {
			dt = scale_invalidate(b, &s->st, efd, fcpu, ids, touched,
					      target, r);
			if (dt < 0) {
				if (dt != -EPROTO)
					FAIL_ERRNO(b, &s->st, (int)-dt,
						   "invalidation at %lu live", target);
				goto out;
			}
			ntouched++;
			v[reps + r] = (double)dt;
			if (!sb.n)
				continue;
			dt = scale_invalidate(b, &s->st, sb.efd, sb.fcpu, sb.ids,
					      sb.touched, sb.n, r + i * reps);
			if (dt < 0) {
				if (dt != -EPROTO)
					FAIL_ERRNO(b, &s->st, (int)-dt,
						   "baseline invalidation");
				goto out;
			}
			v[3 * reps + r] = (double)dt;
		}
		p->inval_ns = median(v + reps, reps);
		p->base_inval_ns = sb.n ? median(v + 3 * reps, reps) : 0;
		s->n++;
	}
	progress(b, "scaling: closing the file with %lu imports", live);
	t0 = now_ns();
	close(efd);
	efd = -1;
	s->teardown_s = (double)(now_ns() - t0) / 1e9;
	for (r = 0; sb.n && r < reps; r++) {
		dt = scale_lifecycle(sb.efd, sb.lcpu);
		if (dt < 0) {
			FAIL_ERRNO(b, &s->st, (int)-dt, "baseline create+map+destroy after teardown");
			goto out;
		}
		v[r] = (double)dt;
		dt = scale_invalidate(b, &s->st, sb.efd, sb.fcpu, sb.ids,
				      sb.touched, sb.n, r + MAX_POINTS * reps);
		if (dt < 0) {
			if (dt != -EPROTO)
				FAIL_ERRNO(b, &s->st, (int)-dt,
					   "baseline invalidation after teardown");
			goto out;
		}
		v[reps + r] = (double)dt;
	}
	if (sb.n) {
		s->base_after_lifecycle_ns = median(v, reps);
		s->base_after_inval_ns = median(v + reps, reps);
	}
	set_status(&s->st, ST_OK, "ok");
out:
	scale_base_free(b, &sb, b->o.live[0]);
	if (efd >= 0)
		close(efd);
	if (fcpu)
		munmap(fcpu, maxl * PG);
	if (lcpu)
		munmap(lcpu, PG);
	if (hf)
		gpu_bo_close(g, hf);
	if (hl)
		gpu_bo_close(g, hl);
	free(ids);
	free(touched);
	free(v);
}

/* ---- targets -------------------------------------------------------------- */

enum verdict { V_PASS, V_MISS, V_UNAVAILABLE };

struct target {
	const char *name;
	const char *goal;
	char metric[200];
	double value;
	double limit;
	bool at_most;
	enum verdict v;
};

#define NR_TARGETS	4

static const char *const verdict_names[] = { "PASS", "MISS", "UNAVAILABLE" };

static void judge(struct target *t, bool have, double value)
{
	t->value = value;
	if (!have)
		t->v = V_UNAVAILABLE;
	else if (t->at_most)
		t->v = value <= t->limit ? V_PASS : V_MISS;
	else
		t->v = value >= t->limit ? V_PASS : V_MISS;
}

static double bw_mbps(size_t bytes, double ns)
{
	return ns > 0 ? (double)bytes / ns * 1e9 / 1e6 : 0;
}

static void compute_targets(const struct bench *b, struct target *t)
{
	const struct scale_result *s = &b->scale;
	const struct copy_result *c = &b->copy;
	double worst = 0;
	unsigned long worst_pages = 0;
	bool have = false, worst_thp = false;
	unsigned int i;

	t[0] = (struct target){ .name = "import_vs_page_walk",
		.goal = "import costs at most 1.5x the baseline page walk",
		.limit = 1.5, .at_most = true };
	for (i = 0; i < 2 * b->o.nr_sizes; i++) {
		const struct tp_point *p = i < b->o.nr_sizes ? &b->sys[i] :
					   &b->thp[i - b->o.nr_sizes];
		double ratio;

		if (p->st.kind != ST_OK || p->base_wall_ns <= 0)
			continue;
		ratio = p->map_wall_ns / p->base_wall_ns;
		if (!have || ratio > worst) {
			worst = ratio;
			worst_pages = p->pages;
			worst_thp = i >= b->o.nr_sizes;
		}
		have = true;
	}
	if (have)
		snprintf(t[0].metric, sizeof(t[0].metric),
			 "worst over range sizes and page layouts of MAP wall time / HMM_DMIRROR_SNAPSHOT wall time, medians (at %lu pages, %s)",
			 worst_pages, worst_thp ? "transparent huge pages" : "4 KiB pages");
	else
		snprintf(t[0].metric, sizeof(t[0].metric),
			 "worst over range sizes and page layouts of MAP wall time / HMM_DMIRROR_SNAPSHOT wall time, medians");
	judge(&t[0], have, worst);

	t[1] = (struct target){ .name = "invalidate_lookup_scaling",
		.goal = "lookup cost at 100k live imports is within 2x of that at 1k",
		.limit = 2.0, .at_most = true };
	t[2] = (struct target){ .name = "import_lifecycle_scaling",
		.goal = "create+map+destroy of one import at 100k live imports is within 2x of that at 1k",
		.limit = 2.0, .at_most = true };
	have = s->st.kind == ST_OK && s->n >= 2 && s->pt[0].inval_ns > 0 &&
	       s->pt[0].lifecycle_ns > 0;
	if (have && s->base_live) {
		/* side by side: gpu0 at the largest count, gpu1 at the baseline */
		const struct scale_point *last = &s->pt[s->n - 1];

		snprintf(t[1].metric, sizeof(t[1].metric),
			 "exporter invalidation of one page held by one import, median with %lu live imports (gpu0) / with %lu (gpu1), alternated in the same rounds",
			 last->live, s->base_live);
		judge(&t[1], last->base_inval_ns > 0,
		      last->base_inval_ns > 0 ?
		      last->inval_ns / last->base_inval_ns : 0);
		snprintf(t[2].metric, sizeof(t[2].metric),
			 "create+map+destroy of one import, median with %lu live imports (gpu0) / with %lu (gpu1), alternated in the same rounds",
			 last->live, s->base_live);
		judge(&t[2], last->base_lifecycle_ns > 0,
		      last->base_lifecycle_ns > 0 ?
		      last->lifecycle_ns / last->base_lifecycle_ns : 0);
		goto copy_target;
	}
	if (have)
		snprintf(t[1].metric, sizeof(t[1].metric),
			 "exporter invalidation of one page held by one import, median at %lu / at %lu live imports",
			 s->pt[s->n - 1].live, s->pt[0].live);
	else
		snprintf(t[1].metric, sizeof(t[1].metric),
			 "exporter invalidation of one page held by one import, median at the largest / the smallest live-import count");
	judge(&t[1], have, have ? s->pt[s->n - 1].inval_ns / s->pt[0].inval_ns : 0);
	if (have)
		snprintf(t[2].metric, sizeof(t[2].metric),
			 "create+map+destroy of one import, median at %lu / at %lu live imports",
			 s->pt[s->n - 1].live, s->pt[0].live);
	else
		snprintf(t[2].metric, sizeof(t[2].metric),
			 "create+map+destroy of one import, median at the largest / the smallest live-import count");
	judge(&t[2], have,
	      have ? s->pt[s->n - 1].lifecycle_ns / s->pt[0].lifecycle_ns : 0);

copy_target:
	t[3] = (struct target){ .name = "peer_copy_vs_memcpy",
		.goal = "P2P peer copy reaches at least 0.9x of local memcpy in the VM",
		.limit = 0.9, .at_most = false };
	have = c->st.kind == ST_OK && c->copy.ns > 0 && c->memcpy_ram_ns > 0;
	snprintf(t[3].metric, sizeof(t[3].metric),
		 "DRM_IOCTL_P2PGPU_COPY bandwidth (elapsed_ns) / malloc-to-malloc memcpy bandwidth, %zu bytes",
		 c->bytes);
	judge(&t[3], have,
	      have ? bw_mbps(c->bytes, c->copy.ns) / bw_mbps(c->bytes, c->memcpy_ram_ns) : 0);
}

/* ---- JSON ----------------------------------------------------------------- */

/* A minimal JSON writer: nesting and commas are tracked per level. */
/*
 * A small streaming JSON writer rather than json-c (which p2pmapctl uses):
 * the VM's bench suite reads this document with awk (the initramfs has no
 * python or jq), one "key": value per line, and every figure is printed at
 * a fixed precision (%.0f ns, %.4f ratios). json-c's pretty printer puts
 * empty containers on one line and prints doubles with %.17g unless each
 * gets its own string (json_object_new_double_s()), so it would need a
 * formatted string per number and a different reader in the suite.
 */
struct jw {
	FILE *f;
	int depth;
	bool first[16];
};

static void jw_key(struct jw *w, const char *key)
{
	const char *p;

	if (!w->first[w->depth])
		fputc(',', w->f);
	if (w->depth)
		fputc('\n', w->f);
	w->first[w->depth] = false;
	fprintf(w->f, "%*s", 2 * w->depth, "");
	if (!key)
		return;
	fputc('"', w->f);
	for (p = key; *p; p++)
		fputc(*p, w->f);
	fputs("\": ", w->f);
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	fputc(c, w->f);
	w->first[++w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	bool empty = w->first[w->depth];

	w->depth--;
	if (!empty)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	fputc(c, w->f);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	fputc('"', w->f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(w->f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(w->f, "\\u%04x", ch);
		else
			fputc(ch, w->f);
	}
	fputc('"', w->f);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

/* Non-negative measurement in ns (or any count), rounded. */
static void jw_ns(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	fprintf(w->f, "%.0f", v < 0 ? 0 : v);
}

static void jw_num(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	fprintf(w->f, "%.4f", v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

static const char *status_text(const struct status *s)
{
	return s->kind == ST_NOTRUN ? "not run" : s->why;
}

static double rate(unsigned long pages, double ns)
{
	return ns > 0 ? (double)pages / ns * 1e9 : 0;
}

static void json_tp_points(struct jw *w, const char *key,
			   const struct tp_point *pts, unsigned int n, bool bo)
{
	unsigned int i;

	jw_open(w, key, '[');
	for (i = 0; i < n; i++) {
		const struct tp_point *p = &pts[i];

		jw_open(w, NULL, '{');
		jw_u64(w, "pages", p->pages);
		jw_str(w, "status", status_text(&p->st));
		if (p->st.kind == ST_OK) {
			jw_ns(w, "map_ns_median", p->map_ns);
			jw_ns(w, "map_wall_ns_median", p->map_wall_ns);
			if (!bo) {
				jw_ns(w, "map_wall_ns_min", p->map_wall_min_ns);
				jw_ns(w, "map_wall_ns_p90", p->map_wall_p90_ns);
			}
			jw_num(w, "import_pages_per_s", rate(p->pages, p->map_wall_ns));
			jw_num(w, "map_ns_per_page", p->map_ns / (double)p->pages);
			jw_u64(w, "extents", p->extents);
			jw_u64(w, "p2p_pages", p->p2p_pages);
			jw_u64(w, "sysmem_pages", p->sysmem_pages);
			if (bo) {
				jw_ns(w, "first_map_ns", p->first_map_ns);
				jw_u64(w, "first_map_placed_pages", p->placed);
			} else {
				jw_ns(w, "remap_ns_median", p->remap_ns);
				jw_ns(w, "create_wall_ns_median", p->create_wall_ns);
				jw_ns(w, "destroy_wall_ns_median", p->destroy_wall_ns);
				if (p->base_wall_ns > 0) {
					jw_ns(w, "baseline_wall_ns_median", p->base_wall_ns);
					jw_ns(w, "baseline_wall_ns_min", p->base_wall_min_ns);
					jw_ns(w, "baseline_wall_ns_p90", p->base_wall_p90_ns);
					jw_num(w, "baseline_pages_per_s",
					       rate(p->pages, p->base_wall_ns));
					jw_num(w, "ratio_import_to_baseline",
					       p->map_wall_ns / p->base_wall_ns);
					jw_num(w, "ratio_import_to_baseline_paired",
					       p->ratio_paired);
				} else {
					jw_null(w, "baseline_wall_ns_median");
					jw_null(w, "baseline_pages_per_s");
					jw_null(w, "ratio_import_to_baseline");
					jw_null(w, "ratio_import_to_baseline_paired");
				}
			}
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void write_json(const struct bench *b, const struct target *t, FILE *f)
{
	struct jw w = { .f = f, .first = { true } };
	const struct copy_result *c = &b->copy;
	const struct scale_result *s = &b->scale;
	unsigned int i;

	jw_open(&w, NULL, '{');
	jw_str(&w, "tool", "p2pmap-bench");
	jw_u64(&w, "schema", 1);
	jw_str(&w, "mode", b->o.quick ? "quick" : "full");
	jw_str(&w, "command", b->command);
	jw_str(&w, "date", b->date);

	jw_open(&w, "environment", '{');
	jw_str(&w, "kernel", b->kernel);
	jw_str(&w, "hypervisor", b->hypervisor);
	jw_str(&w, "topology", b->topology);
	jw_u64(&w, "cpus", (uint64_t)b->cpus);
	jw_u64(&w, "mem_kb", b->mem_kb);
	jw_bool(&w, "kasan", b->kasan);
	jw_bool(&w, "lockdep", b->lockdep);
	jw_bool(&w, "kmemleak", b->kmemleak);
	jw_bool(&w, "dma_api_debug", b->dma_debug);
	jw_str(&w, "kernel_cc_optimization", b->cc_os ? "-Os" : "-O2");
	jw_u64(&w, "edu_imp_abi", b->edu_abi);
	jw_u64(&w, "edu_imp_max_imports_per_file", b->edu_max_per_file);
	jw_open(&w, "gpus", '[');
	for (i = 0; i < b->nr_gpus; i++) {
		const struct gpu *g = &b->gpu[i];

		jw_open(&w, NULL, '{');
		jw_str(&w, "pci", g->pci);
		jw_u64(&w, "render_minor", (uint64_t)g->minor);
		jw_u64(&w, "window_bytes", g->info.window_total);
		jw_u64(&w, "vram_bytes", g->info.vram_total);
		jw_u64(&w, "min_residency_ms", g->info.min_residency_ms);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');

	jw_open(&w, "parameters", '{');
	jw_u64(&w, "reps", b->o.reps);
	jw_u64(&w, "import_reps", b->o.import_reps);
	jw_u64(&w, "latency_rounds", b->o.lat_reps);
	jw_u64(&w, "scaling_reps", b->o.scale_reps);
	jw_open(&w, "sizes_pages", '[');
	for (i = 0; i < b->o.nr_sizes; i++)
		jw_u64(&w, NULL, b->o.sizes[i]);
	jw_close(&w, ']');
	jw_open(&w, "live_imports", '[');
	for (i = 0; i < b->o.nr_live; i++)
		jw_u64(&w, NULL, b->o.live[i]);
	jw_close(&w, ']');
	jw_u64(&w, "copy_bytes", b->o.copy_bytes);
	jw_close(&w, '}');

	jw_open(&w, "import_throughput", '{');
	jw_str(&w, "status", status_text(&b->import_st));
	jw_str(&w, "method", "edu importer MAP ioctl (p2pmap_import_begin, p2pmap_import_map_and_lock; no device DMA, every extent DMA-mapped) on a fresh import per round, wall time of an untimed MAP (no clock read in the kernel); kernel time from a second fresh import timed by the ioctl; median of import_reps rounds, and the median of the per-round ratios (paired)");
	jw_str(&w, "baseline", "test_hmm HMM_DMIRROR_SNAPSHOT over the same faulted-in pages (hmm_range_fault without faulting, 64-page batches)");
	jw_str(&w, "baseline_status", status_text(&b->base_st));
	jw_str(&w, "sysmem_layout", "4 KiB pages faulted even pages first, so neighbours are not physically adjacent (one extent per page)");
	json_tp_points(&w, "sysmem", b->sys, b->o.nr_sizes, false);
	jw_str(&w, "sysmem_thp_layout", "2 MiB aligned, MADV_HUGEPAGE (transparent huge pages; extents show what was obtained)");
	json_tp_points(&w, "sysmem_thp", b->thp, b->o.nr_sizes, false);
	jw_str(&w, "p2p_bo_status", status_text(&b->bo_st));
	json_tp_points(&w, "p2p_bo", b->bo, b->o.nr_sizes, true);
	jw_close(&w, '}');

	jw_open(&w, "import_cost_vs_size", '[');
	for (i = 0; i < b->o.nr_sizes; i++) {
		jw_open(&w, NULL, '{');
		jw_u64(&w, "pages", b->o.sizes[i]);
		if (b->sys[i].st.kind == ST_OK)
			jw_num(&w, "sysmem_ns_per_page", b->sys[i].map_ns / (double)b->sys[i].pages);
		else
			jw_null(&w, "sysmem_ns_per_page");
		if (b->thp[i].st.kind == ST_OK)
			jw_num(&w, "sysmem_thp_ns_per_page", b->thp[i].map_ns / (double)b->thp[i].pages);
		else
			jw_null(&w, "sysmem_thp_ns_per_page");
		if (b->bo[i].st.kind == ST_OK)
			jw_num(&w, "p2p_bo_ns_per_page", b->bo[i].map_ns / (double)b->bo[i].pages);
		else
			jw_null(&w, "p2p_bo_ns_per_page");
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "latency", '{');
	for (i = 0; i < LAT_SOURCES; i++) {
		const struct lat_result *l = &b->lat[i];

		jw_open(&w, l->name ? l->name : (i ? "exporter_evict" : "cpu_madv_dontneed"), '{');
		jw_str(&w, "status", status_text(&l->st));
		jw_str(&w, "source", l->what ? l->what : "");
		if (l->st.kind == ST_OK) {
			jw_u64(&w, "samples", l->n);
			jw_ns(&w, "min_ns", l->min);
			jw_ns(&w, "p50_ns", l->p50);
			jw_ns(&w, "p90_ns", l->p90);
			jw_ns(&w, "p99_ns", l->p99);
			jw_ns(&w, "max_ns", l->max);
			jw_ns(&w, "mean_ns", l->mean);
		}
		jw_close(&w, '}');
	}
	jw_close(&w, '}');

	jw_open(&w, "peer_copy", '{');
	jw_str(&w, "status", status_text(&c->st));
	jw_u64(&w, "bytes", c->bytes);
	if (c->st.kind == ST_OK) {
		jw_u64(&w, "reps", c->reps);
		jw_ns(&w, "copy_elapsed_ns_median", c->copy.ns);
		jw_ns(&w, "copy_wall_ns_median", c->copy.wall_ns);
		jw_num(&w, "copy_mb_per_s", bw_mbps(c->bytes, c->copy.ns));
		jw_num(&w, "copy_wall_mb_per_s", bw_mbps(c->bytes, c->copy.wall_ns));
		jw_u64(&w, "copy_p2p_pages", c->p2p_pages);
		jw_u64(&w, "copy_sysmem_pages", c->sysmem_pages);
		jw_u64(&w, "copy_retries", c->retries);
		jw_bool(&w, "copy_data_verified", c->data_ok);
		jw_ns(&w, "memcpy_mappings_ns_median", c->memcpy_bo_ns);
		jw_num(&w, "memcpy_mappings_mb_per_s", bw_mbps(c->bytes, c->memcpy_bo_ns));
		jw_ns(&w, "memcpy_ram_ns_median", c->memcpy_ram_ns);
		jw_num(&w, "memcpy_ram_mb_per_s", bw_mbps(c->bytes, c->memcpy_ram_ns));
		jw_num(&w, "ratio_copy_to_memcpy_ram",
		       bw_mbps(c->bytes, c->copy.ns) / bw_mbps(c->bytes, c->memcpy_ram_ns));
		jw_num(&w, "ratio_copy_to_memcpy_mappings",
		       bw_mbps(c->bytes, c->copy.ns) / bw_mbps(c->bytes, c->memcpy_bo_ns));
		jw_num(&w, "ratio_copy_wall_to_memcpy_ram",
		       bw_mbps(c->bytes, c->copy.wall_ns) / bw_mbps(c->bytes, c->memcpy_ram_ns));
	}
	jw_close(&w, '}');

	jw_open(&w, "scaling", '{');
	jw_str(&w, "status", status_text(&s->st));
	jw_str(&w, "method", "live imports: one page each of a gpu0 object, SYSMEM_ONLY, mapped once (linked to the provider); lifecycle: create+map+destroy of one more import of a resident page; invalidation: CPU read of a held page makes p2pgpu place it in the window (P2PMAP_EV_MOVE on one page held by exactly one import)");
	jw_u64(&w, "baseline_live_imports", s->base_live);
	if (s->base_live) {
		jw_ns(&w, "baseline_after_teardown_lifecycle_ns_median",
		      s->base_after_lifecycle_ns);
		jw_ns(&w, "baseline_after_teardown_invalidate_ns_median",
		      s->base_after_inval_ns);
	}
	jw_open(&w, "points", '[');
	for (i = 0; i < s->n; i++) {
		const struct scale_point *p = &s->pt[i];

		jw_open(&w, NULL, '{');
		jw_u64(&w, "live_imports", p->live);
		jw_num(&w, "setup_s", p->setup_s);
		jw_u64(&w, "reps", p->reps);
		jw_ns(&w, "lifecycle_ns_median", p->lifecycle_ns);
		jw_ns(&w, "invalidate_ns_median", p->inval_ns);
		if (s->base_live) {
			jw_ns(&w, "baseline_lifecycle_ns_median",
			      p->base_lifecycle_ns);
			jw_ns(&w, "baseline_invalidate_ns_median",
			      p->base_inval_ns);
		}
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	if (s->st.kind == ST_OK)
		jw_num(&w, "teardown_s", s->teardown_s);
	jw_close(&w, '}');

	jw_open(&w, "targets", '[');
	for (i = 0; i < NR_TARGETS; i++) {
		jw_open(&w, NULL, '{');
		jw_str(&w, "name", t[i].name);
		jw_str(&w, "goal", t[i].goal);
		jw_str(&w, "metric", t[i].metric);
		if (t[i].v == V_UNAVAILABLE)
			jw_null(&w, "value");
		else
			jw_num(&w, "value", t[i].value);
		jw_str(&w, "limit", t[i].at_most ? "<=" : ">=");
		jw_num(&w, "limit_value", t[i].limit);
		jw_str(&w, "result", verdict_names[t[i].v]);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_bool(&w, "failed", b->failed);
	jw_bool(&w, "complete", true);
	jw_close(&w, '}');
	fputc('\n', f);
}

/* ---- table ---------------------------------------------------------------- */

static void fmt_ns(char *buf, size_t len, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, len, "%.2f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else
		snprintf(buf, len, "%.0f ns", ns);
}

static void table_sysmem(FILE *f, const char *layout, const struct tp_point *pts,
			 unsigned int n)
{
	unsigned int i;
	char x[3][32];

	fprintf(f, "  %-23s %7s %10s %10s %12s %10s %12s %6s %6s\n", layout,
		"extents", "map kernel", "map wall", "import pg/s", "snapshot",
		"snapshot pg/s", "ratio", "paired");
	for (i = 0; i < n; i++) {
		const struct tp_point *p = &pts[i];

		if (p->st.kind != ST_OK) {
			fprintf(f, "  %17lu pages %s\n", p->pages, status_text(&p->st));
			continue;
		}
		fmt_ns(x[0], sizeof(x[0]), p->map_ns);
		fmt_ns(x[1], sizeof(x[1]), p->map_wall_ns);
		fmt_ns(x[2], sizeof(x[2]), p->base_wall_ns);
		if (p->base_wall_ns > 0)
			fprintf(f, "  %17lu pages %7u %10s %10s %12.0f %10s %12.0f %6.2f %6.2f\n",
				p->pages, p->extents, x[0], x[1],
				rate(p->pages, p->map_wall_ns), x[2],
				rate(p->pages, p->base_wall_ns),
				p->map_wall_ns / p->base_wall_ns, p->ratio_paired);
		else
			fprintf(f, "  %17lu pages %7u %10s %10s %12.0f %10s %12s %6s %6s\n",
				p->pages, p->extents, x[0], x[1],
				rate(p->pages, p->map_wall_ns), "-", "-", "-", "-");
	}
}

static void write_table(const struct bench *b, const struct target *t, FILE *f)
{
	const struct copy_result *c = &b->copy;
	const struct scale_result *s = &b->scale;
	char x[5][32];
	unsigned int i;

	fprintf(f, "p2pmap-bench (%s) %s\n", b->o.quick ? "quick" : "full", b->date);
	fprintf(f, "kernel %s; hypervisor %s; topology %s; %d CPUs, %lu MiB\n",
		b->kernel, b->hypervisor, b->topology, b->cpus, b->mem_kb >> 10);
	fprintf(f, "debug kernel: KASAN %s, lockdep %s, kmemleak %s, DMA-API debug %s; compiled %s\n\n",
		b->kasan ? "on" : "off", b->lockdep ? "on" : "off",
		b->kmemleak ? "on" : "off", b->dma_debug ? "on" : "off",
		b->cc_os ? "-Os" : "-O2");

	fprintf(f, "Import throughput, system memory: edu MAP vs test_hmm SNAPSHOT (median of %u)\n",
		b->o.import_reps);
	if (b->import_st.kind != ST_OK)
		fprintf(f, "  %s\n", status_text(&b->import_st));
	if (b->base_st.kind != ST_OK)
		fprintf(f, "  baseline %s\n", status_text(&b->base_st));
	table_sysmem(f, "4 KiB pages, scattered", b->sys, b->o.nr_sizes);
	table_sysmem(f, "transparent huge pages", b->thp, b->o.nr_sizes);

	fprintf(f, "\nImport throughput, p2pgpu object on gpu0 (resident pages, PREFER_P2P)\n");
	if (b->bo_st.kind != ST_OK)
		fprintf(f, "  %s\n", status_text(&b->bo_st));
	fprintf(f, "  %7s %12s %12s %14s %9s %9s %14s\n", "pages", "map kernel",
		"map wall", "import pg/s", "p2p", "sysmem", "first (placing)");
	for (i = 0; i < b->o.nr_sizes && b->bo_st.kind == ST_OK; i++) {
		const struct tp_point *p = &b->bo[i];

		if (p->st.kind != ST_OK) {
			fprintf(f, "  %7lu %s\n", p->pages, status_text(&p->st));
			continue;
		}
		fmt_ns(x[0], sizeof(x[0]), p->map_ns);
		fmt_ns(x[1], sizeof(x[1]), p->map_wall_ns);
		fmt_ns(x[2], sizeof(x[2]), p->first_map_ns);
		fprintf(f, "  %7lu %12s %12s %14.0f %9" PRIu64 " %9" PRIu64 " %14s\n",
			p->pages, x[0], x[1], rate(p->pages, p->map_wall_ns),
			p->p2p_pages, p->sysmem_pages, x[2]);
	}

	fprintf(f, "\nInvalidation -> revalidation latency\n");
	fprintf(f, "  %-20s %6s %10s %10s %10s %10s\n", "source", "n", "p50", "p90",
		"p99", "max");
	for (i = 0; i < LAT_SOURCES; i++) {
		const struct lat_result *l = &b->lat[i];

		if (l->st.kind != ST_OK) {
			fprintf(f, "  %-20s %s\n", l->name ? l->name : "?", status_text(&l->st));
			continue;
		}
		fmt_ns(x[0], sizeof(x[0]), l->p50);
		fmt_ns(x[1], sizeof(x[1]), l->p90);
		fmt_ns(x[2], sizeof(x[2]), l->p99);
		fmt_ns(x[3], sizeof(x[3]), l->max);
		fprintf(f, "  %-20s %6u %10s %10s %10s %10s\n", l->name, l->n, x[0],
			x[1], x[2], x[3]);
	}

	fprintf(f, "\nPeer copy, %zu bytes (median of %u)\n", c->bytes, c->reps);
	if (c->st.kind != ST_OK) {
		fprintf(f, "  %s\n", status_text(&c->st));
	} else {
		fmt_ns(x[0], sizeof(x[0]), c->copy.ns);
		fmt_ns(x[1], sizeof(x[1]), c->copy.wall_ns);
		fmt_ns(x[2], sizeof(x[2]), c->memcpy_bo_ns);
		fmt_ns(x[3], sizeof(x[3]), c->memcpy_ram_ns);
		fprintf(f, "  gpu1 COPY from gpu0 mapping: %s (%.1f MB/s), wall %s (%.1f MB/s), %" PRIu64 " P2P pages\n",
			x[0], bw_mbps(c->bytes, c->copy.ns), x[1],
			bw_mbps(c->bytes, c->copy.wall_ns), c->p2p_pages);
		fprintf(f, "  memcpy gpu0 -> gpu1 mappings: %s (%.1f MB/s)\n", x[2],
			bw_mbps(c->bytes, c->memcpy_bo_ns));
		fprintf(f, "  memcpy malloc -> malloc:      %s (%.1f MB/s)\n", x[3],
			bw_mbps(c->bytes, c->memcpy_ram_ns));
	}

	fprintf(f, "\nScaling with live imports (median of %u)\n", b->o.scale_reps);
	if (s->st.kind != ST_OK)
		fprintf(f, "  %s\n", status_text(&s->st));
	if (s->base_live)
		fprintf(f, "  baseline, alternated in the same rounds: gpu1 with %lu live imports\n",
			s->base_live);
	fprintf(f, "  %8s %10s %14s %22s %20s %16s %16s\n", "live", "setup",
		"imports/s", "create+map+destroy", "invalidate 1 page",
		"base c+m+d", "base invalidate");
	for (i = 0; i < s->n; i++) {
		const struct scale_point *p = &s->pt[i];
		unsigned long added = p->live - (i ? s->pt[i - 1].live : 0);

		fmt_ns(x[0], sizeof(x[0]), p->lifecycle_ns);
		fmt_ns(x[1], sizeof(x[1]), p->inval_ns);
		fmt_ns(x[2], sizeof(x[2]), p->base_lifecycle_ns);
		fmt_ns(x[3], sizeof(x[3]), p->base_inval_ns);
		fprintf(f, "  %8lu %9.1fs %14.0f %22s %20s %16s %16s\n", p->live,
			p->setup_s, p->setup_s > 0 ? added / p->setup_s : 0, x[0],
			x[1], s->base_live ? x[2] : "-",
			s->base_live ? x[3] : "-");
	}
	if (s->base_live && s->st.kind == ST_OK) {
		fmt_ns(x[0], sizeof(x[0]), s->base_after_lifecycle_ns);
		fmt_ns(x[1], sizeof(x[1]), s->base_after_inval_ns);
		fprintf(f, "  baseline again after gpu0's imports were closed: c+m+d %s, invalidate %s\n",
			x[0], x[1]);
	}

	fprintf(f, "\nTargets\n");
	for (i = 0; i < NR_TARGETS; i++) {
		if (t[i].v == V_UNAVAILABLE)
			fprintf(f, "  %-11s %s\n", verdict_names[t[i].v], t[i].goal);
		else
			fprintf(f, "  %-11s %s: %.2f (%s %.2f)\n", verdict_names[t[i].v],
				t[i].goal, t[i].value, t[i].at_most ? "<=" : ">=",
				t[i].limit);
		fprintf(f, "              %s\n", t[i].metric);
	}
}

/* ---- command line --------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    p2pmap-bench - measure p2pmap import, invalidation and peer-copy costs\n"
"\n"
"SYNOPSIS\n"
"    p2pmap-bench [--quick|--full] [--json FILE] [--table FILE] [--reps N]\n"
"                 [--import-reps N] [--latency-rounds N] [--scaling-reps N]\n"
"                 [--sizes LIST]\n"
"                 [--live LIST] [--copy-bytes N] [--only LIST] [--verbose]\n"
"\n"
"DESCRIPTION\n"
"    Runs in the p2pmap test VM with p2pmap.ko, p2pgpu.ko (two GPUs),\n"
"    p2pmap_edu_importer.ko and test_hmm.ko loaded, and measures:\n"
"\n"
"    import      import throughput in pages per second: the edu importer's\n"
"                MAP ioctl (resolve and DMA-map, no DMA) on a fresh import\n"
"                of faulted-in anonymous memory, against test_hmm's\n"
"                HMM_DMIRROR_SNAPSHOT (hmm_range_fault) over the same pages\n"
"                (the ratio of the medians; also each side's fastest round\n"
"                and 90th percentile, and the paired ratio: the median of\n"
"                each round's MAP over the same round's SNAPSHOT);\n"
"                and the import of a p2pgpu object on gpu0 (P2P placement)\n"
"    latency     invalidation-to-revalidation time (the importer's\n"
"                invalidate callback to the end of the next map):\n"
"                MADV_DONTNEED on system memory, and p2pgpu evicting a\n"
"                P2P-mapped page; p50/p90/p99/max\n"
"    copy        DRM_IOCTL_P2PGPU_COPY: gpu1 copies from a CPU mapping of a\n"
"                gpu0 object, against memcpy between the two mappings and\n"
"                between two malloc buffers\n"
"    scaling     with N live imports linked to gpu0's provider: the cost of\n"
"                create+map+destroy of one more import, and of an exporter\n"
"                invalidation of one page that exactly one import holds\n"
"\n"
"    Each target of the benchmark is printed with PASS or MISS from the\n"
"    measured ratio (UNAVAILABLE when a part could not run, with the\n"
"    reason). A part that cannot run here (missing device, module, ioctl)\n"
"    is reported as \"unavailable: <reason>\", never as a figure.\n"
"\n"
"OPTIONS\n"
"    --full             the full run, with the defaults below (the default)\n"
"    --quick            small run for a smoke test: sizes 16,256,1024 pages,\n"
"                       3 reps, 5 import rounds, 40 latency rounds,\n"
"                       5 scaling reps, live imports 200,2000, 256 KiB\n"
"                       copies\n"
"    --json FILE        write the JSON document to FILE (default: stdout)\n"
"    --table FILE       write the table to FILE (default: stderr)\n"
"    --reps N           repetitions per measurement (default 11)\n"
"    --import-reps N    rounds per size of the system-memory import against\n"
"                       the page walk (default 101; each round is a few\n"
"                       microseconds at 16 pages, so its median needs more\n"
"                       rounds than --reps gives)\n"
"    --latency-rounds N invalidate/revalidate rounds per source (default 300)\n"
"    --scaling-reps N   measurements per live-import count (default 15)\n"
"    --sizes LIST       range sizes in pages, comma-separated\n"
"                       (default 16,256,4096,16384)\n"
"    --live LIST        live-import counts, ascending\n"
"                       (default 1000,10000,100000)\n"
"    --copy-bytes N     peer copy size in bytes, a multiple of 4096\n"
"                       (default 4194304)\n"
"    --only LIST        run only these parts: import,latency,copy,scaling\n"
"    --verbose          progress on stderr\n"
"    -h, --help         this text\n"
"    -V, --version      print the version and exit\n"
"\n"
"    The full scaling run needs p2pmap_edu_importer.ko loaded with\n"
"    max_imports_per_file above the largest count and p2pgpu.ko with\n"
"    vram_mb large enough for that many pages (make bench does both).\n"
"\n"
"EXIT STATUS\n"
"    0  every part ran or was reported unavailable; missed targets are\n"
"       not failures\n"
"    1  a measurement failed (an unexpected error or a wrong result)\n"
"    2  usage error\n", f);
}

static int parse_list(const char *s, unsigned long *v, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*s) {
		unsigned long x = strtoul(s, &end, 0);

		if (end == s || !x || *n >= MAX_POINTS)
			return -1;
		if (*n && x <= v[*n - 1])
			return -1;
		v[(*n)++] = x;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return *n ? 0 : -1;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max,
		      unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || *v < min || *v > max ? -1 : 0;
}

static int parse_parts(const char *s, unsigned int *parts)
{
	static const char *const names[] = { "import", "latency", "copy", "scaling" };
	char buf[128], *tok, *save;
	unsigned int i;

	*parts = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < 4; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == 4)
			return -1;
		*parts |= 1u << i;
	}
	return *parts ? 0 : -1;
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	static const unsigned long full_sizes[] = { 16, 256, 4096, 16384 };
	static const unsigned long quick_sizes[] = { 16, 256, 1024 };
	static const unsigned long full_live[] = { 1000, 10000, 100000 };
	static const unsigned long quick_live[] = { 200, 2000 };
	enum {
		OPT_QUICK = 256, OPT_FULL, OPT_VERBOSE, OPT_JSON, OPT_TABLE,
		OPT_REPS, OPT_IMPORT_REPS, OPT_LATENCY_ROUNDS, OPT_SCALING_REPS,
		OPT_SIZES, OPT_LIVE, OPT_COPY_BYTES, OPT_ONLY,
	};
	/*
	 * getopt_long(): --opt VALUE and --opt=VALUE; like every GNU tool it
	 * takes an unambiguous abbreviation of a long option (--verb).
	 */
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "table", required_argument, NULL, OPT_TABLE },
		{ "reps", required_argument, NULL, OPT_REPS },
		{ "import-reps", required_argument, NULL, OPT_IMPORT_REPS },
		{ "latency-rounds", required_argument, NULL, OPT_LATENCY_ROUNDS },
		{ "scaling-reps", required_argument, NULL, OPT_SCALING_REPS },
		{ "sizes", required_argument, NULL, OPT_SIZES },
		{ "live", required_argument, NULL, OPT_LIVE },
		{ "copy-bytes", required_argument, NULL, OPT_COPY_BYTES },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts *o = &b->o;
	bool sizes = false, live = false, reps = false, ireps = false, lat = false,
	     sreps = false;
	bool copy = false;
	unsigned long v;
	size_t off = 0;
	int i, c, li = 0;

	o->parts = PART_ALL;
	for (i = 0; i < argc && off < sizeof(b->command) - 1; i++)
		off += (size_t)snprintf(b->command + off, sizeof(b->command) - off,
					"%s%s", i ? " " : "", argv[i]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", longopts, &li)) != -1) {
		const char *name = c == '?' || c == ':' ? NULL : longopts[li].name;

		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("p2pmap-bench %s\n", P2PMAP_VERSION);
			exit(0);
		case OPT_QUICK:
			o->quick = true;
			break;
		case OPT_FULL:
			o->quick = false;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_JSON:
			o->json_path = optarg;
			break;
		case OPT_TABLE:
			o->table_path = optarg;
			break;
		case OPT_REPS:
			if (parse_uint(optarg, 1, 1000, &v))
				goto bad;
			o->reps = (unsigned int)v;
			reps = true;
			break;
		case OPT_IMPORT_REPS:
			if (parse_uint(optarg, 1, 1000, &v))
				goto bad;
			o->import_reps = (unsigned int)v;
			ireps = true;
			break;
		case OPT_LATENCY_ROUNDS:
			if (parse_uint(optarg, 1, 1000000, &v))
				goto bad;
			o->lat_reps = (unsigned int)v;
			lat = true;
			break;
		case OPT_SCALING_REPS:
			if (parse_uint(optarg, 1, 1000, &v))
				goto bad;
			o->scale_reps = (unsigned int)v;
			sreps = true;
			break;
		case OPT_SIZES:
			if (parse_list(optarg, o->sizes, &o->nr_sizes) ||
			    o->sizes[o->nr_sizes - 1] > P2PMAP_EDU_IMP_MAX_IMPORT / PG)
				goto bad;
			sizes = true;
			break;
		case OPT_LIVE:
			if (parse_list(optarg, o->live, &o->nr_live) ||
			    o->live[o->nr_live - 1] > 1000000)
				goto bad;
			live = true;
			break;
		case OPT_COPY_BYTES:
			if (parse_uint(optarg, PG, P2PGPU_COPY_MAX, &v) || v % PG)
				goto bad;
			o->copy_bytes = v;
			copy = true;
			break;
		case OPT_ONLY:
			if (parse_parts(optarg, &o->parts))
				goto bad;
			break;
		case ':':
			fprintf(stderr, "p2pmap-bench: %s needs an argument (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "p2pmap-bench: unknown or ambiguous option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "p2pmap-bench: bad value '%s' for --%s (see --help)\n",
			optarg, name);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "p2pmap-bench: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	if (!sizes) {
		const unsigned long *s = o->quick ? quick_sizes : full_sizes;

		o->nr_sizes = o->quick ? 3 : 4;
		memcpy(o->sizes, s, o->nr_sizes * sizeof(*s));
	}
	if (!live) {
		const unsigned long *s = o->quick ? quick_live : full_live;

		o->nr_live = o->quick ? 2 : 3;
		memcpy(o->live, s, o->nr_live * sizeof(*s));
	}
	if (!reps)
		o->reps = o->quick ? 3 : 11;
	if (!ireps)
		o->import_reps = o->quick ? 5 : 101;
	if (!lat)
		o->lat_reps = o->quick ? 40 : 300;
	if (!sreps)
		o->scale_reps = o->quick ? 5 : 15;
	if (!copy)
		o->copy_bytes = o->quick ? 256 << 10 : 4 << 20;
	return 0;
}

static FILE *open_out(const char *path, FILE *dflt)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return dflt;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "p2pmap-bench: %s: %s\n", path, strerror(errno));
	return f;
}

int main(int argc, char **argv)
{
	struct target t[NR_TARGETS];
	struct bench *b = calloc(1, sizeof(*b));
	struct p2pmap_edu_imp_status st = { 0 };
	FILE *jf, *tf;
	unsigned int i;
	int efd, ret;

	if (!b)
		return 1;
	if (parse_args(b, argc, argv)) {
		free(b);
		return 2;
	}
	probe_env(b);
	efd = open(EDU_DEV, O_RDWR | O_CLOEXEC);
	if (efd >= 0) {
		if (!xioctl(efd, P2PMAP_EDU_IMP_IOC_STATUS, &st))
			b->edu_abi = st.abi_version;
		close(efd);
	}
	gpu_open_all(b);
	for (i = 0; i < LAT_SOURCES; i++)
		b->lat[i].name = i ? "exporter_evict" : "cpu_madv_dontneed";
	for (i = 0; i < b->o.nr_sizes; i++) {
		b->sys[i].pages = b->o.sizes[i];
		b->thp[i].pages = b->o.sizes[i];
		b->bo[i].pages = b->o.sizes[i];
	}
	b->copy.bytes = b->o.copy_bytes;

	if (b->o.parts & PART_IMPORT)
		run_import(b);
	if (b->o.parts & PART_LATENCY)
		run_latency(b);
	if (b->o.parts & PART_COPY) {
		progress(b, "peer copy: %zu bytes", b->o.copy_bytes);
		run_copy(b);
	}
	if (b->o.parts & PART_SCALING)
		run_scaling(b);

	compute_targets(b, t);
	ret = b->failed ? 1 : 0;
	tf = open_out(b->o.table_path, stderr);
	jf = open_out(b->o.json_path, stdout);
	if (!tf || !jf) {
		ret = 1;
	} else {
		write_table(b, t, tf);
		write_json(b, t, jf);
		if (fflush(tf) || fflush(jf))
			ret = 1;
	}
	if (tf && tf != stderr)
		fclose(tf);
	if (jf && jf != stdout && fclose(jf))
		ret = 1;
	for (i = 0; i < b->nr_gpus; i++)
		close(b->gpu[i].fd);
	free(b);
	return ret;
}
