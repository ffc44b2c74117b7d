"""Judgements for ex-priority-task-queue (the workloads are in checks.py). Runs outside the submission's
process: the random inputs are planned here and every verdict comes from what the workload recorded.

A TaskResult is recorded as a dict of its attributes (its error as {type, text, classes}) plus its repr;
metrics() entries as they were, by_priority as [key, value] pairs (JSON would make the int keys strings)."""
import collections

from grade_oracles import exactly_once, priority_order

Task = collections.namedtuple("task", "priority submitted")

EPS = 1e-6

HINT_LOCKED_STATS = ("several workers finish tasks at once: update every counter (and the per-priority "
                     "dict) under the queue's lock, in the same block that records the result")
HINT_OUTSIDE = ("take the task from the heap under the lock, release the lock, then run it: a task run "
                "inside the lock blocks submit() and every other worker")
HINT_DRAIN = ("with cancel_pending=False a worker may exit only when the queue is closed AND empty "
              "(the guide's ThreadPool exits as soon as the shutdown flag is set, dropping the backlog)")
HINT_SEQ = "order the heap by (priority, task id): the id breaks ties in submission order"
HINT_POOL = ("deciding to start a worker and recording it must be one step under the lock (or start "
             "all workers in __init__)")


def _joined(j, key):
    """shutdown() returned with no thread it started still alive (recorded under `key`)."""
    left = j.obs[key]
    j.expect(not left, "shutdown() returned while thread(s) it started were still alive: %s"
             % ", ".join(map(str, left[:6])), hint="shutdown(wait=True) must join every worker thread")


def _raised(j, key, exc_name, what, hint=None):
    """The call recorded under `key` raised an `exc_name` (checks.py _raises)."""
    out = j.obs[key]
    if not out["raised"]:
        j.fail("%s did not raise %s" % (what, exc_name), hint=hint)
    if out["wanted"] is not True:
        j.fail("%s raised %s: %s, expected %s" % (what, out["type"], out["text"], exc_name), hint=hint)


def _is_error(err, name):
    """A recorded error (checks.py _error) is an instance of the built-in class `name`."""
    return isinstance(err, dict) and name in err.get("classes", ())


def _err_repr(err):
    """A recorded error, shown about as repr() showed the exception."""
    if err is None:
        return "None"
    if isinstance(err, dict):
        return "%s(%r)" % (err.get("type"), err.get("text"))
    return repr(err)


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _close(v, want):
    return _num(v) and abs(v - want) < EPS


def _metrics(j, key):
    m = j.obs[key]
    j.expect("not_a_dict" not in m, "metrics() should return a dict, got %s" % m.get("not_a_dict"))
    return m


def _by_priority(recorded):
    """metrics()['by_priority'] as it was (checks.py _pairs): a dict with its keys as they were."""
    if not isinstance(recorded, dict):
        return recorded
    if "pairs" in recorded:
        return {k: v for k, v in recorded["pairs"]}
    return _Repr(recorded.get("other"))


class _Repr:
    """Something that was not a dict, shown as its repr."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return str(self.text)


def _by_tid(pairs):
    """[[task id, record], ...] -> {task id: record}."""
    return {tid: rec for tid, rec in pairs}


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(j):
    o = j.obs
    j.expect(o["closed_is_runtime_error"] is True, "TaskQueueClosed must be a subclass of RuntimeError")
    _raised(j, "workers_0", "ValueError", "TaskQueue(0)", hint="workers must be >= 1")
    _raised(j, "strategy_random", "ValueError", "TaskQueue(1, strategy='random')",
            hint="strategy is 'priority' or 'fifo'")
    ids = o["ids"]
    j.expect_eq(ids, [0, 1, 2, 3, 4], "ids returned by the first five submit() calls")
    results = o["pow_results"]
    j.expect_eq(len(results), 5, "results of the first five tasks")
    for i, (tid, r) in enumerate(zip(ids, results)):
        got = (r["task_id"], r["status"], r["value"], r["error"], r["priority"])
        j.expect(got == (tid, "done", 2 ** i, None, i % 2),
                 "result(%d) of submit(pow, 2, %d, priority=%d): expected task_id %d, status 'done', value "
                 "%d, error None, priority %d; got %r, %r, %r, %s, %r"
                 % (tid, i, i % 2, tid, 2 ** i, i % 2, r["task_id"], r["status"], r["value"], _err_repr(r["error"]),
                    r["priority"]))
        j.expect(isinstance(r["worker"], str) and r["worker"], "result(%d).worker should be the worker thread's "
                 "name, got %r" % (tid, r["worker"]))
    r = o["failed_result"]
    j.expect(r["status"] == "failed" and _is_error(r["error"], "ValueError") and r["value"] is None,
             "a task that raised ValueError: expected status 'failed', error the ValueError, value None; "
             "got status %r, error %s, value %r" % (r["status"], _err_repr(r["error"]), r["value"]),
             hint="catch Exception around the call and store it in the task's result")
    j.expect_eq(o["format_value"], "a-b", "value of submit('{}-{}'.format, 'a', 'b')")
    keys = o["results_keys"]
    if isinstance(keys, list):
        numeric = all(_num(k) for k in keys)
        j.expect(numeric and sorted(keys) == list(range(7)),
                 "results() after 7 finished tasks should be a dict with keys 0..6, got %r"
                 % (sorted(keys) if numeric else sorted(keys, key=repr),))
    else:
        j.fail("results() after 7 finished tasks should be a dict with keys 0..6, got %s" % keys.get("not_a_dict"))
    _raised(j, "unknown_id", "KeyError", "result(12345) (an unknown id)")
    _joined(j, "left_after_shutdown")
    _raised(j, "submit_after_shutdown", "TaskQueueClosed", "submit() after shutdown()")
    _raised(j, "result_timeout", "TimeoutError", "result(id, timeout=0.1) of a task queued behind a busy worker",
            hint="Condition.wait_for(predicate, timeout) returns False on timeout: raise TimeoutError")
    took = j.number("result_timeout_seconds")
    j.expect(took < 1.0, "result(id, timeout=0.1) took %.2f s to give up" % took)
    j.expect_eq(o["value_once_free"], 9, "result() of pow(3, 2) once the worker is free")
    _joined(j, "left_after_second_shutdown")
    j.expect(o["ran_in_with"] == [0, 1, 2, 3], "the tasks submitted inside `with TaskQueue(2) as q:` had not all "
             "run when the block ended (ran: %r)" % (o["ran_in_with"],), hint="__exit__ calls shutdown(), which drains")


def plan_strategies(j):
    return {"priorities": [j.rng.randrange(j.params["levels"]) for _ in range(j.params["tasks"])]}


def _gated_order(j, items, strategy, key):
    _joined(j, key + "_left")
    ran = [Task(*x) if isinstance(x, list) and len(x) == 2 else x for x in j.obs[key]]
    oracle = exactly_once(items, ran, what="task")
    j.oracle(oracle and "strategy=%r, one worker, %d queued tasks: %s" % (strategy, len(items), oracle),
             hint=HINT_DRAIN)
    return ran


def strategies(j):
    items = [Task(p, i) for i, p in enumerate(j.inputs["priorities"])]
    ran = _gated_order(j, items, "priority", "ran_priority")
    j.oracle(priority_order(ran, priority=lambda t: t.priority, order=lambda t: t.submitted),
             hint="a LOWER number runs first; " + HINT_SEQ)
    ran = _gated_order(j, items, "fifo", "ran_fifo")
    j.oracle(priority_order(ran, priority=lambda t: 0, order=lambda t: t.submitted),
             hint="strategy='fifo' ignores priorities for the order: key the heap by the task id alone")


def errors_isolated(j):
    w, n, every = j.params["workers"], j.params["tasks"], j.params["fail_every"]
    finished = j.number("finished")
    if finished < n:
        dead = j.obs["dead_workers"]
        j.fail("%d tasks (every %d-th one raising RuntimeError) on %d workers: only %d had finished, and "
               "no more were finishing%s" % (n, every, w, finished,
                                             "; worker thread(s) %s, which ran failing tasks, are dead"
                                             % ", ".join(dead) if dead else ""),
               hint="catch Exception around the task call, record it, and keep the worker loop going")
    results = j.obs["results"]
    j.expect_eq(len(results), n, "results recorded of the %d tasks" % n)
    for i, r in enumerate(results):
        j.expect(r is not None, "results() has no entry for task %d" % i)
        if i % every == 0:
            j.expect(r["status"] == "failed" and _is_error(r["error"], "RuntimeError") and r["value"] is None,
                     "task %d raised RuntimeError: expected status 'failed' with that error, got status %r, "
                     "error %s, value %r" % (i, r["status"], _err_repr(r["error"]), r["value"]))
        else:
            j.expect(r["status"] == "done" and r["value"] == i * i and r["error"] is None,
                     "task %d returned %d: expected status 'done', got status %r, value %r, error %s"
                     % (i, i * i, r["status"], r["value"], _err_repr(r["error"])))
    failed = len(range(0, n, every))
    m = _metrics(j, "metrics")
    j.expect((m["completed"], m["failed"]) == (n - failed, failed),
             "metrics() after %d tasks, %d of them failing: expected completed %d, failed %d; got %r, %r"
             % (n, failed, n - failed, failed, m["completed"], m["failed"]))
    _joined(j, "left_after_shutdown")


def metrics_exact(j):
    plan = [tuple(x) for x in j.params["plan"]]      # (priority, run seconds, fails)
    n = len(plan)
    gid, ids = j.obs["gate_id"], j.obs["ids"]
    j.expect_eq(len(ids), n, "ids returned by submit()")
    m = _metrics(j, "metrics_while_running")
    snap = {k: m[k] for k in ("submitted", "completed", "failed", "cancelled", "pending", "running")}
    j.expect_eq(snap, {"submitted": n + 1, "completed": 0, "failed": 0, "cancelled": 0, "pending": n,
                       "running": 1},
                "metrics() while one worker runs a task and %d are queued" % n)
    aw, ar = m["avg_wait"], m["avg_run"]
    j.expect(_close(aw, 0.0) and _close(ar, 0.0),
             "avg_wait and avg_run before any task finished should be 0.0, got %r and %r"
             % (-1 if aw is None else aw, -1 if ar is None else ar))
    _joined(j, "left_after_shutdown")

    # What must have happened: the gate ran from t0 to t0 + n + 5, then the tasks by (priority, id).
    expect = {gid: (0.0, n + 5.0, "done", -1000)}
    t = n + 5.0
    for i in sorted(range(n), key=lambda i: (plan[i][0], i)):
        p, d, fails = plan[i]
        expect[ids[i]] = (t - (i + 1), float(d), "failed" if fails else "done", p)
        t += d
    res = _by_tid(j.obs["results"])
    for tid, (wait, run, status, p) in sorted(expect.items()):
        r = res.get(tid)
        j.expect(r is not None, "results() has no entry for task %d after shutdown()" % tid)
        j.expect_eq(r["status"], status, "status of task %d" % tid)
        got_wait, got_run = r["wait_time"], r["run_time"]
        j.expect(_close(got_wait, wait) and _close(got_run, run),
                 "task %d (priority %s): with the check's clock, wait_time should be %g s and run_time %g s; "
                 "got %r and %r (submitted_at %r, started_at %r, finished_at %r)"
                 % (tid, p, wait, run, got_wait, got_run, r["submitted_at"], r["started_at"], r["finished_at"]),
                 hint="read every timestamp from the `clock` given to TaskQueue(): submitted_at in submit(), "
                      "started_at just before the call, finished_at just after it")
    m = _metrics(j, "metrics")
    fails = sum(1 for _, _, f in plan if f)
    by = {}
    for tid, (_, _, status, p) in expect.items():
        b = by.setdefault(p, {"submitted": 0, "completed": 0, "failed": 0, "cancelled": 0})
        b["submitted"] += 1
        b["completed" if status == "done" else "failed"] += 1
    snap = {k: m[k] for k in ("submitted", "completed", "failed", "cancelled", "pending", "running")}
    j.expect_eq(snap, {"submitted": n + 1, "completed": n + 1 - fails, "failed": fails, "cancelled": 0,
                       "pending": 0, "running": 0}, "metrics() after shutdown()")
    got_by = _by_priority(m["by_priority"])
    if got_by != by:
        j.fail("metrics()['by_priority'] after shutdown(): expected %r, got %r" % (by, got_by))
    avg_wait = sum(e[0] for e in expect.values()) / (n + 1)
    avg_run = sum(e[1] for e in expect.values()) / (n + 1)
    aw, ar = m["avg_wait"], m["avg_run"]
    j.expect(_close(aw, avg_wait) and _close(ar, avg_run),
             "metrics() avg_wait and avg_run over the %d finished tasks (failed ones included) should be "
             "%.4f and %.4f; got %r and %r" % (n + 1, avg_wait, avg_run, -1 if aw is None else aw,
                                               -1 if ar is None else ar))
    j.expect_eq(m["workers"], 1, "metrics()['workers'] of TaskQueue(1)")


def plan_metrics_no_race(j):
    subs, per = j.params["submitters"], j.params["per_submitter"]
    return {"priorities": [[j.rng.randrange(3) for _ in range(per)] for _ in range(subs)]}


def metrics_no_race(j):
    w, subs, per, every = j.params["workers"], j.params["submitters"], j.params["per_submitter"], \
        j.params["fail_every"]
    _joined(j, "left_after_shutdown")
    broken = j.number("broken")
    j.expect(broken < w, "tasks that meet in groups of %d at a barrier timed out waiting for each other "
             "(%d of them): the pool does not run %d tasks at once" % (w, broken, w), hint=HINT_OUTSIDE)
    got_ids = j.obs["ids"]
    j.expect_eq(len(got_ids), subs, "submitters whose ids were recorded")
    for s, g in enumerate(got_ids):
        j.expect_eq(len(g), per, "ids returned to submitter %d" % s)
    ids = [i for g in got_ids for i in g]
    j.expect(all(_num(i) for i in ids) and sorted(ids) == list(range(subs * per)),
             "%d concurrent submitters got task ids that are not exactly 0..%d (duplicates: %d): ids must "
             "be handed out under the lock" % (subs, subs * per - 1, len(ids) - len(set(map(repr, ids)))))
    total = subs * per
    plans = [[(s * per + i, p) for i, p in enumerate(ps)] for s, ps in enumerate(j.inputs["priorities"])]
    failed = sum(1 for g in plans for k, _ in g if k % every == 0)
    by = {}
    for g in plans:
        for k, p in g:
            b = by.setdefault(p, {"submitted": 0, "completed": 0, "failed": 0, "cancelled": 0})
            b["submitted"] += 1
            b["failed" if k % every == 0 else "completed"] += 1
    m = _metrics(j, "metrics")
    snap = {k: m[k] for k in ("submitted", "completed", "failed", "pending", "running")}
    want = {"submitted": total, "completed": total - failed, "failed": failed, "pending": 0, "running": 0}
    lost = snap["pending"] == 0 and snap["running"] == 0 and snap["submitted"] == total
    j.expect(snap == want, "metrics() after %d tasks from %d submitters on %d workers and shutdown(): "
             "expected %r, got %r%s" % (total, subs, w, want, snap,
                                        " (every task finished: lost updates)" if lost else ""),
             hint=HINT_LOCKED_STATS if lost else HINT_DRAIN)
    got_by = _by_priority(m["by_priority"])
    j.expect(got_by == by, "metrics()['by_priority'] after %d tasks: expected %r, got %r "
             "(lost updates)" % (total, by, got_by), hint=HINT_LOCKED_STATS)
    j.expect_eq(j.obs["results"], total, "number of entries in results()")


def pool_size(j):
    w, extra = j.params["workers"], j.params["extra_tasks"]
    _joined(j, "left_after_shutdown")
    threads, early = j.obs["threads"], j.obs["early"]
    j.expect(len(threads) <= w, "TaskQueue(%d): with its %d workers busy and %d tasks queued, %d threads were "
             "running (%s): the pool grew beyond its size" % (w, w, extra, len(threads),
                                                             ", ".join(map(str, threads[:8]))),
             hint="start exactly `workers` threads and never more; a queued task waits for a free worker")
    j.expect(not early, "TaskQueue(%d): while its %d workers were all busy, %d of %d newly submitted tasks "
             "started anyway: the pool grew beyond its size" % (w, w, len(early), extra),
             hint="start exactly `workers` threads and never more; a queued task waits for a free worker")
    names = j.obs["workers_used"]
    j.expect(len(names) <= w, "TaskQueue(%d): tasks ran on %d different threads: %s"
             % (w, len(names), sorted(names, key=str)[:8]), hint="start exactly `workers` threads, once")
    j.expect_eq(j.obs["ran"], extra, "tasks run after the busy workers were freed")


def pool_bound_stress(j):
    w, subs, per = j.params["workers"], j.params["submitters"], j.params["per_submitter"]
    started = j.obs["started"]
    j.expect(len(started) <= w, "TaskQueue(%d) with %d concurrent submitters: %d threads were started (%s); "
             "the pool must never exceed %d" % (w, subs, len(started), ", ".join(map(str, started[:8])), w),
             hint=HINT_POOL)
    _joined(j, "left_after_shutdown")
    most, idents, violation = j.number("max_running"), j.number("idents"), j.obs["first_violation"]
    j.expect(most <= w and violation is None and idents <= w,
             "TaskQueue(%d) with %d concurrent submitters of %d tasks each: up to %d tasks ran at once, on %d "
             "different threads in all; the pool must never exceed %d%s"
             % (w, subs, per, most, idents, w, " (" + violation + ")" if violation else ""), hint=HINT_POOL)
    j.expect_eq(j.obs["submitted"], subs * per, "submit() calls that returned")
    j.expect(most >= 1, "no task ran while %d submitters submitted %d tasks each" % (subs, per))


def shutdown_drains(j):
    w, n = j.params["workers"], j.params["queued"]
    _joined(j, "left_after_shutdown")
    ran, took = j.number("ran"), j.number("took")
    j.expect(ran == n, "shutdown() was called with every worker busy and %d tasks queued; it returned "
             "after %.2f s, but only %d of them had run: shutdown() must drain the queue, not drop it"
             % (n, took, ran), hint=HINT_DRAIN)
    results = j.obs["results"]
    j.expect_eq(len(results), n, "results recorded of the %d queued tasks" % n)
    bad = [tid for i, (tid, r) in enumerate(results) if r is None or r["status"] != "done" or r["value"] != i]
    j.expect(not bad, "after shutdown(), %d queued task(s) have no 'done' result with the right value, "
             "first id %s" % (len(bad), bad[:1]))
    m = _metrics(j, "metrics")
    j.expect((m["completed"], m["pending"], m["running"]) == (n + w, 0, 0),
             "metrics() after a draining shutdown(): expected completed %d, pending 0, running 0; got %r, %r, %r"
             % (n + w, m["completed"], m["pending"], m["running"]))
    _raised(j, "submit_after_shutdown", "TaskQueueClosed", "submit() after shutdown()")


def shutdown_cancels(j):
    w, n, delay = j.params["workers"], j.params["queued"], j.params["release_after"]
    _joined(j, "left_after_shutdown")
    ran = j.number("ran")
    j.expect(not ran, "shutdown(cancel_pending=True) with %d tasks queued behind busy workers: %d of them ran "
             "anyway" % (n, ran), hint="cancel the queued tasks under the lock, before waking the workers")
    running = j.obs["running_results"]
    j.expect_eq(len(running), w, "results recorded of the %d running tasks" % w)
    for _, r in running:
        j.expect(r is not None and r["status"] == "done" and r["value"] == "gate",
                 "a task running when shutdown(cancel_pending=True) was called must finish normally; its "
                 "result is %s" % (None if r is None else r["repr"],))
    queued = j.obs["queued_results"]
    j.expect_eq(len(queued), n, "results recorded of the %d queued tasks" % n)
    for tid, r in queued:
        j.expect(r is not None and r["status"] == "cancelled" and r["started_at"] is None and r["worker"] is None,
                 "queued task %d after shutdown(cancel_pending=True): expected status 'cancelled', never "
                 "started (started_at None, worker None); got %s" % (tid, None if r is None else r["repr"]))
    wt = j.obs["waiter"]
    j.expect(wt["error"] is None, "result() of a queued task, waiting when shutdown(cancel_pending=True) "
             "was called, raised %s instead of returning the cancelled result" % (wt["error"],),
             hint="notify_all() the result() waiters when you cancel")
    after = wt["after"]
    j.expect(_num(after) and after < delay + 0.5 and wt["status"] == "cancelled",
             "result() of a queued task did not return its 'cancelled' result promptly after "
             "shutdown(cancel_pending=True) (it returned %s)"
             % ("after %.2f s" % after if _num(after) else "never"),
             hint="notify_all() the result() waiters when you cancel")
    m = _metrics(j, "metrics")
    j.expect((m["cancelled"], m["completed"], m["pending"]) == (n, w, 0),
             "metrics() after cancelling %d queued tasks (%d were running): expected cancelled %d, "
             "completed %d, pending 0; got %r, %r, %r" % (n, w, n, w, m["cancelled"], m["completed"], m["pending"]))
    by = _by_priority(m["by_priority"])
    cancelled = sum(b.get("cancelled", 0) for b in (by or {}).values())
    j.expect_eq(cancelled, n, "sum of by_priority[p]['cancelled'] after cancelling %d tasks" % n)


# ---------------------------------------------------------------------------------------------
# problem_solving


def shutdown_returns(j):
    w = j.params["workers"]
    j.expect_eq(j.obs["values"], [2 ** i for i in range(w)], "values of submit(pow, 2, i) for i < %d" % w)
    _joined(j, "left_idle")
    _joined(j, "left_fresh")
    _joined(j, "left_cancel")
    wt = j.obs["waiter"]
    j.expect(wt["status"] in ("cancelled", "done"),
             "result() of a task cancelled by shutdown(cancel_pending=True) returned %s" % (wt["result"],))


def result_waiters(j):
    w, waiters, per = j.params["workers"], j.params["waiters"], j.params["per_waiter"]
    hint = "several callers may wait at once; wake them all (notify_all) and let each re-check its own task"
    if j.params.get("gated", 0):
        gated = j.obs["gated"]
        k = min(j.params["gated"], w)
        j.expect_eq(len(gated), k, "callers lined up in result()")
        for i, (tid, got) in enumerate(gated):
            shown = tuple(got) if isinstance(got, list) else got
            j.expect(shown == ("done", i * i),
                     "%d threads waited in result() for %d tasks, which finished one at a time: the caller of "
                     "task %d got %r, expected status 'done' and value %d" % (k, k, tid, shown, i * i), hint=hint)
    _joined(j, "left_after_shutdown")
    n = waiters * per
    got = j.obs["got"]
    j.expect_eq(len(got), n, "results returned to the %d callers" % waiters)
    bad = [(k, None, None) if g is None else (k, g[0], g[1]) for k, g in enumerate(got)
           if g is None or g[0] != "done" or g[1] != k * k]
    j.expect(not bad, "result() returned the wrong TaskResult for %d task(s), first (task, status, value) %r"
             % (len(bad), bad[:1]))
