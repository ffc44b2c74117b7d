"""Checks for ex-process-pool-manager: the teaching guide's ProcessPoolManager (`pool_manager.py`).

The student's API is the docstring of starter/ex-process-pool-manager/pool_manager.py:
ProcessPoolManager(processes, initializer, initargs, task_timeout) as a context manager returning a
running multiprocessing Pool; run_all(fn, items, processes, chunksize) -> (results, errors).

The tasks and the initializer the checks hand to the pools live in `poolmgr_jobs.py`, beside this file,
so that they pickle by reference and a worker imports them under any start method (this directory goes
on sys.path after the student's, and a spawned worker inherits sys.path).

Process hygiene is judged RIGHT AFTER each with-block: a worker still running, or finished but never
joined (a zombie), is named then (before anything else in this process reaps it: starting another pool
reaps finished children as a side effect), and then killed, so that the next scenario is judged on its
own. The harness judges the end of every run as well (leaked processes, zombies, resource-tracker
warnings). Every call into the student's code has a time limit and a hang names the line of
pool_manager.py where the calling thread is blocked - except in `hung_task_exit`, whose hang is left to
the item's own timeout (the grader then names the blocked line from the thread dump).

Standard library only.
"""

import gc
import multiprocessing
import multiprocessing.pool
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

import poolmgr_jobs as jobs  # noqa: E402

MODULE = "pool_manager"
_HELPER_WORDS = ("resource_tracker", "forkserver")

HINT_JOIN = ("a normal exit is close() then join(); an exit by an exception is terminate() then join(): "
             "either way join() waits for every worker, so none is left running and none is left a "
             "zombie (a finished child nobody waited for)")
HINT_RUNNING_POOL = ("__enter__ must return the pool RUNNING: create it with multiprocessing.Pool(...) "
                     "and return it; `with Pool() as pool: return pool` inside __enter__ terminates it "
                     "as __enter__ returns, and close() stops it from taking tasks")
HINT_PICKLE = ("under the spawn start method a worker is a fresh interpreter: the pool's initializer and "
               "every function a worker runs are pickled by their importable name, so they must be "
               "top-level functions of a module (no lambda, no nested def, no closure wrapping the "
               "user's initializer); under fork the initializer is inherited, never pickled")


# --------------------------------------------------------------------------
# processes

def _proc_state(pid):
    """(state letter, cmdline) of a process from /proc, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        return stat[stat.rindex(")") + 2:].split()[0], cmd
    except (OSError, ValueError, IndexError):
        return None


def _my_children():
    """{pid: (state, cmdline)} of this process's direct children, zombies included, helpers
    (the resource tracker, a fork server) not."""
    me = str(os.getpid())
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
        except (OSError, ValueError, IndexError):
            continue
        if rest[1] != me:
            continue
        info = _proc_state(entry)
        if info is None or any(word in info[1] for word in _HELPER_WORDS):
            continue
        found[int(entry)] = info
    return found


def _live(children):
    return {pid: info for pid, info in children.items() if info[0] not in ("Z", "X")}


def _wait_workers(seen, want, limit=1.5):
    """The live children not in `seen`, once there are at least `want` of them (or after `limit` s)."""
    deadline = time.monotonic() + limit
    while True:
        new = {p: i for p, i in _live(_my_children()).items() if p not in seen}
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
    left = {p: i for p, i in _my_children().items() if p not in seen}
    if not left:
        return None
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and _live(left):
        time.sleep(0.02)
        left = {p: i for p, i in _my_children().items() if p not in seen}
    if not left:   # they finished and someone (the pool's own threads) reaped them after all
        return None
    text = (f"after {what}: {len(left)} worker process(es) left behind: "
            + ", ".join(_describe(p, st) for p, (st, _) in sorted(left.items())))
    for pid in left:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
    for proc in list(getattr(multiprocessing.process, "_children", ())):
        if proc.pid in left:
            multiprocessing.process._children.discard(proc)
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
    pm = ctx.student(MODULE)
    for name in names:
        ctx.expect(callable(getattr(pm, name, None)), f"pool_manager.py defines no {name}",
                   hint=f"define {name} at module level, with the signature in the starter's docstring")
    return pm


def _check_start_method(ctx):
    """The item's start method is in force (a grader fault otherwise, never the student's)."""
    want = ctx.start_method
    if want and multiprocessing.get_start_method() != want:
        raise RuntimeError(f"grader: start method is {multiprocessing.get_start_method()!r}, "
                           f"the item asks for {want!r}")


def _where(ctx):
    return f" (start method {ctx.start_method})" if ctx.start_method else ""


def _blocked_at(ctx, thread):
    """'; the calling thread is blocked at pool_manager.py:LINE in FUNC (`code`)' or ''."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return ""
    root = os.path.realpath(ctx.root) + os.sep
    stack = traceback.extract_stack(frame)
    idx = None
    for i, fs in enumerate(stack):
        if not fs.filename.startswith("<") and os.path.realpath(fs.filename).startswith(root):
            idx = i
    if idx is None:
        return ""
    fs = stack[idx]
    text = f"; the calling thread is blocked at {os.path.basename(fs.filename)}:{fs.lineno} in {fs.name}"
    if fs.line:
        text += f" (`{fs.line.strip()}`)"
    if idx + 1 < len(stack):
        text += f", inside {stack[idx + 1].name}()"
    return text


def _student_line(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.basename(f.filename) == MODULE + ".py"]
    if not frames:
        return ""
    return f" (at {MODULE}.py:{frames[-1].lineno} in {frames[-1].name})"


def _worker_line(exc):
    """' in a worker process (at pool_manager.py:LINE in FUNC)' from the traceback text a pool chains."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(r'File "([^"]*)", line (\d+), in (\S+)', tb)
              if os.path.basename(f[0]) == MODULE + ".py"]
    if not frames:
        return ""
    return f" in a worker process (at {MODULE}.py:{frames[-1][1]} in {frames[-1][2]})"


def _is_pickling(exc):
    text = f"{type(exc).__name__}: {exc}".lower()
    return "pickl" in text or "local object" in text


def _call(ctx, what, fn, timeout, hang_hint, box=None):
    """fn() in a thread with a time limit; its value. A hang fails the check naming the blocked
    line; a failed expectation inside fn is re-raised as it is; a pickling error gets its own
    hint; any other exception is re-raised for the harness (type, message, student's line).
    `box`, a dict fn may put the student's pool in ("pool"), is used to clean up after a hang."""
    out = {}

    def body():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: B036 - handed back to the check's thread
            out["error"] = exc

    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        where = _blocked_at(ctx, t)
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


# --------------------------------------------------------------------------
# completion_quality: the manager

def pool_basic(ctx):
    """Constructor validation; __enter__ returns a running Pool of `processes` workers (cpu_count()
    by default) on which map and apply_async work; nothing starts at import."""
    pm = _module(ctx, "ProcessPoolManager")
    M = pm.ProcessPoolManager
    seen = set(_my_children())
    ctx.expect(not _live(_my_children()), "child processes are alive right after importing pool_manager "
               "(importing it must not start processes)",
               hint="keep demo code under `if __name__ == \"__main__\":`")
    for kwargs in ctx.params["invalid"]:
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        try:
            M(**kwargs)
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001 - reported
            ctx.fail(f"ProcessPoolManager({args}) raised {type(exc).__name__}: {exc}, expected ValueError",
                     hint="validate processes (None or an int >= 1) and task_timeout (None or > 0) "
                          "in the constructor")
        ctx.fail(f"ProcessPoolManager({args}) did not raise ValueError",
                 hint="validate processes (None or an int >= 1) and task_timeout (None or > 0) "
                      "in the constructor, before any process starts")
    timeout = ctx.params["call_timeout"]
    for n in ctx.params["sizes"]:
        want = os.cpu_count() if n is None else n
        label = "ProcessPoolManager()" if n is None else f"ProcessPoolManager({n})"
        box = {}

        def scenario():
            before = set(_my_children())
            with (M() if n is None else M(n)) as pool:
                box["pool"] = pool
                ctx.expect(isinstance(pool, multiprocessing.pool.Pool),
                           f"`with {label} as pool:` gave {_short(pool)} ({type(pool).__name__}), "
                           "expected the multiprocessing.pool.Pool it created",
                           hint="return the pool from __enter__")
                try:
                    got = pool.map(jobs.square, range(20))
                except ValueError as exc:
                    ctx.fail(f"`with {label} as pool:` pool.map(square, range(20)) in the with-block "
                             f"raised ValueError: {exc}: the pool __enter__ returned is not running",
                             hint=HINT_RUNNING_POOL)
                ctx.expect_eq(got, [x * x for x in range(20)], f"{label}: pool.map(square, range(20))")
                ctx.expect_eq(pool.apply_async(jobs.square, (7,)).get(timeout), 49,
                              f"{label}: pool.apply_async(square, (7,)).get()")
                workers = _wait_workers(before, want)
                ctx.expect(len(workers) == want,
                           f"inside `with {label} as pool:` {len(workers)} worker process(es) were alive, "
                           f"expected {want}" + (" (os.cpu_count())" if n is None else ""),
                           hint="pass processes to multiprocessing.Pool as given (None: the pool's "
                                "default, os.cpu_count())")
            return before

        before = _call(ctx, f"`with {label} as pool:` map and apply_async", scenario, timeout,
                       "look at __enter__ and __exit__: the with-block should create a pool, use it and "
                       "close and join it", box)
        problem = _left_behind(f"the with-block of {label} ended", before | seen)
        if problem:
            _shut(box.get("pool"))
            ctx.fail(problem, hint=HINT_JOIN)


def exit_paths(ctx):
    """Both ways out of the block, each judged on its own (every failure is reported): a normal exit
    waits for the submitted work (close + join, not terminate); an exception raised in the block, or
    re-raised by the pool from a task, propagates unchanged and __exit__ returns a false value; either
    way no worker is left running and none unjoined."""
    pm = _module(ctx, "ProcessPoolManager")
    failures, hints = [], []
    for part in (_normal_exit, _exception_exit):
        try:
            part(ctx, pm)
        except ctx.CheckFailed as exc:
            failures.append(exc.message)
            if exc.hint:
                hints.append(exc.hint)
    if failures:
        ctx.fail(" | ".join(failures), hint=" ".join(dict.fromkeys(hints)))


def _normal_exit(ctx, pm):
    """A normal exit waits for the submitted work (close + join, not terminate) and leaves no worker
    running and none unjoined."""
    M = pm.ProcessPoolManager
    p = ctx.params
    n, tasks, nap = p["processes"], p["tasks"], p["task_s"]
    box = {}

    # 1. Work still running when the block ends: __exit__ must wait for it.
    def pending_work():
        before = set(_my_children())
        with M(n) as pool:
            box["pool"] = pool
            rs = [pool.apply_async(jobs.nap_square, (i, nap)) for i in range(tasks)]
        return before, rs

    what = f"`with ProcessPoolManager({n}) as pool:` {tasks} apply_async tasks of {nap:g} s, not waited for"
    before, rs = _call(ctx, what, pending_work, p["call_timeout"],
                       "a normal exit is close() then join(): it returns once every submitted task "
                       "has finished", box)
    problems = []
    unfinished = [i for i, r in enumerate(rs) if not r.ready()]
    if unfinished:
        problems.append(f"{len(unfinished)} of the {tasks} tasks submitted in the block had not finished "
                        "when the with-block ended (a normal exit must let submitted work finish: close(), "
                        "then join(), which waits for it; terminate(), which Pool's own with-block calls, "
                        "kills it)")
    else:
        got = [r.get(0) for r in rs]
        if got != [i * i for i in range(tasks)]:
            problems.append(f"the tasks' results were {_short(got)}, expected the squares of 0..{tasks - 1}")
    left = _left_behind("a normal exit with tasks still running", before)
    if left:
        problems.append(left)
    _shut(box.get("pool"))

    # 2. Every result collected in the block: the workers are idle, and must be joined by __exit__.
    box.clear()

    def idle_workers():
        before = set(_my_children())
        with M(n) as pool:
            box["pool"] = pool
            got = pool.map(jobs.square, range(10))
        return before, got

    what2 = f"`with ProcessPoolManager({n}) as pool:` pool.map(square, range(10))"
    before, got = _call(ctx, what2, idle_workers, p["call_timeout"],
                        "a normal exit is close() then join()", box)
    if got != [x * x for x in range(10)]:
        problems.append(f"{what2} returned {_short(got)}")
    left = _left_behind("a normal exit with every result already collected", before)
    if left:
        problems.append(left)
    _shut(box.get("pool"))
    if problems:
        ctx.fail("; ".join(problems), hint=HINT_JOIN)


def _exception_exit(ctx, pm):
    """An exception raised in the block (or re-raised by the pool from a task) propagates unchanged;
    __exit__ returns a false value; the workers are gone and joined afterwards."""
    M = pm.ProcessPoolManager
    n = ctx.params["processes"]
    timeout = ctx.params["call_timeout"]
    hang = ("an exit by an exception is terminate() then join(): it must not wait for the tasks")

    # 1. The check raises in the block.
    err = jobs.Boom("raised in the with-block")
    box = {}

    def raise_in_block():
        before = set(_my_children())
        try:
            with M(n) as pool:
                box["pool"] = pool
                pool.map(jobs.square, range(4))
                raise err
        except jobs.Boom as exc:
            return before, exc
        except BaseException as exc:  # noqa: B036 - reported
            return before, exc
        return before, None

    what = f"`with ProcessPoolManager({n}) as pool:` raising Boom in the block"
    before, got = _call(ctx, what, raise_in_block, timeout, hang, box)
    ctx.expect(got is not None, f"{what}: the exception did not propagate (it was swallowed): __exit__ "
               "must return False", hint="return False from __exit__, always")
    ctx.expect(got is err, f"{what}: {type(got).__name__}: {got} propagated instead of the Boom "
               "raised in the block", hint="__exit__ must not raise an exception of its own, nor "
               "replace the one that is propagating: return False")
    problem = _left_behind(f"{what}", before)
    _shut(box.get("pool"))
    ctx.expect(not problem, problem, hint=HINT_JOIN)

    # 2. A task raises: pool.map re-raises it in the block, and it must leave the block too.
    box.clear()

    def task_raises():
        before = set(_my_children())
        try:
            with M(n) as pool:
                box["pool"] = pool
                pool.map(jobs.fail_some, range(6))
        except ValueError as exc:
            return before, exc
        return before, None

    what = f"`with ProcessPoolManager({n}) as pool:` pool.map(fail_some, range(6)), a task raising ValueError"
    before, got = _call(ctx, what, task_raises, timeout, hang, box)
    ctx.expect(got is not None and "bad item" in str(got),
               f"{what}: the task's ValueError did not leave the with-block (got {got!r})",
               hint="return False from __exit__: never suppress the exception")
    problem = _left_behind(what, before)
    _shut(box.get("pool"))
    ctx.expect(not problem, problem, hint=HINT_JOIN)

    # 3. The protocol itself: __exit__ called with an exception returns a false value.
    box.clear()

    def protocol():
        before = set(_my_children())
        m = M(1)
        pool = m.__enter__()
        box["pool"] = pool
        return before, m.__exit__(jobs.Boom, err, None)

    before, ret = _call(ctx, "ProcessPoolManager(1).__exit__(Boom, exc, None)", protocol, timeout, hang, box)
    problem = _left_behind("ProcessPoolManager(1).__exit__(Boom, exc, None)", before)
    _shut(box.get("pool"))
    ctx.expect(not ret, f"ProcessPoolManager(1).__exit__(Boom, exc, None) returned {ret!r}: a true value "
               "suppresses the exception", hint="return False from __exit__")
    ctx.expect(not problem, problem, hint=HINT_JOIN)


def task_timeout(ctx):
    """task_timeout bounds a normal exit: a stuck task -> TimeoutError after about task_timeout, workers
    terminated and joined; quick work -> no error and no waiting for the whole task_timeout."""
    pm = _module(ctx, "ProcessPoolManager")
    M = pm.ProcessPoolManager
    p = ctx.params
    n, limit, slack = p["processes"], p["task_timeout"], p["slack_s"]
    box = {}

    def stuck_task():
        before = set(_my_children())
        t0 = None
        try:
            with M(n, task_timeout=limit) as pool:
                box["pool"] = pool
                pool.apply_async(jobs.stuck, (1,))
                pool.apply_async(jobs.square, (3,))
                t0 = time.monotonic()
        except TimeoutError as exc:
            return before, exc, None if t0 is None else time.monotonic() - t0
        except BaseException as exc:  # noqa: B036 - reported
            return before, exc, None
        return before, None, time.monotonic() - t0

    what = f"`with ProcessPoolManager({n}, task_timeout={limit:g}) as pool:` with a task that never ends"
    before, exc, took = _call(ctx, what, stuck_task, p["call_timeout"],
                              "with task_timeout set, a normal exit waits at most task_timeout seconds "
                              "for the workers (Pool.join() has no timeout: join in a helper thread, or "
                              "poll), then terminate() and join() the pool and raise TimeoutError", box)
    problem = _left_behind(what, before)
    _shut(box.get("pool"))
    if not isinstance(exc, TimeoutError):
        kind = type(exc).__name__
        if kind == "TimeoutError":    # multiprocessing.TimeoutError, say: not the builtin one
            kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        ctx.fail(f"{what}: leaving the block normally " + (
                 f"raised {kind}: {exc}" if exc is not None else
                 f"returned after {took:.2f} s without an error") + ", expected the builtin TimeoutError",
                 hint="raise the builtin TimeoutError once task_timeout has passed and the pool is "
                      "terminated and joined (not multiprocessing.TimeoutError)")
    ctx.expect(took is not None, f"{what}: TimeoutError before the block had run")
    ctx.expect(took >= limit - 0.05, f"{what}: TimeoutError after {took:.2f} s, before task_timeout "
               f"({limit:g} s) had passed", hint="wait task_timeout seconds for join() before giving up")
    ctx.expect(took <= limit + slack, f"{what}: TimeoutError only after {took:.2f} s (task_timeout "
               f"{limit:g} s)", hint="terminate() as soon as task_timeout has passed")
    ctx.expect(not problem, problem, hint="after task_timeout, terminate() and then join() the pool")

    # Quick work with a generous task_timeout: no error, and no waiting for the whole timeout.
    box.clear()
    quick, nap = p["quick_tasks"], p["quick_task_s"]

    def quick_work():
        before = set(_my_children())
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
    ctx.expect(took <= p["quick_exit_max_s"], f"{what}: leaving the block took {took:.2f} s: the exit "
               "must return as soon as the work is done, not wait for the whole task_timeout",
               hint="join with a timeout (a helper thread's join(timeout)), not a sleep(task_timeout)")
    ctx.expect(all(r.ready() for r in rs) and [r.get(0) for r in rs] == [i * i for i in range(quick)],
               f"{what}: the tasks' results were not all ready and right after the block",
               hint="close() then join(): submitted work finishes")
    ctx.expect(not problem, problem, hint=HINT_JOIN)


def initializer_once(ctx):
    """The initializer runs once in each worker process, with initargs, never in this process."""
    pm = _module(ctx, "ProcessPoolManager")
    _check_start_method(ctx)
    _initializer_case(ctx, pm, ctx.params["processes"], tuple(ctx.params["initargs"]),
                      ctx.params["tasks"], ctx.params["call_timeout"])


def _initializer_case(ctx, pm, n, initargs, tasks, timeout):
    """One pool with jobs.record_init as initializer: judged from the log its workers write and
    from what the tasks report about their process, then on the workers left after the block."""
    M = pm.ProcessPoolManager
    fd, log = tempfile.mkstemp(prefix="poolmgr-init-", suffix=".log")
    os.close(fd)
    os.environ[jobs.INIT_LOG_ENV] = log
    calls_here = jobs._init_calls
    box = {}
    label = f"ProcessPoolManager({n}, initializer=record_init, initargs={initargs!r}){_where(ctx)}"

    def scenario():
        before = set(_my_children())
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
    ctx.expect(not problem, problem, hint=HINT_JOIN)
    if ctx.start_method == "spawn":
        forked = [c for c in cmdlines if "spawn_main" not in c]
        ctx.expect(not forked, f"{label}: {len(forked)} worker(s) were not started by the spawn start method "
                   "in force", hint="create the pool with multiprocessing.Pool(...) (the default start "
                                    "method); do not pick a context yourself")
    ctx.expect(jobs._init_calls == calls_here,
               f"{label}: the initializer ran in this (the parent) process",
               hint="never call the initializer yourself: give it to multiprocessing.Pool(initializer=..., "
                    "initargs=...), which runs it in each worker")
    ctx.expect(all(len(parts) == 2 for parts in lines), "grader: unreadable initializer log")
    pids = [int(pid) for pid, _ in lines]
    ctx.expect(os.getpid() not in pids, f"{label}: the initializer ran in this (the parent) process",
               hint="give the initializer to multiprocessing.Pool; never call it yourself")
    wrong_args = [(pid, args) for pid, args in lines if args != repr(initargs)]
    ctx.expect(not wrong_args, f"{label}: the initializer was called with {wrong_args[0][1] if wrong_args else ''} "
               f"in worker pid {wrong_args[0][0] if wrong_args else ''}, expected {initargs!r}",
               hint="pass initargs=self.initargs to multiprocessing.Pool along with the initializer")
    ctx.expect(len(pids) == n and len(set(pids)) == n,
               f"{label}: the initializer ran {len(pids)} time(s) in {len(set(pids))} process(es), "
               f"expected once in each of the {n} workers",
               hint="give initializer and initargs to multiprocessing.Pool: it calls initializer(*initargs) "
                    "once in each worker process as it starts (and not before each task)")
    for x, pid, calls, args in sorted(out):
        ctx.expect(pid in pids, f"{label}: task {x} ran in pid {pid}, where the initializer never ran",
                   hint="give the initializer to the pool that runs the tasks")
        ctx.expect(calls == 1, f"{label}: in worker pid {pid} the initializer had run {calls} time(s) when "
                   f"task {x} ran, expected exactly once", hint="the pool runs it once per worker: do not "
                   "call it again per task")
    ctx.expect_eq(sorted(x for x, *_ in out), list(range(tasks)), f"{label}: pool.map(whoami, ...) items")


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


# Tasks that sleep stand in for their sleepless twins when the check computes what to expect.
_ORACLE_FN = {"late_square": jobs.square, "pid_of": lambda x: (x, None), "nap_square": jobs.square}


def _oracle(fn, items):
    """The definition: fn(item) in order, None and f"{type}: {exc}" where it raised."""
    fn = _ORACLE_FN.get(fn.__name__, fn)
    results, errors = [], {}
    for i, item in enumerate(items):
        try:
            results.append(fn(item))
        except Exception as exc:  # noqa: BLE001 - what run_all must record
            results.append(None)
            errors[i] = f"{type(exc).__name__}: {exc}"
    return results, errors


def _run_all_call(ctx, pm, case, timeout):
    """Calls run_all for one case of the spec; returns (what, (results, errors), expected)."""
    fn = getattr(jobs, case["fn"])
    items, desc = _items(case["items"])
    expected = _oracle(fn, list(_items(case["items"])[0]))
    args = [case["fn"], desc]
    kwargs = {}
    if "processes" in case:
        kwargs["processes"] = case["processes"]
    if "chunksize" in case:
        kwargs["chunksize"] = case["chunksize"]
    what = "run_all(%s)%s" % (", ".join(args + [f"{k}={v}" for k, v in kwargs.items()]), _where(ctx))
    seen = set(_my_children())
    out = {}

    def call():
        try:
            return pm.run_all(fn, items, **kwargs)
        except ctx.CheckFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - judged below
            out["error"] = exc
            return None

    got = _call(ctx, what, call, timeout,
                "run_all returns once every item is done: look for a pool that is never closed and joined, "
                "or a result that is waited for but never sent")
    exc = out.get("error")
    if exc is not None:
        text = f"{type(exc).__name__}: {exc}"
        if _is_pickling(exc):
            ctx.fail(f"{what} raised {text}{_student_line(exc)}", hint=HINT_PICKLE)
        if isinstance(exc, ValueError) and "Pool not running" in str(exc):
            ctx.fail(f"{what} raised {text}{_student_line(exc)}: the pool __enter__ returned is not running",
                     hint=HINT_RUNNING_POOL)
        an_item = text in expected[1].values()   # one of the items' own exceptions
        ctx.fail(f"{what} raised {text}{_worker_line(exc) or _student_line(exc)}"
                 + (" instead of recording the failing item in errors" if an_item else ""),
                 hint="catch the exception IN THE WORKER, per item, with a top-level wrapper function "
                      "(pool.map re-raises the first failure in the parent and loses every other result)"
                 if an_item else None)
    problem = _left_behind(f"{what} returned", seen)
    ctx.expect(not problem, problem, hint="run_all must use ProcessPoolManager's with-block: " + HINT_JOIN)
    ctx.expect(isinstance(got, tuple) and len(got) == 2,
               f"{what} returned {_short(got)}, expected a tuple (results, errors)",
               hint="return results, errors")
    results, errors = got
    ctx.expect(isinstance(results, list), f"{what}: results is a {type(results).__name__}, expected a list")
    ctx.expect(isinstance(errors, dict), f"{what}: errors is a {type(errors).__name__}, expected a dict")
    return what, (results, errors), expected


def _order_diff(results, expected):
    """Words for where two result lists first differ (a reordering is named as one)."""
    if len(results) != len(expected):
        return f"{len(results)} results for {len(expected)} items"
    if sorted(map(repr, results)) == sorted(map(repr, expected)):
        first = next(i for i, (a, b) in enumerate(zip(results, expected)) if a != b)
        return (f"the right results in the wrong order: position {first} holds {_short(results[first], 40)}, "
                f"expected {_short(expected[first], 40)} (the results must be in input order)")
    first = next(i for i, (a, b) in enumerate(zip(results, expected)) if a != b)
    return f"results[{first}] is {_short(results[first], 40)}, expected {_short(expected[first], 40)}"


def run_all_order(ctx):
    """run_all returns every result in input order, for lists, ranges and generators, with several
    chunk sizes and pool sizes (tasks finishing out of order included), in at most `processes`
    worker processes."""
    pm = _module(ctx, "run_all")
    _check_start_method(ctx)
    timeout = ctx.params["call_timeout"]
    for case in ctx.params["cases"]:
        what, (results, errors), (want, want_errors) = _run_all_call(ctx, pm, case, timeout)
        ctx.expect(errors == want_errors, f"{what}: errors is {_short(errors)}, expected {want_errors!r}",
                   hint="errors holds only the items whose call raised")
        if results != want:
            ctx.fail(f"{what}: " + _order_diff(results, want),
                     hint="keep the results in input order: pool.map/starmap/imap return them in order; "
                          "imap_unordered and as-they-finish collection do not" if
                     sorted(map(repr, results)) == sorted(map(repr, want)) else
                     "one result per item, fn(item), at the item's position")
    n = ctx.params["pid_processes"]
    case = {"fn": "pid_of", "items": {"list": ctx.params["pid_items"]}, "processes": n, "chunksize": 1}
    what, (results, _), (want, _) = _run_all_call(ctx, pm, case, timeout)
    xs = [r[0] if isinstance(r, (list, tuple)) else r for r in results]
    if xs != [x for x, _ in want]:
        ctx.fail(f"{what}: the items came back as " + _order_diff(xs, [x for x, _ in want]))
    pids = {r[1] for r in results}
    ctx.expect(os.getpid() not in pids, f"{what}: some items ran in this (the calling) process, not in "
               "worker processes", hint="send every item to the pool")
    ctx.expect(len(pids) <= n, f"{what}: the items ran in {len(pids)} different processes, at most {n} "
               "expected", hint="ProcessPoolManager(processes): one pool of `processes` workers")


def run_all_errors(ctx):
    """Failing items are collected per item ({index: "Type: message"}, None in results) while every
    other item is still computed, also when a chunk holds failing items."""
    pm = _module(ctx, "run_all")
    _check_start_method(ctx)
    timeout = ctx.params["call_timeout"]
    for case in ctx.params["cases"]:
        _errors_case(ctx, pm, case, timeout)


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:   # keys of several types
        return sorted(d, key=repr)


def _errors_case(ctx, pm, case, timeout):
    what, (results, errors), (want, want_errors) = _run_all_call(ctx, pm, case, timeout)
    if errors != want_errors:
        missing = sorted(set(want_errors) - set(errors))
        extra = _sorted_keys(set(errors) - set(want_errors))
        wrong = [i for i in want_errors if i in errors and errors[i] != want_errors[i]]
        if wrong:
            i = wrong[0]
            ctx.fail(f"{what}: errors[{i}] is {errors[i]!r}, expected {want_errors[i]!r}",
                     hint='the text is f"{type(exc).__name__}: {exc}", keyed by the item\'s index '
                          "(its position in items, not the item)")
        ctx.fail(f"{what}: errors has the keys {_short(_sorted_keys(errors), 50)}, expected "
                 f"{_short(sorted(want_errors), 50)}"
                 + (f" (missing {missing[:4]})" if missing else "") + (f" (unexpected {extra[:4]})" if extra else ""),
                 hint="key errors by the item's index in items (0, 1, 2 ...), one entry per item whose "
                      "call raised")
    if results != want:
        lost = [i for i, (a, b) in enumerate(zip(results, want)) if i not in want_errors and a != b]
        ctx.fail(f"{what}: " + _order_diff(results, want)
                 + (f"; {len(lost)} item(s) that did not fail lost their result" if lost else ""),
                 hint="catch each item's exception in the worker, per item: with chunksize > 1 a chunk "
                      "that fails as a whole loses the results of its good items too")


# --------------------------------------------------------------------------
# problem_solving

def hung_task_exit(ctx):
    """Leaving the block by an exception while every worker runs a task that never ends (and more are
    queued) returns promptly: terminate(), not join(). No time limit here: a hang is the item's
    timeout, and the grader's thread dump names the line."""
    pm = _module(ctx, "ProcessPoolManager")
    M = pm.ProcessPoolManager
    n, limit = ctx.params["processes"], ctx.params["max_exit_s"]
    before = set(_my_children())
    err = jobs.Boom("raised while the tasks are stuck")
    holder = {}
    started = took = None
    try:
        with M(n) as pool:
            holder["pool"] = pool
            try:
                for i in range(2 * n):       # one stuck task per worker, and as many queued
                    pool.apply_async(jobs.stuck, (i,))
            except ValueError as exc:
                ctx.fail(f"`with ProcessPoolManager({n}) as pool:` pool.apply_async(...) raised ValueError: "
                         f"{exc}: the pool __enter__ returned is not running", hint=HINT_RUNNING_POOL)
            _wait_workers(before, n)
            time.sleep(ctx.params["settle_s"])   # let the workers take their stuck tasks
            started = time.monotonic()
            raise err
    except jobs.Boom as exc:
        took = time.monotonic() - started
        ctx.expect(exc is err, "a different Boom propagated")
    if took is None:
        _shut(holder.get("pool"))
        ctx.fail("the exception raised in the with-block did not propagate (it was swallowed)",
                 hint="return False from __exit__")
    problem = _left_behind("leaving the block by an exception with stuck tasks", before)
    _shut(holder.get("pool"))
    ctx.expect(took <= limit, f"leaving `with ProcessPoolManager({n}) as pool:` by an exception took {took:.2f} s "
               f"with every worker stuck in a task (at most {limit:g} s expected)",
               hint="on the error path terminate() the pool, then join(): close() + join() waits for tasks "
                    "that may never end")
    ctx.expect(not problem, problem, hint=HINT_JOIN)


def spawn_all(ctx):
    """The manager and run_all under the spawn start method: a pool whose initializer is pickled for
    each fresh worker, left normally (close + join, no zombie); run_all with failing items, whose
    per-item wrapper is pickled too. Each scenario is judged on its own; every failure is reported."""
    _check_start_method(ctx)
    pm = _module(ctx, "ProcessPoolManager", "run_all")
    p = ctx.params

    def pool_case():
        _initializer_case(ctx, pm, p["processes"], tuple(p["initargs"]), p["tasks"], p["call_timeout"])

    def errors_case():
        _errors_case(ctx, pm, p["run_all"], p["call_timeout"])

    failures, hints, ok = [], [], []
    for name, run in (("pool", pool_case), ("run_all", errors_case)):
        try:
            run()
            ok.append(name)
        except ctx.CheckFailed as exc:
            failures.append(exc.message)
            if exc.hint:
                hints.append(exc.hint)
        except Exception as exc:  # noqa: BLE001 - the student's exception, reported with the others
            failures.append(f"{name}: {type(exc).__name__}: {exc}{_student_line(exc)}")
    # A pool only reachable through a reference cycle (a terminated pool whose tasks never finished:
    # its result cache holds the ApplyResults, which hold the pool; or a failed scenario's traceback)
    # keeps the named semaphores of its queues, which only spawn and forkserver pools have. A real
    # program's exit runs the finalizers that unlink them; the harness leaves with os._exit(), so
    # collect the cycles here, or the resource tracker would report a leak that is not the student's.
    # A pool the student's code still references is not freed by this, and is still reported.
    gc.collect()
    if failures:
        ctx.fail(f"{len(failures)} of 2 scenarios failed under spawn: " + " | ".join(failures)
                 + (f" (passed: {', '.join(ok)})" if ok else ""), hint=" ".join(dict.fromkeys(hints)))


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
