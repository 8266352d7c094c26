# SPDX-License-Identifier: GPL-2.0
#
# TAP helpers for the guest-side suite scripts (busybox sh). Sourced, never
# run. A suite calls tap_plan N first, then exactly N of tap_ok/tap_fail/
# tap_skip/tap_check; tap_done exits 0 only if nothing failed. The host's
# verdict.py re-counts all of this independently.

TAP_N=0
TAP_FAILED=0
tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N $*"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N $*"; }
tap_skip() { TAP_N=$((TAP_N + 1)); name=$1; shift; echo "ok $TAP_N $name # SKIP $*"; }
tap_diag() { echo "$*" | sed 's/^/# /'; }
# tap_check NAME CMD...: ok if CMD succeeds, else not ok with its output.
tap_check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name"
		tap_diag "$out"
	fi
}
tap_done() { [ "$TAP_FAILED" -eq 0 ]; exit $?; }

# ensure_node CLASSDIR: create /dev/<name> (or /dev/dri/<name> for DRM) for
# a sysfs class device if devtmpfs did not.
ensure_node() {
	[ -r "$1/dev" ] || return 0
	name=${1##*/}
	case "$1" in */drm/*) node=/dev/dri/$name ;; *) node=/dev/$name ;; esac
	[ -c "$node" ] && return 0
	mkdir -p "${node%/*}"
	devno=$(cat "$1/dev")
	mknod "$node" c "${devno%%:*}" "${devno#*:}"
}

# ---- the devices under test ----------------------------------------------
# Suites never assume a topology. How many stand-in GPUs there are, their
# BARs, and which pairs reach each other peer to peer come from the machine:
# the GPUs are the ivshmem-plain devices (1af4:1110, what p2pgpu binds), the
# DMA engine is the edu (1234:11e8), and a pair's route is p2pmapctl's
# verdict for it (`p2pmapctl topology PROVIDER IMPORTER`, from PCI sysfs:
# the same walk as the kernel's pci_p2pdma distance). p2pmap_devices MODE
# picks the pair a test program works on and exports, for it:
#   P2PMAP_GPUS   the GPUs' PCI names, the pair under test first, then the
#                 rest in PCI order (open_gpu() in p2pgpu_selftest.h takes
#                 its N-th GPU from here)
#   P2PMAP_EDU    the edu's PCI name, or empty
#   P2PMAP_PAIR   MODE: "gpu" (the first GPU provides, the second imports)
#                 or "edu" (the first GPU provides, the edu imports)
#   P2PMAP_ROUTE  the route of that pair: bus_addr or host_bridge (peer to
#                 peer), not_supported (no route), or "none" when the
#                 machine lacks the devices the pair needs
# The pair is one whose route is peer to peer if the machine has one, else
# the first in PCI order, whose refusal and fallback paths are then tested.
# Whether the kernel can do P2PDMA at all is not part of the route here: the
# programs read that from /sys/module/p2pmap/features.
P2PMAP_CTL=/tests/bin/p2pmapctl

# pci_devs VENDOR DEVICE: the PCI names of the devices with these IDs, sorted
pci_devs() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] &&
			echo "${d##*/}"
	done | sort
}

# pci_route PROVIDER IMPORTER: p2pmapctl's route verdict for the pair
pci_route() {
	"$P2PMAP_CTL" topology "$1" "$2" 2>/dev/null | awk 'NR == 2 { print $4 }'
}

# route_is_p2p ROUTE: whether a route verdict means peer to peer
route_is_p2p() {
	case "$1" in bus_addr | host_bridge) return 0 ;; esac
	return 1
}

# bar_size BDF [BAR]: the size of a PCI BAR (default 2) in bytes, from sysfs
bar_size() {
	sed -n "$((${2:-2} + 1))p" "/sys/bus/pci/devices/$1/resource" | {
		read -r s e _
		# shellcheck disable=SC2004 # expand the 0x... text before evaluating
		echo $(( $e - $s + 1 ))
	}
}

# p2pmap_devices [gpu|edu] [p2p|nop2p]: choose the pair under test and
# export P2PMAP_GPUS, P2PMAP_EDU, P2PMAP_PAIR and P2PMAP_ROUTE (see above);
# P2PMAP_DEVICES_DIAG describes the choice, for a "# " diagnostic. The
# second word says which kind of pair to prefer (default p2p: one with a
# P2P route); when the machine has none of that kind, the first pair.
p2pmap_devices() {
	local mode=${1:-gpu} want=${2:-p2p} first= second= route=none
	local wantp2p gpus edu routes= a b r g
	case "$want" in p2p) wantp2p=0 ;; nop2p) wantp2p=1 ;;
	*) echo "p2pmap_devices: unknown preference '$want'" >&2; return 1 ;;
	esac
	gpus=$(pci_devs 0x1af4 0x1110)
	edu=$(pci_devs 0x1234 0x11e8 | head -n 1)
	case "$mode" in
	gpu)
		for a in $gpus; do
			for b in $gpus; do
				[ "$a" = "$b" ] && continue
				r=$(pci_route "$a" "$b")
				routes="$routes $a->$b:${r:-?}"
				[ -n "$first" ] || { first=$a second=$b route=${r:-unknown}; }
				route_is_p2p "$r"
				if [ $? -eq $wantp2p ]; then
					first=$a second=$b route=$r
					break 2
				fi
			done
		done ;;
	edu)
		[ -n "$edu" ] && for a in $gpus; do
			r=$(pci_route "$a" "$edu")
			routes="$routes $a->$edu:${r:-?}"
			[ -n "$first" ] || { first=$a route=${r:-unknown}; }
			route_is_p2p "$r"
			if [ $? -eq $wantp2p ]; then
				first=$a route=$r
				break
			fi
		done ;;
	*) echo "p2pmap_devices: unknown pair '$mode'" >&2; return 1 ;;
	esac
	P2PMAP_GPUS=$(for g in $first $second $gpus; do echo "$g"; done |
		awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//')
	P2PMAP_EDU=$edu P2PMAP_PAIR=$mode P2PMAP_ROUTE=$route
	export P2PMAP_GPUS P2PMAP_EDU P2PMAP_PAIR P2PMAP_ROUTE
	P2PMAP_DEVICES_DIAG="devices: GPUs [$P2PMAP_GPUS] edu [${edu:-none}]; routes:${routes:- none}; pair under test ($mode, prefer $want): ${first:-none} -> $([ "$mode" = gpu ] && echo "${second:-none}" || echo "${edu:-none}") route $route"
}

# p2pmap_has_pairs MODE: whether the machine has pairs of MODE both with
# and without a P2P route (then a suite can test both kinds in one boot)
p2pmap_has_pairs() {
	p2pmap_devices "$1" p2p && route_is_p2p "$P2PMAP_ROUTE" &&
		p2pmap_devices "$1" nop2p && ! route_is_p2p "$P2PMAP_ROUTE"
}

# tap_merge FILE...: the TAP documents in FILEs as one: the plan is the sum
# of their plans, tests are renumbered, everything else becomes a "# "
# diagnostic. For suites that run programs one after the other.
tap_merge() {
	awk '
	FNR == 1 { part++ }
	/^1\.\.[0-9]+/ && !seen[part]++ { plan += substr($1, 4) }
	{ line[++n] = $0 }
	END {
		print "TAP version 13"
		print "1.." plan
		for (i = 1; i <= n; i++) {
			l = line[i]
			if (match(l, /^(not )?ok [0-9]+/)) {
				head = substr(l, 1, RLENGTH)
				sub(/[0-9]+$/, "", head)
				print head (++t) substr(l, RLENGTH + 1)
			} else if (l ~ /^#/) {
				print l
			} else {
				print "# " l
			}
		}
	}' "$@"
}

# run_module_test "MODULES" PROGRAM DMESG_PATTERN: the shape of every
# module-driven suite. Loads /tests/modules/<m>.ko for each of MODULES in
# order (an entry "m:a=1,b=2" passes module parameters a=1 b=2), creates missing device nodes, runs PROGRAM (its TAP is the
# suite's), appends the matching dmesg lines as diagnostics, and unloads
# the modules in reverse order. PROGRAM gets the devices under test in the
# environment (p2pmap_devices; a suite that wants another pair than "gpu",
# or needs the devices for module parameters, calls it first). Returns
# PROGRAM's status, or 1 if a module did not load or unload.
run_module_test() {
	mods=$1 bin=$2 pat=$3 loaded= rc=0
	[ -n "${P2PMAP_PAIR:-}" ] || p2pmap_devices gpu
	# p2pgpu needs DRM, a module on Debian's stock kernels: a suite must
	# not depend on an earlier one having loaded it.
	case " $mods " in
	*" p2pgpu "* | *" p2pgpu:"*) [ -d /sys/module/drm ] || modprobe -q drm 2>/dev/null || true ;;
	esac
	for spec in $mods; do
		m=${spec%%:*}
		params=
		case "$spec" in *:*) params=$(echo "${spec#*:}" | tr ',' ' ') ;; esac
		# shellcheck disable=SC2086 # params are words
		if ! out=$(insmod "/tests/modules/$m.ko" $params 2>&1); then
			tap_plan 1
			tap_fail "insmod $m.ko $params"
			tap_diag "$out"
			rc=1
			break
		fi
		loaded="$m $loaded"
	done
	if [ $rc -eq 0 ]; then
		for d in /sys/class/misc/* /sys/class/drm/renderD*; do
			ensure_node "$d"
		done
		if [ -x "$bin" ]; then
			"$bin"
			rc=$?
		else
			tap_plan 1
			tap_fail "$bin missing"
			rc=1
		fi
		tap_diag "$P2PMAP_DEVICES_DIAG"
		log=$(dmesg | grep -E "$pat" | tail -30)
		[ -n "$log" ] && tap_diag "$log"
	fi
	for m in $loaded; do
		if ! out=$(rmmod "$m" 2>&1) || [ -e "/sys/module/$m" ]; then
			tap_diag "rmmod $m failed: $out"
			rc=1
		fi
	done
	return $rc
}

# Soft-RoCE for the RDMA suites: rdma_rxe on veth0 (10.0.0.1/24, peer
# veth1), one device rxe0 in loopback (GID index 1). rxe_up replaces what
# an earlier suite may have left; rxe_down removes both. On Debian's stock
# kernels veth and ib_uverbs (the verbs char device libibverbs opens) are
# modules that nothing loads on demand here; on the test kernel they are
# built in, and only rdma_rxe is a module.
rxe_up() {
	rxe_down
	# (a built-in veth has no /sys/module entry: "ip link add" below is
	# the check)
	[ -d /sys/module/veth ] || modprobe -q veth 2>/dev/null
	[ -d /sys/class/infiniband_verbs ] || modprobe ib_uverbs || return 1
	modprobe rdma_rxe &&
	/usr/sbin/ip link set lo up &&
	/usr/sbin/ip link add veth0 type veth peer name veth1 &&
	/usr/sbin/ip addr add 10.0.0.1/24 dev veth0 &&
	/usr/sbin/ip link set veth0 up && /usr/sbin/ip link set veth1 up &&
	rdma link add rxe0 type rxe netdev veth0
}

rxe_down() {
	rdma link delete rxe0 2>/dev/null
	/usr/sbin/ip link del veth0 2>/dev/null
	return 0
}
