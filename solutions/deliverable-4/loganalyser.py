"""Parallel log analyser (deliverable 4): reference solution.

The file is cut into byte ranges that start and end on line boundaries; each worker
process opens the file itself, reads only its range and returns partial aggregates:
counters, and a histogram of latencies. The parent merges them. Counters add up, and
so do histograms, which is what makes the percentiles exact: a percentile of the
workers' percentiles would not be.

Nothing but a few integers travels to the workers, and only small dictionaries travel
back, so the parent never holds the log, and the parsing (pure Python bytecode,
CPU-bound) runs in as many interpreters, each with its own GIL, as there are workers.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

# A few ranges per worker: a worker that finishes early takes the next range, so one
# slow range (long lines, a busy core) does not keep the others waiting.
RANGES_PER_WORKER = 4
PERCENTILES = (50, 95, 99)


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has it
        return os.cpu_count() or 1


def line_ranges(path: str, parts: int) -> list[tuple[int, int]]:
    """Split the file into at most `parts` byte ranges [start, end), each made of whole lines.

    Cut at size * i // parts, then move every cut forward to the start of the next line:
    seek one byte before the cut and read to the end of that line. If that byte is a
    newline, the cut already is at a line start and stays where it is. So every line
    belongs to exactly one range, the one in which it starts. Empty ranges are dropped.
    """
    size = os.path.getsize(path)
    if size == 0:
        return []
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, parts):
            cut = size * i // parts
            if cut <= cuts[-1]:
                continue
            f.seek(cut - 1)
            f.readline()  # to just past the next b"\n" (or to the end of the file)
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def analyse_range(path: str, start: int, end: int) -> tuple:
    """Worker: the partial aggregates of the lines in bytes [start, end) of the file."""
    levels: Counter = Counter()
    services: Counter = Counter()
    statuses: Counter = Counter()
    latencies: Counter = Counter()  # latency -> how many times: a histogram, exact when merged
    paths: Counter = Counter()
    malformed = 0
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    lines = data.split(b"\n")
    if lines[-1] == b"":  # the range ends with a newline: nothing after it
        lines.pop()
    for line in lines:
        fields = line.split()  # any run of whitespace
        if len(fields) != 6 or not fields[3].isdigit() or not fields[5].isdigit():
            malformed += 1
            continue
        _, level, service, latency, path_, status = fields
        levels[level] += 1
        services[service] += 1
        latencies[int(latency)] += 1
        paths[path_] += 1
        statuses[int(status)] += 1

    def text(counter):
        return {key.decode(): n for key, n in counter.items()}

    return (len(lines), malformed, text(levels), text(services), dict(statuses),
            dict(latencies), text(paths))


def _analyse_range(job: tuple[str, int, int]) -> tuple:
    return analyse_range(*job)


def nearest_rank(histogram: dict[int, int], count: int, pct: int) -> int:
    """The pct-th percentile by nearest rank: the value at rank ceil(pct / 100 * count)."""
    rank = (pct * count + 99) // 100
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise ValueError("empty histogram")


def merge(partials, top: int) -> dict:
    """Adds the workers' partial aggregates and derives the final figures."""
    lines = malformed = 0
    levels: Counter = Counter()
    services: Counter = Counter()
    statuses: Counter = Counter()
    latencies: Counter = Counter()
    paths: Counter = Counter()
    for n, bad, lv, sv, st, lat, pth in partials:
        lines += n
        malformed += bad
        levels.update(lv)
        services.update(sv)
        statuses.update(st)
        latencies.update(lat)
        paths.update(pth)
    count = sum(latencies.values())
    latency = {"count": count, "mean": None, "max": None}
    latency.update({f"p{p}": None for p in PERCENTILES})
    if count:
        latency["mean"] = sum(v * k for v, k in latencies.items()) / count
        latency["max"] = max(latencies)
        for p in PERCENTILES:
            latency[f"p{p}"] = nearest_rank(latencies, count, p)
    ranked = sorted(paths.items(), key=lambda item: (-item[1], item[0]))
    return {
        "lines": lines,
        "malformed": malformed,
        "levels": dict(levels),
        "services": dict(services),
        "statuses": dict(statuses),
        "latency_ms": latency,
        "top_paths": ranked[:top],
    }


def analyse(path: str, workers: int | None = None, top: int = 10) -> dict:
    """Aggregates of the log at `path`, parsed in `workers` worker processes."""
    if workers is None:
        workers = default_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    ranges = line_ranges(path, workers * RANGES_PER_WORKER)
    if not ranges:
        return merge([], top)
    jobs = [(path, start, end) for start, end in ranges]
    # The with-block shuts the pool down and joins every worker, also when one fails.
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        partials = list(pool.map(_analyse_range, jobs))
    return merge(partials, top)
