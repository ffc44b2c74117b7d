"""Workloads for lab-5.1: an asynchronous HTTP client (aiohttp). Each records what the student's code
returned and what the grader's HTTP server saw (ctx.observe); judge.py, which the submission never sees,
gives the verdicts.

The student's API is the docstring of starter/lab-5.1/async_client.py: FetchResult, fetch_url(session,
url, request_timeout) and fetch_all(urls, max_concurrent, request_timeout).

Every URL is a route of the grader's own HTTP server (ctx.http), generated per run by the judge
(plan_<check>: the routes with their statuses, bodies and latencies, and the order of the URLs). The
server measures from its side: when each request arrived and was answered (the concurrency bound, the
per-request timeout, the makespan) and over which TCP connection (session reuse); the workload records
that list of requests. Every call of the student's code goes through ctx.run_async, so a blocking call in
a coroutine, a never-awaited coroutine, an unretrieved task exception or a task left pending fails the
item with the student's line.

The checks use only the standard library, except fetch_url's, which needs an aiohttp.ClientSession to
hand to the student: aiohttp is the lab's declared package (`packages: [aiohttp]`), so it is there.
"""
import asyncio
import importlib
import math
import time

from grade_lib_student import student_module

# A step of a coroutine that runs longer than this without yielding is a blocking call (run_async's
# slow_ms). Above run_async's default of 100 ms: in debug mode, gathering 30 coroutines creates 30 tasks
# in one step, each recording where it was created, and on a loaded machine that step alone has taken
# over 100 ms. The routes that catch a blocking client answer after 300 ms or more.
SLOW_MS = 250

FIELDS = ("url", "status", "body", "error", "elapsed")


def _network_errors():
    """The exceptions a request can raise (aiohttp's, the OS's, timeouts): a fetch that lets one escape
    loses results. Anything else (NotImplementedError, a TypeError) propagates to the harness, which
    names it with the student's line."""
    aiohttp = importlib.import_module("aiohttp")
    return (aiohttp.ClientError, OSError, TimeoutError)


def _module(ctx):
    return student_module(ctx, "async_client", ("FetchResult", "fetch_url", "fetch_all"))


# -- recording ----------------------------------------------------------------------------------------------

def _short(text, n=60):
    if not isinstance(text, str) or len(text) <= n:
        return text
    return text[:n] + "..."


def _repr(value, n=200):
    try:
        return repr(value)[:n]
    except Exception:   # a student's object whose repr raises
        return "<%s>" % type(value).__name__


def _result(r):
    """One FetchResult as recorded: each field's value (a str, a number or None as it is; anything else as
    {"object": its repr}, so that no other value passes for one of these) and repr, the fields it lacks,
    and the short form of its body the messages show."""
    rec = {"repr": _repr(r), "missing": [name for name in FIELDS if not hasattr(r, name)]}
    for name in FIELDS:
        if name not in rec["missing"]:
            v = getattr(r, name)
            plain = isinstance(v, (str, int, type(None))) or (isinstance(v, float) and math.isfinite(v))
            rec[name] = v if plain else {"object": _repr(v)}
            rec[name + "_repr"] = _repr(v)
    if "body" not in rec["missing"]:
        rec["body_short"] = _repr(_short(r.body), 400)
    return rec


def _results(got):
    """What fetch_all() returned: its type and, for a list or tuple, each result recorded."""
    if not isinstance(got, (list, tuple)):
        return {"type": type(got).__name__, "results": None}
    return {"type": type(got).__name__, "results": [_result(r) for r in got]}


def _requests(ctx, prefix=None):
    """The requests the server saw: [path, start_ms, end_ms (None: never answered), connection]."""
    return [[r["path"], r["start_ms"], r["end_ms"], r["connection"]] for r in ctx.http.requests(prefix)]


def _configure(ctx, *tables):
    """Configures the server with the judge's tables; the URLs of each table, in its order."""
    ctx.http.configure([route for t in tables for route in t["routes"]])
    return [[ctx.http.url(path) for path in t["paths"]] for t in tables]


# -- running the student's code -----------------------------------------------------------------------------

def _fetch_all(ctx, mod, urls, limit, request_timeout, timeout, **kw):
    """fetch_all(urls, max_concurrent=limit, request_timeout=...) on a watched loop: what it returned."""
    box = {}

    async def main():
        box["results"] = await mod.fetch_all(list(urls), max_concurrent=limit, request_timeout=request_timeout)

    ctx.run_async(main, timeout=timeout, slow_ms=ctx.params.get("slow_ms", SLOW_MS), **kw)
    return box["results"]


# -- items ------------------------------------------------------------------------------------------------

def results_correct(ctx):
    """In one run: fetch_url with the check's own session over the judge's `unit` table (statuses, bodies,
    a reset and a hang), then fetch_all over its `table` (statuses, slow routes, resets), then fetch_all([])
    and a bad max_concurrent. Records every result, the requests the server saw, whether the session was
    closed, and how fetch_all ended."""
    mod = _module(ctx)
    aiohttp = importlib.import_module("aiohttp")
    p = ctx.params
    unit, table = ctx.inputs["unit"], ctx.inputs["table"]
    _, urls = _configure(ctx, unit, table)
    rt = p["fetch_url"]["request_timeout"]
    box = {}

    async def one(session, path):
        t0 = time.monotonic()
        try:
            r = await mod.fetch_url(session, ctx.http.url(path), rt)
        except _network_errors() as exc:
            return path, None, exc, time.monotonic() - t0
        return path, r, None, time.monotonic() - t0

    async def fetch_url_part():
        async with aiohttp.ClientSession() as session:
            box["unit"] = await asyncio.gather(*(one(session, path) for path in unit["paths"]))
            box["closed"] = session.closed

    async def fetch_all_part():
        try:
            box["results"] = await mod.fetch_all(urls, max_concurrent=p["limit"], request_timeout=p["request_timeout"])
        except _network_errors() as exc:
            box["error"] = exc

    async def main():
        # one after the other: a submission that floods the loop (no bound) must not make the check's own
        # fetch_url calls time out
        await fetch_url_part()
        await fetch_all_part()
        if "error" in box:
            return
        box["empty"] = await mod.fetch_all([], max_concurrent=p["limit"], request_timeout=p["request_timeout"])
        try:
            await asyncio.wait_for(mod.fetch_all(urls[:1], max_concurrent=0), p["bad_limit_wait_s"])
            box["bad_limit"] = "returned"
        except ValueError:
            box["bad_limit"] = "raised"
        except TimeoutError:
            box["bad_limit"] = "hung"

    # pending tasks are judged after the results, so that a lost result is named first
    ctx.run_async(main, timeout=p["timeout"], slow_ms=p.get("slow_ms", SLOW_MS), allow=("pending",))
    ctx.observe("urls", urls)
    exc = box.get("error")
    ctx.observe("fetch_all_raised", None if exc is None else "%s: %s" % (type(exc).__name__, exc))
    found = ctx.last_async.first_failure(set())
    ctx.observe("async", None if found is None else [found[0], found[1]])
    ctx.observe("unit", [{"path": path, "url": ctx.http.url(path),
                          "raised": None if e is None else "%s: %s" % (type(e).__name__, e),
                          "result": None if r is None else _result(r), "took": took}
                         for path, r, e, took in box["unit"]])
    ctx.observe("closed", box["closed"])
    if exc is not None:
        return
    ctx.observe("results", _results(box["results"]))
    ctx.observe("requests", _requests(ctx, "/r/"))
    empty = box["empty"]
    try:
        items = [_repr(x) for x in empty]
    except TypeError:
        items = None
    ctx.observe("empty", {"items": items, "repr": _repr(empty)})
    ctx.observe("bad_limit", box["bad_limit"])


def concurrency_bound(ctx):
    """fetch_all over the judge's tables, one per max_concurrent (a small one, then a large one): the
    results and the requests the server saw, per call."""
    mod = _module(ctx)
    p = ctx.params
    runs = ctx.inputs["runs"]
    all_urls = _configure(ctx, *[run["table"] for run in runs])
    out = []
    for i, (run, urls) in enumerate(zip(runs, all_urls)):
        # A blocking client is results-correct's finding; here it fails by what the server saw (one request
        # in flight at a time), whatever the latency drawn (a request of 250 ms blocks the loop past SLOW_MS).
        got = _fetch_all(ctx, mod, urls, run["limit"], p["request_timeout"], p["timeout"], allow=("blocking",))
        out.append({"urls": urls, "results": _results(got), "requests": _requests(ctx, "/c%d/" % i)})
        ctx.observe("runs", out)


def timeouts(ctx):
    """fetch_all over the judge's table, whose held URLs (the server never answers) come among the first
    max_concurrent: the results and the requests the server saw (when it gave up on the held ones)."""
    mod = _module(ctx)
    p = ctx.params
    (urls,) = _configure(ctx, ctx.inputs["table"])
    got = _fetch_all(ctx, mod, urls, p["limit"], p["request_timeout"], p["timeout"])
    ctx.observe("urls", urls)
    ctx.observe("results", _results(got))
    ctx.observe("requests", _requests(ctx))


def session_reuse(ctx):
    """fetch_all over the judge's table: the results and the TCP connection of every request."""
    mod = _module(ctx)
    p = ctx.params
    (urls,) = _configure(ctx, ctx.inputs["table"])
    got = _fetch_all(ctx, mod, urls, p["limit"], p["request_timeout"], p["timeout"])
    ctx.observe("urls", urls)
    ctx.observe("results", _results(got))
    ctx.observe("requests", _requests(ctx))


def elapsed_per_request(ctx):
    """fetch_all over URLs of one latency, several times more than max_concurrent, so that most of them
    wait for a slot (the last ones for several latencies): the results (their elapsed) and how long the
    server held each request."""
    mod = _module(ctx)
    p = ctx.params
    (urls,) = _configure(ctx, ctx.inputs["table"])
    got = _fetch_all(ctx, mod, urls, p["limit"], p["request_timeout"], p["timeout"])
    ctx.observe("urls", urls)
    ctx.observe("results", _results(got))
    ctx.observe("requests", _requests(ctx, "/e/"))


def speed(ctx):
    """fetch_all over the judge's table (one slow URL in every batch of max_concurrent): the results and
    when the server saw each request arrive and end (the judge compares the makespan with the best
    in-order schedule)."""
    mod = _module(ctx)
    p = ctx.params
    (urls,) = _configure(ctx, ctx.inputs["table"])
    got = _fetch_all(ctx, mod, urls, p["limit"], p["request_timeout"], p["timeout"])
    ctx.observe("urls", urls)
    ctx.observe("results", _results(got))
    ctx.observe("requests", _requests(ctx))
