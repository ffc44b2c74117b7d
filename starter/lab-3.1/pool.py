"""Lab 3.1: a database-style connection pool bounded by a semaphore.

Many threads share a few expensive connections. The pool lends each connection to one thread at a time,
never lends more than `max_connections` at once, makes a thread wait when all are out, and gets every
connection back, even when the code using it raises.

Student API (the grader calls exactly this):

    class PoolTimeout(TimeoutError)
        Raised by acquire() / connection() when no connection became free within the timeout.

    ConnectionPool(factory, max_connections=10)
        factory          a zero-argument callable that opens and returns a new connection (any object;
                         the pool never calls methods on it). Called lazily: only when acquire() finds no
                         idle connection and fewer than max_connections have been created. Never called
                         more than max_connections times in total.
        max_connections  the most connections that may be checked out at once (>= 1; ValueError otherwise).

    acquire(timeout=None) -> connection
        Checks a connection out: an idle one if there is one (released connections are reused), else a
        new one from factory(). When max_connections are already out, it blocks until one is released:
          timeout=None   wait as long as it takes;
          timeout=t > 0  wait at most t seconds, then raise PoolTimeout;
          timeout <= 0   do not wait: raise PoolTimeout at once if none is free.
        A connection is lent to one thread at a time: it is never returned by acquire() again before it
        has been released. A failed (timed-out) acquire changes nothing.

    release(conn) -> None
        Gives a checked-out connection back (it becomes idle, and one waiting acquire() may proceed).
        Releasing a connection that is not checked out of this pool (released twice, or never acquired)
        raises ValueError and changes nothing.

    connection(timeout=None)
        A context manager: `with pool.connection() as conn:` acquires (same timeout rules) and always
        releases on exit, also when the block raises; the block's exception propagates unchanged.

    in_use -> int            read-only property: connections checked out now
    created -> int           read-only property: connections made by factory() so far (<= max_connections)
    max_connections -> int   read-only property

The seed of this lab:

    class ConnectionPool:
        def __init__(self, max_connections=10):
            self._semaphore = threading.Semaphore(max_connections)
"""
import threading  # noqa: F401  (you will need it)
from contextlib import contextmanager  # noqa: F401  (handy for connection())


class PoolTimeout(TimeoutError):
    """acquire() found no free connection within its timeout."""


class ConnectionPool:
    """A pool of at most `max_connections` connections made by `factory()`."""

    def __init__(self, factory, max_connections=10):
        # TODO: validate max_connections; keep the factory; create the semaphore (one permit per
        # connection that may be out), a lock for your bookkeeping, the idle list and the count created
        raise NotImplementedError("ConnectionPool.__init__")

    @property
    def max_connections(self):
        # TODO
        raise NotImplementedError("ConnectionPool.max_connections")

    @property
    def in_use(self):
        # TODO: how many connections are checked out right now
        raise NotImplementedError("ConnectionPool.in_use")

    @property
    def created(self):
        # TODO: how many connections factory() has made
        raise NotImplementedError("ConnectionPool.created")

    def acquire(self, timeout=None):
        # TODO: take a permit (honour the timeout: raise PoolTimeout), then reuse an idle connection or
        # create one. Which steps must be under your lock, and which must not be?
        raise NotImplementedError("ConnectionPool.acquire")

    def release(self, conn):
        # TODO: refuse a connection that is not checked out (ValueError); put it back; give the permit back
        raise NotImplementedError("ConnectionPool.release")

    def connection(self, timeout=None):
        # TODO: a context manager that acquires and always releases
        raise NotImplementedError("ConnectionPool.connection")
