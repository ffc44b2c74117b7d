"""URL checker with asyncio (lab-1.3).

The job of lab-1.1 - check a list of URLs and report each one's HTTP status or why there was no
answer - done with asyncio and `aiohttp` in ONE thread: each request is a coroutine that yields to
the event loop while it waits for the server, so all of them wait at the same time. An
asyncio.Semaphore bounds how many requests are in flight.

The grader imports this module as `async_checker` and runs `check_urls(...)` on a fresh event loop
that it watches (in debug mode). Every URL it gives points at its own HTTP server on 127.0.0.1 (a
new port each run), whose routes answer with a chosen status after a chosen latency, never answer,
or reset the connection. Use `aiohttp` (installed in the grader's environment), not `requests`.

API (keep these names and signatures):

- `CheckResult(url, status, error, elapsed)`: the frozen dataclass below, one per checked URL.
    - url:     the URL exactly as given.
    - status:  the HTTP status code of the answer (int) - ANY status: 200, 204, 404 and 500 are all
               answers. None when no answer arrived.
    - error:   None when an answer arrived. Otherwise exactly one of:
                 "timeout"     no complete answer within `timeout` seconds (asyncio.TimeoutError;
                               aiohttp's ServerTimeoutError is also a ClientConnectionError: test
                               for the timeout first);
                 "connection"  the connection was refused, reset or closed without an answer
                               (aiohttp.ClientConnectionError);
                 "error: <exception class name>"  any other aiohttp.ClientError.
    - elapsed: seconds (float, from time.perf_counter()) from sending the request (not from waiting
               for the semaphore) until the answer arrived or the failure was detected.

- `async def check_url(session: aiohttp.ClientSession, url: str, timeout: float = 5.0) -> CheckResult`
    One GET of `url` in `session`, with `timeout` seconds for the whole request
    (aiohttp.ClientTimeout(total=timeout)); reads the body. It never raises for a network failure or
    an HTTP error status: both are results. Your building block; the grader calls check_urls only.

- `async def check_urls(urls: list[str], limit: int = 10, timeout: float = 5.0) -> list[CheckResult]`
    Check every entry of `urls` with check_url, concurrently, in ONE aiohttp.ClientSession (closed
    before returning), with AT MOST `limit` requests in flight at any moment - but do use them: `limit`
    requests in flight while URLs remain. Returns one CheckResult per entry, IN THE ORDER OF `urls`;
    a URL given twice is checked twice. An empty list gives [].

Rules of the loop (the grader watches them, with the line of your code that broke them):
- Never block it: no requests, no time.sleep, no other blocking call inside a coroutine. One step of
  a task running over 300 ms (70 ms in one item) without reaching an await fails the item.
- Await every coroutine you create; await (or gather) every task you create: when check_urls
  returns, no task of yours may still be pending, and no task's exception may go unretrieved.

What is measured: every result against the server's own record; how many requests the server had in
flight at once (never above `limit`); the wall time of check_urls against the server's latencies.
"""
from __future__ import annotations

import asyncio  # noqa: F401
import time  # noqa: F401  (time.perf_counter, for elapsed)
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class CheckResult:
    url: str
    status: int | None
    error: str | None
    elapsed: float


async def check_url(session: aiohttp.ClientSession, url: str, timeout: float = 5.0) -> CheckResult:
    """GET `url` once in `session` and describe the outcome; never raises for a network failure or an HTTP status."""
    # TODO: time the request with time.perf_counter().
    # TODO: async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp: read the body;
    #       any answer -> CheckResult(url, resp.status, None, elapsed).
    # TODO: asyncio.TimeoutError -> "timeout"; aiohttp.ClientConnectionError -> "connection" (order matters: why?).
    raise NotImplementedError("check_url is not written yet")


async def check_urls(urls: list[str], limit: int = 10, timeout: float = 5.0) -> list[CheckResult]:
    """Check every URL concurrently with at most `limit` in flight; results in the order of `urls`."""
    # TODO: one aiohttp.ClientSession for all the URLs, in an `async with`.
    # TODO: an asyncio.Semaphore(limit) held around each request.
    # TODO: run them all at once and keep the order of urls (asyncio.gather does).
    raise NotImplementedError("check_urls is not written yet")
