"""Workloads for lab-4.2, map-reduce with processes (`mapreduce.py`). Each records what the student's
map_reduce returned or raised (ctx.observe); judge.py, which the submission never sees, plans the data
and gives the verdicts: its oracle is the grader's own serial map-reduce (the definition in the
starter's docstring), never the student's map_reduce_serial.

Standard library only. The map and reduce functions handed to the student's map_reduce live in
`lab42_jobs.py`, beside this file, so that they can be pickled by reference and imported by a worker
process under any start method (this directory goes on sys.path, which a spawned worker inherits).
"""

import os
import re
import sys
import threading
import time
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.append(_HERE)  # after the student's directory: their files come first

import lab42_jobs as jobs  # noqa: E402

MODULE = "mapreduce"
FUNC = "map_reduce"

# --------------------------------------------------------------------------
# the data (planned by the judge) and what is recorded of a result

def _serial(data, map_func, reduce_func):
    """The definition (for the timed workload only: the other verdicts are the judge's)."""
    groups = {}
    for item in data:
        for key, value in map_func(item):
            groups.setdefault(key, []).append(value)
    return {key: reduce_func(key, values) for key, values in groups.items()}


def _data(spec):
    """Builds a data set from its description: the judge's plan (lines and documents are drawn there)
    or the spec's params.

    {text: [...]}         the given lines
    {numbers: [lo, hi]}   list(range(lo, hi))
    {range: [lo, hi]}     range(lo, hi) itself
    {tuple: [...]}        a tuple of the given items
    {pairs: [[a, b]...]}  a list of (a, b) tuples (the inverted index's (doc_id, text) documents)
    {list: [...]}         the given items
    """
    if "text" in spec:
        return list(spec["text"])
    if "numbers" in spec:
        return list(range(*spec["numbers"]))
    if "range" in spec:
        return range(*spec["range"])
    if "tuple" in spec:
        return tuple(spec["tuple"])
    if "pairs" in spec:
        return [tuple(pair) for pair in spec["pairs"]]
    if "list" in spec:
        return list(spec["list"])
    raise AssertionError(f"spec error: unknown data description {spec!r}")


def _enc(value):
    """A result as the judge can rebuild it exactly: JSON keeps neither tuples nor int keys, so dicts,
    lists and tuples are tagged; any other object is recorded as its type name and repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {"dict": [[_enc(k), _enc(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [_enc(v) for v in value]}
    if isinstance(value, list):
        return {"list": [_enc(v) for v in value]}
    return {"other": type(value).__name__, "repr": repr(value)}


def _describe_data(data):
    kind = type(data).__name__
    n = len(data)
    if n <= 4:
        return f"{kind} {data!r}"
    return f"a {kind} of {n} items"


# --------------------------------------------------------------------------
# calling the student's code

def _student_line(exc):
    """' (at mapreduce.py:LINE in FUNC)' for the innermost frame of the student's module, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.basename(f.filename) == MODULE + ".py"]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {MODULE}.py:{f.lineno} in {f.name})"


def _worker_line(exc):
    """' in a worker process (at mapreduce.py:LINE in FUNC)' from the traceback text a pool chains."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(r'File "([^"]*)", line (\d+), in (\S+)', tb)
              if os.path.basename(f[0]) == MODULE + ".py"]
    if not frames:
        return ""
    _, line, func = frames[-1]
    return f" in a worker process (at {MODULE}.py:{line} in {func})"


_PICKLE_HINT = ("everything a worker process receives is pickled, and a function is pickled by its "
                "importable name: the function you hand to the pool (or to Process(target=...)) "
                "must be defined at the top level of mapreduce.py, not a lambda or a nested def; "
                "pass map_func and reduce_func to it as arguments. Under the spawn start method even "
                "Process(target=...) is pickled. A generator cannot be pickled either: consume the "
                "map function's output in the worker")


def _run(ctx, what, fn, timeout, expect_error=None):
    """Runs fn() in a thread with a time limit; returns (value, error).

    A pickling error, or an exception re-raised from a worker, fails the check with its own
    message; so does a time-out. `expect_error` (an exception class) is returned as the error
    instead of failing; any other exception is re-raised for the harness to report.
    """
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B036 - handed back to the check's thread
            box["error"] = exc

    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        ctx.fail(f"{what} did not return within {timeout} s",
                 hint="look for a worker that never ends, results that are waited for but never "
                      "sent, or a process joined before its queue was drained")
    exc = box.get("error")
    if exc is None:
        return box.get("value"), None
    if expect_error is not None and isinstance(exc, expect_error):
        return None, exc
    text = f"{type(exc).__name__}: {exc}"
    if "pickl" in text.lower() or "local object" in text.lower():
        ctx.fail(f"{what} raised {text}{_student_line(exc)}", hint=_PICKLE_HINT)
    remote = _worker_line(exc)
    if remote:
        ctx.fail(f"{what} raised {text}{remote}",
                 hint="the pool re-raises a worker's exception in the parent; the line above is "
                      "where the worker raised it")
    raise exc


def _call_repr(data, map_func, reduce_func, num_processes):
    args = f"{_describe_data(data)}, {map_func.__name__}, {reduce_func.__name__}"
    if num_processes == "default":
        return f"{FUNC}({args})"
    return f"{FUNC}({args}, num_processes={num_processes})"


def _invoke(fn, data, map_func, reduce_func, num_processes):
    if num_processes == "default":
        return lambda: fn(data, map_func, reduce_func)
    return lambda: fn(data, map_func, reduce_func, num_processes)


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _diff(got, expected):
    """The first differences between two result dicts, in words."""
    if not isinstance(got, dict):
        return f"returned {_short(got)} ({type(got).__name__}), expected a dict"
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    wrong = [k for k in expected if k in got and got[k] != expected[k]]
    parts = []
    if wrong:
        shown = "; ".join(f"key {k!r}: expected {_short(expected[k], 60)}, got {_short(got[k], 60)}"
                          for k in wrong[:3])
        more = f" (and {len(wrong) - 3} more keys)" if len(wrong) > 3 else ""
        parts.append(f"{len(wrong)} of {len(expected)} keys have a wrong value: {shown}{more}")
    if missing:
        parts.append(f"{len(missing)} key(s) missing, e.g. {', '.join(map(repr, missing[:3]))}")
    if extra:
        parts.append(f"{len(extra)} unexpected key(s), e.g. {', '.join(map(repr, extra[:3]))}")
    return "; ".join(parts)


def _student_func(ctx):
    mod = ctx.student(MODULE)
    fn = getattr(mod, FUNC, None)
    ctx.expect(callable(fn), f"{MODULE}.py defines no function {FUNC}()",
               hint="keep map_reduce(data, map_func, reduce_func, num_processes=4) at the top "
                    "level of mapreduce.py")
    return fn


def _outcome(ctx, what, call, timeout, expect_error=None):
    """One call of the student's map_reduce: (what the judge sees, the value returned). The judge sees
    {"result": ...} (tagged, see _enc), {"raised": type name} (the expected error), or {"failed":
    message, "hint": ...} when it hung or raised anything else (the message names the student's line).
    A failed call is recorded, not raised, so that the judge can name an earlier call's wrong result
    first, as the calls came."""
    try:
        got, err = _run(ctx, what, call, timeout, expect_error)
    except ctx.CheckFailed as exc:
        return {"failed": exc.message, "hint": exc.hint}, None
    except Exception as exc:  # raised in the calling process: its text and the student's line
        return {"failed": f"{what} raised {type(exc).__name__}: {exc}{_student_line(exc)}", "hint": None}, None
    if err is not None:
        return {"raised": type(err).__name__}, None
    return {"result": _enc(got)}, got


def _case(ctx, fn, case, spec, timeout, expect_error=None):
    """Calls the student's map_reduce on one case (its data as `spec` describes it): its _outcome."""
    data = _data(spec)
    map_func, reduce_func = getattr(jobs, case["map"]), getattr(jobs, case["reduce"])
    procs = case.get("processes", "default")
    what = _call_repr(data, map_func, reduce_func, procs)
    return _outcome(ctx, what, _invoke(fn, data, map_func, reduce_func, procs), timeout, expect_error)[0]


def _check_cases(ctx):
    """Each case of the params: {data: {...}, map: name, reduce: name, processes: n | "default"}, with
    its data as the judge planned it. Records `results`, one outcome per case, in order, up to the first
    call that failed."""
    fn = _student_func(ctx)
    timeout = ctx.params["call_timeout"]
    results = []
    for case, spec in zip(ctx.params["cases"], ctx.inputs["data"]):
        results.append(_case(ctx, fn, case, spec, timeout))
        if "failed" in results[-1]:
            break
    ctx.observe("results", results)


# --------------------------------------------------------------------------
# completion_quality

def word_count(ctx):
    """Word counts over given and generated lines, with 1 to 4 processes and the default."""
    _check_cases(ctx)


def numeric_jobs(ctx):
    """Sums of squares, int keys, items with no output at all."""
    _check_cases(ctx)


def reduce_once_in_order(ctx):
    """Reducers that are not associative: reduce_func once per key, all values, input order."""
    _check_cases(ctx)


def edge_cases(ctx):
    """Empty data, fewer items than processes, one process, tuples and ranges."""
    _check_cases(ctx)


# --------------------------------------------------------------------------
# problem_solving

_HELPER_WORDS = ("resource_tracker", "forkserver")


def _proc_table():
    """{pid: (ppid, state, cmdline)} of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            table[int(entry)] = (int(rest[1]), rest[0], cmd)
        except (OSError, ValueError, IndexError):
            continue
    return table


def _live_workers(ctx):
    """Sorted pids of live descendants of this process, multiprocessing's own helpers excepted."""
    table = _proc_table()
    kids = {}
    for pid, row in table.items():
        kids.setdefault(row[0], []).append(pid)
    me = os.getpid()
    found, todo = {}, [me]
    while todo:
        for pid in kids.get(todo.pop(), ()):
            if pid not in found:
                found[pid] = table[pid]
                todo.append(pid)
    live = set()
    for pid, (ppid, state, cmd) in found.items():
        if state in ("Z", "X"):
            continue
        if ppid == me and any(w in cmd for w in _HELPER_WORDS):
            continue
        live.add(pid)
    live.update(p for p in ctx.children() if p not in found)
    return sorted(live)


def no_process_left(ctx, fail_here=False):
    """map_reduce returns (or raises, map_func failing) on each case; the worker processes still alive
    before the first call and after each are recorded. With `fail_here` a call that failed (hung, raised)
    or left workers alive fails the run at once, here (see spawn_start_method)."""
    fn = _student_func(ctx)
    timeout = ctx.params["call_timeout"]
    ctx.observe("before", _live_workers(ctx))
    calls = []
    for case, spec in zip(ctx.params["cases"], ctx.inputs["data"]):
        call = _case(ctx, fn, case, spec, timeout, expect_error=jobs.MapFailure if case.get("raises") else None)
        call["left"] = _live_workers(ctx)
        calls.append(call)
        ctx.observe("calls", calls)
        if "failed" in call:
            if fail_here:
                ctx.fail(call["failed"], call.get("hint"))
            break
        if fail_here and call["left"]:
            data = _data(spec)
            what = _call_repr(data, getattr(jobs, case["map"]), getattr(jobs, case["reduce"]),
                              case.get("processes", "default"))
            left = call["left"]
            ctx.fail(f"after {what} {'raised' if case.get('raises') else 'returned'}, {len(left)} worker "
                     f"process(es) were still alive (pids {', '.join(map(str, left))})",
                     hint="use the pool in a with-block (it joins the workers, also when a task "
                          "raised), or close() and join() it in a finally; never keep pools alive "
                          "between calls")


def map_error(ctx):
    """failing_map raises MapFailure (a ValueError) in a worker: what reaches the caller?"""
    fn = _student_func(ctx)
    data = _data(ctx.params["data"])
    procs = ctx.params["processes"]
    what = _call_repr(data, jobs.failing_map, jobs.sum_reduce, procs)
    got, err = _run(ctx, what, _invoke(fn, data, jobs.failing_map, jobs.sum_reduce, procs),
                    ctx.params["call_timeout"], expect_error=Exception)
    if err is None:
        ctx.observe("outcome", {"returned": _enc(got)})
    else:
        ctx.observe("outcome", {"raised": type(err).__name__, "text": str(err),
                                "value_error": isinstance(err, ValueError)})


def _stop_resource_tracker(timeout):
    """Lets this process's resource tracker exit now, before the check returns.

    Under spawn, the first semaphore (a pool's queue or lock) starts multiprocessing's resource
    tracker, which exits once every process holding its pipe has closed it: normally when this
    process exits, after the check; on a loaded machine it can then outlive the harness's grace
    period and be reported as a stray process. Closing our end here lets it exit while the check
    still runs (with its warnings on stderr, if something is still registered). Private API of
    CPython 3.11's multiprocessing.resource_tracker.
    """
    import gc
    from multiprocessing import resource_tracker
    gc.collect()  # semaphores no longer referenced unregister themselves first
    tracker = resource_tracker._resource_tracker
    with tracker._lock:
        fd, pid = tracker._fd, tracker._pid
        if fd is None:
            return
        tracker._fd = tracker._pid = None
        os.close(fd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.01)


def spawn_start_method(ctx):
    """Under the spawn start method: no_process_left's workload (map_func pickled by name). A call that
    failed or left a worker alive fails the run here: under spawn a pool's named semaphores stay in
    /dev/shm until it is collected, and after a run that passed here the harness would name those
    rather than the call's failure or the workers."""
    ctx.observe("start_method", ctx.start_method)
    try:
        no_process_left(ctx, fail_here=True)
    finally:
        if not _live_workers(ctx):  # a leaked worker holds the tracker's pipe: leave both to the harness
            _stop_resource_tracker(ctx.params.get("tracker_timeout", 3))


def _max_overlap(spans):
    """The largest number of spans (pid, start, end) in progress at one instant."""
    events = sorted([(s, 1) for _, s, _ in spans] + [(e, -1) for _, _, e in spans])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def parallel_map(ctx):
    """map_func runs in worker processes, several calls at the same time (span_map's timestamps).

    Up to `attempts` calls, each result recorded in `attempts`: one in which two map calls overlapped in
    time is enough (outside load can keep one worker off the CPU for a whole call), so the calls stop
    at the first that shows it (the judge counts the overlap again from the spans recorded).
    """
    fn = _student_func(ctx)
    data = _data(ctx.params["data"])
    procs = ctx.params["processes"]
    what = _call_repr(data, jobs.span_map, jobs.span_reduce, procs)
    ctx.observe("pid", os.getpid())
    attempts = []
    for _ in range(ctx.params["attempts"]):
        outcome, got = _outcome(ctx, what, _invoke(fn, data, jobs.span_map, jobs.span_reduce, procs),
                                ctx.params["call_timeout"])
        attempts.append(outcome)
        try:
            if _max_overlap(got["span"]) >= ctx.params["min_overlap"]:
                break
        except Exception:  # failed, or not the shape asked for: the judge says so
            break
    ctx.observe("attempts", attempts)


# --------------------------------------------------------------------------
# performance (throughput)

def bench_map_reduce(ctx):
    """The timed workload: a CPU-bound map (collatz_map) over a list of numbers, default processes."""
    fn = _student_func(ctx)
    data = list(range(ctx.params["items"]))
    expected = _serial(data, jobs.collatz_map, jobs.max_reduce)

    def run():
        got = fn(data, jobs.collatz_map, jobs.max_reduce)
        if got != expected:
            ctx.fail(f"map_reduce({_describe_data(data)}, collatz_map, max_reduce): not the serial "
                     f"result: {_diff(got, expected)}",
                     hint="a fast wrong answer earns no performance points")

    return run
