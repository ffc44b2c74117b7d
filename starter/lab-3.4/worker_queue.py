"""Lab 3.4: a priority worker queue (heapq + threading).

Build PriorityWorkerQueue: a fixed pool of worker threads that run submitted tasks, most urgent
first. The grader relies on exactly this API:

class QueueClosed(RuntimeError)
    Raised by submit() once shutdown() has been called.

class PriorityWorkerQueue(workers=4, aging_every=None, on_error=None)
    Starts `workers` worker threads at once (ValueError if workers < 1).

    submit(fn, *args, priority=0, **kwargs) -> None
        Queues the task fn(*args, **kwargs) and returns at once. A LOWER priority number is MORE
        urgent. Priorities are numbers (int or float, negative allowed). Tasks of equal priority
        start in the order they were submitted (FIFO), and tasks are arbitrary callables that
        cannot be compared with each other. Tasks may call submit() themselves.
        Raises QueueClosed (a RuntimeError) once shutdown() has been called.

    pending() -> int
        Number of tasks queued and not yet started.

    shutdown() -> None
        Drains, it does not cancel: stops accepting new tasks, lets the workers run every task
        submitted before the call, then joins every worker thread and returns. Calling it again
        returns at once. Do not call it from inside a task.

    Context manager: `with PriorityWorkerQueue(2) as q: ...` calls shutdown() on exit.

    Ordering. A worker that becomes free takes the most urgent waiting task (lowest priority,
    then oldest). With aging_every=k (an int >= 1), every k-th task taken from the queue
    (counting the takes of all workers since the queue was created: the k-th, 2k-th, 3k-th...)
    is instead the OLDEST waiting task, whatever its priority. So no task starves: a task waits
    for at most k takes once it is the oldest waiting task, however many urgent tasks keep
    arriving. With aging_every=None (the default) the order is strictly by priority.

    Errors. An exception raised by a task must not stop its worker: it is passed to
    on_error(exc) when on_error was given (else logged), and the worker takes the next task.

    Workers must block while there is nothing to do (a Condition), never poll in a loop; tasks
    must run outside the queue's lock, so that `workers` tasks can run at the same time.
"""
import heapq  # noqa: F401  (you will need these)
import itertools  # noqa: F401
import threading  # noqa: F401


class QueueClosed(RuntimeError):
    """Raised by submit() once shutdown() has been called."""


class PriorityWorkerQueue:
    def __init__(self, workers=4, aging_every=None, on_error=None):
        # TODO: validate workers; create the heap, a sequence counter (itertools.count) for FIFO
        # among equal priorities, one threading.Condition, and start the worker threads.
        raise NotImplementedError("PriorityWorkerQueue.__init__")

    def submit(self, fn, *args, priority=0, **kwargs):
        # TODO: under the condition: refuse when closed, push (priority, seq, ...) and notify a worker.
        # Never let heapq compare two callables.
        raise NotImplementedError("PriorityWorkerQueue.submit")

    def pending(self):
        # TODO
        raise NotImplementedError("PriorityWorkerQueue.pending")

    def shutdown(self):
        # TODO: mark closed and wake every worker; workers exit only when closed AND the heap is
        # empty; join them all.
        raise NotImplementedError("PriorityWorkerQueue.shutdown")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    def _work(self):
        # TODO: the worker loop: wait (on the condition) for a task or for shutdown, take the next
        # task under the lock, run it outside the lock, report its exception to on_error.
        raise NotImplementedError("PriorityWorkerQueue._work")
