"""Processing a large array of integers in shared memory (lab-4.3).

The grader imports this module as `shmproc` and calls the three functions
below, with the default `fork` start method on a 2-core machine (CPython 3.11);
one item runs parallel_sum under the `spawn` start method and measures the peak
memory of each worker process. Keep the functions at the top level of this
module, with these signatures. Standard library only.

Every array is a multiprocessing.shared_memory segment holding signed 64-bit
integers in native byte order: format "q", 8 bytes per item, item i at byte
8 * i. Read and write the items through a memoryview: shm.buf.cast("q").

The rules for segments, checked by the grader in every run:
- a worker receives a segment's NAME and its bounds, never the data itself;
- every process close()s each SharedMemory it opened, in a finally, after
  releasing its memoryviews (close() raises BufferError while a view exists);
- the process that created a segment unlink()s it exactly once, in a finally;
  a segment the caller gave you is never unlinked by you;
- no segment is left in /dev/shm and no process is left running when a
  function returns or raises.
"""

from __future__ import annotations

import multiprocessing  # noqa: F401  (multiprocessing.Array, multiprocessing.Process)
from array import array  # noqa: F401
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor  # noqa: F401
from multiprocessing import shared_memory  # noqa: F401

ITEM_FORMAT = "q"  # signed 64-bit integers, native byte order
ITEM_SIZE = 8


def parallel_sum(values: Sequence[int], workers: int = 2) -> int:
    """Return sum(values), computed by `workers` worker processes reading shared memory.

    - Copy the values ONCE, into one new SharedMemory segment of
      len(values) * 8 bytes (array("q", values) is one way; it raises
      OverflowError for a value that does not fit in 64 bits: let that reach
      the caller, and leave no segment behind).
    - Split the indices into `workers` contiguous slices [lo, hi) that cover
      range(len(values)) exactly once (fewer slices when there are fewer items
      than workers). Each worker attaches to the segment by name, sums its
      slice through a memoryview, and returns its partial sum; add them up.
    - Do not send the values to the workers: no list, no slice of it, and no
      view.tolist() in the worker. The grader measures each worker's peak
      memory: reading its share in place costs 8 bytes per item, a copy about
      five times as much.
    - values == [] gives 0 (SharedMemory refuses a size of 0).
    - workers >= 1.

    Example: parallel_sum([5, -3, 8], workers=4) == 10.
    """
    # TODO: the empty case; copy the values into a new segment.
    # TODO: sum the slices in worker processes (top-level worker function, which
    #       gets the segment's name and its bounds).
    # TODO: close and unlink the segment in finally blocks.
    raise NotImplementedError("parallel_sum is not written yet")


def transform_in_place(name: str, length: int, factor: int, offset: int, workers: int = 2) -> None:
    """Replace each of the first `length` items x of the segment `name` by x * factor + offset.

    - The caller created the segment, filled it and will unlink it; it may hold
      more than `length` items: the items from index `length` on must not
      change. The caller guarantees that every result fits in 64 bits.
    - `workers` worker processes (fewer when length < workers) each transform
      their own contiguous slice [lo, hi), in place, at the same time: every
      index in [0, length) is transformed exactly once, by exactly one worker.
    - Attach by name in each worker and close() there; never unlink().
    - length == 0: nothing to do.

    The performance item times this function against a reference whose workers
    do `for i in range(lo, hi): view[i] = view[i] * factor + offset`.
    """
    # TODO: split [0, length) into slices; transform them in worker processes.
    raise NotImplementedError("transform_in_place is not written yet")


def histogram(name: str, length: int, bins: int, workers: int = 2) -> list[int]:
    """Return counts, where counts[b] is how many of the first `length` items x have x % bins == b.

    - The caller created the segment and will unlink it (never unlink it here).
      Python's % is used: for bins > 0, x % bins is in [0, bins) also for
      negative x.
    - `workers` worker processes each count their own contiguous slice, and
      add their counts into ONE shared array of counters,
      multiprocessing.Array("q", bins), created here and given to each worker
      when it starts (Process(args=...)). Return its values as a list.
    - The workers run at the same time, so the shared counters need their lock:
      `counts[b] += 1` reads and then writes, and another process can write in
      between. Hold counts.get_lock() around every update of a shared counter
      (better: count in a local list and add it in once, under the lock).
    - length == 0 gives [0] * bins.

    Example: items [3, 4, -1, 6] with bins=3 give [2, 1, 1].
    """
    # TODO: the shared counters; one worker process per slice; join them all.
    raise NotImplementedError("histogram is not written yet")
