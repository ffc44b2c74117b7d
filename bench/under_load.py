#!/usr/bin/env python3
"""Verdicts under load: grades a lab's solution and fixtures while busy loops run beside the grader.

    bench/under_load.py [LAB ...] [--runs N] [--loops K] [--json FILE]

Default labs: lab-4.1 lab-4.2 lab-4.3 lab-1.4 deliverable-4 (issue 10's list); default 2 runs per
submission and 2 busy loops (`while True: pass`, each in its own session, killed at the end).

Every submission (the solution, and each fixture with an expect.yaml) is graded whole, as a student's
would be, and every item is compared with what it must be: `passed` for the solution, the expect.yaml's
status for a fixture. A verdict that differs is a violation unless it is `inconclusive` (the grader saw
the load and declined to judge): the solution's performance must never fail, a slow fixture's never pass.
The table lists the performance items (kind throughput or memory) and the clock-judged ones
(`timing: true`) of every submission, and any other item whose verdict moved. Exit 0 when no violation.
GRADE_PYTHON picks the interpreter, as for the grader.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRADE = os.path.join(ROOT, "target", "release", "grade")
LABS = ["lab-4.1", "lab-4.2", "lab-4.3", "lab-1.4", "deliverable-4"]


def watched_items(spec_text):
    """Ids of the items whose verdict can depend on the machine: performance kinds and `timing: true`."""
    ids, current, kinds = [], None, {}
    for line in spec_text.splitlines():
        m = re.match(r"\s*- id:\s*(\S+)", line)
        if m:
            current = m.group(1)
            continue
        if current and (re.match(r"\s*kind:\s*(throughput|memory)\b", line) or re.match(r"\s*timing:\s*true\b", line)):
            if current not in ids:
                ids.append(current)
                kinds[current] = "timing" if "timing" in line else line.split(":")[1].strip()
    return ids, kinds


def expected(lab, name):
    """The statuses a fixture must get, by item, from its expect.yaml."""
    out = {}
    in_tests = False
    for line in open(os.path.join(ROOT, "fixtures", lab, name, "expect.yaml")):
        if re.match(r"^tests:\s*$", line):
            in_tests = True
            continue
        if in_tests:
            m = re.match(r"^\s+([\w.-]+):\s*(\w+)", line)
            if m:
                out[m.group(1)] = m.group(2)
            elif re.match(r"^\S", line):
                in_tests = False
    return out


def grade(lab, sub):
    started = time.monotonic()
    p = subprocess.run([GRADE, lab, "--submission", sub, "--format", "json"], capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    try:
        r = json.loads(p.stdout)
    except ValueError:
        return {"_error": "exit %s: %s" % (p.returncode, p.stderr.strip()[-300:])}, wall
    return {t["id"]: t for t in r.get("tests", [])}, wall


def violation(want, got):
    return want is not None and got != want and got != "inconclusive"


def start_loops(k):
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True) for _ in range(k)]


def stop_loops(loops):
    for p in loops:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labs", nargs="*", default=LABS)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--loops", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows, bad = [], 0
    print("%s, load before: %s, %d busy loop(s), %d run(s) per submission" % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg(), a.loops, a.runs), flush=True)
    loops = start_loops(a.loops)
    try:
        time.sleep(2)
        for lab in a.labs:
            ids, kinds = watched_items(open(os.path.join(ROOT, "specs", lab + ".yaml")).read())
            subs = [("solution", os.path.join(ROOT, "solutions", lab))]
            fx = os.path.join(ROOT, "fixtures", lab)
            subs += [(n, os.path.join(fx, n)) for n in sorted(os.listdir(fx)) if os.path.isfile(os.path.join(fx, n, "expect.yaml"))]
            for name, sub in subs:
                pinned = None if name == "solution" else expected(lab, name)
                got = {}
                for _ in range(a.runs):
                    tests, wall = grade(lab, sub)
                    if "_error" in tests:
                        print("%-14s %-32s GRADER FAILED %s" % (lab, name, tests["_error"]), flush=True)
                        bad += 1
                        continue
                    for item, t in tests.items():
                        got.setdefault(item, []).append((t.get("status"), (t.get("measurement") or {}).get("ratio")))
                for item, seen in got.items():
                    # The solution passes every automatic item (design and manual ones stay pending).
                    want = pinned.get(item) if pinned is not None else ("pending" if seen[0][0] == "pending" else "passed")
                    moved = [s for s, _ in seen if violation(want, s)]
                    if item not in ids and not moved:
                        continue
                    bad += bool(moved)
                    row = {"lab": lab, "submission": name, "item": item, "kind": kinds.get(item, "other"),
                           "expected": want, "statuses": [s for s, _ in seen], "ratios": [r for _, r in seen],
                           "violation": bool(moved)}
                    rows.append(row)
                    print("%-14s %-32s %-18s %-10s want %-8s got %-40s %s" % (
                        lab, name[:32], item[:18], row["kind"], want, ",".join(row["statuses"]),
                        "<-- VIOLATION" if moved else ""), flush=True)
    finally:
        stop_loops(loops)
    inconclusive = sum(r["statuses"].count("inconclusive") for r in rows)
    total = sum(len(r["statuses"]) for r in rows)
    print("%d rows, %d verdicts, %d inconclusive, %d violation(s); load after: %s" % (
        len(rows), total, inconclusive, bad, os.getloadavg()))
    if a.json:
        json.dump({"rows": rows, "violations": bad}, open(a.json, "w"), indent=1)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
