"""Map-reduce over worker processes.

Reference solution for lab-4.2 (map-reduce with processes).

The job runs in two phases over one process pool:

1. map: the data is cut into contiguous chunks; each worker applies map_func to
   every item of a chunk and groups the pairs by key, keeping their order;
2. shuffle: the parent merges the per-chunk groups in chunk order, so each key's
   values are in input order;
3. reduce: the keys are split into parts and each worker calls reduce_func once
   per key, on the key's complete list of values.

Everything that crosses a process boundary is pickled: map_func and reduce_func
by reference (they must be top-level functions of an importable module), the
chunks, the groups and the results by value.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from typing import Any

MapFunc = Callable[[Any], Iterable[tuple[Hashable, Any]]]
ReduceFunc = Callable[[Hashable, list], Any]

# A few chunks per process: chunks that cost more than others (or a worker that
# is descheduled) do not leave the other workers idle at the end, and the number
# of tasks, each one pickled and sent, stays small.
CHUNKS_PER_PROCESS = 4


def map_reduce_serial(data: Sequence[Any], map_func: MapFunc, reduce_func: ReduceFunc) -> dict:
    """The definition of the result, computed in this process (see map_reduce)."""
    groups: dict = {}
    for item in data:
        for key, value in map_func(item):
            groups.setdefault(key, []).append(value)
    return {key: reduce_func(key, values) for key, values in groups.items()}


def split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    """Cut items into at most `parts` contiguous, non-empty slices covering it exactly once.

    Slice i is items[n*i // parts : n*(i+1) // parts]: the edges reach n whatever
    the remainder, and there are never more slices than items.
    """
    n = len(items)
    parts = max(1, min(parts, n))
    edges = [n * i // parts for i in range(parts + 1)]
    return [items[edges[i]:edges[i + 1]] for i in range(parts) if edges[i] < edges[i + 1]]


def _map_chunk(map_func: MapFunc, chunk: Sequence[Any]) -> dict:
    """Worker task: map every item of a chunk and group the pairs by key, in order.

    The map function's output is consumed here, in the worker (it may be a
    generator, which cannot be pickled); only the grouped values go back.
    """
    groups: dict = {}
    for item in chunk:
        for key, value in map_func(item):
            groups.setdefault(key, []).append(value)
    return groups


def _reduce_part(reduce_func: ReduceFunc, part: Sequence[tuple[Hashable, list]]) -> list:
    """Worker task: reduce each (key, values) of a part, once per key, with all its values."""
    return [(key, reduce_func(key, values)) for key, values in part]


def map_reduce(data: Sequence[Any], map_func: MapFunc, reduce_func: ReduceFunc,
               num_processes: int = 4) -> dict:
    """Run a map-reduce job in at most num_processes worker processes.

    Returns the same dict as map_reduce_serial(data, map_func, reduce_func). The
    pool lives in a with-block: every worker has been joined when this returns,
    also when map_func or reduce_func raises (the exception reaches the caller).
    """
    if num_processes < 1:
        raise ValueError(f"num_processes must be at least 1, got {num_processes}")
    items = data if isinstance(data, (list, tuple, range)) else list(data)
    if len(items) == 0:
        return {}
    chunks = split(items, num_processes * CHUNKS_PER_PROCESS)
    with ProcessPoolExecutor(max_workers=min(num_processes, len(chunks))) as pool:
        # map, then shuffle: pool.map yields the chunk results in chunk order,
        # so extending the lists keeps every key's values in input order.
        groups: dict = {}
        for partial in pool.map(_map_chunk, repeat(map_func), chunks):
            for key, values in partial.items():
                groups.setdefault(key, []).extend(values)
        # reduce: once per key, on its complete list of values
        parts = split(list(groups.items()), num_processes)
        result: dict = {}
        for reduced in pool.map(_reduce_part, repeat(reduce_func), parts):
            result.update(reduced)
    return result
