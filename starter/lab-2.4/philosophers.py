"""Lab 2.4 - Dining philosophers.

``n`` philosophers sit round a table with ``n`` forks between them. Philosopher
``i`` needs two forks to eat: fork ``i`` (on its left) and fork ``(i + 1) % n``
(on its right), so neighbours ``i`` and ``i + 1`` share fork ``(i + 1) % n``.

Your task: implement ``dine`` so that

* it runs ``n`` philosopher threads (one ``threading.Thread`` each);
* every fork is a ``threading`` primitive (a ``threading.Lock``), created once
  and shared by the two philosophers who use it;
* philosopher ``i`` calls ``eat(i)`` exactly ``meals`` times, and only while
  holding both of its forks, so two neighbours never eat at the same time;
* the table can never deadlock, whatever the thread interleaving;
* philosophers who share no fork (e.g. 0 and 2) can eat at the same time;
* ``dine`` returns only when every philosopher has finished, with the number of
  meals each one ate.

The grader passes its own ``eat`` callback: it records who eats when, checks
that neighbours never overlap, and sleeps a little to make overlaps visible.
It also runs your code with forced thread switches between any two bytecodes,
so a deadlock that "never happens on my machine" will happen there.

Run a quick test yourself::

    python -c "import philosophers, time; print(philosophers.dine(5, 3, lambda i: time.sleep(0.01)))"
"""

from __future__ import annotations

import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> list[int]:
    """Run ``n`` philosopher threads; philosopher ``i`` eats ``meals`` times.

    Args:
        n: number of philosophers, and of forks (n >= 2 in the tests).
        meals: how many times each philosopher must call ``eat(i)`` (may be 0).
        eat: the meal; call ``eat(i)`` from philosopher ``i``'s own thread, only
            while holding forks ``i`` and ``(i + 1) % n``.

    Returns:
        A list of ``n`` ints: element ``i`` is the number of meals philosopher
        ``i`` ate (``[meals] * n`` when all goes well), built after every
        philosopher thread has finished.
    """
    # TODO: create the n forks, one threading.Lock each, shared between neighbours.
    # TODO: write the philosopher's loop: take both forks (in an order that can
    #       never deadlock - see DESIGN.md), call eat(i), put them down, count the meal.
    #       Prefer `with` statements over acquire()/release().
    # TODO: start one thread per philosopher, join them all, return the counts.
    raise NotImplementedError("dine() is not implemented yet")
