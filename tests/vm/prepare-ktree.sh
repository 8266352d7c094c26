#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepares a module-build tree (KDIR) for a newer kernel from the
# linux-source that tests/vm/fetch-kernels.sh unpacked: configure, verify,
# then either `make modules_prepare` (scripts, generated headers, objtool,
# modpost) or, for the series in FULL_SERIES, a whole debug test kernel
# (bzImage + modules, installed under modinst/) that the VM boots.
# Prints the KDIR on stdout.
#
# usage: prepare-ktree.sh SERIES test|stock
#   test   tinyconfig + kernel/configs/kvm_guest.config + our fragment
#          (tests/vm/config/p2pmap-test.config) + p2pmap-newer.config,
#          olddefconfig; every requested symbol is verified, except those
#          listed for this series in gone-symbols.txt that really no longer
#          exist in the tree.
#          7.3 (FULL_SERIES): the kernel is built, from the source with the
#          patch series tests/vm/patches/7.3/*.patch applied (git am
#          format, applied in order to a hard-linked copy of src/ in
#          src-patched/, so the pristine src/ that the stock trees use is
#          never changed; GNU patch replaces each file it edits, which
#          breaks the link). The fragment and the patches are the cache
#          key; the paths do not depend on it (build-test/), so a changed
#          key rebuilds incrementally: Kbuild recompiles whatever the
#          command lines and sources changed, and files a patch touched,
#          before or now, get a fresh copy and mtime. modpost then checks
#          every symbol against the kernel's own Module.symvers.
#          6.12: modules_prepare only (no Module.symvers, so unresolved
#          symbols are only warnings); its debug coverage comes from 7.3.
#   stock  Debian's own config of the stock image (boot/config-<abi>), with
#          CONFIG_LOCALVERSION set so the release string (vermagic) equals
#          the image's, and the image's Module.symvers (from linux-headers)
#          so modpost checks every symbol and its CRC.
# Why not Debian's linux-headers as KDIR: trixie's kbuild binaries need
# glibc >= 2.38 and Debian 12 has 2.36; the tree is rebuilt here with the
# host's gcc 12 instead (>= gcc 8.1, the minimum for 7.3).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

S=${1:?usage: prepare-ktree.sh SERIES test|stock}
FL=${2:?usage: prepare-ktree.sh SERIES test|stock}
KTREE_RECIPE=1
NEWER_FRAG=$P2PMAP_ROOT/tests/vm/config/p2pmap-newer.config
GONE=$P2PMAP_ROOT/tests/vm/config/gone-symbols.txt
FULL_SERIES="7.3"
PATCHDIR=$P2PMAP_ROOT/tests/vm/patches/$S
JOBS=${JOBS:-2}

D=$("$P2PMAP_ROOT/tests/vm/fetch-kernels.sh" "$S" | awk '{ print $2 }')
SRC=$D/src
ABI=$(cat "$D/abi")
FULL=0
if [ "$FL" = test ] && [[ " $FULL_SERIES " == *" $S "* ]]; then FULL=1; fi
patches=()
if [ $FULL = 1 ] && [ -d "$PATCHDIR" ]; then
	mapfile -t patches < <(find "$PATCHDIR" -maxdepth 1 -name '*.patch' | sort)
fi
case "$FL" in
test) key=$({ cat "$KFRAG" "$NEWER_FRAG" "$GONE"; echo "recipe=$KTREE_RECIPE full=$FULL"
	[ ${#patches[@]} -eq 0 ] || cat "${patches[@]}"; } | sha256sum | cut -c1-12) ;;
stock) key=$({ cat "$D/stock/boot/config-$ABI"; echo "recipe=$KTREE_RECIPE"; } | sha256sum | cut -c1-12) ;;
*) die "unknown flavour $FL (test or stock)" ;;
esac
B=$D/build-$FL-$key
[ $FULL = 0 ] || B=$D/build-test

exec 6>"$D/.prepare.lock"
flock 6
if [ -f "$B/.p2pmap-prepared" ] && { [ $FULL = 0 ] || [ "$(cat "$B/.p2pmap-key" 2>/dev/null)" = "$key" ]; }; then
	log "module-build tree $S/$FL cached: $B"
	echo "$B"
	exit 0
fi

# in_kconfig SYM: does any Kconfig file of the tree define SYM?
in_kconfig() {
	grep -rqE --include='Kconfig*' "^[[:space:]]*(menu)?config[[:space:]]+$1\$" "$SRC"
}

# verify FRAG CFG: every requested value survived olddefconfig.
verify() {
	local frag=$1 cfg=$2 bad=0 line sym
	while IFS= read -r line; do
		sym=
		case "$line" in
		CONFIG_*=*) sym=${line%%=*} ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *} ;;
		*) continue ;;
		esac
		if awk -v s="$S" -v y="${sym#CONFIG_}" '$1 == s && $2 == y { f = 1 } END { exit !f }' "$GONE"; then
			if in_kconfig "${sym#CONFIG_}"; then
				log "config: $sym is listed as gone on $S but exists; verifying it"
			else
				log "config: $sym does not exist on $S (gone-symbols.txt): not verified"
				continue
			fi
		fi
		case "$line" in
		CONFIG_*=*)
			if ! grep -qxF -- "$line" "$cfg"; then
				log "config: requested '$line', got '$(grep -E "^(# )?$sym[= ]" "$cfg" || echo absent)'"
				bad=1
			fi ;;
		*)
			if grep -qE "^$sym=" "$cfg"; then
				log "config: requested $sym unset, got '$(grep -E "^$sym=" "$cfg")'"
				bad=1
			fi ;;
		esac
	done < "$frag"
	return $bad
}

# The patched source: a hard-linked copy of src/ with the series applied,
# always at src-patched/ (the path is in every compiler command line, so a
# new path would rebuild everything). .p2pmap-patched holds the series'
# hash and the files it touched.
if [ $FULL = 1 ]; then
	PSRC=$D/src-patched
	pkey=$({ [ ${#patches[@]} -eq 0 ] || cat "${patches[@]}"; } | sha256sum | cut -c1-12)
	if [ "$(head -1 "$PSRC/.p2pmap-patched" 2>/dev/null)" != "$pkey" ]; then
		old=$(tail -n +2 "$PSRC/.p2pmap-patched" 2>/dev/null || true)
		rm -rf "$PSRC.tmp"
		cp -al "$SRC" "$PSRC.tmp"
		for p in "${patches[@]}"; do
			log "$S/test: applying $(basename "$p")"
			patch -s -p1 -d "$PSRC.tmp" --forward --no-backup-if-mismatch < "$p" ||
				die "$S/test: $(basename "$p") does not apply to $(cat "$D/version" 2>/dev/null || echo "$SRC")"
		done
		new=$(sed -n 's|^+++ b/||p' "${patches[@]}" /dev/null | sort -u)
		# A file patched before or now: its own copy with a fresh mtime,
		# so make recompiles it even where it is back to pristine.
		for f in $(printf '%s\n' $old $new | sort -u); do
			[ -f "$PSRC.tmp/$f" ] || continue
			cp --remove-destination "$PSRC.tmp/$f" "$PSRC.tmp/$f.p2pmap" &&
				mv "$PSRC.tmp/$f.p2pmap" "$PSRC.tmp/$f" && touch "$PSRC.tmp/$f"
		done
		rm -rf "$PSRC"
		mv "$PSRC.tmp" "$PSRC"
		{ echo "$pkey"; printf '%s\n' $new; } > "$PSRC/.p2pmap-patched"
	fi
	# patched sources of the keyed layout this replaced (the keyed build
	# trees are pruned with the other build-test-* at the end)
	for p in "$D"/src-patched-*; do
		[ ! -d "$p" ] || { log "pruning $p"; rm -rf "$p"; }
	done
	SRC=$PSRC
fi

t0=$(date +%s)
if [ $FULL = 1 ] && [ -f "$B/.p2pmap-configured" ] && [ "$(cat "$B/.p2pmap-key" 2>/dev/null)" = "$key" ]; then
	log "$S/test: resuming the kernel build in $B"
else
if [ $FULL = 1 ] && [ -d "$B" ]; then
	log "$S/test: key changed ($(cat "$B/.p2pmap-key" 2>/dev/null || echo none) -> $key): reconfiguring, incremental build in $B"
	rm -f "$B/.p2pmap-prepared" "$B/.p2pmap-configured"
else
	rm -rf "$B"
fi
mkdir -p "$B"
case "$FL" in
test)
	log "$S/test: tinyconfig + kvm_guest + fragment + p2pmap-newer.config in $B"
	make -s -C "$SRC" O="$B" tinyconfig >/dev/null
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" \
		"$SRC/kernel/configs/kvm_guest.config" "$KFRAG" "$NEWER_FRAG" >/dev/null
	make -s -C "$SRC" O="$B" olddefconfig >/dev/null
	verify "$KFRAG" "$B/.config" && verify "$NEWER_FRAG" "$B/.config" ||
		die "$S/test: the fragment did not survive olddefconfig (see above)"
	# What the booted kernel's RDMA tests need beyond the fragment
	# (defaults there, but checked: the ODP data checks run on it).
	if [ $FULL = 1 ]; then
		for sym in INFINIBAND_ON_DEMAND_PAGING=y RDMA_RXE=m; do
			grep -qx "CONFIG_$sym" "$B/.config" || die "$S/test: CONFIG_$sym missing"
		done
	fi
	;;
stock)
	log "$S/stock: Debian config-$ABI in $B"
	cp "$D/stock/boot/config-$ABI" "$B/.config"
	# Same release string as the image (vermagic); no signing keys here.
	"$SRC/scripts/config" --file "$B/.config" \
		--set-str LOCALVERSION "${ABI#"$(make -s -C "$SRC" kernelversion)"}" \
		--disable LOCALVERSION_AUTO --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str SYSTEM_REVOCATION_KEYS "" --disable MODULE_SIG_ALL
	make -s -C "$SRC" O="$B" olddefconfig >/dev/null
	for sym in MODULES DRM DMA_SHARED_BUFFER ZONE_DEVICE HMM_MIRROR; do
		grep -qE "^CONFIG_$sym=[ym]" "$B/.config" || die "$S/stock: CONFIG_$sym lost in olddefconfig"
	done
	;;
esac
touch "$B/.p2pmap-configured"
echo "$key" > "$B/.p2pmap-key"
fi
if [ $FULL = 1 ]; then
	log "$S/test: building the debug test kernel with -j$JOBS (cold: ~20-30 min on 2 cores)"
	make -s -C "$SRC" O="$B" -j"$JOBS" bzImage modules >&2
	rm -rf "$B/modinst"
	make -s -C "$SRC" O="$B" INSTALL_MOD_PATH="$B/modinst" INSTALL_MOD_STRIP=1 modules_install >&2
	printf '%s\n' "${patches[@]##*/}" > "$B/patches-applied.txt"
else
	log "$S/$FL: make -j$JOBS modules_prepare"
	make -s -C "$SRC" O="$B" -j"$JOBS" modules_prepare >&2
fi
if [ "$FL" = stock ]; then
	cp "$(find "$D/stock" -name Module.symvers -path "*linux-headers-$ABI/*" | head -1)" "$B/Module.symvers"
	rel=$(cat "$B/include/config/kernel.release")
	[ "$rel" = "$ABI" ] || die "$S/stock: kernel.release '$rel' != image '$ABI' (vermagic would differ)"
fi
grep -E '^CONFIG_(PCI_P2PDMA|DEVICE_PRIVATE|DMABUF_MOVE_NOTIFY|KASAN|PROVE_LOCKING)[= ]|^# CONFIG_(PCI_P2PDMA|DEVICE_PRIVATE|DMABUF_MOVE_NOTIFY)' \
	"$B/.config" > "$B/config-summary.txt" || true
touch "$B/.p2pmap-prepared"
# Keep only the newest tree of this flavour.
for p in "$D"/build-"$FL"-*; do
	[ "$p" = "$B" ] || [ ! -d "$p" ] || { log "pruning $p"; rm -rf "$p"; }
done
log "$S/$FL: module-build tree ready in $(( $(date +%s) - t0 ))s: $B"
echo "$B"
