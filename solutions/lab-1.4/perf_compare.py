"""Performance comparison and GIL analysis (lab-1.4): one CPU-bound and one I/O-bound workload,
run serially and with each concurrency model, measured, compared and classified.

Reference solution. The API is the one defined in starter/lab-1.4/perf_compare.py.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

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
    if not chunks:
        return []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(crunch, chunks, [rounds] * len(chunks)))


def cpu_processes(chunks: list[list[int]], workers: int, rounds: int = ROUNDS) -> list[int]:
    """crunch(chunk, rounds) for every chunk, in a pool of `workers` processes; results in order.

    Each task carries only its own chunk (pickled once, to the one worker that crunches it); the pool
    is started once per call and joined by the with-block.
    """
    if not chunks:
        return []
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        return list(pool.map(crunch, chunks, [rounds] * len(chunks)))


async def cpu_asyncio(chunks: list[list[int]], rounds: int = ROUNDS) -> list[int]:
    """crunch(chunk, rounds) for every chunk, one task per chunk, on the event loop's own thread."""

    async def one(chunk):
        return crunch(chunk, rounds)  # no await inside: the task runs start to end, holding the loop

    return list(await asyncio.gather(*(one(chunk) for chunk in chunks)))


# ------------------------------------------------------------------------------------------------
# I/O-bound runners


def io_threads(urls: list[str], workers: int) -> list[tuple[int, int]]:
    """fetch(url) for every URL, at most `workers` at once, in threads; results in order."""
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fetch, urls))


def io_processes(urls: list[str], workers: int) -> list[tuple[int, int]]:
    """fetch(url) for every URL, at most `workers` at once, in worker processes; results in order."""
    if not urls:
        return []
    with ProcessPoolExecutor(max_workers=min(workers, len(urls))) as pool:
        return list(pool.map(fetch, urls))


async def io_asyncio(urls: list[str], limit: int) -> list[tuple[int, int]]:
    """GET every URL with aiohttp, at most `limit` requests at once; (status, length) in order."""
    if not urls:
        return []
    import aiohttp  # here, not at the top: importing it costs every process that imports this module

    sem = asyncio.Semaphore(limit)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=limit)) as session:

        async def one(url):
            async with sem, session.get(url) as resp:
                body = await resp.read()
                return resp.status, len(body)

        return list(await asyncio.gather(*(one(url) for url in urls)))


# ------------------------------------------------------------------------------------------------
# Measuring, classifying, comparing


def measure(fn, *args, **kwargs) -> dict:
    """Call fn(*args, **kwargs) once; return {"result", "seconds", "peak_mb"}.

    A sampler thread reads tree_rss_bytes() every 5 ms while fn runs, so worker processes count too.
    """
    base = tree_rss_bytes()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.005):
            peak[0] = max(peak[0], tree_rss_bytes())

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
    peak[0] = max(peak[0], tree_rss_bytes())
    return {"result": result, "seconds": seconds, "peak_mb": max(0.0, (peak[0] - base) / 2**20)}


def _verdict(speedup: float) -> str:
    return "speedup" if speedup >= SPEEDUP_THRESHOLD else "no-speedup"


def classify(report: dict) -> dict:
    """Verdicts, bound and best model of each workload, from the speed-ups in `report`."""
    out = {}
    for workload in ("cpu", "io"):
        models = report[workload]
        entry = {m: _verdict(models[m]["speedup"]) for m in MODELS}
        if entry["threading"] == "speedup":
            entry["bound"] = "io"  # threads overlap only while the GIL is released: waiting on I/O
        elif entry["multiprocessing"] == "speedup":
            entry["bound"] = "cpu"  # only separate interpreters (separate GILs) help
        else:
            entry["bound"] = "unclear"
        if any(entry[m] == "speedup" for m in MODELS):
            best = MODELS[0]
            for m in MODELS[1:]:
                if models[m]["speedup"] > models[best]["speedup"]:
                    best = m
            entry["best"] = best
        else:
            entry["best"] = "serial"
        out[workload] = entry
    return out


def _entry(m: dict, serial_seconds: float | None = None) -> dict:
    out = {"seconds": m["seconds"], "peak_mb": m["peak_mb"]}
    if serial_seconds is not None:
        out["speedup"] = serial_seconds / m["seconds"]
    return out


def compare(chunks: list[list[int]], urls: list[str], cpu_workers: int = 2, io_workers: int = 8,
            repeats: int = 1) -> dict:
    """Measure both workloads serially and with each model, check the results, classify."""
    import aiohttp  # noqa: F401  (io_asyncio's import, done here once, so that no measured run pays for it)

    runs = {
        "cpu": [
            ("serial", lambda: cpu_serial(chunks)),
            ("threading", lambda: cpu_threads(chunks, cpu_workers)),
            ("multiprocessing", lambda: cpu_processes(chunks, cpu_workers)),
            ("asyncio", lambda: asyncio.run(cpu_asyncio(chunks))),
        ],
        "io": [
            ("serial", lambda: io_serial(urls)),
            ("threading", lambda: io_threads(urls, io_workers)),
            ("multiprocessing", lambda: io_processes(urls, io_workers)),
            ("asyncio", lambda: asyncio.run(io_asyncio(urls, io_workers))),
        ],
    }
    report = {}
    for workload, models in runs.items():
        best: dict[str, dict] = {}
        expected = None
        for r in range(repeats if workload == "cpu" else 1):
            # Alternate the order, so that a drift in the machine's speed falls on every model alike.
            for name, fn in (models if r % 2 == 0 else models[::-1]):
                m = measure(fn)
                if expected is None:
                    expected = m["result"]
                elif m["result"] != expected:
                    raise AssertionError(f"{workload}/{name}: the results differ from the other runs'")
                kept = best.setdefault(name, m)
                # Noise only ever slows a run down: keep the fastest run, and the highest peak.
                kept["seconds"] = min(kept["seconds"], m["seconds"])
                kept["peak_mb"] = max(kept["peak_mb"], m["peak_mb"])
        serial = best["serial"]["seconds"]
        report[workload] = {"serial": _entry(best["serial"])}
        for name in MODELS:
            report[workload][name] = _entry(best[name], serial)
    report["classification"] = classify(report)
    return report
