#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side verdict for one p2pmap VM run.

Owns the decision whether a VM run passed. Inputs are the files QEMU wrote
(results.tap from the guest's second serial port, console.log from the
first, dmesg.log from the third) and QEMU's exit status. A run passes only if
all of these hold:

  * QEMU exited through isa-debug-exit with value 0 (exit status 1);
  * every requested suite (plus the guest's "health" suite) has begin and end
    markers and exited 0;
  * every suite printed a TAP plan and executed exactly that many tests;
  * no test is "not ok", except an expected failure: "not ok ... # TODO"
    matching an explanation in tests/vm/suites/<suite>[.<kernel>].xfails
    (a known kernel bug on a kernel we cannot patch). Expected failures
    are counted on their own, never as passes; an unexplained TODO and an
    "ok ... # TODO" (the known bug did not show) fail;
  * every skip matches an explanation in tests/vm/suites/<suite>.skips
    (skips never count as passes; unexplained skips fail);
  * the suite executed at least min_executed tests (tests/vm/suites/<suite>.expect);
  * the kernel log has no splat: WARNING, BUG, Oops, KASAN, UBSAN, lockdep,
    sleeping in atomic, hung task, RCU stall, kmemleak, panic.

Splats are printed decoded through the kernel's decode_stacktrace.sh when a
vmlinux is available. A JSON summary is written next to the logs.
"""
import argparse
import json
import os
import re
import subprocess
import sys

SUITES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suites")

SPLAT_PATTERNS = [
    r"WARNING:",
    r"BUG:",
    r"kernel BUG at",
    r"Oops:",
    r"general protection fault",
    r"KASAN:",
    r"UBSAN:",
    r"possible circular locking dependency",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"possible irq lock inversion",
    r"suspicious RCU usage",
    r"sleeping function called from invalid context",
    r"blocked for more than \d+ seconds",
    r"rcu_\w+ (self-)?detected (cpu )?stall",
    r"ODEBUG:",
    r"list_(add|del) corruption",
    r"refcount_t:",
    r"new suspected memory leaks",
    r"unreferenced object 0x",
    r"Kernel panic",
    r"Unable to handle kernel",
    r"stack-protector:",
]
SPLAT_RE = re.compile("|".join("(?:%s)" % p for p in SPLAT_PATTERNS))
TS_RE = re.compile(r"^\[\s*\d+\.\d+\]\s*")
END_RE = re.compile(r"---\[ end |^\S*\s*$")

TAP_TEST_RE = re.compile(r"^(not )?ok (\d+)\b ?(.*)$")
TAP_PLAN_RE = re.compile(r"^1\.\.(\d+)")
BEGIN_RE = re.compile(r"^# p2pmap-suite-begin: (\S+)")
END_MARK_RE = re.compile(r"^# p2pmap-suite-end: (\S+) rc=(\d+)(?: start=(\S+) end=(\S+))?")


def load_skips(suite, variant, kind="skips"):
    """Skip explanations: <suite>.skips for every kernel, plus
    <suite>.<variant>.skips for skips that are only legitimate on one kernel
    (e.g. P2PDMA compiled out of the stock kernel). kind="xfails" loads the
    expected-failure explanations the same way."""
    rules = []
    for path in (os.path.join(SUITES_DIR, "%s.%s" % (suite, kind)),
                 os.path.join(SUITES_DIR, "%s.%s.%s" % (suite, variant, kind))):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                pat, _, why = line.partition("\t")
                rules.append((re.compile(pat), why.strip()))
    return rules


def load_expect(suite, variant):
    path = os.path.join(SUITES_DIR, "%s.%s.expect" % (suite, variant))
    if not os.path.exists(path):
        path = os.path.join(SUITES_DIR, suite + ".expect")
    exp = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if "=" in line:
                    k, v = line.split("=", 1)
                    exp[k.strip()] = int(v)
    return exp


def parse_results(path):
    """Split results.tap into suites: name -> dict(lines, rc, elapsed)."""
    suites = {}
    order = []
    cur = None
    if not os.path.exists(path):
        return suites, order
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            m = BEGIN_RE.match(line)
            if m:
                cur = {"lines": [], "rc": None, "elapsed": None}
                suites[m.group(1)] = cur
                order.append(m.group(1))
                continue
            m = END_MARK_RE.match(line)
            if m and cur is not None:
                cur["rc"] = int(m.group(2))
                try:
                    cur["elapsed"] = float(m.group(4)) - float(m.group(3))
                except (TypeError, ValueError):
                    pass
                cur = None
                continue
            if cur is not None:
                cur["lines"].append(line)
    return suites, order


def judge_suite(name, s, problems, variant):
    """Count one suite's TAP; append reasons for failure to problems."""
    res = {"suite": name, "passed": 0, "failed": 0, "skipped": 0,
           "xfailed": 0, "planned": None, "rc": s["rc"],
           "elapsed": s["elapsed"], "skips": [], "xfails": [], "failures": []}
    rules = load_skips(name, variant)
    xrules = load_skips(name, variant, "xfails")
    exp = load_expect(name, variant)
    seen_plan = False
    for line in s["lines"]:
        pm = TAP_PLAN_RE.match(line)
        if pm and not seen_plan:
            res["planned"] = int(pm.group(1))
            seen_plan = True
            continue
        tm = TAP_TEST_RE.match(line)
        if not tm:
            continue
        notok, rest = tm.group(1), tm.group(3)
        directive = ""
        if " # " in " " + rest:
            directive = (" " + rest).split(" # ", 1)[1]
        if notok and directive.upper().startswith("TODO"):
            why = next((w for r, w in xrules if r.search(line)), None)
            if why is None:
                res["failed"] += 1
                res["failures"].append(line + "   <- unexplained expected failure (explain it in %s.<kernel>.xfails or fix it)" % name)
            else:
                res["xfailed"] += 1
                res["xfails"].append({"line": line, "explained": why})
        elif notok:
            res["failed"] += 1
            res["failures"].append(line)
        elif directive.upper().startswith("TODO"):
            res["failed"] += 1
            res["failures"].append(line + "   <- passed although marked as an expected failure")
        elif directive.upper().startswith("SKIP"):
            why = next((w for r, w in rules if r.search(line)), None)
            res["skips"].append({"line": line, "explained": why})
            if why is None:
                res["failed"] += 1
                res["failures"].append(line + "   <- unexplained skip (explain it in %s.skips or fix it)" % name)
            else:
                res["skipped"] += 1
        else:
            res["passed"] += 1
    counted = res["passed"] + res["failed"] + res["skipped"] + res["xfailed"]
    if s["rc"] is None:
        problems.append("%s: no end marker (guest died or suite hung)" % name)
    elif s["rc"] != 0:
        problems.append("%s: suite exited with rc=%d" % (name, s["rc"]))
    if res["planned"] is None:
        problems.append("%s: no TAP plan line" % name)
    elif counted != res["planned"]:
        problems.append("%s: plan declares %d tests but %d reported" % (name, res["planned"], counted))
    if res["failed"]:
        problems.append("%s: %d test(s) failed" % (name, res["failed"]))
    minx = exp.get("min_executed")
    if minx is not None and res["passed"] < minx:
        problems.append("%s: only %d test(s) passed, expected at least %d" % (name, res["passed"], minx))
    return res


def find_splats(paths):
    """Return a list of (fingerprint, [lines]) for each distinct splat."""
    splats = []
    seen = set()
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            lines = [l.rstrip("\r\n") for l in f]
        i = 0
        while i < len(lines):
            body = TS_RE.sub("", lines[i])
            if SPLAT_RE.search(body) and "p2pmap-vm:" not in body:
                block = lines[i:i + 80]
                # cut at the end-of-trace marker when there is one
                for j, l in enumerate(block):
                    if "---[ end " in l:
                        block = block[:j + 1]
                        break
                fp = re.sub(r"0x[0-9a-f]+|\d+", "N", body)[:160]
                if fp not in seen:
                    seen.add(fp)
                    splats.append((fp, block))
                i += len(block)
                continue
            i += 1
    return splats


def decode(block, vmlinux, ksrc, moddir):
    script = os.path.join(ksrc or "", "scripts", "decode_stacktrace.sh")
    if not (vmlinux and os.path.exists(vmlinux) and os.path.exists(script)):
        return "\n".join(block)
    try:
        p = subprocess.run(["bash", script, vmlinux, ksrc, moddir or ""],
                           input="\n".join(block) + "\n", capture_output=True,
                           text=True, timeout=120)
        return p.stdout if p.stdout.strip() else "\n".join(block)
    except (OSError, subprocess.SubprocessError):
        return "\n".join(block)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rundir")
    ap.add_argument("--name", required=True)
    ap.add_argument("--suites", required=True, help="comma-separated list")
    ap.add_argument("--qemu-rc", type=int, required=True)
    ap.add_argument("--variant", default="test", help="kernel: test or stock")
    ap.add_argument("--vmlinux")
    ap.add_argument("--ksrc")
    ap.add_argument("--moddir")
    a = ap.parse_args()

    problems = []
    if a.qemu_rc == 124 or a.qemu_rc == 137:
        problems.append("QEMU timed out (rc=%d)" % a.qemu_rc)
    elif a.qemu_rc == 3:
        problems.append("guest reported failure through isa-debug-exit")
    elif a.qemu_rc != 1:
        problems.append("QEMU exited with rc=%d, not through isa-debug-exit (panic, crash or early death)" % a.qemu_rc)

    suites, _ = parse_results(os.path.join(a.rundir, "results.tap"))
    wanted = [s for s in a.suites.split(",") if s] + ["health"]
    results = []
    for name in wanted:
        if name not in suites:
            problems.append("%s: suite never started" % name)
            results.append({"suite": name, "passed": 0, "failed": 1, "skipped": 0,
                            "xfailed": 0, "planned": None, "rc": None,
                            "elapsed": None, "skips": [], "xfails": [],
                            "failures": ["suite never started"]})
            continue
        results.append(judge_suite(name, suites[name], problems, a.variant))

    splats = find_splats([os.path.join(a.rundir, "console.log"),
                          os.path.join(a.rundir, "dmesg.log")])
    for fp, _ in splats:
        problems.append("kernel splat: %s" % fp)

    tot = {k: sum(r[k] for r in results) for k in ("passed", "failed", "skipped", "xfailed")}
    # A splat or an infrastructure problem fails the run even if every test passed.
    run_failed = bool(problems)

    print("== %s ==" % a.name)
    for r in results:
        el = "" if r["elapsed"] is None else " %.1fs" % r["elapsed"]
        print("  %-12s pass %3d  fail %3d  skip %3d  plan %s%s%s" % (
            r["suite"], r["passed"], r["failed"], r["skipped"], r["planned"], el,
            "  expected-fail %d" % r["xfailed"] if r["xfailed"] else ""))
        for f in r["failures"]:
            print("    FAIL: %s" % f)
        for s in r["skips"]:
            if s["explained"]:
                print("    skip: %s -- %s" % (s["line"], s["explained"]))
        for x in r["xfails"]:
            print("    expected failure: %s -- %s" % (x["line"], x["explained"]))
    if splats:
        with open(os.path.join(a.rundir, "splats.txt"), "w") as out:
            for fp, block in splats:
                txt = decode(block, a.vmlinux, a.ksrc, a.moddir)
                out.write(txt + "\n\n")
                print("  ---- kernel splat (decoded) ----")
                for l in txt.splitlines():
                    print("  | " + l)
    for p in problems:
        print("  PROBLEM: %s" % p)
    summary = dict(name=a.name, qemu_rc=a.qemu_rc, problems=problems,
                   suites=results, splats=[fp for fp, _ in splats], **tot)
    if run_failed and tot["failed"] == 0:
        summary["failed"] = 1  # the run itself counts as a failure
    with open(os.path.join(a.rundir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("%s: %d passed, %d failed, %d skipped, %d expected failure(s)" % (
        a.name, tot["passed"], summary["failed"], tot["skipped"], tot["xfailed"]))
    print("%s: %s" % (a.name, "FAIL" if run_failed else "PASS"))
    return 1 if run_failed else 0


if __name__ == "__main__":
    sys.exit(main())
