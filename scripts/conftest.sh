#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build-time feature probes for the p2pmap modules, in the manner of
# NVIDIA's open kernel modules (conftest.sh) and gdrcopy: each probe is a
# small C file compiled against the target kernel tree (KDIR); the result
# is a generated header, p2pmap_conftest.h, in OUTDIR (a build directory,
# never the source tree), which kernel/compat/p2pmap_compat.h includes.
# No probe looks at LINUX_VERSION_CODE: distributions backport features
# (Debian's 6.12.117 carries 7.x dma-buf revoke code), so only what the
# headers actually provide counts.
#
# A probe defines P2PMAP_HAVE_<NAME> when its test compiles (with -Werror).
# One probe is a config probe: P2PMAP_KCONFIG_HAS_DMABUF_MOVE_NOTIFY is
# defined when KDIR's .config knows the symbol (set or "is not set"), which
# tells "option off" from "option removed" (7.1), something no compile
# test can see.
#
# usage: conftest.sh KDIR OUTDIR        prints the results, one per line
set -euo pipefail

KDIR=${1:?usage: conftest.sh KDIR OUTDIR}
OUT=${2:?usage: conftest.sh KDIR OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T=$OUT/conftest.d
rm -rf "$T"
mkdir -p "$T"

# probe NAME 'includes' 'body': one test unit.
NAMES=()
probe() {
	NAMES+=("$1")
	{
		echo "// SPDX-License-Identifier: GPL-2.0"
		printf '%b\n' "$2"
		echo "$3"
	} > "$T/$1.c"
}

# --- the probes: name, headers, code (static + __maybe_unused: no W=1 noise)

# 6.10 (2c92ca849fcc "tracing/treewide: Remove second parameter of
# __assign_str()"). Two-level stringification expands the macro (so a
# wrong argument count is an error) without compiling its body.
probe ASSIGN_STR_ONE_ARG '#include <linux/tracepoint.h>\n#include <trace/stages/stage6_event_callback.h>' \
'#define P2P_S(...) #__VA_ARGS__
#define P2P_XS(...) P2P_S(__VA_ARGS__)
static const char p2p_probe[] __maybe_unused = P2P_XS(__assign_str(provider));'

# 6.5 (ca5e863233e8 "mm/gup: remove vmas parameter from pin_user_pages_remote()")
probe PIN_USER_PAGES_REMOTE_NO_VMAS '#include <linux/mm.h>' \
'static __maybe_unused long p2p_probe(struct mm_struct *mm, struct page **p)
{ int locked = 1; return pin_user_pages_remote(mm, 0, 1, 0, p, &locked); }'

# 6.2 (4003f107fa2e "mm: introduce FOLL_PCI_P2PDMA to gate getting PCI
# P2PDMA pages"): GUP refuses P2PDMA pages without it, and FOLL_LONGTERM
# with it. Its presence means pinned imports of P2PDMA pages are gone.
probe FOLL_PCI_P2PDMA '#include <linux/mm.h>' \
'static __maybe_unused unsigned int p2p_probe(void) { return FOLL_PCI_P2PDMA; }'

# 6.16 (hmm_dma_map_alloc()/hmm_dma_map_pfn() with HMM_PFN_P2PDMA, and
# RDMA ODP converted to them): ib_umem_odp maps the P2PDMA pages of a CPU
# mapping to bus addresses (or through the host bridge) instead of
# treating them as system memory, so an ODP MR can cover P2PDMA memory.
probe HMM_PFN_P2PDMA '#include <linux/hmm.h>' \
'static __maybe_unused unsigned long p2p_probe(void) { return HMM_PFN_P2PDMA; }'

# 6.3 (bc292ab00f6c "mm: introduce vma->vm_flags wrapper functions")
probe VM_FLAGS_SET '#include <linux/mm.h>' \
'static __maybe_unused void p2p_probe(struct vm_area_struct *v) { vm_flags_set(v, VM_IO); }'

# is_cow_mapping(flags) became vma_is_cow_mapping(vma) (7.x, vma_flags_t work)
probe VMA_IS_COW_MAPPING '#include <linux/mm.h>' \
'static __maybe_unused bool p2p_probe(struct vm_area_struct *v) { return vma_is_cow_mapping(v); }'

# 6.13 (cdd30ebb1b9f "module: Convert symbol namespace to string literal"):
# a bare identifier no longer compiles.
probe MODULE_NS_IDENT '#include <linux/module.h>' \
'MODULE_IMPORT_NS(DMA_BUF);'

# 6.15 (82ba975e4c43 "mm: allow compound zone device pages"): page->pgmap
# is gone, page_pgmap() replaces it.
probe PAGE_PGMAP '#include <linux/mm.h>\n#include <linux/memremap.h>' \
'static __maybe_unused struct dev_pagemap *p2p_probe(struct page *p) { return page_pgmap(p); }'

# 6.15 (Alistair Popple's series "fs/dax: Fix ZONE_DEVICE page reference
# counts", with "mm/mm_init: Move p2pdma page refcount initialisation to
# p2pdma"): ZONE_DEVICE pages, P2PDMA pages included, idle at refcount 0,
# are mapped with vm_insert_page() holding a real reference, and the last
# put of a P2PDMA page hands it back to its pool. Nothing in a header says
# "refcount 0"; vmf_insert_page_mkwrite() ("mm/memory: Add
# vmf_insert_page_mkwrite()") is the API the same series added. p2pgpu
# checks the idle count of its window pages against this answer at probe.
probe ZONE_DEVICE_REFCOUNTED '#include <linux/mm.h>' \
'static __maybe_unused vm_fault_t p2p_probe(struct vm_fault *v, struct page *p) { return vmf_insert_page_mkwrite(v, p, false); }'

# 6.19 (3a5a06554566): dev_pagemap_ops.page_free(page) -> folio_free(folio)
probe DEV_PAGEMAP_FOLIO_FREE '#include <linux/memremap.h>' \
'static void p2p_free(struct folio *f) { }
static const struct dev_pagemap_ops p2p_probe __maybe_unused = { .folio_free = p2p_free };'

# 6.19 (d245f9b4ab80 "mm/zone_device: support large zone device private
# folios"): zone_device_page_init(page, pgmap, order)
probe ZONE_DEVICE_PAGE_INIT_ORDER '#include <linux/memremap.h>' \
'static __maybe_unused void p2p_probe(struct page *p, struct dev_pagemap *m) { zone_device_page_init(p, m, 0); }'

# 7.1 (ef246da8e63c, 95308225e5ba): .move_notify -> .invalidate_mappings,
# dma_buf_move_notify() -> dma_buf_invalidate_mappings()
probe DMA_BUF_INVALIDATE_MAPPINGS '#include <linux/dma-buf.h>' \
'static void p2p_inv(struct dma_buf_attachment *a) { }
static const struct dma_buf_attach_ops p2p_probe __maybe_unused = { .invalidate_mappings = p2p_inv };
static __maybe_unused void p2p_probe2(struct dma_buf *d) { dma_buf_invalidate_mappings(d); }'

# 7.1: dma_buf_attachment_is_dynamic() left the header (static in dma-buf.c)
probe DMA_BUF_ATTACHMENT_IS_DYNAMIC '#include <linux/dma-buf.h>' \
'static __maybe_unused bool p2p_probe(struct dma_buf_attachment *a) { return dma_buf_attachment_is_dynamic(a); }'

# 7.1 dma-buf revoke series: dma_buf_attach_revocable()
probe DMA_BUF_ATTACH_REVOCABLE '#include <linux/dma-buf.h>' \
'static __maybe_unused bool p2p_probe(struct dma_buf_attachment *a) { return dma_buf_attach_revocable(a); }'

# 6.14 (cb2e1c2136f7 "drm: remove driver date from struct drm_driver")
probe DRM_DRIVER_DATE '#include <drm/drm_drv.h>' \
'static const struct drm_driver p2p_probe __maybe_unused = { .date = "20250101" };'

# pfn_t and <linux/pfn_t.h> removed (7.x, devmap removal 6.17 and after);
# vmf_insert_mixed() takes an unsigned long pfn
probe PFN_T '#include <linux/mm.h>\n#include <linux/pfn_t.h>' \
'static __maybe_unused vm_fault_t p2p_probe(struct vm_area_struct *v) { return vmf_insert_mixed(v, 0, __pfn_to_pfn_t(0, PFN_DEV)); }'

# 6.2 rename: sg_is_dma_bus_address() -> sg_dma_is_bus_address()
probe SG_DMA_IS_BUS_ADDRESS '#include <linux/scatterlist.h>' \
'static __maybe_unused bool p2p_probe(struct scatterlist *s) { return sg_dma_is_bus_address(s); }'

# pcim_request_region() (exported since 6.11, Philipp Stanner's pcim
# rework); later kernels (7.3) dropped the "hybrid" devres that made
# pci_request_region() after pcim_enable_device() managed.
probe PCIM_REQUEST_REGION '#include <linux/pci.h>' \
'static __maybe_unused int p2p_probe(struct pci_dev *p) { return pcim_request_region(p, 0, "p2p"); }'

# 6.13 (90ee6ed776c0 "fs: port files to file_ref"): struct file counts
# its references in f_ref (file_ref_t), no longer in f_count; 6.7 had
# already changed get_file_rcu() to take a struct file __rcu **.
probe FILE_REF '#include <linux/fs.h>\n#include <linux/file_ref.h>' \
'static __maybe_unused bool p2p_probe(struct file *f) { return file_ref_get(&f->f_ref); }'

# system_dfl_wq (the workqueue rework that deprecates system_unbound_wq;
# 7.3 warns once when work is queued on the deprecated one; Debian's
# 6.12.117 has it, 6.1 does not)
probe SYSTEM_DFL_WQ '#include <linux/workqueue.h>' \
'static __maybe_unused struct workqueue_struct *p2p_probe(void) { return system_dfl_wq; }'

# 6.2 (Dmitry Osipenko's dma-buf locking convention, 19d6634d8789):
# dma_buf_map_attachment() always needs the reservation lock;
# static importers call dma_buf_map_attachment_unlocked()
probe DMA_BUF_MAP_ATTACHMENT_UNLOCKED '#include <linux/dma-buf.h>' \
'static __maybe_unused struct sg_table *p2p_probe(struct dma_buf_attachment *a) { return dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE); }'

# 6.19 (the vfio-pci dma-buf series: "PCI/P2PDMA: Refactor to separate core
# P2P functionality from memory allocation", "dma-buf: provide phys_vec to
# scatter-gather mapping routine"): struct p2pdma_provider per BAR from
# pcim_p2pdma_init()/pcim_p2pdma_provider(), and dma_buf_phys_vec_to_sgt()
# / dma_buf_free_sgt(), which map MMIO ranges for a dma-buf attachment
# with the PCI core's own map type (no struct page)
probe P2PDMA_PROVIDER '#include <linux/pci-p2pdma.h>\n#include <linux/dma-buf-mapping.h>' \
'static __maybe_unused struct sg_table *p2p_probe(struct pci_dev *p, struct dma_buf_attachment *a, struct phys_vec *v)
{ if (pcim_p2pdma_init(p)) return NULL; return dma_buf_phys_vec_to_sgt(a, pcim_p2pdma_provider(p, 0), v, 1, v->len, DMA_TO_DEVICE); }
static __maybe_unused void p2p_probe2(struct dma_buf_attachment *a, struct sg_table *s) { dma_buf_free_sgt(a, s, DMA_TO_DEVICE); }'

# --- run them: one kbuild invocation, every object a separate target ------
{
	echo "ccflags-y := -Werror"
	echo "obj-m := $(printf '%s.o ' "${NAMES[@]}")"
} > "$T/Kbuild"
objs=()
for n in "${NAMES[@]}"; do objs+=("$n.o"); done
make -k -j"${JOBS:-2}" -C "$KDIR" M="$T" "${objs[@]}" > "$T/conftest.log" 2>&1 || true

# A probe must fail only for the reason it tests: an unused-symbol error
# means the probe itself is wrong, and its "no" would be a lie.
if grep -E "conftest\.d/|^[A-Z_]+\.c:" "$T/conftest.log" | grep -qE 'Werror=unused|defined but not used'; then
	grep -E 'Werror=unused|defined but not used' "$T/conftest.log" >&2
	echo "conftest: a probe failed on an unused-symbol warning: fix the probe" >&2
	exit 1
fi

H=$OUT/p2pmap_conftest.h
{
	echo "/* SPDX-License-Identifier: GPL-2.0 */"
	echo "/* Generated by scripts/conftest.sh against $KDIR: do not edit. */"
	echo "#ifndef P2PMAP_CONFTEST_H"
	echo "#define P2PMAP_CONFTEST_H"
} > "$H.tmp"
for n in "${NAMES[@]}"; do
	if [ -f "$T/$n.o" ]; then
		echo "#define P2PMAP_HAVE_$n 1" >> "$H.tmp"
		echo "$n yes"
	else
		echo "/* #undef P2PMAP_HAVE_$n */" >> "$H.tmp"
		echo "$n no"
	fi
done
# The config probe.
cfg=$KDIR/.config
[ -f "$cfg" ] || { echo "conftest: no $cfg" >&2; exit 1; }
if grep -qE '^(CONFIG_DMABUF_MOVE_NOTIFY=|# CONFIG_DMABUF_MOVE_NOTIFY is not set)' "$cfg"; then
	echo "#define P2PMAP_KCONFIG_HAS_DMABUF_MOVE_NOTIFY 1" >> "$H.tmp"
	echo "KCONFIG_HAS_DMABUF_MOVE_NOTIFY yes"
else
	echo "/* #undef P2PMAP_KCONFIG_HAS_DMABUF_MOVE_NOTIFY */" >> "$H.tmp"
	echo "KCONFIG_HAS_DMABUF_MOVE_NOTIFY no"
fi
echo "#endif" >> "$H.tmp"
mv "$H.tmp" "$H"
# Sanity: a probe every supported kernel passes must pass, or the probe
# machinery itself is broken (compiler, KDIR) and every answer is "no".
grep -q 'define P2PMAP_HAVE_DMA_BUF_ATTACHMENT_IS_DYNAMIC\|define P2PMAP_HAVE_DMA_BUF_INVALIDATE_MAPPINGS' "$H" || {
	tail -30 "$T/conftest.log" >&2
	echo "conftest: neither dma-buf probe compiled: the probe build is broken (log: $T/conftest.log)" >&2
	exit 1
}
