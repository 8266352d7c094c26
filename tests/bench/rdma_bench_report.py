#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render docs/rdma-benchmarks.md (and a gnuplot PNG) from the figures of
the rdma_bench VM suite.

Input lines (out/bench/rdma-bench.tsv, whitespace separated):
    MEM TEST SIZE VALUE UNIT SOURCE PLACEMENT [REASON]
MEM is host, bar or fallback; VALUE is "failed" for a run that did not
complete; SOURCE is perftest (its own figure) or wall (perftest's clock
calibration failed; bytes over wall-clock time, a lower bound); REASON is
p2pgpu-rdma's fallback reason.

With --mode odp (7.x kernels, ODP MRs) --latency FILE gives the latency
lines of the same run (out/bench/rdma-lat.txt):
    odp refault method=M n=N p50_ns=A p90_ns=B p99_ns=C max_ns=D
    odp resident ...
    odp ratio_p50 refault/resident=R
    odp counters evictions=E rxe_odp_invalidations=I rxe_odp_page_faults=F
    p2pmap exporter_evict status=ok samples=N min_ns=.. p50_ns=.. ...
    p2pmap cpu_madv_dontneed ...

usage: rdma_bench_report.py TSV OUT.md OUT.png --source S --verdict V
                            [--mode pinned|odp] [--kernel K]
                            [--latency FILE] [--note TEXT]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

MEMS = ("host", "bar", "fallback")
TESTS = ("ib_write_bw", "ib_read_bw", "ib_write_lat")
TARGET = 0.95          # BAR >= 0.95x host bandwidth ...
TARGET_FROM = 65536    # ... at 64 KiB and above


def load(path):
    figs = {}
    for line in open(path):
        f = line.split()
        if len(f) < 7:
            continue
        mem, test, size = f[0], f[1], int(f[2])
        try:
            val = float(f[3])
        except ValueError:
            val = None
        figs[(mem, test, size)] = (val, f[4], f[5], f[6],
                                   f[7] if len(f) > 7 else "-")
    return figs


def load_latency(path):
    """{(kind, name): {key: value}} from the rdmalat lines."""
    lat = {}
    if not path or not os.path.exists(path):
        return lat
    for line in open(path):
        f = line.split()
        if len(f) < 2:
            continue
        kv = {}
        for w in f[2:]:
            if "=" in w:
                k, v = w.split("=", 1)
                kv[k] = v
        lat[(f[0], f[1])] = kv
    return lat


def ns(v):
    """A duration in ns as text with a unit."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "-"
    if x >= 1e6:
        return "%.2f ms" % (x / 1e6)
    if x >= 1e3:
        return "%.1f us" % (x / 1e3)
    return "%.0f ns" % x


def spans_decades(vals):
    vals = [v for v in vals if v is not None and v > 0]
    return bool(vals) and max(vals) / min(vals) >= 10


def fmt(v, src):
    if v is None:
        return "failed"
    s = "%.2f" % v
    return s + ("\\*" if src == "wall" else "")


def ratio(a, b, lat):
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    # for latency, a ratio > 1 means slower, as for bandwidth < 1
    return a / b


def size_name(s):
    return "%d KiB" % (s // 1024) if s < 1048576 else "%d MiB" % (s // 1048576)


LAT_PLOT = (
    ("ODP WRITE, refault", ("odp", "refault")),
    ("ODP WRITE, resident", ("odp", "resident")),
    ("p2pmap importer, evict", ("p2pmap", "exporter_evict")),
    ("p2pmap importer, madv", ("p2pmap", "cpu_madv_dontneed")),
)

ODP_NOTE = ("On Linux 7.2 and 7.3, rxe's ODP copy (`__rxe_odp_mr_copy()` in "
            "drivers/infiniband/sw/rxe/rxe_odp.c) neither adds the in-page "
            "offset nor advances the address across pages; the fix is "
            "tests/vm/patches/7.3/0001-RDMA-rxe-Fix-the-in-page-offset-*.patch, "
            "which Debian's stock 7.3 image lacks. On a kernel without it, "
            "only whole page-aligned transfers at path MTU 4096 are "
            "correct, so every ODP run here uses `-m 4096` over a netdev "
            "MTU of 9000 and message sizes that are multiples of 4 KiB "
            "(perftest checks no data; the odp suite checks the bytes in "
            "this configuration).")

RXE_NOTE = ("The top size is 1020 KiB, not 1 MiB: Linux 6.1's rxe_mr_copy() "
            "reads one map pointer past the end of its map array when a copy "
            "ends at the end of an MR of a multiple of 256 pages, and "
            "perftest's buffer is twice the message size, so 512 KiB and "
            "1 MiB messages trip it (a KASAN slab-out-of-bounds report on "
            "the debug kernel, measured on host memory too).")


CAVEAT = ("TCG-emulated VM, Soft-RoCE (rxe copies every byte with the CPU): "
          "emulator figures, not hardware figures; compare ratios within "
          "one run only")


def plot(figs, sizes, png, lat=None, title=""):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot not installed: no plot"
    lat = lat or {}
    lat_rows = [(lbl, lat.get(k, {})) for lbl, k in LAT_PLOT
                if lat.get(k, {}).get("p50_ns")]
    panels = len(TESTS) + (1 if lat_rows else 0)
    with tempfile.TemporaryDirectory() as d:
        for test in TESTS:
            for mem in MEMS:
                with open(os.path.join(d, "%s-%s.dat" % (test, mem)), "w") as f:
                    for s in sizes:
                        v = figs.get((mem, test, s), (None,))[0]
                        if v is not None:
                            f.write("%d %f\n" % (s, v))
        width = 500 * panels
        term = subprocess.run([gp, "-e", "set terminal"], capture_output=True)
        script = [
            "set terminal pngcairo size %d,520 font ',10'" % width if
            b"pngcairo" in term.stdout + term.stderr
            else "set terminal png size %d,520" % width,
            "set output '%s'" % png,
            "set termoption noenhanced",
            # the caveat is part of the image, not only of the page
            "set multiplot layout 1,%d title \"%s\\n%s\" font ',11'" % (
                panels, title.replace('"', "'"), CAVEAT),
            "set logscale x 2",
            "set xtics (%s)" % ", ".join(
                "'%s' %d" % (size_name(x).replace(" ", ""), x) for x in sizes),
            "set termoption noenhanced",
            "set key top left",
            "set grid",
        ]
        for test in TESTS:
            unit = "usec (t_avg)" if test.endswith("lat") else "MB/s (average)"
            vals = [figs.get((m, test, s_), (None,))[0]
                    for m in MEMS for s_ in sizes]
            log = spans_decades(vals)
            script.append("set logscale y 10" if log else "unset logscale y")
            script.append("set title '%s%s'" % (test, " (log y)" if log else ""))
            script.append("set ylabel '%s'" % unit)
            script.append("set xlabel 'message size'")
            script.append("plot " + ", ".join(
                "'%s' using 1:2 with linespoints title '%s'" %
                (os.path.join(d, "%s-%s.dat" % (test, m)), m) for m in MEMS))
        if lat_rows:
            dat = os.path.join(d, "lat.dat")
            with open(dat, "w") as f:
                for i, (lbl, kv) in enumerate(lat_rows):
                    f.write("%d \"%s\" %f %f\n" % (
                        i, lbl, float(kv["p50_ns"]) / 1e3,
                        float(kv.get("p99_ns", kv["p50_ns"])) / 1e3))
            vals = [float(kv[k]) for _, kv in lat_rows
                    for k in ("p50_ns", "p99_ns") if kv.get(k)]
            log = spans_decades(vals)
            script += [
                "unset logscale x",
                "set logscale y 10" if log else "unset logscale y",
                "set title 'invalidation -> refault / revalidation%s'" % (
                    " (log y)" if log else ""),
                "set ylabel 'usec'",
                "set xlabel ''",
                "set xrange [-0.6:%f]" % (len(lat_rows) - 0.4),
                "set yrange [%s:*]" % ("%f" % (min(vals) / 1e3 / 2) if log else "0"),
                "set style data histogram",
                "set boxwidth 0.35",
                "set style fill solid 0.6",
                "set xtics rotate by -20 font ',8'",
                "set key top left",
                "plot '%s' using ($1-0.18):3:xtic(2) with boxes title 'p50', "
                "'%s' using ($1+0.18):4 with boxes title 'p99'" % (dat, dat),
            ]
        script.append("unset multiplot")
        r = subprocess.run([gp], input="\n".join(script).encode(),
                           capture_output=True)
        if r.returncode:
            return "gnuplot failed: " + r.stderr.decode(errors="replace")[:200]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tsv")
    ap.add_argument("md")
    ap.add_argument("png")
    ap.add_argument("--source", default="unknown")
    ap.add_argument("--verdict", default="unknown")
    ap.add_argument("--note", default="",
                    help="a sentence about the conditions of this run")
    ap.add_argument("--mode", choices=("pinned", "odp"), default="pinned")
    ap.add_argument("--kernel", default="test")
    ap.add_argument("--latency", default="")
    a = ap.parse_args()
    if a.mode == "odp":
        return main_odp(a)
    figs = load(a.tsv)
    if not figs:
        print("rdma_bench_report: no figures", file=sys.stderr)
        return 1
    sizes = sorted({k[2] for k in figs})
    walls = sum(1 for v in figs.values() if v[2] == "wall")
    failed = sum(1 for v in figs.values() if v[0] is None)
    wrong = sum(1 for k, v in figs.items()
                if v[0] is not None and v[3] != k[0])

    out = []
    w = out.append
    w("# RDMA benchmarks: perftest on p2pgpu device memory")
    w("")
    w("Generated by `make bench-rdma KERNEL=test` (tests/bench/run-rdma-bench.sh); do not "
      "edit by hand. Source %s; VM verdict: %s." % (a.source, a.verdict))
    w("")
    w("What was measured: Debian's perftest 4.5 over **Soft-RoCE (rxe), one "
      "device in loopback** (`-x 1 -q 1 -F`), in the TCG-emulated test VM on "
      "the debug test kernel (KASAN, lockdep, kmemleak). The server's buffer "
      "is placed; the client's is always host memory:")
    w("")
    w("* **host**: plain perftest (malloc'd buffer);")
    w("* **bar**: `p2pgpu-rdma --expect bar -- <test> ...`: a published p2pgpu "
      "object mapped with `--mmap`; the MR pins P2PDMA pages of the BAR "
      "window (placement checked for every run);")
    w("* **fallback**: the same with `--fill-window rxe0`: another MR pins "
      "the whole window first, so the object's CPU mapping and MR are system "
      "pages (reason `window_full`).")
    w("")
    w("Bandwidth is perftest's `BW average[MB/sec]` of the client, latency its "
      "`t_avg[usec]`. rxe moves every byte with the CPU (`memcpy` through the "
      "kernel's linear mapping), so these figures compare CPU copies into "
      "emulated BAR memory with copies into RAM, plus rxe's own overhead; they "
      "say nothing about a real NIC's DMA. Figures marked \\* are wall-clock "
      "lower bounds, printed when perftest's cycle-counter calibration failed "
      "under emulation (it then reports 0.00); `failed` means the run did not "
      "complete. %d wall-clock figure(s), %d failed run(s), %d run(s) with an "
      "unexpected placement." % (walls, failed, wrong))
    w("")
    for test in TESTS:
        lat = test.endswith("lat")
        unit = "usec" if lat else "MB/s"
        w("## %s (%s)" % (test, unit))
        w("")
        w("| size | host | bar | fallback | bar/host | fallback/host |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for s in sizes:
            h, b, f = (figs.get((m, test, s), (None, "", "", ""))
                       for m in MEMS)
            rb = ratio(b[0], h[0], lat)
            rf = ratio(f[0], h[0], lat)
            w("| %s | %s | %s | %s | %s | %s |" % (
                size_name(s), fmt(h[0], h[2]), fmt(b[0], b[2]),
                fmt(f[0], f[2]),
                "-" if rb is None else "%.2fx" % rb,
                "-" if rf is None else "%.2fx" % rf))
        w("")
    # the target
    w("## Target: BAR >= %.2fx host bandwidth at 64 KiB and above" % TARGET)
    w("")
    w("perftest's own averages are used; wall-clock lower bounds (\\*) "
      "are compared as they are.")
    w("")
    for test in ("ib_write_bw", "ib_read_bw"):
        rs = []
        for s in sizes:
            if s < TARGET_FROM:
                continue
            r = ratio(figs.get(("bar", test, s), (None,))[0],
                      figs.get(("host", test, s), (None,))[0], False)
            rs.append((s, r))
        known = [r for _, r in rs if r is not None]
        if not known:
            w("* %s: not measured." % test)
            continue
        miss = [size_name(s) for s, r in rs if r is None or r < TARGET]
        w("* %s: bar/host %.2fx..%.2fx at %s..%s: %s." % (
            test, min(known), max(known), size_name(rs[0][0]),
            size_name(rs[-1][0]),
            "**met**" if not miss else "**missed** at " + ", ".join(miss)))
    w("")
    if 1044480 in sizes:
        w(RXE_NOTE)
    w("")
    if a.note:
        w("Conditions of this run: " + a.note)
        w("")
    w("Soft-RoCE in TCG is noisy (other VMs share the host's two cores), "
      "so single ratios can move by tens of percent between runs; compare "
      "the trend over sizes, not one cell.")
    w("")
    note = plot(figs, sizes, a.png,
                title="perftest over Soft-RoCE: host, BAR, fallback (pinned MRs, 6.1)")
    if note:
        w("No plot: %s." % note)
    else:
        w("![perftest over rxe: host, BAR and fallback placement](%s)" %
          os.path.basename(a.png))
    w("")
    w("Command: `make bench-rdma KERNEL=test` (boots one VM, `--suites rdma_bench`; "
      "figures in out/bench/rdma-bench.tsv).")
    with open(a.md, "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


def main_odp(a):
    """docs/rdma-benchmarks.md for a 7.x run: ODP MRs, latency table."""
    figs = load(a.tsv)
    if not figs:
        print("rdma_bench_report: no figures", file=sys.stderr)
        return 1
    lat = load_latency(a.latency)
    sizes = sorted({k[2] for k in figs})
    walls = sum(1 for v in figs.values() if v[2] == "wall")
    failed = sum(1 for v in figs.values() if v[0] is None)
    places = {}
    for k, v in figs.items():
        places.setdefault(k[0], set()).add(
            v[3] + ("" if v[4] in ("-", "none") else " (reason %s)" % v[4]))
    bar_is_bar = places.get("bar") == {"bar"} or all(
        p.startswith("bar") for p in places.get("bar", ()))

    out = []
    w = out.append
    w("# RDMA benchmarks: perftest over On-Demand Paging on p2pgpu device memory")
    w("")
    w("Generated by `make bench-rdma KERNEL=%s` (tests/bench/run-rdma-bench.sh); "
      "do not edit by hand. Kernel: %s. Source %s; VM verdict: %s." % (
          a.kernel.split()[0], a.kernel, a.source, a.verdict))
    w("")
    w("**These are emulator figures, not hardware figures.** The VM is "
      "TCG-emulated (no KVM) on a shared 2-core host, and Soft-RoCE (rxe) "
      "moves every byte with the CPU; the ratios, measured side by side in "
      "one boot, are what the run shows, and even they move by tens of "
      "percent between runs.")
    w("")
    w("What was measured: perftest (the guest's `ib_write_bw`, `ib_read_bw`, "
      "`ib_write_lat`) over **one rxe device in loopback** "
      "(`-x 1 -q 1 -F -m 4096`; `-q 1` for the bandwidth tests only). The "
      "server's MR is an **On-Demand Paging MR** (`--odp`): it pins nothing, "
      "the NIC resolves the pages with `hmm_range_fault()` under an mmu "
      "interval notifier, which is how an upstream NIC reaches P2PDMA pages "
      "since 6.2 (GUP refuses to pin them). The client's buffer is always "
      "pinned host memory. The server's buffer is:")
    w("")
    w("* **host**: perftest's own buffer (ODP MR on anonymous memory);")
    w("* **bar**: `p2pgpu-rdma -- <test> ... --odp`: a published p2pgpu "
      "object mapped with `--mmap`; where the NIC's faults put its pages is "
      "p2pgpu-rdma's \"resident during the run\" line (pages in the window "
      "= BAR, CPU-mapped system pages = fallback), asserted for every run, "
      "and the ODP MR must pin nothing;")
    w("* **fallback**: the same while `p2pgpu-window-pin` (tests/bench) holds "
      "every window slot with a pinned p2pmap import (the edu importer's "
      "pinned mode), so the NIC's faults get system pages (reason "
      "`window_full`). On 7.x a pinned RDMA MR over window pages is refused "
      "(GUP does not long-term pin P2PDMA pages), so the 6.1 mode's "
      "`--fill-window` cannot exhaust the window there.")
    w("")
    w("Placement seen per row: " + "; ".join(
        "**%s**: %s" % (m, ", ".join(sorted(places.get(m, {"-"}))))
        for m in MEMS) + ".")
    w("")
    if not bar_is_bar:
        w("**The bar row did not run on BAR memory in this run.** On this "
          "kernel p2pgpu's CPU mappings are system pages (see the reason "
          "above; `p2pdma_unported` means p2pgpu's window pages are not "
          "ported to this kernel's P2PDMA page rules yet), so the NIC's "
          "faults resolve to system pages and the bar row measures the "
          "fallback path through a p2pgpu object. That placement was "
          "expected and asserted; the bar figures here are not BAR "
          "figures.")
        w("")
    w("Bandwidth is perftest's `BW average[MB/sec]` of the client, latency "
      "its `t_avg[usec]`. Figures marked \\* are wall-clock lower bounds "
      "(perftest's cycle-counter calibration failed under emulation); "
      "`failed` means the run did not complete. %d wall-clock figure(s), %d "
      "failed run(s)." % (walls, failed))
    w("")
    w(ODP_NOTE)
    w("")
    for test in TESTS:
        lat_t = test.endswith("lat")
        unit = "usec" if lat_t else "MB/s"
        w("## %s --odp (%s)" % (test, unit))
        w("")
        w("| size | host | bar | fallback | bar/host | fallback/host |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for s_ in sizes:
            h, b, f = (figs.get((m, test, s_), (None, "", "", "", ""))
                       for m in MEMS)
            rb = ratio(b[0], h[0], lat_t)
            rf = ratio(f[0], h[0], lat_t)
            w("| %s | %s | %s | %s | %s | %s |" % (
                size_name(s_), fmt(h[0], h[2]), fmt(b[0], b[2]),
                fmt(f[0], f[2]),
                "-" if rb is None else "%.2fx" % rb,
                "-" if rf is None else "%.2fx" % rf))
        w("")
        if lat_t:
            w("For latency a ratio above 1 means slower.")
            w("")

    w("## ODP invalidate-to-refault latency under eviction")
    w("")
    w("No published figure exists for this (no vendor or upstream source "
      "publishes the NIC-side cost of an ODP invalidation and re-fault on "
      "device memory), so here is ours with its method. Same boot as the "
      "tables above.")
    w("")
    r = lat.get(("odp", "refault"), {})
    meth = r.get("method", "?")
    w("Method (`p2pgpu_odp_lat -n N -m 4096`, "
      "tests/selftests/p2pgpu_rdma/p2pgpu_odp_lat.c; p2pgpu loaded with "
      "`window_mb=1 min_residency_ms=0`): an ODP MR over a one-page p2pgpu "
      "object on rxe0, two RC QPs of rxe0 connected to each other at path "
      "MTU 4096. Per sample: (1) invalidate the page under the MR; (2) time "
      "one signalled 4 KiB RDMA WRITE from a pinned host MR into it, "
      "`ibv_post_send()` to its completion (busy `ibv_poll_cq()`, "
      "CLOCK_MONOTONIC): the NIC's fault (`hmm_range_fault()` through "
      "p2pgpu's fault handler), the DMA re-map and the copy; (3) time the "
      "same WRITE again to the now resident page (the baseline); (4) check "
      "the page's bytes through the CPU after each WRITE. The invalidation "
      "is `evict` where p2pgpu's window is CPU-mapped (a pass of CPU "
      "faults over a window-sized object evicts the page; a sample counts "
      "only if BO_INFO shows it out of the window and the eviction counter "
      "moved), or `zap` where it is not (`MADV_DONTNEED` on the page: the "
      "same PTE zap and mmu-notifier invalidation an eviction makes, "
      "without p2pgpu moving data). This run used **%s**." % meth)
    w("")
    w("p2pmap's own importer protocol, for comparison "
      "(`p2pmap-bench --only latency --latency-rounds N`, "
      "tests/bench/p2pmap-bench.c part 2, with the edu importer): "
      "`exporter_evict` is p2pgpu evicting a page a p2pmap importer has "
      "mapped (P2PMAP_EV_EVICT) until the importer's next MAP has placed "
      "it again; `cpu_madv_dontneed` is the importer's mmu-notifier "
      "invalidation by `MADV_DONTNEED` on system memory until its next "
      "MAP. Both are measured from the invalidate callback to the end of "
      "the re-map, without a transfer; the ODP figures include a 4 KiB "
      "copy and rxe's packet path, so compare the refault-minus-resident "
      "difference with them, not the raw times.")
    w("")
    w("| measure | n | p50 | p90 | p99 | max |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = (
        ("ODP: 4 KiB RDMA WRITE after invalidation (%s), fault + re-map + "
         "transfer" % meth, ("odp", "refault"), "n"),
        ("ODP: the same WRITE to the resident page (baseline)",
         ("odp", "resident"), "n"),
        ("p2pmap importer: exporter eviction -> revalidation "
         "(exporter_evict)", ("p2pmap", "exporter_evict"), "samples"),
        ("p2pmap importer: MADV_DONTNEED -> revalidation "
         "(cpu_madv_dontneed)", ("p2pmap", "cpu_madv_dontneed"), "samples"),
    )
    for label, key, nk in rows:
        kv = lat.get(key, {})
        if not kv.get("p50_ns"):
            w("| %s | not measured: %s | | | | |" % (
                label, kv.get("status", "no figure in this run")))
            continue
        w("| %s | %s | %s | %s | %s | %s |" % (
            label, kv.get(nk, "-"), ns(kv.get("p50_ns")),
            ns(kv.get("p90_ns")), ns(kv.get("p99_ns")), ns(kv.get("max_ns"))))
    w("")
    res = lat.get(("odp", "resident"), {})
    if r.get("p50_ns") and res.get("p50_ns"):
        w("Refault p50 minus resident p50: %s; p99 minus p99: %s "
          "(refault/resident p50: %s)." % (
              ns(float(r["p50_ns"]) - float(res["p50_ns"])),
              ns(float(r["p99_ns"]) - float(res["p99_ns"])),
              lat.get(("odp", "ratio_p50"), {}).get(
                  "refault/resident", "-") + "x"))
        w("")
    c = lat.get(("odp", "counters"), {})
    if c:
        inv = c.get("rxe_odp_invalidations", "-1")
        w("Counters over the latency run: p2pgpu window evictions %s; rxe "
          "ODP invalidations %s, ODP page faults %s." % (
              c.get("evictions", "-"),
              "n/a (this kernel's rxe has no ODP counters)" if inv == "-1" else inv,
              "n/a" if c.get("rxe_odp_page_faults", "-1") == "-1"
              else c.get("rxe_odp_page_faults")))
        w("")
    if a.note:
        w("Conditions of this run: " + a.note)
        w("")
    note = plot(figs, sizes, a.png, lat,
                title="perftest --odp over Soft-RoCE, %s: host, bar, fallback; "
                "ODP refault vs p2pmap importer latency" % a.kernel)
    if note:
        w("No plot: %s." % note)
    else:
        w("![perftest --odp over rxe and the invalidation latencies](%s)" %
          os.path.basename(a.png))
        w("")
        w("Axes with values spanning a decade or more are logarithmic "
          "(marked \"log y\"); the caveat is printed in the image.")
    w("")
    w("Command: `make bench-rdma KERNEL=%s` (one VM boot, `--suites "
      "rdma_bench`, guest parameter `rdma_bench_mode=odp`; figures in "
      "out/bench/rdma-bench.tsv and out/bench/rdma-lat.txt). "
      "`make bench-rdma KERNEL=test` runs the 6.1 pinned-MR mode." %
      a.kernel.split()[0])
    with open(a.md, "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
