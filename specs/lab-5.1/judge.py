"""Judgements for lab-5.1 (the workloads are in checks.py). Runs outside the submission's process: the
URL tables (routes with their statuses, bodies and latencies, and the order of the URLs) are planned here,
and every verdict comes from the results the workload recorded and the requests the grader's HTTP server
saw (path, arrival and answer in ms, TCP connection)."""
import heapq

from grade_oracles import max_in_flight

HINT_ORDER = "gather the coroutines in the order of `urls`: asyncio.gather returns results in that order"
HINT_BOUND = ("take an asyncio.Semaphore(max_concurrent) around each request (`async with sem:`), and start "
              "every request's coroutine at once (asyncio.gather) so that up to max_concurrent run together")
HINT_TIMEOUT = ("wrap each request, body included, in `async with asyncio.timeout(request_timeout):` inside "
                "the semaphore, and turn TimeoutError into a \"timeout\" result")
HINT_ERRORS = ("catch aiohttp.ClientError (and TimeoutError) in fetch_url and return a FetchResult with the "
               "error: one bad URL must not lose the other results")
FIELDS = ("url", "status", "body", "error", "elapsed")


# -- the generated URL tables -----------------------------------------------------------------------------

def _body(rng, i):
    tag = "%08x" % rng.getrandbits(32)
    kind = rng.randrange(3)
    if kind == 0:
        return "<html><body><p>item %d</p><p>%s</p></body></html>" % (i, tag)
    if kind == 1:
        return '{"item": %d, "tag": "%s"}' % (i, tag)
    return "item %d %s" % (i, tag)


class _Table:
    """Routes with known answers, built by a plan; the workload gets {"routes", "paths"}."""

    def __init__(self):
        self.routes = []
        self.paths = []       # in the order the check passes the URLs

    def ok(self, path, status, body, latency_ms):
        self.routes.append({"path": path, "status": status, "body": body, "latency_ms": latency_ms})
        self.paths.append(path)

    def hold(self, path, slow_ms):
        self.routes.append({"path": path, "fail": {"with": "timeout", "slow_ms": slow_ms}})
        self.paths.append(path)

    def reset(self, path):
        self.routes.append({"path": path, "fail": {"with": "reset"}})
        self.paths.append(path)

    def data(self):
        return {"routes": self.routes, "paths": self.paths}


def _fill(rng, table, prefix, n, latency, statuses=(200, 200, 200, 201, 404, 410, 500, 503)):
    """n answering routes under prefix, statuses drawn from `statuses`, latency [lo, hi] ms drawn here."""
    lo, hi = latency
    for i in range(n):
        path = "%s%d-%04x" % (prefix, i, rng.getrandbits(16))
        table.ok(path, rng.choice(statuses), _body(rng, i), round(rng.uniform(lo, hi), 1))


def _expected(table):
    """path -> (("ok", status, body) | ("hold",) | ("reset",), latency in ms or None), from a planned table."""
    out = {}
    for route in table["routes"]:
        fail = route.get("fail")
        if fail is None:
            out[route["path"]] = (("ok", route["status"], route["body"]), route["latency_ms"])
        else:
            out[route["path"]] = (("hold",) if fail["with"] == "timeout" else ("reset",), None)
    return out


# -- judging results --------------------------------------------------------------------------------------

def _short(text, n=60):
    if not isinstance(text, str) or len(text) <= n:
        return text
    return text[:n] + "..."


def _number(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _planned_urls(j, urls, paths):
    """The URLs the workload passed are the planned paths on the run's server, in the planned order."""
    j.expect(isinstance(urls, list) and len(urls) == len(paths)
             and all(isinstance(u, str) and u.endswith(p) for u, p in zip(urls, paths)),
             "the run's URLs are not the ones planned for it")


def _result_list(j, rec, n):
    """fetch_all()'s recorded return value: a list (or tuple) of n results."""
    j.expect(rec["results"] is not None, "fetch_all() returned %s, not a list of FetchResult" % rec["type"],
             hint="return the gathered results as a list")
    j.expect_eq(len(rec["results"]), n, "number of results from fetch_all() over %d URLs" % n,
                hint="one FetchResult per URL, in the order of `urls`")
    return rec["results"]


def _expect_result(j, r, url, label, expect, latency=None, request_timeout=None):
    what = "result for %s" % label
    for name in FIELDS:
        j.expect(name not in r["missing"], "%s: the result %s has no attribute %r" % (what, r["repr"], name),
                 hint="return FetchResult objects as the starter's docstring defines them")
    j.expect(r["url"] == url, "%s: url is %s, not the URL at that position (%r): the results are out of order"
             % (what, r["url_repr"], url), hint=HINT_ORDER)
    kind = expect[0]
    if kind == "ok":
        status, body = expect[1], expect[2]
        if r["error"] is not None:
            extra = ""
            if r["error"] == "timeout" and latency is not None and request_timeout is not None:
                extra = (" although the server answers it in %.0f ms, well within request_timeout=%.1f s: its "
                         "timeout must start when the request gets its slot, not while it queues"
                         % (latency, request_timeout))
            j.fail("%s: error %s%s; the server answered %d" % (what, r["error_repr"], extra, status),
                   hint=HINT_TIMEOUT if extra else "a response with any status is a result with error None")
        j.expect(_number(r["status"]) is not None and r["status"] == status,
                 "%s: status %s, the server answered %d" % (what, r["status_repr"], status),
                 hint="status is response.status, whatever the code (an HTTP error status is still a response)")
        j.expect(isinstance(r["body"], str) and r["body"] == body,
                 "%s: body %s, the server sent %r" % (what, r["body_short"], _short(body)),
                 hint="body is `await response.text()`")
    elif kind == "hold":
        j.expect(r["status"] is None and r["error"] == "timeout",
                 "%s: the server never answers this URL; with request_timeout=%.1f s the result should have "
                 "status None and error \"timeout\", got status %s, error %s"
                 % (what, request_timeout, r["status_repr"], r["error_repr"]), hint=HINT_TIMEOUT)
    elif kind == "reset":
        j.expect(r["status"] is None and isinstance(r["error"], str) and r["error"] and r["error"] != "timeout",
                 "%s: the server resets this connection; the result should have status None and an error "
                 "describing the failure (not \"timeout\"), got status %s, error %s"
                 % (what, r["status_repr"], r["error_repr"]), hint=HINT_ERRORS)


def _check_table(j, results, urls, table, request_timeout=None):
    expected = _expected(table)
    for r, url, path in zip(results, urls, table["paths"]):
        expect, latency = expected[path]
        _expect_result(j, r, url, path, expect, latency, request_timeout)


def _once_each(j, table, reqs):
    counts = {}
    for path, _, _, _ in reqs:
        counts[path] = counts.get(path, 0) + 1
    expected = _expected(table)
    for path in table["paths"]:
        if expected[path][0][0] == "reset":
            continue  # aiohttp itself retries a reset on a reused connection once
        n = counts.get(path, 0)
        j.expect(n == 1, "the server saw %d request(s) for %s: each URL must be fetched exactly once"
                 % (n, path), hint="one request per URL; no retries in this lab")


def _max_concurrent(reqs):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    return max_in_flight((start, end) for _, start, end, _ in reqs)


def _deferred(j, failure):
    if failure:
        j.fail(failure[0], failure[1])


# -- items ------------------------------------------------------------------------------------------------

def plan_results_correct(j):
    p, rng = j.params, j.rng
    u = p["fetch_url"]
    unit = _Table()
    _fill(rng, unit, "/u/", 3, u["latency_ms"], statuses=(200,))
    _fill(rng, unit, "/u/", 3, u["latency_ms"], statuses=(404, 500, 503))
    unit.reset("/u/reset")
    unit.hold("/u/hold", u["hold_ms"])
    table = _Table()
    _fill(rng, table, "/r/", p["urls"], p["latency_ms"])
    _fill(rng, table, "/r/slow-", p["slow_urls"], p["slow_latency_ms"])
    for i in range(p["resets"]):
        table.reset("/r/reset-%d" % i)
    rng.shuffle(table.paths)
    return {"unit": unit.data(), "table": table.data()}


def results_correct(j):
    p, o = j.params, j.obs
    unit, table = j.inputs["unit"], j.inputs["table"]
    u = p["fetch_url"]
    rt = u["request_timeout"]
    urls = o["urls"]
    _planned_urls(j, urls, table["paths"])
    if o["fetch_all_raised"]:
        j.fail("fetch_all() raised %s over %d URLs, %d of which have their connection reset by the server: "
               "the other URLs' results were lost" % (o["fetch_all_raised"], len(urls), p["resets"]),
               hint=HINT_ERRORS)
    _deferred(j, o["async"])

    expected = _expected(unit)
    entries = o["unit"]
    j.expect([e["path"] for e in entries] == unit["paths"], "the fetch_url() calls recorded are not the planned ones")
    for e in entries:
        path = e["path"]
        j.expect(isinstance(e["url"], str) and e["url"].endswith(path),
                 "the run's URLs are not the ones planned for it")
        (expect, latency), kind = expected[path], expected[path][0][0]
        if e["raised"] is not None:
            what = {"ok": "a URL answering %d" % expect[1] if kind == "ok" else "",
                    "reset": "a URL whose connection the server resets",
                    "hold": "a URL the server never answers (request_timeout=%.1f s)" % rt}[kind]
            j.fail("fetch_url() raised %s for %s: it must return a FetchResult instead" % (e["raised"], what),
                   hint=HINT_TIMEOUT if kind == "hold" else HINT_ERRORS)
        r = e["result"]
        _expect_result(j, r, e["url"], "fetch_url: " + path, expect, latency, rt)
        if kind == "hold":
            took = _number(e["took"])
            j.expect(took is not None and took <= rt + u["slack_s"], "fetch_url() on a URL that never answers took "
                     "%.2f s to return with request_timeout=%.1f s" % (took or 0.0, rt), hint=HINT_TIMEOUT)
            elapsed = _number(r["elapsed"])
            j.expect(elapsed is not None and rt * 0.8 <= elapsed <= rt + u["slack_s"], "fetch_url: the timeout "
                     "result's elapsed is %s s; the request was given up after about %.1f s"
                     % ("%.3f" % elapsed if elapsed is not None else r["elapsed_repr"], rt),
                     hint="elapsed = time.monotonic() at the result minus time.monotonic() at the start")
    j.expect(o["closed"] is False, "fetch_url() closed the session it was given: the caller owns it",
             hint="use the session (session.get), never `async with session:` inside fetch_url")

    got = _result_list(j, o["results"], len(table["paths"]))
    _check_table(j, got, urls, table)
    _once_each(j, table, o["requests"])
    empty = o["empty"]
    j.expect(empty["items"] == [], "fetch_all([]) returned %s, not []" % empty["repr"])
    j.expect(o["bad_limit"] != "hung", "fetch_all(urls, max_concurrent=0) hung instead of raising ValueError",
             hint="check max_concurrent >= 1 before fetching anything: asyncio.Semaphore(0) never lets anyone in")
    j.expect(o["bad_limit"] == "raised", "fetch_all(urls, max_concurrent=0) did not raise ValueError",
             hint="check max_concurrent >= 1 before fetching anything")


def plan_concurrency_bound(j):
    p, rng = j.params, j.rng
    limits = [rng.choice(p["small_limits"]), rng.choice(p["large_limits"])]
    runs = []
    for run, limit in enumerate(limits):
        t = _Table()
        _fill(rng, t, "/c%d/" % run, p["urls"], p["latency_ms"], statuses=(200,))
        runs.append({"limit": limit, "table": t.data()})
    return {"runs": runs}


def concurrency_bound(j):
    runs, seen = j.inputs["runs"], j.obs["runs"]
    j.expect_eq(len(seen), len(runs), "fetch_all() calls recorded")
    for run, rec in zip(runs, seen):
        limit, table = run["limit"], run["table"]
        urls = rec["urls"]
        _planned_urls(j, urls, table["paths"])
        got = _result_list(j, rec["results"], len(urls))
        _check_table(j, got, urls, table)
        peak = _max_concurrent(rec["requests"])
        j.expect(peak <= limit, "with max_concurrent=%d the server saw %d requests in flight at once"
                 % (limit, peak), hint=HINT_BOUND)
        j.expect(peak >= limit, "with max_concurrent=%d over %d URLs the server never saw more than %d "
                 "request(s) in flight at once: the requests are not (fully) concurrent" % (limit, len(urls), peak),
                 hint=HINT_BOUND)


def plan_timeouts(j):
    p, rng = j.params, j.rng
    limit = p["limit"]
    table = _Table()
    _fill(rng, table, "/t/", p["urls"], p["latency_ms"], statuses=(200, 200, 404, 503))
    holds = ["/t/hold-%d" % i for i in range(p["holds"])]
    for path in holds:
        table.hold(path, p["hold_ms"])
    # the held URLs go among the first max_concurrent, so they take slots while the rest queue
    rest = table.paths[:p["urls"]]
    first = rest[:limit - len(holds)] + holds
    rng.shuffle(first)
    table.paths = first + rest[limit - len(holds):]
    return {"table": table.data()}


def timeouts(j):
    p, o = j.params, j.obs
    rt, table = p["request_timeout"], j.inputs["table"]
    urls = o["urls"]
    _planned_urls(j, urls, table["paths"])
    got = _result_list(j, o["results"], len(urls))
    _check_table(j, got, urls, table, rt)
    holds = {path for path, (expect, _) in _expected(table).items() if expect[0] == "hold"}
    for r, path in zip(got, table["paths"]):
        if path in holds:
            elapsed = _number(r["elapsed"])
            j.expect(elapsed is not None and rt * 0.8 <= elapsed <= rt + p["slack_s"], "the timeout result for %s has "
                     "elapsed %s s; with request_timeout=%.1f s it should be about that"
                     % (path, "%.3f" % elapsed if elapsed is not None else r["elapsed_repr"], rt),
                     hint="elapsed = time.monotonic() at the result minus time.monotonic() when the request started")
    for path, start, end, _ in o["requests"]:
        if not path.startswith("/t/hold-"):
            continue
        held = (end - start) / 1000.0 if end is not None else None
        j.expect(held is not None and held <= rt + p["slack_s"],
                 "the server held %s for %s before the client gave up; request_timeout=%.1f s"
                 % (path, "%.2f s" % held if held is not None else "ever", rt), hint=HINT_TIMEOUT)
    _once_each(j, table, o["requests"])


def plan_session_reuse(j):
    p = j.params
    table = _Table()
    _fill(j.rng, table, "/s/", p["urls"], p["latency_ms"], statuses=(200,))
    return {"table": table.data()}


def session_reuse(j):
    p, o = j.params, j.obs
    table = j.inputs["table"]
    urls = o["urls"]
    _planned_urls(j, urls, table["paths"])
    got = _result_list(j, o["results"], len(urls))
    _check_table(j, got, urls, table)
    conns = {conn for _, _, _, conn in o["requests"]}
    limit = p["limit"]
    bound = p["connections_per_slot"] * limit
    j.expect(len(conns) <= bound, "%d requests with max_concurrent=%d came over %d TCP connections (at most %d "
             "expected): the connections are not reused" % (len(urls), limit, len(conns), bound),
             hint="create ONE aiohttp.ClientSession in fetch_all and pass it to every fetch_url; a session per "
                  "request opens (and closes) a connection per request")


def plan_elapsed_per_request(j):
    p = j.params
    lat = p["latency_ms"]
    table = _Table()
    _fill(j.rng, table, "/e/", p["urls"], [lat, lat], statuses=(200,))
    return {"table": table.data()}


def elapsed_per_request(j):
    """Each result's elapsed covers the time the server held its request and little more; an elapsed that
    also counts the wait for a slot is many latencies long."""
    p, o = j.params, j.obs
    limit, lat = p["limit"], p["latency_ms"]
    table = j.inputs["table"]
    urls = o["urls"]
    _planned_urls(j, urls, table["paths"])
    got = _result_list(j, o["results"], len(urls))
    _check_table(j, got, urls, table)
    reqs = {path: (start, end) for path, start, end, _ in o["requests"]}
    j.expect(reqs, "the server saw no request")
    first = min(start for start, _ in reqs.values())
    worst = None
    for r, path in zip(got, table["paths"]):
        req = reqs.get(path)
        if req is None or req[1] is None:
            continue
        served = (req[1] - req[0]) / 1000.0
        queued = (req[0] - first) / 1000.0
        elapsed = r["elapsed"]
        j.expect(isinstance(elapsed, (int, float)) and elapsed >= 0.8 * served - 0.005,
                 "result for %s: elapsed %s s, but the server alone took %.3f s to answer it: elapsed must "
                 "cover the whole request" % (path, r["elapsed_repr"], served),
                 hint="elapsed = time.monotonic() at the result minus time.monotonic() when the request "
                      "started, in seconds")
        excess = elapsed - served
        if excess > p["slack_s"] + p["slack_ratio"] * served and (worst is None or excess > worst[0]):
            worst = (excess, path, elapsed, served, queued)
    if worst:
        excess, path, elapsed, served, queued = worst
        j.fail("fetch_all over %d URLs of %.0f ms with max_concurrent=%d: the result for %s has elapsed %.3f s, "
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


def plan_speed(j):
    p, rng = j.params, j.rng
    limit, n = p["limit"], p["urls"]
    table = _Table()
    # one slow URL in every batch of `limit`: a batch-at-a-time client waits for it each time
    slow = set(range(0, n, limit))
    for i in range(n):
        path = "/p/%d-%04x" % (i, rng.getrandbits(16))
        table.ok(path, 200, _body(rng, i), p["slow_url_ms"] if i in slow else p["fast_url_ms"])
    return {"table": table.data()}


def speed(j):
    """Server-side makespan against the best possible schedule: a slot that frees takes the next URL at
    once (no waiting for a whole batch to finish)."""
    p, o = j.params, j.obs
    limit, n = p["limit"], p["urls"]
    table = j.inputs["table"]
    urls = o["urls"]
    _planned_urls(j, urls, table["paths"])
    got = _result_list(j, o["results"], len(urls))
    _check_table(j, got, urls, table)
    reqs = o["requests"]
    ends = [end for _, _, end, _ in reqs if end is not None]
    j.expect(ends, "the server answered no request")
    makespan = (max(ends) - min(start for _, start, _, _ in reqs)) / 1000.0
    expected = _expected(table)
    best = _list_schedule([expected[path][1] for path in table["paths"]], limit) / 1000.0
    bound = best * p["factor"] + p["slack_s"]
    slow = len(range(0, n, limit))
    j.expect(makespan <= bound, "%d URLs (%d of %.0f ms, the rest %.0f ms) with max_concurrent=%d took %.3f s from "
             "the first request to the last answer, the server measured; URLs taken in order by the first free slot "
             "would need %.3f s (limit %.3f s)" % (n, slow, p["slow_url_ms"], p["fast_url_ms"], limit,
                                                   makespan, best, bound),
             hint="start every URL's coroutine at once behind one semaphore, so a freed slot takes the next URL "
                  "at once; gathering batch after batch waits for the slowest URL of each batch")
