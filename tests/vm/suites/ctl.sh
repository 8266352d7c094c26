#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ctl suite: p2pmapctl (userspace/) against the real p2pmap.ko and
# p2pgpu.ko. With both ivshmem "GPUs" bound by p2pgpu it checks that
# `devices` lists both providers, `aperture` reports each one's window as
# its sysfs aperture_total and BAR2 (64 MiB and 32 MiB), every --json output
# is valid JSON (p2pmap_jsoncheck: the guest has no python), `topology`
# gives distance 4 between the GPUs on the switch topology and "not
# supported" on the root bus, `features` matches /sys/module/p2pmap/features,
# and usage errors exit 2, runtime errors 1.
#
# run_module_test loads and unloads the modules around a program; the
# program is this script again, with CTL_BODY=1.
. /suites/lib.sh

CTL=/tests/bin/p2pmapctl
JSONCHECK=/tests/bin/p2pmap_jsoncheck

# BDFs of the ivshmem-plain GPUs (1af4:1110), sorted like p2pmapctl sorts
gpus() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
			echo "${d##*/}"
	done | sort
}

# bar_size BDF: size of BAR2 from the resource file, in bytes
bar_size() {
	sed -n 3p "/sys/bus/pci/devices/$1/resource" | {
		read -r s e _
		# shellcheck disable=SC2004 # expand the 0x... text before evaluating
		echo $(( $e - $s + 1 ))
	}
}

json_valid() {	# json_valid ARGS...: p2pmapctl --json ARGS | jsoncheck
	out=$("$CTL" --json "$@") || { echo "p2pmapctl --json $* failed: $out"; return 1; }
	printf '%s' "$out" | "$JSONCHECK" || { echo "$out"; return 1; }
	case "$out" in '{'*'}') ;; *) echo "not an object: $out"; return 1 ;; esac
}

check_devices() {
	out=$("$CTL" devices) || { echo "$out"; return 1; }
	echo "$out"
	[ -n "$G0" ] && [ -n "$G1" ] || { echo "expected two ivshmem GPUs"; return 1; }
	for g in $G0 $G1; do
		echo "$out" | awk -v d="$g" '$1 == d { f = 1 } END { exit !f }' ||
			{ echo "provider $g missing"; return 1; }
		[ -d "/sys/bus/pci/devices/$g/p2pmap" ] || { echo "$g has no p2pmap group"; return 1; }
	done
}

check_aperture() {
	out=$("$CTL" --bytes aperture) || { echo "$out"; return 1; }
	echo "$out"
	sizes=
	for g in $G0 $G1; do
		got=$(echo "$out" | awk -v d="$g" '$1 == d { print $2 }')
		sys=$(cat "/sys/bus/pci/devices/$g/p2pmap/aperture_total")
		bar=$(bar_size "$g")
		[ "$got" = "$sys" ] && [ "$got" = "$bar" ] ||
			{ echo "$g: p2pmapctl $got, sysfs $sys, BAR2 $bar"; return 1; }
		sizes="$sizes $got"
	done
	# shellcheck disable=SC2086 # split the list
	case "$(echo $sizes | tr ' ' '\n' | sort -n | tr '\n' ' ')" in
	"33554432 67108864 ") ;;
	*) echo "expected windows of 32 MiB and 64 MiB, got$sizes"; return 1 ;;
	esac
	human=$("$CTL" aperture) || return 1
	echo "$human" | grep -q ' 64 MiB ' && echo "$human" | grep -q ' 32 MiB ' ||
		{ echo "$human"; return 1; }
}

# topology_pair A B: the row for provider A, importer B: "DISTANCE ROUTE"
topology_pair() {
	echo "$TOPO" | awk -v a="$1" -v b="$2" '$1 == a && $2 == b { print $3, $4 }'
}

check_topology() {
	TOPO=$("$CTL" topology) || { echo "$TOPO"; return 1; }
	echo "$TOPO"
	r1=$(topology_pair "$G0" "$G1")
	r2=$(topology_pair "$G1" "$G0")
	# a kernel without CONFIG_PCI_P2PDMA refuses every pair, whatever the path
	if grep -q '^pci_p2pdma no' /sys/module/p2pmap/features; then
		want="-1 no_kconfig"
	else
		case "$P2PMAP_TOPOLOGY" in
		switch) want="4 bus_addr" ;;
		*) want="-1 not_supported" ;;
		esac
	fi
	[ "$r1" = "$want" ] && [ "$r2" = "$want" ] ||
		{ echo "topology $P2PMAP_TOPOLOGY: want '$want', got '$r1' / '$r2'"; return 1; }
	if [ "$want" = "-1 no_kconfig" ]; then
		echo "$TOPO" | grep -q 'kernel without peer-to-peer DMA' ||
			{ echo "no 'kernel without peer-to-peer DMA' reason"; return 1; }
	elif [ "$P2PMAP_TOPOLOGY" != switch ]; then
		echo "$TOPO" | grep -q 'not supported (host bridge not whitelisted)' ||
			{ echo "no 'not supported' reason"; return 1; }
	fi
}

check_features() {
	out=$("$CTL" features) || { echo "$out"; return 1; }
	echo "$out"
	n=0
	while read -r name state _; do
		n=$((n + 1))
		echo "$out" | awk -v f="$name" -v s="$state" '$1 == f && $2 == s { x = 1 } END { exit !x }' ||
			{ echo "feature $name $state not shown"; return 1; }
	done < /sys/module/p2pmap/features
	rows=$(echo "$out" | sed 1d | grep -c .)
	[ "$rows" -eq "$n" ] && [ "$n" -gt 0 ] || { echo "$rows rows, sysfs has $n"; return 1; }
}

check_exit() {	# check_exit WANT ARGS...
	want=$1
	shift
	"$CTL" "$@" >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] || { echo "p2pmapctl $*: exit $rc, want $want"; return 1; }
}

if [ "${CTL_BODY:-0}" = 1 ]; then
	G0=$(gpus | sed -n 1p)
	G1=$(gpus | sed -n 2p)
	tap_plan 15
	tap_check "ctl: devices lists both p2pgpu providers" check_devices
	tap_check "ctl: devices --json is valid" json_valid devices
	tap_check "ctl: aperture matches sysfs and BAR2 (64 MiB, 32 MiB)" check_aperture
	tap_check "ctl: aperture --json is valid" json_valid aperture
	tap_check "ctl: topology between the GPUs ($P2PMAP_TOPOLOGY)" check_topology
	tap_check "ctl: topology --json is valid" json_valid topology --all
	tap_check "ctl: imports runs" "$CTL" imports
	tap_check "ctl: imports --json is valid" json_valid imports
	tap_check "ctl: counters runs" "$CTL" counters
	tap_check "ctl: counters --json is valid" json_valid counters
	tap_check "ctl: features matches /sys/module/p2pmap/features" check_features
	tap_check "ctl: features --json is valid" json_valid features
	tap_check "ctl: unknown command exits 2" check_exit 2 frobnicate
	tap_check "ctl: missing sysfs root exits 1" check_exit 1 --sysfs-root /nonexistent devices
	tap_check "ctl: --help exits 0" check_exit 0 --help
	for c in devices aperture topology counters features; do
		tap_diag "\$ p2pmapctl $c"
		tap_diag "$("$CTL" $c 2>&1)"
	done
	tap_done
fi

[ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true
cp "$0" /tmp/ctl_body.sh && chmod +x /tmp/ctl_body.sh
CTL_BODY=1
export CTL_BODY
run_module_test "p2pmap p2pgpu" /tmp/ctl_body.sh 'p2pmap|p2pgpu'
