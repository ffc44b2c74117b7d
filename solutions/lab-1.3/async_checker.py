"""URL checker with asyncio (lab-1.3): reference solution.

The grader imports this module as `async_checker` and runs, on an event loop it watches:

- check_urls(urls, limit=10, timeout=5.0) -> list[CheckResult]    (a coroutine function)

One thread, one event loop: every request is a coroutine that yields to the loop while it waits
for the server, so all of them wait at once. A semaphore caps how many are in flight.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class CheckResult:
    url: str
    status: int | None
    error: str | None
    elapsed: float


async def check_url(session: aiohttp.ClientSession, url: str, timeout: float = 5.0) -> CheckResult:
    """GET one URL in `session`; every failure becomes a value, never an exception."""
    start = time.perf_counter()
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            await resp.read()
            return CheckResult(url, resp.status, None, time.perf_counter() - start)
    except asyncio.TimeoutError:
        # aiohttp's ServerTimeoutError is both a TimeoutError and a ClientConnectionError: first.
        return CheckResult(url, None, "timeout", time.perf_counter() - start)
    except aiohttp.ClientConnectionError:
        return CheckResult(url, None, "connection", time.perf_counter() - start)
    except aiohttp.ClientError as exc:
        return CheckResult(url, None, "error: " + type(exc).__name__, time.perf_counter() - start)


async def check_urls(urls: list[str], limit: int = 10, timeout: float = 5.0) -> list[CheckResult]:
    """Check every URL with at most `limit` requests in flight; results in the order of `urls`."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    sem = asyncio.Semaphore(limit)

    async def bounded(session: aiohttp.ClientSession, url: str) -> CheckResult:
        async with sem:
            return await check_url(session, url, timeout)

    async with aiohttp.ClientSession() as session:
        # gather keeps the order of its arguments; check_url never raises for a network failure,
        # so one bad URL cannot cancel or lose the others.
        return list(await asyncio.gather(*(bounded(session, u) for u in urls)))
