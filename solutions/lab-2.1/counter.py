"""A counter that many threads may change at once."""
import threading


class ThreadSafeCounter:
    """An integer counter whose every operation is atomic."""

    def __init__(self, initial: int = 0):
        self._lock = threading.Lock()
        self._value = initial

    def increment(self, n: int = 1) -> int:
        """Adds n; returns the new value."""
        with self._lock:
            self._value += n
            return self._value

    def decrement(self, n: int = 1) -> int:
        """Subtracts n; returns the new value."""
        with self._lock:
            self._value -= n
            return self._value

    @property
    def value(self) -> int:
        """The current value (read-only)."""
        with self._lock:
            return self._value
