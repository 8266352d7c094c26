#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: the most important thing p2pmap can do today, shown on the
# VM test bed. Installs what is missing, builds (or reuses) the test kernel
# and modules, boots the PCIe-switch topology and then the root-bus one, and
# prints what happened: the features p2pmap found, where the devices sit,
# an emulated DMA engine importing GPU buffer objects through p2pmap, a copy
# between the two emulated GPUs through p2pmap with its placement and
# bandwidth, an emulated DMA engine writing into an emulated GPU's BAR by
# PCI peer-to-peer DMA (checked again from the host, in the file that backs
# the BAR), the same DMA refused where Linux does not allow P2P, and an
# RDMA figure from Soft-RoCE. Exit status 0 only if every step verified.
# The whole script is one function, parsed before it runs, so editing the
# file during a run cannot change the run.
main() {
set -uo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"
cd "$P2PMAP_ROOT"

# The demo boots the 7.3 debug test kernel (Debian's linux-source-7.3 with
# our fragment and the rxe patches): today's kernel, where RDMA reaches
# P2PDMA pages through On-Demand Paging. DEMO_KERNEL=test shows 6.1.
DEMO_KERNEL=${DEMO_KERNEL:-7.3}
case "$DEMO_KERNEL" in
7.3) prereqs=vm-prereqs-7.3 ;;
test) prereqs=vm-prereqs ;;
*) echo "p2pmap demo: DEMO_KERNEL is 7.3 or test"; exit 2 ;;
esac
mkdir -p "$P2PMAP_OUT"
echo "p2pmap demo: preparing (packages, the $DEMO_KERNEL test kernel, modules; the first run fetches and builds a kernel: ~30 min on 2 cores)"
make -s $prereqs > "$P2PMAP_OUT/demo-build.log" 2>&1 || {
	tail -30 "$P2PMAP_OUT/demo-build.log"
	echo "p2pmap demo: build failed (log: $P2PMAP_OUT/demo-build.log)"
	exit 1
}
rc=0
passed=0 failed=0 skipped=0 host=
for topo in switch rootbus; do
	name=demo-$topo
	echo
	echo "=== topology: $topo ==="
	bash tests/vm/run.sh --name "$name" --topology "$topo" --suites demo --keep-mem --kernel "$DEMO_KERNEL" \
		> "$P2PMAP_OUT/$name.log" 2>&1
	vrc=$?
	dir=$P2PMAP_OUT/vm/$name
	if [ ! -f "$dir/results.tap" ]; then
		echo "p2pmap demo: the $topo VM produced no results (log: $P2PMAP_OUT/$name.log)"
		tail -20 "$P2PMAP_OUT/$name.log"
		rc=1
		continue
	fi
	# The serial port writes CRLF line ends.
	tr -d '\r' < "$dir/results.tap" > "$dir/results.txt"
	grep '^# demo:' "$dir/results.txt" | sed -E 's/^# demo: ?//' | grep -vE '^  (bar_offset|message|provider_bar_size)='
	# The steps the guest checked: TAP lines of the demo suite alone (the
	# run adds a health suite: kmemleak, taint, which the verdict reads).
	sed -n '/^# p2pmap-suite-begin: demo$/,/^# p2pmap-suite-end: demo /p' \
		"$dir/results.txt" > "$dir/demo-steps.txt"
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$dir/demo-steps.txt")
	passed=$((passed + $(grep -cE '^ok [0-9]+ ' "$dir/demo-steps.txt") - s))
	skipped=$((skipped + s))
	failed=$((failed + $(grep -cE '^not ok [0-9]+ ' "$dir/demo-steps.txt")))
	# Host-side proof: the message must be in the file QEMU backs the BAR
	# with, at the offset the guest reported. Compared as files: the BAR
	# holds NUL bytes wherever nothing was written.
	if [ "$topo" = switch ]; then
		off=$(sed -n 's/^# demo:   bar_offset=//p' "$dir/results.txt")
		msg=$(sed -n 's/^# demo:   message=//p' "$dir/results.txt")
		size=$(sed -n 's/^# demo:   provider_bar_size=//p' "$dir/results.txt")
		mem=$dir/gpu0.mem
		[ "${size:-0}" = $((32 << 20)) ] && mem=$dir/gpu1.mem
		if [ -n "$off" ] && [ -n "$msg" ] && [ -f "$mem" ] &&
			printf '%s' "$msg" > "$dir/message.want" &&
			dd if="$mem" of="$dir/message.got" bs=1 skip=$((off)) count=${#msg} 2>/dev/null &&
			cmp -s "$dir/message.want" "$dir/message.got"; then
			echo "host check: $(basename "$mem") (the file behind the BAR) holds the message at offset $off"
			host=verified
		else
			echo "host check: FAILED: the message the guest reported (offset ${off:-none}) is not in $(basename "$mem"), the file behind the BAR"
			[ -f "$dir/message.got" ] && echo "host check: found there instead: $(od -An -c -N 48 "$dir/message.got" | tr -s ' ' | head -2 | tr '\n' ' ')"
			host=FAILED
			failed=$((failed + 1))
			rc=1
		fi
	fi
	rm -f "$dir"/gpu*.mem
	grep -E '^(demo-[a-z]+): (PASS|FAIL)$|PROBLEM' "$P2PMAP_OUT/$name.log" | sed 's/^ */verdict: /'
	[ $vrc -eq 0 ] || rc=1
done
echo
if [ $rc -eq 0 ]; then
	echo "p2pmap demo: PASS: $passed steps verified in two VMs ($skipped not applicable on the root bus), the host found the P2P write in the BAR file, and the kernel logged no splat (logs: $P2PMAP_OUT/vm/demo-*)"
else
	echo "p2pmap demo: FAILED: $failed step(s) failed, $passed verified, host check ${host:-not reached} (logs: $P2PMAP_OUT/vm/demo-*, $P2PMAP_OUT/demo-*.log)"
fi
exit $rc
}
main "$@"
exit $?
