"""Workloads for deliverable-4, the parallel log analyser (`loganalyser.py`). Each records what the
student's code did; judge.py, which the submission never sees, gives the verdicts.

Standard library only. Every log is generated here, deterministically from a seed in the item's params
(d4_logs.py, shared with the judge, which computes the expected aggregates from the same generator
without the file), into the run's temporary directory (TMPDIR, which the grader gives each run). What
analyse() returned is recorded with its types (`_typed`: a dict's keys stay ints or strings, a tuple
stays a tuple), so the judge compares what the student's code returned, not its JSON image.
"""

import hashlib
import numbers
import os
import re
import sys
import tempfile
import threading
import time
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.append(_HERE)  # after the student's directory: their files come first

import d4_logs  # noqa: E402

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

def _student_line(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.basename(f.filename) == MODULE + ".py"]
    if not frames:
        return ""
    return f" (at {MODULE}.py:{frames[-1].lineno} in {frames[-1].name})"


def _worker_line(exc):
    """' in a worker process (at loganalyser.py:LINE in FUNC)' from a pool's remote traceback."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(r'File "([^"]*)", line (\d+), in (\S+)', tb)
              if os.path.basename(f[0]) == MODULE + ".py"]
    if not frames:
        return ""
    _, line, func = frames[-1]
    return f" in a worker process (at {MODULE}.py:{line} in {func})"


def _call(ctx, what, fn, timeout):
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised below, in the check's thread
            box["error"] = exc

    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        ctx.fail(f"{what} did not return within {timeout} s",
                 hint="a worker that never ends, a result never sent, or parsing far slower than "
                      "expected (one task per line?)")
    if "error" in box:
        exc = box["error"]
        text = f"{type(exc).__name__}: {exc}"
        if "pickl" in text.lower():
            ctx.fail(f"{what} raised {text}{_student_line(exc)}",
                     hint="what goes to a worker process is pickled: the worker function must be "
                          "defined at the top level of loganalyser.py, and its arguments (a path "
                          "and two offsets) must be plain values, not open files")
        remote = _worker_line(exc)
        if remote:
            ctx.fail(f"{what} raised {text}{remote}",
                     hint="the pool re-raises a worker's exception in the parent; the line above "
                          "is where the worker raised it")
        raise exc
    return box.get("value")


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


def _typed(value, depth=0):
    """What the student's code returned, as JSON can carry it with its types: a dict as {"dict": [[key,
    value], ...]} (keys keep their type), a tuple as {"tuple": [...]}, a float as {"float": repr} (exact,
    nan and inf too), any other object as {"object": type name, "repr": repr}, a string longer than
    LONG_STR as its sha256 (the chunk-edges file has a 200 KB path). Numbers of other numeric types
    (numbers.Integral, numbers.Real) as int / float. judge.py's _decode undoes it."""
    if depth > 20:
        return {"object": type(value).__name__, "repr": "..."}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = str.__str__(value)  # a subclass's own __eq__ or __str__ plays no part
        if len(value) > LONG_STR:  # the channel cuts long strings: the judge compares its digest
            return {"long": hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest(),
                    "len": len(value), "head": value[:200]}
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return {"float": repr(float(value))}  # exact (the grader's JSON parser may round a float's last bit)
    if isinstance(value, dict):
        return {"dict": [[_typed(k, depth + 1), _typed(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [_typed(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_typed(v, depth + 1) for v in value]
    return _typed_object(value)


def _typed_object(value):
    try:
        text = repr(value)
    except Exception:  # the student's __repr__
        text = "<%s>" % type(value).__name__
    return {"object": type(value).__name__, "repr": text}


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

_HELPER_WORDS = ("resource_tracker", "forkserver")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children_of(pid):
    """{pid: (state, cmdline, cutime + cstime)} of the direct children of `pid`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
            if int(rest[1]) != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            found[int(entry)] = (rest[0], cmd, (int(rest[13]) + int(rest[14])) / _TICK)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _workers_left():
    """{pid: state} of this process's children (zombies too), multiprocessing's helpers excepted."""
    return {pid: st for pid, (st, cmd, _) in _children_of(os.getpid()).items()
            if not any(w in cmd for w in _HELPER_WORDS)}


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


def _helpers_children_cpu():
    return {pid: row[2] for pid, row in _children_of(os.getpid()).items()
            if any(w in row[1] for w in _HELPER_WORDS)}


def work_in_processes(ctx):
    """analyse() of a generated log: what it returned, and the CPU time (os.times) its worker processes
    and this process used during the call."""
    p = ctx.params
    path, _ = _log(ctx, p["lines"], p["seed"])
    h0, t0 = _helpers_children_cpu(), os.times()
    _, got = _analyse(ctx, path, p["workers"], f"<{p['lines']}-line log>", p["call_timeout"])
    t1, h1 = os.times(), _helpers_children_cpu()
    children = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    children += sum(max(0.0, cpu - h0.get(pid, 0.0)) for pid, cpu in h1.items())
    parent = (t1.user - t0.user) + (t1.system - t0.system)
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
