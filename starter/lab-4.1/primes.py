"""Counting primes in a range, serially and in parallel worker processes (lab-4.1).

Counting primes by trial division is CPU-bound: pure Python bytecode, no I/O.
Your task is to make it faster on a multi-core machine by running the work in
worker processes.

The grader imports this module as `primes` and calls the two functions below,
with the default `fork` start method on a 2-core machine (CPython 3.11):

- count_primes(lo, hi) -> int
- parallel_count_primes(lo, hi, workers=None) -> int

Keep both at the top level of this module, with these signatures.
"""

from __future__ import annotations

import os  # noqa: F401  (os.sched_getaffinity / os.cpu_count, for workers=None)
from concurrent.futures import ProcessPoolExecutor  # noqa: F401
from math import isqrt  # noqa: F401


def count_primes(lo: int, hi: int) -> int:
    """Return how many primes p satisfy lo <= p < hi, computed serially.

    - hi is excluded; an empty range (lo >= hi) has no primes: return 0.
    - 0, 1 and negative numbers are not prime; 2 is.
    - Use trial division: n is prime if no d with 2 <= d <= isqrt(n) divides it.
      Testing 2 and then only odd divisors halves the work. The performance
      item compares your parallel version against a reference that does exactly
      this, so a slower serial algorithm costs performance points too.

    Examples: count_primes(0, 10) == 4, count_primes(0, 100) == 25,
    count_primes(10, 10) == 0.
    """
    # TODO: count the primes in [lo, hi).
    raise NotImplementedError("count_primes is not written yet")


def parallel_count_primes(lo: int, hi: int, workers: int | None = None) -> int:
    """Return the same number as count_primes(lo, hi), computed in worker processes.

    - workers: how many worker processes to use; None (the default) means one
      per available core (len(os.sched_getaffinity(0)), or os.cpu_count()).
    - Split [lo, hi) into chunks that cover it exactly once, whatever the
      remainder when (hi - lo) is not a multiple of the number of chunks, and
      also when the range has fewer numbers than workers.
    - The counting must happen in the worker processes, several at once, not
      in this process and not in threads (why not? see the GIL).
    - Everything sent to a worker is pickled: the function a worker runs must
      be defined at the top level of this module (no lambda, no nested def).
    - Leave no process behind: when this function returns, every worker must
      have ended and been joined (hint: a with-block around the pool).

    Example: parallel_count_primes(0, 100_000, workers=2) == 9592.
    """
    # TODO: choose the number of workers (workers=None: one per available core).
    # TODO: split [lo, hi) into chunks (a few per worker balances the load: why?).
    # TODO: count the chunks in a pool of worker processes and add up the counts.
    raise NotImplementedError("parallel_count_primes is not written yet")
