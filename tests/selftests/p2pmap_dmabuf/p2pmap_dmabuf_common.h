/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by p2pmap_dmabuf_test.c and p2pmap_dmabuf_failnth.c:
 * /dev/p2pmap's EXPORT_RANGE and the edu importer p2pgpu_dmabuf_test.ko.
 */
#ifndef _P2PMAP_DMABUF_COMMON_H
#define _P2PMAP_DMABUF_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/p2pmap.h>

#include "p2pgpu_dmabuf_test_uapi.h"

#define PG		4096UL
#define DBT_RD		P2PGPU_DMABUF_TEST_IOC_READ
#define DBT_WR		P2PGPU_DMABUF_TEST_IOC_WRITE
#define F_DYN		P2PGPU_DMABUF_TEST_F_P2P
#define F_PIN		P2PGPU_DMABUF_TEST_F_PIN
#define F_REV		P2PGPU_DMABUF_TEST_F_REVOCABLE

/*
 * Open /dev/p2pmap, creating the node from sysfs if the VM's minimal
 * /dev has none (no udev there).
 */
static inline int p2pmap_dev_open(void)
{
	char buf[32] = "";
	unsigned int ma, mi;
	int fd;

	fd = open("/dev/" P2PMAP_DEVNAME, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	fd = open("/sys/class/misc/" P2PMAP_DEVNAME "/dev", O_RDONLY);
	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf) - 1) <= 0 ||
	    sscanf(buf, "%u:%u", &ma, &mi) != 2) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (mknod("/dev/" P2PMAP_DEVNAME, S_IFCHR | 0600, makedev(ma, mi)) &&
	    errno != EEXIST)
		return -errno;
	fd = open("/dev/" P2PMAP_DEVNAME, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* EXPORT_RANGE with the current struct size; *fd and *caps on success. */
static inline int p2pmap_export(int dev, const void *va, uint64_t len,
				uint32_t flags, int *fd, uint32_t *caps)
{
	struct p2pmap_export_range a = {
		.size = sizeof(a), .flags = flags, .va = (uintptr_t)va,
		.length = len, .fd = -1,
	};

	*fd = -1;
	if (ioctl(dev, P2PMAP_IOC_EXPORT_RANGE, &a))
		return -errno;
	*fd = a.fd;
	if (caps)
		*caps = a.caps;
	return 0;
}

/* Open file descriptors of this process. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static inline int dbt_open(void)
{
	return open("/dev/" P2PGPU_DMABUF_TEST_DEVNAME, O_RDWR);
}

static inline int dbt_attach(int dfd, int fd, uint32_t flags,
			     struct p2pgpu_dmabuf_test_attach *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->flags = flags;
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_ATTACH, a) ? -errno : 0;
}

static inline int dbt_detach(int dfd)
{
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_DETACH) ? -errno : 0;
}

static inline int dbt_status(int dfd, struct p2pgpu_dmabuf_test_status *s)
{
	memset(s, 0, sizeof(*s));
	return ioctl(dfd, P2PGPU_DMABUF_TEST_IOC_STATUS, s) ? -errno : 0;
}

static inline int dbt_xfer(int dfd, unsigned long cmd, size_t off, size_t len,
			   void *buf)
{
	struct p2pgpu_dmabuf_test_xfer x = {
		.offset = off, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(dfd, cmd, &x) ? -errno : 0;
}

/* Poll the importer until it has seen more than @n invalidations. */
static inline int wait_notified(int dfd, uint32_t n,
				struct p2pgpu_dmabuf_test_status *s)
{
	int i, ret;

	for (i = 0; i < 1000; i++) {
		ret = dbt_status(dfd, s);
		if (ret || s->move_notifies > n)
			return ret;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static inline void fill_byte(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

#endif /* _P2PMAP_DMABUF_COMMON_H */
