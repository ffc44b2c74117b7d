"""Checks for deliverable-5: an async API client with retries, exponential backoff and a circuit breaker.

Every property is measured on the grader's fixture HTTP server (ctx.http): how many requests reached it,
when (the gaps between retries), how many were in flight at once, and nothing while the breaker is open.
The student's coroutines run on ctx.run_async's watched loop, so a blocking call in a coroutine, a task
left pending, a never-awaited coroutine or an unclosed aiohttp session fails the item with its line.
Student API: the docstring of starter/deliverable-5/api_client.py.
"""
import asyncio
import math
import os

HINT_4XX = "a 4xx says the request itself is wrong: raise HttpError(status) at once, no retry"
HINT_RETRY = ("retry on status >= 500, aiohttp.ClientError and a timeout; after max_retries retries raise "
              "RetriesExhausted (never return None)")
HINT_BACKOFF = ("before retry k (1, 2, ...) await asyncio.sleep(min(max_delay, base_delay * 2 ** (k - 1)) "
                "* (1 - jitter * random.random()))")
HINT_OPEN = ("count consecutive failed attempts in the client (not per call); at breaker_threshold, open: "
             "every attempt, retries included, raises CircuitOpenError without a request")
HINT_HALF = ("once breaker_reset_s has passed, let exactly one attempt through (half-open) and refuse the "
             "others until it ends: success closes the breaker, failure re-opens it for another reset_s")


# ---------------------------------------------------------------------------------------------
# helpers


def _api(ctx):
    return ctx.student("api_client")


def _client(ctx, api, **kw):
    """ApiClient on the fixture server; settings not given are neutral for the item at hand."""
    settings = dict(max_retries=0, base_delay=0.01, max_delay=0.05, jitter=0.0, breaker_threshold=1000,
                    breaker_reset_s=60.0, timeout_s=2.0, concurrency=10)
    settings.update(kw)
    return api.ApiClient(ctx.http.base, **settings)


def _settings(**kw):
    return ", ".join("%s=%r" % kv for kv in sorted(kw.items()))


def _where(exc):
    """' (api_client.py:NN)' for the innermost line of the student's file in the exception's traceback."""
    tb, site = exc.__traceback__, None
    while tb is not None:
        if os.path.basename(tb.tb_frame.f_code.co_filename) == "api_client.py":
            site = tb.tb_lineno
        tb = tb.tb_next
    return " (api_client.py:%d)" % site if site else ""


def _show(outcome):
    kind, value = outcome[0], outcome[1]
    if kind == "ok":
        return "returned %r" % (value,)
    return "raised %s: %s%s" % (type(value).__name__, value, _where(value))


async def _call(client, path):
    """(kind, value, seconds): ('ok', result) or ('raised', exception)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        value = await client.get_json(path)
    except Exception as exc:  # judged by the check, with the student's line
        return ("raised", exc, loop.time() - t0)
    return ("ok", value, loop.time() - t0)


def _raised(outcome, cls):
    return outcome[0] == "raised" and isinstance(outcome[1], cls)


async def _reset_server(ctx):
    """Restart the server's clock and counters from inside the loop (the check's call, off the loop)."""
    await asyncio.to_thread(ctx.http.reset)


def _by_path(reqs, path):
    return sorted((r for r in reqs if r["path"] == path), key=lambda r: r["start_ms"])


def _gaps_text(gaps):
    return "[" + ", ".join("%.0f" % g for g in gaps) + "] ms"


# ---------------------------------------------------------------------------------------------
# completion_quality


def retry_policy(ctx):
    """What is retried and what is not, each call on its own client (run concurrently):
    - 2xx: the parsed body, one GET to base_url + path;
    - 4xx: HttpError(status) after exactly one request, and no breaker failure;
    - 500, 503, a TCP reset, a request never answered, a body trickled past timeout_s: retried to success
      with exactly the requests needed;
    - a server that always fails: RetriesExhausted after max_retries + 1 requests, never None."""
    api = _api(ctx)
    p = ctx.params
    for name in ("HttpError", "RetriesExhausted", "CircuitOpenError"):
        cls = getattr(api, name, None)
        ctx.expect(isinstance(cls, type) and issubclass(cls, Exception),
                   "api_client.%s must be an Exception subclass (got %r)" % (name, cls))
    ctx.expect(len({api.HttpError, api.RetriesExhausted, api.CircuitOpenError}) == 3,
               "HttpError, RetriesExhausted and CircuitOpenError must be three distinct classes")
    bodies, statuses, cases = p["bodies"], p["statuses"], p["cases"]
    retries, th = p["max_retries"], p["threshold"]

    async def plain():
        async with _client(ctx, api, max_retries=retries) as client:
            return [await _call(client, path) for path in bodies]

    async def client_errors():
        async with _client(ctx, api, max_retries=retries, base_delay=0.05) as client:
            return [await _call(client, path) for path in statuses]

    async def not_failures():
        async with _client(ctx, api, max_retries=0, breaker_threshold=th) as client:
            again = [await _call(client, "/again/%d" % i) for i in range(th + 1)]
            return again, await _call(client, "/ok")

    async def transient(timed):
        # the timed faults on a client with a short timeout_s; the others on a generous one, which no
        # machine load can exhaust
        async with _client(ctx, api, max_retries=retries, base_delay=0.01, max_delay=0.02,
                           timeout_s=p["timeout_s"] if timed else 2.0) as client:
            return await asyncio.gather(*(_call(client, path) for path, case in cases.items()
                                          if bool(case.get("timed")) == timed))

    async def main():
        return await asyncio.gather(plain(), client_errors(), not_failures(), transient(False), transient(True))
    got_plain, got_4xx, (again, ok), untimed, timed = ctx.run_async(main, timeout=p["timeout"], slow_ms=250)
    order = [path for path, case in cases.items() if not case.get("timed")] + \
        [path for path, case in cases.items() if case.get("timed")]
    by_path = dict(zip(order, untimed + timed))
    counts = ctx.http.counts()

    for (path, body), outcome in zip(bodies.items(), got_plain):
        ctx.expect(outcome[:2] == ("ok", body),
                   "get_json(%r) against a 200 answer with body %r %s" % (path, body, _show(outcome)),
                   hint="return the parsed JSON body (json.loads of the body, or resp.json(content_type=None))")
    methods = sorted({r["method"] for r in ctx.http.requests()})
    ctx.expect(methods == ["GET"], "get_json must send GET requests; the server saw %s" % methods)
    for path in bodies:
        ctx.expect(counts.get(path, 0) == 1, "get_json(%r) (a 200 answer): the server saw %d requests, expected 1"
                   % (path, counts.get(path, 0)))

    for (path, status), outcome in zip(statuses.items(), got_4xx):
        n = counts.get(path, 0)
        ctx.expect(n == 1, "get_json(%r) against a %d answer (max_retries=%d): the server saw %d requests; a "
                   "4xx must not be retried" % (path, status, retries, n), hint=HINT_4XX)
        ctx.expect(_raised(outcome, api.HttpError) and getattr(outcome[1], "status", None) == status,
                   "get_json(%r) against a %d answer %s; expected HttpError with .status == %d"
                   % (path, status, _show(outcome), status), hint=HINT_4XX)
    ctx.expect(ok[0] == "ok", "with breaker_threshold=%d, after %d calls answered 404, get_json('/ok') %s: "
               "a 4xx is an answer from a healthy server, it must not count as a breaker failure"
               % (th, len(again), _show(ok)),
               hint="only retryable failures (5xx, connection errors, timeouts) count; any answer below 500 "
                    "resets the count")

    for path, case in cases.items():
        outcome = by_path[path]
        n, want_n, fault = counts.get(path, 0), case.get("requests"), case.get("fault")
        if path == p["always_failing"]:
            ctx.expect(not (outcome[0] == "ok" and outcome[1] is None),
                       "get_json(%r): the server answers 502 every time; after %d attempts the call returned "
                       "None. The caller cannot tell that from a JSON null: raise RetriesExhausted"
                       % (path, n), hint=HINT_RETRY)
            ctx.expect(_raised(outcome, api.RetriesExhausted),
                       "get_json(%r), max_retries=%d, against a server that answers 502 every time %s; "
                       "expected RetriesExhausted" % (path, retries, _show(outcome)), hint=HINT_RETRY)
            ctx.expect(n == retries + 1, "get_json(%r) with max_retries=%d against a server that always fails: "
                       "the server saw %d requests, expected %d (the first attempt and %d retries)"
                       % (path, retries, n, retries + 1, retries), hint=HINT_RETRY)
            exc = outcome[1]
            ctx.expect(getattr(exc, "attempts", None) == retries + 1 and getattr(exc, "last_error", None)
                       is not None, "RetriesExhausted after %d attempts has attempts=%r, last_error=%r; expected "
                       "attempts=%d and the last attempt's exception" % (n, getattr(exc, "attempts", None),
                                                                         getattr(exc, "last_error", None),
                                                                         retries + 1), hint=HINT_RETRY)
            continue
        ctx.expect(outcome[0] == "ok", "get_json(%r) (%s, then 200; max_retries=%d) %s; it should have "
                   "retried and returned the body" % (path, fault, retries, _show(outcome)), hint=HINT_RETRY)
        # A timed-out attempt may be followed by one that a loaded machine also makes time out.
        top = want_n + 1 if case.get("timed") else want_n
        ctx.expect(want_n <= n <= top, "get_json(%r) (%s, then 200): the server saw %d requests, expected %d"
                   % (path, fault, n, want_n), hint=HINT_RETRY)
        if case.get("timed"):
            ctx.expect(outcome[2] < p["call_limit_s"],
                       "get_json(%r) (%s, timeout_s=%.2f) took %.2f s: the attempt was not cut off at "
                       "timeout_s (the server would have held it for %.1f s)"
                       % (path, fault, p["timeout_s"], outcome[2], p["hold_s"]),
                       hint="bound each attempt, body included: async with asyncio.timeout(timeout_s) "
                            "(or aiohttp.ClientTimeout(total=timeout_s))")


def _gap_faults(gaps, delays, allowance, jitter=0.0):
    """(lower, upper): the first gap under its lower bound and the first over its upper bound, as
    (retry number, gap, bound), or None. Noise (the client's and the server's scheduling) only ever
    lengthens a gap: by 1-80 ms on a loaded machine, now and then by a stall of 200 ms or more."""
    lower = upper = None
    for k, (g, d) in enumerate(zip(gaps, delays), start=1):
        low = 0.9 * (1 - jitter) * d - 2
        if lower is None and g < low:
            lower = (k, g, low)
        if upper is None and g > d + allowance:
            upper = (k, g, d + allowance)
    return lower, upper


def _lower_message(label, fault, gaps, delays, jitter):
    k, g, low = fault
    return ("%s: retry %d reached the server %.0f ms after the attempt before it; expected at least %.0f ms "
            "(delay %.0f ms%s). Gaps %s for delays %s. Retrying sooner than the backoff adds load just when "
            "the server fails: from many clients, a retry storm"
            % (label, k, g, low, delays[k - 1], " less jitter" if jitter else "", _gaps_text(gaps),
               _gaps_text(delays)))


def _upper_message(label, fault, gaps, delays):
    k, g, top = fault
    return ("%s: retry %d reached the server %.0f ms after the attempt before it (the shorter of two runs); its "
            "delay is %.0f ms (allowed up to %.0f ms). Gaps %s for delays %s: does the delay grow faster than "
            "doubling, start at 2 x base_delay, or ignore max_delay?"
            % (label, k, g, delays[k - 1], top, _gaps_text(gaps), _gaps_text(delays)))


def backoff(ctx):
    """Gaps between retries, on the server's clock: doubling from base_delay, capped at max_delay, and
    spread down by up to jitter x the delay when jitter is set. Lower bounds are checked on every run;
    when an upper bound or the jitter test misses, everything is measured once more and each gap's
    shorter value kept (noise only lengthens gaps, so a stall of the machine does not fail a client)."""
    api = _api(ctx)
    scen = ctx.params["scenarios"]
    jit = ctx.params["jitter"]
    allowance = ctx.params["allowance_ms"]

    async def run(s, path):
        async with _client(ctx, api, max_retries=s["max_retries"], base_delay=s["base_delay"],
                           max_delay=s["max_delay"]) as client:
            return await _call(client, path)

    async def jittered():
        async with _client(ctx, api, max_retries=jit["max_retries"], base_delay=jit["delay"],
                           max_delay=jit["delay"], jitter=jit["jitter"]) as client:
            return await asyncio.gather(*(_call(client, "/j/%d" % i) for i in range(jit["calls"])))

    async def main():
        return await asyncio.gather(jittered(), *(run(s, s["path"]) for s in scen))

    d = 1000 * jit["delay"]
    jsettings = _settings(max_retries=jit["max_retries"], base_delay=jit["delay"], max_delay=jit["delay"],
                          jitter=jit["jitter"])
    # (label, path, delays, jitter) of every series of retries
    series = [("ApiClient(%s).get_json(%r) against a server that always answers 503" % (
        _settings(max_retries=s["max_retries"], base_delay=s["base_delay"], max_delay=s["max_delay"]), s["path"]),
        s["path"], [1000 * min(s["max_delay"], s["base_delay"] * 2 ** k) for k in range(s["max_retries"])], 0.0)
        for s in scen]
    series += [("ApiClient(%s).get_json('/j/%d'), always 503" % (jsettings, i), "/j/%d" % i,
                [d] * jit["max_retries"], jit["jitter"]) for i in range(jit["calls"])]

    def measure():
        got_jit, *got = ctx.run_async(main, timeout=ctx.params["timeout"], slow_ms=250)
        for (label, _, _, _), outcome in zip(series, got + got_jit):
            ctx.expect(_raised(outcome, api.RetriesExhausted), "%s %s; expected RetriesExhausted"
                       % (label, _show(outcome)), hint=HINT_RETRY)
        reqs = ctx.http.requests()
        measured = {}
        for label, path, delays, jitter in series:
            gaps = ctx.http.gaps(path, reqs)
            ctx.expect(len(gaps) == len(delays), "%s: the server saw %d requests, expected %d (the first attempt "
                       "and %d retries)" % (label, len(gaps) + 1, len(delays) + 1, len(delays)), hint=HINT_RETRY)
            lower, _ = _gap_faults(gaps, delays, allowance, jitter)
            if lower:
                ctx.fail(_lower_message(label, lower, gaps, delays, jitter), hint=HINT_BACKOFF)
            measured[path] = gaps
        return measured

    def judge(measured, final):
        for label, path, delays, jitter in series:
            _, upper = _gap_faults(measured[path], delays, allowance, jitter)
            if upper:
                if final:
                    ctx.fail(_upper_message(label, upper, measured[path], delays), hint=HINT_BACKOFF)
                return False
        jgaps = [g for _, path, _, jitter in series if jitter for g in measured[path]]
        if min(jgaps) >= d * jit["below"]:   # without jitter every gap is at least d: noise only lengthens it
            if final:
                ctx.fail("ApiClient(%s): the %d gaps between retries (each delay drawn from %.0f-%.0f ms) were "
                         "all at least %.0f ms, in two runs (the shorter of each kept): %s. The delays are not "
                         "jittered" % (jsettings, len(jgaps), d * (1 - jit["jitter"]), d, d * jit["below"],
                                       _gaps_text(jgaps)),
                         hint="multiply each delay by (1 - jitter * random.random())")
            return False
        return True

    first = measure()
    if judge(first, final=False):
        return
    ctx.http.reset()
    second = measure()
    judge({path: [min(a, b) for a, b in zip(first[path], second[path])] for path in first}, final=True)


def breaker(ctx):
    """The breaker's two halves, each on its own clients and paths, run at once on one loop:
    _breaker_opens (closed -> open) and _breaker_recovery (open -> half-open -> open / closed)."""
    api = _api(ctx)
    opens, judge_opens = _breaker_opens(ctx, api, ctx.params["opens"])
    recovery, judge_recovery = _breaker_recovery(ctx, api, ctx.params["recovery"])

    async def main():
        return await asyncio.gather(opens(), recovery())
    got_opens, got_recovery = ctx.run_async(main, timeout=ctx.params["timeout"], slow_ms=250)
    reqs = ctx.http.requests()
    judge_opens(got_opens, reqs)
    judge_recovery(got_recovery, reqs)


def _breaker_opens(ctx, api, p):
    """threshold consecutive failures open the breaker: no request reaches the server afterwards, on any
    path, and a retry loop in progress stops; failures separated by a success never open it."""
    th = p["threshold"]

    async def opens():
        async with _client(ctx, api, breaker_threshold=th, max_retries=0) as client:
            failing = [await _call(client, "/down") for _ in range(th)]
            refused = [await _call(client, path) for path in ["/down"] * 4 + ["/up"] * 2]
            return failing, refused

    async def stops_retries():
        async with _client(ctx, api, breaker_threshold=p["threshold_b"], max_retries=p["retries_b"],
                           base_delay=0.005, max_delay=0.01) as client:
            return await _call(client, "/down2")

    async def consecutive():
        async with _client(ctx, api, breaker_threshold=th, max_retries=0) as client:
            return [await _call(client, "/flip") for _ in range(p["flips"])]

    async def main():
        return await asyncio.gather(opens(), stops_retries(), consecutive())
    return main, lambda got, reqs: _judge_opens(ctx, api, p, got, reqs)


def _judge_opens(ctx, api, p, got, reqs):
    th = p["threshold"]
    (failing, refused), stopped, flips = got
    counts = ctx.http.counts(reqs)
    for i, outcome in enumerate(failing):
        ctx.expect(_raised(outcome, api.RetriesExhausted),
                   "breaker_threshold=%d, max_retries=0: call %d to a server that answers 500 %s; expected "
                   "RetriesExhausted (the breaker opens only after it)" % (th, i + 1, _show(outcome)),
                   hint=HINT_RETRY)
    leaked = counts.get("/down", 0) - th
    ctx.expect(leaked == 0 and counts.get("/up", 0) == 0,
               "breaker_threshold=%d: after %d consecutive failed calls the breaker must be open, yet %d of the "
               "next 4 calls to /down and %d of 2 calls to /up reached the server" % (
                   th, th, leaked, counts.get("/up", 0)), hint=HINT_OPEN)
    for outcome in refused:
        ctx.expect(_raised(outcome, api.CircuitOpenError),
                   "a call while the breaker is open %s; expected CircuitOpenError" % _show(outcome), hint=HINT_OPEN)
    n = counts.get("/down2", 0)
    ctx.expect(n == p["threshold_b"],
               "breaker_threshold=%d, max_retries=%d, one call to a server that always fails: the server saw %d "
               "requests; the breaker must open after %d failed attempts and stop the call's retries"
               % (p["threshold_b"], p["retries_b"], n, p["threshold_b"]), hint=HINT_OPEN)
    ctx.expect(_raised(stopped, api.CircuitOpenError),
               "a call whose retries meet an open breaker %s; expected CircuitOpenError" % _show(stopped),
               hint=HINT_OPEN)
    refused_flips = [i + 1 for i, o in enumerate(flips) if _raised(o, api.CircuitOpenError)]
    ctx.expect(not refused_flips and counts.get("/flip", 0) == p["flips"],
               "breaker_threshold=%d: %d calls to a server that fails every second request (never two failures "
               "in a row) must all reach it; the server saw %d, calls %s were refused with CircuitOpenError. "
               "A success must reset the failure count" % (th, p["flips"], counts.get("/flip", 0),
                                                            refused_flips[:5]),
               hint="count consecutive failures: reset the count to 0 on every answer below 500")


def _breaker_recovery(ctx, api, p):
    """Open -> (reset_s) -> half-open: exactly one probe among concurrent calls; a failed probe re-opens
    the breaker; after another reset_s a successful probe closes it and calls flow again."""
    th, reset_s, crowd = p["threshold"], p["reset_s"], p["crowd"]

    async def main():
        out = {}
        async with _client(ctx, api, breaker_threshold=th, breaker_reset_s=reset_s, max_retries=0) as client:
            out["fail"] = [await _call(client, "/svc/fail") for _ in range(th)]
            out["open"] = [await _call(client, "/svc/open"), await _call(client, "/other")]
            await asyncio.sleep(reset_s * p["wait_factor"])
            out["probe1"] = await asyncio.gather(*(_call(client, "/svc/probe1") for _ in range(crowd)))
            out["reopened"] = [await _call(client, "/svc/reopened"), await _call(client, "/other")]
            await asyncio.sleep(reset_s * p["wait_factor"])
            out["probe2"] = await asyncio.gather(*(_call(client, "/svc/probe2") for _ in range(crowd)))
            out["closed"] = await asyncio.gather(*(_call(client, "/svc/closed") for _ in range(3)))
        return out
    return main, lambda got, reqs: _judge_recovery(ctx, api, p, got, reqs)


def _judge_recovery(ctx, api, p, out, reqs):
    th, reset_s, crowd = p["threshold"], p["reset_s"], p["crowd"]
    counts = ctx.http.counts(reqs)
    setting = "breaker_threshold=%d, breaker_reset_s=%.2f, max_retries=0" % (th, reset_s)
    ctx.expect(counts.get("/svc/fail", 0) == th and all(_raised(o, api.RetriesExhausted) for o in out["fail"]),
               "%s: %d calls to a failing server should each make one request and raise RetriesExhausted; the "
               "server saw %d, the calls: %s" % (setting, th, counts.get("/svc/fail", 0),
                                                 "; ".join(_show(o) for o in out["fail"])), hint=HINT_OPEN)
    ctx.expect(counts.get("/svc/open", 0) == 0,
               "%s: right after %d failures the breaker must be open; a call still reached the server"
               % (setting, th), hint=HINT_OPEN)
    n1 = counts.get("/svc/probe1", 0)
    ctx.expect(n1 != 0, "%s: %.2f s after the breaker opened, %d concurrent calls sent no request at all: the "
               "breaker never half-opened" % (setting, reset_s * p["wait_factor"], crowd), hint=HINT_HALF)
    ctx.expect(n1 == 1, "%s: %.2f s after the breaker opened, %d concurrent calls sent %d requests; half-open "
               "allows exactly one probe and refuses the rest with CircuitOpenError"
               % (setting, reset_s * p["wait_factor"], crowd, n1), hint=HINT_HALF)
    refused = sum(1 for o in out["probe1"] if _raised(o, api.CircuitOpenError))
    ctx.expect(refused >= crowd - 1, "while the probe was in flight, only %d of the other %d calls raised "
               "CircuitOpenError: %s" % (refused, crowd - 1, "; ".join(_show(o) for o in out["probe1"])),
               hint=HINT_HALF)
    leaked = counts.get("/svc/reopened", 0) + counts.get("/other", 0)
    ctx.expect(leaked == 0, "%s: the probe failed (503), so the breaker must be open again for another %.2f s; "
               "%d call(s) made right after it reached the server" % (setting, reset_s, leaked),
               hint="a failed probe re-opens the breaker and restarts the reset_s timer")
    ctx.expect(all(_raised(o, api.CircuitOpenError) for o in out["reopened"]),
               "calls right after a failed probe: %s; expected CircuitOpenError"
               % "; ".join(_show(o) for o in out["reopened"]), hint=HINT_HALF)
    n2 = counts.get("/svc/probe2", 0)
    ctx.expect(n2 == 1, "%s: %.2f s after the failed probe, %d concurrent calls sent %d requests; expected "
               "exactly one probe" % (setting, reset_s * p["wait_factor"], crowd, n2), hint=HINT_HALF)
    ok = [o for o in out["probe2"] if o[0] == "ok"]
    ctx.expect(len(ok) == 1 and ok[0][1] == p["body"],
               "the second probe got a 200 answer: its caller should get the body %r; the %d calls: %s"
               % (p["body"], crowd, "; ".join(_show(o) for o in out["probe2"])), hint=HINT_HALF)
    ctx.expect(counts.get("/svc/closed", 0) == 3 and all(o[0] == "ok" for o in out["closed"]),
               "after a successful probe the breaker must be closed: 3 calls should reach the server and succeed;"
               " it saw %d, the calls: %s" % (counts.get("/svc/closed", 0),
                                             "; ".join(_show(o) for o in out["closed"])),
               hint="a successful probe closes the breaker and resets the failure count")
    # The timer, on the server's clock: each probe comes at least reset_s after the failure before it.
    order = sorted((r for r in reqs if r["path"].startswith("/svc/")), key=lambda r: r["start_ms"])
    last_fail = [r for r in order if r["path"] == "/svc/fail"][-1]
    probe1 = [r for r in order if r["path"] == "/svc/probe1"][0]
    probe2 = [r for r in order if r["path"] == "/svc/probe2"][0]
    for before, probe, what in ((last_fail, probe1, "the breaker opened"), (probe1, probe2, "the failed probe")):
        gap = probe["start_ms"] - (before["end_ms"] or before["start_ms"])
        ctx.expect(gap >= 1000 * reset_s - 5, "a probe reached the server %.0f ms after %s; breaker_reset_s is "
                   "%.0f ms" % (gap, what, 1000 * reset_s), hint=HINT_HALF)


# ---------------------------------------------------------------------------------------------
# problem_solving


def _backoff_yields(ctx, api, p):
    """A backoff sleep must let other calls run: while one call waits before its retry, other calls on the
    same client reach the server (and the loop never stalls: ctx.run_async's blocking oracle, whose
    slow_ms is below the backoff delay)."""
    async def ticker(client):
        for i in range(p["ticks"]):
            await client.get_json("/tick/%d" % i)
            await asyncio.sleep(p["tick_every_s"])

    async def main():
        async with _client(ctx, api, max_retries=1, base_delay=p["delay_s"], max_delay=p["delay_s"]) as client:
            failing = asyncio.create_task(_call(client, "/flaky"))
            await asyncio.sleep(0)
            await ticker(client)
            return await failing
    return main, lambda outcome, reqs: _judge_yields(ctx, api, p, outcome, reqs)


def _judge_yields(ctx, api, p, outcome, reqs):
    ctx.expect(_raised(outcome, api.RetriesExhausted), "get_json('/flaky') (always 500, max_retries=1) %s; "
               "expected RetriesExhausted" % _show(outcome), hint=HINT_RETRY)
    flaky = _by_path(reqs, "/flaky")
    ctx.expect(len(flaky) == 2, "the server saw %d requests to /flaky, expected 2" % len(flaky))
    a, b = flaky[0]["start_ms"], flaky[1]["start_ms"]
    ctx.expect(b - a >= 900 * p["delay_s"] - 2,
               "get_json('/flaky') (always 500, max_retries=1, base_delay=max_delay=%.2f) retried %.0f ms after its "
               "first attempt: no backoff before the retry" % (p["delay_s"], b - a), hint=HINT_BACKOFF)
    ticks = [r for r in reqs if r["path"].startswith("/tick/") and a < r["start_ms"] < b]
    ctx.expect(len(ticks) >= p["min_ticks"],
               "during the %.0f ms backoff before /flaky's retry, only %d other request(s) reached the server "
               "(a task calling every %.0f ms should get in at least %d): the backoff blocks the event loop"
               % (b - a, len(ticks), 1000 * p["tick_every_s"], p["min_ticks"]),
               hint="await asyncio.sleep(delay), never time.sleep, inside a coroutine")


def outage_recovery(ctx):
    """Concurrent callers through an outage (every request fails for outage_ms) and its recovery: the
    breaker sheds the load (few requests reach the dead server, one probe at a time), and calls succeed
    again soon after the server is back. Meanwhile, on another client, a backoff must not block the loop
    (_backoff_yields); its findings are judged first."""
    api = _api(ctx)
    p = ctx.params
    yields, judge_yields = _backoff_yields(ctx, api, p["yields"])
    workers, per, poll = p["workers"], p["per_worker"], p["poll_s"]
    th, reset_s, outage = p["threshold"], p["reset_s"], p["outage_ms"]
    log = {"ok": 0, "refused": 0, "exhausted": 0}

    async def worker(client, w, deadline):
        loop = asyncio.get_running_loop()
        done = n = 0
        while done < per and loop.time() < deadline:
            outcome = await _call(client, "/api/%d/%d" % (w, n))
            if outcome[0] == "ok":
                log["ok"] += 1
                done += 1
                n += 1
            elif _raised(outcome, api.CircuitOpenError):
                log["refused"] += 1
                await asyncio.sleep(poll)
            elif _raised(outcome, api.RetriesExhausted):
                log["exhausted"] += 1
                n += 1
            else:
                raise outcome[1]

    async def outage_main():
        async with _client(ctx, api, breaker_threshold=th, breaker_reset_s=reset_s, max_retries=p["max_retries"],
                           base_delay=0.01, max_delay=0.04, concurrency=workers) as client:
            deadline = asyncio.get_running_loop().time() + p["deadline_s"]
            await asyncio.gather(*(worker(client, w, deadline) for w in range(workers)))

    async def main():
        await _reset_server(ctx)     # the outage window starts now
        return (await asyncio.gather(yields(), outage_main()))[0]
    outcome = ctx.run_async(main, timeout=p["timeout"], slow_ms=p["yields"]["slow_ms"])
    everything = ctx.http.requests()
    judge_yields(outcome, everything)
    reqs = sorted((r for r in everything if r["path"].startswith("/api/")), key=lambda r: r["start_ms"])
    during = [r for r in reqs if r["start_ms"] < outage]
    bound = th + workers + math.ceil(outage / (1000 * reset_s)) + 2
    setting = "%d concurrent callers, breaker_threshold=%d, breaker_reset_s=%.2f, max_retries=%d" % (
        workers, th, reset_s, p["max_retries"])
    ctx.expect(len(during) <= bound,
               "%s, server down for the first %d ms: %d requests reached it during the outage (at most %d "
               "expected: the failures that open the breaker, then one probe per reset_s). Without an open "
               "breaker a dead server keeps being hammered" % (setting, outage, len(during), bound), hint=HINT_OPEN)
    t0 = reqs[0]["start_ms"] if reqs else 0.0     # the first failures, which open the breaker
    quiet = [r for r in during if r["start_ms"] >= t0 + 1000 * reset_s + p["settle_ms"]]
    inflight = ctx.http.max_concurrent(quiet)
    ctx.expect(inflight <= 1, "%s: once the breaker had opened, %d requests were in flight at once during the "
               "outage; while open or half-open only one probe may be" % (setting, inflight), hint=HINT_HALF)
    ok = [r for r in reqs if r["status"] == 200]
    limit = outage + 1000 * reset_s + 1000 * poll + p["recover_slack_ms"]
    ctx.expect(ok or log["ok"] < workers * per,
               "%s: all %d calls returned, but the server never answered one of them with 200: get_json returned "
               "without a successful answer instead of raising" % (setting, workers * per), hint=HINT_RETRY)
    ctx.expect(log["ok"] == workers * per,
               "%s: the server came back after %d ms, but by %.1f s only %d of %d calls had succeeded (%d refused "
               "with CircuitOpenError, %d RetriesExhausted): the breaker never closed again. Does it half-open "
               "once breaker_reset_s has passed since it opened, however many calls it refuses meanwhile?"
               % (setting, outage, p["deadline_s"], log["ok"], workers * per, log["refused"], log["exhausted"]),
               hint=HINT_HALF)
    first_ok = ok[0]["start_ms"]
    ctx.expect(first_ok <= limit, "%s: the server came back at %d ms, but the first request it could answer "
               "arrived at %.0f ms (expected by %.0f ms: reset_s after the last failed probe)"
               % (setting, outage, first_ok, limit), hint=HINT_HALF)


# ---------------------------------------------------------------------------------------------
# performance


def concurrency(ctx):
    """(a) A batch of calls (some retried) on one client: at most `concurrency` requests in flight at once,
    as the server counts them, every slot used, and far faster than one at a time. (b) A call sleeping
    its backoff holds no slot: meanwhile, other calls use all of them. Both run at once, on two clients."""
    api = _api(ctx)
    p = ctx.params
    c, n, lat = p["concurrency"], p["calls"], p["latency_ms"]
    q = p["idle_slot"]

    async def batch():
        async with _client(ctx, api, concurrency=c, max_retries=3, base_delay=0.02, max_delay=0.04) as client:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            got = await asyncio.gather(*(_call(client, "/c/%d" % i) for i in range(n)))
            return got, loop.time() - t0

    async def idle_slot():
        async with _client(ctx, api, concurrency=q["concurrency"], max_retries=1, base_delay=q["delay_s"],
                           max_delay=q["delay_s"]) as client:
            retried = asyncio.create_task(_call(client, "/sleeper"))
            await asyncio.sleep(q["start_after_s"])      # its first attempt has failed: it sleeps now
            others = await asyncio.gather(*(_call(client, "/busy/%d" % i) for i in range(q["calls"])))
            return await retried, others

    async def main():
        return await asyncio.gather(batch(), idle_slot())
    (got, wall), (retried, others) = ctx.run_async(main, timeout=p["timeout"], slow_ms=250)
    bad = [(i, o) for i, o in enumerate(got) if o[0] != "ok"]
    ctx.expect(not bad, "%d calls on ApiClient(concurrency=%d, max_retries=3) against a server failing every 4th "
               "request: %d did not succeed, e.g. get_json('/c/%d') %s"
               % (n, c, len(bad), bad[0][0] if bad else 0, _show(bad[0][1]) if bad else ""), hint=HINT_RETRY)
    reqs = ctx.http.requests()
    mine = [r for r in reqs if r["path"].startswith("/c/")]
    peak = ctx.http.max_concurrent(mine)
    ctx.expect(peak <= c, "%d calls gathered at once on ApiClient(concurrency=%d): the server had %d requests "
               "in flight at once" % (n, c, peak),
               hint="one asyncio.Semaphore(concurrency), made once in __init__ and shared by every call, "
                    "held around each request")
    ctx.expect(peak >= c, "%d calls gathered at once on ApiClient(concurrency=%d): the server never had more "
               "than %d requests in flight; the client should use all %d slots" % (n, c, peak, c),
               hint="hold a slot only around the request itself")
    serial = len(mine) * lat / 1000.0
    ctx.expect(wall <= p["max_share_of_serial"] * serial,
               "%d calls (%d requests of %d ms each, up to %d at a time) took %.2f s; one at a time they take "
               "%.2f s, and the ideal schedule about %.2f s" % (n, len(mine), lat, c, wall, serial,
                                                              math.ceil(len(mine) / c) * lat / 1000.0),
               hint="keep `concurrency` requests in flight")
    # (b): the slot of a call sleeping its backoff
    ctx.expect(_raised(retried, api.RetriesExhausted) or retried[0] == "ok",
               "get_json('/sleeper') %s" % _show(retried))
    bad = [o for o in others if o[0] != "ok"]
    ctx.expect(not bad, "get_json('/busy/...') (200 answers) %s" % (_show(bad[0]) if bad else ""))
    sleeper = _by_path(reqs, "/sleeper")
    ctx.expect(len(sleeper) == 2, "get_json('/sleeper') (500, then 200; max_retries=1): the server saw %d "
               "requests, expected 2" % len(sleeper), hint=HINT_RETRY)
    a, b = sleeper[0]["end_ms"] or sleeper[0]["start_ms"], sleeper[1]["start_ms"]
    if b - a < 0.9 * 1000 * q["delay_s"]:
        return      # no backoff sleep to hold a slot through: the backoff item reports that
    during = [r for r in reqs if r["path"].startswith("/busy/") and a <= r["start_ms"] < b]
    used = ctx.http.max_concurrent(during)
    ctx.expect(used >= q["concurrency"],
               "ApiClient(concurrency=%d): while one call slept its %.0f ms backoff, %d other calls had at most %d "
               "request(s) in flight: the sleeping call kept its slot" % (q["concurrency"], 1000 * q["delay_s"],
                                                                        q["calls"], used),
               hint="hold the semaphore around each request only; release it before the backoff sleep")
