"""Map-reduce over worker processes (lab-4.2).

The grader imports this module as `mapreduce` and calls

    map_reduce(data, map_func, reduce_func, num_processes=4) -> dict

with the default `fork` start method on a 2-core machine (CPython 3.11), and also
under the `spawn` start method (the default on macOS and Windows). Keep the
function at the top level of this module, with this signature.

map_reduce_serial below is the definition of the result, already written: read
it first. Your map_reduce must return the same dict, computed in worker processes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor  # noqa: F401
from typing import Any

MapFunc = Callable[[Any], Iterable[tuple[Hashable, Any]]]
ReduceFunc = Callable[[Hashable, list], Any]


def map_reduce_serial(data: Sequence[Any], map_func: MapFunc, reduce_func: ReduceFunc) -> dict:
    """The definition of a map-reduce job's result, computed in this process.

    - map: map_func(item) returns an iterable of (key, value) pairs (a list, or
      a generator), possibly empty. Keys are hashable.
    - shuffle: the pairs of all the items are grouped by key; each key's values
      are kept in input order (the order of the items in data, and for one
      item, the order map_func produced them).
    - reduce: reduce_func(key, values) is called exactly once per key, with the
      complete list of that key's values; its return value is the key's result.

    Example (word count):
        def words(line):            # map_func
            for w in line.split():
                yield w, 1
        def total(key, values):     # reduce_func
            return sum(values)
        map_reduce_serial(["a b", "b"], words, total) == {"a": 1, "b": 2}
    """
    groups: dict = {}
    for item in data:
        for key, value in map_func(item):
            groups.setdefault(key, []).append(value)
    return {key: reduce_func(key, values) for key, values in groups.items()}


def map_reduce(data: Sequence[Any], map_func: MapFunc, reduce_func: ReduceFunc,
               num_processes: int = 4) -> dict:
    """Return map_reduce_serial(data, map_func, reduce_func), computed in worker processes.

    - data: a list, tuple or range (it supports len() and slicing); it may be
      empty (the result is then {}), and it may have fewer items than
      num_processes.
    - num_processes: the most worker processes to run at once (>= 1).
    - The map calls must run in the worker processes, several at the same time:
      split data into contiguous chunks that cover it exactly once (whatever the
      remainder) and submit them all before waiting for any result.
    - reduce_func is NOT assumed associative (it may count the values, keep
      their order, ...): call it exactly once per key, on the complete list of
      that key's values in input order. Reducing each chunk and then reducing
      the partial results is wrong; so is merging the chunks in the order they
      finish instead of chunk order.
    - map_func and reduce_func are top-level functions of an importable module.
      Whatever you send to a worker is pickled, and a function is pickled by its
      name: the function you hand to the pool (or to Process(target=...)) must
      be defined at the top level of this module, not a lambda or a nested def.
      map_func may return a generator: consume it in the worker, a generator
      cannot be pickled back.
    - An exception raised by map_func or reduce_func must reach the caller
      (with its own type).
    - Leave no process behind: when map_reduce returns or raises, every worker
      has ended and been joined (hint: a with-block around the pool). Start no
      process at import time.
    """
    # TODO: handle empty data (return {}) and check num_processes.
    # TODO: split data into contiguous chunks (a few per process: why?).
    # TODO: map the chunks in a pool of worker processes; each worker groups its
    #       chunk's pairs by key.
    # TODO: merge the chunk results in chunk order (the shuffle), then call
    #       reduce_func once per key (in the parent, or in the pool).
    raise NotImplementedError("map_reduce is not written yet")
