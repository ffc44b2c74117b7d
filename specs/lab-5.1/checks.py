"""Checks for lab-5.1: an asynchronous HTTP client (aiohttp).

The student's API is the docstring of starter/lab-5.1/async_client.py: FetchResult, fetch_url(session,
url, request_timeout) and fetch_all(urls, max_concurrent, request_timeout).

Every URL is a route of the grader's own HTTP server (ctx.http), generated per run from the run's seed:
its status, body and latency are known, and everything is measured from the server's side: how many
requests were in flight at once (the concurrency bound), how many TCP connections carried them (session
reuse), when a held request was given up (the per-request timeout). Every call of the student's code goes
through ctx.run_async, so a blocking call in a coroutine, a never-awaited coroutine, an unretrieved task
exception or a task left pending fails the item with the student's line.

The checks use only the standard library, except fetch_url's, which needs an aiohttp.ClientSession to
hand to the student: aiohttp is the lab's declared package (`packages: [aiohttp]`), so it is there.
"""
import asyncio
import heapq
import importlib
import time

# A step of a coroutine that runs longer than this without yielding is a blocking call (run_async's
# slow_ms). Above run_async's default of 100 ms: in debug mode, gathering 30 coroutines creates 30 tasks
# in one step, each recording where it was created, and on a loaded machine that step alone has taken
# over 100 ms. The routes that catch a blocking client answer after 300 ms or more.
SLOW_MS = 250

HINT_ORDER = "gather the coroutines in the order of `urls`: asyncio.gather returns results in that order"
HINT_BOUND = ("take an asyncio.Semaphore(max_concurrent) around each request (`async with sem:`), and start "
              "every request's coroutine at once (asyncio.gather) so that up to max_concurrent run together")
HINT_TIMEOUT = ("wrap each request, body included, in `async with asyncio.timeout(request_timeout):` inside "
                "the semaphore, and turn TimeoutError into a \"timeout\" result")
HINT_ERRORS = ("catch aiohttp.ClientError (and TimeoutError) in fetch_url and return a FetchResult with the "
               "error: one bad URL must not lose the other results")


def _network_errors():
    """The exceptions a request can raise (aiohttp's, the OS's, timeouts): a fetch that lets one escape
    loses results. Anything else (NotImplementedError, a TypeError) propagates to the harness, which
    names it with the student's line."""
    aiohttp = importlib.import_module("aiohttp")
    return (aiohttp.ClientError, OSError, TimeoutError)


def _module(ctx):
    mod = ctx.student("async_client")
    for name in ("FetchResult", "fetch_url", "fetch_all"):
        ctx.expect(hasattr(mod, name), "async_client.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return mod


# -- the generated URL tables -----------------------------------------------------------------------------

def _body(rng, i):
    tag = "%08x" % rng.getrandbits(32)
    kind = rng.randrange(3)
    if kind == 0:
        return "<html><body><p>item %d</p><p>%s</p></body></html>" % (i, tag)
    if kind == 1:
        return '{"item": %d, "tag": "%s"}' % (i, tag)
    return "item %d %s" % (i, tag)


class Table:
    """Routes with known answers: path -> (status, body) for answering routes, kind for the others."""

    def __init__(self):
        self.routes = []
        self.paths = []       # in the order the check passes the URLs
        self.expect = {}      # path -> ("ok", status, body) | ("hold",) | ("reset",)
        self.latency = {}     # path -> latency in ms (answering routes)

    def ok(self, path, status, body, latency_ms):
        self.routes.append({"path": path, "status": status, "body": body, "latency_ms": latency_ms})
        self.paths.append(path)
        self.expect[path] = ("ok", status, body)
        self.latency[path] = latency_ms

    def hold(self, path, slow_ms):
        self.routes.append({"path": path, "fail": {"with": "timeout", "slow_ms": slow_ms}})
        self.paths.append(path)
        self.expect[path] = ("hold",)

    def reset(self, path):
        self.routes.append({"path": path, "fail": {"with": "reset"}})
        self.paths.append(path)
        self.expect[path] = ("reset",)


def _fill(ctx, table, prefix, n, latency, statuses=(200, 200, 200, 201, 404, 410, 500, 503)):
    """n answering routes under prefix, statuses drawn from `statuses`, latency [lo, hi] ms drawn here."""
    rng = ctx.rng
    lo, hi = latency
    for i in range(n):
        path = "%s%d-%04x" % (prefix, i, rng.getrandbits(16))
        table.ok(path, rng.choice(statuses), _body(rng, i), round(rng.uniform(lo, hi), 1))


# -- running the student's code -----------------------------------------------------------------------------

def _fetch_all(ctx, mod, urls, limit, request_timeout, timeout, **kw):
    """fetch_all(urls, max_concurrent=limit, request_timeout=...) on a watched loop: (results, wall s)."""
    box = {}

    async def main():
        t0 = time.monotonic()
        box["results"] = await mod.fetch_all(list(urls), max_concurrent=limit, request_timeout=request_timeout)
        box["wall"] = time.monotonic() - t0

    ctx.run_async(main, timeout=timeout, slow_ms=ctx.params.get("slow_ms", SLOW_MS), **kw)
    got = box["results"]
    ctx.expect(isinstance(got, (list, tuple)), "fetch_all() returned %s, not a list of FetchResult"
               % type(got).__name__, hint="return the gathered results as a list")
    ctx.expect_eq(len(got), len(urls), "number of results from fetch_all() over %d URLs" % len(urls),
                  hint="one FetchResult per URL, in the order of `urls`")
    return list(got), box["wall"]


def _fields(ctx, r, what):
    for name in ("url", "status", "body", "error", "elapsed"):
        ctx.expect(hasattr(r, name), "%s: the result %r has no attribute %r" % (what, r, name),
                   hint="return FetchResult objects as the starter's docstring defines them")
    return r


def _expect_result(ctx, r, url, path, expect, latency=None, request_timeout=None):
    what = "result for %s" % path
    path = path.split(" ")[-1]
    _fields(ctx, r, what)
    ctx.expect(r.url == url, "%s: url is %r, not the URL at that position (%r): the results are out of order"
               % (what, r.url, url), hint=HINT_ORDER)
    kind = expect[0]
    if kind == "ok":
        status, body = expect[1], expect[2]
        if r.error is not None:
            extra = ""
            if r.error == "timeout" and latency is not None and request_timeout is not None:
                extra = (" although the server answers it in %.0f ms, well within request_timeout=%.1f s: its "
                         "timeout must start when the request gets its slot, not while it queues"
                         % (latency, request_timeout))
            ctx.fail("%s: error %r%s; the server answered %d" % (what, r.error, extra, status),
                     hint=HINT_TIMEOUT if extra else "a response with any status is a result with error None")
        ctx.expect(r.status == status, "%s: status %r, the server answered %d" % (what, r.status, status),
                   hint="status is response.status, whatever the code (an HTTP error status is still a response)")
        ctx.expect(r.body == body, "%s: body %r, the server sent %r" % (what, _short(r.body), _short(body)),
                   hint="body is `await response.text()`")
    elif kind == "hold":
        ctx.expect(r.status is None and r.error == "timeout",
                   "%s: the server never answers this URL; with request_timeout=%.1f s the result should have "
                   "status None and error \"timeout\", got status %r, error %r"
                   % (what, request_timeout, r.status, r.error), hint=HINT_TIMEOUT)
    elif kind == "reset":
        ctx.expect(r.status is None and isinstance(r.error, str) and r.error and r.error != "timeout",
                   "%s: the server resets this connection; the result should have status None and an error "
                   "describing the failure (not \"timeout\"), got status %r, error %r" % (what, r.status, r.error),
                   hint=HINT_ERRORS)


def _short(text, n=60):
    if not isinstance(text, str) or len(text) <= n:
        return text
    return text[:n] + "..."


def _check_table(ctx, got, urls, table, request_timeout=None):
    for r, url, path in zip(got, urls, table.paths):
        _expect_result(ctx, r, url, path, table.expect[path], table.latency.get(path), request_timeout)


def _once_each(ctx, table, reqs):
    counts = {}
    for r in reqs:
        counts[r["path"]] = counts.get(r["path"], 0) + 1
    for path in table.paths:
        if table.expect[path][0] == "reset":
            continue  # aiohttp itself retries a reset on a reused connection once
        n = counts.get(path, 0)
        ctx.expect(n == 1, "the server saw %d request(s) for %s: each URL must be fetched exactly once"
                   % (n, path), hint="one request per URL; no retries in this lab")


# -- items ------------------------------------------------------------------------------------------------

def results_correct(ctx):
    """In one run: fetch_url with the check's own session (statuses, bodies, a reset and a hang become
    results), then fetch_all over a generated table (statuses, slow routes, resets): every result right, in
    order, each URL fetched once. Then fetch_all([]) and a bad max_concurrent."""
    mod = _module(ctx)
    aiohttp = importlib.import_module("aiohttp")
    p = ctx.params
    u = p["fetch_url"]
    unit = Table()
    _fill(ctx, unit, "/u/", 3, u["latency_ms"], statuses=(200,))
    _fill(ctx, unit, "/u/", 3, u["latency_ms"], statuses=(404, 500, 503))
    unit.reset("/u/reset")
    unit.hold("/u/hold", u["hold_ms"])
    table = Table()
    _fill(ctx, table, "/r/", p["urls"], p["latency_ms"])
    _fill(ctx, table, "/r/slow-", p["slow_urls"], p["slow_latency_ms"])
    for i in range(p["resets"]):
        table.reset("/r/reset-%d" % i)
    ctx.rng.shuffle(table.paths)
    ctx.http.configure(unit.routes + table.routes)
    urls = [ctx.http.url(path) for path in table.paths]
    rt = u["request_timeout"]
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
            box["unit"] = await asyncio.gather(*(one(session, path) for path in unit.paths))
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
        except ValueError:
            box["raised"] = True
        except TimeoutError:
            box["hung"] = True

    # pending tasks are judged after the results, so that a lost result is named first
    ctx.run_async(main, timeout=p["timeout"], slow_ms=p.get("slow_ms", SLOW_MS), allow=("pending",))
    if "error" in box:
        exc = box["error"]
        ctx.fail("fetch_all() raised %s: %s over %d URLs, %d of which have their connection reset by the server: "
                 "the other URLs' results were lost" % (type(exc).__name__, exc, len(urls), p["resets"]),
                 hint=HINT_ERRORS)
    found = ctx.last_async.first_failure(set())
    if found:
        ctx.fail(found[0], found[1])

    for path, r, exc, took in box["unit"]:
        kind = unit.expect[path][0]
        if exc is not None:
            what = {"ok": "a URL answering %d" % unit.expect[path][1] if kind == "ok" else "",
                    "reset": "a URL whose connection the server resets",
                    "hold": "a URL the server never answers (request_timeout=%.1f s)" % rt}[kind]
            ctx.fail("fetch_url() raised %s: %s for %s: it must return a FetchResult instead"
                     % (type(exc).__name__, exc, what), hint=HINT_TIMEOUT if kind == "hold" else HINT_ERRORS)
        _expect_result(ctx, r, ctx.http.url(path), "fetch_url: " + path, unit.expect[path], unit.latency.get(path),
                       rt)
        if kind == "hold":
            ctx.expect(took <= rt + u["slack_s"], "fetch_url() on a URL that never answers took %.2f s to return "
                       "with request_timeout=%.1f s" % (took, rt), hint=HINT_TIMEOUT)
            ctx.expect(rt * 0.8 <= r.elapsed <= rt + u["slack_s"], "fetch_url: the timeout result's elapsed is "
                       "%.3f s; the request was given up after about %.1f s" % (r.elapsed, rt),
                       hint="elapsed = time.monotonic() at the result minus time.monotonic() at the start")
    ctx.expect(not box["closed"], "fetch_url() closed the session it was given: the caller owns it",
               hint="use the session (session.get), never `async with session:` inside fetch_url")

    got = box["results"]
    ctx.expect(isinstance(got, (list, tuple)), "fetch_all() returned %s, not a list of FetchResult"
               % type(got).__name__, hint="return the gathered results as a list")
    ctx.expect_eq(len(got), len(urls), "number of results from fetch_all() over %d URLs" % len(urls),
                  hint="one FetchResult per URL, in the order of `urls`")
    _check_table(ctx, got, urls, table)
    _once_each(ctx, table, ctx.http.requests("/r/"))
    ctx.expect(list(box["empty"]) == [], "fetch_all([]) returned %r, not []" % (box["empty"],))
    ctx.expect(not box.get("hung"), "fetch_all(urls, max_concurrent=0) hung instead of raising ValueError",
               hint="check max_concurrent >= 1 before fetching anything: asyncio.Semaphore(0) never lets anyone in")
    ctx.expect(box.get("raised"), "fetch_all(urls, max_concurrent=0) did not raise ValueError",
               hint="check max_concurrent >= 1 before fetching anything")


def concurrency_bound(ctx):
    """Server-side: never more than max_concurrent requests in flight, and that many at the peak."""
    mod = _module(ctx)
    p = ctx.params
    limits = [ctx.rng.choice(p["small_limits"]), ctx.rng.choice(p["large_limits"])]
    tables = []
    routes = []
    for run, _ in enumerate(limits):
        t = Table()
        _fill(ctx, t, "/c%d/" % run, p["urls"], p["latency_ms"], statuses=(200,))
        tables.append(t)
        routes += t.routes
    ctx.http.configure(routes)
    for run, limit in enumerate(limits):
        t = tables[run]
        urls = [ctx.http.url(path) for path in t.paths]
        got, _ = _fetch_all(ctx, mod, urls, limit, p["request_timeout"], p["timeout"])
        _check_table(ctx, got, urls, t)
        reqs = ctx.http.requests("/c%d/" % run)
        peak = ctx.http.max_concurrent(reqs)
        ctx.expect(peak <= limit, "with max_concurrent=%d the server saw %d requests in flight at once"
                   % (limit, peak), hint=HINT_BOUND)
        ctx.expect(peak >= limit, "with max_concurrent=%d over %d URLs the server never saw more than %d "
                   "request(s) in flight at once: the requests are not (fully) concurrent" % (limit, len(urls), peak),
                   hint=HINT_BOUND)


def timeouts(ctx):
    """Routes that never answer become "timeout" results after about request_timeout; the rest are right."""
    mod = _module(ctx)
    p = ctx.params
    rt, limit = p["request_timeout"], p["limit"]
    table = Table()
    _fill(ctx, table, "/t/", p["urls"], p["latency_ms"], statuses=(200, 200, 404, 503))
    holds = ["/t/hold-%d" % i for i in range(p["holds"])]
    for path in holds:
        table.hold(path, p["hold_ms"])
    # the held URLs go among the first max_concurrent, so they take slots while the rest queue
    rest = table.paths[:p["urls"]]
    first = rest[:limit - len(holds)] + holds
    ctx.rng.shuffle(first)
    table.paths = first + rest[limit - len(holds):]
    ctx.http.configure(table.routes)
    urls = [ctx.http.url(path) for path in table.paths]
    got, _ = _fetch_all(ctx, mod, urls, limit, rt, p["timeout"])
    _check_table(ctx, got, urls, table, rt)
    for r, path in zip(got, table.paths):
        if path in holds:
            ctx.expect(rt * 0.8 <= r.elapsed <= rt + p["slack_s"], "the timeout result for %s has elapsed %.3f s; "
                       "with request_timeout=%.1f s it should be about that" % (path, r.elapsed, rt),
                       hint="elapsed = time.monotonic() at the result minus time.monotonic() when the request started")
    for r in ctx.http.requests("/t/hold-"):
        held = (r["end_ms"] - r["start_ms"]) / 1000.0 if r["end_ms"] is not None else None
        ctx.expect(held is not None and held <= rt + p["slack_s"],
                   "the server held %s for %s before the client gave up; request_timeout=%.1f s"
                   % (r["path"], "%.2f s" % held if held is not None else "ever", rt), hint=HINT_TIMEOUT)
    _once_each(ctx, table, ctx.http.requests())


def session_reuse(ctx):
    """One ClientSession for the whole call: the requests ride on a few kept-alive connections."""
    mod = _module(ctx)
    p = ctx.params
    table = Table()
    _fill(ctx, table, "/s/", p["urls"], p["latency_ms"], statuses=(200,))
    ctx.http.configure(table.routes)
    urls = [ctx.http.url(path) for path in table.paths]
    limit = p["limit"]
    got, _ = _fetch_all(ctx, mod, urls, limit, p["request_timeout"], p["timeout"])
    _check_table(ctx, got, urls, table)
    conns = {r["connection"] for r in ctx.http.requests()}
    bound = p["connections_per_slot"] * limit
    ctx.expect(len(conns) <= bound, "%d requests with max_concurrent=%d came over %d TCP connections (at most %d "
               "expected): the connections are not reused" % (len(urls), limit, len(conns), bound),
               hint="create ONE aiohttp.ClientSession in fetch_all and pass it to every fetch_url; a session per "
                    "request opens (and closes) a connection per request")




def elapsed_per_request(ctx):
    """Each result's elapsed is its own request's time, from when it got its slot: URLs of one latency,
    several times more than max_concurrent, so that most of them wait for a slot (the last ones for
    several latencies). The server measures how long it held each request; a client's elapsed covers
    that and little more. An elapsed that also counts the wait for a slot is many latencies long."""
    mod = _module(ctx)
    p = ctx.params
    limit, lat = p["limit"], p["latency_ms"]
    table = Table()
    _fill(ctx, table, "/e/", p["urls"], [lat, lat], statuses=(200,))
    ctx.http.configure(table.routes)
    urls = [ctx.http.url(path) for path in table.paths]
    got, _ = _fetch_all(ctx, mod, urls, limit, p["request_timeout"], p["timeout"])
    _check_table(ctx, got, urls, table)
    reqs = {r["path"]: r for r in ctx.http.requests("/e/")}
    first = min(r["start_ms"] for r in reqs.values())
    worst = None
    for r, path in zip(got, table.paths):
        req = reqs.get(path)
        if req is None or req["end_ms"] is None:
            continue
        served = (req["end_ms"] - req["start_ms"]) / 1000.0
        queued = (req["start_ms"] - first) / 1000.0
        ctx.expect(isinstance(r.elapsed, (int, float)) and r.elapsed >= 0.8 * served - 0.005,
                   "result for %s: elapsed %r s, but the server alone took %.3f s to answer it: elapsed must "
                   "cover the whole request" % (path, r.elapsed, served),
                   hint="elapsed = time.monotonic() at the result minus time.monotonic() when the request "
                        "started, in seconds")
        excess = r.elapsed - served
        if excess > p["slack_s"] + p["slack_ratio"] * served and (worst is None or excess > worst[0]):
            worst = (excess, path, r.elapsed, served, queued)
    if worst:
        excess, path, elapsed, served, queued = worst
        ctx.fail("fetch_all over %d URLs of %.0f ms with max_concurrent=%d: the result for %s has elapsed %.3f s, "
                 "but the server held that request only %.3f s, and it reached the server %.3f s after the first "
                 "one: elapsed counts the wait for a concurrency slot. It must run from when the request got its "
                 "slot to its result" % (len(urls), lat, limit, path, elapsed, served, queued),
                 hint="start the clock inside `async with sem:` (in fetch_url, or right after taking the slot), "
                      "not before waiting for the semaphore")


def _list_schedule(latencies, slots):
    """Makespan when each job, in order, starts as soon as one of `slots` frees (a semaphore's FIFO)."""
    free = [0.0] * slots
    for lat in latencies:
        start = heapq.heappop(free)
        heapq.heappush(free, start + lat)
    return max(free)


def speed(ctx):
    """Server-side makespan against the best possible schedule: a slot that frees takes the next URL at
    once (no waiting for a whole batch to finish)."""
    mod = _module(ctx)
    p = ctx.params
    limit = p["limit"]
    table = Table()
    # one slow URL in every batch of `limit`: a batch-at-a-time client waits for it each time
    n = p["urls"]
    slow = set(range(0, n, limit))
    for i in range(n):
        path = "/p/%d-%04x" % (i, ctx.rng.getrandbits(16))
        table.ok(path, 200, _body(ctx.rng, i), p["slow_url_ms"] if i in slow else p["fast_url_ms"])
    ctx.http.configure(table.routes)
    urls = [ctx.http.url(path) for path in table.paths]
    got, _ = _fetch_all(ctx, mod, urls, limit, p["request_timeout"], p["timeout"])
    _check_table(ctx, got, urls, table)
    reqs = ctx.http.requests()
    ends = [r["end_ms"] for r in reqs if r["end_ms"] is not None]
    makespan = (max(ends) - min(r["start_ms"] for r in reqs)) / 1000.0
    best = _list_schedule([table.latency[path] for path in table.paths], limit) / 1000.0
    bound = best * p["factor"] + p["slack_s"]
    ctx.expect(makespan <= bound, "%d URLs (%d of %.0f ms, the rest %.0f ms) with max_concurrent=%d took %.3f s from "
               "the first request to the last answer, the server measured; URLs taken in order by the first free slot "
               "would need %.3f s (limit %.3f s)" % (n, len(slow), p["slow_url_ms"], p["fast_url_ms"], limit,
                                                     makespan, best, bound),
               hint="start every URL's coroutine at once behind one semaphore, so a freed slot takes the next URL "
                    "at once; gathering batch after batch waits for the slowest URL of each batch")
