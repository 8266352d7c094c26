#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check and render p2pmap-bench results on the host.

  bench_report.py check BENCH.json
      exit 0 if the JSON is p2pmap-bench's schema 1, complete (every part
      measured or reported unavailable with a reason, every target judged)
      and self-consistent (each target's PASS/MISS agrees with its value and
      limit); else print what is wrong and exit 1.

  bench_report.py render BENCH.json TABLE.txt OUT.md --command CMD
                         [--source REV] [--verdict LINE]
                         [--previous OLD.json --previous-label TEXT]
      write docs/benchmarks.md: the figures from the JSON, the command that
      produced them, the date, kernel and source revision, the table as the
      program printed it, and a note on what the figures are worth (a debug
      kernel under emulation). --previous adds the scaling figures of an
      earlier run (e.g. before a change to the core) next to this run's.

Used by tests/bench/run-bench.sh (`make bench`). Every figure in the output
comes from the JSON; nothing is typed in by hand.
"""
import argparse
import json
import sys

TARGETS = ("import_vs_page_walk", "invalidate_lookup_scaling",
           "import_lifecycle_scaling", "peer_copy_vs_memcpy")


def problems(d):
    """Return a list of what is wrong with document @d."""
    out = []

    def need(obj, key, where, types=None):
        if not isinstance(obj, dict) or key not in obj:
            out.append("%s: missing %r" % (where, key))
            return None
        if types and not isinstance(obj[key], types):
            out.append("%s.%s: %r is not %s" % (where, key, obj[key], types))
            return None
        return obj[key]

    def status_ok(st, where, allow_unavailable):
        if not isinstance(st, str):
            out.append("%s: no status" % where)
            return False
        if st == "ok":
            return True
        if st.startswith("unavailable: ") and len(st) > 14:
            if not allow_unavailable:
                out.append("%s: %s" % (where, st))
            return False
        out.append("%s: %s" % (where, st))
        return False

    if need(d, "tool", "top", str) != "p2pmap-bench":
        out.append("not p2pmap-bench output")
    if need(d, "schema", "top", int) != 1:
        out.append("unknown schema")
    for k in ("mode", "command", "date"):
        need(d, k, "top", str)
    if d.get("complete") is not True:
        out.append("complete is not true")
    if d.get("failed") is not False:
        out.append("a measurement failed (failed is not false)")
    env = need(d, "environment", "top", dict) or {}
    for k in ("kernel", "hypervisor", "topology"):
        need(env, k, "environment", str)
    params = need(d, "parameters", "top", dict) or {}
    sizes = need(params, "sizes_pages", "parameters", list) or []
    live = need(params, "live_imports", "parameters", list) or []

    imp = need(d, "import_throughput", "top", dict) or {}
    status_ok(imp.get("status"), "import_throughput", False)
    status_ok(imp.get("baseline_status"), "import_throughput.baseline", False)
    for lay in ("sysmem", "sysmem_thp"):
        sysm = need(imp, lay, "import_throughput", list) or []
        if [p.get("pages") for p in sysm] != sizes:
            out.append("import_throughput.%s: sizes differ from the parameters" % lay)
        for p in sysm:
            w = "import_throughput.%s[%s]" % (lay, p.get("pages"))
            if status_ok(p.get("status"), w, False):
                for k in ("map_ns_median", "map_wall_ns_median", "baseline_wall_ns_median",
                          "map_wall_ns_min", "baseline_wall_ns_min", "remap_ns_median",
                          "map_wall_ns_p90", "baseline_wall_ns_p90",
                          "ratio_import_to_baseline_paired"):
                    v = need(p, k, w, (int, float))
                    if v is not None and v <= 0:
                        out.append("%s.%s is %s" % (w, k, v))
                if p.get("sysmem_pages") != p.get("pages"):
                    out.append("%s: %s of %s pages in system memory" %
                               (w, p.get("sysmem_pages"), p.get("pages")))
    status_ok(imp.get("p2p_bo_status"), "import_throughput.p2p_bo", True)
    for p in need(imp, "p2p_bo", "import_throughput", list) or []:
        w = "import_throughput.p2p_bo[%s]" % p.get("pages")
        if status_ok(p.get("status"), w, True):
            need(p, "map_ns_median", w, (int, float))
            need(p, "p2p_pages", w, int)

    cvs = need(d, "import_cost_vs_size", "top", list) or []
    if [p.get("pages") for p in cvs] != sizes:
        out.append("import_cost_vs_size: sizes differ from the parameters")

    lat = need(d, "latency", "top", dict) or {}
    for src in ("cpu_madv_dontneed", "exporter_evict"):
        l = need(lat, src, "latency", dict) or {}
        w = "latency." + src
        if status_ok(l.get("status"), w, src == "exporter_evict"):
            vals = [need(l, k, w, (int, float)) for k in
                    ("min_ns", "p50_ns", "p90_ns", "p99_ns", "max_ns")]
            if None not in vals and vals != sorted(vals):
                out.append("%s: percentiles not ordered: %s" % (w, vals))
            if not l.get("samples"):
                out.append("%s: no samples" % w)

    pc = need(d, "peer_copy", "top", dict) or {}
    if status_ok(pc.get("status"), "peer_copy", True):
        if pc.get("copy_data_verified") is not True:
            out.append("peer_copy: data not verified")
        for k in ("copy_elapsed_ns_median", "memcpy_ram_ns_median",
                  "memcpy_mappings_ns_median"):
            need(pc, k, "peer_copy", (int, float))

    sc = need(d, "scaling", "top", dict) or {}
    if status_ok(sc.get("status"), "scaling", False):
        pts = need(sc, "points", "scaling", list) or []
        if [p.get("live_imports") for p in pts] != live:
            out.append("scaling: counts differ from the parameters")
        for p in pts:
            for k in ("lifecycle_ns_median", "invalidate_ns_median"):
                v = need(p, k, "scaling[%s]" % p.get("live_imports"), (int, float))
                if v is not None and v <= 0:
                    out.append("scaling[%s].%s is %s" % (p.get("live_imports"), k, v))

    tg = need(d, "targets", "top", list) or []
    if [t.get("name") for t in tg] != list(TARGETS):
        out.append("targets: %s, want %s" % ([t.get("name") for t in tg], TARGETS))
    for t in tg:
        w = "target " + str(t.get("name"))
        r, v, lim, op = t.get("result"), t.get("value"), t.get("limit_value"), t.get("limit")
        if r == "UNAVAILABLE":
            if t.get("name") != "peer_copy_vs_memcpy" or pc.get("status") == "ok":
                out.append("%s: UNAVAILABLE" % w)
            continue
        if r not in ("PASS", "MISS") or not isinstance(v, (int, float)) or \
                not isinstance(lim, (int, float)) or op not in ("<=", ">="):
            out.append("%s: malformed %r" % (w, t))
            continue
        ok = v <= lim if op == "<=" else v >= lim
        if (r == "PASS") != ok:
            out.append("%s: %s but %s %s %s" % (w, r, v, op, lim))
    return out


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e9:
        return "%.2f s" % (ns / 1e9)
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.1f us" % (ns / 1e3)
    return "%.0f ns" % ns


def fmt_rate(x):
    return "-" if x is None else "{:,.0f}".format(x)


def render(d, table, cmd, source, verdict, prev=None, prev_label=""):
    env = d["environment"]
    imp = d["import_throughput"]
    lat = d["latency"]
    pc = d["peer_copy"]
    sc = d["scaling"]
    o = []
    w = o.append
    w("# p2pmap benchmarks")
    w("")
    w("Figures from `tests/bench/p2pmap-bench` (%s run), recorded by `%s`." %
      (d["mode"], cmd))
    w("This page is generated by `tests/bench/bench_report.py` from the")
    w("benchmark's JSON (`out/bench/bench.json`); re-run the command to refresh it.")
    w("")
    w("| | |")
    w("| --- | --- |")
    w("| date | %s |" % d["date"])
    w("| kernel | `%s` |" % env["kernel"])
    if source:
        w("| source | `%s` |" % source)
    w("| machine | QEMU q35, hypervisor signature `%s`, %d vCPUs, %d MiB, topology `%s` |" %
      (env["hypervisor"], env["cpus"], env["mem_kb"] // 1024, env["topology"]))
    w("| debug options | KASAN %s, lockdep %s, kmemleak %s, DMA-API debug %s |" %
      tuple("on" if env[k] else "off" for k in ("kasan", "lockdep", "kmemleak", "dma_api_debug")))
    if "kernel_cc_optimization" in env:
        w("| kernel compiled with | `%s`%s |" % (env["kernel_cc_optimization"],
          " (as distribution kernels are)" if env["kernel_cc_optimization"] == "-O2"
          else " (tinyconfig's default)"))
    w("| benchmark command (in the VM) | `%s` |" % d["command"])
    if verdict:
        w("| VM verdict | `%s` |" % verdict)
    w("")
    debug = env["kasan"] or env["lockdep"] or env["dma_api_debug"]
    w("**Read these figures for their ratios and trends, not their absolute")
    w("values.** They come from the test VM: %s under %s, where every instruction is" %
      ("a debug kernel (KASAN, lockdep, kmemleak, DMA-API debugging)" if debug else
       "the release build of the test kernel (`make bench`: KASAN, lockdep, DMA-API "
       "debugging and the other instrumentation off, kmemleak %s%s)" %
       ("on" if env["kmemleak"] else "booted off",
        ", compiled %s" % env["kernel_cc_optimization"]
        if "kernel_cc_optimization" in env else ""),
       "TCG emulation" if env["hypervisor"].startswith("TCG") else
       "virtualization (%s)" % env["hypervisor"]))
    w("emulated and the emulated \"GPUs\" are `ivshmem-plain` BARs backed by host")
    if debug:
        w("files. Debug instrumentation weighs on locks and allocations, so")
        w("kernel paths look slower relative to user-space memcpy than they are")
        w("on production kernels and hardware; each target below is judged from")
        w("the ratio measured in the same run. The host is shared with other")
    else:
        w("files. Each target below is judged from the ratio measured in the")
        w("same run. The host is shared with other")
    w("work and the guest clock runs on while its vCPUs wait, so the same code")
    w("measured minutes apart can differ by several times on some rows (the")
    w("scattered-page import did, between smoke-test runs): compare figures")
    w("within one run, and repeat a run before reading a trend into one figure.")
    w("")
    w("## Targets")
    w("")
    w("| result | target | measured | limit | metric |")
    w("| --- | --- | --- | --- | --- |")
    for t in d["targets"]:
        v = "-" if t["value"] is None else "%.2f" % t["value"]
        w("| **%s** | %s | %s | %s %.2f | %s |" %
          (t["result"], t["goal"], v, t["limit"], t["limit_value"], t["metric"]))
    w("")
    w("## Import throughput against the page-walk baseline")
    w("")
    w(imp["method"] + ". Baseline: " + imp["baseline"] + ".")
    w("Ratio: MAP wall time over SNAPSHOT wall time, medians (lower is better);")
    w("the fastest round and the 90th percentile of each are given for the")
    w("spread. \"Paired\" is the median of each round's MAP over the same")
    w("round's SNAPSHOT (the two run back to back), given beside the ratio the")
    w("target is judged on. \"Remap\" is a")
    w("forced MAP of the same import right after, replacing valid extents")
    w("(the steady-state cost of revalidating a range). The import")
    w("DMA-maps every extent for the edu, which the baseline does not do, so")
    w("the number of extents matters: the two page layouts bracket it.")
    w("")
    for lay, title in (("sysmem", "4 KiB pages, scattered"),
                       ("sysmem_thp", "transparent huge pages")):
        w("%s: %s." % (title[0].upper() + title[1:], imp[lay + "_layout"]))
        w("")
        w("| pages | extents | MAP (kernel) | remap (kernel) | MAP (wall) | fastest | p90 | import pages/s | SNAPSHOT (wall) | fastest | p90 | baseline pages/s | ratio | paired |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for p in imp[lay]:
            if p["status"] != "ok":
                w("| %d | %s | | | | | | | | | | | | |" % (p["pages"], p["status"]))
                continue
            w("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                p["pages"], p["extents"], fmt_ns(p["map_ns_median"]),
                fmt_ns(p["remap_ns_median"]),
                fmt_ns(p["map_wall_ns_median"]), fmt_ns(p["map_wall_ns_min"]),
                fmt_ns(p["map_wall_ns_p90"]),
                fmt_rate(p["import_pages_per_s"]), fmt_ns(p.get("baseline_wall_ns_median")),
                fmt_ns(p.get("baseline_wall_ns_min")), fmt_ns(p.get("baseline_wall_ns_p90")),
                fmt_rate(p.get("baseline_pages_per_s")),
                "-" if p.get("ratio_import_to_baseline") is None else
                "%.2f" % p["ratio_import_to_baseline"],
                "-" if p.get("ratio_import_to_baseline_paired") is None else
                "%.2f" % p["ratio_import_to_baseline_paired"]))
        w("")
    w("Import of a p2pgpu buffer object on gpu0 (PREFER_P2P, pages resident in")
    w("the window; the first import of each size placed the pages):")
    w("")
    if imp["p2p_bo_status"] != "ok":
        w("%s" % imp["p2p_bo_status"])
    else:
        w("| pages | MAP (kernel) | MAP (wall) | import pages/s | P2P pages | system pages | extents | first map (placing) |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for p in imp["p2p_bo"]:
            if p["status"] != "ok":
                w("| %d | %s | | | | | | |" % (p["pages"], p["status"]))
                continue
            w("| %d | %s | %s | %s | %d | %d | %d | %s (%d placed) |" % (
                p["pages"], fmt_ns(p["map_ns_median"]), fmt_ns(p["map_wall_ns_median"]),
                fmt_rate(p["import_pages_per_s"]), p["p2p_pages"], p["sysmem_pages"],
                p["extents"], fmt_ns(p["first_map_ns"]), p["first_map_placed_pages"]))
    w("")
    w("Import cost against range size (kernel time of the map per page):")
    w("")
    w("| pages | system memory, 4 KiB scattered | system memory, THP | p2pgpu object (P2P) |")
    w("| ---: | ---: | ---: | ---: |")
    for p in d["import_cost_vs_size"]:
        w("| %d | %s | %s | %s |" % (p["pages"], fmt_ns(p["sysmem_ns_per_page"]),
                                     fmt_ns(p["sysmem_thp_ns_per_page"]),
                                     fmt_ns(p["p2p_bo_ns_per_page"])))
    w("")
    w("## Invalidation to revalidation latency")
    w("")
    w("From the importer's invalidate callback to the end of the next successful")
    w("map of the import (the edu importer's LATENCY ioctl).")
    w("")
    w("| source | samples | min | p50 | p90 | p99 | max |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, l in lat.items():
        if l["status"] != "ok":
            w("| %s | %s | | | | | |" % (l["source"] or name, l["status"]))
            continue
        w("| %s | %d | %s | %s | %s | %s | %s |" % (
            l["source"], l["samples"], fmt_ns(l["min_ns"]), fmt_ns(l["p50_ns"]),
            fmt_ns(l["p90_ns"]), fmt_ns(l["p99_ns"]), fmt_ns(l["max_ns"])))
    w("")
    w("## Peer copy against memcpy")
    w("")
    if pc["status"] != "ok":
        w("%d bytes: %s" % (pc["bytes"], pc["status"]))
    else:
        w("%d bytes, median of %d:" % (pc["bytes"], pc["reps"]))
        w("")
        w("| copy | time | MB/s |")
        w("| --- | ---: | ---: |")
        w("| gpu1 DRM_IOCTL_P2PGPU_COPY from a gpu0 mapping (elapsed_ns; %d P2P pages) | %s | %.1f |" %
          (pc["copy_p2p_pages"], fmt_ns(pc["copy_elapsed_ns_median"]), pc["copy_mb_per_s"]))
        w("| the same, wall time of the ioctl | %s | %.1f |" %
          (fmt_ns(pc["copy_wall_ns_median"]), pc["copy_wall_mb_per_s"]))
        w("| CPU memcpy between the two objects' mappings | %s | %.1f |" %
          (fmt_ns(pc["memcpy_mappings_ns_median"]), pc["memcpy_mappings_mb_per_s"]))
        w("| CPU memcpy between two malloc buffers | %s | %.1f |" %
          (fmt_ns(pc["memcpy_ram_ns_median"]), pc["memcpy_ram_mb_per_s"]))
    w("")
    w("## Scaling with live imports")
    w("")
    w(sc["method"] + ".")
    w("")
    if sc["status"] != "ok":
        w(sc["status"])
    else:
        base = sc.get("baseline_live_imports", 0)
        if base:
            w("Each count is measured alternately, in the same rounds, with a "
              "baseline: gpu1 with %s live imports (same object layout, its own "
              "edu file); the targets divide gpu0 at the largest count by that "
              "baseline." % "{:,}".format(base))
            w("")
            w("| live imports | setup of the added imports | create+map+destroy one more | invalidate one held page | baseline: create+map+destroy | baseline: invalidate |")
            w("| ---: | ---: | ---: | ---: | ---: | ---: |")
            for p in sc["points"]:
                w("| {:,} | {:.1f} s | {} | {} | {} | {} |".format(
                    p["live_imports"], p["setup_s"], fmt_ns(p["lifecycle_ns_median"]),
                    fmt_ns(p["invalidate_ns_median"]),
                    fmt_ns(p.get("baseline_lifecycle_ns_median")),
                    fmt_ns(p.get("baseline_invalidate_ns_median"))))
        else:
            w("| live imports | setup of the added imports | create+map+destroy one more | invalidate one held page |")
            w("| ---: | ---: | ---: | ---: |")
            for p in sc["points"]:
                w("| {:,} | {:.1f} s | {} | {} |".format(
                    p["live_imports"], p["setup_s"], fmt_ns(p["lifecycle_ns_median"]),
                    fmt_ns(p["invalidate_ns_median"])))
        w("")
        w("Closing the file with all imports live took %.1f s." % sc["teardown_s"])
        if base and "baseline_after_teardown_invalidate_ns_median" in sc:
            w("The baseline measured again after that: create+map+destroy %s, "
              "invalidate %s (a baseline that slowed at the largest count and "
              "recovers here was slowed by gpu0's live imports, not by the host)." % (
                  fmt_ns(sc["baseline_after_teardown_lifecycle_ns_median"]),
                  fmt_ns(sc["baseline_after_teardown_invalidate_ns_median"])))
        ps = (prev or {}).get("scaling", {})
        if ps.get("status") == "ok":
            old = {p["live_imports"]: p for p in ps["points"]}
            new = {p["live_imports"]: p for p in sc["points"]}
            w("")
            w("The same measurement in an earlier run, %s (%s, %s):" %
              (prev_label, prev.get("date", "?"), prev.get("mode", "?")))
            w("")
            w("| live imports | invalidate one held page: this run | earlier run | create+map+destroy: this run | earlier run |")
            w("| ---: | ---: | ---: | ---: | ---: |")
            for n in sorted(set(old) | set(new)):
                p, q = new.get(n, {}), old.get(n, {})
                w("| {:,} | {} | {} | {} | {} |".format(
                    n, fmt_ns(p.get("invalidate_ns_median")),
                    fmt_ns(q.get("invalidate_ns_median")),
                    fmt_ns(p.get("lifecycle_ns_median")),
                    fmt_ns(q.get("lifecycle_ns_median"))))
            pts = ps["points"]
            if len(pts) >= 2 and pts[0]["invalidate_ns_median"] > 0:
                w("")
                w("Earlier run, invalidation at {:,} / at {:,} live imports: {:.2f}.".format(
                    pts[-1]["live_imports"], pts[0]["live_imports"],
                    pts[-1]["invalidate_ns_median"] / pts[0]["invalidate_ns_median"]))
    w("")
    w("## The table as printed")
    w("")
    w("```")
    w(table.rstrip("\n"))
    w("```")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("json")
    r = sub.add_parser("render")
    r.add_argument("json")
    r.add_argument("table")
    r.add_argument("out")
    r.add_argument("--command", required=True)
    r.add_argument("--source", default="")
    r.add_argument("--verdict", default="")
    r.add_argument("--previous", default="")
    r.add_argument("--previous-label", default="an earlier run")
    a = ap.parse_args()
    try:
        with open(a.json) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print("bench_report: %s: %s" % (a.json, e), file=sys.stderr)
        return 1
    if a.cmd == "check":
        p = problems(d)
        for line in p:
            print("bench_report: " + line, file=sys.stderr)
        return 1 if p else 0
    with open(a.table) as f:
        table = f.read()
    prev = None
    if a.previous:
        with open(a.previous) as f:
            prev = json.load(f)
        if a.previous_label == "an earlier run" and "reference" in prev:
            a.previous_label = prev["reference"].get("label", a.previous_label)
    text = render(d, table, a.command, a.source, a.verdict, prev, a.previous_label)
    with open(a.out, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
