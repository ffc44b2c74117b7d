"""Exercise: the teaching guide's ThreadPool (Module 3, Lesson 2), done right.

The guide's pool has real flaws: its workers are daemon threads that poll with
`get(timeout=0.1)`; its shutdown() drops the tasks still queued and races with submit() (it
checks an Event, then puts: shutdown() can run in between); its results go into one list in
completion order, with no way to tell which task produced which; a task's exception is only
printed; it is no context manager. Build a pool that fixes all of that, from threading
primitives and queue.Queue only (no concurrent.futures, no multiprocessing pools).

The grader relies on exactly this API:

class CancelledError(Exception)
    Raised by Future.result() for a task that shutdown(cancel_pending=True) cancelled.

class Future
    The outcome of one submitted task (returned by submit(); the pool creates it).
      result(timeout=None)
          Blocks until the task is done; returns its return value, or raises the exception the
          task raised (the same exception object), or CancelledError if it was cancelled.
          timeout: seconds, or None to wait as long as needed; raises TimeoutError (the builtin)
          if the task is not done in time. Any number of threads may wait at once, and result()
          may be called again and again.
      done() -> bool
          True once the task returned, raised or was cancelled.
      cancelled() -> bool
          True if the task was cancelled by shutdown(cancel_pending=True).

class ThreadPool(num_threads)
    Starts exactly `num_threads` worker threads in __init__ (ValueError if num_threads < 1), no
    more, ever. They are NON-daemon threads. An idle worker blocks (no polling: no timeout on
    its get(), no sleep() loop) until a task or shutdown wakes it. At most num_threads tasks run
    at once, and num_threads can run at once (never run a task while holding a lock of the pool).

    submit(fn, *args, **kwargs) -> Future
        Queues fn(*args, **kwargs) and returns its Future at once (it never waits for a task).
        Raises RuntimeError once shutdown() has been called. When submit() and shutdown() run at
        the same time, each submit() either raises RuntimeError or returns a Future whose task
        will run (or be cancelled by cancel_pending): a task is never accepted and then lost.
    map(fn, iterable) -> list
        [fn(x) for x in iterable], computed by the pool's workers; the results are in INPUT
        order, whatever order the tasks finish in. If calls raise, map() raises the exception
        of the first failing item in input order (the other tasks still run). RuntimeError
        after shutdown().
    shutdown(wait=True, cancel_pending=False) -> None
        From now on submit() and map() raise RuntimeError. Tasks already running always finish.
        cancel_pending=False: every task already accepted still runs (the queue is drained).
        cancel_pending=True: tasks not started yet never start; their futures are cancelled
        (result() raises CancelledError, also in threads already waiting in result()).
        wait=True: returns only after every worker thread has exited (joined).
        wait=False: returns at once; the workers finish the backlog and exit on their own.
        Calling it again is harmless (and with wait=True it waits for the workers).
    Context manager: `with ThreadPool(4) as pool:` returns the pool; leaving the block calls
    shutdown(wait=True).

    A task that raises must not kill its worker: keep the exception in the task's Future.
"""
import queue  # noqa: F401  (you will need these)
import threading  # noqa: F401


class CancelledError(Exception):
    """Raised by Future.result() for a task that shutdown(cancel_pending=True) cancelled."""


class Future:
    def __init__(self):
        # TODO: an Event (or a Condition) that result() waits on; the value, the exception,
        # whether it was cancelled.
        pass

    def done(self):
        # TODO
        raise NotImplementedError("Future.done")

    def cancelled(self):
        # TODO
        raise NotImplementedError("Future.cancelled")

    def result(self, timeout=None):
        # TODO: wait (TimeoutError when the time is up); CancelledError; re-raise the exception;
        # else return the value.
        raise NotImplementedError("Future.result")


class ThreadPool:
    def __init__(self, num_threads):
        # TODO: validate; a queue.Queue of work items; a lock and a closed flag; start
        # num_threads non-daemon workers.
        raise NotImplementedError("ThreadPool.__init__")

    def submit(self, fn, *args, **kwargs):
        # TODO: under the lock: refuse if closed, else queue (future, fn, args, kwargs).
        raise NotImplementedError("ThreadPool.submit")

    def map(self, fn, iterable):
        # TODO: submit every item, then read the futures' results in input order.
        raise NotImplementedError("ThreadPool.map")

    def shutdown(self, wait=True, cancel_pending=False):
        # TODO: under the lock: close; if cancel_pending, take the queued tasks out and cancel
        # their futures; queue one stop marker per worker (behind the tasks). Then join if wait.
        raise NotImplementedError("ThreadPool.shutdown")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown(wait=True)
        return False

    def _worker(self):
        # TODO: loop: take an item (blocking get(), no timeout); stop at a stop marker; run the
        # task outside any lock; store its value or its exception in its future.
        raise NotImplementedError("ThreadPool._worker")
