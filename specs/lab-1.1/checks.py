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

from grade_lib_student import call_timed, student_module
from grade_lib_urls import log_of, run_all_statuses, run_check_urls, run_errors_as_values, run_wall_time, serve

MODULE = "thread_checker"
HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    return student_module(ctx, MODULE, ("check_url", "check_urls", "CheckResult"))


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
    done = threading.Event()

    def sample():
        while not done.is_set():
            new = [t for t in threading.enumerate() if t not in before and t.name not in ("student-call", "sampler")]
            if len(new) > peak["n"]:
                peak["n"], peak["names"] = len(new), [t.name for t in new]
            time.sleep(0.002)
    t = threading.Thread(target=sample, name="sampler", daemon=True)
    t.start()

    def stop():
        done.set()
        t.join()
        return peak
    return before, stop


# --------------------------------------------------------------------------
# completion_quality

def all_statuses(ctx):
    """check_urls on N URLs with mixed statuses and latencies (the judge's routes), the first `repeat` of
    them given again at the end; and check_urls([]). Records the results and what the server saw."""
    run_all_statuses(ctx, _module(ctx), _call)


def errors_as_values(ctx):
    """URLs that never answer, reset or are refused, among good ones (routes and order: the judge's)."""
    run_errors_as_values(ctx, _module(ctx), _call)


# --------------------------------------------------------------------------
# performance

def wall_time(ctx):
    """N URLs with workers >= N: records the wall time of check_urls, its results and the server's log."""
    run_wall_time(ctx, _module(ctx), _call)


# --------------------------------------------------------------------------
# problem_solving

def bounded(ctx):
    """workers < N: records the most threads check_urls ran at once (client side), its results and the
    server's log (requests in flight)."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), p["workers"])
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
