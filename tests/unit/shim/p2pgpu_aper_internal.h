/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userland replacement for kernel/p2pgpu/p2pgpu_aper_internal.h.
 *
 * The unit-test Makefile force-includes this file (-include) before every
 * translation unit. It uses the same include guard as the kernel header, so
 * when p2pgpu_aper.c later includes "p2pgpu_aper_internal.h" from its own directory
 * the kernel version expands to nothing. It supplies exactly what p2pgpu_aper.c
 * uses from the kernel, and nothing more: fixed-width types, errno values,
 * ERR_PTR, WARN_ON (counted, not fatal), max(), check_add_overflow(), a
 * list_head with CONFIG_DEBUG_LIST-style checks, and kzalloc/kvcalloc mapped
 * to calloc with leak accounting and "fail the N-th allocation" injection.
 * It depends only on libc, never on a kernel tree. State lives in shim.c.
 */
#ifndef _P2PGPU_APER_INTERNAL_H
#define _P2PGPU_APER_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define U32_MAX		UINT32_MAX
#define U64_MAX		UINT64_MAX

/* ---- allocation (shim.c) ---- */

typedef unsigned int gfp_t;
#define GFP_KERNEL	0U

void *shim_calloc(size_t n, size_t size);
void shim_free(const void *p);

/* Allocations that succeeded and are not yet freed. */
extern long shim_allocs_live;
/* Allocation calls since the process started (failed ones included). */
extern unsigned long shim_alloc_calls;
/* Injected failures so far. */
extern unsigned long shim_alloc_failures;

/*
 * Make the @nth allocation call from now on fail (1 = the next one); 0
 * disarms. Only that one call fails, as with the kernel's fail-nth.
 */
void shim_fail_nth(unsigned long nth);

#define kzalloc(size, gfp)		((void)(gfp), shim_calloc(1, (size)))
#define kcalloc(n, size, gfp)		((void)(gfp), shim_calloc((n), (size)))
#define kvcalloc(n, size, gfp)		((void)(gfp), shim_calloc((n), (size)))
#define kfree(p)			shim_free(p)
#define kvfree(p)			shim_free(p)

/* ---- warnings (shim.c) ---- */

/* WARN_ON hits so far; tests compare it with what they expect. */
extern unsigned long shim_warn_count;
/* Non-zero: count WARN_ONs but do not print them. */
extern int shim_warn_quiet;
void shim_warn(const char *file, int line, const char *cond);

#define WARN_ON(cond) ({						\
	int __ret_warn_on = !!(cond);					\
	if (__ret_warn_on)						\
		shim_warn(__FILE__, __LINE__, #cond);			\
	__ret_warn_on;							\
})
/* Counted every time, so tests can assert exact numbers. */
#define WARN_ON_ONCE(cond)	WARN_ON(cond)

/* ---- err.h ---- */

#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}

/* ---- minmax.h / overflow.h ---- */

#define max(a, b) ({							\
	__typeof__(a) __a = (a);					\
	__typeof__(b) __b = (b);					\
	_Static_assert(__builtin_types_compatible_p(__typeof__(__a),	\
						    __typeof__(__b)),	\
		       "max() of different types");			\
	__a > __b ? __a : __b;						\
})

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)

/* ---- list.h ---- */

#define container_of(ptr, type, member)					\
	((type *)((char *)(ptr) - offsetof(type, member)))

struct list_head {
	struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void __list_add(struct list_head *new, struct list_head *prev,
			      struct list_head *next)
{
	/* CONFIG_DEBUG_LIST: refuse to corrupt the list further. */
	if (WARN_ON(next->prev != prev || prev->next != next ||
		    new == prev || new == next))
		return;
	next->prev = new;
	new->next = next;
	new->prev = prev;
	prev->next = new;
}

static inline void list_add_tail(struct list_head *new, struct list_head *head)
{
	__list_add(new, head->prev, head);
}

static inline void list_del_init(struct list_head *entry)
{
	if (WARN_ON(entry->prev->next != entry || entry->next->prev != entry))
		return;
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	INIT_LIST_HEAD(entry);
}

static inline void list_move_tail(struct list_head *list,
				  struct list_head *head)
{
	list_del_init(list);
	list_add_tail(list, head);
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)

#define list_first_entry_or_null(head, type, member) ({			\
	struct list_head *__head = (head);				\
	struct list_head *__pos = __head->next;				\
	__pos != __head ? list_entry(__pos, type, member) : NULL;	\
})

#define list_for_each(pos, head)					\
	for (pos = (head)->next; pos != (head); pos = pos->next)

/* As in the kernel: @pos is a container, typeof() names its type. */
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_entry((head)->next, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_entry(pos->member.next, typeof(*pos), member))

#endif /* _P2PGPU_APER_INTERNAL_H */
