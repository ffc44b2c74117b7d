"""Lab 3.4: a priority worker queue (heapq + threading).

Worker threads take submitted tasks from a heap, most urgent (lowest priority number) first and
first-in first-out among equal priorities. Optional aging keeps a flood of urgent tasks from
starving the others. shutdown() drains: every task submitted before it runs, then the workers exit
and are joined.
"""
import heapq
import itertools
import logging
import threading
from collections import deque

log = logging.getLogger(__name__)


class QueueClosed(RuntimeError):
    """Raised by submit() once shutdown() has been called."""


class _Entry:
    """One queued task. Entries compare by (priority, sequence number) only, so equal priorities
    come out in submission order and the callables themselves are never compared."""

    __slots__ = ("key", "fn", "args", "kwargs", "taken")

    def __init__(self, priority, seq, fn, args, kwargs):
        self.key = (priority, seq)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.taken = False

    def __lt__(self, other):
        return self.key < other.key


class PriorityWorkerQueue:
    """A pool of worker threads running submitted tasks, most urgent first."""

    def __init__(self, workers=4, aging_every=None, on_error=None):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if aging_every is not None and aging_every < 1:
            raise ValueError("aging_every must be None or >= 1")
        self._aging_every = aging_every
        self._on_error = on_error
        self._cv = threading.Condition()
        self._heap = []            # _Entry objects, by (priority, seq)
        self._fifo = deque()       # the same entries in submission order (only with aging)
        self._seq = itertools.count()
        self._pending = 0          # entries queued and not yet taken
        self._takes = 0            # tasks taken by any worker since creation
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name="pwq-worker-%d" % i)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    # -- public API ------------------------------------------------------------------------

    def submit(self, fn, *args, priority=0, **kwargs):
        """Queues fn(*args, **kwargs); lower `priority` runs first. Raises QueueClosed after shutdown()."""
        with self._cv:
            if self._closed:
                raise QueueClosed("submit() after shutdown()")
            entry = _Entry(priority, next(self._seq), fn, args, kwargs)
            heapq.heappush(self._heap, entry)
            if self._aging_every is not None:
                self._fifo.append(entry)
            self._pending += 1
            self._cv.notify()

    def pending(self):
        """Number of tasks queued and not yet started."""
        with self._cv:
            return self._pending

    def shutdown(self):
        """Stops accepting tasks, lets the workers run every queued task, then joins them."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        for t in self._threads:
            t.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    # -- workers ---------------------------------------------------------------------------

    def _take(self):
        """The next entry to run (the caller holds the condition), or None when closed and empty."""
        while self._pending == 0:
            if self._closed:
                return None
            self._cv.wait()
        self._takes += 1
        if self._aging_every is not None and self._takes % self._aging_every == 0:
            entry = self._fifo.popleft()
            while entry.taken:
                entry = self._fifo.popleft()
        else:
            entry = heapq.heappop(self._heap)
            while entry.taken:
                entry = heapq.heappop(self._heap)
        entry.taken = True
        self._pending -= 1
        if self._pending == 0:  # drop the entries already taken through the other structure
            self._heap.clear()
            self._fifo.clear()
        return entry

    def _work(self):
        while True:
            with self._cv:
                entry = self._take()
            if entry is None:
                return
            try:
                entry.fn(*entry.args, **entry.kwargs)
            except Exception as exc:  # a failing task must not kill its worker
                if self._on_error is not None:
                    self._on_error(exc)
                else:
                    log.exception("task %r failed", entry.fn)
