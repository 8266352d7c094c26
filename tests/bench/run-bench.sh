#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: the full p2pmap benchmark. Boots the test VM once (switch
# topology, 4 GiB) with the bench_full suite, which runs p2pmap-bench in
# the guest, and svm_bench_full (p2pgpu-svm-bench, SVM migration against
# test_hmm's dmirror); takes their figures out of the TAP stream into
# out/bench/bench.json, bench.txt and svm_bench.txt; checks the JSON with
# bench_report.py; and renders docs/benchmarks.md from them. A missed target
# is not a failure (the figures come from an emulated debug kernel); a
# failed measurement, an incomplete JSON or a kernel splat is.
# The whole script is one function, parsed before it runs.
main() {
set -uo pipefail
. "$(dirname "$0")/../vm/lib/common.sh"

usage() {
	cat <<'USAGE'
NAME
    run-bench.sh - run p2pmap-bench in the test VM and record its figures

SYNOPSIS
    tests/bench/run-bench.sh [--quick] [--no-docs] [--mem SIZE]
                             [--timeout SEC] [--kernel release|test]

DESCRIPTION
    Boots the test VM (tests/vm/run.sh, switch topology) with the
    bench_full and svm_bench_full suites (bench and svm_bench with
    --quick), extracts the benchmarks' JSON and tables into out/bench/, validates the JSON and, unless
    --no-docs or --quick, writes docs/benchmarks.md from it. Build first
    with `make vm-prereqs` (`make bench` does both).

OPTIONS
    --quick        the smoke-test run (p2pmap-bench --quick); implies --no-docs
    --no-docs      do not touch docs/benchmarks.md
    --mem SIZE     guest memory (default 4G: 100k live imports need it)
    --timeout SEC  QEMU timeout (default 3600)
    --kernel K     release (default): the test kernel's configuration with
                   the debug options of tests/vm/config/p2pmap-bench-off.config
                   turned off (KASAN, lockdep, DMA-API debug, ...), compiled
                   -O2 like a distribution kernel (the test kernel keeps
                   tinyconfig's -Os), and
                   booted with kmemleak=off, built once and cached like
                   the test kernel, with its own modules and programs
                   under out/bench-release/;
                   test: the debug test kernel every other suite uses

FILES
    out/bench/bench.json   the benchmark's JSON
    out/bench/bench.txt    its table
    out/vm/bench/          the VM run (results.tap, console.log, ...)
    docs/benchmarks.md     the rendered figures

EXIT STATUS
    0 the VM run passed and the JSON is complete; 1 otherwise; 2 usage
USAGE
}

SUITE=bench_full,svm_bench_full MEM=4G TIMEOUT=3600 DOCS=1 MODE=full BKERNEL=release
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) SUITE=bench,svm_bench MODE=quick DOCS=0 ;;
	--no-docs) DOCS=0 ;;
	--mem) MEM=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--kernel) BKERNEL=${2:?}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

OUT=$P2PMAP_OUT/bench
RUN=$P2PMAP_OUT/vm/bench
case "$BKERNEL" in
test) ;;
release)
	# Same source, same fragment minus the debug set: a separate cache
	# key, so the test kernel stays as it is.
	rel=$P2PMAP_OUT/bench-release
	mkdir -p "$rel"
	off=$P2PMAP_ROOT/tests/vm/config/p2pmap-bench-off.config
	syms=$(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$off" | paste -sd'|')
	grep -v -E "^($syms)(_[A-Z0-9_]*)?=" "$P2PMAP_ROOT/tests/vm/config/p2pmap-test.config" \
		> "$rel/p2pmap-bench.config"
	grep -v '^# SPDX' "$off" >> "$rel/p2pmap-bench.config"
	export KFRAG=$rel/p2pmap-bench.config P2PMAP_OUT=$rel
	# kmemleak stays built in (the same fragment) but is booted off: its
	# stack unwinding on every allocation was most of the import cost
	# measured (import/page-walk ratio 7.5 with it, 2.25 without). The
	# guest's health check reports that as an explained skip.
	export P2PMAP_VM_APPEND="kmemleak=off${P2PMAP_VM_APPEND:+ $P2PMAP_VM_APPEND}"
	log "bench: release kernel ($KFRAG)"
	bash "$P2PMAP_ROOT/tests/vm/build-kernel.sh" >/dev/null || exit 1
	bash "$P2PMAP_ROOT/scripts/build-modules.sh" test || exit 1
	make -s -C "$P2PMAP_ROOT/tests/selftests" KSRC="$(ksrc_dir)" OUT="$rel/bin" || exit 1
	;;
*) echo "run-bench.sh: unknown kernel '$BKERNEL' (release or test)" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
rm -f "$OUT/bench.json" "$OUT/bench.txt"
bash "$P2PMAP_ROOT/tests/vm/run.sh" --name bench --out "$RUN" --topology switch \
	--suites "$SUITE" --mem "$MEM" --timeout "$TIMEOUT"
vrc=$?

# The guest prints both documents as TAP diagnostics ("# " + line)
# between marker lines; the serial port adds carriage returns.
extract() {
	tr -d '\r' < "$RUN/results.tap" |
		sed -n "/^# p2pmap-bench-$1-begin\$/,/^# p2pmap-bench-$1-end\$/p" |
		sed '1d;$d' | sed -E 's/^# ?//'
}
extract json > "$OUT/bench.json"
extract table > "$OUT/bench.txt"
# p2pgpu-svm-bench (svm_bench suites): its table and "svm_bench" lines.
tr -d '\r' < "$RUN/results.tap" |
	sed -n '/^# p2pmap-suite-begin: svm_bench/,/^# p2pmap-suite-end: svm_bench/p' |
	grep -E '^# (median |to |import by|system memory|device-private|svm_bench )' | sed -E 's/^# ?//' > "$OUT/svm_bench.txt"
if [ ! -s "$OUT/bench.json" ]; then
	log "bench: no JSON in $RUN/results.tap (see $RUN/console.log)"
	exit 1
fi
cat "$OUT/bench.txt"
if ! python3 "$P2PMAP_ROOT/tests/bench/bench_report.py" check "$OUT/bench.json"; then
	log "bench: $OUT/bench.json is incomplete or inconsistent"
	exit 1
fi
verdict=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%s: %s (%d passed, %d failed, %d skipped)" % (d["name"], "PASS" if not d["problems"] else "FAIL", sum(s["passed"] for s in d["suites"]), sum(s["failed"] for s in d["suites"]), sum(s["skipped"] for s in d["suites"])))' "$RUN/summary.json" 2>/dev/null)
if [ "$vrc" -ne 0 ]; then
	log "bench: the VM run failed ($verdict); docs/benchmarks.md left as it was"
	exit 1
fi
log "bench: $MODE run recorded in $OUT/bench.json and $OUT/bench.txt"
if [ "$DOCS" = 1 ]; then
	src=$(git -C "$P2PMAP_ROOT" describe --always --dirty 2>/dev/null || echo unknown)
	branch=$(git -C "$P2PMAP_ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
	python3 "$P2PMAP_ROOT/tests/bench/bench_report.py" render "$OUT/bench.json" \
		"$OUT/bench.txt" "$P2PMAP_ROOT/docs/benchmarks.md" \
		--command "make bench" --source "$src (branch $branch)" \
		--verdict "$verdict" \
		--previous "$P2PMAP_ROOT/tests/bench/reference/linear-walk.json" || exit 1
	if [ -s "$OUT/svm_bench.txt" ]; then
		{
			echo
			echo "## Shared virtual memory: migration against test_hmm's dmirror"
			echo
			echo "\`p2pgpu-svm-bench --$MODE\` (tests/bench, suite svm_bench_full) in the"
			echo "same run: an anonymous range migrated to p2pgpu's device-private memory"
			echo "and back, and the same size with test_hmm's dmirror, interleaved; every"
			echo "byte verified. The to-device ratio compares p2pgpu's migration plus a"
			echo "device read of the range with dmirror's MIGRATE_TO_DEV, which does both."
			echo
			echo '```'
			cat "$OUT/svm_bench.txt"
			echo '```'
		} >> "$P2PMAP_ROOT/docs/benchmarks.md"
	fi
	log "bench: wrote docs/benchmarks.md"
fi
exit 0
}
main "$@"
exit $?
