#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# p2pdma suite: the edu DMA engine moves data into and out of an ivshmem-plain
# BAR2 through the kernel's P2PDMA API (p2pdma_edu.ko + p2pdma_edu_test).
# With P2PMAP_TOPOLOGY=switch every transfer must arrive byte for byte; with
# rootbus the kernel must refuse the mapping (EREMOTEIO) and no DMA may run.
# The TAP on stdout is the test program's own; this script adds only "# "
# diagnostics after it, and fails the suite if the module does not unload.
. /suites/lib.sh
MOD=/tests/modules/p2pdma_edu.ko
BIN=/tests/bin/p2pdma_edu_test

if ! out=$(insmod "$MOD" 2>&1); then
	tap_plan 1
	tap_fail "insmod p2pdma_edu.ko"
	tap_diag "$out"
	exit 1
fi

# devtmpfs normally creates the node; make it by hand if it did not.
if [ ! -c /dev/p2pdma_edu ] && [ -r /sys/class/misc/p2pdma_edu/dev ]; then
	devno=$(cat /sys/class/misc/p2pdma_edu/dev)
	mknod /dev/p2pdma_edu c "${devno%%:*}" "${devno#*:}"
fi

if [ -x "$BIN" ]; then
	"$BIN"
	rc=$?
else
	tap_plan 1
	tap_fail "$BIN missing"
	rc=1
fi

log=$(dmesg | grep -E 'p2pdma_edu|peer-to-peer' | tail -20)
[ -n "$log" ] && tap_diag "$log"
if ! out=$(rmmod p2pdma_edu 2>&1) || [ -e /sys/module/p2pdma_edu ]; then
	tap_diag "rmmod p2pdma_edu failed: $out"
	[ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
