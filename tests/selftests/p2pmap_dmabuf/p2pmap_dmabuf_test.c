// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/p2pmap's EXPORT_RANGE: p2pmap.ko's own dma-buf export of a range of
 * the caller's address space, through the in-kernel importer
 * p2pgpu_dmabuf_test.ko (edu DMA, real bytes both ways). Covered: every
 * bad argument (size, flags, alignment, length, overflow, holes, access)
 * with the errno the uAPI names and no fd left behind; a read-only source
 * staying read-only (no writable mapping, and mprotect of a writable
 * export takes write access away from importers); a dynamic importer told
 * with invalidate_mappings (move_notify before 7.1) after MADV_DONTNEED,
 * re-mapping and moving the right bytes; a range of another GPU's object
 * (its BAR through the switch); device-private memory; a revocable pinned
 * importer revoked when the provider is unbound (7.1 and later: caps
 * P2PMAP_EXPORT_CAP_REVOKE; before, never told, as that kernel's contract
 * says); and a process killed while exporting in a loop.
 *
 * The suite (tests/vm/suites/p2pmap_dmabuf.sh) loads p2pgpu with
 * window_mb=1 and min_residency_ms=0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xf86drm.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "p2pmap_dmabuf_common.h"

FIXTURE(pd) {
	int dev;	/* /dev/p2pmap */
	int dfd;	/* the edu importer */
	int gpu1;	/* the provider: the pair's GPU (P2PMAP_GPUS) */
	char pci1[32];
	bool p2p;	/* p2pmap_p2p_possible() */
	uint32_t caps;	/* P2PMAP_EXPORT_CAP_* of this kernel */
	uint8_t *buf;	/* 4 pages of ordinary memory */
};

FIXTURE_SETUP(pd)
{
	int fd;

	ASSERT_NE(P2PMAP_PAIR_INVALID, p2pmap_pair_route())
		TH_LOG(P2PMAP_PAIR_ROUTE_HELP, P2PMAP_PAIR_ROUTE_ENV);
	self->p2p = p2pmap_p2p_possible();
	self->dev = p2pmap_dev_open();
	ASSERT_LE(0, self->dev) TH_LOG("no /dev/p2pmap: %s", strerror(-self->dev));
	self->dfd = dbt_open();
	ASSERT_LE(0, self->dfd) TH_LOG("no /dev/" P2PGPU_DMABUF_TEST_DEVNAME);
	/* the provider: the GPU of the pair under test (P2PMAP_GPUS) */
	ASSERT_EQ(0, p2pmap_gpu_pci(0, self->pci1, sizeof(self->pci1)))
		TH_LOG("P2PMAP_GPUS names no GPU");
	self->gpu1 = open_gpu(0, self->pci1, sizeof(self->pci1));
	ASSERT_LE(0, self->gpu1) TH_LOG("no p2pgpu %s", self->pci1);
	self->buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0, 4 * PG);
	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, PG, 0, &fd,
				   &self->caps));
	close(fd);
	/* The caps must agree with the features file. */
	ASSERT_EQ(p2pmap_kernel_feature("dmabuf_move_notify") == 1,
		  !!(self->caps & P2PMAP_EXPORT_CAP_DYNAMIC));
	ASSERT_EQ(p2pmap_kernel_feature("dmabuf_revoke") == 1,
		  !!(self->caps & P2PMAP_EXPORT_CAP_REVOKE));
	TH_LOG("caps %#x, %s", self->caps, self->p2p ? "p2p route" : "no p2p route");
}

FIXTURE_TEARDOWN(pd)
{
	munmap(self->buf, 4 * PG);
	close(self->gpu1);
	close(self->dfd);
	close(self->dev);
}

static int raw_export(int dev, struct p2pmap_export_range *a)
{
	return ioctl(dev, P2PMAP_IOC_EXPORT_RANGE, a) ? -errno : 0;
}

/*
 * Every bad argument gets the errno the uAPI names, writes nothing back
 * and leaves no descriptor behind.
 */
TEST_F(pd, bad_input)
{
	struct {
		struct p2pmap_export_range a;
		uint64_t tail[2];
	} big;
	struct p2pmap_export_range a;
	int nfd = count_fds(), fd = -1;
	uint8_t *ro, *none;
	void *hole;

#define EXP(len_, va_, flags_) (memset(&a, 0, sizeof(a)), a.size = sizeof(a), \
	a.va = (uintptr_t)(va_), a.length = (len_), a.flags = (flags_), \
	a.fd = -7, raw_export(self->dev, &a))
	EXPECT_EQ(-EINVAL, EXP(PG, self->buf, 0x2));
	EXPECT_EQ(-EINVAL, EXP(PG, self->buf, 0x80000000u));
	EXPECT_EQ(-EINVAL, EXP(0, self->buf, 0));
	EXPECT_EQ(-EINVAL, EXP(PG, self->buf + 1, 0));
	EXPECT_EQ(-EINVAL, EXP(PG + 1, self->buf, 0));
	EXPECT_EQ(-EINVAL, EXP(P2PMAP_EXPORT_MAX_LENGTH + PG, self->buf, 0));
	EXPECT_EQ(-EINVAL, EXP(2 * PG, ~0xfffULL, 0));
	EXPECT_EQ(-EINVAL, EXP(~0xfffULL, self->buf, 0));
	EXPECT_EQ(-EINVAL, EXP(PG, 1ULL << 62, 0));
	EXPECT_EQ(-7, a.fd);	/* nothing written back */
	/* size */
	a.size = P2PMAP_EXPORT_RANGE_SIZE_VER0 - 4;
	EXPECT_EQ(-EINVAL, raw_export(self->dev, &a));
	a.size = 0;
	EXPECT_EQ(-EINVAL, raw_export(self->dev, &a));
	memset(&big, 0, sizeof(big));
	big.a.size = 8192;
	EXPECT_EQ(-EINVAL, raw_export(self->dev, &big.a));
	/* a larger struct: zero tail accepted, non-zero tail refused */
	big.a.size = sizeof(big);
	big.a.va = (uintptr_t)self->buf;
	big.a.length = PG;
	big.a.fd = -1;
	big.tail[1] = 1;
	EXPECT_EQ(-E2BIG, raw_export(self->dev, &big.a));
	big.tail[1] = 0;
	ASSERT_EQ(0, raw_export(self->dev, &big.a));
	EXPECT_LE(0, big.a.fd);
	EXPECT_EQ(0ULL, big.tail[0]);
	close(big.a.fd);
	/* bad pointers, unknown ioctls */
	EXPECT_EQ(-EFAULT, ioctl(self->dev, P2PMAP_IOC_EXPORT_RANGE, (void *)8) ?
		  -errno : 0);
	EXPECT_EQ(-ENOTTY, ioctl(self->dev, _IO(P2PMAP_IOC_MAGIC, 0x7f)) ?
		  -errno : 0);
	/* a hole, and a range running past a mapping */
	hole = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap((uint8_t *)hole + PG, PG));
	EXPECT_EQ(-EFAULT, EXP(3 * PG, hole, 0));
	EXPECT_EQ(-EFAULT, EXP(2 * PG, (uint8_t *)hole + PG, 0));
	EXPECT_EQ(0, p2pmap_export(self->dev, hole, PG, P2PMAP_EXPORT_WRITE,
				   &fd, NULL));
	close(fd);
	munmap(hole, 3 * PG);
	/* access: PROT_NONE, and write access to a read-only mapping */
	none = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	EXPECT_EQ(-EACCES, EXP(2 * PG, none, 0));
	ro = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-EACCES, EXP(2 * PG, ro, P2PMAP_EXPORT_WRITE));
	EXPECT_EQ(0, EXP(2 * PG, ro, 0));
	close(a.fd);
	/* one readable page next to a PROT_NONE one */
	ASSERT_EQ(0, mprotect(ro + PG, PG, PROT_NONE));
	EXPECT_EQ(-EACCES, EXP(2 * PG, ro, 0));
	munmap(ro, 2 * PG);
	munmap(none, 2 * PG);
#undef EXP
	EXPECT_EQ(nfd, count_fds()) TH_LOG("a failed export left a descriptor");
}

/*
 * A read-only export is read-only for importers: the edu importer maps
 * DMA_BIDIRECTIONAL and is refused. A writable export whose range the
 * process then makes read-only (mprotect) loses write access: a dynamic
 * importer is told, and its re-map fails instead of writing.
 */
TEST_F(pd, read_only_stays_read_only)
{
	struct p2pgpu_dmabuf_test_status s0, s;
	struct p2pgpu_dmabuf_test_attach at;
	uint8_t got[PG];
	int fd, ret;

	fill_byte(self->buf, 4 * PG, 0x21);
	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, 4 * PG, 0, &fd, NULL));
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(-EPERM, dbt_attach(self->dfd, fd, 0, &at));
	EXPECT_EQ(-EPERM, dbt_attach(self->dfd, fd, F_DYN, &at));
	EXPECT_EQ(-ENXIO, dbt_detach(self->dfd));
	close(fd);

	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, 4 * PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, F_DYN, &at));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->buf, PG));
	ASSERT_EQ(0, dbt_status(self->dfd, &s0));
	ASSERT_EQ(0, mprotect(self->buf, 4 * PG, PROT_READ));
	if (self->caps & P2PMAP_EXPORT_CAP_DYNAMIC) {
		ASSERT_EQ(0, wait_notified(self->dfd, s0.move_notifies, &s));
		memset(got, 0x5a, sizeof(got));
		ret = dbt_xfer(self->dfd, DBT_WR, 0, PG, got);
		TH_LOG("after mprotect(PROT_READ): invalidations %u -> %u, write: %s",
		       s0.move_notifies, s.move_notifies, strerror(-ret));
		EXPECT_GT(0, ret);
		EXPECT_EQ(0x21, self->buf[0]);
	} else {
		TH_LOG("CONFIG_DMABUF_MOVE_NOTIFY=n: the importer keeps the pages it pinned");
	}
	EXPECT_EQ(0, dbt_detach(self->dfd));
	close(fd);
	ASSERT_EQ(0, mprotect(self->buf, 4 * PG, PROT_READ | PROT_WRITE));
}

/*
 * Ordinary memory, a dynamic importer: after MADV_DONTNEED the process has
 * new pages there; the importer is told with invalidate_mappings, maps
 * again, reads what the process wrote into the new pages, and its writes
 * land where the process sees them.
 */
TEST_F_TIMEOUT(pd, dynamic_remaps_after_invalidate, 120)
{
	uint8_t a[4 * PG], b[4 * PG], c[PG], got[4 * PG];
	struct p2pgpu_dmabuf_test_status s0, s;
	struct p2pgpu_dmabuf_test_attach at;
	int fd;

	if (!(self->caps & P2PMAP_EXPORT_CAP_DYNAMIC))
		SKIP(return, "CONFIG_DMABUF_MOVE_NOTIFY=n: no dynamic importers on this kernel");
	fill_byte(a, sizeof(a), 0x10);
	fill_byte(b, sizeof(b), 0x90);
	memcpy(self->buf, a, sizeof(a));
	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, 4 * PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, F_DYN, &at));
	EXPECT_EQ(4 * PG, at.size);
	EXPECT_EQ(4 * PG, at.sys_bytes);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 4 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, a, sizeof(a)));
	ASSERT_EQ(0, dbt_status(self->dfd, &s0));

	ASSERT_EQ(0, madvise(self->buf, 4 * PG, MADV_DONTNEED));
	memcpy(self->buf, b, sizeof(b));
	ASSERT_EQ(0, wait_notified(self->dfd, s0.move_notifies, &s));
	EXPECT_NE(0U, s.flags & P2PGPU_DMABUF_TEST_S_INVALID);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 4 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, b, sizeof(b)));
	ASSERT_EQ(0, dbt_status(self->dfd, &s));
	EXPECT_EQ(s0.remaps + 1, s.remaps);
	fill_byte(c, sizeof(c), 0x5a);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, 2 * PG, PG, c));
	EXPECT_EQ(-1, first_mismatch(self->buf + 2 * PG, c, PG));
	TH_LOG("invalidations %u -> %u, re-maps %u -> %u", s0.move_notifies,
	       s.move_notifies, s0.remaps, s.remaps);
	EXPECT_EQ(0, dbt_detach(self->dfd));
	close(fd);
}

/*
 * A range of the CPU mapping of the other GPU's object (a provider's
 * memory): a peer-to-peer importer gets that GPU's BAR through the switch,
 * system pages on the root bus, and moves the right bytes both ways. No
 * table carries a struct page. Where the kernel has PCI P2PDMA providers
 * (6.19, feature p2pdma_provider), the BAR reached by bus address is
 * mapped by the PCI core's dma_buf_phys_vec_to_sgt(), whose tables have no
 * CPU list at all; every other table is p2pmap's own, one CPU entry per
 * DMA segment.
 */
TEST_F_TIMEOUT(pd, provider_range_bytes, 120)
{
	struct p2pgpu_dmabuf_test_attach at;
	uint8_t want[4 * PG], got[2 * PG], pat[PG];
	const char *route = getenv("P2PMAP_ROUTE");
	bool bus = route && !strcmp(route, "bus_addr");
	int helper = p2pmap_kernel_feature("p2pdma_provider");
	struct bo o;
	int fd, i;

	ASSERT_LE(0, helper) TH_LOG("no p2pdma_provider line in the features file");

	/*
	 * A new object for each importer: p2pgpu drops window pins late, so
	 * a static attach right after a peer-to-peer one may find the page
	 * still pinned in the window (-EBUSY), which is not what this tests.
	 */
	for (i = 0; i < 2; i++) {
		uint32_t flags = i ? 0 : F_DYN;

		ASSERT_EQ(0, bo_new(self->gpu1, 4 * PG, &o));
		fill_pattern(want, sizeof(want));
		want[0] = (uint8_t)i;
		memcpy(o.cpu, want, sizeof(want));
		ASSERT_EQ(0, p2pmap_export(self->dev, o.cpu + PG, 2 * PG,
					   P2PMAP_EXPORT_WRITE, &fd, NULL));
		ASSERT_EQ(0, dbt_attach(self->dfd, fd, flags, &at));
		TH_LOG("range of %s, flags %#x: bar %llu, system %llu bytes; %u DMA segments, %u CPU entries, %u with a page",
		       self->pci1, flags, (unsigned long long)at.bar_bytes,
		       (unsigned long long)at.sys_bytes, at.nents,
		       at.cpu_nents, at.cpu_pages);
		if (self->p2p && flags) {
			EXPECT_EQ(2 * PG, at.bar_bytes);
		} else {
			EXPECT_EQ(2 * PG, at.sys_bytes);
		}
		if (at.cpu_nents == UINT32_MAX) {
			TH_LOG("CONFIG_DMABUF_DEBUG: the importer sees the dma-buf core's copy or mangled page links, not the exporter's table; its CPU side is not checked on this kernel");
		} else if (self->p2p && flags && bus && helper == 1) {
			EXPECT_EQ(0U, at.cpu_pages);
			/* the PCI core's table: no CPU list */
			EXPECT_EQ(0U, at.cpu_nents);
		} else {
			EXPECT_EQ(0U, at.cpu_pages);
			EXPECT_EQ(at.nents, at.cpu_nents);
		}
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
		EXPECT_EQ(-1, first_mismatch(got, want + PG, 2 * PG));
		fill_byte(pat, sizeof(pat), (uint8_t)(0x40 + i));
		ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, PG, PG, pat));
		EXPECT_EQ(-1, first_mismatch(o.cpu + 2 * PG, pat, PG));
		ASSERT_EQ(0, dbt_detach(self->dfd));
		close(fd);
		bo_free(self->gpu1, &o);
	}
}

/*
 * Device-private memory: process memory migrated to the other GPU (HMM),
 * then exported. The importer gets it through p2pmap (the window, or
 * system memory after a migration back), with the bytes the process wrote.
 */
TEST_F_TIMEOUT(pd, device_private_range, 120)
{
	struct drm_p2pgpu_svm_migrate m = { 0 };
	struct drm_p2pgpu_svm_info si = { 0 };
	struct p2pgpu_dmabuf_test_attach at;
	uint8_t want[4 * PG], got[4 * PG], pat[PG];
	int fd;

	ASSERT_EQ(0, drmIoctl(self->gpu1, DRM_IOCTL_P2PGPU_SVM_INFO, &si));
	if (!(si.flags & P2PGPU_SVM_DEVICE_PRIVATE))
		SKIP(return, "no device-private memory (CONFIG_DEVICE_PRIVATE=n)");
	fill_byte(want, sizeof(want), 0x77);
	memcpy(self->buf, want, sizeof(want));
	m.addr = (uintptr_t)self->buf;
	m.length = 4 * PG;
	m.op = P2PGPU_SVM_TO_DEVICE;
	ASSERT_EQ(0, drmIoctl(self->gpu1, DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m));
	ASSERT_EQ(4ULL, m.moved) TH_LOG("moved %llu skipped %llu nomem %llu",
					(unsigned long long)m.moved,
					(unsigned long long)m.skipped,
					(unsigned long long)m.nomem);
	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, 4 * PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, F_DYN, &at));
	TH_LOG("device-private range: bar %llu, system %llu bytes",
	       (unsigned long long)at.bar_bytes,
	       (unsigned long long)at.sys_bytes);
	EXPECT_EQ(4 * PG, at.bar_bytes + at.sys_bytes);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 4 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	fill_byte(pat, sizeof(pat), 0x13);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_WR, PG, PG, pat));
	ASSERT_EQ(0, dbt_detach(self->dfd));
	/* The CPU sees the importer's write (faulting pages back if needed). */
	EXPECT_EQ(-1, first_mismatch(self->buf + PG, pat, PG));
	EXPECT_EQ(-1, first_mismatch(self->buf, want, PG));
	close(fd);
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The provider of an exported range is unbound under two importers of it:
 * a revocable pinned one (dma_buf_pin() + invalidate_mappings, unmapping
 * in the callback) and an unpinned dynamic one. Since 7.1 both are told:
 * the pinned one sees the revoke (S_REVOKED, DMA refused, nothing mapped)
 * and the dynamic one cannot map again. Before 7.1 the pinned importer is
 * never told (it keeps its pinned mapping until it detaches). Rebinding
 * brings the GPU back.
 */
TEST_F_TIMEOUT(pd, unbind_revokes_pinned_importer, 120)
{
	struct p2pgpu_dmabuf_test_status sp0, sp, sd0, sd;
	struct p2pgpu_dmabuf_test_attach ap, ad;
	uint8_t want[2 * PG], got[2 * PG];
	int d2, fd, ret, gpu, i;
	struct bo o;

	d2 = dbt_open();
	ASSERT_LE(0, d2);
	ASSERT_EQ(0, bo_new(self->gpu1, 2 * PG, &o));
	fill_byte(want, sizeof(want), 0x61);
	memcpy(o.cpu, want, sizeof(want));
	ASSERT_EQ(0, p2pmap_export(self->dev, o.cpu, 2 * PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, F_DYN | F_PIN | F_REV, &ap));
	ASSERT_EQ(0, dbt_attach(d2, fd, F_DYN, &ad));
	if (self->p2p) {
		EXPECT_EQ(2 * PG, ap.bar_bytes);
	}
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	ASSERT_EQ(0, dbt_xfer(d2, DBT_RD, 0, 2 * PG, got));
	EXPECT_EQ(-1, first_mismatch(got, want, sizeof(want)));
	ASSERT_EQ(0, dbt_status(self->dfd, &sp0));
	ASSERT_EQ(0, dbt_status(d2, &sd0));

	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/unbind", self->pci1));
	if (self->caps & P2PMAP_EXPORT_CAP_REVOKE)
		ASSERT_EQ(0, wait_notified(self->dfd, sp0.move_notifies, &sp));
	if (self->caps & P2PMAP_EXPORT_CAP_DYNAMIC)
		ASSERT_EQ(0, wait_notified(d2, sd0.move_notifies, &sd));
	/* Once per mapping, however many events (revoke, zap) follow. */
	usleep(300000);
	ASSERT_EQ(0, dbt_status(self->dfd, &sp));
	ASSERT_EQ(0, dbt_status(d2, &sd));
	TH_LOG("pinned importer: invalidations %u -> %u, flags %#x; dynamic: %u -> %u",
	       sp0.move_notifies, sp.move_notifies, sp.flags,
	       sd0.move_notifies, sd.move_notifies);
	if (self->caps & P2PMAP_EXPORT_CAP_REVOKE) {
		EXPECT_EQ(sp0.move_notifies + 1, sp.move_notifies);
		EXPECT_NE(0U, sp.flags & P2PGPU_DMABUF_TEST_S_REVOKED);
		/* unmapped in the callback: nothing of the BAR is held */
		EXPECT_EQ(0U, sp.bar_entries + sp.sys_entries);
		ret = dbt_xfer(self->dfd, DBT_RD, 0, 2 * PG, got);
		EXPECT_EQ(-ENODEV, ret);
	} else {
		EXPECT_EQ(sp0.move_notifies, sp.move_notifies);
		EXPECT_EQ(0U, sp.flags & P2PGPU_DMABUF_TEST_S_REVOKED);
	}
	if (self->caps & P2PMAP_EXPORT_CAP_DYNAMIC) {
		EXPECT_EQ(sd0.move_notifies + 1, sd.move_notifies);
		ret = dbt_xfer(d2, DBT_RD, 0, 2 * PG, got);
		TH_LOG("dynamic importer after unbind: %s", strerror(-ret));
		EXPECT_GT(0, ret);
	}
	EXPECT_EQ(0, dbt_detach(self->dfd));
	EXPECT_EQ(0, dbt_detach(d2));
	close(d2);
	close(fd);
	munmap(o.cpu, o.size);
	close(self->gpu1);
	self->gpu1 = -1;
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/p2pgpu/bind", self->pci1));
	for (i = 0, gpu = -1; i < 300 && gpu < 0; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s", self->pci1);
		gpu = open_gpu(0, name, sizeof(name));
		if (gpu < 0)
			usleep(100000);
	}
	ASSERT_LE(0, gpu) TH_LOG("%s did not come back", self->pci1);
	self->gpu1 = gpu;
	ASSERT_EQ(0, bo_new(gpu, PG, &o));
	bo_free(gpu, &o);
}

/*
 * A process killed while it exports, attaches and detaches in a loop
 * loses nothing and leaves nothing: the importer's file is its own, so the
 * kill lands anywhere in EXPORT_RANGE or the attach; afterwards a new
 * export and attach work (kmemleak, in the health suite, checks the rest).
 */
TEST_F_TIMEOUT(pd, killed_mid_export, 120)
{
	struct p2pgpu_dmabuf_test_attach at;
	uint8_t got[PG];
	int round, status, fd;

	for (round = 0; round < 4; round++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid) {
			int dev = p2pmap_dev_open(), d = dbt_open();
			uint8_t *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (dev < 0 || d < 0 || p == MAP_FAILED)
				_exit(1);
			memset(p, 0x3c, 8 * PG);
			for (;;) {
				struct p2pgpu_dmabuf_test_attach a;
				int f;

				if (p2pmap_export(dev, p, 8 * PG,
						  P2PMAP_EXPORT_WRITE, &f, NULL))
					_exit(1);
				if (!dbt_attach(d, f, F_DYN, &a))
					dbt_detach(d);
				close(f);
			}
		}
		usleep(50000 + round * 70000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
	}
	fill_byte(self->buf, PG, 0x4d);
	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, 0, &at));
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, 0, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->buf, PG));
	EXPECT_EQ(0, dbt_detach(self->dfd));
	close(fd);
}

/*
 * The dma-buf outlives its fd and its exporting process's mapping: closed
 * while attached, the importer keeps working until it detaches; the
 * module cannot be unloaded while the dma-buf lives.
 */
TEST_F(pd, fd_closed_while_attached)
{
	struct p2pgpu_dmabuf_test_attach at;
	uint8_t got[PG];
	int fd;

	fill_byte(self->buf, 2 * PG, 0x2b);
	ASSERT_EQ(0, p2pmap_export(self->dev, self->buf, 2 * PG,
				   P2PMAP_EXPORT_WRITE, &fd, NULL));
	ASSERT_EQ(0, dbt_attach(self->dfd, fd, 0, &at));
	close(fd);
	ASSERT_EQ(0, dbt_xfer(self->dfd, DBT_RD, PG, PG, got));
	EXPECT_EQ(-1, first_mismatch(got, self->buf + PG, PG));
	EXPECT_EQ(0, dbt_detach(self->dfd));
}

TEST_HARNESS_MAIN
