#!/usr/bin/env python3
"""A benchmark of the grader itself (not a test): prints a short table of medians and ratios.

    python3 bench/grader_bench.py [--quick] [--verbose] [--json FILE] [--sections abcd]

  a. interpreter start per run: `python3 -S -s -B -c pass`, and the same importing the embedded harness
  b. the grader's own overhead per item, from the JSON report's duration_ms and timing.run_ms/start_ms
  c. `grade batch` scaling: a generated class graded with --jobs 1 and --jobs 2
  d. stability of the reference's `performance` points, idle and beside a running batch

Run it from anywhere; it uses the course checkout it lives in and ./target/release/grade there.
Timing on a shared 2-core machine is noisy: every figure is a median of several runs, or a ratio.
Standard library only. See bench/README.md for what each figure means and how to read it.
"""
import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COURSE = Path(__file__).resolve().parent.parent
HARNESS_DIR = COURSE / "grader" / "src" / "harness" / "py"
HARNESS_MODULE = "grade_harness"
TIMED_KINDS = ("throughput", "memory")
MAKE_CLASS = Path(__file__).resolve().parent / "make_class.py"

VERBOSE = False


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def show(cmd, note=""):
    if VERBOSE:
        log("+ " + shlex.join(str(c) for c in cmd) + (f"   # {note}" if note else ""))


def run(cmd, *, timeout=None, note="", **kw):
    """Runs cmd; (wall seconds, CompletedProcess). stdout/stderr captured unless given."""
    show(cmd, note)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    t0 = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], timeout=timeout, cwd=kw.pop("cwd", COURSE), **kw)
    return time.perf_counter() - t0, p


def median(xs):
    return statistics.median(xs) if xs else None


def spread_pct(xs):
    m = median(xs)
    return (max(xs) - min(xs)) / m * 100 if xs and m else None


def loadavg():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def proc_table():
    """{pid: (ppid, start time)} of every process, from /proc/PID/stat."""
    table = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            table[int(p.name)] = (int(fields[1]), fields[19])
    return table


def descendants(root):
    """{pid: start time} of every process below root (pid reuse is told apart by the start time)."""
    table = proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out[c] = table[c][1]
            todo.append(c)
    return out


def still_alive(procs):
    table = proc_table()
    return sorted(pid for pid, start in procs.items() if pid in table and table[pid][1] == start)


def other_graders():
    """How many `grade` processes not started by this benchmark are running (a noise indicator)."""
    n = 0
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip() == "grade":
                    n += 1
            except OSError:
                pass
    return n


class Table:
    def __init__(self):
        self.rows = []

    def add(self, section, key, figure, value, unit="", note=""):
        self.rows.append({"section": section, "key": key, "figure": figure, "value": value,
                          "unit": unit, "note": note})
        log(f"  [{section}] {figure}: {fmt(value, unit)}  {note}".rstrip())

    def print(self, out=sys.stdout):
        w = max(len(r["figure"]) for r in self.rows) if self.rows else 10
        vals = [fmt(r["value"], r["unit"]) for r in self.rows]
        vw = max((len(v) for v in vals), default=5)
        for r, v in zip(self.rows, vals):
            print(f"{r['section']}  {r['figure']:<{w}}  {v:>{vw}}  {r['note']}".rstrip(), file=out)


def fmt(value, unit):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        s = f"{value:.1f}" if abs(value) >= 10 or unit in ("ms", "%") else f"{value:.2f}"
    else:
        s = str(value)
    return f"{s} {unit}".rstrip() if unit not in ("x",) else f"{s}x"


# ---------------------------------------------------------------------------------------------- a

def find_shim(name):
    """A pyenv shim for `name` on PATH, if any (pyenv puts the real interpreter's directory first on the
    PATH of whatever it starts, so inside this script `python3` is already the real one)."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d.rstrip("/").endswith("/shims") and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def start_walls(cmd, runs):
    for _ in range(2):                                       # warm the page cache; not counted
        run(cmd, note="warm-up")
    walls = []
    for _ in range(runs):
        w, p = run(cmd)
        if p.returncode != 0:
            raise SystemExit(f"{shlex.join(map(str, cmd))} failed: {p.stderr.decode()[-500:]}")
        walls.append(w * 1000)
    return walls


def section_a(t, python, runs):
    if not (HARNESS_DIR / f"{HARNESS_MODULE}.py").is_file():
        t.add("a", "a.harness", "harness module", f"n/a ({HARNESS_DIR}/{HARNESS_MODULE}.py missing)")
        return
    exe = shutil.which(python) or python
    harness = f"import sys; sys.path.insert(0, {str(HARNESS_DIR)!r}); import {HARNESS_MODULE}"
    bare = start_walls([exe, "-S", "-s", "-B", "-c", "pass"], runs)
    t.add("a", "a.bare", f"{python} -S -s -B -c pass", median(bare), "ms",
          f"median of {runs}, spread {spread_pct(bare):.0f}%; {exe}")
    imp = start_walls([exe, "-S", "-s", "-B", "-c", harness], runs)
    t.add("a", "a.harness", f"{python} -S -s -B + import {HARNESS_MODULE}", median(imp), "ms",
          f"median of {runs}, spread {spread_pct(imp):.0f}%; the grader starts the harness with -S -s -B -u")
    t.add("a", "a.import", "harness import cost", median(imp) - median(bare), "ms",
          "difference of the two medians")
    shim = find_shim(python)
    if shim and os.path.realpath(shim) != os.path.realpath(exe):
        sw = start_walls([shim, "-S", "-s", "-B", "-c", "pass"], runs)
        t.add("a", "a.shim", f"{python} -S -s -B -c pass via the shim", median(sw), "ms",
              f"median of {runs}; {shim} (a shell's `python3`; the grader resolves past it)")


# ---------------------------------------------------------------------------------------------- b

def grade_json(grade, lab, submission, timeout=300, note=""):
    """(wall s, report dict or None, CompletedProcess)."""
    w, p = run([grade, lab, "--submission", submission, "--format", "json"], timeout=timeout, note=note)
    try:
        return w, json.loads(p.stdout), p
    except ValueError:
        return w, None, p


def section_b(t, grade, lab, runs):
    sub = COURSE / "solutions" / lab
    walls, durations, overheads, starts, per_run, kinds, seen_timing = [], [], [], [], [], {}, False
    overlapped = []
    for _ in range(runs):
        w, r, p = grade_json(grade, lab, sub)
        if r is None:
            raise SystemExit(f"grade {lab} gave no JSON report (exit {p.returncode}): {p.stderr.decode()[-800:]}")
        walls.append(w * 1000)
        durations.append(r.get("duration_ms") or 0)
        for item in r.get("tests", []):
            timing = item.get("timing")
            if not isinstance(timing, dict):
                continue
            seen_timing = True
            run_ms = timing.get("run_ms")
            if not isinstance(run_ms, (int, float)) or run_ms <= 0:
                continue                                  # no Python process (compile, quiz, design)
            over = item["duration_ms"] - run_ms
            # Timed items (throughput, memory) run the student's and the reference's processes side by
            # side, so run_ms is a sum that can exceed duration_ms, and their duration includes waiting for
            # the machine-wide exclusive lock: neither is the grader's overhead. Any other item with
            # run_ms > duration_ms is left out too (and named).
            if item.get("kind") in TIMED_KINDS or over < 0:
                overlapped.append(f"{item.get('id')} ({over:+.0f} ms)" if over < 0 and item.get("kind")
                                  not in TIMED_KINDS else item.get("id"))
                continue
            overheads.append(over)
            kinds.setdefault(item.get("kind", "?"), []).append(over)
            if item.get("runs"):
                per_run.append(over / item["runs"])
            if isinstance(timing.get("start_ms"), (int, float)):
                starts.append(timing["start_ms"])
    t.add("b", "b.wall", f"`grade {lab}` wall (reference)", median(walls), "ms",
          f"median of {runs}, spread {spread_pct(walls):.0f}%")
    t.add("b", "b.duration", "report duration_ms", median(durations), "ms",
          f"median of {runs}; wall - this = start-up, spec load, output")
    t.add("b", "b.outside", "outside the items' clock", median([w - d for w, d in zip(walls, durations)]),
          "ms", "median of (wall - duration_ms)")
    if not seen_timing:
        t.add("b", "b.overhead", "grader overhead per item", "n/a (no timing field)")
        t.add("b", "b.start", "Python start-up per item (start_ms)", "n/a (no timing field)")
        return
    by_kind = ", ".join(f"{k} {median(v):.0f}" for k, v in sorted(kinds.items()))
    left_out = (f"; left out (timed, or run_ms > duration_ms): "
                f"{', '.join(sorted(set(overlapped)))}" if overlapped else "")
    t.add("b", "b.overhead", "grader overhead per item", median(overheads), "ms",
          f"median of {len(overheads)} (duration_ms - run_ms); by kind: {by_kind}{left_out}")
    t.add("b", "b.overhead_run", "grader overhead per run", median(per_run), "ms",
          "median of (overhead / runs) per item")
    t.add("b", "b.start", "Python start-up per item (start_ms)", median(starts) if starts else None, "ms",
          f"median of {len(starts)}")


# ---------------------------------------------------------------------------------------------- c

def batch_available(grade):
    try:
        _, p = run([grade, "batch", "--help"], timeout=30, note="is `grade batch` there?")
    except (OSError, subprocess.TimeoutExpired):
        return False
    # An unknown subcommand is taken as the LAB argument by the old CLI: make sure the help is batch's.
    text = (p.stdout + p.stderr).decode(errors="replace")
    return p.returncode == 0 and "--lab" in text


def make_class(lab, n, dest):
    _, p = run([sys.executable, MAKE_CLASS, lab, dest, "--n", n], timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"make_class.py failed: {p.stderr.decode()}")
    return p.stdout.decode()


def batch_cmd(grade, lab, klass, out, jobs):
    return [grade, "batch", "--lab", lab, klass, "--out", out, "--jobs", jobs]


def gradebook_rows(out):
    try:
        lines = (Path(out) / "gradebook.csv").read_text().splitlines()
    except OSError:
        return None
    return max(0, len([line for line in lines if line.strip()]) - 1)


def section_c(t, grade, lab, klass, n, tmp):
    walls = {}
    for jobs in (1, 2):
        out = tmp / f"out-jobs{jobs}"
        log(f"  [c] grade batch --jobs {jobs} on {n} submissions ...")
        w, p = run(batch_cmd(grade, lab, klass, out, jobs), timeout=3600,
                   stdout=subprocess.DEVNULL, stderr=open(tmp / f"batch-jobs{jobs}.log", "wb"))
        rows = gradebook_rows(out)
        ok = p.returncode == 0 and rows == n
        walls[jobs] = w
        t.add("c", f"c.jobs{jobs}", f"batch of {n}, --jobs {jobs}", w, "s",
              f"exit {p.returncode}, {rows if rows is not None else 'no'} gradebook rows"
              + ("" if ok else f"  <-- expected exit 0 and {n} rows; see {tmp}/batch-jobs{jobs}.log"))
    t.add("c", "c.speedup", "speed-up --jobs 2 vs 1", walls[1] / walls[2], "x",
          f"wall(jobs 1) / wall(jobs 2); {os.cpu_count()} cores")


# ---------------------------------------------------------------------------------------------- d

def perf_points(report):
    for c in report.get("categories", []):
        if c.get("id") == "performance":
            return c.get("points")
    return None


def throughput_ratio(report):
    for item in report.get("tests", []):
        m = item.get("measurement") or {}
        if item.get("kind") == "throughput" and isinstance(m.get("ratio"), (int, float)):
            return m["ratio"]
    return None


def measure_perf(grade, lab, runs, note, alive=None):
    """(points, ratios, walls) over runs gradings of the reference; alive() is called after each."""
    points, ratios, walls, during = [], [], [], 0
    for i in range(runs):
        w, r, p = grade_json(grade, lab, COURSE / "solutions" / lab, note=f"{note} {i + 1}/{runs}")
        if r is None:
            raise SystemExit(f"grade {lab} gave no JSON report (exit {p.returncode}): {p.stderr.decode()[-800:]}")
        pts = perf_points(r)
        if pts is not None:
            points.append(pts)
        ratio = throughput_ratio(r)
        if ratio is not None:
            ratios.append(ratio)
        walls.append(w)
        if alive is not None and alive():
            during += 1
    return points, ratios, walls, during


class Background:
    """A `grade batch --jobs 2` in its own process group, restarted (with a fresh OUT) if it finishes
    before the measurements do, so that the load lasts; killed with its group at the end."""

    def __init__(self, grade, lab, klass, tmp):
        self.grade, self.lab, self.klass, self.tmp = grade, lab, klass, tmp
        self.proc, self.starts = None, 0

    def start(self):
        self.starts += 1
        out = self.tmp / f"out-background-{self.starts}"
        cmd = batch_cmd(self.grade, self.lab, self.klass, out, 2)
        show(cmd, "background load")
        self.proc = subprocess.Popen([str(c) for c in cmd], cwd=COURSE, start_new_session=True,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.tmp / f"background-{self.starts}.log", "wb"))

    def alive(self):
        """True if the batch is running; restarts it if it has finished."""
        if self.proc.poll() is None:
            return True
        log(f"  [d] the background batch finished (exit {self.proc.returncode}); starting another")
        self.start()
        return False

    def kill(self):
        """Kills the batch's process group; (how, pids of its descendants still alive 2 s after it exited).
        The descendants are listed just before the kill: the checks' processes live in sessions of their
        own, out of the batch's group, and only the grader's cleanup on SIGTERM ends them."""
        if self.proc is None or self.proc.poll() is not None:
            return "had finished", []
        below = descendants(self.proc.pid)
        how = self._kill()
        time.sleep(2)
        return how, still_alive(below)

    def _kill(self):
        pgid = self.proc.pid                        # start_new_session: its own group, id = its pid
        if VERBOSE:
            log(f"+ kill -TERM -{pgid}   # the background batch's process group")
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
            return f"SIGTERM, exit {self.proc.returncode}"
        except subprocess.TimeoutExpired:
            if VERBOSE:
                log(f"+ kill -KILL -{pgid}")
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait()
            return "SIGKILL (SIGTERM not obeyed in 15 s)"


def section_d(t, grade, lab, klass, runs, tmp):
    pts_idle, ratio_idle, wall_idle, _ = measure_perf(grade, lab, runs, "idle")
    if not pts_idle:
        t.add("d", "d.idle", "performance points, idle", "n/a (no `performance` category)")
        return
    t.add("d", "d.idle", "performance points, idle", median(pts_idle), "",
          f"median of {len(pts_idle)}; min {min(pts_idle):g} max {max(pts_idle):g}, "
          f"spread {spread_pct(pts_idle):.1f}%")
    if klass is None:
        t.add("d", "d.loaded", "performance points, beside a batch", "n/a (no `grade batch`)")
        return
    bg = Background(grade, lab, klass, tmp)
    bg.start()
    time.sleep(2)
    try:
        pts_load, ratio_load, wall_load, during = measure_perf(grade, lab, runs, "loaded", bg.alive)
    finally:
        how, left = bg.kill()
    t.add("d", "d.loaded", "performance points, beside a batch", median(pts_load), "",
          f"median of {len(pts_load)}; min {min(pts_load):g} max {max(pts_load):g}, "
          f"spread {spread_pct(pts_load):.1f}%; batch --jobs 2 alive after {during}/{runs} runs, "
          f"started {bg.starts}x, ended by {how}; {len(left)} of its processes alive 2 s after"
          + (f" (pids {left[:8]})  <-- left behind" if left else ""))
    mi, ml = median(pts_idle), median(pts_load)
    t.add("d", "d.diff", "loaded vs idle (points)", (ml - mi) / mi * 100 if mi else None, "%",
          "(median loaded - median idle) / median idle")
    if ratio_idle and ratio_load:
        ri, rl = median(ratio_idle), median(ratio_load)
        t.add("d", "d.ratio", "throughput ratio idle / loaded", f"{ri:.3f} / {rl:.3f}", "",
              f"student/reference, median; spread {spread_pct(ratio_idle):.1f}% / "
              f"{spread_pct(ratio_load):.1f}%; differ by {(rl - ri) / ri * 100:+.1f}%")
    t.add("d", "d.wall", "grade wall idle / loaded", f"{median(wall_idle):.2f} / {median(wall_load):.2f} s",
          "", "median; a loaded run waits for the batch's runs to leave the machine before it measures")


# ---------------------------------------------------------------------------------------------- main

def main(argv=None):
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 submissions in c, 4 runs in d")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every command run (on stderr)")
    ap.add_argument("--json", metavar="FILE", help="also save the table as JSON")
    ap.add_argument("--sections", default="abcd", help="which parts to run, e.g. ab (default abcd)")
    ap.add_argument("--lab", default="lab-2.1", help="the lab (default lab-2.1)")
    ap.add_argument("--grade", type=Path, default=COURSE / "target" / "release" / "grade",
                    help="the grade binary (default ./target/release/grade of this checkout)")
    ap.add_argument("--python", default="python3", help="interpreter for part a (default python3)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (class, batch outputs)")
    a = ap.parse_args(argv)
    VERBOSE = a.verbose
    grade = a.grade.resolve()
    if not grade.is_file():
        raise SystemExit(f"{grade} missing: build it with `cargo build --release`")
    n_class = 10 if a.quick else 40
    d_runs = 4 if a.quick else 10

    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    # A private copy: a `cargo build` during the benchmark must not swap the binary between two figures.
    shutil.copy2(grade, tmp / "grade")
    grade = tmp / "grade"
    t = Table()
    version = subprocess.run([grade, "--version"], capture_output=True, text=True).stdout.strip()
    context = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "grade": version,
               "cores": os.cpu_count(), "loadavg_start": loadavg(), "other_graders_start": other_graders(),
               "quick": a.quick, "lab": a.lab}
    log(f"# {version}, {os.cpu_count()} cores, load {context['loadavg_start']}, "
        f"{context['other_graders_start']} other grade processes running")
    try:
        if "a" in a.sections:
            log("a. interpreter start (20 runs each)")
            section_a(t, a.python, 20)
        if "b" in a.sections:
            log(f"b. grader overhead per item (5 gradings of solutions/{a.lab})")
            section_b(t, grade, a.lab, 5)
        klass = None
        if "c" in a.sections or "d" in a.sections:
            if batch_available(grade):
                klass = tmp / "class"
                make_class(a.lab, n_class, klass)
            else:
                log("`grade batch` is not there yet: c and the loaded half of d are skipped")
        if "c" in a.sections:
            log(f"c. batch scaling ({n_class} submissions)")
            if klass is None:
                t.add("c", "c.speedup", "batch scaling", "n/a (no `grade batch`)")
            else:
                section_c(t, grade, a.lab, klass, n_class, tmp)
        if "d" in a.sections:
            log(f"d. performance points, {d_runs} runs idle and {d_runs} beside a batch")
            section_d(t, grade, a.lab, klass, d_runs, tmp)
    except BaseException as e:              # print what was measured before the failure, then fail
        context["error"] = str(e) or type(e).__name__
        log(f"stopped: {context['error']}")
        raise
    finally:
        if a.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        report(t, context, a)
    return 0


def report(t, context, a):
    context["loadavg_end"] = loadavg()
    print(f"# grader bench {context['date']}  {context['grade']}  {context['cores']} cores  "
          f"load {context['loadavg_start']} -> {context['loadavg_end']}"
          f"{'  (quick)' if a.quick else ''}{'  STOPPED: ' + context['error'] if 'error' in context else ''}")
    t.print()
    if a.json:
        Path(a.json).write_text(json.dumps({"schema": "grade-bench/1", "context": context, "rows": t.rows},
                                           indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
