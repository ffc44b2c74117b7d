"""The teaching guide's "Task Queue Implementation" exercise: a thread-safe priority task queue
served by a fixed pool of worker threads, with per-task results and errors, and metrics.

One lock guards all state; two conditions share it: workers wait on `_work` for tasks, callers of
result() wait on `_done` for a task to finish. Tasks run outside the lock. Every timestamp comes
from the injectable `clock`.
"""
import heapq
import itertools
import threading
import time

STRATEGIES = ("priority", "fifo")


class TaskQueueClosed(RuntimeError):
    """Raised by submit() once shutdown() has been called."""


class TaskResult:
    """What happened to one task. Timestamps are readings of the queue's clock."""

    def __init__(self, task_id, priority, submitted_at):
        self.task_id = task_id
        self.priority = priority
        self.status = "pending"        # pending, running, done, failed, cancelled
        self.value = None
        self.error = None
        self.worker = None
        self.submitted_at = submitted_at
        self.started_at = None
        self.finished_at = None

    @property
    def wait_time(self):
        return None if self.started_at is None else self.started_at - self.submitted_at

    @property
    def run_time(self):
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def __repr__(self):
        return "TaskResult(task_id=%r, priority=%r, status=%r, value=%r, error=%r)" % (
            self.task_id, self.priority, self.status, self.value, self.error)


class _Stats:
    """Counters; changed only under the queue's lock."""

    def __init__(self):
        self.submitted = self.completed = self.failed = self.cancelled = 0
        self.total_wait = self.total_run = 0.0
        self.by_priority = {}

    def bucket(self, priority):
        b = self.by_priority.get(priority)
        if b is None:
            b = self.by_priority[priority] = {"submitted": 0, "completed": 0, "failed": 0, "cancelled": 0}
        return b


class TaskQueue:
    """A priority task queue served by `workers` threads."""

    def __init__(self, workers=4, strategy="priority", clock=time.monotonic):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if strategy not in STRATEGIES:
            raise ValueError("strategy must be one of %s" % (STRATEGIES,))
        self._workers = workers
        self._strategy = strategy
        self._clock = clock
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)   # a task was queued, or shutdown
        self._done = threading.Condition(self._lock)   # a task finished or was cancelled
        self._heap = []                                 # (order key, task id)
        self._calls = {}                                # task id -> (fn, args, kwargs), until started
        self._records = {}                              # task id -> TaskResult
        self._ids = itertools.count()
        self._running = 0
        self._closed = False
        self._stats = _Stats()
        self._threads = [threading.Thread(target=self._worker, name="task-worker-%d" % i)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    # -- submitting and results ------------------------------------------------------------

    def submit(self, fn, *args, priority=0, **kwargs):
        """Queues fn(*args, **kwargs); returns its task id (0, 1, 2, ... in submission order)."""
        with self._lock:
            if self._closed:
                raise TaskQueueClosed("submit() after shutdown()")
            tid = next(self._ids)
            key = (priority, tid) if self._strategy == "priority" else (tid,)
            self._records[tid] = TaskResult(tid, priority, self._clock())
            self._calls[tid] = (fn, args, kwargs)
            heapq.heappush(self._heap, (key, tid))
            self._stats.submitted += 1
            self._stats.bucket(priority)["submitted"] += 1
            self._work.notify()
            return tid

    def result(self, task_id, timeout=None):
        """Blocks until the task is done, failed or cancelled; returns its TaskResult."""
        with self._lock:
            rec = self._records[task_id]   # KeyError for an unknown id
            if not self._done.wait_for(lambda: rec.status in ("done", "failed", "cancelled"), timeout):
                raise TimeoutError("task %d did not finish within %s s" % (task_id, timeout))
            return rec

    def results(self):
        """The finished (done, failed or cancelled) tasks so far: {task id: TaskResult}."""
        with self._lock:
            return {tid: r for tid, r in self._records.items() if r.status in ("done", "failed", "cancelled")}

    def metrics(self):
        """A consistent snapshot of the counters (see the starter's docstring)."""
        with self._lock:
            s = self._stats
            finished = s.completed + s.failed
            return {
                "submitted": s.submitted,
                "completed": s.completed,
                "failed": s.failed,
                "cancelled": s.cancelled,
                "pending": len(self._heap),
                "running": self._running,
                "workers": self._workers,
                "by_priority": {p: dict(b) for p, b in s.by_priority.items()},
                "avg_wait": s.total_wait / finished if finished else 0.0,
                "avg_run": s.total_run / finished if finished else 0.0,
            }

    # -- shutdown --------------------------------------------------------------------------

    def shutdown(self, wait=True, cancel_pending=False):
        """Stops accepting tasks. Queued tasks run (or are cancelled with cancel_pending=True);
        with wait=True, returns once every worker has exited."""
        with self._lock:
            self._closed = True
            if cancel_pending:
                now = self._clock()
                for _, tid in self._heap:
                    rec = self._records[tid]
                    rec.status = "cancelled"
                    rec.finished_at = now
                    del self._calls[tid]
                    self._stats.cancelled += 1
                    self._stats.bucket(rec.priority)["cancelled"] += 1
                self._heap.clear()
                self._done.notify_all()
            self._work.notify_all()
        if wait:
            for t in self._threads:
                t.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    # -- workers ---------------------------------------------------------------------------

    def _worker(self):
        name = threading.current_thread().name
        while True:
            with self._lock:
                while not self._heap and not self._closed:
                    self._work.wait()
                if not self._heap:
                    return                       # closed and drained
                _, tid = heapq.heappop(self._heap)
                fn, args, kwargs = self._calls.pop(tid)
                rec = self._records[tid]
                rec.status = "running"
                rec.worker = name
                rec.started_at = self._clock()
                self._running += 1
            value, error = None, None
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:             # recorded; the worker lives on
                error = exc
            finished = self._clock()
            with self._lock:
                rec.finished_at = finished
                rec.value, rec.error = value, error
                rec.status = "done" if error is None else "failed"
                s = self._stats
                if error is None:
                    s.completed += 1
                else:
                    s.failed += 1
                s.bucket(rec.priority)["completed" if error is None else "failed"] += 1
                s.total_wait += rec.wait_time
                s.total_run += rec.run_time
                self._running -= 1
                self._done.notify_all()
