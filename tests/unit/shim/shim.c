// SPDX-License-Identifier: GPL-2.0
/*
 * State behind the userland kernel shim: allocation accounting with
 * "fail the N-th allocation" injection, and the WARN_ON counter.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "p2pgpu_aper_internal.h"

long shim_allocs_live;
unsigned long shim_alloc_calls;
unsigned long shim_alloc_failures;
unsigned long shim_warn_count;
int shim_warn_quiet;

static unsigned long fail_at;	/* absolute call number to fail, 0 = none */

void shim_fail_nth(unsigned long nth)
{
	fail_at = nth ? shim_alloc_calls + nth : 0;
}

void *shim_calloc(size_t n, size_t size)
{
	void *p;

	shim_alloc_calls++;
	if (fail_at && shim_alloc_calls == fail_at) {
		fail_at = 0;
		shim_alloc_failures++;
		return NULL;
	}
	/* As kvmalloc_array(): refuse n * size overflow ... */
	if (size && n > SIZE_MAX / size)
		return NULL;
	/* ... and, with a warning, anything above INT_MAX bytes. */
	if (WARN_ON(n * size > INT_MAX))
		return NULL;
	p = calloc(n, size);
	if (p)
		shim_allocs_live++;
	return p;
}

void shim_free(const void *p)
{
	if (!p)
		return;
	shim_allocs_live--;
	free((void *)p);
}

void shim_warn(const char *file, int line, const char *cond)
{
	shim_warn_count++;
	if (shim_warn_quiet)
		return;
	printf("# WARNING: %s:%d: WARN_ON(%s)\n", file, line, cond);
	fflush(stdout);
}
