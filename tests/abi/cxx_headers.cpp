// SPDX-License-Identifier: GPL-2.0
/*
 * Both public headers compile as C++ (-std=c++11 -Wall -Wextra -Werror
 * -pedantic) and a C++ program links against both shared libraries,
 * taking their versioned symbols (scripts/abi-check.sh builds and runs it).
 */
#include <p2pmap.h>
#include <p2pmap-rdma.h>

#include <cstdio>
#include <cstring>

int main()
{
	struct p2pmap_pci_dev dev;
	struct p2pmap_counters c;
	struct p2pmap_mr_info info;
	struct p2pmap_rdma_caps caps;
	struct p2pmap_ctx *ctx = p2pmap_ctx_new("/nonexistent-sys", "/nonexistent-debug");

	std::memset(&dev, 0, sizeof(dev));
	dev.class_code = 0x020000;
	std::memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	std::memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	std::memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	if (!ctx)
		return 1;
	/* 0.2: no protection domain is refused, nothing else happens */
	if (p2pmap_rdma_query(NULL, 0, &caps) != -1) {
		p2pmap_ctx_free(ctx);
		return 1;
	}
	if (std::strcmp(p2pmap_route_name(P2PMAP_ROUTE_BUS_ADDR), "bus_addr") ||
	    std::strcmp(p2pmap_mr_kind_name(P2PMAP_MR_DMABUF), "dmabuf") ||
	    std::strcmp(p2pmap_mr_kind_name(P2PMAP_MR_ODP), "odp")) {
		p2pmap_ctx_free(ctx);
		return 1;
	}
	p2pmap_ctx_free(ctx);
	std::printf("c++: both headers compiled, both libraries linked and called\n");
	return 0;
}
