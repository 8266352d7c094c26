// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap lifecycle tests: what happens to live imports when the things
 * they depend on go away. The exporter's PCI function is removed through
 * sysfs (/sys/bus/pci/devices/.../remove) while another process moves data
 * through an import of it: the revoke must finish in bounded time, the
 * importer must see an unbind invalidation and clean errors, the CPU
 * mapping must fault with SIGBUS, and a rescan must bring the device back
 * in a usable state. Module unload: every module in the chain refuses to
 * unload while an import uses it; the exporter module unloads with imports
 * still linked to it (revoking them) once no mapping pins it, and loads
 * again, also when the import is pinned (P2PMAP_CAP_PIN_ONLY: the pin keeps
 * the object alive after its process let go of it, and only the unload's
 * revoke takes it back). A pinned import of ordinary memory outlives the
 * munmap of its range, as a pinned RDMA registration does. kill -9 lands in
 * the middle of imports of an object bigger than the window, repeatedly;
 * nothing may leak and the devices stay usable.
 *
 * The suite (tests/vm/suites/lifecycle.sh) loads p2pmap, p2pgpu (1 MiB
 * window, no minimum residency) and the edu test importer, and passes the
 * p2pgpu parameters in P2PGPU_PARAMS so the module can be loaded again.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "p2pgpu_drm.h"
#include "p2pgpu_selftest.h"
#include "p2pmap_selftest.h"
#include "edu_imp_selftest.h"
#include "failnth_selftest.h"
#include "sysfs_num.h"

#define PG		4096UL
#define EV_CPU		P2PMAP_EDU_IMP_EV_CPU
#define EV_UNBIND	P2PMAP_EDU_IMP_EV_UNBIND
#define EV_MOVE		P2PMAP_EDU_IMP_EV_MOVE
#define POL_PREFER	0
#define F_WRITE		P2PMAP_EDU_IMP_F_WRITE
#define F_PIN		P2PMAP_EDU_IMP_F_PIN

/* Bound for a revoke under TCG with the debug kernel; real hardware: ms. */
#define REVOKE_BOUND_MS	60000ULL

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed * 71 + (i >> 12));
}

static int rmmod(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static int insmod(const char *path, const char *params)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static bool module_loaded(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return !stat(path, &st);
}

/* 1 if touching @p kills a child with SIGBUS, 0 if it reads fine, -1 else. */
static int cpu_access_sigbus(volatile uint8_t *p)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		(void)p[0];
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		return 1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* Wait up to @ms for /sys/bus/pci/devices/@pci to be bound to p2pgpu. */
static bool wait_bound(const char *pci, unsigned int ms)
{
	char path[160], link[256];
	uint64_t end = now_ms() + ms;
	ssize_t l;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci);
	do {
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = 0;
			if (strstr(link, "/p2pgpu"))
				return true;
		}
		usleep(100 * 1000);
	} while (now_ms() < end);
	return false;
}

/* Import @b, read it back through the edu and compare: the device works. */
static int peer_roundtrip(int gpu, int efd, unsigned int seed)
{
	uint8_t got[PG];
	uint32_t id = 0;
	struct bo b;
	int ret;

	ret = bo_new(gpu, 2 * PG, &b);
	if (ret)
		return ret;
	fill(b.cpu, b.size, seed);
	ret = imp_new(efd, b.cpu, b.size, POL_PREFER, &id);
	if (!ret)
		ret = imp_xfer(efd, P2PMAP_EDU_IMP_IOC_READ, id, PG, PG, got);
	if (!ret && memcmp(got, b.cpu + PG, PG))
		ret = -EILSEQ;
	if (id)
		imp_destroy(efd, id);
	bo_free(gpu, &b);
	return ret;
}

FIXTURE(life) {
	int gpu;
	int efd;
	char pci[32];
};

FIXTURE_SETUP(life)
{
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu) TH_LOG("no p2pgpu render node");
	self->efd = open("/dev/p2pmap_edu_imp", O_RDWR);
	ASSERT_LE(0, self->efd) TH_LOG("no /dev/p2pmap_edu_imp");
}

FIXTURE_TEARDOWN(life)
{
	if (self->efd >= 0)
		close(self->efd);
	if (self->gpu >= 0)
		close(self->gpu);
}

/*
 * Remove the exporter's PCI function while a second process reads through
 * an import of one of its objects. The remove returns once every importer
 * has stopped; the reader ends with a clean errno; the importer saw the
 * unbind; the CPU mapping is dead (SIGBUS); a rescan brings the device
 * back and it works.
 */
TEST_F_TIMEOUT(life, pci_remove_revokes, 300)
{
	struct p2pmap_edu_imp_info in;
	char path[200], dev[160];
	uint64_t t0, revoke_ms;
	uint8_t got[PG];
	int status, ret;
	uint32_t id = 0;
	struct bo b;
	pid_t pid;

	ASSERT_EQ(0, bo_new(self->gpu, 4 * PG, &b));
	fill(b.cpu, b.size, 1);
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));
	ASSERT_EQ(0, memcmp(got, b.cpu, PG));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Same open file: the same import. Read until revoked. */
		unsigned long n = 0;
		uint8_t buf[PG];

		for (;;) {
			ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id,
				       (n % 4) * PG, PG, buf);
			if (ret)
				_exit(ret == -EFAULT || ret == -ENODEV ? 0 : 2);
			n++;
		}
	}
	usleep(300 * 1000);
	snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", self->pci);
	snprintf(path, sizeof(path), "%s/remove", dev);
	t0 = now_ms();
	ASSERT_EQ(0, write_str(path, "1"));
	revoke_ms = now_ms() - t0;
	TH_LOG("remove of %s with a live import and traffic took %llu ms",
	       self->pci, (unsigned long long)revoke_ms);
	EXPECT_GT(REVOKE_BOUND_MS, revoke_ms);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("reader status 0x%x", status);

	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_LE(1ULL, in.invalidations[EV_UNBIND]);
	EXPECT_EQ(0U, in.nr_extents);
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got);
	EXPECT_TRUE(ret == -EFAULT || ret == -ENODEV) TH_LOG("read after remove: %d", ret);
	EXPECT_EQ(1, cpu_access_sigbus(b.cpu));
	EXPECT_EQ(-1, access(dev, F_OK));

	EXPECT_EQ(0, imp_destroy(self->efd, id));
	munmap(b.cpu, b.size);
	/* The DRM device is unplugged: the handle can only be dropped with the file. */
	close(self->gpu);
	self->gpu = -1;

	ASSERT_EQ(0, write_str("/sys/bus/pci/rescan", "1"));
	ASSERT_TRUE(wait_bound(self->pci, 30000))
		TH_LOG("%s did not come back bound to p2pgpu", self->pci);
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu);
	EXPECT_EQ(0, peer_roundtrip(self->gpu, self->efd, 2));
}

/* While an import uses them, none of the modules can be unloaded. */
TEST_F(life, rmmod_in_use_refused)
{
	uint8_t got[PG];
	uint32_t id = 0;
	struct bo b;

	ASSERT_EQ(0, bo_new(self->gpu, 2 * PG, &b));
	fill(b.cpu, b.size, 3);
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));

	EXPECT_EQ(-EWOULDBLOCK, rmmod("p2pgpu"));
	EXPECT_EQ(-EWOULDBLOCK, rmmod("p2pmap_edu_importer"));
	EXPECT_EQ(-EWOULDBLOCK, rmmod("p2pmap"));
	EXPECT_TRUE(module_loaded("p2pgpu") && module_loaded("p2pmap") &&
		    module_loaded("p2pmap_edu_importer"));

	/* Nothing was disturbed. */
	fill(b.cpu, b.size, 4);
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, PG, PG, got));
	EXPECT_EQ(0, memcmp(got, b.cpu + PG, PG));
	EXPECT_EQ(0, imp_destroy(self->efd, id));
	bo_free(self->gpu, &b);
}

/*
 * Unload the exporter module while an import is still linked to it (it
 * held P2P extents, or system pages without a route, until the CPU
 * mapping went away): module exit revokes
 * the import, which then fails cleanly; the module loads again and works.
 */
TEST_F_TIMEOUT(life, rmmod_exporter_linked_import, 240)
{
	const char *params = getenv("P2PGPU_PARAMS");
	struct p2pmap_edu_imp_info in;
	uint64_t t0, ms;
	uint8_t got[PG];
	uint32_t id = 0;
	struct bo b;
	int ret;

	ASSERT_NE(NULL, params) TH_LOG("the suite sets P2PGPU_PARAMS");
	ASSERT_EQ(0, bo_new(self->gpu, 2 * PG, &b));
	fill(b.cpu, b.size, 5);
	ASSERT_EQ(0, imp_new(self->efd, b.cpu, b.size, POL_PREFER, &id));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got));
	ASSERT_EQ(0, memcmp(got, b.cpu, PG));

	/* Drop everything that pins the module: mapping, handle, file. */
	bo_free(self->gpu, &b);
	close(self->gpu);
	self->gpu = -1;
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	/*
	 * The import was told its pages went. With a P2P route it held the
	 * window page until the munmap (EV_CPU). Without one it was given
	 * the page as system memory, and the memcmp() above faulted the page
	 * back into the window for the CPU: p2pgpu said so (EV_MOVE), the
	 * import was already invalid when the munmap came, and that is not
	 * counted again.
	 */
	if (p2pmap_p2p_possible()) {
		EXPECT_LE(1ULL, in.invalidations[EV_CPU]);
	} else {
		EXPECT_LE(1ULL, in.invalidations[EV_MOVE]);
	}

	t0 = now_ms();
	ASSERT_EQ(0, rmmod("p2pgpu"));
	ms = now_ms() - t0;
	TH_LOG("rmmod p2pgpu with a linked import took %llu ms", (unsigned long long)ms);
	EXPECT_GT(REVOKE_BOUND_MS, ms);
	EXPECT_FALSE(module_loaded("p2pgpu"));
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 0, PG, got);
	EXPECT_TRUE(ret == -EFAULT || ret == -ENODEV) TH_LOG("read after rmmod: %d", ret);
	EXPECT_EQ(0, imp_destroy(self->efd, id));

	ASSERT_EQ(0, insmod("/tests/modules/p2pgpu.ko", params));
	ASSERT_TRUE(wait_bound(self->pci, 30000));
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu);
	EXPECT_EQ(0, peer_roundtrip(self->gpu, self->efd, 6));
}

/* The aperture_pinned sysfs file of the provider for PCI device @pci. */
static long long aperture_pinned(const char *pci)
{
	return sysfs_num("/sys/bus/pci/devices/%s/p2pmap/aperture_pinned", pci);
}

/*
 * A pinned import of ordinary memory keeps the pages after munmap(): the
 * CPU side never invalidates it, and the edu still reads what was there.
 */
TEST_F(life, pinned_sysmem_outlives_munmap)
{
	struct p2pmap_edu_imp_info in;
	uint8_t *buf, want[PG], got[PG];
	uint32_t id = 0;

	buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)buf);
	fill(buf, 4 * PG, 9);
	memcpy(want, buf + 2 * PG, PG);
	{
		struct p2pmap_edu_imp_create c = {
			.va = (uintptr_t)buf, .len = 4 * PG,
			.policy = POL_PREFER, .flags = F_PIN | F_WRITE,
		};

		ASSERT_EQ(0, ioctl(self->efd, P2PMAP_EDU_IMP_IOC_CREATE, &c))
			TH_LOG("pinned create: %s", strerror(errno));
		id = c.id;
	}
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 2 * PG, PG, got));
	ASSERT_EQ(0, memcmp(got, want, PG));
	ASSERT_EQ(0, munmap(buf, 4 * PG));
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, id, 2 * PG, PG, got));
	EXPECT_EQ(0, memcmp(got, want, PG));
	ASSERT_EQ(0, imp_info(self->efd, id, &in));
	EXPECT_EQ(0ULL, in.invalidations[EV_CPU]);
	EXPECT_EQ(4ULL, in.sysmem_pages);
	EXPECT_EQ(0, imp_destroy(self->efd, id));
}

/*
 * A pinned import of a buffer object keeps it alive after the process
 * dropped mapping, handle and file, and counts in aperture_pinned; the
 * exporter module then unloads, revoking the pin (unbind invalidation),
 * and loads again.
 */
TEST_F_TIMEOUT(life, rmmod_exporter_pinned_import, 240)
{
	const char *params = getenv("P2PGPU_PARAMS");
	struct p2pmap_edu_imp_create c = { .policy = POL_PREFER, .flags = F_PIN };
	struct p2pmap_edu_imp_info in;
	uint8_t got[PG], want[PG];
	uint64_t t0, ms;
	struct bo b;
	int ret;

	ASSERT_NE(NULL, params) TH_LOG("the suite sets P2PGPU_PARAMS");
	ASSERT_EQ(0, bo_new(self->gpu, 2 * PG, &b));
	fill(b.cpu, b.size, 10);
	memcpy(want, b.cpu + PG, PG);
	c.va = (uintptr_t)b.cpu;
	c.len = b.size;
	ASSERT_EQ(0, ioctl(self->efd, P2PMAP_EDU_IMP_IOC_CREATE, &c))
		TH_LOG("pinned create: %s", strerror(errno));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, c.id, PG, PG, got));
	ASSERT_EQ(0, memcmp(got, want, PG));
	ASSERT_EQ(0, imp_info(self->efd, c.id, &in));
	EXPECT_EQ(2ULL, in.p2p_pages + in.sysmem_pages);

	bo_free(self->gpu, &b);
	close(self->gpu);
	self->gpu = -1;
	/* Still pinned, still readable: the pin holds the object. */
	if (in.p2p_pages)
		EXPECT_EQ((long long)(in.p2p_pages * PG), aperture_pinned(self->pci));
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, c.id, PG, PG, got));
	EXPECT_EQ(0, memcmp(got, want, PG));
	ASSERT_EQ(0, imp_info(self->efd, c.id, &in));
	EXPECT_EQ(0ULL, in.invalidations[EV_CPU]);

	t0 = now_ms();
	ASSERT_EQ(0, rmmod("p2pgpu"));
	ms = now_ms() - t0;
	TH_LOG("rmmod p2pgpu with a pinned import took %llu ms", (unsigned long long)ms);
	EXPECT_GT(REVOKE_BOUND_MS, ms);
	ASSERT_EQ(0, imp_info(self->efd, c.id, &in));
	EXPECT_LE(1ULL, in.invalidations[EV_UNBIND]);
	EXPECT_EQ(0U, in.nr_extents);
	ret = imp_xfer(self->efd, P2PMAP_EDU_IMP_IOC_READ, c.id, 0, PG, got);
	EXPECT_TRUE(ret == -EFAULT || ret == -ENODEV) TH_LOG("read after rmmod: %d", ret);
	EXPECT_EQ(0, imp_destroy(self->efd, c.id));

	ASSERT_EQ(0, insmod("/tests/modules/p2pgpu.ko", params));
	ASSERT_TRUE(wait_bound(self->pci, 30000));
	self->gpu = open_gpu(0, self->pci, sizeof(self->pci));
	ASSERT_LE(0, self->gpu);
	EXPECT_EQ(0LL, aperture_pinned(self->pci));
	EXPECT_EQ(0, peer_roundtrip(self->gpu, self->efd, 11));
}

/*
 * kill -9 in the middle of imports: a child imports an object four times
 * the window (every map evicts or falls back, which takes a while under
 * emulation) in a loop; the parent kills it at varying times. A page of
 * shared memory says whether the child was inside the import ioctl. After
 * each kill nothing the child made may survive, and the device works.
 */
TEST_F_TIMEOUT(life, kill9_mid_import, 300)
{
	struct p2pmap_edu_imp_status st0, st;
	struct drm_p2pgpu_device_info di0, di;
	volatile uint32_t *phase;
	unsigned int i, in_ioctl = 0;
	int status;

	ASSERT_EQ(0, imp_status(self->efd, &st0));
	ASSERT_EQ(0, dev_info(self->gpu, &di0));
	phase = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)phase);

	for (i = 0; i < 6; i++) {
		pid_t pid;

		*phase = 0;
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			char pci[32] = "";
			uint8_t buf[PG];
			int gpu, efd;
			struct bo b;

			strcpy(pci, self->pci);
			gpu = open_gpu(0, pci, sizeof(pci));
			efd = open("/dev/p2pmap_edu_imp", O_RDWR);
			if (gpu < 0 || efd < 0 || bo_new(gpu, 2 * di0.window_total, &b))
				_exit(3);
			fill(b.cpu, b.size, 7);
			for (;;) {
				uint32_t id = 0;

				*phase = 1;
				if (!imp_new(efd, b.cpu, b.size, POL_PREFER, &id))
					imp_xfer(efd, P2PMAP_EDU_IMP_IOC_READ, id,
						 b.size - PG, PG, buf);
				*phase = 2;
				/* Destroy every other one: kill finds live ones too. */
				if (id & 1)
					imp_destroy(efd, id);
			}
		}
		/* Let the child get going, then kill at a varying point. */
		while (!*phase)
			usleep(1000);
		usleep((i * 37 % 200) * 1000 + 5000);
		if (*phase == 1)
			in_ioctl++;
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("child %u status 0x%x", i, status);

		ASSERT_EQ(0, imp_status(self->efd, &st));
		EXPECT_EQ(st0.live_imports, st.live_imports);
		ASSERT_EQ(0, dev_info(self->gpu, &di));
		EXPECT_EQ(di0.vram_used, di.vram_used);
		EXPECT_EQ(0ULL, di.window_pinned);
	}
	TH_LOG("%u of 6 kills landed inside an import ioctl", in_ioctl);
	EXPECT_LE(1U, in_ioctl);
	munmap((void *)phase, PG);
	EXPECT_EQ(0, peer_roundtrip(self->gpu, self->efd, 8));
}

TEST_HARNESS_MAIN
