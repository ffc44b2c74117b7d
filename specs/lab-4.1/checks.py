"""Workloads for lab-4.1, CPU-bound parallelisation (`primes.py`). Each records what the
student's code returned (and, for the process items, what the processes did); judge.py, which
the submission never sees, gives the verdicts.

Standard library only. The judge's oracle is a sieve of Eratosthenes, so parallel results are
compared with the true count, not with the student's own `count_primes` (a wrong serial count
must not make a wrong parallel count look right, nor the other way round). The timed workload
(bench_parallel) checks its result with the same sieve (lab41_primes, beside this file).
"""

import math
import os
import threading
import time

from grade_lib_procs import HELPER_WORDS, CpuClock, descendants, proc_table
from grade_lib_student import call_pool
from lab41_primes import call_repr as _call_repr, true_count as _true_count

MODULE = "primes"


# --------------------------------------------------------------------------
# helpers

def _call(ctx, what, fn, timeout):
    """Run fn() in a thread with a time limit and return its result.

    `what` names the call in the messages. A pickling error gets its own hint; any other
    exception is re-raised for the harness, which names its type, message and the
    student's file:line.
    """
    return call_pool(ctx, what, fn, timeout, MODULE,
                     hang_hint="look for a worker that never ends, or a result that is waited for but "
                               "never sent",
                     pickle_hint="everything sent to a worker process is pickled, and a function is "
                                 "pickled by its importable name: define the worker function at the "
                                 "top level of primes.py (no lambda, no nested def)")[0]


def _descendants(table=None):
    """{pid: (ppid, state, cmdline, children_cpu)} of every descendant of this process (the workers of
    a fork server too)."""
    return descendants(proc_table(cpu=True) if table is None else table)


def _is_helper(row):
    """multiprocessing's own long-lived helpers (resource tracker, fork server) are not workers.

    A helper is a child of this process started by multiprocessing itself; the workers that a
    fork server forks carry its command line too, but they are its children, not ours.
    """
    ppid, _, cmd, _ = row
    return ppid == os.getpid() and any(word in cmd for word in HELPER_WORDS)


def _live_workers(ctx):
    """Sorted pids of live worker processes: ctx.children() plus deeper descendants, no helpers."""
    tree = _descendants()
    pids = {pid for pid, row in tree.items() if row[1] not in ("Z", "X") and not _is_helper(row)}
    pids.update(pid for pid in ctx.children() if pid not in tree or not _is_helper(tree[pid]))
    return sorted(pids)


def _returned(got):
    """A returned value as the judge sees it: the value when it is a number (JSON cannot carry nan or inf, nor
    the student's objects), its type's name and its repr."""
    number = isinstance(got, int) or isinstance(got, float) and math.isfinite(got)
    return {"value": got if number else None, "type": type(got).__name__, "repr": repr(got)[:200]}


def _record_counts(ctx, fn_name, cases, timeout):
    """Call fn_name on each case and record what it returned (`returned`, one entry per case).

    cases: [lo, hi] for count_primes; [lo, hi, workers] for parallel_count_primes, where
    workers "omitted" calls parallel_count_primes(lo, hi) without the argument.
    """
    primes = ctx.student(MODULE)
    fn = getattr(primes, fn_name, None)
    ctx.expect(callable(fn), f"primes.py defines no function {fn_name}()",
               hint=f"define {fn_name} at module level, with the signature in the starter")
    returned = []
    for case in cases:
        lo, hi = case[0], case[1]
        if fn_name == "count_primes":
            what = f"count_primes({lo}, {hi})"
            got = _call(ctx, what, lambda: fn(lo, hi), timeout)
        elif len(case) > 2 and case[2] == "omitted":
            what = _call_repr(fn_name, lo, hi, pass_workers=False)
            got = _call(ctx, what, lambda: fn(lo, hi), timeout)
        else:
            workers = case[2] if len(case) > 2 else None
            what = _call_repr(fn_name, lo, hi, workers)
            got = _call(ctx, what, lambda: fn(lo, hi, workers=workers), timeout)
        returned.append(_returned(got))
    ctx.observe("returned", returned)


# --------------------------------------------------------------------------
# completion_quality

def count_primes_known(ctx):
    """count_primes on ranges whose counts are well known ([lo, hi, expected])."""
    _record_counts(ctx, "count_primes", [[lo, hi] for lo, hi, _ in ctx.params["cases"]],
                   ctx.params["call_timeout"])


def count_primes_edges(ctx):
    """Empty and reversed ranges, numbers below 2, 2 itself, squares of primes."""
    _record_counts(ctx, "count_primes", ctx.params["cases"], ctx.params["call_timeout"])


def parallel_even_splits(ctx):
    """parallel_count_primes when hi - lo splits evenly into the chunks."""
    _record_counts(ctx, "parallel_count_primes", ctx.params["cases"], ctx.params["call_timeout"])


def parallel_uneven_splits(ctx):
    """Remainders at the chunk edges, and more workers than numbers in the range."""
    _record_counts(ctx, "parallel_count_primes", ctx.params["cases"], ctx.params["call_timeout"])


def parallel_workers_default(ctx):
    """workers=1, workers=None and the argument left out, plus empty ranges."""
    _record_counts(ctx, "parallel_count_primes", ctx.params["cases"], ctx.params["call_timeout"])


# --------------------------------------------------------------------------
# problem_solving

def no_process_left(ctx):
    """The worker processes alive before the first call and right after each call (`before`, `left`)."""
    primes = ctx.student(MODULE)
    timeout = ctx.params["call_timeout"]
    ctx.observe("before", _live_workers(ctx))
    returned, left = [], []
    for lo, hi, workers in ctx.params["cases"]:
        what = _call_repr("parallel_count_primes", lo, hi, workers)
        got = _call(ctx, what, lambda: primes.parallel_count_primes(lo, hi, workers=workers),
                    timeout)
        left.append(_live_workers(ctx))
        returned.append(_returned(got))
    ctx.observe("returned", returned)
    ctx.observe("left", left)


def work_in_worker_processes(ctx):
    """The CPU time of the child processes (os.times) and of this process during one call.

    os.times() counts a child's CPU time in children_user/children_system once the
    child has ended and been waited for (workers of a fork server: in the fork
    server's cutime/cstime). Threads, or a pool that computes nothing while the
    parent counts, leave those at zero and spend the CPU time in this process.
    """
    primes = ctx.student(MODULE)
    lo, hi, workers = ctx.params["lo"], ctx.params["hi"], ctx.params["workers"]
    what = _call_repr("parallel_count_primes", lo, hi, workers)
    clock = CpuClock()
    got = _call(ctx, what, lambda: primes.parallel_count_primes(lo, hi, workers=workers),
                ctx.params["call_timeout"])
    children, parent = clock.read()
    ctx.observe("returned", _returned(got))
    ctx.observe("children_cpu", children)
    ctx.observe("parent_cpu", parent)


def workers_run_at_once(ctx):
    """Polls the live worker processes during one call: the most alive at once, how many were seen."""
    primes = ctx.student(MODULE)
    lo, hi, workers = ctx.params["lo"], ctx.params["hi"], ctx.params["workers"]
    what = _call_repr("parallel_count_primes", lo, hi, workers)
    interval = ctx.params["poll_ms"] / 1000.0
    done = threading.Event()
    seen = {"max": 0, "pids": set(), "polls": 0}

    def sample():
        while not done.is_set():
            try:
                pids = _live_workers(ctx)
            except Exception as exc:  # a grader fault must not pass for a student's one
                seen["error"] = exc
                return
            seen["polls"] += 1
            seen["pids"].update(pids)
            seen["max"] = max(seen["max"], len(pids))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, name="children-sampler", daemon=True)
    sampler.start()
    try:
        got = _call(ctx, what, lambda: primes.parallel_count_primes(lo, hi, workers=workers),
                    ctx.params["call_timeout"])
    finally:
        done.set()
        sampler.join()
    if "error" in seen:
        raise RuntimeError(f"grader: listing the worker processes failed: {seen['error']!r}")
    ctx.observe("returned", _returned(got))
    ctx.observe("max_alive", seen["max"])
    ctx.observe("pids_seen", len(seen["pids"]))
    ctx.observe("polls", seen["polls"])


# --------------------------------------------------------------------------
# performance (throughput)

def bench_parallel(ctx):
    """The timed workload: parallel_count_primes on a range, default workers."""
    primes = ctx.student(MODULE)
    lo, hi = ctx.params["lo"], ctx.params["hi"]
    expected = _true_count(lo, hi)
    fn = primes.parallel_count_primes

    def run():
        got = fn(lo, hi)
        if got != expected:
            ctx.fail(f"parallel_count_primes({lo}, {hi}): expected {expected}, got {got}",
                     hint="a fast wrong answer earns no performance points")

    return run
