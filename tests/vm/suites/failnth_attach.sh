#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# failnth_attach suite: fail-nth sweeps over the /dev/p2pmap_attach_test
# ioctls: INFO and every CASE (provider registration, importer attach,
# mapping binds, verdicts). See failnth_imp.sh.
. /suites/lib.sh
p2pmap_devices edu
set -- $P2PMAP_GPUS
run_module_test "p2pmap p2pmap_attach_test:provider=${1:-none},importer=${P2PMAP_EDU:-none}" \
	/tests/bin/p2pmap_failnth_attach 'p2pmap|attach_test|FAULT_INJECTION'
