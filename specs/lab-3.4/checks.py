"""Checks for lab-3.4, Priority worker queue (heapq + threading).

The student's API is the docstring of starter/lab-3.4/worker_queue.py:
PriorityWorkerQueue(workers=4, aging_every=None, on_error=None) with submit(fn, *args, priority=0,
**kwargs), pending(), shutdown() (drains, then joins the workers) and QueueClosed.

Ordering is observed with ONE worker: a "gate" task occupies it while the check queues every task,
then the gate opens and the run order is exactly the order in which the queue hands tasks out.
Every wait in this file has a timeout, so that the harness's lost-wake-up detector only ever sees the
student's own untimed waits. shutdown() is always called from the main thread: when the workers
sleep in Condition.wait() with nobody left to wake them, the harness names it (status deadlock).

Standard library only.
"""
import collections
import threading
import time

from grade_oracles import await_waiting, exactly_once, in_wait, priority_order

Task = collections.namedtuple("task", "priority submitted")

HINT_SEQ = ("push (priority, seq, task) with seq from itertools.count(): the sequence number breaks "
            "ties in submission order, and heapq never compares two tasks")
HINT_DRAIN = ("a worker may exit only when the queue is closed AND empty: "
              "`while not heap and not closed: cv.wait()`, then `if not heap: return`")
HINT_NOTIFY = ("shutdown() must set the closed flag and call notify_all() under the condition's lock, "
               "or workers already asleep in wait() never wake up to see it")
WAIT = 3.0  # seconds any single wait of the check may take before it gives up
SUBMIT_WAIT = 1.0  # seconds submit() may take while every worker is busy
HINT_OUTSIDE = ("take the task out of the heap under the lock, release the lock, then run it: a task run "
                "inside `with self._cv:` blocks submit() and every other worker")


def _module(ctx):
    wq = ctx.student("worker_queue")
    for name in ("PriorityWorkerQueue", "QueueClosed"):
        ctx.expect(hasattr(wq, name), "worker_queue.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return wq


def _start(ctx, wq, *args, **kwargs):
    """Creates a queue; returns (queue, the threads it started)."""
    before = set(threading.enumerate())
    q = wq.PriorityWorkerQueue(*args, **kwargs)
    workers = [t for t in threading.enumerate() if t not in before]
    return q, workers


class _Gate:
    """A task that occupies one worker until opened, so the check can queue tasks behind it."""

    def __init__(self):
        self.started = threading.Event()
        self.opened = threading.Event()

    def __call__(self):
        self.started.set()
        self.opened.wait(WAIT)

    def occupy(self, ctx, q, what):
        q.submit(self, priority=-10 ** 9)
        ctx.expect(self.started.wait(WAIT), "%s: a task submitted to an idle queue did not start within "
                   "%.0f s" % (what, WAIT), hint="submit() must notify a waiting worker")


def _submit_soon(ctx, q, fn, priority, what):
    """q.submit(fn, priority=priority), failing the check if it blocks (a task holds the queue's lock)."""
    box = {}

    def call():
        try:
            q.submit(fn, priority=priority)
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


def _recorder():
    """A list of run tasks and a factory of tasks that append themselves to it."""
    ran = []
    lock = threading.Lock()

    def make(item):
        def task():
            with lock:
                ran.append(item)
        return task
    return ran, make


def _alive(workers):
    return [t.name for t in workers if t.is_alive()]


def _gated_order(ctx, wq, items, **kwargs):
    """One worker: occupy it, submit a task per item (item.priority), open, shutdown; the run order."""
    q, workers = _start(ctx, wq, 1, **kwargs)
    gate = _Gate()
    gate.occupy(ctx, q, "one worker")
    ran, make = _recorder()
    for i, it in enumerate(items):
        if i == 0:
            _submit_soon(ctx, q, make(it), it.priority, "one worker busy")
        else:
            q.submit(make(it), priority=it.priority)
    gate.opened.set()
    q.shutdown()
    ctx.expect(not _alive(workers), "shutdown() returned while worker thread(s) %s were still alive"
               % ", ".join(_alive(workers)), hint="join every worker thread in shutdown()")
    oracle = exactly_once(items, ran, what="task")
    ctx.oracle(oracle and "with one worker and %d queued tasks: %s" % (len(items), oracle),
               hint=HINT_DRAIN)
    return ran


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Arguments, errors, pending(), QueueClosed, idempotent shutdown, context manager."""
    wq = _module(ctx)
    ctx.expect(issubclass(wq.QueueClosed, RuntimeError), "QueueClosed must be a subclass of RuntimeError")
    try:
        wq.PriorityWorkerQueue(0)
    except ValueError:
        pass
    else:
        ctx.fail("PriorityWorkerQueue(0) did not raise ValueError", hint="workers must be >= 1")

    errors, got = [], []
    lock = threading.Lock()

    def record(*args, **kwargs):
        with lock:
            got.append((args, kwargs))

    def boom(i):
        raise ValueError("task %d fails on purpose" % i)

    q, workers = _start(ctx, wq, 2, on_error=errors.append)
    ctx.expect(len(workers) == 2, "PriorityWorkerQueue(2) started %d thread(s), expected 2 workers started "
               "by the constructor" % len(workers), hint="start the worker threads in __init__")
    q.submit(record, 1, 2, priority=3, key="v")
    q.submit(boom, 1)
    q.submit(boom, 2, priority=-1)
    for i in range(6):
        q.submit(record, i, priority=i % 3)
    q.shutdown()
    ctx.expect(((1, 2), {"key": "v"}) in got, "submit(fn, 1, 2, priority=3, key='v') did not call "
               "fn(1, 2, key='v'); the calls seen were %r" % (got[:4],),
               hint="keep *args and **kwargs (without `priority`) and call fn(*args, **kwargs)")
    ctx.expect(len(got) == 7, "two tasks raised ValueError, after which only %d of the 7 other tasks ran: "
               "a failing task must not stop its worker" % len(got),
               hint="wrap the task call in try/except Exception and keep the worker loop going")
    ctx.expect(len(errors) == 2 and all(isinstance(e, ValueError) for e in errors),
               "on_error should have been called with the 2 ValueErrors raised by tasks; it got %r" % (errors,),
               hint="call on_error(exc) from the worker's except clause")
    ctx.expect(not _alive(workers), "shutdown() returned while worker thread(s) %s were still alive"
               % ", ".join(_alive(workers)), hint="join every worker thread in shutdown()")
    try:
        q.submit(record, 99)
    except wq.QueueClosed:
        pass
    else:
        ctx.fail("submit() after shutdown() did not raise QueueClosed")
    try:
        ctx.call_with_timeout(q.shutdown, WAIT)
    except ctx.CheckFailed:
        ctx.fail("a second shutdown() did not return within %.0f s" % WAIT,
                 hint="shutdown() must be idempotent: joining finished workers again returns at once")

    q, workers = _start(ctx, wq, 1)
    gate = _Gate()
    gate.occupy(ctx, q, "pending()")
    ran, make = _recorder()
    _submit_soon(ctx, q, make(0), 0, "pending()")
    for i in range(1, 3):
        q.submit(make(i), priority=i)
    n = q.pending()
    gate.opened.set()
    q.shutdown()
    ctx.expect_eq(n, 3, "pending() with one worker busy and 3 tasks queued behind it")
    ctx.expect_eq(q.pending(), 0, "pending() after shutdown() drained the queue")

    with wq.PriorityWorkerQueue(2) as q:
        for i in range(4):
            q.submit(make(10 + i))
    ctx.expect(sorted(x for x in ran if x >= 10) == [10, 11, 12, 13],
               "the tasks submitted inside `with PriorityWorkerQueue(2) as q:` had not all run when the "
               "block ended (ran: %r)" % sorted(x for x in ran if x >= 10),
               hint="__exit__ must call shutdown(), which drains the queue")


def priority_first(ctx):
    """One worker, distinct priorities queued in random order: they run lowest number first."""
    wq = _module(ctx)
    n = ctx.params["tasks"]
    prios = ctx.rng.sample(range(-50, 200), n - 2) + [2.5, -0.5]
    ctx.rng.shuffle(prios)
    items = [Task(p, i) for i, p in enumerate(prios)]
    ran = _gated_order(ctx, wq, items)
    ctx.oracle(priority_order(ran, priority=lambda t: t.priority, order=lambda t: t.submitted),
               hint="a LOWER number is MORE urgent: heapq pops the smallest tuple first, so push the "
                    "priority itself (not its negation)")


def fifo_within_priority(ctx):
    """One worker, many equal priorities: equal priorities run in submission order."""
    wq = _module(ctx)
    n, levels = ctx.params["tasks"], ctx.params["levels"]
    items = [Task(ctx.rng.randrange(levels), i) for i in range(n)]
    ran = _gated_order(ctx, wq, items)
    ctx.oracle(priority_order(ran, priority=lambda t: t.priority, order=lambda t: t.submitted),
               hint="heapq is not stable: " + HINT_SEQ)


def _pending_soon(q):
    """q.pending(), or None when it does not answer within a second (a task holds the queue's lock)."""
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("n", q.pending()), name="pending", daemon=True)
    t.start()
    t.join(1.0)
    return box.get("n")


def runs_concurrently(ctx):
    """`workers` tasks that wait for each other at a barrier must all run at once. Each round submits
    them to idle workers (every one asleep in wait()) and waits for them to finish BEFORE anything
    else happens: shutdown()'s notify_all() comes only afterwards, so a submit() that leaves workers
    asleep with tasks queued (it notifies only when the queue was empty, say) is not rescued by it.
    Seeing workers asleep in wait() while pending() > 0 for `stuck_s` is reported as a lost wake-up."""
    wq = _module(ctx)
    w, timeout = ctx.params["workers"], ctx.params["barrier_timeout"]
    rounds, stuck_s = ctx.params.get("rounds", 1), ctx.params.get("stuck_s", 0.3)
    meter = ctx.meter()
    broken, names, started, done = [], set(), set(), []
    lock = threading.Lock()
    finished = threading.Event()

    def meet(barrier):
        with meter:
            with lock:
                names.add(threading.current_thread().name)
                started.add(threading.current_thread())
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                with lock:
                    broken.append(threading.current_thread().name)
            with lock:
                done.append(1)
                if len(done) == w:
                    finished.set()

    def asleep_with_work():
        """(idle workers, pending) while workers sleep in wait() with tasks queued, else None."""
        idle = [t for t in workers if t.is_alive() and t not in started and in_wait(t)]
        if not idle or len(started) >= w:
            return None
        left = _pending_soon(q)
        return (len(idle), left) if left else None

    q, workers = _start(ctx, wq, w)
    idle = True
    for r in range(rounds):
        if idle:
            idle = await_waiting(workers, 1.0, some=True)  # a submission that never waits in wait() is not waited for again
        barrier = threading.Barrier(w, timeout=timeout)
        done.clear()
        started.clear()
        finished.clear()
        for _ in range(w):
            q.submit(meet, barrier)
        deadline, since, lost = time.monotonic() + timeout + WAIT, None, None
        while not finished.wait(0.02) and time.monotonic() < deadline:
            seen = asleep_with_work() if not broken else None
            if seen is None:
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since >= stuck_s:
                lost = seen
                break
        if lost:
            q.shutdown()
            ctx.fail("round %d: %d tasks that wait for each other (a barrier) were submitted to "
                     "PriorityWorkerQueue(%d) whose workers were all idle; %.1f s later %d worker(s) still "
                     "slept in wait() while pending() said %d task(s) were queued: a lost wake-up (a later "
                     "shutdown() would wake them and hide it)" % (r + 1, w, w, stuck_s, lost[0], lost[1]),
                     hint="submit() must wake a worker for every task it queues: notify() on every "
                          "submit (or notify_all()), not only when the queue was empty")
        if broken or len(done) < w:
            break
    q.shutdown()
    ctx.expect(not broken and meter.max >= w,
               "%d tasks that wait for each other (a barrier) were submitted to PriorityWorkerQueue(%d): "
               "at most %d ran at the same time and the barrier timed out after %.1f s. The workers "
               "do not run tasks concurrently" % (w, w, meter.max, timeout),
               hint=HINT_OUTSIDE)
    ctx.expect(len(names) == w, "%d concurrent tasks ran on %d distinct thread(s): %s"
               % (w, len(names), sorted(names)))


def drains_on_shutdown(ctx):
    """shutdown() while tasks are queued behind busy workers: every one of them runs before it returns."""
    wq = _module(ctx)
    w, n, delay = ctx.params["workers"], ctx.params["queued"], ctx.params["release_after"]
    q, workers = _start(ctx, wq, w)
    gates = [_Gate() for _ in range(w)]
    for i, g in enumerate(gates):
        if i == 0:
            g.occupy(ctx, q, "worker 1 of %d" % w)
        else:
            _submit_soon(ctx, q, g, -10 ** 9, "%d of %d workers busy" % (i, w))
            ctx.expect(g.started.wait(WAIT), "worker %d of %d: a task submitted while only %d worker(s) were "
                       "busy did not start within %.0f s" % (i + 1, w, i, WAIT), hint=HINT_OUTSIDE)
    ran, make = _recorder()
    for i in range(n):
        q.submit(make(i), priority=ctx.rng.randrange(5))
    state = {"returned": False, "late": 0}
    late_lock = threading.Lock()

    def late_check():
        with late_lock:
            if state["returned"]:
                state["late"] += 1
    for _ in range(3):
        q.submit(late_check, priority=99)

    def open_gates():
        for g in gates:
            g.opened.set()
    timer = threading.Timer(delay, open_gates)
    timer.start()
    t0 = time.monotonic()
    q.shutdown()   # called while every worker is busy and n + 3 tasks are queued
    took = time.monotonic() - t0
    with late_lock:
        state["returned"] = True
    timer.join(WAIT)
    ctx.expect(len(ran) == n, "shutdown() was called with every worker busy and %d tasks queued; it "
               "returned after %.2f s, but only %d of the %d queued tasks had run: shutdown() must drain "
               "the queue, not drop it" % (n + 3, took, len(ran), n), hint=HINT_DRAIN)
    ctx.expect(not _alive(workers), "shutdown() returned while worker thread(s) %s were still alive"
               % ", ".join(_alive(workers)), hint="join every worker thread in shutdown()")
    time.sleep(0.02)
    ctx.expect(state["late"] == 0, "%d task(s) ran after shutdown() had returned" % state["late"],
               hint="shutdown() returns only after joining the workers, which exit when the queue is empty")


def exactly_once_stress(ctx):
    """Several submitters at once, aging on: every task runs exactly once; then shutdown joins all."""
    wq = _module(ctx)
    w, subs, per = ctx.params["workers"], ctx.params["submitters"], ctx.params["per_submitter"]
    q, workers = _start(ctx, wq, w, aging_every=ctx.params["aging_every"])
    ran, make = _recorder()
    plans = [[((s, i), ctx.rng.randrange(4)) for i in range(per)] for s in range(subs)]

    def submitter(plan):
        for ident, prio in plan:
            q.submit(make(ident), priority=prio)
    ctx.run_threads([lambda p=p: submitter(p) for p in plans], timeout=20,
                    names=["submitter-%d" % s for s in range(subs)])
    q.shutdown()
    produced = [ident for plan in plans for ident, _ in plan]
    ctx.oracle(exactly_once(produced, ran, what="task (submitter, index)"),
               hint="take a task out of the heap (and out of the FIFO used for aging) under the same "
                    "lock, and mark it taken, so no two workers get the same task")
    ctx.expect(not _alive(workers), "shutdown() returned while worker thread(s) %s were still alive"
               % ", ".join(_alive(workers)), hint="join every worker thread in shutdown()")


def no_busy_wait(ctx):
    """Idle workers block: they use (almost) no CPU while the queue is empty."""
    wq = _module(ctx)
    w, idle, budget = ctx.params["workers"], ctx.params["idle_s"], ctx.params["max_cpu_s"]
    q, workers = _start(ctx, wq, w)
    done = threading.Event()
    q.submit(done.set)
    ctx.expect(done.wait(WAIT), "a task submitted to an idle queue did not run within %.0f s" % WAIT)
    time.sleep(0.05)
    cpu0 = {t.name: ctx.thread_cpu(t) for t in workers}
    time.sleep(idle)
    used = {t.name: ctx.thread_cpu(t) - cpu0[t.name] for t in workers}
    q.shutdown()
    total = sum(used.values())
    ctx.expect(total <= budget,
               "with nothing to do for %.2f s, the %d worker threads used %.2f s of CPU (at most %.2f s "
               "expected): %s. They spin instead of waiting"
               % (idle, w, total, budget, ", ".join("%s %.2f s" % kv for kv in sorted(used.items()))),
               hint="block in Condition.wait() while the heap is empty; submit() and shutdown() notify")


# ---------------------------------------------------------------------------------------------
# problem_solving


def shutdown_returns(ctx):
    """shutdown() of idle workers (asleep in wait()), of a fresh queue and of a busy one returns."""
    wq = _module(ctx)
    w = ctx.params["workers"]
    # 1. idle workers, all asleep
    q, workers = _start(ctx, wq, w)
    done = threading.Semaphore(0)
    for _ in range(w):
        q.submit(done.release)
    for i in range(w):
        ctx.expect(done.acquire(timeout=WAIT), "only %d of %d tasks ran within %.0f s" % (i, w, WAIT))
    time.sleep(0.05)  # every worker is back waiting for work
    q.shutdown()
    ctx.expect(not _alive(workers), "shutdown() of idle workers returned while %s were still alive"
               % ", ".join(_alive(workers)), hint=HINT_NOTIFY)
    # 2. a queue that never got a task
    q, workers = _start(ctx, wq, w)
    q.shutdown()
    ctx.expect(not _alive(workers), "shutdown() of a fresh queue returned while %s were still alive"
               % ", ".join(_alive(workers)), hint=HINT_NOTIFY)
    # 3. busy workers, more tasks queued
    q, workers = _start(ctx, wq, w)
    ran, make = _recorder()
    for i in range(ctx.params["tasks"]):
        q.submit(make(i), priority=i % 3)
    q.shutdown()
    ctx.expect_eq(len(ran), ctx.params["tasks"], "tasks run by shutdown() of a busy queue", hint=HINT_DRAIN)


def aging_bound(ctx):
    """One worker, aging_every=k: old low-priority tasks overtake a crowd of urgent ones on time."""
    wq = _module(ctx)
    k, lows, highs = ctx.params["aging_every"], ctx.params["low"], ctx.params["high"]
    items = [Task(9, i) for i in range(lows)] + [Task(0, lows + i) for i in range(highs)]
    ran = _gated_order(ctx, wq, items, aging_every=k)
    pos = {t: i for i, t in enumerate(ran)}
    for j in range(lows):
        low = items[j]
        ctx.expect(pos[low] < (j + 1) * k,
                   "aging_every=%d, one worker: %d priority-9 tasks, then %d priority-0 tasks were queued. "
                   "The priority-9 task submitted #%d (it is the oldest waiting once the %d before it ran) "
                   "ran #%d after the gate opened; it should have run within the first %d. Run order "
                   "(priority, submitted): %s"
                   % (k, lows, highs, j + 1, j, pos[low] + 1, (j + 1) * k,
                      " ".join("(%s,%d)" % (t.priority, t.submitted) for t in ran[:3 * k])),
                   hint="count every take from the queue; on every k-th take hand out the oldest waiting "
                        "task (a FIFO beside the heap), whatever its priority")
    ctx.oracle(priority_order([t for t in ran if t.priority == 0], order=lambda t: t.submitted),
               hint="the non-aged takes are still FIFO within a priority: " + HINT_SEQ)
    ctx.oracle(priority_order([t for t in ran if t.priority == 9], order=lambda t: t.submitted),
               hint="aged takes hand out the OLDEST waiting task")


def no_starvation(ctx):
    """A flood of urgent tasks that keeps refilling the queue must not starve a low-priority task."""
    wq = _module(ctx)
    w, k = ctx.params["workers"], ctx.params["aging_every"]
    budget, bound = ctx.params["flood"], ctx.params["max_overtakes"]
    chains = 2 * w
    q, workers = _start(ctx, wq, w, aging_every=k)
    lock = threading.Lock()
    st = {"started": 0, "next": chains, "floods": 0, "low_submitted": None, "low_started": None}
    finished = threading.Event()
    ran = []

    def flood(ident):
        nxt = None
        with lock:
            st["started"] += 1
            st["floods"] += 1
            ran.append(ident)
            if st["next"] < budget:
                nxt = st["next"]
                st["next"] += 1
            if st["floods"] == budget:
                finished.set()
        if nxt is not None:  # refill before returning, so urgent work is always waiting
            q.submit(flood, ("flood", nxt), priority=0)

    def low():
        with lock:
            st["low_started"] = st["started"]
            st["started"] += 1
            ran.append(("low", 0))

    for c in range(chains):
        q.submit(flood, ("flood", c), priority=0)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with lock:
            if st["started"] >= 2 * chains:
                st["low_submitted"] = st["started"]
                break
        time.sleep(0.001)
    ctx.expect(st["low_submitted"] is not None, "the flood of urgent tasks did not get going within %.0f s"
               % WAIT)
    _submit_soon(ctx, q, low, 5, "urgent tasks running")
    finished.wait(WAIT * 2)
    q.shutdown()
    ctx.expect(st["low_started"] is not None, "the priority-5 task never ran (shutdown() should drain)",
               hint=HINT_DRAIN)
    over = st["low_started"] - st["low_submitted"]
    ctx.expect(over <= bound,
               "aging_every=%d, %d workers: while urgent tasks kept refilling the queue, %d tasks started "
               "between the submission of one priority-5 task and its start (at most %d expected): "
               "it starved" % (k, w, over, bound),
               hint="with aging_every=k, every k-th take must hand out the oldest waiting task")
    produced = [("flood", i) for i in range(budget)] + [("low", 0)]
    ctx.oracle(exactly_once(produced, ran, what="task"))


# ---------------------------------------------------------------------------------------------
# performance


def bench_queue(ctx):
    """Timed: (a) `tasks` short sleeping tasks on `workers` threads, all queued at once (serialised
    workers are slow here); (b) a chain of `chain` tiny tasks, each submitted when the previous one
    has run (every step is a wake-up of an idle worker: workers that spin instead of blocking keep
    the GIL from the thread being woken)."""
    wq = ctx.student("worker_queue")
    w, n, nap, chain = ctx.params["workers"], ctx.params["tasks"], ctx.params["task_sleep"], ctx.params["chain"]
    prios = [ctx.rng.randrange(8) for _ in range(n)]

    def workload():
        count = [0]
        lock = threading.Lock()
        all_ran, step = threading.Event(), threading.Event()

        def task():
            time.sleep(nap)
            with lock:
                count[0] += 1
                if count[0] == n:
                    all_ran.set()
        q = wq.PriorityWorkerQueue(w)
        for p in prios:
            q.submit(task, priority=p)
        if not all_ran.wait(WAIT):
            raise AssertionError("only %d of %d tasks ran within %.0f s" % (count[0], n, WAIT))
        for i in range(chain):
            step.clear()
            q.submit(step.set, priority=i % 3)
            if not step.wait(WAIT):
                raise AssertionError("a task submitted to an idle queue did not run within %.0f s" % WAIT)
        q.shutdown()
    return workload
