"""Workloads for deliverable-5: an async API client with retries, exponential backoff and a circuit
breaker. Each records what the student's code did; judge.py, which the submission never sees, gives the
verdicts.

Every property is measured on the grader's fixture HTTP server (ctx.http): the workloads record what it
saw (every request's path, method, start, end and status, on the server's clock) and what each call
returned or raised; the judge counts the requests, measures the gaps between retries and how many were in
flight at once. The student's coroutines run on ctx.run_async's watched loop, so a blocking call in a
coroutine, a task left pending, a never-awaited coroutine or an unclosed aiohttp session fails the item
here, with its line.
Student API: the docstring of starter/deliverable-5/api_client.py.
"""
import asyncio
import json
import os

ERRORS = ("HttpError", "RetriesExhausted", "CircuitOpenError")


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


def _where(exc):
    """' (api_client.py:NN)' for the innermost line of the student's file in the exception's traceback."""
    tb, site = exc.__traceback__, None
    while tb is not None:
        if os.path.basename(tb.tb_frame.f_code.co_filename) == "api_client.py":
            site = tb.tb_lineno
        tb = tb.tb_next
    return " (api_client.py:%d)" % site if site else ""


def _jsonable(value):
    """value itself when JSON can carry it (a repr stands in for what it cannot), else its repr."""
    try:
        json.dumps(value, default=repr)
    except (TypeError, ValueError):
        return repr(value)
    return value


async def _call(client, path):
    """(kind, value, seconds): ('ok', result) or ('raised', exception)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        value = await client.get_json(path)
    except Exception as exc:  # recorded for the judge, with the student's line
        return ("raised", exc, loop.time() - t0)
    return ("ok", value, loop.time() - t0)


def _is(value, cls):
    return isinstance(cls, type) and isinstance(value, cls)


def _outcome(api, outcome):
    """A call's outcome as the judge gets it: what it returned (value, type, repr) or what it raised
    (type, message, the student's line, which of the API's exception classes it is, and its status,
    attempts and last_error attributes); and how long it took."""
    kind, value, seconds = outcome
    if kind == "ok":
        return {"kind": "ok", "value": _jsonable(value), "type": type(value).__name__, "repr": repr(value),
                "s": seconds}
    last = getattr(value, "last_error", None)
    return {"kind": "raised", "type": type(value).__name__, "text": str(value), "where": _where(value),
            "is": [n for n in ERRORS if _is(value, getattr(api, n, None))],
            "status": _jsonable(getattr(value, "status", None)),
            "attempts": _jsonable(getattr(value, "attempts", None)),
            "last_error": None if last is None else repr(last), "s": seconds}


def _outcomes(api, outcomes):
    return [_outcome(api, o) for o in outcomes]


def _requests(ctx):
    """What the fixture server saw, in the fields the judge reads."""
    return [{k: r[k] for k in ("path", "method", "start_ms", "end_ms", "status")} for r in ctx.http.requests()]


async def _reset_server(ctx):
    """Restart the server's clock and counters from inside the loop (the check's call, off the loop)."""
    await asyncio.to_thread(ctx.http.reset)


# ---------------------------------------------------------------------------------------------
# completion_quality


def retry_policy(ctx):
    """What is retried and what is not, each call on its own client (run concurrently):
    - 2xx: the parsed body, one GET to base_url + path;
    - 4xx: HttpError(status) after exactly one request, and no breaker failure;
    - 500, 503, a TCP reset, a request never answered, a body trickled past timeout_s: retried to success
      with exactly the requests needed;
    - a server that always fails: RetriesExhausted after max_retries + 1 requests, never None.
    Records the API's exception classes, every outcome and the server's requests."""
    api = _api(ctx)
    p = ctx.params
    classes = {}
    for name in ERRORS:
        cls = getattr(api, name, None)
        classes[name] = {"repr": repr(cls), "exception": isinstance(cls, type) and issubclass(cls, Exception)}
    ctx.observe("classes", classes)
    ctx.observe("distinct_classes", len({id(getattr(api, name, None)) for name in ERRORS}))
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
    ctx.observe("plain", _outcomes(api, got_plain))
    ctx.observe("client_errors", _outcomes(api, got_4xx))
    ctx.observe("again", _outcomes(api, again))
    ctx.observe("ok", _outcome(api, ok))
    ctx.observe("transient", dict(zip(order, _outcomes(api, untimed + timed))))
    ctx.observe("requests", _requests(ctx))


def backoff(ctx):
    """Gaps between retries, on the server's clock: every series of retries is run twice (the server
    reset in between), and both runs' requests recorded; the judge checks the lower bounds on each run and
    takes each gap's shorter value for the upper bounds and the jitter when the first run alone misses
    (noise only lengthens gaps, so a stall of the machine does not fail a client)."""
    api = _api(ctx)
    scen = ctx.params["scenarios"]
    jit = ctx.params["jitter"]

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

    runs = []
    for attempt in range(2):
        if attempt:
            ctx.http.reset()
        got_jit, *got = ctx.run_async(main, timeout=ctx.params["timeout"], slow_ms=250)
        runs.append({"scenarios": _outcomes(api, got), "jittered": _outcomes(api, got_jit),
                     "requests": _requests(ctx)})
    ctx.observe("runs", runs)


def breaker(ctx):
    """The breaker's two halves, each on its own clients and paths, run at once on one loop:
    _breaker_opens (closed -> open) and _breaker_recovery (open -> half-open -> open / closed).
    Records every outcome and the server's requests."""
    api = _api(ctx)
    opens = _breaker_opens(ctx, api, ctx.params["opens"])
    recovery = _breaker_recovery(ctx, api, ctx.params["recovery"])

    async def main():
        return await asyncio.gather(opens(), recovery())
    ((failing, refused), stopped, flips), out = ctx.run_async(main, timeout=ctx.params["timeout"], slow_ms=250)
    ctx.observe("opens", {"failing": _outcomes(api, failing), "refused": _outcomes(api, refused),
                          "stopped": _outcome(api, stopped), "flips": _outcomes(api, flips)})
    ctx.observe("recovery", {k: _outcomes(api, v) for k, v in out.items()})
    ctx.observe("requests", _requests(ctx))


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
    return main


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
    return main


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
    return main


def outage_recovery(ctx):
    """Concurrent callers through an outage (every request fails for outage_ms) and its recovery, while on
    another client a backoff must not block the loop (_backoff_yields). Records the backoff call's outcome,
    how the outage's calls ended (counts) and the server's requests."""
    api = _api(ctx)
    p = ctx.params
    yields = _backoff_yields(ctx, api, p["yields"])
    workers, per, poll = p["workers"], p["per_worker"], p["poll_s"]
    th, reset_s = p["threshold"], p["reset_s"]
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
            elif _is(outcome[1], getattr(api, "CircuitOpenError", None)):
                log["refused"] += 1
                await asyncio.sleep(poll)
            elif _is(outcome[1], getattr(api, "RetriesExhausted", None)):
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
    ctx.observe("yields", _outcome(api, outcome))
    ctx.observe("log", log)
    ctx.observe("requests", _requests(ctx))


# ---------------------------------------------------------------------------------------------
# performance


def concurrency(ctx):
    """(a) A batch of calls (some retried) on one client: at most `concurrency` requests in flight at once,
    as the server counts them, every slot used, and far faster than one at a time. (b) A call sleeping
    its backoff holds no slot: meanwhile, other calls use all of them. Both run at once, on two clients.
    Records the outcomes, the batch's wall time (the loop's clock) and the server's requests."""
    api = _api(ctx)
    p = ctx.params
    c, n = p["concurrency"], p["calls"]
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
    ctx.observe("batch", _outcomes(api, got))
    ctx.observe("wall_s", wall)
    ctx.observe("sleeper", _outcome(api, retried))
    ctx.observe("busy", _outcomes(api, others))
    ctx.observe("requests", _requests(ctx))
