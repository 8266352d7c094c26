// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu_copy_demo: the "peer copy between GPUs" step of `make demo`.
 *
 * GPU1's copy engine copies a 4 MiB object of GPU0 (through its CPU
 * mapping, imported by p2pmap) into a GPU1 object, and GPU0's engine copies
 * it back into another GPU0 object; every byte is checked through the CPU
 * mappings. It prints, for each direction, the placement p2pmap reported
 * (P2P through a switch; system memory and the reason on the root bus), the
 * bandwidth of the byte-moving part the ioctl measured (elapsed_ns, best of
 * three), and, for scale, a plain memcpy() of the same size between two
 * malloc buffers in this process. Then REQUIRE_P2P: done through the
 * switch, refused with EREMOTEIO on the root bus.
 *
 * Exit status 0 only if every byte arrived and the placement is the one the
 * topology (found from sysfs, see p2pgpu_copy_common.h) calls for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2pgpu_selftest.h"
#include "p2pgpu_copy_common.h"

#define SIZE	(4ULL << 20)
#define REPS	3

/* P2PGPU_COPY_REASON_* */
static const char *const reason_names[P2PGPU_COPY_REASON_SLOTS] = {
	[P2PGPU_COPY_REASON_NONE] = "none",
	[P2PGPU_COPY_REASON_POLICY] = "policy",
	[P2PGPU_COPY_REASON_BAR_EXHAUSTED] = "bar_exhausted",
	[P2PGPU_COPY_REASON_NO_ROUTE] = "no_route",
	[P2PGPU_COPY_REASON_NO_KCONFIG] = "no_kconfig",
	[P2PGPU_COPY_REASON_DMA_MASK] = "dma_mask",
	[P2PGPU_COPY_REASON_SYSTEM_PAGE] = "system_page",
	[P2PGPU_COPY_REASON_OTHER] = "other",
};

static double mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 1e3 / (double)ns : 0;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/*
 * Engine @eng copies @src (a mapping of the other GPU's object) into @dst,
 * REPS times; prints the placement and the best time. 0 if the data and
 * placement are right.
 */
static int peer(const char *what, int eng, struct bo *dst, const uint8_t *src,
		const uint8_t *want, int p2p)
{
	uint64_t best = 0, wall = 0, n = pages_covered(src, SIZE);
	struct drm_p2pgpu_copy out;
	char reasons[128] = "";
	size_t off = 0;
	int i, r, ret;

	for (i = 0; i < REPS; i++) {
		uint64_t t0 = now_ns();

		memset(dst->cpu, 0, SIZE);
		ret = gpu_copy(eng, dst->handle, src, SIZE, 0, P2PGPU_COPY_TO_BO,
			       P2PGPU_COPY_PREFER_P2P, &out);
		if (ret) {
			printf("%s: copy failed: %s\n", what, strerror(-ret));
			return 1;
		}
		if (first_mismatch(dst->cpu, want, SIZE) >= 0) {
			printf("%s: data mismatch at byte %ld\n", what,
			       first_mismatch(dst->cpu, want, SIZE));
			return 1;
		}
		if (!best || out.elapsed_ns < best) {
			best = out.elapsed_ns;
			wall = now_ns() - t0;
		}
	}
	for (r = 1; r < P2PGPU_COPY_REASON_SLOTS; r++)
		if (out.reason_pages[r])
			off += snprintf(reasons + off, sizeof(reasons) - off, " %s %llu",
					reason_names[r], out.reason_pages[r]);
	printf("%s: %llu bytes verified; placement p2p %llu sysmem %llu%s%s; retries %llu\n",
	       what, SIZE, out.p2p_pages, out.sysmem_pages, reasons[0] ? "," : "",
	       reasons, out.retries);
	printf("%s: engine moved them in %.2f ms: %.1f MB/s (elapsed_ns, best of %d; whole ioctl incl. map %.2f ms)\n",
	       what, best / 1e6, mbps(SIZE, best), REPS, wall / 1e6);
	if (p2p ? out.p2p_pages != n || out.sysmem_pages :
		  out.sysmem_pages != n || out.reason_pages[P2PGPU_COPY_REASON_NO_ROUTE] != n) {
		printf("%s: placement is not what the topology calls for (%s)\n",
		       what, p2p ? "all P2P" : "all system memory, no_route");
		return 1;
	}
	return 0;
}

int main(void)
{
	char pci0[32] = "", pci1[32] = "", why[256] = "";
	uint8_t *want, *a, *b;
	struct bo s0, d1, d0;
	uint64_t best = 0;
	int g0, g1, p2p, i, ret, rc = 0;

	g0 = open_gpu(0, pci0, sizeof(pci0));
	g1 = open_gpu(1, pci1, sizeof(pci1));
	if (g0 < 0 || g1 < 0) {
		printf("need two p2pgpu render nodes\n");
		return 1;
	}
	p2p = expect_peer_p2p(pci0, pci1, why, sizeof(why));
	if (p2p < 0) {
		printf("%s\n", why);
		return 1;
	}
	printf("GPU0 %s, GPU1 %s: %s\n", pci0, pci1,
	       p2p ? "below one PCIe switch, P2P expected" :
		     "on the root bus, no P2P route: system memory expected");
	want = malloc(SIZE);
	a = malloc(SIZE);
	b = malloc(SIZE);
	if (!want || !a || !b || bo_new(g0, SIZE, &s0) || bo_new(g1, SIZE, &d1) ||
	    bo_new(g0, SIZE, &d0)) {
		printf("cannot allocate the buffers\n");
		return 1;
	}
	fill_pattern(want, SIZE);
	memcpy(s0.cpu, want, SIZE);

	rc |= peer("GPU0 -> GPU1", g1, &d1, s0.cpu, want, p2p);
	rc |= peer("GPU1 -> GPU0", g0, &d0, d1.cpu, want, p2p);

	/* the same size with memcpy(), in this process, for scale */
	memset(a, 1, SIZE);
	memset(b, 2, SIZE);
	for (i = 0; i < REPS; i++) {
		uint64_t t0 = now_ns(), t;

		memcpy(b, a, SIZE);
		t = now_ns() - t0;
		if (!best || t < best)
			best = t;
	}
	if (b[SIZE - 1] != 1)	/* and keep the copy from being optimised away */
		rc = 1;
	printf("memcpy() of %llu bytes between two malloc buffers: %.2f ms: %.1f MB/s (best of %d)\n",
	       SIZE, best / 1e6, mbps(SIZE, best), REPS);
	printf("(the engine is the guest CPU emulating a DMA engine, 4 KiB at a time through\n"
	       " ioremap and the kernel map, on a debug kernel: the figures compare, they do\n"
	       " not predict hardware)\n");

	ret = gpu_copy(g1, d1.handle, s0.cpu, 16 * PG, 0, P2PGPU_COPY_TO_BO,
		       P2PGPU_COPY_REQUIRE_P2P, NULL);
	if (p2p && !ret) {
		printf("REQUIRE_P2P: done peer to peer\n");
	} else if (!p2p && ret == -EREMOTEIO) {
		printf("REQUIRE_P2P: refused: %s (errno %d)\n", strerror(-ret), -ret);
	} else {
		printf("REQUIRE_P2P: unexpected result %d\n", ret);
		rc = 1;
	}
	bo_free(g0, &d0);
	bo_free(g1, &d1);
	bo_free(g0, &s0);
	free(want);
	free(a);
	free(b);
	close(g0);
	close(g1);
	return rc;
}
