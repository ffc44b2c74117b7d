"""Judgements for lab-1.3 (the workloads are in checks.py). Runs outside the submission's process: the
server's routes (a status and a latency per URL) are planned here, and every verdict comes from what
the workload recorded: what check_urls returned, what the server saw, the wall time."""
import json

import grade_lib_urls as lib
from grade_oracles import max_in_flight

FIELDS = ("url", "status", "error", "elapsed")
HINT_VALUE = ("catch aiohttp's exceptions inside check_url and return them as values: asyncio.TimeoutError -> "
              "error 'timeout' (catch it first: aiohttp's ServerTimeoutError is also a ClientConnectionError), "
              "aiohttp.ClientConnectionError -> error 'connection'; then one bad URL cannot end asyncio.gather")
HINT_ORDER = "asyncio.gather returns the results in the order of its arguments; as_completed does not"
HINT_STATUS = ("a 404 or a 500 is an answer, not a failure: report resp.status with error None "
               "(do not call raise_for_status(), nor pass raise_for_status=True)")


# --------------------------------------------------------------------------
# plans: the server's routes

def _plan_table(j, statuses=None):
    return lib.plan_table(j, statuses)


def plan_all_statuses(j):
    return _plan_table(j)


def plan_errors_as_values(j):
    """Good routes, routes that never answer or reset, and the order of the URLs (None: the refused one)."""
    return lib.plan_errors(j)


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
    lib.expect_rows(j, rows, n, what)
    return rows


def _expect_answer(j, res, url, status, latency_ms, what):
    lib.expect_answer(j, res, url, status, latency_ms, what, HINT_STATUS)


def _expect_failure(j, res, url, error, what, min_s=0.0):
    lib.expect_failure(j, res, url, error, what, HINT_VALUE, min_s)


def _requests(j):
    """What the server saw: [path, start_ms, end_ms] per request."""
    reqs = j.obs["requests"]
    j.expect(isinstance(reqs, list), "the run recorded no list of the server's requests")
    return reqs


def _max_concurrent(reqs):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    return max_in_flight((start, end) for _, start, end in reqs)


def _expect_answers(j, rows, urls, routes, what):
    """Every URL has a result with its route's status (a URL may be given once only)."""
    by_url = {_key(r[0]): r for r in rows}
    for url, r in zip(urls, routes):
        j.expect(url in by_url, "%s: no result for %s" % (what, r["path"]))
        _expect_answer(j, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))


def _expect_requested(j, reqs, routes, what):
    """The server saw a request for every route: the calls were made."""
    lib.expect_requested(j, reqs, routes, what, hint="request every entry of urls", shown_paths=3)


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
    hints = {"one": "one result per entry of urls, duplicates included", "order": HINT_ORDER, "status": HINT_STATUS}
    lib.expect_all_answered(j, res, urls, route_of, _requests(j), what, hints)


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
    hints = {"value": HINT_VALUE, "status": HINT_STATUS,
             "timeout": "pass timeout=aiohttp.ClientTimeout(total=timeout) to every request"}
    lib.expect_errors_as_values(j, res, plan, what, hints)


# --------------------------------------------------------------------------
# performance

def wall_time(j):
    p = j.params
    routes = j.inputs["routes"]
    urls = _urls(j)
    lats = [r["latency_ms"] / 1000.0 for r in routes]
    slowest = max(lats)
    what = "check_urls(%d URLs, latencies %d-%d ms, limit=%d)" % (len(urls), min(lats) * 1000, slowest * 1000,
                                                                  p["limit"])
    rows = _results(j, j.obs["results"], len(urls), what)
    _expect_answers(j, rows, urls, routes, what)
    reqs = _requests(j)
    _expect_requested(j, reqs, routes, what)
    lib.expect_wall(j, lats, _max_concurrent(reqs), what,
                    hint="create every request's coroutine first and await them together (asyncio.gather), not "
                         "one `await` after another in a loop")


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
