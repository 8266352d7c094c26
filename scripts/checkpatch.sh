#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs checkpatch.pl --strict (from the test kernel's linux-source tree) over
# every kernel C source and header we own, and fails on any finding that is
# not listed, with a reason, in scripts/checkpatch-allow.txt. Allow-list
# lines are "<file>:<TYPE><TAB><reason>". Then runs scripts/kernel-doc over
# the same files: any kernel-doc warning (a missing or stale comment on a
# documented function, struct member or parameter) fails too.
set -euo pipefail
. "$(dirname "$0")/../tests/vm/lib/common.sh"

CP=$(ksrc_dir)/scripts/checkpatch.pl
[ -x "$CP" ] || die "$CP missing (run tests/vm/build-kernel.sh to extract linux-source)"
cd "$P2PMAP_ROOT"
mapfile -t FILES < <(git ls-files -co --exclude-standard -- kernel rdma-plugin tests/kmod |
	grep -E '\.(c|h)$' | sort)
ALLOW=scripts/checkpatch-allow.txt
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bad=0
n=0
for f in "${FILES[@]}"; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	"$CP" --no-tree --strict --terse --show-types --codespell -f "$f" > "$out" 2>&1 || true
	while IFS= read -r line; do
		type=$(echo "$line" | sed -nE 's/^[^:]+:[0-9]+: (WARNING|ERROR|CHECK):([A-Z_0-9]+):.*/\2/p')
		[ -n "$type" ] || continue
		if grep -qE "^$f:$type	" "$ALLOW" 2>/dev/null; then
			echo "checkpatch: allowed: $line"
		else
			echo "checkpatch: $line"
			bad=$((bad + 1))
		fi
	done < "$out"
done
echo "checkpatch: $n file(s), $bad unlisted finding(s)"
kd=$("$(ksrc_dir)/scripts/kernel-doc" -none -v "${FILES[@]}" 2>&1 | grep -E 'warning|error' || true)
if [ -n "$kd" ]; then
	echo "$kd" | sed 's/^/kernel-doc: /'
	bad=$((bad + $(echo "$kd" | wc -l)))
fi
echo "kernel-doc: $n file(s), $(echo -n "$kd" | grep -c .) warning(s)"
[ $bad -eq 0 ]
