"""lab-4.3's inputs, shared by the workloads (checks.py) and the judgements (judge.py): the values a
case describes, drawn from a seed that judge.py's plan_* chose, so that the judge can draw the same
values again and compute what the student's code should have returned. Standard library only."""
import random

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1


def values(spec, seed):
    """{list: [...]}, {random: [n, lo, hi]} (ints in [lo, hi] drawn from `seed`), {extremes: n},
    {overflow: [...]} (the given items, then 2**70, which no int64 can hold)."""
    if "list" in spec:
        return list(spec["list"])
    if "random" in spec:
        n, lo, hi = spec["random"]
        rng = random.Random(seed)
        return [rng.randint(lo, hi) for _ in range(n)]
    if "overflow" in spec:
        return list(spec["overflow"]) + [2 ** 70]
    if "extremes" in spec:
        pool = [INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, -1, 0, 1]
        return [pool[i % len(pool)] for i in range(spec["extremes"])]
    raise AssertionError(f"spec error: unknown values description {spec!r}")


def items(length, bound, seed):
    """`length` ints in [-bound, bound] drawn from `seed` (the segments of transform and histogram)."""
    rng = random.Random(seed)
    return [rng.randint(-bound, bound) for _ in range(length)]


def large(n, seed):
    """`n` ints of 41 random bits, centred on 0 (the memory item's list)."""
    rng = random.Random(seed)
    return [rng.getrandbits(41) - 2 ** 40 for _ in range(n)]


def short(values, limit=6):
    values = list(values)
    if len(values) <= limit:
        return repr(values)
    return "[" + ", ".join(map(repr, values[:limit])) + f", ... ({len(values)} items)]"


def int_result(value):
    """A result as it crosses to the judge: an int exactly (as decimal digits: JSON numbers past 64
    bits are not kept exactly), anything else by its repr and type."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"int": str(int(value))}
    return {"repr": repr(value), "type": type(value).__name__}
