"""The teaching guide's ThreadSafeDict (Module 3, Lesson 1), completed.

One RLock guards the dict. Every method holds it for its whole read-modify-write, so compound
operations are atomic; reads of several entries copy them while holding it, so iteration never sees
the dict change under it; the lock is reentrant so that a caller holding `locked()` may call any
method. User code (a factory) is never called while the lock is held.
"""
import threading
from contextlib import contextmanager
from typing import Any, Callable, Dict, Hashable, Iterator, List, Mapping, Tuple

_MISSING = object()


class ThreadSafeDict:
    """A dictionary many threads may use at once; see the starter's docstrings for the contract."""

    def __init__(self, initial: Mapping = None):
        self._dict: Dict[Hashable, Any] = dict(initial or {})
        self._lock = threading.RLock()
        self._computing: Dict[Hashable, threading.Event] = {}   # key -> set when its factory call ends

    @contextmanager
    def _locked_operation(self):
        """Context manager for lock handling (the guide's helper, with `with` doing the try/finally)."""
        with self._lock:
            yield

    def locked(self):
        """Holds the dict's lock for a block of calls; reentrant, so any method may be called inside."""
        return self._locked_operation()

    # -- single entries ----------------------------------------------------------------------

    def get(self, key, default=None):
        with self._lock:
            return self._dict.get(key, default)

    def set(self, key, value) -> None:
        with self._lock:
            self._dict[key] = value

    def delete(self, key) -> None:
        with self._lock:
            del self._dict[key]

    def pop(self, key, default=_MISSING):
        with self._lock:
            if default is _MISSING:
                return self._dict.pop(key)
            return self._dict.pop(key, default)

    def update(self, other: Mapping) -> None:
        items = list(dict(other).items())        # read the argument before taking our lock
        with self._lock:
            self._dict.update(items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._dict)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._dict

    def __str__(self) -> str:
        return str(self.snapshot())

    __repr__ = __str__

    # -- compound operations -------------------------------------------------------------------

    def increment(self, key, amount: int = 1) -> int:
        with self._lock:
            value = self._dict.get(key, 0) + amount
            self._dict[key] = value
            return value

    def setdefault(self, key, default=None):
        with self._lock:
            return self._dict.setdefault(key, default)

    def get_or_compute(self, key, factory: Callable[[], Any]):
        while True:
            with self._lock:
                if key in self._dict:
                    return self._dict[key]
                pending = self._computing.get(key)
                if pending is None:                      # nobody computes it: we do
                    pending = self._computing[key] = threading.Event()
                    break
            pending.wait()                               # someone else computes it: wait, look again
        try:
            value = factory()                            # user code, never under our lock
        except BaseException:
            with self._lock:
                del self._computing[key]
            pending.set()                                # a waiter will try the factory itself
            raise
        with self._lock:
            value = self._dict.setdefault(key, value)    # a set() meanwhile wins
            del self._computing[key]
        pending.set()
        return value

    # -- several entries: consistent copies -------------------------------------------------------

    def snapshot(self) -> Dict[Hashable, Any]:
        with self._lock:
            return dict(self._dict)

    def keys(self) -> List[Hashable]:
        with self._lock:
            return list(self._dict)

    def values(self) -> List[Any]:
        with self._lock:
            return list(self._dict.values())

    def items(self) -> List[Tuple[Hashable, Any]]:
        with self._lock:
            return list(self._dict.items())

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.keys())
