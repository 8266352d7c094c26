#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# attach suite: p2pmap's provider registry and importer attach verdicts
# (p2pmap.ko + p2pmap_attach_test.ko + p2pmap_attach_test). The module
# registers the ivshmem-plain BAR2 as a provider and attaches the edu as an
# importer; the test checks the verdict against the topology and kernel
# (switch: bus addresses; rootbus: no route; stock: no CONFIG_PCI_P2PDMA),
# the provider's sysfs and debugfs files, and p2pmap's refusals of bad
# calls. The TAP on stdout is the test program's own; this script adds only
# "# " diagnostics after it, and fails the suite if a module does not
# unload.
. /suites/lib.sh
# the provider and the edu importer: a pair with a P2P route if there is one
p2pmap_devices edu
set -- $P2PMAP_GPUS
run_module_test "p2pmap p2pmap_attach_test:provider=${1:-none},importer=${P2PMAP_EDU:-none}" \
	/tests/bin/p2pmap_attach_test 'p2pmap|peer-to-peer'
