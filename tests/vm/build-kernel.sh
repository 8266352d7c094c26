#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds (or finds in the cache) the p2pmap test kernel: Debian's
# linux-source-6.1, tinyconfig + kvm_guest.config + our fragment, with the
# debug set on. The build lives outside the repository under
# $P2PMAP_CACHE/kernel-<key>, where <key> hashes the fragment, the source
# package version and the recipe version. A finished build carries a stamp
# file; an interrupted one resumes incrementally. Prints the build dir on
# stdout. Every symbol the fragment asks for is checked after olddefconfig,
# and a dropped symbol is a hard error.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

JOBS=${JOBS:-$(( $(nproc) + 1 ))}
SRC=$(ksrc_dir)
B=$(kbuild_dir)
mkdir -p "$P2PMAP_CACHE"

exec 9>"$P2PMAP_CACHE/.kernel.lock"
flock 9

if [ -f "$B/.p2pmap-complete" ]; then
	log "test kernel cached: $B"
	echo "$B"
	exit 0
fi

[ -f "$KSRC_TARBALL" ] || die "$KSRC_TARBALL missing (apt-get install linux-source-6.1)"
if [ ! -f "$SRC/.p2pmap-extracted" ]; then
	log "extracting $KSRC_TARBALL -> $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -C "$SRC.tmp" --strip-components=1 -xf "$KSRC_TARBALL"
	mv "$SRC.tmp" "$SRC"
	touch "$SRC/.p2pmap-extracted"
fi

# verify_config FRAG CONFIG: every requested value must survive.
verify_config() {
	local frag=$1 cfg=$2 bad=0 line sym
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			if ! grep -qxF -- "$line" "$cfg"; then
				log "config: requested '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo 'absent')'"
				bad=1
			fi ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			if grep -qE "^$sym=" "$cfg"; then
				log "config: requested $sym unset, got '$(grep -E "^$sym=" "$cfg")'"
				bad=1
			fi ;;
		esac
	done < "$frag"
	return $bad
}

mkdir -p "$B"
if [ ! -f "$B/.p2pmap-configured" ]; then
	log "configuring test kernel in $B (key $(kernel_key))"
	make -s -C "$SRC" O="$B" tinyconfig >/dev/null
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" \
		"$SRC/kernel/configs/kvm_guest.config" "$KFRAG" >/dev/null
	make -s -C "$SRC" O="$B" olddefconfig >/dev/null
	if ! verify_config "$KFRAG" "$B/.config"; then
		die "config fragment $KFRAG did not survive olddefconfig (see above)"
	fi
	touch "$B/.p2pmap-configured"
fi

log "building test kernel with -j$JOBS (cold build: ~15-25 min on 2 cores)"
make -s -C "$SRC" O="$B" -j"$JOBS" bzImage modules
rm -rf "$B/modinst"
make -s -C "$SRC" O="$B" INSTALL_MOD_PATH="$B/modinst" INSTALL_MOD_STRIP=1 modules_install
cp "$KFRAG" "$B/p2pmap-test.config.used"
basename "$KFRAG" > "$B/.p2pmap-flavour"
touch "$B/.p2pmap-complete"
# Keep this build and the one before it of the same flavour (the fragment's
# file name: the test kernel and make bench's release kernel are pruned
# separately, so building one never removes the other); older ones only
# take disk space. Builds from before flavours were recorded are test ones.
flavour=$(cat "$B/.p2pmap-flavour")
ls -dt "$P2PMAP_CACHE"/kernel-* 2>/dev/null | while read -r old; do
	f=$(cat "$old/.p2pmap-flavour" 2>/dev/null || echo p2pmap-test.config)
	if [ "$f" = "$flavour" ]; then echo "$old"; fi
done | tail -n +3 | while read -r old; do
	log "pruning old $flavour kernel $old"
	rm -rf "$old"
done
log "test kernel ready: $B"
echo "$B"
