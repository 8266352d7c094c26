#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# p2pgpu's SVM ioctls on a kernel without CONFIG_DEVICE_PRIVATE (vm-stock
# only): refused with -EOPNOTSUPP and a reason in dmesg, SVM_INFO and sysfs
# say device_private is unavailable, the rest of the device keeps working.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
run_module_test "p2pmap p2pgpu" /tests/bin/p2pgpu_svm_off_test 'p2pgpu|p2pmap'
