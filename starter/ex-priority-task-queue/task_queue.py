"""Exercise: the teaching guide's "Task Queue Implementation".

  - a thread-safe task queue with priority support,
  - a worker pool with different processing strategies,
  - monitoring and metrics collection.

Start from the guide's ThreadPool (Module 3, Lesson 2) but fix what it gets wrong: its shutdown()
drops queued tasks, its workers poll with a timeout, it keeps results in one unordered list and
prints errors instead of recording them. The grader relies on exactly this API:

class TaskQueueClosed(RuntimeError)
    Raised by submit() once shutdown() has been called.

class TaskResult
    What happened to one task. Attributes:
      task_id       int, as returned by submit()
      priority      the task's priority
      status        "pending", "running", "done", "failed" or "cancelled"
      value         the task's return value ("done"), else None
      error         the exception the task raised ("failed"), else None
      worker        name of the worker thread that ran it (None if it never started)
      submitted_at  clock() when submit() was called
      started_at    clock() just before the task was called (None if it never started)
      finished_at   clock() just after it returned or raised (when cancelled: the time of the
                    cancellation)
      wait_time     started_at - submitted_at, or None (a property is fine)
      run_time      finished_at - started_at, or None if it never started

class TaskQueue(workers=4, strategy="priority", clock=time.monotonic)
    A pool of at most `workers` threads that run submitted tasks; never more than `workers` tasks
    run at once, and never more than `workers` threads ever run tasks (start them in __init__,
    or lazily, but never more). ValueError if workers < 1 or strategy is unknown.
    strategy "priority": the lowest priority number first, FIFO among equal priorities.
    strategy "fifo":     submission order; priorities are only recorded (for metrics).
    clock: a zero-argument callable returning seconds; EVERY timestamp is read from it (the
    grader passes a clock it controls).

    submit(fn, *args, priority=0, **kwargs) -> int
        Queues fn(*args, **kwargs); returns its task id: 0, 1, 2, ... in submission order.
        Raises TaskQueueClosed after shutdown(). Tasks may be any callables (never compared).
    result(task_id, timeout=None) -> TaskResult
        Blocks until the task is done, failed or cancelled, then returns its TaskResult. Raises
        TimeoutError if that takes longer than `timeout` seconds, KeyError for an unknown id.
    results() -> dict[int, TaskResult]
        Every task that is done, failed or cancelled so far, by id (a new dict each call).
    metrics() -> dict
        A consistent snapshot (all read under one lock):
          "submitted", "completed" (done), "failed", "cancelled",
          "pending" (queued, not started), "running" (started, not finished): ints
          "workers": the pool size
          "by_priority": {priority: {"submitted": n, "completed": n, "failed": n, "cancelled": n}}
                         for every priority that was submitted
          "avg_wait", "avg_run": mean wait_time and mean run_time over the tasks that finished
                         (done or failed); 0.0 when there are none
    shutdown(wait=True, cancel_pending=False) -> None
        Stops accepting tasks (submit() raises TaskQueueClosed). Graceful: tasks already
        running always finish. cancel_pending=False: every queued task still runs (drain).
        cancel_pending=True: queued tasks never start; their status becomes "cancelled", and
        result() callers waiting for them return. wait=True: returns only after every worker
        thread has exited (joined). Calling it again is harmless.
    Context manager: `with TaskQueue(2) as q:` calls shutdown() on exit.

    A task that raises must not kill its worker: record the exception and go on. Counters are
    changed by several workers at once: update them under the lock. Workers wait on a Condition
    when there is nothing to do, and run tasks outside the lock.
"""
import heapq  # noqa: F401  (you will need these)
import itertools  # noqa: F401
import threading  # noqa: F401
import time


class TaskQueueClosed(RuntimeError):
    """Raised by submit() once shutdown() has been called."""


class TaskResult:
    def __init__(self, task_id, priority, submitted_at):
        self.task_id = task_id
        self.priority = priority
        self.status = "pending"
        self.value = None
        self.error = None
        self.worker = None
        self.submitted_at = submitted_at
        self.started_at = None
        self.finished_at = None

    @property
    def wait_time(self):
        # TODO
        raise NotImplementedError("TaskResult.wait_time")

    @property
    def run_time(self):
        # TODO
        raise NotImplementedError("TaskResult.run_time")


class TaskQueue:
    def __init__(self, workers=4, strategy="priority", clock=time.monotonic):
        # TODO: validate; one Lock, a Condition for workers and one for result() waiters (both on
        # that lock); a heap of (order key, task id); records; counters; start the workers.
        raise NotImplementedError("TaskQueue.__init__")

    def submit(self, fn, *args, priority=0, **kwargs):
        # TODO
        raise NotImplementedError("TaskQueue.submit")

    def result(self, task_id, timeout=None):
        # TODO: Condition.wait_for() with the timeout
        raise NotImplementedError("TaskQueue.result")

    def results(self):
        # TODO
        raise NotImplementedError("TaskQueue.results")

    def metrics(self):
        # TODO
        raise NotImplementedError("TaskQueue.metrics")

    def shutdown(self, wait=True, cancel_pending=False):
        # TODO: under the lock: close, cancel the queued tasks if asked, wake every worker (and
        # every result() waiter); then join the workers if wait.
        raise NotImplementedError("TaskQueue.shutdown")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False
