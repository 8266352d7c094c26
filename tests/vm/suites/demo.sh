#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo suite: what p2pmap can show today, for people rather than for the
# verdict. Every "# demo: " line is printed by scripts/demo.sh; the TAP lines
# make sure each step really happened.
#
# Order matters for one step: the raw P2PDMA step leaves a message in
# GPU0's BAR that scripts/demo.sh looks for, from the host, in the file QEMU
# backs the BAR with, after the VM exits. Every other step also writes that
# BAR (the edu importer, the peer copy, and perftest on a published p2pgpu
# object, whose first page is the first page of the window, which is where
# the P2PDMA allocator puts the message too), so the P2PDMA step runs LAST:
# nothing may write GPU0's BAR after it. `make check` runs the whole of
# `make demo`, host check included, so a step added after it fails there.
. /suites/lib.sh
say() { echo "# demo: $*"; }

tap_plan 7
say "kernel $(uname -r), topology $P2PMAP_TOPOLOGY"
if insmod /tests/modules/p2pmap.ko; then
	say "p2pmap.ko loaded; kernel features (/sys/module/p2pmap/features):"
	sed 's/^/# demo:   /' /sys/module/p2pmap/features
	tap_ok "p2pmap.ko loads and reports features"
	rmmod p2pmap
else
	tap_fail "p2pmap.ko loads"
fi

say ""
say "PCI paths of the stand-in GPUs (ivshmem 1af4:1110) and the DMA engine (edu 1234:11e8):"
for d in /sys/bus/pci/devices/*; do
	id="$(cat "$d/vendor"):$(cat "$d/device")"
	case "$id" in
	0x1af4:0x1110)
		set -- $(sed -n 3p "$d/resource")
		what="GPU memory (ivshmem, BAR2 $(( ($2 - $1 + 1) >> 20 )) MiB)" ;;
	0x1234:0x11e8) what="DMA engine (edu)" ;;
	*) continue ;;
	esac
	say "  $(readlink -f "$d" | sed 's|/sys/devices/||')  $what"
done

say ""
say "Device memory through p2pmap: the edu DMA engine imports p2pgpu buffer objects"
say "(p2pgpu: 1 MiB peer window, 60 s minimum residency; p2pmap_peer_test)."
say "What it proves: a device reaches another device's memory at a PCI bus"
say "address, and when that memory moves or the window is full, p2pmap tells the"
say "importer, which maps it again; every page is counted as P2P or system memory"
say "with the reason."
# the GPU and the edu the test works on, and their route (lib.sh)
p2pmap_devices edu
if insmod /tests/modules/p2pmap.ko &&
	insmod /tests/modules/p2pgpu.ko window_mb=1 min_residency_ms=60000 &&
	insmod /tests/modules/p2pmap_edu_importer.ko; then
	/tests/bin/p2pmap_peer_test > /tmp/peer.out 2>&1
	rc=$?
	tr -d '\r' < /tmp/peer.out | sed -n 's/.*:read_through_peer:placement: \(.*\)/  16-page buffer read by the edu: \1/p;
		s/.*:evict_while_imported:after eviction: \(.*\)/  evicted while imported, then revalidated: \1/p;
		s/.*:window_exhaustion_fallback:placement: \(.*\)/  512 pages through a 256-page window: \1/p' |
		sed 's/^/# demo: /'
	grep -E '^(ok|not ok) ' /tmp/peer.out | sed 's/^/# demo:   /'
	if [ $rc -eq 0 ]; then
		tap_ok "edu reads and writes GPU buffer objects through p2pmap, data verified"
	else
		tap_fail "p2pmap peer test"
	fi
	rmmod p2pmap_edu_importer
	rmmod p2pgpu
	rmmod p2pmap
else
	tap_fail "load p2pmap, p2pgpu, p2pmap_edu_importer"
fi

say ""
say "A peer copy between GPUs: each GPU's copy engine (DRM_IOCTL_P2PGPU_COPY) imports"
say "a CPU mapping of the other GPU's object through p2pmap and translates the DMA"
say "addresses it gets as the hardware would (p2pgpu: whole BAR as window; p2pgpu_copy_demo)."
say "What it proves: one GPU moves another GPU's memory using only the bus"
say "addresses p2pmap gave it, peer to peer where the PCIe topology allows, and"
say "through system memory, with the reason, where it does not."
# the two GPUs, and their route (lib.sh)
p2pmap_devices gpu
if insmod /tests/modules/p2pmap.ko && insmod /tests/modules/p2pgpu.ko; then
	/tests/bin/p2pgpu_copy_demo > /tmp/copy.out 2>&1
	rc=$?
	sed 's/^/# demo:   /' /tmp/copy.out
	if [ $rc -eq 0 ]; then
		tap_ok "peer copy between the GPUs both ways, data verified, placement as the topology calls for"
	else
		tap_fail "peer copy between the GPUs (rc $rc)"
	fi
	rmmod p2pgpu
	rmmod p2pmap
else
	tap_fail "load p2pmap, p2pgpu"
fi

say ""
if [ "$P2PMAP_TOPOLOGY" = switch ]; then
	say "RDMA on Soft-RoCE (rdma_rxe), ib_write_bw loopback on host memory."
	say "What it proves: the RDMA stack the next step uses works on ordinary memory."
	RXE_ITERS=200 sh /suites/rxe.sh > /tmp/rxe.out 2>&1
	rc=$?
	grep -E '^(ok|not ok) 4|attempt' /tmp/rxe.out | sed 's/^# //; s/^ok 4 /result: /; s/^/# demo:   /'
	if [ $rc -eq 0 ]; then tap_ok "ib_write_bw on rxe"; else tap_fail "ib_write_bw on rxe"; fi
	say ""
	insmod /tests/modules/p2pmap.ko 2>/dev/null
	pin=$(sed -n 's/^gup_p2pdma_pin //p' /sys/module/p2pmap/features)
	rmmod p2pmap 2>/dev/null
	if [ "$pin" = yes ]; then
		say "ib_write_bw/ib_read_bw on GPU memory: a published p2pgpu object is perftest's"
		say "--mmap buffer (p2pgpu-rdma); its MR pins P2PDMA pages of the BAR window. Then the"
		say "window is exhausted by another MR, and the same run falls back to system pages."
		say "What it proves: an unmodified RDMA benchmark runs on GPU memory, and says"
		say "where its pages were (BAR, or system memory with the reason)."
		RDMA_PARTS=perftest sh /suites/rdma.sh > /tmp/rdma.out 2>&1
		rc=$?
		what="ib_write_bw/ib_read_bw on GPU memory (placement BAR) and fallback under BAR exhaustion (placement fallback, window_full)"
	else
		say "ib_write_bw/ib_read_bw --odp on GPU memory: this kernel's GUP"
		say "refuses to pin P2PDMA pages (since 6.2), so perftest registers an On-Demand"
		say "Paging MR on a published p2pgpu object (p2pgpu-rdma): the NIC faults the pages"
		say "in with hmm_range_fault(). Then the window is cycled under the running"
		say "benchmark: every eviction is an invalidation the NIC sees and faults back."
		say "What it proves: an unmodified RDMA benchmark runs on GPU memory through the"
		say "mechanism upstream supports, says where its pages were, and survives the"
		say "exporter moving them."
		ODP_PARTS=perftest ODP_LAT=0 sh /suites/odp.sh > /tmp/rdma.out 2>&1
		rc=$?
		what="perftest --odp on GPU memory, and under eviction, placement as p2pgpu's cpu_map says"
	fi
	grep -E '^(ok|not ok) |^# p2pgpu-rdma: (object|odp)|^# rxe0' /tmp/rdma.out |
		sed 's/^# p2pgpu-rdma: object/command: p2pgpu-rdma object/; s/^# //; s/^ok [0-9]* /result: /; s/^/# demo:   /'
	if [ $rc -eq 0 ]; then
		tap_ok "$what"
	else
		tap_fail "perftest on GPU memory"
	fi
else
	tap_skip "ib_write_bw on rxe" "RDMA part of the demo runs on the switch topology"
	tap_skip "perftest on GPU memory" "RDMA part of the demo runs on the switch topology"
fi
say ""
say "P2P DMA through the kernel's P2PDMA API (p2pdma_edu.ko)."
say "What it proves: the emulated hardware really does device-to-device DMA: the"
say "edu engine writes into the GPU's BAR by bus address (checked in the guest,"
say "and again from the host in the file behind the BAR), or Linux refuses it"
say "where the topology has no P2P route."
# the GPU and the edu, a pair with a P2P route if there is one; the first
# such GPU in PCI order, whose memory file (gpu0.mem on switch and rootbus)
# scripts/demo.sh reads
p2pmap_devices edu
set -- $P2PMAP_GPUS
if insmod /tests/modules/p2pdma_edu.ko provider="${1:-none}" client="${P2PMAP_EDU:-none}"; then
	/tests/bin/p2pdma_edu_demo > /tmp/demo.out 2>&1
	rc=$?
	sed 's/^/# demo:   /' /tmp/demo.out
	if route_is_p2p "$P2PMAP_ROUTE"; then want=0; else want=1; fi
	case "$want:$rc" in
	0:0) tap_ok "edu DMA into and out of the GPU BAR, data verified" ;;
	1:1) grep -q 'refused' /tmp/demo.out &&
		tap_ok "P2P refused without a route ($P2PMAP_ROUTE), with the reason" ||
		tap_fail "P2P refused without a route ($P2PMAP_ROUTE)" ;;
	*) tap_fail "p2pdma demo (route $P2PMAP_ROUTE, rc $rc)" ;;
	esac
	rmmod p2pdma_edu
else
	tap_fail "insmod p2pdma_edu.ko"
fi

if dmesg | grep -q 'p2pmap: loaded'; then tap_ok "p2pmap load logged"; else tap_fail "p2pmap load logged"; fi
tap_done
