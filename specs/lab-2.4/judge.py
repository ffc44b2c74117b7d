"""Judgements for lab-2.4, Dining philosophers (the workloads are in checks.py). Runs outside the
submission's process: the cases, meal counts and thresholds come from the item's params; every verdict
from the dinners the workload recorded (meals per philosopher, overlaps of neighbours, dine()'s result,
the threads and times).

Philosopher ``i`` uses forks ``i`` and ``(i + 1) % n``; neighbours ``i`` and ``i + 1`` share fork
``(i + 1) % n`` and must never eat at the same time.
"""
from lab24_words import HINT_FORKS, HINT_ORDER, names as _names, overlap_text, plural as _plural

HINT_JOIN = ("start every philosopher thread, then join() every one of them before "
             "building and returning the list of meals")


def _r(value):
    """An element of dine()'s result as %r showed it."""
    if isinstance(value, dict) and set(value) == {"repr"}:
        return value["repr"]
    return repr(value)


def _cases(j):
    cases = j.params.get("cases")
    if cases:
        return [(int(a), int(b)) for a, b in cases]
    return [(int(j.params["n"]), int(j.params["meals"]))]


def _counts(j, d, key, n):
    """A list of n non-negative ints from dinner `d` (the workload's own tallies)."""
    v = d[key]
    j.expect(isinstance(v, list) and len(v) == n
             and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v),
             "the run recorded %s as %r, not %d counts" % (key, v, n))
    return v


def _dinners(j, cases):
    """The recorded dinners, one per case, each of the case's table size."""
    dinners = j.obs["dinners"]
    j.expect(isinstance(dinners, list) and len(dinners) == len(cases),
             "the run recorded %s dinners, not %d" % (len(dinners) if isinstance(dinners, list) else "no",
                                                      len(cases)))
    for d, (n, _) in zip(dinners, cases):
        j.expect(d["n"] == n, "the run recorded a dinner of %r philosophers, not %d" % (d["n"], n))
    return dinners


def _overlap_report(d, n):
    """Human-readable list of forbidden overlaps, or None."""
    overlaps = d["overlaps"]
    if not overlaps:
        return None
    return overlap_text(overlaps, n)


def _check_returned_last(j, d, n, meals):
    """dine() returned only after every philosopher had finished."""
    call = f"dine({n}, {meals}, eat)"
    late_counts = _counts(j, d, "late", n)
    at_return = _counts(j, d, "at_return", n)
    alive = d["alive_at_return"]
    j.expect(isinstance(alive, int) and alive >= 0, "the run recorded %r threads alive at return" % (alive,))
    late = [i for i in range(n) if late_counts[i]]
    early = [i for i in range(n) if at_return[i] < meals]
    # A thread still winding down after its last meal is harmless; one still owed meals is not.
    if not late and not (early and alive):
        return
    msg = f"{call} returned before every philosopher had finished"
    facts = []
    if alive:
        facts.append(f"{_plural(alive, 'thread')} it started {'was' if alive == 1 else 'were'} "
                     f"still running when it returned")
    if early:
        facts.append("meals eaten at that moment: "
                     + ", ".join(f"philosopher {i}: {at_return[i]}/{meals}" for i in early[:6]))
    if late:
        facts.append(f"{_plural(sum(late_counts), 'eat() call')} by {_names(late)} came after "
                     f"dine() had returned")
    j.fail(msg + " (" + "; ".join(facts) + ")", hint=HINT_JOIN)


def _check_meals(j, d, n, meals):
    """Every philosopher ate exactly `meals` times, inside dine(), and dine() said so."""
    call = f"dine({n}, {meals}, eat)"
    bad_args = d["bad_args"]
    j.expect(not bad_args,
             f"{call}: eat() was called with {', '.join(bad_args)}, which is not a philosopher "
             f"number in range({n})",
             hint="philosopher i must call eat(i) with its own number, an int from 0 to n - 1")
    _check_returned_last(j, d, n, meals)
    counts = _counts(j, d, "counts", n)
    wrong = [i for i in range(n) if counts[i] != meals]
    if wrong:
        detail = ", ".join(f"philosopher {i} called eat({i}) {_plural(counts[i], 'time')}"
                           for i in wrong[:6])
        if any(counts[i] < meals for i in wrong):
            hint = ("a philosopher that finds a fork busy must wait for it (a blocking acquire), not "
                    "skip the meal; loop exactly `meals` times: for _ in range(meals)")
        else:
            hint = "loop exactly `meals` times per philosopher: for _ in range(meals)"
        j.fail(f"{call}: each philosopher must eat exactly {meals} times, but {detail}"
               + ("" if len(wrong) <= 6 else f" (and {len(wrong) - 6} more)"),
               hint=hint)
    from_caller = d["from_caller"]
    j.expect(from_caller == 0,
             f"{call}: eat() was called {_plural(from_caller, 'time')} from the thread that "
             f"called dine(); each philosopher must eat in its own thread",
             hint="create one threading.Thread per philosopher and call eat(i) in it")
    result = d["result"]
    items = result["items"]
    j.expect(isinstance(items, list),
             f"{call} returned {result['repr']} ({result['type']}); it must return a list with "
             f"the meals each philosopher ate",
             hint="return a list of n ints, e.g. [meals] * n once every philosopher has eaten")
    j.expect(len(items) == n,
             f"{call} returned a list of {len(items)} items; it must have one per philosopher ({n})",
             hint="result[i] is the number of meals philosopher i ate")
    diff = [i for i in range(n) if isinstance(items[i], dict) or items[i] != counts[i]]
    if diff:
        shown = "[" + ", ".join(_r(x) for x in items) + "]"
        detail = ", ".join(f"result[{i}] = {_r(items[i])} but philosopher {i} ate {counts[i]}"
                           for i in diff[:4])
        j.fail(f"{call} returned {shown}, which is not what was eaten: {detail}",
               hint="count each philosopher's meals as it eats them (each philosopher writes only "
                    "its own slot) and return the counts after joining the threads")


def _check_exclusive(j, d, n, meals):
    report = _overlap_report(d, n)
    if report:
        j.fail(f"dine({n}, {meals}, eat): neighbours ate at the same time: {report}. "
               "Two philosophers who share a fork must never be inside eat() together.",
               hint=HINT_FORKS)


# ---------------------------------------------------------------------------
# completion_quality


def meal_counts(j):
    """Each philosopher eats exactly `meals` times; dine() returns the counts after all are done."""
    cases = _cases(j)
    for d, (n, meals) in zip(_dinners(j, cases), cases):
        _check_meals(j, d, n, meals)


def fork_exclusivity(j):
    """Neighbours (who share a fork) are never inside eat() at the same time; every philosopher ate."""
    cases = _cases(j)
    for d, (n, meals) in zip(_dinners(j, cases), cases):
        _check_exclusive(j, d, n, meals)
        # dine() returned: the meals were served (how many is meal-counts' business, but a dinner with
        # none proves nothing about the forks)
        counts = _counts(j, d, "counts", n)
        j.expect(meals == 0 or sum(counts) > 0, f"dine({n}, {meals}, eat): nobody ate at all",
                 hint="start one thread per philosopher; each calls eat(i) `meals` times")


def exclusivity_and_meals(j):
    """Fork exclusivity and exact meal counts together (used under yield injection)."""
    cases = _cases(j)
    for d, (n, meals) in zip(_dinners(j, cases), cases):
        _check_exclusive(j, d, n, meals)
        _check_meals(j, d, n, meals)


# ---------------------------------------------------------------------------
# problem_solving


def no_deadlock(j):
    """Many hungry philosophers under yield injection: every dinner finished, no thread stuck."""
    cases = _cases(j)
    for d, (n, meals) in zip(_dinners(j, cases), cases):
        _counts(j, d, "counts", n)
        j.expect(d["stuck"] == 0, f"dine({n}, {meals}, eat) returned, but {_plural(d['stuck'], 'thread')} it "
                 f"started never finished: they are stuck", hint=HINT_ORDER)


def no_starvation(j):
    """Under contention every philosopher still gets all of its meals."""
    cases = _cases(j)
    for d, (n, meals) in zip(_dinners(j, cases), cases):
        _check_returned_last(j, d, n, meals)
        counts = _counts(j, d, "counts", n)
        hungry = [i for i in range(n) if counts[i] < meals]
        if hungry:
            detail = ", ".join(f"philosopher {i} ate {counts[i]} of {meals}" for i in hungry[:6])
            j.fail(f"dine({n}, {meals}, eat) finished, but {_names(hungry)} went hungry: {detail}. "
                   f"A philosopher must keep waiting for its forks until it has eaten every meal, "
                   f"not give up when they are busy.",
                   hint="block on the forks (with first: with second:) instead of try-acquire "
                        "and give up; the lock hands the fork over once the neighbour is done")
        _check_meals(j, d, n, meals)


def real_concurrency(j):
    """Non-neighbours eat at the same time: the table is not serialised.

    The workload ran up to `dinners` dinners and stopped at the first that met both measures; the best
    one counts, so one unlucky schedule does not fail a correct solution: a serial table never gets
    below ~1.0 of the serial time, a good one reaches ~0.6.
    """
    p = j.params
    n, meals = int(p["n"]), int(p["meals"])
    hold = float(p.get("hold", 0.02))
    need = int(p.get("min_together", 2))
    frac = float(p.get("max_wall_fraction", 0.8))
    most = int(p.get("dinners", 1))
    dinners = j.obs["dinners"]
    j.expect(isinstance(dinners, list) and 1 <= len(dinners) <= most,
             "the run recorded %s dinners, not 1 to %d" % (len(dinners) if isinstance(dinners, list) else "no",
                                                          most))
    runs = []
    for d in dinners:
        j.expect(d["n"] == n, "the run recorded a dinner of %r philosophers, not %d" % (d["n"], n))
        _check_meals(j, d, n, meals)
        wall, busy, together = d["wall"], d["busy"], d["max_together"]
        j.expect(all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0
                     for x in (wall, busy, together)),
                 "the run recorded a dinner's times as %r, %r, %r" % (wall, busy, together))
        j.expect(together <= n, "the run recorded %r philosophers eating at once at a table of %d" % (together, n))
        runs.append((wall / max(busy, 1e-9), wall, busy, together, d["max_group"]))
        if runs[-1][0] <= frac and together >= need:
            return
    j.expect(len(runs) == most, "the run recorded %d of %d dinners" % (len(runs), most))
    together = max(r[3] for r in runs)
    best = min(runs)
    timings = "; ".join(f"{w * 1000:.0f} ms for {b * 1000:.0f} ms of meals" for _, w, b, _, _ in runs)
    if together < need:
        j.fail(f"dine({n}, {meals}, eat) with a {hold * 1000:.0f} ms meal, {_plural(len(runs), 'dinner')}: "
               f"never were {need} philosophers eating at once (at most {together}); the dinners took "
               f"{timings}: the meals were served one after the other. Philosophers who share no "
               f"fork (such as 0 and 2) should eat at the same time.",
               hint="a philosopher should wait only for its own two forks; a single lock around "
                    "the whole meal (a 'table lock') makes everybody wait for everybody")
    j.fail(f"dine({n}, {meals}, eat) with a {hold * 1000:.0f} ms meal: even the best of "
           f"{_plural(len(runs), 'dinner')} took {best[0]:.0%} of the time it would take to serve "
           f"the meals one by one (at most {frac:.0%} expected; {timings}). At most "
           f"{best[3]} philosophers ever ate together ({_names(best[4])}).",
           hint="keep the time a philosopher holds forks to the meal itself, and do not make "
                "philosophers wait for anything but their own two forks")
