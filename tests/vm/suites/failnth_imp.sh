#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# failnth_imp suite: fail-nth sweeps (fail the N-th allocation of one
# syscall, N = 1, 2, ... until none is reached) over every ioctl of
# /dev/p2pmap_edu_imp, on system memory and on a p2pgpu buffer object
# mapping (p2pmap_import_map's provider path), and over the p2pgpu DRM
# ioctls. Each injected failure must return an errno and leave the object
# usable; the health suite's kmemleak scan catches leaks. p2pgpu gets the
# peer suite's 1 MiB window and 60 s residency.
. /suites/lib.sh
# the GPU and the edu it works on: one with a P2P route if there is one
p2pmap_devices edu
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=60000 p2pmap_edu_importer" \
	/tests/bin/p2pmap_failnth_imp 'p2pmap|p2pgpu|edu_imp|FAULT_INJECTION'
