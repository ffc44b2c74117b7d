"""Lab 2.1, part 1: a counter that many threads may change at once.

Implement ThreadSafeCounter so that no update is ever lost, however many threads call it.
"""
import threading  # noqa: F401  (you will need it)


class ThreadSafeCounter:
    """An integer counter whose every operation is atomic.

    ThreadSafeCounter(initial=0)
    increment(n=1) -> int   adds n and returns the new value
    decrement(n=1) -> int   subtracts n and returns the new value
    value -> int            read-only property: the current value
    """

    def __init__(self, initial: int = 0):
        # TODO: store the value and create the lock that protects it
        raise NotImplementedError("ThreadSafeCounter.__init__")

    def increment(self, n: int = 1) -> int:
        # TODO: add n atomically and return the new value
        raise NotImplementedError("ThreadSafeCounter.increment")

    def decrement(self, n: int = 1) -> int:
        # TODO: subtract n atomically and return the new value
        raise NotImplementedError("ThreadSafeCounter.decrement")

    @property
    def value(self) -> int:
        # TODO: return the current value
        raise NotImplementedError("ThreadSafeCounter.value")
