"""Processing a large array of integers in shared memory.

Reference solution for lab-4.3 (shared-memory data processing).

Every array lives in one multiprocessing.shared_memory segment, as signed
64-bit integers in native byte order (array/memoryview format "q"). Workers
attach to the segment by name and read or write their own contiguous slice
through a memoryview: the data is never pickled, and never copied into a
worker. The rules that keep the segments clean:

- a memoryview over SharedMemory.buf is released before close() (close() raises
  BufferError while a view exists);
- every process close()s its own handle, in a finally;
- the process that created a segment unlink()s it exactly once, in a finally.
"""

from __future__ import annotations

import multiprocessing
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import shared_memory

ITEM_FORMAT = "q"  # signed 64-bit integers, native byte order
ITEM_SIZE = 8


def split(length: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous, non-empty [lo, hi) slices covering range(length) exactly once.

    Slice i is [length*i // n, length*(i+1) // n) with n = min(workers, length):
    the last one ends at length whatever the remainder, and no index is in two
    slices. No slices for length 0.
    """
    n = min(workers, length)
    edges = [length * i // n for i in range(n + 1)] if n > 0 else []
    return [(edges[i], edges[i + 1]) for i in range(n)]


@contextmanager
def attached(name: str) -> Iterator[memoryview]:
    """Attach to the segment `name` and yield it as a memoryview of int64 items.

    The view is released and the handle closed on the way out, in this order,
    whatever happens inside. The segment itself is not unlinked: its creator
    does that.
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        view = shm.buf.cast(ITEM_FORMAT)
        try:
            yield view
        finally:
            view.release()
    finally:
        shm.close()


def _check_workers(workers: int) -> None:
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")


# ---------------------------------------------------------------- parallel_sum

def _sum_slice(name: str, lo: int, hi: int) -> int:
    """Worker task: the sum of items [lo, hi) of the segment, read in place."""
    with attached(name) as view:
        # Slicing a memoryview copies nothing; sum() reads the items one by one.
        return sum(view[lo:hi])


def parallel_sum(values: Sequence[int], workers: int = 2) -> int:
    """Sum values in worker processes that read them from one shared segment."""
    _check_workers(workers)
    if len(values) == 0:
        return 0  # SharedMemory refuses a size of 0, and there is nothing to add
    data = array(ITEM_FORMAT, values)  # OverflowError before any segment exists
    shm = shared_memory.SharedMemory(create=True, size=len(data) * ITEM_SIZE)
    try:
        try:
            shm.buf[:] = memoryview(data).cast("B")  # the one copy: into the segment
            del data
            slices = split(len(values), workers)
            with ProcessPoolExecutor(max_workers=len(slices)) as pool:
                futures = [pool.submit(_sum_slice, shm.name, lo, hi) for lo, hi in slices]
                return sum(f.result() for f in futures)
        finally:
            shm.close()
    finally:
        shm.unlink()  # once, by the creator, also when something above raised


# ---------------------------------------------------------------- transform_in_place

def _transform_slice(name: str, lo: int, hi: int, factor: int, offset: int) -> None:
    """Worker task: items [lo, hi) of the segment become item * factor + offset, in place."""
    with attached(name) as view:
        for i in range(lo, hi):
            view[i] = view[i] * factor + offset


def transform_in_place(name: str, length: int, factor: int, offset: int, workers: int = 2) -> None:
    """Transform the first `length` items of the caller's segment in worker processes."""
    _check_workers(workers)
    slices = split(length, workers)
    if not slices:
        return
    with ProcessPoolExecutor(max_workers=len(slices)) as pool:
        futures = [pool.submit(_transform_slice, name, lo, hi, factor, offset) for lo, hi in slices]
        for f in futures:
            f.result()  # re-raises a worker's exception here


# ---------------------------------------------------------------- histogram

def _count_slice(name: str, lo: int, hi: int, bins: int, counts) -> None:
    """Worker process: count items [lo, hi) by x % bins, then add the counts to the shared ones.

    Counting in a local list keeps the shared counters out of the loop; adding
    them in takes the Array's lock once: `counts[b] += c` is a read and then a
    write, and two processes could interleave between them and lose an update.
    """
    local = [0] * bins
    with attached(name) as view:
        for x in view[lo:hi]:
            local[x % bins] += 1
    with counts.get_lock():
        for b, c in enumerate(local):
            counts[b] += c


def histogram(name: str, length: int, bins: int, workers: int = 2) -> list[int]:
    """Count the first `length` items of the caller's segment by remainder modulo bins."""
    _check_workers(workers)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    counts = multiprocessing.Array("q", bins)  # shared counters, zeroed, with a lock
    procs = [multiprocessing.Process(target=_count_slice, args=(name, lo, hi, bins, counts))
             for lo, hi in split(length, workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} histogram worker(s) failed (exit codes {failed})")
    with counts.get_lock():
        return list(counts)
