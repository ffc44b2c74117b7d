"""Workloads for ex-process-pool-manager: the teaching guide's ProcessPoolManager (`pool_manager.py`).
Each records what the student's code did; judge.py, which the submission never sees, gives the verdicts.

The student's API is the docstring of starter/ex-process-pool-manager/pool_manager.py:
ProcessPoolManager(processes, initializer, initargs, task_timeout) as a context manager returning a
running multiprocessing Pool; run_all(fn, items, processes, chunksize) -> (results, errors).

The tasks and the initializer the checks hand to the pools live in `poolmgr_jobs.py`, beside this file,
so that they pickle by reference and a worker imports them under any start method (this directory goes
on sys.path after the student's, and a spawned worker inherits sys.path).

Process hygiene is looked at RIGHT AFTER each with-block: a worker still running, or finished but never
joined (a zombie), is named then (before anything else in this process reaps it: starting another pool
reaps finished children as a side effect) and recorded for the judge, and then killed, so that the next
scenario is judged on its own. The harness judges the end of every run as well (leaked processes, zombies, resource-tracker
warnings). Every call into the student's code has a time limit and a hang names the line of
pool_manager.py where the calling thread is blocked - except in `hung_task_exit`, whose hang is left to
the item's own timeout (the grader then names the blocked line from the thread dump).

Standard library only.
"""

import gc
import multiprocessing
import multiprocessing.pool
import os
import sys
import tempfile
import threading
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.append(_HERE)  # after the student's directory: their files come first

import poolmgr_jobs as jobs  # noqa: E402
from grade_lib_procs import check_start_method, my_children, reap, start_method_note  # noqa: E402
from grade_lib_student import blocked_at, start_call, student_functions, student_line, worker_line  # noqa: E402
from poolmgr_hints import HINT_PICKLE, HINT_RUNNING_POOL  # noqa: E402

MODULE = "pool_manager"

# --------------------------------------------------------------------------
# processes

def _live(children):
    return {pid: info for pid, info in children.items() if info[0] not in ("Z", "X")}


def _wait_workers(seen, want, limit=1.5):
    """The live children not in `seen`, once there are at least `want` of them (or after `limit` s)."""
    deadline = time.monotonic() + limit
    while True:
        new = {p: i for p, i in _live(my_children()).items() if p not in seen}
        if len(new) >= want or time.monotonic() >= deadline:
            return new
        time.sleep(0.01)


def _describe(pid, state):
    if state in ("Z", "X"):
        return f"pid {pid} (finished, never joined: a zombie)"
    return f"pid {pid} (still running)"


def _left_behind(what, seen, settle=0.3):
    """A description of the children created since `seen` that are still there, or None.

    Called right after a with-block: a joined worker is gone by then. What is left gets `settle`
    seconds to finish (so that an unjoined worker shows as the zombie it becomes, and one that
    never ends as running), is described, then killed and reaped, so that the next scenario (and
    the harness's end-of-run check) starts clean.
    """
    left = {p: i for p, i in my_children().items() if p not in seen}
    if not left:
        return None
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and _live(left):
        time.sleep(0.02)
        left = {p: i for p, i in my_children().items() if p not in seen}
    if not left:   # they finished and someone (the pool's own threads) reaped them after all
        return None
    text = (f"after {what}: {len(left)} worker process(es) left behind: "
            + ", ".join(_describe(p, st) for p, (st, _) in sorted(left.items())))
    reap(left)
    return text


def _shut(pool):
    """Best effort: terminate a pool the student's code left running (a failed scenario)."""
    if pool is None:
        return
    t = threading.Thread(target=pool.terminate, name="check-cleanup", daemon=True)
    t.start()
    t.join(3)


# --------------------------------------------------------------------------
# calling the student's code

def _module(ctx, *names):
    return student_functions(ctx, MODULE, names,
                             hint="define each at module level, with the signature in the starter's docstring")


def _student_line(exc):
    return student_line(exc, MODULE)


def _worker_line(exc):
    """' in a worker process (at pool_manager.py:LINE in FUNC)' from the traceback text a pool chains."""
    return worker_line(exc, MODULE)


def _is_pickling(exc):
    text = f"{type(exc).__name__}: {exc}".lower()
    return "pickl" in text or "local object" in text


def _call(ctx, what, fn, timeout, hang_hint, box=None):
    """fn() in a thread with a time limit; its value. A hang fails the check naming the blocked
    line; a failed expectation inside fn is re-raised as it is; a pickling error gets its own
    hint; any other exception is re-raised for the harness (type, message, student's line).
    `box`, a dict fn may put the student's pool in ("pool"), is used to clean up after a hang."""
    t, out = start_call(fn)
    t.join(timeout)
    if t.is_alive():
        where = blocked_at(ctx, t)
        if box is not None:
            _shut(box.get("pool"))
        ctx.fail(f"{what} did not return within {timeout:g} s{where}", hint=hang_hint)
    exc = out.get("error")
    if exc is None:
        return out.get("value")
    if isinstance(exc, ctx.CheckFailed):
        raise exc
    if isinstance(exc, ValueError) and "Pool not running" in str(exc):
        ctx.fail(f"{what}: the pool raised ValueError: {exc}: the pool __enter__ returned is not running",
                 hint=HINT_RUNNING_POOL)
    if _is_pickling(exc):
        ctx.fail(f"{what} raised {type(exc).__name__}: {exc}{_student_line(exc)}", hint=HINT_PICKLE)
    raise exc


def _short(x, limit=70):
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _enc(value):
    """A value the student's code returned, for the judge: None, bools, strings, machine-sized ints and
    finite floats as they are, lists and tuples item by item (tuples arrive as lists), anything else
    as {"repr": its repr}, which never equals an expected value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and abs(value) < 2 ** 63:
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    return {"repr": repr(value)}


def _recording(ctx, body, *args):
    """body(*args, rec) fills `rec` step by step with what the student's code did; each of rec's keys
    becomes an observation. A failure only this process can see (a call that hangs, a pool that is not
    running, a pickling error: ctx.fail) ends the body and is recorded as rec["failed"]: the judge
    reports it where it happened, after the steps recorded before it."""
    rec = {}
    try:
        body(*args, rec)
    except ctx.CheckFailed as exc:
        rec["failed"] = {"message": exc.message, "hint": exc.hint}
    return rec


def _observe_all(ctx, rec):
    for key, value in rec.items():
        ctx.observe(key, value)


# --------------------------------------------------------------------------
# completion_quality: the manager

def pool_basic(ctx):
    """Constructor validation; __enter__ returns a running Pool of `processes` workers (cpu_count()
    by default) on which map and apply_async work; nothing starts at import. Recorded for the judge:
    children alive after the import, what each invalid constructor call did, and per pool size what
    the pool was, what map and apply_async returned, how many workers were alive and what was left
    after the block."""
    pm = _module(ctx, "ProcessPoolManager")
    _observe_all(ctx, _recording(ctx, _pool_basic, ctx, pm))


def _pool_basic(ctx, pm, rec):
    M = pm.ProcessPoolManager
    seen = set(my_children())
    rec["import_children"] = len(_live(my_children()))
    invalid = rec["invalid"] = []
    for kwargs in ctx.params["invalid"]:
        try:
            M(**kwargs)
        except ValueError:
            invalid.append(["ValueError"])
            continue
        except Exception as exc:  # noqa: BLE001 - recorded
            invalid.append(["raised", type(exc).__name__, str(exc)])
            continue
        invalid.append(["none"])
    timeout = ctx.params["call_timeout"]
    for index, n in enumerate(ctx.params["sizes"]):
        want = os.cpu_count() if n is None else n
        label = "ProcessPoolManager()" if n is None else f"ProcessPoolManager({n})"
        box = {}
        step = rec[f"size_{index}"] = {}

        def scenario():
            before = set(my_children())
            with (M() if n is None else M(n)) as pool:
                box["pool"] = pool
                step["pool"] = {"is_pool": isinstance(pool, multiprocessing.pool.Pool), "short": _short(pool),
                                "type": type(pool).__name__}
                if not step["pool"]["is_pool"]:
                    return before   # nothing a pool can do: the judge says so
                try:
                    got = pool.map(jobs.square, range(20))
                except ValueError as exc:
                    step["map_error"] = str(exc)
                    return before
                step["map"] = _enc(got)
                step["apply"] = _enc(pool.apply_async(jobs.square, (7,)).get(timeout))
                step["workers"] = len(_wait_workers(before, want))
            return before

        before = _call(ctx, f"`with {label} as pool:` map and apply_async", scenario, timeout,
                       "look at __enter__ and __exit__: the with-block should create a pool, use it and "
                       "close and join it", box)
        step["left"] = _left_behind(f"the with-block of {label} ended", before | seen)
        _shut(box.get("pool"))


def exit_paths(ctx):
    """Both ways out of the block, each recorded on its own (the judge reports every failure): a normal
    exit waits for the submitted work (close + join, not terminate); an exception raised in the block, or
    re-raised by the pool from a task, propagates unchanged and __exit__ returns a false value; either
    way no worker is left running and none unjoined."""
    pm = _module(ctx, "ProcessPoolManager")
    ctx.observe("normal", _recording(ctx, _normal_exit, ctx, pm))
    ctx.observe("exception", _recording(ctx, _exception_exit, ctx, pm))


def _normal_exit(ctx, pm, rec):
    """A normal exit with work still running (which tasks had finished, their results, what was left),
    then with every result collected in the block (the results, what was left)."""
    M = pm.ProcessPoolManager
    p = ctx.params
    n, tasks, nap = p["processes"], p["tasks"], p["task_s"]
    box = {}

    # 1. Work still running when the block ends: __exit__ must wait for it.
    def pending_work():
        before = set(my_children())
        with M(n) as pool:
            box["pool"] = pool
            rs = [pool.apply_async(jobs.nap_square, (i, nap)) for i in range(tasks)]
        return before, rs

    what = f"`with ProcessPoolManager({n}) as pool:` {tasks} apply_async tasks of {nap:g} s, not waited for"
    before, rs = _call(ctx, what, pending_work, p["call_timeout"],
                       "a normal exit is close() then join(): it returns once every submitted task "
                       "has finished", box)
    step = rec["pending"] = {}
    step["unfinished"] = [i for i, r in enumerate(rs) if not r.ready()]
    step["results"] = None if step["unfinished"] else _enc([r.get(0) for r in rs])
    step["left"] = _left_behind("a normal exit with tasks still running", before)
    _shut(box.get("pool"))

    # 2. Every result collected in the block: the workers are idle, and must be joined by __exit__.
    box.clear()

    def idle_workers():
        before = set(my_children())
        with M(n) as pool:
            box["pool"] = pool
            got = pool.map(jobs.square, range(10))
        return before, got

    what2 = f"`with ProcessPoolManager({n}) as pool:` pool.map(square, range(10))"
    before, got = _call(ctx, what2, idle_workers, p["call_timeout"],
                        "a normal exit is close() then join()", box)
    step = rec["idle"] = {"results": _enc(got)}
    step["left"] = _left_behind("a normal exit with every result already collected", before)
    _shut(box.get("pool"))


def _exception_exit(ctx, pm, rec):
    """An exception raised in the block, one re-raised by the pool from a task, and __exit__ called
    with an exception: what propagated (or what __exit__ returned), and what was left afterwards."""
    M = pm.ProcessPoolManager
    n = ctx.params["processes"]
    timeout = ctx.params["call_timeout"]
    hang = ("an exit by an exception is terminate() then join(): it must not wait for the tasks")

    # 1. The check raises in the block.
    err = jobs.Boom("raised in the with-block")
    box = {}

    def raise_in_block():
        before = set(my_children())
        try:
            with M(n) as pool:
                box["pool"] = pool
                pool.map(jobs.square, range(4))
                raise err
        except jobs.Boom as exc:
            return before, exc
        except BaseException as exc:  # noqa: B036 - recorded
            return before, exc
        return before, None

    what = f"`with ProcessPoolManager({n}) as pool:` raising Boom in the block"
    before, got = _call(ctx, what, raise_in_block, timeout, hang, box)
    rec["raised"] = {"propagated": None if got is None else
                     {"same": got is err, "type": type(got).__name__, "text": str(got)},
                     "left": _left_behind(f"{what}", before)}
    _shut(box.get("pool"))

    # 2. A task raises: pool.map re-raises it in the block, and it must leave the block too.
    box.clear()

    def task_raises():
        before = set(my_children())
        try:
            with M(n) as pool:
                box["pool"] = pool
                pool.map(jobs.fail_some, range(6))
        except ValueError as exc:
            return before, exc
        return before, None

    what = f"`with ProcessPoolManager({n}) as pool:` pool.map(fail_some, range(6)), a task raising ValueError"
    before, got = _call(ctx, what, task_raises, timeout, hang, box)
    rec["task"] = {"propagated": None if got is None else {"repr": repr(got), "text": str(got)},
                   "left": _left_behind(what, before)}
    _shut(box.get("pool"))

    # 3. The protocol itself: __exit__ called with an exception returns a false value.
    box.clear()

    def protocol():
        before = set(my_children())
        m = M(1)
        pool = m.__enter__()
        box["pool"] = pool
        return before, m.__exit__(jobs.Boom, err, None)

    before, ret = _call(ctx, "ProcessPoolManager(1).__exit__(Boom, exc, None)", protocol, timeout, hang, box)
    problem = _left_behind("ProcessPoolManager(1).__exit__(Boom, exc, None)", before)
    _shut(box.get("pool"))
    rec["protocol"] = {"returned": repr(ret), "truthy": bool(ret), "left": problem}


def task_timeout(ctx):
    """task_timeout bounds a normal exit: with a stuck task, what leaving the block raised and after how
    long, and what was left; with quick work and a generous task_timeout, how long leaving took and the
    tasks' results. The judge compares the times with task_timeout."""
    pm = _module(ctx, "ProcessPoolManager")
    _observe_all(ctx, _recording(ctx, _task_timeout, ctx, pm))


def _task_timeout(ctx, pm, rec):
    M = pm.ProcessPoolManager
    p = ctx.params
    n, limit = p["processes"], p["task_timeout"]
    box = {}

    def stuck_task():
        before = set(my_children())
        t0 = None
        try:
            with M(n, task_timeout=limit) as pool:
                box["pool"] = pool
                pool.apply_async(jobs.stuck, (1,))
                pool.apply_async(jobs.square, (3,))
                t0 = time.monotonic()
        except TimeoutError as exc:
            return before, exc, None if t0 is None else time.monotonic() - t0
        except BaseException as exc:  # noqa: B036 - recorded
            return before, exc, None
        return before, None, time.monotonic() - t0

    what = f"`with ProcessPoolManager({n}, task_timeout={limit:g}) as pool:` with a task that never ends"
    before, exc, took = _call(ctx, what, stuck_task, p["call_timeout"],
                              "with task_timeout set, a normal exit waits at most task_timeout seconds "
                              "for the workers (Pool.join() has no timeout: join in a helper thread, or "
                              "poll), then terminate() and join() the pool and raise TimeoutError", box)
    problem = _left_behind(what, before)
    _shut(box.get("pool"))
    error = None
    if exc is not None:
        kind = type(exc).__name__
        if kind == "TimeoutError" and not isinstance(exc, TimeoutError):
            kind = f"{type(exc).__module__}.{type(exc).__qualname__}"   # multiprocessing.TimeoutError, say
        error = {"builtin_timeout": isinstance(exc, TimeoutError), "kind": kind, "text": str(exc)}
    rec["stuck"] = {"error": error, "took": took, "left": problem}

    # Quick work with a generous task_timeout: no error, and no waiting for the whole timeout.
    box.clear()
    quick, nap = p["quick_tasks"], p["quick_task_s"]

    def quick_work():
        before = set(my_children())
        with M(n, task_timeout=p["long_timeout"]) as pool:
            box["pool"] = pool
            rs = [pool.apply_async(jobs.nap_square, (i, nap)) for i in range(quick)]
            t0 = time.monotonic()
        return before, rs, time.monotonic() - t0

    what = (f"`with ProcessPoolManager({n}, task_timeout={p['long_timeout']:g}) as pool:` "
            f"{quick} tasks of {nap:g} s")
    before, rs, took = _call(ctx, what, quick_work, p["call_timeout"],
                             "join returns as soon as the workers are done", box)
    problem = _left_behind(what, before)
    _shut(box.get("pool"))
    ready = all(r.ready() for r in rs)
    rec["quick"] = {"took": took, "ready": ready, "results": _enc([r.get(0) for r in rs]) if ready else None,
                    "left": problem}


def initializer_once(ctx):
    """The initializer runs once in each worker process, with initargs, never in this process: what the
    initializer's log, the tasks and this process saw is recorded."""
    pm = _module(ctx, "ProcessPoolManager")
    check_start_method(ctx)
    _observe_all(ctx, _recording(ctx, _initializer_case, ctx, pm, ctx.params["processes"],
                                 tuple(ctx.params["initargs"]), ctx.params["tasks"], ctx.params["call_timeout"]))


def _initializer_case(ctx, pm, n, initargs, tasks, timeout, rec):
    """One pool with jobs.record_init as initializer: the log its workers write, what the tasks report
    about their process, the workers' command lines, then the workers left after the block."""
    M = pm.ProcessPoolManager
    fd, log = tempfile.mkstemp(prefix="poolmgr-init-", suffix=".log")
    os.close(fd)
    os.environ[jobs.INIT_LOG_ENV] = log
    calls_here = jobs._init_calls
    box = {}
    label = f"ProcessPoolManager({n}, initializer=record_init, initargs={initargs!r}){start_method_note(ctx)}"

    def scenario():
        before = set(my_children())
        with M(n, initializer=jobs.record_init, initargs=initargs) as pool:
            box["pool"] = pool
            out = pool.map(jobs.whoami, range(tasks), chunksize=1)
            workers = _wait_workers(before, n)
            cmdlines = [info[1] for info in workers.values()]
        return before, out, cmdlines

    try:
        before, out, cmdlines = _call(ctx, f"`with {label} as pool:` pool.map(whoami, range({tasks}))",
                                      scenario, timeout,
                                      "pass initializer and initargs to multiprocessing.Pool; an "
                                      "initializer that raises kills each new worker, and the pool "
                                      "replaces it forever", box)
        with open(log) as fh:
            lines = [line.split(" ", 1) for line in fh.read().splitlines() if line.strip()]
    finally:
        os.environ.pop(jobs.INIT_LOG_ENV, None)
        try:
            os.unlink(log)
        except OSError:
            pass
    problem = _left_behind(f"the with-block of {label}", before)
    _shut(box.get("pool"))
    rec["init"] = {
        "left": problem, "cmdlines": cmdlines, "parent_init_calls": jobs._init_calls - calls_here,
        "parent_pid": os.getpid(), "log": lines,
        # (x, pid, initializer calls, its arguments) per task: the first three
        "tasks": [_enc(list(r)[:3]) if isinstance(r, (list, tuple)) else _enc(r) for r in out],
    }


# --------------------------------------------------------------------------
# completion_quality: run_all

def _items(spec):
    """(items, description) from a case's description: {list: N}, {range: [a, b]}, {generator: N}."""
    if "list" in spec:
        return list(range(spec["list"])), f"list(range({spec['list']}))"
    if "range" in spec:
        a, b = spec["range"]
        return range(a, b), f"range({a}, {b})"
    if "generator" in spec:
        n = spec["generator"]
        return (x for x in range(n)), f"(x for x in range({n}))"
    raise AssertionError(f"spec error: unknown items description {spec!r}")


def _run_all_call(ctx, pm, case, timeout):
    """Calls run_all for one case of the spec; what it did: the exception it raised, or what it
    returned (its shape, the results, the errors as [key, value] pairs), and what it left behind."""
    fn = getattr(jobs, case["fn"])
    items, desc = _items(case["items"])
    args = [case["fn"], desc]
    kwargs = {}
    if "processes" in case:
        kwargs["processes"] = case["processes"]
    if "chunksize" in case:
        kwargs["chunksize"] = case["chunksize"]
    what = "run_all(%s)%s" % (", ".join(args + [f"{k}={v}" for k, v in kwargs.items()]), start_method_note(ctx))
    seen = set(my_children())
    out = {}

    def call():
        try:
            return pm.run_all(fn, items, **kwargs)
        except ctx.CheckFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded
            out["error"] = exc
            return None

    got = _call(ctx, what, call, timeout,
                "run_all returns once every item is done: look for a pool that is never closed and joined, "
                "or a result that is waited for but never sent")
    rec = {}
    exc = out.get("error")
    if exc is not None:
        rec["raised"] = {"text": f"{type(exc).__name__}: {exc}", "student_line": _student_line(exc),
                         "worker_line": _worker_line(exc), "pickling": _is_pickling(exc),
                         "not_running": isinstance(exc, ValueError) and "Pool not running" in str(exc)}
    rec["left"] = _left_behind(f"{what} returned", seen)
    if exc is None:
        pair = isinstance(got, tuple) and len(got) == 2
        rec["returned"] = {"pair": pair, "short": _short(got)}
        if pair:
            results, errors = got
            rec["results_type"] = type(results).__name__
            rec["errors_type"] = type(errors).__name__
            rec["results"] = _enc(results) if isinstance(results, list) else None
            rec["errors"] = [[_enc(k), _enc(v)] for k, v in errors.items()] if isinstance(errors, dict) else None
    return rec


def run_all_order(ctx):
    """run_all for lists, ranges and generators, with several chunk sizes and pool sizes (tasks finishing
    out of order included), then run_all(pid_of, ...): each call recorded, and this process's pid."""
    pm = _module(ctx, "run_all")
    check_start_method(ctx)
    _observe_all(ctx, _recording(ctx, _run_all_order, ctx, pm))


def _run_all_order(ctx, pm, rec):
    timeout = ctx.params["call_timeout"]
    rec["parent_pid"] = os.getpid()
    cases = ctx.params["cases"] + [{"fn": "pid_of", "items": {"list": ctx.params["pid_items"]},
                                    "processes": ctx.params["pid_processes"], "chunksize": 1}]
    for index, case in enumerate(cases):
        rec[f"case_{index}"] = _run_all_call(ctx, pm, case, timeout)
        if "raised" in rec[f"case_{index}"]:
            return   # the judge stops there


def run_all_errors(ctx):
    """run_all with failing items: each call recorded (the judge checks {index: "Type: message"}, None in
    results, and every other item computed, also when a chunk holds failing items)."""
    pm = _module(ctx, "run_all")
    check_start_method(ctx)
    _observe_all(ctx, _recording(ctx, _run_all_errors, ctx, pm))


def _run_all_errors(ctx, pm, rec):
    timeout = ctx.params["call_timeout"]
    for index, case in enumerate(ctx.params["cases"]):
        rec[f"case_{index}"] = _run_all_call(ctx, pm, case, timeout)
        if "raised" in rec[f"case_{index}"]:
            return   # the judge stops there


# --------------------------------------------------------------------------
# problem_solving

def hung_task_exit(ctx):
    """Leaving the block by an exception while every worker runs a task that never ends (and more are
    queued): how long leaving took, whether the exception propagated, what was left. No time limit
    here: a hang is the item's timeout, and the grader's thread dump names the line."""
    pm = _module(ctx, "ProcessPoolManager")
    M = pm.ProcessPoolManager
    n = ctx.params["processes"]
    before = set(my_children())
    err = jobs.Boom("raised while the tasks are stuck")
    holder = {}
    started = took = same = apply_error = None
    try:
        with M(n) as pool:
            holder["pool"] = pool
            try:
                for i in range(2 * n):       # one stuck task per worker, and as many queued
                    pool.apply_async(jobs.stuck, (i,))
            except ValueError as exc:
                apply_error = str(exc)
                started = time.monotonic()
                raise err
            _wait_workers(before, n)
            time.sleep(ctx.params["settle_s"])   # let the workers take their stuck tasks
            started = time.monotonic()
            raise err
    except jobs.Boom as exc:
        took = time.monotonic() - started
        same = exc is err
    problem = _left_behind("leaving the block by an exception with stuck tasks", before)
    _shut(holder.get("pool"))
    ctx.observe("apply_error", apply_error)
    ctx.observe("same", same)
    ctx.observe("took", took)
    ctx.observe("left", problem)


def spawn_all(ctx):
    """The manager and run_all under the spawn start method: a pool whose initializer is pickled for
    each fresh worker, left normally (close + join, no zombie); run_all with failing items, whose
    per-item wrapper is pickled too. Each scenario is recorded on its own (the judge reports every
    failure)."""
    check_start_method(ctx)
    pm = _module(ctx, "ProcessPoolManager", "run_all")
    p = ctx.params

    def pool_case(rec):
        _initializer_case(ctx, pm, p["processes"], tuple(p["initargs"]), p["tasks"], p["call_timeout"], rec)

    def errors_case(rec):
        rec["case"] = _run_all_call(ctx, pm, p["run_all"], p["call_timeout"])

    for name, run in (("pool", pool_case), ("run_all", errors_case)):
        try:
            rec = _recording(ctx, run)
        except Exception as exc:  # noqa: BLE001 - the student's exception, reported with the others
            rec = {"exception": f"{name}: {type(exc).__name__}: {exc}{_student_line(exc)}"}
        ctx.observe(name, rec)
    # A pool only reachable through a reference cycle (a terminated pool whose tasks never finished:
    # its result cache holds the ApplyResults, which hold the pool; or a failed scenario's traceback)
    # keeps the named semaphores of its queues, which only spawn and forkserver pools have. A real
    # program's exit runs the finalizers that unlink them; the harness leaves with os._exit(), so
    # collect the cycles here, or the resource tracker would report a leak that is not the student's.
    # A pool the student's code still references is not freed by this, and is still reported.
    gc.collect()


# --------------------------------------------------------------------------
# performance

def bench_run_all(ctx):
    """The timed workload: run_all(burn, [n, n + 1, ...] (items of them), processes) - a CPU-bound
    task, every result checked on every call. (The harness's warm-up call is the first; a hang there
    is the item's timeout.)"""
    pm = _module(ctx, "run_all")
    p = ctx.params
    n, count, procs = p["n"], p["items"], p["processes"]
    items = [n + i for i in range(count)]
    expected = [jobs.burn(x) for x in items]
    what = f"run_all(burn, [{n}, {n + 1}, ..., {n + count - 1}], processes={procs})"

    def once():
        got = pm.run_all(jobs.burn, items, processes=procs)
        if not (isinstance(got, tuple) and len(got) == 2 and got[0] == expected and got[1] == {}):
            ctx.fail(f"{what} did not return (results, {{}}) with every result right",
                     hint="a fast wrong answer earns no performance points")

    return once
