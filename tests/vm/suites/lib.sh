# SPDX-License-Identifier: GPL-2.0
#
# TAP helpers for the guest-side suite scripts (busybox sh). Sourced, never
# run. A suite calls tap_plan N first, then exactly N of tap_ok/tap_fail/
# tap_skip/tap_check; tap_done exits 0 only if nothing failed. The host's
# verdict.py re-counts all of this independently.

TAP_N=0
TAP_FAILED=0
tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N $*"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N $*"; }
tap_skip() { TAP_N=$((TAP_N + 1)); name=$1; shift; echo "ok $TAP_N $name # SKIP $*"; }
tap_diag() { echo "$*" | sed 's/^/# /'; }
# tap_check NAME CMD...: ok if CMD succeeds, else not ok with its output.
tap_check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name"
		tap_diag "$out"
	fi
}
tap_done() { [ "$TAP_FAILED" -eq 0 ]; exit $?; }
