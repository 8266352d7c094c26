// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests for libp2pmap and p2pmapctl: build a fake sysfs/debugfs/proc
 * tree in a temporary directory and check what the library and the tool
 * make of it. Run by `make -C userspace check` under ASan+UBSan:
 *
 *   p2pmap_test P2PMAPCTL JSONCHECK
 *
 * The last line is "userspace: N passed, N failed"; exit 0 iff none failed.
 *
 * The fake PCI hierarchy (host bridge pci0000:00):
 *   00:00.0 host bridge (8086:29c0, not whitelisted)
 *   00:1c.0 root port -> 01:00.0 switch upstream port
 *     -> 02:00.0 -> 05:00.0 gpu0 (provider, 64 MiB window)
 *     -> 02:01.0 -> 06:00.0 gpu1 (provider, 32 MiB window)
 *     -> 02:02.0 -> 07:00.0 edu (importer)
 *   00:03.0 rootgpu (provider on the root bus), 00:04.0 rootedu
 *   /sys/devices/platform/fakeprov: a non-PCI provider
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pmap.h"

static int passed, failed;
static char T[256];		/* temp root */
static char SYS[300], DBG[300];
static const char *ctl, *jsoncheck;

#define CHECK(cond, ...) check(!!(cond), __LINE__, __VA_ARGS__)

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void check(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - line %d: ", ok ? "ok" : "not ok", passed + failed + 1, line);
	char msg[8192], *nl;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nl = strchr(msg, '\n');
	if (ok && nl)	/* details only for failures */
		*nl = '\0';
	puts(msg);
	if (ok)
		passed++;
	else
		failed++;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* mkdir -p */
static void mkdirs(const char *path)
{
	char buf[1024], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				die(buf);
			*p = '/';
		}
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		die(buf);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(const char *content, const char *fmt, ...)
{
	char path[1024], dir[1024], *slash;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fputs(content, f);
	fclose(f);
}

static void pcidev(const char *rel, const char *cls, const char *ven,
		   const char *dev)
{
	char link[1024], target[1024];
	const char *bdf = strrchr(rel, '/') + 1;

	put(cls, "%s/devices/%s/class", SYS, rel);
	put(ven, "%s/devices/%s/vendor", SYS, rel);
	put(dev, "%s/devices/%s/device", SYS, rel);
	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", SYS, bdf);
	snprintf(target, sizeof(target), "%s/bus/pci/devices", SYS);
	mkdirs(target);
	snprintf(target, sizeof(target), "../../../devices/%s", rel);
	if (symlink(target, link))
		die(link);
}

static void group(const char *devdir, unsigned long long total)
{
	static const char *const zero[] = {
		"aperture_used", "aperture_pinned", "maps", "unmaps",
		"sysmem_pages", "invalidations", "evictions", "migrated_pages",
		"fallback_policy", "fallback_bar_exhausted", "fallback_no_route",
		"fallback_no_kconfig", "fallback_dma_mask", "fallback_system_page",
	};
	char v[32];
	size_t i;

	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		put("0\n", "%s/devices/%s/p2pmap/%s", SYS, devdir, zero[i]);
	snprintf(v, sizeof(v), "%llu\n", total);
	put(v, "%s/devices/%s/p2pmap/aperture_total", SYS, devdir);
	put(v, "%s/devices/%s/p2pmap/aperture_free", SYS, devdir);
	snprintf(v, sizeof(v), "%llu\n", total * 4);
	put(v, "%s/devices/%s/p2pmap/device_total", SYS, devdir);
	put("12\n", "%s/devices/%s/p2pmap/p2p_pages", SYS, devdir);
}

#define SW "pci0000:00/0000:00:1c.0/0000:01:00.0"
#define GPU0 SW "/0000:02:00.0/0000:05:00.0"
#define GPU1 SW "/0000:02:01.0/0000:06:00.0"

static void build_tree(void)
{
	snprintf(SYS, sizeof(SYS), "%s/sys", T);
	snprintf(DBG, sizeof(DBG), "%s/debug", T);
	pcidev("pci0000:00/0000:00:00.0", "0x060000\n", "0x8086\n", "0x29c0\n");
	pcidev("pci0000:00/0000:00:1c.0", "0x060400\n", "0x8086\n", "0x2918\n");
	pcidev(SW, "0x060400\n", "0x104c\n", "0x8232\n");
	pcidev(SW "/0000:02:00.0", "0x060400\n", "0x104c\n", "0x8233\n");
	pcidev(SW "/0000:02:01.0", "0x060400\n", "0x104c\n", "0x8233\n");
	pcidev(SW "/0000:02:02.0", "0x060400\n", "0x104c\n", "0x8233\n");
	pcidev(GPU0, "0x050000\n", "0x1af4\n", "0x1110\n");
	pcidev(GPU1, "0x050000\n", "0x1af4\n", "0x1110\n");
	pcidev(SW "/0000:02:02.0/0000:07:00.0", "0x00ff00\n", "0x1234\n", "0x11e8\n");
	pcidev("pci0000:00/0000:00:03.0", "0x050000\n", "0x1af4\n", "0x1110\n");
	pcidev("pci0000:00/0000:00:04.0", "0x00ff00\n", "0x1234\n", "0x11e8\n");
	group(GPU0, 64ULL << 20);
	group(GPU1, 32ULL << 20);
	group("pci0000:00/0000:00:03.0", 1ULL << 20);
	group("platform/fakeprov", 4096);
	put("pci_p2pdma yes\ndevice_private no CONFIG_DEVICE_PRIVATE=n: migration unavailable\n"
	    "dmabuf_move_notify no CONFIG_DMABUF_MOVE_NOTIFY=n: pinned\nmmu_notifier yes\n",
	    "%s/module/p2pmap/features", SYS);
	put("# id\tname\tdevice\tdead\tmappings\n0\t0000:05:00.0\t0000:05:00.0\t0\t1\n"
	    "1\t0000:06:00.0\t0000:06:00.0\t0\t1\n2\trootgpu\t0000:00:03.0\t1\t0\n"
	    "3\tfake provider\tfakeprov\t0\t2\n", "%s/p2pmap/providers", DBG);
	put("importer pid start pages policy gen extents p2p sysmem error reasons\n"
	    "0000:07:00.0 123 0x7f0000000000 16 prefer_p2p 2 1 16 0 0\n"
	    "0000:00:04.0 456 0x1000 512 prefer_p2p 0 3 256 256 0 bar_exhausted=256 no_route=0\n",
	    "%s/p2pmap/imports", DBG);
	put("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n",
	    "%s/proc/cpuinfo", T);
}

static struct p2pmap_ctx *ctx_new(void)
{
	struct p2pmap_ctx *ctx = p2pmap_ctx_new(SYS, DBG);

	if (!ctx)
		die("p2pmap_ctx_new");
	return ctx;
}

static void test_ctx(void)
{
	struct p2pmap_ctx *ctx = p2pmap_ctx_new(NULL, NULL);
	char longroot[4096];

	CHECK(ctx && !strcmp(p2pmap_ctx_error(ctx), ""), "default context, no error yet");
	p2pmap_ctx_free(ctx);
	memset(longroot, 'a', sizeof(longroot) - 1);
	longroot[sizeof(longroot) - 1] = '\0';
	errno = 0;
	CHECK(!p2pmap_ctx_new(longroot, NULL) && errno == EINVAL, "over-long root is EINVAL");
	p2pmap_ctx_free(NULL);
}

static void test_providers(void)
{
	struct p2pmap_ctx *ctx = ctx_new();
	struct p2pmap_provider *p;
	size_t n = 0;
	int ret = p2pmap_providers(ctx, &p, &n);

	CHECK(ret == 0 && n == 4, "4 providers (ret %d n %zu: %s)", ret, n, p2pmap_ctx_error(ctx));
	if (ret == 0 && n == 4) {
		CHECK(!strcmp(p[0].device, "0000:00:03.0") && p[0].id == 2 && p[0].dead == 1 &&
		      !strcmp(p[0].name, "rootgpu") && p[0].is_pci, "root-bus provider merged with debugfs");
		CHECK(!strcmp(p[1].device, "0000:05:00.0") && p[1].id == 0 && p[1].mappings == 1 &&
		      strstr(p[1].sysfs_dir, GPU0), "gpu0 found under the switch: %s", p[1].sysfs_dir);
		CHECK(!strcmp(p[2].device, "0000:06:00.0") && p[2].id == 1, "gpu1");
		CHECK(!strcmp(p[3].device, "fakeprov") && !p[3].is_pci && p[3].id == 3 &&
		      !strcmp(p[3].name, "fake provider") && strstr(p[3].sysfs_dir, "platform/fakeprov"),
		      "non-PCI provider found through debugfs + /sys/devices: %s", p[3].sysfs_dir);
	}
	free(p);
	p2pmap_ctx_free(ctx);

	/* without debugfs: PCI providers only, ids unknown */
	ctx = p2pmap_ctx_new(SYS, "/nonexistent-debugfs");
	ret = p2pmap_providers(ctx, &p, &n);
	CHECK(ret == 0 && n == 3 && p[0].id == -1 && p[0].dead == -1,
	      "without debugfs: 3 PCI providers, id unknown (ret %d n %zu)", ret, n);
	free(p);
	p2pmap_ctx_free(ctx);
}

static void test_aperture_counters(void)
{
	struct p2pmap_ctx *ctx = ctx_new();
	struct p2pmap_provider *p;
	struct p2pmap_aperture ap = { .size = sizeof(ap) };
	struct p2pmap_counters c = { .size = sizeof(c) };
	char path[1024];
	size_t n;
	int ret;

	if (p2pmap_providers(ctx, &p, &n) || n != 4) {
		CHECK(0, "providers for aperture tests");
		return;
	}
	ret = p2pmap_read_aperture(ctx, &p[1], &ap);
	CHECK(ret == 0 && ap.total == 64ULL << 20 && ap.free == ap.total &&
	      ap.device_total == 256ULL << 20 && ap.used == 0, "gpu0 aperture 64 MiB");
	ret = p2pmap_read_aperture(ctx, &p[2], &ap);
	CHECK(ret == 0 && ap.total == 32ULL << 20, "gpu1 aperture 32 MiB");
	ret = p2pmap_read_counters(ctx, &p[1], &c);
	CHECK(ret == 0 && c.p2p_pages == 12 && c.nr_fallback == 6 &&
	      !strcmp(c.fallback[0].reason, "bar_exhausted") &&
	      !strcmp(c.fallback[5].reason, "system_page"),
	      "gpu0 counters, 6 fallback reasons sorted (ret %d, %zu)", ret, c.nr_fallback);
	CHECK(c.fallback_total == 6, "fallback_total 6 (%zu)", c.fallback_total);

	/* ABI: a caller with room for 2 reasons (an older or smaller struct) */
	{
		union {
			struct p2pmap_counters c;
			char raw[offsetof(struct p2pmap_counters, fallback) +
				 3 * sizeof(struct p2pmap_reason_count)];
		} small;

		memset(&small, 0xa5, sizeof(small));
		small.c.size = offsetof(struct p2pmap_counters, fallback) +
			       2 * sizeof(struct p2pmap_reason_count);
		ret = p2pmap_read_counters(ctx, &p[1], &small.c);
		CHECK(ret == 0 && small.c.nr_fallback == 2 && small.c.fallback_total == 6 &&
		      !strcmp(small.c.fallback[1].reason, c.fallback[1].reason) &&
		      (unsigned char)small.raw[small.c.size] == 0xa5,
		      "short fallback array: 2 of 6 kept, nothing written past size (ret %d)", ret);
		small.c.size = offsetof(struct p2pmap_counters, fallback);
		ret = p2pmap_read_counters(ctx, &p[1], &small.c);
		CHECK(ret == -EINVAL && strstr(p2pmap_ctx_error(ctx), "size"),
		      "counters size without room for one reason is EINVAL: %s",
		      p2pmap_ctx_error(ctx));
		ap.size = 0;
		CHECK(p2pmap_read_aperture(ctx, &p[1], &ap) == -EINVAL,
		      "aperture size 0 (caller forgot .size) is EINVAL");
		ap.size = sizeof(ap);
	}

	/* malformed contents */
	snprintf(path, sizeof(path), "%s/devices/%s/p2pmap/aperture_used", SYS, GPU1);
	put("abc\n", "%s", path);
	ret = p2pmap_read_aperture(ctx, &p[2], &ap);
	CHECK(ret == -EINVAL && strstr(p2pmap_ctx_error(ctx), "aperture_used") &&
	      strstr(p2pmap_ctx_error(ctx), "malformed"), "non-number is EINVAL: %s",
	      p2pmap_ctx_error(ctx));
	put("123", "%s", path);
	ret = p2pmap_read_aperture(ctx, &p[2], &ap);
	CHECK(ret == -EINVAL, "missing newline is EINVAL");
	put("18446744073709551616\n", "%s", path);
	ret = p2pmap_read_aperture(ctx, &p[2], &ap);
	CHECK(ret == -EINVAL, "2^64 overflows: EINVAL");
	put("-1\n", "%s", path);
	CHECK(p2pmap_read_aperture(ctx, &p[2], &ap) == -EINVAL, "negative is EINVAL");
	put("18446744073709551615\n", "%s", path);
	ret = p2pmap_read_aperture(ctx, &p[2], &ap);
	CHECK(ret == 0 && ap.used == UINT64_MAX, "2^64-1 parses");
	put("1\n2\n", "%s", path);
	CHECK(p2pmap_read_aperture(ctx, &p[2], &ap) == -EINVAL, "two lines is EINVAL");
	put("0\n", "%s", path);

	/* missing file */
	snprintf(path, sizeof(path), "%s/devices/%s/p2pmap/evictions", SYS, GPU1);
	unlink(path);
	ret = p2pmap_read_counters(ctx, &p[2], &c);
	CHECK(ret == -ENOENT && strstr(p2pmap_ctx_error(ctx), "evictions") &&
	      strstr(p2pmap_ctx_error(ctx), "No such file"), "missing file is ENOENT: %s",
	      p2pmap_ctx_error(ctx));
	put("0\n", "%s", path);
	snprintf(path, sizeof(path), "%s/devices/%s/p2pmap/fallback_dma_mask", SYS, GPU1);
	put("x\n", "%s", path);
	CHECK(p2pmap_read_counters(ctx, &p[2], &c) == -EINVAL &&
	      strstr(p2pmap_ctx_error(ctx), "fallback_dma_mask"), "malformed fallback file");
	put("0\n", "%s", path);
	free(p);
	p2pmap_ctx_free(ctx);
}

static void test_imports(void)
{
	struct p2pmap_ctx *ctx = ctx_new();
	struct p2pmap_import *v;
	char path[1024];
	size_t n;
	int ret = p2pmap_imports(ctx, &v, &n);

	CHECK(ret == 0 && n == 2, "2 imports (ret %d: %s)", ret, p2pmap_ctx_error(ctx));
	if (ret == 0 && n == 2) {
		CHECK(!strcmp(v[0].importer, "0000:07:00.0") && v[0].pid == 123 &&
		      v[0].start == 0x7f0000000000ULL && v[0].pages == 16 &&
		      !strcmp(v[0].policy, "prefer_p2p") && v[0].p2p_pages == 16 &&
		      v[0].nr_reasons == 0, "import 1 parsed");
		CHECK(v[1].sysmem_pages == 256 && v[1].nr_reasons == 2 &&
		      !strcmp(v[1].reasons[0].reason, "bar_exhausted") &&
		      v[1].reasons[0].pages == 256, "import 2 reasons parsed");
	}
	free(v);
	snprintf(path, sizeof(path), "%s/p2pmap/imports", DBG);
	put("importer pid start pages policy gen extents p2p sysmem error reasons\n"
	    "0000:07:00.0 123 0x7f00 16 prefer_p2p 2 1 sixteen 0 0\n", "%s", path);
	ret = p2pmap_imports(ctx, &v, &n);
	CHECK(ret == -EINVAL && strstr(p2pmap_ctx_error(ctx), "line 2"),
	      "malformed import line: %s", p2pmap_ctx_error(ctx));
	put("importer pid start pages policy gen extents p2p sysmem error reasons\n"
	    "0000:07:00.0 123 0x7f00 16 prefer_p2p 2 1\n", "%s", path);
	CHECK(p2pmap_imports(ctx, &v, &n) == -EINVAL, "short import line");
	put("importer pid start pages policy gen extents p2p sysmem error reasons\n"
	    "0000:07:00.0 123 0x7f00 16 prefer_p2p 2 1 1 0 0 noequals\n", "%s", path);
	CHECK(p2pmap_imports(ctx, &v, &n) == -EINVAL, "reason without '='");
	put("", "%s", path);
	CHECK(p2pmap_imports(ctx, &v, &n) == -EINVAL, "empty imports file");
	put("importer pid start pages policy gen extents p2p sysmem error reasons\n", "%s", path);
	ret = p2pmap_imports(ctx, &v, &n);
	CHECK(ret == 0 && n == 0 && v == NULL, "header only: no imports");
	unlink(path);
	ret = p2pmap_imports(ctx, &v, &n);
	CHECK(ret == -ENOENT && strstr(p2pmap_ctx_error(ctx), "debugfs"),
	      "missing imports file: %s", p2pmap_ctx_error(ctx));
	put("importer pid start pages policy gen extents p2p sysmem error reasons\n"
	    "0000:07:00.0 123 0x7f0000000000 16 prefer_p2p 2 1 16 0 0\n", "%s", path);
	p2pmap_ctx_free(ctx);
}

static void test_features(void)
{
	struct p2pmap_ctx *ctx = ctx_new();
	struct p2pmap_feature *f;
	char path[1024];
	size_t n;
	int ret = p2pmap_features(ctx, &f, &n);

	CHECK(ret == 0 && n == 4 && f[0].present && !strcmp(f[0].name, "pci_p2pdma") &&
	      !f[1].present && !strcmp(f[1].detail, "CONFIG_DEVICE_PRIVATE=n: migration unavailable"),
	      "features parsed (ret %d n %zu)", ret, n);
	free(f);
	snprintf(path, sizeof(path), "%s/module/p2pmap/features", SYS);
	put("pci_p2pdma maybe\n", "%s", path);
	ret = p2pmap_features(ctx, &f, &n);
	CHECK(ret == -EINVAL && strstr(p2pmap_ctx_error(ctx), "line 1"),
	      "malformed features: %s", p2pmap_ctx_error(ctx));
	put("pci_p2pdma yes\ndevice_private yes\ndmabuf_move_notify yes\nmmu_notifier yes\n",
	    "%s", path);
	p2pmap_ctx_free(ctx);
}

static void distance(const char *a, const char *b, int want_ret,
		     enum p2pmap_route route, int dist, const char *common,
		     const char *reason_part)
{
	struct p2pmap_ctx *ctx = ctx_new();
	struct p2pmap_topology t = { .size = sizeof(t) };
	int ret = p2pmap_pci_distance(ctx, a, b, &t);

	if (want_ret)
		CHECK(ret == want_ret && strstr(p2pmap_ctx_error(ctx), reason_part),
		      "%s x %s: error %d (%s)", a, b, ret, p2pmap_ctx_error(ctx));
	else
		CHECK(ret == 0 && t.route == route && t.distance == dist &&
		      !strcmp(t.common, common) && strstr(t.reason, reason_part),
		      "%s x %s: %s distance %d common '%s' (%s)", a, b,
		      p2pmap_route_name(t.route), t.distance, t.common, t.reason);
	p2pmap_ctx_free(ctx);
}

static void test_topology(void)
{
	char path[1024];

	distance("0000:05:00.0", "0000:06:00.0", 0, P2PMAP_ROUTE_BUS_ADDR, 4,
		 "0000:01:00.0", "2 up + 2 down");
	distance("0000:06:00.0", "0000:07:00.0", 0, P2PMAP_ROUTE_BUS_ADDR, 4,
		 "0000:01:00.0", "common upstream bridge");
	distance("0000:05:00.0", "0000:05:00.0", 0, P2PMAP_ROUTE_BUS_ADDR, 0,
		 "0000:05:00.0", "0 up + 0 down");
	distance("0000:05:00.0", "0000:00:1c.0", 0, P2PMAP_ROUTE_BUS_ADDR, 3,
		 "0000:00:1c.0", "3 up + 0 down");
	distance("0000:02:00.0", "0000:06:00.0", 0, P2PMAP_ROUTE_BUS_ADDR, 3,
		 "0000:01:00.0", "1 up + 2 down");
	distance("0000:00:03.0", "0000:00:04.0", 0, P2PMAP_ROUTE_NOT_SUPPORTED, -1,
		 "", "not supported (host bridge not whitelisted)");
	distance("0000:00:03.0", "0000:05:00.0", 0, P2PMAP_ROUTE_NOT_SUPPORTED, -1,
		 "", "0000:00:00.0 (8086:29c0)");
	distance("0000:05:00.0", "0000:09:00.0", -ENOENT, 0, 0, "", "no PCI device 0000:09:00.0");
	distance("05:00.0", "0000:06:00.0", -EINVAL, 0, 0, "", "not a PCI address");
	distance("0000:05:00.8", "0000:06:00.0", -EINVAL, 0, 0, "", "not a PCI address");

	/* whitelisted host bridge: through it, kernel distance = 1 + 4 */
	snprintf(path, sizeof(path), "%s/devices/pci0000:00/0000:00:00.0/device", SYS);
	put("0x2030\n", "%s", path);
	distance("0000:00:03.0", "0000:05:00.0", 0, P2PMAP_ROUTE_HOST_BRIDGE, 5, "",
		 "whitelisted");
	/* unreadable host bridge id: cannot tell */
	unlink(path);
	distance("0000:00:03.0", "0000:00:04.0", 0, P2PMAP_ROUTE_UNKNOWN, -1, "",
		 "cannot tell");
	put("0x29c0\n", "%s", path);
	/* AMD Zen: through the host bridge */
	snprintf(path, sizeof(path), "%s/proc/cpuinfo", T);
	put("vendor_id\t: AuthenticAMD\ncpu family\t: 25\n", "%s", path);
	distance("0000:00:03.0", "0000:00:04.0", 0, P2PMAP_ROUTE_HOST_BRIDGE, 2, "",
		 "AMD Zen");
	/* pre-Zen AMD (QEMU's qemu64 is AMD family 15): refused */
	put("vendor_id\t: AuthenticAMD\ncpu family\t: 15\n", "%s", path);
	distance("0000:00:03.0", "0000:00:04.0", 0, P2PMAP_ROUTE_NOT_SUPPORTED, -1, "",
		 "not supported");
	/* no cpuinfo: cannot tell */
	unlink(path);
	distance("0000:00:03.0", "0000:00:04.0", 0, P2PMAP_ROUTE_UNKNOWN, -1, "",
		 "CPU vendor is unknown");
	put("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n", "%s", path);

	/* a kernel without CONFIG_PCI_P2PDMA refuses every pair */
	snprintf(path, sizeof(path), "%s/module/p2pmap/features", SYS);
	put("pci_p2pdma no CONFIG_PCI_P2PDMA=n: peer BAR placement unavailable\n"
	    "mmu_notifier yes\n", "%s", path);
	distance("0000:05:00.0", "0000:06:00.0", 0, P2PMAP_ROUTE_NO_KCONFIG, -1,
		 "0000:01:00.0", "CONFIG_PCI_P2PDMA=n");
	distance("0000:05:00.0", "0000:06:00.0", 0, P2PMAP_ROUTE_NO_KCONFIG, -1,
		 "0000:01:00.0", "would be: common upstream bridge");
	put("pci_p2pdma yes\ndevice_private no CONFIG_DEVICE_PRIVATE=n: migration unavailable\n"
	    "dmabuf_move_notify no CONFIG_DMABUF_MOVE_NOTIFY=n: pinned\nmmu_notifier yes\n",
	    "%s", path);
	distance("0000:05:00.0", "0000:06:00.0", 0, P2PMAP_ROUTE_BUS_ADDR, 4,
		 "0000:01:00.0", "2 up + 2 down");
}

static void test_pci_devices(void)
{
	struct p2pmap_ctx *ctx = ctx_new();
	struct p2pmap_pci_dev *v;
	size_t n, i, bridges = 0;
	int ret = p2pmap_pci_devices(ctx, &v, &n);

	for (i = 0; ret == 0 && i < n; i++)
		bridges += v[i].is_bridge;
	CHECK(ret == 0 && n == 11 && bridges == 6 && !strcmp(v[0].bdf, "0000:00:00.0"),
	      "11 PCI devices, 6 bridges (ret %d n %zu b %zu)", ret, n, bridges);
	free(v);
	p2pmap_ctx_free(ctx);
}

static void test_not_loaded(void)
{
	struct p2pmap_ctx *ctx = p2pmap_ctx_new("/nonexistent-sysfs", "/nonexistent");
	struct p2pmap_provider *p;
	struct p2pmap_feature *f;
	size_t n;

	CHECK(p2pmap_providers(ctx, &p, &n) == -ENODEV &&
	      strstr(p2pmap_ctx_error(ctx), "not loaded"), "no module: ENODEV: %s",
	      p2pmap_ctx_error(ctx));
	CHECK(p2pmap_features(ctx, &f, &n) == -ENODEV, "features without module: ENODEV");
	p2pmap_ctx_free(ctx);
}

/* Run a shell command; return its exit status, output in @out. */
static int run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	size_t len = 0;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		die("popen");
	out[0] = '\0';
	while (len + 1 < size && fgets(out + len, (int)(size - len), f))
		len += strlen(out + len);
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int json_ok(const char *fmt, ...)
{
	char args[1024], out[4096];
	va_list ap;
	int a, b = 0;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	a = run(out, sizeof(out), "o=$(%s --sysfs-root %s --debugfs-root %s --json %s) && printf '%%s' \"$o\" | %s",
		ctl, SYS, DBG, args, jsoncheck);
	if (!system("command -v python3 >/dev/null 2>&1"))
		b = run(out, sizeof(out), "%s --sysfs-root %s --debugfs-root %s --json %s | python3 -m json.tool >/dev/null",
			ctl, SYS, DBG, args);
	return a == 0 && b == 0;
}

static void test_ctl(void)
{
	static const char *const cmds[] = {
		"devices", "topology", "topology --importer 0000:00:04.0 --all",
		"aperture", "imports", "counters", "features",
	};
	char out[8192];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		CHECK(json_ok("%s", cmds[i]), "p2pmapctl --json %s is valid JSON", cmds[i]);
	rc = run(out, sizeof(out), "%s -s %s -d %s topology", ctl, SYS, DBG);
	CHECK(rc == 0 && strstr(out, "0000:05:00.0   0000:06:00.0          4 bus_addr") &&
	      strstr(out, "0000:00:03.0   0000:05:00.0         -1 not_supported"),
	      "topology table (rc %d):\n%s", rc, out);
	/* JSON: schema version, null (never -1) for what is not known */
	rc = run(out, sizeof(out), "%s -s %s -d %s --json topology", ctl, SYS, DBG);
	CHECK(rc == 0 && !strncmp(out, "{ \"schema\": 1, \"pairs\": [", 25) &&
	      strstr(out, "\"distance\": null, \"route\": \"not_supported\"") &&
	      strstr(out, "\"distance\": 4, \"route\": \"bus_addr\"") && !strstr(out, "-1"),
	      "topology --json: schema 1, refused pair has distance null:\n%s", out);
	rc = run(out, sizeof(out), "%s -s %s -d /nonexistent --json devices", ctl, SYS);
	CHECK(rc == 0 && strstr(out, "\"schema\": 1") && strstr(out, "\"id\": null") &&
	      strstr(out, "\"mappings\": null") && !strstr(out, "-1"),
	      "devices --json without debugfs: unknowns are null:\n%s", out);
	/* one pair needs PCI sysfs only: works with p2pmap.ko not loaded */
	{
		char mod[400], hid[400];

		snprintf(mod, sizeof(mod), "%s/module/p2pmap", SYS);
		snprintf(hid, sizeof(hid), "%s/module/p2pmap.hidden", SYS);
		CHECK(rename(mod, hid) == 0, "hide the module directory");
		rc = run(out, sizeof(out), "%s -s %s -d %s topology 0000:05:00.0 0000:06:00.0 2>&1",
			 ctl, SYS, DBG);
		CHECK(rc == 0 && strstr(out, "0000:05:00.0   0000:06:00.0          4 bus_addr"),
		      "topology BDF BDF without the module (rc %d):\n%s", rc, out);
		rc = run(out, sizeof(out), "%s -s %s -d %s --json topology 0000:00:03.0 0000:05:00.0",
			 ctl, SYS, DBG);
		CHECK(rc == 0 && strstr(out, "\"route\": \"not_supported\"") &&
		      strstr(out, "\"distance\": null"),
		      "topology --json BDF BDF without the module:\n%s", out);
		rc = run(out, sizeof(out), "%s -s %s -d %s topology 2>&1", ctl, SYS, DBG);
		CHECK(rc == 1 && strstr(out, "not loaded"),
		      "topology of all providers still needs the module: %s", out);
		CHECK(rename(hid, mod) == 0, "restore the module directory");
	}
	CHECK(run(out, sizeof(out), "%s -s %s topology 0000:05:00.0 2>&1", ctl, SYS) == 2,
	      "topology with one BDF: exit 2");
	CHECK(run(out, sizeof(out), "%s -s %s -a topology 0000:05:00.0 0000:06:00.0 2>&1",
		  ctl, SYS) == 2, "topology BDF BDF with --all: exit 2");
	rc = run(out, sizeof(out), "%s --version", ctl);
	CHECK(rc == 0 && !strcmp(out, "p2pmapctl " P2PMAP_VERSION "\n"), "--version: %s", out);
	rc = run(out, sizeof(out), "%s -s %s -d %s aperture", ctl, SYS, DBG);
	CHECK(rc == 0 && strstr(out, "64 MiB") && strstr(out, "32 MiB") &&
	      strstr(out, "1 MiB") && strstr(out, "4 KiB"), "aperture table:\n%s", out);
	rc = run(out, sizeof(out), "%s -s %s -d %s --bytes aperture", ctl, SYS, DBG);
	CHECK(rc == 0 && strstr(out, "67108864"), "aperture --bytes");
	rc = run(out, sizeof(out), "%s -s %s -d %s devices", ctl, SYS, DBG);
	CHECK(rc == 0 && strstr(out, "fake provider") && strstr(out, "0000:06:00.0"),
	      "devices table:\n%s", out);
	rc = run(out, sizeof(out), "%s --help", ctl);
	CHECK(rc == 0 && strstr(out, "NAME\n") && strstr(out, "SYNOPSIS\n") &&
	      strstr(out, "DESCRIPTION\n") && strstr(out, "OPTIONS\n") &&
	      strstr(out, "EXIT STATUS\n"), "--help is man-page style");
	CHECK(run(out, sizeof(out), "%s 2>&1", ctl) == 2, "no command: exit 2");
	rc = run(out, sizeof(out), "%s frobnicate 2>&1", ctl);
	CHECK(rc == 2 && strstr(out, "unknown command"), "unknown command: exit 2");
	CHECK(run(out, sizeof(out), "%s --bogus devices 2>&1", ctl) == 2, "unknown option: exit 2");
	CHECK(run(out, sizeof(out), "%s --importer 0000:00:04.0 devices 2>&1", ctl) == 2,
	      "--importer with devices: exit 2");
	CHECK(run(out, sizeof(out), "%s devices extra 2>&1", ctl) == 2, "extra argument: exit 2");
	rc = run(out, sizeof(out), "%s --sysfs-root /nonexistent-sysfs devices 2>&1", ctl);
	CHECK(rc == 1 && strstr(out, "not loaded"), "not loaded: exit 1 with reason: %s", out);
	rc = run(out, sizeof(out), "%s -s %s -d %s topology -i 0000:0a:00.0 2>&1", ctl, SYS, DBG);
	CHECK(rc == 1 && strstr(out, "no PCI device 0000:0a:00.0"),
	      "options after the command, missing importer: exit 1 (%d)", rc);
	rc = run(out, sizeof(out), "%s -s %s -d %s -i 0000:0a:00.0 topology 2>&1", ctl, SYS, DBG);
	CHECK(rc == 1 && strstr(out, "no PCI device 0000:0a:00.0"),
	      "missing importer: exit 1 with reason: %s", out);
	rc = run(out, sizeof(out), "%s -s %s -d /nonexistent imports 2>&1", ctl, SYS);
	CHECK(rc == 1 && strstr(out, "imports:"), "imports without debugfs: exit 1: %s", out);
	/* jsoncheck itself must refuse bad JSON */
	CHECK(run(out, sizeof(out), "printf '{\"a\": [1, 2,]}' | %s 2>&1", jsoncheck) == 1,
	      "jsoncheck refuses a trailing comma");
	CHECK(run(out, sizeof(out), "printf '{\"a\": \"x\" \"b\"}' | %s 2>&1", jsoncheck) == 1,
	      "jsoncheck refuses a missing comma");
	CHECK(run(out, sizeof(out), "printf '[1] 2' | %s 2>&1", jsoncheck) == 1,
	      "jsoncheck refuses trailing data");
	CHECK(run(out, sizeof(out), "printf '{\"a\": [true, null, -1.5e3, \"\\\\u00e9\"]}' | %s 2>&1",
		  jsoncheck) == 0, "jsoncheck accepts valid JSON");
}

int main(int argc, char **argv)
{
	char cmd[512];

	if (argc != 3) {
		fprintf(stderr, "usage: %s P2PMAPCTL JSONCHECK\n", argv[0]);
		return 2;
	}
	ctl = argv[1];
	jsoncheck = argv[2];
	snprintf(T, sizeof(T), "%s/p2pmap-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(T))
		die("mkdtemp");
	build_tree();
	test_ctx();
	test_providers();
	test_aperture_counters();
	test_imports();
	test_features();
	test_topology();
	test_pci_devices();
	test_not_loaded();
	test_ctl();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", T);
	printf("userspace: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
