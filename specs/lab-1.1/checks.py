"""Checks for lab-1.1, URL checker with threads (`thread_checker.py`).

The student's API is the docstring of starter/lab-1.1/thread_checker.py: check_url(url, timeout) and
check_urls(urls, workers, timeout), each giving CheckResult(url, status, error, elapsed) values.

Every URL points at the grader's fixture HTTP server (ctx.http), whose routes each check generates
from its params and the run's seed: a status and a latency per URL, and routes that never answer
(`timeout`) or reset the connection (`reset`). What the server saw (each request's arrival and
answer, how many were in flight at once) is the measurement; the student's own numbers are only
compared with it. Wall-time limits are generous ratios of the server's latencies (the machine is
shared and noisy): "well under the sum", "near the slowest", never tight absolute numbers.

Every student call runs in a thread with a time limit, so a hang is reported as such. Standard
library only.
"""
import os
import socket
import threading
import time
import traceback

MODULE = "thread_checker"
FIELDS = ("url", "status", "error", "elapsed")
HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")
HINT_ORDER = "keep the results in input order: executor.map does; as_completed does not"
HINT_STATUS = ("a 404 or a 500 is an answer, not a failure: report resp.status_code with error None "
               "(do not call raise_for_status())")


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    mod = ctx.student(MODULE)
    for name in ("check_url", "check_urls", "CheckResult"):
        ctx.expect(hasattr(mod, name), "%s.py defines no %s" % (MODULE, name),
                   hint="keep the names of the starter's docstring")
    return mod


def _where(ctx, exc):
    """' (at thread_checker.py:LINE in FUNC)' for the innermost frame in the student's files."""
    root = os.path.join(os.path.realpath(ctx.root), "")
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        fn = os.path.realpath(frame.f_code.co_filename)
        if fn.startswith(root):
            found = " (at %s:%d in %s)" % (os.path.relpath(fn, root), line, frame.f_code.co_name)
    return found or ""


def _call(ctx, what, fn, limit, hint=None):
    """fn() in a thread, within `limit` seconds; (value, wall seconds). An exception fails the check."""
    box = {}

    def body():
        t0 = time.perf_counter()
        try:
            box["value"] = fn()
        except BaseException as exc:  # reported below, in the check's thread
            box["error"] = exc
        box["wall"] = time.perf_counter() - t0
    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
    t.join(limit)
    if t.is_alive():
        ctx.fail("%s did not return within %.1f s" % (what, limit),
                 hint="pass timeout= to every request, and make sure every thread you start ends")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, ctx.CheckFailed):
            raise exc
        if isinstance(exc, NotImplementedError):
            hint = "this is still the starter's stub: write it"
        ctx.fail("%s raised %s: %s%s" % (what, type(exc).__name__, exc, _where(ctx, exc)),
                 hint=hint or HINT_VALUE)
    return box["value"], box["wall"]


def _fields(ctx, r, what):
    missing = [f for f in FIELDS if not hasattr(r, f)]
    ctx.expect(not missing, "%s returned %r, which has no %s" % (what, r, ", ".join(missing)),
               hint="return the starter's CheckResult(url, status, error, elapsed)")
    return r.url, r.status, r.error, r.elapsed


def _results(ctx, got, urls, what):
    ctx.expect(isinstance(got, list), "%s returned a %s, not a list" % (what, type(got).__name__),
               hint="return a list with one CheckResult per URL")
    ctx.expect(len(got) == len(urls), "%s returned %d results for %d URLs" % (what, len(got), len(urls)),
               hint="one CheckResult per entry of urls, duplicates included")
    return [_fields(ctx, r, what) for r in got]


def _route(path, status, latency, **extra):
    body = "" if status in (204, 304) else "checked %s" % path
    return dict({"path": path, "status": status, "latency_ms": latency, "body": body}, **extra)


def _table(ctx, n, statuses, latency, prefix="/u"):
    """n routes /u/<i>-<status>, statuses and latencies drawn from the run's seed."""
    lo, hi = latency
    return [_route("%s/%d-%d" % (prefix, i, st), st, ctx.rng.randint(lo, hi))
            for i, st in ((i, ctx.rng.choice(statuses)) for i in range(n))]


def _urls(ctx, routes):
    return [ctx.http.url(r["path"]) for r in routes]


def _refused_url():
    """A loopback URL where nothing listens (a port just freed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d/nobody-listens" % port


def _expect_answer(ctx, res, url, status, latency_ms, what):
    u, st, err, el = res
    ctx.expect(u == url, "%s: the result's url is %r, expected %r" % (what, u, url))
    ctx.expect(err is None and st == status,
               "%s: the server answered %d; the result has status %r, error %r (expected status %d, error None)"
               % (what, status, st, err, status), hint=HINT_STATUS if status >= 400 else None)
    ctx.expect(isinstance(el, float) and el >= 0.8 * latency_ms / 1000.0,
               "%s: elapsed is %r, but the server took %d ms to answer" % (what, el, latency_ms),
               hint="elapsed: seconds (a float, from time.perf_counter()) from sending the request to the answer")


def _expect_failure(ctx, res, url, error, what, min_s=0.0):
    u, st, err, el = res
    ctx.expect(u == url, "%s: the result's url is %r, expected %r" % (what, u, url))
    ctx.expect(st is None and err == error, "%s: expected status None, error %r; got status %r, error %r"
               % (what, error, st, err), hint=HINT_VALUE)
    ctx.expect(isinstance(el, float) and el >= min_s, "%s: elapsed is %r, expected a float >= %.2f s"
               % (what, el, min_s), hint="elapsed is measured for failures too, up to the failure")


def _thread_sampler():
    """Counts the threads alive while the student's call runs (the check's own excluded)."""
    before = set(threading.enumerate())
    peak = {"n": 0, "names": []}
    done = threading.Event()

    def sample():
        while not done.is_set():
            new = [t for t in threading.enumerate() if t not in before and t.name not in ("student-call", "sampler")]
            if len(new) > peak["n"]:
                peak["n"], peak["names"] = len(new), [t.name for t in new]
            time.sleep(0.002)
    t = threading.Thread(target=sample, name="sampler", daemon=True)
    t.start()

    def stop():
        done.set()
        t.join()
        return peak
    return before, stop


# --------------------------------------------------------------------------
# completion_quality

def all_statuses(ctx):
    """check_urls on N URLs with mixed statuses and latencies, the first `repeat` of them given again at
    the end: one result per entry, in the order of urls (the answers arrive in another order), each with
    its URL's own status; each URL requested exactly as many times as it is given; [] for []."""
    mod = _module(ctx)
    p = ctx.params
    got, _ = _call(ctx, "check_urls([])", lambda: mod.check_urls([], workers=p["workers"]), p["call_limit"])
    ctx.expect(got == [], "check_urls([]) returned %r, expected []" % (got,))
    routes = _table(ctx, p["urls"], p["statuses"], p["latency_ms"])
    ctx.http.configure(routes)
    urls = _urls(ctx, routes)
    route_of = dict(zip(urls, routes))
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; workers=%d)" % (len(urls), p["repeat"], p["workers"])
    got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                   p["call_limit"])
    res = _results(ctx, got, urls, what)
    by_url = {}
    for r in res:
        by_url.setdefault(r[0], []).append(r)
    for url, r in route_of.items():
        mine, want = by_url.get(url, []), urls.count(url)
        ctx.expect(len(mine) == want, "%s: %d result(s) for %s, expected %d" % (what, len(mine), r["path"], want),
                   hint="one result per entry of urls, duplicates included")
        for m in mine:
            _expect_answer(ctx, m, url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))
    wrong = [i for i, (r, want) in enumerate(zip(res, urls)) if r[0] != want]
    if wrong:
        i = wrong[0]
        ctx.fail("%s: result %d is for %s, but urls[%d] is %s; results must be in the order of urls, not in the "
                 "order the answers arrived" % (what, i, res[i][0], i, urls[i]), hint=HINT_ORDER)
    counts = ctx.http.counts()
    off = [(r["path"], counts.get(r["path"], 0), urls.count(u)) for u, r in route_of.items()
           if counts.get(r["path"], 0) != urls.count(u)]
    ctx.expect(not off, "%s: the server saw %s requested %d time(s), given %d time(s) in urls" % ((what,) + off[0])
               if off else "", hint="request each entry of urls exactly once")


def errors_as_values(ctx):
    """URLs that never answer, reset or are refused, among good ones: values, not exceptions."""
    mod = _module(ctx)
    p = ctx.params
    routes = _table(ctx, p["urls"], p["statuses"], p["latency_ms"])
    bad = ([{"path": "/bad/never-%d" % i, "fail": {"with": "timeout", "slow_ms": p["hold_ms"]}}
            for i in range(p["never"])] +
           [{"path": "/bad/reset-%d" % i, "fail": {"with": "reset"}} for i in range(p["resets"])])
    ctx.http.configure(routes + bad)
    plan = [(ctx.http.url(r["path"]), r) for r in routes + bad] + [(_refused_url(), None)]
    ctx.rng.shuffle(plan)
    urls = [u for u, _ in plan]
    timeout = p["timeout"]
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; workers=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["workers"], timeout)
    got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=timeout),
                   p["call_limit"])
    res = _results(ctx, got, urls, what)
    by_url = {r[0]: r for r in res}
    for url, r in plan:
        ctx.expect(url in by_url, "%s: no result for %s" % (what, url))
        if r is None:
            _expect_failure(ctx, by_url[url], url, "connection", "%s, the refused URL" % what)
        elif "fail" not in r:
            _expect_answer(ctx, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))
        elif r["fail"]["with"] == "timeout":
            _expect_failure(ctx, by_url[url], url, "timeout", "%s, %s" % (what, r["path"]), min_s=0.8 * timeout)
            ctx.expect(by_url[url][3] < p["hold_ms"] / 1000.0,
                       "%s, %s: elapsed %.2f s: the request was not cut off at timeout=%s (the server let go "
                       "after %.1f s)" % (what, r["path"], by_url[url][3], timeout, p["hold_ms"] / 1000.0),
                       hint="pass timeout= to every request")
        else:
            _expect_failure(ctx, by_url[url], url, "connection", "%s, %s" % (what, r["path"]))


# --------------------------------------------------------------------------
# performance

def wall_time(ctx):
    """N URLs with workers >= N: the wall time is near the slowest latency, far below the sum."""
    mod = _module(ctx)
    p = ctx.params
    routes = _table(ctx, p["urls"], p["statuses"], p["latency_ms"])
    ctx.http.configure(routes)
    urls = _urls(ctx, routes)
    lats = [r["latency_ms"] / 1000.0 for r in routes]
    total, slowest = sum(lats), max(lats)
    what = "check_urls(%d URLs, latencies %d-%d ms, workers=%d)" % (len(urls), min(lats) * 1000, slowest * 1000,
                                                                    p["workers"])
    got, wall = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                      p["call_limit"])
    by_url = {r[0]: r for r in _results(ctx, got, urls, what)}
    for url, r in zip(urls, routes):
        ctx.expect(url in by_url, "%s: no result for %s" % (what, r["path"]))
        _expect_answer(ctx, by_url[url], url, r["status"], r["latency_ms"], "%s, %s" % (what, r["path"]))
    limit = min(p["max_share_of_sum"] * total, slowest + p["slack_s"])
    peak = ctx.http.max_concurrent()
    ctx.expect(wall <= limit,
               "%s took %.2f s; the latencies add up to %.2f s and the slowest is %.2f s: expected at most %.2f s "
               "(the server saw at most %d request(s) in flight at once)" % (what, wall, total, slowest, limit, peak),
               hint="start every request before waiting for any: a pool of `workers` threads, all busy at once")


# --------------------------------------------------------------------------
# problem_solving

def bounded(ctx):
    """workers < N: never more than `workers` requests in flight (server side) nor threads (client side),
    but more than one (it is concurrent)."""
    mod = _module(ctx)
    p = ctx.params
    w = p["workers"]
    routes = _table(ctx, p["urls"], [200], p["latency_ms"])
    ctx.http.configure(routes)
    urls = _urls(ctx, routes)
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), w)
    _, stop = _thread_sampler()
    try:
        got, wall = _call(ctx, what, lambda: mod.check_urls(urls, workers=w, timeout=p["timeout"]), p["call_limit"])
    finally:
        threads = stop()
    _results(ctx, got, urls, what)
    peak = ctx.http.max_concurrent()
    ctx.expect(peak <= w, "%s: the server saw %d requests in flight at once; at most %d allowed" % (what, peak, w),
               hint="bound the concurrency: ThreadPoolExecutor(max_workers=workers), not a thread per URL")
    ctx.expect(threads["n"] <= w + 1, "%s: %d threads ran at once (%s); at most %d allowed (workers, plus one "
               "coordinating thread)" % (what, threads["n"], ", ".join(threads["names"][:6]), w + 1),
               hint="bound the threads: ThreadPoolExecutor(max_workers=workers), not a thread per URL")
    ctx.expect(peak >= p["min_in_flight"], "%s: the server never saw more than %d request(s) in flight at once; "
               "with workers=%d expected at least %d" % (what, peak, w, p["min_in_flight"]),
               hint="start `workers` requests before waiting for any (a thread that is joined right after "
                    "start() makes the loop serial)")


def threads_finished(ctx):
    """When check_urls returns, every thread it started has ended (twice in a row, so a pool kept
    between calls shows too)."""
    mod = _module(ctx)
    p = ctx.params
    routes = _table(ctx, p["urls"], [200, 404], p["latency_ms"])
    ctx.http.configure(routes)
    urls = _urls(ctx, routes)
    for attempt in (1, 2):
        before = set(threading.enumerate())
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                       p["call_limit"])
        _results(ctx, got, urls, what)
        deadline = time.monotonic() + p["grace_s"]
        while True:
            left = [t for t in threading.enumerate() if t not in before and t.is_alive()
                    and t.name not in ("student-call", "sampler")]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        ctx.expect(not left, "%s returned, but %d thread(s) it started were still alive %.1f s later: %s"
                   % (what, len(left), p["grace_s"], ", ".join(t.name for t in left[:6])),
                   hint="use the executor in a with-block (it joins its threads), or call shutdown(); "
                        "join every Thread you start")
