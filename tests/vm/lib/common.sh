# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the p2pmap VM test bed: where the cache lives, how the
# test kernel is located, stage timing and logging. Sourced by every script
# under tests/vm/ and by the top-level Makefile's shell recipes; it defines
# functions and variables only and never runs anything on its own.

P2PMAP_ROOT=${P2PMAP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
P2PMAP_CACHE=${P2PMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/p2pmap}
P2PMAP_OUT=${P2PMAP_OUT:-$P2PMAP_ROOT/out}
KSRC_TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
KFRAG=${KFRAG:-$P2PMAP_ROOT/tests/vm/config/p2pmap-test.config}
# Bump when the recipe in build-kernel.sh changes in a way the fragment
# does not show (base configs, make targets), so the cache key changes.
KRECIPE_VERSION=3

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ksrc_version: Debian package version of linux-source-6.1 (cache key part).
ksrc_version() {
	dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown
}

# kernel_key: hash of fragment + source version + recipe version.
kernel_key() {
	{ cat "$KFRAG"; ksrc_version; echo "recipe=$KRECIPE_VERSION"; } |
		sha256sum | cut -c1-16
}

ksrc_dir() { echo "$P2PMAP_CACHE/src/linux-source-6.1-$(ksrc_version)"; }
kbuild_dir() { echo "$P2PMAP_CACHE/kernel-$(kernel_key)"; }

# kdir_for FLAVOUR: the kernel tree modules of FLAVOUR build against.
#   test         the 6.1 test kernel (tests/vm/build-kernel.sh)
#   stock        Debian's installed linux-headers-6.1.*-amd64
#   6.12, 7.3    from linux-source with the test fragment: 6.12 prepared
#                only, 7.3 the built debug test kernel (patched)
#   6.12-stock, 7.3-stock   prepared with Debian's stock config
# (tests/vm/prepare-ktree.sh; the sources come from fetch-kernels.sh).
kdir_for() {
	local k
	case "$1" in
	test) "$P2PMAP_ROOT/tests/vm/build-kernel.sh" ;;
	stock)
		k=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
		[ -n "$k" ] || die "no /usr/src/linux-headers-6.1.*-amd64 (apt-get install linux-headers-amd64)"
		echo "$k" ;;
	6.12 | 7.3) "$P2PMAP_ROOT/tests/vm/prepare-ktree.sh" "$1" test ;;
	6.12-stock | 7.3-stock) "$P2PMAP_ROOT/tests/vm/prepare-ktree.sh" "${1%-stock}" stock ;;
	*) die "unknown kernel flavour $1" ;;
	esac
}

# our_diagnostics LOG DIR: compiler/sparse diagnostics in our sources (the
# copy of the tree under DIR). 6.1 and 6.12 print absolute paths under DIR;
# 7.3 runs the compiler in the M= directory (inside DIR) and prints paths
# relative to it, while kernel headers stay absolute.
our_diagnostics() {
	local logf=$1 dir=$2
	{
		grep -E "^[A-Za-z0-9_.][^: ]*:[0-9]+(:[0-9]+)?: (warning|error|sparse|fatal error)" "$logf" |
			sed 's|^\./||'
		grep -E "^$dir/[^:]+:[0-9]+(:[0-9]+)?: (warning|error|sparse|fatal error)" "$logf" |
			sed "s|^$dir/||"
	} || true
}

# stage NAME CMD...: run CMD, print its wall time, propagate its status.
stage() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	log "stage $name: start"
	"$@"
	rc=$?
	log "stage $name: $( [ $rc -eq 0 ] && echo done || echo "FAILED rc=$rc") in $(( $(date +%s) - t0 ))s"
	echo "$name $(( $(date +%s) - t0 )) $rc" >> "${P2PMAP_TIMINGS:-/dev/null}"
	return $rc
}
