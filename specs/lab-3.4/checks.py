"""Workloads for lab-3.4, Priority worker queue (heapq + threading). Each records what the student's
code did (ctx.observe); judge.py, which the submission never sees, gives the verdicts.

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
import threading
import time

from grade_lib_gates import Gate, occupy, recorder, submit_soon
from grade_lib_student import student_module
from grade_oracles import await_waiting, in_wait

WAIT = 3.0  # seconds any single wait of the check may take before it gives up
SUBMIT_WAIT = 1.0  # seconds submit() may take while every worker is busy
HINT_OUTSIDE = ("take the task out of the heap under the lock, release the lock, then run it: a task run "
                "inside `with self._cv:` blocks submit() and every other worker")


def _module(ctx):
    return student_module(ctx, "worker_queue", ("PriorityWorkerQueue", "QueueClosed"))


def _start(ctx, wq, *args, **kwargs):
    """Creates a queue; returns (queue, the threads it started)."""
    before = set(threading.enumerate())
    q = wq.PriorityWorkerQueue(*args, **kwargs)
    workers = [t for t in threading.enumerate() if t not in before]
    return q, workers


class _Gate(Gate):
    """A gate (grade_lib_gates) that occupies the queue's worker first."""

    def occupy(self, ctx, q, what):
        return occupy(ctx, q, self, what, hint="submit() must notify a waiting worker", priority=-10 ** 9)


def _submit_soon(ctx, q, fn, priority, what):
    return submit_soon(ctx, q, fn, priority, what, SUBMIT_WAIT, HINT_OUTSIDE)


def _alive(workers):
    return [t.name for t in workers if t.is_alive()]


def _gated_order(ctx, wq, items, **kwargs):
    """One worker: occupy it, submit a task per item ([priority, submitted]), open, shutdown. Records
    the run order (`ran`) and the workers still alive after shutdown() (`alive`)."""
    q, workers = _start(ctx, wq, 1, **kwargs)
    gate = _Gate()
    gate.occupy(ctx, q, "one worker")
    ran, make = recorder()
    for i, (priority, submitted) in enumerate(items):
        it = (priority, submitted)
        if i == 0:
            _submit_soon(ctx, q, make(it), priority, "one worker busy")
        else:
            q.submit(make(it), priority=priority)
    gate.opened.set()
    q.shutdown()
    ctx.observe("alive", _alive(workers))
    ctx.observe("ran", ran)


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Arguments, errors, pending(), QueueClosed, idempotent shutdown, context manager."""
    wq = _module(ctx)
    ctx.observe("closed_is_runtime_error", issubclass(wq.QueueClosed, RuntimeError))
    try:
        wq.PriorityWorkerQueue(0)
    except ValueError:
        ctx.observe("zero_workers", "ValueError")
    else:
        ctx.observe("zero_workers", "none")

    errors, got = [], []
    lock = threading.Lock()

    def record(*args, **kwargs):
        with lock:
            got.append((args, kwargs))

    def boom(i):
        raise ValueError("task %d fails on purpose" % i)

    q, workers = _start(ctx, wq, 2, on_error=errors.append)
    ctx.observe("workers", len(workers))
    q.submit(record, 1, 2, priority=3, key="v")
    q.submit(boom, 1)
    q.submit(boom, 2, priority=-1)
    for i in range(6):
        q.submit(record, i, priority=i % 3)
    q.shutdown()
    ctx.observe("calls", list(got))
    ctx.observe("errors", [{"repr": repr(e), "value_error": isinstance(e, ValueError)} for e in errors])
    ctx.observe("alive", _alive(workers))
    try:
        q.submit(record, 99)
    except wq.QueueClosed:
        ctx.observe("submit_after_shutdown", "QueueClosed")
    else:
        ctx.observe("submit_after_shutdown", "none")
    try:
        ctx.call_with_timeout(q.shutdown, WAIT)
    except ctx.CheckFailed:
        ctx.fail("a second shutdown() did not return within %.0f s" % WAIT,
                 hint="shutdown() must be idempotent: joining finished workers again returns at once")

    q, workers = _start(ctx, wq, 1)
    gate = _Gate()
    gate.occupy(ctx, q, "pending()")
    ran, make = recorder()
    _submit_soon(ctx, q, make(0), 0, "pending()")
    for i in range(1, 3):
        q.submit(make(i), priority=i)
    n = q.pending()
    gate.opened.set()
    q.shutdown()
    ctx.observe("pending_busy", n)
    ctx.observe("pending_after", q.pending())

    with wq.PriorityWorkerQueue(2) as q:
        for i in range(4):
            q.submit(make(10 + i))
    ctx.observe("ran", list(ran))


def priority_first(ctx):
    """One worker, distinct priorities (chosen by the judge) queued in random order."""
    wq = _module(ctx)
    _gated_order(ctx, wq, [(p, i) for i, p in enumerate(ctx.inputs["priorities"])])


def fifo_within_priority(ctx):
    """One worker, many equal priorities (chosen by the judge)."""
    wq = _module(ctx)
    _gated_order(ctx, wq, [(p, i) for i, p in enumerate(ctx.inputs["priorities"])])


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
    Seeing workers asleep in wait() while pending() > 0 for `stuck_s` is reported as a lost wake-up
    (in the run). Records the barrier's breaks, how many tasks ran at once and on which threads."""
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
    completed = 0
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
        completed += 1
    q.shutdown()
    ctx.observe("broken", list(broken))
    ctx.observe("max_at_once", meter.max)
    ctx.observe("threads", sorted(names))
    ctx.observe("rounds", completed)


def drains_on_shutdown(ctx):
    """shutdown() while tasks are queued behind busy workers. Records which ran before it returned,
    how long it took, the workers left alive, and tasks that ran after it returned."""
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
    ran, make = recorder()
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
        ran_then = list(ran)
    timer.join(WAIT)
    ctx.observe("ran", ran_then)
    ctx.observe("took", took)
    ctx.observe("alive", _alive(workers))
    time.sleep(0.02)
    with late_lock:
        ctx.observe("late", state["late"])


def exactly_once_stress(ctx):
    """Several submitters at once, aging on; then shutdown. Records the tasks run and the workers left."""
    wq = _module(ctx)
    w, subs, per = ctx.params["workers"], ctx.params["submitters"], ctx.params["per_submitter"]
    q, workers = _start(ctx, wq, w, aging_every=ctx.params["aging_every"])
    ran, make = recorder()
    plans = [[((s, i), ctx.rng.randrange(4)) for i in range(per)] for s in range(subs)]

    def submitter(plan):
        for ident, prio in plan:
            q.submit(make(ident), priority=prio)
    ctx.run_threads([lambda p=p: submitter(p) for p in plans], timeout=20,
                    names=["submitter-%d" % s for s in range(subs)])
    q.shutdown()
    ctx.observe("ran", list(ran))
    ctx.observe("alive", _alive(workers))


def no_busy_wait(ctx):
    """Idle workers block: records the CPU time each worker used while the queue was empty."""
    wq = _module(ctx)
    w, idle = ctx.params["workers"], ctx.params["idle_s"]
    q, workers = _start(ctx, wq, w)
    done = threading.Event()
    q.submit(done.set)
    ctx.expect(done.wait(WAIT), "a task submitted to an idle queue did not run within %.0f s" % WAIT)
    time.sleep(0.05)
    cpu0 = {t.name: ctx.thread_cpu(t) for t in workers}
    time.sleep(idle)
    used = {t.name: ctx.thread_cpu(t) - cpu0[t.name] for t in workers}
    q.shutdown()
    ctx.observe("cpu", used)


# ---------------------------------------------------------------------------------------------
# problem_solving


def shutdown_returns(ctx):
    """shutdown() of idle workers (asleep in wait()), of a fresh queue and of a busy one: records the
    workers left alive after each, and the tasks the busy one ran."""
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
    ctx.observe("alive_idle", _alive(workers))
    # 2. a queue that never got a task
    q, workers = _start(ctx, wq, w)
    q.shutdown()
    ctx.observe("alive_fresh", _alive(workers))
    # 3. busy workers, more tasks queued
    q, workers = _start(ctx, wq, w)
    ran, make = recorder()
    for i in range(ctx.params["tasks"]):
        q.submit(make(i), priority=i % 3)
    q.shutdown()
    ctx.observe("ran_busy", list(ran))


def aging_bound(ctx):
    """One worker, aging_every=k: `low` priority-9 tasks, then `high` priority-0 ones; the run order."""
    wq = _module(ctx)
    k, lows, highs = ctx.params["aging_every"], ctx.params["low"], ctx.params["high"]
    items = [(9, i) for i in range(lows)] + [(0, lows + i) for i in range(highs)]
    _gated_order(ctx, wq, items, aging_every=k)


def no_starvation(ctx):
    """A flood of urgent tasks that keeps refilling the queue, and one low-priority task: records when
    it was submitted and when it started (in tasks started), and every task run."""
    wq = _module(ctx)
    w, k = ctx.params["workers"], ctx.params["aging_every"]
    budget = ctx.params["flood"]
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
    with lock:
        ctx.observe("low_submitted", st["low_submitted"])
        ctx.observe("low_started", st["low_started"])
        ctx.observe("ran", list(ran))


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
