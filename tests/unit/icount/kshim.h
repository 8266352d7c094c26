/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the kernel API used by kernel/core/sysmem.c and
 * kernel/core/chunk.c (and the headers they include), so that those files
 * compile unchanged for the instruction-count benchmark (bench-icount.sh).
 * Force-included before each of them; every <linux/...> header they name
 * is an empty file generated in the build directory. Inline helpers here
 * do what the kernel's do on x86-64 with a vmemmap (a struct page array
 * indexed by pfn), so the counted code reads the same memory; out-of-line
 * kernel calls are functions in kshim.c. Nothing here is a model of the
 * kernel's cost beyond that: the out-of-line calls are counted separately.
 */
#ifndef _P2PMAP_ICOUNT_KSHIM_H
#define _P2PMAP_ICOUNT_KSHIM_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Configuration of the kernel the files are compiled for. */
#define CONFIG_P2PMAP 1
#define CONFIG_HMM_MIRROR 1
#define CONFIG_DEVICE_PRIVATE 1
#define CONFIG_64BIT 1

#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x) ___is_defined(x)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define IS_ENABLED(option) (__is_defined(option) || __is_defined(option##_MODULE))

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef unsigned long pgoff_t;
typedef unsigned int gfp_t;

#define BITS_PER_LONG 64
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PHYS_PFN(x) ((unsigned long)((x) >> PAGE_SHIFT))
#define GFP_KERNEL 0u

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#undef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __uninitialized
#define __must_check
#define __acquires(x)
#define __releases(x)
#define __cond_acquires(x)
#define __must_hold(x)
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define smp_rmb() __asm__ __volatile__("" ::: "memory")
#define xchg(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define cmpxchg(p, o, n) ({ __typeof__(*(p)) __o = (o); \
	__atomic_compare_exchange_n((p), &__o, (n), false, __ATOMIC_SEQ_CST, \
				    __ATOMIC_SEQ_CST); __o; })

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define struct_size(p, member, n) \
	(sizeof(*(p)) + (size_t)(n) * sizeof(*(p)->member))
#define array_size(a, b) ((size_t)(a) * (size_t)(b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define pr_fmt(fmt) fmt
#define pr_warn_ratelimited(fmt, ...) kshim_log(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) kshim_log(fmt, ##__VA_ARGS__)
#define WARN_ONCE(c, fmt, ...) ({ bool __c = !!(c); \
	if (__c) \
		kshim_log(fmt, ##__VA_ARGS__); \
	__c; })
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#define lockdep_assert_held(l) do { (void)(l); } while (0)
void kshim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct list_head { struct list_head *next, *prev; };
#define LIST_HEAD_INIT(name) { &(name), &(name) }
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l->prev = l; }
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void list_del(struct list_head *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
#define list_entry(p, t, m) container_of(p, t, m)
#define list_for_each_entry(pos, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member), \
	     n = list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head); \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic64_t;
#define atomic64_inc(v) ((v)->counter++)
struct kref { atomic_t refcount; };
struct mutex { int locked; };
typedef struct { int locked; } spinlock_t;
#define spin_lock(l) ((void)(l))
#define spin_unlock(l) ((void)(l))
typedef struct { int dummy; } wait_queue_head_t;
struct rb_root_cached { void *root, *leftmost; };
struct interval_tree_node {
	void *rb[3];
	unsigned long start, last, __subtree_last;
};
void interval_tree_insert(struct interval_tree_node *n, struct rb_root_cached *r);
void interval_tree_remove(struct interval_tree_node *n, struct rb_root_cached *r);
struct mmu_interval_notifier { unsigned long invalidate_seq; };
unsigned long mmu_interval_read_begin(struct mmu_interval_notifier *n);

/* xarray: only the value entries the import keeps in @migrated. */
struct xarray { void *head; };
static inline bool xa_empty(const struct xarray *xa) { return !xa->head; }
void *xa_load(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *e, gfp_t gfp);
static inline void *xa_mk_value(unsigned long v) { return (void *)((v << 1) | 1); }
static inline unsigned long xa_to_value(const void *e) { return (unsigned long)e >> 1; }

/* Memory: a vmemmap, struct page indexed by pfn, and device pagemaps. */
enum memory_type { MEMORY_DEVICE_PRIVATE = 1, MEMORY_DEVICE_COHERENT };
struct dev_pagemap { enum memory_type type; void *owner; };
#define KSHIM_ZONE_DEVICE 3UL
#define KSHIM_ZONES_SHIFT 60
struct page {
	unsigned long flags;	/* zone in the top bits, as the kernel's */
	void *pad[5];
	struct dev_pagemap *pgmap;
	void *pad2;
};
extern struct page *kshim_vmemmap;
#define page_to_pfn(p) ((unsigned long)((p) - kshim_vmemmap))
#define pfn_to_page(pfn) (kshim_vmemmap + (pfn))
static inline bool is_zone_device_page(const struct page *page)
{
	return (page->flags >> KSHIM_ZONES_SHIFT) == KSHIM_ZONE_DEVICE;
}
static inline bool is_device_private_page(const struct page *page)
{
	return IS_ENABLED(CONFIG_DEVICE_PRIVATE) && is_zone_device_page(page) &&
	       page->pgmap->type == MEMORY_DEVICE_PRIVATE;
}
static inline struct dev_pagemap *page_pgmap(const struct page *page)
{
	return page->pgmap;
}
/* x86-64 direct map, for the old code's end-of-RAM floor */
extern void *high_memory;
#define KSHIM_PAGE_OFFSET 0xffff888000000000UL
#define __pa(x) ((unsigned long)(x) - KSHIM_PAGE_OFFSET)
#define HMM_PFN_VALID (1UL << (BITS_PER_LONG - 1))
#define HMM_PFN_WRITE (1UL << (BITS_PER_LONG - 2))
#define HMM_PFN_ERROR (1UL << (BITS_PER_LONG - 3))
#define HMM_PFN_ORDER_SHIFT (BITS_PER_LONG - 8)
#define HMM_PFN_REQ_FAULT HMM_PFN_VALID
#define HMM_PFN_REQ_WRITE HMM_PFN_WRITE
#define HMM_PFN_FLAGS (0xFFUL << HMM_PFN_ORDER_SHIFT)
struct hmm_range {
	struct mmu_interval_notifier *notifier;
	unsigned long notifier_seq;
	unsigned long start;
	unsigned long end;
	unsigned long *hmm_pfns;
	unsigned long default_flags;
	unsigned long pfn_flags_mask;
	void *dev_private_owner;
};
int hmm_range_fault(struct hmm_range *range);
static inline struct page *hmm_pfn_to_page(unsigned long hmm_pfn)
{
	return pfn_to_page(hmm_pfn & ~HMM_PFN_FLAGS);
}
static inline unsigned int hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
	return (hmm_pfn >> HMM_PFN_ORDER_SHIFT) & 0x1F;
}

struct mm_struct;
#define mmap_read_lock(mm) ((void)(mm))
#define mmap_read_unlock(mm) ((void)(mm))
void unpin_user_page_range_dirty_lock(struct page *page, unsigned long npages,
				      bool make_dirty);

/* Allocation: the kernel's calls, out of line (kshim.c). */
void *kvmalloc(size_t size, gfp_t gfp);
void *kmalloc_array(size_t n, size_t size, gfp_t gfp);
void *kvmalloc_array(size_t n, size_t size, gfp_t gfp);
void kfree(const void *p);
void kvfree(const void *p);

/* DMA mapping: out of line, as dma_map_page_attrs() is in the kernel. */
struct device { const char *name; };
static inline const char *dev_name(const struct device *dev) { return dev->name; }
enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};
#define DMA_ATTR_SKIP_CPU_SYNC (1UL << 5)
#define DMA_MAPPING_ERROR (~(dma_addr_t)0)
dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs);
void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs);
dma_addr_t dma_map_resource(struct device *dev, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs);
void dma_unmap_resource(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs);
/* as the kernel's, without CONFIG_DMA_API_DEBUG */
static inline int dma_mapping_error(struct device *dev, dma_addr_t addr)
{
	(void)dev;
	return unlikely(addr == DMA_MAPPING_ERROR) ? -ENOMEM : 0;
}

/* Tracepoints of chunk.c: off, as when not enabled. */
#define trace_p2pmap_invalidate(...) do { } while (0)
#define trace_p2pmap_unmap(...) do { } while (0)

#endif /* _P2PMAP_ICOUNT_KSHIM_H */
