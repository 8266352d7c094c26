#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runner for the p2pmap userland unit tests. Runs each TAP program, nests its
# output as a TAP subtest, and checks more than "ok" lines: the plan must be
# present and met, and the exit status must be 0 (so sanitizer reports and
# LeakSanitizer's exit-time leak check fail the run even after every test
# point passed). Tests that never ran because a program died count as
# failed. With --canary PROG, PROG must be *failed* by LeakSanitizer, proving
# leak detection works. The last line is the summary:
#   unit: P passed, F failed[, S skipped]
# and the exit status is non-zero if F > 0.
#
# Usage: run-tests.sh [--canary PROG] PROG...
# Environment: UNIT_TIMEOUT (seconds per program, default 300).

set -u

canary=
if [ "${1:-}" = --canary ]; then
	canary=$2
	shift 2
fi

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
timeout_s=${UNIT_TIMEOUT:-300}

passed=0
failed=0
skipped=0
n=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "TAP version 13"
echo "1..$(( $# + (${#canary} > 0) ))"

if [ -n "$canary" ]; then
	n=$((n + 1))
	timeout "$timeout_s" "$canary" >"$log" 2>&1
	rc=$?
	sed 's/^/    # /' "$log" | head -n 20
	if [ "$rc" -ne 0 ] && grep -q 'LeakSanitizer' "$log"; then
		passed=$((passed + 1))
		echo "ok $n - leak canary is caught by LeakSanitizer (exit $rc)"
	else
		failed=$((failed + 1))
		echo "not ok $n - leak canary NOT caught (exit $rc): leak checks are not working"
	fi
fi

for prog in "$@"; do
	n=$((n + 1))
	name=$(basename "$prog")
	echo "# $name"
	timeout "$timeout_s" "$prog" >"$log" 2>&1
	rc=$?
	sed 's/^/    /' "$log"

	# plan seen ok not_ok skip
	read -r plan seen pok pnok pskip < <(awk '
		/^1\.\.[0-9]+$/ && plan == "" { plan = substr($0, 4) }
		/^ok [0-9]+/ { seen++; if ($0 ~ /# SKIP/) skip++; else ok++ }
		/^not ok [0-9]+/ { seen++; nok++ }
		END { printf "%s %d %d %d %d\n", plan == "" ? "-1" : plan, seen, ok, nok, skip }
	' "$log")

	passed=$((passed + pok))
	failed=$((failed + pnok))
	skipped=$((skipped + pskip))

	problem=
	if [ "$plan" -lt 0 ]; then
		problem="no TAP plan"
		failed=$((failed + 1))
	elif [ "$seen" -ne "$plan" ]; then
		problem="planned $plan tests, saw $seen"
		missing=$((plan - seen))
		[ "$missing" -lt 1 ] && missing=1
		failed=$((failed + missing))
	elif [ "$rc" -ne 0 ] && [ "$pnok" -eq 0 ]; then
		problem="exit status $rc with every test passing (sanitizer or leak report?)"
		failed=$((failed + 1))
	fi
	[ "$rc" -eq 124 ] && problem="timed out after ${timeout_s}s${problem:+; $problem}"

	if [ -z "$problem" ] && [ "$rc" -eq 0 ] && [ "$pnok" -eq 0 ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name${problem:+ # $problem}"
	fi
done

summary="unit: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
