#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: a longer p2pgpu_fuzz campaign than make check's
# smoke round. For each topology it boots the debug test kernel (KASAN,
# lockdep, kmemleak, DMA-API debug reporting every error) once, runs the
# fuzz suite with ROUNDS seeds of SECS seconds each (p2pmap.fuzz= on the
# kernel command line), and lets verdict.py fail the run on any splat, as
# for every suite. Then it sums what the fuzzer printed: calls, calls per
# second, errno histograms per call, distinct kernel-log reasons, splats.
#
#   FUZZ_SECS=600 FUZZ_ROUNDS=2 FUZZ_SEED=100 FUZZ_TOPOLOGIES="switch rootbus"
#
# Seeds: topology i (0-based) uses FUZZ_SEED + i * FUZZ_ROUNDS onwards.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

SECS=${FUZZ_SECS:-600}
ROUNDS=${FUZZ_ROUNDS:-2}
SEED=${FUZZ_SEED:-100}
TOPOS=${FUZZ_TOPOLOGIES:-switch rootbus}
rc=0 seed=$SEED total=0
for topo in $TOPOS; do
	name=fuzz-$topo
	out=$P2PMAP_OUT/vm/$name
	budget=$((SECS * ROUNDS + 300))
	log "$name: $ROUNDS round(s) of ${SECS}s from seed $seed"
	P2PMAP_VM_APPEND="p2pmap.fuzz=$SECS:$seed:$ROUNDS P2PMAP_SUITE_TIMEOUT=$budget" \
		bash "$P2PMAP_ROOT/tests/vm/run.sh" --name "$name" --topology "$topo" \
		--suites modload,fuzz --timeout $((budget + 600)) --out "$out" || rc=1
	echo "== $name: seeds $seed..$((seed + ROUNDS - 1)) =="
	grep -E '^# +(# )?(calls|  [A-Z_a-z+-]+ +calls|violations|chaos|leak check|p2pgpu_fuzz)' \
		"$out/results.tap" | sed 's/^# //'
	n=$(sed -nE 's/^# +(# )?calls ([0-9]+) .*/\2/p' "$out/results.tap" | awk '{s += $1} END {print s + 0}')
	echo "$name: $n calls; splats: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("splats", [])))' "$out/summary.json" 2>/dev/null || echo '?')"
	total=$((total + n))
	seed=$((seed + ROUNDS))
done
echo "make fuzz: $total calls in total over topologies: $TOPOS"
exit $rc
