// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu-window-pin: hold every window slot of a p2pgpu device with a
 * pinned p2pmap import (the edu importer's P2PMAP_EDU_IMP_F_PIN mode) until
 * killed, so that other objects' pages fall back to system memory (reason
 * window_full). For `make bench-rdma KERNEL=7.3-stock`'s fallback row with
 * ODP MRs (tests/vm/suites/rdma_bench.sh): on 7.x a pinned RDMA MR over
 * window pages is refused (GUP does not long-term pin P2PDMA pages), so
 * p2pgpu-rdma --fill-window cannot exhaust the window there; a pinned
 * p2pmap import can, and is what a non-revalidating importer would hold.
 *
 * Owns: the window-sized object, its pinned import, the ready line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap_edu_imp_uapi.h"

#define PG	4096UL

static const char help_text[] =
"NAME\n"
"    p2pgpu-window-pin - pin a p2pgpu device's whole window until killed\n"
"\n"
"SYNOPSIS\n"
"    p2pgpu-window-pin [RENDER_NODE]\n"
"\n"
"DESCRIPTION\n"
"    Creates an object as large as the window on RENDER_NODE (default: the\n"
"    first render node whose driver is p2pgpu), faults every page into\n"
"    the window through its CPU mapping, imports the range through\n"
"    /dev/p2pmap_edu_imp with P2PMAP_EDU_IMP_F_PIN and maps it: p2pmap's\n"
"    pinned import holds every window slot. Prints \"window pinned: N of\n"
"    M pages\" on stdout when it holds them, then waits for a signal.\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGTERM/SIGINT; 1 on error; 2 usage error.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_p2pgpu(const char *want)
{
	char path[64];
	int minor, fd;

	if (want)
		return open(want, O_RDWR | O_CLOEXEC);
	for (minor = 128; minor < 192; minor++) {
		drmVersionPtr v;
		int match;

		snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		match = v && !strcmp(v->name, "p2pgpu");
		if (v)
			drmFreeVersion(v);
		if (match)
			return fd;
		close(fd);
	}
	errno = ENODEV;
	return -1;
}

int main(int argc, char **argv)
{
	struct drm_p2pgpu_device_info di;
	struct drm_p2pgpu_bo_create bc;
	struct drm_p2pgpu_bo_mmap_offset mo;
	struct p2pmap_edu_imp_create ic;
	struct p2pmap_edu_imp_map mp;
	struct sigaction sa;
	uint8_t *p;
	size_t off;
	int fd, efd;

	if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
		fputs(help_text, argc == 2 ? stdout : stderr);
		return argc == 2 ? 0 : 2;
	}
	fd = open_p2pgpu(argc == 2 ? argv[1] : NULL);
	if (fd < 0) {
		fprintf(stderr, "p2pgpu-window-pin: no p2pgpu render node: %s\n", strerror(errno));
		return 1;
	}
	memset(&di, 0, sizeof(di));
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &di)) {
		fprintf(stderr, "p2pgpu-window-pin: DEVICE_INFO: %s\n", strerror(errno));
		return 1;
	}
	memset(&bc, 0, sizeof(bc));
	bc.size = di.window_total;
	memset(&mo, 0, sizeof(mo));
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CREATE, &bc)) {
		fprintf(stderr, "p2pgpu-window-pin: BO_CREATE %llu: %s\n",
			(unsigned long long)bc.size, strerror(errno));
		return 1;
	}
	mo.handle = bc.handle;
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &mo)) {
		fprintf(stderr, "p2pgpu-window-pin: MMAP_OFFSET: %s\n", strerror(errno));
		return 1;
	}
	p = mmap(NULL, di.window_total, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)mo.offset);
	if (p == MAP_FAILED) {
		fprintf(stderr, "p2pgpu-window-pin: mmap: %s\n", strerror(errno));
		return 1;
	}
	for (off = 0; off < di.window_total; off += PG)
		((volatile uint8_t *)p)[off] = 0x5a;
	efd = open("/dev/" P2PMAP_EDU_IMP_DEVNAME, O_RDWR | O_CLOEXEC);
	if (efd < 0) {
		fprintf(stderr, "p2pgpu-window-pin: /dev/%s: %s\n", P2PMAP_EDU_IMP_DEVNAME,
			strerror(errno));
		return 1;
	}
	memset(&ic, 0, sizeof(ic));
	ic.va = (uintptr_t)p;
	ic.len = di.window_total;
	ic.policy = P2PMAP_EDU_IMP_PREFER_P2P;
	ic.flags = P2PMAP_EDU_IMP_F_PIN;
	if (ioctl(efd, P2PMAP_EDU_IMP_IOC_CREATE, &ic)) {
		fprintf(stderr, "p2pgpu-window-pin: pinned import CREATE: %s\n", strerror(errno));
		return 1;
	}
	memset(&mp, 0, sizeof(mp));
	mp.id = ic.id;
	if (ioctl(efd, P2PMAP_EDU_IMP_IOC_MAP, &mp)) {
		fprintf(stderr, "p2pgpu-window-pin: pinned import MAP: %s\n", strerror(errno));
		return 1;
	}
	memset(&di, 0, sizeof(di));
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &di))
		return 1;
	printf("window pinned: %llu of %llu pages (import: %llu P2P pages, %llu system pages)\n",
	       (unsigned long long)(di.window_pinned / PG),
	       (unsigned long long)(di.window_total / PG),
	       (unsigned long long)mp.p2p_pages, (unsigned long long)mp.sysmem_pages);
	fflush(stdout);
	if (di.window_pinned < di.window_total) {
		fprintf(stderr, "p2pgpu-window-pin: the window is not fully pinned\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop)
		pause();
	close(efd);
	munmap(p, di.window_total);
	close(fd);
	return 0;
}
