#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every test layer of p2pmap, in dependency order, each stage
# timed. Stages keep going after a failure so one run shows every problem,
# but a stage whose prerequisite failed is reported as not run (a failure).
# The last line is the overall count, "check: N passed, N failed, N skipped",
# where VM and unit tests count individually and each static stage counts
# as one test. Exit status is 0 only if nothing failed.
# The whole script is one function, parsed before it runs, so editing the
# file during a run cannot change the run.
main() {
set -uo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"
cd "$P2PMAP_ROOT"
mkdir -p "$P2PMAP_OUT"
export P2PMAP_TIMINGS=$P2PMAP_OUT/timings.txt
: > "$P2PMAP_TIMINGS"
T0=$(date +%s)

PASS=0 FAIL=0 SKIP=0
declare -A OK
FAILED_STAGES=()

# run_stage NAME DEPS CMD...: DEPS is a comma list of stages that must have passed.
run_stage() {
	local name=$1 deps=$2 d
	shift 2
	for d in ${deps//,/ }; do
		if [ "${OK[$d]:-0}" != 1 ]; then
			log "stage $name: NOT RUN (needs $d)"
			echo "$name 0 notrun" >> "$P2PMAP_TIMINGS"
			FAIL=$((FAIL + 1))
			FAILED_STAGES+=("$name(not run)")
			OK[$name]=0
			return
		fi
	done
	if stage "$name" "$@"; then OK[$name]=1; else OK[$name]=0; FAILED_STAGES+=("$name"); fi
}

# Static stages count as one test each.
static_stage() {
	local name=$1
	run_stage "$@"
	if [ "${OK[$name]}" = 1 ]; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
}

# counted_stage CMD...: run a host test program whose last summary line is
# "<word>: N passed, N failed[, N skipped]" and add its counts.
counted_stage() {
	local out
	out=$("$@" 2>&1)
	local rc=$?
	echo "$out" | tail -40
	local line
	line=$(echo "$out" | grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' | tail -1)
	if [ -z "$line" ]; then
		FAIL=$((FAIL + 1))
		return 1
	fi
	PASS=$((PASS + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
	FAIL=$((FAIL + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
	if echo "$line" | grep -q skipped; then
		SKIP=$((SKIP + $(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/')))
	fi
	[ $rc -eq 0 ] || [ "$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')" -gt 0 ] || FAIL=$((FAIL + 1))
	return $rc
}

vm_stage() {
	local name=$1 topo=$2 suites=$3 rc
	shift 3
	bash tests/vm/run.sh --name "$name" --topology "$topo" --suites "$suites" "$@"
	rc=$?
	vm_account "$name" "$rc"
}

# vm_account NAME RC: add a VM run's counts (from its summary.json) to the
# totals; a run that failed without a failed test counts as one failure.
vm_account() {
	local name=$1 rc=$2
	local sj=$P2PMAP_OUT/vm/$name/summary.json
	if [ -f "$sj" ]; then
		read -r p f s < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['passed'], d['failed'], d['skipped'])" "$sj")
		PASS=$((PASS + p)); FAIL=$((FAIL + f)); SKIP=$((SKIP + s))
		[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || FAIL=$((FAIL + 1))
	else
		FAIL=$((FAIL + 1))
	fi
	return $rc
}

# Background VM stages. A TCG guest running one test at a time keeps about
# one of the two host cores busy, so the root-bus and stock VMs run while
# the host-side stages and the switch VM run in the foreground.
# vm_launch NAME DEPS WAITFOR TOPO SUITES [RUN.SH ARGS...] starts one (after
# the background stage WAITFOR, if any, has finished); vm_collect NAME waits
# for it, prints its log and accounts for it exactly as run_stage would.
declare -A VMPID
vm_launch() {
	local name=$1 deps=$2 after= topo=$4 suites=$5 d
	[ -z "$3" ] || after=${VMPID[$3]:-}
	shift 5
	for d in ${deps//,/ }; do
		if [ "${OK[$d]:-0}" != 1 ]; then
			VMPID[$name]=notrun:$d
			return
		fi
	done
	(
		if [[ $after =~ ^[0-9]+$ ]]; then
			while kill -0 "$after" 2>/dev/null; do sleep 2; done
		fi
		stage "$name" bash tests/vm/run.sh --name "$name" --topology "$topo" \
			--suites "$suites" "$@"
	) > "$P2PMAP_OUT/$name.stage.log" 2>&1 &
	VMPID[$name]=$!
}
vm_collect() {
	local name=$1 pid=${VMPID[$1]:-notrun:launch} rc
	if [[ $pid == notrun:* ]]; then
		log "stage $name: NOT RUN (needs ${pid#notrun:})"
		echo "$name 0 notrun" >> "$P2PMAP_TIMINGS"
		FAIL=$((FAIL + 1))
		FAILED_STAGES+=("$name(not run)")
		OK[$name]=0
		return
	fi
	wait "$pid"
	rc=$?
	echo "== $name (ran in the background) =="
	cat "$P2PMAP_OUT/$name.stage.log"
	if vm_account "$name" "$rc"; then
		OK[$name]=1
	else
		OK[$name]=0
		FAILED_STAGES+=("$name")
	fi
}

# The demo cannot rot: `make demo` itself, exactly as the README gives it,
# in a copy of this tree as a fresh clone has it (no out/, so the first-run
# path is the one taken), host-side look into the BAR file included. It
# builds its own modules and test programs and boots both topologies, in
# the background after vm-stock; demo_collect counts its two boots like the
# other VMs and the host check as one test more.
demo_run() {
	local fresh=$P2PMAP_OUT/demo-fresh
	rm -rf "$fresh"
	mkdir -p "$fresh"
	if git -C "$P2PMAP_ROOT" rev-parse --git-dir > /dev/null 2>&1; then
		# The files a clone of this tree would have (tracked, plus new
		# files git does not ignore), as they are in the work tree.
		(cd "$P2PMAP_ROOT" &&
			git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -xf - -C "$fresh" || return 1
	else
		rsync -a --exclude /out "$P2PMAP_ROOT/" "$fresh/" || return 1
	fi
	if [ -e "$fresh/out" ]; then
		echo "demo: the fresh copy already has out/"
		return 1
	fi
	env -u P2PMAP_ROOT -u P2PMAP_OUT -u P2PMAP_TIMINGS \
		make -C "$fresh" --no-print-directory demo > "$P2PMAP_OUT/demo.out" 2>&1
}
demo_launch() {
	local after=${VMPID[$1]:-}
	if [ "${OK[ktrees-newer]:-0}" != 1 ]; then
		VMPID[demo]=notrun:ktrees-newer
		return
	fi
	(
		if [[ $after =~ ^[0-9]+$ ]]; then
			while kill -0 "$after" 2>/dev/null; do sleep 2; done
		fi
		stage demo demo_run
	) > "$P2PMAP_OUT/demo.stage.log" 2>&1 &
	VMPID[demo]=$!
}
demo_collect() {
	local pid=${VMPID[demo]:-notrun:launch} rc f0=$FAIL
	if [[ $pid == notrun:* ]]; then
		log "stage demo: NOT RUN (needs ${pid#notrun:})"
		echo "demo 0 notrun" >> "$P2PMAP_TIMINGS"
		FAIL=$((FAIL + 1))
		FAILED_STAGES+=("demo(not run)")
		return
	fi
	wait "$pid"
	rc=$?
	echo "== demo (make demo in a fresh copy; ran in the background) =="
	cat "$P2PMAP_OUT/demo.stage.log"
	[ -f "$P2PMAP_OUT/demo.out" ] && cat "$P2PMAP_OUT/demo.out"
	P2PMAP_OUT=$P2PMAP_OUT/demo-fresh/out vm_account demo-switch 0
	P2PMAP_OUT=$P2PMAP_OUT/demo-fresh/out vm_account demo-rootbus 0
	if grep -q '^host check: .* holds the message at offset' "$P2PMAP_OUT/demo.out" 2>/dev/null; then
		PASS=$((PASS + 1))
	else
		FAIL=$((FAIL + 1))
	fi
	if [ "$rc" -ne 0 ]; then
		[ "$FAIL" -gt "$f0" ] || FAIL=$((FAIL + 1))
		FAILED_STAGES+=("demo")
	fi
}

static_stage deps "" bash scripts/install-deps.sh
static_stage kernel deps bash -c 'tests/vm/build-kernel.sh >/dev/null'
static_stage modules kernel bash scripts/build-modules.sh test
static_stage selftests kernel make -s selftests
# The 6.1 debug test kernel keeps the paths that exist only there (pinned
# VA MRs of P2PDMA pages, devmap PTEs for the window, move_notify and
# CONFIG_DMABUF_MOVE_NOTIFY, 6.1's ZONE_DEVICE and hmm-tests); the suites
# whose code paths are the same on every kernel run on the 7.3 debug
# kernel only (docs/testing.md, "Which kernel covers what").
vm_launch vm-rootbus modules,selftests "" rootbus \
	modload,p2pdma,peer,copy,pin,rdma,dmabuf,export
static_stage modules-stock deps bash scripts/build-modules.sh stock
# Debian's stock kernel (PCI_P2PDMA, DEVICE_PRIVATE, DMABUF_MOVE_NOTIFY off;
# the image ships Debian's drm.ko): the exporter suites run with the
# expectations the features in /sys/module/p2pmap/features call for
# (system-memory placement with reason no_kconfig, CPU mappings of system
# pages, no evictions, dma-buf importers pinned by the core), svm_off checks
# that SVM is refused with the reason and the rest of the device works.
vm_launch vm-stock modules-stock,selftests vm-rootbus switch \
	modload,p2pdma,attach,import,gpu,peer,copy,pin,ctl,dmabuf,export,svm_off --kernel stock
# Newer kernels: Debian's linux-source 6.12 (trixie) and 7.3
# (trixie-backports) through a private apt configuration, module-build trees
# prepared with the test fragment and with Debian's stock config, then every
# module built W=1 against each, with the feature probes printed. The gate
# self-test plants a warning and must see the gate fail on each kernel.
# sparse cannot run on 7.3 (Debian 12's and trixie's sparse 0.6.4 are too
# old); that is counted as a skip, never as sparse clean.
newer_ktrees() {
	local s f
	for s in 6.12 7.3; do
		for f in test stock; do
			tests/vm/prepare-ktree.sh "$s" "$f" > /dev/null || return 1
		done
	done
}
# sparse_account FLAVOUR: a build whose sparse did not run adds a skip.
sparse_account() {
	local st
	st=$(cat "$P2PMAP_OUT/build-$1/sparse.txt" 2>/dev/null || echo "NOT RUN (no build)")
	case "$st" in
	ran*) ;;
	*) log "modules-$1: sparse $st: counted as SKIPPED, not clean"
	   SKIP=$((SKIP + 1)) ;;
	esac
}
static_stage ktrees-newer deps newer_ktrees
for k in 6.12 7.3 6.12-stock 7.3-stock; do
	static_stage "modules-$k" ktrees-newer bash scripts/build-modules.sh "$k"
	[ "${OK[modules-$k]}" != 1 ] || sparse_account "$k"
done
# Debian's stock 7.3 image (PCI_P2PDMA and DEVICE_PRIVATE on; p2pgpu's CPU
# mappings are the window's P2PDMA pages under the refcount-0 rules) with
# the modules built against its config, after vm-stock: the exporter
# suites, with expectations from /sys/module/p2pmap/features and cpu_map.
# rxe and rxe_odp: Soft-RoCE and the ODP data check; on this kernel only
# the configuration rxe's ODP copy gets right counts as pass/fail, the rest
# are expected failures naming the kernel bug and our patch
# (rxe_odp.7.3-stock.xfails). rdmaplugin: libp2pmap-rdma makes ODP MRs
# there (VA MRs on 6.1). rdma: a pinned MR of window pages is refused there
# (GUP pins no P2PDMA page long-term) and leaves no pin; the pinning checks
# skip. odp_perftest: unmodified ib_write_bw/ib_read_bw --odp --mmap on a
# p2pgpu object at MTU 4096, placement in the window asserted. export:
# p2pmap.ko's own dma-buf export (/dev/p2pmap) with the 7.1
# invalidate_mappings and revocable pinned importers (failnth_export runs
# only in vm-switch: Debian's stock config has no fault injection).
vm_launch vm-stock73 modules-7.3-stock,selftests vm-stock switch \
	modload,p2pdma,attach,import,gpu,peer,copy,pin,dmabuf,ctl,svm,rxe,rxe_odp,rdmaplugin,rdma,odp_perftest,export --kernel 7.3-stock
# Debian's stock 6.12 (PCI_P2PDMA and DEVICE_PRIVATE off, like stock 6.1).
vm_launch vm-stock612 modules-6.12-stock,selftests vm-stock73 switch \
	modload,attach,import,gpu,ctl,svm_off --kernel 6.12-stock
gate_selftest() {
	local f
	for f in stock 6.12 7.3; do
		bash scripts/build-modules.sh --plant "$f" || return 1
	done
}
static_stage gate-selftest ktrees-newer gate_selftest
# The 7.3 debug test kernel (built in ktrees-newer from linux-source-7.3,
# our fragment and tests/vm/patches/7.3: KASAN, lockdep, kmemleak, fault
# injection, DMA-API debugging) runs every suite on both topologies: the
# switch in the foreground after vm-switch (below), the root bus here in
# the background chain, after vm-stock612; with the 7.3 tree's own hmm-tests
# in the hmm suite, and the odp and rxe_odp suites (RDMA ODP MRs over
# p2pgpu memory, with the rxe fix the stock kernel lacks).
static_stage hmm-tests-7.3 ktrees-newer make -s hmm-tests-7.3
VM73_ALL=modload,p2pdma,attach,gpu,import,peer,fuzz,copy,stress,pin,failnth_imp,failnth_edu,failnth_attach,ctl,hmm,svm,svm_bench,rxe,rxe_odp,rdma,odp,bench,dmabuf,rdmaplugin,failnth_dmabuf,export,failnth_export,trace,lifecycle
# Every p2pmap suite on the root bus too (the GPUs and the edu reach each
# other only through the host bridge there), in the background chain. Not
# hmm: that is the kernel's own hmm-tests on test_hmm's virtual devices,
# which use no PCI device, so the topology cannot change what they do; on
# the switch they run in full (about 250-290 s of a debug-kernel VM each).
VM73_ROOTBUS=$(echo ",$VM73_ALL," | sed 's/,hmm,/,/; s/^,//; s/,$//')
vm_launch vm73-rootbus modules-7.3,selftests vm-stock612 rootbus \
	"$VM73_ROOTBUS" --kernel 7.3
# A third topology on the test kernel: three GPUs (256, 16 and 128 MiB BAR2)
# of which one pair reaches P2P, first in PCI order the one that does not.
# The suites must find the GPUs, their windows and the P2P pair themselves.
# A few suites only, to stay cheap; in the background chain,
# after vm73-rootbus and before the demo.
vm_launch vm-mixed modules,selftests vm73-rootbus mixed modload,gpu,ctl,peer,copy
demo_launch vm-mixed
static_stage checkpatch kernel bash scripts/checkpatch.sh
run_stage unit deps counted_stage make -s -C tests/unit check
run_stage verdict deps counted_stage bash tests/vm/selftest/verdict_test.sh
static_stage userspace deps make -s userspace
run_stage userspace-check userspace counted_stage make -s -C userspace check
# ABI: only versioned public symbols exported (objdump -T), C++ header test
static_stage abi deps bash scripts/abi-check.sh
# Debian packages (dpkg-buildpackage + lintian) and `dkms build` of
# p2pmap-dkms against the test kernel, the stock 6.1 headers and the 6.12
# and 7.3 trees prepared with Debian's stock configs.
static_stage packages deps bash scripts/build-packages.sh
static_stage dkms packages,kernel,ktrees-newer bash scripts/dkms-check.sh
# libp2pmap-rdma's host unit tests (fake verbs) and the peer-memory client's
# compile test against both kernels (it cannot be loaded without MLNX_OFED)
run_stage rdma-plugin-check deps counted_stage make -s -C rdma-plugin check
static_stage peermem kernel,ktrees-newer bash rdma-plugin/peermem/build.sh test stock 6.12 7.3
# bench is p2pmap-bench --quick as a smoke test: complete, well-formed JSON;
# missed targets do not fail it (`make bench` runs the full one). It runs
# before lifecycle, which removes devices.
# fuzz runs before copy and the fail-nth suites: a fail-nth sweep can turn
# DMA-API debugging off for the rest of the boot (the health check says
# so), and the fuzz smoke must run with it on.
run_stage vm-switch modules,selftests vm_stage vm-switch switch \
	modload,p2pdma,attach,gpu,import,peer,copy,pin,hmm,svm,rxe,rdma,dmabuf,rdmaplugin,failnth_dmabuf,export,failnth_export
run_stage vm73-switch modules-7.3,selftests,hmm-tests-7.3 vm_stage vm73-switch switch \
	"$VM73_ALL" --kernel 7.3
# The modules from the p2pmap-dkms package (dkms stage) in a VM, with the
# test-only modules of the build tree: modload and gpu on the test kernel.
pkg_vm_stage() {
	local rc=0
	bash scripts/vm-packaged.sh test modload,gpu || rc=$?
	vm_account vm-packaged-test "$rc"
}
run_stage vm-packaged dkms,modules,selftests pkg_vm_stage
# The same on Debian's stock 6.1, 6.12 and 7.3 kernels (DKMS built the
# packaged modules for each; the test-only modules come from the
# modules-stock, -6.12-stock and -7.3-stock builds): in the background,
# one after the other, after the demo.
pkg_stock_run() {
	local k rc=0
	for k in stock 6.12-stock 7.3-stock; do
		bash scripts/vm-packaged.sh "$k" modload,gpu > "$P2PMAP_OUT/vm-packaged-$k.log" 2>&1 || rc=1
	done
	return $rc
}
if [ "${OK[dkms]:-0}" = 1 ] && [ "${OK[modules-stock]:-0}" = 1 ] &&
	[ "${OK[modules-6.12-stock]:-0}" = 1 ] && [ "${OK[modules-7.3-stock]:-0}" = 1 ]; then
	(
		after=${VMPID[demo]:-}
		if [[ $after =~ ^[0-9]+$ ]]; then
			while kill -0 "$after" 2>/dev/null; do sleep 2; done
		fi
		stage vm-packaged-stock pkg_stock_run
	) > "$P2PMAP_OUT/vm-packaged-stock.stage.log" 2>&1 &
	VMPID[vm-packaged-stock]=$!
else
	VMPID[vm-packaged-stock]=notrun:dkms,modules-*-stock
fi
vm_collect vm-rootbus
vm_collect vm73-rootbus
vm_collect vm-stock
vm_collect vm-stock73
vm_collect vm-stock612
vm_collect vm-mixed
demo_collect
pkg_stock_collect() {
	local pid=${VMPID[vm-packaged-stock]} k rc f0=$FAIL
	if [[ $pid == notrun:* ]]; then
		log "stage vm-packaged-stock: NOT RUN (needs ${pid#notrun:})"
		echo "vm-packaged-stock 0 notrun" >> "$P2PMAP_TIMINGS"
		FAIL=$((FAIL + 1))
		FAILED_STAGES+=("vm-packaged-stock(not run)")
		return
	fi
	wait "$pid"
	rc=$?
	echo "== vm-packaged-stock (ran in the background) =="
	cat "$P2PMAP_OUT/vm-packaged-stock.stage.log"
	for k in stock 6.12-stock 7.3-stock; do
		cat "$P2PMAP_OUT/vm-packaged-$k.log" 2>/dev/null
		vm_account "vm-packaged-$k" 0
	done
	if [ "$rc" -ne 0 ]; then
		FAILED_STAGES+=("vm-packaged-stock")
		[ "$FAIL" -gt "$f0" ] || FAIL=$((FAIL + 1))
	fi
}
pkg_stock_collect
# Two hosts: two VMs on one QEMU socket network, each with rxe and
# p2pgpu; VM A RDMA-writes GPU memory into VM B's GPU memory and B checks
# every byte. Last, when the other VMs are done, as both guests run at once.
pair_stage() {
	local rc=0
	bash tests/vm/run-pair.sh --topology switch || rc=$?
	vm_account pair-a "$rc"
	local ra=$?
	vm_account pair-b "$rc"
	[ $ra -eq 0 ] && [ $? -eq 0 ]
}
run_stage vm-pair modules,selftests pair_stage
# The same on the 7.3 debug test kernel: ODP MRs (GUP pins no P2PDMA page
# there), and VM B evicts the target's pages mid-transfer.
pair73_stage() {
	local rc=0
	bash tests/vm/run-pair.sh --topology switch --kernel 7.3 || rc=$?
	vm_account pair73-a "$rc"
	local ra=$?
	vm_account pair73-b "$rc"
	[ $ra -eq 0 ] && [ $? -eq 0 ]
}
run_stage vm-pair73 modules-7.3,selftests pair73_stage

echo
echo "== stage timings =="
awk '{ printf "  %-14s %5ss  %s\n", $1, $2, ($3 == "0" ? "ok" : ($3 == "notrun" ? "NOT RUN" : "FAILED")) }' "$P2PMAP_TIMINGS"
echo "  total          $(( $(date +%s) - T0 ))s"
if [ ${#FAILED_STAGES[@]} -gt 0 ]; then
	echo "failed stages: ${FAILED_STAGES[*]}"
fi
echo "check: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ] && [ ${#FAILED_STAGES[@]} -eq 0 ]
}
main "$@"
exit $?
