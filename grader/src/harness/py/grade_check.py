"""Runs a lab's check function: once, N times under yield injection, or as a timed workload (bench)."""
import faulthandler
import gc
import importlib
import importlib.util
import os
import random
import re
import signal
import sys
import threading
import time
import traceback

import grade_procs
import grade_resources


class CheckFailed(Exception):
    def __init__(self, message, hint=None, location=None, diagnosis=None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        self.diagnosis = diagnosis


# Set by run(): ends the run at once with a deadlock verdict (a certain hang needs no timeout).
_report_deadlock = None


class StudentExit(Exception):
    pass


def _student_location(tb, root):
    """The innermost frame of a traceback that is in the student's files, as 'file:line in fn'."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        fn = frame.f_code.co_filename
        if fn.startswith(root):
            found = (os.path.relpath(fn, root), lineno, frame.f_code.co_name)
    return found


_REMOTE_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def _remote_location(exc, root):
    """Where an exception raised in a worker process happened: multiprocessing and
    concurrent.futures attach the worker's traceback as text in __cause__."""
    cause = exc.__cause__
    if cause is None or "Traceback" not in _str(cause):
        return None
    found = None
    for path, line, fn in _REMOTE_FRAME.findall(_str(cause)):
        if path.startswith(root):
            found = (os.path.relpath(path, root), int(line), fn)
    return found


def _str(exc):
    try:
        return str(exc)
    except BaseException:  # noqa: B036 - the student's __str__ failed too
        return "<str() of the exception failed>"


def describe_exception(exc, root):
    loc = _remote_location(exc, root) or _student_location(exc.__traceback__, root)
    text = "%s: %s" % (type(exc).__name__, _str(exc)) if _str(exc) else type(exc).__name__
    if loc:
        text += " (at %s:%d in %s)" % loc
    return text, loc


class Ctx:
    """What a check sees: parameters, a seeded RNG and helpers that fail with clear messages."""

    CheckFailed = CheckFailed

    def __init__(self, params, seed, root, http=None):
        self.params = params or {}
        self.http = None
        if http:
            import grade_http
            self.http = grade_http.HttpFixture(http["base"], http["control"])
        self.seed = seed
        self.rng = random.Random(seed)
        self.root = root
        self.start_method = None
        self._cleanups = []
        self.diagnosis = None
        self.last_async = None
        # A split check (see grade_protocol.py): the inputs its judge planned for this run, and what the
        # workload records for the judge.
        self.inputs = None
        self.observations = {}

    def observe(self, name, value):
        """Records what the student's code did, for the judge. Taken as it is now (as JSON sees it): a
        value the student's code changes later, or an object with a clever __eq__, changes nothing."""
        import grade_protocol
        self.observations[name] = grade_protocol.as_json(value)

    def student(self, name):
        try:
            return importlib.import_module(name)
        except SyntaxError as exc:
            raise CheckFailed("%s.py has a syntax error at line %s: %s" % (name, exc.lineno, exc.msg))
        except ModuleNotFoundError as exc:
            if exc.name == name:
                raise CheckFailed("module %r not found: the submission has no %s.py" % (name, name),
                                  hint="keep the file names of the starter")
            raise CheckFailed("importing %s failed: %s" % (name, exc))
        except SystemExit:
            raise StudentExit("%s.py called sys.exit() on import" % name)
        except CheckFailed:
            raise
        except BaseException as exc:  # noqa: B036 - KeyboardInterrupt or a class of its own: the student's
            text, loc = describe_exception(exc, self.root)
            raise CheckFailed("importing %s raised %s" % (name, text), location=loc)

    def fail(self, message, hint=None):
        raise CheckFailed(message, hint)

    def expect(self, cond, message, hint=None):
        if not cond:
            raise CheckFailed(message, hint)

    def expect_eq(self, actual, expected, what, hint=None):
        if actual != expected:
            raise CheckFailed("%s: expected %r, got %r" % (what, expected, actual), hint)

    def run_threads(self, targets, timeout=None, names=None):
        errors = []
        threads = []
        for i, fn in enumerate(targets):
            name = names[i] if names else "worker-%d" % i

            def body(fn=fn, name=name):
                try:
                    fn()
                except BaseException as exc:  # noqa: B036 - reported to the check
                    errors.append((name, exc))
                tripwire = sys.modules.get("grade_tamper") and sys.modules["grade_tamper"].current()
                if tripwire is not None:
                    tripwire.check_tracer("thread %s" % name)
            threads.append(threading.Thread(target=body, name=name, daemon=True))
        for t in threads:
            t.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in threads if t.is_alive()]
        if alive:
            raise CheckFailed("%d thread(s) still running after %.1f s: %s" % (
                len(alive), timeout, ", ".join(alive[:8])),
                hint="a thread that never finishes usually waits for a lock or condition nobody releases")
        if errors:
            name, exc = errors[0]
            if isinstance(exc, CheckFailed):
                raise exc
            if isinstance(exc, SystemExit):
                raise StudentExit("thread %s called sys.exit()" % name)
            text, loc = describe_exception(exc, self.root)
            raise CheckFailed("thread %s raised %s" % (name, text), location=loc)

    def call_with_timeout(self, fn, timeout, what=None):
        box = {}

        def body():
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: B036
                box["error"] = exc
        t = threading.Thread(target=body, name="call", daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise CheckFailed("%s did not return within %.1f s" % (what or getattr(fn, "__name__", "the call"), timeout))
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def children(self):
        return [pid for pid, _ in live_children()]

    # Oracles and measurements (see grade_oracles.py).
    def history(self):
        import grade_oracles
        return grade_oracles.History()

    def progress(self):
        import grade_oracles
        return grade_oracles.Progress()

    def meter(self, bound=None):
        import grade_oracles
        return grade_oracles.ConcurrencyMeter(bound)

    def thread_cpu(self, thread):
        import grade_oracles
        return grade_oracles.thread_cpu_seconds(thread)

    def virtual_clock(self, *modules):
        """A clock under the check's control, patched into the given student modules for this run."""
        import grade_oracles
        clock = grade_oracles.VirtualClock()
        for m in modules:
            clock.patch(m)
        self._cleanups.append(clock.restore)
        return clock

    def oracle(self, message, hint=None):
        """Fails with an oracle's message when it found a violation (oracles return None when right)."""
        if message:
            raise CheckFailed(message, hint)

    def run_async(self, main, *args, timeout=None, slow_ms=100, allow=(), debug=True):
        """Runs the coroutine function main(*args) on a fresh, watched event loop and returns its value.
        A loop that can never wake ends the run as a deadlock (kind async_hang) at once; one still
        running at `timeout` fails with every task's line. Never-awaited coroutines, unretrieved task
        exceptions, a step that blocked the loop over `slow_ms` and tasks left pending fail the check
        unless their kind is in `allow`; ctx.last_async holds all findings either way."""
        import grade_async
        unknown = set(allow) - set(grade_async.KINDS)
        if unknown:
            raise ValueError("run_async(allow=...) knows %s, not %s" % (grade_async.KINDS, sorted(unknown)))
        try:
            value, findings = grade_async.run(main, args, self.root + os.sep, timeout=timeout,
                                              slow_ms=slow_ms, debug=debug)
        except grade_async.Hang as exc:
            if _report_deadlock is not None:
                _report_deadlock(exc.diagnosis)
            raise CheckFailed(exc.diagnosis["summary"], exc.diagnosis["hint"], diagnosis=exc.diagnosis)
        except grade_async.Timeout as exc:
            where = [(t["file"], t["line"], t["function"]) for t in exc.diagnosis["threads"] if t["line"]]
            raise CheckFailed(str(exc), exc.diagnosis["hint"], where[0] if where else None, exc.diagnosis)
        self.last_async = findings
        failure = findings.first_failure(set(allow))
        if failure:
            raise CheckFailed(failure[0], failure[1], failure[2])
        return value

    def cleanup(self):
        while self._cleanups:
            try:
                self._cleanups.pop()()
            except Exception:
                pass


def live_children(zombies=False):
    """This process's live descendants (or its zombie children), less multiprocessing's own helpers
    (whose children, the forkserver's workers, do count)."""
    found = grade_procs.children(zombies=True) if zombies else grade_procs.descendants()
    return [(p, c) for p, c in found if "resource_tracker" not in c and "forkserver" not in c]


_real_sleep = time.sleep  # before grade_sched replaces it


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
        return self

    def __exit__(self, *exc):
        tw = self._tripwire
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
    global _report_deadlock
    _report_deadlock = report
    if instrumented:
        import grade_instrument as gi
        gi.install(root + os.sep)
        gi.Watchdog(report).start()
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
            diagnosis = gi.order_cycle()
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
