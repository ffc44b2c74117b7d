"""Judgements for ex-thread-pool (the workloads are in checks.py). Runs outside the submission's process:
every verdict comes from what the workload recorded (values, outcomes of calls, the histories of the
tasks, the pool's threads left alive after each shutdown(wait=True), times measured in the run).

An outcome is {"returned": value, "repr": ...} or {"raised": type name, "message": ..., "repr": ...,
"match": whether it is the exception the check asked about}."""
import re

from grade_oracles import exactly_once

WAIT = 3.0          # the workload's bound on each of its waits (in messages)

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


# ---------------------------------------------------------------------------------------------
# helpers


def _raises(j, rec, exc_name, what, hint=None):
    """The outcome `rec` must be the exception exc_name."""
    if "raised" in rec:
        if rec["match"] is True:
            return
        j.fail("%s raised %s: %s, expected %s" % (what, rec["raised"], rec["message"], exc_name), hint=hint)
    j.fail("%s returned %s instead of raising %s" % (what, rec["repr"], exc_name), hint=hint)


def _expect_list(j, rec, want, what, hint=None):
    """A value that must be a list equal to `want` (the old expect_eq: a tuple is not a list)."""
    if not (rec["list"] is True and rec["value"] == want):
        j.fail("%s: expected %r, got %s" % (what, want, rec["repr"]), hint)


class _Left:
    """The pool's threads alive after each shutdown(wait=True), in the order the workload called it."""

    def __init__(self, j, calls):
        self.j = j
        self.left = j.obs["left"]
        j.expect(isinstance(self.left, list) and len(self.left) == calls,
                 "%d shutdown(wait=True) call(s) were made, %d recorded"
                 % (calls, len(self.left) if isinstance(self.left, list) else 0))
        self.i = 0

    def check(self, what):
        left = self.left[self.i]
        self.i += 1
        self.j.expect(not left, "%s returned while %d thread(s) the pool started were still alive: %s"
                      % (what, len(left), ", ".join(str(n) for n in left[:6])),
                      hint="shutdown(wait=True) must join every worker thread before it returns")


def _tuples(xs):
    return [tuple(x) if isinstance(x, list) else x for x in xs]


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(j):
    o = j.obs
    left = _Left(j, 1)
    _raises(j, o["zero_threads"], "ValueError", "ThreadPool(0)", hint="num_threads must be >= 1")
    j.expect_eq(o["pow"], 1024, "submit(pow, 2, 10).result()")
    j.expect(o["pow_done"] is True, "done() of a task whose result() returned should be True, got %r" % (o["pow_done"],))
    j.expect_eq(o["pow_again"], 1024, "a second result() of the same future")
    j.expect_eq(o["format"], "x-7", "submit('{a}-{b}'.format, a='x', b=7).result()")
    _expect_list(j, o["list"], [], "submit(list).result() (no arguments)")
    j.expect_eq(o["divmod"], [divmod(100 + k, 7) for k in range(20)],
                "results of 20 submit(divmod, 100 + k, 7) futures, each read from its own future",
                hint="each submit() returns its own future, which holds that task's value")
    j.expect(o["running_done"] is False, "done() of a task still running should be False, got %r" % (o["running_done"],))
    _raises(j, o["result_timeout"], "TimeoutError", "result(timeout=0.1) of a task still running",
            hint="Event.wait(timeout) returns False when the time is up: raise TimeoutError then")
    took = j.number("result_timeout_took")
    j.expect(took < 1.0, "result(timeout=0.1) of a running task took %.2f s to give up" % took)
    j.expect_eq(o["gate"], "gate", "result() of the task once it finished")
    left.check("shutdown()")
    _raises(j, o["submit_after"], "RuntimeError", "submit() after shutdown()",
            hint="once shutdown() was called, submit() raises RuntimeError")
    _raises(j, o["map_after"], "RuntimeError", "map() after shutdown()",
            hint="once shutdown() was called, map() raises RuntimeError (it submits)")
    with_as = o["with_as"]
    j.expect(with_as["pool"] is True, "`with ThreadPool(2) as q:` gave q = %s, not the pool" % with_as["repr"],
             hint="__enter__ returns self")
    ran = o["with_ran"]
    j.expect(sorted(ran) == list(range(6)), "the tasks submitted inside `with ThreadPool(2) as q:` had not all "
             "run when the block ended (ran: %r)" % sorted(ran), hint="__exit__ calls shutdown(wait=True)")
    with_left = o["with_left"]
    j.expect(not with_left, "the `with ThreadPool(2)` block ended while its worker thread(s) %s were still alive"
             % ", ".join(str(n) for n in with_left), hint="__exit__ calls shutdown(wait=True), which joins the workers")


def errors(j):
    o = j.obs
    n, every = j.params["tasks"], j.params["fail_every"]
    left = _Left(j, 1)
    tasks = o["tasks"]
    j.expect(isinstance(tasks, list) and len(tasks) == n, "%d tasks were submitted, %d outcomes recorded"
             % (n, len(tasks) if isinstance(tasks, list) else 0))
    for k, rec in enumerate(tasks):
        if k % every == 0:
            if "raised" in rec and rec["match"] is True:
                j.expect(rec["same"] is True, "result() of task %d raised a different exception than the one "
                         "the task raised (%s instead of %s)" % (k, rec["repr"], rec["want"]),
                         hint="keep the exception object the task raised and raise it again in result()")
                continue
            if "raised" in rec:
                j.fail("result() of task %d, which raised _Boom, raised %s: %s instead"
                       % (k, rec["raised"], rec["message"]))
            j.fail("result() of task %d, which raised _Boom('task %d fails on purpose'), returned %s instead of "
                   "re-raising the exception" % (k, k, rec["repr"]),
                   hint="catch the exception in the worker, store it in the task's future, and raise it from "
                        "result(); printing it (as the guide does) loses it")
        else:
            j.expect("returned" in rec, "result() of task %d (after failing tasks) raised %s"
                     % (k, rec.get("raised")), hint="a failing task must not kill its worker")
            j.expect_eq(rec["returned"], k * k, "result() of task %d (after failing tasks)" % k,
                        hint="a failing task must not kill its worker")

    first, later, items = j.params["map_first"], j.params["map_later"], j.params["map_items"]
    rec = o["map"]
    if "raised" in rec:
        j.expect(rec["match"] is True, "map(fn, range(%d)) where items %d and %d raise raised %s: %s instead of the "
                 "first failing item's exception" % (items, first, later, rec["raised"], rec["message"]),
                 hint="map() collects result() of each future, which re-raises the task's exception")
        args = rec["args"]
        j.expect(args == [first], "map(fn, range(%d)) where items %d and %d raise (item %d a little later): "
                 "map() raised the exception of item %r; it must raise the first failing item's in INPUT "
                 "order (%d)" % (items, first, later, first, args[0] if args else None, first),
                 hint="wait for the futures in input order and let the first failing result() raise")
    else:
        j.fail("map(fn, range(%d)) where items %d and %d raise returned %s instead of raising"
               % (items, first, later, rec["repr"]), hint="map() collects result() of each future, which re-raises")
    j.expect_eq(o["after"], 27, "result() of a task submitted after failing tasks")
    left.check("shutdown()")


def map_order(j):
    o = j.obs
    w, n = j.params["workers"], j.params["items"]
    left = _Left(j, 1)
    rec = o["squares"]
    j.expect(rec["list"] is True, "map() must return a list, got %s" % rec["type"])
    got, want = rec["value"], [k * k for k in range(n)]
    if got != want:
        same = (all(isinstance(x, int) and not isinstance(x, bool) for x in got) and sorted(got) == sorted(want))
        j.fail("map(square, range(%d)) on ThreadPool(%d), later items finishing first: got %s; expected %r%s"
               % (n, w, rec["repr"], want, " (the right results, in completion order)" if same else ""),
               hint="keep the futures in input order and read result() from each in that order; a shared "
                    "results list filled by the workers (the guide's) is in completion order")
    _expect_list(j, o["generator"], ["A", "B", "C"], "map(str.upper, <generator>)")
    _expect_list(j, o["empty"], [], "map(abs, [])")
    left.check("shutdown()")


def shutdown_drains(j):
    o = j.obs
    w, n = j.params["workers"], j.params["queued"]
    left = _Left(j, 2)
    left.check("shutdown()")
    took = j.number("took")
    msg = exactly_once(list(range(n)), o["ran_at_return"], what="queued task")
    j.oracle(msg and "shutdown() on ThreadPool(%d) with every worker busy and %d tasks queued returned after "
             "%.2f s, and (exactly-once oracle) %s: shutdown() must drain the queue, not drop it" % (w, n, took, msg),
             hint=HINT_DRAIN)
    futures = o["futures"]
    j.expect(len(futures) == n, "%d tasks were queued, %d futures recorded" % (n, len(futures)))
    bad = [i for i, rec in enumerate(futures) if "returned" not in rec or rec["returned"] != i * 10]
    j.expect(not bad, "after shutdown() (it took %.2f s), %d queued task(s) have no value in their future, "
             "first task %d" % (took, len(bad), bad[0] if bad else -1), hint=HINT_DRAIN)

    _raises(j, o["submit_after_nowait"], "RuntimeError", "submit() after shutdown(wait=False)")
    futures = o["nowait_futures"]
    j.expect(len(futures) == n, "%d tasks were queued, %d futures recorded" % (n, len(futures)))
    for i, rec in enumerate(futures):
        j.expect("timeout" not in rec, "task %d queued before shutdown(wait=False): result(timeout=%.0f) timed out: "
                 "the task never finished" % (i, WAIT))
        j.expect_eq(rec["returned"], i, "result() of task %d queued before shutdown(wait=False)" % i)
    left.check("shutdown()")
    msg = exactly_once(list(range(n)), o["ran_nowait"], what="task queued before shutdown(wait=False)")
    j.oracle(msg and "shutdown(wait=False), then shutdown(): %s" % msg, hint=HINT_DRAIN)


def shutdown_cancels(j):
    o = j.obs
    w, n, delay = j.params["workers"], j.params["queued"], j.params["release_after"]
    j.expect(o["cancelled_error_class"] is True,
             "CancelledError must be an exception class (a subclass of Exception)")
    left = _Left(j, 1)
    left.check("shutdown(cancel_pending=True)")
    ran = o["ran"]
    j.expect(not ran, "shutdown(cancel_pending=True) with %d tasks queued behind busy workers: %d of them ran "
             "anyway (first %r)" % (n, len(ran), ran[:1]),
             hint="take the queued tasks out of the queue (get_nowait() until queue.Empty) and cancel "
                  "them, before the stop markers go in")
    running = o["running"]
    j.expect(len(running) == w, "%d tasks were running, %d recorded" % (w, len(running)))
    for value, cancelled in running:
        j.expect(value == "gate" and cancelled is False, "a task already running when shutdown(cancel_pending=True) "
                 "was called must finish normally (and cancelled() be False)")
    queued = o["queued"]
    j.expect(len(queued) == n, "%d tasks were queued, %d recorded" % (n, len(queued)))
    for i, rec in enumerate(queued):
        j.expect(rec["done"] is True and rec["cancelled"] is True,
                 "queued task %d after shutdown(cancel_pending=True): done() and cancelled() should both be "
                 "True, got %r and %r" % (i, rec["done"], rec["cancelled"]))
        _raises(j, rec["result"], "CancelledError", "result() of queued task %d after shutdown(cancel_pending=True)" % i,
                hint="a cancelled future's result() raises the module's CancelledError at once")
    waiter = o["waiter"]
    j.expect(waiter is not None, "a thread waiting in result() of a queued task did not return within %.0f s of "
             "shutdown(cancel_pending=True)" % WAIT, hint="cancelling must wake the future's waiters (set its Event)")
    j.expect(waiter.get("match") is True,
             "a thread waiting in result() of a queued task when shutdown(cancel_pending=True) was called got "
             "%s instead of CancelledError" % ("the value %s" % waiter["repr"] if "returned" in waiter
                                               else "%s: %s" % (waiter["raised"], waiter["message"])),
             hint="cancelling must wake the future's waiters, and result() must then raise CancelledError")
    after = waiter["after"]
    j.expect(isinstance(after, (int, float)) and after < delay + 1.0, "result() of a cancelled task returned "
             "%.2f s after shutdown(cancel_pending=True) was called" % after)


def future_waiters(j):
    k = j.params["waiters"]
    left = _Left(j, 1)
    rounds = j.obs["rounds"]
    j.expect(len(rounds) == 2, "two rounds of waiters were run, %d recorded" % len(rounds))
    for (what, failing), seen in zip((("returned 'gate'", False), ("raised ValueError('boom')", True)), rounds):
        j.expect(len(seen) == k, "%d waiters were started, %d recorded" % (k, len(seen)))
        for i, rec in enumerate(seen):
            kind = rec["kind"]
            if failing:
                ok = kind == "error" and rec["same"] is True
            else:
                ok = kind == "value" and rec["returned"] == "gate"
            j.expect(ok, "%d threads waited in result() of one future whose task then %s: waiter %d got %s"
                     % (k, what, i, "nothing" if kind is None else "%s %s" % (kind, rec["repr"])),
                     hint="any number of threads may wait in result() of one future: wake them all "
                          "(Event.set(), or notify_all() on the future's condition)")
    left.check("shutdown()")


def pool_size(j):
    o = j.obs
    w, extra = j.params["workers"], j.params["extra_tasks"]
    left = _Left(j, 1)
    found = o["banned"]
    j.expect(not found, "thread_pool.py imports %s (line %d): the exercise is to build the pool from threading "
             "primitives and queue.Queue" % (found[0][1], found[0][0]) if found else "",
             hint="use threading.Thread, threading.Lock/Event/Condition and queue.Queue only")
    j.expect(not any(str(m).startswith("concurrent") for m in o["from_concurrent"].values()),
             "thread_pool.py's ThreadPool or CancelledError comes from concurrent.futures",
             hint="define your own classes")
    started = o["started"]
    j.expect(len(started) == w, "ThreadPool(%d) started %d thread(s) in its constructor (%s); exactly %d "
             "worker threads must exist" % (w, len(started), ", ".join(str(n) for n in started[:8]), w),
             hint="start num_threads worker threads in __init__, no more, no fewer")
    meet = o["meet"]
    j.expect_eq(meet["tasks"], w * j.params["rounds"], "tasks meeting at a barrier")
    j.expect(meet["first_violation"] is None, "ThreadPool(%d): %d tasks ran at once (%s): more than num_threads"
             % (w, meet["max"], meet["first_violation"]), hint="never run a task outside the pool's workers")
    j.expect(meet["broken"] == 0 and meet["max"] == w,
             "ThreadPool(%d): tasks that meet in groups of %d at a barrier timed out waiting for each other "
             "(%d of %d); at most %d ran at once: the pool does not run %d tasks in parallel"
             % (w, w, meet["broken"], meet["tasks"], meet["max"], w),
             hint="run each task outside any lock of the pool, so that every worker runs one at the same time")
    occupied = o["occupied"]
    j.expect(occupied == w, "pool size: ThreadPool(%d) with %d worker(s) busy: a newly submitted task did not start "
             "within %.0f s" % (w, occupied, WAIT),
             hint="the pool must run num_threads tasks at once; submit() must wake a waiting worker")
    busy = o["busy"]
    now = busy["threads"]
    j.expect(busy["started_early"] == 0 and len(now) == w, "ThreadPool(%d) with its %d workers busy and %d tasks "
             "queued: %d task(s) started anyway and %d threads were alive (%s); a queued task waits for a free worker"
             % (w, w, extra, busy["started_early"], len(now), ", ".join(str(n) for n in now[:8])),
             hint="start num_threads workers in __init__ and never more")
    j.expect_eq(busy["ran_later"], extra, "tasks queued behind busy workers that ran")
    threads = o["task_threads"]
    j.expect(threads["foreign"] == 0 and threads["seen"] >= 1,
             "ThreadPool(%d): tasks ran on %d thread(s) that are not the pool's %d workers"
             % (w, threads["foreign"], w), hint="tasks run only in the worker threads")
    left.check("shutdown()")


def workers_block(j):
    p = j.params
    max_calls, max_cpu = p["max_calls"], p["max_cpu_fraction"]
    left = _Left(j, 1)
    j.expect_eq(j.obs["warm"], [k ** 2 for k in range(p["warm"])], "results of the warm-up tasks")
    left.check("shutdown()")
    idle = j.obs["idle"]
    wall, workers, cpu, calls = idle["wall"], idle["workers"], idle["cpu"], idle["calls"]
    j.expect(isinstance(wall, (int, float)) and wall >= p["idle_s"] * 0.9, "the idle window was not measured "
             "(%r s of %r)" % (wall, p["idle_s"]))
    total_cpu = sum(cpu.values())
    if total_cpu > max_cpu * wall:
        busiest = sorted(cpu.items(), key=lambda kv: -kv[1])[:4]
        j.fail("while the pool was idle for %.2f s, its workers used %.2f s of CPU (%.0f%% of the wall time; "
               "%s): they busy-wait instead of blocking" % (wall, total_cpu, 100 * total_cpu / wall,
                                                             ", ".join("%s %.2f s" % kv for kv in busiest)),
               hint=HINT_BLOCK)
    awake = {name: c for name, c in calls.items() if c > max_calls}
    if awake:
        j.fail("while the pool was idle for %.2f s, %d of its %d worker(s) kept waking up (%s Python calls; a "
               "blocked worker makes none): they poll, as the guide's get(timeout=0.1) loop does"
               % (wall, len(awake), workers, ", ".join("%s %d" % kv for kv in sorted(awake.items()))),
               hint=HINT_BLOCK)


def exit_clean(j):
    p = j.params
    w, n, limit = p["workers"], p["tasks"], p["limit_s"]
    script = j.obs["script"]
    code, stdout, stderr = script["code"], script["stdout"], script["stderr"]
    lines = stdout.splitlines()
    hung = code is None or "Thread 0x" in stderr and "most recent call first" in stderr
    where = sorted(set(re.findall(r'File "[^"]*thread_pool\.py", line (\d+) in (\w+)', stderr)))[:4]
    at = " (threads stuck at %s)" % ", ".join("thread_pool.py:%s in %s" % x for x in where) if where else ""
    last = (stderr.strip().splitlines() or [""])[-1][:200]
    if "with-block-ended" not in lines:
        j.fail("a script whose `with ThreadPool(%d) as pool:` block ran %d tasks and read their results %s"
               "never got past the end of the block%s%s"
               % (w, n, "(so every worker was idle in get()) " if "with-block-idle" in lines else "",
                  " within %.1f s: shutdown() hangs" % limit if hung else " (exit status %r: %s)" % (code, last),
                  at),
               hint=HINT_WAKE if hung else "run the script yourself and read its traceback")
    with_ran = {ln for ln in lines if ln.startswith("ran with ")}
    j.expect(len(with_ran) == n, "a script's `with ThreadPool(%d) as pool:` block read the results of %d tasks, "
             "but %d of them printed that they ran" % (w, n, len(with_ran)))
    nowait = {ln for ln in lines if ln.startswith("ran nowait ")}
    if hung:
        j.fail("a script called shutdown(wait=False) with %d tasks queued and let its main thread end; the "
               "interpreter did not exit within %.1f s: worker threads nobody woke keep it alive%s"
               % (n, limit, at), hint=HINT_WAKE)
    if len(nowait) != n:
        _Left(j, 1).check("shutdown()")
        daemons = j.obs["daemons"]
        j.fail("a script called shutdown(wait=False) with %d tasks queued and let its main thread end: only %d "
               "of them ran before the interpreter exited (exit status %r)%s" % (
                   n, len(nowait), code, "; the pool's workers are daemon threads (%s), killed at exit"
                   % ", ".join(str(d) for d in daemons[:4]) if daemons else ""),
               hint="workers must be non-daemon threads: the interpreter then waits for them to finish the "
                    "backlog (daemon threads are stopped abruptly at exit)" if daemons else HINT_DRAIN)
    j.expect(code == 0, "the script using the pool exited with status %r: %s" % (code, stderr.strip()[-400:]))


# ---------------------------------------------------------------------------------------------
# problem_solving


def submit_shutdown_race(j):
    p = j.params
    w, subs, cap = p["workers"], p["submitters"], p["max_per_submitter"]
    rounds = j.obs["rounds"]
    j.expect(isinstance(rounds, list) and len(rounds) == p["rounds"], "%d rounds were run, %d recorded"
             % (p["rounds"], len(rounds) if isinstance(rounds, list) else 0))
    left = _Left(j, p["rounds"])
    for r, rec in enumerate(rounds):
        what = "round %d: %d threads submitting while another calls shutdown() on ThreadPool(%d)" % (r + 1, subs, w)
        accepted, ran, late = _tuples(rec["accepted"]), _tuples(rec["ran"]), _tuples(rec["late"])
        j.expect(not late, "%s: submit() called after shutdown() had returned accepted task %r instead of "
                 "raising RuntimeError" % (what, late[:1]), hint=HINT_RACE)
        j.expect(not rec["capped"], "%s: submit() still accepted tasks %d times in a row after shutdown() was called"
                 % (what, cap), hint="submit() must raise RuntimeError once shutdown() was called")
        j.expect(all(isinstance(k, tuple) and len(k) == 2 and 0 <= k[0] < subs and 0 <= k[1] < cap for k in accepted),
                 "%s: the tasks recorded as accepted are not the submitters' tasks" % what)
        msg = exactly_once(accepted, ran, what="task")
        if msg:
            done = set(ran)
            never = [k for k in accepted if k not in done]
            if never:
                j.fail("%s: submit() accepted %d task(s) that never ran, first %r: it returned their futures, but "
                       "shutdown() returned without running them (exactly-once oracle: %s)"
                       % (what, len(never), never[0], msg), hint=HINT_RACE)
            j.fail("%s: %s" % (what, msg), hint=HINT_RACE)
        left.check("shutdown() racing with submit()")


def shutdown_wakes(j):
    w = j.params["workers"]
    left = _Left(j, 4)
    left.check("shutdown()")
    j.expect_eq(j.obs["powers"], [2 ** k for k in range(2 * w)], "results of submit(pow, 2, k)")
    left.check("shutdown()")
    j.expect_eq(j.obs["eight"], 8, "submit(pow, 2, 3).result()")
    left.check("shutdown()")
    left.check("shutdown(cancel_pending=True)")
    waiter = j.obs["waiter"]
    value = None if waiter is None else waiter["returned"]
    j.expect(value in (32, "cancelled") and not isinstance(value, bool),
             "result() of a task queued when shutdown(cancel_pending=True) was called returned %s (expected 32 if it "
             "ran, or CancelledError)" % ("None" if waiter is None else waiter["repr"]))
