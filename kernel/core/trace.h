/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of p2pmap.ko: one per event an importer or exporter author
 * needs to see when placement or revalidation misbehaves: an import mapped
 * (with its placement), an import's extents released, an invalidation
 * delivered (with its origin), an exporter eviction, and pages that fell
 * back to system memory (with the reason). Enable with
 * /sys/kernel/tracing/events/p2pmap/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM p2pmap

#if !defined(_P2PMAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _P2PMAP_TRACE_H

#include <linux/tracepoint.h>

#include <p2pmap_compat.h>

/*
 * The enums __print_symbolic() decodes, exported to the format files so
 * that perf, trace-cmd and bpftrace print names rather than numbers.
 */
TRACE_DEFINE_ENUM(P2PMAP_EV_CPU);
TRACE_DEFINE_ENUM(P2PMAP_EV_EVICT);
TRACE_DEFINE_ENUM(P2PMAP_EV_MOVE);
TRACE_DEFINE_ENUM(P2PMAP_EV_RESET);
TRACE_DEFINE_ENUM(P2PMAP_EV_UNBIND);
TRACE_DEFINE_ENUM(P2PMAP_EV_REMAP);
TRACE_DEFINE_ENUM(P2PMAP_REASON_NONE);
TRACE_DEFINE_ENUM(P2PMAP_REASON_POLICY);
TRACE_DEFINE_ENUM(P2PMAP_REASON_BAR_EXHAUSTED);
TRACE_DEFINE_ENUM(P2PMAP_REASON_NO_ROUTE);
TRACE_DEFINE_ENUM(P2PMAP_REASON_NO_KCONFIG);
TRACE_DEFINE_ENUM(P2PMAP_REASON_DMA_MASK);
TRACE_DEFINE_ENUM(P2PMAP_REASON_SYSTEM_PAGE);

TRACE_EVENT(p2pmap_map,
	TP_PROTO(const void *imp, unsigned long start, unsigned long npages,
		 unsigned long p2p, unsigned long sysmem, unsigned long error),
	TP_ARGS(imp, start, npages, p2p, sysmem, error),
	TP_STRUCT__entry(
		__field(const void *, imp)
		__field(unsigned long, start)
		__field(unsigned long, npages)
		__field(unsigned long, p2p)
		__field(unsigned long, sysmem)
		__field(unsigned long, error)
	),
	TP_fast_assign(
		__entry->imp = imp;
		__entry->start = start;
		__entry->npages = npages;
		__entry->p2p = p2p;
		__entry->sysmem = sysmem;
		__entry->error = error;
	),
	TP_printk("import=%p va=0x%lx pages=%lu p2p=%lu sysmem=%lu error=%lu",
		  __entry->imp, __entry->start, __entry->npages, __entry->p2p,
		  __entry->sysmem, __entry->error)
);

TRACE_EVENT(p2pmap_unmap,
	TP_PROTO(const void *imp, unsigned int nr_ext),
	TP_ARGS(imp, nr_ext),
	TP_STRUCT__entry(
		__field(const void *, imp)
		__field(unsigned int, nr_ext)
	),
	TP_fast_assign(
		__entry->imp = imp;
		__entry->nr_ext = nr_ext;
	),
	TP_printk("import=%p extents=%u", __entry->imp, __entry->nr_ext)
);

TRACE_EVENT(p2pmap_invalidate,
	TP_PROTO(const void *imp, int event),
	TP_ARGS(imp, event),
	TP_STRUCT__entry(
		__field(const void *, imp)
		__field(int, event)
	),
	TP_fast_assign(
		__entry->imp = imp;
		__entry->event = event;
	),
	TP_printk("import=%p event=%s", __entry->imp,
		  __print_symbolic(__entry->event,
				   { P2PMAP_EV_CPU, "cpu" },
				   { P2PMAP_EV_EVICT, "evict" },
				   { P2PMAP_EV_MOVE, "move" },
				   { P2PMAP_EV_RESET, "reset" },
				   { P2PMAP_EV_UNBIND, "unbind" },
				   { P2PMAP_EV_REMAP, "remap" }))
);

TRACE_EVENT(p2pmap_evict,
	TP_PROTO(const char *provider, unsigned long first, unsigned long last),
	TP_ARGS(provider, first, last),
	TP_STRUCT__entry(
		__string(provider, provider)
		__field(unsigned long, first)
		__field(unsigned long, last)
	),
	TP_fast_assign(
		p2pmap_assign_str(provider, provider);
		__entry->first = first;
		__entry->last = last;
	),
	TP_printk("provider=%s pgoff=%lu..%lu", __get_str(provider),
		  __entry->first, __entry->last)
);

TRACE_EVENT(p2pmap_fallback,
	TP_PROTO(const char *provider, int reason, unsigned long npages),
	TP_ARGS(provider, reason, npages),
	TP_STRUCT__entry(
		__string(provider, provider)
		__field(int, reason)
		__field(unsigned long, npages)
	),
	TP_fast_assign(
		p2pmap_assign_str(provider, provider);
		__entry->reason = reason;
		__entry->npages = npages;
	),
	/* the names of the sysfs fallback_<reason> files (attach.c) */
	TP_printk("provider=%s reason=%s pages=%lu", __get_str(provider),
		  __print_symbolic(__entry->reason,
				   { P2PMAP_REASON_NONE, "none" },
				   { P2PMAP_REASON_POLICY, "policy" },
				   { P2PMAP_REASON_BAR_EXHAUSTED, "bar_exhausted" },
				   { P2PMAP_REASON_NO_ROUTE, "no_route" },
				   { P2PMAP_REASON_NO_KCONFIG, "no_kconfig" },
				   { P2PMAP_REASON_DMA_MASK, "dma_mask" },
				   { P2PMAP_REASON_SYSTEM_PAGE, "system_page" }),
		  __entry->npages)
);

#endif /* _P2PMAP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
