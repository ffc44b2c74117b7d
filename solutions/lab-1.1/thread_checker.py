"""URL checker with threads (lab-1.1): reference solution.

The grader imports this module as `thread_checker` and calls check_urls, built on check_url:

- check_url(url, timeout=5.0) -> CheckResult
- check_urls(urls, workers=8, timeout=5.0) -> list[CheckResult]

Checking a URL is I/O-bound: the thread spends nearly all its time waiting for the server, and
CPython releases the GIL while a thread waits on a socket. So a pool of threads overlaps the waits,
and N URLs take about as long as the slowest of them, not the sum.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class CheckResult:
    url: str
    status: int | None
    error: str | None
    elapsed: float


def check_url(url: str, timeout: float = 5.0) -> CheckResult:
    """GET one URL; every failure becomes a value, never an exception."""
    start = time.perf_counter()
    try:
        # requests.get opens its own Session (and connection): nothing is shared between threads.
        resp = requests.get(url, timeout=timeout)
        return CheckResult(url, resp.status_code, None, time.perf_counter() - start)
    except requests.Timeout:
        # ConnectTimeout is both a Timeout and a ConnectionError: it must be caught here, first.
        return CheckResult(url, None, "timeout", time.perf_counter() - start)
    except requests.ConnectionError:
        return CheckResult(url, None, "connection", time.perf_counter() - start)
    except requests.RequestException as exc:
        return CheckResult(url, None, "error: " + type(exc).__name__, time.perf_counter() - start)


def check_urls(urls: list[str], workers: int = 8, timeout: float = 5.0) -> list[CheckResult]:
    """Check every URL with at most `workers` threads at once; results in the order of `urls`."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if not urls:
        return []
    # The with-block joins the pool's threads before returning; map() keeps the input order
    # whatever order the answers arrive in.
    with ThreadPoolExecutor(max_workers=min(workers, len(urls)), thread_name_prefix="checker") as pool:
        return list(pool.map(lambda u: check_url(u, timeout), urls))
