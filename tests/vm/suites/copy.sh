#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# copy suite: the p2pgpu copy engine (DRM_IOCTL_P2PGPU_COPY), the importer
# side of the reference driver. p2pgpu_copy_test copies between system
# memory and objects, between two GPUs both ways (the pair p2pmap_devices
# picks: one with a P2P route if the machine has one; P2P placement, or
# system memory with reason no_route; REQUIRE_P2P done or refused), within one GPU, under an eviction storm and racing CPU
# faults that move the imported pages, with bad input, kill -9, a fail-nth
# sweep and unbinds. p2pgpu gets a 1 MiB window (256 pages, so a third
# object's CPU faults keep evicting), 64 MiB of device memory, and no
# minimum residency, so a peer's placement never falls back for lack of an
# evictable page.
#
# A machine with GPU pairs both with and without a P2P route (the mixed
# topology) runs the test on one pair of each kind, one after the other,
# their TAP merged into one document (tap_merge).
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
MODS="p2pmap p2pgpu:window_mb=1,vram_mb=64,min_residency_ms=0"
if ! p2pmap_has_pairs gpu; then
	p2pmap_devices gpu
	run_module_test "$MODS" /tests/bin/p2pgpu_copy_test 'p2pmap|p2pgpu'
	exit $?
fi
p2pmap_devices gpu p2p
run_module_test "$MODS" /tests/bin/p2pgpu_copy_test 'p2pmap|p2pgpu' > /tmp/copy-p2p.tap 2>&1
rc_p2p=$?
p2pmap_devices gpu nop2p
run_module_test "$MODS" /tests/bin/p2pgpu_copy_test 'p2pmap|p2pgpu' > /tmp/copy-nop2p.tap 2>&1
rc_nop2p=$?
tap_merge /tmp/copy-p2p.tap /tmp/copy-nop2p.tap
[ $rc_p2p -eq 0 ] && [ $rc_nop2p -eq 0 ]
