#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# trace suite: p2pmap's tracepoints, as perf, trace-cmd and bpftrace see
# them. The format files must carry numbers, not enum names, in their
# print fmt (TRACE_DEFINE_ENUM: userspace cannot resolve P2PMAP_EV_* or
# P2PMAP_REASON_*). Then the peer test runs with every p2pmap event on and
# a 1 MiB window (so pages fall back with bar_exhausted and are evicted,
# or with no_route where the pair has no P2P route),
# and the recorded events must decode: invalidations name their origin,
# fallbacks their reason, fallbacks and evictions their provider. (The
# sysfs counters cannot be compared: they count since registration, and
# the peer test rebinds a device.)
. /suites/lib.sh
T=/sys/kernel/tracing
EVENTS="p2pmap_map p2pmap_unmap p2pmap_invalidate p2pmap_evict p2pmap_fallback"
EV_NAMES='cpu|evict|move|reset|unbind|remap'
REASONS='none|policy|bar_exhausted|no_route|no_kconfig|dma_mask|system_page'

tap_plan 9
loaded=
for spec in p2pmap "p2pgpu window_mb=1 min_residency_ms=60000" p2pmap_edu_importer; do
	m=${spec%% *}
	params=
	[ "$spec" = "$m" ] || params=${spec#* }
	# shellcheck disable=SC2086 # params are words
	if ! out=$(insmod "/tests/modules/$m.ko" $params 2>&1); then
		tap_diag "insmod $m: $out"
		break
	fi
	loaded="$m $loaded"
done
if [ "$loaded" = "p2pmap_edu_importer p2pgpu p2pmap " ]; then
	tap_ok "trace: modules loaded (p2pgpu window_mb=1)"
else
	tap_fail "trace: modules loaded (p2pgpu window_mb=1)"
fi
for d in /sys/class/misc/* /sys/class/drm/renderD*; do
	ensure_node "$d"
done

[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null

formats_ok() {
	for e in $EVENTS; do
		[ -r $T/events/p2pmap/$e/format ] || { echo "no $e format"; return 1; }
	done
	# enum names left in a print fmt are what userspace cannot decode
	if grep -H 'print fmt' $T/events/p2pmap/*/format | grep 'P2PMAP_'; then
		return 1
	fi
	grep -q '"evict"' $T/events/p2pmap/p2pmap_invalidate/format &&
		grep -q '"bar_exhausted"' $T/events/p2pmap/p2pmap_fallback/format ||
		{ grep 'print fmt' $T/events/p2pmap/*/format; return 1; }
}
tap_check "trace: the five events' formats carry numbers, not enum names (TRACE_DEFINE_ENUM)" formats_ok

# the GPU and the edu the peer test works on (as in the peer suite)
p2pmap_devices edu
echo 0 > $T/tracing_on
echo > $T/trace
echo 8192 > $T/buffer_size_kb
echo 1 > $T/events/p2pmap/enable
echo 1 > $T/tracing_on
/tests/bin/p2pmap_peer_test > /tmp/peer.tap 2>&1
rc=$?
echo 0 > $T/tracing_on
echo 0 > $T/events/p2pmap/enable
cat $T/trace | grep -v '^#' > /tmp/p2pmap.trace
if [ $rc -eq 0 ]; then
	tap_ok "trace: workload (p2pmap_peer_test) passed"
else
	tap_fail "trace: workload (p2pmap_peer_test) exited $rc"
	tap_diag "$(grep -v '^ok' /tmp/peer.tap | tail -20)"
fi
tap_diag "$(wc -l < /tmp/p2pmap.trace) events; by type: $(sed -n 's/.* \(p2pmap_[a-z]*\): .*/\1/p' /tmp/p2pmap.trace | sort | uniq -c | tr '\n' ' ')"
tap_diag "$(grep -m1 'p2pmap_invalidate:' /tmp/p2pmap.trace)"
tap_diag "$(grep -m1 'p2pmap_fallback:' /tmp/p2pmap.trace)"

tap_check "trace: p2pmap_map events recorded" \
	grep -q ' p2pmap_map: import=.* pages=[0-9]* p2p=[0-9]* sysmem=' /tmp/p2pmap.trace

inval_ok() {
	n=$(grep -c ' p2pmap_invalidate: ' /tmp/p2pmap.trace)
	good=$(grep -cE " p2pmap_invalidate: import=[^ ]+ event=($EV_NAMES)\$" /tmp/p2pmap.trace)
	echo "$good of $n invalidations decoded"
	[ "$n" -gt 0 ] && [ "$good" -eq "$n" ]
}
tap_check "trace: every p2pmap_invalidate names its origin (cpu, evict, move, ...)" inval_ok

fb_ok() {
	n=$(grep -c ' p2pmap_fallback: ' /tmp/p2pmap.trace)
	good=$(grep -cE " p2pmap_fallback: provider=[^ ]+ reason=($REASONS) pages=[0-9]+\$" /tmp/p2pmap.trace)
	echo "$good of $n fallbacks decoded"
	[ "$n" -gt 0 ] && [ "$good" -eq "$n" ]
}
tap_check "trace: every p2pmap_fallback names its reason" fb_ok

# The reason the peer test's fallbacks must carry: with a route, the 1 MiB
# window runs out (bar_exhausted); without one (the root bus), every page
# falls back because the pair cannot reach each other (no_route).
if route_is_p2p "$P2PMAP_ROUTE" && grep -q '^pci_p2pdma yes' /sys/module/p2pmap/features; then
	want=bar_exhausted why="the 1 MiB window makes pages fall back"
else
	want=no_route why="without a P2P route ($P2PMAP_ROUTE) pages fall back"
fi
tap_check "trace: $why with reason $want" \
	grep -q " p2pmap_fallback: provider=[^ ]* reason=$want pages=[1-9]" /tmp/p2pmap.trace

providers_ok() {
	# the provider field is the exporter's name (a PCI address for p2pgpu)
	provs=$(sed -nE 's/.* p2pmap_(fallback|evict): provider=([^ ]*) .*/\2/p' \
		/tmp/p2pmap.trace | sort -u)
	echo "providers in the trace: $provs"
	[ -n "$provs" ] || return 1
	for p in $provs; do
		drv=$(readlink "/sys/bus/pci/devices/$p/driver" 2>/dev/null)
		[ "${drv##*/}" = p2pgpu ] || { echo "$p is not a p2pgpu device"; return 1; }
	done
}
tap_check "trace: fallback and evict events name their provider (a p2pgpu device)" providers_ok

unload_ok=1
for m in $loaded; do
	if ! out=$(rmmod "$m" 2>&1) || [ -e "/sys/module/$m" ]; then
		tap_diag "rmmod $m failed: $out"
		unload_ok=0
	fi
done
if [ $unload_ok = 1 ]; then tap_ok "trace: modules unloaded"; else tap_fail "trace: modules unloaded"; fi
tap_done
