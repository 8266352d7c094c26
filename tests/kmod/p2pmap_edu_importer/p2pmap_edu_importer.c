// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_edu_importer: a p2pmap importer driving the QEMU "edu" PCI DMA
 * engine, for tests and benchmarks. It binds the edu device, attaches it to
 * p2pmap twice, with P2PMAP_CAP_REVALIDATE and with P2PMAP_CAP_PIN_ONLY
 * (pinned imports), and lets a process import ranges of its own address
 * space through /dev/p2pmap_edu_imp (p2pmap_edu_imp_uapi.h). A READ or
 * WRITE runs p2pmap's sequence protocol (p2pmap_import_begin(), then
 * p2pmap_import_map_and_lock()) and then, with the import lock held, has
 * the edu move the bytes between the import's DMA addresses and a
 * coherent bounce buffer in RAM, at most EDU_DMA_MAX_LEN bytes per
 * command; MAP runs the same protocol without
 * DMA and reports its kernel-measured cost. The importer's invalidate
 * callback counts events by type and timestamps the first one, so the next
 * successful map yields an invalidation-to-revalidation latency sample:
 * holding the import lock for the whole DMA is what stops the device (see
 * edu_imp_invalidate()). Imports belong to the open file and are destroyed
 * when it is released, also when the process is killed. Nothing here is
 * meant for real hardware; no MODULE_DEVICE_TABLE, so it is never
 * autoloaded.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/p2pmap.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "../common/edu_dma.h"
#include "p2pmap_edu_imp_uapi.h"

/*
 * Rounds of the protocol (map returning -EAGAIN, or a retry check failing
 * after a successful map) one READ or WRITE may take before giving up
 * with -EBUSY: an invalidation storm must not keep a caller looping.
 */
#define EDU_IMP_MAX_ROUNDS	64

/* Upper bound of the max_imports_per_file module parameter. */
#define EDU_IMP_MAX_PER_FILE_LIMIT	1048576u

/*
 * Live imports per open file. Read-only after load (0444), so CREATE reads
 * it without locking. The default keeps version 1's limit; the scaling
 * benchmark (tests/bench) raises it to hold 100k imports in one file.
 */
static unsigned int edu_imp_max_per_file = P2PMAP_EDU_IMP_MAX_PER_FILE;

static int edu_imp_set_max_per_file(const char *val,
				    const struct kernel_param *kp)
{
	int ret = param_set_uint_minmax(val, kp, 1, EDU_IMP_MAX_PER_FILE_LIMIT);

	if (ret)
		pr_err("max_imports_per_file=%s: want 1..%u\n", val ? val : "",
		       EDU_IMP_MAX_PER_FILE_LIMIT);
	return ret;
}

static const struct kernel_param_ops edu_imp_max_per_file_ops = {
	.set = edu_imp_set_max_per_file,
	.get = param_get_uint,
};
module_param_cb(max_imports_per_file, &edu_imp_max_per_file_ops,
		&edu_imp_max_per_file, 0444);
MODULE_PARM_DESC(max_imports_per_file,
		 "Live imports per open file of /dev/p2pmap_edu_imp, 1..1048576 (default 256)");

struct edu_imp_file;

/**
 * struct edu_imp_import - one import of an open file
 * @kref: the file's xarray holds one reference, each ioctl using the
 *	import one more; the last put destroys the p2pmap import
 * @imp: the p2pmap import; its importer_priv is this structure
 * @file: the open file the import belongs to; it outlives the import
 *	(imports die in the file's release, and ioctls hold the file)
 * @inval_ns: ktime of the first invalidation since the last successful
 *	map, 0 if none; under the import lock
 * @mapped_once: a validation succeeded; until then there is nothing to
 *	check before mapping. Set under the import lock, read without it
 *	(a stale false only skips the check: the map is never wrong)
 * @pin_mapped: pinned import: mapped (pinned), its extents are used until
 *	destroy or an exporter event takes them back (P2PMAP_EV_RESET: the
 *	next use pins again); under the import lock
 * @revoked: pinned import: the exporter went away (P2PMAP_EV_UNBIND);
 *	every later READ, WRITE or MAP fails with -ENODEV; under the import
 *	lock
 * @pin_lock: pinned import: serialises its first map
 *	(edu_imp_validate_pinned()); outside every p2pmap lock
 * @va: start, as created
 * @len: length in bytes, as created
 * @policy: P2PMAP_EDU_IMP_* policy, as created
 * @flags: P2PMAP_EDU_IMP_F_* bits, as created
 * @map_calls: p2pmap_import_map_and_lock() calls
 * @map_eagain: of those, returned -EAGAIN
 * @retry_true: p2pmap_import_retry() true for an import mapped before: its
 *	extents were invalidated since, so it is mapped again
 * @xfers: READ/WRITE calls that moved their bytes
 * @inval: invalidate callbacks per enum p2pmap_event
 */
struct edu_imp_import {
	struct kref kref;
	struct p2pmap_import *imp;
	struct edu_imp_file *file;
	u64 inval_ns;
	bool mapped_once;
	bool pin_mapped;
	bool revoked;
	struct mutex pin_lock; /* first map of a pinned import */
	u64 va;
	u64 len;
	u32 policy;
	u32 flags;
	atomic64_t map_calls;
	atomic64_t map_eagain;
	atomic64_t retry_true;
	atomic64_t xfers;
	atomic64_t inval[P2PMAP_EDU_IMP_EV_NR];
};

/**
 * struct edu_imp_file - per open file state
 * @node: on edu_imp.files
 * @imports: id -> struct edu_imp_import (ids from 1)
 * @lat_lock: protects @lat_nr, @lat_dropped and @lat. Taken inside an
 *	import lock when a map records a sample: innermost, no allocation
 * @lat_nr: samples in @lat
 * @lat_dropped: samples lost since LATENCY last emptied @lat
 * @lat: invalidation-to-revalidation times in ns, oldest first
 */
struct edu_imp_file {
	struct list_head node;
	struct xarray imports;
	spinlock_t lat_lock; /* protects the lat_* fields; innermost */
	u32 lat_nr;
	u64 lat_dropped;
	u64 lat[P2PMAP_EDU_IMP_LAT_SLOTS];
};

/**
 * struct edu_imp - the module's single edu device
 * @dev_sem: held for writing by probe and remove, for reading by every
 *	ioctl and by release: while it is held for reading, @attach and @edu
 *	stay as they are and no import is destroyed under an ioctl
 * @dma_lock: serialises users of the edu engine (@edu). Taken inside an
 *	import lock, which the mmu notifier takes from reclaim: nothing under
 *	@dma_lock allocates, faults or takes another lock
 * @files_lock: protects @files
 * @files: open files (struct edu_imp_file.node), so that remove can destroy
 *	their imports before detaching
 * @edu: the bound edu device (@edu.pdev NULL if none)
 * @attach: its p2pmap attachment (P2PMAP_CAP_REVALIDATE), or NULL
 * @pin_attach: its pinned-mode attachment (P2PMAP_CAP_PIN_ONLY), or NULL
 *	if p2pmap refused it (CREATE with P2PMAP_EDU_IMP_F_PIN then fails)
 * @live_imports: imports alive in all files
 */
struct edu_imp {
	struct rw_semaphore dev_sem;
	struct mutex dma_lock; /* the edu engine; innermost, see above */
	struct mutex files_lock; /* protects @files */
	struct list_head files;
	struct edu_dma edu;
	struct p2pmap_attach *attach;
	struct p2pmap_attach *pin_attach;
	atomic_t live_imports;
};

static struct edu_imp edu_imp_state = {
	.dev_sem = __RWSEM_INITIALIZER(edu_imp_state.dev_sem),
	.dma_lock = __MUTEX_INITIALIZER(edu_imp_state.dma_lock),
	.files_lock = __MUTEX_INITIALIZER(edu_imp_state.files_lock),
	.files = LIST_HEAD_INIT(edu_imp_state.files),
	.live_imports = ATOMIC_INIT(0),
};

/*
 * The uapi numbers its policies, reasons and events itself; these tables
 * translate p2pmap's. One that p2pmap adds fails the build here until it
 * has a place in the uapi.
 */
static const enum p2pmap_policy edu_imp_policy[] = {
	[P2PMAP_EDU_IMP_PREFER_P2P]	= P2PMAP_PREFER_P2P,
	[P2PMAP_EDU_IMP_REQUIRE_P2P]	= P2PMAP_REQUIRE_P2P,
	[P2PMAP_EDU_IMP_SYSMEM_ONLY]	= P2PMAP_SYSMEM_ONLY,
};

static const u8 edu_imp_reason[] = {
	[P2PMAP_REASON_NONE]		= P2PMAP_EDU_IMP_REASON_NONE,
	[P2PMAP_REASON_POLICY]		= P2PMAP_EDU_IMP_REASON_POLICY,
	[P2PMAP_REASON_BAR_EXHAUSTED]	= P2PMAP_EDU_IMP_REASON_BAR_EXHAUSTED,
	[P2PMAP_REASON_NO_ROUTE]	= P2PMAP_EDU_IMP_REASON_NO_ROUTE,
	[P2PMAP_REASON_NO_KCONFIG]	= P2PMAP_EDU_IMP_REASON_NO_KCONFIG,
	[P2PMAP_REASON_DMA_MASK]	= P2PMAP_EDU_IMP_REASON_DMA_MASK,
	[P2PMAP_REASON_SYSTEM_PAGE]	= P2PMAP_EDU_IMP_REASON_SYSTEM_PAGE,
};

static const u8 edu_imp_event[] = {
	[P2PMAP_EV_CPU]		= P2PMAP_EDU_IMP_EV_CPU,
	[P2PMAP_EV_EVICT]	= P2PMAP_EDU_IMP_EV_EVICT,
	[P2PMAP_EV_MOVE]	= P2PMAP_EDU_IMP_EV_MOVE,
	[P2PMAP_EV_RESET]	= P2PMAP_EDU_IMP_EV_RESET,
	[P2PMAP_EV_UNBIND]	= P2PMAP_EDU_IMP_EV_UNBIND,
	[P2PMAP_EV_REMAP]	= P2PMAP_EDU_IMP_EV_REMAP,
};

static_assert(ARRAY_SIZE(edu_imp_policy) == P2PMAP_EDU_IMP_SYSMEM_ONLY + 1);
static_assert(ARRAY_SIZE(edu_imp_reason) == P2PMAP_REASON_NR);
static_assert(P2PMAP_EDU_IMP_REASON_NR <= P2PMAP_EDU_IMP_REASON_SLOTS);
static_assert(ARRAY_SIZE(edu_imp_event) == P2PMAP_EV_NR);
static_assert(P2PMAP_EDU_IMP_EV_NR <= P2PMAP_EDU_IMP_EV_SLOTS);

/*
 * The importer's invalidate callback, for both attachments. p2pmap calls it
 * with the import lock held, before it unmaps the extents, and requires
 * that the device has stopped touching them when it returns. This importer
 * never lets the edu touch an import's extents without holding that same
 * lock: a READ or WRITE takes p2pmap_import_lock(), checks
 * p2pmap_import_retry() (or, pinned, @pin_mapped and @revoked), runs every
 * edu command of the transfer to completion (edu_dma_cmd() polls until the
 * engine is idle) and only then unlocks. So an invalidation cannot get here
 * while a transfer is in flight; it waits on the lock until the device is
 * done, and the next transfer sees the retry check fail and maps again (a
 * pinned import sees @revoked and fails). Nothing is left to stop: count
 * the event and note when the import lost its extents. P2PMAP_EV_REMAP is
 * our own map replacing extents that were still valid, not a loss. Called
 * possibly from reclaim: no allocation, no locks.
 */
static void edu_imp_invalidate(struct p2pmap_import *imp, enum p2pmap_event ev)
{
	struct edu_imp_import *e = p2pmap_import_priv(imp);

	if ((unsigned int)ev < ARRAY_SIZE(edu_imp_event))
		atomic64_inc(&e->inval[edu_imp_event[ev]]);
	if (ev == P2PMAP_EV_REMAP)
		return;
	if (!e->inval_ns)
		e->inval_ns = ktime_get_ns();
	if (e->flags & P2PMAP_EDU_IMP_F_PIN) {
		e->pin_mapped = false;
		if (ev == P2PMAP_EV_UNBIND)
			e->revoked = true;
	}
}

static const struct p2pmap_importer_ops edu_imp_ops = {
	.invalidate = edu_imp_invalidate,
};

/* ---- imports ------------------------------------------------------------ */

static void edu_imp_import_release(struct kref *kref)
{
	struct edu_imp_import *e = container_of(kref, struct edu_imp_import, kref);

	/* runs the invalidate callback if extents are mapped: @e still lives */
	p2pmap_import_destroy(e->imp);
	atomic_dec(&edu_imp_state.live_imports);
	mutex_destroy(&e->pin_lock);
	kfree(e);
}

static void edu_imp_import_put(struct edu_imp_import *e)
{
	kref_put(&e->kref, edu_imp_import_release);
}

static struct edu_imp_import *edu_imp_import_get(struct edu_imp_file *f, u32 id)
{
	struct edu_imp_import *e;

	xa_lock(&f->imports);
	e = xa_load(&f->imports, id);
	if (e)
		kref_get(&e->kref);
	xa_unlock(&f->imports);
	if (!e)
		pr_warn_ratelimited("no import with id %u in this file\n", id);
	return e;
}

/*
 * Destroy every import of @f. Caller holds dev_sem (either way). A file may
 * hold a million imports (max_imports_per_file): let others run between
 * them.
 */
static void edu_imp_file_drop_all(struct edu_imp_file *f)
{
	struct edu_imp_import *e;
	unsigned long id;

	xa_for_each(&f->imports, id, e) {
		if (xa_erase(&f->imports, id) == e)
			edu_imp_import_put(e);
		cond_resched();
	}
}

/* ---- DMA ---------------------------------------------------------------- */

/**
 * struct edu_imp_cursor - progress of one transfer through the edu buffer
 * @kbuf: next byte of the kernel bounce copy of the user buffer
 * @total: bytes of the transfer
 * @staged: bytes of @kbuf already moved through the coherent buffer
 * @fill: bytes of the current batch already in (READ) or taken from
 *	(WRITE) the edu's internal buffer
 * @batch: WRITE: bytes of the current batch loaded into the edu buffer
 *
 * READ gathers pieces of the import into the edu buffer and flushes it to
 * the coherent buffer when it is full; WRITE loads a batch into the edu
 * buffer and scatters it over the import. Either way the edu buffer never
 * holds more than EDU_DMA_MAX_LEN bytes.
 */
struct edu_imp_cursor {
	u8 *kbuf;
	u64 total;
	u64 staged;
	u32 fill;
	u32 batch;
};

/* READ: edu buffer -> coherent RAM -> @c->kbuf. */
static int edu_imp_flush(struct edu_imp *st, struct edu_imp_cursor *c)
{
	int ret;

	if (!c->fill)
		return 0;
	ret = edu_dma_cmd(&st->edu, EDU_DMA_BUF_ADDR, st->edu.coh_dma, c->fill,
			  EDU_DMA_CMD_TO_PCI);
	if (ret)
		return ret;
	memcpy(c->kbuf, st->edu.coh, c->fill);
	c->kbuf += c->fill;
	c->staged += c->fill;
	c->fill = 0;
	return 0;
}

/* WRITE: @c->kbuf -> coherent RAM -> edu buffer, the next batch. */
static int edu_imp_load(struct edu_imp *st, struct edu_imp_cursor *c)
{
	u32 n = min_t(u64, EDU_DMA_MAX_LEN, c->total - c->staged);
	int ret;

	memcpy(st->edu.coh, c->kbuf, n);
	ret = edu_dma_cmd(&st->edu, st->edu.coh_dma, EDU_DMA_BUF_ADDR, n, 0);
	if (ret)
		return ret;
	c->kbuf += n;
	c->staged += n;
	c->batch = n;
	c->fill = 0;
	return 0;
}

/* Move @len bytes at device address @addr; caller holds st->dma_lock. */
static int edu_imp_dma_range(struct edu_imp *st, struct edu_imp_cursor *c,
			     dma_addr_t addr, u64 len, bool write)
{
	int ret;

	while (len) {
		u32 n;

		if (write) {
			if (c->fill == c->batch) {
				ret = edu_imp_load(st, c);
				if (ret)
					return ret;
			}
			n = min_t(u64, len, c->batch - c->fill);
			ret = edu_dma_cmd(&st->edu, EDU_DMA_BUF_ADDR + c->fill,
					  addr, n, EDU_DMA_CMD_TO_PCI);
		} else {
			n = min_t(u64, len, EDU_DMA_MAX_LEN - c->fill);
			ret = edu_dma_cmd(&st->edu, addr,
					  EDU_DMA_BUF_ADDR + c->fill, n, 0);
		}
		if (ret)
			return ret;
		c->fill += n;
		addr += n;
		len -= n;
		if (!write && c->fill == EDU_DMA_MAX_LEN) {
			ret = edu_imp_flush(st, c);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Whether the edu may use @x for this transfer; else an errno and a reason. */
static int edu_imp_extent_usable(const struct p2pmap_extent *x, bool write)
{
	switch (x->type) {
	case P2PMAP_EXT_P2P:
	case P2PMAP_EXT_SYSMEM:
		break;
	case P2PMAP_EXT_ERROR:
		pr_warn_ratelimited("range holds an error extent (%d, reason %u)\n",
				    x->error, x->reason);
		return x->error < 0 ? x->error : -EIO;
	default:
		pr_warn_ratelimited("range holds an extent of unknown type %u\n",
				    x->type);
		return -EIO;
	}
	if (x->dma_addr == DMA_MAPPING_ERROR) {
		pr_warn_ratelimited("extent has no DMA address\n");
		return -EIO;
	}
	if (write && !(x->flags & P2PMAP_EXT_F_WRITE)) {
		pr_warn_ratelimited("extent is not writable (no P2PMAP_EXT_F_WRITE)\n");
		return -EPERM;
	}
	return 0;
}

/*
 * Move the import's bytes [@off, @off + @len) to (READ) or from (WRITE)
 * @kbuf with the edu. Caller holds the import lock and has just seen
 * p2pmap_import_retry() return false, so the extents are valid and stay
 * valid until it unlocks: an invalidation waits on that lock (see
 * edu_imp_invalidate()). The extents are contiguous in VA order from the
 * import's start; a transfer is split at their boundaries.
 */
static int edu_imp_dma_locked(struct edu_imp *st, struct edu_imp_import *e,
			      u64 off, u64 len, u8 *kbuf, bool write)
{
	/*
	 * Sync in the direction the core mapped the import with
	 * (p2pmap_chunk_dma_map(): bidirectional for writable imports), as
	 * the DMA API requires. Another direction also breaks dma-debug when
	 * two imports map one page: it finds two entries, neither an exact
	 * fit, and reports the sync as of memory never mapped.
	 */
	enum dma_data_direction dir = (e->flags & P2PMAP_EDU_IMP_F_WRITE) ?
				      DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	struct device *dev = &st->edu.pdev->dev;
	struct edu_imp_cursor c = {
		.kbuf = kbuf,
		.total = len,
	};
	const struct p2pmap_extent *ext;
	u64 ext_off = 0;
	unsigned int nr, i;
	int ret = 0;

	ext = p2pmap_import_extents(e->imp, &nr);
	mutex_lock(&st->dma_lock);
	for (i = 0; i < nr && len; i++) {
		const struct p2pmap_extent *x = &ext[i];
		u64 xlen = (u64)x->npages << PAGE_SHIFT;
		bool sync = x->type == P2PMAP_EXT_SYSMEM;
		u64 in, n;

		if (off >= ext_off + xlen) {
			ext_off += xlen;
			continue;
		}
		ret = edu_imp_extent_usable(x, write);
		if (ret)
			break;
		in = off - ext_off;
		n = min(len, xlen - in);
		/*
		 * System pages are streaming mappings the core made for the
		 * edu: hand them to the device and back around its access.
		 * P2P extents are BAR addresses, not subject to syncs.
		 */
		if (sync)
			dma_sync_single_for_device(dev, x->dma_addr, xlen, dir);
		ret = edu_imp_dma_range(st, &c, x->dma_addr + in, n, write);
		if (sync)
			dma_sync_single_for_cpu(dev, x->dma_addr, xlen, dir);
		if (ret)
			break;
		off += n;
		len -= n;
		ext_off += xlen;
	}
	if (!ret && !write)
		ret = edu_imp_flush(st, &c);
	mutex_unlock(&st->dma_lock);
	if (!ret && len) {
		pr_warn_ratelimited("extents cover %llu bytes, short of offset %llu + %llu\n",
				    ext_off, off, len);
		ret = -EIO;
	}
	return ret;
}

/*
 * A successful map of @e at @now: record the invalidation-to-revalidation
 * time if the import lost its extents since the last one. Caller holds the
 * import lock, which also protects @e->inval_ns.
 */
static void edu_imp_note_mapped_locked(struct edu_imp_import *e, u64 now)
{
	struct edu_imp_file *f = e->file;

	if (!e->inval_ns)
		return;
	if (!now)	/* an untimed MAP */
		now = ktime_get_ns();
	spin_lock(&f->lat_lock);
	if (f->lat_nr < P2PMAP_EDU_IMP_LAT_SLOTS)
		f->lat[f->lat_nr++] = now - e->inval_ns;
	else
		f->lat_dropped++;
	spin_unlock(&f->lat_lock);
	e->inval_ns = 0;
}

/**
 * struct edu_imp_rounds - what one validation of an import cost
 * @rounds: p2pmap_import_map_and_lock() calls made
 * @map_ns: ktime of the successful round (0 if no map was needed)
 * @total_ns: ktime from the first round to success
 * @untimed: (in) read no clock: @map_ns and @total_ns stay 0
 */
struct edu_imp_rounds {
	u32 rounds;
	u64 map_ns;
	u64 total_ns;
	bool untimed;
};

/* The time for @r, or 0 when the caller asked for no clock reads. */
static u64 edu_imp_clock(const struct edu_imp_rounds *r)
{
	return r->untimed ? 0 : ktime_get_ns();
}

/*
 * Make @e's extents valid for the edu, through p2pmap's sequence protocol:
 *
 *	begin; if the extents from an earlier map are still valid (and
 *	@force is false), use them; else map (-EAGAIN: start over), lock,
 *	retry check (true: unlock and start over).
 *
 * With @force every round maps, replacing extents that are still valid.
 *
 * Returns 0 with the import lock held and the extents valid until the
 * caller unlocks, or an errno with the lock not held. Bounded: after
 * EDU_IMP_MAX_ROUNDS rounds it gives up with -EBUSY.
 */
static int edu_imp_validate(struct edu_imp_import *e, bool force,
			    struct edu_imp_rounds *r)
{
	struct p2pmap_seq seq;
	unsigned int round;
	u64 t0, now, start = 0;
	int ret;

	for (round = 0; round < EDU_IMP_MAX_ROUNDS; round++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		t0 = edu_imp_clock(r);
		seq = p2pmap_import_begin(e->imp);

		/*
		 * Still mapped and nothing invalidated since: no map call,
		 * unless the caller wants a new mapping (every round then),
		 * or nothing was ever mapped (a new import: map at once).
		 */
		if (!force && READ_ONCE(e->mapped_once)) {
			p2pmap_import_lock(e->imp);
			if (!p2pmap_import_retry(e->imp, &seq)) {
				__release(e->imp);	/* the caller's */
				return 0;
			}
			p2pmap_import_unlock(e->imp);
			/* invalidated since it was mapped: map again */
			atomic64_inc(&e->retry_true);
		}

		if (!r->rounds)
			start = t0;
		r->rounds++;
		atomic64_inc(&e->map_calls);
		/* Success returns locked, with the extents valid. */
		ret = p2pmap_import_map_and_lock(e->imp, &seq);
		if (ret) {
			if (ret != -EAGAIN)
				return ret;
			atomic64_inc(&e->map_eagain);
			continue;
		}
		now = edu_imp_clock(r);
		r->map_ns = now - t0;
		r->total_ns = now - start;
		edu_imp_note_mapped_locked(e, now);
		WRITE_ONCE(e->mapped_once, true);
		__release(e->imp);	/* the caller's: see EDU_IMP_LOCKED_IF_0() */
		return 0;
	}
	pr_warn_ratelimited("import at 0x%llx: still invalidated after %u rounds; giving up\n",
			    e->va, EDU_IMP_MAX_ROUNDS);
	return -EBUSY;
}

/*
 * For sparse's lock context checking: edu_imp_validate() and
 * edu_imp_validate_pinned() return 0 with the import lock held, as
 * p2pmap_import_map_and_lock() does (see its wrapper in <linux/p2pmap.h>);
 * they hand that context to their caller here, and release it for sparse
 * in their own bodies, where the paths to their one exit must agree.
 */
#ifdef __CHECKER__
#define EDU_IMP_LOCKED_IF_0(imp, call) ({				\
	int __edu_ret = (call);						\
									\
	if (!__edu_ret)							\
		__acquire(imp);						\
	__edu_ret;							\
})
#define edu_imp_validate(e, force, r) ({				\
	struct edu_imp_import *__edu_e = (e);				\
									\
	EDU_IMP_LOCKED_IF_0(__edu_e->imp,				\
			    (edu_imp_validate)(__edu_e, force, r));	\
})
#endif

/*
 * The same for a pinned import: map (pin) it once, then keep using those
 * extents until destroy. No retry check once pinned: p2pmap never
 * revalidates a pinned import; the only invalidations it raises for one
 * are exporter events that take the memory back, which clear @pin_mapped
 * (P2PMAP_EV_RESET: pin again on the next use) or set @revoked
 * (P2PMAP_EV_UNBIND: -ENODEV from then on) in edu_imp_invalidate(), under
 * the import lock, which this checks with the lock held. @pin_lock makes
 * concurrent first uses map once; it is taken outside every p2pmap lock and
 * never by an invalidation.
 */
static int edu_imp_validate_pinned(struct edu_imp_import *e,
				   struct edu_imp_rounds *r)
{
	bool revoked;
	int ret;

	p2pmap_import_lock(e->imp);
	if (!e->revoked && e->pin_mapped) {
		__release(e->imp);	/* the caller's */
		return 0;
	}
	p2pmap_import_unlock(e->imp);

	mutex_lock(&e->pin_lock);
	p2pmap_import_lock(e->imp);
	revoked = e->revoked;
	if (!revoked && e->pin_mapped) {
		mutex_unlock(&e->pin_lock);
		__release(e->imp);	/* the caller's */
		return 0;
	}
	p2pmap_import_unlock(e->imp);
	if (!revoked) {
		ret = edu_imp_validate(e, false, r);
		if (ret) {
			mutex_unlock(&e->pin_lock);
			return ret;
		}
		/* import lock held */
		revoked = e->revoked;
		if (!revoked) {
			e->pin_mapped = true;
			__release(e->imp);	/* the caller's */
		} else {
			p2pmap_import_unlock(e->imp);
		}
	}
	mutex_unlock(&e->pin_lock);
	if (!revoked)
		return 0;
	pr_warn_ratelimited("pinned import at 0x%llx was revoked (exporter unbound)\n",
			    e->va);
	return -ENODEV;
}

#ifdef __CHECKER__
#define edu_imp_validate_pinned(e, r) ({				\
	struct edu_imp_import *__edu_p = (e);				\
									\
	EDU_IMP_LOCKED_IF_0(__edu_p->imp,				\
			    (edu_imp_validate_pinned)(__edu_p, r));	\
})
#endif

/*
 * One READ or WRITE: validate the extents, then DMA with the import lock
 * held, then unlock.
 */
static int edu_imp_transfer(struct edu_imp *st, struct edu_imp_import *e,
			    u64 off, u64 len, u8 *kbuf, bool write)
{
	struct edu_imp_rounds r = {};
	int ret;

	/* (each checked on its own, so that sparse follows the lock) */
	if (e->flags & P2PMAP_EDU_IMP_F_PIN) {
		ret = edu_imp_validate_pinned(e, &r);
		if (ret)
			return ret;
	} else {
		ret = edu_imp_validate(e, false, &r);
		if (ret)
			return ret;
	}
	ret = edu_imp_dma_locked(st, e, off, len, kbuf, write);
	p2pmap_import_unlock(e->imp);
	return ret;
}

/* ---- ioctls (all with dev_sem held for reading) ------------------------- */

static long edu_imp_ioctl_status(struct edu_imp *st,
				 struct p2pmap_edu_imp_status __user *uarg)
{
	struct p2pmap_edu_imp_status s;

	memset(&s, 0, sizeof(s));
	s.abi_version = P2PMAP_EDU_IMP_ABI_VERSION;
	s.live_imports = atomic_read(&st->live_imports);
	if (st->edu.pdev) {
		s.flags |= P2PMAP_EDU_IMP_S_BOUND;
		strscpy(s.edu, pci_name(st->edu.pdev), sizeof(s.edu));
	}
	if (st->attach)
		s.flags |= P2PMAP_EDU_IMP_S_ATTACHED;
	mutex_lock(&st->dma_lock);
	if (st->edu.wedged)
		s.flags |= P2PMAP_EDU_IMP_S_WEDGED;
	s.dma_count = st->edu.dma_count;
	mutex_unlock(&st->dma_lock);
	return copy_to_user(uarg, &s, sizeof(s)) ? -EFAULT : 0;
}

static int edu_imp_check_create(const struct p2pmap_edu_imp_create *c)
{
	const char *why = NULL;

	if (c->reserved)
		why = "reserved field is not 0";
	else if (c->flags & ~P2PMAP_EDU_IMP_F_ALL)
		why = "unknown flags";
	else if (c->policy > P2PMAP_EDU_IMP_SYSMEM_ONLY)
		why = "unknown policy";
	else if (!c->len)
		why = "empty range";
	else if (!PAGE_ALIGNED(c->va) || !PAGE_ALIGNED(c->len))
		why = "range not page-aligned";
	else if (c->len > P2PMAP_EDU_IMP_MAX_IMPORT)
		why = "range longer than P2PMAP_EDU_IMP_MAX_IMPORT";
	else if (c->va + c->len < c->va || c->va + c->len > TASK_SIZE)
		why = "range outside the user address space";
	if (why) {
		pr_warn_ratelimited("CREATE 0x%llx+0x%llx policy %u flags %#x: %s\n",
				    c->va, c->len, c->policy, c->flags, why);
		return -EINVAL;
	}
	return 0;
}

static long edu_imp_ioctl_create(struct edu_imp *st, struct edu_imp_file *f,
				 struct p2pmap_edu_imp_create __user *uarg)
{
	struct p2pmap_edu_imp_create c;
	struct p2pmap_attach *attach;
	struct edu_imp_import *e;
	struct p2pmap_import *imp;
	u32 id;
	int ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	ret = edu_imp_check_create(&c);
	if (ret)
		return ret;
	if (!current->mm)
		return -EINVAL;
	if (!st->attach) {
		pr_warn_ratelimited("CREATE: no edu (1234:11e8) device bound\n");
		return -ENODEV;
	}
	attach = st->attach;
	if (c.flags & P2PMAP_EDU_IMP_F_PIN) {
		if (!st->pin_attach) {
			pr_warn_ratelimited("CREATE: P2PMAP_EDU_IMP_F_PIN but p2pmap refused the pinned-mode attachment (see the probe message)\n");
			return -EOPNOTSUPP;
		}
		attach = st->pin_attach;
	}

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	kref_init(&e->kref);
	e->file = f;
	mutex_init(&e->pin_lock);
	e->va = c.va;
	e->len = c.len;
	e->policy = c.policy;
	e->flags = c.flags;
	imp = p2pmap_import_create(attach, current->mm, c.va, c.len,
				   edu_imp_policy[array_index_nospec(c.policy,
						ARRAY_SIZE(edu_imp_policy))],
				   c.flags & P2PMAP_EDU_IMP_F_WRITE, e);
	if (IS_ERR(imp)) {
		mutex_destroy(&e->pin_lock);
		kfree(e);
		return PTR_ERR(imp);
	}
	e->imp = imp;
	atomic_inc(&st->live_imports);

	ret = xa_alloc(&f->imports, &id, e,
		       XA_LIMIT(1, edu_imp_max_per_file), GFP_KERNEL);
	if (ret) {
		if (ret == -EBUSY) {
			pr_warn_ratelimited("CREATE: %u imports in this file already (module parameter max_imports_per_file)\n",
					    edu_imp_max_per_file);
			ret = -ENOSPC;
		}
		edu_imp_import_put(e);
		return ret;
	}
	if (put_user(id, &uarg->id)) {
		if (xa_erase(&f->imports, id) == e)
			edu_imp_import_put(e);
		return -EFAULT;
	}
	return 0;
}

static long edu_imp_ioctl_destroy(struct edu_imp_file *f,
				  struct p2pmap_edu_imp_destroy __user *uarg)
{
	struct p2pmap_edu_imp_destroy d;
	struct edu_imp_import *e;

	if (copy_from_user(&d, uarg, sizeof(d)))
		return -EFAULT;
	if (d.reserved) {
		pr_warn_ratelimited("DESTROY: reserved field is not 0\n");
		return -EINVAL;
	}
	e = xa_erase(&f->imports, d.id);
	if (!e) {
		pr_warn_ratelimited("DESTROY: no import with id %u in this file\n",
				    d.id);
		return -EINVAL;
	}
	edu_imp_import_put(e);
	return 0;
}

static long edu_imp_ioctl_info(struct edu_imp_file *f,
			       struct p2pmap_edu_imp_info __user *uarg)
{
	struct p2pmap_edu_imp_info in;
	struct p2pmap_placement pl;
	struct edu_imp_import *e;
	unsigned int nr, i;
	u32 id;

	if (get_user(id, &uarg->id))
		return -EFAULT;
	e = edu_imp_import_get(f, id);
	if (!e)
		return -EINVAL;

	memset(&in, 0, sizeof(in));
	in.id = id;
	in.va = e->va;
	in.len = e->len;
	in.policy = e->policy;
	in.flags = e->flags;
	p2pmap_import_placement(e->imp, &pl);
	p2pmap_import_lock(e->imp);
	p2pmap_import_extents(e->imp, &nr);
	p2pmap_import_unlock(e->imp);
	in.nr_extents = nr;
	in.p2p_pages = pl.p2p_pages;
	in.sysmem_pages = pl.sysmem_pages;
	in.error_pages = pl.error_pages;
	for (i = 0; i < P2PMAP_REASON_NR; i++)
		in.reason_pages[edu_imp_reason[i]] += pl.reason_pages[i];
	in.map_calls = atomic64_read(&e->map_calls);
	in.map_eagain = atomic64_read(&e->map_eagain);
	in.retry_true = atomic64_read(&e->retry_true);
	in.xfers = atomic64_read(&e->xfers);
	for (i = 0; i < P2PMAP_EDU_IMP_EV_NR; i++)
		in.invalidations[i] = atomic64_read(&e->inval[i]);
	edu_imp_import_put(e);

	return copy_to_user(uarg, &in, sizeof(in)) ? -EFAULT : 0;
}

static long edu_imp_ioctl_xfer(struct edu_imp *st, struct edu_imp_file *f,
			       struct p2pmap_edu_imp_xfer __user *uarg,
			       bool write)
{
	const char *op = write ? "WRITE" : "READ";
	struct p2pmap_edu_imp_xfer x;
	struct edu_imp_import *e;
	void __user *ubuf;
	u8 *kbuf;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.reserved) {
		pr_warn_ratelimited("%s: reserved field is not 0\n", op);
		return -EINVAL;
	}
	if (!x.len || x.len > P2PMAP_EDU_IMP_MAX_XFER) {
		pr_warn_ratelimited("%s: length %llu not in 1..%u\n",
				    op, x.len, P2PMAP_EDU_IMP_MAX_XFER);
		return -EINVAL;
	}
	e = edu_imp_import_get(f, x.id);
	if (!e)
		return -EINVAL;
	if (x.offset >= e->len || x.len > e->len - x.offset) {
		pr_warn_ratelimited("%s: offset %llu + %llu outside import %u of %llu bytes\n",
				    op, x.offset, x.len, x.id, e->len);
		ret = -EINVAL;
		goto out_put;
	}
	if (write && !(e->flags & P2PMAP_EDU_IMP_F_WRITE)) {
		pr_warn_ratelimited("WRITE: import %u was created without P2PMAP_EDU_IMP_F_WRITE\n",
				    x.id);
		ret = -EPERM;
		goto out_put;
	}

	ubuf = u64_to_user_ptr(x.buf);
	/* User-sized: fail with -ENOMEM rather than warn. */
	kbuf = kvmalloc(x.len, GFP_KERNEL | __GFP_NOWARN);
	if (!kbuf) {
		ret = -ENOMEM;
		goto out_put;
	}
	/* User copies happen outside the import lock: they may fault. */
	if (write && copy_from_user(kbuf, ubuf, x.len)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = edu_imp_transfer(st, e, x.offset, x.len, kbuf, write);
	if (!ret && !write && copy_to_user(ubuf, kbuf, x.len))
		ret = -EFAULT;
	if (!ret)
		atomic64_inc(&e->xfers);
out_free:
	kvfree(kbuf);
out_put:
	edu_imp_import_put(e);
	return ret;
}

static long edu_imp_ioctl_map(struct edu_imp_file *f,
			      struct p2pmap_edu_imp_map __user *uarg)
{
	/*
	 * Filled in whole (copy_from_user(), p2pmap_import_placement_locked())
	 * before use: not cleared on every call by CONFIG_INIT_STACK_ALL_ZERO.
	 */
	struct p2pmap_edu_imp_map m __uninitialized;
	struct p2pmap_placement pl __uninitialized;
	struct edu_imp_rounds r = {};
	struct edu_imp_import *e;
	bool force;
	int ret;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (m.flags & ~P2PMAP_EDU_IMP_MAP_F_ALL) {
		pr_warn_ratelimited("MAP: unknown flags %#x\n", m.flags);
		return -EINVAL;
	}
	force = m.flags & P2PMAP_EDU_IMP_MAP_F_FORCE;
	r.untimed = m.flags & P2PMAP_EDU_IMP_MAP_F_UNTIMED;
	e = edu_imp_import_get(f, m.id);
	if (!e)
		return -EINVAL;
	if ((e->flags & P2PMAP_EDU_IMP_F_PIN) && force) {
		pr_warn_ratelimited("MAP: import %u is pinned: mapped once, P2PMAP_EDU_IMP_MAP_F_FORCE refused\n",
				    m.id);
		edu_imp_import_put(e);
		return -EINVAL;
	}
	/* (each checked on its own, so that sparse follows the lock) */
	if (e->flags & P2PMAP_EDU_IMP_F_PIN) {
		ret = edu_imp_validate_pinned(e, &r);
		if (ret) {
			edu_imp_import_put(e);
			return ret;
		}
	} else {
		ret = edu_imp_validate(e, force, &r);
		if (ret) {
			edu_imp_import_put(e);
			return ret;
		}
	}
	/* The extents and their placement as validated, in one section. */
	p2pmap_import_extents(e->imp, &m.nr_extents);
	p2pmap_import_placement_locked(e->imp, &pl);
	p2pmap_import_unlock(e->imp);
	m.rounds = r.rounds;
	m.map_ns = r.map_ns;
	m.total_ns = r.total_ns;
	m.p2p_pages = pl.p2p_pages;
	m.sysmem_pages = pl.sysmem_pages;
	m.error_pages = pl.error_pages;
	ret = copy_to_user(uarg, &m, sizeof(m)) ? -EFAULT : 0;
	edu_imp_import_put(e);
	return ret;
}

static long edu_imp_ioctl_latency(struct edu_imp_file *f,
				  struct p2pmap_edu_imp_latency __user *uarg)
{
	struct p2pmap_edu_imp_latency *l;
	u32 flags;
	int ret;

	if (get_user(flags, &uarg->flags))
		return -EFAULT;
	if (flags) {
		pr_warn_ratelimited("LATENCY: flags %#x, must be 0\n", flags);
		return -EINVAL;
	}
	/* Before taking the samples: a failure here loses none. */
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return -ENOMEM;
	spin_lock(&f->lat_lock);
	l->nr = f->lat_nr;
	l->dropped = f->lat_dropped;
	memcpy(l->ns, f->lat, f->lat_nr * sizeof(l->ns[0]));
	f->lat_nr = 0;
	f->lat_dropped = 0;
	spin_unlock(&f->lat_lock);
	ret = copy_to_user(uarg, l, sizeof(*l)) ? -EFAULT : 0;
	kfree(l);
	return ret;
}

static long edu_imp_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct edu_imp_file *f = file->private_data;
	struct edu_imp *st = &edu_imp_state;
	void __user *uarg = (void __user *)arg;
	long ret;

	down_read(&st->dev_sem);
	switch (cmd) {
	case P2PMAP_EDU_IMP_IOC_STATUS:
		ret = edu_imp_ioctl_status(st, uarg);
		break;
	case P2PMAP_EDU_IMP_IOC_CREATE:
		ret = edu_imp_ioctl_create(st, f, uarg);
		break;
	case P2PMAP_EDU_IMP_IOC_DESTROY:
		ret = edu_imp_ioctl_destroy(f, uarg);
		break;
	case P2PMAP_EDU_IMP_IOC_INFO:
		ret = edu_imp_ioctl_info(f, uarg);
		break;
	case P2PMAP_EDU_IMP_IOC_READ:
		ret = edu_imp_ioctl_xfer(st, f, uarg, false);
		break;
	case P2PMAP_EDU_IMP_IOC_WRITE:
		ret = edu_imp_ioctl_xfer(st, f, uarg, true);
		break;
	case P2PMAP_EDU_IMP_IOC_MAP:
		ret = edu_imp_ioctl_map(f, uarg);
		break;
	case P2PMAP_EDU_IMP_IOC_LATENCY:
		ret = edu_imp_ioctl_latency(f, uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	up_read(&st->dev_sem);
	return ret;
}

static int edu_imp_open(struct inode *inode, struct file *file)
{
	struct edu_imp *st = &edu_imp_state;
	struct edu_imp_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	xa_init_flags(&f->imports, XA_FLAGS_ALLOC1);
	spin_lock_init(&f->lat_lock);
	mutex_lock(&st->files_lock);
	list_add_tail(&f->node, &st->files);
	mutex_unlock(&st->files_lock);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

/* Also runs when a killed process's files are closed: nothing leaks. */
static int edu_imp_release(struct inode *inode, struct file *file)
{
	struct edu_imp_file *f = file->private_data;
	struct edu_imp *st = &edu_imp_state;

	down_read(&st->dev_sem);
	mutex_lock(&st->files_lock);
	list_del(&f->node);
	mutex_unlock(&st->files_lock);
	edu_imp_file_drop_all(f);
	up_read(&st->dev_sem);
	xa_destroy(&f->imports);
	kfree(f);
	return 0;
}

static const struct file_operations edu_imp_fops = {
	.owner = THIS_MODULE,
	.open = edu_imp_open,
	.release = edu_imp_release,
	.unlocked_ioctl = edu_imp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice edu_imp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = P2PMAP_EDU_IMP_DEVNAME,
	.fops = &edu_imp_fops,
	.mode = 0600,
};

/* ---- the edu PCI driver ------------------------------------------------- */

static int edu_imp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_imp *st = &edu_imp_state;
	struct p2pmap_attach *attach;
	int ret;

	down_write(&st->dev_sem);
	if (st->edu.pdev) {
		pci_dbg(pdev, "edu %s already bound\n", pci_name(st->edu.pdev));
		ret = -ENODEV;
		goto out;
	}
	ret = edu_dma_probe(&st->edu, pdev, KBUILD_MODNAME);
	if (ret)
		goto out;
	/* after edu_dma_probe(): p2pmap records the 64-bit DMA mask */
	attach = p2pmap_attach(&pdev->dev, &edu_imp_ops, P2PMAP_CAP_REVALIDATE);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		pci_err(pdev, "p2pmap_attach: %d\n", ret);
		edu_dma_remove(&st->edu);
		goto out;
	}
	st->attach = attach;
	/*
	 * The pinned-mode attachment is optional: without it everything
	 * but P2PMAP_EDU_IMP_F_PIN works, and CREATE says why that fails.
	 */
	attach = p2pmap_attach(&pdev->dev, &edu_imp_ops, P2PMAP_CAP_PIN_ONLY);
	if (IS_ERR(attach)) {
		pci_notice(pdev, "p2pmap_attach(P2PMAP_CAP_PIN_ONLY): %ld; no pinned imports\n",
			   PTR_ERR(attach));
		attach = NULL;
	}
	st->pin_attach = attach;
	pci_info(pdev, "p2pmap importer /dev/%s%s\n", P2PMAP_EDU_IMP_DEVNAME,
		 st->pin_attach ? " (pinned mode too)" : "");
out:
	up_write(&st->dev_sem);
	return ret;
}

static void edu_imp_remove(struct pci_dev *pdev)
{
	struct edu_imp *st = &edu_imp_state;
	struct edu_imp_file *f;

	down_write(&st->dev_sem);
	if (st->edu.pdev == pdev) {
		/*
		 * No ioctl is running (they hold dev_sem): every import's only
		 * reference is its file's, so this destroys them all, and the
		 * attachment has no imports left when it is detached.
		 */
		mutex_lock(&st->files_lock);
		list_for_each_entry(f, &st->files, node)
			edu_imp_file_drop_all(f);
		mutex_unlock(&st->files_lock);
		p2pmap_detach(st->pin_attach);
		st->pin_attach = NULL;
		p2pmap_detach(st->attach);
		st->attach = NULL;
		mutex_lock(&st->dma_lock);
		edu_dma_remove(&st->edu);
		mutex_unlock(&st->dma_lock);
	}
	up_write(&st->dev_sem);
}

/* Deliberately no MODULE_DEVICE_TABLE: never autoload for a real device. */
static const struct pci_device_id edu_imp_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};

static struct pci_driver edu_imp_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_imp_ids,
	.probe = edu_imp_probe,
	.remove = edu_imp_remove,
};

static int __init edu_imp_init(void)
{
	int ret;

	ret = pci_register_driver(&edu_imp_driver);
	if (ret)
		return ret;
	ret = misc_register(&edu_imp_misc);
	if (ret)
		pci_unregister_driver(&edu_imp_driver);
	return ret;
}
module_init(edu_imp_init);

static void __exit edu_imp_exit(void)
{
	misc_deregister(&edu_imp_misc);
	pci_unregister_driver(&edu_imp_driver);
}
module_exit(edu_imp_exit);

MODULE_DESCRIPTION("p2pmap test: importer driving the QEMU edu DMA engine");
MODULE_LICENSE("GPL");
