"""Workloads for lab-1.2, URL checker with processes (`process_checker.py`). Each records what the
student's code did; judge.py, which the submission never sees, plans the routes and gives the verdicts.

The student's API is the docstring of starter/lab-1.2/process_checker.py: check_url(url, timeout) and
check_urls(urls, workers, timeout), each giving CheckResult(url, status, error, elapsed) values, the
checks run in worker processes.

Every URL points at the grader's fixture HTTP server (ctx.http), whose routes the judge generates
from the item's params and the run's seed: a status and a latency per URL, and routes that never
answer (`timeout`) or reset the connection (`reset`). The workloads record the results as returned,
what the server saw (each request's path, arrival and answer), the wall time and the processes; the
judge compares the student's numbers with the server's. Wall-time limits are generous ratios of the
server's latencies (the machine is shared and noisy): "well under the sum", "near the slowest",
never tight absolute numbers.

Processes are read from /proc (each thread's `children` file, then each child's state): the worker
processes alive during a call, and after it both the live ones and the zombies (finished, never
joined). The `spawn` item runs under the spawn start method, which pickles everything a worker gets,
the function included. Every student call runs in a thread with a time limit, so a hang is reported
as such (here, in the run). Standard library only.
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


def _shape(value):
    """A returned value as the judge sees it: a list as it is, anything else by its type and repr."""
    if isinstance(value, list):
        return {"list": value}
    return {"type": type(value).__name__, "repr": repr(value)}


def _observe_results(ctx, key, got):
    """Records what check_urls returned: each result's four fields as they are (a result that lacks
    one, by its repr and the fields it lacks)."""
    if not isinstance(got, list):
        ctx.observe(key, _shape(got))
        return
    rows = []
    for r in got:
        missing = [f for f in FIELDS if not hasattr(r, f)]
        rows.append({"missing": missing, "repr": repr(r)} if missing else [r.url, r.status, r.error, r.elapsed])
    ctx.observe(key, {"list": rows})


def _observe_server(ctx, key="requests"):
    """What the fixture server saw: [path, start_ms, end_ms] per request (end_ms None: no answer)."""
    ctx.observe(key, [[r["path"], r["start_ms"], r["end_ms"]] for r in ctx.http.requests()])


def _urls(ctx, routes):
    return [ctx.http.url(r["path"]) for r in routes]


def _refused_url():
    """A loopback URL where nothing listens (a port just freed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d/nobody-listens" % port


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
    """check_urls on N URLs with mixed statuses and latencies (the judge's routes), the first `repeat` of
    them given again at the end; and check_urls([]). Records the results and what the server saw."""
    mod = _module(ctx)
    p = ctx.params
    got, _ = _call(ctx, "check_urls([])", lambda: mod.check_urls([], workers=p["workers"]), p["call_limit"])
    ctx.observe("empty", _shape(got))
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    ctx.observe("base", ctx.http.base)
    urls = _urls(ctx, routes)
    urls += urls[:p["repeat"]]
    what = "check_urls(%d URLs, the first %d given twice; workers=%d)" % (len(urls), p["repeat"], p["workers"])
    got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                   p["call_limit"])
    _observe_results(ctx, "results", got)
    _observe_server(ctx)


def errors_as_values(ctx):
    """URLs that never answer, reset or are refused, among good ones (routes and order: the judge's)."""
    mod = _module(ctx)
    p = ctx.params
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    ctx.observe("base", ctx.http.base)
    refused = _refused_url()
    ctx.observe("refused", refused)
    urls = [refused if i is None else ctx.http.url(routes[i]["path"]) for i in ctx.inputs["order"]]
    timeout = p["timeout"]
    what = "check_urls(%d URLs, %d never answering, %d reset, 1 refused; workers=%d, timeout=%s)" % (
        len(urls), p["never"], p["resets"], p["workers"], timeout)
    got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=timeout),
                   p["call_limit"])
    _observe_results(ctx, "results", got)


# --------------------------------------------------------------------------
# performance

def wall_time(ctx):
    """N URLs with workers >= N: records the wall time of check_urls, its results and the server's log."""
    mod = _module(ctx)
    p = ctx.params
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    ctx.observe("base", ctx.http.base)
    urls = _urls(ctx, routes)
    lats = [r["latency_ms"] for r in routes]
    what = "check_urls(%d URLs, latencies %d-%d ms, workers=%d)" % (len(urls), min(lats), max(lats), p["workers"])
    got, wall = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                      p["call_limit"])
    ctx.observe("wall", wall)
    _observe_results(ctx, "results", got)
    _observe_server(ctx)


# --------------------------------------------------------------------------
# problem_solving

def bounded(ctx):
    """workers < N: records the most worker processes alive at once (client side), its results and the
    server's log (requests in flight)."""
    mod = _module(ctx)
    p = ctx.params
    w = p["workers"]
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    ctx.observe("base", ctx.http.base)
    urls = _urls(ctx, routes)
    what = "check_urls(%d URLs, workers=%d)" % (len(urls), w)
    stop = _process_sampler()
    try:
        got, wall = _call(ctx, what, lambda: mod.check_urls(urls, workers=w, timeout=p["timeout"]), p["call_limit"])
    finally:
        procs = stop()
    ctx.observe("processes", {"n": procs["n"], "pids": sorted(procs["pids"]), "polls": procs["polls"]})
    _observe_results(ctx, "results", got)
    _observe_server(ctx)


def no_orphans(ctx):
    """Records the child processes alive and the zombies before the first call, then after each of two
    calls in a row (so a pool kept between calls shows too), `grace_s` after it returned."""
    mod = _module(ctx)
    p = ctx.params
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    ctx.observe("base", ctx.http.base)
    urls = _urls(ctx, routes)
    live, zombies = _processes()
    ctx.observe("before", {"live": live, "zombies": zombies})
    for attempt in (1, 2):
        what = "check_urls(%d URLs, workers=%d) (call %d)" % (len(urls), p["workers"], attempt)
        got, _ = _call(ctx, what, lambda: mod.check_urls(urls, workers=p["workers"], timeout=p["timeout"]),
                       p["call_limit"])
        _observe_results(ctx, "results_%d" % attempt, got)
        deadline = time.monotonic() + p["grace_s"]
        while True:
            live, zombies = _processes()
            if (not live and not zombies) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        ctx.observe("after_%d" % attempt, {"live": live, "zombies": zombies})
