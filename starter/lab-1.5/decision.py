"""Lab 1.5: a quick decision framework for Python concurrency.

The course outline asks for `choose_concurrency_model(task_type, cpu_bound, io_bound, scalability_needs)`
that "returns the recommended approach with reasoning". Here the inputs are one dict of numbers and flags
describing the workload, and the reasoning is a tuple of reason CODES from a fixed vocabulary, so that a
program (the grader) can check it. You also write an Amdahl-style estimator of the wall time under each
model. The grader relies on exactly this API and these rules.

WORKLOAD: a dict with these keys (any other key is an error):
  required
    "tasks"    int >= 1        independent tasks to run
    "cpu_ms"   number >= 0     per task: time spent computing (running Python bytecode, or C code)
    "io_ms"    number >= 0     per task: time spent waiting for the network, disk, a database...
                               (cpu_ms + io_ms must be > 0)
  optional (default)
    "cores"                   int >= 1     (4)      CPU cores available
    "library_supports_async"  bool         (False)  the I/O goes through a library with an asyncio API
                                                    (aiohttp, asyncpg); False: a blocking one (requests)
    "releases_gil"            bool         (False)  the CPU part runs in C code that releases the GIL
                                                    (hashlib, zlib, numpy); False: pure Python
    "shared_state"            bool         (False)  tasks keep updating shared in-memory objects while
                                                    they run (not just return results)
    "needs_isolation"         bool         (False)  a task may crash or leak (untrusted code, a faulty C
                                                    extension) and must not take the others down
    "payload_kb"              number >= 0  (0)      per task: data to pickle to and from a worker process
  "number" means an int or a float, finite (no NaN, no inf); bool is not a number here, and an int field
  does not accept a float (2.0) or a bool. Any violation, a missing required key, an unknown key, or a
  workload that is not a dict: raise ValueError, from both functions below. Never modify the caller's dict.

CONSTANTS (given below; keep them): MODELS, REASONS, CPU_SHARE_CPU, CPU_SHARE_IO, TINY_WORK_MS, MAX_THREADS,
THREAD_START_MS, PROCESS_START_MS, PICKLE_MS_PER_KB, ASYNC_TASK_MS.

class Decision (given below): frozen dataclass with
    model    one of MODELS: "sequential", "threading", "multiprocessing", "asyncio",
             "asyncio+multiprocessing" (an event loop for the I/O; the CPU parts sent to a process pool
             with loop.run_in_executor)
    kind     "cpu", "io" or "mixed" (step 2 below)
    reasons  a tuple of distinct codes from REASONS: exactly the codes the rules below add (any order)

choose_concurrency_model(workload: dict) -> Decision
    1. Validate (ValueError as above) and fill in the defaults.
    2. kind: share = cpu_ms / (cpu_ms + io_ms), computed exactly so;
           share >= CPU_SHARE_CPU (0.8) -> "cpu";  share <= CPU_SHARE_IO (0.2) -> "io";  else "mixed".
    3. The first of these that applies decides alone (reasons: that one code):
         needs_isolation                           -> "multiprocessing",  ("needs-isolation",)
         tasks == 1                                -> "sequential",       ("single-task",)
         tasks * (cpu_ms + io_ms) < TINY_WORK_MS   -> "sequential",       ("tiny-workload",)
    4. Otherwise collect reasons, in this order:
         kind "io": add "io-wait-dominates".       kind "mixed": add "mixed-workload".
         kind "cpu" or "mixed" (can the CPU part run in parallel?):
           releases_gil:     add "releases-gil"; then if cores == 1 add "single-core" (no parallel CPU),
                             else the CPU part can run in parallel in THREADS.
           not releases_gil: add "gil-bound"; then add the FIRST of these that applies, if any, and the CPU
                             part cannot run in parallel; if none applies, it can, in PROCESSES:
                               cores == 1            "single-core"
                               shared_state          "shared-state"
                               overhead >= saving    "process-overhead", where, with N = min(tasks, cores):
                                   overhead = N * PROCESS_START_MS + tasks * payload_kb * PICKLE_MS_PER_KB
                                   saving   = tasks * cpu_ms - tasks * cpu_ms / N
         kind "io" or "mixed": if not library_supports_async add "blocking-library";
                               if tasks > MAX_THREADS add "high-fan-out".
    5. The model:
         kind "io":    "asyncio" if library_supports_async else "threading"
         kind "cpu":   CPU in threads -> "threading"; in processes -> "multiprocessing"; else "sequential"
         kind "mixed": CPU in threads -> "threading";
                       in processes -> "asyncio+multiprocessing" if library_supports_async else
                                       "multiprocessing";
                       else (CPU not parallel) -> "asyncio" if library_supports_async else "threading"
    Example: {"tasks": 500, "cpu_ms": 1, "io_ms": 200} (requests, 500 URLs) ->
             Decision("threading", "io", ("io-wait-dominates", "blocking-library", "high-fan-out"))

estimate_wall_ms(workload: dict) -> dict[str, float]
    Wall time in milliseconds under EACH of the five MODELS (a key per model), for the same workload,
    after validating it (ValueError as above). An Amdahl-style model: every model splits the sequential
    work into a part that stays serial and a part shared by N workers, plus fixed overheads; it ignores
    the overlap between a task's CPU and I/O parts. The flags shared_state and needs_isolation do not
    change the estimates. With n = tasks, c = cpu_ms, w = io_ms:
      sequential:  n * (c + w)
      threading:   a pool of T = min(n, MAX_THREADS) threads. The I/O waits are shared by the T threads.
                   The CPU part is serial (the GIL), unless releases_gil: then it is shared by
                   min(T, cores) threads. Overhead: THREAD_START_MS per thread.
      multiprocessing: N = min(n, cores) processes share all the work, CPU and I/O. Overhead:
                   PROCESS_START_MS per process, and payload_kb * PICKLE_MS_PER_KB per task (pickling).
      asyncio:     one thread. The CPU part is serial (even C code: only one thread runs it). The I/O
                   waits of all n tasks overlap if library_supports_async; a blocking library stalls the
                   loop, so they are serial. Overhead: ASYNC_TASK_MS per task.
      asyncio+multiprocessing: the I/O part as under asyncio (with its ASYNC_TASK_MS per task), plus the CPU
                   part shared by N = min(n, cores) processes with multiprocessing's overheads.
    The speed-up of a model is estimate["sequential"] / estimate[model].

The module must import without side effects and use the standard library only.
"""
from dataclasses import dataclass

MODELS = ("sequential", "threading", "multiprocessing", "asyncio", "asyncio+multiprocessing")
REASONS = (
    "needs-isolation",    # needs_isolation: separate processes, whatever the rest
    "single-task",        # one task: nothing to run concurrently
    "tiny-workload",      # the whole job takes under TINY_WORK_MS sequentially
    "io-wait-dominates",  # kind "io"
    "mixed-workload",     # kind "mixed"
    "gil-bound",          # the CPU part is pure Python: threads cannot run it in parallel
    "releases-gil",       # the CPU part is C code that releases the GIL: threads can
    "single-core",        # one core: the CPU part cannot run in parallel at all
    "shared-state",       # processes would have to share objects they keep updating
    "process-overhead",   # process start-up and pickling cost at least what the processes would save
    "blocking-library",   # the I/O library blocks: asyncio would stall, use threads
    "high-fan-out",       # more tasks than MAX_THREADS: a bounded pool, or asyncio
)

CPU_SHARE_CPU = 0.8       # cpu share at or above it: kind "cpu"
CPU_SHARE_IO = 0.2        # cpu share at or below it: kind "io"
TINY_WORK_MS = 50.0       # total sequential work below it: not worth any concurrency
MAX_THREADS = 64          # the largest thread pool worth starting
THREAD_START_MS = 0.1     # cost of starting one thread
PROCESS_START_MS = 50.0   # cost of starting one worker process
PICKLE_MS_PER_KB = 0.01   # cost of pickling a task's data to and from a worker, per KB
ASYNC_TASK_MS = 0.01      # cost of creating and scheduling one asyncio task


@dataclass(frozen=True)
class Decision:
    model: str
    kind: str
    reasons: tuple


def choose_concurrency_model(workload):
    # TODO: validate and fill in the defaults (a new dict), classify the kind, apply steps 3 to 5.
    raise NotImplementedError("choose_concurrency_model")


def estimate_wall_ms(workload):
    # TODO: validate, then one estimate per model in MODELS.
    raise NotImplementedError("estimate_wall_ms")
