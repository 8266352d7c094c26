#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fuzz suite: p2pgpu_fuzz, the structure-aware fuzzer of the
# p2pgpu uAPI, on a 1 MiB window with a 10 ms minimum residency (eviction
# and fallback all the time), two worker processes on both render nodes,
# unbind/rebind and module-parameter writes in the second half, then a
# check that imports and device memory are back to their baseline. Every
# DMA-API error is reported (the guest's init sets dma-api/all_errors) and
# every splat fails the run (verdict.py), like in every suite; the health
# check at the end of the run scans for leaks with kmemleak and counts
# DMA-API errors.
#
# make check runs one round of 60 seconds with a fixed seed per topology;
# `make fuzz` passes p2pmap.fuzz=SECONDS:SEED:ROUNDS on the kernel command
# line for a longer campaign (ROUNDS seeds from SEED), which also scans
# with kmemleak after the rounds, modules still loaded (each scan of the
# debug kernel takes about 30 s, too long for make check's budget).
. /suites/lib.sh
[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
secs=60 seed=1 rounds=1 scan=0
[ "$P2PMAP_TOPOLOGY" = rootbus ] && seed=2
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	p2pmap.fuzz=*)
		v=${arg#*=}
		secs=${v%%:*}
		v=${v#*:}
		seed=${v%%:*}
		rounds=${v#*:}
		scan=1
		;;
	esac
done
cat > /tmp/fuzz_rounds.sh <<EOT
#!/bin/sh
. /suites/lib.sh
tap_plan $((rounds + scan))
i=0
while [ \$i -lt $rounds ]; do
	s=\$(($seed + \$i))
	if out=\$(/tests/bin/p2pgpu_fuzz --seed \$s --time $secs --calls 1000000000 \
		--workers 2 --chaos --leak-check 2>&1); then
		tap_ok "p2pgpu_fuzz seed \$s, $secs s"
	else
		tap_fail "p2pgpu_fuzz seed \$s, $secs s"
	fi
	tap_diag "\$out"
	i=\$((i + 1))
done
# Leaks of the fuzzing itself, with the modules still loaded: two scans,
# as kmemleak reports an object only once it stayed unreferenced.
if [ $scan = 0 ]; then
	:
elif [ -w /sys/kernel/debug/kmemleak ] && echo scan > /sys/kernel/debug/kmemleak 2>/dev/null; then
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	n=\$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	if [ "\$n" -eq 0 ]; then
		tap_ok "kmemleak after fuzzing: nothing unreferenced"
	else
		tap_fail "kmemleak after fuzzing: \$n unreferenced object(s)"
		tap_diag "\$(head -60 /sys/kernel/debug/kmemleak)"
	fi
elif grep -qx 'CONFIG_DEBUG_KMEMLEAK=y' /boot/config-"\$(uname -r)"; then
	tap_fail "kmemleak after fuzzing: configured but the scan was refused"
else
	tap_skip "kmemleak after fuzzing" "kernel built without CONFIG_DEBUG_KMEMLEAK"
fi
tap_done
EOT
chmod +x /tmp/fuzz_rounds.sh
run_module_test "p2pmap p2pgpu:window_mb=1,min_residency_ms=10" \
	/tmp/fuzz_rounds.sh 'p2pmap|p2pgpu|DMA-API'
