"""Checks for lab-1.2, URL checker with processes (`process_checker.py`).

The student's API is the docstring of starter/lab-1.2/process_checker.py: check_url(url, timeout) and
check_urls(urls, workers, timeout), each giving CheckResult(url, status, error, elapsed) values, the
checks run in worker processes.

Every URL points at the grader's fixture HTTP server (ctx.http), whose routes each check generates
from its params and the run's seed: a status and a latency per URL, and routes that never answer
(`timeout`) or reset the connection (`reset`). What the server saw (each request's arrival and
answer, how many were in flight at once) is the measurement; the student's own numbers are only
compared with it. Wall-time limits are generous ratios of the server's latencies (the machine is
shared and noisy): "well under the sum", "near the slowest", never tight absolute numbers.

Processes are read from /proc (each thread's `children` file, then each child's state): the worker
processes alive during a call (never more than `workers`), and after it both the live ones and the
zombies (finished, never joined). The `spawn` item runs under the spawn start method, which pickles
everything a worker gets, the function included. Every student call runs in a thread with a time limit, so a hang is reported as such.
Standard library only.
"""
import os
import re
import socket
import threading
import time
import traceback

MODULE = "process_checker"
_HELPER_WORDS = ("resource_tracker", "forkserver")
FIELDS = ("url", "status", "error", "elapsed")
HINT_VALUE = ("catch requests' exceptions inside check_url and return them as values: "
              "requests.Timeout -> error 'timeout' (catch it before ConnectionError: ConnectTimeout is both), "
              "requests.ConnectionError -> error 'connection'")
HINT_ORDER = "keep the results in input order: executor.map / pool.map do; imap_unordered and as_completed do not"
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
    """' (at process_checker.py:LINE in FUNC)' for the innermost frame in the student's files; for an
    exception a pool re-raised, the worker's line (the pool attaches its traceback as text)."""
    root = os.path.join(os.path.realpath(ctx.root), "")
    remote = getattr(exc.__cause__, "tb", None) or (str(exc.__cause__) if exc.__cause__ else "")
    found = None
    for path, line, fn in re.findall(r'File "([^"]+)", line (\d+), in (\S+)', remote or ""):
        if os.path.realpath(path).startswith(root):
            found = " in a worker process (at %s:%s in %s)" % (os.path.relpath(os.path.realpath(path), root), line, fn)
    if found:
        return found
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
                 hint="pass timeout= to every request; a worker that dies or a result never sent leaves the "
                      "parent waiting")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, ctx.CheckFailed):
            raise exc
        if isinstance(exc, NotImplementedError):
            hint = "this is still the starter's stub: write it"
        elif "pickl" in ("%s %s" % (type(exc).__name__, exc)).lower():
            hint = ("everything a worker process gets is pickled, and a function is pickled by its importable "
                    "name: give the pool (or Process) a function defined at the top level of process_checker.py, "
                    "or functools.partial of one - no lambda, no nested def")
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


def _kids(pid):
    """Direct children of `pid` (zombies included), from /proc/PID/task/*/children: cheap enough to poll."""
    found = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return found
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as fh:
                found.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            continue
    return found


def _state(pid):
    """(state letter, cmdline) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            stat = fh.read().decode(errors="replace")
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        return stat[stat.rindex(")") + 2:].split()[0], cmd
    except (OSError, ValueError, IndexError):
        return None


def _processes():
    """(live descendants, zombie children) of this process: pids, multiprocessing's helpers left out
    (the resource tracker, the fork server; the fork server's children do count)."""
    me = os.getpid()
    live, zombies, todo, seen = [], [], [me], {me}
    while todo:
        parent = todo.pop()
        for pid in _kids(parent):
            if pid in seen:
                continue
            seen.add(pid)
            info = _state(pid)
            if info is None:
                continue
            state, cmd = info
            if state in ("Z", "X"):
                if parent == me:
                    zombies.append(pid)
                continue
            todo.append(pid)
            if not (parent == me and any(w in cmd for w in _HELPER_WORDS)):
                live.append(pid)
    return sorted(live), sorted(zombies)


def _process_sampler():
    """Counts the worker processes alive while the student's call runs."""
    peak = {"n": 0, "pids": set(), "polls": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            live, _ = _processes()
            peak["polls"] += 1
            peak["pids"].update(live)
            peak["n"] = max(peak["n"], len(live))
            time.sleep(0.005)
    t = threading.Thread(target=sample, name="sampler", daemon=True)
    t.start()

    def stop():
        done.set()
        t.join()
        return peak
    return stop


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
               hint="start every request before waiting for any: a pool of `workers` processes, all busy at once (pool.map, not apply() in a loop)")


# --------------------------------------------------------------------------
# problem_solving

def bounded(ctx):
    """workers < N: never more than `workers` worker processes alive (client side) nor requests in flight
    (server side), but more than one request at once (it is concurrent)."""
    mod = _module(ctx)
    p = ctx.params
    w = p["workers"]
    routes = _table(ctx, p["urls"], [200], p["latency_ms"])
    ctx.http.configure(routes)
    urls = _urls(ctx, routes)
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), w)
    stop = _process_sampler()
    try:
        got, wall = _call(ctx, what, lambda: mod.check_urls(urls, workers=w, timeout=p["timeout"]), p["call_limit"])
    finally:
        procs = stop()
    _results(ctx, got, urls, what)
    peak = ctx.http.max_concurrent()
    ctx.expect(procs["n"] <= w, "%s: %d worker processes were alive at once (%d in all); at most %d allowed"
               % (what, procs["n"], len(procs["pids"]), w),
               hint="one pool of `workers` processes (ProcessPoolExecutor(max_workers=workers)), not a process "
                    "per URL")
    ctx.expect(peak <= w, "%s: the server saw %d requests in flight at once; at most %d allowed" % (what, peak, w),
               hint="one pool of `workers` processes, each checking one URL at a time")
    ctx.expect(peak >= p["min_in_flight"], "%s: the server never saw more than %d request(s) in flight at once; "
               "with workers=%d expected at least %d" % (what, peak, w, p["min_in_flight"]),
               hint="submit every URL before waiting for any result (pool.map, or submit() them all first); "
                    "pool.apply() waits for each one")


def no_orphans(ctx):
    """When check_urls returns, every worker process has exited and been joined: none alive, no zombie
    (twice in a row, so a pool kept between calls shows too)."""
    mod = _module(ctx)
    p = ctx.params
    routes = _table(ctx, p["urls"], [200, 404], p["latency_ms"])
    ctx.http.configure(routes)
    urls = _urls(ctx, routes)
    live, zombies = _processes()
    ctx.expect(not live and not zombies, "before the first call, %d child process(es) were alive and %d zombies "
               "(importing process_checker must not start processes)" % (len(live), len(zombies)),
               hint="start worker processes inside check_urls, not at import")
    for attempt in (1, 2):
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                       p["call_limit"])
        _results(ctx, got, urls, what)
        deadline = time.monotonic() + p["grace_s"]
        while True:
            live, zombies = _processes()
            if (not live and not zombies) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        ctx.expect(not live, "%s returned, but %d worker process(es) were still alive %.1f s later: pids %s"
                   % (what, len(live), p["grace_s"], ", ".join(map(str, live[:6]))),
                   hint="use the pool in a with-block, or close() and join() it (terminate() and join()) before "
                        "returning; never keep a pool in a global between calls")
        ctx.expect(not zombies, "%s returned, but %d child process(es) had finished without being joined "
                   "(zombies): pids %s" % (what, len(zombies), ", ".join(map(str, zombies[:6]))),
                   hint="join() every Process you start (or use a pool in a with-block, which joins its workers)")
