"""The map and reduce functions lab-4.2's checks give to the student's map_reduce().

They live in their own module, beside checks.py, and not in checks.py itself: a function is
pickled by reference (module name + qualified name), and under the `spawn` start method a
worker process must be able to import that module by name. checks.py puts this directory on
sys.path (a spawned worker receives the parent's sys.path), so `lab42_jobs` is importable in
every worker, whatever the start method. Standard library only.

map functions take one item and return an iterable of (key, value) pairs (some of them are
generators, on purpose: the student's worker must consume them there, a generator cannot be
pickled back). reduce functions take (key, values) and return one value.
"""

import os
import time


# -------------------------------------------------------------------- word count

def word_count_map(line):
    """One line of text -> (word, 1) for each whitespace-separated word, lower-cased (a generator)."""
    for word in line.split():
        yield word.lower(), 1


def sum_reduce(key, values):
    """The sum of the values."""
    return sum(values)


# -------------------------------------------------------------------- sum of squares

def square_map(x):
    """A number -> [("sum", x * x)]: with sum_reduce, the sum of the squares under one key."""
    return [("sum", x * x)]


def parity_square_map(x):
    """A number -> [("even" or "odd", x * x)]."""
    return [("even" if x % 2 == 0 else "odd", x * x)]


# -------------------------------------------------------------------- reducers that are not associative

def count_reduce(key, values):
    """How many values the key has: right only if called once, with all of them."""
    return len(values)


def list_reduce(key, values):
    """The values as a list, in the order they came: order-sensitive, and not associative."""
    return list(values)


def index_map(doc):
    """(doc_id, text) -> (word, doc_id) once per distinct word, in order of first appearance (inverted index)."""
    doc_id, text = doc
    seen = set()
    for word in text.split():
        word = word.lower()
        if word not in seen:
            seen.add(word)
            yield word, doc_id


def mean_reduce(key, values):
    """The mean of the values as a (numerator, denominator) pair: a mean of means is not a mean."""
    return (sum(values), len(values))


def multiples_map(n):
    """n -> (d, n) for each d in 2..6 dividing n; nothing for the other numbers (empty outputs)."""
    return [(d, n) for d in range(2, 7) if n % d == 0]


# -------------------------------------------------------------------- failure

class MapFailure(ValueError):
    """Raised by failing_map: the student's map_reduce must let it reach the caller."""


def failing_map(x):
    """Like square_map, but raises MapFailure on the item 13."""
    if x == 13:
        raise MapFailure(f"failing_map: item {x} is unlucky (raised on purpose by the grader)")
    return [("sum", x * x)]


# -------------------------------------------------------------------- CPU-bound work

def _collatz_steps(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def collatz_map(n):
    """CPU-bound: n -> (n % 8, total Collatz steps of 64 * n + 1 .. 64 * n + 64), about 0.5 ms of pure Python."""
    base = 64 * n
    return [(n % 8, sum(_collatz_steps(base + i) for i in range(1, 65)))]


def max_reduce(key, values):
    """The largest value."""
    return max(values)


def span_reduce(key, values):
    """For "span": every span, as a sorted list; for the other keys: the largest value.

    It also accepts its own earlier results among the values (a list of spans), so that it gives
    the same answer when a submission reduces partial results again: parallel-map is about where
    and when the map calls run, and leaves the reducing to reduce-once-in-order.
    """
    if key != "span":
        return max(values)
    spans = []
    for value in values:
        if isinstance(value, list):
            spans.extend(value)
        else:
            spans.append(value)
    return sorted(spans)


def span_map(n):
    """CPU-bound (about 5 ms of pure Python), and also reports when and where it ran.

    Yields ("span", (pid, start, end)) with time.monotonic() readings (CLOCK_MONOTONIC is one clock
    for every process of the machine), so the check can see whether map calls overlapped in time,
    then (n % 8, total Collatz steps of 256 * n + 1 .. 256 * n + 256). A call of several
    milliseconds overlaps a call running in another worker whenever the two workers run at the same
    time, on two cores or taking turns on one.
    """
    start = time.monotonic()
    base = 256 * n
    steps = sum(_collatz_steps(base + i) for i in range(1, 257))
    end = time.monotonic()
    yield "span", (os.getpid(), start, end)
    yield n % 8, steps
