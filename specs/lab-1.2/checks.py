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
import time

from grade_lib_procs import live_and_zombies
from grade_lib_student import call_timed, poll_every, student_module
from grade_lib_pool import HINT_VALUE, NAMES, run_check_urls, serve_bounded, workloads
from grade_lib_urls import log_of, serve

MODULE = "process_checker"
HINT_PICKLE = ("everything a worker process gets is pickled, and a function is pickled by its importable "
               "name: give the pool (or Process) a function defined at the top level of process_checker.py, "
               "or functools.partial of one - no lambda, no nested def")


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    return student_module(ctx, MODULE, NAMES)


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

    def poll():
        live, _ = live_and_zombies()
        peak["polls"] += 1
        peak["pids"].update(live)
        peak["n"] = max(peak["n"], len(live))
    stop = poll_every(poll, 0.005)
    return lambda: stop() or peak


# --------------------------------------------------------------------------
# completion_quality and performance (grade_lib_pool.workloads), then problem_solving

all_statuses, errors_as_values, wall_time = workloads(_module, _call)


def bounded(ctx):
    """workers < N: records the most worker processes alive at once (client side), its results and the
    server's log (requests in flight)."""
    mod, urls, what = serve_bounded(ctx, _module)
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
