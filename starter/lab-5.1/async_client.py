"""Lab 5.1: an asynchronous HTTP client with aiohttp.

Fetch many URLs at once on one event loop: a bounded number of requests in flight, one shared
session (so connections are reused), a timeout per request, and a result for every URL whatever
happens to it. The grader relies on exactly this API:

class FetchResult
    What happened to one URL. Attributes (a dataclass is fine):
      url       the URL, as given
      status    the HTTP status code (int) when a response arrived, whatever the code (200, 404,
                503, ...); None when no response arrived (timeout, connection failure)
      body      the response body as text (await response.text()) when a response arrived, else None
      error     None when a response arrived (an HTTP error status is a response, not an error);
                exactly "timeout" when no complete response arrived within the request's timeout;
                otherwise a short description of the failure (say "ClientOSError: Connection reset
                by peer"): any non-empty string other than "timeout"
      elapsed   seconds from starting this request (after it got its concurrency slot) to its
                result, measured with time.monotonic()

async def fetch_url(session, url, request_timeout=10.0) -> FetchResult
    One GET of `url` with the given aiohttp.ClientSession (the caller owns it: do not close it).
    The whole request, body included, must finish within `request_timeout` seconds, or the
    result is a timeout. Never raises for a timeout, an HTTP error status or a connection
    failure: it returns a FetchResult saying what happened.

async def fetch_all(urls, max_concurrent=10, request_timeout=10.0) -> list[FetchResult]
    Fetches every URL of `urls` (a list of strings) concurrently and returns their results in the
    order of `urls`. ValueError if max_concurrent < 1.
      - at most `max_concurrent` requests are in flight at any moment, and up to that many are
        (do not fetch one at a time);
      - ONE aiohttp.ClientSession for the whole call, closed before fetch_all returns: its
        connections are kept alive and reused from one request to the next;
      - each request has its own timeout of `request_timeout` seconds, counted from when it got
        its slot: a request that hangs becomes a "timeout" result and the others are unaffected;
      - one failing URL never loses the others' results;
      - never block the event loop (no requests, urllib or time.sleep inside a coroutine).
    Each URL is fetched once. The grader runs fetch_all on its own event loop (await it; do not
    call asyncio.run inside).

Why the parameter is called request_timeout and not timeout: ruff's rule ASYNC109 asks async
functions not to take a `timeout` parameter (the caller should use `asyncio.timeout()`); here
the timeout is per request, inside fetch_all, so it has a more precise name.
"""
import asyncio  # noqa: F401  (you will need these)
import time  # noqa: F401
from dataclasses import dataclass

import aiohttp  # noqa: F401


@dataclass
class FetchResult:
    url: str
    status: int | None = None
    body: str | None = None
    error: str | None = None
    elapsed: float = 0.0


async def fetch_url(session, url, request_timeout=10.0):
    # TODO: one GET with `session` inside `async with asyncio.timeout(request_timeout):`; read the body
    # with `await response.text()`. Return a FetchResult for a response (any status), for TimeoutError
    # (error "timeout") and for aiohttp.ClientError (error describing it). Measure elapsed.
    raise NotImplementedError("fetch_url")


async def fetch_all(urls, max_concurrent=10, request_timeout=10.0):
    # TODO: validate max_concurrent; an asyncio.Semaphore(max_concurrent); ONE aiohttp.ClientSession
    # (`async with`); one coroutine per URL that takes a slot and calls fetch_url; gather them all at
    # once and return the results as a list, in the order of `urls`.
    raise NotImplementedError("fetch_all")
