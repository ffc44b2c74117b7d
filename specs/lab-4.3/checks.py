"""Workloads for lab-4.3, shared-memory data processing (`shmproc.py`). Each records what the
student's code did; judge.py, which the submission never sees, gives the verdicts: it chose the seeds
of the run's values (lab43_data.py draws them, here and in the judge) and computes what each call
should have returned (Python's sum, the transform and the histogram done serially).

Standard library only. What only this process can see fails a run here: a call that raised or hung,
and the checks' own set-up faults.

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
import sys
import tempfile
import threading
import time
from array import array
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.append(_HERE)  # after the student's directory: their files come first

import lab43_data  # noqa: E402
from grade_lib_procs import descendants, proc_table, stop_resource_tracker  # noqa: E402
from grade_lib_student import student_functions, student_line, worker_line  # noqa: E402

MODULE = "shmproc"
ITEM = "q"
ITEM_SIZE = 8


# --------------------------------------------------------------------------
# calling the student's code

def _student_line(exc):
    return student_line(exc, MODULE)


def _worker_line(exc):
    """' in a worker process (at shmproc.py:LINE in FUNC)' from the traceback text a pool chains."""
    return worker_line(exc, MODULE)


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
    hint = "keep the functions of the starter, with their signatures, at the top level of shmproc.py"
    return getattr(student_functions(ctx, MODULE, [name], hint=hint), name)


# --------------------------------------------------------------------------
# data, segments and this process's view of them

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


def _caller_segment(seg):
    """After a call on the check's segment: is it still there, and how many more times than once (the
    check's own handle) is it mapped in this process."""
    return {"exists": seg.exists(), "extra_mappings": seg.mappings() - 1}


# --------------------------------------------------------------------------
# multiprocessing's resource tracker

def shm_check(fn):
    """Every check of this lab: records the segments it creates; on the way out, when none of them
    is left in /dev/shm, stops the resource tracker (grade_lib_procs.stop_resource_tracker). A leaked
    segment is left in place for the harness's own detector, which fails the run and names it."""
    def check(ctx):
        created = CreatedSegments()
        try:
            with created:
                return fn(ctx)
        finally:
            leaked = [n for n in created.names() if os.path.exists("/dev/shm/" + n)]
            created.remove()
            if not leaked:
                stop_resource_tracker(ctx.params.get("tracker_timeout", 3))
    check.__name__ = fn.__name__
    check.__doc__ = fn.__doc__
    return check


# --------------------------------------------------------------------------
# completion_quality

@shm_check
def sum_correct(ctx):
    """parallel_sum on random, extreme, tiny and empty inputs, with 1 to 4 workers: records each result."""
    fn = _func(ctx, "parallel_sum")
    timeout = ctx.params["call_timeout"]
    results = []
    for case, seed in zip(ctx.params["cases"], ctx.inputs["seeds"]):
        values = lab43_data.values(case["values"], seed)
        workers = case.get("workers", "default")
        if workers == "default":
            what = f"parallel_sum({lab43_data.short(values)})"
            call = (lambda v=values: fn(v))
        else:
            what = f"parallel_sum({lab43_data.short(values)}, workers={workers})"
            call = (lambda v=values, w=workers: fn(v, w))
        got, _ = _run(ctx, what, call, timeout)
        results.append(lab43_data.int_result(got))
    ctx.observe("results", results)


@shm_check
def transform_correct(ctx):
    """transform_in_place on the check's segment: records the segment's items after each call (those
    past `length` too) and whether the segment is still there, mapped by the check alone."""
    fn = _func(ctx, "transform_in_place")
    timeout = ctx.params["call_timeout"]
    cases = []
    for (length, factor, offset, workers), seed in zip(ctx.params["cases"], ctx.inputs["seeds"]):
        items = lab43_data.items(length, 10 ** 9, seed)
        seg = Segment(items)
        try:
            what = (f"transform_in_place({seg.name!r}, length={length}, factor={factor}, "
                    f"offset={offset}, workers={workers})")
            _run(ctx, what, lambda: fn(seg.name, length, factor, offset, workers), timeout)
            cases.append(dict(_caller_segment(seg), name=seg.name, after=seg.read()))
        finally:
            seg.destroy()
    ctx.observe("cases", cases)


@shm_check
def histogram_counts(ctx):
    """histogram on the check's segment: small cases, then large ones where workers contend. Records
    each result, whether the segment is still there (mapped by the check alone) and, when the counts
    add up to less than `length` with several workers, the result of the same call with workers=1
    (lost updates, or items never counted? one worker cannot race with itself)."""
    fn = _func(ctx, "histogram")
    timeout = ctx.params["call_timeout"]
    runs = []
    for case, seeds in zip(ctx.params["cases"], ctx.inputs["seeds"]):
        length, bins, workers = case["length"], case["bins"], case["workers"]
        for seed in seeds:
            seg = Segment(lab43_data.items(length, 10 ** 6, seed))
            try:
                what = f"histogram({seg.name!r}, length={length}, bins={bins}, workers={workers})"
                got, _ = _run(ctx, what, lambda: fn(seg.name, length, bins, workers), timeout)
                run = dict(_caller_segment(seg), name=seg.name, list=isinstance(got, list), counts=got,
                           repr=None if isinstance(got, list) else repr(got), single=None)
                if (run["exists"] and run["extra_mappings"] <= 0 and workers > 1 and isinstance(got, list)
                        and all(isinstance(c, int) for c in got) and sum(got) < length):
                    run["single"], _ = _run(ctx, f"histogram({seg.name!r}, length={length}, bins={bins}, "
                                                 "workers=1)", lambda: fn(seg.name, length, bins, 1), timeout)
                runs.append(run)
            finally:
                seg.destroy()
    ctx.observe("runs", runs)


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
    """parallel_sum's segments in /dev/shm and mappings in this process after each call, also when it
    raises: records what was left behind (and removes the segments), and each result or error."""
    psum = _func(ctx, "parallel_sum")
    timeout = ctx.params["call_timeout"]
    cases = []
    for case, seed in zip(ctx.params["sum_cases"], ctx.inputs["seeds"]):
        values = lab43_data.values(case["values"], seed)
        workers = case["workers"]
        what = f"parallel_sum({lab43_data.short(values)}, workers={workers})"
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
        for name in left:  # the judge names them; leave /dev/shm as it was
            try:
                os.unlink("/dev/shm/" + name)
            except OSError:
                pass
        new_maps = [line for line in _shm_mappings() if line not in maps_before]
        cases.append({"left": left, "result": lab43_data.int_result(got) if err is None else None,
                      "error": None if err is None else f"{type(err).__name__}: {err}",
                      "new_maps": sorted({_mapped_name(m) for m in new_maps})})
    ctx.observe("cases", cases)


def _spawned_workers():
    """Pids of live descendants of this process that are spawned workers, past their exec.

    A spawned worker is forked from this process and then execs a fresh interpreter; between the
    two (longer on a loaded machine) /proc shows this process's memory under the child's pid, so
    only a process whose command line is already the spawned one ("spawn_main") is measured.
    multiprocessing's resource tracker and fork server are not workers.
    """
    table = proc_table()
    found = descendants(table)
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
    """Under spawn, the peak resident size of every worker of parallel_sum, and of a bare worker first
    (the judge allows a worker its share of the data above that)."""
    ctx.expect(ctx.start_method == "spawn",
               f"spec error: this item must run with start_method: spawn, not {ctx.start_method}")
    fn = _func(ctx, "parallel_sum")
    n, workers = ctx.params["items"], ctx.params["workers"]
    interval = ctx.params["poll_ms"] / 1000.0
    timeout = ctx.params["call_timeout"]
    values = lab43_data.large(n, ctx.inputs["seed"])

    # The baseline: a bare spawned pool worker that imports the student's module (exec is a
    # builtin, so it pickles by name; it returns None).
    with PeakSampler(interval) as base:
        with ProcessPoolExecutor(max_workers=1) as pool:
            pool.submit(exec, f"import {MODULE}").result(timeout)
    ctx.observe("baseline_peaks", sorted(base.peaks.values()))

    what = f"parallel_sum(<{n} ints>, workers={workers})"
    with PeakSampler(interval) as sampler:
        got, _ = _run(ctx, what, lambda: fn(values, workers), timeout)
    ctx.observe("result", lab43_data.int_result(got))
    ctx.observe("worker_peaks", [[pid, kb] for pid, kb in sorted(sampler.peaks.items())])


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
