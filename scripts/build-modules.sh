#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds every p2pmap kernel module (top-level Kbuild) against one kernel
# tree with W=1 and sparse (C=1), and fails on any compiler or sparse
# warning in our sources. Out-of-tree builds write objects next to the
# sources, so each flavour builds in its own copy of the tree under
# out/build-<flavour>/src; the .ko files are collected in
# out/build-<flavour>/modules.
#
# usage: build-modules.sh [--plant] FLAVOUR [KDIR]
#   test        the p2pmap 6.1 test kernel (built or found in the cache)
#   stock       Debian's linux-headers-6.1.*-amd64, where DEVICE_PRIVATE,
#               PCI_P2PDMA and DMABUF_MOVE_NOTIFY are off
#   6.12, 7.3   trees from Debian's linux-source with the test fragment
#               (tests/vm/prepare-ktree.sh S test): 6.12 prepared only,
#               7.3 the whole debug test kernel the VM boots
#   6.12-stock, 7.3-stock   the same with Debian's stock config and
#               Module.symvers (prepare-ktree.sh S stock)
#   --plant     self-test of the gate: plant one compiler warning in
#               kernel/core/features.c and succeed only if the gate FAILS
#               on exactly that diagnostic (out/build-FLAVOUR-planted)
#
# Before compiling, scripts/conftest.sh probes the tree and writes
# p2pmap_conftest.h into out/build-FLAVOUR/conftest (printed). Diagnostics
# are matched with absolute paths (6.1, 6.12) and with the paths relative
# to M= that 7.3 prints. sparse is verified to have run (CHECK lines for
# our files); when the kernel turns C=1 off (7.3 with Debian 12's sparse
# 0.6.4) the result says "sparse NOT RUN" loudly and is never reported
# as sparse clean; out/build-FLAVOUR/sparse.txt records which.
set -euo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"

PLANT=0
if [ "${1:-}" = --plant ]; then
	PLANT=1
	shift
fi
FLAVOUR=${1:?usage: build-modules.sh [--plant] FLAVOUR [KDIR]}
KDIR=${2:-}
[ -n "$KDIR" ] || KDIR=$(kdir_for "$FLAVOUR")

# The 6.12 test tree is prepared, not built: there is no Module.symvers,
# so modpost can only warn about unresolved symbols. The 7.3 test kernel
# is built, and the -stock flavours have Debian's Module.symvers: modpost
# checks every symbol there.
case "$FLAVOUR" in
6.12) KBUILD_MODPOST_WARN=1 ;;
esac

B=$P2PMAP_OUT/build-$FLAVOUR
[ $PLANT = 0 ] || B=$P2PMAP_OUT/build-$FLAVOUR-planted
mkdir -p "$B/src" "$B/modules"
# One build of a flavour at a time: they share $B.
exec 8>"$B/.lock"
flock 8
rsync -a --delete --exclude /out --exclude /.git --exclude '*.o' --exclude '*.ko' \
	--exclude '*.mod*' --exclude '.*.cmd' --exclude Module.symvers --exclude modules.order \
	"$P2PMAP_ROOT/" "$B/src/"
# Always a whole build: sparse checks only what is compiled, and the gate
# below needs every file compiled to say "sparse clean".
find "$B/src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
	-o -name '.*.cmd' \) -delete
PLANTED="p2pmap_planted_warning"
if [ $PLANT = 1 ]; then
	# -Wunused-variable: a warning on every kernel, with or without W=1.
	printf '\nint %s(void);\nint %s(void)\n{\n\tint unused_planted;\n\n\treturn 0;\n}\n' \
		"$PLANTED" "$PLANTED" >> "$B/src/kernel/core/features.c"
fi
log "modules ($FLAVOUR): probes (scripts/conftest.sh $KDIR)"
"$P2PMAP_ROOT/scripts/conftest.sh" "$KDIR" "$B/conftest" > "$B/conftest.txt" ||
	die "feature probes against $KDIR failed"
echo "probes ($FLAVOUR): $(tr '\n' ' ' < "$B/conftest.txt")" >&2
# The planted self-test compiles only the file the warning is planted in:
# the compiler prints every file's path the same way, which is all the
# self-test checks, and a whole second build per kernel cost minutes.
TARGET=modules CHECKER="C=1"
[ $PLANT = 0 ] || TARGET=kernel/core/features.o CHECKER=
log "modules ($FLAVOUR): make -C $KDIR M=$B/src W=1 $CHECKER $TARGET"
set +e
# Not under the caller's make flags: a "make -s" above would hide the
# CHECK lines that tell whether sparse ran.
# shellcheck disable=SC2086 # CHECKER is one word or none
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$KDIR" M="$B/src" W=1 $CHECKER CHECK="sparse" CONFIG_P2PMAP_SELFTEST=y P2PMAP_CONFTEST_DIR="$B/conftest" \
	CF="-D__CHECK_ENDIAN__ -fdiagnostic-prefix -fmax-warnings=unlimited" \
	KCFLAGS="-g" ${KBUILD_MODPOST_WARN:+KBUILD_MODPOST_WARN=1} "$TARGET" > "$B/build.log" 2>&1
rc=$?
set -e
# Any diagnostic pointing into our tree is a failure, even if make
# succeeded: absolute paths under $B/src (6.1, 6.12) or paths relative to
# M= (7.3 runs the compiler in the module directory).
our_diagnostics "$B/build.log" "$B/src" > "$B/diagnostics.txt"
# Did sparse run? The kernel may switch C=1 off (checker-valid.sh) and say
# so only once; CHECK lines for our objects prove it ran.
nchk=$(grep -cE '^  CHECK +' "$B/build.log" || true)
if grep -q 'C=1 specified, but sparse is not available or not up to date' "$B/build.log" || [ "$nchk" -eq 0 ]; then
	SPARSE="NOT RUN ($(sparse --version 2>/dev/null || echo 'no sparse'): $(grep -m1 -o 'C=1 specified.*' "$B/build.log" || echo "no CHECK lines in the build log"))"
else
	SPARSE="ran on $nchk files"
fi
echo "$SPARSE" > "$B/sparse.txt"
if [ $PLANT = 1 ]; then
	# The gate below fails on any line of diagnostics.txt: the planted
	# warning must be there, with its path as this kernel prints it.
	if grep -q "^kernel/core/features.c:[0-9]*:[0-9]*: warning: unused variable .unused_planted." "$B/diagnostics.txt"; then
		log "gate self-test ($FLAVOUR): planted warning caught: $(grep -m1 unused_planted "$B/diagnostics.txt")"
		exit 0
	fi
	[ $rc -eq 0 ] || grep -v unused_planted "$B/diagnostics.txt" | head -5 >&2
	die "gate self-test ($FLAVOUR): the planted warning was NOT caught (rc=$rc, $(wc -l < "$B/diagnostics.txt") diagnostics)"
fi
if [ $rc -ne 0 ] || [ -s "$B/diagnostics.txt" ]; then
	sed "s|$B/src/||" "$B/build.log" | grep -v '^make\[' | tail -60 >&2
	die "module build ($FLAVOUR) failed: rc=$rc, $(wc -l < "$B/diagnostics.txt") diagnostic(s) in our sources"
fi
rm -f "$B"/modules/*.ko
find "$B/src" -name '*.ko' -exec cp {} "$B/modules/" \;
case "$SPARSE" in
ran*) log "modules ($FLAVOUR): $(cd "$B/modules" && ls *.ko | tr '\n' ' ')against $KDIR, W=1 + sparse clean (sparse $SPARSE)" ;;
*) log "modules ($FLAVOUR): $(cd "$B/modules" && ls *.ko | tr '\n' ' ')against $KDIR, W=1 clean"
   log "modules ($FLAVOUR): *** SPARSE DID NOT RUN: $SPARSE: NOT sparse clean ***" ;;
esac
