"""lab-2.4's words, shared by checks.py (what only the run can see: a deadlock, a hang) and judge.py
(every other verdict): the hints on forks and on their order, how philosophers are named in a
message, and the forbidden overlaps of meals in words. Standard library only."""

HINT_FORKS = ("create the n forks once, in dine(), and give philosopher i the locks "
              "forks[i] and forks[(i + 1) % n]; call eat(i) only inside both of them "
              "(with first: with second: eat(i))")
HINT_ORDER = ("break the circular wait: let every philosopher pick up the lower-numbered "
              "of its two forks first (resource ordering), or let at most n - 1 "
              "philosophers reach for forks at once (a 'butler' semaphore)")


def plural(k, word):
    """'1 time', '3 times'."""
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def names(ids):
    """'philosopher 2', 'philosophers 0, 1 and 3'."""
    ids = sorted(ids)
    if len(ids) == 1:
        return f"philosopher {ids[0]}"
    return "philosophers " + ", ".join(str(i) for i in ids[:-1]) + f" and {ids[-1]}"


def overlap_text(overlaps, n):
    """The forbidden overlaps [(i, j, times)] in words, the three most frequent first."""
    parts = []
    total = 0
    for i, j, k in sorted(overlaps, key=lambda o: -o[2]):
        total += k
        if len(parts) < 3:
            if i == j:
                parts.append(f"philosopher {i} was inside eat({i}) twice at once ({plural(k, 'time')})")
            else:
                shared = sorted({i, j} & {(i + 1) % n, (j + 1) % n})
                forks = " and ".join(str(f) for f in shared)
                parts.append(f"philosophers {i} and {j} ate at the same time although both need "
                             f"fork{'s' if len(shared) > 1 else ''} {forks} ({plural(k, 'time')})")
    return "; ".join(parts) + f" [{plural(total, 'overlapping meal')} in all, n={n}]"
