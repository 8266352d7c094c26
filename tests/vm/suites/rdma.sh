#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rdma suite: RDMA on p2pgpu device memory over Soft-RoCE (rdma_rxe on a
# veth, one rxe device in loopback, GID index 1). p2pgpu's CPU mappings are
# struct-page backed (P2PDMA pages of the window, or system pages as a
# reported fallback), so ibv_reg_mr() pins them. Two parts:
#  1. p2pgpu_rdma_test (p2pgpu window_mb=1): publish node, BAR placement
#     with data written and read by RDMA WRITE/READ and checked through the
#     object's CPU mapping, pins counted while registered and released
#     after, pinned pages never evicted, fallback placement (window_full)
#     when an MR pins the whole window, free/unpublish/kill -9 under a live
#     MR;
#  2. unmodified perftest (alone with RDMA_PARTS=perftest, as the demo
#     runs it): ib_write_bw and ib_read_bw --mmap on a published
#     object through p2pgpu-rdma (BAR placement asserted from the pins it
#     saw), then again with the window pre-filled by an MR (fallback
#     placement, reason window_full). Where they are window pages but
#     GUP pins no P2PDMA page long-term (gup_p2pdma_pin no, Linux 6.2+),
#     the unmodified registration must be refused visibly and leave no
#     pin (perftest_refused). Where p2pgpu's CPU mappings use
#     system pages (p2pgpu/cpu_map "system <reason>", Linux 7.x), the
#     placement asserted is that fallback, and the window tests skip
#     saying so (rdma.<kernel>.skips). perftest's bandwidth figure is only
#     reported (under TCG its calibration may fail); success is the run
#     completing with the placement asserted.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true

# rxe_up / rxe_down: suites/lib.sh

if ! rxe_up; then
	tap_plan 1
	tap_fail "rdma_rxe on veth0"
	rxe_down
	tap_done
	exit 1
fi

uptime_cs() { awk '{ split($1, a, "."); print a[1] * 100 + a[2] }' /proc/uptime; }

# perftest_run NAME VERB RDMA_ARGS...: server under p2pgpu-rdma (device
# memory, published object), client on host memory; one TAP line that
# asserts completion and the placement line p2pgpu-rdma printed.
PT_SIZE=65536
PT_ITERS=${RDMA_ITERS:-20}
perftest_run() {
	name=$1 verb=$2 want=$3
	shift 3
	echo "rdma suite: $name" > /dev/kmsg
	timeout 240 /tests/bin/p2pgpu-rdma -s 262144 --expect "$want" \
		"$@" -- "$verb" -d rxe0 -x 1 -s $PT_SIZE -n $PT_ITERS -F -q 1 \
		> /tmp/pt-srv.out 2>&1 &
	srv=$!
	# the server is up when it listens on perftest's port 18515 (0x4853)
	i=0
	while [ $i -lt 60 ] && kill -0 $srv 2>/dev/null &&
		! grep -q ':4853 00000000:0000 0A' /proc/net/tcp; do
		sleep 1
		i=$((i + 1))
	done
	t0=$(uptime_cs)
	timeout 180 "$verb" -d rxe0 -x 1 -s $PT_SIZE -n $PT_ITERS -F -q 1 \
		10.0.0.1 > /tmp/pt-cli.out 2>&1
	crc=$?
	t1=$(uptime_cs)
	# a server whose client never came would wait forever
	[ $crc -eq 0 ] || kill $srv 2>/dev/null
	wait $srv
	src=$?
	place=$(sed -n 's/^p2pgpu-rdma: placement //p' /tmp/pt-srv.out)
	bw=$(awk -v s=$PT_SIZE '$1 == s && NF >= 5 { print $4 }' /tmp/pt-cli.out | tail -1)
	cs=$((t1 - t0))
	[ $cs -gt 0 ] || cs=1
	wall=$(awk -v b=$((PT_SIZE * PT_ITERS)) -v cs=$cs 'BEGIN { printf "%.2f", b / (cs / 100) / 1e6 }')
	grep '^p2pgpu-rdma: object' /tmp/pt-srv.out | sed 's/^/# /'
	if [ $crc -eq 0 ] && [ $src -eq 0 ]; then
		tap_ok "$name: placement $place; perftest avg ${bw:-none} MB/s, wall-clock >= $wall MB/s"
	else
		tap_fail "$name: client rc=$crc, server rc=$src (3: wrong placement), placement '${place:-none}'"
		tap_diag "$(tail -8 /tmp/pt-srv.out)"
		tap_diag "$(tail -5 /tmp/pt-cli.out)"
	fi
}

# perftest_refused NAME VERB: where CPU mappings are window pages and GUP
# pins no P2PDMA page long-term (gup_p2pdma_pin no, 6.2+), the unmodified
# pinned registration of the server must fail visibly: perftest exits
# non-zero, rxe logs the errno, p2pgpu-rdma saw no page pinned (placement
# none), and no window page is left pinned.
perftest_refused() {
	name=$1 verb=$2
	echo "rdma suite: $name" > /dev/kmsg
	n0=$(dmesg | grep -c 'rxe_reg_user_mr: returned err')
	timeout 240 /tests/bin/p2pgpu-rdma -s 262144 \
		-- "$verb" -d rxe0 -x 1 -s $PT_SIZE -n $PT_ITERS -F -q 1 \
		> /tmp/pt-srv.out 2>&1 &
	srv=$!
	i=0
	while [ $i -lt 60 ] && kill -0 $srv 2>/dev/null &&
		! grep -q ':4853 00000000:0000 0A' /proc/net/tcp; do
		sleep 1
		i=$((i + 1))
	done
	timeout 60 "$verb" -d rxe0 -x 1 -s $PT_SIZE -n $PT_ITERS -F -q 1 \
		10.0.0.1 > /tmp/pt-cli.out 2>&1
	crc=$?
	[ $crc -eq 0 ] || kill $srv 2>/dev/null
	wait $srv
	src=$?
	place=$(sed -n 's/^p2pgpu-rdma: placement //p' /tmp/pt-srv.out)
	err=$(dmesg | grep 'rxe_reg_user_mr: returned err' | tail -1 | sed 's/.*returned //')
	n1=$(dmesg | grep -c 'rxe_reg_user_mr: returned err')
	pins=$(cat /sys/bus/pci/drivers/p2pgpu/*/p2pgpu/gup_pinned_window | awk '{ s += $1 } END { print s + 0 }')
	tap_diag "$(grep -i 'MR\|mmap' /tmp/pt-srv.out | head -4)"
	if [ $src -ne 0 ] && [ $crc -ne 0 ] && [ "$n1" -gt "$n0" ] &&
		[ "${place%% *}" = none ] && [ "$pins" = 0 ]; then
		tap_ok "$name: pinned registration refused ($err), placement $place; $pins window pages pinned after"
	else
		tap_fail "$name: want refused: client rc=$crc, server rc=$src, rxe error lines $n0 -> $n1 ($err), placement '${place:-none}', window pages pinned $pins"
		tap_diag "$(tail -8 /tmp/pt-srv.out)"
		tap_diag "$(tail -5 /tmp/pt-cli.out)"
	fi
}

perftest_part() {
	tap_plan 3
	if ! insmod /tests/modules/p2pmap.ko ||
		! insmod /tests/modules/p2pgpu.ko window_mb=1 min_residency_ms=0; then
		tap_fail "insmod p2pmap p2pgpu"
		rmmod p2pmap 2>/dev/null
		return 1
	fi
	for d in /sys/class/drm/renderD*; do
		ensure_node "$d"
	done
	# The placement a pinned MR gets: the window where p2pgpu's CPU
	# mappings use it (p2pgpu/cpu_map "bar"), else the system pages the
	# mapping falls back to ("system <reason>", 7.x: p2pdma_unported).
	# Where those are window pages but GUP pins no P2PDMA page long-term
	# (features: gup_p2pdma_pin no), the registration is refused.
	cpu_map=$(cat /sys/bus/pci/drivers/p2pgpu/*/p2pgpu/cpu_map 2>/dev/null | head -1)
	case "$cpu_map" in bar) pinned_place=bar ;; *) pinned_place=fallback ;; esac
	if [ $pinned_place = bar ] &&
		grep -q '^gup_p2pdma_pin no' /sys/module/p2pmap/features; then
		pinned_place=refused
	fi
	tap_diag "p2pgpu cpu_map: ${cpu_map:-unknown}; expected placement of a pinned MR: $pinned_place"
	if [ $pinned_place = refused ]; then
		perftest_refused "ib_write_bw --mmap into device memory" ib_write_bw
		perftest_refused "ib_read_bw --mmap from device memory" ib_read_bw
	else
		perftest_run "ib_write_bw --mmap into device memory" ib_write_bw $pinned_place
		perftest_run "ib_read_bw --mmap from device memory" ib_read_bw $pinned_place
	fi
	if [ "$pinned_place" = refused ]; then
		tap_skip "ib_write_bw --mmap, window pinned by another MR" \
			"kernel pins no P2PDMA page long-term (gup_p2pdma_pin no): no MR can pin the window"
	elif [ "$pinned_place" = bar ]; then
		perftest_run "ib_write_bw --mmap, window pinned by another MR" \
			ib_write_bw fallback --fill-window rxe0
		grep -q '^p2pgpu-rdma: placement fallback (reason window_full)' \
			/tmp/pt-srv.out || tap_diag "fallback reason is not window_full"
	else
		tap_skip "ib_write_bw --mmap, window pinned by another MR" \
			"p2pgpu's CPU mappings use system pages on this kernel (cpu_map $cpu_map): no window for another MR to fill"
	fi
	rc=0
	[ "${TAP_FAILED:-0}" -eq 0 ] || rc=1
	rmmod p2pgpu || rc=1
	rmmod p2pmap || rc=1
	return $rc
}

# RDMA_PARTS=perftest (the demo): only part 2, as its own TAP document
if [ "${RDMA_PARTS:-all}" = perftest ]; then
	perftest_part
	rc=$?
	rxe_down
	exit $rc
fi

# bounded: a hung test must not hang the VM (the run has a global timeout)
printf '#!/bin/sh\nexec timeout -s KILL 600 /tests/bin/p2pgpu_rdma_test\n' \
	> /tmp/p2pgpu_rdma_test
chmod +x /tmp/p2pgpu_rdma_test
echo "rdma suite: p2pgpu_rdma_test" > /dev/kmsg
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=0" \
	/tmp/p2pgpu_rdma_test 'p2pgpu|p2pmap|rxe' > /tmp/rdma-1.tap 2>&1
rc1=$?
grep -E '^(not )?ok ' /tmp/rdma-1.tap > /dev/kmsg
perftest_part > /tmp/rdma-2.tap 2>&1
rc2=$?
grep -E '^(not )?ok ' /tmp/rdma-2.tap > /dev/kmsg
rxe_down

# one TAP document: plans summed, tests renumbered (as suites/pin.sh does)
awk '
	FNR == 1 { part++ }
	/^1\.\.[0-9]+/ && !seen[part]++ { plan += substr($1, 4) }
	{ line[++n] = $0 }
	END {
		print "TAP version 13"
		print "1.." plan
		for (i = 1; i <= n; i++) {
			l = line[i]
			if (match(l, /^(not )?ok [0-9]+/)) {
				head = substr(l, 1, RLENGTH)
				sub(/[0-9]+$/, "", head)
				print head (++t) substr(l, RLENGTH + 1)
			} else if (l ~ /^#/) {
				print l
			} else if (l !~ /^TAP version/) {
				print "# " l
			}
		}
	}' /tmp/rdma-1.tap /tmp/rdma-2.tap
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
