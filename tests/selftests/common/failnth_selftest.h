/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for p2pmap selftests: write a sysfs/debugfs knob, set up
 * failslab and fail_page_alloc for sweeps over every allocation (sleeping
 * ones included, no verbose stack dumps), and drive the calling thread's
 * /proc/self/task/<tid>/fail-nth, whose file descriptor the caller keeps.
 * Header-only, for single-file static test programs.
 */
#ifndef _FAILNTH_SELFTEST_H
#define _FAILNTH_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Write @val to the file @path: 0 or -errno (-EIO for a short write). */
static inline int write_str(const char *path, const char *val)
{
	ssize_t l = (ssize_t)strlen(val), n;
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return -errno;
	n = write(fd, val, l);
	n = n < 0 ? -errno : n == l ? 0 : -EIO;
	close(fd);
	return (int)n;
}

/*
 * Configure failslab and fail_page_alloc for fail-nth sweeps and open the
 * calling thread's fail-nth file. Returns its descriptor or -errno (with
 * the knob that could not be set printed as a TAP diagnostic).
 */
static inline int failnth_open(void)
{
	static const char *const set[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	char path[64];
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		ret = write_str(set[i][0], set[i][1]);
		if (ret) {
			printf("# cannot write %s to %s: %s\n", set[i][1],
			       set[i][0], strerror(-ret));
			return ret;
		}
	}
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	ret = open(path, O_RDWR);
	return ret < 0 ? -errno : ret;
}

/* Fail the @n-th allocation from now on (0: stop injecting). */
static inline int failnth_set(int fd, unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	return pwrite(fd, b, l, 0) == l ? 0 : -errno;
}

/* What is left of the count: 0 once the injected failure fired. */
static inline long failnth_left(int fd)
{
	char b[16] = "";

	if (pread(fd, b, sizeof(b) - 1, 0) <= 0)
		return -1;
	return strtol(b, NULL, 10);
}

#endif /* _FAILNTH_SELFTEST_H */
