"""Workloads for lab-2.4, Dining philosophers (judge.py, which the submission never sees, gives the
verdicts from what they record).

Every check hands the student's ``dine(n, meals, eat)`` an ``eat`` callback that
records who eats, how often, from which thread and who else is eating at the
same moment. ``eat`` sleeps a little (``params.hold`` seconds, or yields with
``sleep(0)`` when it is 0) so that overlapping meals have a window to show up.

Philosopher ``i`` uses forks ``i`` and ``(i + 1) % n``; neighbours ``i`` and
``i + 1`` share fork ``(i + 1) % n`` and must never eat at the same time.

Standard library only.
"""

import threading
import time

from lab24_words import HINT_FORKS, HINT_ORDER, names as _names, overlap_text, plural as _plural


class _Table:
    """The grader's side of the table: an ``eat`` callback that records everything."""

    def __init__(self, n, hold):
        self.n = n
        self.hold = float(hold)
        self.mu = threading.Lock()
        self.eating = {}            # philosopher -> eat() calls in progress
        self.counts = [0] * n       # eat() calls per philosopher
        self.overlaps = {}          # (i, j), i <= j -> times one started eating while the other ate
        self.bad_args = []          # eat() arguments that are not a philosopher
        self.max_together = 0
        self.max_group = ()
        self.returned = False
        self.at_return = None       # counts when dine() returned
        self.late = [0] * n         # eat() calls after dine() returned
        self.caller = None          # ident of the thread that called dine()
        self.from_caller = 0
        self.threads = {}           # philosopher -> set of thread idents
        self.spawned = []           # threads started during dine() (the student's philosophers)
        self.alive_at_return = 0    # of those, still running when dine() returned
        self.busy = 0.0             # total seconds spent inside eat()

    def eat(self, i):
        start = time.perf_counter()
        me = threading.get_ident()
        with self.mu:
            if type(i) is not int or not 0 <= i < self.n:
                if len(self.bad_args) < 5:
                    self.bad_args.append(repr(i))
                return
            n = self.n
            for j in {i, (i - 1) % n, (i + 1) % n}:
                if self.eating.get(j):
                    key = (min(i, j), max(i, j))
                    self.overlaps[key] = self.overlaps.get(key, 0) + 1
            self.eating[i] = self.eating.get(i, 0) + 1
            self.counts[i] += 1
            self.threads.setdefault(i, set()).add(me)
            if me == self.caller:
                self.from_caller += 1
            if self.returned:
                self.late[i] += 1
            group = tuple(sorted(k for k, v in self.eating.items() if v))
            if len(group) > self.max_together:
                self.max_together = len(group)
                self.max_group = group
        time.sleep(self.hold)
        with self.mu:
            self.eating[i] -= 1
            self.busy += time.perf_counter() - start

    def record(self, result, wall):
        """What one dinner did, for the judge: meals per philosopher (now, at dine()'s return, after
        it), the overlaps seen, eat()'s bad arguments and calls from dine()'s own thread, dine()'s
        result, and the times (dine()'s wall time, the seconds spent inside eat())."""
        with self.mu:
            return {
                "n": self.n, "counts": list(self.counts), "at_return": self.at_return, "late": list(self.late),
                "alive_at_return": self.alive_at_return, "from_caller": self.from_caller,
                "bad_args": list(self.bad_args),
                "overlaps": [[i, j, k] for (i, j), k in self.overlaps.items()],
                "max_together": self.max_together, "max_group": list(self.max_group),
                "busy": self.busy, "wall": wall, "result": _result(result),
            }

    # -- reports ---------------------------------------------------------

    def overlap_report(self):
        """Human-readable list of forbidden overlaps, or None."""
        if not self.overlaps:
            return None
        return overlap_text([(i, j, k) for (i, j), k in self.overlaps.items()], self.n)


def _val(value):
    """An element of dine()'s result for the judge: a bool, a machine-sized int, a finite float or a string
    as it is; anything else as {"repr": its repr}."""
    if isinstance(value, (bool, str)) or isinstance(value, int) and abs(value) < 2 ** 63:
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    return {"repr": repr(value)}


def _result(result):
    """What dine() returned: its type and repr, and its items when it is a list or a tuple."""
    items = [_val(x) for x in result] if isinstance(result, (list, tuple)) else None
    return {"type": type(result).__name__, "repr": repr(result), "items": items}


def _dine(ctx, n, meals, hold, timeout, settle=0.05):
    """Call the student's dine(n, meals, eat) with a recording table.

    Returns (table, result, wall_seconds). A hang fails the check with who had eaten what; an
    exception raised by dine() or by a philosopher thread fails it with the student's own traceback.
    """
    philosophers = ctx.student("philosophers")
    ctx.expect(callable(getattr(philosophers, "dine", None)),
               "philosophers.py has no function dine(n, meals, eat)",
               hint="define dine(n: int, meals: int, eat: Callable[[int], None]) -> list[int]")
    table = _Table(n, hold)
    box = {}
    thread_errors = []
    previous_hook = threading.excepthook

    def hook(args):
        if args.exc_type is not SystemExit:
            thread_errors.append(args)
        previous_hook(args)

    before = set(threading.enumerate())

    def call():
        table.caller = threading.get_ident()
        t0 = time.perf_counter()
        try:
            box["result"] = philosophers.dine(n, meals, table.eat)
        except BaseException as exc:  # re-raised below, in the check's own thread
            box["error"] = exc
        box["wall"] = time.perf_counter() - t0
        with table.mu:
            table.returned = True
            table.at_return = list(table.counts)
        me = threading.current_thread()
        table.spawned = [t for t in threading.enumerate() if t not in before and t is not me]
        table.alive_at_return = sum(1 for t in table.spawned if t.is_alive())

    threading.excepthook = hook
    try:
        runner = threading.Thread(target=call, name="dine-caller", daemon=True)
        runner.start()
        runner.join(timeout)
        if runner.is_alive():
            with table.mu:
                counts = list(table.counts)
            if thread_errors:
                err = thread_errors[0]
                raise err.exc_value.with_traceback(err.exc_traceback)
            done = [i for i in range(n) if counts[i] >= meals]
            short = [f"philosopher {i}: {counts[i]}/{meals}" for i in range(n) if counts[i] < meals]
            ctx.fail(f"dine({n}, {meals}, eat) did not return within {timeout:g} s. Meals eaten so far: "
                     + ", ".join(short[:8]) + ("" if len(short) <= 8 else ", ...")
                     + (f"; {_names(done)} had finished" if done else "")
                     + ". The philosophers still hungry are stuck (deadlock, lost wake-up, or a thread "
                       "that is never started or never ends).",
                     hint=HINT_ORDER)
        if settle:
            time.sleep(settle)  # let a philosopher that outlives dine() show itself
    finally:
        threading.excepthook = previous_hook
    if "error" in box:
        raise box["error"]
    if thread_errors:
        err = thread_errors[0]
        raise err.exc_value.with_traceback(err.exc_traceback)
    return table, box.get("result"), box["wall"]


def _cases(ctx):
    cases = ctx.params.get("cases")
    if cases:
        return [(int(a), int(b)) for a, b in cases]
    return [(int(ctx.params["n"]), int(ctx.params["meals"]))]


def _dinners(ctx, hold, timeout, settle):
    """One dinner per case, each recorded (the judge checks them in order)."""
    dinners = []
    for n, meals in _cases(ctx):
        table, result, wall = _dine(ctx, n, meals, hold, timeout, settle)
        dinners.append(table.record(result, wall))
    ctx.observe("dinners", dinners)


# ---------------------------------------------------------------------------
# completion_quality


def meal_counts(ctx):
    """Each case's dinner: the judge checks that each philosopher ate exactly `meals` times and that
    dine() returned the counts after all were done."""
    p = ctx.params
    _dinners(ctx, p.get("hold", 0.0), p.get("timeout_s", 5), p.get("settle", 0.05))


def fork_exclusivity(ctx):
    """Each case's dinner: the judge checks that neighbours (who share a fork) were never inside eat()
    at the same time."""
    p = ctx.params
    _dinners(ctx, p.get("hold", 0.001), p.get("timeout_s", 5), p.get("settle", 0.0))


def exclusivity_and_meals(ctx):
    """Fork exclusivity and exact meal counts together (used under yield injection)."""
    p = ctx.params
    _dinners(ctx, p.get("hold", 0.0), p.get("timeout_s", 5), p.get("settle", 0.0))


# ---------------------------------------------------------------------------
# problem_solving


def no_deadlock(ctx):
    """Many hungry philosophers under yield injection: dine() must finish (a hang fails the run here, as
    do philosopher threads still stuck after it returned); each dinner is recorded."""
    p = ctx.params
    dinners = []
    for n, meals in _cases(ctx):
        timeout = p.get("timeout_s", 6)
        table, result, wall = _dine(ctx, n, meals, p.get("hold", 0.0), timeout, 0.0)
        # dine() returned. If it did not wait for its philosophers, give them the rest of the time
        # to finish: philosophers stuck after dine() returned are a deadlock all the same.
        deadline = time.monotonic() + timeout
        for t in table.spawned:
            t.join(max(0.0, deadline - time.monotonic()))
        stuck_threads = [t for t in table.spawned if t.is_alive()]
        if stuck_threads:
            with table.mu:
                counts = list(table.counts)
            stuck = [i for i in range(n) if counts[i] < meals]
            detail = ", ".join(f"philosopher {i}: {counts[i]}/{meals}" for i in stuck[:8])
            ctx.fail(f"dine({n}, {meals}, eat) returned, but {_plural(len(stuck_threads), 'thread')} it "
                     f"started never finished within {timeout:g} s"
                     + (f" ({detail})" if detail else "") + ": they are stuck",
                     hint=HINT_ORDER)
        seen = table.record(result, wall)
        seen["stuck"] = len(stuck_threads)
        dinners.append(seen)
    ctx.observe("dinners", dinners)


def no_starvation(ctx):
    """Under contention: each case's dinner (the judge checks every philosopher got all of its meals)."""
    p = ctx.params
    _dinners(ctx, p.get("hold", 0.001), p.get("timeout_s", 6), 0.0)


def real_concurrency(ctx):
    """Non-neighbours eat at the same time: the table is not serialised.

    Runs up to `dinners` dinners, each recorded, and stops at the first that meets both the measures
    (at most `max_wall_fraction` of the serial time, `min_together` eating at once): one unlucky
    schedule does not fail a correct solution (a serial table never gets below ~1.0 of the serial
    time, a good one reaches ~0.6). The judge decides from the recorded dinners.
    """
    p = ctx.params
    n, meals = int(p["n"]), int(p["meals"])
    hold = float(p.get("hold", 0.02))
    need = int(p.get("min_together", 2))
    frac = float(p.get("max_wall_fraction", 0.8))
    dinners = []
    for _ in range(int(p.get("dinners", 1))):
        table, result, wall = _dine(ctx, n, meals, hold, p.get("timeout_s", 5), 0.0)
        dinners.append(table.record(result, wall))
        if wall / max(table.busy, 1e-9) <= frac and table.max_together >= need:
            break
    ctx.observe("dinners", dinners)


# ---------------------------------------------------------------------------
# performance


def bench_table(ctx):
    """Throughput workload: `repeat` dinners of n philosophers with a short, sleeping meal.

    Each dinner is also checked (meal counts, returned list, neighbours never overlapping): speed is
    only measured on correct dinners. The bookkeeping costs microseconds against a meal of ms.
    """
    philosophers = ctx.student("philosophers")
    p = ctx.params
    n, meals, repeat = int(p["n"]), int(p["meals"]), int(p.get("repeat", 1))
    hold = float(p["hold"])
    timeout = float(p.get("timeout_s", 3))
    expected = [meals] * n

    def one_dinner():
        table = _Table(n, hold)
        box = {}

        def call():
            try:
                box["result"] = philosophers.dine(n, meals, table.eat)
            except BaseException as exc:
                box["error"] = exc

        runner = threading.Thread(target=call, name="dine-caller", daemon=True)
        runner.start()
        runner.join(timeout)
        if runner.is_alive():
            ctx.fail(f"dine({n}, {meals}, eat) with a {hold * 1000:g} ms meal did not return within "
                     f"{timeout:g} s (deadlock?)", hint=HINT_ORDER)
        if "error" in box:
            raise box["error"]
        result = box.get("result")
        ctx.expect(isinstance(result, (list, tuple)) and list(result) == expected
                   and table.counts == expected,
                   f"dine({n}, {meals}, eat) returned {result!r}, and the philosophers ate "
                   f"{table.counts}; both should be {expected!r}. Speed is only measured on correct "
                   f"dinners.",
                   hint="make the meal-count items pass first")
        report = table.overlap_report()
        ctx.expect(report is None,
                   f"dine({n}, {meals}, eat): neighbours ate at the same time ({report}). Speed is only "
                   f"measured on correct dinners.",
                   hint=HINT_FORKS)

    def workload():
        for _ in range(repeat):
            one_dinner()

    return workload
