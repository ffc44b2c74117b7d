"""The course's check library: check_urls(urls, workers, timeout) on a pool, the workloads and judgements
lab-1.1 (threads) and lab-1.2 (processes) share, with each lab's hints as parameters. Built on
grade_lib_urls (routes, the server's log, a CheckResult against its route).

Workloads take `call(ctx, what, fn, limit)`, the lab's own: fn() within `limit` s, (value, wall seconds).
Judgements take the lab's hints: "value", "order", "status", "wall" (see grade_lib_urls.expect_all_answered
and expect_errors_as_values).

Standard library only; nothing here imports the harness.
"""
import re

from grade_oracles import max_in_flight
from grade_lib_urls import (HINT_ONE_PER_URL, base, expect_all_answered, expect_answer, expect_errors_as_values,
                            expect_requested, expect_rows, expect_wall, log_of, observe_results, serve, serve_errors,
                            plan_errors, plan_table, server_log, shape, shown, url_key)

NAMES = ("check_url", "check_urls", "CheckResult")  # what the student's module defines
HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")
HINT_STATUS = ("a 404 or a 500 is an answer, not a failure: report resp.status_code with error None "
               "(do not call raise_for_status())")


def hints(order, wall):
    """A lab's hints for the judgements below: its own for the order of the results and the wall time,
    the shared ones for values and statuses."""
    return {"value": HINT_VALUE, "order": order, "status": HINT_STATUS, "wall": wall}


# --------------------------------------------------------------------------
# check_urls(urls, workers, timeout) on a pool (lab-1.1, lab-1.2): workloads. `call(ctx, what, fn, limit)`
# is the lab's: fn() within `limit` s, (value, wall seconds).

def run_all_statuses(ctx, mod, call):
    """check_urls on N URLs with mixed statuses and latencies (the judge's routes), the first `repeat` of
    them given again at the end; and check_urls([]). Records the results and what the server saw."""
    p = ctx.params
    got, _ = call(ctx, "check_urls([])", lambda: mod.check_urls([], workers=p["workers"]), p["call_limit"])
    ctx.observe("empty", shape(got))
    urls = serve(ctx)
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; workers=%d)" % (len(urls), p["repeat"], p["workers"])
    got, _ = call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                  p["call_limit"])
    observe_results(ctx, "results", got)
    ctx.observe("requests", log_of(ctx))


def run_errors_as_values(ctx, mod, call):
    """URLs that never answer, reset or are refused, among good ones (routes and order: the judge's)."""
    p = ctx.params
    urls = serve_errors(ctx)
    timeout = p["timeout"]
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; workers=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["workers"], timeout)
    got, _ = call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=timeout), p["call_limit"])
    observe_results(ctx, "results", got)


def run_wall_time(ctx, mod, call):
    """N URLs with workers >= N: records the wall time of check_urls, its results and the server's log."""
    p = ctx.params
    urls = serve(ctx)
    lats = [r["latency_ms"] for r in ctx.inputs["routes"]]
    what = "check_urls(%d URLs, latencies %d-%d ms, workers=%d)" % (len(urls), min(lats), max(lats), p["workers"])
    got, wall = call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                     p["call_limit"])
    ctx.observe("wall", wall)
    observe_results(ctx, "results", got)
    ctx.observe("requests", log_of(ctx))


def serve_bounded(ctx, module):
    """The start of `bounded`: the student's module (`module(ctx)`), the URLs of the judge's routes, served,
    and what the call is called."""
    mod = module(ctx)
    urls = serve(ctx)
    return mod, urls, "check_urls(%d URLs, workers=%d)" % (len(urls), ctx.params["workers"])


def run_check_urls(ctx, mod, call, urls, what, key="results"):
    """check_urls(urls, workers, timeout) once, its results recorded under `key`."""
    p = ctx.params
    got, _ = call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                  p["call_limit"])
    observe_results(ctx, key, got)


# --------------------------------------------------------------------------
# check_urls(urls, workers, timeout) on a pool (lab-1.1, lab-1.2): judgements. hints: "value", "order",
# "status", "wall" (see expect_all_answered, expect_errors_as_values).

def _pool_hints(hints):
    return dict(hints, one=HINT_ONE_PER_URL, timeout="pass timeout= to every request")


def results(j, got, urls, what):
    """The results as recorded by observe_results: a list of (url, status, error, elapsed), one per URL."""
    j.expect("list" in got, "%s returned a %s, not a list" % (what, got.get("type")),
             hint="return a list with one CheckResult per URL")
    rows = got["list"]
    expect_rows(j, rows, len(urls), what)
    j.expect(all(isinstance(r, list) and len(r) == 4 for r in rows),
             "%s: the run recorded results of an unexpected shape" % what)
    return [tuple(r) for r in rows]


def same_urls(j, res, urls, what):
    """Each URL given has its result (as many as it is given), whatever their order."""
    want = {}
    for u in urls:
        want[u] = want.get(u, 0) + 1
    for r in res:
        k = url_key(r[0])
        want[k] = want.get(k, 0) - 1
    missing = [u for u in urls if want[u] > 0]
    j.expect(not missing, "%s: no result for %s" % (what, missing[0] if missing else ""), hint=HINT_ONE_PER_URL)


def judge_all_statuses(j, hints):
    """all_statuses: check_urls([]) gave []; every result of the call on the repeated URLs (run_all_statuses)."""
    p = j.params
    empty = j.obs["empty"]
    j.expect(empty.get("list") == [], "check_urls([]) returned %s, expected []" % shown(empty))
    routes = j.inputs["routes"]
    urls = [base(j) + r["path"] for r in routes]
    route_of = dict(zip(urls, routes))
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; workers=%d)" % (len(urls), p["repeat"], p["workers"])
    res = results(j, j.obs["results"], urls, what)
    expect_all_answered(j, res, urls, route_of, server_log(j), what, _pool_hints(hints))


def judge_errors_as_values(j, hints):
    """errors_as_values: the refused, never-answering and resetting URLs are results with their error."""
    p = j.params
    got_base = base(j)
    refused = j.obs["refused"]
    j.expect(isinstance(refused, str) and re.fullmatch(r"http://127\.0\.0\.1:\d+/nobody-listens", refused),
             "the run recorded %r as the refused URL" % (refused,))
    routes = j.inputs["routes"]
    plan = [(refused, None) if i is None else (got_base + routes[i]["path"], routes[i]) for i in j.inputs["order"]]
    urls = [u for u, _ in plan]
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; workers=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["workers"], p["timeout"])
    res = results(j, j.obs["results"], urls, what)
    expect_errors_as_values(j, res, plan, what, _pool_hints(hints))


def judge_wall_time(j, hints):
    """wall_time: every result right, every URL requested, and the wall time near the slowest latency."""
    p = j.params
    routes = j.inputs["routes"]
    urls = [base(j) + r["path"] for r in routes]
    what = "check_urls(%d URLs, latencies %d-%d ms, workers=%d)" % (
        len(urls), min(r["latency_ms"] for r in routes), max(r["latency_ms"] for r in routes), p["workers"])
    by_url = {url_key(r[0]): r for r in results(j, j.obs["results"], urls, what)}
    for url, r in zip(urls, routes):
        j.expect(url in by_url, "%s: no result for %s" % (what, r["path"]))
        expect_answer(j, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]),
                      hints["status"])
    reqs = server_log(j)
    expect_requested(j, reqs, routes, what)
    expect_wall(j, [r["latency_ms"] / 1000.0 for r in routes], max_in_flight((s, e) for _, s, e in reqs), what,
                hints["wall"])


def judge_bounded(j):
    """bounded, the part both labs share: every URL has a result and was requested; (workers, what, the
    most requests the server saw in flight at once)."""
    w = j.params["workers"]
    urls = [base(j) + r["path"] for r in j.inputs["routes"]]
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), w)
    res = results(j, j.obs["results"], urls, what)
    same_urls(j, res, urls, what)
    reqs = server_log(j)
    expect_requested(j, reqs, j.inputs["routes"], what)
    return w, what, max_in_flight((s, e) for _, s, e in reqs)


def expect_bounded(j, peak, what, hint):
    """The server saw at most `workers` requests in flight at once."""
    w = j.params["workers"]
    j.expect(peak <= w, "%s: the server saw %d requests in flight at once; at most %d allowed" % (what, peak, w),
             hint=hint)


def expect_overlap(j, peak, what, hint):
    """The server saw at least `min_in_flight` requests in flight at once (the calls overlapped)."""
    p = j.params
    j.expect(peak >= p["min_in_flight"], "%s: the server never saw more than %d request(s) in flight at once; "
             "with workers=%d expected at least %d" % (what, peak, p["workers"], p["min_in_flight"]),
             hint=hint)


def judge_calls(j):
    """The two calls in a row of a workload that checks what each left behind: yields (attempt, what) after
    checking that call's results."""
    p = j.params
    urls = [base(j) + r["path"] for r in j.inputs["routes"]]
    for attempt in (1, 2):
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        res = results(j, j.obs["results_%d" % attempt], urls, what)
        same_urls(j, res, urls, what)
        yield attempt, what


# --------------------------------------------------------------------------
# the entry points both labs share, bound to a lab's own pieces

def workloads(module, call):
    """The workloads all_statuses, errors_as_values and wall_time for a lab's checks.py, in that order:
    each calls check_urls of the student's module (`module(ctx)`) through the lab's `call`. A checks.py
    takes them by name at its top level: `all_statuses, errors_as_values, wall_time = workloads(...)`."""
    def all_statuses(ctx):
        run_all_statuses(ctx, module(ctx), call)

    def errors_as_values(ctx):
        run_errors_as_values(ctx, module(ctx), call)

    def wall_time(ctx):
        run_wall_time(ctx, module(ctx), call)

    return all_statuses, errors_as_values, wall_time


def judgements(judge_module, hints):
    """The plans and judgements both labs share, for a lab's judge.py, in this order: plan_all_statuses,
    plan_errors_as_values, plan_wall_time, plan_bounded, the plan of the item that calls twice (lab-1.1's
    threads_finished, lab-1.2's no_orphans), all_statuses, errors_as_values, wall_time. They
    carry the judge's module name (`judge_module`: the judge's `__name__`), so the judge lists them as its
    own."""
    def plan_all_statuses(j):
        return plan_table(j)

    def plan_errors_as_values(j):
        return plan_errors(j)

    def plan_wall_time(j):
        return plan_table(j)

    def plan_bounded(j):
        return plan_table(j, [200])

    def plan_calls(j):
        return plan_table(j, [200, 404])

    def all_statuses(j):
        judge_all_statuses(j, hints)

    def errors_as_values(j):
        judge_errors_as_values(j, hints)

    def wall_time(j):
        judge_wall_time(j, hints)

    fns = (plan_all_statuses, plan_errors_as_values, plan_wall_time, plan_bounded, plan_calls, all_statuses,
           errors_as_values, wall_time)
    for f in fns:
        f.__module__ = judge_module
    return fns
