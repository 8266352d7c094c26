// SPDX-License-Identifier: GPL-2.0
/* The "attach" sweeps of p2pmap_failnth_test.c as their own program. */
#define FAILNTH_GROUP "attach"
#include "p2pmap_failnth_test.c"
