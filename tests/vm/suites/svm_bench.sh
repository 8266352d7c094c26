#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svm_bench suite: a smoke test of p2pgpu-svm-bench (tests/bench), the
# migration benchmark of p2pgpu's shared virtual memory against test_hmm's
# dmirror on the same size, and import of the range by the second GPU's
# copy engine (system memory, device-private memory, the migration
# fallback). --quick takes seconds under TCG; the program's TAP is the
# suite's: everything measured and every byte verified. A missed
# target (p2pgpu >= 0.9x dmirror) is reported in a diagnostic, not failed:
# figures from an emulated, debug-heavy VM are noisy. BENCH_MODE=full runs
# the larger measurement recorded in docs/benchmarks.md.
#
# test_hmm is loaded with the hmm suite's parameters if it is not loaded
# yet, and left loaded, as the hmm and bench suites do (6.1's test_hmm leaks
# on unload), so these suites run in any order.
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
if [ ! -d /sys/module/test_hmm ]; then
	SPM=
	grep -qi '^40000000-5fffffff : reserved' /proc/iomem &&
		SPM="spm_addr_dev0=0x40000000 spm_addr_dev1=0x50000000"
	# shellcheck disable=SC2086 # SPM is words
	modprobe test_hmm $SPM 2>/tmp/modprobe.err ||
		echo "# modprobe test_hmm: $(cat /tmp/modprobe.err)"
fi
cat > /tmp/svm_bench_body.sh <<EOB
#!/bin/sh
exec /tests/bin/p2pgpu-svm-bench --${BENCH_MODE:-quick}
EOB
chmod +x /tmp/svm_bench_body.sh
run_module_test "p2pmap p2pgpu:vram_mb=64,svm_min_residency_ms=0" \
	/tmp/svm_bench_body.sh 'p2pgpu|p2pmap'
