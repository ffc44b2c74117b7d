"""Workloads for lab-1.1, URL checker with threads (`thread_checker.py`). Each records what the student's
code did; judge.py, which the submission never sees, plans the routes and gives the verdicts.

The student's API is the docstring of starter/lab-1.1/thread_checker.py: check_url(url, timeout) and
check_urls(urls, workers, timeout), each giving CheckResult(url, status, error, elapsed) values.

Every URL points at the grader's fixture HTTP server (ctx.http), whose routes the judge generates
from the item's params and the run's seed: a status and a latency per URL, and routes that never
answer (`timeout`) or reset the connection (`reset`). The workloads record the results as returned,
what the server saw (each request's path, arrival and answer) and the wall time; the judge compares
the student's numbers with the server's. Wall-time limits are generous ratios of the server's
latencies (the machine is shared and noisy): "well under the sum", "near the slowest", never tight
absolute numbers.

Every student call runs in a thread with a time limit, so a hang is reported as such (here, in the
run). Standard library only.
"""
import threading
import time

from grade_lib_student import call_timed, poll_every, student_module
from grade_lib_pool import HINT_VALUE, NAMES, run_check_urls, serve_bounded, workloads
from grade_lib_urls import log_of, serve

MODULE = "thread_checker"


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    return student_module(ctx, MODULE, NAMES)


def _call(ctx, what, fn, limit):
    """fn() in a thread, within `limit` seconds; (value, wall seconds). An exception fails the check with
    the student's line."""
    return call_timed(ctx, what, fn, limit,
                      hang_hint="pass timeout= to every request, and make sure every thread you start ends",
                      error_hint=HINT_VALUE)


def _thread_sampler():
    """Counts the threads alive while the student's call runs (the check's own excluded)."""
    before = set(threading.enumerate())
    peak = {"n": 0, "names": []}

    def poll():
        new = [t for t in threading.enumerate() if t not in before and t.name not in ("student-call", "sampler")]
        if len(new) > peak["n"]:
            peak["n"], peak["names"] = len(new), [t.name for t in new]
    stop = poll_every(poll, 0.002)
    return before, lambda: stop() or peak


# --------------------------------------------------------------------------
# completion_quality and performance (grade_lib_pool.workloads), then problem_solving

all_statuses, errors_as_values, wall_time = workloads(_module, _call)


def bounded(ctx):
    """workers < N: records the most threads check_urls ran at once (client side), its results and the
    server's log (requests in flight)."""
    mod, urls, what = serve_bounded(ctx, _module)
    _, stop = _thread_sampler()
    try:
        run_check_urls(ctx, mod, _call, urls, what)
    finally:
        threads = stop()
    ctx.observe("threads", {"n": threads["n"], "names": threads["names"]})
    ctx.observe("requests", log_of(ctx))


def threads_finished(ctx):
    """check_urls twice in a row (so a pool kept between calls shows too): records, after each call, the
    threads it started that were still alive `grace_s` later."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    for attempt in (1, 2):
        before = set(threading.enumerate())
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        run_check_urls(ctx, mod, _call, urls, what, key="results_%d" % attempt)
        deadline = time.monotonic() + p["grace_s"]
        while True:
            left = [t for t in threading.enumerate() if t not in before and t.is_alive()
                    and t.name not in ("student-call", "sampler")]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        ctx.observe("left_%d" % attempt, [t.name for t in left])
