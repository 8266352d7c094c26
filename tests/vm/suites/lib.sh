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

# run_module_test "MODULES" PROGRAM DMESG_PATTERN: the shape of every
# module-driven suite. Loads /tests/modules/<m>.ko for each of MODULES in
# order (an entry "m:a=1,b=2" passes module parameters a=1 b=2), creates missing device nodes, runs PROGRAM (its TAP is the
# suite's), appends the matching dmesg lines as diagnostics, and unloads
# the modules in reverse order. Returns PROGRAM's status, or 1 if a module
# did not load or unload.
run_module_test() {
	mods=$1 bin=$2 pat=$3 loaded= rc=0
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
