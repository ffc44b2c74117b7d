"""Runs a lab's check function: once, N times under yield injection, or as a timed workload (bench)."""
import faulthandler
import gc
import importlib.util
import os
import random
import signal
import sys
import threading
import time

import grade_ctx
import grade_deadlock
import grade_procs
import grade_resources
from grade_ctx import CheckFailed, Ctx, StudentExit, live_children  # noqa: F401 - the tripwire guards them here too
from grade_locate import describe_exception

_real_sleep = time.sleep  # before grade_sched replaces it
_real_settrace = sys.settrace  # before the tripwire's guard stands in for it (Injector)


class _RetryingSys:
    """`sys` for the threading module, with a settrace that waits its turn instead of failing."""

    def __getattr__(self, name):
        return getattr(sys, name)

    @staticmethod
    def settrace(fn):
        for _ in range(10000):
            try:
                return sys.settrace(fn)
            except RuntimeError:
                # The real sleep: under the controlled scheduler time.sleep hands the turn on, and this
                # thread (still starting) has no turn to give.
                _real_sleep(0)
        return sys.settrace(fn)


class Injector:
    """Opcode-level tracing of the student's files, with a seeded chance of a thread switch at each opcode."""

    def __init__(self, root, seed, probability, sched=None):
        self.root = root
        self.rng = random.Random(seed ^ 0x5EED)
        self.p = probability
        self._interval = None
        self.sched = sched
        if sched is not None:
            self._local = self._local_controlled

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename.startswith(self.root):
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "opcode" and self.rng.random() < self.p:
            time.sleep(0)
        return self._local

    def _local_controlled(self, frame, event, arg):
        if event == "opcode":
            self.sched.yield_now()
        return self._local

    def __enter__(self):
        import grade_tamper
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        # A new thread installs the tracer as it starts; while another thread's install is in the audit
        # hook (the tripwire's, a Python function), CPython refuses it with RuntimeError and the thread
        # dies before its target runs. threading's own `sys` is given a settrace that retries.
        threading._sys = _RetryingSys()
        threading.settrace(self._global)
        sys.settrace(self._global)
        self._tripwire = grade_tamper.current()
        if self._tripwire is not None:
            self._tripwire.tracing = self._global
            sys.settrace = self._tripwire.settrace_guard(_real_settrace)
        return self

    def __exit__(self, *exc):
        tw = self._tripwire
        sys.settrace = _real_settrace
        if tw is not None:
            tw.check_tracer("the check's main thread")
            tw.tracing = None
            if threading._trace_hook != self._global:  # a bound method: equal, not the same object
                tw.findings.append({"what": "switched the grader's tracing off for new threads (threading.settrace)"})
        sys.settrace(None)
        threading.settrace(None)
        threading._sys = sys
        sys.setswitchinterval(self._interval)


def load_checks(path):
    # The harness's modules (the check library among them) and the modules beside checks.py come before the
    # student's directory: a submission's file of the same name cannot stand in for them.
    for folder in (os.path.dirname(os.path.abspath(path)), os.path.dirname(os.path.abspath(__file__))):
        while folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("lab_checks", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lab_checks"] = module
    spec.loader.exec_module(module)
    return module


def run_once(fn, ctx, root):
    """Calls the check; returns (ok, message, hint, location, exited)."""
    try:
        return _run_once(fn, ctx, root)
    finally:
        if hasattr(ctx, "cleanup"):
            ctx.cleanup()


def _run_once(fn, ctx, root):
    try:
        fn(ctx)
        return True, None, None, None, False
    except CheckFailed as exc:
        ctx.diagnosis = exc.diagnosis
        return False, exc.message, exc.hint, exc.location, False
    except StudentExit as exc:
        return False, str(exc), "a library must not call sys.exit(): raise an exception instead", None, True
    except SystemExit:
        return False, "the student's code called sys.exit()", \
            "a library must not call sys.exit(): raise an exception instead", None, True
    except BaseException as exc:  # noqa: B036 - KeyboardInterrupt, a BaseException of its own: the student's
        text, loc = describe_exception(exc, root)
        return False, text, None, loc, False


def _loc(loc):
    return None if not loc else {"file": loc[0], "line": loc[1], "function": loc[2]}


def run(job, chan, ctl):
    root = os.path.realpath(job["root"])
    chan.send("student-root", root=root + os.sep)
    sys.path.insert(0, root)
    os.chdir(root)
    stacks = open(job["stacks"], "w")
    faulthandler.register(signal.SIGUSR1, file=stacks, all_threads=True)

    def dump_names(signum, frame):
        # Sent just before SIGUSR1, so the grader can put names on faulthandler's thread ids.
        import json
        names = {"0x%016x" % t.ident: t.name for t in threading.enumerate() if t.ident}
        try:
            with open(job["stacks"] + ".names", "w") as fh:
                json.dump(names, fh)
        except (OSError, ValueError):  # no descriptor left: the stacks come without names
            pass
    signal.signal(signal.SIGUSR2, dump_names)
    instrumented = job.get("instrument", False)
    current = {"index": 0, "seed": None}

    def report(diagnosis):
        chan.send("deadlock", diagnosis=diagnosis, index=current["index"], seed=current["seed"])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    grade_ctx.set_deadlock_reporter(report)
    if instrumented:
        import grade_instrument as gi
        gi.install(root + os.sep)
        grade_deadlock.Watchdog(report).start()
    start_method = job.get("start_method")
    if start_method:
        import multiprocessing
        multiprocessing.set_start_method(start_method, force=True)
    import grade_tamper
    tripwire = grade_tamper.arm(sys.modules[__name__], chan, root + os.sep, job["checks"], instrumented)
    checks = load_checks(job["checks"])
    fn = getattr(checks, job["check"])
    if job["mode"] == "bench":
        return bench(job, chan, ctl, fn, root, tripwire)

    trace = job.get("trace")
    lock_order = instrumented and job.get("lock_order", False)
    spare = grade_resources.Spare()
    for index, seed in enumerate(job["seeds"]):
        current["index"], current["seed"] = index, seed
        ctx = Ctx(job.get("params"), seed, root, job.get("http"))
        if ctx.http is not None and index > 0:
            ctx.http.reset()  # each run reads only its own requests
        ctx.start_method = start_method
        inputs = job.get("inputs") or []
        ctx.inputs = inputs[index] if index < len(inputs) else None
        random.seed(seed)
        shm_log = grade_resources.watch_shared_memory(job["stacks"] + ".shm")
        shm_before = grade_resources.shm_names()
        spare.hold()
        if job.get("memory"):
            chan.send("baseline", bytes=grade_procs.status_kb(os.getpid(), "VmRSS") * 1024 + grade_procs.status_kb(os.getppid(), "VmRSS") * 1024)
        if instrumented:
            gi.new_run()
        if lock_order:
            gi.set_record_order(True)
        if trace and job.get("scheduler") == "controlled" and instrumented:
            import grade_sched
            sched = grade_sched.begin(seed, trace["probability"], report, gi.student_site)
            try:
                with Injector(root + os.sep, seed, trace["probability"], sched):
                    ok, message, hint, loc, exited = run_once(fn, ctx, root)
            finally:
                grade_sched.end(sched)
        elif trace:
            with Injector(root + os.sep, seed, trace["probability"]):
                ok, message, hint, loc, exited = run_once(fn, ctx, root)
        else:
            ok, message, hint, loc, exited = run_once(fn, ctx, root)
        diagnosis = ctx.diagnosis
        no_fds = spare.release()
        if ok and no_fds:
            ok, message, loc = False, no_fds, None
            hint = "close what you open (a `with` block), and keep no descriptors in module-level lists"
        # Objects the student dropped (a terminated Pool, say) release their semaphores and segments when
        # collected; the run ends with os._exit, which would otherwise skip that and look like a leak.
        gc.collect()
        # In the run's own /dev/shm (a private tmpfs) every new entry is the run's, whatever made it
        # (SharedMemory, a raw shm_open, a plain file); in the machine's shared one, only the segments
        # this run's SharedMemory objects made can be told apart from other programs'.
        now = grade_resources.shm_names()
        created = now - shm_before if job.get("private_shm") else shm_log.created()
        leaked_shm = sorted(now & created)
        if ok and leaked_shm:
            time.sleep(0.2)  # a segment being unlinked right now is not a leak
            leaked_shm = sorted(grade_resources.shm_names() & set(leaked_shm))
        if ok and leaked_shm:
            ok = False
            message = "%d shared-memory object(s) left in /dev/shm after the run: %s" % (
                len(leaked_shm), ", ".join(leaked_shm[:5]))
            hint = "close() every SharedMemory in each process and unlink() it once, in the creator; " \
                "leave nothing else in /dev/shm"
            for name in leaked_shm:
                try:
                    os.unlink(os.path.join("/dev/shm", name))
                except OSError:
                    pass
        if ok and lock_order:
            diagnosis = grade_deadlock.order_cycle()
            if diagnosis:
                ok, message = False, diagnosis["summary"]
                hint = "take locks in one global order (for example by account id), whatever the direction"
        if job.get("memory"):
            import resource
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
            chan.send("peak", bytes=grade_procs.status_kb(os.getpid(), "VmHWM") * 1024 + children
                      + grade_procs.status_kb(os.getppid(), "VmRSS") * 1024)
        touched = grade_tamper.verdict(tripwire, None if ok else message)
        if touched:
            ok = False
            message, hint, loc, touched = touched
        chan.send("run", index=index, seed=seed, ok=ok, message=message, hint=hint,
                  location=_loc(loc), diagnosis=diagnosis, tampered=touched,
                  observations=ctx.observations if ok else None)
        if exited:
            break
    leaked = _wait_children(job.get("leak_grace", 0.5))
    if leaked:
        chan.send("leaked", processes=[{"pid": p, "cmdline": c[:200]} for p, c in leaked])
        for pid, _ in leaked:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    else:
        zombies = live_children(zombies=True)
        if zombies:
            chan.send("zombies", processes=[{"pid": p, "cmdline": ""} for p, _ in zombies])
        for pid, _ in zombies:
            try:
                os.waitpid(pid, os.WNOHANG)
            except OSError:
                pass
    chan.send("done")


def _wait_children(grace):
    deadline = time.monotonic() + grace
    while True:
        left = live_children()
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


def bench(job, chan, ctl, fn, root, tripwire):
    ctx = Ctx(job.get("params"), job["seeds"][0], root, job.get("http"))
    ok, message, hint, loc, _ = run_once(lambda c: c.__setattr__("workload", fn(c)), ctx, root)
    workload = getattr(ctx, "workload", None)
    if ok and not callable(workload):
        ok, message = False, "the lab's bench check did not return a callable workload"
    if ok:
        ok, message, hint, loc, _ = run_once(lambda c: workload(), ctx, root)  # warm-up
    import grade_tamper
    touched = grade_tamper.verdict(tripwire)
    if touched or not ok:
        message, hint, loc, touched = touched or (message, hint, loc, None)
        chan.send("run", index=0, seed=ctx.seed, ok=False, message=message, hint=hint, location=_loc(loc),
                  tampered=touched)
        chan.send("done")
        return
    chan.send("ready")
    min_sample = job.get("min_sample_ms", 100) / 1000.0
    # `sample` (calibration: as many calls as fill min_sample) or `sample N` (exactly N calls, which the
    # grader times on its own clock; the times measured here are for the report only).
    for line in ctl:
        words = line.split()
        if not words or words[0] != "sample":
            break
        wanted = int(words[1]) if len(words) > 1 else None
        n, t0 = 0, time.perf_counter()
        c0 = os.times()
        while True:
            try:
                workload()
            except BaseException as exc:  # noqa: B036
                text, loc = describe_exception(exc, root)
                chan.send("run", index=0, seed=ctx.seed, ok=False, message=text, location=_loc(loc))
                chan.send("done")
                return
            n += 1
            elapsed = time.perf_counter() - t0
            if (n >= wanted) if wanted is not None else (elapsed >= min_sample):
                break
        c1 = os.times()
        cpu = (c1.user - c0.user) + (c1.system - c0.system) + \
            (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        touched = grade_tamper.verdict(tripwire)
        if touched:
            message, hint, loc, touched = touched
            chan.send("run", index=0, seed=ctx.seed, ok=False, message=message, hint=hint, location=_loc(loc),
                      tampered=touched)
            break
        chan.send("sample", seconds=elapsed / n, iterations=n, cpu_seconds=cpu / n)
    chan.send("done")
