"""Workloads for lab-1.4, performance comparison and GIL analysis (`perf_compare.py`). Each records what
the student's code did; judge.py, which the submission never sees, plans the inputs and gives the verdicts
(its docstring says how each claim is judged).

The student's API is the docstring of starter/lab-1.4/perf_compare.py: CPU-bound runners (cpu_threads,
cpu_processes, cpu_asyncio), I/O-bound runners (io_threads, io_processes, io_asyncio), measure(),
classify() and compare().

What is recorded:
- results, with their types (grade_lib_values.typed: a tuple stays a tuple, a dict's keys keep their type);
- where the CPU work ran: the workload swaps perf_compare.crunch for a recording wrapper (same name, so
  it pickles by reference and forked workers inherit it) that appends pid, thread and times to a file;
- what the fixture server saw of each I/O run (path, arrival and answer of every request), and the
  call's wall time;
- compare()'s report, and the grader's own timing (CPU and wall seconds) of crunch() and of the
  student's cpu_threads and cpu_asyncio on the same chunks.

Standard library only.
"""
import asyncio
import copy
import functools
import importlib
import math
import multiprocessing
import os
import tempfile
import threading
import time

from grade_lib_values import typed as _typed
from lab14_work import MODELS, ROUNDS, chunks as _chunks, crunch as _crunch, report_from as _report_from

MODULE = "perf_compare"
WORKLOADS = ("cpu", "io")
MIB = 2 ** 20

API = ("crunch", "fetch", "tree_rss_bytes", "cpu_serial", "io_serial", "cpu_threads", "cpu_processes",
       "cpu_asyncio", "io_threads", "io_processes", "io_asyncio", "measure", "classify", "compare")


# --------------------------------------------------------------------------
# helpers

def _module(ctx):
    mod = ctx.student(MODULE)
    missing = [name for name in API if not callable(getattr(mod, name, None))]
    ctx.expect(not missing, "perf_compare.py defines no %s" % ", ".join(missing),
               hint="keep every name of the starter's docstring, with the given functions unchanged")
    return mod


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


class _Recorder:
    """Replaces perf_compare.crunch by a wrapper that logs (pid, thread, start, end) of each call.

    The wrapper keeps crunch's name and module, so a pool pickles it by reference; a forked worker
    inherits the patched module. `pause` seconds of sleep per call make the overlap observable.
    """

    def __init__(self, mod, pause):
        fd, self.path = tempfile.mkstemp(prefix="lab14-crunch-")
        os.close(fd)
        self.mod, self.original = mod, mod.crunch
        path = self.path

        @functools.wraps(self.original)
        def crunch(values, rounds=ROUNDS):
            start = time.monotonic()
            if pause:
                time.sleep(pause)
            result = _crunch(values, rounds)
            with open(path, "a") as fh:
                fh.write("%d %d %.6f %.6f\n" % (os.getpid(), threading.get_ident(), start, time.monotonic()))
            return result

        mod.crunch = crunch

    def take(self):
        with open(self.path) as fh:
            rows = [line.split() for line in fh if line.strip()]
        open(self.path, "w").close()
        return [(int(p), int(t), float(a), float(b)) for p, t, a, b in rows]

    def restore(self):
        self.mod.crunch = self.original
        try:
            os.unlink(self.path)
        except OSError:
            pass


# --------------------------------------------------------------------------
# completion_quality: the CPU-bound runners

def cpu_models(ctx):
    """Each CPU runner on the judge's chunks: what it returned, and where and when crunch() ran."""
    mod = _module(ctx)
    p = ctx.params
    chunks = _chunks(p["values"], p["chunks"], ctx.inputs["chunk_seed"])
    rounds = p["rounds"]
    rec = _Recorder(mod, p["pause"])
    ctx.observe("pid", os.getpid())
    ctx.observe("main_tid", threading.get_ident())
    try:
        got = mod.cpu_threads(chunks, p["thread_workers"], rounds)
        ctx.observe("threads", {"result": _typed(got), "rows": rec.take()})

        got = mod.cpu_processes(chunks, p["process_workers"], rounds)
        ctx.observe("processes", {"result": _typed(got), "rows": rec.take()})

        box = {}

        async def main():
            box["tid"] = threading.get_ident()
            return await mod.cpu_asyncio(chunks, rounds)

        got = ctx.run_async(main, timeout=p["call_timeout"], allow=("blocking",))
        ctx.observe("asyncio", {"result": _typed(got), "rows": rec.take(), "loop_tid": box["tid"]})

        # edges: nothing to do, more workers than chunks, the default rounds
        one = chunks[:1]
        edges = [mod.cpu_threads([], 2), mod.cpu_processes([], 2),
                 ctx.run_async(mod.cpu_asyncio, [], timeout=p["call_timeout"], allow=("blocking",)),
                 mod.cpu_processes(one, 4), mod.cpu_threads(one, 4)]
        ctx.observe("edges", [_typed(e) for e in edges])
    finally:
        rec.restore()


# --------------------------------------------------------------------------
# completion_quality: the I/O-bound runners against the fixture server

def _serve(ctx):
    """The judge's routes on the fixture server; their URLs."""
    routes = ctx.inputs["routes"]
    ctx.http.configure(routes)
    return [ctx.http.url(r["path"]) for r in routes]


def _observe_requests(ctx, name="requests"):
    ctx.observe(name, [[r["path"], r["start_ms"], r["end_ms"]] for r in ctx.http.requests()])


def _io_run(ctx, call, empty):
    """One I/O runner over the judge's URLs: what it returned, its wall time, what the server saw; then
    the runner on no URLs."""
    urls = _serve(ctx)
    got, wall = _timed(lambda: call(urls))
    ctx.observe("result", _typed(got))
    ctx.observe("wall", wall)
    _observe_requests(ctx)
    ctx.observe("empty", _typed(empty()))


def io_threads_overlap(ctx):
    mod = _module(ctx)
    w = ctx.params["workers"]
    _io_run(ctx, lambda urls: mod.io_threads(urls, w), lambda: mod.io_threads([], w))


def io_processes_overlap(ctx):
    mod = _module(ctx)
    w = ctx.params["workers"]
    _io_run(ctx, lambda urls: mod.io_processes(urls, w), lambda: mod.io_processes([], w))


def io_asyncio_overlap(ctx):
    mod = _module(ctx)
    p = ctx.params
    limit = p["limit"]
    # The starter imports aiohttp inside io_asyncio (so that processes which never fetch asynchronously do
    # not pay for it). Its first import would block the watched loop for a few hundred ms: load it here,
    # outside the loop, so that only the student's own blocking calls are judged.
    try:
        importlib.import_module("aiohttp")
    except ImportError:
        pass
    _io_run(ctx, lambda urls: ctx.run_async(mod.io_asyncio, urls, limit, timeout=p["call_timeout"],
                                            slow_ms=p["slow_ms"]),
            lambda: ctx.run_async(mod.io_asyncio, [], limit, timeout=p["call_timeout"], slow_ms=p["slow_ms"]))


# --------------------------------------------------------------------------
# completion_quality: measure()

def _hold(nbytes, seconds):
    block = b"\x01" * nbytes  # written byte by byte: resident
    time.sleep(seconds)
    return len(block)


def _hold_in_child(nbytes, seconds):
    proc = multiprocessing.get_context("fork").Process(target=_hold, args=(nbytes, seconds))
    proc.start()
    proc.join(10)
    return proc.exitcode


def measure_peak(ctx):
    """measure() of a call that sleeps, one that holds memory, one whose child process holds memory."""
    mod = _module(ctx)
    p = ctx.params
    nbytes = p["alloc_mb"] * MIB
    ctx.observe("sleep", _typed(mod.measure(lambda s: (time.sleep(s), "done")[1], p["sleep_s"])))
    ctx.observe("hold", _typed(mod.measure(_hold, nbytes, p["hold_s"])))
    ctx.observe("child", _typed(mod.measure(_hold_in_child, nbytes, p["child_hold_s"])))


# --------------------------------------------------------------------------
# problem_solving: classify()

def classify_tables(ctx):
    """classify() of each case's report: what it returned, and the report as it was afterwards."""
    mod = _module(ctx)
    cases = []
    for case in ctx.params["cases"]:
        report = _report_from({"cpu": case["cpu"], "io": case["io"]})
        got = mod.classify(report)
        cases.append({"result": _typed(got), "report_after": _typed(report)})
    ctx.observe("cases", cases)


# --------------------------------------------------------------------------
# problem_solving: compare() - the report, and what the grader measures

def _cpu_use(fn):
    """(wall seconds, CPU seconds of this process) of fn(): their ratio is the cores it kept busy."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _shaped(report):
    """Whether compare()'s report has every entry judge.py's shape check asks for (a dict per workload and
    model, with numbers), so that classify() can be given its numbers; when not, the judge fails the run
    on the report's shape and nothing more is run."""
    if not isinstance(report, dict) or any(k not in report for k in WORKLOADS + ("classification",)):
        return False
    for w in WORKLOADS:
        for m in ("serial",) + MODELS:
            e = report[w].get(m) if isinstance(report[w], dict) else None
            keys = ("seconds", "peak_mb") + (("speedup",) if m != "serial" else ())
            if not isinstance(e, dict) or not all(k in e and _is_number(e[k]) for k in keys):
                return False
    return True


def compare_report(ctx):
    """compare() on the judge's URLs; classify() of its own numbers; what the server saw of its I/O
    phases; the grader's own timing of crunch() and of the student's cpu_threads and cpu_asyncio on the
    same chunks; and, where the report claims a speed-up for threads or asyncio that their CPU use
    contradicts, a second compare()."""
    mod = _module(ctx)
    p = ctx.params
    chunks = _chunks(p["values"], p["chunks"], ctx.seed % 1000)
    urls = _serve(ctx)
    cw, iw = p["cpu_workers"], p["io_workers"]
    report = mod.compare(chunks, urls, cw, iw, p["repeats"])
    ctx.observe("report", _typed(report))
    if not _shaped(report):
        return  # the judge fails the run on its shape

    bare = {w: copy.deepcopy(report[w]) for w in WORKLOADS}
    ctx.observe("classified", _typed(mod.classify(bare)))
    _observe_requests(ctx)

    _crunch(chunks[0])  # warm the code up (CPython specialises it on its first runs)
    runs = [_cpu_use(lambda: [_crunch(c) for c in chunks]) for _ in range(2)]
    ctx.observe("serial", _typed({"wall": min(w for w, _ in runs), "cpu": min(c for _, c in runs)}))
    runners = {"threading": lambda: mod.cpu_threads(chunks, cw),
               "asyncio": lambda: asyncio.run(mod.cpu_asyncio(chunks))}
    busy = {}
    for m, fn in runners.items():
        wall, cpu = _cpu_use(fn)
        busy[m] = [cpu, wall]
    ctx.observe("busy", _typed(busy))  # exact: the judge decides on a second compare() from them too
    # The student's own timing is noisy on a loaded machine too: a contradiction must show twice (the
    # judge decides; a second compare() is run only where it could be one).
    claims = [m for m in runners if float(report["cpu"][m]["speedup"]) >= p["claim"]
              and busy[m][1] > 0 and busy[m][0] / busy[m][1] < p["none"]]
    if claims:
        ctx.observe("again", _typed(mod.compare(chunks, urls, cw, iw, p["repeats"])))


# --------------------------------------------------------------------------
# performance: throughput and memory of cpu_processes

def bench_processes(ctx):
    mod = _module(ctx)
    p = ctx.params
    chunks = _chunks(p["values"], p["chunks"], 7)
    expected = [_crunch(c) for c in chunks]
    w = p["workers"]

    def run():
        got = mod.cpu_processes(chunks, w)
        if got != expected:
            ctx.fail("cpu_processes(%d chunks, workers=%d) returned wrong results" % (len(chunks), w),
                     hint="a fast wrong answer earns no performance points")

    return run


def memory_processes(ctx):
    """cpu_processes on large chunks (the grader measures the peak memory): what each call returned."""
    mod = _module(ctx)
    p = ctx.params
    n, k = p["values"], p["chunks"]
    values = list(range(1000, 1000 + n))  # distinct int objects (above the small-int cache), cheap to make
    chunks = [values[i * n // k:(i + 1) * n // k] for i in range(k)]
    del values
    calls = []
    for _ in range(p["calls"]):
        calls.append(_typed(mod.cpu_processes(chunks, p["workers"], p["rounds"])))
    ctx.observe("calls", calls)
