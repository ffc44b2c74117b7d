"""Workloads for deliverable-4, the parallel log analyser (`loganalyser.py`). Each records what the
student's code did; judge.py, which the submission never sees, gives the verdicts.

Standard library only. Every log is generated here, deterministically from a seed in the item's params
(d4_logs.py, shared with the judge, which computes the expected aggregates from the same generator
without the file), into the run's temporary directory (TMPDIR, which the grader gives each run). What
analyse() returned is recorded with its types (`_typed`: a dict's keys stay ints or strings, a tuple
stays a tuple: grade_lib_values.typed), so the judge compares what the student's code returned, not its JSON image.
"""

import os
import re
import tempfile
import time

import d4_logs
from grade_lib_procs import CpuClock, is_helper_cmd, proc_table
from grade_lib_student import call_pool
from grade_lib_values import typed

MODULE = "loganalyser"
LONG_STR = 4096


def _workdir():
    """A directory of this run's own (the grader points TMPDIR at the run's temporary directory)."""
    return tempfile.mkdtemp(prefix="logs-")


def _log(ctx, lines, seed, name="app.log"):
    path = os.path.join(_workdir(), name)
    exp = d4_logs.generate(path, lines, seed)
    return path, exp


# --------------------------------------------------------------------------
# calling the student's code

def _call(ctx, what, fn, timeout):
    return call_pool(ctx, what, fn, timeout, MODULE,
                     hang_hint="a worker that never ends, a result never sent, or parsing far slower than "
                               "expected (one task per line?)",
                     pickle_hint="what goes to a worker process is pickled: the worker function must be "
                                 "defined at the top level of loganalyser.py, and its arguments (a path "
                                 "and two offsets) must be plain values, not open files")[0]


def _analyse(ctx, path, workers, label, timeout, pass_workers=True):
    mod = ctx.student(MODULE)
    fn = getattr(mod, "analyse", None)
    ctx.expect(callable(fn), "loganalyser.py defines no function analyse()",
               hint="define analyse(path, workers=None, top=10) at module level")
    if pass_workers:
        what = f"analyse({label}, workers={workers})"
        return what, _call(ctx, what, lambda: fn(path, workers=workers), timeout)
    what = f"analyse({label})"
    return what, _call(ctx, what, lambda: fn(path), timeout)


def _typed(value):
    """What the student's code returned, as JSON can carry it with its types (grade_lib_values.typed: a
    dict's keys keep their type, a tuple stays a tuple, a float is exact), a string longer than LONG_STR
    as its sha256 (the chunk-edges file has a 200 KB path). judge.py's decode undoes it."""
    return typed(value, LONG_STR)


# --------------------------------------------------------------------------
# completion_quality

def counts_exact(ctx):
    """analyse() of a generated log, once per entry of `workers`: what each call returned."""
    p = ctx.params
    path, _ = _log(ctx, p["lines"], p["seed"])
    label = f"<{p['lines']}-line log>"
    results = []
    for workers in p["workers"]:
        _, got = _analyse(ctx, path, workers, label, p["call_timeout"], pass_workers=workers != "omitted")
        results.append(_typed(got))
    ctx.observe("results", results)


def latency_exact(ctx):
    """analyse() of a generated log with a slow incident in the middle, once per entry of `workers`."""
    p = ctx.params
    path, _ = _log(ctx, p["lines"], p["seed"])
    label = f"<{p['lines']}-line log with a slow incident in the middle>"
    results = []
    for workers in p["workers"]:
        _, got = _analyse(ctx, path, workers, label, p["call_timeout"])
        results.append(_typed(got))
    ctx.observe("results", results)


def chunk_edges(ctx):
    """analyse() of the hand-made files (d4_logs.edge_cases) whose shapes break naive byte-range splitting."""
    directory = _workdir()
    results = []
    for label, name, text, workers, _ in d4_logs.edge_cases():
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            with open(path, "w", encoding="ascii", newline="\n") as fh:
                fh.write(text)
        _, got = _analyse(ctx, path, workers, label, ctx.params["call_timeout"])
        results.append(_typed(got))
    ctx.observe("results", results)


# --------------------------------------------------------------------------
# problem_solving

def _children_of(pid):
    """{pid: (state, cmdline, cutime + cstime)} of the direct children of `pid`."""
    return {child: row[1:] for child, row in proc_table(cpu=True).items() if row[0] == pid}


def _workers_left():
    """{pid: state} of this process's children (zombies too), multiprocessing's helpers excepted."""
    return {pid: st for pid, (st, cmd, _) in _children_of(os.getpid()).items()
            if not is_helper_cmd(cmd)}


def no_process_left(ctx):
    """Right after each call, which worker processes were left (none running, none unjoined expected)."""
    p = ctx.params
    path, _ = _log(ctx, p["lines"], p["seed"])
    before = _workers_left()
    ctx.observe("before", sorted(before))
    calls = []
    for workers in p["workers"]:
        _, got = _analyse(ctx, path, workers, f"<{p['lines']}-line log>", p["call_timeout"])
        left = _workers_left()
        if left:
            deadline = time.monotonic() + p["settle_s"]
            while time.monotonic() < deadline and any(s not in "ZX" for s in left.values()):
                time.sleep(0.02)
                left = _workers_left()
        calls.append({"result": _typed(got),
                      "left": [[pid, "zombie" if s in "ZX" else "running"] for pid, s in sorted(left.items())]})
        if left:
            break  # the judge fails the run on it; later calls would only find the same processes
    ctx.observe("calls", calls)


def work_in_processes(ctx):
    """analyse() of a generated log: what it returned, and the CPU time (os.times) its worker processes
    and this process used during the call."""
    p = ctx.params
    path, _ = _log(ctx, p["lines"], p["seed"])
    clock = CpuClock()
    _, got = _analyse(ctx, path, p["workers"], f"<{p['lines']}-line log>", p["call_timeout"])
    children, parent = clock.read()
    ctx.observe("result", _typed(got))
    ctx.observe("children_cpu_s", children)
    ctx.observe("parent_cpu_s", parent)


def _status_kb(field):
    with open("/proc/self/status") as fh:
        m = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M)
    return int(m.group(1)) if m else None


def parent_memory(ctx):
    """analyse() of a generated log: what it returned, and how far this process's resident memory grew
    at its peak during the call.

    The peak (VmHWM) is reset just before the call (/proc/self/clear_refs), so the
    number is the call's own peak, whatever ran before. Worker processes are not
    counted: each holds its own range.
    """
    p = ctx.params
    path, _ = _log(ctx, p["lines"], p["seed"])
    size_kb = os.path.getsize(path) // 1024
    ctx.student(MODULE)  # imported before the measurement
    rss0 = _status_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError as exc:
        raise RuntimeError(f"grader: cannot reset the peak RSS: {exc}")
    _, got = _analyse(ctx, path, p["workers"], f"<{p['lines']}-line log, {size_kb / 1024:.1f} MB>",
                      p["call_timeout"])
    peak = _status_kb("VmHWM")
    ctx.observe("result", _typed(got))
    ctx.observe("grew_kb", max(0, peak - rss0))


# --------------------------------------------------------------------------
# performance (throughput)

def bench_analyse(ctx):
    """The timed workload: analyse(path) with the default workers on a generated log."""
    p = ctx.params
    path, exp = _log(ctx, p["lines"], p["seed"])
    want = exp.result(10)
    mod = ctx.student(MODULE)
    label = f"<{p['lines']}-line log>"
    what, got = _analyse(ctx, path, None, label, p["call_timeout"], pass_workers=False)
    d4_logs.check_counts(ctx, what, got, want)
    fn = mod.analyse

    def run():
        got = fn(path)
        if not isinstance(got, dict) or got.get("lines") != want["lines"] \
                or got.get("levels") != want["levels"]:
            ctx.fail(f"analyse({label}) returned wrong counts",
                     hint="a fast wrong answer earns no performance points")

    return run
