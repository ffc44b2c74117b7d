"""Judgements for ex-process-pool-manager (the workloads are in checks.py). Runs outside the submission's
process: what each call must return comes from the params and from running the checks' own tasks here
(poolmgr_jobs, the module the workers run); every verdict from what the workload recorded.

A failure only the run could see (a call that hung, a pool that was not running, a pickling error) is
recorded as `failed` where it happened: a judgement reports it when it reaches the first step the run did
not record, so the steps recorded before it are judged first, in the order the checks always had.
Values the student's code returned arrive as JSON (tuples as lists), anything else as {"repr": ...}.
"""
import os

import poolmgr_jobs as jobs
from grade_lib_values import undo_repr
from poolmgr_hints import HINT_PICKLE, HINT_RUNNING_POOL

HINT_JOIN = ("a normal exit is close() then join(); an exit by an exception is terminate() then join(): "
             "either way join() waits for every worker, so none is left running and none is left a "
             "zombie (a finished child nobody waited for)")


def _shown(value):
    """A recorded result as the student's code returned it, for a message: a list stays a list."""
    if isinstance(value, list):
        return [undo_repr(v) for v in value]
    return undo_repr(value)


def _sorted(seq):
    try:
        return sorted(seq)
    except TypeError:   # values of several types
        return sorted(seq, key=repr)


def _expect_eq(j, got, want, what):
    """j.expect_eq, the student's value shown as it was."""
    if got != want:
        j.fail("%s: expected %r, got %r" % (what, want, _shown(got)))


def _short(x, limit=70):
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Steps:
    """Reads the steps a workload recorded in `rec`: a step it did not record is where the run failed by
    itself (rec["failed"]), or, with no failure recorded, a report that skipped work."""

    def __init__(self, j, rec):
        self.j = j
        j.expect(isinstance(rec, dict), "the run recorded %r, not its steps" % (rec,))
        self.failed = rec.get("failed")

    def stop(self):
        if self.failed:
            self.j.fail(self.failed["message"], self.failed.get("hint"))

    def get(self, rec, key):
        if key in rec:
            return rec[key]
        self.stop()
        self.j.fail("the run recorded no `%s`: the workload did not get that far" % key)

    def end(self):
        """Every step judged: a failure recorded after them still fails the run."""
        self.stop()


def _left(j, problem, hint=HINT_JOIN):
    j.expect(problem is None or isinstance(problem, str), "the run recorded %r as what was left behind" % (problem,))
    if problem:
        j.fail(problem, hint=hint)


def _squares(n):
    return [x * x for x in range(n)]


# --------------------------------------------------------------------------
# completion_quality: the manager

def pool_basic(j):
    """Constructor validation; __enter__ returns a running Pool of `processes` workers (cpu_count()
    by default) on which map and apply_async work; nothing starts at import."""
    S = _Steps(j, j.obs)
    j.expect(S.get(j.obs, "import_children") == 0,
             "child processes are alive right after importing pool_manager (importing it must not start "
             "processes)", hint="keep demo code under `if __name__ == \"__main__\":`")
    invalid = S.get(j.obs, "invalid")
    for index, kwargs in enumerate(j.params["invalid"]):
        if index >= len(invalid):
            S.stop()
            j.fail("the run recorded %d of %d invalid constructor calls" % (len(invalid), len(j.params["invalid"])))
        outcome = invalid[index]
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        if outcome == ["ValueError"]:
            continue
        if outcome[0] == "raised":
            j.fail(f"ProcessPoolManager({args}) raised {outcome[1]}: {outcome[2]}, expected ValueError",
                   hint="validate processes (None or an int >= 1) and task_timeout (None or > 0) "
                        "in the constructor")
        j.fail(f"ProcessPoolManager({args}) did not raise ValueError",
               hint="validate processes (None or an int >= 1) and task_timeout (None or > 0) "
                    "in the constructor, before any process starts")
    for index, n in enumerate(j.params["sizes"]):
        want = os.cpu_count() if n is None else n
        label = "ProcessPoolManager()" if n is None else f"ProcessPoolManager({n})"
        step = S.get(j.obs, f"size_{index}")
        pool = S.get(step, "pool")
        j.expect(pool["is_pool"] is True,
                 f"`with {label} as pool:` gave {pool['short']} ({pool['type']}), "
                 "expected the multiprocessing.pool.Pool it created", hint="return the pool from __enter__")
        if "map_error" in step:
            j.fail(f"`with {label} as pool:` pool.map(square, range(20)) in the with-block "
                   f"raised ValueError: {step['map_error']}: the pool __enter__ returned is not running",
                   hint=HINT_RUNNING_POOL)
        _expect_eq(j, S.get(step, "map"), _squares(20), f"{label}: pool.map(square, range(20))")
        _expect_eq(j, S.get(step, "apply"), 49, f"{label}: pool.apply_async(square, (7,)).get()")
        workers = S.get(step, "workers")
        j.expect(workers == want,
                 f"inside `with {label} as pool:` {workers} worker process(es) were alive, "
                 f"expected {want}" + (" (os.cpu_count())" if n is None else ""),
                 hint="pass processes to multiprocessing.Pool as given (None: the pool's "
                      "default, os.cpu_count())")
        _left(j, S.get(step, "left"))
    S.end()


def exit_paths(j):
    """Both ways out of the block, each judged on its own (every failure is reported): a normal exit
    waits for the submitted work (close + join, not terminate); an exception raised in the block, or
    re-raised by the pool from a task, propagates unchanged and __exit__ returns a false value; either
    way no worker is left running and none unjoined."""
    failures, hints = [], []
    for part in (_normal_exit, _exception_exit):
        try:
            part(j)
        except j.Failed as exc:
            failures.append(exc.message)
            if exc.hint:
                hints.append(exc.hint)
    if failures:
        j.fail(" | ".join(failures), hint=" ".join(dict.fromkeys(hints)))


def _normal_exit(j):
    rec = j.obs["normal"]
    S = _Steps(j, rec)
    tasks = j.params["tasks"]
    S.stop()   # a call that hung: the part's only finding, as it always was
    problems = []
    step = S.get(rec, "pending")
    unfinished = step["unfinished"]
    if unfinished:
        problems.append(f"{len(unfinished)} of the {tasks} tasks submitted in the block had not finished "
                        "when the with-block ended (a normal exit must let submitted work finish: close(), "
                        "then join(), which waits for it; terminate(), which Pool's own with-block calls, "
                        "kills it)")
    else:
        got = step["results"]
        if got != _squares(tasks):
            problems.append(f"the tasks' results were {_short(_shown(got))}, expected the squares of 0..{tasks - 1}")
    if step["left"]:
        problems.append(step["left"])
    step = S.get(rec, "idle")
    what2 = f"`with ProcessPoolManager({j.params['processes']}) as pool:` pool.map(square, range(10))"
    if step["results"] != _squares(10):
        problems.append(f"{what2} returned {_short(_shown(step['results']))}")
    if step["left"]:
        problems.append(step["left"])
    if problems:
        j.fail("; ".join(problems), hint=HINT_JOIN)


def _exception_exit(j):
    rec = j.obs["exception"]
    S = _Steps(j, rec)
    n = j.params["processes"]

    # 1. The check raises in the block.
    step = S.get(rec, "raised")
    what = f"`with ProcessPoolManager({n}) as pool:` raising Boom in the block"
    got = step["propagated"]
    j.expect(got is not None, f"{what}: the exception did not propagate (it was swallowed): __exit__ "
             "must return False", hint="return False from __exit__, always")
    j.expect(got["same"] is True, f"{what}: {got['type']}: {got['text']} propagated instead of the Boom "
             "raised in the block", hint="__exit__ must not raise an exception of its own, nor "
             "replace the one that is propagating: return False")
    _left(j, step["left"])

    # 2. A task raises: pool.map re-raises it in the block, and it must leave the block too.
    step = S.get(rec, "task")
    what = f"`with ProcessPoolManager({n}) as pool:` pool.map(fail_some, range(6)), a task raising ValueError"
    got = step["propagated"]
    j.expect(got is not None and "bad item" in got["text"],
             f"{what}: the task's ValueError did not leave the with-block (got {None if got is None else got['repr']})",
             hint="return False from __exit__: never suppress the exception")
    _left(j, step["left"])

    # 3. The protocol itself: __exit__ called with an exception returns a false value.
    step = S.get(rec, "protocol")
    j.expect(step["truthy"] is False, f"ProcessPoolManager(1).__exit__(Boom, exc, None) returned {step['returned']}: "
             "a true value suppresses the exception", hint="return False from __exit__")
    _left(j, step["left"])
    S.end()


def _number(j, value, what):
    j.expect(isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
             "the run recorded %r as %s" % (value, what))
    return value


def task_timeout(j):
    """task_timeout bounds a normal exit: a stuck task -> TimeoutError after about task_timeout, workers
    terminated and joined; quick work -> no error and no waiting for the whole task_timeout."""
    p = j.params
    n, limit, slack = p["processes"], p["task_timeout"], p["slack_s"]
    S = _Steps(j, j.obs)
    step = S.get(j.obs, "stuck")
    what = f"`with ProcessPoolManager({n}, task_timeout={limit:g}) as pool:` with a task that never ends"
    error, took = step["error"], step["took"]
    if error is None or error["builtin_timeout"] is not True:
        j.fail(f"{what}: leaving the block normally " + (
               f"raised {error['kind']}: {error['text']}" if error is not None else
               f"returned after {_number(j, took, 'the time the exit took'):.2f} s without an error")
               + ", expected the builtin TimeoutError",
               hint="raise the builtin TimeoutError once task_timeout has passed and the pool is "
                    "terminated and joined (not multiprocessing.TimeoutError)")
    j.expect(took is not None, f"{what}: TimeoutError before the block had run")
    took = _number(j, took, "the time the exit took")
    j.expect(took >= limit - 0.05, f"{what}: TimeoutError after {took:.2f} s, before task_timeout "
             f"({limit:g} s) had passed", hint="wait task_timeout seconds for join() before giving up")
    j.expect(took <= limit + slack, f"{what}: TimeoutError only after {took:.2f} s (task_timeout "
             f"{limit:g} s)", hint="terminate() as soon as task_timeout has passed")
    _left(j, step["left"], hint="after task_timeout, terminate() and then join() the pool")

    quick, nap = p["quick_tasks"], p["quick_task_s"]
    step = S.get(j.obs, "quick")
    what = (f"`with ProcessPoolManager({n}, task_timeout={p['long_timeout']:g}) as pool:` "
            f"{quick} tasks of {nap:g} s")
    took = _number(j, step["took"], "the time the exit took")
    j.expect(took <= p["quick_exit_max_s"], f"{what}: leaving the block took {took:.2f} s: the exit "
             "must return as soon as the work is done, not wait for the whole task_timeout",
             hint="join with a timeout (a helper thread's join(timeout)), not a sleep(task_timeout)")
    j.expect(step["ready"] is True and step["results"] == _squares(quick),
             f"{what}: the tasks' results were not all ready and right after the block",
             hint="close() then join(): submitted work finishes")
    _left(j, step["left"])
    S.end()


def initializer_once(j):
    """The initializer runs once in each worker process, with initargs, never in the parent process."""
    p = j.params
    S = _Steps(j, j.obs)
    _initializer_case(j, S, S.get(j.obs, "init"), p["processes"], tuple(p["initargs"]), p["tasks"], None)
    S.end()


def _initializer_case(j, S, rec, n, initargs, tasks, start_method):
    """One pool with jobs.record_init as initializer: judged from the log its workers wrote and from what
    the tasks reported about their process, then on the workers left after the block."""
    where = f" (start method {start_method})" if start_method else ""
    label = f"ProcessPoolManager({n}, initializer=record_init, initargs={initargs!r}){where}"
    _left(j, rec["left"])
    if start_method == "spawn":
        forked = [c for c in rec["cmdlines"] if "spawn_main" not in c]
        j.expect(not forked, f"{label}: {len(forked)} worker(s) were not started by the spawn start method "
                 "in force", hint="create the pool with multiprocessing.Pool(...) (the default start "
                                  "method); do not pick a context yourself")
    j.expect(rec["parent_init_calls"] == 0,
             f"{label}: the initializer ran in this (the parent) process",
             hint="never call the initializer yourself: give it to multiprocessing.Pool(initializer=..., "
                  "initargs=...), which runs it in each worker")
    lines = rec["log"]
    j.expect(all(len(parts) == 2 for parts in lines), "grader: unreadable initializer log")
    pids = [int(pid) for pid, _ in lines]
    j.expect(rec["parent_pid"] not in pids, f"{label}: the initializer ran in this (the parent) process",
             hint="give the initializer to multiprocessing.Pool; never call it yourself")
    wrong_args = [(pid, args) for pid, args in lines if args != repr(initargs)]
    j.expect(not wrong_args, f"{label}: the initializer was called with {wrong_args[0][1] if wrong_args else ''} "
             f"in worker pid {wrong_args[0][0] if wrong_args else ''}, expected {initargs!r}",
             hint="pass initargs=self.initargs to multiprocessing.Pool along with the initializer")
    j.expect(len(pids) == n and len(set(pids)) == n,
             f"{label}: the initializer ran {len(pids)} time(s) in {len(set(pids))} process(es), "
             f"expected once in each of the {n} workers",
             hint="give initializer and initargs to multiprocessing.Pool: it calls initializer(*initargs) "
                  "once in each worker process as it starts (and not before each task)")
    out = [undo_repr(r) for r in rec["tasks"]]
    j.expect(all(isinstance(r, tuple) and len(r) == 3 for r in out),
             f"{label}: pool.map(whoami, ...) returned {_short(out)}, not one (item, pid, calls, args) per task")
    for x, pid, calls in _sorted(out):
        j.expect(pid in pids, f"{label}: task {x} ran in pid {pid}, where the initializer never ran",
                 hint="give the initializer to the pool that runs the tasks")
        j.expect(calls == 1, f"{label}: in worker pid {pid} the initializer had run {calls} time(s) when "
                 f"task {x} ran, expected exactly once", hint="the pool runs it once per worker: do not "
                 "call it again per task")
    _expect_eq(j, _sorted(x for x, *_ in out), list(range(tasks)), f"{label}: pool.map(whoami, ...) items")


# --------------------------------------------------------------------------
# completion_quality: run_all

def _items(spec):
    """(items, description) from a case's description: {list: N}, {range: [a, b]}, {generator: N}."""
    if "list" in spec:
        return list(range(spec["list"])), f"list(range({spec['list']}))"
    if "range" in spec:
        a, b = spec["range"]
        return list(range(a, b)), f"range({a}, {b})"
    if "generator" in spec:
        n = spec["generator"]
        return list(range(n)), f"(x for x in range({n}))"
    raise AssertionError(f"spec error: unknown items description {spec!r}")


# Tasks that sleep stand in for their sleepless twins when the judge computes what to expect.
_ORACLE_FN = {"late_square": jobs.square, "pid_of": lambda x: (x, None), "nap_square": jobs.square}


def _oracle(name, items):
    """The definition: fn(item) in order, None and f"{type}: {exc}" where it raised."""
    fn = _ORACLE_FN.get(name, getattr(jobs, name))
    results, errors = [], {}
    for i, item in enumerate(items):
        try:
            results.append(fn(item))
        except Exception as exc:  # noqa: BLE001 - what run_all must record
            results.append(None)
            errors[i] = f"{type(exc).__name__}: {exc}"
    return results, errors


def _what(case, start_method):
    items, desc = _items(case["items"])
    kwargs = {k: case[k] for k in ("processes", "chunksize") if k in case}
    where = f" (start method {start_method})" if start_method else ""
    return "run_all(%s)%s" % (", ".join([case["fn"], desc] + [f"{k}={v}" for k, v in kwargs.items()]), where)


def _run_all_call(j, S, rec, case, start_method=None):
    """One recorded run_all call: (what, (results, errors), expected)."""
    what = _what(case, start_method)
    expected = _oracle(case["fn"], _items(case["items"])[0])
    raised = rec.get("raised")
    if raised is not None:
        text, line = raised["text"], raised["student_line"]
        if raised["pickling"] is True:
            j.fail(f"{what} raised {text}{line}", hint=HINT_PICKLE)
        if raised["not_running"] is True:
            j.fail(f"{what} raised {text}{line}: the pool __enter__ returned is not running",
                   hint=HINT_RUNNING_POOL)
        an_item = text in expected[1].values()   # one of the items' own exceptions
        j.fail(f"{what} raised {text}{raised['worker_line'] or line}"
               + (" instead of recording the failing item in errors" if an_item else ""),
               hint="catch the exception IN THE WORKER, per item, with a top-level wrapper function "
                    "(pool.map re-raises the first failure in the parent and loses every other result)"
               if an_item else None)
    _left(j, S.get(rec, "left"), hint="run_all must use ProcessPoolManager's with-block: " + HINT_JOIN)
    returned = S.get(rec, "returned")
    j.expect(returned["pair"] is True, f"{what} returned {returned['short']}, expected a tuple (results, errors)",
             hint="return results, errors")
    j.expect(rec["results"] is not None, f"{what}: results is a {rec['results_type']}, expected a list")
    j.expect(rec["errors"] is not None, f"{what}: errors is a {rec['errors_type']}, expected a dict")
    results = [undo_repr(r) for r in rec["results"]]
    errors = {undo_repr(k): undo_repr(v) for k, v in rec["errors"]}
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


def _same(a, b):
    """Equal as the student's values were (1 == 1.0 == True, as Python compares), element by element."""
    return len(a) == len(b) and all(x == y for x, y in zip(a, b))


def run_all_order(j):
    """run_all returns every result in input order, for lists, ranges and generators, with several
    chunk sizes and pool sizes (tasks finishing out of order included), in at most `processes`
    worker processes."""
    S = _Steps(j, j.obs)
    cases = j.params["cases"]
    for index, case in enumerate(cases):
        what, (results, errors), (want, want_errors) = _run_all_call(j, S, S.get(j.obs, f"case_{index}"), case)
        j.expect(errors == want_errors, f"{what}: errors is {_short(errors)}, expected {want_errors!r}",
                 hint="errors holds only the items whose call raised")
        if not _same(results, want):
            j.fail(f"{what}: " + _order_diff(results, want),
                   hint="keep the results in input order: pool.map/starmap/imap return them in order; "
                        "imap_unordered and as-they-finish collection do not" if
                   sorted(map(repr, results)) == sorted(map(repr, want)) else
                   "one result per item, fn(item), at the item's position")
    n = j.params["pid_processes"]
    case = {"fn": "pid_of", "items": {"list": j.params["pid_items"]}, "processes": n, "chunksize": 1}
    what, (results, _), (want, _) = _run_all_call(j, S, S.get(j.obs, f"case_{len(cases)}"), case)
    xs = [r[0] if isinstance(r, tuple) and r else r for r in results]
    if not _same(xs, [x for x, _ in want]):
        j.fail(f"{what}: the items came back as " + _order_diff(xs, [x for x, _ in want]))
    j.expect(all(isinstance(r, tuple) and len(r) == 2 for r in results),
             f"{what}: the results are {_short(results)}, not the (item, pid) pairs pid_of returns")
    pids = {r[1] for r in results}
    j.expect(S.get(j.obs, "parent_pid") not in pids, f"{what}: some items ran in this (the calling) process, not in "
             "worker processes", hint="send every item to the pool")
    j.expect(len(pids) <= n, f"{what}: the items ran in {len(pids)} different processes, at most {n} "
             "expected", hint="ProcessPoolManager(processes): one pool of `processes` workers")
    S.end()


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:   # keys of several types
        return sorted(d, key=repr)


def _errors_case(j, S, rec, case, start_method=None):
    what, (results, errors), (want, want_errors) = _run_all_call(j, S, rec, case, start_method)
    if errors != want_errors:
        missing = sorted(set(want_errors) - set(errors))
        extra = _sorted_keys(set(errors) - set(want_errors))
        wrong = [i for i in want_errors if i in errors and errors[i] != want_errors[i]]
        if wrong:
            i = wrong[0]
            j.fail(f"{what}: errors[{i}] is {errors[i]!r}, expected {want_errors[i]!r}",
                   hint='the text is f"{type(exc).__name__}: {exc}", keyed by the item\'s index '
                        "(its position in items, not the item)")
        j.fail(f"{what}: errors has the keys {_short(_sorted_keys(errors), 50)}, expected "
               f"{_short(sorted(want_errors), 50)}"
               + (f" (missing {missing[:4]})" if missing else "") + (f" (unexpected {extra[:4]})" if extra else ""),
               hint="key errors by the item's index in items (0, 1, 2 ...), one entry per item whose "
                    "call raised")
    if not _same(results, want):
        lost = [i for i, (a, b) in enumerate(zip(results, want)) if i not in want_errors and a != b]
        j.fail(f"{what}: " + _order_diff(results, want)
               + (f"; {len(lost)} item(s) that did not fail lost their result" if lost else ""),
               hint="catch each item's exception in the worker, per item: with chunksize > 1 a chunk "
                    "that fails as a whole loses the results of its good items too")


def run_all_errors(j):
    """Failing items are collected per item ({index: "Type: message"}, None in results) while every
    other item is still computed, also when a chunk holds failing items."""
    S = _Steps(j, j.obs)
    for index, case in enumerate(j.params["cases"]):
        _errors_case(j, S, S.get(j.obs, f"case_{index}"), case)
    S.end()


# --------------------------------------------------------------------------
# problem_solving

def hung_task_exit(j):
    """Leaving the block by an exception while every worker runs a task that never ends (and more are
    queued) returns promptly: terminate(), not join()."""
    n, limit = j.params["processes"], j.params["max_exit_s"]
    if j.obs["apply_error"] is not None:
        j.fail(f"`with ProcessPoolManager({n}) as pool:` pool.apply_async(...) raised ValueError: "
               f"{j.obs['apply_error']}: the pool __enter__ returned is not running", hint=HINT_RUNNING_POOL)
    took = j.obs["took"]
    if took is None:
        j.fail("the exception raised in the with-block did not propagate (it was swallowed)",
               hint="return False from __exit__")
    j.expect(j.obs["same"] is True, "a different Boom propagated")
    took = j.number("took")
    j.expect(took <= limit, f"leaving `with ProcessPoolManager({n}) as pool:` by an exception took {took:.2f} s "
             f"with every worker stuck in a task (at most {limit:g} s expected)",
             hint="on the error path terminate() the pool, then join(): close() + join() waits for tasks "
                  "that may never end")
    _left(j, j.obs["left"])


def spawn_all(j):
    """The manager and run_all under the spawn start method (the item's): a pool whose initializer is
    pickled for each fresh worker, left normally (close + join, no zombie); run_all with failing items,
    whose per-item wrapper is pickled too. Each scenario is judged on its own; every failure is reported."""
    p = j.params

    def pool_case(rec):
        S = _Steps(j, rec)
        _initializer_case(j, S, S.get(rec, "init"), p["processes"], tuple(p["initargs"]), p["tasks"], "spawn")
        S.end()

    def errors_case(rec):
        S = _Steps(j, rec)
        _errors_case(j, S, S.get(rec, "case"), p["run_all"], "spawn")
        S.end()

    failures, hints, ok = [], [], []
    for name, judge in (("pool", pool_case), ("run_all", errors_case)):
        try:
            rec = j.obs[name]
            if "exception" in rec:
                failures.append(rec["exception"])
                continue
            judge(rec)
            ok.append(name)
        except j.Failed as exc:
            failures.append(exc.message)
            if exc.hint:
                hints.append(exc.hint)
    if failures:
        j.fail(f"{len(failures)} of 2 scenarios failed under spawn: " + " | ".join(failures)
               + (f" (passed: {', '.join(ok)})" if ok else ""), hint=" ".join(dict.fromkeys(hints)))
