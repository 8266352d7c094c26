// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_attach_test: kselftest for p2pmap's provider registry and importer
 * attach negotiation, through tests/kmod/p2pmap_attach_test. The module
 * registers an ivshmem-plain BAR2 as a provider and attaches the edu as an
 * importer (the pair the suite chose, attach.sh: provider=, importer=);
 * this program checks p2pmap's verdict for the pair against the route the
 * suite derived (P2PMAP_ROUTE): bus_addr -> bus addresses through the
 * switch, not_supported -> no route, a kernel without CONFIG_PCI_P2PDMA
 * (its /boot/config) -> no kconfig, whatever the route. It also checks the provider's sysfs and
 * debugfs files, and that p2pmap refuses bad register/attach/bind calls
 * with the documented errno. Every test has an expectation on every
 * kernel and topology, so none skips. The last test unregisters the
 * provider (TEARDOWN) and checks its sysfs files are gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* 6.1's harness has an unused parameter; keep -Wextra -Werror for our code */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pmap_selftest.h"
#include "p2pmap_attach_test_uapi.h"

#define DEV_PATH	"/dev/" P2PMAP_AT_DEVNAME
#define DEBUGFS_PROVIDERS "/sys/kernel/debug/p2pmap/providers"

enum route { ROUTE_P2P, ROUTE_NONE };

static const char *const reason_names[P2PMAP_AT_REASON_NR] = {
	"none", "policy", "bar_exhausted", "no_route", "no_kconfig",
	"dma_mask", "system_page",
};

static const char *const counter_files[] = {
	"maps", "unmaps", "p2p_pages", "sysmem_pages", "invalidations",
	"evictions",
};

static const char *route_name(uint32_t r)
{
	switch (r) {
	case P2PMAP_AT_ROUTE_NONE: return "none";
	case P2PMAP_AT_ROUTE_BUS_ADDR: return "bus_addr";
	case P2PMAP_AT_ROUTE_HOST_BRIDGE: return "host_bridge";
	}
	return "?";
}

static const char *reason_name(uint32_t r)
{
	return r < P2PMAP_AT_REASON_NR ? reason_names[r] : "?";
}

static int get_info(int fd, struct p2pmap_at_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, P2PMAP_AT_IOC_INFO, info) < 0 ? -errno : 0;
}

/* Runs one case; returns the ioctl's -errno, else fills *c. */
static int run_case(int fd, uint32_t id, struct p2pmap_at_case *c)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	return ioctl(fd, P2PMAP_AT_IOC_CASE, c) < 0 ? -errno : 0;
}

/* Reads a decimal u64 from @dir/@name; 0 or -errno (-EINVAL: bad text). */
static int read_u64(const char *dir, const char *name, uint64_t *val)
{
	char path[512], buf[64], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	buf[n] = 0;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || strcmp(end, "\n"))
		return -EINVAL;
	return 0;
}

/*
 * Whether the running kernel lacks CONFIG_PCI_P2PDMA, read from its own
 * config (/boot/config-<release>, in the initramfs): Debian's stock 6.1 and
 * 6.12, not stock 7.3. Never derived from which kernel the run thinks it is.
 * Return: 1 if absent, 0 if =y, -1 if the config cannot be read.
 */
static int kernel_lacks_p2pdma(void)
{
	char path[128], line[128];
	struct utsname u;
	int ret = 1;
	FILE *f;

	if (uname(&u))
		return -1;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "CONFIG_PCI_P2PDMA=y\n"))
			ret = 0;
	fclose(f);
	return ret;
}

FIXTURE(attach) {
	int fd;
	enum route topo;
	bool stock;	/* the kernel lacks CONFIG_PCI_P2PDMA */
	struct p2pmap_at_info info;
};

FIXTURE_SETUP(attach)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();
	int nop2p = kernel_lacks_p2pdma();

	self->fd = -1;
	ASSERT_NE(P2PMAP_PAIR_INVALID, t) {
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	}
	self->topo = t == P2PMAP_PAIR_P2P ? ROUTE_P2P : ROUTE_NONE;
	ASSERT_NE(-1, nop2p) TH_LOG("cannot read /boot/config-$(uname -r)");
	self->stock = nop2p;

	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s (is p2pmap_attach_test.ko loaded?)",
		       DEV_PATH, strerror(errno));
	}
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	ASSERT_EQ(P2PMAP_AT_ABI_VERSION, self->info.abi_version);
}

FIXTURE_TEARDOWN(attach)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The provider and the importer exist and are set up. */
#define REQUIRE_PAIR() do {						\
	ASSERT_EQ(P2PMAP_AT_F_HAVE_PROVIDER | P2PMAP_AT_F_HAVE_IMPORTER | \
		  P2PMAP_AT_F_REGISTERED | P2PMAP_AT_F_ATTACHED,	\
		  self->info.flags & (P2PMAP_AT_F_HAVE_PROVIDER |	\
				      P2PMAP_AT_F_HAVE_IMPORTER |	\
				      P2PMAP_AT_F_REGISTERED |		\
				      P2PMAP_AT_F_ATTACHED)) {		\
		TH_LOG("flags %#x: provider/importer missing or not set up (see dmesg)", \
		       self->info.flags);				\
	}								\
} while (0)

TEST_F(attach, kconfig_matches_kernel)
{
	/* the test kernel has CONFIG_PCI_P2PDMA=y, Debian's stock has not */
	EXPECT_EQ(!self->stock,
		  !!(self->info.flags & P2PMAP_AT_F_P2PDMA_KCONFIG));
}

TEST_F(attach, verdict)
{
	const struct p2pmap_at_info *in = &self->info;

	REQUIRE_PAIR();
	TH_LOG("provider %s BAR2 phys %#" PRIx64 " bus %#" PRIx64 " len %#" PRIx64
	       ", importer %s mask %#" PRIx64 ": route %s reason %s distance %d bus_offset %" PRId64,
	       in->provider, (uint64_t)in->bar_start, (uint64_t)in->bar_bus,
	       (uint64_t)in->bar_len, in->importer, (uint64_t)in->dma_mask,
	       route_name(in->route), reason_name(in->reason), in->distance,
	       (int64_t)in->bus_offset);
	ASSERT_EQ(0, in->verdict_ret);
	EXPECT_STREQ(reason_name(in->reason), in->reason_name);
	EXPECT_EQ(1u, in->verdict_same) {
		TH_LOG("a second verdict query differed (cache)");
	}

	if (self->stock) {
		EXPECT_EQ(P2PMAP_AT_ROUTE_NONE, in->route);
		EXPECT_EQ(P2PMAP_AT_REASON_NO_KCONFIG, in->reason);
		EXPECT_EQ(-1, in->distance);
	} else if (self->topo == ROUTE_P2P) {
		EXPECT_EQ(P2PMAP_AT_ROUTE_BUS_ADDR, in->route) {
			TH_LOG("route %s reason %s", route_name(in->route),
			       reason_name(in->reason));
		}
		EXPECT_EQ(P2PMAP_AT_REASON_NONE, in->reason);
		EXPECT_LE(0, in->distance);
		EXPECT_EQ((int64_t)(in->bar_bus - in->bar_start),
			  (int64_t)in->bus_offset);
	} else {
		EXPECT_EQ(P2PMAP_AT_ROUTE_NONE, in->route);
		EXPECT_EQ(P2PMAP_AT_REASON_NO_ROUTE, in->reason);
		EXPECT_EQ(-1, in->distance);
		EXPECT_EQ(0, in->bus_offset);
	}
}

TEST_F(attach, importer_dma_mask_is_64bit)
{
	REQUIRE_PAIR();
	/* the module gives the driverless edu its real 64-bit mask */
	EXPECT_EQ(UINT64_MAX, (uint64_t)self->info.dma_mask);
}

TEST_F(attach, verdict_dma_mask_32bit)
{
	const struct p2pmap_at_info *in = &self->info;
	uint64_t bar_end = in->bar_bus + in->bar_len - 1;
	struct p2pmap_at_case c;

	REQUIRE_PAIR();
	ASSERT_EQ(0, run_case(self->fd, P2PMAP_AT_DMA_MASK_VERDICT, &c));
	ASSERT_EQ(0, c.result) {
		TH_LOG("case: %s", strerror(-c.result));
	}
	TH_LOG("32-bit importer, BAR2 bus end %#" PRIx64 ": route %s reason %s",
	       bar_end, route_name(c.route), reason_name(c.reason));
	if (self->stock) {
		EXPECT_EQ(P2PMAP_AT_REASON_NO_KCONFIG, c.reason);
		EXPECT_EQ(P2PMAP_AT_ROUTE_NONE, c.route);
	} else if (self->topo == ROUTE_NONE) {
		EXPECT_EQ(P2PMAP_AT_REASON_NO_ROUTE, c.reason);
		EXPECT_EQ(P2PMAP_AT_ROUTE_NONE, c.route);
	} else if (bar_end > 0xffffffffull) {
		EXPECT_EQ(P2PMAP_AT_REASON_DMA_MASK, c.reason);
		EXPECT_EQ(P2PMAP_AT_ROUTE_NONE, c.route);
	} else {
		EXPECT_EQ(P2PMAP_AT_REASON_NONE, c.reason);
		EXPECT_EQ(P2PMAP_AT_ROUTE_BUS_ADDR, c.route);
	}
	/* the attachment's own verdict is unchanged */
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	EXPECT_EQ(in->reason, self->info.reason);
}

TEST_F(attach, verdict_provider_without_bar)
{
	struct p2pmap_at_case c;

	REQUIRE_PAIR();
	ASSERT_EQ(0, run_case(self->fd, P2PMAP_AT_NOBAR_VERDICT, &c));
	ASSERT_EQ(0, c.result) {
		TH_LOG("case: %s", strerror(-c.result));
	}
	EXPECT_EQ(P2PMAP_AT_ROUTE_NONE, c.route);
	EXPECT_EQ(self->stock ? P2PMAP_AT_REASON_NO_KCONFIG :
				P2PMAP_AT_REASON_NO_ROUTE, c.reason) {
		TH_LOG("reason %s", reason_name(c.reason));
	}
}

struct errno_case {
	uint32_t id;
	int want;
	const char *what;
};

static const struct errno_case errno_cases[] = {
	{ P2PMAP_AT_REG_NULL_DESC, -EINVAL, "register(NULL)" },
	{ P2PMAP_AT_REG_NULL_OPS, -EINVAL, "register with NULL ops" },
	{ P2PMAP_AT_REG_NO_MAP, -EINVAL, "register without p2p_map" },
	{ P2PMAP_AT_REG_NO_UNMAP, -EINVAL, "register without p2p_unmap" },
	{ P2PMAP_AT_REG_NO_APERTURE, -EINVAL, "register without aperture" },
	{ P2PMAP_AT_REG_NULL_NAME, -EINVAL, "register with NULL name" },
	{ P2PMAP_AT_REG_EMPTY_NAME, -EINVAL, "register with empty name" },
	{ P2PMAP_AT_REG_NULL_DEV, -EINVAL, "register with NULL dev" },
	{ P2PMAP_AT_REG_NULL_OWNER, -EINVAL, "register with NULL owner" },
	{ P2PMAP_AT_REG_BAD_BAR, -EINVAL, "register with BAR 6" },
	{ P2PMAP_AT_REG_EMPTY_BAR, -EINVAL, "register with an empty BAR" },
	{ P2PMAP_AT_REG_DUP_DEV, -EBUSY, "second provider on one device" },
	{ P2PMAP_AT_ATT_NULL_DEV, -EINVAL, "attach(NULL)" },
	{ P2PMAP_AT_ATT_NO_CAPS, -EINVAL, "attach with caps 0" },
	{ P2PMAP_AT_ATT_BOTH_CAPS, -EINVAL, "attach REVALIDATE|PIN_ONLY" },
	{ P2PMAP_AT_ATT_UNKNOWN_CAPS, -EINVAL, "attach with unknown caps" },
	{ P2PMAP_AT_ATT_REVAL_NULL_OPS, -EINVAL, "attach REVALIDATE, NULL ops" },
	{ P2PMAP_AT_ATT_REVAL_NO_INVAL, -EINVAL,
	  "attach REVALIDATE without invalidate" },
	{ P2PMAP_AT_ATT_PIN_NULL_OPS, 0, "attach PIN_ONLY with NULL ops" },
	{ P2PMAP_AT_BIND_TWICE, -EBUSY, "bind a mapping twice" },
	{ P2PMAP_AT_BIND_OTHER, -EBUSY, "bind a mapping to a second provider" },
	{ P2PMAP_AT_BIND_FIND, 0, "bind, find, unbind, find" },
};

TEST_F(attach, api_errnos)
{
	struct p2pmap_at_case c;
	unsigned int i;

	REQUIRE_PAIR();
	for (i = 0; i < sizeof(errno_cases) / sizeof(errno_cases[0]); i++) {
		const struct errno_case *e = &errno_cases[i];

		ASSERT_EQ(0, run_case(self->fd, e->id, &c));
		EXPECT_EQ(e->want, c.result) {
			TH_LOG("%s: want %s, got %s", e->what,
			       e->want ? strerror(-e->want) : "success",
			       c.result ? strerror(-c.result) : "success");
		}
	}
	/* nothing a refused or undone call did is left registered */
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	REQUIRE_PAIR();
}

TEST_F(attach, unknown_case_einval)
{
	struct p2pmap_at_case c;

	ASSERT_EQ(0, run_case(self->fd, P2PMAP_AT_CASE_NR, &c));
	EXPECT_EQ(-EINVAL, c.result);
	ASSERT_EQ(0, run_case(self->fd, 0, &c));
	EXPECT_EQ(-EINVAL, c.result);
}

TEST_F(attach, sysfs_files)
{
	const struct p2pmap_at_info *in = &self->info;
	const char *dir = in->sysfs_dir;
	char name[64], path[P2PMAP_AT_PATH_LEN + 32];
	uint64_t v, total, used, pinned, freeb, dev_total;
	unsigned int i;

	REQUIRE_PAIR();
	TH_LOG("sysfs group %s", dir);
	ASSERT_EQ(0, read_u64(dir, "aperture_total", &total));
	ASSERT_EQ(0, read_u64(dir, "aperture_used", &used));
	ASSERT_EQ(0, read_u64(dir, "aperture_pinned", &pinned));
	ASSERT_EQ(0, read_u64(dir, "aperture_free", &freeb));
	ASSERT_EQ(0, read_u64(dir, "device_total", &dev_total));
	EXPECT_EQ(in->bar_len, total);
	EXPECT_EQ(in->ap_total, total);
	EXPECT_EQ((uint64_t)P2PMAP_AT_AP_USED, used);
	EXPECT_EQ((uint64_t)P2PMAP_AT_AP_PINNED, pinned);
	EXPECT_EQ(total - used, freeb);
	EXPECT_EQ((uint64_t)P2PMAP_AT_AP_DEVICE_TOTAL, dev_total);

	/* nothing was ever resolved through this provider */
	for (i = 0; i < sizeof(counter_files) / sizeof(counter_files[0]); i++) {
		EXPECT_EQ(0, read_u64(dir, counter_files[i], &v)) {
			TH_LOG("%s/%s", dir, counter_files[i]);
		}
		EXPECT_EQ(0ull, (unsigned long long)v) {
			TH_LOG("%s = %llu", counter_files[i],
			       (unsigned long long)v);
		}
	}
	for (i = P2PMAP_AT_REASON_NONE + 1; i < P2PMAP_AT_REASON_NR; i++) {
		snprintf(name, sizeof(name), "fallback_%s", reason_names[i]);
		EXPECT_EQ(0, read_u64(dir, name, &v)) {
			TH_LOG("%s/%s", dir, name);
		}
	}
	/* no file for the non-reason */
	snprintf(path, sizeof(path), "%s/fallback_none", dir);
	EXPECT_NE(0, access(path, F_OK));
}

TEST_F(attach, sysfs_counts_fallback)
{
	const char *dir = self->info.sysfs_dir;
	struct p2pmap_at_case c;
	uint64_t before, after, other_before, other_after;

	REQUIRE_PAIR();
	ASSERT_EQ(0, read_u64(dir, "fallback_policy", &before));
	ASSERT_EQ(0, read_u64(dir, "fallback_no_route", &other_before));
	ASSERT_EQ(0, run_case(self->fd, P2PMAP_AT_COUNT_FALLBACK, &c));
	ASSERT_EQ(0, c.result);
	ASSERT_EQ(0, read_u64(dir, "fallback_policy", &after));
	ASSERT_EQ(0, read_u64(dir, "fallback_no_route", &other_after));
	EXPECT_EQ(before + 5, after);
	EXPECT_EQ(other_before, other_after);
}

TEST_F(attach, debugfs_lists_provider)
{
	char line[256], name[64], devname[64];
	unsigned int id, nmap;
	int dead, found = 0;
	FILE *f;

	REQUIRE_PAIR();
	f = fopen(DEBUGFS_PROVIDERS, "re");
	ASSERT_NE(NULL, f) {
		TH_LOG("%s: %s", DEBUGFS_PROVIDERS, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%u\t%63s\t%63s\t%d\t%u", &id, name, devname,
			   &dead, &nmap) != 5) {
			TH_LOG("unparsable line: %s", line);
			found = -1;
			break;
		}
		if (!strcmp(devname, self->info.provider)) {
			EXPECT_STREQ("attach_test", name);
			EXPECT_EQ(0, dead);
			EXPECT_EQ(0u, nmap);
			found++;
		}
	}
	fclose(f);
	EXPECT_EQ(1, found) {
		TH_LOG("provider %s listed %d times", self->info.provider, found);
	}
}

/* Must stay the last test: the provider is gone after it. */
TEST_F(attach, teardown_unregisters)
{
	char path[P2PMAP_AT_PATH_LEN + 32];
	struct stat st;

	REQUIRE_PAIR();
	snprintf(path, sizeof(path), "%s/aperture_total", self->info.sysfs_dir);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_AT_IOC_TEARDOWN) < 0 ? -errno : 0);
	EXPECT_NE(0, stat(self->info.sysfs_dir, &st)) {
		TH_LOG("%s still exists after unregister", self->info.sysfs_dir);
	}
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	EXPECT_EQ(0u, self->info.flags &
		  (P2PMAP_AT_F_REGISTERED | P2PMAP_AT_F_ATTACHED));
}

TEST_HARNESS_MAIN
