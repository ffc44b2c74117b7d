#!/usr/bin/env python3
"""How close the student kit's estimated performance comes to the measured one.

For every lab with a throughput or memory item, grades the reference solution and each fixture whose
performance is measured (expect.yaml pins it `passed` or `failed`) twice, with `--only` those items:
against the reference solution run beside it (what the course's grading does), and with `--estimate`
(what the kit does: against baselines/<lab>.json, scaled by this machine's calibration time). The items
run with `requires: []` in a private copy of the course, so that only the measurement is timed.

    bench/estimates.py [LAB ...]           # GRADE_PYTHON picks the interpreter (3.11, 3.13, ...)
    bench/estimates.py --again [LAB ...]   # also a second live measurement: the noise floor

Prints one row per (lab, submission, item): both ratios, their difference in percent, both statuses,
then the median and worst difference, for single- and multi-process items apart. With `--again`, each
submission is also measured live a second time, and the row gives how far the two live ratios are apart:
no estimate can come closer to a measurement than the measurement comes to itself. Run it on a quiet
machine: a busy one makes items `inconclusive`, and those rows are shown but not counted.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRADE = os.path.join(ROOT, "target", "release", "grade")


def perf_items(spec_text):
    """Ids of the throughput and memory items of a spec, by its text."""
    ids, current = [], None
    for line in spec_text.splitlines():
        m = re.match(r"\s*- id:\s*(\S+)", line)
        if m:
            current = m.group(1)
        if current and re.match(r"\s*kind:\s*(throughput|memory)\b", line):
            ids.append(current)
    return ids


def without_requires(spec_text):
    """The spec with `requires: []` on every throughput and memory item (any `requires:` there dropped)."""
    out, block, is_perf = [], [], False

    def flush():
        if is_perf:
            kept = [l for l in block if not re.match(r"\s*requires:", l)]
            indent = re.match(r"(\s*)kind:", next(l for l in kept if re.match(r"\s*kind:", l))).group(1)
            kept.insert(1, indent + "requires: []")
            out.extend(kept)
        else:
            out.extend(block)

    for line in spec_text.splitlines():
        if re.match(r"\s*- id:", line):
            flush()
            block, is_perf = [], False
        block.append(line)
        if re.match(r"\s*kind:\s*(throughput|memory)\b", line):
            is_perf = True
    flush()
    return "\n".join(out) + "\n"


def measured_fixtures(lab):
    base = os.path.join(ROOT, "fixtures", lab)
    out = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            text = open(os.path.join(base, name, "expect.yaml")).read()
        except OSError:
            continue
        if re.search(r"^\s*(throughput|memory[\w-]*|speedup[\w-]*):\s*(passed|failed)\b", text, re.M):
            out.append(name)
    return out


def grade(specs, lab, sub, items, estimate):
    cmd = [GRADE, lab, "--specs", specs, "--submission", sub, "--format", "json", "--only", ",".join(items)]
    if estimate:
        cmd.append("--estimate")
    r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=False).stdout or "{}")
    return {t["id"]: t for t in r.get("tests", []) if t["id"] in items}


def main():
    again = "--again" in sys.argv[1:]
    labs = [a for a in sys.argv[1:] if a != "--again"]
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("specs", "keys", "baselines", "starter"):
            if os.path.isdir(os.path.join(ROOT, d)):
                shutil.copytree(os.path.join(ROOT, d), os.path.join(tmp, d))
        os.symlink(os.path.join(ROOT, "solutions"), os.path.join(tmp, "solutions"))
        specs = os.path.join(tmp, "specs")
        rows = []
        for f in sorted(os.listdir(specs)):
            if not f.endswith(".yaml"):
                continue
            lab = f[:-5]
            if labs and lab not in labs:
                continue
            path = os.path.join(specs, f)
            text = open(path).read()
            items = perf_items(text)
            if not items or not os.path.isfile(os.path.join(ROOT, "baselines", lab + ".json")):
                continue
            open(path, "w").write(without_requires(text))
            base = json.load(open(os.path.join(ROOT, "baselines", lab + ".json")))
            subs = [("solution", os.path.join(ROOT, "solutions", lab))]
            subs += [(n, os.path.join(ROOT, "fixtures", lab, n)) for n in measured_fixtures(lab)]
            for name, sub in subs:
                live, est = grade(specs, lab, sub, items, False), grade(specs, lab, sub, items, True)
                second = grade(specs, lab, sub, items, False) if again else {}
                for item in items:
                    a, b, c = live.get(item, {}), est.get(item, {}), second.get(item, {})
                    ra = (a.get("measurement") or {}).get("ratio")
                    rb = (b.get("measurement") or {}).get("ratio")
                    rc = (c.get("measurement") or {}).get("ratio")
                    kind = base["items"].get(item, {})
                    work = kind.get("workload", "memory")
                    diff = None if not (ra and rb) else 100.0 * (rb - ra) / ra
                    floor = None if not (ra and rc) or c.get("status") == "inconclusive" else 100.0 * (rc - ra) / ra
                    rows.append((lab, name, item, work, ra, rb, diff, a.get("status"), b.get("status"), floor))
                    print("%-24s %-30s %-14s %-6s measured %-6s estimated %-6s diff %-7s %s / %s%s" % (
                        lab, name[:30], item[:14], work, ra, rb, "-" if diff is None else "%+.1f%%" % diff,
                        a.get("status"), b.get("status"),
                        "" if not again else "   again %s (%s)" % (rc, "-" if floor is None else "%+.1f%%" % floor)), flush=True)
        for work in ("single", "multi", "memory"):
            d = sorted(abs(r[6]) for r in rows if r[3] == work and r[6] is not None
                       and r[7] != "inconclusive" and r[8] != "inconclusive")
            if d:
                print("%s: %d rows, median |diff| %.1f%%, worst %.1f%%, within 10%%: %d" % (
                    work, len(d), d[len(d) // 2], d[-1], sum(1 for x in d if x <= 10.0)))
            f = sorted(abs(r[9]) for r in rows if r[3] == work and r[9] is not None and r[7] != "inconclusive")
            if f:
                print("%s, measured twice: %d rows, median |diff| %.1f%%, worst %.1f%%, within 10%%: %d" % (
                    work, len(f), f[len(f) // 2], f[-1], sum(1 for x in f if x <= 10.0)))


if __name__ == "__main__":
    main()
