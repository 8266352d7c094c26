#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# odp_perftest suite: unmodified perftest with On-Demand Paging on p2pgpu
# device memory over Soft-RoCE, and where its memory was. p2pgpu-rdma
# publishes an object and runs the ib_write_bw / ib_read_bw server with
# --odp --mmap=<publish node>; the client runs on host memory. The netdev
# MTU is raised so rxe's active MTU is 4096 and perftest runs with -m 4096
# and whole 64 KiB messages: the one configuration Debian's stock 7.3.4
# rxe ODP copy gets right (see the rxe_odp suite; perftest checks no data,
# the rxe_odp suite does).
#
# Pass: both sides complete, no page was pinned (an ODP MR pins nothing),
# and the object's pages were in the window (P2PDMA pages, the placement)
# while it ran, as p2pgpu-rdma's "resident during the run" line reports.
# Needs a kernel whose ODP maps P2PDMA pages (feature odp_p2pdma) and CPU
# mappings of window pages (p2pgpu/cpu_map bar); elsewhere it skips,
# saying which is missing.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
IP=/usr/sbin/ip
SIZE=65536
ITERS=${ODP_ITERS:-200}

tap_plan 2
if ! rxe_up; then
	tap_fail "rdma_rxe on veth0"
	tap_fail "rdma_rxe on veth0"
	rxe_down
	exit 1
fi
$IP link set veth0 mtu 9000 && $IP link set veth1 mtu 9000
if ! insmod /tests/modules/p2pmap.ko ||
	! insmod /tests/modules/p2pgpu.ko window_mb=1 min_residency_ms=0; then
	tap_fail "insmod p2pmap p2pgpu"
	tap_fail "insmod p2pmap p2pgpu"
	rxe_down
	exit 1
fi
for d in /sys/class/drm/renderD*; do
	ensure_node "$d"
done
tap_diag "$(rdma link show rxe0/1 2>&1); active MTU: $(ibv_devinfo -d rxe0 2>/dev/null | sed -n 's/.*active_mtu:[[:space:]]*//p')"

cpu_map=$(cat /sys/bus/pci/drivers/p2pgpu/*/p2pgpu/cpu_map 2>/dev/null | head -1)
odp=$(grep '^odp_p2pdma ' /sys/module/p2pmap/features)

# odp_run NAME VERB
odp_run() {
	name=$1 verb=$2
	echo "odp_perftest: $name" > /dev/kmsg
	timeout 240 /tests/bin/p2pgpu-rdma -s $((4 * SIZE)) \
		-- "$verb" -d rxe0 -x 1 -s $SIZE -n $ITERS -F -q 1 -m 4096 --odp \
		> /tmp/odp-srv.out 2>&1 &
	srv=$!
	i=0
	while [ $i -lt 60 ] && kill -0 $srv 2>/dev/null &&
		! grep -q ':4853 00000000:0000 0A' /proc/net/tcp; do
		sleep 1
		i=$((i + 1))
	done
	timeout 180 "$verb" -d rxe0 -x 1 -s $SIZE -n $ITERS -F -q 1 -m 4096 \
		10.0.0.1 > /tmp/odp-cli.out 2>&1
	crc=$?
	[ $crc -eq 0 ] || kill $srv 2>/dev/null
	wait $srv
	src=$?
	pinned=$(sed -n 's/^p2pgpu-rdma: placement //p' /tmp/odp-srv.out)
	res=$(sed -n 's/^p2pgpu-rdma: resident during the run: //p' /tmp/odp-srv.out)
	win=$(echo "$res" | sed -n 's/^up to \([0-9]*\) pages in the window.*/\1/p')
	sys=$(echo "$res" | sed -n 's/.*up to \([0-9]*\) pages CPU-mapped as system.*/\1/p')
	bw=$(awk -v s=$SIZE '$1 == s && NF >= 5 { print $4 }' /tmp/odp-cli.out | tail -1)
	mtu=$(grep -m1 '^ Mtu' /tmp/odp-srv.out | tr -s ' ')
	tap_diag "$(grep -E '^p2pgpu-rdma: object|ODP|Mtu|mmap' /tmp/odp-srv.out | head -5)"
	if [ $crc -eq 0 ] && [ $src -eq 0 ] && [ "${pinned%% *}" = none ] &&
		[ "${win:-0}" -gt 0 ] && [ "${sys:-1}" -eq 0 ]; then
		tap_ok "$name: placement BAR (window P2PDMA pages, ODP: $res; pinned: $pinned);$mtu; perftest avg ${bw:-none} MB/s"
	else
		tap_fail "$name: client rc=$crc, server rc=$src, pinned '$pinned', resident '$res'"
		tap_diag "$(tail -8 /tmp/odp-srv.out)"
		tap_diag "$(tail -5 /tmp/odp-cli.out)"
	fi
}

case "$odp" in "odp_p2pdma yes"*) odp_ok=1 ;; *) odp_ok=0 ;; esac
if [ "$cpu_map" != bar ] || [ $odp_ok = 0 ]; then
	why="needs CPU mappings of window pages (p2pgpu/cpu_map: ${cpu_map:-none}) and ODP of P2PDMA pages (${odp:-no odp_p2pdma row})"
	tap_skip "ib_write_bw --odp --mmap into device memory" "$why"
	tap_skip "ib_read_bw --odp --mmap from device memory" "$why"
else
	odp_run "ib_write_bw --odp --mmap into device memory" ib_write_bw
	odp_run "ib_read_bw --odp --mmap from device memory" ib_read_bw
fi
rc=0
[ "${TAP_FAILED:-0}" -eq 0 ] || rc=1
rmmod p2pgpu || rc=1
rmmod p2pmap || rc=1
rxe_down
exit $rc
