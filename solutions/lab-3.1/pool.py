"""A thread-safe pool of reusable connections, bounded by a semaphore.

One permit of the semaphore stands for one connection that may be checked out: acquire() takes a permit
(waiting for one when all are out), release() gives it back. A separate lock protects the bookkeeping
(the idle list, the checked-out set and the number created); the lock is never held while waiting for a
permit or while the factory opens a connection.
"""
import threading
from contextlib import contextmanager

_NONE_IDLE = object()


class PoolTimeout(TimeoutError):
    """acquire() found no free connection within its timeout."""


class ConnectionPool:
    """A pool of at most `max_connections` connections made by `factory()` (see the starter's docstrings)."""

    def __init__(self, factory, max_connections=10):
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1, got %r" % (max_connections,))
        self._factory = factory
        self._max = max_connections
        self._semaphore = threading.Semaphore(max_connections)
        self._lock = threading.Lock()  # protects _idle, _out and _created
        self._idle = []                # connections ready for reuse, most recently released last
        self._out = {}                 # id(conn) -> conn, for every connection checked out
        self._created = 0

    @property
    def max_connections(self):
        return self._max

    @property
    def in_use(self):
        with self._lock:
            return len(self._out)

    @property
    def created(self):
        with self._lock:
            return self._created

    def acquire(self, timeout=None):
        # timeout is passed by keyword: Semaphore.acquire(0.5) would mean blocking=0.5, timeout=None.
        if not self._semaphore.acquire(timeout=timeout):
            raise PoolTimeout("no connection became free within %s s (all %d in use)" % (timeout, self._max))
        # We hold a permit, so an idle connection is there or fewer than max have been created.
        with self._lock:
            conn = self._idle.pop() if self._idle else _NONE_IDLE
            if conn is _NONE_IDLE:
                self._created += 1  # reserve the slot; the (slow) factory runs outside the lock
            else:
                self._out[id(conn)] = conn
        if conn is not _NONE_IDLE:
            return conn
        try:
            conn = self._factory()
        except BaseException:
            with self._lock:
                self._created -= 1
            self._semaphore.release()
            raise
        with self._lock:
            self._out[id(conn)] = conn
        return conn

    def release(self, conn):
        with self._lock:
            if self._out.get(id(conn)) is not conn:
                raise ValueError("%r is not checked out of this pool (released twice?)" % (conn,))
            del self._out[id(conn)]
            self._idle.append(conn)
        # The connection is back on the idle list before its permit is: whoever takes the permit finds it.
        self._semaphore.release()

    @contextmanager
    def connection(self, timeout=None):
        conn = self.acquire(timeout=timeout)
        try:
            yield conn
        finally:
            self.release(conn)
