"""Workloads for lab-1.2, URL checker with processes (`process_checker.py`). Each records what the
student's code did; judge.py, which the submission never sees, plans the routes and gives the verdicts.

The student's API is the docstring of starter/lab-1.2/process_checker.py: check_url(url, timeout) and
check_urls(urls, workers, timeout), each giving CheckResult(url, status, error, elapsed) values, the
checks run in worker processes.

Every URL points at the grader's fixture HTTP server (ctx.http), whose routes the judge generates
from the item's params and the run's seed: a status and a latency per URL, and routes that never
answer (`timeout`) or reset the connection (`reset`). The workloads record the results as returned,
what the server saw (each request's path, arrival and answer), the wall time and the processes; the
judge compares the student's numbers with the server's. Wall-time limits are generous ratios of the
server's latencies (the machine is shared and noisy): "well under the sum", "near the slowest",
never tight absolute numbers.

Processes are read from /proc (each thread's `children` file, then each child's state): the worker
processes alive during a call, and after it both the live ones and the zombies (finished, never
joined). The `spawn` item runs under the spawn start method, which pickles everything a worker gets,
the function included. Every student call runs in a thread with a time limit, so a hang is reported
as such (here, in the run). Standard library only.
"""
import threading
import time

from grade_lib_procs import live_and_zombies
from grade_lib_student import call_timed, student_module
from grade_lib_urls import log_of, run_all_statuses, run_check_urls, run_errors_as_values, run_wall_time, serve

MODULE = "process_checker"
HINT_PICKLE = ("everything a worker process gets is pickled, and a function is pickled by its importable "
               "name: give the pool (or Process) a function defined at the top level of process_checker.py, "
               "or functools.partial of one - no lambda, no nested def")
HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    return student_module(ctx, MODULE, ("check_url", "check_urls", "CheckResult"))


def _call(ctx, what, fn, limit):
    """fn() in a thread, within `limit` seconds; (value, wall seconds). An exception fails the check with
    the student's line (a worker's, for an exception a pool re-raised)."""
    return call_timed(ctx, what, fn, limit,
                      hang_hint="pass timeout= to every request; a worker that dies or a result never sent "
                                "leaves the parent waiting",
                      error_hint=HINT_VALUE, remote=True, pickle_hint=HINT_PICKLE)


def _process_sampler():
    """Counts the worker processes alive while the student's call runs."""
    peak = {"n": 0, "pids": set(), "polls": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            live, _ = live_and_zombies()
            peak["polls"] += 1
            peak["pids"].update(live)
            peak["n"] = max(peak["n"], len(live))
            time.sleep(0.005)
    t = threading.Thread(target=sample, name="sampler", daemon=True)
    t.start()

    def stop():
        done.set()
        t.join()
        return peak
    return stop


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
    """workers < N: records the most worker processes alive at once (client side), its results and the
    server's log (requests in flight)."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), p["workers"])
    stop = _process_sampler()
    try:
        run_check_urls(ctx, mod, _call, urls, what)
    finally:
        procs = stop()
    ctx.observe("processes", {"n": procs["n"], "pids": sorted(procs["pids"]), "polls": procs["polls"]})
    ctx.observe("requests", log_of(ctx))


def no_orphans(ctx):
    """Records the child processes alive and the zombies before the first call, then after each of two
    calls in a row (so a pool kept between calls shows too), `grace_s` after it returned."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    live, zombies = live_and_zombies()
    ctx.observe("before", {"live": live, "zombies": zombies})
    for attempt in (1, 2):
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        run_check_urls(ctx, mod, _call, urls, what, key="results_%d" % attempt)
        deadline = time.monotonic() + p["grace_s"]
        while True:
            live, zombies = live_and_zombies()
            if (not live and not zombies) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        ctx.observe("after_%d" % attempt, {"live": live, "zombies": zombies})
