"""Checks for ex-priority-task-queue: the teaching guide's "Task Queue Implementation" exercise.

The student's API is the docstring of starter/ex-priority-task-queue/task_queue.py: TaskQueue(workers,
strategy, clock) with submit() -> task id, result(), results(), metrics(), shutdown(wait,
cancel_pending); TaskResult; TaskQueueClosed.

Order and metrics are observed with ONE worker held by a "gate" task while the check queues every
task; the metrics check passes a clock it controls (only the check and the tasks advance it), so
every wait and run time is known exactly. Every wait of the check itself has a timeout: the harness's
lost-wake-up detector then only ever sees the student's own untimed waits. shutdown() is called from
the main thread, so that workers (or result() callers) left asleep with nobody to wake them are named.

Standard library only.
"""
import collections
import functools
import threading
import time

from grade_oracles import await_waiting, exactly_once, in_wait, priority_order

Task = collections.namedtuple("task", "priority submitted")

WAIT = 3.0          # seconds any single wait of the check may take before it gives up
SUBMIT_WAIT = 1.0   # seconds submit() may take while every worker is busy
EPS = 1e-6

HINT_LOCKED_STATS = ("several workers finish tasks at once: update every counter (and the per-priority "
                     "dict) under the queue's lock, in the same block that records the result")
HINT_OUTSIDE = ("take the task from the heap under the lock, release the lock, then run it: a task run "
                "inside the lock blocks submit() and every other worker")
HINT_DRAIN = ("with cancel_pending=False a worker may exit only when the queue is closed AND empty "
              "(the guide's ThreadPool exits as soon as the shutdown flag is set, dropping the backlog)")
CHECK_THREADS = ("submitter", "waiter", "gate-timer", "call")   # names of the check's own threads
HINT_SEQ = "order the heap by (priority, task id): the id breaks ties in submission order"


def _module(ctx):
    tq = ctx.student("task_queue")
    for name in ("TaskQueue", "TaskQueueClosed", "TaskResult"):
        ctx.expect(hasattr(tq, name), "task_queue.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return tq


class _Pool:
    """A TaskQueue plus the threads that appeared while it lived (the student's workers)."""

    def __init__(self, ctx, tq, *args, **kwargs):
        self.ctx = ctx
        self.before = set(threading.enumerate())
        self.q = tq.TaskQueue(*args, **kwargs)

    def shutdown_and_check(self, **kwargs):
        self.q.shutdown(**kwargs)
        left = [t for t in threading.enumerate() if t not in self.before and t.is_alive()
                and not t.name.startswith(CHECK_THREADS)]
        self.ctx.expect(not left, "shutdown() returned while thread(s) it started were still alive: %s"
                        % ", ".join(t.name for t in left[:6]),
                        hint="shutdown(wait=True) must join every worker thread")


class _Gate:
    """A task that occupies one worker until opened, so the check can queue tasks behind it."""

    def __init__(self):
        self.started = threading.Event()
        self.opened = threading.Event()

    def __call__(self):
        self.started.set()
        self.opened.wait(WAIT)
        return "gate"

    def occupy(self, ctx, q, what):
        tid = q.submit(self, priority=-1000)
        ctx.expect(self.started.wait(WAIT), "%s: a task submitted to an idle queue did not start within "
                   "%.0f s" % (what, WAIT), hint="submit() must wake a waiting worker (notify)")
        return tid


def _occupy_all(ctx, q, w):
    """Gates on every one of the w workers; returns (gates, their task ids)."""
    gates, ids = [_Gate() for _ in range(w)], []
    for i, g in enumerate(gates):
        if i == 0:
            ids.append(g.occupy(ctx, q, "worker 1 of %d" % w))
        else:
            ids.append(_submit_soon(ctx, q, g, -1000, "%d of %d workers busy" % (i, w)))
            ctx.expect(g.started.wait(WAIT), "worker %d of %d: a task submitted while only %d worker(s) were "
                       "busy did not start within %.0f s" % (i + 1, w, i, WAIT), hint=HINT_OUTSIDE)
    return gates, ids


def _open_later(gates, delay):
    def open_gates():
        for g in gates:
            g.opened.set()
    timer = threading.Timer(delay, open_gates)
    timer.name = "gate-timer"
    timer.start()
    return timer


def _submit_soon(ctx, q, fn, priority, what):
    """q.submit(fn, priority=priority), failing the check if it blocks (a task holds the queue's lock)."""
    box = {}

    def call():
        try:
            box["id"] = q.submit(fn, priority=priority)
        except BaseException as exc:  # re-raised in the check's thread
            box["error"] = exc
    t = threading.Thread(target=call, name="submitter", daemon=True)
    t.start()
    t.join(SUBMIT_WAIT)
    if t.is_alive():
        ctx.fail("%s: submit() did not return within %.1f s while a worker was running a task: submit() "
                 "must never wait for a task to finish" % (what, SUBMIT_WAIT), hint=HINT_OUTSIDE)
    if "error" in box:
        raise box["error"]
    return box["id"]


def _recorder():
    ran = []
    lock = threading.Lock()

    def make(item, value=None):
        def task():
            with lock:
                ran.append(item)
            return value
        return task
    return ran, make


def _gated_order(ctx, tq, items, strategy):
    """One worker: occupy it, submit a task per item (item.priority), open, shutdown; the run order."""
    pool = _Pool(ctx, tq, 1, strategy=strategy)
    q = pool.q
    gate = _Gate()
    gate.occupy(ctx, q, "one worker")
    ran, make = _recorder()
    for i, it in enumerate(items):
        if i == 0:
            _submit_soon(ctx, q, make(it), it.priority, "one worker busy")
        else:
            q.submit(make(it), priority=it.priority)
    gate.opened.set()
    pool.shutdown_and_check()
    oracle = exactly_once(items, ran, what="task")
    ctx.oracle(oracle and "strategy=%r, one worker, %d queued tasks: %s" % (strategy, len(items), oracle),
               hint=HINT_DRAIN)
    return ran


def _expect_raises(ctx, exc_type, fn, what, hint=None):
    try:
        fn()
    except exc_type:
        return
    except Exception as exc:  # the wrong exception
        ctx.fail("%s raised %s: %s, expected %s" % (what, type(exc).__name__, exc, exc_type.__name__), hint=hint)
    ctx.fail("%s did not raise %s" % (what, exc_type.__name__), hint=hint)


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
    ctx.expect(issubclass(tq.TaskQueueClosed, RuntimeError), "TaskQueueClosed must be a subclass of RuntimeError")
    _expect_raises(ctx, ValueError, lambda: tq.TaskQueue(0), "TaskQueue(0)", hint="workers must be >= 1")
    _expect_raises(ctx, ValueError, lambda: tq.TaskQueue(1, strategy="random"), "TaskQueue(1, strategy='random')",
                   hint="strategy is 'priority' or 'fifo'")

    def boom(msg):
        raise ValueError(msg)

    pool = _Pool(ctx, tq, 2)
    q = pool.q
    ids = [q.submit(pow, 2, i, priority=i % 2) for i in range(5)]
    ctx.expect_eq(ids, [0, 1, 2, 3, 4], "ids returned by the first five submit() calls")
    fid = q.submit(boom, "on purpose", priority=1)
    kid = q.submit("{}-{}".format, "a", "b")
    for i, tid in enumerate(ids):
        r = q.result(tid, timeout=WAIT)
        ctx.expect((r.task_id, r.status, r.value, r.error, r.priority) == (tid, "done", 2 ** i, None, i % 2),
                   "result(%d) of submit(pow, 2, %d, priority=%d): expected task_id %d, status 'done', value "
                   "%d, error None, priority %d; got %r, %r, %r, %r, %r"
                   % (tid, i, i % 2, tid, 2 ** i, i % 2, r.task_id, r.status, r.value, r.error, r.priority))
        ctx.expect(isinstance(r.worker, str) and r.worker, "result(%d).worker should be the worker thread's "
                   "name, got %r" % (tid, r.worker))
    r = q.result(fid, timeout=WAIT)
    ctx.expect(r.status == "failed" and isinstance(r.error, ValueError) and r.value is None,
               "a task that raised ValueError: expected status 'failed', error the ValueError, value None; "
               "got status %r, error %r, value %r" % (r.status, r.error, r.value),
               hint="catch Exception around the call and store it in the task's result")
    ctx.expect_eq(q.result(kid, timeout=WAIT).value, "a-b", "value of submit('{}-{}'.format, 'a', 'b')")
    res = q.results()
    ctx.expect(isinstance(res, dict) and sorted(res) == list(range(7)),
               "results() after 7 finished tasks should be a dict with keys 0..6, got %r"
               % (sorted(res) if isinstance(res, dict) else res,))
    _expect_raises(ctx, KeyError, lambda: q.result(12345, timeout=0.1), "result(12345) (an unknown id)")
    pool.shutdown_and_check()
    _expect_raises(ctx, tq.TaskQueueClosed, lambda: q.submit(pow, 2, 2), "submit() after shutdown()")
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
    _expect_raises(ctx, TimeoutError, lambda: q.result(tid, timeout=0.1),
                   "result(id, timeout=0.1) of a task queued behind a busy worker",
                   hint="Condition.wait_for(predicate, timeout) returns False on timeout: raise TimeoutError")
    ctx.expect(time.monotonic() - t0 < 1.0, "result(id, timeout=0.1) took %.2f s to give up"
               % (time.monotonic() - t0))
    gate.opened.set()
    ctx.expect_eq(q.result(tid, timeout=WAIT).value, 9, "result() of pow(3, 2) once the worker is free")
    pool.shutdown_and_check()

    ran, make = _recorder()
    with tq.TaskQueue(2) as q:
        for i in range(4):
            q.submit(make(i))
    ctx.expect(sorted(ran) == [0, 1, 2, 3], "the tasks submitted inside `with TaskQueue(2) as q:` had not all "
               "run when the block ended (ran: %r)" % sorted(ran), hint="__exit__ calls shutdown(), which drains")


def strategies(ctx):
    """One worker: 'priority' runs lowest number first, FIFO among equals; 'fifo' runs in submission order."""
    tq = _module(ctx)
    n, levels = ctx.params["tasks"], ctx.params["levels"]
    items = [Task(ctx.rng.randrange(levels), i) for i in range(n)]
    ran = _gated_order(ctx, tq, items, "priority")
    ctx.oracle(priority_order(ran, priority=lambda t: t.priority, order=lambda t: t.submitted),
               hint="a LOWER number runs first; " + HINT_SEQ)
    ran = _gated_order(ctx, tq, items, "fifo")
    ctx.oracle(priority_order(ran, priority=lambda t: 0, order=lambda t: t.submitted),
               hint="strategy='fifo' ignores priorities for the order: key the heap by the task id alone")


def errors_isolated(ctx):
    """Failing tasks are recorded per task; they do not kill their workers; later tasks still run."""
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
    if len(res) < n:
        workers = sorted({r.worker for r in res.values() if r.worker})
        alive = {t.name for t in threading.enumerate()}
        dead = [name for name in workers if name not in alive]
        ctx.fail("%d tasks (every %d-th one raising RuntimeError) on %d workers: only %d had finished, and "
                 "no more were finishing%s" % (n, every, w, len(res),
                               "; worker thread(s) %s, which ran failing tasks, are dead" % ", ".join(dead)
                               if dead else ""),
                 hint="catch Exception around the task call, record it, and keep the worker loop going")
    for i, tid in enumerate(ids):
        r = res[tid]
        if i % every == 0:
            ctx.expect(r.status == "failed" and isinstance(r.error, RuntimeError) and r.value is None,
                       "task %d raised RuntimeError: expected status 'failed' with that error, got status %r, "
                       "error %r, value %r" % (i, r.status, r.error, r.value))
        else:
            ctx.expect(r.status == "done" and r.value == i * i and r.error is None,
                       "task %d returned %d: expected status 'done', got status %r, value %r, error %r"
                       % (i, i * i, r.status, r.value, r.error))
    failed = len(range(0, n, every))
    m = q.metrics()
    ctx.expect((m.get("completed"), m.get("failed")) == (n - failed, failed),
               "metrics() after %d tasks, %d of them failing: expected completed %d, failed %d; got %r, %r"
               % (n, failed, n - failed, failed, m.get("completed"), m.get("failed")))
    pool.shutdown_and_check()


def metrics_exact(ctx):
    """A controlled clock, one worker: every wait_time, run_time and metric is known exactly."""
    tq = _module(ctx)
    plan = [tuple(x) for x in ctx.params["plan"]]      # (priority, run seconds, fails)
    clock = ctx.virtual_clock()
    t0 = clock.now
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
    n = len(plan)
    m = q.metrics()
    snap = {k: m.get(k) for k in ("submitted", "completed", "failed", "cancelled", "pending", "running")}
    ctx.expect_eq(snap, {"submitted": n + 1, "completed": 0, "failed": 0, "cancelled": 0, "pending": n,
                         "running": 1},
                  "metrics() while one worker runs a task and %d are queued" % n)
    ctx.expect(abs(m.get("avg_wait", -1) - 0.0) < EPS and abs(m.get("avg_run", -1) - 0.0) < EPS,
               "avg_wait and avg_run before any task finished should be 0.0, got %r and %r"
               % (m.get("avg_wait"), m.get("avg_run")))
    gate.opened.set()
    pool.shutdown_and_check()

    # What must have happened: the gate ran from t0 to t0 + n + 5, then the tasks by (priority, id).
    expect = {gid: (0.0, n + 5.0, "done", -1000)}
    t = t0 + n + 5.0
    for i in sorted(range(n), key=lambda i: (plan[i][0], i)):
        p, d, fails = plan[i]
        expect[ids[i]] = (t - (t0 + i + 1), float(d), "failed" if fails else "done", p)
        t += d
    res = q.results()
    for tid, (wait, run, status, p) in sorted(expect.items()):
        r = res.get(tid)
        ctx.expect(r is not None, "results() has no entry for task %d after shutdown()" % tid)
        ctx.expect_eq(r.status, status, "status of task %d" % tid)
        got_wait, got_run = r.wait_time, r.run_time
        ctx.expect(got_wait is not None and abs(got_wait - wait) < EPS and got_run is not None
                   and abs(got_run - run) < EPS,
                   "task %d (priority %s): with the check's clock, wait_time should be %g s and run_time %g s; "
                   "got %r and %r (submitted_at %r, started_at %r, finished_at %r)"
                   % (tid, p, wait, run, got_wait, got_run, r.submitted_at, r.started_at, r.finished_at),
                   hint="read every timestamp from the `clock` given to TaskQueue(): submitted_at in submit(), "
                        "started_at just before the call, finished_at just after it")
    m = q.metrics()
    fails = sum(1 for _, _, f in plan if f)
    by = {}
    for tid, (_, _, status, p) in expect.items():
        b = by.setdefault(p, {"submitted": 0, "completed": 0, "failed": 0, "cancelled": 0})
        b["submitted"] += 1
        b["completed" if status == "done" else "failed"] += 1
    snap = {k: m.get(k) for k in ("submitted", "completed", "failed", "cancelled", "pending", "running")}
    ctx.expect_eq(snap, {"submitted": n + 1, "completed": n + 1 - fails, "failed": fails, "cancelled": 0,
                         "pending": 0, "running": 0}, "metrics() after shutdown()")
    ctx.expect_eq(m.get("by_priority"), by, "metrics()['by_priority'] after shutdown()")
    avg_wait = sum(e[0] for e in expect.values()) / (n + 1)
    avg_run = sum(e[1] for e in expect.values()) / (n + 1)
    ctx.expect(abs(m.get("avg_wait", -1) - avg_wait) < EPS and abs(m.get("avg_run", -1) - avg_run) < EPS,
               "metrics() avg_wait and avg_run over the %d finished tasks (failed ones included) should be "
               "%.4f and %.4f; got %r and %r" % (n + 1, avg_wait, avg_run, m.get("avg_wait"), m.get("avg_run")))
    ctx.expect_eq(m.get("workers"), 1, "metrics()['workers'] of TaskQueue(1)")


def metrics_no_race(ctx):
    """Concurrent submitters, several workers finishing at once: every counter is exact."""
    tq = _module(ctx)
    w, subs, per, every = ctx.params["workers"], ctx.params["submitters"], ctx.params["per_submitter"], \
        ctx.params["fail_every"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    plans = [[(s * per + i, ctx.rng.randrange(3)) for i in range(per)] for s in range(subs)]
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
    pool.shutdown_and_check()
    ctx.expect(len(broken) < w, "tasks that meet in groups of %d at a barrier timed out waiting for each other "
               "(%d of them): the pool does not run %d tasks at once" % (w, len(broken), w), hint=HINT_OUTSIDE)
    ids = [i for g in got_ids for i in g]
    ctx.expect(sorted(ids) == list(range(subs * per)),
               "%d concurrent submitters got task ids that are not exactly 0..%d (duplicates: %d): ids must "
               "be handed out under the lock" % (subs, subs * per - 1, len(ids) - len(set(ids))))
    total = subs * per
    failed = sum(1 for g in plans for k, _ in g if k % every == 0)
    by = {}
    for g in plans:
        for k, p in g:
            b = by.setdefault(p, {"submitted": 0, "completed": 0, "failed": 0, "cancelled": 0})
            b["submitted"] += 1
            b["failed" if k % every == 0 else "completed"] += 1
    m = q.metrics()
    snap = {k: m.get(k) for k in ("submitted", "completed", "failed", "pending", "running")}
    want = {"submitted": total, "completed": total - failed, "failed": failed, "pending": 0, "running": 0}
    lost = snap["pending"] == 0 and snap["running"] == 0 and snap["submitted"] == total
    ctx.expect(snap == want, "metrics() after %d tasks from %d submitters on %d workers and shutdown(): "
               "expected %r, got %r%s" % (total, subs, w, want, snap,
                                          " (every task finished: lost updates)" if lost else ""),
               hint=HINT_LOCKED_STATS if lost else HINT_DRAIN)
    ctx.expect(m.get("by_priority") == by, "metrics()['by_priority'] after %d tasks: expected %r, got %r "
               "(lost updates)" % (total, by, m.get("by_priority")), hint=HINT_LOCKED_STATS)
    ctx.expect_eq(len(q.results()), total, "number of entries in results()")


def pool_size(ctx):
    """`workers` blocking tasks all start (the pool runs them at once); while they block, no further task
    starts (the pool never grows); afterwards every task ran on one of `workers` threads."""
    tq = _module(ctx)
    w, extra, watch = ctx.params["workers"], ctx.params["extra_tasks"], ctx.params["watch_s"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gates, _ = _occupy_all(ctx, q, w)       # fails unless `workers` tasks run at the same time
    ran, make = _recorder()
    for i in range(extra):
        q.submit(make(i))
    time.sleep(watch)
    early = list(ran)
    threads = [t for t in threading.enumerate() if t not in pool.before and not t.name.startswith(CHECK_THREADS)]
    for g in gates:
        g.opened.set()
    pool.shutdown_and_check()
    ctx.expect(len(threads) <= w, "TaskQueue(%d): with its %d workers busy and %d tasks queued, %d threads were "
               "running (%s): the pool grew beyond its size" % (w, w, extra, len(threads),
                                                               ", ".join(t.name for t in threads[:8])),
               hint="start exactly `workers` threads and never more; a queued task waits for a free worker")
    ctx.expect(not early, "TaskQueue(%d): while its %d workers were all busy, %d of %d newly submitted tasks "
               "started anyway: the pool grew beyond its size" % (w, w, len(early), extra),
               hint="start exactly `workers` threads and never more; a queued task waits for a free worker")
    names = {r.worker for r in q.results().values()}
    ctx.expect(len(names) <= w, "TaskQueue(%d): tasks ran on %d different threads: %s"
               % (w, len(names), sorted(names)[:8]), hint="start exactly `workers` threads, once")
    ctx.expect_eq(len(ran), extra, "tasks run after the busy workers were freed")


def pool_bound_stress(ctx):
    """Many submitters at once (forced switches): never more than `workers` threads run tasks."""
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

    def submitter():
        start.wait()
        for _ in range(per):
            q.submit(task)
    ctx.run_threads([submitter] * subs, timeout=20, names=["submitter-%d" % s for s in range(subs)])
    started = [t for t in threading.enumerate() if t not in pool.before and not t.name.startswith(CHECK_THREADS)]
    ctx.expect(len(started) <= w, "TaskQueue(%d) with %d concurrent submitters: %d threads were started (%s); "
               "the pool must never exceed %d" % (w, subs, len(started), ", ".join(t.name for t in started[:8]), w),
               hint="deciding to start a worker and recording it must be one step under the lock (or start "
                    "all workers in __init__)")
    pool.shutdown_and_check()
    idents = {r.value for r in q.results().values()}
    ctx.expect(meter.first_violation is None and len(idents) <= w,
               "TaskQueue(%d) with %d concurrent submitters of %d tasks each: up to %d tasks ran at once, on %d "
               "different threads in all; the pool must never exceed %d%s"
               % (w, subs, per, meter.max, len(idents), w,
                  " (" + meter.first_violation + ")" if meter.first_violation else ""),
               hint="deciding to start a worker and recording it must be one step under the lock (or start "
                    "all workers in __init__)")


def shutdown_drains(ctx):
    """shutdown() with busy workers and a backlog: every queued task runs, then the workers are joined."""
    tq = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gates, _ = _occupy_all(ctx, q, w)
    ran, make = _recorder()
    ids = [q.submit(make(i, i), priority=ctx.rng.randrange(4)) for i in range(n)]

    timer = _open_later(gates, delay)
    t0 = time.monotonic()
    pool.shutdown_and_check()      # every worker busy, n tasks queued
    took = time.monotonic() - t0
    timer.join(WAIT)
    ctx.expect(len(ran) == n, "shutdown() was called with every worker busy and %d tasks queued; it returned "
               "after %.2f s, but only %d of them had run: shutdown() must drain the queue, not drop it"
               % (n, took, len(ran)), hint=HINT_DRAIN)
    res = q.results()
    bad = [tid for i, tid in enumerate(ids) if tid not in res or res[tid].status != "done" or res[tid].value != i]
    ctx.expect(not bad, "after shutdown(), %d queued task(s) have no 'done' result with the right value, "
               "first id %s" % (len(bad), bad[:1]))
    m = q.metrics()
    ctx.expect((m.get("completed"), m.get("pending"), m.get("running")) == (n + w, 0, 0),
               "metrics() after a draining shutdown(): expected completed %d, pending 0, running 0; got %r, %r, %r"
               % (n + w, m.get("completed"), m.get("pending"), m.get("running")))
    _expect_raises(ctx, tq.TaskQueueClosed, lambda: q.submit(pow, 2, 2), "submit() after shutdown()")


def shutdown_cancels(ctx):
    """shutdown(cancel_pending=True): running tasks finish, queued ones are cancelled and their waiters return."""
    tq = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gates, gids = _occupy_all(ctx, q, w)
    ran, make = _recorder()
    ids = [q.submit(make(i), priority=i % 3) for i in range(n)]
    box = {}

    def waiter():
        try:
            box["result"] = q.result(ids[-1], timeout=WAIT)
        except BaseException as exc:  # reported below
            box["error"] = exc
        box["at"] = time.monotonic()
    wt = threading.Thread(target=waiter, name="waiter", daemon=True)
    wt.start()
    time.sleep(0.02)

    timer = _open_later(gates, delay)
    t0 = time.monotonic()
    pool.shutdown_and_check(cancel_pending=True)
    timer.join(WAIT)
    wt.join(WAIT)
    ctx.expect(not ran, "shutdown(cancel_pending=True) with %d tasks queued behind busy workers: %d of them ran "
               "anyway" % (n, len(ran)), hint="cancel the queued tasks under the lock, before waking the workers")
    res = q.results()
    for gid in gids:
        ctx.expect(gid in res and res[gid].status == "done" and res[gid].value == "gate",
                   "a task running when shutdown(cancel_pending=True) was called must finish normally; its "
                   "result is %r" % (res.get(gid),))
    for tid in ids:
        r = res.get(tid)
        ctx.expect(r is not None and r.status == "cancelled" and r.started_at is None and r.worker is None,
                   "queued task %d after shutdown(cancel_pending=True): expected status 'cancelled', never "
                   "started (started_at None, worker None); got %r" % (tid, r))
    ctx.expect("error" not in box, "result() of a queued task, waiting when shutdown(cancel_pending=True) "
               "was called, raised %r instead of returning the cancelled result" % (box.get("error"),),
               hint="notify_all() the result() waiters when you cancel")
    ctx.expect("at" in box and box["at"] - t0 < delay + 0.5 and box.get("result") is not None
               and box["result"].status == "cancelled",
               "result() of a queued task did not return its 'cancelled' result promptly after "
               "shutdown(cancel_pending=True) (it returned %s)"
               % ("after %.2f s" % (box["at"] - t0) if "at" in box else "never"),
               hint="notify_all() the result() waiters when you cancel")
    m = q.metrics()
    ctx.expect((m.get("cancelled"), m.get("completed"), m.get("pending")) == (n, w, 0),
               "metrics() after cancelling %d queued tasks (%d were running): expected cancelled %d, "
               "completed %d, pending 0; got %r, %r, %r" % (n, w, n, w, m.get("cancelled"), m.get("completed"),
                                                            m.get("pending")))
    cancelled = sum(b.get("cancelled", 0) for b in (m.get("by_priority") or {}).values())
    ctx.expect_eq(cancelled, n, "sum of by_priority[p]['cancelled'] after cancelling %d tasks" % n)


# ---------------------------------------------------------------------------------------------
# problem_solving


def shutdown_returns(ctx):
    """Idle workers asleep, a fresh queue, a result() caller waiting with no timeout: shutdown wakes all."""
    tq = _module(ctx)
    w = ctx.params["workers"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    ids = [q.submit(pow, 2, i) for i in range(w)]
    for tid in ids:
        q.result(tid, timeout=WAIT)
    time.sleep(0.05)       # every worker is back waiting for work
    pool.shutdown_and_check()
    pool = _Pool(ctx, tq, w)
    pool.shutdown_and_check()
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
    pool.shutdown_and_check(cancel_pending=True)
    waiter.join()          # a waiter nobody wakes is named by the harness (lost wake-up)
    ctx.expect(box.get("r") is not None and box["r"].status in ("cancelled", "done"),
               "result() of a task cancelled by shutdown(cancel_pending=True) returned %r" % (box.get("r"),))


def _gated_waiters(ctx, q, k, stuck_s):
    """k tasks, each held on a gate, and k threads waiting in result() for them (untimed), lined up one
    after the other; the gates then open in the reverse order, each task finishing alone while every
    other caller waits. A wake-up for one finished task that reaches only one caller (notify() on a
    condition all result() callers share) wakes the wrong one; the right one sleeps on. Nothing else
    wakes them (shutdown() comes later): the harness names the lost wake-up."""
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
    for i in range(k):
        ctx.expect(got.get(i) == ("done", i * i),
                   "%d threads waited in result() for %d tasks, which finished one at a time: the caller of "
                   "task %d got %r, expected status 'done' and value %d" % (k, k, ids[i], got.get(i), i * i),
                   hint="several callers may wait at once; wake them all (notify_all) and let each re-check "
                        "its own task")


def result_waiters(ctx):
    """Many threads wait in result() (no timeout): first `gated` callers lined up for tasks that
    finish one at a time (see _gated_waiters), then `waiters` callers for tasks finishing in any order;
    each gets its own task's result."""
    tq = _module(ctx)
    w, waiters, per = ctx.params["workers"], ctx.params["waiters"], ctx.params["per_waiter"]
    pool = _Pool(ctx, tq, w)
    q = pool.q
    gated = ctx.params.get("gated", 0)
    if gated:
        _gated_waiters(ctx, q, min(gated, w), ctx.params.get("stuck_s", 0.3))
    n = waiters * per
    ids = [q.submit(pow, k, 2, priority=ctx.rng.randrange(3)) for k in range(n)]
    bad = []

    def wait_for(chunk):
        for k in chunk:
            r = q.result(ids[k])
            if r.status != "done" or r.value != k * k:
                bad.append((k, r.status, r.value))
    chunks = [list(range(s, n, waiters))[::-1] for s in range(waiters)]
    ctx.run_threads([lambda c=c: wait_for(c) for c in chunks], names=["waiter-%d" % s for s in range(waiters)])
    pool.shutdown_and_check()
    ctx.expect(not bad, "result() returned the wrong TaskResult for %d task(s), first (task, status, value) %r"
               % (len(bad), bad[:1]))


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
