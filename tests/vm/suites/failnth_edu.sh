#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# failnth_edu suite: fail-nth sweeps over the /dev/p2pdma_edu ioctls (INFO,
# TRANSFER both ways). See failnth_imp.sh.
. /suites/lib.sh
p2pmap_devices edu
set -- $P2PMAP_GPUS
run_module_test "p2pdma_edu:provider=${1:-none},client=${P2PMAP_EDU:-none}" \
	/tests/bin/p2pmap_failnth_edu 'p2pdma_edu|FAULT_INJECTION'
