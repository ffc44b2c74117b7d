"""URL checker with threads (lab-1.1).

Check a list of URLs concurrently with threads and the `requests` library: for each URL, GET it
and report the HTTP status, or why there was no answer, and how long it took. Checking a URL is
I/O-bound: nearly all of the time is spent waiting for the server, so N URLs checked by a pool of
threads should take about as long as the slowest one, not the sum of all of them.

The grader imports this module as `thread_checker` and calls check_urls (built on check_url). Every
URL it gives points at its own HTTP server on 127.0.0.1 (a new port each run), whose routes answer
with a chosen status after a chosen latency, never answer, or reset the connection. Use `requests`
(installed in the grader's environment) and `concurrent.futures.ThreadPoolExecutor` or `threading`.

API (keep these names and signatures):

- `CheckResult(url, status, error, elapsed)`: the frozen dataclass below, one per checked URL.
    - url:     the URL exactly as given.
    - status:  the HTTP status code of the answer (int) - ANY status: 200, 204, 404 and 500 are all
               answers. None when no answer arrived.
    - error:   None when an answer arrived. Otherwise exactly one of:
                 "timeout"     no answer within `timeout` seconds (requests.Timeout, which includes
                               requests.ConnectTimeout - that one is also a ConnectionError: test
                               for Timeout first);
                 "connection"  the connection was refused, reset or closed without an answer
                               (requests.ConnectionError);
                 "error: <exception class name>"  any other requests.RequestException.
    - elapsed: seconds (float, from time.perf_counter()) from sending the request until the answer
               arrived or the failure was detected.

- `check_url(url: str, timeout: float = 5.0) -> CheckResult`
    One GET of `url`, with `timeout` seconds (requests' timeout= argument) for connecting and for
    the answer. It never raises for a network failure or an HTTP error status: both are results.

- `check_urls(urls: list[str], workers: int = 8, timeout: float = 5.0) -> list[CheckResult]`
    Check every entry of `urls` with check_url, concurrently, with AT MOST `workers` requests (and
    at most `workers` worker threads) at any moment - but do use them: all `workers` busy while URLs
    remain. Returns one CheckResult per entry, IN THE ORDER OF `urls` (not the order the answers
    arrive in); a URL given twice is checked twice. An empty list gives []. When it returns, every
    thread it started has finished (nothing is left running between calls).

What is measured: every result against the server's own record; how many requests the server had in
flight at once (never above `workers`); the wall time of check_urls against the server's latencies
(near the slowest latency when workers >= len(urls), far below their sum); threads left behind.
"""
from __future__ import annotations

import time  # noqa: F401  (time.perf_counter, for elapsed)
from concurrent.futures import ThreadPoolExecutor  # noqa: F401
from dataclasses import dataclass

import requests  # noqa: F401


@dataclass(frozen=True)
class CheckResult:
    url: str
    status: int | None
    error: str | None
    elapsed: float


def check_url(url: str, timeout: float = 5.0) -> CheckResult:
    """GET `url` once and describe the outcome; never raises for a network failure or an HTTP status."""
    # TODO: time the request with time.perf_counter().
    # TODO: requests.get(url, timeout=timeout): any answer -> CheckResult(url, resp.status_code, None, elapsed).
    # TODO: requests.Timeout -> "timeout"; requests.ConnectionError -> "connection" (order matters: why?).
    raise NotImplementedError("check_url is not written yet")


def check_urls(urls: list[str], workers: int = 8, timeout: float = 5.0) -> list[CheckResult]:
    """Check every URL concurrently with at most `workers` threads; results in the order of `urls`."""
    # TODO: a ThreadPoolExecutor(max_workers=workers) in a with-block (it joins its threads).
    # TODO: keep the results in the order of urls (executor.map does; as_completed does not).
    raise NotImplementedError("check_urls is not written yet")
