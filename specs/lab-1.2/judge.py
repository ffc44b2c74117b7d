"""Judgements for lab-1.2, URL checker with processes (the workloads are in checks.py). Runs outside the
submission's process: the routes (statuses, latencies, failures, the order of the URLs) are planned here
from the run's seed, and every verdict comes from what the workload recorded: the results check_urls
returned, what the fixture server saw, the wall time and the processes."""
import re

HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")
HINT_ORDER = "keep the results in input order: executor.map / pool.map do; imap_unordered and as_completed do not"
HINT_STATUS = ("a 404 or a 500 is an answer, not a failure: report resp.status_code with error None "
               "(do not call raise_for_status())")
HINT_ONE_PER_URL = "one CheckResult per entry of urls, duplicates included"


# --------------------------------------------------------------------------
# plans

def _route(path, status, latency, **extra):
    body = "" if status in (204, 304) else "checked %s" % path
    return dict({"path": path, "status": status, "latency_ms": latency, "body": body}, **extra)


def _table(rng, n, statuses, latency, prefix="/u"):
    """n routes /u/<i>-<status>, statuses and latencies drawn from the run's seed."""
    lo, hi = latency
    return [_route("%s/%d-%d" % (prefix, i, st), st, rng.randint(lo, hi))
            for i, st in ((i, rng.choice(statuses)) for i in range(n))]


def plan_all_statuses(j):
    p = j.params
    return {"routes": _table(j.rng, p["urls"], p["statuses"], p["latency_ms"])}


def plan_errors_as_values(j):
    """Good routes, routes that never answer (until hold_ms) and that reset, and the order of the URLs:
    an index into routes, None for the refused URL (a free port the workload picks)."""
    p = j.params
    routes = _table(j.rng, p["urls"], p["statuses"], p["latency_ms"])
    routes += ([{"path": "/bad/never-%d" % i, "fail": {"with": "timeout", "slow_ms": p["hold_ms"]}}
                for i in range(p["never"])] +
               [{"path": "/bad/reset-%d" % i, "fail": {"with": "reset"}} for i in range(p["resets"])])
    order = list(range(len(routes))) + [None]
    j.rng.shuffle(order)
    return {"routes": routes, "order": order}


def plan_wall_time(j):
    p = j.params
    return {"routes": _table(j.rng, p["urls"], p["statuses"], p["latency_ms"])}


def plan_bounded(j):
    p = j.params
    return {"routes": _table(j.rng, p["urls"], [200], p["latency_ms"])}


def plan_no_orphans(j):
    p = j.params
    return {"routes": _table(j.rng, p["urls"], [200, 404], p["latency_ms"])}


# --------------------------------------------------------------------------
# helpers

def _base(j):
    """The fixture server's address for this run, as the workload found it."""
    base = j.obs["base"]
    j.expect(isinstance(base, str) and re.fullmatch(r"http://127\.0\.0\.1:\d+", base) is not None,
             "the run recorded %r as the fixture server's address" % (base,))
    return base


def _urls(j, base):
    return [base + r["path"] for r in j.inputs["routes"]]


def _key(value):
    """A URL as a dictionary key (a student's url field may be anything)."""
    return value if isinstance(value, str) else repr(value)


def _shown(shape):
    """What a value recorded with checks._shape looked like (its repr)."""
    return repr(shape["list"]) if "list" in shape else shape["repr"]


def _results(j, got, urls, what):
    """The results as recorded: a list of (url, status, error, elapsed), one per URL."""
    j.expect("list" in got, "%s returned a %s, not a list" % (what, got.get("type")),
             hint="return a list with one CheckResult per URL")
    rows = got["list"]
    j.expect(len(rows) == len(urls), "%s returned %d results for %d URLs" % (what, len(rows), len(urls)),
             hint=HINT_ONE_PER_URL)
    for r in rows:
        if isinstance(r, dict):
            j.fail("%s returned %s, which has no %s" % (what, r["repr"], ", ".join(r["missing"])),
                   hint="return the starter's CheckResult(url, status, error, elapsed)")
    j.expect(all(isinstance(r, list) and len(r) == 4 for r in rows),
             "%s: the run recorded results of an unexpected shape" % what)
    return [tuple(r) for r in rows]


def _same_urls(j, res, urls, what):
    """Each URL given has its result (as many as it is given), whatever their order."""
    want = {}
    for u in urls:
        want[u] = want.get(u, 0) + 1
    for r in res:
        k = _key(r[0])
        want[k] = want.get(k, 0) - 1
    missing = [u for u in urls if want[u] > 0]
    j.expect(not missing, "%s: no result for %s" % (what, missing[0] if missing else ""), hint=HINT_ONE_PER_URL)


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


def _requests(j, key="requests"):
    """The fixture server's log as recorded: [(path, start_ms, end_ms or None)]."""
    reqs = j.obs[key]
    j.expect(isinstance(reqs, list) and all(isinstance(r, list) and len(r) == 3 for r in reqs),
             "the run recorded the server's log in an unexpected shape")
    return [tuple(r) for r in reqs]


def _counts(reqs):
    out = {}
    for path, _, _ in reqs:
        out[path] = out.get(path, 0) + 1
    return out


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


# --------------------------------------------------------------------------
# completion_quality

def all_statuses(j):
    p = j.params
    empty = j.obs["empty"]
    j.expect(empty.get("list") == [], "check_urls([]) returned %s, expected []" % _shown(empty))
    base = _base(j)
    routes = j.inputs["routes"]
    urls = _urls(j, base)
    route_of = dict(zip(urls, routes))
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; workers=%d)" % (len(urls), p["repeat"], p["workers"])
    res = _results(j, j.obs["results"], urls, what)
    by_url = {}
    for r in res:
        by_url.setdefault(_key(r[0]), []).append(r)
    for url, r in route_of.items():
        mine, want = by_url.get(url, []), urls.count(url)
        j.expect(len(mine) == want, "%s: %d result(s) for %s, expected %d" % (what, len(mine), r["path"], want),
                 hint=HINT_ONE_PER_URL)
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
    base = _base(j)
    refused = j.obs["refused"]
    j.expect(isinstance(refused, str) and re.fullmatch(r"http://127\.0\.0\.1:\d+/nobody-listens", refused),
             "the run recorded %r as the refused URL" % (refused,))
    routes = j.inputs["routes"]
    plan = [(refused, None) if i is None else (base + routes[i]["path"], routes[i]) for i in j.inputs["order"]]
    urls = [u for u, _ in plan]
    timeout = p["timeout"]
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; workers=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["workers"], timeout)
    res = _results(j, j.obs["results"], urls, what)
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
                     hint="pass timeout= to every request")
        else:
            _expect_failure(j, by_url[url], url, "connection", "%s, %s" % (what, r["path"]))


# --------------------------------------------------------------------------
# performance

def wall_time(j):
    p = j.params
    base = _base(j)
    routes = j.inputs["routes"]
    urls = _urls(j, base)
    lats = [r["latency_ms"] / 1000.0 for r in routes]
    total, slowest = sum(lats), max(lats)
    what = "check_urls(%d URLs, latencies %d-%d ms, workers=%d)" % (
        len(urls), min(r["latency_ms"] for r in routes), max(r["latency_ms"] for r in routes), p["workers"])
    by_url = {_key(r[0]): r for r in _results(j, j.obs["results"], urls, what)}
    for url, r in zip(urls, routes):
        j.expect(url in by_url, "%s: no result for %s" % (what, r["path"]))
        _expect_answer(j, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))
    reqs = _requests(j)
    counts = _counts(reqs)
    unseen = [r["path"] for r in routes if not counts.get(r["path"])]
    j.expect(not unseen, "%s: the server never saw a request for %s" % (what, ", ".join(unseen[:4])),
             hint="request each entry of urls exactly once")
    limit = min(p["max_share_of_sum"] * total, slowest + p["slack_s"])
    wall = j.number("wall")
    peak = _max_concurrent(reqs)
    j.expect(wall <= limit,
             "%s took %.2f s; the latencies add up to %.2f s and the slowest is %.2f s: expected at most %.2f s "
             "(the server saw at most %d request(s) in flight at once)" % (what, wall, total, slowest, limit, peak),
             hint="start every request before waiting for any: a pool of `workers` processes, all busy at once "
                  "(pool.map, not apply() in a loop)")


# --------------------------------------------------------------------------
# problem_solving

def bounded(j):
    p = j.params
    w = p["workers"]
    base = _base(j)
    urls = _urls(j, base)
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), w)
    res = _results(j, j.obs["results"], urls, what)
    _same_urls(j, res, urls, what)
    reqs = _requests(j)
    counts = _counts(reqs)
    unseen = [r["path"] for r in j.inputs["routes"] if not counts.get(r["path"])]
    j.expect(not unseen, "%s: the server never saw a request for %s" % (what, ", ".join(unseen[:4])),
             hint="request each entry of urls exactly once")
    peak = _max_concurrent(reqs)
    procs = j.obs["processes"]
    n, pids = procs["n"], procs["pids"]
    j.expect(isinstance(n, int) and isinstance(pids, list),
             "the run recorded the worker processes in an unexpected shape")
    j.expect(n <= w, "%s: %d worker processes were alive at once (%d in all); at most %d allowed"
             % (what, n, len(pids), w),
             hint="one pool of `workers` processes (ProcessPoolExecutor(max_workers=workers)), not a process "
                  "per URL")
    j.expect(peak <= w, "%s: the server saw %d requests in flight at once; at most %d allowed" % (what, peak, w),
             hint="one pool of `workers` processes, each checking one URL at a time")
    j.expect(peak >= p["min_in_flight"], "%s: the server never saw more than %d request(s) in flight at once; "
             "with workers=%d expected at least %d" % (what, peak, w, p["min_in_flight"]),
             hint="submit every URL before waiting for any result (pool.map, or submit() them all first); "
                  "pool.apply() waits for each one")


def _procs(j, key):
    got = j.obs[key]
    live, zombies = got["live"], got["zombies"]
    j.expect(isinstance(live, list) and isinstance(zombies, list),
             "the run recorded the processes in an unexpected shape")
    return live, zombies


def no_orphans(j):
    p = j.params
    base = _base(j)
    urls = _urls(j, base)
    live, zombies = _procs(j, "before")
    j.expect(not live and not zombies, "before the first call, %d child process(es) were alive and %d zombies "
             "(importing process_checker must not start processes)" % (len(live), len(zombies)),
             hint="start worker processes inside check_urls, not at import")
    for attempt in (1, 2):
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        res = _results(j, j.obs["results_%d" % attempt], urls, what)
        _same_urls(j, res, urls, what)
        live, zombies = _procs(j, "after_%d" % attempt)
        j.expect(not live, "%s returned, but %d worker process(es) were still alive %.1f s later: pids %s"
                 % (what, len(live), p["grace_s"], ", ".join(map(str, live[:6]))),
                 hint="use the pool in a with-block, or close() and join() it (terminate() and join()) before "
                      "returning; never keep a pool in a global between calls")
        j.expect(not zombies, "%s returned, but %d child process(es) had finished without being joined "
                 "(zombies): pids %s" % (what, len(zombies), ", ".join(map(str, zombies[:6]))),
                 hint="join() every Process you start (or use a pool in a with-block, which joins its workers)")
