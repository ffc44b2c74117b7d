"""Judgements for lab-1.4, performance comparison and GIL analysis (the workloads are in checks.py). Runs
outside the submission's process: the chunks' seed and the fixture server's routes are planned here, and
every verdict comes from what the workload recorded.

How each claim is judged:
- results: against the judge's own copy of crunch() (a student who edits crunch gains nothing) and
  against the routes planned here for the fixture HTTP server;
- where the CPU work ran: the workload swaps perf_compare.crunch for a recording wrapper and records
  the pid, thread and times of each call; here: how many calls, in which processes and threads, how many
  at once;
- I/O overlap: what the fixture server saw (requests in flight at once, and how long it was busy with
  them) against the planned latencies;
- the report's numbers: each I/O phase of compare() against the server's own record of it; the CPU
  numbers against the grader's own run of the student's cpu_threads and cpu_asyncio on the same chunks,
  judged by CPU time (cores kept busy = CPU seconds / wall seconds), which outside load can only lower:
  under the GIL they keep one core busy, so a reported speed-up of x1.6 or more for them is a
  contradiction however noisy this 2-core machine is (the student's own timing is noisy too: the claim
  must show in a second compare() as well). Processes need free cores, which a loaded machine
  may not give: their speed is the throughput item's, measured while nothing else runs.

Standard library only.
"""
import math

from grade_lib_values import decode as _decode
from grade_oracles import max_in_flight
from lab14_work import MODELS, chunks as _chunks, crunch as _crunch, report_from as _report_from

THRESHOLD = 1.3
WORKLOADS = ("cpu", "io")


# --------------------------------------------------------------------------
# helpers

def _expect_list(j, got, expected, what, hint=None):
    j.expect(isinstance(got, list), "%s returned %s, expected a list of %d results"
             % (what, type(got).__name__, len(expected)), hint="return a list, in the order of the input")
    j.expect(len(got) == len(expected), "%s returned %d results for %d inputs"
             % (what, len(got), len(expected)), hint=hint)
    for i, (g, e) in enumerate(zip(got, expected)):
        if isinstance(e, tuple):
            g = tuple(g) if isinstance(g, (list, tuple)) else g
        j.expect(g == e, "%s: result %d is %r, expected %r" % (what, i, g, e),
                 hint=hint or "results in the order of the input, one per input")


def _max_overlap(rows, key):
    """Most calls in progress at once, and the most distinct key(row) values among them."""
    events = sorted([(r[2], 1, i) for i, r in enumerate(rows)] + [(r[3], -1, i) for i, r in enumerate(rows)],
                    key=lambda e: (e[0], e[1]))
    inside, best, best_keys = set(), 0, 0
    for _, d, i in events:
        if d > 0:
            inside.add(i)
        else:
            inside.discard(i)
        best = max(best, len(inside))
        best_keys = max(best_keys, len({key(rows[k]) for k in inside}))
    return best, best_keys


def _rows(j, part):
    """The recorded crunch() calls of one part: [pid, thread, start, end] each."""
    rows = j.obs[part]["rows"]
    for r in rows:
        j.expect(isinstance(r, list) and len(r) == 4 and all(isinstance(v, (int, float)) for v in r),
                 "a recorded crunch() call is %r, not [pid, thread, start, end]" % (r,))
    return rows


# --------------------------------------------------------------------------
# completion_quality: the CPU-bound runners

def plan_cpu_models(j):
    return {"chunk_seed": j.rng.randrange(1000)}


def cpu_models(j):
    p = j.params
    chunks = _chunks(p["values"], p["chunks"], j.inputs["chunk_seed"])
    rounds = p["rounds"]
    expected = [_crunch(c, rounds) for c in chunks]
    me, main_tid = j.obs["pid"], j.obs["main_tid"]

    # threads
    w = p["thread_workers"]
    what = "cpu_threads(%d chunks, workers=%d, rounds=%d)" % (len(chunks), w, rounds)
    _expect_list(j, _decode(j.obs["threads"]["result"]), expected, what,
                 hint="pass rounds on to crunch(); results in the order of the chunks")
    rows = _rows(j, "threads")
    j.expect(len(rows) == len(chunks), "%s called crunch() %d times for %d chunks" % (what, len(rows), len(chunks)),
             hint="call the module's crunch() once per chunk (do not copy or replace it)")
    j.expect(all(r[0] == me for r in rows), "%s: crunch() ran in another process: threads share this one" % what,
             hint="use a ThreadPoolExecutor (or threading.Thread), not processes")
    tids = {r[1] for r in rows}
    j.expect(main_tid not in tids and len(tids) >= 2,
             "%s: crunch() ran in %d thread(s)%s; expected the chunks spread over worker threads"
             % (what, len(tids), " including the caller's" if main_tid in tids else ""),
             hint="submit every chunk to a pool of `workers` threads before waiting for any result")
    most, _ = _max_overlap(rows, key=lambda r: r[1])
    j.expect(2 <= most <= w, "%s: %d call(s) of crunch() were in progress at once; expected between 2 and "
             "workers=%d" % (what, most, w),
             hint="a pool of `workers` threads, all busy at once: ThreadPoolExecutor(max_workers=workers)")

    # processes
    w = p["process_workers"]
    what = "cpu_processes(%d chunks, workers=%d, rounds=%d)" % (len(chunks), w, rounds)
    _expect_list(j, _decode(j.obs["processes"]["result"]), expected, what,
                 hint="pass rounds on to crunch(); results in the order of the chunks")
    rows = _rows(j, "processes")
    j.expect(len(rows) == len(chunks), "%s called crunch() %d times for %d chunks" % (what, len(rows), len(chunks)),
             hint="call the module's crunch() once per chunk, in the workers (do not copy or replace it); "
                  "use the default start method (fork here): the grader watches crunch() in the workers "
                  "it forks")
    j.expect(all(r[0] != me for r in rows), "%s: crunch() ran %d time(s) in the calling process; all of it "
             "belongs in worker processes" % (what, sum(r[0] == me for r in rows)),
             hint="send every chunk to the pool; the parent only collects the results")
    most, procs = _max_overlap(rows, key=lambda r: r[0])
    j.expect(procs >= 2, "%s: crunch() never ran in two processes at once" % what,
             hint="start all the workers before waiting for any result: one pool of `workers` processes")
    j.expect(most <= w, "%s: %d chunks were crunched at once; at most workers=%d allowed" % (what, most, w),
             hint="bound the pool: ProcessPoolExecutor(max_workers=workers)")

    # asyncio
    what = "cpu_asyncio(%d chunks, rounds=%d)" % (len(chunks), rounds)
    _expect_list(j, _decode(j.obs["asyncio"]["result"]), expected, what,
                 hint="gather one task per chunk and return their results in order")
    rows = _rows(j, "asyncio")
    loop_tid = j.obs["asyncio"]["loop_tid"]
    j.expect(len(rows) == len(chunks), "%s called crunch() %d times for %d chunks" % (what, len(rows), len(chunks)),
             hint="call the module's crunch() once per chunk")
    j.expect(all(r[0] == me and r[1] == loop_tid for r in rows),
             "%s: crunch() ran outside the event loop's thread (%d of %d calls)"
             % (what, sum(r[0] != me or r[1] != loop_tid for r in rows), len(rows)),
             hint="cpu_asyncio shows what asyncio alone does with CPU-bound work: run crunch() inside the "
                  "coroutines, without an executor or asyncio.to_thread")

    # edges: nothing to do, more workers than chunks, the default rounds
    one = _crunch(chunks[0])
    edges = [("cpu_threads([], 2)", [], "no chunks: return [] (and start no pool)"),
             ("cpu_processes([], 2)", [], "no chunks: return [] (and start no pool)"),
             ("cpu_asyncio([])", [], None),
             ("cpu_processes(1 chunk, workers=4)", [one],
              "the default rounds is ROUNDS (8); a pool larger than the work still returns it all"),
             ("cpu_threads(1 chunk, workers=4)", [one], "the default rounds is ROUNDS (8)")]
    got = j.obs["edges"]
    j.expect(len(got) == len(edges), "the run recorded %d of the %d edge calls" % (len(got), len(edges)))
    for (what, expected, hint), result in zip(edges, got):
        _expect_list(j, _decode(result), expected, what, hint=hint)


# --------------------------------------------------------------------------
# completion_quality: the I/O-bound runners against the fixture server

def _plan_table(j, prefix):
    """The server's routes: a status, a body length and a latency (ms) each."""
    p = j.params
    statuses, lat = p.get("statuses", [200]), p["latency_ms"]
    routes = []
    for i in range(p["urls"]):
        status = j.rng.choice(statuses)
        length = j.rng.randint(0, 300)
        routes.append({"path": "%s/%d" % (prefix, i), "status": status, "body": "x" * length,
                       "content_type": "text/plain", "latency_ms": j.rng.randint(lat[0], lat[1])})
    return {"routes": routes}


def _max_concurrent(reqs):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    return max_in_flight((r["start_ms"], r["end_ms"]) for r in reqs)


def _requests(j, name="requests"):
    """What the server saw: {path, start_ms, end_ms} per request."""
    return [{"path": path, "start_ms": start, "end_ms": end} for path, start, end in j.obs[name]]


def _io_overlap(j, runner, bound_name, hint_results, hint_overlap):
    p = j.params
    routes = j.inputs["routes"]
    bound = p[bound_name]
    what = "%s(%d URLs, %s=%d)" % (runner, len(routes), bound_name, bound)
    expected = [(r["status"], len(r["body"])) for r in routes]
    _expect_list(j, _decode(j.obs["result"]), expected, what, hint=hint_results)

    reqs = _requests(j)
    wall = j.number("wall")
    counts = {}
    for r in reqs:
        counts[r["path"]] = counts.get(r["path"], 0) + 1
    twice = sorted(path for path, c in counts.items() if c > 1)
    j.expect(not twice, "%s fetched %s %d times" % (what, twice[0], counts[twice[0]]) if twice else "",
             hint="fetch every URL exactly once")
    peak = _max_concurrent(reqs)
    total = sum(r["latency_ms"] for r in routes) / 1000.0
    j.expect(peak <= bound, "%s: the server saw %d requests in flight at once; at most %d allowed"
             % (what, peak, bound), hint="bound the concurrency as the docstring says")
    j.expect(peak >= p["min_in_flight"],
             "%s: the server never saw more than %d request(s) in flight at once (expected at least %d): the "
             "requests did not overlap" % (what, peak, p["min_in_flight"]), hint=hint_overlap)
    # The server's span (first arrival to last answer) leaves out the client's start-up (forking workers,
    # importing aiohttp), which a loaded machine can make long; overlapping or not shows in it all the same.
    starts = [r["start_ms"] for r in reqs]
    ends = [r["end_ms"] for r in reqs if r["end_ms"] is not None]
    span = (max(ends) - min(starts)) / 1000.0 if starts and ends else wall
    limit = p["max_share_of_sum"] * total
    j.expect(span <= limit, "%s: the server was busy with the requests for %.2f s (the call took %.2f s); the "
             "latencies add up to %.2f s, so overlapping requests finish within %.2f s (the server saw at most "
             "%d in flight)" % (what, span, wall, total, limit, peak), hint=hint_overlap)
    _expect_list(j, _decode(j.obs["empty"]), [], "%s([], %d)" % (runner, bound), hint="no URLs: return []")


def plan_io_threads_overlap(j):
    return _plan_table(j, "/thr")


def io_threads_overlap(j):
    _io_overlap(j, "io_threads", "workers",
                hint_results="return fetch(url) for each URL: (status, body length), in order",
                hint_overlap="submit every URL to the pool before waiting for any result (calling .result() "
                             "right after each submit() waits for one request at a time)")


def plan_io_processes_overlap(j):
    return _plan_table(j, "/proc")


def io_processes_overlap(j):
    _io_overlap(j, "io_processes", "workers",
                hint_results="return fetch(url) for each URL: (status, body length), in order",
                hint_overlap="map the URLs over a pool of `workers` processes: every worker busy at once")


def plan_io_asyncio_overlap(j):
    return _plan_table(j, "/aio")


def io_asyncio_overlap(j):
    _io_overlap(j, "io_asyncio", "limit",
                hint_results="return (status, body length) for each URL, in order",
                hint_overlap="await the requests together (asyncio.gather) under an asyncio.Semaphore(limit), "
                             "with an async client (aiohttp): a blocking call inside a coroutine stops every "
                             "other task")


# --------------------------------------------------------------------------
# completion_quality: measure()

def _expect_measurement(j, m, what):
    j.expect(isinstance(m, dict), "%s returned %s, expected a dict" % (what, type(m).__name__),
             hint='return {"result": ..., "seconds": ..., "peak_mb": ...}')
    missing = [k for k in ("result", "seconds", "peak_mb") if k not in m]
    j.expect(not missing, "%s: the dict has no %s" % (what, ", ".join(missing)),
             hint='return {"result": ..., "seconds": ..., "peak_mb": ...}')
    for key in ("seconds", "peak_mb"):
        v = m[key]
        j.expect(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0,
                 "%s: %s is %r, expected a number >= 0" % (what, key, v))


def measure_peak(j):
    p = j.params
    nbytes = p["alloc_mb"] * 2 ** 20

    what = "measure(time.sleep-then-return, ...)"
    m = _decode(j.obs["sleep"])
    _expect_measurement(j, m, what)
    j.expect_eq(m["result"], "done", "%s: result (what fn returned)" % what)
    j.expect(p["sleep_s"] * 0.9 <= m["seconds"] <= p["sleep_s"] + 1.0,
             "%s: seconds is %.3f for a call that sleeps %.2f s" % (what, m["seconds"], p["sleep_s"]),
             hint="seconds: wall time of the call, time.perf_counter() after minus before")
    j.expect(m["peak_mb"] < p["idle_max_mb"], "%s: peak_mb is %.1f for a call that allocates nothing"
             % (what, m["peak_mb"]), hint="peak_mb is above the memory in use just before the call")

    what = "measure(fn) where fn holds %d MiB for %.2f s" % (p["alloc_mb"], p["hold_s"])
    m = _decode(j.obs["hold"])
    _expect_measurement(j, m, what)
    j.expect_eq(m["result"], nbytes, "%s: result" % what)
    lo, hi = p["alloc_mb"] * p["low_share"], p["alloc_mb"] * p["high_share"]
    j.expect(lo <= m["peak_mb"] <= hi, "%s: peak_mb is %.1f, expected between %.0f and %.0f"
             % (what, m["peak_mb"], lo, hi),
             hint="sample tree_rss_bytes() from a second thread every few ms while fn runs; report the highest "
                  "sample minus the one taken just before the call, in MiB (2**20 bytes)")

    what = "measure(fn) where fn's child process holds %d MiB for %.2f s" % (p["alloc_mb"], p["child_hold_s"])
    m = _decode(j.obs["child"])
    _expect_measurement(j, m, what)
    j.expect_eq(m["result"], 0, "%s: result (the child's exit code)" % what)
    j.expect(m["peak_mb"] >= lo, "%s: peak_mb is %.1f; the child alone held %d MiB, so at least %.0f expected: "
             "memory of child processes must count" % (what, m["peak_mb"], p["alloc_mb"], lo),
             hint="tracemalloc and ru_maxrss of this process see only this process; sample tree_rss_bytes(), "
                  "which adds up this process and all its descendants")


# --------------------------------------------------------------------------
# problem_solving: classify()

def _expected_class(speedups):
    v = {m: ("speedup" if speedups[m] >= THRESHOLD else "no-speedup") for m in MODELS}
    if v["threading"] == "speedup":
        v["bound"] = "io"
    elif v["multiprocessing"] == "speedup":
        v["bound"] = "cpu"
    else:
        v["bound"] = "unclear"
    if any(v[m] == "speedup" for m in MODELS):
        best = MODELS[0]
        for m in MODELS[1:]:
            if speedups[m] > speedups[best]:
                best = m
        v["best"] = best
    else:
        v["best"] = "serial"
    return v


def classify_tables(j):
    cases = j.params["cases"]
    recorded = j.obs["cases"]
    j.expect(len(recorded) == len(cases), "the run recorded %d of the %d classify() calls"
             % (len(recorded), len(cases)))
    for case, rec in zip(cases, recorded):
        name = case["name"]
        table = {"cpu": case["cpu"], "io": case["io"]}
        j.expect(_decode(rec["report_after"]) == _report_from(table),
                 "classify() changed the report it was given (%s)" % name,
                 hint="read the report, build a new dict")
        got = _decode(rec["result"])
        j.expect(isinstance(got, dict) and set(got) >= set(WORKLOADS),
                 "classify(%s) returned %r, expected a dict with the keys 'cpu' and 'io'" % (name, got))
        for workload in WORKLOADS:
            want = _expected_class(table[workload])
            have = got[workload]
            j.expect(isinstance(have, dict), "classify(%s)[%r] is %r, expected a dict" % (name, workload, have))
            for key in MODELS + ("bound", "best"):
                shown = ", ".join("%s x%.2f" % (m, table[workload][m]) for m in MODELS)
                j.expect(have.get(key) == want[key],
                         "classify(%s)[%r][%r] is %r, expected %r (speed-ups: %s)"
                         % (name, workload, key, have.get(key), want[key], shown),
                         hint=case.get("hint") or "follow the rules of classify()'s docstring to the letter")


# --------------------------------------------------------------------------
# problem_solving: compare() - the report, against what the grader measures

def _number(j, v, what):
    j.expect(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
             "compare(): %s is %r, expected a finite number" % (what, v))
    return float(v)


def _check_shape(j, report):
    j.expect(isinstance(report, dict), "compare() returned %s, expected a dict" % type(report).__name__)
    missing = [k for k in WORKLOADS + ("classification",) if k not in report]
    j.expect(not missing, "compare(): the report has no %s" % ", ".join(repr(k) for k in missing),
             hint='keys "cpu", "io" and "classification"')
    j.expect(isinstance(report["classification"], dict), "compare(): report['classification'] is %r, expected "
             "the dict classify() returns" % (report["classification"],))
    for w in WORKLOADS:
        for m in ("serial",) + MODELS:
            e = report[w].get(m) if isinstance(report[w], dict) else None
            j.expect(isinstance(e, dict), "compare(): report[%r][%r] is missing" % (w, m))
            keys = ("seconds", "peak_mb") + (("speedup",) if m != "serial" else ())
            for k in keys:
                j.expect(k in e, "compare(): report[%r][%r] has no %r" % (w, m, k))
                _number(j, e[k], "report[%r][%r][%r]" % (w, m, k))
            j.expect(e["seconds"] > 0, "compare(): report[%r][%r]['seconds'] is %r" % (w, m, e["seconds"]))
            j.expect(e["peak_mb"] >= 0, "compare(): report[%r][%r]['peak_mb'] is %r" % (w, m, e["peak_mb"]))
        serial = report[w]["serial"]["seconds"]
        for m in MODELS:
            e = report[w][m]
            j.expect(math.isclose(e["speedup"], serial / e["seconds"], rel_tol=0.01),
                     "compare(): report[%r][%r]['speedup'] is %.3f, but serial seconds / its seconds = %.3f / "
                     "%.3f = %.3f" % (w, m, e["speedup"], serial, e["seconds"], serial / e["seconds"]),
                     hint="speedup = serial seconds / the model's seconds, from the same measurements")


def _io_phases(j, n):
    """The server's record of compare()'s four I/O phases, in arrival order: [(paths, span_s)]."""
    reqs = sorted(_requests(j), key=lambda r: r["start_ms"])
    j.expect(len(reqs) == 4 * n, "compare(): the server saw %d requests for %d URLs; expected %d (each URL "
             "once per phase: serial, threading, multiprocessing, asyncio)" % (len(reqs), n, 4 * n),
             hint="measure each I/O model once, in the docstring's order")
    phases = []
    for k in range(4):
        part = reqs[k * n:(k + 1) * n]
        ends = [r["end_ms"] for r in part if r["end_ms"] is not None]
        span = (max(ends) - min(r["start_ms"] for r in part)) / 1000.0 if ends else 0.0
        phases.append(({r["path"] for r in part}, span))
    return phases


def plan_compare_report(j):
    return _plan_table(j, "/cmp")


def compare_report(j):
    p = j.params
    report = _decode(j.obs["report"])
    _check_shape(j, report)

    # the classification is classify() of the report's own numbers
    mine = _decode(j.obs["classified"])
    j.expect(isinstance(mine, dict) and all(isinstance(mine.get(w), dict) for w in WORKLOADS),
             "classify() of compare()'s own report returned %r, expected {'cpu': {...}, 'io': {...}}" % (mine,))
    for w in WORKLOADS:
        for key in MODELS + ("bound", "best"):
            entry = report["classification"].get(w)
            got = entry.get(key) if isinstance(entry, dict) else None
            j.expect(got == mine[w].get(key), "compare(): classification[%r][%r] is %r, but classify() of the "
                     "report's own numbers gives %r" % (w, key, got, mine[w].get(key)),
                     hint='report["classification"] = classify(report): the verdicts come from the numbers')

    # peak memory per model: worker processes are whole interpreters, threads are not
    for w in WORKLOADS:
        mp_mb, th_mb = report[w]["multiprocessing"]["peak_mb"], report[w]["threading"]["peak_mb"]
        j.expect(mp_mb > th_mb and mp_mb >= p["min_process_mb"],
                 "compare(): the %s workload's peak memory is %.1f MiB with processes and %.1f MiB with threads; "
                 "worker processes (each a whole interpreter) must show at least %.0f MiB more than nothing, and "
                 "more than threads" % (w, mp_mb, th_mb, p["min_process_mb"]),
                 hint="measure() each run with tree_rss_bytes(), which counts the worker processes too")

    # I/O: the report against the server's record of each phase
    routes = j.inputs["routes"]
    lat = [r["latency_ms"] / 1000.0 for r in routes]
    all_paths = {r["path"] for r in routes}
    for (paths, span), name in zip(_io_phases(j, len(routes)), ("serial",) + MODELS):
        j.expect(paths == all_paths, "compare(): the server's requests do not fall into four phases of the %d "
                 "URLs each (the %s phase is mixed up with another)" % (len(routes), name),
                 hint="measure the I/O models one after another, each fetching every URL once")
        rep = report["io"][name]["seconds"]
        j.expect(rep >= 0.9 * span - 0.005,
                 "compare(): the I/O %s run is reported as %.3f s, but the server was busy with it for %.3f s"
                 % (name, rep, span), hint="report the measured wall time of the run itself")
        j.expect(rep <= span + p["io_slack_s"],
                 "compare(): the I/O %s run is reported as %.3f s, but the server was busy with it for only "
                 "%.3f s" % (name, rep, span), hint="report the measured wall time of the run itself")
    j.expect(report["io"]["serial"]["seconds"] >= 0.9 * sum(lat),
             "compare(): the serial I/O run is reported as %.3f s; its latencies alone add up to %.3f s"
             % (report["io"]["serial"]["seconds"], sum(lat)))

    # CPU: the report against the grader's own measurement of the same runners on the same chunks, by CPU
    # time, which outside load cannot raise: cores kept busy = CPU seconds / wall seconds. Under the GIL,
    # threads and asyncio keep one core busy (about 1.0), whatever the machine is doing; a reported
    # speed-up of `claim` or more for them contradicts that. Processes need free cores, which a loaded
    # machine may not give: their speed is judged by the throughput item, measured alone.
    own = _decode(j.obs["serial"])
    wall, cpu = own["wall"], own["cpu"]
    j.expect(all(isinstance(v, (int, float)) and v >= 0 for v in (wall, cpu)),
             "the grader's own serial run recorded %r" % (own,))
    serial_rep = report["cpu"]["serial"]["seconds"]
    j.expect(serial_rep >= p["serial_band"][0] * cpu,
             "compare(): the serial CPU run is reported as %.3f s, but crunching the same chunks takes %.3f s of "
             "CPU time" % (serial_rep, cpu), hint="report the measured wall time of cpu_serial(chunks)")
    j.expect(serial_rep <= p["serial_band"][1] * wall,
             "compare(): the serial CPU run is reported as %.3f s; the grader crunches the same chunks in %.3f s"
             % (serial_rep, wall), hint="report the measured wall time of cpu_serial(chunks)")
    runners = {"threading": "cpu_threads", "asyncio": "cpu_asyncio"}
    busy, measured = {}, _decode(j.obs["busy"])
    for m, name in runners.items():
        cpu, wall = measured[m]
        j.expect(isinstance(cpu, (int, float)) and isinstance(wall, (int, float)) and wall > 0,
                 "the grader's own run of %s recorded %r" % (name, measured[m]))
        busy[m] = (cpu / wall, cpu, wall)
        j.expect(busy[m][0] < THRESHOLD,
                 "your %s kept %.2f cores busy on the CPU-bound workload (%.3f s of CPU in %.3f s): under the GIL "
                 "it cannot use more than one" % (name, cpu / wall, cpu, wall),
                 hint="cpu_threads and cpu_asyncio must run crunch() in this process's threads / event loop")
    claims = [m for m in runners if report["cpu"][m]["speedup"] >= p["claim"] and busy[m][0] < p["none"]]
    if claims:
        # The student's own timing is noisy on a loaded machine too: a contradiction must show twice, as a
        # missed throughput target is measured once more. (A second compare(): the CPU numbers only.)
        again = _decode(j.obs["again"])
        _check_shape(j, again)
        claims = [m for m in claims if again["cpu"][m]["speedup"] >= p["claim"]]
        for m in claims:
            cores, cpu, wall = busy[m]
            j.fail("compare(): the report claims a x%.2f speed-up for %s on the CPU-bound workload (x%.2f on a "
                   "second run), but your %s, run by the grader on the same chunks, kept only %.2f cores busy "
                   "(%.3f s of CPU in %.3f s): at most x%.2f is possible"
                   % (report["cpu"][m]["speedup"], m, again["cpu"][m]["speedup"], runners[m], cores, cpu,
                      wall, max(cores, 1.0)),
                   hint="report what you measured: the wall time of the whole run, not a per-worker or "
                        "theoretical figure")


# --------------------------------------------------------------------------
# performance: memory of cpu_processes

def memory_processes(j):
    p = j.params
    n, k = p["values"], p["chunks"]
    values = range(1000, 1000 + n)  # the workload's values
    chunks = [values[i * n // k:(i + 1) * n // k] for i in range(k)]
    w, rounds = p["workers"], p["rounds"]
    what = "cpu_processes(%d chunks of %d values, workers=%d, rounds=%d)" % (len(chunks), len(chunks[0]), w, rounds)
    calls = j.obs["calls"]
    j.expect(len(calls) == p["calls"], "the run recorded %d of the %d calls of cpu_processes"
             % (len(calls), p["calls"]))
    for rec in calls:
        got = _decode(rec)
        j.expect(isinstance(got, list) and len(got) == len(chunks), "%s returned %d results"
                 % (what, len(got) if isinstance(got, list) else -1))
        key = (n, k, rounds)
        if key not in _CRUNCHED:  # the student's run and the reference's are judged in one judge process
            _CRUNCHED[key] = [_crunch(c, rounds) for c in chunks]
        for i, (g, e) in enumerate(zip(got, _CRUNCHED[key])):
            j.expect(g == e, "%s: result %d is wrong" % (what, i))


_CRUNCHED = {}
