"""URL checker with processes (lab-1.2).

The job of lab-1.1 - check a list of URLs and report each one's HTTP status or why there was no
answer - done in worker processes with `requests` and `concurrent.futures.ProcessPoolExecutor` (or
`multiprocessing.Pool`). Checking URLs is I/O-bound, so processes will not beat threads here (find
out why in the quiz and DESIGN.md); what this lab grades is doing processes right: a bounded pool,
work that can be pickled, results in order, and no process left behind.

The grader imports this module as `process_checker` and calls check_urls (built on check_url), with
the default `fork` start method and, in one item, with `spawn`. Every URL it gives points at its own
HTTP server on 127.0.0.1 (a new port each run), whose routes answer with a chosen status after a
chosen latency, never answer, or reset the connection.

API (keep these names and signatures):

- `CheckResult(url, status, error, elapsed)`: the frozen dataclass below, one per checked URL. It is
  defined at the top level, so it pickles: a worker process can send it back.
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
    It is what the worker processes run.

- `check_urls(urls: list[str], workers: int = 4, timeout: float = 5.0) -> list[CheckResult]`
    Check every entry of `urls` with check_url in worker processes, with AT MOST `workers` worker
    processes alive at any moment (and so at most `workers` requests in flight) - but do use them:
    several requests in flight at once while URLs remain. Returns one CheckResult per entry, IN THE
    ORDER OF `urls`; a URL given twice is checked twice. An empty list gives [].
    When it returns, every worker process has exited AND been joined: none left running, no zombie
    (a finished child nobody waited for). Nothing may start processes at import time.
    It must work under both `fork` and `spawn`: everything a worker receives is pickled under spawn,
    including the function, which therefore must be importable by name (top level of this module,
    or functools.partial of such a function; no lambda, no nested def).

What is measured: every result against the server's own record; the worker processes alive during a
call (read from /proc) and the requests in flight at the server (never above `workers`); the wall time
of check_urls against the server's latencies; processes alive or unjoined after the call.
"""
from __future__ import annotations

import functools  # noqa: F401  (functools.partial pickles; a lambda does not)
import time  # noqa: F401  (time.perf_counter, for elapsed)
from concurrent.futures import ProcessPoolExecutor  # noqa: F401
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


def check_urls(urls: list[str], workers: int = 4, timeout: float = 5.0) -> list[CheckResult]:
    """Check every URL in at most `workers` worker processes; results in the order of `urls`."""
    # TODO: a ProcessPoolExecutor(max_workers=...) in a with-block (it joins its workers on exit).
    # TODO: send check_url with the timeout to the workers in a form that pickles.
    # TODO: keep the results in the order of urls.
    raise NotImplementedError("check_urls is not written yet")
