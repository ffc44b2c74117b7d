"""Deliverable 5: an async API client with retries, exponential backoff and a circuit breaker.

Reference solution. The API is the one the starter's docstring defines.
"""
import asyncio
import json
import random
import time

import aiohttp


class HttpError(Exception):
    """A 4xx answer: the request itself is wrong. Never retried."""

    def __init__(self, status, url=""):
        super().__init__("HTTP %d from %s" % (status, url))
        self.status = status
        self.url = url


class RetriesExhausted(Exception):
    """Every attempt of one call failed with a retryable error."""

    def __init__(self, url, attempts, last_error):
        super().__init__("%s: %d attempt(s) failed, the last with %r" % (url, attempts, last_error))
        self.url = url
        self.attempts = attempts
        self.last_error = last_error


class CircuitOpenError(Exception):
    """The circuit breaker refused the attempt: no request was sent."""


class _ServerError(Exception):
    """A 5xx answer (retryable)."""

    def __init__(self, status):
        super().__init__("HTTP %d" % status)
        self.status = status


RETRYABLE = (_ServerError, aiohttp.ClientError, asyncio.TimeoutError)


class _Breaker:
    """closed -> (threshold consecutive failures) -> open -> (reset_s) -> half_open: one probe ->
    closed on its success, open again on its failure. Only the event loop's thread touches it, and
    no method awaits, so each transition is atomic without a lock."""

    def __init__(self, threshold, reset_s):
        self.threshold = threshold
        self.reset_s = reset_s
        self.state = "closed"
        self.failures = 0
        self.opened_at = 0.0

    def admit(self):
        """Before an attempt: True if it is the half-open probe; CircuitOpenError if refused."""
        if self.state == "closed":
            return False
        if self.state == "open" and time.monotonic() - self.opened_at >= self.reset_s:
            self.state = "half_open"       # this attempt is the one probe
            return True
        if self.state == "open":
            raise CircuitOpenError("circuit open: %.2f s until a probe is allowed"
                                   % (self.reset_s - (time.monotonic() - self.opened_at)))
        raise CircuitOpenError("circuit half-open: a probe is in flight")

    def record(self, ok, probe):
        """After an attempt: ok is False for a retryable failure."""
        if probe:
            if ok:
                self.state, self.failures = "closed", 0
            else:
                self._open()
            return
        if self.state != "closed":
            return                          # an answer to a request sent before the breaker opened
        if ok:
            self.failures = 0
        else:
            self.failures += 1
            if self.failures >= self.threshold:
                self._open()

    def _open(self):
        self.state = "open"
        self.opened_at = time.monotonic()


class ApiClient:
    def __init__(self, base_url, *, max_retries=3, base_delay=0.1, max_delay=2.0, jitter=0.0,
                 breaker_threshold=5, breaker_reset_s=5.0, timeout_s=5.0, concurrency=10):
        if max_retries < 0 or base_delay < 0 or max_delay < 0 or not 0 <= jitter <= 1:
            raise ValueError("max_retries, base_delay and max_delay must be >= 0, jitter in [0, 1]")
        if breaker_threshold < 1 or breaker_reset_s < 0 or timeout_s <= 0 or concurrency < 1:
            raise ValueError("breaker_threshold and concurrency must be >= 1, timeout_s > 0")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.timeout_s = timeout_s
        self._breaker = _Breaker(breaker_threshold, breaker_reset_s)
        self._slots = asyncio.Semaphore(concurrency)
        self._session = None

    @property
    def breaker_state(self):
        return self._breaker.state

    async def __aenter__(self):
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self._session is not None:
            await self._session.close()
            self._session = None

    def delay(self, retry):
        """Seconds to sleep before retry number `retry` (1, 2, ...)."""
        d = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return d * (1 - self.jitter * random.random())

    async def _attempt(self, url):
        """One request, under a concurrency slot and the breaker. Returns the parsed body of an
        answer below 400; raises HttpError (4xx), _ServerError (5xx), or the network error."""
        async with self._slots:
            probe = self._breaker.admit()
            try:
                async with asyncio.timeout(self.timeout_s):
                    async with self._session.get(url) as resp:
                        body = await resp.read()
                        status = resp.status
            except RETRYABLE:
                self._breaker.record(False, probe)
                raise
            except BaseException:
                if probe:          # cancelled mid-probe: settle the breaker, never leave it half-open
                    self._breaker.record(False, probe)
                raise
            self._breaker.record(status < 500, probe)
        if status >= 500:
            raise _ServerError(status)
        if status >= 400:
            raise HttpError(status, url)
        return json.loads(body)

    async def get_json(self, path):
        if self._session is None:
            raise RuntimeError("use `async with ApiClient(...) as client:`")
        url = self.base_url + path
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._attempt(url)
            except RETRYABLE as exc:
                if attempts > self.max_retries:
                    raise RetriesExhausted(url, attempts, exc) from exc
            await asyncio.sleep(self.delay(attempts))
