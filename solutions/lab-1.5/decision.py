"""Lab 1.5: a quick decision framework for Python concurrency (reference solution).

See starter/lab-1.5/decision.py for the full student API; this file implements it.
"""
import math
from dataclasses import dataclass

MODELS = ("sequential", "threading", "multiprocessing", "asyncio", "asyncio+multiprocessing")
KINDS = ("cpu", "io", "mixed")
REASONS = (
    "needs-isolation", "single-task", "tiny-workload", "io-wait-dominates", "mixed-workload",
    "gil-bound", "releases-gil", "single-core", "shared-state", "process-overhead",
    "blocking-library", "high-fan-out",
)

CPU_SHARE_CPU = 0.8
CPU_SHARE_IO = 0.2
TINY_WORK_MS = 50.0
MAX_THREADS = 64
THREAD_START_MS = 0.1
PROCESS_START_MS = 50.0
PICKLE_MS_PER_KB = 0.01
ASYNC_TASK_MS = 0.01

_REQUIRED = ("tasks", "cpu_ms", "io_ms")
_DEFAULTS = {
    "cores": 4,
    "library_supports_async": False,
    "releases_gil": False,
    "shared_state": False,
    "needs_isolation": False,
    "payload_kb": 0.0,
}
_FLAGS = ("library_supports_async", "releases_gil", "shared_state", "needs_isolation")


@dataclass(frozen=True)
class Decision:
    model: str
    kind: str
    reasons: tuple


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _validated(workload):
    """A new dict with every field, defaults filled in; ValueError for anything invalid."""
    if not isinstance(workload, dict):
        raise ValueError("workload must be a dict, not %s" % type(workload).__name__)
    unknown = sorted(set(workload) - set(_REQUIRED) - set(_DEFAULTS), key=str)
    if unknown:
        raise ValueError("unknown workload field(s): %s" % ", ".join(map(repr, unknown)))
    missing = [k for k in _REQUIRED if k not in workload]
    if missing:
        raise ValueError("missing workload field(s): %s" % ", ".join(missing))
    w = dict(_DEFAULTS)
    w.update(workload)
    for key in ("tasks", "cores"):
        if not _is_int(w[key]) or w[key] < 1:
            raise ValueError("%s must be an int >= 1, got %r" % (key, w[key]))
    for key in ("cpu_ms", "io_ms", "payload_kb"):
        if not _is_number(w[key]) or w[key] < 0:
            raise ValueError("%s must be a finite number >= 0, got %r" % (key, w[key]))
    if w["cpu_ms"] + w["io_ms"] == 0:
        raise ValueError("a task must take some time: cpu_ms + io_ms is 0")
    for key in _FLAGS:
        if not isinstance(w[key], bool):
            raise ValueError("%s must be a bool, got %r" % (key, w[key]))
    return w


def _kind(w):
    share = w["cpu_ms"] / (w["cpu_ms"] + w["io_ms"])
    if share >= CPU_SHARE_CPU:
        return "cpu"
    if share <= CPU_SHARE_IO:
        return "io"
    return "mixed"


def _process_overhead_too_high(w):
    n, c = w["tasks"], w["cpu_ms"]
    workers = min(n, w["cores"])
    overhead = workers * PROCESS_START_MS + n * w["payload_kb"] * PICKLE_MS_PER_KB
    saving = n * c - n * c / workers
    return overhead >= saving


def choose_concurrency_model(workload):
    w = _validated(workload)
    kind = _kind(w)
    n = w["tasks"]
    if w["needs_isolation"]:
        return Decision("multiprocessing", kind, ("needs-isolation",))
    if n == 1:
        return Decision("sequential", kind, ("single-task",))
    if n * (w["cpu_ms"] + w["io_ms"]) < TINY_WORK_MS:
        return Decision("sequential", kind, ("tiny-workload",))

    reasons = []
    if kind == "io":
        reasons.append("io-wait-dominates")
    elif kind == "mixed":
        reasons.append("mixed-workload")

    cpu_parallel = None                     # how the CPU part can run in parallel: "threads", "processes"
    if kind in ("cpu", "mixed"):
        if w["releases_gil"]:
            reasons.append("releases-gil")
            if w["cores"] == 1:
                reasons.append("single-core")
            else:
                cpu_parallel = "threads"
        else:
            reasons.append("gil-bound")
            if w["cores"] == 1:
                reasons.append("single-core")
            elif w["shared_state"]:
                reasons.append("shared-state")
            elif _process_overhead_too_high(w):
                reasons.append("process-overhead")
            else:
                cpu_parallel = "processes"

    async_io = w["library_supports_async"]
    if kind in ("io", "mixed"):
        if not async_io:
            reasons.append("blocking-library")
        if n > MAX_THREADS:
            reasons.append("high-fan-out")

    if kind == "io":
        model = "asyncio" if async_io else "threading"
    elif kind == "cpu":
        model = {"threads": "threading", "processes": "multiprocessing", None: "sequential"}[cpu_parallel]
    elif cpu_parallel == "threads":
        model = "threading"
    elif cpu_parallel == "processes":
        model = "asyncio+multiprocessing" if async_io else "multiprocessing"
    else:
        model = "asyncio" if async_io else "threading"
    return Decision(model, kind, tuple(reasons))


def estimate_wall_ms(workload):
    w = _validated(workload)
    n, c, io, cores = w["tasks"], w["cpu_ms"], w["io_ms"], w["cores"]
    pickling = n * w["payload_kb"] * PICKLE_MS_PER_KB
    threads = min(n, MAX_THREADS)
    procs = min(n, cores)
    cpu_threads = min(threads, cores) if w["releases_gil"] else 1
    loop_io = io if w["library_supports_async"] else n * io
    return {
        "sequential": n * (c + io),
        "threading": n * c / cpu_threads + n * io / threads + threads * THREAD_START_MS,
        "multiprocessing": n * (c + io) / procs + procs * PROCESS_START_MS + pickling,
        "asyncio": n * c + loop_io + n * ASYNC_TASK_MS,
        "asyncio+multiprocessing": (n * c / procs + procs * PROCESS_START_MS + pickling
                                    + loop_io + n * ASYNC_TASK_MS),
    }
