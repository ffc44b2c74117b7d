"""Judgements for lab-1.2, URL checker with processes (the workloads are in checks.py). Runs outside the
submission's process: the routes (statuses, latencies, failures, the order of the URLs) are planned here
from the run's seed, and every verdict comes from what the workload recorded: the results check_urls
returned, what the fixture server saw, the wall time and the processes."""
import grade_lib_pool as pool
import grade_lib_urls as lib

HINT_ORDER = "keep the results in input order: executor.map / pool.map do; imap_unordered and as_completed do not"
HINTS = pool.hints(order=HINT_ORDER,
                   wall=("start every request before waiting for any: a pool of `workers` processes, all busy at once "
                  "(pool.map, not apply() in a loop)"))


# --------------------------------------------------------------------------
# plans and judgements from grade_lib_pool, with this lab's hints; then problem_solving

(plan_all_statuses, plan_errors_as_values, plan_wall_time, plan_bounded, plan_no_orphans, all_statuses,
 errors_as_values, wall_time) = pool.judgements(__name__, HINTS)


def bounded(j):
    w, what, peak = pool.judge_bounded(j)
    procs = j.obs["processes"]
    n, pids = procs["n"], procs["pids"]
    j.expect(isinstance(n, int) and isinstance(pids, list),
             "the run recorded the worker processes in an unexpected shape")
    j.expect(n <= w, "%s: %d worker processes were alive at once (%d in all); at most %d allowed"
             % (what, n, len(pids), w),
             hint="one pool of `workers` processes (ProcessPoolExecutor(max_workers=workers)), not a process "
                  "per URL")
    pool.expect_bounded(j, peak, what, hint="one pool of `workers` processes, each checking one URL at a time")
    pool.expect_overlap(j, peak, what,
                       hint="submit every URL before waiting for any result (pool.map, or submit() them all "
                            "first); pool.apply() waits for each one")


def _procs(j, key):
    got = j.obs[key]
    live, zombies = got["live"], got["zombies"]
    j.expect(isinstance(live, list) and isinstance(zombies, list),
             "the run recorded the processes in an unexpected shape")
    return live, zombies


def no_orphans(j):
    p = j.params
    lib.base(j)
    live, zombies = _procs(j, "before")
    j.expect(not live and not zombies, "before the first call, %d child process(es) were alive and %d zombies "
             "(importing process_checker must not start processes)" % (len(live), len(zombies)),
             hint="start worker processes inside check_urls, not at import")
    for attempt, what in pool.judge_calls(j):
        live, zombies = _procs(j, "after_%d" % attempt)
        j.expect(not live, "%s returned, but %d worker process(es) were still alive %.1f s later: pids %s"
                 % (what, len(live), p["grace_s"], ", ".join(map(str, live[:6]))),
                 hint="use the pool in a with-block, or close() and join() it (terminate() and join()) before "
                      "returning; never keep a pool in a global between calls")
        j.expect(not zombies, "%s returned, but %d child process(es) had finished without being joined "
                 "(zombies): pids %s" % (what, len(zombies), ", ".join(map(str, zombies[:6]))),
                 hint="join() every Process you start (or use a pool in a with-block, which joins its workers)")
