#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Instructions per page of the core's system-memory import, two revisions
# side by side in one valgrind run (docs/benchmarks.md, "Instruction
# counts"). kernel/core/sysmem.c and chunk.c of OLD (a git revision) and
# of the working tree are compiled unchanged in userspace against kshim.h,
# each with its own revision's import.h, p2pmap_internal.h and
# include/linux/p2pmap.h; bench_sysmem.c drives p2pmap_resolve_system() of
# both over the same hmm_range_fault() results, checks that they build the
# same extents, and callgrind counts only the resolve calls. Prints a table
# and, per scenario, new/old: the ratio of instructions per page, of all
# the resolve executes and of p2pmap's own code (without the stand-ins of
# kshim.c for hmm_range_fault(), the DMA API and the allocator).
#
# usage: bench-icount.sh [OLD]   (default: 3b67093^, the last revision
#        with the 4 KiB fast path p2pmap_sys_run()/_loop())
# Environment: CC (gcc), OUT (build directory, default build/icount);
# ICOUNT_NEW_SED: a sed script applied to the new sysmem.c before it is
# compiled (to count what one choice of the code is worth, e.g. with OLD
# HEAD: make -C tests/unit bench-icount-ablate); it must change the file.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OLD=${1:-3b67093^}
CC=${CC:-gcc}
OUT=${OUT:-$HERE/../build/icount}
FILES="kernel/core/sysmem.c kernel/core/chunk.c kernel/core/import.h
kernel/core/p2pmap_internal.h kernel/include/linux/p2pmap.h"

command -v valgrind >/dev/null || {
	echo "bench-icount: valgrind is not installed (apt-get install valgrind)" >&2
	exit 2
}
git -C "$ROOT" rev-parse -q --verify "$OLD^{commit}" >/dev/null || {
	echo "bench-icount: no revision $OLD in $ROOT (a clone with history is needed)" >&2
	exit 2
}
rm -rf "$OUT"
mkdir -p "$OUT/kinc"
for v in old new; do
	mkdir -p "$OUT/$v/include/linux"
	for f in $FILES; do
		dst=$OUT/$v/$(basename "$f")
		[ "$(basename "$f")" = p2pmap.h ] && dst=$OUT/$v/include/linux/p2pmap.h
		if [ $v = old ]; then
			git -C "$ROOT" show "$OLD:$f" >"$dst"
		else
			cp "$ROOT/$f" "$dst"
		fi
	done
done
if [ -n "${ICOUNT_NEW_SED:-}" ]; then
	sed -e "$ICOUNT_NEW_SED" "$OUT/new/sysmem.c" >"$OUT/new/sysmem.c.sed"
	if cmp -s "$OUT/new/sysmem.c" "$OUT/new/sysmem.c.sed"; then
		echo "bench-icount: ICOUNT_NEW_SED changes nothing in sysmem.c: $ICOUNT_NEW_SED" >&2
		exit 2
	fi
	mv "$OUT/new/sysmem.c.sed" "$OUT/new/sysmem.c"
fi
# Every <header> the kernel files name is empty: kshim.h stands in for them.
# trace.h is left out of the copies on purpose: the empty one is found.
sed -n 's/^#include [<"]\([^>"]*\)[>"].*/\1/p' "$OUT"/old/*.[ch] "$OUT"/new/*.[ch] \
	"$OUT"/*/include/linux/p2pmap.h | sort -u | while read -r h; do
	case $h in
	linux/p2pmap.h|import.h|p2pmap_internal.h) ;;
	*) mkdir -p "$OUT/kinc/$(dirname "$h")"; : >"$OUT/kinc/$h" ;;
	esac
done
# As the kernel is compiled (x86-64, Debian's 6.1 config): -O2, no strict
# aliasing, no PIE, strong stack protector.
KFLAGS="-O2 -g -fno-strict-aliasing -fno-common -fno-pie -fstack-protector-strong
-Wall -Wno-unused-function -Werror"
for v in old new; do
	for f in sysmem chunk; do
		$CC $KFLAGS -include "$HERE/kshim.h" -I"$OUT/$v/include" -I"$OUT/kinc" \
			-c -o "$OUT/$v/$f.o" "$OUT/$v/$f.c"
	done
	$CC $KFLAGS -include "$HERE/kshim.h" -iquote "$OUT/$v" -I"$OUT/$v/include" \
		-I"$OUT/kinc" -I"$HERE" -DVARIANT=$v -c -o "$OUT/$v/variant.o" "$HERE/variant.c"
	ld -r -o "$OUT/$v.o" "$OUT/$v/sysmem.o" "$OUT/$v/chunk.o" "$OUT/$v/variant.o"
	# one revision's p2pmap_* must not meet the other's at link time
	objcopy -w --keep-global-symbol="icount_${v}_*" "$OUT/$v.o"
done
$CC -O2 -g -no-pie -Wall -Werror -I"$HERE" -o "$OUT/bench_sysmem" \
	"$HERE/bench_sysmem.c" "$HERE/kshim.c" "$OUT/old.o" "$OUT/new.o"

echo "bench-icount: old = $(git -C "$ROOT" rev-parse --short "$OLD") ($OLD), new = working tree at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- $FILES || echo ' (modified)')${ICOUNT_NEW_SED:+, sysmem.c edited with: $ICOUNT_NEW_SED}"
echo "bench-icount: $CC $($CC -dumpversion), $(valgrind --version)"
rm -f "$OUT"/callgrind.out.*
valgrind -q --tool=callgrind --collect-atstart=no \
	--callgrind-out-file="$OUT/callgrind.out" "$OUT/bench_sysmem" >"$OUT/bench.txt"
cat "$OUT/bench.txt"
python3 - "$OUT" <<'PY'
import glob, os, re, subprocess, sys

out = sys.argv[1]
scen = {}
for line in open(os.path.join(out, 'bench.txt')):
    m = re.match(r'ok \d+ (\S+) pages=(\d+) reps=(\d+) extents=(\d+)', line)
    if m:
        scen[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
# the kernel's out-of-line calls: the functions of kshim.c, which call
# nothing but the C library and not each other (inclusive costs add up)
stand_in = re.compile(r'kshim\.c:')
counts = {}
for f in sorted(glob.glob(os.path.join(out, 'callgrind.out.*'))):
    label, total = None, None
    for line in open(f):
        if line.startswith('desc: Trigger: Client Request: '):
            label = line[len('desc: Trigger: Client Request: '):].strip()
        elif line.startswith(('summary:', 'totals:')):
            total = int(line.split()[1])
    if not label:
        continue
    ann = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=yes', f],
                         capture_output=True, text=True, check=True).stdout
    shim = 0
    for line in ann.splitlines():
        m = re.match(r'^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S+:\S+)', line)
        if m and 'PROGRAM TOTALS' not in line and stand_in.search(m.group(2)):
            shim += int(m.group(1).replace(',', ''))
    counts[label] = (total, shim)
if not scen:
    sys.exit('bench-icount: no scenario passed (see above)')
print()
print('| scenario | pages | extents | old Ir/page | new Ir/page | new/old | old p2pmap Ir/page | new p2pmap Ir/page | new/old (p2pmap code) |')
print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
worst = 0
for name, (pages, reps, ext) in scen.items():
    (to, so), (tn, sn) = counts[name + ' old'], counts[name + ' new']
    n = pages * reps
    r_all, r_own = tn / to, (tn - sn) / (to - so)
    worst = max(worst, r_own)
    print(f'| {name} | {pages} | {ext} | {to / n:.1f} | {tn / n:.1f} | {r_all:.3f} | '
          f'{(to - so) / n:.1f} | {(tn - sn) / n:.1f} | {r_own:.3f} |')
print()
print(f'bench-icount: worst new/old of p2pmap code per page: {worst:.3f}')
PY
