"""Judgements for lab-1.1, URL checker with threads (the workloads are in checks.py). Runs outside the
submission's process: the routes (statuses, latencies, failures, the order of the URLs) are planned here
from the run's seed, and every verdict comes from what the workload recorded: the results check_urls
returned, what the fixture server saw, the wall time and the threads."""
import grade_lib_urls as lib

HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")
HINT_ORDER = "keep the results in input order: executor.map does; as_completed does not"
HINT_STATUS = ("a 404 or a 500 is an answer, not a failure: report resp.status_code with error None "
               "(do not call raise_for_status())")
HINTS = {"value": HINT_VALUE, "order": HINT_ORDER, "status": HINT_STATUS,
         "wall": "start every request before waiting for any: a pool of `workers` threads, all busy at once"}


# --------------------------------------------------------------------------
# plans (grade_lib_urls: a route per URL, its status and latency drawn from the run's seed)

def plan_all_statuses(j):
    return lib.plan_table(j)


def plan_errors_as_values(j):
    """Good routes, routes that never answer (until hold_ms) and that reset, and the order of the URLs:
    an index into routes, None for the refused URL (a free port the workload picks)."""
    return lib.plan_errors(j)


def plan_wall_time(j):
    return lib.plan_table(j)


def plan_bounded(j):
    return lib.plan_table(j, [200])


def plan_threads_finished(j):
    return lib.plan_table(j, [200, 404])


# --------------------------------------------------------------------------
# completion_quality

def all_statuses(j):
    lib.judge_all_statuses(j, HINTS)


def errors_as_values(j):
    lib.judge_errors_as_values(j, HINTS)


# --------------------------------------------------------------------------
# performance

def wall_time(j):
    lib.judge_wall_time(j, HINTS)


# --------------------------------------------------------------------------
# problem_solving

def bounded(j):
    w, what, peak = lib.judge_bounded(j)
    threads = j.obs["threads"]
    n, names = threads["n"], threads["names"]
    j.expect(isinstance(n, int) and isinstance(names, list), "the run recorded the threads in an unexpected shape")
    lib.expect_bounded(j, peak, what,
                       hint="bound the concurrency: ThreadPoolExecutor(max_workers=workers), not a thread per URL")
    j.expect(n <= w + 1, "%s: %d threads ran at once (%s); at most %d allowed (workers, plus one "
             "coordinating thread)" % (what, n, ", ".join(str(x) for x in names[:6]), w + 1),
             hint="bound the threads: ThreadPoolExecutor(max_workers=workers), not a thread per URL")
    lib.expect_overlap(j, peak, what,
                       hint="start `workers` requests before waiting for any (a thread that is joined right after "
                            "start() makes the loop serial)")


def threads_finished(j):
    p = j.params
    for attempt, what in lib.judge_calls(j):
        left = j.obs["left_%d" % attempt]
        j.expect(isinstance(left, list), "the run recorded the threads left in an unexpected shape")
        j.expect(not left, "%s returned, but %d thread(s) it started were still alive %.1f s later: %s"
                 % (what, len(left), p["grace_s"], ", ".join(str(x) for x in left[:6])),
                 hint="use the executor in a with-block (it joins its threads), or call shutdown(); "
                      "join every Thread you start")
