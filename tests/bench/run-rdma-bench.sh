#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-rdma`: perftest on host memory, p2pgpu BAR placement and
# fallback placement in one VM run (suite rdma_bench), then
# docs/rdma-benchmarks.md (table, ratios, command) and
# docs/rdma-benchmarks.png (gnuplot) from its figures. With --kernel 7.3 or
# 7.3-stock: On-Demand Paging MRs (perftest --odp) and the ODP
# invalidate-to-refault latency next to p2pmap's own importer protocol. A run that does not
# complete, or a wrong placement, fails; missed targets do not (these are
# Soft-RoCE figures on an emulated machine).
main() {
set -uo pipefail
. "$(dirname "$0")/../vm/lib/common.sh"

usage() {
	cat <<'USAGE'
NAME
    run-rdma-bench.sh - RDMA benchmark on p2pgpu device memory in the VM

SYNOPSIS
    tests/bench/run-rdma-bench.sh [--kernel K] [--no-docs]
                                  [--sizes "S1 S2 ..."] [--timeout SEC]

DESCRIPTION
    Boots the test VM (switch topology) with the rdma_bench suite:
    ib_write_bw, ib_read_bw and ib_write_lat over one Soft-RoCE device in
    loopback, with the server's buffer in host memory, in a p2pgpu object
    placed in the BAR window, and in one that falls back to system pages
    because another MR pins the whole window; sizes 4, 16, 64, 256 and 1020
    KiB (1 MiB trips an rxe bug of 6.1, see suites/rdma_bench.sh). Writes
    out/bench/rdma-bench.tsv and, unless --no-docs, docs/rdma-benchmarks.md
    and docs/rdma-benchmarks.png. Build first with `make vm-prereqs`
    (`make bench-rdma` does both). Installs gnuplot-nox with apt if it is
    missing.

    With --kernel 7.3-stock (Debian's stock 7.3 image, the release
    kernel) or 7.3 (the debug test kernel), `make bench-rdma
    KERNEL=7.3-stock`: the server's MR is an On-Demand Paging MR
    (perftest --odp), the way upstream NICs reach P2PDMA pages since 6.2,
    at path MTU 4096 (-m 4096, netdev MTU 9000) with sizes 4 KiB to 1 MiB,
    multiples of 4 KiB: rxe's ODP copy on Linux 7.2/7.3 is only correct
    for whole pages at MTU 4096 (tests/vm/patches/7.3/0001-*). The same
    boot then measures the ODP invalidate-to-refault latency of an RDMA
    WRITE (p2pgpu_odp_lat) and p2pmap's own importer protocol latency
    (p2pmap-bench --only latency); out/bench/rdma-lat.txt.

OPTIONS
    --kernel K     test (default, pinned MRs on the 6.1 test kernel),
                   7.3-stock or 7.3 (ODP MRs)
    --no-docs      do not touch docs/
    --sizes LIST   message sizes in bytes (default "4096 16384 65536
                   262144 1044480")
    --timeout SEC  QEMU timeout (default 3600)

ENVIRONMENT
    RDMA_BENCH_NOTE  a sentence about the run's conditions (e.g. other VMs
                     on the host), printed in docs/rdma-benchmarks.md

EXIT STATUS
    0 every run completed with the expected placement; 1 otherwise; 2 usage
USAGE
}

DOCS=1 TIMEOUT=3600 SIZES= KERNEL=test
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KERNEL=${2:?}; shift ;;
	--no-docs) DOCS=0 ;;
	--sizes) SIZES=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-rdma-bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

case "$KERNEL" in
test) MODE=pinned ;;
7.3|7.3-stock) MODE=odp ;;
*) echo "run-rdma-bench.sh: --kernel test, 7.3 or 7.3-stock (rxe has ODP since 6.14; 6.12 has none)" >&2; exit 2 ;;
esac
if [ "$DOCS" = 1 ] && ! command -v gnuplot >/dev/null; then
	log "bench-rdma: installing gnuplot-nox (for the plot)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null ||
		log "bench-rdma: gnuplot-nox not installed: no plot"
fi
OUT=$P2PMAP_OUT/bench
RUN=$P2PMAP_OUT/vm/rdma-bench
mkdir -p "$OUT"
[ "$MODE" = odp ] && export P2PMAP_VM_APPEND="rdma_bench_mode=odp${P2PMAP_VM_APPEND:+ $P2PMAP_VM_APPEND}"
[ -n "$SIZES" ] && export P2PMAP_VM_APPEND="rdma_bench_sizes=${SIZES// /,}${P2PMAP_VM_APPEND:+ $P2PMAP_VM_APPEND}"
# the suite takes longer than the guest's default 900 s per suite (an
# unknown kernel parameter becomes an environment variable of init)
export P2PMAP_VM_APPEND="P2PMAP_SUITE_TIMEOUT=3000${P2PMAP_VM_APPEND:+ $P2PMAP_VM_APPEND}"
bash "$P2PMAP_ROOT/tests/vm/run.sh" --name rdma-bench --out "$RUN" \
	--kernel "$KERNEL" --topology switch --suites rdma_bench --timeout "$TIMEOUT"
vrc=$?
tr -d '\r' < "$RUN/results.tap" | sed -n 's/^# rdmabench: //p' > "$OUT/rdma-bench.tsv"
tr -d '\r' < "$RUN/results.tap" | sed -n 's/^# rdmalat: //p' > "$OUT/rdma-lat.txt"
tr -d '\r' < "$RUN/results.tap" | sed -n 's/^# kernel \(.*\), mode .*/\1/p' | head -1 > "$OUT/rdma-kernel.txt"
if [ ! -s "$OUT/rdma-bench.tsv" ]; then
	log "bench-rdma: no figures in $RUN/results.tap (see $RUN/console.log)"
	exit 1
fi
verdict=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%s: %s (%d passed, %d failed, %d skipped)" % (d["name"], "PASS" if not d["problems"] else "FAIL", sum(s["passed"] for s in d["suites"]), sum(s["failed"] for s in d["suites"]), sum(s["skipped"] for s in d["suites"])))' "$RUN/summary.json" 2>/dev/null)
if [ "$DOCS" = 1 ]; then
	src=$(git -C "$P2PMAP_ROOT" describe --always --dirty 2>/dev/null || echo unknown)
	python3 "$P2PMAP_ROOT/tests/bench/rdma_bench_report.py" "$OUT/rdma-bench.tsv" \
		"$P2PMAP_ROOT/docs/rdma-benchmarks.md" "$P2PMAP_ROOT/docs/rdma-benchmarks.png" \
		--source "$src" --verdict "${verdict:-unknown}" \
		--mode "$MODE" --kernel "$KERNEL $(cat "$OUT/rdma-kernel.txt")" \
		--latency "$OUT/rdma-lat.txt" \
		${RDMA_BENCH_NOTE:+--note "$RDMA_BENCH_NOTE"} || exit 1
	log "bench-rdma: wrote docs/rdma-benchmarks.md"
fi
[ "$vrc" -eq 0 ]
}
main "$@"
exit $?
