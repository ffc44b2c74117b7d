"""Exercise: the teaching guide's ProcessPoolManager (Module 2, Lesson 2, "Advanced Process Pool Patterns").

A context manager around multiprocessing.Pool with a worker initializer, error handling and resource
cleanup, and a helper that runs a function over many items in worker processes, collecting per-item
failures instead of aborting. The guide's version has the right idea but leaves details open (what
happens to a stuck task, whether the pool is joined after terminate(), what becomes of results when one
item fails); the grader relies on exactly this API:

class ProcessPoolManager(processes=None, initializer=None, initargs=(), task_timeout=None)
    processes      the number of worker processes; None means os.cpu_count() (Pool's default).
                   ValueError from the constructor unless None or an int >= 1.
    initializer    None, or a callable run ONCE IN EACH WORKER PROCESS when it starts, as
                   initializer(*initargs) (pass both to multiprocessing.Pool; never call it here).
    initargs       the initializer's arguments (a tuple).
    task_timeout   None, or seconds (> 0, else ValueError from the constructor): how long a NORMAL exit
                   waits for the submitted work to finish (see __exit__).

    __enter__() -> multiprocessing.pool.Pool
        Creates the pool, with the current default start method (multiprocessing.Pool(...); do not
        choose a start method yourself), and returns it RUNNING: the caller uses pool.map,
        pool.apply_async, pool.imap ... inside the with-block. A manager is entered once.
    __exit__(exc_type, exc, tb) -> False
        Never suppresses an exception: whatever was raised in the block propagates unchanged.
        - Normal exit (no exception): close(), then join(): every task already submitted runs to
          the end, so AsyncResults obtained in the block are ready afterwards. With task_timeout
          set: if the workers have not all finished task_timeout seconds after close(), terminate()
          and join() the pool, then raise TimeoutError (the builtin).
        - Exit by an exception: terminate(), then join(): running tasks are killed and queued ones
          dropped; this must return promptly (well under a second) even if a task would never end.
        Either way, when __exit__ returns, every worker process has exited AND been joined: no
        worker left running, no zombie (a finished child nobody waited for).

run_all(fn, items, processes=None, chunksize=None) -> tuple[list, dict]
    Computes fn(item) for every item of `items` (any iterable, read once) in the worker processes
    of a ProcessPoolManager(processes), at most `processes` at a time, passing `chunksize` on to
    the pool (None: the pool's default). Returns (results, errors):
      results  a list with one entry per item, IN INPUT ORDER: fn(item), or None where fn raised;
      errors   {index: text} for every item whose call raised an Exception, where index is the
               item's position in `items` and text is f"{type(exc).__name__}: {exc}"
               (e.g. {1: "ValueError: bad item 1"}).
    One failing item never stops the others: every other item is still computed and returned.
    Empty `items` gives ([], {}). fn must be picklable: a function defined at the top level of an
    importable module (under the spawn start method everything a worker gets is pickled).

cpu_task(n) -> int
    The example CPU-bound task: sum(i * i for i in range(n)), computed in pure Python. Given.

Everything must also work under the `spawn` start method (the default on macOS and Windows): functions
that reach a worker (tasks, the initializer, any wrapper of yours) are pickled by their importable name,
so they must be defined at the top level of a module - no lambda, no nested def - and a spawned worker
imports pool_manager.py, so any demo code must sit under `if __name__ == "__main__":`.
"""
import multiprocessing  # noqa: F401  (you will need these)
import os
import threading  # noqa: F401
import time


class ProcessPoolManager:
    """A multiprocessing.Pool that is always closed and joined (or terminated and joined)."""

    def __init__(self, processes=None, initializer=None, initargs=(), task_timeout=None):
        # TODO: validate processes and task_timeout (ValueError), keep the arguments.
        self.processes = processes
        self.initializer = initializer
        self.initargs = initargs
        self.task_timeout = task_timeout
        self.pool = None

    def __enter__(self):
        # TODO: create the pool (initializer and initargs go to the pool) and return it, running.
        raise NotImplementedError("ProcessPoolManager.__enter__")

    def __exit__(self, exc_type, exc, tb):
        # TODO: normal exit: close() + join() (bounded by task_timeout, see the docstring);
        #       exit by an exception: terminate() + join(). Never suppress the exception.
        raise NotImplementedError("ProcessPoolManager.__exit__")


def run_all(fn, items, processes=None, chunksize=None):
    # TODO: fn(item) for every item in the workers of a ProcessPoolManager(processes); return
    #       (results, errors) as the docstring says. A failing item must not abort the others.
    raise NotImplementedError("run_all")


def cpu_task(n):
    """The example CPU-bound task: sum(i * i for i in range(n)), in pure Python."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def _announce(tag):
    print("worker %d initialised (%s)" % (os.getpid(), tag), flush=True)


if __name__ == "__main__":
    # A demo: run `python pool_manager.py`. Under spawn, every worker imports this module, so nothing
    # may start processes outside this block.
    sizes = [300_000] * 8
    t0 = time.perf_counter()
    serial = [cpu_task(n) for n in sizes]
    t1 = time.perf_counter()
    results, errors = run_all(cpu_task, sizes, processes=2)
    t2 = time.perf_counter()
    assert results == serial and not errors
    print("serial %.2f s, run_all %.2f s" % (t1 - t0, t2 - t1))
    with ProcessPoolManager(2, initializer=_announce, initargs=("demo",)) as pool:
        print(pool.map(cpu_task, [10, 100, 1000]))
    print(run_all(int, ["1", "x", "3"], processes=2))
