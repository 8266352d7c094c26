// SPDX-License-Identifier: GPL-2.0
/* The "imp" sweeps of p2pmap_failnth_test.c as their own program. */
#define FAILNTH_GROUP "imp"
#include "p2pmap_failnth_test.c"
