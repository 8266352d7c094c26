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

static_stage deps "" bash scripts/install-deps.sh
static_stage kernel deps bash -c 'tests/vm/build-kernel.sh >/dev/null'
static_stage modules kernel bash scripts/build-modules.sh test
static_stage selftests kernel make -s selftests
vm_launch vm-rootbus modules,selftests "" rootbus \
	modload,p2pdma,attach,gpu,import,peer,copy,stress,pin,ctl,demo,svm,rdma,dmabuf,rdmaplugin,fuzz
static_stage modules-stock deps bash scripts/build-modules.sh stock
# Debian's stock kernel (PCI_P2PDMA, DEVICE_PRIVATE, DMABUF_MOVE_NOTIFY off;
# the image ships Debian's drm.ko): the exporter suites run with the
# expectations the features in /sys/module/p2pmap/features call for
# (system-memory placement with reason no_kconfig, CPU mappings of system
# pages, no evictions, dma-buf importers pinned by the core), svm_off checks
# that SVM is refused with the reason and the rest of the device works.
vm_launch vm-stock modules-stock,selftests vm-rootbus switch \
	modload,p2pdma,attach,import,gpu,peer,copy,pin,ctl,dmabuf,svm_off --kernel stock
static_stage checkpatch kernel bash scripts/checkpatch.sh
run_stage unit deps counted_stage make -s -C tests/unit check
run_stage verdict deps counted_stage bash tests/vm/selftest/verdict_test.sh
static_stage userspace deps make -s userspace
run_stage userspace-check userspace counted_stage make -s -C userspace check
# libp2pmap-rdma's host unit tests (fake verbs) and the peer-memory client's
# compile test against both kernels (it cannot be loaded without MLNX_OFED)
run_stage rdma-plugin-check deps counted_stage make -s -C rdma-plugin check
static_stage peermem kernel bash rdma-plugin/peermem/build.sh
# bench is p2pmap-bench --quick as a smoke test: complete, well-formed JSON;
# missed targets do not fail it (`make bench` runs the full one). It runs
# before lifecycle, which removes devices.
run_stage vm-switch modules,selftests vm_stage vm-switch switch \
	modload,p2pdma,attach,gpu,import,peer,copy,stress,pin,failnth_imp,failnth_edu,failnth_attach,ctl,demo,hmm,svm,svm_bench,rxe,rdma,bench,dmabuf,rdmaplugin,failnth_dmabuf,fuzz,lifecycle
vm_collect vm-rootbus
vm_collect vm-stock
# Two hosts (issue 5): two VMs on one QEMU socket network, each with rxe and
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
# The demo cannot rot: its guest half (suites/demo.sh, every step TAP-checked)
# runs in the two boots above; `make demo` adds only printing and the
# host-side look into the BAR file, which the p2pdma suite covers in-guest.

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
