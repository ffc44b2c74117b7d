"""Judgements for lab-4.1 (the workloads are in checks.py). Runs outside the submission's process: the
true counts come from the judge's own sieve (lab41_primes), every verdict from what the workload recorded."""
from lab41_primes import call_repr as _call_repr, true_count as _true_count

HINT_PROCESSES = ("use the pool in a with-block (ProcessPoolExecutor or multiprocessing.Pool),"
                  " or close() and join() it before returning; never keep a pool in a "
                  "global between calls")


def _what(fn_name, case):
    lo, hi = case[0], case[1]
    if fn_name == "count_primes":
        return f"count_primes({lo}, {hi})"
    if len(case) > 2 and case[2] == "omitted":
        return _call_repr(fn_name, lo, hi, pass_workers=False)
    return _call_repr(fn_name, lo, hi, case[2] if len(case) > 2 else None)


def _int(j, rec, what, expected):
    """The int a call returned (its record: value, type, repr), or the run fails."""
    got = rec["value"]
    j.expect(isinstance(got, int) and not isinstance(got, bool),
             f"{what} returned {rec['repr']} ({rec['type']}), expected the int {expected}",
             hint="return the count as an int")
    return got


def _expect_count(j, rec, lo, hi, what, hint):
    expected = _true_count(lo, hi)
    got = _int(j, rec, what, expected)
    j.expect(got == expected,
             f"{what}: expected {expected}, got {got} ({got - expected:+d}); "
             f"the primes p with {lo} <= p < {hi}",
             hint=hint)


def _check_counts(j, fn_name, cases, hint):
    returned = j.obs["returned"]
    j.expect(isinstance(returned, list) and len(returned) == len(cases),
             f"{len(cases)} calls of {fn_name} were made, {len(returned)} results recorded")
    for case, rec in zip(cases, returned):
        _expect_count(j, rec, case[0], case[1], _what(fn_name, case), hint)


# --------------------------------------------------------------------------
# completion_quality

def count_primes_known(j):
    cases = j.params["cases"]
    for lo, hi, expected in cases:  # the spec's numbers are checked against the oracle too
        if _true_count(lo, hi) != expected:
            raise AssertionError(f"spec error: primes in [{lo}, {hi}) is {_true_count(lo, hi)}, "
                                 f"not {expected}")
    _check_counts(j, "count_primes", [[lo, hi] for lo, hi, _ in cases],
                  hint="count p with lo <= p < hi (hi excluded); test divisors d while d*d <= n")


def count_primes_edges(j):
    _check_counts(j, "count_primes", j.params["cases"],
                  hint="lo >= hi is an empty range (0); 0, 1 and negatives are not prime; "
                       "2 is prime; test divisors up to and including isqrt(n)")


def parallel_even_splits(j):
    _check_counts(j, "parallel_count_primes", j.params["cases"],
                  hint="each chunk [a, b) must start where the previous one ended, "
                       "and their counts must be summed")


def parallel_uneven_splits(j):
    _check_counts(j, "parallel_count_primes", j.params["cases"],
                  hint="the last chunk must end exactly at hi even when (hi - lo) is not a "
                       "multiple of the number of chunks (lo + (hi - lo) * i // n for the edges "
                       "does it), and a range smaller than workers still has to be counted")


def parallel_workers_default(j):
    _check_counts(j, "parallel_count_primes", j.params["cases"],
                  hint="workers=None (the default) means one worker per available core, e.g. "
                       "len(os.sched_getaffinity(0)); workers=1 is one worker process; "
                       "an empty range gives 0")


# --------------------------------------------------------------------------
# problem_solving

def _expect_eq_count(j, rec, lo, hi, what):
    """expect_eq(got, true count): a number equal to the sieve's count (1229.0 == 1229, as before)."""
    expected = _true_count(lo, hi)
    got = rec["value"]
    j.expect(isinstance(got, (int, float)) and got == expected,
             f"{what} (the primes p with {lo} <= p < {hi}): expected {expected!r}, got {rec['repr']}")


def no_process_left(j):
    before = j.obs["before"]
    j.expect(not before, f"child processes alive before the first call: {before} "
                         "(importing primes.py must not start processes)",
             hint="start worker processes inside parallel_count_primes, not at import")
    cases = j.params["cases"]
    returned, left = j.obs["returned"], j.obs["left"]
    j.expect(len(returned) == len(cases) and len(left) == len(cases),
             f"{len(cases)} calls were made, {len(returned)} results and {len(left)} process lists recorded")
    for (lo, hi, workers), rec, alive in zip(cases, returned, left):
        what = _call_repr("parallel_count_primes", lo, hi, workers)
        _expect_eq_count(j, rec, lo, hi, what)
        j.expect(not alive,
                 f"after {what} returned, {len(alive)} child process(es) were still alive "
                 f"(pids {', '.join(map(str, alive))})",
                 hint=HINT_PROCESSES)


def work_in_worker_processes(j):
    p = j.params
    lo, hi = p["lo"], p["hi"]
    what = _call_repr("parallel_count_primes", lo, hi, p["workers"])
    _expect_eq_count(j, j.obs["returned"], lo, hi, what)
    children, parent = j.number("children_cpu"), j.number("parent_cpu")
    total = children + parent
    share = children / total if total > 0 else 0.0
    j.expect(
        children >= p["min_children_cpu_s"] and share >= p["min_children_share"],
        f"{what}: worker processes used {children:.2f} s of CPU, this process {parent:.2f} s "
        f"(children's share {share:.0%}, at least {p['min_children_share']:.0%} expected): "
        "the counting did not run in child processes that were joined",
        hint="threads cannot count primes in parallel (the GIL); send the chunks to worker "
             "processes (ProcessPoolExecutor / multiprocessing.Pool) and let them do the counting")


def workers_run_at_once(j):
    p = j.params
    lo, hi = p["lo"], p["hi"]
    what = _call_repr("parallel_count_primes", lo, hi, p["workers"])
    _expect_eq_count(j, j.obs["returned"], lo, hi, what)
    most, seen, polls = j.number("max_alive"), j.number("pids_seen"), j.number("polls")
    need = p["min_alive"]
    j.expect(most >= need,
             f"{what}: at most {most} worker process(es) were alive at once "
             f"({seen} seen in all, {polls} polls); {need} expected",
             hint="start all the workers before waiting for any result: one pool of `workers` "
                  "processes, not a pool of 1 and not start()+join() one process at a time")
