#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svm suite: shared virtual memory of p2pgpu. p2pgpu_svm_test
# migrates process memory to the GPUs' device-private memory and back
# (ioctls, CPU faults), reads and writes it through the device page table,
# and checks fork/COW, mprotect, munmap, mremap, THP, a range larger than
# the device, two GPUs, concurrency, bad input, kill -9 and unbind. p2pgpu
# gets 16 MiB of device memory (so the spill case stays small under TCG), a
# 4 MiB window, a 100 ms SVM minimum residency (the test waits it out) and
# a 60 s window residency (no peer placement evicts another, so window
# exhaustion is exact).
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
run_module_test "p2pmap p2pgpu:window_mb=4,vram_mb=16,min_residency_ms=60000,svm_min_residency_ms=100" \
	/tests/bin/p2pgpu_svm_test 'p2pgpu|p2pmap'
