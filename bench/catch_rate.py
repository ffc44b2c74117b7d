#!/usr/bin/env python3
"""How often does a stress (or deadlock) item catch the race a fixture has?

    python3 bench/catch_rate.py LAB ITEM FIXTURE [FIXTURE...] [--n 50] [--stride K] [--json OUT]

For each fixture (a directory, or a name under fixtures/LAB/), grades it N times with

    grade LAB --submission FIXTURE --only ITEM --seed S --format json

and reads the item's `runs` and `failed_runs` from each report. A grading runs the item `repetitions`
times, with seeds S, S+1, ..., S+r-1, so the per-run probability of catching the race is
p = sum(failed_runs) / sum(runs) over all gradings. The seeds S are 1, 1+K, 1+2K, ... with K = the item's
repetitions r by default, so no seed is run twice (under the controlled scheduler a seed replays exactly:
overlapping seeds would count one schedule several times); `--stride 1` gives S = 1..N.

Printed per fixture: gradings, gradings caught (item not passed), runs, runs caught, p, a one-sided 95%
lower confidence bound on p (Clopper-Pearson), r (from specs/LAB.yaml), (1-p)^r - the chance one grading
misses the race - with its 95% upper bound, and whether (1-p)^r <= 1%.

Standard library only. Runs one grading at a time (the machine is shared); expect N x (item's duration).
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PASSED = "passed"


def item_settings(lab, item):
    """(kind, repetitions, scheduler) of `item` in specs/LAB.yaml, read line by line (no YAML module)."""
    path = os.path.join(ROOT, "specs", lab + ".yaml")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    inside, found = False, {}
    for line in lines:
        m = re.match(r"^  - id:\s*(\S+)", line)
        if m:
            inside = m.group(1) == item
            continue
        if inside:
            m = re.match(r"^    (kind|repetitions|scheduler):\s*([^\s#]+)", line)
            if m:
                found[m.group(1)] = m.group(2)
    if not found:
        sys.exit("catch_rate: no item %r in %s" % (item, path))
    return found.get("kind", "?"), int(found.get("repetitions", 1)), found.get("scheduler", "os")


def fixture_dir(lab, name):
    if os.path.isdir(name):
        return os.path.abspath(name)
    path = os.path.join(ROOT, "fixtures", lab, name)
    if os.path.isdir(path):
        return path
    sys.exit("catch_rate: no fixture %r (neither a directory nor fixtures/%s/%s)" % (name, lab, name))


def grade_once(grade, lab, item, sub, seed):
    """(status, runs, failed_runs, message) of the item in one grading."""
    cmd = [grade, lab, "--submission", sub, "--only", item, "--seed", str(seed), "--format", "json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    try:
        report = json.loads(out.stdout)
    except ValueError:
        sys.exit("catch_rate: `%s` printed no JSON (exit %d): %s" % (" ".join(cmd), out.returncode,
                                                                     out.stderr.strip()[-400:]))
    test = next((t for t in report.get("tests", []) if t.get("id") == item), None)
    if test is None:
        sys.exit("catch_rate: the report of `%s` has no item %r" % (" ".join(cmd), item))
    runs = test.get("runs") or 1
    failed = test.get("failed_runs")
    if failed is None:  # deterministic items, or reports without the counts
        failed = 0 if test["status"] == PASSED else 1
    return test["status"], runs, failed, test.get("message") or ""


def _binom_cdf(k, n, p):
    """P[X <= k] for X ~ Binomial(n, p)."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 1.0 if k >= n else 0.0
    total, term = 0.0, (1 - p) ** n
    for i in range(k + 1):
        total += term
        term *= (n - i) / (i + 1) * p / (1 - p)
    return min(total, 1.0)


def lower_bound(k, n, alpha=0.05):
    """One-sided Clopper-Pearson lower confidence bound on p, given k successes in n trials."""
    if k == 0:
        return 0.0
    lo, hi = 0.0, k / n
    for _ in range(60):  # P[X >= k | p] = alpha, by bisection
        mid = (lo + hi) / 2
        if 1 - _binom_cdf(k - 1, n, mid) < alpha:
            lo = mid
        else:
            hi = mid
    return lo


def measure(grade, lab, item, sub, n, stride, start, verbose):
    gradings = caught = runs = failed = 0
    statuses, first, odd = {}, None, []
    t0 = time.monotonic()
    for i in range(n):
        seed = start + i * stride
        status, r, f, msg = grade_once(grade, lab, item, sub, seed)
        gradings += 1
        statuses[status] = statuses.get(status, 0) + 1
        if status == "inconclusive":
            # No observation: the machine was too busy for a clock-judged item, which earns nothing and asks
            # for another grading. Neither a catch nor a miss: left out of p (and of the gradings caught).
            odd.append((seed, status, msg[:300]))
            continue
        runs += r
        failed += f
        if status not in (PASSED, "failed", "deadlock"):
            odd.append((seed, status, msg[:300]))
        if status != PASSED:
            caught += 1
            if first is None:
                first = (seed, msg)
        if verbose:
            print("  seed %-6d %-9s %d/%d runs failed" % (seed, status, f, r), file=sys.stderr)
    return {"gradings": gradings, "gradings_caught": caught, "runs": runs, "runs_caught": failed,
            "statuses": statuses, "first_catch": first, "other_statuses": odd, "seconds": round(time.monotonic() - t0, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lab")
    ap.add_argument("item")
    ap.add_argument("fixtures", nargs="+", help="fixture directories, or names under fixtures/LAB/")
    ap.add_argument("--n", type=int, default=50, help="gradings per fixture (default 50)")
    ap.add_argument("--stride", type=int, default=None,
                    help="seed step between gradings (default: the item's repetitions)")
    ap.add_argument("--start", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--grade", default=os.path.join(ROOT, "target", "release", "grade"))
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each grading (stderr)")
    args = ap.parse_args()

    kind, r, scheduler = item_settings(args.lab, args.item)
    stride = args.stride or r
    rows = []
    print("%s %s (%s, scheduler %s, repetitions r=%d); seeds %d, %d, ... (%d gradings per fixture)"
          % (args.lab, args.item, kind, scheduler, r, args.start, args.start + stride, args.n))
    head = "%-34s %9s %9s %7s %7s %3s %9s %9s %s" % (
        "fixture", "gradings", "runs", "p", "p_lo95", "r", "(1-p)^r", "upper95", "<=1%")
    print(head)
    for name in args.fixtures:
        sub = fixture_dir(args.lab, name)
        m = measure(args.grade, args.lab, args.item, sub, args.n, stride, args.start, args.verbose)
        p = m["runs_caught"] / m["runs"] if m["runs"] else 0.0
        p_lo = lower_bound(m["runs_caught"], m["runs"])
        bound, upper = (1 - p) ** r, (1 - p_lo) ** r
        row = dict(m, lab=args.lab, item=args.item, fixture=os.path.basename(sub.rstrip("/")), kind=kind,
                   scheduler=scheduler, r=r, p=round(p, 4), p_lo95=round(p_lo, 4), bound=bound,
                   bound_upper95=upper, ok=bound <= 0.01, stride=stride, start=args.start)
        rows.append(row)
        print("%-34s %4d/%-4d %4d/%-4d %7.3f %7.3f %3d %9.2e %9.2e %s   (%s; %.0f s)" % (
            row["fixture"], m["gradings_caught"], m["gradings"], m["runs_caught"], m["runs"], p, p_lo, r,
            bound, upper, "yes" if row["ok"] else "NO",
            ", ".join("%s %d" % kv for kv in sorted(m["statuses"].items())), m["seconds"]))
        for seed, status, msg in m["other_statuses"]:
            print("    seed %d: %s: %s" % (seed, status, msg))
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"schema": "grade-catch-rate/1", "date": time.strftime("%Y-%m-%d %H:%M"),
                       "rows": rows}, f, indent=1)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
