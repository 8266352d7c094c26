#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svm_bench_full suite: p2pgpu-svm-bench --full (8 MiB, 9 rounds), with the
# checks of the svm_bench suite. Not part of `make check`: `make bench`
# (tests/bench/run-bench.sh) runs it after bench_full and records the
# figures ("# svm_bench <key> <value>" lines) in docs/benchmarks.md.
BENCH_MODE=full
. /suites/svm_bench.sh
