"""The check author's API: `Ctx` (parameters, a seeded RNG, the student's modules, threads run and
joined with clear failures, oracles, run_async, observations for the judge) and `CheckFailed`."""
import importlib
import os
import random
import sys
import threading
import time

import grade_procs
from grade_locate import describe_exception


class CheckFailed(Exception):
    def __init__(self, message, hint=None, location=None, diagnosis=None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        self.diagnosis = diagnosis


# Set by grade_check.run (set_deadlock_reporter): ends the run at once with a deadlock verdict (a
# certain hang needs no timeout).
_report_deadlock = None


def set_deadlock_reporter(report):
    global _report_deadlock
    _report_deadlock = report


class StudentExit(Exception):
    pass


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
