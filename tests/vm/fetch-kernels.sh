#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches the newer kernels p2pmap is built against (6.12 LTS from Debian
# trixie, 7.3 from trixie-backports) through a PRIVATE apt configuration,
# and unpacks them into the cache. It never reads or writes the host's apt
# sources, lists or package state: apt gets its own sources.list, lists,
# status file and archive directory under $P2PMAP_CACHE/apt-trixie/.
#
# Per series S it provides $P2PMAP_CACHE/newk/S-<pkgversion>-<key>/ with
#   src/            linux-source-S, extracted
#   stock/          the stock image (boot/vmlinuz-*, boot/config-*,
#                   lib/modules/<abi>/) and headers (Module.symvers), from
#                   dpkg -x, nothing installed
#   abi             the stock kernel release string, e.g. 7.3.4+deb13-amd64
#   .p2pmap-complete
# where <key> hashes the private sources.list, the resolved package versions
# and FETCH_RECIPE. Prints one "S DIR" line per series on stdout.
#
# The module-build trees are made by tests/vm/prepare-ktree.sh from src/:
# Debian trixie's linux-headers packages ship kbuild binaries (fixdep,
# modpost, ...) linked against glibc 2.38+, which Debian 12 (2.36) cannot
# run, so they are not used as KDIR; only their Module.symvers is kept.
#
# usage: fetch-kernels.sh [SERIES...]     (default: 6.12 7.3)
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

FETCH_RECIPE=1
SERIES=("$@")
[ ${#SERIES[@]} -gt 0 ] || SERIES=(6.12 7.3)

# The private apt configuration. The mirror is the one the host uses (read
# from the host's sources, never changed); the suites are trixie (6.12) and
# trixie-backports (7.3).
APTD=$P2PMAP_CACHE/apt-trixie
host_mirror() {
	local m
	m=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
	echo "${m%/}"
}
MIRROR=${P2PMAP_DEBIAN_MIRROR:-$(host_mirror)}
[ -n "$MIRROR" ] || die "cannot find the host's Debian mirror in /etc/apt/sources.list*"
mkdir -p "$APTD/lists/partial" "$APTD/archives/partial" "$APTD/cache"
SL="deb $MIRROR trixie main
deb $MIRROR trixie-backports main"
[ "$(cat "$APTD/sources.list" 2>/dev/null)" = "$SL" ] || echo "$SL" > "$APTD/sources.list"
: > "$APTD/status.empty"
APT_OPTS=(-o "Dir::Etc::sourcelist=$APTD/sources.list" -o "Dir::Etc::sourceparts=-"
	-o "Dir::State=$APTD" -o "Dir::State::Lists=$APTD/lists"
	-o "Dir::State::status=$APTD/status.empty" -o "Dir::Cache=$APTD/cache"
	-o "Dir::Cache::archives=$APTD/archives" -o "APT::Get::List-Cleanup=false"
	-o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
papt() { apt-get "${APT_OPTS[@]}" "$@"; }
pcache() { apt-cache "${APT_OPTS[@]}" "$@"; }

exec 7>"$APTD/.lock"
flock 7

# Refresh the private lists at most once a day (and when missing).
if [ -z "$(find "$APTD/lists" -maxdepth 1 -name '*trixie-backports*Packages*' -mtime -1 2>/dev/null)" ]; then
	log "private apt: update ($MIRROR trixie, trixie-backports)"
	papt -qq update >&2 || die "private apt update failed"
fi

candidate() { pcache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }

# fetch_series S: resolve, download, unpack; prints the directory.
# Resolving asks apt-cache several times (seconds each on a busy machine),
# so the answer is remembered in $APTD/resolved-S until the lists change.
fetch_series() {
	local s=$1 sv abi img pkgs key d tmp p
	if [ -f "$APTD/resolved-$s" ] && [ -z "$(find "$APTD/lists" -maxdepth 1 -newer "$APTD/resolved-$s" -name '*Packages*')" ]; then
		d=$(cat "$APTD/resolved-$s")
		if [ -f "$d/.p2pmap-complete" ]; then
			log "kernel $s ($(cat "$d/version")) cached: $d"
			echo "$d"
			return
		fi
	fi
	sv=$(candidate "linux-source-$s")
	[ -n "$sv" ] && [ "$sv" != "(none)" ] || die "linux-source-$s not found in trixie/trixie-backports"
	# The stock image of the same upstream version: 7.3.4-1~bpo13+1 -> 7.3.4+deb13-amd64.
	abi="${sv%%-*}+deb13-amd64"
	if [ -n "$(candidate "linux-binary-$abi")" ]; then
		# 7.x packaging: linux-image-<abi> is a metapackage.
		pkgs="linux-binary-$abi linux-modules-$abi linux-base-$abi"
	else
		pkgs="linux-image-$abi-unsigned"
	fi
	pkgs="linux-source-$s $pkgs linux-headers-$abi linux-headers-${abi%-amd64}-common"
	for p in $pkgs; do
		[ "$(candidate "$p")" = "$sv" ] || die "$p: version '$(candidate "$p")', want $sv"
	done
	key=$({ echo "$SL"; echo "$pkgs"; echo "$sv"; echo "recipe=$FETCH_RECIPE"; } |
		sha256sum | cut -c1-12)
	d=$P2PMAP_CACHE/newk/$s-$sv-$key
	if [ -f "$d/.p2pmap-complete" ]; then
		log "kernel $s ($sv) cached: $d"
		echo "$d" > "$APTD/resolved-$s"
		echo "$d"
		return
	fi
	log "kernel $s: downloading $pkgs ($sv)"
	# apt-get download fetches exactly these packages (no dependencies),
	# verified against the private lists' hashes.
	for p in $pkgs; do
		ls "$APTD"/archives/"${p}_${sv}"_*.deb >/dev/null 2>&1 ||
			(cd "$APTD/archives" && papt -qq download "$p" >&2) ||
			die "download of $p ($sv) failed"
	done
	rm -rf "$d.tmp"
	mkdir -p "$d.tmp/stock"
	for p in $pkgs; do
		local deb
		deb=$(ls "$APTD"/archives/"${p}_${sv}"_*.deb | head -1)
		[ -n "$deb" ] || die "no .deb for $p in $APTD/archives"
		case "$p" in
		linux-source-*)
			log "kernel $s: extracting $p"
			dpkg-deb --fsys-tarfile "$deb" | tar -C "$d.tmp" -x --wildcards './usr/src/linux-source-*.tar.xz'
			mkdir -p "$d.tmp/src"
			tar -C "$d.tmp/src" --strip-components=1 -xf "$d.tmp"/usr/src/linux-source-*.tar.xz
			rm -rf "$d.tmp/usr" ;;
		*) dpkg -x "$deb" "$d.tmp/stock" ;;
		esac
	done
	# 7.x ships the image under /usr/lib/modules/<abi>/, 6.12 under /boot.
	if [ ! -f "$d.tmp/stock/boot/vmlinuz-$abi" ]; then
		mkdir -p "$d.tmp/stock/boot"
		for p in vmlinuz config System.map; do
			[ -f "$d.tmp/stock/usr/lib/modules/$abi/$p" ] &&
				cp "$d.tmp/stock/usr/lib/modules/$abi/$p" "$d.tmp/stock/boot/$p-$abi"
		done
	fi
	[ -f "$d.tmp/stock/boot/vmlinuz-$abi" ] || die "kernel $s: no vmlinuz-$abi in $pkgs"
	[ -f "$d.tmp/stock/boot/config-$abi" ] || die "kernel $s: no config-$abi in $pkgs"
	[ -n "$(find "$d.tmp/stock" -name Module.symvers -path "*$abi*" | head -1)" ] ||
		die "kernel $s: no Module.symvers in linux-headers-$abi"
	echo "$abi" > "$d.tmp/abi"
	echo "$sv" > "$d.tmp/version"
	rm -rf "$d"
	mv "$d.tmp" "$d"
	touch "$d/.p2pmap-complete"
	# Keep only this unpacked version of the series.
	for p in "$P2PMAP_CACHE"/newk/"$s"-*; do
		[ "$p" = "$d" ] || [ ! -d "$p" ] || { log "pruning $p"; rm -rf "$p"; }
	done
	echo "$d" > "$APTD/resolved-$s"
	log "kernel $s ($sv, stock $abi) ready: $d"
	echo "$d"
}

for s in "${SERIES[@]}"; do
	case "$s" in
	6.12 | 7.3) echo "$s $(fetch_series "$s")" ;;
	*) die "unknown series $s (6.12 or 7.3)" ;;
	esac
done
