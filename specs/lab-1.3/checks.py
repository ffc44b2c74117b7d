"""Workloads for lab-1.3, URL checker with asyncio (`async_checker.py`). Each records what check_urls
returned (and what the server saw, and the wall time); judge.py, which the submission never sees,
gives the verdicts.

The student's API is the docstring of starter/lab-1.3/async_checker.py: the coroutine function
check_urls(urls, limit, timeout) giving CheckResult(url, status, error, elapsed) values (check_url,
the per-URL coroutine, is the student's own building block: the grader only calls check_urls).

Every URL points at the grader's fixture HTTP server (ctx.http), whose routes the judge plans from
the item's params and the run's seed (ctx.inputs["routes"]): a status and a latency per URL, and
routes that never answer (`timeout`) or reset the connection (`reset`). What the server saw (each
request's arrival and answer) is recorded: the judge measures with it (how many were in flight at
once, how often each URL was requested); the student's own numbers are only compared with it.
Wall-time limits are generous ratios of the server's latencies.

Every call runs through ctx.run_async: a fresh event loop in debug mode, watched. A step of a task
that runs longer than `slow_ms` without yielding (requests or time.sleep inside a coroutine) fails
the item with the student's line; so do coroutines never awaited, task exceptions never retrieved
and tasks still pending when check_urls returns; a loop that can never wake is a deadlock at once,
one still running at `call_limit` a failure naming every task's line: these fail the run here.
Standard library only.
"""
import asyncio
import time

from grade_lib_student import student_module, where
from grade_lib_urls import log_of, serve, serve_errors
from grade_lib_values import json_safe

MODULE = "async_checker"
FIELDS = ("url", "status", "error", "elapsed")
HINT_VALUE = ("catch aiohttp's exceptions inside check_url and return them as values: asyncio.TimeoutError -> "
              "error 'timeout' (catch it first: aiohttp's ServerTimeoutError is also a ClientConnectionError), "
              "aiohttp.ClientConnectionError -> error 'connection'; then one bad URL cannot end asyncio.gather")


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    mod = student_module(ctx, MODULE, ("check_urls", "CheckResult"))
    ctx.expect(asyncio.iscoroutinefunction(mod.check_urls), "check_urls is not a coroutine function (async def)",
               hint="define it as `async def check_urls(urls, limit=10, timeout=5.0)`")
    return mod


def _run(ctx, mod, urls, limit, timeout, p, what):
    """check_urls(urls, limit, timeout) on a watched loop (ctx.run_async); (value, wall seconds).
    An exception out of check_urls fails the check with the student's line."""
    t0 = time.perf_counter()
    try:
        value = ctx.run_async(mod.check_urls, urls, limit, timeout, timeout=p["call_limit"],
                              slow_ms=p.get("slow_ms", 100))
    except ctx.CheckFailed as exc:
        exc.message = "%s: %s" % (what, exc.message)
        raise
    except Exception as exc:  # the student's exception, out of check_urls
        hint = "this is still the starter's stub: write it" if isinstance(exc, NotImplementedError) else HINT_VALUE
        ctx.fail("%s raised %s: %s%s" % (what, type(exc).__name__, exc, where(ctx, exc)), hint=hint)
    return value, time.perf_counter() - t0


def _row(r):
    """One CheckResult as the judge reads it: [url, status, error, elapsed], or what it lacks."""
    missing = [f for f in FIELDS if not hasattr(r, f)]
    if missing:
        return {"missing": missing, "repr": repr(r)[:200]}
    return [json_safe(v) for v in (r.url, r.status, r.error, r.elapsed)]


def _outcome(got):
    """What check_urls returned: its type, its repr and, for a list, each result's fields."""
    out = {"list": isinstance(got, list), "type": type(got).__name__, "repr": repr(got)[:300]}
    if isinstance(got, list):
        out["rows"] = [_row(r) for r in got]
    return out


# --------------------------------------------------------------------------
# completion_quality

def all_statuses(ctx):
    """check_urls([]), then check_urls on the judge's N URLs with mixed statuses and latencies, the first
    `repeat` of them given again at the end: what it returned, and what the server saw."""
    mod = _module(ctx)
    p = ctx.params
    got, _ = _run(ctx, mod, [], 1, p["timeout"], p, "check_urls([])")
    ctx.observe("empty", _outcome(got))
    urls = serve(ctx)
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; limit=%d)" % (len(urls), p["repeat"], p["limit"])
    got, _ = _run(ctx, mod, urls, p["limit"], p["timeout"], p, what)
    ctx.observe("results", _outcome(got))
    ctx.observe("requests", log_of(ctx))


def errors_as_values(ctx):
    """URLs that never answer, reset or are refused, among good ones, in the judge's order (`order`:
    indices into the routes, None for the refused URL): what check_urls returned."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve_errors(ctx)
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; limit=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["limit"], p["timeout"])
    got, _ = _run(ctx, mod, urls, p["limit"], p["timeout"], p, what)
    ctx.observe("results", _outcome(got))


# --------------------------------------------------------------------------
# performance

def wall_time(ctx):
    """N URLs with limit >= N: what check_urls returned, its wall time, and what the server saw."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    lats = [r["latency_ms"] for r in ctx.inputs["routes"]]
    what = "check_urls(%d URLs, latencies %d-%d ms, limit=%d)" % (len(urls), min(lats), max(lats), p["limit"])
    got, wall = _run(ctx, mod, urls, p["limit"], p["timeout"], p, what)
    ctx.observe("results", _outcome(got))
    ctx.observe("wall", wall)
    ctx.observe("requests", log_of(ctx))


# --------------------------------------------------------------------------
# problem_solving

def limit_respected(ctx):
    """limit < N: what check_urls returned and what the server saw (how many requests in flight at once)."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    what = "check_urls(%d URLs, limit=%d)" % (len(urls), p["limit"])
    got, _ = _run(ctx, mod, urls, p["limit"], p["timeout"], p, what)
    ctx.observe("results", _outcome(got))
    ctx.observe("requests", log_of(ctx))


def loop_clean(ctx):
    """A strict watch of the loop (slow_ms small): no step blocks it, no coroutine is left unawaited, no
    task pending or with an unretrieved exception when check_urls returns (each fails the run here);
    twice in a row, after a warm-up call. What each of the two calls returned is recorded (`calls`)."""
    mod = _module(ctx)
    p = ctx.params
    urls = serve(ctx)
    # A first call, not watched for blocking: aiohttp imports modules on its first request, which
    # holds the loop for tens of milliseconds (more on a loaded machine) whatever the student wrote.
    _run(ctx, mod, urls[:1], 1, p["timeout"], dict(p, slow_ms=60000), "check_urls(1 URL) (warm-up)")
    calls = []
    for attempt in (1, 2):
        what = "check_urls(%d URLs, limit=%d) (call %d)" % (len(urls), p["limit"], attempt)
        got, _ = _run(ctx, mod, urls, p["limit"], p["timeout"], p, what)
        calls.append(_outcome(got))
    ctx.observe("calls", calls)
