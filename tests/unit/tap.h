/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP version 13 producer for the p2pmap userland unit tests.
 *
 * A test program is a table of cases; each case is one TAP test point and
 * may make any number of TAP_CHECK*() assertions. A case passes only if all
 * its assertions hold, it produced exactly the WARN_ON hits it declared with
 * tap_expect_warns(), and it freed every shim allocation it made. The plan
 * line is printed before the first case, so a crash shows up as a short
 * count. Header-only: include it once per program, after the shim.
 */
#ifndef _P2PMAP_UNIT_TAP_H
#define _P2PMAP_UNIT_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

struct tap_case {
	const char *name;
	void (*fn)(const void *arg);
	const void *arg;
};

static int tap_case_failed;
static const char *tap_skip_reason;
static unsigned long tap_warns_expected;

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));	/* __printf() is kernel-only */
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Record a failed assertion; returns false so callers can bail out. */
static inline bool tap_fail_at(const char *file, int line, const char *what)
{
	tap_case_failed = 1;
	tap_diag("  %s:%d: check failed: %s", file, line, what);
	return false;
}

#define TAP_CHECK(cond) ({						\
	bool __ok = (cond);						\
	if (!__ok)							\
		tap_fail_at(__FILE__, __LINE__, #cond);			\
	__ok;								\
})

#define TAP_CHECK_EQ(a, b) ({						\
	long long __a = (long long)(a), __b = (long long)(b);		\
	bool __ok = __a == __b;						\
	if (!__ok) {							\
		tap_fail_at(__FILE__, __LINE__, #a " == " #b);		\
		tap_diag("    got %lld, expected %lld", __a, __b);	\
	}								\
	__ok;								\
})

#define TAP_CHECK_U64(a, b) ({						\
	uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);		\
	bool __ok = __a == __b;						\
	if (!__ok) {							\
		tap_fail_at(__FILE__, __LINE__, #a " == " #b);		\
		tap_diag("    got %" PRIu64 ", expected %" PRIu64, __a, __b); \
	}								\
	__ok;								\
})

/* The running case will trigger @n more WARN_ONs on purpose. */
static inline void tap_expect_warns(unsigned long n)
{
	tap_warns_expected += n;
}

/* Mark the running case skipped (it still must not fail). */
static inline void tap_skip(const char *reason)
{
	tap_skip_reason = reason;
}

/* Run all cases; returns the process exit status. */
static inline int tap_run(const char *suite, const struct tap_case *cases,
			  unsigned int n)
{
	unsigned int i, passed = 0, failed = 0, skipped = 0;

	printf("TAP version 13\n1..%u\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		long live0 = shim_allocs_live;
		unsigned long warns0 = shim_warn_count;
		unsigned long warns;

		tap_case_failed = 0;
		tap_skip_reason = NULL;
		tap_warns_expected = 0;
		cases[i].fn(cases[i].arg);
		shim_fail_nth(0);

		warns = shim_warn_count - warns0;
		if (warns != tap_warns_expected) {
			tap_case_failed = 1;
			tap_diag("  %lu WARN_ON hit(s), expected %lu", warns,
				 tap_warns_expected);
		}
		if (shim_allocs_live != live0) {
			tap_case_failed = 1;
			tap_diag("  %ld shim allocation(s) leaked",
				 shim_allocs_live - live0);
		}
		if (tap_case_failed) {
			failed++;
			printf("not ok %u - %s\n", i + 1, cases[i].name);
		} else if (tap_skip_reason) {
			skipped++;
			printf("ok %u - %s # SKIP %s\n", i + 1, cases[i].name,
			       tap_skip_reason);
		} else {
			passed++;
			printf("ok %u - %s\n", i + 1, cases[i].name);
		}
		fflush(stdout);
	}
	tap_diag("%s: %u passed, %u failed, %u skipped", suite, passed, failed,
		 skipped);
	return failed ? 1 : 0;
}

#define TAP_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* _P2PMAP_UNIT_TAP_H */
