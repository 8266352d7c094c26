// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host unit tests of libp2pmap-rdma's decisions, with fake verbs entry
 * points (no RDMA device needed): /proc/self/maps parsing, which memory is
 * p2pmap memory, dma-buf MR first, fallback to a VA MR with the errno and
 * reason of the refusal, REQUIRE_DMABUF / NO_DMABUF, the library's own
 * mapping of a dma-buf for a fallback and its release at deregistration.
 * A memfd stands in for the dma-buf (both can be mmapped). TAP output;
 * the last line is "rdmaplugin: N passed, N failed".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "p2pmap_rdma_int.h"

static int failed, ntest;

#define CHECK(cond, ...) do {						\
	ntest++;							\
	if (cond) {							\
		printf("ok %d - ", ntest);				\
	} else {							\
		failed++;						\
		printf("not ok %d - ", ntest);				\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

/* Fake verbs: scripted results, recorded calls. */
static struct ibv_mr fake_mr;
static int dmabuf_err, va_err;
static int dmabuf_calls, va_calls, dereg_calls;
static void *va_addr;
static uint64_t dmabuf_off;

static struct ibv_mr *fake_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
					 size_t length, uint64_t iova, int fd,
					 int access)
{
	(void)pd; (void)length; (void)iova; (void)fd; (void)access;
	dmabuf_calls++;
	dmabuf_off = offset;
	if (dmabuf_err) {
		errno = dmabuf_err;
		return NULL;
	}
	return &fake_mr;
}

static struct ibv_mr *fake_reg_mr(struct ibv_pd *pd, void *addr,
				  size_t length, int access)
{
	(void)pd; (void)length; (void)access;
	va_calls++;
	va_addr = addr;
	if (va_err) {
		errno = va_err;
		return NULL;
	}
	return &fake_mr;
}

static int fake_dereg_mr(struct ibv_mr *mr)
{
	(void)mr;
	dereg_calls++;
	return 0;
}

static void reset(int derr, int verr)
{
	dmabuf_err = derr;
	va_err = verr;
	dmabuf_calls = 0;
	va_calls = 0;
	dereg_calls = 0;
	va_addr = NULL;
	dmabuf_off = ~0ULL;
}

static char maps_file[32];

static void write_maps(const char *text)
{
	FILE *f = fopen(maps_file, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror("maps fixture");
		exit(1);
	}
}

int main(void)
{
	const char *line = "7f0000001000-7f0000003000 rw-s 10000000 00:05 17 /dev/dri/renderD128\n";
	struct p2pmap_mr_info info = { .size = sizeof(info) };
	char path[64], buf[64];
	struct ibv_mr *mr;
	int fd, mfd;

	printf("TAP version 13\n");
	snprintf(maps_file, sizeof(maps_file), "/tmp/p2pmap-rdma-maps-XXXXXX");
	fd = mkstemp(maps_file);
	if (fd < 0)
		return 1;
	close(fd);
	p2pmap_rdma_ops.reg_dmabuf_mr = fake_reg_dmabuf_mr;
	p2pmap_rdma_ops.reg_mr = fake_reg_mr;
	p2pmap_rdma_ops.dereg_mr = fake_dereg_mr;
	p2pmap_rdma_ops.maps_path = maps_file;

	/* maps parsing */
	CHECK(p2pmap_rdma_parse_maps_line(line, 0x7f0000001000, path, sizeof(path)) == 1 &&
	      !strcmp(path, "/dev/dri/renderD128"), "maps line: first byte, path");
	CHECK(p2pmap_rdma_parse_maps_line(line, 0x7f0000002fff, NULL, 0) == 1,
	      "maps line: last byte");
	CHECK(p2pmap_rdma_parse_maps_line(line, 0x7f0000003000, NULL, 0) == 0,
	      "maps line: end is exclusive");
	CHECK(p2pmap_rdma_parse_maps_line("7f00-7f10 rw-p 0 00:00 0\n", 0x7f01,
					  path, sizeof(path)) == 1 && !path[0],
	      "maps line: anonymous mapping has an empty path");
	CHECK(p2pmap_rdma_parse_maps_line("garbage\n", 1, NULL, 0) == -1,
	      "maps line: malformed");
	CHECK(p2pmap_rdma_parse_maps_line(line, 0x7f0000001000, path, 8) == 1 &&
	      !strcmp(path, "/dev/dr"), "maps line: path truncated to the buffer");
	CHECK(p2pmap_rdma_is_drm_node("/dev/dri/renderD129") &&
	      p2pmap_rdma_is_drm_node("/dev/dri/card0") &&
	      p2pmap_rdma_is_drm_node("/dev/p2pgpu/renderD128") &&
	      p2pmap_rdma_is_drm_node("/dmabuf:") &&
	      !p2pmap_rdma_is_drm_node("/dev/zero") &&
	      !p2pmap_rdma_is_drm_node(""), "DRM node names");
	CHECK(p2pmap_rdma_dmabuf_unsupported(EOPNOTSUPP) &&
	      p2pmap_rdma_dmabuf_unsupported(EPROTONOSUPPORT) &&
	      !p2pmap_rdma_dmabuf_unsupported(EFAULT), "unsupported errnos");
	CHECK(!strcmp(p2pmap_mr_kind_name(P2PMAP_MR_DMABUF), "dmabuf") &&
	      !strcmp(p2pmap_mr_kind_name(P2PMAP_MR_VA), "va") &&
	      !strcmp(p2pmap_mr_kind_name(P2PMAP_MR_NONE), "none"), "kind names");

	write_maps("00400000-00401000 r-xp 0 08:01 5 /bin/true\n"
		   "7f0000001000-7f0000003000 rw-s 10000000 00:05 17 /dev/dri/renderD128\n"
		   "7f0000005000-7f0000006000 rw-p 0 00:00 0\n");
	CHECK(p2pmap_find_mapping((void *)0x7f0000002000, path, sizeof(path)) ==
	      P2PMAP_MEM_P2PGPU, "render-node mapping is p2pgpu memory");
	CHECK(p2pmap_find_mapping((void *)0x7f0000005000, path, sizeof(path)) ==
	      P2PMAP_MEM_HOST, "anonymous mapping is host memory");
	CHECK(p2pmap_find_mapping((void *)0x10, path, sizeof(path)) ==
	      P2PMAP_MEM_HOST && !path[0], "unmapped address is host memory");

	/* host memory: VA MR, never a dma-buf attempt */
	reset(0, 0);
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000005000, 4096, 0, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA &&
	      info.mem == P2PMAP_MEM_HOST && dmabuf_calls == 0 && va_calls == 1 &&
	      strstr(info.reason, "host memory"), "host memory: VA MR (%s)",
	      info.reason);
	reset(0, 0);
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000005000, 4096, 0,
			   P2PMAP_REG_REQUIRE_DMABUF, &info);
	CHECK(!mr && errno == EINVAL && va_calls == 0 &&
	      info.kind == P2PMAP_MR_NONE, "host memory + REQUIRE_DMABUF: EINVAL (%s)",
	      info.reason);
	reset(0, 0);
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000005000, 4096, 0,
			   P2PMAP_REG_FLAGS, &info);
	CHECK(!mr && errno == EINVAL && va_calls == 0, "contradictory flags: EINVAL");
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000005000, 0, 0, 0, &info);
	CHECK(!mr && errno == EINVAL, "zero length: EINVAL");
	reset(0, EFAULT);
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000005000, 4096, 0, 0, NULL);
	CHECK(!mr && errno == EFAULT, "host memory, VA MR refused: errno passed on");

	/*
	 * p2pgpu memory whose render node cannot be opened here (the host
	 * has none): no dma-buf, a VA MR, and the reason says so.
	 */
	reset(0, 0);
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001800, 4096, 0, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA &&
	      info.mem == P2PMAP_MEM_P2PGPU && info.dmabuf_errno != 0 &&
	      dmabuf_calls == 0 && strstr(info.reason, "no dma-buf"),
	      "p2pgpu memory without a dma-buf: VA MR with reason (%s)",
	      info.reason);
	reset(0, 0);
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001800, 4096, 0,
			   P2PMAP_REG_REQUIRE_DMABUF, &info);
	CHECK(!mr && va_calls == 0 && info.kind == P2PMAP_MR_NONE,
	      "p2pgpu memory without a dma-buf + REQUIRE_DMABUF: no MR (%s)",
	      info.reason);
	reset(0, 0);
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001800, 4096, 0,
			   P2PMAP_REG_NO_DMABUF, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA && dmabuf_calls == 0 &&
	      strstr(info.reason, "not tried"), "NO_DMABUF: VA MR (%s)",
	      info.reason);

	/* dma-buf fd given: a memfd stands in */
	mfd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, 4 * 4096))
		return 1;
	reset(0, 0);
	mr = p2pmap_reg_mr_fd(NULL, mfd, 4096 + 16, 8192, NULL, 0, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_DMABUF &&
	      dmabuf_off == 4096 + 16 && va_calls == 0 && info.dmabuf_errno == 0,
	      "dma-buf MR accepted (%s)", info.reason);
	CHECK(p2pmap_dereg_mr(mr) == 0 && dereg_calls == 1, "dereg of a dma-buf MR");

	reset(EOPNOTSUPP, 0);
	mr = p2pmap_reg_mr_fd(NULL, mfd, 4096 + 16, 8192, NULL, 0, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA &&
	      info.dmabuf_errno == EOPNOTSUPP && va_calls == 1 && va_addr &&
	      ((uintptr_t)va_addr & 4095) == 16 && strstr(info.reason, "rxe"),
	      "dma-buf MR refused (EOPNOTSUPP): VA MR on the library's mapping (%s)",
	      info.reason);
	if (va_addr) {
		/* the library's mapping of the memfd is live until dereg */
		CHECK(msync((char *)va_addr - 16, 4096, MS_ASYNC) == 0,
		      "fallback mapping live while the MR is");
		CHECK(p2pmap_dereg_mr(mr) == 0 && dereg_calls == 1,
		      "dereg of the fallback MR");
		errno = 0;
		CHECK(msync((char *)va_addr - 16, 4096, MS_ASYNC) == -1 &&
		      errno == ENOMEM, "fallback mapping gone after dereg");
	}

	reset(EOPNOTSUPP, 0);
	errno = 0;
	mr = p2pmap_reg_mr_fd(NULL, mfd, 0, 4096, NULL, 0,
			      P2PMAP_REG_REQUIRE_DMABUF, &info);
	CHECK(!mr && errno == EOPNOTSUPP && va_calls == 0 &&
	      strstr(info.reason, "REQUIRE_DMABUF"),
	      "REQUIRE_DMABUF: refusal passed on (%s)", info.reason);

	reset(EOPNOTSUPP, EFAULT);
	errno = 0;
	buf[0] = 0;
	mr = p2pmap_reg_mr_fd(NULL, mfd, 0, 4096, buf, 0, 0, &info);
	CHECK(!mr && errno == EFAULT && info.dmabuf_errno == EOPNOTSUPP &&
	      info.va_errno == EFAULT && va_addr == buf &&
	      strstr(info.reason, "struct pages"),
	      "both refused: no MR, both errnos and the reason (%s)", info.reason);

	reset(EINVAL, 0);
	mr = p2pmap_reg_mr_fd(NULL, mfd, 0, 4096, buf, 0, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA &&
	      info.dmabuf_errno == EINVAL && strstr(info.reason, "dmesg"),
	      "other dma-buf errors fall back too, and say so (%s)", info.reason);
	CHECK(p2pmap_dereg_mr(mr) == 0, "dereg without a library mapping");

	errno = 0;
	CHECK(!p2pmap_reg_mr_fd(NULL, -1, 0, 4096, NULL, 0, 0, &info) &&
	      errno == EINVAL, "bad fd: EINVAL");
	errno = 0;
	CHECK(!p2pmap_reg_mr_fd(NULL, mfd, 0, 4096, NULL, 0, 0x80, &info) &&
	      errno == EINVAL, "unknown flags: EINVAL");

	/* ABI: a caller that did not set info.size is refused, nothing called */
	va_calls = 0;
	dmabuf_calls = 0;
	info.size = 0;
	errno = 0;
	CHECK(!p2pmap_reg_mr_fd(NULL, mfd, 0, 4096, NULL, 0, 0, &info) &&
	      errno == EINVAL && va_calls == 0 && dmabuf_calls == 0,
	      "info.size 0: EINVAL before any registration");
	info.size = sizeof(info);
	errno = 0;
	va_calls = 0;
	CHECK(p2pmap_reg_mr(NULL, (void *)4096, 4096, 0, 0, NULL) == &fake_mr &&
	      va_calls == 1, "info NULL is still allowed (host memory: VA MR)");

	close(mfd);
	unlink(maps_file);
	printf("1..%d\n", ntest);
	/* the summary line scripts/check.sh counts */
	printf("rdmaplugin: %d passed, %d failed\n", ntest - failed, failed);
	return failed ? 1 : 0;
}
