/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rdma_hw_counter(): one port counter of an RDMA device, as the kernel
 * exports it in sysfs (/sys/class/infiniband/<dev>/ports/1/hw_counters/).
 * Shared by the RDMA test and benchmark programs that report rxe's ODP
 * counters (odp_page_faults, odp_invalidations): those exist only on
 * kernels whose rxe counts them (tests/vm/patches/7.3/0002-*), so a
 * missing counter is -1, never 0.
 */
#ifndef _RDMA_COUNTER_H
#define _RDMA_COUNTER_H

#include "../common/sysfs_num.h"

/* Port 1's counter @name of @ibdev, or -1 if the kernel has no such counter. */
static inline long long rdma_hw_counter(const char *ibdev, const char *name)
{
	return sysfs_num("/sys/class/infiniband/%s/ports/1/hw_counters/%s",
			 ibdev, name);
}

#endif /* _RDMA_COUNTER_H */
