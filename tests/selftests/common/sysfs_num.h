/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysfs_num(): the integer a sysfs, debugfs or procfs file holds, for the
 * selftests that check the kernel's own counters (p2pmap's and p2pgpu's
 * sysfs, rxe's hw_counters, module reference counts). Header-only and
 * independent of the kselftest harness and of libdrm, so the raw-ioctl
 * programs (p2pgpu_rdma_pair) use it too.
 */
#ifndef _SYSFS_NUM_H
#define _SYSFS_NUM_H

#include <stdarg.h>
#include <stdio.h>

/*
 * The integer in the file named by the printf-style @fmt: -1 if the file
 * cannot be opened (no such counter on this kernel or device), -2 if it
 * holds no number.
 */
static inline long long sysfs_num(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline long long sysfs_num(const char *fmt, ...)
{
	char path[256];
	long long v;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -2;
	fclose(f);
	return v;
}

#endif /* _SYSFS_NUM_H */
