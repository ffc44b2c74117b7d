"""Checks for ex-thread-pool: the teaching guide's ThreadPool (Module 3, Lesson 2), done right.

The student's API is the docstring of starter/ex-thread-pool/thread_pool.py: ThreadPool(num_threads)
with submit() -> Future (result(timeout), done(), cancelled()), map(), shutdown(wait, cancel_pending),
a context manager; CancelledError.

How the checks see the pool:
- A "gate" task holds a worker until the check opens it, so the check can queue tasks behind busy
  workers and know exactly which tasks were still queued when shutdown() was called.
- Tasks record what ran (the exactly-once oracle compares "accepted by submit()" with "ran").
- The threads that appear while a pool lives are its workers (the check's own threads are named
  "check-..."): shutdown(wait=True) must leave none of them alive.
- shutdown() is always called from the check's main thread (or, in the race, from a check thread
  the main thread joins), never under a timeout of the check's own: workers that nobody wakes are
  then named by the harness (lost wake-up) instead of the item timing out. Every other wait of the
  check has a timeout.
- workers_block counts the Python calls each worker makes while the pool is idle (a profile hook
  installed before the pool starts its threads) and their CPU time: a blocked worker makes none.
- exit_clean runs a small script in a fresh interpreter: the workers must be non-daemon (tasks left
  after shutdown(wait=False) still run before the interpreter exits) and must let it exit.

Standard library only.
"""
import ast
import os
import re
import subprocess
import sys
import threading
import time

from grade_oracles import await_waiting, exactly_once, in_wait

WAIT = 3.0          # seconds any single wait of the check may take before it gives up
CHECK = "check-"    # prefix of the check's own thread names
CHECK_THREADS = (CHECK, "call")

HINT_DRAIN = ("shutdown() must let the workers finish every queued task: queue one stop marker per worker "
              "BEHIND the tasks (a worker stops when it takes a marker), rather than a flag the workers "
              "check between tasks (the guide's pool exits as soon as the flag is set, dropping the backlog)")
HINT_WAKE = ("a worker blocked in queue.get() only wakes up when something is put on the queue: shutdown() "
             "must put one stop marker per worker; setting a flag (or an Event) wakes nobody")
HINT_RACE = ("'is the pool open?' and 'queue the task' must be ONE step: do both under the lock that "
             "shutdown() takes to close the pool (the guide checks the Event, then puts: shutdown() can "
             "run in between, and the task lands behind the workers' stop markers)")
HINT_BLOCK = ("a worker should sleep in queue.get() with no timeout until a task (or a stop marker) "
              "arrives; get(timeout=...) in a loop, get_nowait() or sleep() polling wakes it up for nothing")


class _Unset:
    pass


def _module(ctx):
    tp = ctx.student("thread_pool")
    for name in ("ThreadPool", "CancelledError"):
        ctx.expect(hasattr(tp, name), "thread_pool.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return tp


def _check_thread(t):
    return t.name.startswith(CHECK_THREADS)


class _Pool:
    """A ThreadPool plus the threads that appeared while it lived (its workers)."""

    def __init__(self, ctx, tp, n):
        self.ctx = ctx
        self.n = n
        self.before = set(threading.enumerate())
        self.p = tp.ThreadPool(n)
        self.started = self.new_threads()

    def new_threads(self):
        return [t for t in threading.enumerate() if t not in self.before and t.is_alive() and not _check_thread(t)]

    def expect_none_left(self, what):
        left = self.new_threads()
        self.ctx.expect(not left, "%s returned while %d thread(s) the pool started were still alive: %s"
                        % (what, len(left), ", ".join(t.name for t in left[:6])),
                        hint="shutdown(wait=True) must join every worker thread before it returns")

    def shutdown_and_check(self, **kwargs):
        self.p.shutdown(**kwargs)
        if kwargs.get("wait", True):
            self.expect_none_left("shutdown(%s)" % ", ".join("%s=%r" % kv for kv in sorted(kwargs.items())))


class _Gate:
    """A task that occupies one worker until opened, so the check can queue tasks behind it."""

    def __init__(self, timeout=WAIT):
        self.started = threading.Event()
        self.opened = threading.Event()
        self.timeout = timeout

    def __call__(self):
        self.started.set()
        self.opened.wait(self.timeout)
        return "gate"


def _occupy_all(ctx, pool, what):
    """A gate on every worker; returns (gates, their futures)."""
    gates, futures = [], []
    for i in range(pool.n):
        g = _Gate()
        futures.append(pool.p.submit(g))
        ctx.expect(g.started.wait(WAIT), "%s: ThreadPool(%d) with %d worker(s) busy: a newly submitted task "
                   "did not start within %.0f s" % (what, pool.n, i, WAIT),
                   hint="the pool must run num_threads tasks at once; submit() must wake a waiting worker")
        gates.append(g)
    return gates, futures


def _open_later(gates, delay):
    def open_gates():
        for g in gates:
            g.opened.set()
    timer = threading.Timer(delay, open_gates)
    timer.name = CHECK + "gate-timer"
    timer.start()
    return timer


def _recorder():
    ran = []
    lock = threading.Lock()

    def make(item, value=_Unset):
        def task():
            with lock:
                ran.append(item)
            return item if value is _Unset else value
        return task
    return ran, make


def _raises(ctx, exc_type, fn, what, hint=None):
    """Calls fn; fails unless it raises exc_type; returns the exception."""
    try:
        value = fn()
    except exc_type as exc:
        return exc
    except Exception as exc:  # the wrong exception
        ctx.fail("%s raised %s: %s, expected %s" % (what, type(exc).__name__, exc, exc_type.__name__), hint=hint)
    ctx.fail("%s returned %r instead of raising %s" % (what, value, exc_type.__name__), hint=hint)


def _result(ctx, future, what, timeout=WAIT):
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        ctx.fail("%s: result(timeout=%.0f) timed out: the task never finished" % (what, timeout))


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Values, args and kwargs, done(), result(timeout), submit after shutdown, a second shutdown,
    the context manager."""
    tp = _module(ctx)
    _raises(ctx, ValueError, lambda: tp.ThreadPool(0), "ThreadPool(0)", hint="num_threads must be >= 1")

    pool = _Pool(ctx, tp, 2)
    p = pool.p
    f = p.submit(pow, 2, 10)
    ctx.expect_eq(_result(ctx, f, "submit(pow, 2, 10)"), 1024, "submit(pow, 2, 10).result()")
    ctx.expect(f.done() is True, "done() of a task whose result() returned should be True, got %r" % (f.done(),))
    ctx.expect_eq(f.result(), 1024, "a second result() of the same future")
    f = p.submit("{a}-{b}".format, a="x", b=7)
    ctx.expect_eq(_result(ctx, f, "submit(fmt, a=.., b=..)"), "x-7", "submit('{a}-{b}'.format, a='x', b=7).result()")
    f = p.submit(list)
    ctx.expect_eq(_result(ctx, f, "submit(list)"), [], "submit(list).result() (no arguments)")
    futures = [p.submit(divmod, 100 + k, 7) for k in range(20)]
    got = [_result(ctx, fu, "submit(divmod, ...)") for fu in futures]
    ctx.expect_eq(got, [divmod(100 + k, 7) for k in range(20)],
                  "results of 20 submit(divmod, 100 + k, 7) futures, each read from its own future",
                  hint="each submit() returns its own future, which holds that task's value")

    gate = _Gate()
    gf = p.submit(gate)
    ctx.expect(gate.started.wait(WAIT), "a task submitted to an idle pool did not start within %.0f s" % WAIT)
    ctx.expect(gf.done() is False, "done() of a task still running should be False, got %r" % (gf.done(),))
    t0 = time.monotonic()
    _raises(ctx, TimeoutError, lambda: gf.result(timeout=0.1), "result(timeout=0.1) of a task still running",
            hint="Event.wait(timeout) returns False when the time is up: raise TimeoutError then")
    took = time.monotonic() - t0
    ctx.expect(took < 1.0, "result(timeout=0.1) of a running task took %.2f s to give up" % took)
    gate.opened.set()
    ctx.expect_eq(_result(ctx, gf, "the gate task"), "gate", "result() of the task once it finished")
    pool.shutdown_and_check()
    _raises(ctx, RuntimeError, lambda: p.submit(pow, 2, 2), "submit() after shutdown()",
            hint="once shutdown() was called, submit() raises RuntimeError")
    _raises(ctx, RuntimeError, lambda: p.map(abs, [1, 2]), "map() after shutdown()",
            hint="once shutdown() was called, map() raises RuntimeError (it submits)")
    try:
        ctx.call_with_timeout(p.shutdown, WAIT)
    except ctx.CheckFailed:
        ctx.fail("a second shutdown() did not return within %.0f s" % WAIT,
                 hint="shutdown() must be harmless when called again")

    ran, make = _recorder()
    before = set(threading.enumerate())
    with tp.ThreadPool(2) as q:
        ctx.expect(isinstance(q, tp.ThreadPool), "`with ThreadPool(2) as q:` gave q = %r, not the pool" % (q,),
                   hint="__enter__ returns self")
        for i in range(6):
            q.submit(make(i))
    ctx.expect(sorted(ran) == list(range(6)), "the tasks submitted inside `with ThreadPool(2) as q:` had not all "
               "run when the block ended (ran: %r)" % sorted(ran), hint="__exit__ calls shutdown(wait=True)")
    left = [t for t in threading.enumerate() if t not in before and t.is_alive() and not _check_thread(t)]
    ctx.expect(not left, "the `with ThreadPool(2)` block ended while its worker thread(s) %s were still alive"
               % ", ".join(t.name for t in left), hint="__exit__ calls shutdown(wait=True), which joins the workers")


class _Boom(Exception):
    pass


def errors(ctx):
    """A task's exception is re-raised by its future's result(), the worker survives it, and map()
    re-raises the first failing item's exception (in input order)."""
    tp = _module(ctx)
    w, n, every = ctx.params["workers"], ctx.params["tasks"], ctx.params["fail_every"]
    pool = _Pool(ctx, tp, w)
    p = pool.p
    raised = {}

    def task(k):
        if k % every == 0:
            raised[k] = _Boom("task %d fails on purpose" % k)
            raise raised[k]
        return k * k
    futures = [p.submit(task, k) for k in range(n)]
    for k, f in enumerate(futures):
        if k % every == 0:
            try:
                value = f.result(timeout=WAIT)
            except _Boom as exc:
                ctx.expect(exc is raised.get(k), "result() of task %d raised a different exception than the one "
                           "the task raised (%r instead of %r)" % (k, exc, raised.get(k)),
                           hint="keep the exception object the task raised and raise it again in result()")
                continue
            except TimeoutError:
                alive = [t.name for t in pool.started if t.is_alive()]
                ctx.fail("%d tasks on ThreadPool(%d), every %d-th raising: task %d never finished; pool threads "
                         "still alive: %s" % (n, w, every, k, ", ".join(alive) or "none"),
                         hint="catch the exception around the task call, store it in the future, and keep "
                              "the worker loop going")
            except Exception as exc:
                ctx.fail("result() of task %d, which raised %s, raised %s: %s instead"
                         % (k, _Boom.__name__, type(exc).__name__, exc))
            ctx.fail("result() of task %d, which raised %s('task %d fails on purpose'), returned %r instead of "
                     "re-raising the exception" % (k, _Boom.__name__, k, value),
                     hint="catch the exception in the worker, store it in the task's future, and raise it from "
                          "result(); printing it (as the guide does) loses it")
        else:
            ctx.expect_eq(_result(ctx, f, "task %d" % k), k * k, "result() of task %d (after failing tasks)" % k,
                          hint="a failing task must not kill its worker")

    # map(): items `first` and `later` fail; `first` fails late (it sleeps), yet it is the one re-raised.
    first, later, items = ctx.params["map_first"], ctx.params["map_later"], ctx.params["map_items"]

    def mtask(k):
        if k == first:
            time.sleep(0.05)
        if k in (first, later):
            raise _Boom(k)
        return -k
    try:
        got = p.map(mtask, range(items))
    except _Boom as exc:
        ctx.expect(exc.args == (first,), "map(fn, range(%d)) where items %d and %d raise (item %d a little later): "
                   "map() raised the exception of item %r; it must raise the first failing item's in INPUT "
                   "order (%d)" % (items, first, later, first, exc.args[0] if exc.args else None, first),
                   hint="wait for the futures in input order and let the first failing result() raise")
    else:
        ctx.fail("map(fn, range(%d)) where items %d and %d raise returned %r instead of raising"
                 % (items, first, later, got), hint="map() collects result() of each future, which re-raises")
    ctx.expect_eq(_result(ctx, p.submit(pow, 3, 3), "a task after the failures"), 27,
                  "result() of a task submitted after failing tasks")
    pool.shutdown_and_check()


def map_order(ctx):
    """map() returns results in input order, whatever order the tasks finish in."""
    tp = _module(ctx)
    w, n, step = ctx.params["workers"], ctx.params["items"], ctx.params["step_s"]
    pool = _Pool(ctx, tp, w)
    p = pool.p

    def slow_square(k):
        time.sleep((n - k) * step)      # later items finish first
        return k * k
    got = p.map(slow_square, range(n))
    ctx.expect(isinstance(got, list), "map() must return a list, got %s" % type(got).__name__)
    want = [k * k for k in range(n)]
    if got != want:
        same = sorted(got) == sorted(want) if all(isinstance(x, int) for x in got) else False
        ctx.fail("map(square, range(%d)) on ThreadPool(%d), later items finishing first: got %r; expected %r%s"
                 % (n, w, got, want, " (the right results, in completion order)" if same else ""),
                 hint="keep the futures in input order and read result() from each in that order; a shared "
                      "results list filled by the workers (the guide's) is in completion order")
    ctx.expect_eq(p.map(str.upper, (s for s in ["a", "b", "c"])), ["A", "B", "C"], "map(str.upper, <generator>)")
    ctx.expect_eq(p.map(abs, []), [], "map(abs, [])")
    pool.shutdown_and_check()


def shutdown_drains(ctx):
    """shutdown() with every worker busy and a backlog: each accepted task runs exactly once, before
    shutdown() returns; shutdown(wait=False) returns at once and the backlog still runs."""
    tp = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    pool = _Pool(ctx, tp, w)
    gates, _ = _occupy_all(ctx, pool, "shutdown()")
    ran, make = _recorder()
    futures = [pool.p.submit(make(i, i * 10)) for i in range(n)]
    timer = _open_later(gates, delay)
    t0 = time.monotonic()
    pool.shutdown_and_check()                 # every worker busy, n tasks queued
    took = time.monotonic() - t0
    at_return = list(ran)
    timer.join(WAIT)
    msg = exactly_once(list(range(n)), at_return, what="queued task")
    ctx.oracle(msg and "shutdown() on ThreadPool(%d) with every worker busy and %d tasks queued returned after "
               "%.2f s, and (exactly-once oracle) %s: shutdown() must drain the queue, not drop it" % (w, n, took, msg),
               hint=HINT_DRAIN)
    bad = []
    for i, f in enumerate(futures):
        try:
            if f.result(timeout=0.1) != i * 10:
                bad.append(i)
        except Exception:  # reported below
            bad.append(i)
    ctx.expect(not bad, "after shutdown() (it took %.2f s), %d queued task(s) have no value in their future, "
               "first task %d" % (took, len(bad), bad[0] if bad else -1), hint=HINT_DRAIN)

    # wait=False: returns while the workers are still busy; they finish the backlog on their own.
    pool = _Pool(ctx, tp, w)
    gates, _ = _occupy_all(ctx, pool, "shutdown(wait=False)")
    ran, make = _recorder()
    futures = [pool.p.submit(make(i)) for i in range(n)]
    try:
        ctx.call_with_timeout(lambda: pool.p.shutdown(wait=False), 1.0)
    except ctx.CheckFailed:
        for g in gates:
            g.opened.set()
        ctx.fail("shutdown(wait=False) with every worker busy did not return within 1 s: it must not wait",
                 hint="join the workers only when wait is true")
    _raises(ctx, RuntimeError, lambda: pool.p.submit(abs, 1), "submit() after shutdown(wait=False)")
    for g in gates:
        g.opened.set()
    for i, f in enumerate(futures):
        _result(ctx, f, "task %d queued before shutdown(wait=False)" % i)
    pool.shutdown_and_check()                 # a second call, with wait: joins
    msg = exactly_once(list(range(n)), ran, what="task queued before shutdown(wait=False)")
    ctx.oracle(msg and "shutdown(wait=False), then shutdown(): %s" % msg, hint=HINT_DRAIN)


def shutdown_cancels(ctx):
    """shutdown(cancel_pending=True): running tasks finish, queued ones never start, their futures
    are cancelled (result() raises CancelledError, also in a thread already waiting)."""
    tp = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    ctx.expect(isinstance(tp.CancelledError, type) and issubclass(tp.CancelledError, Exception),
               "CancelledError must be an exception class (a subclass of Exception)")
    pool = _Pool(ctx, tp, w)
    gates, gfutures = _occupy_all(ctx, pool, "shutdown(cancel_pending=True)")
    ran, make = _recorder()
    futures = [pool.p.submit(make(i)) for i in range(n)]
    box = {}

    def waiter():
        try:
            box["value"] = futures[-1].result(timeout=WAIT)
        except BaseException as exc:  # reported below
            box["error"] = exc
        box["at"] = time.monotonic()
    wt = threading.Thread(target=waiter, name=CHECK + "waiter", daemon=True)
    wt.start()
    time.sleep(0.02)
    timer = _open_later(gates, delay)
    t0 = time.monotonic()
    pool.shutdown_and_check(cancel_pending=True)
    timer.join(WAIT)
    wt.join(WAIT)
    ctx.expect(not ran, "shutdown(cancel_pending=True) with %d tasks queued behind busy workers: %d of them ran "
               "anyway (first %r)" % (n, len(ran), ran[:1]),
               hint="take the queued tasks out of the queue (get_nowait() until queue.Empty) and cancel "
                    "them, before the stop markers go in")
    for gf in gfutures:
        ctx.expect(_result(ctx, gf, "a task running at shutdown(cancel_pending=True)") == "gate" and
                   not gf.cancelled(), "a task already running when shutdown(cancel_pending=True) was called must "
                   "finish normally (and cancelled() be False)")
    for i, f in enumerate(futures):
        ctx.expect(f.done() is True and f.cancelled() is True,
                   "queued task %d after shutdown(cancel_pending=True): done() and cancelled() should both be "
                   "True, got %r and %r" % (i, f.done(), f.cancelled()))
        _raises(ctx, tp.CancelledError, lambda f=f: f.result(timeout=0.5),
                "result() of queued task %d after shutdown(cancel_pending=True)" % i,
                hint="a cancelled future's result() raises the module's CancelledError at once")
    ctx.expect("at" in box, "a thread waiting in result() of a queued task did not return within %.0f s of "
               "shutdown(cancel_pending=True)" % WAIT, hint="cancelling must wake the future's waiters (set its Event)")
    ctx.expect(isinstance(box.get("error"), tp.CancelledError),
               "a thread waiting in result() of a queued task when shutdown(cancel_pending=True) was called got "
               "%s instead of CancelledError" % ("the value %r" % box["value"] if "value" in box
                                                 else "%s: %s" % (type(box.get("error")).__name__, box.get("error"))),
               hint="cancelling must wake the future's waiters, and result() must then raise CancelledError")
    ctx.expect(box["at"] - t0 < delay + 1.0, "result() of a cancelled task returned %.2f s after shutdown("
               "cancel_pending=True) was called" % (box["at"] - t0))


def future_waiters(ctx):
    """Several threads wait in result() (no timeout) of ONE future whose task is held by a gate; every
    one of them is inside its wait before the gate opens. Each must return the task's value (then, in
    a second round, re-raise its exception). Nothing but the task's end wakes them: shutdown() comes
    after they all returned, so a future that wakes one waiter (notify() where notify_all() is needed)
    leaves the others asleep, and the harness names the lost wake-up."""
    tp = _module(ctx)
    k, stuck_s = ctx.params["waiters"], ctx.params["stuck_s"]
    pool = _Pool(ctx, tp, 1)
    for what, outcome in (("returned 'gate'", None), ("raised ValueError('boom')", ValueError("boom"))):
        gate = _Gate()

        def task(gate=gate, outcome=outcome):
            gate()
            if outcome is not None:
                raise outcome
            return "gate"
        future = pool.p.submit(task)
        got, threads = {}, []

        def waiter(i, future=future, got=got, threads=threads):
            threads.append(threading.current_thread())
            try:
                got[i] = ("value", future.result())
            except Exception as exc:  # noqa: BLE001 - compared below
                got[i] = ("error", exc)

        def opener(gate=gate, got=got, threads=threads):
            gate.started.wait(WAIT)
            deadline = time.monotonic() + WAIT
            while len(threads) < k and time.monotonic() < deadline:
                time.sleep(0.002)
            await_waiting(threads, 1.0)
            gate.opened.set()
            since, deadline = None, time.monotonic() + WAIT
            while len(got) < k and time.monotonic() < deadline:
                rest = [t for t in threads if t.is_alive()]
                if not rest or not all(in_wait(t) for t in rest):
                    since = None
                elif since is None:
                    since = time.monotonic()
                elif time.monotonic() - since > stuck_s:
                    return  # asleep although the task ended: no shutdown(), which might wake them
                time.sleep(0.005)

        ctx.run_threads([lambda i=i: waiter(i) for i in range(k)] + [opener],
                        names=[CHECK + "waiter-%d" % i for i in range(k)] + [CHECK + "opener"])
        for i in range(k):
            kind, v = got.get(i, (None, None))
            ok = (kind, v) == ("value", "gate") if outcome is None else (kind == "error" and v is outcome)
            ctx.expect(ok, "%d threads waited in result() of one future whose task then %s: waiter %d got %s"
                       % (k, what, i, "nothing" if kind is None else "%s %r" % (kind, v)),
                       hint="any number of threads may wait in result() of one future: wake them all "
                            "(Event.set(), or notify_all() on the future's condition)")
    pool.shutdown_and_check()


def pool_size(ctx):
    """Built from threading and queue (no concurrent.futures); ThreadPool(n) starts exactly n threads;
    n tasks run at once, never more; no thread is added while they are busy; tasks run on those n
    threads only."""
    tp = _module(ctx)
    _built_from_primitives(ctx, tp)
    w, rounds, extra = ctx.params["workers"], ctx.params["rounds"], ctx.params["extra_tasks"]
    pool = _Pool(ctx, tp, w)
    ctx.expect(len(pool.started) == w, "ThreadPool(%d) started %d thread(s) in its constructor (%s); exactly %d "
               "worker threads must exist" % (w, len(pool.started), ", ".join(t.name for t in pool.started[:8]), w),
               hint="start num_threads worker threads in __init__, no more, no fewer")
    meter = ctx.meter(bound=w)
    barrier = threading.Barrier(w, timeout=ctx.params["barrier_timeout"])
    broken = []

    def meet(k):
        with meter:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                broken.append(k)
        return threading.get_ident()
    futures = [pool.p.submit(meet, k) for k in range(w * rounds)]
    idents = {_result(ctx, f, "task %d of %d meeting at a barrier" % (k, len(futures)), timeout=WAIT + 2)
              for k, f in enumerate(futures)}
    ctx.expect(meter.first_violation is None, "ThreadPool(%d): %d tasks ran at once (%s): more than num_threads"
               % (w, meter.max, meter.first_violation), hint="never run a task outside the pool's workers")
    ctx.expect(not broken and meter.max == w,
               "ThreadPool(%d): tasks that meet in groups of %d at a barrier timed out waiting for each other "
               "(%d of %d); at most %d ran at once: the pool does not run %d tasks in parallel"
               % (w, w, len(broken), len(futures), meter.max, w),
               hint="run each task outside any lock of the pool, so that every worker runs one at the same time")
    gates, _ = _occupy_all(ctx, pool, "pool size")
    ran = []

    def rec(i):
        ran.append(i)
        return threading.get_ident()
    more = [pool.p.submit(rec, i) for i in range(extra)]
    time.sleep(ctx.params["watch_s"])
    early, now = list(ran), pool.new_threads()
    for g in gates:
        g.opened.set()
    for f in more:
        idents.add(_result(ctx, f, "a task queued behind busy workers"))
    ctx.expect(not early and len(now) == w, "ThreadPool(%d) with its %d workers busy and %d tasks queued: %d "
               "task(s) started anyway and %d threads were alive (%s); a queued task waits for a free worker"
               % (w, w, extra, len(early), len(now), ", ".join(t.name for t in now[:8])),
               hint="start num_threads workers in __init__ and never more")
    mine = {t.ident for t in pool.started}
    ctx.expect(idents <= mine, "ThreadPool(%d): tasks ran on %d thread(s) that are not the pool's %d workers"
               % (w, len(idents - mine), w), hint="tasks run only in the worker threads")
    pool.shutdown_and_check()


def workers_block(ctx):
    """While the pool is idle, its workers sleep in get(): they make no Python calls at all (polling
    wakes them up every timeout) and use no CPU time (spinning burns a core)."""
    tp = _module(ctx)
    p = ctx.params
    w, warm, idle, max_calls, max_cpu = p["workers"], p["warm"], p["idle_s"], p["max_calls"], p["max_cpu_fraction"]
    counts = {}

    def profile(frame, event, arg):
        ident = threading.get_ident()
        counts[ident] = counts.get(ident, 0) + 1
    threading.setprofile(profile)           # threads started from now on (the workers) get it
    try:
        pool = _Pool(ctx, tp, w)
    finally:
        threading.setprofile(None)
    for f in [pool.p.submit(pow, k, 2) for k in range(warm)]:
        _result(ctx, f, "a warm-up task")
    workers = [t for t in pool.started if t.is_alive()]
    # Settle: wait (up to settle_s) until no worker has made a call for settle_quiet_s, so that a worker
    # still on its way back to get() on a loaded machine is not taken for a polling one.
    deadline = time.monotonic() + p["settle_s"]
    last = None
    while time.monotonic() < deadline:
        now = {t.ident: counts.get(t.ident, 0) for t in workers}
        if now == last:
            break
        last = now
        time.sleep(p["settle_quiet_s"])
    cpu0 = {t: ctx.thread_cpu(t) for t in workers}
    calls0 = {t: counts.get(t.ident, 0) for t in workers}
    t0 = time.monotonic()
    time.sleep(idle)
    wall = time.monotonic() - t0
    cpu = {t.name: ctx.thread_cpu(t) - cpu0[t] for t in workers}
    calls = {t.name: counts.get(t.ident, 0) - calls0[t] for t in workers}
    pool.shutdown_and_check()
    total_cpu = sum(cpu.values())
    if total_cpu > max_cpu * wall:
        busiest = sorted(cpu.items(), key=lambda kv: -kv[1])[:4]
        ctx.fail("while the pool was idle for %.2f s, its workers used %.2f s of CPU (%.0f%% of the wall time; "
                 "%s): they busy-wait instead of blocking" % (wall, total_cpu, 100 * total_cpu / wall,
                                                               ", ".join("%s %.2f s" % kv for kv in busiest)),
                 hint=HINT_BLOCK)
    awake = {name: c for name, c in calls.items() if c > max_calls}
    if awake:
        ctx.fail("while the pool was idle for %.2f s, %d of its %d worker(s) kept waking up (%s Python calls; a "
                 "blocked worker makes none): they poll, as the guide's get(timeout=0.1) loop does"
                 % (wall, len(awake), len(workers), ", ".join("%s %d" % kv for kv in sorted(awake.items()))),
                 hint=HINT_BLOCK)


_EXIT_SCRIPT = r'''
import faulthandler, os, sys, time
faulthandler.dump_traceback_later(%(limit)r, exit=True)
sys.path.insert(0, %(root)r)
import thread_pool

def say(text):
    os.write(1, (text + "\n").encode())

def task(phase, k):
    time.sleep(%(task_s)r)
    say("ran %%s %%d" %% (phase, k))

with thread_pool.ThreadPool(%(workers)d) as pool:
    for f in [pool.submit(task, "with", k) for k in range(%(tasks)d)]:
        f.result()
    say("with-block-idle")                  # every worker is back waiting in get()
say("with-block-ended")
pool = thread_pool.ThreadPool(%(workers)d)
for k in range(%(tasks)d):
    pool.submit(task, "nowait", k)
pool.shutdown(wait=False)
say("main-ended")
'''


def exit_clean(ctx):
    """A script in a fresh interpreter: a `with` block, then shutdown(wait=False) with tasks left and the
    main thread ending. The interpreter must run every task (non-daemon workers) and then exit."""
    tp = _module(ctx)
    p = ctx.params
    w, n, limit = p["workers"], p["tasks"], p["limit_s"]
    script = _EXIT_SCRIPT % {"limit": limit, "root": ctx.root, "task_s": p["task_s"], "workers": w, "tasks": n}
    try:
        out = subprocess.run([sys.executable, "-I", "-B", "-c", script], cwd=ctx.root, capture_output=True,
                             timeout=limit + 3, text=True)
        code, stdout, stderr = out.returncode, out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:
        code, stdout, stderr = None, _text(exc.stdout), _text(exc.stderr)
    lines = stdout.splitlines()
    hung = code is None or "Thread 0x" in stderr and "most recent call first" in stderr
    where = sorted(set(re.findall(r'File "[^"]*thread_pool\.py", line (\d+) in (\w+)', stderr)))[:4]
    at = " (threads stuck at %s)" % ", ".join("thread_pool.py:%s in %s" % x for x in where) if where else ""
    last = (stderr.strip().splitlines() or [""])[-1][:200]
    if "with-block-ended" not in lines:
        ctx.fail("a script whose `with ThreadPool(%d) as pool:` block ran %d tasks and read their results %s"
                 "never got past the end of the block%s%s"
                 % (w, n, "(so every worker was idle in get()) " if "with-block-idle" in lines else "",
                    " within %.1f s: shutdown() hangs" % limit if hung else " (exit status %r: %s)" % (code, last),
                    at),
                 hint=HINT_WAKE if hung else "run the script yourself and read its traceback")
    nowait = {ln for ln in lines if ln.startswith("ran nowait ")}
    if hung:
        ctx.fail("a script called shutdown(wait=False) with %d tasks queued and let its main thread end; the "
                 "interpreter did not exit within %.1f s: worker threads nobody woke keep it alive%s"
                 % (n, limit, at), hint=HINT_WAKE)
    if len(nowait) != n:
        pool = _Pool(ctx, tp, w)            # only now: a pool whose shutdown() hangs never gets here
        daemons = [t.name for t in pool.started if t.daemon]
        pool.shutdown_and_check()
        ctx.fail("a script called shutdown(wait=False) with %d tasks queued and let its main thread end: only %d "
                 "of them ran before the interpreter exited (exit status %r)%s" % (
                     n, len(nowait), code, "; the pool's workers are daemon threads (%s), killed at exit"
                     % ", ".join(daemons[:4]) if daemons else ""),
                 hint="workers must be non-daemon threads: the interpreter then waits for them to finish the "
                      "backlog (daemon threads are stopped abruptly at exit)" if daemons else HINT_DRAIN)
    ctx.expect(code == 0, "the script using the pool exited with status %r: %s" % (code, stderr.strip()[-400:]))


def _text(b):
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


# ---------------------------------------------------------------------------------------------
# problem_solving (controlled scheduler)


def submit_shutdown_race(ctx):
    """Submitter threads submit until they are refused while another thread calls shutdown(): every
    task submit() accepted runs exactly once before shutdown() returns, and a submit() that starts
    after shutdown() returned is refused."""
    tp = _module(ctx)
    p = ctx.params
    w, subs, cap = p["workers"], p["submitters"], p["max_per_submitter"]
    for r in range(p["rounds"]):
        pool = _Pool(ctx, tp, w)
        ran, accepted, late, capped = [], [], [], []
        state = {"returned": False}
        delay = ctx.rng.randrange(p["closer_delay"])

        def task(k):
            ran.append(k)
            return k

        def submitter(s):
            for i in range(cap):
                after = state["returned"]
                try:
                    f = pool.p.submit(task, (s, i))
                except RuntimeError:
                    return
                accepted.append(((s, i), f))
                if after:
                    late.append((s, i))
            capped.append(s)

        def closer():
            for _ in range(delay):
                time.sleep(0)       # a switch point under the controlled scheduler
            pool.p.shutdown()
            state["returned"] = True
        ctx.run_threads([closer] + [lambda s=s: submitter(s) for s in range(subs)],
                        names=[CHECK + "closer"] + [CHECK + "submitter-%d" % s for s in range(subs)])
        what = "round %d: %d threads submitting while another calls shutdown() on ThreadPool(%d)" % (r + 1, subs, w)
        ctx.expect(not late, "%s: submit() called after shutdown() had returned accepted task %r instead of "
                   "raising RuntimeError" % (what, late[:1]), hint=HINT_RACE)
        ctx.expect(not capped, "%s: submit() still accepted tasks %d times in a row after shutdown() was called"
                   % (what, cap), hint="submit() must raise RuntimeError once shutdown() was called")
        msg = exactly_once([k for k, _ in accepted], ran, what="task")
        if msg:
            done = set(ran)
            never = [k for k, _ in accepted if k not in done]
            if never:
                ctx.fail("%s: submit() accepted %d task(s) that never ran, first %r: it returned their futures, but "
                         "shutdown() returned without running them (exactly-once oracle: %s)"
                         % (what, len(never), never[0], msg), hint=HINT_RACE)
            ctx.fail("%s: %s" % (what, msg), hint=HINT_RACE)
        pool.expect_none_left("shutdown() racing with submit()")


def shutdown_wakes(ctx):
    """shutdown() wakes idle workers (a fresh pool, a pool that ran tasks, wait=False then wait=True),
    and shutdown(cancel_pending=True) wakes a thread blocked in result() of a queued task."""
    tp = _module(ctx)
    w = ctx.params["workers"]
    pool = _Pool(ctx, tp, w)
    pool.shutdown_and_check()                                  # never had a task
    pool = _Pool(ctx, tp, w)
    for f in [pool.p.submit(pow, 2, k) for k in range(2 * w)]:
        f.result()
    pool.shutdown_and_check()                                  # every worker idle in get()
    pool = _Pool(ctx, tp, w)
    pool.p.submit(pow, 2, 3).result()
    pool.p.shutdown(wait=False)
    pool.shutdown_and_check()                                  # then wait for them
    # A thread waits (no timeout) in result() of a task queued behind a busy worker.
    pool = _Pool(ctx, tp, 1)
    gate = _Gate(timeout=None)
    pool.p.submit(gate)
    queued = pool.p.submit(pow, 2, 5)
    box = {}

    def waiter():
        try:
            box["value"] = queued.result()
        except tp.CancelledError:
            box["value"] = "cancelled"
    t = threading.Thread(target=waiter, name=CHECK + "waiter")
    t.start()
    gate.started.wait()
    gate.opened.set()
    pool.shutdown_and_check(cancel_pending=True)
    t.join()                     # a waiter nobody wakes is named by the harness (lost wake-up)
    ctx.expect(box.get("value") in (32, "cancelled"), "result() of a task queued when shutdown(cancel_pending=True) "
               "was called returned %r (expected 32 if it ran, or CancelledError)" % (box.get("value"),))


# ---------------------------------------------------------------------------------------------
# helpers of pool_size


_BANNED = ("concurrent.futures", "concurrent", "multiprocessing.pool", "multiprocessing.dummy")


def _built_from_primitives(ctx, tp):
    """The pool is built from threading and queue: no concurrent.futures, no multiprocessing pools."""
    path = os.path.join(ctx.root, "thread_pool.py")
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
    except (OSError, SyntaxError, ValueError) as exc:
        ctx.fail("could not read thread_pool.py: %s" % exc)
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + ["%s.%s" % (node.module, a.name) for a in node.names]
        for name in names:
            if name in _BANNED or name.startswith(("concurrent.", "multiprocessing.pool", "multiprocessing.dummy")):
                found.append((node.lineno, name))
                break
    ctx.expect(not found, "thread_pool.py imports %s (line %d): the exercise is to build the pool from threading "
               "primitives and queue.Queue" % (found[0][1], found[0][0]) if found else "",
               hint="use threading.Thread, threading.Lock/Event/Condition and queue.Queue only")
    ctx.expect(not any(getattr(getattr(tp, n), "__module__", "").startswith("concurrent")
                       for n in ("ThreadPool", "CancelledError")),
               "thread_pool.py's ThreadPool or CancelledError comes from concurrent.futures",
               hint="define your own classes")


# ---------------------------------------------------------------------------------------------
# performance


def bench_pool(ctx):
    """Timed: (a) `tasks` short sleeping tasks on `workers` threads (a pool that runs tasks one at a time
    is slow here); (b) map() over `map_items` tiny items (per-task overhead); (c) a chain of `chain`
    tasks, each submitted once the previous result() returned (every step wakes an idle worker and a
    waiting caller); then shutdown(). Results are checked; a call that hangs fails after timeout_s."""
    tp = ctx.student("thread_pool")
    p = ctx.params
    w, n, nap, items, chain, limit = p["workers"], p["tasks"], p["task_sleep"], p["map_items"], p["chain"], p["timeout_s"]

    def task(k):
        time.sleep(nap)
        return k

    def run():
        pool = tp.ThreadPool(w)
        futures = [pool.submit(task, k) for k in range(n)]
        if [f.result(WAIT) for f in futures] != list(range(n)):
            raise AssertionError("submit(): wrong results")
        if sorted(pool.map(abs, range(-items, 0))) != list(range(1, items + 1)):   # order: map-order's job
            raise AssertionError("map(abs, range(-%d, 0)): wrong results" % items)
        for i in range(chain):
            if pool.submit(abs, -i).result(WAIT) != i:
                raise AssertionError("submit(abs, -%d): wrong result" % i)
        pool.shutdown()

    def workload():
        box = {}

        def body():
            try:
                run()
            except BaseException as exc:  # re-raised in the timed thread
                box["error"] = exc
        t = threading.Thread(target=body, name=CHECK + "bench", daemon=True)
        t.start()
        t.join(limit)
        if t.is_alive():
            ctx.fail("one round (%d sleeping tasks, map over %d items, a chain of %d, shutdown()) did not finish "
                     "within %.1f s" % (n, items, chain, limit), hint=HINT_WAKE)
        if "error" in box:
            raise box["error"]
    return workload
