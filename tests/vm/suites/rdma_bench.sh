#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rdma_bench suite: perftest on host memory, on p2pgpu BAR placement and on
# fallback placement (window pre-filled by another MR), over one Soft-RoCE
# device in loopback: ib_write_bw, ib_read_bw and ib_write_lat, 4 KiB to
# 1 MiB. Long: run-rdma-bench.sh raises the guest's per-suite timeout. Not part of `make check`: `make bench-rdma`
# (tests/bench/run-rdma-bench.sh) runs it and renders
# docs/rdma-benchmarks.md. The server side's buffer is the one placed
# (device memory through p2pgpu-rdma), the client's is host memory.
#
# Every figure is one line "# rdmabench: MEM TEST SIZE VALUE UNIT SOURCE
# PLACEMENT": SOURCE is "perftest" (its own average: MB/s, or usec for
# t_avg), or "wall" when perftest's clock calibration failed under
# emulation (it prints 0.00) and the figure is bytes over the client's
# wall-clock time, a lower bound; a run that did not complete prints
# "failed". A TAP line per (memory, test) asserts that every size ran and
# the placement was the expected one.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
# 4 KiB to 1 MiB in steps of 4x (the debug kernel under TCG moves well
# under 1 MB/s through rxe; every power of two with --sizes), except that
# the top size is 1020 KiB: 6.1's rxe_mr_copy() reads one map pointer past
# the end of its map array when a copy ends at the end of an MR of a
# multiple of 256 pages (perftest's buffer is twice the message size, so
# 512 KiB and 1 MiB messages hit it; KASAN slab-out-of-bounds, measured).
SIZES="4096 16384 65536 262144 1044480"
# run-rdma-bench.sh --sizes: rdma_bench_sizes=a,b,c on the kernel command line
for arg in $(cat /proc/cmdline); do
	case "$arg" in rdma_bench_sizes=*) SIZES=$(echo "${arg#*=}" | tr ',' ' ') ;; esac
done
uptime_cs() { awk '{ split($1, a, "."); print a[1] * 100 + a[2] }' /proc/uptime; }

# rxe_up / rxe_down: suites/lib.sh

# iterations: about 1 MiB per bandwidth run (at least 8; perftest wants 5),
# about 200 KiB each way for latency (at least 5);
# the debug kernel under TCG moves well under 1 MB/s through rxe
iters() {
	case "$1" in
	ib_write_lat) n=$((204800 / $2)); [ $n -ge 5 ] || n=5; echo $n ;;
	*) n=$((1048576 / $2)); [ $n -ge 8 ] || n=8; echo $n ;;
	esac
}

# one MEM TEST SIZE run; prints the rdmabench line, returns 0 if it completed
# with the expected placement
bench_one() {
	mem=$1 test=$2 size=$3
	n=$(iters "$test" "$size")
	case "$mem" in
	host) wrap= ;;
	bar) wrap="/tests/bin/p2pgpu-rdma -s $((4 * size + 65536)) --expect bar --" ;;
	fallback) wrap="/tests/bin/p2pgpu-rdma -s $((4 * size + 65536)) --expect fallback --fill-window rxe0 --" ;;
	esac
	# -q 1 (perftest maps only the first buffer) exists for bw tests only
	case "$test" in *_lat) q= ;; *) q="-q 1" ;; esac
	# shellcheck disable=SC2086 # $wrap and $q are words
	timeout 300 $wrap $test -d rxe0 -x 1 -s "$size" -n "$n" -F $q \
		> /tmp/rb-srv.out 2>&1 &
	srv=$!
	i=0
	while [ $i -lt 60 ] && kill -0 $srv 2>/dev/null &&
		! grep -q ':4853 00000000:0000 0A' /proc/net/tcp; do
		sleep 1
		i=$((i + 1))
	done
	t0=$(uptime_cs)
	# shellcheck disable=SC2086
	timeout 300 $test -d rxe0 -x 1 -s "$size" -n "$n" -F $q 10.0.0.1 \
		> /tmp/rb-cli.out 2>&1
	crc=$?
	t1=$(uptime_cs)
	[ $crc -eq 0 ] || kill $srv 2>/dev/null
	wait $srv
	src=$?
	place=$(sed -n 's/^p2pgpu-rdma: placement \([a-z]*\).*/\1/p' /tmp/rb-srv.out)
	[ "$mem" = host ] && place=host
	if [ $crc -ne 0 ] || [ $src -ne 0 ]; then
		echo "# rdmabench: $mem $test $size failed - - ${place:-none}"
		tail -3 /tmp/rb-srv.out /tmp/rb-cli.out | sed 's/^/#   /'
		return 1
	fi
	cs=$((t1 - t0))
	[ $cs -gt 0 ] || cs=1
	case "$test" in
	ib_write_lat)
		v=$(awk -v s="$size" '/t_avg/ { for (i = 1; i <= NF; i++) if ($i ~ /^t_avg/) c = i }
			c && $1 == s { print $c; exit }' /tmp/rb-cli.out)
		unit=usec src_=perftest
		if [ -z "$v" ] || awk -v v="$v" 'BEGIN { exit !(v <= 0) }'; then
			v=$(awk -v cs=$cs -v n="$n" 'BEGIN { printf "%.2f", cs * 10000 / n / 2 }')
			src_=wall
		fi ;;
	*)
		v=$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' /tmp/rb-cli.out | tail -1)
		unit=MB/s src_=perftest
		if [ -z "$v" ] || awk -v v="$v" 'BEGIN { exit !(v <= 0) }'; then
			v=$(awk -v b=$((size * n)) -v cs=$cs 'BEGIN { printf "%.2f", b / (cs / 100) / 1e6 }')
			src_=wall
		fi ;;
	esac
	echo "# rdmabench: $mem $test $size $v $unit $src_ $place"
	[ "$place" = "$mem" ]
}

if ! rxe_up; then
	tap_plan 1
	tap_fail "rdma_rxe on veth0"
	tap_done
fi
if ! insmod /tests/modules/p2pmap.ko ||
	! insmod /tests/modules/p2pgpu.ko window_mb=8 min_residency_ms=0; then
	tap_plan 1
	tap_fail "insmod p2pmap p2pgpu"
	tap_done
fi
for d in /sys/class/drm/renderD*; do
	ensure_node "$d"
done
tap_plan 9
echo "# rdmabench-begin"
for mem in host bar fallback; do
	for test in ib_write_bw ib_read_bw ib_write_lat; do
		ok=0 bad=0
		for size in $SIZES; do
			echo "rdma_bench: $mem $test $size" > /dev/kmsg
			if bench_one "$mem" "$test" "$size"; then
				ok=$((ok + 1))
			else
				bad=$((bad + 1))
			fi
		done
		tap_check "$mem $test: $ok sizes completed with placement $mem, $bad not" [ $bad -eq 0 ]
	done
done
echo "# rdmabench-end"
rmmod p2pgpu
rmmod p2pmap
rxe_down
tap_done
