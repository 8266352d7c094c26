// SPDX-License-Identifier: GPL-2.0
/*
 * p2pdma_edu_test: kselftest for tests/kmod/p2pdma_edu. It checks, through
 * /dev/p2pdma_edu, that the QEMU edu DMA engine moves data into and out of
 * the ivshmem-plain BAR2 via the kernel P2PDMA API when the pair has a
 * route (P2PMAP_ROUTE bus_addr: both behind one PCIe switch), and that the
 * kernel refuses the mapping with EREMOTEIO, with no DMA issued, when it has
 * none (not_supported: their only common upstream is q35's host bridge).
 * The suite (p2pdma.sh) chooses the pair and passes it to the module
 * (provider=, client=). Every data test runs on every machine with the
 * expectation of the pair's route, so the TAP plan never
 * changes; on a kernel without CONFIG_PCI_P2PDMA those tests SKIP with the
 * module's reason, while argument-validation tests still run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

/* 6.1's harness has an unused parameter; keep -Wextra -Werror for our code */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pmap_selftest.h"
#include "p2pdma_edu_uapi.h"

#define DEV_PATH	"/dev/" P2PDMA_EDU_DEVNAME
#define P2PMEM_SIZE	P2PDMA_EDU_P2PMEM_SIZE
#define MAX_LEN		P2PDMA_EDU_MAX_LEN
#define KERNEL_PTR	0xffff888000000000ull

enum route { ROUTE_P2P, ROUTE_NONE };

struct xfer_case {
	uint32_t len;
	uint32_t off;
};

/* odd lengths, 1 and 4095, page-crossing and buffer-end offsets */
static const struct xfer_case xfer_cases[] = {
	{ 1, 0 },
	{ 3, 1 },
	{ 2048, 0 },
	{ 4095, 0 },
	{ 777, 4000 },
	{ 4095, 4097 },
	{ 511, P2PMEM_SIZE - 511 },
	{ 4095, P2PMEM_SIZE - 4095 },
};

/* TRANSFER ioctl; returns 0 or -errno, *out gets the returned struct */
static int do_xfer(int fd, uint32_t dir, uint32_t flags, uint32_t len,
		   uint32_t off, uint64_t buf, struct p2pdma_edu_transfer *out)
{
	struct p2pdma_edu_transfer x = {
		.direction = dir,
		.flags = flags,
		.length = len,
		.offset = off,
		.buf = buf,
	};
	int ret = ioctl(fd, P2PDMA_EDU_IOC_TRANSFER, &x);

	if (out)
		*out = x;
	return ret < 0 ? -errno : ret;
}

static int get_info(int fd, struct p2pdma_edu_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, P2PDMA_EDU_IOC_INFO, info) < 0 ? -errno : 0;
}

static const char *map_name(uint32_t t)
{
	switch (t) {
	case P2PDMA_EDU_MAP_UNKNOWN: return "unknown";
	case P2PDMA_EDU_MAP_NOT_SUPPORTED: return "not-supported";
	case P2PDMA_EDU_MAP_BUS_ADDR: return "bus-addr";
	case P2PDMA_EDU_MAP_THRU_HOST_BRIDGE: return "thru-host-bridge";
	case P2PDMA_EDU_MAP_ERROR: return "error";
	}
	return "?";
}

FIXTURE(p2pdma_edu) {
	int fd;
	enum route topo;
	struct p2pdma_edu_info info;
};

FIXTURE_SETUP(p2pdma_edu)
{
	enum p2pmap_pair_route t = p2pmap_pair_route();

	self->fd = -1;
	ASSERT_NE(P2PMAP_PAIR_INVALID, t) {
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	}
	self->topo = t == P2PMAP_PAIR_P2P ? ROUTE_P2P : ROUTE_NONE;

	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s (is p2pdma_edu.ko loaded?)", DEV_PATH,
		       strerror(errno));
	}
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	ASSERT_EQ(P2PDMA_EDU_ABI_VERSION, self->info.abi_version);
	ASSERT_EQ(P2PMEM_SIZE, self->info.p2pmem_size);
	ASSERT_EQ(MAX_LEN, self->info.max_len);
}

FIXTURE_TEARDOWN(p2pdma_edu)
{
	if (self->fd >= 0)
		close(self->fd);
}

static bool have_p2pdma(const struct p2pdma_edu_info *info)
{
	return info->flags & P2PDMA_EDU_INFO_P2PDMA_KCONFIG;
}

/* Tests that need P2PDMA: SKIP (not pass) on a kernel without it. */
#define REQUIRE_P2PDMA() do {						\
	if (!have_p2pdma(&self->info))					\
		SKIP(return, "P2PDMA unavailable: %s", self->info.reason); \
} while (0)

static uint64_t dma_count(struct __test_metadata *_metadata, int fd)
{
	struct p2pdma_edu_info info;

	ASSERT_EQ(0, get_info(fd, &info));
	return info.dma_count;
}

/*
 * One transfer of @len bytes at @off with a fresh pattern, checked against
 * the topology: switch -> success, the data byte for byte, no overrun and
 * exactly two edu DMA commands; rootbus -> EREMOTEIO, @buf untouched and no
 * edu DMA at all.
 */
static void check_xfer(struct __test_metadata *_metadata, int fd,
		       enum route topo, uint32_t dir, uint32_t len,
		       uint32_t off)
{
	struct p2pdma_edu_transfer x;
	uint8_t *pattern = malloc(len);
	uint8_t *buf = malloc(len);
	const char *dname = dir == P2PDMA_EDU_DIR_TO_BAR ? "to-BAR" : "from-BAR";
	uint64_t before, after;
	long bad;
	int ret;

	ASSERT_NE(NULL, pattern);
	ASSERT_NE(NULL, buf);
	fill_pattern(pattern, len);
	memcpy(buf, pattern, len);

	before = dma_count(_metadata, fd);
	ret = do_xfer(fd, dir, 0, len, off, (uintptr_t)buf, &x);
	after = dma_count(_metadata, fd);

	if (topo == ROUTE_P2P) {
		ASSERT_EQ(0, ret) {
			TH_LOG("%s len %u off %u: %s", dname, len, off,
			       strerror(-ret));
		}
		bad = first_mismatch(pattern, buf, len);
		EXPECT_EQ(-1, bad) {
			TH_LOG("%s len %u off %u: byte %ld is %#x, want %#x",
			       dname, len, off, bad, buf[bad], pattern[bad]);
		}
		EXPECT_EQ(0u, x.guard_errors) {
			TH_LOG("%s len %u off %u: %u bytes outside the range changed",
			       dname, len, off, x.guard_errors);
		}
		EXPECT_EQ(P2PDMA_EDU_MAP_BUS_ADDR, x.map_type) {
			TH_LOG("map type %s", map_name(x.map_type));
		}
		EXPECT_NE(0ull, (unsigned long long)x.dma_addr);
		EXPECT_EQ(before + 2, after);
	} else {
		ASSERT_EQ(-EREMOTEIO, ret) {
			TH_LOG("%s len %u off %u: want EREMOTEIO, got %s",
			       dname, len, off, ret ? strerror(-ret) : "success");
		}
		EXPECT_EQ(-1, first_mismatch(pattern, buf, len)) {
			TH_LOG("refused transfer modified the user buffer");
		}
		EXPECT_EQ(before, after) {
			TH_LOG("refused transfer issued %llu edu DMA commands",
			       (unsigned long long)(after - before));
		}
	}
	free(pattern);
	free(buf);
}

TEST_F(p2pdma_edu, info)
{
	const struct p2pdma_edu_info *in = &self->info;

	TH_LOG("provider '%s' (BAR2 %llu MiB) client '%s' distance %d map %s (%d) dma_count %llu reason '%s'",
	       in->provider, (unsigned long long)(in->provider_bar_size >> 20),
	       in->client, in->distance, map_name(in->map_type),
	       in->map_error, (unsigned long long)in->dma_count, in->reason);
	if (!have_p2pdma(in)) {
		EXPECT_NE(NULL, strstr(in->reason, "CONFIG_PCI_P2PDMA")) {
			TH_LOG("no CONFIG_PCI_P2PDMA but reason is '%s'",
			       in->reason);
		}
		EXPECT_GT(0, in->distance);
	}
	REQUIRE_P2PDMA();

	ASSERT_TRUE(!!(in->flags & P2PDMA_EDU_INFO_HAVE_PROVIDER)) {
		TH_LOG("no ivshmem-plain (1af4:1110) device bound");
	}
	ASSERT_TRUE(!!(in->flags & P2PDMA_EDU_INFO_HAVE_CLIENT)) {
		TH_LOG("no edu (1234:11e8) device bound");
	}
	EXPECT_TRUE(!!(in->flags & P2PDMA_EDU_INFO_P2PMEM));
	EXPECT_FALSE(!!(in->flags & P2PDMA_EDU_INFO_WEDGED));
	EXPECT_NE('\0', in->provider[0]);
	EXPECT_NE('\0', in->client[0]);
	EXPECT_EQ('\0', in->provider[P2PDMA_EDU_NAME_LEN - 1]);
	EXPECT_EQ('\0', in->client[P2PDMA_EDU_NAME_LEN - 1]);
	EXPECT_EQ('\0', in->reason[P2PDMA_EDU_REASON_LEN - 1]);
	EXPECT_NE(0ull, (unsigned long long)in->provider_bar_size);
	EXPECT_EQ(0ull, (unsigned long long)(in->provider_bar_size &
					     (in->provider_bar_size - 1)));

	if (self->topo == ROUTE_P2P) {
		EXPECT_LE(0, in->distance);
		EXPECT_EQ(P2PDMA_EDU_MAP_BUS_ADDR, in->map_type) {
			TH_LOG("map type %s", map_name(in->map_type));
		}
		EXPECT_EQ(0, in->map_error);
		EXPECT_EQ('\0', in->reason[0]);
	} else {
		EXPECT_GT(0, in->distance);
		EXPECT_EQ(P2PDMA_EDU_MAP_NOT_SUPPORTED, in->map_type) {
			TH_LOG("map type %s", map_name(in->map_type));
		}
		EXPECT_EQ(-EREMOTEIO, in->map_error);
		EXPECT_NE('\0', in->reason[0]);
	}
}

TEST_F(p2pdma_edu, to_bar)
{
	size_t i;

	REQUIRE_P2PDMA();
	for (i = 0; i < ARRAY_SIZE(xfer_cases); i++)
		check_xfer(_metadata, self->fd, self->topo,
			   P2PDMA_EDU_DIR_TO_BAR, xfer_cases[i].len,
			   xfer_cases[i].off);
}

TEST_F(p2pdma_edu, from_bar)
{
	size_t i;

	REQUIRE_P2PDMA();
	for (i = 0; i < ARRAY_SIZE(xfer_cases); i++)
		check_xfer(_metadata, self->fd, self->topo,
			   P2PDMA_EDU_DIR_FROM_BAR, xfer_cases[i].len,
			   xfer_cases[i].off);
}

/*
 * edu writes a pattern into the BAR, then edu reads it back out of the BAR
 * with no CPU copy in between (NO_CPU_FILL): a sub-range of the pattern,
 * then bytes next to it, which TO_BAR left as poison.
 */
TEST_F(p2pdma_edu, round_trip)
{
	const uint32_t off = 1234, len = 3001;
	uint8_t pattern[3001], buf[3001], poison[64];
	struct p2pdma_edu_transfer x;
	int ret;

	REQUIRE_P2PDMA();
	fill_pattern(pattern, len);
	memcpy(buf, pattern, len);
	memset(poison, P2PDMA_EDU_POISON, sizeof(poison));

	ret = do_xfer(self->fd, P2PDMA_EDU_DIR_TO_BAR, 0, len, off,
		      (uintptr_t)buf, &x);
	if (self->topo == ROUTE_NONE) {
		EXPECT_EQ(-EREMOTEIO, ret);
		memset(buf, 0, len);
		EXPECT_EQ(-EREMOTEIO,
			  do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
				  P2PDMA_EDU_XFER_F_NO_CPU_FILL, len, off,
				  (uintptr_t)buf, NULL));
		EXPECT_EQ(0, buf[0]);
		return;
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(-1, first_mismatch(pattern, buf, len));

	memset(buf, 0, len);
	ret = do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
		      P2PDMA_EDU_XFER_F_NO_CPU_FILL, len - 10, off + 5,
		      (uintptr_t)buf, &x);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-1, first_mismatch(pattern + 5, buf, len - 10)) {
		TH_LOG("edu read back something else than edu wrote");
	}
	EXPECT_EQ(0u, x.guard_errors);

	memset(buf, 0, sizeof(poison));
	ret = do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
		      P2PDMA_EDU_XFER_F_NO_CPU_FILL, sizeof(poison), off + len,
		      (uintptr_t)buf, &x);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-1, first_mismatch(poison, buf, sizeof(poison))) {
		TH_LOG("bytes after the TO_BAR range are not poison");
	}
}

TEST_F(p2pdma_edu, bad_length)
{
	static const uint32_t lens[] = { 0, MAX_LEN + 1, 65536, 0xffffffffu };
	static const uint32_t dirs[] = { P2PDMA_EDU_DIR_TO_BAR,
					 P2PDMA_EDU_DIR_FROM_BAR };
	uint8_t buf[8192] = { 0 };
	uint64_t before = dma_count(_metadata, self->fd);
	size_t i, d;

	for (d = 0; d < ARRAY_SIZE(dirs); d++)
		for (i = 0; i < ARRAY_SIZE(lens); i++)
			EXPECT_EQ(-EINVAL, do_xfer(self->fd, dirs[d], 0,
						   lens[i], 0,
						   (uintptr_t)buf, NULL)) {
				TH_LOG("dir %u len %u", dirs[d], lens[i]);
			}
	EXPECT_EQ(before, dma_count(_metadata, self->fd));
}

TEST_F(p2pdma_edu, bad_offset)
{
	static const struct xfer_case bad[] = {
		{ 1, P2PMEM_SIZE },
		{ 11, P2PMEM_SIZE - 10 },
		{ MAX_LEN, P2PMEM_SIZE - MAX_LEN + 1 },
		{ 1, 0xffffffffu },
		{ 0x20, 0xfffffff0u },
	};
	uint8_t buf[MAX_LEN] = { 0 };
	uint64_t before = dma_count(_metadata, self->fd);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, do_xfer(self->fd, P2PDMA_EDU_DIR_TO_BAR, 0,
					   bad[i].len, bad[i].off,
					   (uintptr_t)buf, NULL)) {
			TH_LOG("to-BAR len %u off %u", bad[i].len, bad[i].off);
		}
		EXPECT_EQ(-EINVAL, do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
					   0, bad[i].len, bad[i].off,
					   (uintptr_t)buf, NULL)) {
			TH_LOG("from-BAR len %u off %u", bad[i].len,
			       bad[i].off);
		}
	}
	EXPECT_EQ(before, dma_count(_metadata, self->fd));
}

TEST_F(p2pdma_edu, bad_direction)
{
	static const uint32_t dirs[] = { 0, 3, 4, 0x80000000u, 0xffffffffu };
	uint8_t buf[16] = { 0 };
	uint64_t before = dma_count(_metadata, self->fd);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		EXPECT_EQ(-EINVAL, do_xfer(self->fd, dirs[i], 0, sizeof(buf),
					   0, (uintptr_t)buf, NULL)) {
			TH_LOG("direction %#x", dirs[i]);
		}
	EXPECT_EQ(before, dma_count(_metadata, self->fd));
}

TEST_F(p2pdma_edu, unknown_flags)
{
	static const uint32_t flags[] = { 1u << 1, 1u << 31, 0xffffffffu,
					  ~P2PDMA_EDU_XFER_FLAGS_ALL };
	uint8_t buf[16] = { 0 };
	uint64_t before = dma_count(_metadata, self->fd);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		EXPECT_EQ(-EINVAL, do_xfer(self->fd, P2PDMA_EDU_DIR_TO_BAR,
					   flags[i], sizeof(buf), 0,
					   (uintptr_t)buf, NULL)) {
			TH_LOG("to-BAR flags %#x", flags[i]);
		}
		EXPECT_EQ(-EINVAL, do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
					   flags[i], sizeof(buf), 0,
					   (uintptr_t)buf, NULL)) {
			TH_LOG("from-BAR flags %#x", flags[i]);
		}
	}
	/* NO_CPU_FILL is only defined for FROM_BAR */
	EXPECT_EQ(-EINVAL, do_xfer(self->fd, P2PDMA_EDU_DIR_TO_BAR,
				   P2PDMA_EDU_XFER_F_NO_CPU_FILL, sizeof(buf),
				   0, (uintptr_t)buf, NULL));
	EXPECT_EQ(before, dma_count(_metadata, self->fd));
}

TEST_F(p2pdma_edu, bad_pointer)
{
	static const uint32_t dirs[] = { P2PDMA_EDU_DIR_TO_BAR,
					 P2PDMA_EDU_DIR_FROM_BAR };
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t before = dma_count(_metadata, self->fd);
	uint64_t unmapped, tail;
	uint8_t *map;
	size_t d;
	int ret;

	/* the ioctl argument itself */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PDMA_EDU_IOC_TRANSFER, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PDMA_EDU_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PDMA_EDU_IOC_TRANSFER, 1UL));
	EXPECT_EQ(EFAULT, errno);

	/* two pages; the second unmapped: a hole and a range running into it */
	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + pg, pg));
	memset(map, 0x3c, pg);
	unmapped = (uintptr_t)(map + pg);
	tail = (uintptr_t)(map + pg - 100);

	for (d = 0; d < ARRAY_SIZE(dirs); d++) {
		EXPECT_EQ(-EFAULT, do_xfer(self->fd, dirs[d], 0, 64, 0, 0,
					   NULL));
		EXPECT_EQ(-EFAULT, do_xfer(self->fd, dirs[d], 0, 64, 0,
					   KERNEL_PTR, NULL));
		EXPECT_EQ(-EFAULT, do_xfer(self->fd, dirs[d], 0, 64, 0,
					   unmapped, NULL));
		EXPECT_EQ(-EFAULT, do_xfer(self->fd, dirs[d], 0, 200, 0,
					   tail, NULL));
	}
	/* NO_CPU_FILL only writes buf; a kernel pointer is refused upfront */
	EXPECT_EQ(-EFAULT, do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
				   P2PDMA_EDU_XFER_F_NO_CPU_FILL, 64, 0,
				   KERNEL_PTR, NULL));
	EXPECT_EQ(before, dma_count(_metadata, self->fd)) {
		TH_LOG("a rejected transfer issued edu DMA");
	}

	/*
	 * NO_CPU_FILL into a read-only buffer: only copy_to_user can notice,
	 * after the DMA (switch); refused before that on the root bus.
	 */
	ASSERT_EQ(0, mprotect(map, pg, PROT_READ));
	ret = do_xfer(self->fd, P2PDMA_EDU_DIR_FROM_BAR,
		      P2PDMA_EDU_XFER_F_NO_CPU_FILL, 64, 0, (uintptr_t)map,
		      NULL);
	if (!have_p2pdma(&self->info)) {
		EXPECT_EQ(-EOPNOTSUPP, ret);
	} else if (self->topo == ROUTE_P2P) {
		EXPECT_EQ(-EFAULT, ret);
	} else {
		EXPECT_EQ(-EREMOTEIO, ret);
	}
	EXPECT_EQ(0x3c, map[0]);
	munmap(map, pg);
}

TEST_F(p2pdma_edu, unknown_ioctl)
{
	uint8_t arg[512] = { 0 };

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IO(P2PDMA_EDU_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	/* right numbers, wrong size or direction encoded */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(P2PDMA_EDU_IOC_MAGIC, 0x00,
					   uint64_t), arg));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(P2PDMA_EDU_IOC_MAGIC, 0x01,
					   struct p2pdma_edu_transfer), arg));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 0x01,
					   struct p2pdma_edu_transfer), arg));
	EXPECT_EQ(ENOTTY, errno);
}

/*
 * Several processes transfer at once; the module serialises them. Each
 * child checks its own data and reports by exit status (no harness macros
 * in the children).
 */
#define CONC_CHILDREN	3
#define CONC_ROUNDS	3

static int conc_child(int fd, enum route topo, int id)
{
	uint8_t pattern[1500], buf[1500];
	int r, ret;

	for (r = 0; r < CONC_ROUNDS; r++) {
		uint32_t dir = (id + r) & 1 ? P2PDMA_EDU_DIR_FROM_BAR :
					      P2PDMA_EDU_DIR_TO_BAR;
		uint32_t len = sizeof(pattern) - id * 7 - r;
		uint32_t off = id * 2000 + r * 3;

		fill_pattern(pattern, len);
		memcpy(buf, pattern, len);
		ret = do_xfer(fd, dir, 0, len, off, (uintptr_t)buf, NULL);
		if (topo == ROUTE_NONE) {
			if (ret != -EREMOTEIO)
				return 10 + r;
		} else if (ret) {
			return 20 + r;
		}
		if (first_mismatch(pattern, buf, len) != -1)
			return 30 + r;
	}
	return 0;
}

TEST_F_TIMEOUT(p2pdma_edu, concurrent, 60)
{
	pid_t pids[CONC_CHILDREN];
	uint64_t before, after;
	int i, status;

	REQUIRE_P2PDMA();
	before = dma_count(_metadata, self->fd);
	for (i = 0; i < CONC_CHILDREN; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(conc_child(self->fd, self->topo, i));
	}
	for (i = 0; i < CONC_CHILDREN; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("child %d failed with code %d", i,
			       WEXITSTATUS(status));
		}
	}
	after = dma_count(_metadata, self->fd);
	if (self->topo == ROUTE_P2P) {
		EXPECT_EQ(before + 2 * CONC_CHILDREN * CONC_ROUNDS, after);
	} else {
		EXPECT_EQ(before, after);
	}
}

TEST_HARNESS_MAIN
