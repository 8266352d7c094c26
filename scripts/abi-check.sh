#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ABI checks of the two shared libraries (make abi-check; a make check
# stage), following rdma-core's rules (docs/abi.md):
#  - objdump -T: every defined dynamic symbol carries a version of the
#    library's own node (P2PMAP_* / P2PMAP_RDMA_*), and the set of exported
#    functions is exactly the one in the version script;
#  - a C++ program includes both public headers and links and runs
#    against both libraries.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/out/abi
mkdir -p "$B"
make -s -C "$ROOT/userspace" >/dev/null
make -s -C "$ROOT/rdma-plugin" >/dev/null
fail=0

# check_lib SO MAP NODE_PREFIX
check_lib() {
	local so=$1 map=$2 node=$3 want got bad
	# defined dynamic symbols: "version name" (version field without parens)
	objdump -T "$so" | awk '$4 != "*UND*" && NF >= 7 && $2 == "g" { print $(NF-1), $NF }' \
		> "$B/$(basename "$so").syms"
	bad=$(awk -v n="$node" '$1 !~ "^" n "[0-9.]+$" { print }' "$B/$(basename "$so").syms")
	if [ -n "$bad" ]; then
		echo "abi: $(basename "$so"): unversioned or foreign symbols:" >&2
		echo "$bad" >&2
		fail=1
	fi
	got=$(awk '$1 != $2 { print $2 }' "$B/$(basename "$so").syms" | sort)
	want=$(sed -n 's/^[[:space:]]*\([a-z_][a-z0-9_]*\);$/\1/p' "$map" | sort)
	if [ "$got" != "$want" ]; then
		echo "abi: $(basename "$so"): exported functions differ from $(basename "$map"):" >&2
		diff <(echo "$want") <(echo "$got") >&2 || true
		fail=1
	fi
	echo "abi: $(basename "$so"): $(echo "$got" | wc -l) symbols, all $(awk '{print $1}' "$B/$(basename "$so").syms" | sort -u | tr '\n' ' ')"
}
check_lib "$ROOT/userspace/build/libp2pmap.so.0" "$ROOT/userspace/libp2pmap.map" P2PMAP_
check_lib "$ROOT/rdma-plugin/build/libp2pmap-rdma.so.0" "$ROOT/rdma-plugin/libp2pmap-rdma.map" P2PMAP_RDMA_

# C++: compile with both headers, link with both libraries, run.
${CXX:-g++} -std=c++11 -Wall -Wextra -Werror -pedantic \
	-I"$ROOT/userspace/include" -I"$ROOT/rdma-plugin/include" \
	-o "$B/cxx_headers" "$ROOT/tests/abi/cxx_headers.cpp" \
	-L"$ROOT/userspace/build" -L"$ROOT/rdma-plugin/build" \
	-Wl,--no-as-needed -lp2pmap -lp2pmap-rdma -libverbs
# the program's references must be bound to the versioned symbols
objdump -T "$B/cxx_headers" | grep -q 'P2PMAP_0\.1.*p2pmap_ctx_new' ||
	{ echo "abi: C++ program not bound to p2pmap_ctx_new@P2PMAP_0.1" >&2; fail=1; }
objdump -T "$B/cxx_headers" | grep -q 'P2PMAP_RDMA_0\.1.*p2pmap_mr_kind_name' ||
	{ echo "abi: C++ program not bound to p2pmap_mr_kind_name@P2PMAP_RDMA_0.1" >&2; fail=1; }
objdump -T "$B/cxx_headers" | grep -q 'P2PMAP_RDMA_0\.2.*p2pmap_rdma_query' ||
	{ echo "abi: C++ program not bound to p2pmap_rdma_query@P2PMAP_RDMA_0.2" >&2; fail=1; }
LD_LIBRARY_PATH="$ROOT/userspace/build:$ROOT/rdma-plugin/build" "$B/cxx_headers" || fail=1
[ $fail -eq 0 ] && echo "abi: ok"
exit $fail
