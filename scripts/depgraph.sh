#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prints the call dependency graph between the .c files of a directory
# and flags every cycle: by default of kernel/core (p2pmap.ko) and of
# kernel/p2pgpu (the reference exporter), each on its own. "a.c -> b.c: f, g" means
# a.c calls (or takes the address of) f and g, which are defined with
# external linkage in b.c. Derived from the sources: comments and strings
# are stripped, a function definition at file scope that is not static is
# a symbol its file provides (so is a variable defined at file scope
# without static), and a static inline function of a header in
# the directory counts as the symbols it uses itself (as the compiler
# would inline it). Exit status 1 if there is a cycle in any directory.
#
# usage: depgraph.sh [DIR...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$ROOT/kernel/core" "$ROOT/kernel/p2pgpu"
rc=0
for DIR in "$@"; do
	echo "== ${DIR#"$ROOT"/}"
	python3 - "$DIR" <<'PY' || rc=1
import os, re, sys

d = sys.argv[1]
def strip(src):
    src = re.sub(r'/\*.*?\*/', ' ', src, flags=re.S)
    src = re.sub(r'//[^\n]*', ' ', src)
    src = re.sub(r'"(\\.|[^"\\\n])*"', '""', src)
    src = re.sub(r"'(\\.|[^'\\\n])*'", "''", src)
    # preprocessor lines (macro bodies are counted where they are used)
    return re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', ' ', src, flags=re.M)

# a definition: at line start, a declarator ending in name(...) {
defre = re.compile(r'^([A-Za-z_][^;{}()]*?\b)?([A-Za-z_]\w*)\s*\(([^;{}]*?)\)\s*\{',
                   re.M)
def bodies(src):
    """(name, is_static, body text) of every function definition."""
    out = []
    for m in defre.finditer(src):
        pre = (m.group(1) or '')
        # the storage class may be on the line before the name
        line_start = src.rfind('\n', 0, m.start() - 1) + 1
        prev = src[line_start:m.start()]
        static = 'static' in pre.split() or 'static' in prev.split()
        depth, i = 0, m.end() - 1
        while i < len(src):
            if src[i] == '{':
                depth += 1
            elif src[i] == '}':
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.append((m.group(2), static, src[m.end():i]))
    return out

ident = re.compile(r'\b[A-Za-z_]\w*\b')
tag = re.compile(r'\b(?:struct|union|enum)\s+[A-Za-z_]\w*')

def toplevel(src):
    """src with the inside of every brace block blanked out"""
    out, depth = [], 0
    for ch in src:
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif depth == 0 or ch == '\n':
            out.append(ch)
    return ''.join(out)

def globals_of(src):
    """variables defined at file scope with external linkage"""
    names = []
    for stmt in toplevel(src).split(';'):
        stmt = ' '.join(stmt.split())
        words = stmt.split()
        if not words or words[0] in ('static', 'extern', 'typedef'):
            continue
        if '(' in stmt.split('=')[0]:
            continue
        m = re.search(r'([A-Za-z_]\w*)\s*(\[[^]]*\])?\s*(=.*)?$', stmt)
        if m and len(stmt.split('=')[0].split()) > 1:
            names.append(m.group(1))
    return names
files = sorted(f for f in os.listdir(d) if f.endswith('.c'))
hdrs = sorted(f for f in os.listdir(d) if f.endswith('.h'))
defs, uses, inl = {}, {}, {}
for f in hdrs:
    for name, static, body in bodies(tag.sub('tag_', strip(open(os.path.join(d, f)).read()))):
        inl[name] = set(ident.findall(body))
for f in files:
    src = tag.sub('tag_', strip(open(os.path.join(d, f)).read()))
    bs = bodies(src)
    for name in globals_of(src):
        defs.setdefault(name, set()).add(f)
    for name, static, body in bs:
        if not static:
            defs.setdefault(name, set()).add(f)
    own = {name for name, _, _ in bs}
    u = set(ident.findall(src)) - own
    # one level of header inlines is enough for our headers
    for name in list(u):
        if name in inl:
            u |= inl[name]
    uses[f] = u

edges = {}
for f in files:
    for sym in sorted(uses[f]):
        for g in defs.get(sym, ()):
            if g != f:
                edges.setdefault((f, g), []).append(sym)
for (a, b), syms in sorted(edges.items()):
    print(f'{a} -> {b}: {", ".join(syms)}')

# cycles: strongly connected components of more than one file
adj = {f: {b for (a, b) in edges if a == f} for f in files}
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def tarjan(v):
    index[v] = low[v] = n[0]; n[0] += 1
    stack.append(v); on.add(v)
    for w in adj[v]:
        if w not in index:
            tarjan(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))
for f in files:
    if f not in index:
        tarjan(f)
if not sccs:
    print('no cycle')
    sys.exit(0)
for comp in sccs:
    pairs = [f'{a}<->{b}' for a in comp for b in comp
             if a < b and (a, b) in edges and (b, a) in edges]
    print('CYCLE: ' + ' '.join(comp) + (' (mutual: ' + ', '.join(pairs) + ')' if pairs else ''))
sys.exit(1)
PY
done
exit $rc
