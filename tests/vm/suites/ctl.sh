#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ctl suite: p2pmapctl (userspace/) against the real p2pmap.ko and
# p2pgpu.ko, on whatever GPUs the machine has. With every ivshmem "GPU"
# bound by p2pgpu it checks that `devices` lists each one, `aperture`
# reports each one's window as its sysfs aperture_total and its BAR2 (bytes
# and human-readable), every --json output is valid JSON (p2pmap_jsoncheck:
# the guest has no python), `topology` gives for every pair of GPUs the
# verdict this script works out on its own from the PCI tree in sysfs (the
# kernel's walk to the common upstream bridge: distance and bus_addr below a
# common bridge, not_supported when only q35's host bridge is common,
# no_kconfig without P2PDMA), `features` matches
# /sys/module/p2pmap/features, and usage errors exit 2, runtime errors 1.
# Nothing here knows the topology's name, the number of GPUs, their sizes or
# their PCI addresses.
#
# run_module_test loads and unloads the modules around a program; the
# program is this script again, with CTL_BODY=1.
. /suites/lib.sh

CTL=/tests/bin/p2pmapctl
JSONCHECK=/tests/bin/p2pmap_jsoncheck

# the GPUs p2pgpu bound, sorted like p2pmapctl sorts
gpus() {
	for d in /sys/bus/pci/drivers/p2pgpu/????:??:??.?; do
		[ -e "$d" ] && echo "${d##*/}"
	done | sort
}

# human BYTES: the size as p2pmapctl prints whole units ("64 MiB", "1 GiB")
human() {
	v=$1 u=0
	set -- B KiB MiB GiB TiB
	while [ "$v" -ge 1024 ] && [ $((v % 1024)) -eq 0 ] && [ $u -lt 4 ]; do
		v=$((v / 1024))
		u=$((u + 1))
		shift
	done
	echo "$v $1"
}

# pci_chain BDF: the PCI devices from the root port down to BDF, one a line
pci_chain() {
	readlink -f "/sys/bus/pci/devices/$1" | tr '/' '\n' |
		grep -E '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'
}

# expected_route A B: "DISTANCE ROUTE" for provider A and importer B, worked
# out from the PCI tree as Linux's calc_map_type_and_dist does: the deepest
# common upstream device, the steps up from each side to it; no common
# device means only the host bridge is, which Linux refuses unless it is
# whitelisted (q35's 8086:29c0 is not; another host bridge may be).
expected_route() {
	if grep -q '^pci_p2pdma no' /sys/module/p2pmap/features; then
		echo "-1 no_kconfig"
		return
	fi
	pci_chain "$1" > /tmp/ctl_chain_a
	pci_chain "$2" > /tmp/ctl_chain_b
	awk 'NR == FNR { a[++na] = $0; next } { b[++nb] = $0 }
	END {
		c = 0
		for (i = 1; i <= na && i <= nb && a[i] == b[i]; i++)
			c = i
		if (c) print (na - c) + (nb - c), "bus_addr"
		else print "-1 host"
	}' /tmp/ctl_chain_a /tmp/ctl_chain_b
}

json_valid() {	# json_valid ARGS...: p2pmapctl --json ARGS | jsoncheck
	out=$("$CTL" --json "$@") || { echo "p2pmapctl --json $* failed: $out"; return 1; }
	printf '%s' "$out" | "$JSONCHECK" || { echo "$out"; return 1; }
	case "$out" in '{'*'}') ;; *) echo "not an object: $out"; return 1 ;; esac
}

check_devices() {
	out=$("$CTL" devices) || { echo "$out"; return 1; }
	echo "$out"
	[ -n "$GPUS" ] || { echo "p2pgpu bound no GPU"; return 1; }
	n=$(pci_devs 0x1af4 0x1110 | grep -c .)
	[ "$(echo "$GPUS" | wc -w)" -eq "$n" ] ||
		{ echo "p2pgpu bound [$GPUS] of $n ivshmem-plain devices"; return 1; }
	for g in $GPUS; do
		echo "$out" | awk -v d="$g" '$1 == d { f = 1 } END { exit !f }' ||
			{ echo "provider $g missing"; return 1; }
		[ -d "/sys/bus/pci/devices/$g/p2pmap" ] || { echo "$g has no p2pmap group"; return 1; }
	done
}

check_aperture() {
	out=$("$CTL" --bytes aperture) || { echo "$out"; return 1; }
	echo "$out"
	human_out=$("$CTL" aperture) || return 1
	echo "$human_out"
	for g in $GPUS; do
		got=$(echo "$out" | awk -v d="$g" '$1 == d { print $2 }')
		sys=$(cat "/sys/bus/pci/devices/$g/p2pmap/aperture_total")
		bar=$(bar_size "$g")
		[ -n "$got" ] && [ "$got" = "$sys" ] && [ "$got" = "$bar" ] ||
			{ echo "$g: p2pmapctl $got, sysfs $sys, BAR2 $bar"; return 1; }
		h=$(echo "$human_out" | awk -v d="$g" '$1 == d { print $2, $3 }')
		[ "$h" = "$(human "$bar")" ] ||
			{ echo "$g: p2pmapctl says '$h', BAR2 is $(human "$bar")"; return 1; }
		echo "$g: window $h = BAR2"
	done
}

# topology_pair A B: the row for provider A, importer B: "DISTANCE ROUTE"
topology_pair() {
	echo "$TOPO" | awk -v a="$1" -v b="$2" '$1 == a && $2 == b { print $3, $4 }'
}

check_topology() {
	TOPO=$("$CTL" topology) || { echo "$TOPO"; return 1; }
	echo "$TOPO"
	host=$(cat /sys/bus/pci/devices/0000:00:00.0/vendor /sys/bus/pci/devices/0000:00:00.0/device 2>/dev/null | tr '\n' ' ')
	npairs=0 np2p=0
	for a in $GPUS; do
		for b in $GPUS; do
			[ "$a" = "$b" ] && continue
			got=$(topology_pair "$a" "$b")
			want=$(expected_route "$a" "$b")
			if [ "$want" = "-1 host" ]; then
				# only the host bridge is common: q35's is not whitelisted
				case "$host:$got" in
				"0x8086 0x29c0 :-1 not_supported") want=$got ;;
				"0x8086 0x29c0 :"*) want="-1 not_supported" ;;
				*:"-1 not_supported" | *:*" host_bridge") want=$got ;;
				esac
			fi
			[ "$got" = "$want" ] ||
				{ echo "$a -> $b: want '$want', got '$got'"; return 1; }
			echo "$a -> $b: $got (as the PCI tree says)"
			case "$got" in *" bus_addr" | *" host_bridge") np2p=$((np2p + 1)) ;; esac
			npairs=$((npairs + 1))
			if [ "$got" = "-1 no_kconfig" ]; then
				echo "$TOPO" | grep -q 'kernel without peer-to-peer DMA' ||
					{ echo "no 'kernel without peer-to-peer DMA' reason"; return 1; }
			elif [ "$got" = "-1 not_supported" ]; then
				echo "$TOPO" | grep -q 'not supported (host bridge not whitelisted)' ||
					{ echo "no 'not supported' reason"; return 1; }
			fi
		done
	done
	n=$(echo "$GPUS" | wc -w)
	[ "$npairs" -eq $((n * (n - 1))) ] || { echo "$npairs pairs of $n GPUs"; return 1; }
	echo "$npairs ordered pairs, $np2p peer to peer"
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
	GPUS=$(gpus | tr '\n' ' ')
	tap_plan 15
	tap_check "ctl: devices lists every p2pgpu provider" check_devices
	tap_check "ctl: devices --json is valid" json_valid devices
	tap_check "ctl: aperture matches sysfs and BAR2 of every GPU" check_aperture
	tap_check "ctl: aperture --json is valid" json_valid aperture
	tap_check "ctl: topology of every pair of GPUs matches the PCI tree" check_topology
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
