"""lab-4.1's oracle, shared by checks.py (the timed workload's own check) and judge.py (every verdict on a
count): the true number of primes in a range, by a sieve of Eratosthenes, and how a call is shown in a
message. Standard library only."""
from math import isqrt


def true_count(lo, hi):
    """Number of primes p with lo <= p < hi (sieve; the grader's oracle)."""
    if hi <= 2 or lo >= hi:
        return 0
    sieve = bytearray([1]) * hi
    sieve[0:2] = b"\0\0"
    for p in range(2, isqrt(hi - 1) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytes(len(range(p * p, hi, p)))
    return sieve.count(1, max(lo, 0), hi)


def call_repr(name, lo, hi, workers=None, pass_workers=True):
    """The call as a message shows it: name(lo, hi) or name(lo, hi, workers=W)."""
    if not pass_workers:
        return f"{name}({lo}, {hi})"
    return f"{name}({lo}, {hi}, workers={workers})"
