"""Judgements for lab-1.1, URL checker with threads (the workloads are in checks.py). Runs outside the
submission's process: the routes (statuses, latencies, failures, the order of the URLs) are planned here
from the run's seed, and every verdict comes from what the workload recorded: the results check_urls
returned, what the fixture server saw, the wall time and the threads."""
import grade_lib_pool as pool

HINT_ORDER = "keep the results in input order: executor.map does; as_completed does not"
HINTS = pool.hints(order=HINT_ORDER,
                   wall="start every request before waiting for any: a pool of `workers` threads, all busy at once")


# --------------------------------------------------------------------------
# plans and judgements from grade_lib_pool, with this lab's hints; then problem_solving

(plan_all_statuses, plan_errors_as_values, plan_wall_time, plan_bounded, plan_threads_finished, all_statuses,
 errors_as_values, wall_time) = pool.judgements(__name__, HINTS)


def bounded(j):
    w, what, peak = pool.judge_bounded(j)
    threads = j.obs["threads"]
    n, names = threads["n"], threads["names"]
    j.expect(isinstance(n, int) and isinstance(names, list), "the run recorded the threads in an unexpected shape")
    pool.expect_bounded(j, peak, what,
                       hint="bound the concurrency: ThreadPoolExecutor(max_workers=workers), not a thread per URL")
    j.expect(n <= w + 1, "%s: %d threads ran at once (%s); at most %d allowed (workers, plus one "
             "coordinating thread)" % (what, n, ", ".join(str(x) for x in names[:6]), w + 1),
             hint="bound the threads: ThreadPoolExecutor(max_workers=workers), not a thread per URL")
    pool.expect_overlap(j, peak, what,
                       hint="start `workers` requests before waiting for any (a thread that is joined right after "
                            "start() makes the loop serial)")


def threads_finished(j):
    p = j.params
    for attempt, what in pool.judge_calls(j):
        left = j.obs["left_%d" % attempt]
        j.expect(isinstance(left, list), "the run recorded the threads left in an unexpected shape")
        j.expect(not left, "%s returned, but %d thread(s) it started were still alive %.1f s later: %s"
                 % (what, len(left), p["grace_s"], ", ".join(str(x) for x in left[:6])),
                 hint="use the executor in a with-block (it joins its threads), or call shutdown(); "
                      "join every Thread you start")
