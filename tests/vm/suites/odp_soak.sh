#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# odp_soak suite (manual, not in make check): unmodified ib_write_lat --odp
# --mmap on a p2pgpu object 60 times in a row on Soft-RoCE, each run's
# placement asserted and a hang (120 s) failed with the guest's view of it
# (suites/odp.sh, ODP_PARTS=latsoak). The soak behind rxe's requester
# stall (tests/vm/patches/7.3/0004): run it on a kernel to see whether its
# rxe still stalls. Usage:
#   bash tests/vm/run.sh --kernel 7.3 --suites odp_soak
ODP_PARTS=latsoak exec sh /suites/odp.sh
