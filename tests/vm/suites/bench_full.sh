#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_full suite: the full benchmark (p2pmap-bench without --quick: range
# sizes up to 16384 pages, 100k live imports), with the checks of the bench
# suite. Not part of `make check`: `make bench` (tests/bench/run-bench.sh)
# boots a VM with more memory for it and records the figures.
BENCH_MODE=full
. /suites/bench.sh
