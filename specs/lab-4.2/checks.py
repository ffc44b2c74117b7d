"""Workloads for lab-4.2, map-reduce with processes (`mapreduce.py`). Each records what the student's
map_reduce returned or raised (ctx.observe); judge.py, which the submission never sees, plans the data
and gives the verdicts: its oracle is the grader's own serial map-reduce (the definition in the
starter's docstring), never the student's map_reduce_serial.

Standard library only. The map and reduce functions handed to the student's map_reduce live in
`lab42_jobs.py`, beside this file, so that they can be pickled by reference and imported by a worker
process under any start method (this directory goes on sys.path, which a spawned worker inherits).
"""

import os

import lab42_jobs as jobs
from grade_lib_procs import descendants, is_helper_cmd, proc_table, stop_resource_tracker
from grade_lib_student import call_pool, student_functions, student_line
from grade_oracles import max_in_flight
from lab42_data import data as _data, describe_data as _describe_data, diff as _diff, serial as _serial

MODULE = "mapreduce"
FUNC = "map_reduce"

# --------------------------------------------------------------------------
# the data (planned by the judge) and what is recorded of a result

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


# --------------------------------------------------------------------------
# calling the student's code

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
    return call_pool(ctx, what, fn, timeout, MODULE,
                     hang_hint="look for a worker that never ends, results that are waited for but never "
                               "sent, or a process joined before its queue was drained",
                     pickle_hint=_PICKLE_HINT, pickle_words=("pickl", "local object"), expect=expect_error)


def _call_repr(data, map_func, reduce_func, num_processes):
    args = f"{_describe_data(data)}, {map_func.__name__}, {reduce_func.__name__}"
    if num_processes == "default":
        return f"{FUNC}({args})"
    return f"{FUNC}({args}, num_processes={num_processes})"


def _invoke(fn, data, map_func, reduce_func, num_processes):
    if num_processes == "default":
        return lambda: fn(data, map_func, reduce_func)
    return lambda: fn(data, map_func, reduce_func, num_processes)


def _student_func(ctx):
    hint = "keep map_reduce(data, map_func, reduce_func, num_processes=4) at the top level of mapreduce.py"
    return getattr(student_functions(ctx, MODULE, [FUNC], hint=hint), FUNC)


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
        return {"failed": f"{what} raised {type(exc).__name__}: {exc}{student_line(exc, MODULE)}", "hint": None}, None
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

def _live_workers(ctx):
    """Sorted pids of live descendants of this process, multiprocessing's own helpers excepted."""
    me = os.getpid()
    found = descendants(proc_table())
    live = set()
    for pid, (ppid, state, cmd) in found.items():
        if state in ("Z", "X"):
            continue
        if ppid == me and is_helper_cmd(cmd):
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
            stop_resource_tracker(ctx.params.get("tracker_timeout", 3))


def _max_overlap(spans):
    """The largest number of spans (pid, start, end) in progress at one instant."""
    return max_in_flight((start, end) for _, start, end in spans)


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
