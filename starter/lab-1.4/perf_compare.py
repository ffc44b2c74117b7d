"""Lab 1.4: performance comparison and GIL analysis.

You run the same two workloads serially and with each of Python's three concurrency models, measure
time and peak memory, and classify what you see:

- the CPU-bound workload is crunch(): pure-Python arithmetic, no I/O. Under the GIL only one thread
  runs Python bytecode at a time.
- the I/O-bound workload is fetch(): one HTTP GET. While a thread waits for the network it releases
  the GIL.

The grader imports this module as `perf_compare` (CPython 3.11, Linux, 2 cores, the `fork` start
method unless an item says otherwise; `aiohttp` is installed) and calls the functions below. URLs
point at the grader's own HTTP server on 127.0.0.1 (a random port each run; every route answers after
a latency the grader chooses, some with 404 or 500).

aiohttp is imported inside io_asyncio, not at the top of the module: importing it takes about 0.3 s of
CPU and 15 MiB, and every process that imports this module would pay for it - including every worker
process started with spawn or forkserver, which re-imports this module. Keep it there.

GIVEN - keep these as they are (the grader relies on them, and checks results with its own copy):
    MOD, ROUNDS (8), SPEEDUP_THRESHOLD (1.3), MODELS ("threading", "multiprocessing", "asyncio")
    crunch(values, rounds=ROUNDS) -> int           the CPU-bound unit of work, one chunk of values
    fetch(url, timeout=10.0) -> (status, length)   the I/O-bound unit of work; 404/500 are returned, not raised
    tree_rss_bytes(pid=None) -> int                resident memory of a process and all its descendants
    cpu_serial(chunks, rounds=ROUNDS) -> list[int] the CPU-bound baseline
    io_serial(urls) -> list[(status, length)]      the I/O-bound baseline

YOU WRITE - every runner returns one result per input, IN THE ORDER OF THE INPUT, and [] for no input:

    cpu_threads(chunks, workers, rounds=ROUNDS) -> list[int]
        [crunch(chunk, rounds) for chunk in chunks], computed in a pool of `workers` threads (at most
        `workers` chunks at once, several at once when there are several chunks).
    cpu_processes(chunks, workers, rounds=ROUNDS) -> list[int]
        The same, computed in a pool of `workers` worker processes: at most `workers` at once, several at
        once, none of it in the calling process. Every worker has ended and been joined when it returns.
        Send each worker only what it needs: the memory item measures the peak memory of this function
        on a large data set (under the forkserver start method) against the reference solution's.
    async cpu_asyncio(chunks, rounds=ROUNDS) -> list[int]
        The same, one asyncio task per chunk (asyncio.gather), each calling crunch() inside the
        coroutine, on the event loop's own thread: no executor, no asyncio.to_thread. (This shows what
        asyncio alone does for CPU-bound work.)

    io_threads(urls, workers) -> list[tuple[int, int]]
        [fetch(url) for url in urls], in a pool of `workers` threads: up to `workers` requests in flight
        at once, never more; each URL fetched once.
    io_processes(urls, workers) -> list[tuple[int, int]]
        The same, in a pool of `workers` worker processes.
    async io_asyncio(urls, limit) -> list[tuple[int, int]]
        (status, body length in bytes) of a GET of each URL, with aiohttp (one ClientSession), up to
        `limit` requests in flight at once, never more. A 404 or 500 is a result, not an exception.
        Never block the event loop (no fetch(), time.sleep(), requests or urllib inside a coroutine).

    measure(fn, *args, **kwargs) -> dict
        Calls fn(*args, **kwargs) once and returns
            {"result": what fn returned,
             "seconds": wall time of the call (time.perf_counter() after minus before),
             "peak_mb": peak memory of the call in MiB (2**20 bytes)}.
        peak_mb = (the highest tree_rss_bytes() seen while fn ran) - (tree_rss_bytes() just before the
        call), never below 0. Read tree_rss_bytes() from a second thread every 10 ms or less while fn
        runs (and once more when it returns), so that worker processes count too.

    classify(report) -> dict
        `report` has the shape of compare()'s result (its "classification" key, if any, is ignored):
        report[w][m]["speedup"] for w in ("cpu", "io") and m in MODELS. Returns, for w in ("cpu", "io"):
            {w: {"threading": verdict, "multiprocessing": verdict, "asyncio": verdict,
                 "bound": "cpu" | "io" | "unclear", "best": "threading" | "multiprocessing" | "asyncio" | "serial"}}
        - verdict: "speedup" when speedup >= SPEEDUP_THRESHOLD, else "no-speedup";
        - bound: "io" when threading's verdict is "speedup" (threads overlap only while the GIL is
          released, i.e. while waiting); otherwise "cpu" when multiprocessing's verdict is "speedup"
          (only separate interpreters helped); otherwise "unclear";
        - best: the model with the largest speedup (on a tie, the first in MODELS' order), or "serial"
          when no verdict is "speedup".
        Does not change `report`.

    compare(chunks, urls, cpu_workers=2, io_workers=8, repeats=1) -> dict
        Measures, with measure(), each workload serially and with each model:
            cpu: cpu_serial(chunks), cpu_threads(chunks, cpu_workers), cpu_processes(chunks, cpu_workers),
                 asyncio.run(cpu_asyncio(chunks))
            io:  io_serial(urls), io_threads(urls, io_workers), io_processes(urls, io_workers),
                 asyncio.run(io_asyncio(urls, io_workers))
        in that order (serial, threading, multiprocessing, asyncio), the CPU workload first, then the I/O
        one. Each CPU run is measured `repeats` times (every other repetition in the reverse order) and
        keeps its fastest time and its highest peak: noise on a shared machine only ever slows a run
        down. Each I/O run is measured once. Every run's result must equal the serial run's (raise
        AssertionError otherwise). Returns:
            {"cpu": {"serial":          {"seconds": s, "peak_mb": mb},
                     "threading":       {"seconds": s, "peak_mb": mb, "speedup": serial_seconds / s},
                     "multiprocessing": {... the same keys ...},
                     "asyncio":         {... the same keys ...}},
             "io":  {... the same shape ...},
             "classification": classify(<this report>)}
        Report what you measured: the grader checks the numbers against the server's record of each I/O
        run and against its own measurement of your CPU runners.
"""

from __future__ import annotations

import asyncio  # noqa: F401  (cpu_asyncio, io_asyncio, compare)
import os
import threading  # noqa: F401  (measure's sampler thread)
import time  # noqa: F401  (measure)
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: F401

# ------------------------------------------------------------------------------------------------
# Given: the workloads, the memory probe and the serial baselines (keep them as they are).

MOD = 1_000_003
ROUNDS = 8
SPEEDUP_THRESHOLD = 1.3
MODELS = ("threading", "multiprocessing", "asyncio")

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def crunch(values: list[int], rounds: int = ROUNDS) -> int:
    """The CPU-bound unit of work: pure-Python arithmetic on every value, no I/O."""
    total = 0
    for x in values:
        for _ in range(rounds):
            x = (x * x + 1) % MOD
        total += x
    return total


def fetch(url: str, timeout: float = 10.0) -> tuple[int, int]:
    """The I/O-bound unit of work: GET `url`, return (status, body length in bytes)."""
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            return resp.status, len(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, len(exc.read())


def tree_rss_bytes(pid: int | None = None) -> int:
    """Resident memory (VmRSS) of process `pid` (default: this one) and all its descendants, in bytes."""
    todo, seen, total = [os.getpid() if pid is None else pid], set(), 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue  # the process ended while we looked
    return total


def cpu_serial(chunks: list[list[int]], rounds: int = ROUNDS) -> list[int]:
    """The CPU-bound baseline: crunch every chunk in this thread, one after another."""
    return [crunch(chunk, rounds) for chunk in chunks]


def io_serial(urls: list[str]) -> list[tuple[int, int]]:
    """The I/O-bound baseline: fetch every URL in this thread, one after another."""
    return [fetch(url) for url in urls]


# ------------------------------------------------------------------------------------------------
# CPU-bound runners


def cpu_threads(chunks: list[list[int]], workers: int, rounds: int = ROUNDS) -> list[int]:
    """crunch(chunk, rounds) for every chunk, in a pool of `workers` threads; results in order."""
    # TODO: a ThreadPoolExecutor(max_workers=workers); map crunch over the chunks.
    raise NotImplementedError("cpu_threads is not written yet")


def cpu_processes(chunks: list[list[int]], workers: int, rounds: int = ROUNDS) -> list[int]:
    """crunch(chunk, rounds) for every chunk, in a pool of `workers` processes; results in order."""
    # TODO: one pool of worker processes for the whole call, every chunk submitted at once.
    # TODO: what does each task pickle and send? Only its own chunk, please.
    raise NotImplementedError("cpu_processes is not written yet")


async def cpu_asyncio(chunks: list[list[int]], rounds: int = ROUNDS) -> list[int]:
    """crunch(chunk, rounds) for every chunk, one task per chunk, on the event loop's own thread."""
    # TODO: gather one coroutine per chunk; each calls crunch() itself. Predict the speed-up first.
    raise NotImplementedError("cpu_asyncio is not written yet")


# ------------------------------------------------------------------------------------------------
# I/O-bound runners


def io_threads(urls: list[str], workers: int) -> list[tuple[int, int]]:
    """fetch(url) for every URL, at most `workers` at once, in threads; results in order."""
    # TODO: submit every URL before waiting for any result.
    raise NotImplementedError("io_threads is not written yet")


def io_processes(urls: list[str], workers: int) -> list[tuple[int, int]]:
    """fetch(url) for every URL, at most `workers` at once, in worker processes; results in order."""
    # TODO
    raise NotImplementedError("io_processes is not written yet")


async def io_asyncio(urls: list[str], limit: int) -> list[tuple[int, int]]:
    """GET every URL with aiohttp, at most `limit` requests at once; (status, length) in order."""
    import aiohttp  # noqa: F401  (here, not at the top: see the module docstring)

    # TODO: one aiohttp.ClientSession, an asyncio.Semaphore(limit), asyncio.gather.
    raise NotImplementedError("io_asyncio is not written yet")


# ------------------------------------------------------------------------------------------------
# Measuring, classifying, comparing


def measure(fn, *args, **kwargs) -> dict:
    """Call fn(*args, **kwargs) once; return {"result", "seconds", "peak_mb"} (see the module docstring)."""
    # TODO: a sampler thread reading tree_rss_bytes() every few ms while fn runs; stop and join it after.
    raise NotImplementedError("measure is not written yet")


def classify(report: dict) -> dict:
    """Verdicts, bound and best model of each workload, from the speed-ups in `report`."""
    # TODO: follow the rules of the module docstring to the letter.
    raise NotImplementedError("classify is not written yet")


def compare(chunks: list[list[int]], urls: list[str], cpu_workers: int = 2, io_workers: int = 8,
            repeats: int = 1) -> dict:
    """Measure both workloads serially and with each model, check the results, classify."""
    # TODO: measure() every run in the docstring's order; build the report; add its classification.
    raise NotImplementedError("compare is not written yet")
