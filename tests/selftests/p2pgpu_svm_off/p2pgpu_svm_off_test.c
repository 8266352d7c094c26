// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu shared virtual memory on a kernel without CONFIG_DEVICE_PRIVATE
 * (Debian's stock kernel, the vm-stock stage): the feature degrades and
 * says why, and nothing else breaks. The test derives that the feature is
 * off from /sys/module/p2pmap/features (device_private no) and checks
 * that DRM_IOCTL_P2PGPU_SVM_INFO reports no device-private memory with
 * zeroed counters, that sysfs (p2pgpu_svm/device_private) gives the
 * reason, that SVM_MIGRATE, SVM_ACCESS and SVM_SNAPSHOT fail with the
 * documented -EOPNOTSUPP, leave the process memory untouched and log the
 * reason in the kernel log, and that buffer objects, CPU mappings and the
 * copy engine of the same device keep working afterwards, byte for byte.
 * On a kernel with device-private memory the suite svm tests SVM and this
 * one skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

/* 6.1's harness has an unused parameter; keep -Wextra -Werror for our code */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "p2pgpu_copy_common.h"

#define REASON		"shared virtual memory unavailable (CONFIG_DEVICE_PRIVATE off)"
#define SYSFS_REASON	"unavailable (CONFIG_DEVICE_PRIVATE off)"

/* Whether the kernel log holds @needle (it is read whole, not consumed). */
static bool klog_has(const char *needle)
{
	int len = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	bool found = false;
	char *buf;

	if (len <= 0)
		return false;
	buf = malloc(len + 1);
	if (!buf)
		return false;
	len = klogctl(3, buf, len);	/* SYSLOG_ACTION_READ_ALL */
	if (len > 0) {
		buf[len] = 0;
		found = strstr(buf, needle);
	}
	free(buf);
	return found;
}

FIXTURE(svm_off) {
	int gpu[2];
	char pci[2][32];
	uint8_t *mem;
};

FIXTURE_SETUP(svm_off)
{
	int f = p2pmap_kernel_feature("device_private");

	ASSERT_NE(-1, f) TH_LOG("no device_private row in /sys/module/p2pmap/features");
	if (f == 1)
		SKIP(return, "kernel has CONFIG_DEVICE_PRIVATE: the svm suite tests SVM");
	memset(self->pci, 0, sizeof(self->pci));
	self->gpu[0] = open_gpu(0, self->pci[0], sizeof(self->pci[0]));
	ASSERT_LE(0, self->gpu[0]) TH_LOG("no p2pgpu render node");
	self->gpu[1] = open_gpu(1, self->pci[1], sizeof(self->pci[1]));
	ASSERT_LE(0, self->gpu[1]) TH_LOG("no second p2pgpu render node");
	self->mem = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	fill_pattern(self->mem, 8 * PG);
}

FIXTURE_TEARDOWN(svm_off)
{
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, 8 * PG);
	if (self->gpu[0] >= 0)
		close(self->gpu[0]);
	if (self->gpu[1] >= 0)
		close(self->gpu[1]);
}

/* The core's feature row, SVM_INFO, sysfs and the probe log say why. */
TEST_F(svm_off, info_and_sysfs_report_unavailable)
{
	char line[256] = "";
	bool row = false;
	FILE *ff;
	int i;

	/* "device_private no CONFIG_DEVICE_PRIVATE=n: <what is lost>" */
	ff = fopen("/sys/module/p2pmap/features", "r");
	ASSERT_NE(NULL, ff);
	while (!row && fgets(line, sizeof(line), ff))
		row = !strncmp(line, "device_private no ", 18);
	fclose(ff);
	ASSERT_TRUE(row);
	EXPECT_NE(NULL, strstr(line, "CONFIG_DEVICE_PRIVATE=n")) TH_LOG("%s", line);
	/* p2pgpu said so at probe, for each device */
	EXPECT_TRUE(klog_has("device_private: " SYSFS_REASON));

	for (i = 0; i < 2; i++) {
		struct drm_p2pgpu_device_info di;
		struct drm_p2pgpu_svm_info si;
		char path[128], line[128] = "";
		FILE *f;

		ASSERT_EQ(0, dev_info(self->gpu[i], &di));
		memset(&si, 0xff, sizeof(si));
		ASSERT_EQ(0, drmIoctl(self->gpu[i], DRM_IOCTL_P2PGPU_SVM_INFO, &si));
		TH_LOG("%s: svm flags %#x pages_total %llu (vram %llu bytes)",
		       self->pci[i], si.flags, (unsigned long long)si.pages_total,
		       (unsigned long long)di.vram_total);
		EXPECT_EQ(0U, si.flags & P2PGPU_SVM_DEVICE_PRIVATE);
		EXPECT_EQ(0U, si.pad);
		EXPECT_EQ(di.vram_total / PG, si.pages_total);
		EXPECT_EQ(0ULL, si.pages_used);
		EXPECT_EQ(0ULL, si.to_device + si.to_system + si.cpu_faults);
		EXPECT_EQ(0ULL, si.residency_refusals + si.nomem + si.fallbacks);
		EXPECT_EQ(0ULL, si.window_placements + si.window_evictions);

		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/p2pgpu_svm/device_private",
			 self->pci[i]);
		f = fopen(path, "r");
		ASSERT_NE(NULL, f) TH_LOG("no %s", path);
		ASSERT_NE(NULL, fgets(line, sizeof(line), f));
		fclose(f);
		EXPECT_EQ(0, strncmp(line, SYSFS_REASON, strlen(SYSFS_REASON)))
			TH_LOG("%s: '%s'", path, line);
	}
}

/*
 * Every other SVM ioctl is refused with -EOPNOTSUPP, with the reason in the
 * kernel log, and leaves the process memory as it was.
 */
TEST_F(svm_off, ioctls_refused_with_reason)
{
	struct drm_p2pgpu_svm_migrate m;
	struct drm_p2pgpu_svm_access a;
	struct drm_p2pgpu_svm_snapshot s;
	uint8_t want[8 * PG], buf[8 * PG], states[8];
	static const uint32_t ops[] = {
		P2PGPU_SVM_TO_DEVICE, P2PGPU_SVM_TO_SYSTEM,
		P2PGPU_SVM_PREFETCH, P2PGPU_SVM_EVICT,
	};
	unsigned int i;

	memcpy(want, self->mem, sizeof(want));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.addr = (uintptr_t)self->mem;
		m.length = 8 * PG;
		m.op = ops[i];
		EXPECT_EQ(-1, drmIoctl(self->gpu[0], DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m));
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("SVM_MIGRATE op %u", ops[i]);
		EXPECT_EQ(0ULL, m.moved + m.skipped + m.busy + m.nomem + m.failed);
	}

	memset(&a, 0, sizeof(a));
	memset(buf, 0x5a, sizeof(buf));
	a.addr = (uintptr_t)self->mem;
	a.length = 8 * PG;
	a.buf = (uintptr_t)buf;
	a.op = P2PGPU_SVM_WRITE;
	EXPECT_EQ(-1, drmIoctl(self->gpu[1], DRM_IOCTL_P2PGPU_SVM_ACCESS, &a));
	EXPECT_EQ(EOPNOTSUPP, errno);
	a.op = P2PGPU_SVM_READ;
	EXPECT_EQ(-1, drmIoctl(self->gpu[1], DRM_IOCTL_P2PGPU_SVM_ACCESS, &a));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0x5a, buf[0]);
	EXPECT_EQ(0x5a, buf[8 * PG - 1]);
	EXPECT_EQ(0ULL, a.pages_device + a.pages_system + a.faults);

	memset(&s, 0, sizeof(s));
	memset(states, 0xee, sizeof(states));
	s.addr = (uintptr_t)self->mem;
	s.npages = 8;
	s.states = (uintptr_t)states;
	EXPECT_EQ(-1, drmIoctl(self->gpu[0], DRM_IOCTL_P2PGPU_SVM_SNAPSHOT, &s));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0xee, states[0]);

	/* the process memory is exactly as it was */
	EXPECT_EQ(-1, first_mismatch(self->mem, want, sizeof(want)));
	/* and the kernel said why, for each ioctl */
	EXPECT_TRUE(klog_has("SVM_MIGRATE: " REASON));
	EXPECT_TRUE(klog_has("SVM_ACCESS: " REASON));
	EXPECT_TRUE(klog_has("SVM_SNAPSHOT: " REASON));
}

/*
 * After the refusals, the rest of the device works: objects, their CPU
 * mappings, and the copy engine between system memory and both GPUs'
 * objects, byte for byte.
 */
TEST_F(svm_off, rest_of_device_works)
{
	struct drm_p2pgpu_svm_migrate m = {
		.addr = (uintptr_t)self->mem, .length = PG,
		.op = P2PGPU_SVM_TO_DEVICE,
	};
	struct drm_p2pgpu_copy out;
	uint8_t back[3 * PG];
	struct bo b0, b1;

	EXPECT_EQ(-1, drmIoctl(self->gpu[0], DRM_IOCTL_P2PGPU_SVM_MIGRATE, &m));
	EXPECT_EQ(EOPNOTSUPP, errno);

	ASSERT_EQ(0, bo_new(self->gpu[0], 4 * PG, &b0));
	ASSERT_EQ(0, bo_new(self->gpu[1], 4 * PG, &b1));
	/* CPU -> GPU0 object through its mapping */
	memcpy(b0.cpu, self->mem, 4 * PG);
	EXPECT_EQ(-1, first_mismatch(b0.cpu, self->mem, 4 * PG));
	/* system memory -> GPU1 object by GPU1's copy engine */
	ASSERT_EQ(0, gpu_copy(self->gpu[1], b1.handle, self->mem + 4 * PG,
			      3 * PG, PG, P2PGPU_COPY_TO_BO,
			      P2PGPU_COPY_PREFER_P2P, &out));
	EXPECT_EQ(-1, first_mismatch(b1.cpu + PG, self->mem + 4 * PG, 3 * PG));
	/* GPU0 object -> system memory by GPU1's engine, through b0's mapping */
	memset(back, 0, sizeof(back));
	ASSERT_EQ(0, gpu_copy(self->gpu[1], b1.handle, b0.cpu, 3 * PG, 0,
			      P2PGPU_COPY_TO_BO, P2PGPU_COPY_PREFER_P2P, &out));
	ASSERT_EQ(0, gpu_copy(self->gpu[1], b1.handle, back, 3 * PG, 0,
			      P2PGPU_COPY_FROM_BO, P2PGPU_COPY_PREFER_P2P, &out));
	EXPECT_EQ(-1, first_mismatch(back, self->mem, 3 * PG));
	bo_free(self->gpu[0], &b0);
	bo_free(self->gpu[1], &b1);
}

TEST_HARNESS_MAIN
