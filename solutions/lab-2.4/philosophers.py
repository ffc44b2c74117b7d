"""Dining philosophers, solved by resource ordering.

Every philosopher picks up the lower-numbered of its two forks first. The forks
then form a total order that every thread follows, so no cycle of threads each
holding one fork and waiting for the next can ever form (the "circular wait"
condition fails), and the table can never deadlock.
"""

from __future__ import annotations

import threading
from typing import Callable


def _philosopher(
    i: int,
    first: threading.Lock,
    second: threading.Lock | None,
    meals: int,
    eat: Callable[[int], None],
    eaten: list[int],
) -> None:
    """Eat `meals` times, each time holding both forks (taken in global order)."""
    for _ in range(meals):
        with first:
            if second is None:  # n == 1: both "forks" are the same fork
                eat(i)
            else:
                with second:
                    eat(i)
        # Each philosopher writes only its own slot: no lock is needed here.
        eaten[i] += 1


def dine(n: int, meals: int, eat: Callable[[int], None]) -> list[int]:
    """Run `n` philosopher threads around a table of `n` forks.

    Philosopher ``i`` uses forks ``i`` and ``(i + 1) % n``; each fork is a
    ``threading.Lock``. Each philosopher calls ``eat(i)`` exactly ``meals``
    times, only while holding both of its forks. Returns the number of meals
    each philosopher ate, once every philosopher has finished.
    """
    if n < 1:
        raise ValueError("a table needs at least one philosopher")
    if meals < 0:
        raise ValueError("meals must be >= 0")

    forks = [threading.Lock() for _ in range(n)]
    eaten = [0] * n
    threads = []
    for i in range(n):
        left, right = i, (i + 1) % n
        lo, hi = min(left, right), max(left, right)
        second = forks[hi] if hi != lo else None
        t = threading.Thread(
            target=_philosopher,
            args=(i, forks[lo], second, meals, eat, eaten),
            name=f"philosopher-{i}",
        )
        threads.append(t)

    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return eaten
