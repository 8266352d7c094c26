#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs the Debian 12 packages p2pmap's build, tests and demo need, and
# only those that are missing (no network traffic when all are present).
# Runs apt-get update once before the first install, as root; prints what
# it installed.
set -euo pipefail

PKGS=(
	# kernel build + test kernel source + stock headers
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
	xz-utils gzip rsync file linux-source-6.1 linux-headers-amd64
	# static analysis
	sparse codespell
	# VM
	qemu-system-x86 busybox-static python3
	# RDMA userspace for the guest
	rdma-core ibverbs-utils ibverbs-providers perftest iproute2
	libibverbs-dev librdmacm-dev
	# userspace library and tools (json-c: p2pmapctl --json, static too)
	libdrm-dev pkg-config libjson-c-dev
	# ABI check (C++ header test) and Debian packages (make packages)
	g++ dpkg-dev debhelper dh-dkms fakeroot lintian dkms
)
missing=()
for p in "${PKGS[@]}"; do
	case "$p" in \#*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} package(s)"
