// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host unit tests of libp2pmap-rdma's decisions, with fake verbs, DRM and
 * file entry points (no RDMA device needed): /proc/self/maps parsing,
 * which memory is p2pmap memory, the choice dma-buf MR / ODP MR / VA MR
 * from the device's answers (dma-buf probe, odp_caps) and the kernel's
 * (/sys/module/p2pmap/features fixtures for 6.1 and 7.3), the DRM driver
 * name check before any p2pgpu ioctl and the scan that stops at the first
 * foreign node, fallbacks with the errno and reason of each refusal,
 * REQUIRE_DMABUF / NO_DMABUF / NO_ODP, the library's own mapping of a
 * dma-buf for a fallback and its release at deregistration, and the 0.1
 * struct size. A memfd stands in for the dma-buf (both can be mmapped).
 * TAP output; the last line is "rdmaplugin: N passed, N failed".
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "p2pmap_rdma_int.h"

#define ACC	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)

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
static int dmabuf_err, va_err, odp_err, probe_err;
static int dmabuf_calls, va_calls, odp_calls, dereg_calls, probe_calls;
static void *va_addr;
static uint64_t dmabuf_off;
static uint64_t odp_general;
static uint32_t odp_rc;

static struct ibv_mr *fake_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
					 size_t length, uint64_t iova, int fd,
					 int access)
{
	(void)pd; (void)length; (void)iova; (void)access;
	if (fd == -1) {
		/* the library's capability probe: never an MR */
		probe_calls++;
		errno = probe_err;
		return NULL;
	}
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
	int odp = !!(access & IBV_ACCESS_ON_DEMAND);

	(void)pd; (void)length;
	if (odp)
		odp_calls++;
	else
		va_calls++;
	va_addr = addr;
	if (odp ? odp_err : va_err) {
		errno = odp ? odp_err : va_err;
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

static int fake_query_odp(struct ibv_pd *pd, uint64_t *general, uint32_t *rc)
{
	(void)pd;
	*general = odp_general;
	*rc = odp_rc;
	return 0;
}

/*
 * Fake DRM: render nodes renderD128.. exist as far as node_names[] goes
 * (open gives a memfd), each with that driver name; export_bo succeeds on
 * the node at export_ok_minor only. Calls are recorded.
 */
static const char *node_names[4];
static int export_ok_minor, name_calls, export_calls, last_export_minor;
static int fd_minor[1024];

static int fake_open_node(const char *path)
{
	int minor, fd;

	if (sscanf(path, "/dev/dri/renderD%d", &minor) != 1 || minor < 128 ||
	    minor >= 128 + 4 || !node_names[minor - 128]) {
		errno = ENOENT;
		return -1;
	}
	fd = memfd_create("fake-drm-node", MFD_CLOEXEC);
	if (fd >= 0 && fd < 1024)
		fd_minor[fd] = minor;
	return fd;
}

static int fake_drm_name(int fd, char *name, size_t len)
{
	name_calls++;
	snprintf(name, len, "%s", node_names[fd_minor[fd] - 128]);
	return 0;
}

static int fake_export_bo(int fd, void *addr, size_t length, int *dmabuf,
			  uint64_t *off, char *why, size_t whylen)
{
	int err = ENXIO;

	(void)addr; (void)length;
	export_calls++;
	last_export_minor = fd_minor[fd];
	if (fd_minor[fd] != export_ok_minor) {
		snprintf(why, whylen, "BO_FROM_VA: %s", strerror(err));
		return err;
	}
	*dmabuf = memfd_create("fake-dmabuf-export", MFD_CLOEXEC);
	*off = 8192;
	return 0;
}

/*
 * reset(PROBE, DMABUF, ODP, VA): the errnos of the dma-buf probe (EBADF:
 * the device takes dma-buf MRs; EOPNOTSUPP: it has none) and of each kind
 * of registration (0: accepted). No ODP caps, no DRM nodes.
 */
static void reset4(int perr, int derr, int oerr, int verr)
{
	probe_err = perr;
	dmabuf_err = derr;
	odp_err = oerr;
	va_err = verr;
	dmabuf_calls = 0;
	va_calls = 0;
	odp_calls = 0;
	dereg_calls = 0;
	probe_calls = 0;
	name_calls = 0;
	export_calls = 0;
	last_export_minor = 0;
	export_ok_minor = 0;
	memset(node_names, 0, sizeof(node_names));
	odp_general = 0;
	odp_rc = 0;
	va_addr = NULL;
	dmabuf_off = ~0ULL;
}

/* the 0.1 tests' shape: the probe refuses iff @derr is EOPNOTSUPP */
static void reset(int derr, int verr)
{
	reset4(derr == EOPNOTSUPP ? EOPNOTSUPP : EBADF, derr, 0, verr);
}

static char features_file[40];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror("fixture");
		exit(1);
	}
}

/* /sys/module/p2pmap/features as Linux 6.1 and 7.3 builds print it */
#define FEATURES_61 "pci_p2pdma yes\ndevice_private yes\ndmabuf_move_notify yes\n" \
	"pinned_imports yes\ngup_p2pdma_pin yes\n" \
	"odp_p2pdma no ODP maps no P2PDMA pages (needs HMM_PFN_P2PDMA, 6.16, and PCI_P2PDMA): " \
	"RDMA ODP MRs cannot cover P2PDMA device memory\n" \
	"mmu_notifier yes\n"
#define FEATURES_73 "pci_p2pdma yes\ndevice_private yes\ndmabuf_move_notify yes\n" \
	"pinned_imports yes\ngup_p2pdma_pin no GUP pins no P2PDMA page long-term since 6.2 (FOLL_PCI_P2PDMA): pinned imports and RDMA MRs of P2PDMA mappings get EREMOTEIO\n" \
	"odp_p2pdma yes\nmmu_notifier yes\n"

static char maps_file[32];

static void write_maps(const char *text)
{
	write_file(maps_file, text);
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
	snprintf(features_file, sizeof(features_file), "/tmp/p2pmap-rdma-feat-XXXXXX");
	fd = mkstemp(features_file);
	if (fd < 0)
		return 1;
	close(fd);
	/* the 0.1 tests below run on a 6.1-like kernel */
	write_file(features_file, FEATURES_61);
	p2pmap_rdma_ops.reg_dmabuf_mr = fake_reg_dmabuf_mr;
	p2pmap_rdma_ops.reg_mr = fake_reg_mr;
	p2pmap_rdma_ops.dereg_mr = fake_dereg_mr;
	p2pmap_rdma_ops.query_odp = fake_query_odp;
	p2pmap_rdma_ops.open_node = fake_open_node;
	p2pmap_rdma_ops.drm_name = fake_drm_name;
	p2pmap_rdma_ops.export_bo = fake_export_bo;
	p2pmap_rdma_ops.maps_path = maps_file;
	p2pmap_rdma_ops.features_path = features_file;

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
	      dmabuf_calls == 0 && ((uintptr_t)va_addr & 4095) == 16 &&
	      strstr(info.reason, "has none"),
	      "no dma-buf MRs (probe: EOPNOTSUPP): VA MR on the library's mapping (%s)",
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
	      strstr(info.reason, "VA MR refused: Bad address"),
	      "both refused: no MR, both errnos and the reason (%s)", info.reason);

	reset(EINVAL, 0);
	mr = p2pmap_reg_mr_fd(NULL, mfd, 0, 4096, buf, 0, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA &&
	      info.dmabuf_errno == EINVAL &&
	      strstr(info.reason, "dma-buf MR refused: Invalid argument"),
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

	/* --- the choice: dma-buf, ODP, VA, from the device's and kernel's answers */
	write_maps("7f0000001000-7f0000003000 rw-s 10000000 00:05 17 /dev/dri/renderD128\n"
		   "7f0000007000-7f0000009000 rw-s 00000000 00:0c 55 /dmabuf:\n");
	{
		enum p2pmap_mr_kind o[4];
		char why[256];
		unsigned int all = P2PMAP_RDMA_CAP_DMABUF_MR | P2PMAP_RDMA_CAP_ODP |
				   P2PMAP_RDMA_CAP_KERNEL_KNOWN |
				   P2PMAP_RDMA_CAP_KERNEL_ODP_P2P |
				   P2PMAP_RDMA_CAP_KERNEL_PIN_P2P;

		p2pmap_rdma_plan(all, 0, 1, NULL, 1, "d", o, why, sizeof(why));
		CHECK(o[0] == P2PMAP_MR_DMABUF && o[1] == P2PMAP_MR_ODP &&
		      o[2] == P2PMAP_MR_VA && o[3] == P2PMAP_MR_NONE && !why[0],
		      "plan, everything supported: dma-buf, ODP, VA");
		p2pmap_rdma_plan(all & ~P2PMAP_RDMA_CAP_KERNEL_PIN_P2P, 0, 1, NULL, 1,
				 "d", o, why, sizeof(why));
		CHECK(o[0] == P2PMAP_MR_DMABUF && o[1] == P2PMAP_MR_ODP &&
		      o[2] == P2PMAP_MR_NONE && strstr(why, "gup_p2pdma_pin no"),
		      "plan, 7.x kernel: no VA MR (%s)", why);
		p2pmap_rdma_plan(all & ~P2PMAP_RDMA_CAP_KERNEL_ODP_P2P, 0, 1, NULL, 1,
				 "d", o, why, sizeof(why));
		CHECK(o[0] == P2PMAP_MR_DMABUF && o[1] == P2PMAP_MR_VA &&
		      o[2] == P2PMAP_MR_NONE && strstr(why, "odp_p2pdma no"),
		      "plan, 6.1 kernel: no ODP MR even on an ODP device (%s)", why);
		p2pmap_rdma_plan(all, P2PMAP_REG_REQUIRE_DMABUF, 1, NULL, 1, "d", o,
				 why, sizeof(why));
		CHECK(o[0] == P2PMAP_MR_DMABUF && o[1] == P2PMAP_MR_NONE,
		      "plan, REQUIRE_DMABUF: dma-buf only");
		p2pmap_rdma_plan(all, P2PMAP_REG_NO_DMABUF | P2PMAP_REG_NO_ODP, 1,
				 NULL, 1, "d", o, why, sizeof(why));
		CHECK(o[0] == P2PMAP_MR_VA && o[1] == P2PMAP_MR_NONE,
		      "plan, NO_DMABUF|NO_ODP: VA only");
		p2pmap_rdma_plan(all, 0, 0, "export refused", 0, "d", o, why,
				 sizeof(why));
		CHECK(o[0] == P2PMAP_MR_NONE && strstr(why, "export refused") &&
		      strstr(why, "no CPU mapping"),
		      "plan, neither dma-buf nor mapping: nothing (%s)", why);
		p2pmap_rdma_plan(P2PMAP_RDMA_CAP_ODP, 0, 0, NULL, 1, "d", o, why,
				 sizeof(why));
		CHECK(o[0] == P2PMAP_MR_VA && o[1] == P2PMAP_MR_NONE &&
		      strstr(why, "unreadable"),
		      "plan, kernel unknown: no ODP MR, VA MR tried and said so (%s)", why);
	}
	CHECK(p2pmap_rdma_odp_needed(IBV_ACCESS_LOCAL_WRITE) ==
	      (IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV) &&
	      p2pmap_rdma_odp_needed(IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
				     IBV_ACCESS_REMOTE_ATOMIC) ==
	      (IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE |
	       IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_ATOMIC),
	      "RC ODP capabilities needed per access");
	CHECK(p2pmap_rdma_parse_features(FEATURES_61) ==
	      (P2PMAP_RDMA_CAP_KERNEL_KNOWN | P2PMAP_RDMA_CAP_KERNEL_PIN_P2P) &&
	      p2pmap_rdma_parse_features(FEATURES_73) ==
	      (P2PMAP_RDMA_CAP_KERNEL_KNOWN | P2PMAP_RDMA_CAP_KERNEL_ODP_P2P) &&
	      p2pmap_rdma_parse_features("") == P2PMAP_RDMA_CAP_KERNEL_KNOWN,
	      "features file parsed (6.1, 7.3, empty)");

	/* 7.3 + rxe: no dma-buf MRs, RC ODP, the kernel maps P2PDMA under ODP */
	write_file(features_file, FEATURES_73);
	reset4(EOPNOTSUPP, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_ODP && odp_calls == 1 &&
	      va_calls == 0 && dmabuf_calls == 0 && export_calls == 0 &&
	      name_calls == 1 && info.dmabuf_errno == EOPNOTSUPP &&
	      info.caps == (P2PMAP_RDMA_CAP_ODP | P2PMAP_RDMA_CAP_KERNEL_KNOWN |
			    P2PMAP_RDMA_CAP_KERNEL_ODP_P2P) &&
	      strstr(info.reason, "ODP MR on") && strstr(info.reason, "has none"),
	      "7.3 + rxe: ODP MR, no export attempted, says why (%s)", info.reason);
	CHECK(!strcmp(p2pmap_mr_kind_name(P2PMAP_MR_ODP), "odp"), "kind name odp");

	reset4(EOPNOTSUPP, 0, 0, 0);
	node_names[0] = "p2pgpu";
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(!mr && errno == EOPNOTSUPP && odp_calls == 0 && va_calls == 0 &&
	      strstr(info.reason, "no RC ODP") &&
	      strstr(info.reason, "gup_p2pdma_pin no") && strstr(info.reason, "has none"),
	      "7.3, NIC without ODP or dma-buf MRs: no MR, EOPNOTSUPP, all three reasons (%s)",
	      info.reason);

	reset4(EOPNOTSUPP, 0, EFAULT, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(!mr && errno == EFAULT && info.odp_errno == EFAULT && va_calls == 0 &&
	      strstr(info.reason, "ODP MR refused: Bad address"),
	      "7.3, ODP MR refused: no VA MR behind it (%s)", info.reason);

	reset4(EOPNOTSUPP, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC,
			   P2PMAP_REG_NO_ODP, &info);
	CHECK(!mr && odp_calls == 0 && va_calls == 0 &&
	      strstr(info.reason, "P2PMAP_REG_NO_ODP"),
	      "7.3, NO_ODP: no MR (%s)", info.reason);

	/* a NIC with dma-buf MRs (mlx5-like) */
	reset4(EBADF, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	export_ok_minor = 128;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_DMABUF && dmabuf_calls == 1 &&
	      dmabuf_off == 8192 && odp_calls == 0 && export_calls == 1 &&
	      info.offset == 8192 && strstr(info.reason, "takes dma-buf MRs"),
	      "dma-buf NIC: dma-buf MR first (%s)", info.reason);
	reset4(EBADF, EINVAL, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	export_ok_minor = 128;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_ODP && dmabuf_calls == 1 &&
	      odp_calls == 1 && info.dmabuf_errno == EINVAL &&
	      strstr(info.reason, "dma-buf MR refused: Invalid argument"),
	      "dma-buf MR refused on 7.3: ODP MR next (%s)", info.reason);

	/* 6.1: VA MR even on a NIC with ODP */
	write_file(features_file, FEATURES_61);
	reset4(EOPNOTSUPP, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA && odp_calls == 0 &&
	      va_calls == 1 && strstr(info.reason, "odp_p2pdma no") &&
	      strstr(info.reason, "pins P2PDMA pages"),
	      "6.1 + ODP NIC: VA MR, ODP not used (%s)", info.reason);

	/* kernel unknown (p2pmap's features unreadable) */
	p2pmap_rdma_ops.features_path = "/nonexistent/p2pmap/features";
	reset4(EOPNOTSUPP, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_VA && odp_calls == 0 &&
	      !(info.caps & P2PMAP_RDMA_CAP_KERNEL_KNOWN) &&
	      strstr(info.reason, "without knowing"),
	      "kernel unknown: VA MR tried, and said so (%s)", info.reason);
	p2pmap_rdma_ops.features_path = features_file;

	/* DRM driver name before any private ioctl */
	write_file(features_file, FEATURES_73);
	reset4(EBADF, 0, 0, 0);
	node_names[0] = "i915";
	export_ok_minor = 128;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.mem == P2PMAP_MEM_FOREIGN &&
	      info.kind == P2PMAP_MR_VA && export_calls == 0 && name_calls == 1 &&
	      dmabuf_calls == 0 && odp_calls == 0 && strstr(info.reason, "i915"),
	      "foreign DRM node: no p2pgpu ioctl, plain VA MR (%s)", info.reason);
	reset4(EBADF, 0, 0, 0);
	node_names[0] = "i915";
	errno = 0;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC,
			   P2PMAP_REG_REQUIRE_DMABUF, &info);
	CHECK(!mr && errno == EINVAL && export_calls == 0 && va_calls == 0,
	      "foreign DRM node + REQUIRE_DMABUF: EINVAL (%s)", info.reason);

	/* dma-buf mapping: scan of render nodes stops at the first foreign one */
	reset4(EBADF, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	node_names[0] = "p2pgpu";	/* renderD128: not the exporter */
	node_names[1] = "amdgpu";	/* renderD129: foreign, scan stops */
	node_names[2] = "p2pgpu";	/* renderD130: would have exported */
	export_ok_minor = 130;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000007000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_ODP && export_calls == 1 &&
	      last_export_minor == 128 && name_calls == 2 && dmabuf_calls == 0 &&
	      info.dmabuf_errno == ENXIO && strstr(info.reason, "scan stopped") &&
	      strstr(info.reason, "amdgpu"),
	      "dma-buf mapping: scan stopped at the foreign node, ODP MR (%s)",
	      info.reason);
	reset4(EBADF, 0, 0, 0);
	node_names[0] = "p2pgpu";
	node_names[1] = "p2pgpu";
	export_ok_minor = 129;
	mr = p2pmap_reg_mr(NULL, (void *)0x7f0000007000, 8192, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_DMABUF && export_calls == 2 &&
	      last_export_minor == 129 && dmabuf_calls == 1,
	      "dma-buf mapping: the second p2pgpu node exports it, dma-buf MR (%s)",
	      info.reason);

	/* dma-buf fd on 7.3 + rxe: ODP MR on the library's own mapping */
	reset4(EOPNOTSUPP, 0, 0, 0);
	odp_general = IBV_ODP_SUPPORT;
	odp_rc = 0xff;
	mr = p2pmap_reg_mr_fd(NULL, mfd, 4096, 8192, NULL, ACC, 0, &info);
	CHECK(mr == &fake_mr && info.kind == P2PMAP_MR_ODP && odp_calls == 1 &&
	      va_addr && p2pmap_dereg_mr(mr) == 0,
	      "dma-buf fd, 7.3 + rxe: ODP MR on the library's mapping (%s)",
	      info.reason);

	/* p2pmap_rdma_query() */
	{
		struct p2pmap_rdma_caps c = { .size = sizeof(c) };
		struct ibv_pd *fake_pd = (struct ibv_pd *)&fake_mr;

		reset4(EOPNOTSUPP, 0, 0, 0);
		odp_general = IBV_ODP_SUPPORT;
		odp_rc = 0xff;
		CHECK(p2pmap_rdma_query(fake_pd, ACC, &c) == 0 &&
		      c.caps == (P2PMAP_RDMA_CAP_ODP | P2PMAP_RDMA_CAP_KERNEL_KNOWN |
				 P2PMAP_RDMA_CAP_KERNEL_ODP_P2P) &&
		      c.dmabuf_probe_errno == EOPNOTSUPP && c.odp_rc_caps == 0xff &&
		      strstr(c.reason, "odp_p2pdma yes, gup_p2pdma_pin no") &&
		      probe_calls == 1 && dmabuf_calls == 0,
		      "p2pmap_rdma_query: the answers and where they came from (%s)",
		      c.reason);
		c.size = 8;
		errno = 0;
		CHECK(p2pmap_rdma_query(fake_pd, ACC, &c) == -1 && errno == EINVAL,
		      "p2pmap_rdma_query: struct too small: EINVAL");
		errno = 0;
		CHECK(p2pmap_rdma_query(NULL, ACC, &c) == -1 && errno == EINVAL,
		      "p2pmap_rdma_query: no pd: EINVAL");
	}

	/* a program built against 0.1: its smaller struct is filled, no more */
	{
		size_t sz01 = offsetof(struct p2pmap_mr_info, caps);
		unsigned char *raw = malloc(sz01 + 16);
		struct p2pmap_mr_info *old = (struct p2pmap_mr_info *)raw;

		memset(raw, 0xa5, sz01 + 16);
		old->size = sz01;
		reset4(EOPNOTSUPP, 0, 0, 0);
		odp_general = IBV_ODP_SUPPORT;
		odp_rc = 0xff;
		node_names[0] = "p2pgpu";
		mr = p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, old);
		CHECK(mr == &fake_mr && old->kind == P2PMAP_MR_ODP && raw[sz01] == 0xa5 &&
		      raw[sz01 + 15] == 0xa5 && old->size == sz01,
		      "0.1-sized info: accepted, nothing written past it");
		old->size = sz01 - 1;
		errno = 0;
		CHECK(!p2pmap_reg_mr(NULL, (void *)0x7f0000001000, 8192, ACC, 0, old) &&
		      errno == EINVAL, "info smaller than 0.1: EINVAL");
		free(raw);
	}

	close(mfd);
	unlink(maps_file);
	unlink(features_file);
	printf("1..%d\n", ntest);
	/* the summary line scripts/check.sh counts */
	printf("rdmaplugin: %d passed, %d failed\n", ntest - failed, failed);
	return failed ? 1 : 0;
}
