"""Checks for lab-4.2, map-reduce with processes (`mapreduce.py`).

Standard library only. The oracle is the grader's own serial map-reduce (`_serial` below, the
definition in the starter's docstring), never the student's map_reduce_serial.

The map and reduce functions handed to the student's map_reduce live in `lab42_jobs.py`, beside
this file, so that they can be pickled by reference and imported by a worker process under any
start method (this directory goes on sys.path, which a spawned worker inherits).
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

WORDS = ("the a of to and in is it that was he for on are as with his they at be this from I have "
         "or by one had not but what all were when we there can an your which their said if do will "
         "each about how up out them then she many some so these would other into has more her two "
         "like him see time could no make than first been its who now people my made over did down "
         "only way find use may water long little very after words called just where most know").split()


# --------------------------------------------------------------------------
# the oracle and data

def _serial(data, map_func, reduce_func):
    """The definition: group every (key, value) by key in input order, reduce each key once."""
    groups = {}
    for item in data:
        for key, value in map_func(item):
            groups.setdefault(key, []).append(value)
    return {key: reduce_func(key, values) for key, values in groups.items()}


def _lines(rng, count, min_words=0, max_words=12):
    """`count` lines of words drawn from WORDS, some capitalised, some empty."""
    out = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(min_words, max_words))]
        out.append(" ".join(w.capitalize() if rng.random() < 0.1 else w for w in words))
    return out


def _data(ctx, spec):
    """Builds a data set from its description in the spec's params.

    {lines: N}            N generated lines of text (seeded)
    {text: [...]}         the given lines
    {numbers: [lo, hi]}   list(range(lo, hi))
    {range: [lo, hi]}     range(lo, hi) itself
    {tuple: [...]}        a tuple of the given items
    {docs: N}             N (doc_id, text) pairs for the inverted index
    {list: [...]}         the given items
    """
    if "lines" in spec:
        return _lines(ctx.rng, spec["lines"])
    if "text" in spec:
        return list(spec["text"])
    if "numbers" in spec:
        return list(range(*spec["numbers"]))
    if "range" in spec:
        return range(*spec["range"])
    if "tuple" in spec:
        return tuple(spec["tuple"])
    if "docs" in spec:
        return [(f"doc{i:03d}", line) for i, line in enumerate(_lines(ctx.rng, spec["docs"], 1, 8))]
    if "list" in spec:
        return list(spec["list"])
    raise AssertionError(f"spec error: unknown data description {spec!r}")


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


def _check_cases(ctx, hint):
    """Each case: {data: {...}, map: name, reduce: name, processes: n | "default"}."""
    fn = _student_func(ctx)
    timeout = ctx.params["call_timeout"]
    for case in ctx.params["cases"]:
        data = _data(ctx, case["data"])
        map_func = getattr(jobs, case["map"])
        reduce_func = getattr(jobs, case["reduce"])
        procs = case.get("processes", "default")
        expected = _serial(data, map_func, reduce_func)
        what = _call_repr(data, map_func, reduce_func, procs)
        got, _ = _run(ctx, what, _invoke(fn, data, map_func, reduce_func, procs), timeout)
        ctx.expect(got == expected, f"{what}: not the serial result: {_diff(got, expected)}",
                   hint=case.get("hint", hint))


# --------------------------------------------------------------------------
# completion_quality

def word_count(ctx):
    """Word counts over given and generated lines, with 1 to 4 processes and the default."""
    _check_cases(ctx, hint="every line must be mapped exactly once and each word's counts added "
                           "up across all the chunks")


def numeric_jobs(ctx):
    """Sums of squares, int keys, items with no output at all."""
    _check_cases(ctx, hint="every item must be mapped exactly once, in whichever chunk it falls, "
                           "and the values of a key collected from every chunk")


def reduce_once_in_order(ctx):
    """Reducers that are not associative: reduce_func once per key, all values, input order."""
    _check_cases(ctx, hint="call reduce_func exactly once per key, with the complete list of the "
                           "key's values in input order: do not reduce per chunk and then reduce "
                           "the partial results (that is only right for associative reducers such "
                           "as sum), and merge the chunks' results in chunk order, not in the order "
                           "they finish")


def edge_cases(ctx):
    """Empty data, fewer items than processes, one process, tuples and ranges."""
    _check_cases(ctx, hint="empty data gives {}; with fewer items than processes every item is "
                           "still mapped once (never make chunks of size 0, and do not let the last "
                           "chunk drop the remainder)")


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


def no_process_left(ctx):
    """No worker is alive when map_reduce returns, nor when it raises (map_func failed)."""
    fn = _student_func(ctx)
    timeout = ctx.params["call_timeout"]
    before = _live_workers(ctx)
    ctx.expect(not before, f"child processes alive before the first call: {before} "
                           "(importing mapreduce.py must not start processes)",
               hint="start worker processes inside map_reduce, not at import")
    for case in ctx.params["cases"]:
        data = _data(ctx, case["data"])
        map_func, reduce_func = getattr(jobs, case["map"]), getattr(jobs, case["reduce"])
        procs = case.get("processes", "default")
        what = _call_repr(data, map_func, reduce_func, procs)
        got, err = _run(ctx, what, _invoke(fn, data, map_func, reduce_func, procs), timeout,
                        expect_error=jobs.MapFailure if case.get("raises") else None)
        if case.get("raises"):
            ctx.expect(err is not None,
                       f"{what}: map_func raised MapFailure on item 13, but map_reduce returned "
                       f"{_short(got)} instead of raising it",
                       hint="let the worker's exception reach the caller (pool.map and "
                            "future.result() re-raise it); never swallow it")
            how = "raised"
        else:
            expected = _serial(data, map_func, reduce_func)
            ctx.expect(got == expected, f"{what}: not the serial result: {_diff(got, expected)}")
            how = "returned"
        left = _live_workers(ctx)
        ctx.expect(not left,
                   f"after {what} {how}, {len(left)} worker process(es) were still alive "
                   f"(pids {', '.join(map(str, left))})",
                   hint="use the pool in a with-block (it joins the workers, also when a task "
                        "raised), or close() and join() it in a finally; never keep pools alive "
                        "between calls")


def map_error(ctx):
    """An exception raised by map_func in a worker reaches the caller, with its type."""
    fn = _student_func(ctx)
    data = _data(ctx, ctx.params["data"])
    procs = ctx.params["processes"]
    what = _call_repr(data, jobs.failing_map, jobs.sum_reduce, procs)
    got, err = _run(ctx, what, _invoke(fn, data, jobs.failing_map, jobs.sum_reduce, procs),
                    ctx.params["call_timeout"], expect_error=Exception)
    ctx.expect(err is not None,
               f"{what}: failing_map raises MapFailure (a ValueError) on item 13, but map_reduce "
               f"returned {_short(got)}",
               hint="do not catch exceptions from the workers and carry on: a result computed "
                    "without some items is wrong; let the exception reach the caller")
    ctx.expect(isinstance(err, ValueError),
               f"{what}: failing_map raised MapFailure (a ValueError) on item 13; the caller got "
               f"{type(err).__name__}: {err} instead",
               hint="let the worker's exception through unchanged (pool.map re-raises it in "
                    "the parent), do not wrap it in another type")


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
    """Under the spawn start method: right result, no process left (map_func pickled by name)."""
    ctx.expect(ctx.start_method == "spawn",
               f"spec error: this item must run with start_method: spawn, not {ctx.start_method}")
    try:
        no_process_left(ctx)
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

    Up to `attempts` calls: one in which two map calls overlapped in time is enough (outside load
    can keep one worker off the CPU for a whole call); serial work never overlaps.
    """
    fn = _student_func(ctx)
    data = _data(ctx, ctx.params["data"])
    procs = ctx.params["processes"]
    need = ctx.params["min_overlap"]
    what = _call_repr(data, jobs.span_map, jobs.span_reduce, procs)
    expected_keys = {n % 8 for n in data} | {"span"}
    me = os.getpid()
    seen = []
    for _ in range(ctx.params["attempts"]):
        got, _ = _run(ctx, what, _invoke(fn, data, jobs.span_map, jobs.span_reduce, procs),
                      ctx.params["call_timeout"])
        ctx.expect(isinstance(got, dict) and set(got) == expected_keys and
                   isinstance(got.get("span"), list) and len(got["span"]) == len(data),
                   f"{what}: expected the keys {sorted(expected_keys, key=str)} with {len(data)} "
                   f"spans, got {_short(got)}",
                   hint="every item must be mapped exactly once")
        spans = got["span"]
        pids = {pid for pid, _, _ in spans}
        ctx.expect(me not in pids,
                   f"{what}: {sum(1 for p, _, _ in spans if p == me)} of {len(spans)} map calls ran "
                   "in the calling process itself, not in a worker process",
                   hint="threads cannot run Python code in parallel (the GIL): apply map_func in "
                        "the worker processes")
        most = _max_overlap(spans)
        if most >= need:
            return
        seen.append((most, len(pids)))
    ctx.fail(f"{what}: in {len(seen)} calls, at most {max(m for m, _ in seen)} map call(s) ran at "
             f"the same time ({len(data)} calls per run, in "
             f"{'/'.join(str(p) for _, p in seen)} process(es)); {need} expected with "
             f"num_processes={procs}",
             hint="submit every chunk before waiting for any result (pool.map, or submit() then "
                  "collect the futures); pool.apply() and result() right after submit() run one "
                  "chunk at a time")


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
