"""The course's check library: the URL checker family and the other labs that talk to the grader's fixture
HTTP server (lab-1.1, lab-1.2, lab-1.3, lab-1.4, lab-2.3, lab-5.1, lab-5.4, deliverable-2, deliverable-5).

Judgement side (pure): the routes a judge plans from the run's seed (a status and a latency per URL,
routes that never answer or reset), the server's log as recorded and measurements over it (requests per
path, most in flight at once: grade_oracles.max_in_flight, most per site in a window), and the checks of
a CheckResult(url, status, error, elapsed) against its route. Workload side: serving the planned
routes, a refused URL, the server's log and check_urls' results as recorded. The workloads and judgements
lab-1.1 and lab-1.2 share (check_urls on a pool) are in grade_lib_pool.

Standard library only; nothing here imports the harness.
"""
import re
import socket

from grade_oracles import max_in_window as oracles_max_in_window

FIELDS = ("url", "status", "error", "elapsed")
HINT_ONE_PER_URL = "one CheckResult per entry of urls, duplicates included"


# --------------------------------------------------------------------------
# plans (judgement side)

def route(path, status, latency, **extra):
    """A fixture-server route answering `status` after `latency` ms (an empty body for 204 and 304)."""
    body = "" if status in (204, 304) else "checked %s" % path
    return dict({"path": path, "status": status, "latency_ms": latency, "body": body}, **extra)


def route_table(rng, n, statuses, latency, prefix="/u"):
    """n routes /u/<i>-<status>, statuses and latencies ([lo, hi] ms) drawn from `rng`."""
    lo, hi = latency
    return [route("%s/%d-%d" % (prefix, i, st), st, rng.randint(lo, hi))
            for i, st in ((i, rng.choice(statuses)) for i in range(n))]


def plan_table(j, statuses=None):
    """{"routes": a route_table of the item's `urls`, `statuses` (or the given ones) and `latency_ms`}."""
    p = j.params
    return {"routes": route_table(j.rng, p["urls"], statuses or p["statuses"], p["latency_ms"])}


def plan_errors(j):
    """Good routes, routes that never answer (until `hold_ms`) and that reset, and the order of the URLs:
    an index into routes, None for the refused URL (a free port the workload picks)."""
    p = j.params
    routes = route_table(j.rng, p["urls"], p["statuses"], p["latency_ms"])
    routes += ([{"path": "/bad/never-%d" % i, "fail": {"with": "timeout", "slow_ms": p["hold_ms"]}}
                for i in range(p["never"])] +
               [{"path": "/bad/reset-%d" % i, "fail": {"with": "reset"}} for i in range(p["resets"])])
    order = list(range(len(routes))) + [None]
    j.rng.shuffle(order)
    return {"routes": routes, "order": order}


# --------------------------------------------------------------------------
# what the workload recorded (judgement side)

def base(j):
    """The fixture server's address for this run, as the workload found it (observation `base`)."""
    got = j.obs["base"]
    j.expect(isinstance(got, str) and re.fullmatch(r"http://127\.0\.0\.1:\d+", got) is not None,
             "the run recorded %r as the fixture server's address" % (got,))
    return got


def url_key(value):
    """A URL as a set member or dictionary key (a student's value may be anything)."""
    return value if isinstance(value, str) else repr(value)


def shown(shape):
    """What a value recorded with `shape` looked like (its repr)."""
    return repr(shape["list"]) if "list" in shape else shape["repr"]


def server_log(j, key="requests", str_paths=False):
    """The fixture server's log as recorded (see `log_of`): [(path, start_ms, end_ms or None)], in the
    server's order. str_paths: every path must be a string."""
    reqs = j.obs[key]
    j.expect(isinstance(reqs, list) and all(isinstance(r, list) and len(r) == 3
                                            and (not str_paths or isinstance(r[0], str)) for r in reqs),
             "the run recorded the server's log in an unexpected shape")
    return [tuple(r) for r in reqs]


def path_counts(paths):
    """{path: how many times it was requested} of an iterable of requested paths."""
    out = {}
    for path in paths:
        out[path] = out.get(path, 0) + 1
    return out


def server_site(path):
    """The grader's notion of a site of a path: its first segment (/s0/..., /s1/...)."""
    return path.split("/")[1]


def max_in_window(reqs, window_ms):
    """The most requests to one site that started within any `window_ms`: (count, site, first start_ms)."""
    return oracles_max_in_window(((server_site(path), start) for path, start, _ in reqs), window_ms)


# --------------------------------------------------------------------------
# CheckResult(url, status, error, elapsed) against its route (judgement side)

def expect_rows(j, rows, n, what):
    """One row per URL (`n`), none recorded as lacking a field ({"missing": [...], "repr": ...})."""
    j.expect(len(rows) == n, "%s returned %d results for %d URLs" % (what, len(rows), n),
             hint=HINT_ONE_PER_URL)
    for r in rows:
        if isinstance(r, dict):
            j.fail("%s returned %s, which has no %s" % (what, r["repr"], ", ".join(r["missing"])),
                   hint="return the starter's CheckResult(url, status, error, elapsed)")


def expect_answer(j, res, url, status, latency_ms, what, hint_status):
    """The result of an answered URL: its url, the server's status with error None, an elapsed at least
    the route's latency (less a fifth)."""
    u, st, err, el = res
    j.expect(u == url, "%s: the result's url is %r, expected %r" % (what, u, url))
    j.expect(err is None and st == status,
             "%s: the server answered %d; the result has status %r, error %r (expected status %d, error None)"
             % (what, status, st, err, status), hint=hint_status if status >= 400 else None)
    j.expect(isinstance(el, float) and el >= 0.8 * latency_ms / 1000.0,
             "%s: elapsed is %r, but the server took %d ms to answer" % (what, el, latency_ms),
             hint="elapsed: seconds (a float, from time.perf_counter()) from sending the request to the answer")


def expect_failure(j, res, url, error, what, hint_value, min_s=0.0):
    """The result of a failed URL: its url, status None with `error`, an elapsed of at least min_s."""
    u, st, err, el = res
    j.expect(u == url, "%s: the result's url is %r, expected %r" % (what, u, url))
    j.expect(st is None and err == error, "%s: expected status None, error %r; got status %r, error %r"
             % (what, error, st, err), hint=hint_value)
    j.expect(isinstance(el, float) and el >= min_s, "%s: elapsed is %r, expected a float >= %.2f s"
             % (what, el, min_s), hint="elapsed is measured for failures too, up to the failure")


def expect_all_answered(j, res, urls, route_of, reqs, what, hints):
    """all_statuses: each URL has as many results as it is given, each its route's answer, in the order of
    urls; the server saw each path requested as often as it is given. hints: "one", "order", "status"."""
    by_url = {}
    for r in res:
        by_url.setdefault(url_key(r[0]), []).append(r)
    for url, r in route_of.items():
        mine, want = by_url.get(url, []), urls.count(url)
        j.expect(len(mine) == want, "%s: %d result(s) for %s, expected %d" % (what, len(mine), r["path"], want),
                 hint=hints["one"])
        for m in mine:
            expect_answer(j, m, url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]), hints["status"])
    wrong = [i for i, (r, want) in enumerate(zip(res, urls)) if r[0] != want]
    if wrong:
        i = wrong[0]
        j.fail("%s: result %d is for %s, but urls[%d] is %s; results must be in the order of urls, not in the "
               "order the answers arrived" % (what, i, res[i][0], i, urls[i]), hint=hints["order"])
    counts = path_counts(path for path, _, _ in reqs)
    off = [(r["path"], counts.get(r["path"], 0), urls.count(u)) for u, r in route_of.items()
           if counts.get(r["path"], 0) != urls.count(u)]
    j.expect(not off, "%s: the server saw %s requested %d time(s), given %d time(s) in urls" % ((what,) + off[0])
             if off else "", hint="request each entry of urls exactly once")


def expect_errors_as_values(j, res, plan, what, hints):
    """errors_as_values: plan is [(url, route or None for the refused URL)]; every URL has its result: an
    answer, or error "connection" (refused, reset) or "timeout" (cut off at the item's `timeout`, before
    the server let go at `hold_ms`). hints: "value", "status", "timeout"."""
    p = j.params
    timeout = p["timeout"]
    by_url = {url_key(r[0]): r for r in res}
    for url, r in plan:
        j.expect(url in by_url, "%s: no result for %s" % (what, url))
        if r is None:
            expect_failure(j, by_url[url], url, "connection", "%s, the refused URL" % what, hints["value"])
        elif "fail" not in r:
            expect_answer(j, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]),
                          hints["status"])
        elif r["fail"]["with"] == "timeout":
            expect_failure(j, by_url[url], url, "timeout", "%s, %s" % (what, r["path"]), hints["value"],
                           min_s=0.8 * timeout)
            j.expect(by_url[url][3] < p["hold_ms"] / 1000.0,
                     "%s, %s: elapsed %.2f s: the request was not cut off at timeout=%s (the server let go "
                     "after %.1f s)" % (what, r["path"], by_url[url][3], timeout, p["hold_ms"] / 1000.0),
                     hint=hints["timeout"])
        else:
            expect_failure(j, by_url[url], url, "connection", "%s, %s" % (what, r["path"]), hints["value"])


def expect_wall(j, lats, peak, what, hint):
    """The recorded `wall` is within the item's limit: min(max_share_of_sum x the latencies' sum, the
    slowest + slack_s). lats: the routes' latencies in seconds; peak: the most in flight at once."""
    p = j.params
    total, slowest = sum(lats), max(lats)
    limit = min(p["max_share_of_sum"] * total, slowest + p["slack_s"])
    wall = j.number("wall")
    j.expect(wall <= limit,
             "%s took %.2f s; the latencies add up to %.2f s and the slowest is %.2f s: expected at most %.2f s "
             "(the server saw at most %d request(s) in flight at once)" % (what, wall, total, slowest, limit, peak),
             hint=hint)


# --------------------------------------------------------------------------
# workload side

def refused_url():
    """A loopback URL where nothing listens (a port just freed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d/nobody-listens" % port


def serve(ctx):
    """Configures the server with the routes the judge planned, records its address (`base`); their
    URLs, in order."""
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    ctx.observe("base", ctx.http.base)
    return [ctx.http.url(r["path"]) for r in routes]


def serve_errors(ctx):
    """Serves the routes of an errors-as-values plan (see plan_errors) and records the refused URL
    ("refused"); the URLs in the judge's order (None in `order`: the refused one)."""
    routes = ctx.inputs["routes"]
    serve(ctx)
    refused = refused_url()
    ctx.observe("refused", refused)
    return [refused if i is None else ctx.http.url(routes[i]["path"]) for i in ctx.inputs["order"]]


def log_of(ctx):
    """What the fixture server saw: [path, start_ms, end_ms] per request (end_ms None: no answer yet)."""
    return [[r["path"], r["start_ms"], r["end_ms"]] for r in ctx.http.requests()]


def shape(value):
    """A returned value as the judge sees it: a list as it is, anything else by its type and repr."""
    if isinstance(value, list):
        return {"list": value}
    return {"type": type(value).__name__, "repr": repr(value)}


def observe_results(ctx, key, got):
    """Records what check_urls returned: each result's four fields as they are (a result that lacks
    one, by its repr and the fields it lacks)."""
    if not isinstance(got, list):
        ctx.observe(key, shape(got))
        return
    rows = []
    for r in got:
        missing = [f for f in FIELDS if not hasattr(r, f)]
        rows.append({"missing": missing, "repr": repr(r)} if missing else [r.url, r.status, r.error, r.elapsed])
    ctx.observe(key, {"list": rows})


def expect_requested(j, reqs, routes, what, hint="request each entry of urls exactly once", shown_paths=4):
    """The server saw a request for every route: the calls were made."""
    counts = path_counts(path for path, _, _ in reqs)
    unseen = [r["path"] for r in routes if not counts.get(r["path"])]
    j.expect(not unseen, "%s: the server never saw a request for %s" % (what, ", ".join(unseen[:shown_paths])),
             hint=hint)
