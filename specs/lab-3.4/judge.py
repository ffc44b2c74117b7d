"""Judgements for lab-3.4, Priority worker queue (the workloads are in checks.py). Runs outside the
submission's process: the inputs are chosen here and every verdict comes from what the workload recorded."""
import collections

from grade_oracles import exactly_once, priority_order

Task = collections.namedtuple("task", "priority submitted")

HINT_SEQ = ("push (priority, seq, task) with seq from itertools.count(): the sequence number breaks "
            "ties in submission order, and heapq never compares two tasks")
HINT_DRAIN = ("a worker may exit only when the queue is closed AND empty: "
              "`while not heap and not closed: cv.wait()`, then `if not heap: return`")
HINT_NOTIFY = ("shutdown() must set the closed flag and call notify_all() under the condition's lock, "
               "or workers already asleep in wait() never wake up to see it")
HINT_OUTSIDE = ("take the task out of the heap under the lock, release the lock, then run it: a task run "
                "inside `with self._cv:` blocks submit() and every other worker")
HINT_JOIN = "join every worker thread in shutdown()"


def _tuple(x):
    return tuple(_tuple(v) for v in x) if isinstance(x, list) else x


def _joined(j, key="alive", what="shutdown() returned", hint=HINT_JOIN):
    alive = j.obs[key]
    j.expect(not alive, "%s while worker thread(s) %s were still alive" % (what, ", ".join(alive)), hint=hint)


def _gated(j, items):
    """The run order of a _gated_order workload, as Tasks: shutdown() joined the worker, and every
    task ran exactly once."""
    _joined(j)
    ran = [Task(*t) for t in j.obs["ran"]]
    oracle = exactly_once(items, ran, what="task")
    j.oracle(oracle and "with one worker and %d queued tasks: %s" % (len(items), oracle), hint=HINT_DRAIN)
    return ran


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(j):
    o = j.obs
    j.expect(o["closed_is_runtime_error"] is True, "QueueClosed must be a subclass of RuntimeError")
    j.expect(o["zero_workers"] == "ValueError", "PriorityWorkerQueue(0) did not raise ValueError",
             hint="workers must be >= 1")
    workers = j.number("workers")
    j.expect(workers == 2, "PriorityWorkerQueue(2) started %d thread(s), expected 2 workers started "
             "by the constructor" % workers, hint="start the worker threads in __init__")
    got = [(_tuple(args), kwargs) for args, kwargs in o["calls"]]
    j.expect(((1, 2), {"key": "v"}) in got, "submit(fn, 1, 2, priority=3, key='v') did not call "
             "fn(1, 2, key='v'); the calls seen were %r" % (got[:4],),
             hint="keep *args and **kwargs (without `priority`) and call fn(*args, **kwargs)")
    j.expect(len(got) == 7, "two tasks raised ValueError, after which only %d of the 7 other tasks ran: "
             "a failing task must not stop its worker" % len(got),
             hint="wrap the task call in try/except Exception and keep the worker loop going")
    want = [((1, 2), {"key": "v"})] + [((i,), {}) for i in range(6)]
    j.expect(sorted(got, key=repr) == sorted(want, key=repr),
             "submit(fn, 1, 2, priority=3, key='v') and submit(fn, i, priority=i %% 3) for i in 0..5: the calls "
             "seen were %r; expected fn(1, 2, key='v') and fn(0) .. fn(5), each once" % (got,),
             hint="keep *args and **kwargs (without `priority`) and call fn(*args, **kwargs)")
    errors = o["errors"]
    j.expect(len(errors) == 2 and all(e["value_error"] is True for e in errors),
             "on_error should have been called with the 2 ValueErrors raised by tasks; it got [%s]"
             % ", ".join(e["repr"] for e in errors),
             hint="call on_error(exc) from the worker's except clause")
    _joined(j)
    j.expect(o["submit_after_shutdown"] == "QueueClosed", "submit() after shutdown() did not raise QueueClosed")
    j.expect_eq(o["pending_busy"], 3, "pending() with one worker busy and 3 tasks queued behind it")
    j.expect_eq(o["pending_after"], 0, "pending() after shutdown() drained the queue")
    ran = o["ran"]
    j.expect(sorted(x for x in ran if x >= 10) == [10, 11, 12, 13],
             "the tasks submitted inside `with PriorityWorkerQueue(2) as q:` had not all run when the "
             "block ended (ran: %r)" % sorted(x for x in ran if x >= 10),
             hint="__exit__ must call shutdown(), which drains the queue")
    j.expect(sorted(x for x in ran if x < 10) == [0, 1, 2],
             "pending(): the 3 tasks queued behind a busy worker ran as %r before shutdown() returned; "
             "expected each of 0, 1, 2 once" % sorted(x for x in ran if x < 10), hint=HINT_DRAIN)


def plan_priority_first(j):
    prios = j.rng.sample(range(-50, 200), j.params["tasks"] - 2) + [2.5, -0.5]
    j.rng.shuffle(prios)
    return {"priorities": prios}


def priority_first(j):
    items = [Task(p, i) for i, p in enumerate(j.inputs["priorities"])]
    ran = _gated(j, items)
    j.oracle(priority_order(ran, priority=lambda t: t.priority, order=lambda t: t.submitted),
             hint="a LOWER number is MORE urgent: heapq pops the smallest tuple first, so push the "
                  "priority itself (not its negation)")


def plan_fifo_within_priority(j):
    return {"priorities": [j.rng.randrange(j.params["levels"]) for _ in range(j.params["tasks"])]}


def fifo_within_priority(j):
    items = [Task(p, i) for i, p in enumerate(j.inputs["priorities"])]
    ran = _gated(j, items)
    j.oracle(priority_order(ran, priority=lambda t: t.priority, order=lambda t: t.submitted),
             hint="heapq is not stable: " + HINT_SEQ)


def runs_concurrently(j):
    w, timeout = j.params["workers"], j.params["barrier_timeout"]
    rounds = j.params.get("rounds", 1)
    broken, most, names = j.obs["broken"], j.number("max_at_once"), j.obs["threads"]
    j.expect(not broken and most >= w,
             "%d tasks that wait for each other (a barrier) were submitted to PriorityWorkerQueue(%d): "
             "at most %d ran at the same time and the barrier timed out after %.1f s. The workers "
             "do not run tasks concurrently" % (w, w, most, timeout),
             hint=HINT_OUTSIDE)
    j.expect(len(names) == w, "%d concurrent tasks ran on %d distinct thread(s): %s" % (w, len(names), sorted(names)))
    done = j.number("rounds")
    j.expect(done == rounds, "%d tasks that wait for each other were submitted to PriorityWorkerQueue(%d), "
             "%d times: only %d of those rounds finished" % (w, w, rounds, done), hint=HINT_OUTSIDE)


def drains_on_shutdown(j):
    n = j.params["queued"]
    ran, took = j.obs["ran"], j.number("took")
    j.expect(len(ran) == n, "shutdown() was called with every worker busy and %d tasks queued; it "
             "returned after %.2f s, but only %d of the %d queued tasks had run: shutdown() must drain "
             "the queue, not drop it" % (n + 3, took, len(ran), n), hint=HINT_DRAIN)
    j.oracle(exactly_once(list(range(n)), ran, what="queued task"), hint=HINT_DRAIN)
    _joined(j)
    late = j.number("late")
    j.expect(late == 0, "%d task(s) ran after shutdown() had returned" % late,
             hint="shutdown() returns only after joining the workers, which exit when the queue is empty")


def exactly_once_stress(j):
    subs, per = j.params["submitters"], j.params["per_submitter"]
    produced = [(s, i) for s in range(subs) for i in range(per)]
    j.oracle(exactly_once(produced, [_tuple(x) for x in j.obs["ran"]], what="task (submitter, index)"),
             hint="take a task out of the heap (and out of the FIFO used for aging) under the same "
                  "lock, and mark it taken, so no two workers get the same task")
    _joined(j)


def no_busy_wait(j):
    w, idle, budget = j.params["workers"], j.params["idle_s"], j.params["max_cpu_s"]
    used = j.obs["cpu"]
    total = sum(used.values())
    j.expect(total <= budget,
             "with nothing to do for %.2f s, the %d worker threads used %.2f s of CPU (at most %.2f s "
             "expected): %s. They spin instead of waiting"
             % (idle, w, total, budget, ", ".join("%s %.2f s" % kv for kv in sorted(used.items()))),
             hint="block in Condition.wait() while the heap is empty; submit() and shutdown() notify")


# ---------------------------------------------------------------------------------------------
# problem_solving


def shutdown_returns(j):
    _joined(j, "alive_idle", "shutdown() of idle workers returned", HINT_NOTIFY)
    _joined(j, "alive_fresh", "shutdown() of a fresh queue returned", HINT_NOTIFY)
    ran = j.obs["ran_busy"]
    j.expect_eq(len(ran), j.params["tasks"], "tasks run by shutdown() of a busy queue", hint=HINT_DRAIN)
    j.oracle(exactly_once(list(range(j.params["tasks"])), ran, what="task"), hint=HINT_DRAIN)


def aging_bound(j):
    k, lows, highs = j.params["aging_every"], j.params["low"], j.params["high"]
    items = [Task(9, i) for i in range(lows)] + [Task(0, lows + i) for i in range(highs)]
    ran = _gated(j, items)
    pos = {t: i for i, t in enumerate(ran)}
    for n in range(lows):
        low = items[n]
        j.expect(pos[low] < (n + 1) * k,
                 "aging_every=%d, one worker: %d priority-9 tasks, then %d priority-0 tasks were queued. "
                 "The priority-9 task submitted #%d (it is the oldest waiting once the %d before it ran) "
                 "ran #%d after the gate opened; it should have run within the first %d. Run order "
                 "(priority, submitted): %s"
                 % (k, lows, highs, n + 1, n, pos[low] + 1, (n + 1) * k,
                    " ".join("(%s,%d)" % (t.priority, t.submitted) for t in ran[:3 * k])),
                 hint="count every take from the queue; on every k-th take hand out the oldest waiting "
                      "task (a FIFO beside the heap), whatever its priority")
    j.oracle(priority_order([t for t in ran if t.priority == 0], order=lambda t: t.submitted),
             hint="the non-aged takes are still FIFO within a priority: " + HINT_SEQ)
    j.oracle(priority_order([t for t in ran if t.priority == 9], order=lambda t: t.submitted),
             hint="aged takes hand out the OLDEST waiting task")


def no_starvation(j):
    w, k = j.params["workers"], j.params["aging_every"]
    budget, bound = j.params["flood"], j.params["max_overtakes"]
    submitted, started = j.number("low_submitted"), j.obs["low_started"]
    j.expect(started is not None, "the priority-5 task never ran (shutdown() should drain)", hint=HINT_DRAIN)
    over = j.number("low_started") - submitted
    j.expect(over <= bound,
             "aging_every=%d, %d workers: while urgent tasks kept refilling the queue, %d tasks started "
             "between the submission of one priority-5 task and its start (at most %d expected): "
             "it starved" % (k, w, over, bound),
             hint="with aging_every=k, every k-th take must hand out the oldest waiting task")
    produced = [("flood", i) for i in range(budget)] + [("low", 0)]
    j.oracle(exactly_once(produced, [_tuple(x) for x in j.obs["ran"]], what="task"))
