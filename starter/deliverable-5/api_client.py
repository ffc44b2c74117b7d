"""Deliverable 5: an async API client with retries, exponential backoff and a circuit breaker.

Module 5's deliverable: "Async API client with retry logic, circuit breaker, and comprehensive error
handling", built on aiohttp. The grader talks to it through exactly this API, against its own HTTP server
that injects faults (500/503 answers, TCP resets, requests never answered, trickling bodies, outages) and
records every request it receives: how many, when, how many at once.

class HttpError(Exception)
    A 4xx answer: the request itself is wrong. Attribute `status` (int). Never retried.

class RetriesExhausted(Exception)
    Every attempt of one call failed with a retryable error. Attributes: `attempts` (int: the requests
    this call made) and `last_error` (the last attempt's exception; also chain it: `raise ... from exc`).

class CircuitOpenError(Exception)
    The circuit breaker refused an attempt: no request was sent.

class ApiClient(base_url, *, max_retries=3, base_delay=0.1, max_delay=2.0, jitter=0.0,
                breaker_threshold=5, breaker_reset_s=5.0, timeout_s=5.0, concurrency=10)
    Used as `async with ApiClient(...) as client:`. __aenter__ opens one aiohttp.ClientSession (create it
    there, inside the running loop, not in __init__) and returns the client; __aexit__ closes the session.

    async get_json(path) -> object
        GET base_url + path (path starts with "/"); an answer below 400 -> its body parsed as JSON
        (json.loads of the body, or `await resp.json(content_type=None)`).
        A call is a series of attempts: the first, then up to `max_retries` retries.
        Retryable (the attempt failed, maybe transiently):
          - an answer with status >= 500,
          - an aiohttp.ClientError that is not an answer (connection reset or refused, body cut short),
          - an attempt that takes longer than `timeout_s` seconds in all, body included (asyncio.timeout).
        Not retryable: a 4xx answer -> raise HttpError(status) at once, after exactly one request.
        Backoff: before retry k (k = 1, 2, ...), `await asyncio.sleep(delay)` with
            delay = min(max_delay, base_delay * 2 ** (k - 1)) * (1 - jitter * random.random())
        so with jitter=0 the delays are base_delay, 2 x base_delay, 4 x ..., never above max_delay; with
        jitter j each is drawn from [(1 - j) x d, d]. Never block the event loop (no time.sleep).
        When the last allowed attempt fails: raise RetriesExhausted - never return None.

    Circuit breaker: one per client, shared by every path and every concurrent call.
        closed     Attempts go through. When an attempt ends, a retryable failure adds 1 to a count of
                   consecutive failures; any answer below 500 (2xx and 4xx alike) resets it to 0. When the
                   count reaches `breaker_threshold`, the breaker opens.
        open       No request is sent: every attempt - a new call, or a retry of a call in progress - raises
                   CircuitOpenError at once. (A call whose retries meet an open breaker therefore raises
                   CircuitOpenError, not RetriesExhausted.) Answers to requests sent before it opened change
                   nothing. Once `breaker_reset_s` seconds have passed since it opened, the next attempt
                   goes through as the probe: half-open.
        half-open  Exactly one probe request is in flight; every other attempt meanwhile raises
                   CircuitOpenError. The probe succeeds (any answer below 500): closed, count 0. The probe
                   fails (retryable): open again, for another `breaker_reset_s` from then.
        The breaker is asked before every attempt (after its backoff sleep, if any).

    Concurrency: at most `concurrency` requests in flight at once across all calls of the client: one
    asyncio.Semaphore, made once, held around each request only (not while sleeping a backoff).

    Constructor arguments: max_retries >= 0; base_delay, max_delay in seconds (>= 0); jitter in [0, 1];
    breaker_threshold >= 1; breaker_reset_s, timeout_s in seconds; concurrency >= 1.

aiohttp note: for a GET whose connection drops before any answer, aiohttp itself sends the request once
more on a fresh connection (RFC 9112, section 9.3.1.1); that is still one attempt of yours.
"""
import asyncio  # noqa: F401  (you will need these)
import json  # noqa: F401
import random  # noqa: F401
import time  # noqa: F401

import aiohttp  # noqa: F401


class HttpError(Exception):
    def __init__(self, status, url=""):
        super().__init__("HTTP %d from %s" % (status, url))
        self.status = status


class RetriesExhausted(Exception):
    def __init__(self, url, attempts, last_error):
        super().__init__("%s: %d attempt(s) failed, the last with %r" % (url, attempts, last_error))
        self.attempts = attempts
        self.last_error = last_error


class CircuitOpenError(Exception):
    pass


class ApiClient:
    def __init__(self, base_url, *, max_retries=3, base_delay=0.1, max_delay=2.0, jitter=0.0,
                 breaker_threshold=5, breaker_reset_s=5.0, timeout_s=5.0, concurrency=10):
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.breaker_threshold = breaker_threshold
        self.breaker_reset_s = breaker_reset_s
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        # TODO: the breaker's state (closed / open / half-open, consecutive failures, when it opened)
        # TODO: one asyncio.Semaphore(concurrency)
        self._session = None

    async def __aenter__(self):
        # TODO: open one aiohttp.ClientSession and return self
        raise NotImplementedError("ApiClient.__aenter__")

    async def __aexit__(self, *exc):
        # TODO: close the session
        raise NotImplementedError("ApiClient.__aexit__")

    def delay(self, retry):
        """Seconds to sleep before retry number `retry` (1, 2, ...)."""
        # TODO: min(max_delay, base_delay * 2 ** (retry - 1)) * (1 - jitter * random.random())
        raise NotImplementedError("ApiClient.delay")

    async def get_json(self, path):
        # TODO: attempts with backoff, the breaker asked before each one, a semaphore slot and a timeout
        # around each request; HttpError for a 4xx, RetriesExhausted at the end, CircuitOpenError when
        # refused.
        raise NotImplementedError("ApiClient.get_json")

