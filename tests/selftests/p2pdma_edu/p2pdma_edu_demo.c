// SPDX-License-Identifier: GPL-2.0
/*
 * p2pdma_edu_demo: the human-readable half of the P2P DMA demo. It asks
 * /dev/p2pdma_edu which provider BAR and DMA client it paired, how Linux
 * rated the route between them, and then has the edu DMA engine write a
 * recognisable message into the provider's BAR and read a second one back,
 * printing where each byte went. It prints "key=value" facts the host-side
 * demo script checks against the GPU memory file QEMU backs the BAR with.
 * Tests live in p2pdma_edu_test.c; this program only demonstrates.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "p2pdma_edu_uapi.h"

static const char *map_name(uint32_t t)
{
	switch (t) {
	case P2PDMA_EDU_MAP_NOT_SUPPORTED: return "refused (NOT_SUPPORTED)";
	case P2PDMA_EDU_MAP_BUS_ADDR: return "PCI bus address through the switch (BUS_ADDR)";
	case P2PDMA_EDU_MAP_THRU_HOST_BRIDGE: return "through the host bridge";
	case P2PDMA_EDU_MAP_ERROR: return "mapping error";
	default: return "not attempted";
	}
}

/* BAR2 start of a PCI device, from sysfs; 0 if unknown. */
static uint64_t bar2_start(const char *pci_name)
{
	char path[128], line[128];
	unsigned long long start = 0, end, flags;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", pci_name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= 2 && fgets(line, sizeof(line), f); i++)
		if (i == 2 && sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

static void usage(FILE *to)
{
	fprintf(to,
		"NAME\n"
		"    p2pdma_edu_demo - show edu DMA into an ivshmem BAR through P2PDMA\n\n"
		"SYNOPSIS\n"
		"    p2pdma_edu_demo [-h]\n\n"
		"DESCRIPTION\n"
		"    Needs p2pdma_edu.ko loaded. Prints the provider/client pair, the\n"
		"    P2P distance and mapping type, then writes a message into the\n"
		"    provider BAR with the edu DMA engine and reads another back.\n\n"
		"EXIT STATUS\n"
		"    0 both transfers verified, 1 refused or failed, 2 usage/setup error\n");
}

int main(int argc, char **argv)
{
	struct p2pdma_edu_info info;
	struct p2pdma_edu_transfer x;
	char msg[2048], back[2048], got[2048];
	uint64_t bar;
	int fd, rc;

	if (argc > 1) {
		usage(strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? stderr : stdout);
		return strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? 2 : 0;
	}
	fd = open("/dev/" P2PDMA_EDU_DEVNAME, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "p2pdma_edu_demo: /dev/%s: %s (is p2pdma_edu.ko loaded?)\n",
			P2PDMA_EDU_DEVNAME, strerror(errno));
		return 2;
	}
	if (ioctl(fd, P2PDMA_EDU_IOC_INFO, &info)) {
		fprintf(stderr, "p2pdma_edu_demo: INFO: %s\n", strerror(errno));
		return 2;
	}
	bar = bar2_start(info.provider);
	printf("provider (GPU memory): ivshmem %s, BAR2 %" PRIu64 " MiB at 0x%" PRIx64 "\n",
	       info.provider, (uint64_t)info.provider_bar_size >> 20, bar);
	printf("client (DMA engine):   edu %s\n", info.client);
	printf("P2P distance:          %d\n", info.distance);
	printf("mapping for client:    %s\n", map_name(info.map_type));
	if (info.reason[0])
		printf("reason:                %s\n", info.reason);
	printf("provider_bar_size=%" PRIu64 "\n", (uint64_t)info.provider_bar_size);

	memset(msg, '.', sizeof(msg));
	snprintf(msg, sizeof(msg), "p2pmap demo: the edu DMA engine wrote this into %s's BAR "
		 "by PCI peer-to-peer DMA", info.provider);
	memset(&x, 0, sizeof(x));
	x.direction = P2PDMA_EDU_DIR_TO_BAR;
	x.length = sizeof(msg);
	x.offset = 0;
	memcpy(got, msg, sizeof(got));
	x.buf = (uintptr_t)got;
	rc = ioctl(fd, P2PDMA_EDU_IOC_TRANSFER, &x);
	if (rc) {
		printf("edu -> BAR:            refused: %s (errno %d)\n", strerror(errno), errno);
		close(fd);
		return 1;
	}
	printf("edu -> BAR:            %u bytes to bus address 0x%" PRIx64 " (%s), CPU read-back %s\n",
	       x.length, (uint64_t)x.dma_addr, map_name(x.map_type),
	       memcmp(got, msg, sizeof(msg)) ? "MISMATCH" : "matches");
	if (bar && x.dma_addr >= bar)
		printf("bar_offset=0x%" PRIx64 "\n", (uint64_t)x.dma_addr - bar);
	printf("message=%s\n", msg);

	memset(back, 0, sizeof(back));
	snprintf(back, sizeof(back), "and the CPU wrote this one for the edu to fetch from the BAR");
	memcpy(got, back, sizeof(got));
	memset(&x, 0, sizeof(x));
	x.direction = P2PDMA_EDU_DIR_FROM_BAR;
	x.length = sizeof(back);
	x.offset = 4096;
	x.buf = (uintptr_t)got;
	if (ioctl(fd, P2PDMA_EDU_IOC_TRANSFER, &x)) {
		printf("BAR -> edu:            failed: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	printf("BAR -> edu:            %u bytes from bus address 0x%" PRIx64 ", arrived %s\n",
	       x.length, (uint64_t)x.dma_addr, memcmp(got, back, sizeof(back)) ? "CORRUPTED" : "intact");
	close(fd);
	return memcmp(got, back, sizeof(back)) ? 1 : 0;
}
