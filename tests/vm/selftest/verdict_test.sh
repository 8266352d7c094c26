#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of tests/vm/verdict.py: feeds it synthetic VM runs (results,
# console and dmesg logs) and checks that each one it must reject is
# rejected for the right reason, and that a clean run passes. This is what
# keeps the VM verdict from being fooled: a splat after green tests, a plan
# the suite did not meet, a skip nobody explained, a guest that died. TAP
# output; last line "verdict: N passed, N failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
V=$HERE/../verdict.py
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
n=0 pass=0 fail=0

# mkrun DIR RESULTS [CONSOLE]
mkrun() {
	mkdir -p "$1"
	printf '%b' "$2" > "$1/results.tap"
	printf '%b' "${3:-}" > "$1/console.log"
	: > "$1/dmesg.log"
}
HEALTH='# p2pmap-suite-begin: health\nTAP version 13\n1..2\nok 1 kmemleak\nok 2 taint\n# p2pmap-suite-end: health rc=0\n'
GOOD='# p2pmap-suite-begin: modload\nTAP version 13\n1..2\nok 1 a\nok 2 b\n# p2pmap-suite-end: modload rc=0\n'

# expect NAME WANT_RC QEMU_RC GREP DIR: run the verdict, check rc and output.
expect() {
	local name=$1 want=$2 qrc=$3 pat=$4 dir=$5 out rc
	n=$((n + 1))
	out=$(python3 "$V" "$dir" --name t --suites modload --qemu-rc "$qrc" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && echo "$out" | grep -qE -- "$pat"; then
		pass=$((pass + 1)); echo "ok $n $name"
	else
		fail=$((fail + 1)); echo "not ok $n $name (rc=$rc want $want, pattern '$pat')"
		echo "$out" | sed 's/^/# /'
	fi
}

echo "TAP version 13"
echo "1..12"
mkrun "$W/clean" "$GOOD$HEALTH" '[    1.0] booting\n'
expect "clean run passes" 0 1 "t: 4 passed, 0 failed" "$W/clean"

mkrun "$W/warn" "$GOOD$HEALTH" '[    2.0] WARNING: CPU: 0 PID: 1 at kernel/core/main.c:20 p2pmap_init+0x1/0x2\n[    2.1] Call Trace:\n[    2.2] ---[ end trace 0000 ]---\n'
expect "WARN after green tests fails" 1 1 "kernel splat: WARNING" "$W/warn"

mkrun "$W/kasan" "$GOOD$HEALTH" '[ 3.0] BUG: KASAN: slab-out-of-bounds in foo+0x1/0x2\n'
expect "KASAN report fails" 1 1 "kernel splat: BUG: KASAN" "$W/kasan"

mkrun "$W/lockdep" "$GOOD$HEALTH" '[ 3.0] WARNING: possible circular locking dependency detected\n'
expect "lockdep report fails" 1 1 "circular locking" "$W/lockdep"

mkrun "$W/atomic" "$GOOD$HEALTH" '[ 3.0] BUG: sleeping function called from invalid context at mm/slab.h:1\n'
expect "sleeping in atomic fails" 1 1 "sleeping function" "$W/atomic"

mkrun "$W/hung" "$GOOD$HEALTH" '[ 3.0] INFO: task foo:12 blocked for more than 60 seconds.\n'
expect "hung task fails" 1 1 "blocked for more than" "$W/hung"

mkrun "$W/short" '# p2pmap-suite-begin: modload\nTAP version 13\n1..3\nok 1 a\nok 2 b\n# p2pmap-suite-end: modload rc=0\n'"$HEALTH"
expect "fewer tests than planned fails" 1 1 "plan declares 3 tests but 2" "$W/short"

mkrun "$W/skip" '# p2pmap-suite-begin: modload\nTAP version 13\n1..2\nok 1 a\nok 2 b # SKIP no reason here\n# p2pmap-suite-end: modload rc=0\n'"$HEALTH"
expect "unexplained skip fails and is not a pass" 1 1 "t: 3 passed, 1 failed, 0 skipped" "$W/skip"

mkrun "$W/notok" '# p2pmap-suite-begin: modload\nTAP version 13\n1..2\nok 1 a\nnot ok 2 b\n# p2pmap-suite-end: modload rc=0\n'"$HEALTH"
expect "failed test fails" 1 1 "1 test\\(s\\) failed" "$W/notok"

mkrun "$W/died" '# p2pmap-suite-begin: modload\nTAP version 13\n1..2\nok 1 a\n'
expect "guest death mid-suite fails" 1 0 "no end marker|never started" "$W/died"

mkrun "$W/timeout" "$GOOD$HEALTH"
expect "QEMU timeout fails" 1 124 "timed out" "$W/timeout"

mkrun "$W/leak" "$GOOD"'# p2pmap-suite-begin: health\nTAP version 13\n1..2\nnot ok 1 kmemleak: 1 unreferenced object(s)\nok 2 taint\n# p2pmap-suite-end: health rc=1\n' '[ 9.0] kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)\n'
expect "kmemleak leak fails" 1 3 "kmemleak" "$W/leak"

echo "verdict: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
