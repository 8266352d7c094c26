#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gpu suite: the p2pmap reference exporter p2pgpu.ko binds every
# ivshmem-plain "GPU" the machine has as a DRM render node, and p2pgpu_test
# drives them through libdrm: device info (window = BAR2 from sysfs),
# buffer objects, CPU mmap through the small-BAR window with eviction (on
# the GPU with the smallest window, sized from it), bad input, kill -9, and
# unbind with a live mapping. The GPUs it must find are P2PMAP_GPUS
# (lib.sh, p2pmap_devices). The TAP on stdout is the test program's
# own; this script adds only "# " diagnostics after it, and fails the suite
# if a module does not unload.
. /suites/lib.sh
# DRM is built in on the test kernel; on a distribution kernel it is a
# module that p2pgpu.ko needs loaded first.
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
run_module_test "p2pmap p2pgpu" /tests/bin/p2pgpu_test 'p2pgpu|p2pmap'
