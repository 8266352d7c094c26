#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench suite: a smoke test of the benchmark p2pmap-bench (tests/bench).
# It runs `p2pmap-bench --quick` (seconds under TCG: small ranges, up to
# 2000 live imports) with p2pmap.ko, p2pgpu.ko, p2pmap_edu_importer.ko and
# test_hmm.ko loaded, and checks that the program succeeded and that its
# JSON is well formed (p2pmap_jsoncheck) and complete: every part measured
# (the peer copy may be reported unavailable, with its errno, while p2pgpu
# has no copy engine), every target judged PASS or MISS. A missed target
# does not fail the suite: figures from an emulated, debug-heavy VM are
# noisy; `make bench` runs the full benchmark and records the figures.
#
# The JSON and the table go to the TAP stream as diagnostics between
# "# p2pmap-bench-json-begin/-end" and "# p2pmap-bench-table-begin/-end"
# lines, which is how tests/bench/run-bench.sh takes them to the host.
# bench_full.sh runs the same with BENCH_MODE=full.
#
# test_hmm (the page-walk baseline, /dev/hmm_dmirror0) is loaded with the
# hmm suite's parameters if it is not loaded yet, and left loaded for the
# same reason as there (6.1's test_hmm leaks on unload); so this suite and
# hmm run in either order.
. /suites/lib.sh

BENCH=/tests/bin/p2pmap-bench
JSONCHECK=/tests/bin/p2pmap_jsoncheck
BENCH_MODE=${BENCH_MODE:-quick}

# flatten: one "path.key=value" line per JSON scalar of p2pmap-bench's
# output (its writer puts one member per line); array members get "[]".
flatten() {
	awk '
	{ l = $0; sub(/^[ \t]+/, "", l); sub(/,$/, "", l) }
	l ~ /^"[^"]+": \{$/ || l ~ /^"[^"]+": \[$/ {
		k = l; sub(/^"/, "", k); sub(/".*/, "", k); st[++d] = k; next
	}
	l == "{" || l == "[" { d++; st[d] = "[]"; next }
	l == "}" || l == "]" { d--; next }
	{
		p = ""
		for (i = 2; i <= d; i++) p = p st[i] "."
		if (l ~ /^"[^"]+": /) {
			k = l; sub(/^"/, "", k); sub(/".*/, "", k)
			v = l; sub(/^"[^"]+": /, "", v)
			print p k "=" v
		} else {
			print p "[]=" l
		}
	}' "$1"
}

# count PATTERN: lines of the flattened JSON matching the ERE
count() { grep -cE "$1" /tmp/bench.flat; }
# whether the GPU the bench works on (the first of P2PMAP_GPUS) and the edu
# have a P2P route (p2pmap_devices edu) on a kernel with P2PDMA
p2p_pair() {
	route_is_p2p "$P2PMAP_ROUTE" && grep -q '^pci_p2pdma yes' /sys/module/p2pmap/features
}

check_complete() {
	missing=
	for k in '^tool="p2pmap-bench"$' '^mode=' '^date=' '^command=' \
		'^environment\.kernel=' '^import_throughput\.status=' \
		'^import_throughput\.sysmem\.\[\]\.pages=' \
		'^import_throughput\.sysmem_thp\.\[\]\.pages=' \
		'^import_throughput\.p2p_bo\.\[\]\.pages=' \
		'^import_cost_vs_size\.\[\]\.pages=' \
		'^latency\.cpu_madv_dontneed\.status=' '^latency\.exporter_evict\.status=' \
		'^peer_copy\.status=' '^scaling\.status=' '^targets\.\[\]\.result=' \
		'^failed=false$' '^complete=true$'; do
		[ "$(count "$k")" -ge 1 ] || missing="$missing $k"
	done
	[ -z "$missing" ] || { echo "missing in the JSON:$missing"; return 1; }
	nt=$(count '^targets\.\[\]\.name=')
	[ "$nt" -eq 4 ] || { echo "$nt targets, want 4"; return 1; }
}

check_import() {
	n=$(count '^parameters\.sizes_pages\.\[\]=')
	[ "$(count '^import_throughput\.status="ok"$')" -eq 1 ] &&
		[ "$(count '^import_throughput\.baseline_status="ok"$')" -eq 1 ] &&
		[ "$(count '^import_throughput\.sysmem\.\[\]\.status="ok"$')" -eq "$n" ] &&
		[ "$(count '^import_throughput\.sysmem\.\[\]\.ratio_import_to_baseline=[0-9]')" -eq "$n" ] &&
		[ "$(count '^import_throughput\.sysmem\.\[\]\.ratio_import_to_baseline_paired=[0-9]')" -eq "$n" ] &&
		[ "$(count '^import_throughput\.sysmem_thp\.\[\]\.status="ok"$')" -eq "$n" ] &&
		[ "$(count '^import_throughput\.sysmem_thp\.\[\]\.ratio_import_to_baseline=[0-9]')" -eq "$n" ] &&
		[ "$(count '^import_throughput\.sysmem_thp\.\[\]\.ratio_import_to_baseline_paired=[0-9]')" -eq "$n" ] &&
		[ "$(count '^import_throughput\.p2p_bo_status="ok"$')" -eq 1 ] &&
		[ "$(count '^import_throughput\.p2p_bo\.\[\]\.status="ok"$')" -eq "$n" ] ||
		{ grep -E '^(import_throughput|parameters\.sizes)' /tmp/bench.flat; return 1; }
	# with a P2P route every page of the object is mapped peer-to-peer
	if p2p_pair; then
		awk -F= '/^import_throughput\.p2p_bo\.\[\]\.pages=/ { want = $2 }
			/^import_throughput\.p2p_bo\.\[\]\.p2p_pages=/ { if ($2 != want) bad = 1; n++ }
			END { exit bad || !n }' /tmp/bench.flat ||
			{ echo "object pages not all P2P"; grep p2p_bo /tmp/bench.flat; return 1; }
	fi
}

check_latency() {
	[ "$(count '^latency\.cpu_madv_dontneed\.status="ok"$')" -eq 1 ] &&
		[ "$(count '^latency\.cpu_madv_dontneed\.p99_ns=[0-9]')" -eq 1 ] ||
		{ grep '^latency' /tmp/bench.flat; return 1; }
	# eviction of a P2P-mapped page needs a P2P route
	if p2p_pair; then
		[ "$(count '^latency\.exporter_evict\.status="ok"$')" -eq 1 ] &&
			[ "$(count '^latency\.exporter_evict\.p99_ns=[0-9]')" -eq 1 ] ||
			{ grep '^latency' /tmp/bench.flat; return 1; }
	fi
}

check_scaling() {
	n=$(count '^parameters\.live_imports\.\[\]=')
	[ "$(count '^scaling\.status="ok"$')" -eq 1 ] &&
		[ "$(count '^scaling\.points\.\[\]\.invalidate_ns_median=[1-9]')" -eq "$n" ] &&
		[ "$(count '^scaling\.points\.\[\]\.lifecycle_ns_median=[1-9]')" -eq "$n" ] ||
		{ grep -E '^(scaling|parameters\.live)' /tmp/bench.flat; return 1; }
}

# Measured, or unavailable with the reason and errno (no copy engine yet).
check_copy() {
	if [ "$(count '^peer_copy\.status="ok"$')" -eq 1 ]; then
		[ "$(count '^peer_copy\.copy_data_verified=true$')" -eq 1 ] &&
			[ "$(count '^peer_copy\.ratio_copy_to_memcpy_ram=[0-9]')" -eq 1 ] ||
			{ grep '^peer_copy' /tmp/bench.flat; return 1; }
	else
		grep -qE '^peer_copy\.status="unavailable: .*: E[A-Z]+ \(' /tmp/bench.flat ||
			{ grep '^peer_copy' /tmp/bench.flat; return 1; }
		echo "peer copy: $(grep '^peer_copy\.status=' /tmp/bench.flat)"
	fi
}

# PASS or MISS for every target; UNAVAILABLE only where its part could not
# run (the peer copy, as above).
check_targets() {
	bad=$(awk -F= '
		/^targets\.\[\]\.name=/ { name = $2 }
		/^targets\.\[\]\.result=/ {
			if ($2 == "\"PASS\"" || $2 == "\"MISS\"") next
			if ($2 == "\"UNAVAILABLE\"" && name == "\"peer_copy_vs_memcpy\"") next
			print name "=" $2
		}' /tmp/bench.flat)
	grep -E '^targets\.\[\]\.(name|value|result)=' /tmp/bench.flat
	[ -z "$bad" ] || { echo "not judged: $bad"; return 1; }
	[ "$(count '^targets\.\[\]\.result=')" -eq 4 ] || { echo "want 4 targets"; return 1; }
}

if [ "${BENCH_BODY:-0}" = 1 ]; then
	tap_plan 8
	# kmemleak's periodic scan (minutes of a vCPU under TCG) would land in
	# the middle of the full run's measurements: pause it (which waits for
	# a scan in progress), and restart it after. The health suite's explicit
	# scans still report every leak. The quick run does not wait for it.
	KML=/sys/kernel/debug/kmemleak
	[ "$BENCH_MODE" = full ] || KML=/nonexistent
	[ -w $KML ] && echo scan=off > $KML
	t0=$(cut -d' ' -f1 /proc/uptime)
	"$BENCH" "--$BENCH_MODE" --verbose --json /tmp/bench.json \
		--table /tmp/bench.txt 2> /tmp/bench.err
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	[ -w $KML ] && echo scan=on > $KML
	if [ $rc -eq 0 ]; then
		tap_ok "bench: p2pmap-bench --$BENCH_MODE exited 0 ($t0 s .. $t1 s uptime)"
	else
		tap_fail "bench: p2pmap-bench --$BENCH_MODE exited $rc"
		tap_diag "$(tail -30 /tmp/bench.err)"
	fi
	echo "# p2pmap-bench-table-begin"
	sed 's/^/# /' /tmp/bench.txt
	echo "# p2pmap-bench-table-end"
	echo "# p2pmap-bench-json-begin"
	sed 's/^/# /' /tmp/bench.json
	echo "# p2pmap-bench-json-end"
	tap_check "bench: JSON is well formed" sh -c "$JSONCHECK < /tmp/bench.json"
	flatten /tmp/bench.json > /tmp/bench.flat
	tap_check "bench: JSON is complete (every part and target present, no failure)" check_complete
	tap_check "bench: import throughput measured against the page-walk baseline, every size" check_import
	tap_check "bench: invalidation-to-revalidation latency measured" check_latency
	tap_check "bench: scaling with live imports measured at every count" check_scaling
	tap_check "bench: peer copy measured, or unavailable with its errno" check_copy
	tap_check "bench: every target judged from a measured ratio" check_targets
	tap_done
fi

[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
if [ ! -d /sys/module/test_hmm ]; then
	SPM=
	grep -qi '^40000000-5fffffff : reserved' /proc/iomem &&
		SPM="spm_addr_dev0=0x40000000 spm_addr_dev1=0x50000000"
	# shellcheck disable=SC2086 # SPM is words
	modprobe test_hmm $SPM 2>/tmp/modprobe.err ||
		echo "# modprobe test_hmm: $(cat /tmp/modprobe.err) (the baseline will be unavailable)"
fi
# the GPU the bench imports with the edu: one with a P2P route if there is one
p2pmap_devices edu
cp /suites/bench.sh /tmp/bench_body.sh && chmod +x /tmp/bench_body.sh
BENCH_BODY=1
export BENCH_BODY BENCH_MODE
# Enough device memory and per-file imports for the full run's 100k
# imports of one page each (the quick run needs far less).
run_module_test "p2pmap p2pgpu:vram_mb=512 p2pmap_edu_importer:max_imports_per_file=131072" \
	/tmp/bench_body.sh 'p2pmap|p2pgpu|edu_imp'
