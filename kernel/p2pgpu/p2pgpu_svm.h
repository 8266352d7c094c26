/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgpu shared virtual memory, internal interface between the device
 * memory (p2pgpu_devmem.c: the MEMORY_DEVICE_PRIVATE pagemap, its page
 * allocator, the copies in and out of device memory, migrate_to_ram() and
 * the window placement of device-private pages) and the device page table
 * (p2pgpu_svm.c: the per-file mirror and the SVM ioctls). Only built with
 * CONFIG_DEVICE_PRIVATE and CONFIG_HMM_MIRROR.
 */
#ifndef _P2PGPU_SVM_H
#define _P2PGPU_SVM_H

#include <linux/atomic.h>
#include <linux/llist.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct migrate_vma;
struct p2pgpu_device;
struct resource;

/**
 * DOC: p2pgpu SVM locking and lifetime
 *
 * Device memory: &p2pgpu_svm.pagemap is created at the first migration to
 * the device (under &p2pgpu_svm.grow_lock) and torn down at PCI remove by
 * p2pgpu_devmem_fini(), which first migrates every device-private page
 * back to system memory (migrate_device_range()), so memunmap_pages(),
 * which waits for every page reference, returns. Free device pages are a
 * list through &page.zone_device_data under the &p2pgpu_svm.free_lock
 * spinlock, because &dev_pagemap_ops.page_free may run in atomic context
 * (it is called by the final put_page(), e.g. under a page-table lock).
 * Device-memory accounting is shared with buffer objects: a page is
 * reserved (&p2pgpu_svm.used) under &p2pgpu_device.lock, against
 * &p2pgpu_device.vram_used, and released without it in page_free (a
 * release only makes room, so it needs no lock).
 *
 * A device page's state (&struct p2pgpu_dpage: its backing page, when it
 * was migrated, its window slot) belongs to whoever holds the page: the
 * migration that locked it (migrate_vma_setup() locks every page it
 * collects) or, for the window slot, &p2pgpu_device.lock. page_free()
 * does not take that mutex; a page freed while it still holds a window
 * slot is handed to &p2pgpu_svm.free_work, which releases the slot under
 * the device lock before the page is reused.
 *
 * Mirror (p2pgpu_svm.c): each DRM file that uses SVM has one
 * &struct p2pgpu_mirror for the mm of the process that first used it.
 * &p2pgpu_mirror.op_lock serialises its ioctls; &p2pgpu_mirror.lock
 * protects its page table and is taken by the mmu interval notifier.
 * Lock order: op_lock -> mmap_lock (read) -> &p2pgpu_device.lock ->
 * &p2pgpu_mirror.lock. The device lock comes before the mirror lock
 * because buffer-object evictions zap CPU mappings under the device lock,
 * which runs the notifier; so nothing takes the device lock with a mirror
 * lock held.
 *
 * Notifier filtering: p2pmap's pagemap owner is shared by every provider,
 * so an MMU_NOTIFY_MIGRATE event with that owner may be another GPU's (or
 * a CPU fault's) migration. The mirror skips an event only when it is its
 * own: the migration in flight on the mirror was started by the current
 * task and covers the event's range (&p2pgpu_mirror.migr_task, recorded
 * under the mirror lock for the duration of migrate_vma_setup() to
 * migrate_vma_finalize()). Importers' notifiers never filter.
 */

/**
 * struct p2pgpu_dpage - state of one device-private page
 * @backing: the kernel page that holds its data (the simulated device
 *	memory), allocated when the page is handed out, freed in page_free.
 * @stamp: jiffies when its data last migrated to the device (minimum
 *	residency).
 * @slot: window slot holding its current data, or P2PGPU_NO_SLOT.
 * @dead: freed while it held a window slot; waits for
 *	&p2pgpu_svm.free_work.
 * @keep: being resolved by the current p2p_map_pages() call (under
 *	&p2pgpu_device.lock): not an eviction victim for it.
 * @free_node: link in &p2pgpu_svm.free_deferred.
 */
struct p2pgpu_dpage {
	struct page *backing;
	u64 stamp;
	u32 slot;
	bool dead;
	bool keep;
	struct llist_node free_node;
};

/**
 * struct p2pgpu_svm - device-private memory of one device
 * @gdev: the device.
 * @pagemap: the MEMORY_DEVICE_PRIVATE pagemap of the whole device memory.
 * @res: the physical range reserved for @pagemap.
 * @grow_lock: serialises creation and teardown of @pagemap.
 * @live: @pagemap is mapped (set under @grow_lock, read with READ_ONCE).
 * @removing: the device is being removed: pages are not reused.
 * @free_lock: protects @free_pages and the @dpages slots of free pages.
 * @free_pages: free device pages, linked through zone_device_data.
 * @first_pfn: pfn of the first page of @pagemap.
 * @npages: pages in @pagemap.
 * @dpages: @npages page states.
 * @used: device pages reserved or holding data.
 * @residency: minimum residency in jiffies.
 * @residency_ms: the same in milliseconds.
 * @free_deferred: pages freed while they held a window slot.
 * @free_work: releases their slots under the device lock.
 * @to_device: counter, see &struct drm_p2pgpu_svm_info.
 * @to_system: counter.
 * @cpu_faults: counter.
 * @residency_refusals: counter.
 * @nomem: counter.
 * @placements: counter (window placements of device-private pages).
 * @evictions: counter (window evictions of device-private pages).
 * @fallbacks: counter (pages a peer could not map through the window).
 */
struct p2pgpu_svm {
	struct p2pgpu_device *gdev;
	struct dev_pagemap pagemap;
	struct resource *res;
	struct mutex grow_lock; /* pagemap creation and teardown */
	bool live;
	bool removing;
	spinlock_t free_lock; /* free list; taken from page_free */
	struct page *free_pages;
	unsigned long first_pfn;
	unsigned long npages;
	struct p2pgpu_dpage *dpages;
	atomic_long_t used;
	u64 residency;
	unsigned int residency_ms;
	struct llist_head free_deferred;
	struct work_struct free_work;
	atomic64_t to_device;
	atomic64_t to_system;
	atomic64_t cpu_faults;
	atomic64_t residency_refusals;
	atomic64_t nomem;
	atomic64_t placements;
	atomic64_t evictions;
	atomic64_t fallbacks;
};

/* Per-call outcome of a migration, see &struct drm_p2pgpu_svm_migrate. */
struct p2pgpu_mig_count {
	unsigned long moved;
	unsigned long skipped;
	unsigned long busy;
	unsigned long nomem;
	unsigned long failed;
};

void *p2pgpu_devmem_owner(void);
bool p2pgpu_devmem_is_ours(struct p2pgpu_device *gdev, struct page *page);
struct p2pgpu_dpage *p2pgpu_devmem_dpage(struct page *page);
int p2pgpu_devmem_fill_device(struct p2pgpu_device *gdev,
			      struct migrate_vma *args,
			      struct p2pgpu_mig_count *cnt);
void p2pgpu_devmem_fill_system(struct p2pgpu_device *gdev,
			       struct migrate_vma *args, bool residency,
			       struct p2pgpu_mig_count *cnt);
void p2pgpu_devmem_abort_device(struct migrate_vma *args);
void p2pgpu_devmem_unplace_locked(struct p2pgpu_device *gdev,
				  struct page *page, bool copy);
void p2pgpu_devmem_read(struct p2pgpu_device *gdev, struct page *page,
			void *dst);
void p2pgpu_devmem_write(struct p2pgpu_device *gdev, struct page *page,
			 const void *src);

#endif /* _P2PGPU_SVM_H */
