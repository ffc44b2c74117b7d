"""Counting primes in a range, serially and in parallel worker processes.

Reference solution for lab-4.1 (CPU-bound parallelisation).

Counting primes by trial division is pure Python bytecode: a thread holds the
GIL for the whole computation, so threads cannot run two of these at once.
Worker processes each have their own interpreter and their own GIL, so on a
machine with N cores up to N chunks really run at the same time.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from math import isqrt

# More chunks than workers: the cost of testing n grows like sqrt(n), so the
# chunks at the top of the range are the slowest.  Several chunks per worker
# let a worker that finished early take another one (load balancing), while
# keeping the number of tasks (each one pickled and sent) small.
CHUNKS_PER_WORKER = 4


def count_primes(lo: int, hi: int) -> int:
    """Return how many primes p satisfy lo <= p < hi (serial).

    Trial division by 2 and then by odd numbers up to isqrt(n).
    An empty range (lo >= hi) has no primes; numbers below 2 are not prime.
    """
    if hi <= 2 or lo >= hi:
        return 0
    count = 1 if lo <= 2 else 0  # 2 is the only even prime
    start = max(lo, 3)
    if start % 2 == 0:
        start += 1
    for n in range(start, hi, 2):
        for d in range(3, isqrt(n) + 1, 2):
            if n % d == 0:
                break
        else:
            count += 1
    return count


def _count_chunk(bounds: tuple[int, int]) -> int:
    """Worker task: count the primes of one chunk.

    A module-level function, so that it can be pickled by reference
    (module name + function name) and sent to the worker processes.
    """
    lo, hi = bounds
    return count_primes(lo, hi)


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not available on every platform
        return os.cpu_count() or 1


def split_range(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """Split [lo, hi) into at most `parts` contiguous, non-empty chunks.

    The chunks cover the range exactly once: chunk i is
    [lo + size*i // parts, lo + size*(i+1) // parts), so the last one ends at
    hi whatever the remainder, and no number is counted twice.
    """
    size = hi - lo
    if size <= 0:
        return []
    parts = max(1, min(parts, size))
    edges = [lo + size * i // parts for i in range(parts + 1)]
    return [(edges[i], edges[i + 1]) for i in range(parts)]


def parallel_count_primes(lo: int, hi: int, workers: int | None = None) -> int:
    """Return count_primes(lo, hi), computed in worker processes.

    workers: how many worker processes to use; None means one per available
    core.  Every worker has been joined when this function returns, whether it
    returns normally or raises.
    """
    if workers is None:
        workers = default_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    chunks = split_range(lo, hi, workers * CHUNKS_PER_WORKER)
    if not chunks:
        return 0
    # The with-block shuts the pool down and joins every worker on exit.
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        return sum(pool.map(_count_chunk, chunks))
