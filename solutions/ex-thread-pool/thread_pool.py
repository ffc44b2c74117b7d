"""The teaching guide's ThreadPool (Module 3, Lesson 2), rebuilt from threading primitives and
queue.Queue so that it keeps its promises.

`num_threads` non-daemon workers are started in __init__ and block in `Queue.get()` (no timeout)
until a work item or a stop marker arrives. One lock makes "is the pool open?" and "queue the task"
a single step, so that no task slips in behind shutdown(). shutdown() queues one stop marker per
worker *behind* the tasks already queued, so the workers drain the queue before they stop
(cancel_pending=True first takes the queued tasks out and cancels them). Each task has its own
Future: its value or its exception, and an Event that result() callers wait on.
"""
import queue
import threading

_STOP = object()   # one per worker, queued by shutdown() behind every accepted task


class CancelledError(Exception):
    """Raised by Future.result() for a task that shutdown(cancel_pending=True) cancelled."""


class Future:
    """The outcome of one submitted task. Set once, by the worker that ran it or by shutdown()."""

    def __init__(self):
        self._done = threading.Event()
        self._value = None
        self._error = None
        self._cancelled = False

    def done(self):
        """True once the task finished (returned or raised) or was cancelled."""
        return self._done.is_set()

    def cancelled(self):
        """True if shutdown(cancel_pending=True) cancelled the task before it started."""
        return self._done.is_set() and self._cancelled

    def result(self, timeout=None):
        """The task's return value; re-raises its exception; CancelledError if it was cancelled.
        TimeoutError if the task is not done within `timeout` seconds (None: wait as long as needed)."""
        if not self._done.wait(timeout):
            raise TimeoutError("the task did not finish within %s s" % timeout)
        if self._cancelled:
            raise CancelledError("the task was cancelled by shutdown(cancel_pending=True)")
        if self._error is not None:
            raise self._error
        return self._value

    # -- set by the pool (each future is set exactly once) --------------------------------------

    def _set_result(self, value):
        self._value = value
        self._done.set()

    def _set_error(self, error):
        self._error = error
        self._done.set()

    def _cancel(self):
        self._cancelled = True
        self._done.set()


class ThreadPool:
    """A fixed pool of `num_threads` worker threads running submitted tasks."""

    def __init__(self, num_threads):
        if not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1:
            raise ValueError("num_threads must be an int >= 1, got %r" % (num_threads,))
        self._tasks = queue.Queue()       # (future, fn, args, kwargs) or _STOP
        self._lock = threading.Lock()     # makes the closed check and the put() one step
        self._closed = False
        self._threads = [threading.Thread(target=self._worker, name="pool-worker-%d" % i)
                         for i in range(num_threads)]
        for t in self._threads:
            t.start()

    def submit(self, fn, *args, **kwargs):
        """Queues fn(*args, **kwargs); returns its Future. RuntimeError once shutdown() was called."""
        future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit() after shutdown()")
            self._tasks.put((future, fn, args, kwargs))
        return future

    def map(self, fn, iterable):
        """[fn(x) for x in iterable], computed by the pool; results in input order. Re-raises the
        exception of the first failing item (in input order)."""
        futures = [self.submit(fn, x) for x in iterable]
        return [f.result() for f in futures]

    def shutdown(self, wait=True, cancel_pending=False):
        """No new tasks from now on. Queued tasks still run (or, with cancel_pending, are cancelled);
        with wait, returns once every worker has exited. Calling it again is harmless."""
        with self._lock:
            stops = 0 if self._closed else len(self._threads)
            self._closed = True
            if cancel_pending:
                while True:
                    try:
                        item = self._tasks.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stops += 1          # put back below, behind nothing
                    else:
                        item[0]._cancel()
            for _ in range(stops):
                self._tasks.put(_STOP)
        if wait:
            me = threading.current_thread()
            for t in self._threads:
                if t is not me:             # a task may shut its own pool down
                    t.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown(wait=True)
        return False

    def _worker(self):
        while True:
            item = self._tasks.get()        # blocks: no polling
            if item is _STOP:
                return
            future, fn, args, kwargs = item
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:    # kept for result(); the worker lives on
                future._set_error(exc)
            else:
                future._set_result(value)
