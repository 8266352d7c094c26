// SPDX-License-Identifier: GPL-2.0
/* The "edu" sweeps of p2pmap_failnth_test.c as their own program. */
#define FAILNTH_GROUP "edu"
#include "p2pmap_failnth_test.c"
