"""Checks for lab-4.3, shared-memory data processing (`shmproc.py`).

Standard library only. Expected values are computed here (Python's sum, the transform and the
histogram done serially), never with the student's functions.

Segments: the checks create the segments that transform_in_place and histogram work on, and
unlink them in a finally (the harness fails a run that leaves a segment in /dev/shm, whoever made
it). parallel_sum creates its own segment: the checks look at /dev/shm and at this process's
memory maps before and after each call.

Memory: `no_copy_per_worker` runs under the spawn start method, where a worker starts as a fresh
interpreter whose resident memory owes nothing to this (large) process, and polls the peak
resident size (VmHWM) of every worker while the call runs; a bare pool worker, measured first,
is the baseline.
"""

import os
import random
import re
import tempfile
import threading
import time
import traceback
from array import array
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

MODULE = "shmproc"
ITEM = "q"
ITEM_SIZE = 8
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1


# --------------------------------------------------------------------------
# calling the student's code

def _student_line(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.basename(f.filename) == MODULE + ".py"]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {MODULE}.py:{f.lineno} in {f.name})"


def _worker_line(exc):
    """' in a worker process (at shmproc.py:LINE in FUNC)' from the traceback text a pool chains."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(r'File "([^"]*)", line (\d+), in (\S+)', tb)
              if os.path.basename(f[0]) == MODULE + ".py"]
    if not frames:
        return ""
    _, line, func = frames[-1]
    return f" in a worker process (at {MODULE}.py:{line} in {func})"


def _hint_for(exc):
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, BufferError) or "exported pointers" in text:
        return ("release every memoryview over shm.buf (view.release(), or a with-block on the "
                "view) before shm.close(): close() refuses while a view still points into the "
                "mapping")
    if isinstance(exc, FileNotFoundError):
        return ("a segment was opened or unlinked after it was already unlinked: unlink() exactly "
                "once, in the process that created it, after every worker is done; never unlink "
                "a segment the caller gave you")
    if "pickl" in text.lower() or "synchronized objects" in text.lower():
        return ("a multiprocessing.Array or Lock can only reach a worker when the worker is "
                "started (Process(args=...), or a pool's initializer/initargs), not as a task "
                "argument; functions handed to workers must be top-level functions")
    return None


def _run(ctx, what, fn, timeout, expect_error=False):
    """Runs fn() in a thread with a time limit; returns (value, error).

    With expect_error, an exception is returned instead of failing the check.
    """
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B036 - handed back to the check's thread
            box["error"] = exc

    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        ctx.fail(f"{what} did not return within {timeout} s",
                 hint="look for a worker that never ends, or a join() on a process whose result "
                      "nobody reads")
    exc = box.get("error")
    if exc is None:
        return box.get("value"), None
    if expect_error and isinstance(exc, Exception):
        return None, exc
    where = _worker_line(exc) or _student_line(exc)
    hint = _hint_for(exc)
    if hint or _worker_line(exc):
        ctx.fail(f"{what} raised {type(exc).__name__}: {exc}{where}",
                 hint=hint or "the pool re-raises a worker's exception in the parent; the line "
                              "above is where the worker raised it")
    raise exc


def _func(ctx, name):
    mod = ctx.student(MODULE)
    fn = getattr(mod, name, None)
    ctx.expect(callable(fn), f"{MODULE}.py defines no function {name}()",
               hint="keep the functions of the starter, with their signatures, at the top level "
                    "of shmproc.py")
    return fn


def _short(values, limit=6):
    values = list(values)
    if len(values) <= limit:
        return repr(values)
    return "[" + ", ".join(map(repr, values[:limit])) + f", ... ({len(values)} items)]"


# --------------------------------------------------------------------------
# data, segments and this process's view of them

def _values(ctx, spec):
    """{list: [...]}, {random: [n, lo, hi]} (seeded ints in [lo, hi]), {extremes: n}, {overflow: [...]}."""
    if "list" in spec:
        return list(spec["list"])
    if "random" in spec:
        n, lo, hi = spec["random"]
        return [ctx.rng.randint(lo, hi) for _ in range(n)]
    if "overflow" in spec:  # the given items, then 2**70, which no int64 can hold
        return list(spec["overflow"]) + [2 ** 70]
    if "extremes" in spec:
        pool = [INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, -1, 0, 1]
        return [pool[i % len(pool)] for i in range(spec["extremes"])]
    raise AssertionError(f"spec error: unknown values description {spec!r}")


def _segment_names():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def _shm_mappings():
    """Lines of /proc/self/maps that map a file of /dev/shm (one per mapping)."""
    with open("/proc/self/maps") as fh:
        return [line.rstrip("\n") for line in fh if " /dev/shm/" in line]


def _mapped_name(line):
    path = line.split(" /dev/shm/", 1)[1]
    return path.replace(" (deleted)", "").strip()


class Segment:
    """A segment made by the check: `length` int64 items, then `guard` sentinel items."""

    SENTINEL = 0x5A5A_5A5A_5A5A_5A5A

    def __init__(self, items, guard=3):
        self.length = len(items)
        self.guard = guard
        total = self.length + guard
        self.shm = shared_memory.SharedMemory(create=True, size=total * ITEM_SIZE)
        self.name = self.shm.name
        data = array(ITEM, items)
        data.extend([self.SENTINEL] * guard)
        self.shm.buf[:total * ITEM_SIZE] = memoryview(data).cast("B")

    def read(self):
        view = self.shm.buf.cast(ITEM)
        try:
            return view.tolist()[: self.length + self.guard]
        finally:
            view.release()

    def exists(self):
        return os.path.exists("/dev/shm/" + self.name.lstrip("/"))

    def mappings(self):
        return sum(1 for line in _shm_mappings() if _mapped_name(line) == self.name.lstrip("/"))

    def destroy(self):
        self.shm.close()
        try:
            self.shm.unlink()
        except FileNotFoundError:  # the student unlinked it; reported by the check already
            pass


def _check_caller_segment(ctx, seg, what):
    """After a call on the check's segment: still there, and mapped once (by the check) only."""
    ctx.expect(seg.exists(),
               f"{what}: the caller's segment {seg.name} was unlinked by the call",
               hint="the caller created that segment and unlinks it; a worker or the function "
                    "only attaches to it by name, and close()s its handle")
    extra = seg.mappings() - 1
    ctx.expect(extra <= 0,
               f"{what}: the segment {seg.name} is still mapped {extra} more time(s) in the "
               "calling process after the call returned: a SharedMemory handle was not closed",
               hint="close() every SharedMemory you open, in a finally (after releasing the "
                    "memoryviews over its buf)")


# --------------------------------------------------------------------------
# multiprocessing's resource tracker

def _stop_resource_tracker(timeout):
    """Lets this process's resource tracker exit now, before the check returns.

    The tracker (started by the first SharedMemory of this process, or under spawn by its first
    semaphore) exits once every process holding its pipe has closed it, which is normally when
    this process exits, after the check; on a loaded machine it can then outlive the harness's
    grace period and be reported as a stray process. Closing our end of the pipe here lets it exit
    (and print its warnings, if something is still registered) while the check is still running.
    Private API of CPython 3.11's multiprocessing.resource_tracker.
    """
    import gc
    from multiprocessing import resource_tracker
    gc.collect()  # semaphores and segments no longer referenced unregister themselves first
    tracker = resource_tracker._resource_tracker
    with tracker._lock:
        fd, pid = tracker._fd, tracker._pid
        if fd is None:
            return
        tracker._fd = tracker._pid = None
        os.close(fd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.01)


def shm_check(fn):
    """Every check of this lab: records the segments it creates; on the way out, when none of them
    is left in /dev/shm, stops the resource tracker (see _stop_resource_tracker). A leaked segment
    is left in place for the harness's own detector, which fails the run and names it."""
    def check(ctx):
        created = CreatedSegments()
        try:
            with created:
                return fn(ctx)
        finally:
            leaked = [n for n in created.names() if os.path.exists("/dev/shm/" + n)]
            created.remove()
            if not leaked:
                _stop_resource_tracker(ctx.params.get("tracker_timeout", 3))
    check.__name__ = fn.__name__
    check.__doc__ = fn.__doc__
    return check


# --------------------------------------------------------------------------
# completion_quality

@shm_check
def sum_correct(ctx):
    """parallel_sum on random, extreme, tiny and empty inputs, with 1 to 4 workers."""
    fn = _func(ctx, "parallel_sum")
    timeout = ctx.params["call_timeout"]
    for case in ctx.params["cases"]:
        values = _values(ctx, case["values"])
        workers = case.get("workers", "default")
        if workers == "default":
            what = f"parallel_sum({_short(values)})"
            call = (lambda v=values: fn(v))
        else:
            what = f"parallel_sum({_short(values)}, workers={workers})"
            call = (lambda v=values, w=workers: fn(v, w))
        expected = sum(values)
        got, _ = _run(ctx, what, call, timeout)
        ctx.expect(isinstance(got, int) and not isinstance(got, bool),
                   f"{what} returned {got!r} ({type(got).__name__}), expected the int {expected}",
                   hint="return the total as a Python int (add the workers' partial sums)")
        if got != expected:
            diff = got - expected
            hint = ("every item must be read by exactly one worker: slice i is "
                    "[length*i // n, length*(i+1) // n), end excluded")
            ctx.fail(f"{what}: expected {expected}, got {got} (off by {diff:+d})", hint=hint)


@shm_check
def transform_correct(ctx):
    """transform_in_place on the check's segment: every item, nothing past `length`, segment kept."""
    fn = _func(ctx, "transform_in_place")
    timeout = ctx.params["call_timeout"]
    for length, factor, offset, workers in ctx.params["cases"]:
        items = [ctx.rng.randint(-10 ** 9, 10 ** 9) for _ in range(length)]
        seg = Segment(items)
        try:
            what = (f"transform_in_place({seg.name!r}, length={length}, factor={factor}, "
                    f"offset={offset}, workers={workers})")
            _run(ctx, what, lambda: fn(seg.name, length, factor, offset, workers), timeout)
            _check_caller_segment(ctx, seg, what)
            after = seg.read()
            for i in range(length):
                want = items[i] * factor + offset
                if after[i] != want:
                    bad = [j for j in range(length) if after[j] != items[j] * factor + offset]
                    twice = [j for j in bad if after[j] == (items[j] * factor + offset) * factor + offset]
                    untouched = [j for j in bad if after[j] == items[j]]
                    detail = []
                    if untouched:
                        detail.append(f"{len(untouched)} never transformed (first at index {untouched[0]})")
                    if twice:
                        detail.append(f"{len(twice)} transformed twice (first at index {twice[0]})")
                    ctx.fail(f"{what}: item {i} should be {items[i]} * {factor} + {offset} = {want}, "
                             f"found {after[i]}; {len(bad)} of {length} items wrong"
                             + (f": {', '.join(detail)}" if detail else ""),
                             hint="each index in [0, length) must be transformed by exactly one "
                                  "worker, exactly once: slices [lo, hi) that meet end to end, "
                                  "end excluded")
            for g in range(seg.guard):
                ctx.expect(after[length + g] == Segment.SENTINEL,
                           f"{what}: the item at index {length + g}, past length={length}, was "
                           f"changed (from {Segment.SENTINEL} to {after[length + g]})",
                           hint="only the first `length` items are yours: the segment may be "
                                "longer; stop at index length - 1")
        finally:
            seg.destroy()


def _histogram_verdict(ctx, fn, seg, items, bins, workers, got, timeout):
    """Fails with the most specific message for a wrong histogram (seg still exists)."""
    length = len(items)
    expected = [0] * bins
    for x in items:
        expected[x % bins] += 1
    what = f"histogram({seg.name!r}, length={length}, bins={bins}, workers={workers})"
    ctx.expect(isinstance(got, list) and len(got) == bins and all(isinstance(c, int) for c in got),
               f"{what} returned {got!r}, expected a list of {bins} int counts",
               hint="return list(counts), one count per remainder 0 .. bins-1")
    if got == expected:
        return
    total = sum(got)
    if total < length and workers > 1:
        # Lost updates, or items never counted? One worker cannot race with itself.
        single, _ = _run(ctx, f"histogram({seg.name!r}, length={length}, bins={bins}, workers=1)",
                         lambda: fn(seg.name, length, bins, 1), timeout)
        if single == expected:
            ctx.fail(f"{what}: {length - total} of {length} counts were lost (they add up to "
                     f"{total}): expected {expected}, got {got}; with workers=1 the counts are "
                     "right, so concurrent updates of the shared counters overwrote each other",
                     hint="`counts[b] += 1` on a shared multiprocessing.Array is a read and then "
                          "a write; two processes interleave between them and one update is "
                          "lost. Hold counts.get_lock() around every update, or better, count in "
                          "a local list and add it in once under the lock")
    if total < length:
        ctx.fail(f"{what}: {length - total} of {length} items were not counted (the counts add "
                 f"up to {total}): expected {expected}, got {got}",
                 hint="the slices [lo, hi) must meet end to end and cover [0, length) exactly "
                      "once, end excluded")
    if total > length:
        ctx.fail(f"{what}: the counts add up to {total}, more than the {length} items: "
                 f"{total - length} item(s) counted twice: expected {expected}, got {got}",
                 hint="each index in [0, length) belongs to exactly one worker's slice, end "
                      "excluded")
    ctx.fail(f"{what}: expected {expected}, got {got}",
             hint="count x into bin x % bins (Python's %, never negative for bins > 0)")


@shm_check
def histogram_counts(ctx):
    """histogram on the check's segment: small cases, then large ones where workers contend."""
    fn = _func(ctx, "histogram")
    timeout = ctx.params["call_timeout"]
    for case in ctx.params["cases"]:
        length, bins, workers = case["length"], case["bins"], case["workers"]
        for _ in range(case.get("repeat", 1)):
            items = [ctx.rng.randint(-10 ** 6, 10 ** 6) for _ in range(length)]
            seg = Segment(items)
            try:
                what = f"histogram({seg.name!r}, length={length}, bins={bins}, workers={workers})"
                got, _ = _run(ctx, what, lambda: fn(seg.name, length, bins, workers), timeout)
                _check_caller_segment(ctx, seg, what)
                _histogram_verdict(ctx, fn, seg, items, bins, workers, got, timeout)
            finally:
                seg.destroy()


# --------------------------------------------------------------------------
# problem_solving

class CreatedSegments:
    """Records the name of every SharedMemory created (create=True) while it is active.

    /dev/shm is shared by everything on the machine, so "new files in /dev/shm" would also catch
    other programs' segments; this looks only at the segments made by this process and the ones
    it forks (the names go to a file, which forked workers append to as well).
    """

    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="lab43-created-")
        os.close(fd)
        self._original = None

    def __enter__(self):
        original = self._original = shared_memory.SharedMemory.__init__
        path = self.path

        def __init__(shm, name=None, create=False, size=0):
            original(shm, name, create, size)
            if create:
                with open(path, "a") as fh:
                    fh.write(shm.name.lstrip("/") + "\n")

        shared_memory.SharedMemory.__init__ = __init__
        return self

    def __exit__(self, *exc):
        shared_memory.SharedMemory.__init__ = self._original

    def names(self):
        with open(self.path) as fh:
            return [line.strip() for line in fh if line.strip()]

    def remove(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


@shm_check
def segments_cleaned(ctx):
    """parallel_sum leaves no segment in /dev/shm and no mapping in this process, also on error."""
    psum = _func(ctx, "parallel_sum")
    timeout = ctx.params["call_timeout"]
    for case in ctx.params["sum_cases"]:
        values = _values(ctx, case["values"])
        workers = case["workers"]
        what = f"parallel_sum({_short(values)}, workers={workers})"
        maps_before = set(_shm_mappings())
        created = CreatedSegments()
        try:
            with created:
                got, err = _run(ctx, what, lambda: psum(values, workers), timeout,
                                expect_error=case.get("raises", False))
            time.sleep(0.05)  # a segment being unlinked right now by a finally is not a leak
            left = [name for name in created.names() if os.path.exists("/dev/shm/" + name)]
        finally:
            created.remove()
        for name in left:  # fail with this check's message, and leave /dev/shm as it was
            try:
                os.unlink("/dev/shm/" + name)
            except OSError:
                pass
        how = "raised" if err is not None else "returned"
        ctx.expect(not left,
                   f"after {what} {how}, {len(left)} segment(s) it created were left in /dev/shm: "
                   f"{', '.join(left)} (removed by the grader)",
                   hint="the process that creates a segment unlink()s it exactly once, in a "
                        "finally, so that an exception on the way does not leak it")
        if case.get("raises"):
            ctx.expect(err is not None,
                       f"{what}: an item does not fit in a signed 64-bit integer, but the call "
                       f"returned {got!r} instead of raising",
                       hint="array('q', values) raises OverflowError for such a value: let it "
                            "reach the caller (after cleaning up)")
        else:
            ctx.expect_eq(got, sum(values), what)
        new_maps = [line for line in _shm_mappings() if line not in maps_before]
        ctx.expect(not new_maps,
                   f"after {what} {how}, this process still maps {len(new_maps)} shared-memory "
                   f"segment(s): {', '.join(sorted({_mapped_name(m) for m in new_maps}))}: a "
                   "SharedMemory handle was not closed",
                   hint="close() the parent's SharedMemory too (after releasing its memoryviews), "
                        "in a finally")


def _proc_table():
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            table[int(entry)] = (int(rest[1]), rest[0], cmd)
        except (OSError, ValueError, IndexError):
            continue
    return table


def _spawned_workers():
    """Pids of live descendants of this process that are spawned workers, past their exec.

    A spawned worker is forked from this process and then execs a fresh interpreter; between the
    two (longer on a loaded machine) /proc shows this process's memory under the child's pid, so
    only a process whose command line is already the spawned one ("spawn_main") is measured.
    multiprocessing's resource tracker and fork server are not workers.
    """
    table = _proc_table()
    kids = {}
    for pid, row in table.items():
        kids.setdefault(row[0], []).append(pid)
    found, todo = set(), [os.getpid()]
    while todo:
        for pid in kids.get(todo.pop(), ()):
            if pid not in found:
                found.add(pid)
                todo.append(pid)
    return [pid for pid in found
            if table[pid][1] not in ("Z", "X") and "spawn_main" in table[pid][2]
            and "resource_tracker" not in table[pid][2] and "forkserver" not in table[pid][2]]


def _hwm_kb(pid):
    """Peak resident size (VmHWM, kB) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakSampler:
    """Polls VmHWM of every spawned worker while a call runs: {pid: peak kB}."""

    def __init__(self, interval):
        self.interval = interval
        self.peaks = {}
        self.error = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self):
        while not self._done.is_set():
            try:
                for pid in _spawned_workers():
                    kb = _hwm_kb(pid)  # read after the command line: exec is one-way
                    if kb:
                        self.peaks[pid] = max(self.peaks.get(pid, 0), kb)
            except Exception as exc:  # a grader fault must not pass for the student's
                self.error = exc
                return
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"grader: sampling worker memory failed: {self.error!r}")


@shm_check
def no_copy_per_worker(ctx):
    """Under spawn, no worker of parallel_sum holds much more than its share of the data."""
    ctx.expect(ctx.start_method == "spawn",
               f"spec error: this item must run with start_method: spawn, not {ctx.start_method}")
    fn = _func(ctx, "parallel_sum")
    n, workers = ctx.params["items"], ctx.params["workers"]
    interval = ctx.params["poll_ms"] / 1000.0
    timeout = ctx.params["call_timeout"]
    rng = random.Random(ctx.seed)
    values = [rng.getrandbits(41) - 2 ** 40 for _ in range(n)]
    expected = sum(values)

    # The baseline: a bare spawned pool worker that imports the student's module (exec is a
    # builtin, so it pickles by name; it returns None).
    with PeakSampler(interval) as base:
        with ProcessPoolExecutor(max_workers=1) as pool:
            pool.submit(exec, f"import {MODULE}").result(timeout)
    ctx.expect(base.peaks, "grader: the baseline worker was not seen")
    baseline = max(base.peaks.values())

    what = f"parallel_sum(<{n} ints>, workers={workers})"
    with PeakSampler(interval) as sampler:
        got, _ = _run(ctx, what, lambda: fn(values, workers), timeout)
    ctx.expect_eq(got, expected, what)
    ctx.expect(sampler.peaks, f"{what}: no spawned worker process was seen while the call ran "
                              "(this item runs under the spawn start method)",
               hint="sum the slices in worker processes (a pool, or Process objects) of the "
                    "default context, so that they follow the start method")
    share_kb = n * ITEM_SIZE // workers // 1024
    budget = baseline + ctx.params["slack_kb"] + ctx.params["share_factor"] * share_kb
    pid, peak = max(sampler.peaks.items(), key=lambda kv: kv[1])
    ctx.expect(peak <= budget,
               f"{what}: a worker (pid {pid}) peaked at {peak / 1024:.1f} MiB resident, "
               f"{(peak - baseline) / 1024:.1f} MiB above a bare worker ({baseline / 1024:.1f} MiB); "
               f"reading its {share_kb / 1024:.1f} MiB share of the data in place allows at most "
               f"{(budget - baseline) / 1024:.1f} MiB more: the data was copied into the worker "
               f"({len(sampler.peaks)} worker(s) seen)",
               hint="copy the values once, into one SharedMemory segment, and send each worker "
                    "only the segment's name and its [lo, hi) bounds; read the items through "
                    "shm.buf.cast('q') (sum(view[lo:hi]) copies nothing). Passing the list or a "
                    "slice of it pickles a copy into every worker, and view.tolist() copies too")


# --------------------------------------------------------------------------
# performance (throughput)

def bench_transform(ctx):
    """The timed workload: transform_in_place over a fresh segment of `items` ints, per call."""
    fn = _func(ctx, "transform_in_place")
    n, factor, offset, workers = (ctx.params[k] for k in ("items", "factor", "offset", "workers"))
    initial = array(ITEM, range(n)).tobytes()
    expected = array(ITEM, (x * factor + offset for x in range(n))).tobytes()
    size = n * ITEM_SIZE

    def run():
        shm = shared_memory.SharedMemory(create=True, size=size)
        try:
            shm.buf[:size] = initial
            fn(shm.name, n, factor, offset, workers)
            ok = bytes(shm.buf[:size]) == expected
        finally:
            shm.close()
            shm.unlink()
        if not ok:
            ctx.fail(f"transform_in_place(<{n} ints>, factor={factor}, offset={offset}, "
                     f"workers={workers}) left wrong items", hint="a fast wrong answer earns no "
                     "performance points")

    return run
