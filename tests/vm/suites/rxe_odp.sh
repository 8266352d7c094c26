#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rxe_odp suite: byte-exact data checks of ODP memory regions on Soft-RoCE
# (tests/selftests/rxe_odp/rxe_odp_data: 1 MiB RDMA WRITE into an ODP MR,
# READ from it, WRITE with it as the local source, 16- and 64-byte writes
# at in-page offsets), on anonymous memory, at path MTU 4096 and 1024.
#
# Debian's stock 7.3.4 (P2PMAP_KERNEL=7.3-stock) cannot be patched and has
# the rxe ODP copy bug: __rxe_odp_mr_copy() ignores the in-page offset and
# does not advance the other buffer from page to page. There, only the
# configuration that is correct on it counts as pass/fail: MTU 4096 with
# whole, page-aligned 1 MiB transfers. Every other check runs too, and is
# reported as an expected failure (TAP "not ok ... # TODO", explained in
# rxe_odp.7.3-stock.xfails, never counted as a pass) only if it failed
# exactly the way the bug fails (the program's "MODEL rxe_odp_offset_bug:
# fits" line). A known-broken check that passes, or fails another way, is
# a failure. On every other kernel all checks are pass/fail.
. /suites/lib.sh
BIN=/tests/bin/rxe_odp_data
PATCH=tests/vm/patches/7.3/0001-RDMA-rxe-Fix-the-in-page-offset-and-the-buffer-advan.patch
BUG="known kernel bug: rxe ODP in-page offset, fixed by $PATCH in our 7.3 test kernel"

# known_broken MTU TEST: is TEST at MTU broken on this (unpatched) kernel?
known_broken() {
	[ "$P2PMAP_KERNEL" = 7.3-stock ] || return 1
	case "$1:$2" in
	4096:write_1mib | 4096:read_1mib | 4096:write_odp_source) return 1 ;;
	esac
	return 0
}

if ! rxe_up; then
	tap_plan 1
	tap_fail "rdma_rxe on veth0"
	rxe_down
	exit 1
fi

# run MTU: one run of the program; its TAP is re-emitted into the suite's.
N=0
run() {
	mtu=$1
	echo "rxe_odp suite: mtu $mtu" > /dev/kmsg
	timeout -s KILL 300 $BIN --mtu "$mtu" > /tmp/odp-$mtu.out 2>&1
	echo "rc=$?" >> /tmp/odp-$mtu.out
	sed 's/^/# /' /tmp/odp-$mtu.out > /tmp/odp-$mtu.diag
	# "STATUS NAME BLOCKFILE" per test: the lines from its RUN to its result
	awk -v d=/tmp/odp-$mtu '
		/^#  RUN / { blk = ++n; f = d "." blk; printf "" > f; next }
		/^(not )?ok [0-9]+ / {
			st = ($1 == "ok") ? "ok" : "notok"
			name = ($1 == "ok") ? $3 : $4
			sub(/^odp\./, "", name)
			skip = ($0 ~ / # SKIP/) ? "skip" : "run"
			print st, name, skip, (blk ? f : "/dev/null")
			blk = 0
			next
		}
		blk { print > f }' /tmp/odp-$mtu.out > /tmp/odp-$mtu.list
}

run 4096
run 1024
total=$(cat /tmp/odp-4096.list /tmp/odp-1024.list | wc -l)
tap_plan $((total > 0 ? total : 1))
[ "$total" -gt 0 ] || tap_fail "rxe_odp_data produced no results"
for mtu in 4096 1024; do
	cat /tmp/odp-$mtu.diag
	while read -r st name skip blk; do
		what="MTU $mtu anonymous memory: $name"
		if [ "$skip" = skip ]; then
			tap_skip "$what" "$(grep -m1 'SKIP' "$blk" /tmp/odp-$mtu.out | sed 's/.*SKIP *//')"
		elif known_broken "$mtu" "$name"; then
			if [ "$st" = ok ]; then
				tap_fail "$what: the known rxe ODP bug did not show on $P2PMAP_KERNEL (data correct); is this kernel patched?"
			elif grep -q 'MODEL rxe_odp_offset_bug: fits' "$blk"; then
				TAP_N=$((TAP_N + 1))
				echo "not ok $TAP_N $what # TODO $BUG"
			else
				tap_fail "$what: failed, and not the way the known rxe ODP bug fails"
			fi
		elif [ "$st" = ok ]; then
			tap_ok "$what: every byte correct"
		else
			tap_fail "$what"
		fi
	done < /tmp/odp-$mtu.list
done
rxe_down
tap_done
