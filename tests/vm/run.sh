#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the p2pmap test VM once and judges it. It owns the QEMU command line:
# machine (q35, 2 vCPUs, KVM when /dev/kvm works, TCG otherwise), the
# emulated hardware of each topology, the three serial ports (console,
# TAP results, dmesg dump), isa-debug-exit, and the timeout. The verdict is
# verdict.py's: TAP accounting plus a splat scan of the kernel log.
# The whole script is one function, parsed before it runs, so editing the
# file during a run cannot change the run.
main() {
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

usage() {
	cat <<'USAGE'
NAME
    run.sh - boot the p2pmap test VM, run suites, judge the result

SYNOPSIS
    tests/vm/run.sh [--topology switch|rootbus|mixed] [--suites LIST] [--shell]
                    [--kernel test|7.3|stock|6.12-stock|7.3-stock] [--timeout SEC] [--out DIR]
                    [--mem SIZE] [--accel kvm|tcg] [--name NAME]
                    [--net listen:PORT|connect:PORT]

DESCRIPTION
    Boots the cached test kernel (tests/vm/build-kernel.sh), or Debian's stock
    6.1 kernel (tests/vm/stock-kernel.sh), with an initramfs made by
    mkinitramfs.sh from out/build-<kernel>/modules and out/bin, runs each
    suite tests/vm/suites/<name>.sh in the guest and judges the run with
    verdict.py. Build first with `make vm-prereqs` (make vm does both).

    Topologies (ivshmem-plain "GPUs", whose BAR2 is the GPU memory, and an
    edu DMA engine):
      switch   two GPUs (64 MiB and 32 MiB BAR2) and the edu behind
               pcie-root-port -> x3130-upstream -> xio3130-downstream;
               Linux 6.1 allows P2P DMA between them (distance 4)
      rootbus  the same two GPUs and the edu directly on the q35 root bus;
               Linux 6.1 refuses P2P (host bridge 8086:29c0 not
               whitelisted, CPU qemu64)
      mixed    three GPUs: 256 MiB and 16 MiB BAR2 and the edu behind the
               switch (P2P between them, distance 4), and 128 MiB BAR2
               behind a second pcie-root-port (no P2P route to the others:
               their only common upstream is the host bridge). The suites
               derive the GPUs, BAR sizes and P2P pairs from what they find
               (tests/vm/suites/lib.sh, p2pmap_devices), so this topology
               checks that no suite assumes the other two.

OPTIONS
    --topology T   switch (default), rootbus or mixed
    --suites LIST  comma-separated suite names (default: modload)
    --kernel K     test (default): the p2pmap 6.1 debug test kernel;
                   7.3: the 7.3 debug test kernel (linux-source-7.3, our
                   fragment and tests/vm/patches/7.3), with the modules of
                   `scripts/build-modules.sh 7.3`;
                   stock: Debian's linux-image matching the stock headers,
                   with the modules built by `make modules-stock`;
                   6.12-stock, 7.3-stock: Debian trixie's stock images
                   (tests/vm/stock-newer.sh) with the modules of
                   `scripts/build-modules.sh 6.12-stock|7.3-stock`
    --shell        after the suites, give a shell on this terminal
    --timeout SEC  kill QEMU after SEC seconds (default 1800)
    --out DIR      run directory (default out/vm/<topology>)
    --mem SIZE     guest memory (default 2G)
    --accel A      force kvm or tcg (default: kvm if usable)
    --name NAME    name used in the verdict lines (default vm-<topology>)
    --keep-mem     keep the GPU memory files (DIR/gpu0.mem, gpu1.mem, and
                   gpu2.mem on the mixed topology)
    --net M:PORT   add a virtio-net NIC on a QEMU socket network
                   (-netdev socket, listen= or connect= 127.0.0.1:PORT) that
                   joins this VM to another one (tests/vm/run-pair.sh); the
                   guest sees p2pmap.net=listen or connect
    --moddir DIR   take the .ko files for /tests/modules from DIR instead of
                   out/build-<kernel>/modules (scripts/vm-packaged.sh: the
                   modules DKMS built from the p2pmap-dkms package)

ENVIRONMENT
    P2PMAP_VM_APPEND  extra guest kernel parameters, for experiments
                      (make check never sets it)

FILES
    DIR/console.log   kernel console (ttyS0)
    DIR/results.tap   suite TAP framed by begin/end markers (ttyS1)
    DIR/dmesg.log     full dmesg dumped at the end (ttyS2)
    DIR/splats.txt    decoded kernel splats, if any
    DIR/summary.json  counts and problems
    DIR/qemu.cmd      the QEMU command line

EXIT STATUS
    0 pass, 1 test failure or splat, 2 usage or infrastructure error
USAGE
}

MODDIR_OPT= NET= KEEP_MEM=0 KERNEL=test TOPOLOGY=switch SUITES=modload SHELL_MODE=0 TIMEOUT=1800 OUTDIR= MEM=2G ACCEL= NAME=
while [ $# -gt 0 ]; do
	case "$1" in
	--topology) TOPOLOGY=${2:?}; shift ;;
	--suites) SUITES=${2:?}; shift ;;
	--kernel) KERNEL=${2:?}; shift ;;
	--shell) SHELL_MODE=1 ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--out) OUTDIR=${2:?}; shift ;;
	--mem) MEM=${2:?}; shift ;;
	--accel) ACCEL=${2:?}; shift ;;
	--name) NAME=${2:?}; shift ;;
	--keep-mem) KEEP_MEM=1 ;;
	--net) NET=${2:?}; shift ;;
	--moddir) MODDIR_OPT=${2:?}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$TOPOLOGY" in switch|rootbus|mixed) ;; *) echo "run.sh: unknown topology '$TOPOLOGY'" >&2; exit 2 ;; esac
NAME=${NAME:-vm-$TOPOLOGY}
OUTDIR=${OUTDIR:-$P2PMAP_OUT/vm/$NAME}
case "$KERNEL" in
test)
	KB=$("$P2PMAP_ROOT/tests/vm/build-kernel.sh") || { log "test kernel unavailable"; exit 2; }
	KREL=$(cat "$KB/include/config/kernel.release")
	KIMAGE=$KB/arch/x86/boot/bzImage KMODS=$KB/modinst/lib/modules/$KREL
	KCONFIG=$KB/.config VMLINUX=$KB/vmlinux
	TAINT_OK=4096 ;;
stock)
	KB=$("$P2PMAP_ROOT/tests/vm/stock-kernel.sh") || { log "stock kernel unavailable"; exit 2; }
	KREL=$(cat "$KB/kernel.release")
	KIMAGE=$KB/vmlinuz-$KREL KMODS=$KB/modules/lib/modules/$KREL
	KCONFIG=$KB/config-$KREL VMLINUX=
	# Debian's kernel is built with module signing: our unsigned modules
	# add the E (unsigned module) taint there, next to O.
	TAINT_OK=12288 ;;
7.3)
	# The 7.3 debug test kernel: linux-source-7.3 with the test fragment
	# and tests/vm/patches/7.3 (tests/vm/prepare-ktree.sh 7.3 test).
	KB=$("$P2PMAP_ROOT/tests/vm/prepare-ktree.sh" 7.3 test) || { log "7.3 test kernel unavailable"; exit 2; }
	KREL=$(cat "$KB/include/config/kernel.release")
	KIMAGE=$KB/arch/x86/boot/bzImage KMODS=$KB/modinst/lib/modules/$KREL
	KCONFIG=$KB/.config VMLINUX=$KB/vmlinux
	TAINT_OK=4096 ;;
6.12-stock | 7.3-stock)
	# Debian's stock 6.12/7.3 image (tests/vm/stock-newer.sh), with the
	# modules of `build-modules.sh 6.12-stock|7.3-stock`.
	KB=$("$P2PMAP_ROOT/tests/vm/stock-newer.sh" "${KERNEL%-stock}") ||
		{ log "stock ${KERNEL%-stock} kernel unavailable"; exit 2; }
	KREL=$(cat "$KB/kernel.release")
	KIMAGE=$KB/vmlinuz-$KREL KMODS=$KB/modules/lib/modules/$KREL
	KCONFIG=$KB/config-$KREL VMLINUX=
	TAINT_OK=12288 ;;
*) echo "run.sh: unknown kernel '$KERNEL'" >&2; exit 2 ;;
esac
MODDIR=${MODDIR_OPT:-$P2PMAP_OUT/build-$KERNEL/modules}
BINDIR=$P2PMAP_OUT/bin
[ -d "$MODDIR" ] || { log "$MODDIR missing: run 'make vm-prereqs' (or modules-stock) first"; exit 2; }

# KVM counts as usable only if a kernel really boots under it: /dev/kvm can
# exist and answer ioctls on hosts where nested guests then hang. The probe
# boots the kernel without an initramfs and expects its "VFS: Unable to
# mount root" panic within 20 s (under working KVM that takes a second or
# two; a nested guest that hangs costs the whole timeout, once per host
# boot); the answer is cached per host boot.
# Concurrent runs (make check starts VMs in parallel) probe only once: the
# probe runs in a subshell holding a lock, released when it exits.
kvm_usable() {
	mkdir -p "$P2PMAP_CACHE"
	( flock 9; kvm_probe ) 9>"$P2PMAP_CACHE/accel-probe.lock"
}
kvm_probe() {
	local cache=$P2PMAP_CACHE/accel-probe boot
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	if [ -f "$cache" ] && [ "$(head -1 "$cache")" = "$boot" ]; then
		[ "$(sed -n 2p "$cache")" = kvm ]
		return
	fi
	local ans=tcg log
	log=$(mktemp)
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		timeout 20 qemu-system-x86_64 -M q35 -accel kvm -cpu qemu64 -m 512M \
			-nodefaults -display none -no-reboot -kernel "$KIMAGE" \
			-append "console=ttyS0 panic=-1" -serial "file:$log" >/dev/null 2>&1
		grep -q 'Kernel panic' "$log" && ans=kvm
	fi
	rm -f "$log"
	printf '%s\n%s\n' "$boot" "$ans" > "$cache"
	log "accelerator probe: $ans"
	[ "$ans" = kvm ]
}
if [ -z "$ACCEL" ]; then
	if kvm_usable; then ACCEL=kvm; else ACCEL=tcg; fi
fi

rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
"$P2PMAP_ROOT/tests/vm/mkinitramfs.sh" "$KREL" "$KMODS" "$KCONFIG" "$MODDIR" "$BINDIR" \
	"$OUTDIR/initramfs.cpio.gz" || exit 2

# Device memory of the stand-in GPUs (BAR2 of ivshmem-plain), gpuN.mem in
# the order of GPU_MEM; files so the host can inspect what peers wrote.
# Sizes must be powers of two (QEMU 7.2 asserts).
case "$TOPOLOGY" in
mixed) GPU_MEM=(256M 16M 128M) ;;
*) GPU_MEM=(64M 32M) ;;
esac
DEVS=()
for i in "${!GPU_MEM[@]}"; do
	truncate -s "${GPU_MEM[$i]}" "$OUTDIR/gpu$i.mem"
	DEVS+=(-object "memory-backend-file,id=gpu${i}mem,size=${GPU_MEM[$i]},mem-path=$OUTDIR/gpu$i.mem,share=on")
done
case "$TOPOLOGY" in
switch)
	# hotplug=off: with native PCIe hotplug the kernel finds no card in
	# the root port's slot, powers it off, and everything behind the switch
	# reads back as all ones.
	DEVS+=(
		-device pcie-root-port,id=rp1,chassis=1,slot=1,hotplug=off
		-device x3130-upstream,id=up1,bus=rp1
		-device xio3130-downstream,id=dp1,bus=up1,chassis=2,slot=1,hotplug=off
		-device xio3130-downstream,id=dp2,bus=up1,chassis=3,slot=2,hotplug=off
		-device xio3130-downstream,id=dp3,bus=up1,chassis=4,slot=3,hotplug=off
		-device ivshmem-plain,memdev=gpu0mem,bus=dp1
		-device ivshmem-plain,memdev=gpu1mem,bus=dp2
		-device edu,dma_mask=0xffffffffffffffff,bus=dp3
	) ;;
rootbus)
	DEVS+=(
		-device ivshmem-plain,memdev=gpu0mem
		-device ivshmem-plain,memdev=gpu1mem
		-device edu,dma_mask=0xffffffffffffffff
	) ;;
mixed)
	# The switch of "switch" with the 256 MiB and 16 MiB GPUs and the
	# edu, and the 128 MiB GPU alone behind a second root port: one pair
	# of GPUs (and each with the edu) can do P2P, the other pairs cannot.
	DEVS+=(
		-device pcie-root-port,id=rp1,chassis=1,slot=1,hotplug=off
		-device x3130-upstream,id=up1,bus=rp1
		-device xio3130-downstream,id=dp1,bus=up1,chassis=2,slot=1,hotplug=off
		-device xio3130-downstream,id=dp2,bus=up1,chassis=3,slot=2,hotplug=off
		-device xio3130-downstream,id=dp3,bus=up1,chassis=4,slot=3,hotplug=off
		-device pcie-root-port,id=rp2,chassis=5,slot=2,hotplug=off
		-device ivshmem-plain,memdev=gpu0mem,bus=dp1
		-device ivshmem-plain,memdev=gpu1mem,bus=dp2
		-device ivshmem-plain,memdev=gpu2mem,bus=rp2
		-device edu,dma_mask=0xffffffffffffffff,bus=dp3
	) ;;
esac

# Two-VM runs: one socket network, the listening side gets MAC ...:02.
if [ -n "$NET" ]; then
	case "$NET" in
	listen:[0-9]*|connect:[0-9]*) ;;
	*) echo "run.sh: --net listen:PORT or connect:PORT" >&2; exit 2 ;;
	esac
	mode=${NET%%:*}
	DEVS+=(
		-netdev "socket,id=pair,$mode=127.0.0.1:${NET#*:}"
		-device "virtio-net-pci,netdev=pair,mac=52:54:00:00:00:0$([ "$mode" = listen ] && echo 2 || echo 1)"
	)
fi

# memmap=512M$1G keeps 1 GiB..1.5 GiB of guest RAM out of the kernel's
# hands (e820 reserved): the hmm suite hands it to test_hmm as the
# "special-purpose memory" its DEVICE_COHERENT devices need.
APPEND="console=ttyS0 panic=-1 loglevel=5 tsc=reliable transparent_hugepage=madvise hugepages=16"
# Debian's stock 7.3 panicked once at boot under TCG on a loaded host with
# "IO-APIC + timer doesn't work" (its timer check relies on timing); the
# check is meaningless in an emulator and no_timer_check skips it.
case "$KERNEL" in
6.12-stock | 7.3-stock) APPEND+=" no_timer_check" ;;
esac
APPEND+=' memmap=512M$0x40000000'
APPEND+=" p2pmap.topology=$TOPOLOGY p2pmap.suites=$SUITES p2pmap.kernel=$KERNEL"
APPEND+=" p2pmap.taint_ok=$TAINT_OK"
# Extra kernel parameters for experiments (not used by make check).
[ -n "${P2PMAP_VM_APPEND:-}" ] && APPEND+=" $P2PMAP_VM_APPEND"
[ "$SHELL_MODE" = 1 ] && APPEND+=" p2pmap.shell=1"
[ -n "$NET" ] && APPEND+=" p2pmap.net=${NET%%:*}"
if [ "$SHELL_MODE" = 1 ]; then
	CONSOLE=(-serial mon:stdio)
else
	CONSOLE=(-serial "file:$OUTDIR/console.log")
fi
# Debian's stock 7.3 took an "Oops: int3" twice under multi-threaded TCG,
# each time on a 5-byte NOP of a static key just patched (kdamond at run
# time; __hrtimer_start_range_ns during boot, before any suite): another
# vCPU ran a stale translation of the int3 that text_poke_bp() had already
# removed. On real CPUs and KVM the kernel's cross-modifying-code protocol
# makes that impossible; single-threaded TCG (both vCPUs on one host
# thread, in turn) keeps the translations coherent, at some speed.
ACCEL_OPT=$ACCEL
[ "$ACCEL" = tcg ] && [ "$KERNEL" = 7.3-stock ] && ACCEL_OPT=tcg,thread=single
CMD=(qemu-system-x86_64 -M q35 -accel "$ACCEL_OPT" -cpu qemu64 -smp 2 -m "$MEM"
	-nodefaults -display none -no-reboot -bios /usr/share/qemu/qboot.rom
	-kernel "$KIMAGE" -initrd "$OUTDIR/initramfs.cpio.gz"
	-append "$APPEND"
	"${CONSOLE[@]}" -serial "file:$OUTDIR/results.tap" -serial "file:$OUTDIR/dmesg.log"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	"${DEVS[@]}")
printf '%q ' "${CMD[@]}" > "$OUTDIR/qemu.cmd"
echo >> "$OUTDIR/qemu.cmd"

log "$NAME: booting $KERNEL kernel $KREL ($ACCEL, topology $TOPOLOGY, suites $SUITES, timeout ${TIMEOUT}s)"
t0=$(date +%s)
if [ "$SHELL_MODE" = 1 ]; then
	"${CMD[@]}"
	rc=$?
else
	timeout --kill-after=10 "$TIMEOUT" "${CMD[@]}" > "$OUTDIR/qemu.stderr" 2>&1
	rc=$?
fi
log "$NAME: QEMU exited rc=$rc after $(( $(date +%s) - t0 ))s"
[ -s "$OUTDIR/qemu.stderr" ] && sed 's/^/qemu: /' "$OUTDIR/qemu.stderr" | head -20 >&2

python3 "$P2PMAP_ROOT/tests/vm/verdict.py" "$OUTDIR" --name "$NAME" \
	--suites "$SUITES" --variant "$KERNEL" --qemu-rc "$rc" --vmlinux "$VMLINUX" \
	--ksrc "$(ksrc_dir)" --moddir "$MODDIR"
vrc=$?
[ "$KEEP_MEM" = 1 ] || rm -f "$OUTDIR"/gpu[0-9]*.mem
rm -f "$OUTDIR/initramfs.cpio.gz"
exit $vrc
}
main "$@"
exit $?
