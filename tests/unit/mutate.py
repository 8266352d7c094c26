#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Mutation check for the p2pmap userland unit tests.

Applies one deliberate bug at a time to a copy of kernel/p2pgpu/, rebuilds the
unit tests against the copy (make KLIB=... OUT=...), runs them, and reports
whether the suite caught the bug. Every mutation must be caught; a survivor
means a behaviour the tests do not pin down. Not part of "make check" (it
takes a minute or two); run it as "make mutate" after changing the tests or
the allocator. Exits non-zero if any mutation survives or fails to apply.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KLIB = os.path.normpath(os.path.join(HERE, "..", "..", "kernel", "p2pgpu"))

# (name, file, original text, mutated text)
MUTATIONS = [
    ("residency boundary < becomes <=", "p2pgpu_aper.c",
     "now - h->stamp < aper->min_residency",
     "now - h->stamp <= aper->min_residency"),
    ("no clamp of time going backwards", "p2pgpu_aper.c",
     "aper->now = max(aper->now, now);", "aper->now = now;"),
    ("unpin does not restart the residency clock", "p2pgpu_aper.c",
     "\t\taper->nr_pinned -= 1U << h->order;\n\t\th->stamp = now;\n",
     "\t\taper->nr_pinned -= 1U << h->order;\n"),
    ("touch does not move to the LRU tail", "p2pgpu_aper.c",
     "\tif (!h->pin_count)\n\t\tlist_move_tail(&h->node, &aper->lru);\n", ""),
    ("touch does not restamp", "p2pgpu_aper.c",
     "\t\treturn -EBUSY;\n\th->stamp = now;\n\tif (!h->pin_count)",
     "\t\treturn -EBUSY;\n\tif (!h->pin_count)"),
    ("runs not naturally aligned", "p2pgpu_aper.c",
     "base <= aper->nslots - nr; base += nr)",
     "base <= aper->nslots - nr; base++)"),
    ("free ignores pins", "p2pgpu_aper.c",
     "\tif (h->pin_count)\n\t\treturn -EBUSY;\n\n\tnr = 1U << h->order;",
     "\n\tnr = 1U << h->order;"),
    ("pinned reported ahead of residency", "p2pgpu_aper.c",
     "\t} else if (!list_empty(&aper->lru)) {\n\t\treason = P2PGPU_APER_BUSY_RESIDENCY;",
     "\t} else if (!list_empty(&aper->lru) && !aper->nr_pinned) {\n\t\treason = P2PGPU_APER_BUSY_RESIDENCY;"),
    ("enospc not counted", "p2pgpu_aper.c",
     "\t\taper->ev.enospc++;\n", ""),
    ("create leaks on second allocation failure", "p2pgpu_aper.c",
     "\tif (!aper->slots) {\n\t\tkfree(aper);",
     "\tif (!aper->slots) {"),
    ("evicting slot can be pinned", "p2pgpu_aper.c",
     "\tif (h->evicting)\n\t\treturn -EBUSY;\n\tif (h->pin_count == U32_MAX)",
     "\tif (h->pin_count == U32_MAX)"),
    ("lookup ignores offset in run", "p2pgpu_aper.c",
     "info->index = h->index + (slot - info->head);",
     "info->index = h->index;"),
    ("run index overflow unchecked", "p2pgpu_aper.c",
     "if (check_add_overflow(index, (u64)nr - 1, &last))",
     "if (0 && check_add_overflow(index, (u64)nr - 1, &last))"),
    ("free of evicting slot keeps evicting count", "p2pgpu_aper.c",
     "\tif (h->evicting)\n\t\taper->nr_evicting -= nr;\n", ""),
    ("run early -ENOSPC off by one", "p2pgpu_aper.c",
     "if (nr > aper->nslots - aper->nr_used)",
     "if (nr >= aper->nslots - aper->nr_used)"),
    ("abort_evict does not restamp", "p2pgpu_aper.c",
     "\taper->nr_evicting -= 1U << h->order;\n\th->stamp = now;\n",
     "\taper->nr_evicting -= 1U << h->order;\n"),
    ("victim left on the LRU", "p2pgpu_aper.c",
     "found:\n\tlist_del_init(&h->node);\n",
     "found:\n"),
    ("unpin underflow not warned", "p2pgpu_aper.c",
     "if (WARN_ON(!h->pin_count))", "if (!h->pin_count)"),
    ("pin does not leave the LRU", "p2pgpu_aper.c",
     "\tif (h->pin_count++ == 0) {\n\t\tlist_del_init(&h->node);\n",
     "\tif (h->pin_count++ == 0) {\n"),
    ("pinned count wrong for runs", "p2pgpu_aper.c",
     "\t\taper->nr_pinned += 1U << h->order;", "\t\taper->nr_pinned += 1;"),
    ("free list reuse loses slots", "p2pgpu_aper.c",
     "\t\tlist_add_tail(&s->node, &aper->free_list);\n\t}\n\taper->nr_used -= nr;",
     "\t\tif (i == 0)\n\t\t\tlist_add_tail(&s->node, &aper->free_list);\n\t}\n\taper->nr_used -= nr;"),
    ("victim filter ignored", "p2pgpu_aper.c",
     "\t\tif (keep && keep(h->owner, h->index, h->order, arg)) {",
     "\t\tif (0 && keep && keep(h->owner, h->index, h->order, arg)) {"),
    ("filter walk stops at the first kept allocation", "p2pgpu_aper.c",
     "\t\t\tkept = true;\n\t\t\tcontinue;",
     "\t\t\tkept = true;\n\t\t\tbreak;"),
    ("filter sees the wrong index", "p2pgpu_aper.c",
     "keep(h->owner, h->index, h->order, arg)",
     "keep(h->owner, h->index + 1, h->order, arg)"),
    ("kept reported as residency", "p2pgpu_aper.c",
     "\tif (kept) {\n\t\treason = P2PGPU_APER_BUSY_KEPT;",
     "\tif (kept && 0) {\n\t\treason = P2PGPU_APER_BUSY_KEPT;"),
    ("kept picks not counted", "p2pgpu_aper.c",
     "\t\taper->ev.ebusy_kept++;\n", ""),
    ("filter applies residency even with any", "p2pgpu_aper.c",
     "\t\tif (!force && now - h->stamp",
     "\t\tif ((!force || 1) && now - h->stamp"),
]


def main():
    survivors = []
    broken = []
    with tempfile.TemporaryDirectory(prefix="p2pmap-mutate-") as tmp:
        for n, (name, fname, old, new) in enumerate(MUTATIONS, 1):
            klib = os.path.join(tmp, "klib%d" % n)
            shutil.copytree(KLIB, klib)
            path = os.path.join(klib, fname)
            with open(path) as f:
                text = f.read()
            if text.count(old) != 1:
                print("BROKEN   %2d %s: pattern found %d times"
                      % (n, name, text.count(old)))
                broken.append(name)
                continue
            with open(path, "w") as f:
                f.write(text.replace(old, new))
            out = os.path.join(tmp, "out%d" % n)
            build = subprocess.run(
                ["make", "-s", "-C", HERE, "KLIB=" + klib, "OUT=" + out,
                 "all"], capture_output=True, text=True)
            if build.returncode != 0:
                print("CAUGHT   %2d %s (does not build)" % (n, name))
                continue
            run = subprocess.run(
                ["make", "-s", "-C", HERE, "KLIB=" + klib, "OUT=" + out,
                 "check"], capture_output=True, text=True,
                env=dict(os.environ, UNIT_TIMEOUT="120"))
            last = (run.stdout.strip().splitlines() or ["?"])[-1]
            if run.returncode != 0:
                print("CAUGHT   %2d %s (%s)" % (n, name, last))
            else:
                print("SURVIVED %2d %s (%s)" % (n, name, last))
                survivors.append(name)
    print("mutate: %d caught, %d survived, %d broken"
          % (len(MUTATIONS) - len(survivors) - len(broken), len(survivors),
             len(broken)))
    return 1 if survivors or broken else 0


if __name__ == "__main__":
    sys.exit(main())
