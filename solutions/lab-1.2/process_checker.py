"""URL checker with processes (lab-1.2): reference solution.

The grader imports this module as `process_checker` and calls check_urls, built on check_url:

- check_url(url, timeout=5.0) -> CheckResult
- check_urls(urls, workers=4, timeout=5.0) -> list[CheckResult]

The same job as lab-1.1, in worker processes. For I/O-bound work processes buy nothing threads do
not (a waiting thread releases the GIL anyway) and cost more: a process to start, and every task
and result pickled through a pipe. This lab is about doing it right all the same: a bounded pool,
picklable work, results in order, and no process left behind.
"""
from __future__ import annotations

import functools
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class CheckResult:
    url: str
    status: int | None
    error: str | None
    elapsed: float


def check_url(url: str, timeout: float = 5.0) -> CheckResult:
    """GET one URL; every failure becomes a value, never an exception.

    A module-level function: a worker process finds it by its importable name (module and
    qualified name), which is all that pickle sends. A lambda or a nested function has none.
    """
    start = time.perf_counter()
    try:
        resp = requests.get(url, timeout=timeout)
        return CheckResult(url, resp.status_code, None, time.perf_counter() - start)
    except requests.Timeout:
        # ConnectTimeout is both a Timeout and a ConnectionError: it must be caught here, first.
        return CheckResult(url, None, "timeout", time.perf_counter() - start)
    except requests.ConnectionError:
        return CheckResult(url, None, "connection", time.perf_counter() - start)
    except requests.RequestException as exc:
        return CheckResult(url, None, "error: " + type(exc).__name__, time.perf_counter() - start)


def check_urls(urls: list[str], workers: int = 4, timeout: float = 5.0) -> list[CheckResult]:
    """Check every URL in at most `workers` worker processes; results in the order of `urls`."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if not urls:
        return []
    # functools.partial of a module-level function pickles (a lambda would not, under any start
    # method). The with-block calls shutdown(wait=True): every worker process has exited and been
    # joined when it ends. map() gives the results in the order of `urls`.
    with ProcessPoolExecutor(max_workers=min(workers, len(urls))) as pool:
        return list(pool.map(functools.partial(check_url, timeout=timeout), urls))
