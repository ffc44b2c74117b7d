"""Judgements for deliverable-5 (the workloads are in checks.py). Runs outside the submission's process:
every verdict comes from what the workload recorded: the calls' outcomes and the fixture server's requests
(path, method, start_ms, end_ms, status, on the server's clock), which are counted and measured here."""
import math

from grade_lib_urls import path_counts
from grade_oracles import max_in_flight

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
# helpers: outcomes (see checks._outcome) and the server's requests


def _settings(**kw):
    return ", ".join("%s=%r" % kv for kv in sorted(kw.items()))


def _show(o):
    if o["kind"] == "ok":
        return "returned %s" % o["repr"]
    return "raised %s: %s%s" % (o["type"], o["text"], o["where"])


def _raised(o, name):
    return o["kind"] == "raised" and name in o["is"]


def _ok(o):
    return o["kind"] == "ok"


def _returned(o, body):
    """The call returned `body` (the parsed JSON, of the same type at the top)."""
    return _ok(o) and o["value"] == body and o["type"] == type(body).__name__


def _counts(reqs):
    return path_counts(r["path"] for r in reqs)


def _by_path(reqs, path):
    return sorted((r for r in reqs if r["path"] == path), key=lambda r: r["start_ms"])


def _gaps(path, reqs):
    """Milliseconds between successive requests to `path` (retries and their backoff)."""
    starts = sorted(r["start_ms"] for r in reqs if r["path"] == path)
    return [b - a for a, b in zip(starts, starts[1:])]


def _max_concurrent(reqs):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    return max_in_flight((r["start_ms"], r["end_ms"]) for r in reqs)


def _gaps_text(gaps):
    return "[" + ", ".join("%.0f" % g for g in gaps) + "] ms"


# ---------------------------------------------------------------------------------------------
# completion_quality


def retry_policy(j):
    p, o = j.params, j.obs
    for name, cls in o["classes"].items():
        j.expect(cls["exception"] is True, "api_client.%s must be an Exception subclass (got %s)" % (name, cls["repr"]))
    j.expect_eq(sorted(o["classes"]), ["CircuitOpenError", "HttpError", "RetriesExhausted"], "exception classes looked at")
    j.expect(o["distinct_classes"] == 3,
             "HttpError, RetriesExhausted and CircuitOpenError must be three distinct classes")
    bodies, statuses, cases = p["bodies"], p["statuses"], p["cases"]
    retries, th = p["max_retries"], p["threshold"]
    reqs = o["requests"]
    counts = _counts(reqs)

    j.expect_eq(len(o["plain"]), len(bodies), "get_json calls against 200 answers recorded")
    for (path, body), outcome in zip(bodies.items(), o["plain"]):
        j.expect(_returned(outcome, body),
                 "get_json(%r) against a 200 answer with body %r %s" % (path, body, _show(outcome)),
                 hint="return the parsed JSON body (json.loads of the body, or resp.json(content_type=None))")
    methods = sorted({r["method"] for r in reqs})
    j.expect(methods == ["GET"], "get_json must send GET requests; the server saw %s" % methods)
    for path in bodies:
        j.expect(counts.get(path, 0) == 1, "get_json(%r) (a 200 answer): the server saw %d requests, expected 1"
                 % (path, counts.get(path, 0)))

    j.expect_eq(len(o["client_errors"]), len(statuses), "get_json calls against 4xx answers recorded")
    for (path, status), outcome in zip(statuses.items(), o["client_errors"]):
        n = counts.get(path, 0)
        j.expect(n == 1, "get_json(%r) against a %d answer (max_retries=%d): the server saw %d requests; a "
                 "4xx must not be retried" % (path, status, retries, n), hint=HINT_4XX)
        j.expect(_raised(outcome, "HttpError") and outcome["status"] == status and not isinstance(outcome["status"], bool),
                 "get_json(%r) against a %d answer %s; expected HttpError with .status == %d"
                 % (path, status, _show(outcome), status), hint=HINT_4XX)
    again, ok = o["again"], o["ok"]
    j.expect_eq(len(again), th + 1, "get_json('/again/...') calls recorded")
    for i in range(th + 1):
        j.expect(counts.get("/again/%d" % i, 0) == 1, "get_json('/again/%d') (a 404 answer, max_retries=0): the "
                 "server saw %d requests, expected 1" % (i, counts.get("/again/%d" % i, 0)), hint=HINT_4XX)
    j.expect(_ok(ok), "with breaker_threshold=%d, after %d calls answered 404, get_json('/ok') %s: "
             "a 4xx is an answer from a healthy server, it must not count as a breaker failure"
             % (th, len(again), _show(ok)),
             hint="only retryable failures (5xx, connection errors, timeouts) count; any answer below 500 "
                  "resets the count")
    j.expect(_returned(ok, {"ok": True}), "get_json('/ok') against a 200 answer with body %r %s"
             % ({"ok": True}, _show(ok)))

    transient = o["transient"]
    j.expect_eq(sorted(transient), sorted(cases), "paths of the retried calls recorded")
    for path, case in cases.items():
        outcome = transient[path]
        n, want_n, fault = counts.get(path, 0), case.get("requests"), case.get("fault")
        if path == p["always_failing"]:
            j.expect(not (_ok(outcome) and outcome["value"] is None),
                     "get_json(%r): the server answers 502 every time; after %d attempts the call returned "
                     "None. The caller cannot tell that from a JSON null: raise RetriesExhausted"
                     % (path, n), hint=HINT_RETRY)
            j.expect(_raised(outcome, "RetriesExhausted"),
                     "get_json(%r), max_retries=%d, against a server that answers 502 every time %s; "
                     "expected RetriesExhausted" % (path, retries, _show(outcome)), hint=HINT_RETRY)
            j.expect(n == retries + 1, "get_json(%r) with max_retries=%d against a server that always fails: "
                     "the server saw %d requests, expected %d (the first attempt and %d retries)"
                     % (path, retries, n, retries + 1, retries), hint=HINT_RETRY)
            attempts, last = outcome["attempts"], outcome["last_error"]
            j.expect(attempts == retries + 1 and not isinstance(attempts, bool) and last is not None,
                     "RetriesExhausted after %d attempts has attempts=%r, last_error=%s; expected "
                     "attempts=%d and the last attempt's exception" % (n, attempts, last, retries + 1),
                     hint=HINT_RETRY)
            continue
        j.expect(_ok(outcome), "get_json(%r) (%s, then 200; max_retries=%d) %s; it should have "
                 "retried and returned the body" % (path, fault, retries, _show(outcome)), hint=HINT_RETRY)
        # A timed-out attempt may be followed by one that a loaded machine also makes time out.
        top = want_n + 1 if case.get("timed") else want_n
        j.expect(want_n <= n <= top, "get_json(%r) (%s, then 200): the server saw %d requests, expected %d"
                 % (path, fault, n, want_n), hint=HINT_RETRY)
        j.expect(isinstance(outcome["value"], dict) and outcome["value"].get("ok") == path.lstrip("/"),
                 "get_json(%r) (%s, then 200) %s; expected the body of the 200 answer" % (path, fault, _show(outcome)),
                 hint=HINT_RETRY)
        if case.get("timed"):
            j.expect(outcome["s"] < p["call_limit_s"],
                     "get_json(%r) (%s, timeout_s=%.2f) took %.2f s: the attempt was not cut off at "
                     "timeout_s (the server would have held it for %.1f s)"
                     % (path, fault, p["timeout_s"], outcome["s"], p["hold_s"]),
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


def backoff(j):
    """Lower bounds on every run that is looked at; the upper bounds and the jitter on the first run, and
    when it misses, on each gap's shorter value over both runs."""
    scen, jit, allowance = j.params["scenarios"], j.params["jitter"], j.params["allowance_ms"]
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
    runs = j.obs["runs"]
    j.expect_eq(len(runs), 2, "measurements recorded")

    def measured(run):
        outcomes = run["scenarios"] + run["jittered"]
        j.expect_eq(len(outcomes), len(series), "get_json calls recorded")
        for (label, _, _, _), outcome in zip(series, outcomes):
            j.expect(_raised(outcome, "RetriesExhausted"), "%s %s; expected RetriesExhausted"
                     % (label, _show(outcome)), hint=HINT_RETRY)
        out = {}
        for label, path, delays, jitter in series:
            gaps = _gaps(path, run["requests"])
            j.expect(len(gaps) == len(delays), "%s: the server saw %d requests, expected %d (the first attempt "
                     "and %d retries)" % (label, len(gaps) + 1, len(delays) + 1, len(delays)), hint=HINT_RETRY)
            lower, _ = _gap_faults(gaps, delays, allowance, jitter)
            if lower:
                j.fail(_lower_message(label, lower, gaps, delays, jitter), hint=HINT_BACKOFF)
            out[path] = gaps
        return out

    def passes(gaps, final):
        for label, path, delays, jitter in series:
            _, upper = _gap_faults(gaps[path], delays, allowance, jitter)
            if upper:
                if final:
                    j.fail(_upper_message(label, upper, gaps[path], delays), hint=HINT_BACKOFF)
                return False
        jgaps = [g for _, path, _, jitter in series if jitter for g in gaps[path]]
        if min(jgaps) >= d * jit["below"]:   # without jitter every gap is at least d: noise only lengthens it
            if final:
                j.fail("ApiClient(%s): the %d gaps between retries (each delay drawn from %.0f-%.0f ms) were "
                       "all at least %.0f ms, in two runs (the shorter of each kept): %s. The delays are not "
                       "jittered" % (jsettings, len(jgaps), d * (1 - jit["jitter"]), d, d * jit["below"],
                                     _gaps_text(jgaps)),
                       hint="multiply each delay by (1 - jitter * random.random())")
            return False
        return True

    first = measured(runs[0])
    if passes(first, final=False):
        return
    second = measured(runs[1])
    passes({path: [min(a, b) for a, b in zip(first[path], second[path])] for path in first}, final=True)


def breaker(j):
    reqs = j.obs["requests"]
    _judge_opens(j, j.params["opens"], j.obs["opens"], reqs)
    _judge_recovery(j, j.params["recovery"], j.obs["recovery"], reqs)


def _judge_opens(j, p, got, reqs):
    th = p["threshold"]
    failing, refused, stopped, flips = got["failing"], got["refused"], got["stopped"], got["flips"]
    counts = _counts(reqs)
    j.expect_eq(len(failing), th, "calls to /down recorded before the breaker opens")
    for i, outcome in enumerate(failing):
        j.expect(_raised(outcome, "RetriesExhausted"),
                 "breaker_threshold=%d, max_retries=0: call %d to a server that answers 500 %s; expected "
                 "RetriesExhausted (the breaker opens only after it)" % (th, i + 1, _show(outcome)),
                 hint=HINT_RETRY)
    leaked = counts.get("/down", 0) - th
    j.expect(leaked == 0 and counts.get("/up", 0) == 0,
             "breaker_threshold=%d: after %d consecutive failed calls the breaker must be open, yet %d of the "
             "next 4 calls to /down and %d of 2 calls to /up reached the server" % (
                 th, th, leaked, counts.get("/up", 0)), hint=HINT_OPEN)
    j.expect_eq(len(refused), 6, "calls recorded while the breaker is open")
    for outcome in refused:
        j.expect(_raised(outcome, "CircuitOpenError"),
                 "a call while the breaker is open %s; expected CircuitOpenError" % _show(outcome), hint=HINT_OPEN)
    n = counts.get("/down2", 0)
    j.expect(n == p["threshold_b"],
             "breaker_threshold=%d, max_retries=%d, one call to a server that always fails: the server saw %d "
             "requests; the breaker must open after %d failed attempts and stop the call's retries"
             % (p["threshold_b"], p["retries_b"], n, p["threshold_b"]), hint=HINT_OPEN)
    j.expect(_raised(stopped, "CircuitOpenError"),
             "a call whose retries meet an open breaker %s; expected CircuitOpenError" % _show(stopped),
             hint=HINT_OPEN)
    j.expect_eq(len(flips), p["flips"], "calls to /flip recorded")
    refused_flips = [i + 1 for i, o in enumerate(flips) if _raised(o, "CircuitOpenError")]
    j.expect(not refused_flips and counts.get("/flip", 0) == p["flips"],
             "breaker_threshold=%d: %d calls to a server that fails every second request (never two failures "
             "in a row) must all reach it; the server saw %d, calls %s were refused with CircuitOpenError. "
             "A success must reset the failure count" % (th, p["flips"], counts.get("/flip", 0),
                                                          refused_flips[:5]),
             hint="count consecutive failures: reset the count to 0 on every answer below 500")


def _judge_recovery(j, p, out, reqs):
    th, reset_s, crowd = p["threshold"], p["reset_s"], p["crowd"]
    counts = _counts(reqs)
    setting = "breaker_threshold=%d, breaker_reset_s=%.2f, max_retries=0" % (th, reset_s)
    for key, n in (("fail", th), ("open", 2), ("probe1", crowd), ("reopened", 2), ("probe2", crowd), ("closed", 3)):
        j.expect_eq(len(out[key]), n, "calls recorded in the breaker's `%s` phase" % key)
    j.expect(counts.get("/svc/fail", 0) == th and all(_raised(o, "RetriesExhausted") for o in out["fail"]),
             "%s: %d calls to a failing server should each make one request and raise RetriesExhausted; the "
             "server saw %d, the calls: %s" % (setting, th, counts.get("/svc/fail", 0),
                                               "; ".join(_show(o) for o in out["fail"])), hint=HINT_OPEN)
    j.expect(counts.get("/svc/open", 0) == 0,
             "%s: right after %d failures the breaker must be open; a call still reached the server"
             % (setting, th), hint=HINT_OPEN)
    j.expect(all(_raised(o, "CircuitOpenError") for o in out["open"]),
             "%s: calls right after %d failures: %s; expected CircuitOpenError"
             % (setting, th, "; ".join(_show(o) for o in out["open"])), hint=HINT_OPEN)
    n1 = counts.get("/svc/probe1", 0)
    j.expect(n1 != 0, "%s: %.2f s after the breaker opened, %d concurrent calls sent no request at all: the "
             "breaker never half-opened" % (setting, reset_s * p["wait_factor"], crowd), hint=HINT_HALF)
    j.expect(n1 == 1, "%s: %.2f s after the breaker opened, %d concurrent calls sent %d requests; half-open "
             "allows exactly one probe and refuses the rest with CircuitOpenError"
             % (setting, reset_s * p["wait_factor"], crowd, n1), hint=HINT_HALF)
    refused = sum(1 for o in out["probe1"] if _raised(o, "CircuitOpenError"))
    j.expect(refused >= crowd - 1, "while the probe was in flight, only %d of the other %d calls raised "
             "CircuitOpenError: %s" % (refused, crowd - 1, "; ".join(_show(o) for o in out["probe1"])),
             hint=HINT_HALF)
    leaked = counts.get("/svc/reopened", 0) + counts.get("/other", 0)
    j.expect(leaked == 0, "%s: the probe failed (503), so the breaker must be open again for another %.2f s; "
             "%d call(s) made right after it reached the server" % (setting, reset_s, leaked),
             hint="a failed probe re-opens the breaker and restarts the reset_s timer")
    j.expect(all(_raised(o, "CircuitOpenError") for o in out["reopened"]),
             "calls right after a failed probe: %s; expected CircuitOpenError"
             % "; ".join(_show(o) for o in out["reopened"]), hint=HINT_HALF)
    n2 = counts.get("/svc/probe2", 0)
    j.expect(n2 == 1, "%s: %.2f s after the failed probe, %d concurrent calls sent %d requests; expected "
             "exactly one probe" % (setting, reset_s * p["wait_factor"], crowd, n2), hint=HINT_HALF)
    ok = [o for o in out["probe2"] if _ok(o)]
    j.expect(len(ok) == 1 and _returned(ok[0], p["body"]),
             "the second probe got a 200 answer: its caller should get the body %r; the %d calls: %s"
             % (p["body"], crowd, "; ".join(_show(o) for o in out["probe2"])), hint=HINT_HALF)
    j.expect(counts.get("/svc/closed", 0) == 3 and all(_returned(o, p["body"]) for o in out["closed"]),
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
        j.expect(gap >= 1000 * reset_s - 5, "a probe reached the server %.0f ms after %s; breaker_reset_s is "
                 "%.0f ms" % (gap, what, 1000 * reset_s), hint=HINT_HALF)


# ---------------------------------------------------------------------------------------------
# problem_solving


def _judge_yields(j, p, outcome, reqs):
    j.expect(_raised(outcome, "RetriesExhausted"), "get_json('/flaky') (always 500, max_retries=1) %s; "
             "expected RetriesExhausted" % _show(outcome), hint=HINT_RETRY)
    flaky = _by_path(reqs, "/flaky")
    j.expect(len(flaky) == 2, "the server saw %d requests to /flaky, expected 2" % len(flaky))
    a, b = flaky[0]["start_ms"], flaky[1]["start_ms"]
    j.expect(b - a >= 900 * p["delay_s"] - 2,
             "get_json('/flaky') (always 500, max_retries=1, base_delay=max_delay=%.2f) retried %.0f ms after its "
             "first attempt: no backoff before the retry" % (p["delay_s"], b - a), hint=HINT_BACKOFF)
    ticks = [r for r in reqs if r["path"].startswith("/tick/") and a < r["start_ms"] < b]
    j.expect(len(ticks) >= p["min_ticks"],
             "during the %.0f ms backoff before /flaky's retry, only %d other request(s) reached the server "
             "(a task calling every %.0f ms should get in at least %d): the backoff blocks the event loop"
             % (b - a, len(ticks), 1000 * p["tick_every_s"], p["min_ticks"]),
             hint="await asyncio.sleep(delay), never time.sleep, inside a coroutine")
    n = sum(1 for r in reqs if r["path"].startswith("/tick/"))
    j.expect(n == p["ticks"], "the ticker's %d calls on the same client sent %d requests" % (p["ticks"], n))


def outage_recovery(j):
    """The backoff call's findings first (_judge_yields), then the outage: the breaker sheds the load (few
    requests reach the dead server, one probe at a time), and calls succeed again soon after the server is
    back."""
    p = j.params
    everything, log = j.obs["requests"], j.obs["log"]
    _judge_yields(j, p["yields"], j.obs["yields"], everything)
    workers, per, poll = p["workers"], p["per_worker"], p["poll_s"]
    th, reset_s, outage = p["threshold"], p["reset_s"], p["outage_ms"]
    reqs = sorted((r for r in everything if r["path"].startswith("/api/")), key=lambda r: r["start_ms"])
    during = [r for r in reqs if r["start_ms"] < outage]
    bound = th + workers + math.ceil(outage / (1000 * reset_s)) + 2
    setting = "%d concurrent callers, breaker_threshold=%d, breaker_reset_s=%.2f, max_retries=%d" % (
        workers, th, reset_s, p["max_retries"])
    j.expect(len(during) <= bound,
             "%s, server down for the first %d ms: %d requests reached it during the outage (at most %d "
             "expected: the failures that open the breaker, then one probe per reset_s). Without an open "
             "breaker a dead server keeps being hammered" % (setting, outage, len(during), bound), hint=HINT_OPEN)
    t0 = reqs[0]["start_ms"] if reqs else 0.0     # the first failures, which open the breaker
    quiet = [r for r in during if r["start_ms"] >= t0 + 1000 * reset_s + p["settle_ms"]]
    inflight = _max_concurrent(quiet)
    j.expect(inflight <= 1, "%s: once the breaker had opened, %d requests were in flight at once during the "
             "outage; while open or half-open only one probe may be" % (setting, inflight), hint=HINT_HALF)
    ok = [r for r in reqs if r["status"] == 200]
    limit = outage + 1000 * reset_s + 1000 * poll + p["recover_slack_ms"]
    j.expect(ok or log["ok"] < workers * per,
             "%s: all %d calls returned, but the server never answered one of them with 200: get_json returned "
             "without a successful answer instead of raising" % (setting, workers * per), hint=HINT_RETRY)
    j.expect(log["ok"] == workers * per,
             "%s: the server came back after %d ms, but by %.1f s only %d of %d calls had succeeded (%d refused "
             "with CircuitOpenError, %d RetriesExhausted): the breaker never closed again. Does it half-open "
             "once breaker_reset_s has passed since it opened, however many calls it refuses meanwhile?"
             % (setting, outage, p["deadline_s"], log["ok"], workers * per, log["refused"], log["exhausted"]),
             hint=HINT_HALF)
    j.expect(len(ok) >= workers * per, "%s: %d calls succeeded, but the server answered only %d requests with "
             "200" % (setting, log["ok"], len(ok)), hint=HINT_RETRY)
    first_ok = ok[0]["start_ms"]
    j.expect(first_ok <= limit, "%s: the server came back at %d ms, but the first request it could answer "
             "arrived at %.0f ms (expected by %.0f ms: reset_s after the last failed probe)"
             % (setting, outage, first_ok, limit), hint=HINT_HALF)


# ---------------------------------------------------------------------------------------------
# performance


def concurrency(j):
    p = j.params
    c, n, lat = p["concurrency"], p["calls"], p["latency_ms"]
    q = p["idle_slot"]
    got, wall = j.obs["batch"], j.number("wall_s")
    j.expect_eq(len(got), n, "calls of the batch recorded")
    bad = [(i, o) for i, o in enumerate(got) if not _returned(o, {"c": 1})]
    j.expect(not bad, "%d calls on ApiClient(concurrency=%d, max_retries=3) against a server failing every 4th "
             "request: %d did not succeed, e.g. get_json('/c/%d') %s"
             % (n, c, len(bad), bad[0][0] if bad else 0, _show(bad[0][1]) if bad else ""), hint=HINT_RETRY)
    reqs = j.obs["requests"]
    mine = [r for r in reqs if r["path"].startswith("/c/")]
    counts = _counts(mine)
    j.expect(all(counts.get("/c/%d" % i, 0) >= 1 for i in range(n)),
             "%d calls gathered at once on ApiClient(concurrency=%d): the server saw requests for only %d of them"
             % (n, c, sum(1 for i in range(n) if counts.get("/c/%d" % i, 0))))
    peak = _max_concurrent(mine)
    j.expect(peak <= c, "%d calls gathered at once on ApiClient(concurrency=%d): the server had %d requests "
             "in flight at once" % (n, c, peak),
             hint="one asyncio.Semaphore(concurrency), made once in __init__ and shared by every call, "
                  "held around each request")
    j.expect(peak >= c, "%d calls gathered at once on ApiClient(concurrency=%d): the server never had more "
             "than %d requests in flight; the client should use all %d slots" % (n, c, peak, c),
             hint="hold a slot only around the request itself")
    serial = len(mine) * lat / 1000.0
    j.expect(wall <= p["max_share_of_serial"] * serial,
             "%d calls (%d requests of %d ms each, up to %d at a time) took %.2f s; one at a time they take "
             "%.2f s, and the ideal schedule about %.2f s" % (n, len(mine), lat, c, wall, serial,
                                                            math.ceil(len(mine) / c) * lat / 1000.0),
             hint="keep `concurrency` requests in flight")
    # (b): the slot of a call sleeping its backoff
    retried, others = j.obs["sleeper"], j.obs["busy"]
    j.expect(_raised(retried, "RetriesExhausted") or _ok(retried), "get_json('/sleeper') %s" % _show(retried))
    j.expect_eq(len(others), q["calls"], "get_json('/busy/...') calls recorded")
    bad = [o for o in others if not _returned(o, {"busy": True})]
    j.expect(not bad, "get_json('/busy/...') (200 answers) %s" % (_show(bad[0]) if bad else ""))
    sleeper = _by_path(reqs, "/sleeper")
    j.expect(len(sleeper) == 2, "get_json('/sleeper') (500, then 200; max_retries=1): the server saw %d "
             "requests, expected 2" % len(sleeper), hint=HINT_RETRY)
    a, b = sleeper[0]["end_ms"] or sleeper[0]["start_ms"], sleeper[1]["start_ms"]
    if b - a < 0.9 * 1000 * q["delay_s"]:
        return      # no backoff sleep to hold a slot through: the backoff item reports that
    during = [r for r in reqs if r["path"].startswith("/busy/") and a <= r["start_ms"] < b]
    used = _max_concurrent(during)
    j.expect(used >= q["concurrency"],
             "ApiClient(concurrency=%d): while one call slept its %.0f ms backoff, %d other calls had at most %d "
             "request(s) in flight: the sleeping call kept its slot" % (q["concurrency"], 1000 * q["delay_s"],
                                                                      q["calls"], used),
             hint="hold the semaphore around each request only; release it before the backoff sleep")
