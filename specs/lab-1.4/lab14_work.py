"""lab-1.4's CPU workload, shared by checks.py (the recording wrapper's work and the grader's own timing)
and judge.py (the oracle for every result): the grader's own copy of perf_compare.crunch (a student who
edits crunch gains nothing) and the chunks it is given; and the report classify() is given (checks.py)
and judged by (judge.py). Standard library only."""

MOD = 1_000_003
ROUNDS = 8
MODELS = ("threading", "multiprocessing", "asyncio")


def crunch(values, rounds=ROUNDS):
    """The given workload: each value squared plus one, modulo MOD, `rounds` times; the sum."""
    total = 0
    for x in values:
        for _ in range(rounds):
            x = (x * x + 1) % MOD
        total += x
    return total


def chunks(n, k, seed=0):
    """k chunks of n values in all: distinct ints below MOD, cheap to make."""
    values = [(seed * 7919 + i * 104729 + 257) % MOD for i in range(n)]
    return [values[i * n // k:(i + 1) * n // k] for i in range(k)]


def report_from(table):
    """A report shaped like compare()'s (without classification) from {workload: {model: speedup}}."""
    report = {}
    for workload, speedups in table.items():
        serial = 1.0
        report[workload] = {"serial": {"seconds": serial, "peak_mb": 1.5}}
        for m in MODELS:
            s = speedups[m]
            report[workload][m] = {"seconds": serial / s, "peak_mb": 2.0, "speedup": s}
    return report
