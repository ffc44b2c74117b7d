"""A thread-safe cache whose entries expire `ttl` seconds after they were set, by an injectable clock.

Every entry lives for the same ttl, so the order in which keys were last set is also the order in which
they expire: `_expires` (an OrderedDict, soonest first) lets set() drop every expired entry by looking only
at its front, and `_values` (an OrderedDict, least recently used first) gives the eviction order. One lock
protects both; it is never held while get_or_set() runs a factory.
"""
import threading
import time
from collections import OrderedDict

_MISSING = object()


class _Pending:
    """A value that one get_or_set() call is computing; others asking for the same key wait on `done`."""

    __slots__ = ("done", "value", "error")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error = None


class TTLCache:
    """A thread-safe TTL cache with an optional LRU size bound (see the starter's docstrings)."""

    def __init__(self, ttl, max_size=None, clock=time.monotonic):
        if not ttl > 0:
            raise ValueError("ttl must be > 0, got %r" % (ttl,))
        if max_size is not None and max_size < 1:
            raise ValueError("max_size must be None or >= 1, got %r" % (max_size,))
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._values = OrderedDict()   # key -> value, least recently used first
        self._expires = OrderedDict()  # key -> expiry time, soonest first
        self._pending = {}             # key -> _Pending: get_or_set() computations in progress

    # -- helpers, called with the lock held ------------------------------------------------------------
    def _purge(self, now):
        removed = 0
        while self._expires:
            key, expires_at = next(iter(self._expires.items()))
            if now < expires_at:
                break
            del self._expires[key]
            del self._values[key]
            removed += 1
        return removed

    def _lookup(self, key, now):
        expires_at = self._expires.get(key)
        if expires_at is None:
            return _MISSING
        if now >= expires_at:  # expired exactly at set time + ttl
            del self._expires[key]
            del self._values[key]
            return _MISSING
        self._values.move_to_end(key)
        return self._values[key]

    def _store(self, key, value, now):
        self._purge(now)
        if key in self._values:
            self._values.move_to_end(key)
        elif self._max_size is not None and len(self._values) >= self._max_size:
            oldest, _ = self._values.popitem(last=False)
            del self._expires[oldest]
        self._values[key] = value
        self._expires[key] = now + self._ttl
        self._expires.move_to_end(key)

    # -- the API ---------------------------------------------------------------------------------------
    def get(self, key, default=None):
        with self._lock:
            value = self._lookup(key, self._clock())
        return default if value is _MISSING else value

    def set(self, key, value):
        with self._lock:
            self._store(key, value, self._clock())

    def delete(self, key):
        with self._lock:
            now = self._clock()
            expires_at = self._expires.pop(key, None)
            if expires_at is None:
                return False
            del self._values[key]
            return now < expires_at

    def get_or_set(self, key, factory):
        with self._lock:
            value = self._lookup(key, self._clock())
            if value is not _MISSING:
                return value
            pending = self._pending.get(key)
            computing = pending is None
            if computing:
                pending = self._pending[key] = _Pending()
        if not computing:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            return pending.value
        try:
            value = factory()  # no lock held: other keys stay usable, and factory may use the cache
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.error = exc
            pending.done.set()
            raise
        with self._lock:
            self._store(key, value, self._clock())
            del self._pending[key]
        pending.value = value
        pending.done.set()
        return value

    def purge_expired(self):
        with self._lock:
            return self._purge(self._clock())

    def __len__(self):
        with self._lock:
            self._purge(self._clock())
            return len(self._values)
