"""The calibration workloads: fixed work whose time says how fast this machine runs Python.

A performance baseline records the reference solution's time on the instructor's machine together
with these workloads' times there; the student kit runs them again and scales the recorded time by
the ratio. `single` is one process of pure Python (what a threaded or asyncio item's time follows);
`multi` is the same work in two processes at once, started and joined (what a multi-process item
follows: the per-core speed, and the cost of starting workers). Prints the best round's wall time and
the CPU time it used, {"seconds": wall, "cpu": cpu}: the grader takes a round that got less CPU than
its wall time allowed for a machine too busy to calibrate on.

    python grade_calibrate.py single|multi
"""
import json
import multiprocessing
import os
import sys
import time

ROUNDS = 7


def work(n=120_000):
    """Arithmetic, a dict, a list and calls: the mix most of the course's workloads run."""
    table = {}
    out = []
    total = 0
    for i in range(n):
        total = (total + i * i) % 1_000_003
        table[i & 1023] = total
        if i % 64 == 0:
            out.append(len(table))
    return total + len(out)


def _batch(times):
    for _ in range(times):
        work()


def single():
    start, cpu = time.perf_counter(), time.process_time()
    _batch(4)
    return time.perf_counter() - start, time.process_time() - cpu


def multi():
    ctx = multiprocessing.get_context("spawn" if sys.platform != "linux" else "fork")
    before = os.times()
    start = time.perf_counter()
    procs = [ctx.Process(target=_batch, args=(6,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("a calibration worker failed")
    after = os.times()
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    return wall, cpu


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    fn = {"single": single, "multi": multi}.get(kind)
    if fn is None:
        raise SystemExit("usage: grade_calibrate.py single|multi")
    fn()  # warm: imports, the allocator, the page cache
    wall, cpu = min(fn() for _ in range(ROUNDS))
    print(json.dumps({"seconds": wall, "cpu": cpu}))


if __name__ == "__main__":
    main()
