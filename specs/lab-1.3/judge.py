"""Judgements for lab-1.3 (the workloads are in checks.py). Runs outside the submission's process: the
server's routes (a status and a latency per URL) are planned here, and every verdict comes from what
the workload recorded: what check_urls returned, what the server saw, the wall time."""
import json

FIELDS = ("url", "status", "error", "elapsed")
HINT_VALUE = ("catch aiohttp's exceptions inside check_url and return them as values: asyncio.TimeoutError -> "
              "error 'timeout' (catch it first: aiohttp's ServerTimeoutError is also a ClientConnectionError), "
              "aiohttp.ClientConnectionError -> error 'connection'; then one bad URL cannot end asyncio.gather")
HINT_ORDER = "asyncio.gather returns the results in the order of its arguments; as_completed does not"
HINT_STATUS = ("a 404 or a 500 is an answer, not a failure: report resp.status with error None "
               "(do not call raise_for_status(), nor pass raise_for_status=True)")


# --------------------------------------------------------------------------
# plans: the server's routes

def _route(path, status, latency, **extra):
    body = "" if status in (204, 304) else "checked %s" % path
    return dict({"path": path, "status": status, "latency_ms": latency, "body": body}, **extra)


def _table(j, n, statuses, latency, prefix="/u"):
    """n routes /u/<i>-<status>, statuses and latencies drawn from the run's seed."""
    lo, hi = latency
    return [_route("%s/%d-%d" % (prefix, i, st), st, j.rng.randint(lo, hi))
            for i, st in ((i, j.rng.choice(statuses)) for i in range(n))]


def _plan_table(j, statuses=None):
    p = j.params
    return {"routes": _table(j, p["urls"], statuses or p["statuses"], p["latency_ms"])}


def plan_all_statuses(j):
    return _plan_table(j)


def plan_errors_as_values(j):
    """Good routes, routes that never answer or reset, and the order of the URLs (None: the refused one)."""
    p = j.params
    routes = _table(j, p["urls"], p["statuses"], p["latency_ms"])
    bad = ([{"path": "/bad/never-%d" % i, "fail": {"with": "timeout", "slow_ms": p["hold_ms"]}}
            for i in range(p["never"])] +
           [{"path": "/bad/reset-%d" % i, "fail": {"with": "reset"}} for i in range(p["resets"])])
    order = list(range(len(routes) + len(bad))) + [None]
    j.rng.shuffle(order)
    return {"routes": routes + bad, "order": order}


def plan_wall_time(j):
    return _plan_table(j)


def plan_limit_respected(j):
    return _plan_table(j, statuses=[200])


def plan_loop_clean(j):
    return _plan_table(j)


# --------------------------------------------------------------------------
# helpers

def _key(u):
    """A result's url as a dict key (JSON may have made it a list or an object)."""
    return json.dumps(u, sort_keys=True) if isinstance(u, (list, dict)) else u


def _urls(j):
    base = j.obs["base"]
    j.expect(isinstance(base, str), "the run recorded no server address")
    return [base + r["path"] for r in j.inputs["routes"]]


def _results(j, out, n, what):
    """The rows of what check_urls returned ([url, status, error, elapsed] each): a list, one per URL."""
    j.expect(out["list"] is True, "%s returned a %s, not a list" % (what, out["type"]),
             hint="return a list with one CheckResult per URL")
    rows = out["rows"]
    j.expect(len(rows) == n, "%s returned %d results for %d URLs" % (what, len(rows), n),
             hint="one CheckResult per entry of urls, duplicates included")
    for r in rows:
        if isinstance(r, dict):
            j.fail("%s returned %s, which has no %s" % (what, r["repr"], ", ".join(r["missing"])),
                   hint="return the starter's CheckResult(url, status, error, elapsed)")
    return rows


def _expect_answer(j, res, url, status, latency_ms, what):
    u, st, err, el = res
    j.expect(u == url, "%s: the result's url is %r, expected %r" % (what, u, url))
    j.expect(err is None and st == status,
             "%s: the server answered %d; the result has status %r, error %r (expected status %d, error None)"
             % (what, status, st, err, status), hint=HINT_STATUS if status >= 400 else None)
    j.expect(isinstance(el, float) and el >= 0.8 * latency_ms / 1000.0,
             "%s: elapsed is %r, but the server took %d ms to answer" % (what, el, latency_ms),
             hint="elapsed: seconds (a float, from time.perf_counter()) from sending the request to the answer")


def _expect_failure(j, res, url, error, what, min_s=0.0):
    u, st, err, el = res
    j.expect(u == url, "%s: the result's url is %r, expected %r" % (what, u, url))
    j.expect(st is None and err == error, "%s: expected status None, error %r; got status %r, error %r"
             % (what, error, st, err), hint=HINT_VALUE)
    j.expect(isinstance(el, float) and el >= min_s, "%s: elapsed is %r, expected a float >= %.2f s"
             % (what, el, min_s), hint="elapsed is measured for failures too, up to the failure")


def _requests(j):
    """What the server saw: [path, start_ms, end_ms] per request."""
    reqs = j.obs["requests"]
    j.expect(isinstance(reqs, list), "the run recorded no list of the server's requests")
    return reqs


def _max_concurrent(reqs):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    events = []
    for _, start, end in reqs:
        events.append((start, 1))
        events.append((end if end is not None else float("inf"), -1))
    events.sort(key=lambda e: (e[0], e[1]))
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


def _counts(reqs):
    """How many times each path was requested."""
    out = {}
    for path, _, _ in reqs:
        out[path] = out.get(path, 0) + 1
    return out


def _expect_answers(j, rows, urls, routes, what):
    """Every URL has a result with its route's status (a URL may be given once only)."""
    by_url = {_key(r[0]): r for r in rows}
    for url, r in zip(urls, routes):
        j.expect(url in by_url, "%s: no result for %s" % (what, r["path"]))
        _expect_answer(j, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))


def _expect_requested(j, reqs, routes, what):
    """The server saw a request for every route: the calls were made."""
    counts = _counts(reqs)
    never = [r["path"] for r in routes if not counts.get(r["path"])]
    j.expect(not never, "%s: the server never saw a request for %s" % (what, ", ".join(never[:3])),
             hint="request every entry of urls")


# --------------------------------------------------------------------------
# completion_quality

def all_statuses(j):
    p = j.params
    empty = j.obs["empty"]
    j.expect(empty["list"] is True and empty["rows"] == [], "check_urls([]) returned %s, expected []" % empty["repr"])
    routes = j.inputs["routes"]
    urls = _urls(j)
    route_of = dict(zip(urls, routes))
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; limit=%d)" % (len(urls), p["repeat"], p["limit"])
    res = _results(j, j.obs["results"], len(urls), what)
    by_url = {}
    for r in res:
        by_url.setdefault(_key(r[0]), []).append(r)
    for url, r in route_of.items():
        mine, want = by_url.get(url, []), urls.count(url)
        j.expect(len(mine) == want, "%s: %d result(s) for %s, expected %d" % (what, len(mine), r["path"], want),
                 hint="one result per entry of urls, duplicates included")
        for m in mine:
            _expect_answer(j, m, url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))
    wrong = [i for i, (r, want) in enumerate(zip(res, urls)) if r[0] != want]
    if wrong:
        i = wrong[0]
        j.fail("%s: result %d is for %s, but urls[%d] is %s; results must be in the order of urls, not in the "
               "order the answers arrived" % (what, i, res[i][0], i, urls[i]), hint=HINT_ORDER)
    counts = _counts(_requests(j))
    off = [(r["path"], counts.get(r["path"], 0), urls.count(u)) for u, r in route_of.items()
           if counts.get(r["path"], 0) != urls.count(u)]
    j.expect(not off, "%s: the server saw %s requested %d time(s), given %d time(s) in urls" % ((what,) + off[0])
             if off else "", hint="request each entry of urls exactly once")


def errors_as_values(j):
    p = j.params
    routes, order = j.inputs["routes"], j.inputs["order"]
    base, refused = j.obs["base"], j.obs["refused"]
    j.expect(isinstance(base, str) and isinstance(refused, str),
             "the run recorded no server address or refused URL")
    plan = [(refused, None) if i is None else (base + routes[i]["path"], routes[i]) for i in order]
    urls = [u for u, _ in plan]
    timeout = p["timeout"]
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; limit=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["limit"], timeout)
    res = _results(j, j.obs["results"], len(urls), what)
    by_url = {_key(r[0]): r for r in res}
    for url, r in plan:
        j.expect(url in by_url, "%s: no result for %s" % (what, url))
        if r is None:
            _expect_failure(j, by_url[url], url, "connection", "%s, the refused URL" % what)
        elif "fail" not in r:
            _expect_answer(j, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))
        elif r["fail"]["with"] == "timeout":
            _expect_failure(j, by_url[url], url, "timeout", "%s, %s" % (what, r["path"]), min_s=0.8 * timeout)
            j.expect(by_url[url][3] < p["hold_ms"] / 1000.0,
                     "%s, %s: elapsed %.2f s: the request was not cut off at timeout=%s (the server let go "
                     "after %.1f s)" % (what, r["path"], by_url[url][3], timeout, p["hold_ms"] / 1000.0),
                     hint="pass timeout=aiohttp.ClientTimeout(total=timeout) to every request")
        else:
            _expect_failure(j, by_url[url], url, "connection", "%s, %s" % (what, r["path"]))


# --------------------------------------------------------------------------
# performance

def wall_time(j):
    p = j.params
    routes = j.inputs["routes"]
    urls = _urls(j)
    lats = [r["latency_ms"] / 1000.0 for r in routes]
    total, slowest = sum(lats), max(lats)
    what = "check_urls(%d URLs, latencies %d-%d ms, limit=%d)" % (len(urls), min(lats) * 1000, slowest * 1000,
                                                                  p["limit"])
    rows = _results(j, j.obs["results"], len(urls), what)
    _expect_answers(j, rows, urls, routes, what)
    reqs = _requests(j)
    _expect_requested(j, reqs, routes, what)
    wall = j.number("wall")
    limit = min(p["max_share_of_sum"] * total, slowest + p["slack_s"])
    peak = _max_concurrent(reqs)
    j.expect(wall <= limit,
             "%s took %.2f s; the latencies add up to %.2f s and the slowest is %.2f s: expected at most %.2f s "
             "(the server saw at most %d request(s) in flight at once)" % (what, wall, total, slowest, limit, peak),
             hint="create every request's coroutine first and await them together (asyncio.gather), not one "
                  "`await` after another in a loop")


# --------------------------------------------------------------------------
# problem_solving

def limit_respected(j):
    p = j.params
    n = p["limit"]
    routes = j.inputs["routes"]
    urls = _urls(j)
    what = "check_urls(%d URLs, limit=%d)" % (len(urls), n)
    _results(j, j.obs["results"], len(urls), what)
    reqs = _requests(j)
    _expect_requested(j, reqs, routes, what)
    peak = _max_concurrent(reqs)
    j.expect(peak <= n, "%s: the server saw %d requests in flight at once; at most %d allowed" % (what, peak, n),
             hint="hold an asyncio.Semaphore(limit) around each request (async with sem: ...), created inside "
                  "check_urls")
    j.expect(peak >= p["min_in_flight"], "%s: the server never saw more than %d request(s) in flight at once; "
             "with limit=%d expected at least %d" % (what, peak, n, p["min_in_flight"]),
             hint="start all the coroutines at once (gather) and let the semaphore admit `limit` of them")


def loop_clean(j):
    p = j.params
    routes = j.inputs["routes"]
    urls = _urls(j)
    calls = j.obs["calls"]
    j.expect(isinstance(calls, list) and len(calls) == 2, "two calls of check_urls were made, %d recorded"
             % (len(calls) if isinstance(calls, list) else 0))
    for attempt, out in zip((1, 2), calls):
        what = "check_urls(%d URLs, limit=%d) (call %d)" % (len(urls), p["limit"], attempt)
        rows = _results(j, out, len(urls), what)
        _expect_answers(j, rows, urls, routes, what)
