"""Workloads for ex-thread-pool: the teaching guide's ThreadPool (Module 3, Lesson 2), done right. Each
records what the student's pool did; judge.py, which the submission never sees, gives the verdicts.

The student's API is the docstring of starter/ex-thread-pool/thread_pool.py: ThreadPool(num_threads)
with submit() -> Future (result(timeout), done(), cancelled()), map(), shutdown(wait, cancel_pending),
a context manager; CancelledError.

How the checks see the pool:
- A "gate" task holds a worker until the check opens it, so the check can queue tasks behind busy
  workers and know exactly which tasks were still queued when shutdown() was called.
- Tasks record what ran (the judge's exactly-once oracle compares "accepted by submit()" with "ran").
- The threads that appear while a pool lives are its workers (the check's own threads are named
  "check-..."): every shutdown(wait=True) records those still alive when it returned (`left`, one
  list per call), and the judge wants none.
- shutdown() is always called from the check's main thread (or, in the race, from a check thread
  the main thread joins), never under a timeout of the check's own: workers that nobody wakes are
  then named by the harness (lost wake-up) instead of the item timing out. Every other wait of the
  check has a timeout; one that runs out (a task that never finished) fails the run here.
- workers_block counts the Python calls each worker makes while the pool is idle (a profile hook
  installed before the pool starts its threads) and their CPU time.
- exit_clean runs a small script in a fresh interpreter and records what it printed and how it ended.

An outcome of a call is recorded as {"returned": value, "repr": ...} or {"raised": type name,
"message": ..., "match": whether it is the exception the check asks about (the class lives in the
run: only the run can tell)}.

Standard library only.
"""
import ast
import os
import subprocess
import sys
import threading
import time

from grade_lib_gates import Gate, open_later, recorder
from grade_lib_student import student_module
from grade_oracles import await_waiting, in_wait

WAIT = 3.0          # seconds any single wait of the check may take before it gives up
CHECK = "check-"    # prefix of the check's own thread names
CHECK_THREADS = (CHECK, "call")
HINT_WAKE = ("a worker blocked in queue.get() only wakes up when something is put on the queue: shutdown() "
             "must put one stop marker per worker; setting a flag (or an Event) wakes nobody")


def _module(ctx):
    return student_module(ctx, "thread_pool", ("ThreadPool", "CancelledError"))


def _check_thread(t):
    return t.name.startswith(CHECK_THREADS)


class _Log:
    """Observations: `put` one value, `add` to a list (recorded again, whole, each time)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.lists = {}

    def put(self, key, value):
        self.ctx.observe(key, value)
        return value

    def add(self, key, value):
        self.lists.setdefault(key, []).append(value)
        self.ctx.observe(key, self.lists[key])
        return value


class _Pool:
    """A ThreadPool plus the threads that appeared while it lived (its workers)."""

    def __init__(self, ctx, tp, n, log):
        self.ctx = ctx
        self.n = n
        self.log = log
        self.before = set(threading.enumerate())
        self.p = tp.ThreadPool(n)
        self.started = self.new_threads()

    def new_threads(self):
        return [t for t in threading.enumerate() if t not in self.before and t.is_alive() and not _check_thread(t)]

    def record_left(self):
        """The pool's threads still alive now, by name (`left`: one list per call)."""
        self.log.add("left", [t.name for t in self.new_threads()])

    def shutdown_and_check(self, **kwargs):
        self.p.shutdown(**kwargs)
        if kwargs.get("wait", True):
            self.record_left()


def _occupy_all(ctx, pool, what):
    """A gate on every worker; returns (gates, their futures). A gate that never starts fails the run."""
    gates, futures = [], []
    for i in range(pool.n):
        g = Gate()
        futures.append(pool.p.submit(g))
        ctx.expect(g.started.wait(WAIT), "%s: ThreadPool(%d) with %d worker(s) busy: a newly submitted task "
                   "did not start within %.0f s" % (what, pool.n, i, WAIT),
                   hint="the pool must run num_threads tasks at once; submit() must wake a waiting worker")
        gates.append(g)
    return gates, futures


def _returned(value):
    return {"returned": value, "repr": repr(value)[:300]}


def _raised(exc, exc_type=None):
    return {"raised": type(exc).__name__, "message": str(exc)[:300], "repr": repr(exc)[:300],
            "match": exc_type is not None and isinstance(exc, exc_type)}


def _attempt(fn, exc_type):
    """Calls fn: what it returned, or the Exception it raised (and whether that is an exc_type)."""
    try:
        return _returned(fn())
    except Exception as exc:  # judged: the right exception or not
        return _raised(exc, exc_type)


def _result(ctx, future, what, timeout=WAIT):
    """future.result(timeout): a task that never finishes fails the run here."""
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        ctx.fail("%s: result(timeout=%.0f) timed out: the task never finished" % (what, timeout))


def _list(value):
    """A value that should be a list: whether it is one, and the value."""
    return {"list": isinstance(value, list), "type": type(value).__name__, "value": value, "repr": repr(value)[:300]}


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Values, args and kwargs, done(), result(timeout), submit after shutdown, a second shutdown,
    the context manager."""
    tp = _module(ctx)
    log = _Log(ctx)
    log.put("zero_threads", _attempt(lambda: tp.ThreadPool(0), ValueError))

    pool = _Pool(ctx, tp, 2, log)
    p = pool.p
    f = p.submit(pow, 2, 10)
    log.put("pow", _result(ctx, f, "submit(pow, 2, 10)"))
    log.put("pow_done", f.done())
    log.put("pow_again", f.result())
    f = p.submit("{a}-{b}".format, a="x", b=7)
    log.put("format", _result(ctx, f, "submit(fmt, a=.., b=..)"))
    f = p.submit(list)
    log.put("list", _list(_result(ctx, f, "submit(list)")))
    futures = [p.submit(divmod, 100 + k, 7) for k in range(20)]
    log.put("divmod", [_result(ctx, fu, "submit(divmod, ...)") for fu in futures])

    gate = Gate()
    gf = p.submit(gate)
    ctx.expect(gate.started.wait(WAIT), "a task submitted to an idle pool did not start within %.0f s" % WAIT)
    log.put("running_done", gf.done())
    t0 = time.monotonic()
    log.put("result_timeout", _attempt(lambda: gf.result(timeout=0.1), TimeoutError))
    log.put("result_timeout_took", time.monotonic() - t0)
    gate.opened.set()
    log.put("gate", _result(ctx, gf, "the gate task"))
    pool.shutdown_and_check()
    submit_after = log.put("submit_after", _attempt(lambda: p.submit(pow, 2, 2), RuntimeError))
    if "raised" in submit_after:
        log.put("map_after", _attempt(lambda: p.map(abs, [1, 2]), RuntimeError))
    # else: map() would queue tasks no worker runs and wait for them for ever; the judge fails the item on
    # submit_after, before it would look at map_after
    try:
        ctx.call_with_timeout(p.shutdown, WAIT)
    except ctx.CheckFailed:
        ctx.fail("a second shutdown() did not return within %.0f s" % WAIT,
                 hint="shutdown() must be harmless when called again")

    ran, make = recorder(returns_item=True)
    before = set(threading.enumerate())
    with tp.ThreadPool(2) as q:
        is_pool = isinstance(q, tp.ThreadPool)
        log.put("with_as", {"pool": is_pool, "repr": repr(q)[:200]})
        if is_pool:
            for i in range(6):
                q.submit(make(i))
    log.put("with_ran", list(ran))
    log.put("with_left", [t.name for t in threading.enumerate()
                          if t not in before and t.is_alive() and not _check_thread(t)])


class _Boom(Exception):
    pass


def errors(ctx):
    """Every k-th task raises: what each future's result() gave (and whether a raised exception is the very
    object the task raised); map() where two items raise; a task after the failures."""
    tp = _module(ctx)
    log = _Log(ctx)
    w, n, every = ctx.params["workers"], ctx.params["tasks"], ctx.params["fail_every"]
    pool = _Pool(ctx, tp, w, log)
    p = pool.p
    raised = {}

    def task(k):
        if k % every == 0:
            raised[k] = _Boom("task %d fails on purpose" % k)
            raise raised[k]
        return k * k
    futures = [p.submit(task, k) for k in range(n)]
    outcomes = []
    for k, f in enumerate(futures):
        if k % every == 0:
            try:
                outcomes.append(_returned(f.result(timeout=WAIT)))
            except _Boom as exc:
                outcomes.append(dict(_raised(exc, _Boom), same=exc is raised.get(k), want=repr(raised.get(k))))
            except TimeoutError:
                alive = [t.name for t in pool.started if t.is_alive()]
                ctx.fail("%d tasks on ThreadPool(%d), every %d-th raising: task %d never finished; pool threads "
                         "still alive: %s" % (n, w, every, k, ", ".join(alive) or "none"),
                         hint="catch the exception around the task call, store it in the future, and keep "
                              "the worker loop going")
            except Exception as exc:  # judged: not the task's exception
                outcomes.append(_raised(exc, _Boom))
        else:
            outcomes.append(_returned(_result(ctx, f, "task %d" % k)))
    log.put("tasks", outcomes)

    # map(): items `first` and `later` fail; `first` fails late (it sleeps).
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
        log.put("map", dict(_raised(exc, _Boom), args=list(exc.args)))
    except Exception as exc:  # judged (a result() that does not re-raise the task's exception fails above)
        log.put("map", _raised(exc, _Boom))
    else:
        log.put("map", _returned(got))
    log.put("after", _result(ctx, p.submit(pow, 3, 3), "a task after the failures"))
    pool.shutdown_and_check()


def map_order(ctx):
    """map() where later items finish first; map() over a generator; map() over []."""
    tp = _module(ctx)
    log = _Log(ctx)
    w, n, step = ctx.params["workers"], ctx.params["items"], ctx.params["step_s"]
    pool = _Pool(ctx, tp, w, log)
    p = pool.p

    def slow_square(k):
        time.sleep((n - k) * step)      # later items finish first
        return k * k
    log.put("squares", _list(p.map(slow_square, range(n))))
    log.put("generator", _list(p.map(str.upper, (s for s in ["a", "b", "c"]))))
    log.put("empty", _list(p.map(abs, [])))
    pool.shutdown_and_check()


def shutdown_drains(ctx):
    """shutdown() with every worker busy and a backlog: the tasks that had run when it returned, how long
    it took, each future's outcome; then shutdown(wait=False) with a backlog, which must not wait."""
    tp = _module(ctx)
    log = _Log(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    pool = _Pool(ctx, tp, w, log)
    gates, _ = _occupy_all(ctx, pool, "shutdown()")
    ran, make = recorder(returns_item=True)
    futures = [pool.p.submit(make(i, i * 10)) for i in range(n)]
    timer = open_later(gates, delay, CHECK + "gate-timer")
    t0 = time.monotonic()
    pool.shutdown_and_check()                 # every worker busy, n tasks queued
    log.put("took", time.monotonic() - t0)
    log.put("ran_at_return", list(ran))
    timer.join(WAIT)
    outcomes = []
    for f in futures:
        try:
            outcomes.append(_returned(f.result(timeout=0.1)))
        except Exception as exc:  # judged: a queued task without its value
            outcomes.append(_raised(exc))
    log.put("futures", outcomes)

    # wait=False: returns while the workers are still busy; they finish the backlog on their own.
    pool = _Pool(ctx, tp, w, log)
    gates, _ = _occupy_all(ctx, pool, "shutdown(wait=False)")
    ran, make = recorder(returns_item=True)
    futures = [pool.p.submit(make(i)) for i in range(n)]
    try:
        ctx.call_with_timeout(lambda: pool.p.shutdown(wait=False), 1.0)
    except ctx.CheckFailed:
        for g in gates:
            g.opened.set()
        ctx.fail("shutdown(wait=False) with every worker busy did not return within 1 s: it must not wait",
                 hint="join the workers only when wait is true")
    log.put("submit_after_nowait", _attempt(lambda: pool.p.submit(abs, 1), RuntimeError))
    for g in gates:
        g.opened.set()
    # Not failed here when one never finishes: a pool that drops its backlog has failed above already (in
    # the judge's order), and one wait of WAIT in all keeps a dropped backlog within the item's time.
    deadline = time.monotonic() + WAIT
    outcomes = []
    for f in futures:
        try:
            outcomes.append(_returned(f.result(timeout=max(0.01, deadline - time.monotonic()))))
        except TimeoutError:
            outcomes.append({"timeout": True})
    log.put("nowait_futures", outcomes)
    pool.shutdown_and_check()                 # a second call, with wait: joins
    log.put("ran_nowait", list(ran))


def shutdown_cancels(ctx):
    """shutdown(cancel_pending=True) with every worker busy and a backlog: which queued tasks ran, the
    outcome of the running and of the queued tasks' futures, and what a thread already waiting in
    result() of a queued task got, and when."""
    tp = _module(ctx)
    log = _Log(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    is_class = isinstance(tp.CancelledError, type) and issubclass(tp.CancelledError, Exception)
    log.put("cancelled_error_class", is_class)
    if not is_class:
        return                                # the judge says why; nothing below can tell CancelledError
    pool = _Pool(ctx, tp, w, log)
    gates, gfutures = _occupy_all(ctx, pool, "shutdown(cancel_pending=True)")
    ran, make = recorder(returns_item=True)
    futures = [pool.p.submit(make(i)) for i in range(n)]
    box = {}

    def waiter():
        try:
            box["value"] = futures[-1].result(timeout=WAIT)
        except BaseException as exc:  # judged
            box["error"] = exc
        box["at"] = time.monotonic()
    wt = threading.Thread(target=waiter, name=CHECK + "waiter", daemon=True)
    wt.start()
    time.sleep(0.02)
    timer = open_later(gates, delay, CHECK + "gate-timer")
    t0 = time.monotonic()
    pool.shutdown_and_check(cancel_pending=True)
    timer.join(WAIT)
    wt.join(WAIT)
    log.put("ran", list(ran))
    log.put("running", [[_result(ctx, gf, "a task running at shutdown(cancel_pending=True)"), gf.cancelled()]
                        for gf in gfutures])
    log.put("queued", [{"done": f.done(), "cancelled": f.cancelled(),
                        "result": _attempt(lambda f=f: f.result(timeout=0.5), tp.CancelledError)}
                       for f in futures])
    if "at" not in box:
        log.put("waiter", None)
    elif "error" in box:
        log.put("waiter", dict(_raised(box["error"], tp.CancelledError), after=box["at"] - t0))
    else:
        log.put("waiter", dict(_returned(box.get("value")), after=box["at"] - t0))


def future_waiters(ctx):
    """Several threads wait in result() (no timeout) of ONE future whose task is held by a gate; every
    one of them is inside its wait before the gate opens. What each got is recorded, in two rounds (the
    task returns 'gate', then raises ValueError('boom')). Nothing but the task's end wakes them:
    shutdown() comes after they all returned, so a future that wakes one waiter (notify() where
    notify_all() is needed) leaves the others asleep, and the harness names the lost wake-up."""
    tp = _module(ctx)
    log = _Log(ctx)
    k, stuck_s = ctx.params["waiters"], ctx.params["stuck_s"]
    pool = _Pool(ctx, tp, 1, log)
    rounds = []
    for outcome in (None, ValueError("boom")):
        gate = Gate()

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
            except Exception as exc:  # noqa: BLE001 - judged
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
        seen = []
        for i in range(k):
            kind, v = got.get(i, (None, None))
            if kind == "value":
                seen.append(dict(_returned(v), kind=kind))
            elif kind == "error":
                seen.append({"kind": kind, "repr": repr(v)[:300], "same": v is outcome})
            else:
                seen.append({"kind": None})
        rounds.append(seen)
    log.put("rounds", rounds)
    pool.shutdown_and_check()


def pool_size(ctx):
    """What thread_pool.py imports; the threads ThreadPool(n) starts; how many tasks meeting at a barrier
    ran at once; what happens with every worker busy and tasks queued; which threads ran the tasks."""
    tp = _module(ctx)
    log = _Log(ctx)
    _record_imports(ctx, tp, log)
    w, rounds, extra = ctx.params["workers"], ctx.params["rounds"], ctx.params["extra_tasks"]
    pool = _Pool(ctx, tp, w, log)
    log.put("started", [t.name for t in pool.started])
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
    log.put("meet", {"tasks": len(futures), "max": meter.max, "first_violation": meter.first_violation,
                     "broken": len(broken)})
    if broken or meter.max < w:
        # Fewer than num_threads tasks at once: the judge fails the item on `meet`, and nothing below could
        # be measured (the gates would wait for workers that never come: WAIT each).
        pool.shutdown_and_check()
        return
    # A gate on every worker; one that does not start is recorded, not failed here (the judge says so, in
    # its order of the findings).
    gates, occupied = [], w
    for i in range(w):
        g = Gate()
        gates.append(g)
        pool.p.submit(g)
        if not g.started.wait(WAIT):
            occupied = i
            break
    log.put("occupied", occupied)
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
    log.put("busy", {"started_early": len(early), "threads": [t.name for t in now], "ran_later": len(ran)})
    mine = {t.ident for t in pool.started}
    log.put("task_threads", {"foreign": len(idents - mine), "seen": len(idents)})
    pool.shutdown_and_check()


def workers_block(ctx):
    """While the pool is idle, its workers should sleep in get(): the Python calls each makes (a profile
    hook) and the CPU time each uses over an idle window, and the window's wall time."""
    tp = _module(ctx)
    log = _Log(ctx)
    p = ctx.params
    w, warm, idle = p["workers"], p["warm"], p["idle_s"]
    counts = {}

    def profile(frame, event, arg):
        ident = threading.get_ident()
        counts[ident] = counts.get(ident, 0) + 1
    threading.setprofile(profile)           # threads started from now on (the workers) get it
    try:
        pool = _Pool(ctx, tp, w, log)
    finally:
        threading.setprofile(None)
    log.put("warm", [_result(ctx, f, "a warm-up task") for f in [pool.p.submit(pow, k, 2) for k in range(warm)]])
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
    log.put("idle", {"wall": wall, "workers": len(workers), "cpu": cpu, "calls": calls})


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
    main thread ending. What it printed, its exit status (None: killed at limit_s + 3) and its stderr
    (faulthandler's stacks when it hung); when it got past the `with` block without hanging, whether a
    pool's workers are daemon threads."""
    tp = _module(ctx)
    log = _Log(ctx)
    p = ctx.params
    w, n, limit = p["workers"], p["tasks"], p["limit_s"]
    script = _EXIT_SCRIPT % {"limit": limit, "root": ctx.root, "task_s": p["task_s"], "workers": w, "tasks": n}
    try:
        out = subprocess.run([sys.executable, "-I", "-B", "-c", script], cwd=ctx.root, capture_output=True,
                             timeout=limit + 3, text=True)
        code, stdout, stderr = out.returncode, out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:
        code, stdout, stderr = None, _text(exc.stdout), _text(exc.stderr)
    log.put("script", {"code": code, "stdout": stdout[-20000:], "stderr": stderr[-20000:]})
    hung = code is None or "Thread 0x" in stderr and "most recent call first" in stderr
    if "with-block-ended" in stdout.splitlines() and not hung:
        pool = _Pool(ctx, tp, w, log)       # only now: a pool whose shutdown() hangs never gets here
        log.put("daemons", [t.name for t in pool.started if t.daemon])
        pool.shutdown_and_check()


def _text(b):
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


# ---------------------------------------------------------------------------------------------
# problem_solving (controlled scheduler)


def submit_shutdown_race(ctx):
    """Submitter threads submit until they are refused while another thread calls shutdown(): per round,
    the tasks submit() accepted, those that ran, the submits accepted after shutdown() had returned, and
    the submitters never refused."""
    tp = _module(ctx)
    log = _Log(ctx)
    p = ctx.params
    w, subs, cap = p["workers"], p["submitters"], p["max_per_submitter"]
    for r in range(p["rounds"]):
        pool = _Pool(ctx, tp, w, log)
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
                    return          # accepted after shutdown() returned: that is the finding, no need for more
            capped.append(s)

        def closer():
            for _ in range(delay):
                time.sleep(0)       # a switch point under the controlled scheduler
            pool.p.shutdown()
            state["returned"] = True
        ctx.run_threads([closer] + [lambda s=s: submitter(s) for s in range(subs)],
                        names=[CHECK + "closer"] + [CHECK + "submitter-%d" % s for s in range(subs)])
        log.add("rounds", {"accepted": [k for k, _ in accepted], "ran": list(ran), "late": late,
                           "capped": capped})
        pool.record_left()


def shutdown_wakes(ctx):
    """shutdown() wakes idle workers (a fresh pool, a pool that ran tasks, wait=False then wait=True),
    and shutdown(cancel_pending=True) wakes a thread blocked in result() of a queued task. A shutdown()
    or a waiter nobody wakes is named by the harness (lost wake-up); what each returned is recorded."""
    tp = _module(ctx)
    log = _Log(ctx)
    w = ctx.params["workers"]
    pool = _Pool(ctx, tp, w, log)
    pool.shutdown_and_check()                                  # never had a task
    pool = _Pool(ctx, tp, w, log)
    log.put("powers", [f.result() for f in [pool.p.submit(pow, 2, k) for k in range(2 * w)]])
    pool.shutdown_and_check()                                  # every worker idle in get()
    pool = _Pool(ctx, tp, w, log)
    log.put("eight", pool.p.submit(pow, 2, 3).result())
    pool.p.shutdown(wait=False)
    pool.shutdown_and_check()                                  # then wait for them
    # A thread waits (no timeout) in result() of a task queued behind a busy worker.
    pool = _Pool(ctx, tp, 1, log)
    gate = Gate(timeout=None)
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
    log.put("waiter", _returned(box.get("value")) if "value" in box else None)


# ---------------------------------------------------------------------------------------------
# helpers of pool_size


_BANNED = ("concurrent.futures", "concurrent", "multiprocessing.pool", "multiprocessing.dummy")


def _record_imports(ctx, tp, log):
    """What thread_pool.py imports of concurrent.futures or the multiprocessing pools (`banned`: [line,
    module]), and whether its ThreadPool or CancelledError comes from concurrent.futures."""
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
                found.append([node.lineno, name])
                break
    log.put("banned", found)
    log.put("from_concurrent", {n: getattr(getattr(tp, n), "__module__", "") for n in ("ThreadPool", "CancelledError")})


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
