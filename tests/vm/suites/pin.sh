#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pin suite: importers that pin p2pgpu memory. First the edu importer
# (p2pmap_edu_importer.ko) with pinned imports (p2pgpu_pin_test.c): pins in
# the window through the switch, device-only on the root bus, counted,
# never evicted, surviving GEM close and munmap, released on destroy and
# revoked by unbind; and an import larger than the window settling without
# evicting its own pages. Then PRIME (p2pgpu_prime_test.c): export,
# self-import, dma-buf mmap, foreign imports refused, and the in-kernel
# dma-buf importer p2pgpu_dmabuf_test.ko moving data with edu DMA through a
# mapped attachment (BAR bus addresses through the switch, system pages on
# the root bus). Both load p2pgpu with a 1 MiB window and no minimum
# residency, so only pins protect pages.
#
# The two programs need different modules bound to the one edu device, so
# they run one after the other and their TAP is merged into one document:
# the plan is the sum of both plans, tests are renumbered, everything else
# becomes a diagnostic.
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true

run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pmap_edu_importer" \
	/tests/bin/p2pgpu_pin_test 'p2pmap|p2pgpu' > /tmp/pin-pin.tap 2>&1
rc_pin=$?
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0 p2pgpu_dmabuf_test" \
	/tests/bin/p2pgpu_prime_test 'p2pgpu|dmabuf' > /tmp/pin-prime.tap 2>&1
rc_prime=$?

tap_merge /tmp/pin-pin.tap /tmp/pin-prime.tap
[ $rc_pin -eq 0 ] && [ $rc_prime -eq 0 ]
