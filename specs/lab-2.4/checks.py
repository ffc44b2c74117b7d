"""Checks for lab-2.4, Dining philosophers.

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

HINT_JOIN = ("start every philosopher thread, then join() every one of them before "
             "building and returning the list of meals")
HINT_FORKS = ("create the n forks once, in dine(), and give philosopher i the locks "
              "forks[i] and forks[(i + 1) % n]; call eat(i) only inside both of them "
              "(with first: with second: eat(i))")
HINT_ORDER = ("break the circular wait: let every philosopher pick up the lower-numbered "
              "of its two forks first (resource ordering), or let at most n - 1 "
              "philosophers reach for forks at once (a 'butler' semaphore)")


def _plural(k, word):
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def _names(ids):
    ids = sorted(ids)
    if len(ids) == 1:
        return f"philosopher {ids[0]}"
    return "philosophers " + ", ".join(str(i) for i in ids[:-1]) + f" and {ids[-1]}"


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

    # -- reports ---------------------------------------------------------

    def overlap_report(self):
        """Human-readable list of forbidden overlaps, or None."""
        if not self.overlaps:
            return None
        n = self.n
        parts = []
        total = 0
        for (i, j), k in sorted(self.overlaps.items(), key=lambda kv: -kv[1]):
            total += k
            if len(parts) < 3:
                if i == j:
                    parts.append(f"philosopher {i} was inside eat({i}) twice at once ({_plural(k, 'time')})")
                else:
                    shared = sorted({i, j} & {(i + 1) % n, (j + 1) % n})
                    forks = " and ".join(str(f) for f in shared)
                    parts.append(f"philosophers {i} and {j} ate at the same time although both need "
                                 f"fork{'s' if len(shared) > 1 else ''} {forks} ({_plural(k, 'time')})")
        return "; ".join(parts) + f" [{_plural(total, 'overlapping meal')} in all, n={n}]"


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


def _check_returned_last(ctx, table, n, meals):
    """dine() returned only after every philosopher had finished."""
    call = f"dine({n}, {meals}, eat)"
    late = [i for i in range(n) if table.late[i]]
    early = [i for i in range(n) if table.at_return[i] < meals]
    # A thread still winding down after its last meal is harmless; one still owed meals is not.
    if not late and not (early and table.alive_at_return):
        return
    msg = f"{call} returned before every philosopher had finished"
    facts = []
    if table.alive_at_return:
        facts.append(f"{_plural(table.alive_at_return, 'thread')} it started {'was' if table.alive_at_return == 1 else 'were'} "
                     f"still running when it returned")
    if early:
        facts.append("meals eaten at that moment: "
                     + ", ".join(f"philosopher {i}: {table.at_return[i]}/{meals}" for i in early[:6]))
    if late:
        facts.append(f"{_plural(sum(table.late), 'eat() call')} by {_names(late)} came after "
                     f"dine() had returned")
    ctx.fail(msg + " (" + "; ".join(facts) + ")", hint=HINT_JOIN)


def _check_meals(ctx, table, result, n, meals):
    """Every philosopher ate exactly `meals` times, inside dine(), and dine() said so."""
    call = f"dine({n}, {meals}, eat)"
    ctx.expect(not table.bad_args,
               f"{call}: eat() was called with {', '.join(table.bad_args)}, which is not a philosopher "
               f"number in range({n})",
               hint="philosopher i must call eat(i) with its own number, an int from 0 to n - 1")
    _check_returned_last(ctx, table, n, meals)
    wrong = [i for i in range(n) if table.counts[i] != meals]
    if wrong:
        detail = ", ".join(f"philosopher {i} called eat({i}) {_plural(table.counts[i], 'time')}"
                           for i in wrong[:6])
        if any(table.counts[i] < meals for i in wrong):
            hint = ("a philosopher that finds a fork busy must wait for it (a blocking acquire), not "
                    "skip the meal; loop exactly `meals` times: for _ in range(meals)")
        else:
            hint = "loop exactly `meals` times per philosopher: for _ in range(meals)"
        ctx.fail(f"{call}: each philosopher must eat exactly {meals} times, but {detail}"
                 + ("" if len(wrong) <= 6 else f" (and {len(wrong) - 6} more)"),
                 hint=hint)
    ctx.expect(table.from_caller == 0,
               f"{call}: eat() was called {_plural(table.from_caller, 'time')} from the thread that "
               f"called dine(); each philosopher must eat in its own thread",
               hint="create one threading.Thread per philosopher and call eat(i) in it")
    ctx.expect(isinstance(result, (list, tuple)),
               f"{call} returned {result!r} ({type(result).__name__}); it must return a list with "
               f"the meals each philosopher ate",
               hint="return a list of n ints, e.g. [meals] * n once every philosopher has eaten")
    result = list(result)
    ctx.expect(len(result) == n,
               f"{call} returned a list of {len(result)} items; it must have one per philosopher ({n})",
               hint="result[i] is the number of meals philosopher i ate")
    diff = [i for i in range(n) if result[i] != table.counts[i]]
    if diff:
        detail = ", ".join(f"result[{i}] = {result[i]!r} but philosopher {i} ate {table.counts[i]}"
                           for i in diff[:4])
        ctx.fail(f"{call} returned {result!r}, which is not what was eaten: {detail}",
                 hint="count each philosopher's meals as it eats them (each philosopher writes only "
                      "its own slot) and return the counts after joining the threads")


def _check_exclusive(ctx, table, n, meals):
    report = table.overlap_report()
    if report:
        ctx.fail(f"dine({n}, {meals}, eat): neighbours ate at the same time: {report}. "
                 "Two philosophers who share a fork must never be inside eat() together.",
                 hint=HINT_FORKS)


def _cases(ctx):
    cases = ctx.params.get("cases")
    if cases:
        return [(int(a), int(b)) for a, b in cases]
    return [(int(ctx.params["n"]), int(ctx.params["meals"]))]


# ---------------------------------------------------------------------------
# completion_quality


def meal_counts(ctx):
    """Each philosopher eats exactly `meals` times; dine() returns the counts after all are done."""
    p = ctx.params
    for n, meals in _cases(ctx):
        table, result, _ = _dine(ctx, n, meals, p.get("hold", 0.0), p.get("timeout_s", 5),
                                 p.get("settle", 0.05))
        _check_meals(ctx, table, result, n, meals)


def fork_exclusivity(ctx):
    """Neighbours (who share a fork) are never inside eat() at the same time."""
    p = ctx.params
    for n, meals in _cases(ctx):
        table, result, _ = _dine(ctx, n, meals, p.get("hold", 0.001), p.get("timeout_s", 5),
                                 p.get("settle", 0.0))
        _check_exclusive(ctx, table, n, meals)


def exclusivity_and_meals(ctx):
    """Fork exclusivity and exact meal counts together (used under yield injection)."""
    p = ctx.params
    for n, meals in _cases(ctx):
        table, result, _ = _dine(ctx, n, meals, p.get("hold", 0.0), p.get("timeout_s", 5),
                                 p.get("settle", 0.0))
        _check_exclusive(ctx, table, n, meals)
        _check_meals(ctx, table, result, n, meals)


# ---------------------------------------------------------------------------
# problem_solving


def no_deadlock(ctx):
    """Many hungry philosophers under yield injection: dine() must finish."""
    p = ctx.params
    for n, meals in _cases(ctx):
        timeout = p.get("timeout_s", 6)
        table, result, _ = _dine(ctx, n, meals, p.get("hold", 0.0), timeout, 0.0)
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


def no_starvation(ctx):
    """Under contention every philosopher still gets all of its meals."""
    p = ctx.params
    for n, meals in _cases(ctx):
        table, result, _ = _dine(ctx, n, meals, p.get("hold", 0.001), p.get("timeout_s", 6), 0.0)
        _check_returned_last(ctx, table, n, meals)
        hungry = [i for i in range(n) if table.counts[i] < meals]
        if hungry:
            detail = ", ".join(f"philosopher {i} ate {table.counts[i]} of {meals}" for i in hungry[:6])
            ctx.fail(f"dine({n}, {meals}, eat) finished, but {_names(hungry)} went hungry: {detail}. "
                     f"A philosopher must keep waiting for its forks until it has eaten every meal, "
                     f"not give up when they are busy.",
                     hint="block on the forks (with first: with second:) instead of try-acquire "
                          "and give up; the lock hands the fork over once the neighbour is done")
        _check_meals(ctx, table, result, n, meals)


def real_concurrency(ctx):
    """Non-neighbours eat at the same time: the table is not serialised.

    Runs `dinners` dinners and keeps the best one, so one unlucky schedule does not fail a correct
    solution: a serial table never gets below ~1.0 of the serial time, a good one reaches ~0.6.
    """
    p = ctx.params
    n, meals = int(p["n"]), int(p["meals"])
    hold = float(p.get("hold", 0.02))
    need = int(p.get("min_together", 2))
    frac = float(p.get("max_wall_fraction", 0.8))
    runs = []
    for _ in range(int(p.get("dinners", 1))):
        table, result, wall = _dine(ctx, n, meals, hold, p.get("timeout_s", 5), 0.0)
        _check_meals(ctx, table, result, n, meals)
        runs.append((wall / max(table.busy, 1e-9), wall, table.busy, table.max_together, table.max_group))
        if runs[-1][0] <= frac and table.max_together >= need:
            return
    together = max(r[3] for r in runs)
    best = min(runs)
    timings = "; ".join(f"{w * 1000:.0f} ms for {b * 1000:.0f} ms of meals" for _, w, b, _, _ in runs)
    if together < need:
        ctx.fail(f"dine({n}, {meals}, eat) with a {hold * 1000:.0f} ms meal, {_plural(len(runs), 'dinner')}: "
                 f"never were {need} philosophers eating at once (at most {together}); the dinners took "
                 f"{timings}: the meals were served one after the other. Philosophers who share no "
                 f"fork (such as 0 and 2) should eat at the same time.",
                 hint="a philosopher should wait only for its own two forks; a single lock around "
                      "the whole meal (a 'table lock') makes everybody wait for everybody")
    ctx.fail(f"dine({n}, {meals}, eat) with a {hold * 1000:.0f} ms meal: even the best of "
             f"{_plural(len(runs), 'dinner')} took {best[0]:.0%} of the time it would take to serve "
             f"the meals one by one (at most {frac:.0%} expected; {timings}). At most "
             f"{best[3]} philosophers ever ate together ({_names(best[4])}).",
             hint="keep the time a philosopher holds forks to the meal itself, and do not make "
                  "philosophers wait for anything but their own two forks")


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
