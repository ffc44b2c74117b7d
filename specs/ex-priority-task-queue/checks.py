"""Workloads for ex-priority-task-queue: the teaching guide's "Task Queue Implementation" exercise.
Each records what the student's queue did (ctx.observe); judge.py, which the submission never sees,
plans the random inputs and gives the verdicts.

The student's API is the docstring of starter/ex-priority-task-queue/task_queue.py: TaskQueue(workers,
strategy, clock) with submit() -> task id, result(), results(), metrics(), shutdown(wait,
cancel_pending); TaskResult; TaskQueueClosed.

Order and metrics are observed with ONE worker held by a "gate" task while the check queues every
task; the metrics check passes a clock it controls (only the check and the tasks advance it), so
every wait and run time is known exactly. Every wait of the check itself has a timeout: the harness's
lost-wake-up detector then only ever sees the student's own untimed waits. shutdown() is called from
the main thread, so that workers (or result() callers) left asleep with nobody to wake them are named.
What only the run can see still fails it here: a hang (a gate task that never starts, a submit() that
blocks), a deadlock, an exception of the student's code.

Standard library only.
"""
import functools
import threading
import time

from grade_lib_gates import Gate, occupy, open_later, recorder, submit_soon
from grade_lib_student import student_module
from grade_oracles import await_waiting, in_wait

WAIT = 3.0          # seconds any single wait of the check may take before it gives up
SUBMIT_WAIT = 1.0   # seconds submit() may take while every worker is busy

HINT_OUTSIDE = ("take the task from the heap under the lock, release the lock, then run it: a task run "
                "inside the lock blocks submit() and every other worker")
CHECK_THREADS = ("submitter", "waiter", "gate-timer", "call")   # names of the check's own threads


def _module(ctx):
    return student_module(ctx, "task_queue", ("TaskQueue", "TaskQueueClosed", "TaskResult"))


class _Pool:
    """A TaskQueue plus the threads that appeared while it lived (the student's workers)."""

    def __init__(self, ctx, tq, *args, **kwargs):
        self.ctx = ctx
        self.before = set(threading.enumerate())
        self.q = tq.TaskQueue(*args, **kwargs)

    def shutdown_and_record(self, key, **kwargs):
        """shutdown(**kwargs), then records under `key` the names of the threads it started that are still
        alive (the judge wants none: shutdown(wait=True) joins every worker)."""
        self.q.shutdown(**kwargs)
        left = [t for t in threading.enumerate() if t not in self.before and t.is_alive()
                and not t.name.startswith(CHECK_THREADS)]
        self.ctx.observe(key, [t.name for t in left])


class _Gate(Gate):
    """A gate (grade_lib_gates) that occupies the queue's worker first."""

    def occupy(self, ctx, q, what):
        return occupy(ctx, q, self, what, hint="submit() must wake a waiting worker (notify)", priority=-1000)


def _occupy_all(ctx, q, w):
    """Gates on every one of the w workers; returns (gates, their task ids). A gate that does not start
    fails the run here (the pool does not run w tasks at once: the check would wait for nothing)."""
    gates, ids = [_Gate() for _ in range(w)], []
    for i, g in enumerate(gates):
        if i == 0:
            ids.append(g.occupy(ctx, q, "worker 1 of %d" % w))
        else:
            ids.append(_submit_soon(ctx, q, g, -1000, "%d of %d workers busy" % (i, w)))
            ctx.expect(g.started.wait(WAIT), "worker %d of %d: a task submitted while only %d worker(s) were "
                       "busy did not start within %.0f s" % (i + 1, w, i, WAIT), hint=HINT_OUTSIDE)
    return gates, ids


def _submit_soon(ctx, q, fn, priority, what):
    return submit_soon(ctx, q, fn, priority, what, SUBMIT_WAIT, HINT_OUTSIDE)


def _error(exc):
    """An exception as the judge sees it: its type, text and the names of its classes."""
    if exc is None:
        return None
    if not isinstance(exc, BaseException):
        return {"type": type(exc).__name__, "text": repr(exc), "classes": []}
    return {"type": type(exc).__name__, "text": str(exc), "classes": [c.__name__ for c in type(exc).__mro__]}


FIELDS = ("task_id", "status", "value", "error", "priority", "worker", "submitted_at", "started_at",
          "finished_at", "wait_time", "run_time")


def _rec(r, fields=FIELDS):
    """A TaskResult as the judge sees it (None for none): the named attributes, the error as _error(), and
    its repr (for the messages)."""
    if r is None:
        return None
    out = {"repr": repr(r)}
    for name in fields:
        value = getattr(r, name)
        out[name] = _error(value) if name == "error" else value
    return out


def _raises(fn, exc_type):
    """Calls fn: what it raised, as the judge sees it ({"raised": False} when nothing), and whether that is
    an `exc_type` (the student's class, which only the run can test)."""
    try:
        fn()
    except Exception as exc:  # recorded for the judge
        return {"raised": True, "wanted": isinstance(exc, exc_type), "type": type(exc).__name__, "text": str(exc)}
    return {"raised": False}


def _pairs(d):
    """A dict as [key, value] pairs (JSON would make its int keys strings), or the repr of anything else."""
    if isinstance(d, dict):
        return {"pairs": [[k, v] for k, v in d.items()]}
    return {"other": repr(d)}


def _metrics(m, keys):
    """The named entries of a metrics() snapshot (by_priority as _pairs), None where missing."""
    if not isinstance(m, dict):
        return {"not_a_dict": repr(m)}
    return {k: _pairs(m.get(k)) if k == "by_priority" else m.get(k) for k in keys}


def _gated_order(ctx, tq, items, strategy, key):
    """One worker: occupy it, submit a task per item (priority, submitted), open, shutdown; records the
    run order under `key` (and the threads left after shutdown under key + "_left")."""
    pool = _Pool(ctx, tq, 1, strategy=strategy)
    q = pool.q
    gate = _Gate()
    gate.occupy(ctx, q, "one worker")
    ran, make = recorder()
    for i, it in enumerate(items):
        if i == 0:
            _submit_soon(ctx, q, make(it), it[0], "one worker busy")
        else:
            q.submit(make(it), priority=it[0])
    gate.opened.set()
    pool.shutdown_and_record(key + "_left")
    ctx.observe(key, ran)


def _wait_results(q, n, seconds, stall=0.5):
    """Polls results() until it holds n tasks, `seconds` pass, or nothing finished for `stall` s."""
    deadline = time.monotonic() + seconds
    last, since = -1, time.monotonic()
    while True:
        res = q.results()
        now = time.monotonic()
        if len(res) != last:
            last, since = len(res), now
        if len(res) >= n or now >= deadline or now - since >= stall:
            return res
        time.sleep(0.005)


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Ids, values, failures, result() timeout and KeyError, results(), TaskQueueClosed, context manager."""
    tq = _module(ctx)
    ctx.observe("closed_is_runtime_error", issubclass(tq.TaskQueueClosed, RuntimeError))
    ctx.observe("workers_0", _raises(lambda: tq.TaskQueue(0), ValueError))
    ctx.observe("strategy_random", _raises(lambda: tq.TaskQueue(1, strategy="random"), ValueError))

    def boom(msg):
        raise ValueError(msg)

    pool = _Pool(ctx, tq, 2)
    q = pool.q
    ids = [q.submit(pow, 2, i, priority=i % 2) for i in range(5)]
    ctx.observe("ids", ids)
    fid = q.submit(boom, "on purpose", priority=1)
    kid = q.submit("{}-{}".format, "a", "b")
    fields = ("task_id", "status", "value", "error", "priority", "worker")
    ctx.observe("pow_results", [_rec(q.result(tid, timeout=WAIT), fields) for tid in ids])
    ctx.observe("failed_result", _rec(q.result(fid, timeout=WAIT), ("status", "error", "value")))
    ctx.observe("format_value", q.result(kid, timeout=WAIT).value)
    res = q.results()
    ctx.observe("results_keys", list(res) if isinstance(res, dict) else {"not_a_dict": repr(res)})
    ctx.observe("unknown_id", _raises(lambda: q.result(12345, timeout=0.1), KeyError))
    pool.shutdown_and_record("left_after_shutdown")
    ctx.observe("submit_after_shutdown", _raises(lambda: q.submit(pow, 2, 2), tq.TaskQueueClosed))
    try:
        ctx.call_with_timeout(q.shutdown, WAIT)
    except ctx.CheckFailed:
        ctx.fail("a second shutdown() did not return within %.0f s" % WAIT,
                 hint="shutdown() must be harmless when called again")

    pool = _Pool(ctx, tq, 1)
    q = pool.q
    gate = _Gate()
    gate.occupy(ctx, q, "result() timeout")
    tid = _submit_soon(ctx, q, functools.partial(pow, 3, 2), 0, "result() timeout")
    t0 = time.monotonic()
    ctx.observe("result_timeout", _raises(lambda: q.result(tid, timeout=0.1), TimeoutError))
    ctx.observe("result_timeout_seconds", time.monotonic() - t0)
    gate.opened.set()
    ctx.observe("value_once_free", q.result(tid, timeout=WAIT).value)
    pool.shutdown_and_record("left_after_second_shutdown")

    ran, make = recorder()
    with tq.TaskQueue(2) as q:
        for i in range(4):
            q.submit(make(i))
    ctx.observe("ran_in_with", sorted(ran))


def strategies(ctx):
    """One worker: a task per planned priority queued behind a gate, under 'priority' then 'fifo'; the
    run orders are recorded as [priority, submission index] pairs."""
    tq = _module(ctx)
    items = [(p, i) for i, p in enumerate(ctx.inputs["priorities"])]
    _gated_order(ctx, tq, items, "priority", "ran_priority")
    _gated_order(ctx, tq, items, "fifo", "ran_fifo")


def errors_isolated(ctx):
    """Failing tasks (every fail_every-th) on a few workers: each task's result and the metrics."""
    tq = _module(ctx)
    w, n, every = ctx.params["workers"], ctx.params["tasks"], ctx.params["fail_every"]
    pool = _Pool(ctx, tq, w)
    q = pool.q

    def task(i):
        if i % every == 0:
            raise RuntimeError("task %d fails on purpose" % i)
        return i * i
    ids = [q.submit(task, i, priority=i % 3) for i in range(n)]
    res = _wait_results(q, n, WAIT)
    ctx.observe("finished", len(res))
    if len(res) < n:
        workers = sorted({r.worker for r in res.values() if r.worker})
        alive = {t.name for t in threading.enumerate()}
        ctx.observe("dead_workers", [name for name in workers if name not in alive])
        return  # no more were finishing: the judge fails the run on `finished`
    ctx.observe("results", [_rec(res.get(tid), ("status", "value", "error")) for tid in ids])
    m = q.metrics()
    ctx.observe("metrics", _metrics(m, ("completed", "failed")))
    pool.shutdown_and_record("left_after_shutdown")


def metrics_exact(ctx):
    """A controlled clock, one worker: the plan's tasks queued 1 s apart behind a gate; every wait_time,
    run_time and metric is recorded (the judge knows what each must be)."""
    tq = _module(ctx)
    plan = [tuple(x) for x in ctx.params["plan"]]      # (priority, run seconds, fails)
    clock = ctx.virtual_clock()
    pool = _Pool(ctx, tq, 1, clock=clock.monotonic)
    q = pool.q
    gate = _Gate()
    gid = gate.occupy(ctx, q, "metrics")

    def make(d, fails):
        def task():
            clock.advance(d)
            if fails:
                raise RuntimeError("fails on purpose")
            return d
        return task
    ids = []
    for i, (p, d, fails) in enumerate(plan):
        clock.advance(1)
        ids.append(q.submit(make(d, fails), priority=p) if i else _submit_soon(ctx, q, make(d, fails), p, "metrics"))
    clock.advance(5)
    ctx.observe("gate_id", gid)
    ctx.observe("ids", ids)
    keys = ("submitted", "completed", "failed", "cancelled", "pending", "running", "avg_wait", "avg_run")
    ctx.observe("metrics_while_running", _metrics(q.metrics(), keys))
    gate.opened.set()
    pool.shutdown_and_record("left_after_shutdown")
    res = q.results()
    ctx.observe("results", [[tid, _rec(res.get(tid))] for tid in [gid] + ids])
    ctx.observe("metrics", _metrics(q.metrics(), keys + ("by_priority", "workers")))


def metrics_no_race(ctx):
    """Concurrent submitters, several workers finishing at once: the ids handed out and every counter."""
    tq = _module(ctx)
    w, subs, per = ctx.params["workers"], ctx.params["submitters"], ctx.params["per_submitter"]
    every = ctx.params["fail_every"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    prios = ctx.inputs["priorities"]
    plans = [[(s * per + i, prios[s][i]) for i in range(per)] for s in range(subs)]
    got_ids = [[] for _ in range(subs)]
    # Tasks meet in groups of `workers` at a barrier, so that the workers finish together and update the
    # counters at the same moment (the moment a race needs).
    barrier = threading.Barrier(w, timeout=ctx.params["barrier_timeout"])
    broken = []

    def task(k):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            broken.append(k)
        if k % every == 0:
            raise ValueError(k)
        return k

    def submitter(s):
        for k, p in plans[s]:
            got_ids[s].append(q.submit(task, k, priority=p))
    ctx.run_threads([lambda s=s: submitter(s) for s in range(subs)], timeout=20,
                    names=["submitter-%d" % s for s in range(subs)])
    pool.shutdown_and_record("left_after_shutdown")
    ctx.observe("broken", len(broken))
    ctx.observe("ids", got_ids)
    keys = ("submitted", "completed", "failed", "pending", "running", "by_priority")
    ctx.observe("metrics", _metrics(q.metrics(), keys))
    ctx.observe("results", len(q.results()))


def pool_size(ctx):
    """`workers` blocking tasks all start (the pool runs them at once; a gate that does not start fails
    the run here); while they block, further tasks are queued: what started early, the threads running,
    and afterwards the threads every task ran on."""
    tq = _module(ctx)
    w, extra, watch = ctx.params["workers"], ctx.params["extra_tasks"], ctx.params["watch_s"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gates, _ = _occupy_all(ctx, q, w)
    ran, make = recorder()
    for i in range(extra):
        q.submit(make(i))
    time.sleep(watch)
    ctx.observe("early", list(ran))
    threads = [t for t in threading.enumerate() if t not in pool.before and not t.name.startswith(CHECK_THREADS)]
    ctx.observe("threads", [t.name for t in threads])
    for g in gates:
        g.opened.set()
    pool.shutdown_and_record("left_after_shutdown")
    ctx.observe("workers_used", list({r.worker for r in q.results().values()}))
    ctx.observe("ran", len(ran))


def pool_bound_stress(ctx):
    """Many submitters at once (forced switches): how many tasks ran at once, on how many threads."""
    tq = _module(ctx)
    w, subs, per = ctx.params["workers"], ctx.params["submitters"], ctx.params["per_submitter"]
    meter = ctx.meter(bound=w)

    def task():
        with meter:
            time.sleep(0.002)
        return threading.get_ident()   # thread names may repeat; idents of live threads do not
    pool = _Pool(ctx, tq, w)
    q = pool.q
    start = threading.Barrier(subs, timeout=WAIT)   # every submitter's first submit() at the same moment
    submitted = []

    def submitter():
        start.wait()
        for _ in range(per):
            submitted.append(q.submit(task))
    ctx.run_threads([submitter] * subs, timeout=20, names=["submitter-%d" % s for s in range(subs)])
    started = [t for t in threading.enumerate() if t not in pool.before and not t.name.startswith(CHECK_THREADS)]
    ctx.observe("started", [t.name for t in started])
    pool.shutdown_and_record("left_after_shutdown")
    ctx.observe("submitted", len(submitted))
    ctx.observe("idents", len({r.value for r in q.results().values()}))
    ctx.observe("max_running", meter.max)
    ctx.observe("first_violation", meter.first_violation)


def shutdown_drains(ctx):
    """shutdown() with busy workers and a backlog: what ran, each queued task's result, the metrics."""
    tq = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gates, _ = _occupy_all(ctx, q, w)
    ran, make = recorder()
    ids = [q.submit(make(i, i), priority=ctx.rng.randrange(4)) for i in range(n)]

    timer = open_later(gates, delay)
    t0 = time.monotonic()
    pool.shutdown_and_record("left_after_shutdown")      # every worker busy, n tasks queued
    ctx.observe("took", time.monotonic() - t0)
    timer.join(WAIT)
    ctx.observe("ran", len(ran))
    res = q.results()
    ctx.observe("results", [[tid, _rec(res.get(tid), ("status", "value"))] for tid in ids])
    ctx.observe("metrics", _metrics(q.metrics(), ("completed", "pending", "running")))
    ctx.observe("submit_after_shutdown", _raises(lambda: q.submit(pow, 2, 2), tq.TaskQueueClosed))


def shutdown_cancels(ctx):
    """shutdown(cancel_pending=True) with busy workers and a backlog, a caller waiting in result() for the
    last queued task: what ran, the results of the running and the queued tasks, the caller's outcome."""
    tq = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gates, gids = _occupy_all(ctx, q, w)
    ran, make = recorder()
    ids = [q.submit(make(i), priority=i % 3) for i in range(n)]
    box = {}

    def waiter():
        try:
            box["result"] = q.result(ids[-1], timeout=WAIT)
        except BaseException as exc:  # recorded below
            box["error"] = exc
        box["at"] = time.monotonic()
    wt = threading.Thread(target=waiter, name="waiter", daemon=True)
    wt.start()
    time.sleep(0.02)

    timer = open_later(gates, delay)
    t0 = time.monotonic()
    pool.shutdown_and_record("left_after_shutdown", cancel_pending=True)
    timer.join(WAIT)
    wt.join(WAIT)
    ctx.observe("ran", len(ran))
    res = q.results()
    ctx.observe("running_results", [[gid, _rec(res.get(gid), ("status", "value"))] for gid in gids])
    ctx.observe("queued_results", [[tid, _rec(res.get(tid), ("status", "started_at", "worker"))] for tid in ids])
    ctx.observe("waiter", {"error": repr(box["error"]) if "error" in box else None,
                           "after": box["at"] - t0 if "at" in box else None,
                           "status": getattr(box.get("result"), "status", None),
                           "result": repr(box.get("result"))})
    ctx.observe("metrics", _metrics(q.metrics(), ("cancelled", "completed", "pending", "by_priority")))


# ---------------------------------------------------------------------------------------------
# problem_solving


def shutdown_returns(ctx):
    """Idle workers asleep, a fresh queue, a result() caller waiting with no timeout: shutdown wakes all
    (a thread left asleep is named by the harness)."""
    tq = _module(ctx)
    w = ctx.params["workers"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    ids = [q.submit(pow, 2, i) for i in range(w)]
    ctx.observe("values", [q.result(tid, timeout=WAIT).value for tid in ids])
    time.sleep(0.05)       # every worker is back waiting for work
    pool.shutdown_and_record("left_idle")
    pool = _Pool(ctx, tq, w)
    pool.shutdown_and_record("left_fresh")
    # A caller waits (no timeout) for a queued task that shutdown(cancel_pending=True) cancels.
    pool = _Pool(ctx, tq, 1)
    q = pool.q
    gate = _Gate()
    gate.occupy(ctx, q, "waiter")
    tid = _submit_soon(ctx, q, functools.partial(pow, 2, 5), 0, "waiter")
    box = {}
    waiter = threading.Thread(target=lambda: box.setdefault("r", q.result(tid)), name="waiter")
    waiter.start()
    time.sleep(0.02)
    gate.opened.set()
    pool.shutdown_and_record("left_cancel", cancel_pending=True)
    waiter.join()          # a waiter nobody wakes is named by the harness (lost wake-up)
    ctx.observe("waiter", {"status": getattr(box.get("r"), "status", None), "result": repr(box.get("r"))})


def _gated_waiters(ctx, q, k, stuck_s):
    """k tasks, each held on a gate, and k threads waiting in result() for them (untimed), lined up one
    after the other; the gates then open in the reverse order, each task finishing alone while every
    other caller waits. A wake-up for one finished task that reaches only one caller (notify() on a
    condition all result() callers share) wakes the wrong one; the right one sleeps on. Nothing else
    wakes them (shutdown() comes later): the harness names the lost wake-up. Returns what each caller
    got: [status, value] per task, None for a caller that returned nothing."""
    gates = [threading.Event() for _ in range(k)]
    ids = [q.submit(lambda i=i: (gates[i].wait(2 * WAIT), i * i)[1], priority=0) for i in range(k)]
    go, threads, got = set(), {}, {}
    settle = [1.0]

    def waiter(i):
        threads[i] = threading.current_thread()
        while i not in go:
            time.sleep(0.001)
        r = q.result(ids[i])
        got[i] = (getattr(r, "status", None), getattr(r, "value", None))

    def lined_up(keys):
        if not await_waiting([threads[i] for i in keys], settle[0]):
            settle[0] = 0.05  # result() does not wait in Condition.wait here: do not wait long again

    def driver():
        deadline = time.monotonic() + WAIT
        while len(threads) < k and time.monotonic() < deadline:
            time.sleep(0.002)
        for i in range(k):
            go.add(i)
            lined_up([i])
        for i in reversed(range(k)):
            gates[i].set()
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and ids[i] not in q.results():
                time.sleep(0.002)
            lined_up(range(k))
        since, deadline = None, time.monotonic() + WAIT
        while len(got) < k and time.monotonic() < deadline:
            rest = [threads[i] for i in range(k) if i not in got and threads[i].is_alive()]
            if not rest or not all(in_wait(t) for t in rest):
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since > stuck_s:
                return  # asleep with their tasks finished: no shutdown(), which might wake them and hide it
            time.sleep(0.005)

    ctx.run_threads([lambda i=i: waiter(i) for i in range(k)] + [driver],
                    names=["waiter-gated-%d" % i for i in range(k)] + ["waiter-driver"])
    return [[ids[i], list(got[i]) if i in got else None] for i in range(k)]


def result_waiters(ctx):
    """Many threads wait in result() (no timeout): first `gated` callers lined up for tasks that
    finish one at a time (see _gated_waiters), then `waiters` callers for tasks finishing in any order;
    what each caller got is recorded."""
    tq = _module(ctx)
    w, waiters, per = ctx.params["workers"], ctx.params["waiters"], ctx.params["per_waiter"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gated = ctx.params.get("gated", 0)
    if gated:
        ctx.observe("gated", _gated_waiters(ctx, q, min(gated, w), ctx.params.get("stuck_s", 0.3)))
    n = waiters * per
    ids = [q.submit(pow, k, 2, priority=ctx.rng.randrange(3)) for k in range(n)]
    got = {}

    def wait_for(chunk):
        for k in chunk:
            r = q.result(ids[k])
            got[k] = [r.status, r.value]
    chunks = [list(range(s, n, waiters))[::-1] for s in range(waiters)]
    ctx.run_threads([lambda c=c: wait_for(c) for c in chunks], names=["waiter-%d" % s for s in range(waiters)])
    pool.shutdown_and_record("left_after_shutdown")
    ctx.observe("got", [got.get(k) for k in range(n)])


# ---------------------------------------------------------------------------------------------
# performance


def bench_queue(ctx):
    """Timed: (a) `tasks` short sleeping tasks on `workers` threads, all queued at once (serialised
    workers are slow here); (b) a chain of `chain` tiny tasks, each submitted once result() of the
    previous one returned (every step wakes an idle worker and a result() caller: spinning workers
    keep the GIL from the threads being woken). Results and metrics are checked."""
    tq = ctx.student("task_queue")
    w, n, nap, chain = ctx.params["workers"], ctx.params["tasks"], ctx.params["task_sleep"], ctx.params["chain"]
    prios = [ctx.rng.randrange(4) for _ in range(n)]

    def task(k):
        time.sleep(nap)
        return k

    def workload():
        q = tq.TaskQueue(w)
        ids = [q.submit(task, k, priority=p) for k, p in enumerate(prios)]
        for k, tid in enumerate(ids):
            if q.result(tid, timeout=WAIT).value != k:
                raise AssertionError("result(%d) has the wrong value" % tid)
        for i in range(chain):
            tid = q.submit(abs, -i, priority=i % 3)
            if q.result(tid, timeout=WAIT).value != i:
                raise AssertionError("result(%d) has the wrong value" % tid)
        q.shutdown()
        m = q.metrics()
        if m.get("completed") != n + chain:
            raise AssertionError("metrics()['completed'] is %r after %d tasks" % (m.get("completed"), n + chain))
    return workload
