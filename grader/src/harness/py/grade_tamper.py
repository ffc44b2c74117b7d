"""Tamper detection: what the student's code touched of the grader, found by what was touched.

Installed in the check process before the student's import. A permanent audit hook (sys.addaudithook
cannot be undone from Python) sees, from the student's own frames:
- a harness frame taken with sys._getframe;
- gc.get_referrers / gc.get_referents asked about the grader's objects;
- an attribute of the grader's classes or functions set (object.__setattr__);
- a signal to the supervisor, to process group 0 or to every process (os.kill, os.killpg);
- the result channel or the grader's files opened for writing.
After each run, `integrity()` checks that what the harness installed is still in place: the instrumented
threading primitives and the check author's API (Ctx, CheckFailed, run_once). Tracing switched off is
found where it shows (the tracer missing from a thread the check ran, or from new threads): the hook
must not watch sys.settrace itself, since a Python hook that runs while a new thread installs its tracer
lets another thread's install fail, and that thread's work silently vanish.
Legitimate idioms (ctypes, gc.get_objects, /proc, sys._current_frames) are never a finding by their
presence: only the grader's own objects, hooks and descriptors count. Standard library only.
"""
import os
import sys
import threading

_FRAME_HOPS = 12
# The events the hook looks at; it returns at once for every other (sys.settrace above all, see above).
_WATCHED = frozenset(["sys._getframe", "gc.get_referrers", "gc.get_referents", "object.__setattr__",
                      "os.kill", "os.killpg", "open"])


class Tripwire:
    def __init__(self, student_root, harness_dir, checks, channel_fd, supervisor):
        self.student_root = student_root
        self.harness_dir = harness_dir
        self.harness_files = (harness_dir, checks)
        self.channel_fd = channel_fd
        self.supervisor = supervisor
        self.tracing = None  # the harness's tracer while it traces
        self.findings = []
        self._protected = {}
        self._snapshot = {}
        self._busy = threading.local()

    # -- what the harness declares -----------------------------------------------------------
    def protect(self, *objects):
        """Objects of the grader whose referrers and attributes the student must not touch."""
        for obj in objects:
            self._protected[id(obj)] = obj

    def remember(self, owner, name):
        """`owner.name` must still be the same object (and code) after each run."""
        value = getattr(owner, name)
        self._snapshot[(id(owner), name)] = (owner, name, value, getattr(value, "__code__", None))
        self.protect(value)

    # -- the audit hook ----------------------------------------------------------------------
    def hook(self, event, args):
        if event not in _WATCHED or getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            what = self._judge(event, args)
            where = what and self._student_frame()
            if where:
                self._found(what, where)
        except Exception:  # noqa: BLE001 - the hook must never break the student's call
            pass
        finally:
            self._busy.on = False

    def _judge(self, event, args):
        if event == "sys._getframe":
            frame = args[0] if args else None
            if frame is not None and frame.f_code.co_filename.startswith(self.harness_dir):
                return "took the grader's own frame with sys._getframe"
        elif event in ("gc.get_referrers", "gc.get_referents"):
            objs = args[0] if args and isinstance(args[0], tuple) else args
            if any(id(o) in self._protected for o in objs):
                return "inspected the grader's objects with %s" % event
        elif event == "object.__setattr__":
            obj = args[0] if args else None
            if obj is not None and (id(obj) in self._protected or self._is_grader_code(obj)):
                return "patched the grader's %s.%s" % (getattr(obj, "__qualname__", type(obj).__name__), args[1])
        elif event in ("os.kill", "os.killpg"):
            pid = args[0] if args else None
            if pid in (self.supervisor, -1) or (event == "os.kill" and pid == 0):
                return "sent a signal to the grader's supervisor (%s(%r, %r))" % (event, pid, args[1])
        elif event == "open":
            return self._judge_open(args)
        return None

    def _judge_open(self, args):
        path, mode = args[0], (args[1] if len(args) > 1 else "r")
        flags = args[2] if len(args) > 2 else 0
        if isinstance(path, int):
            return "opened the grader's result channel" if path == self.channel_fd else None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return None
        if path in ("/proc/self/fd/%d" % self.channel_fd, "/dev/fd/%d" % self.channel_fd):
            return "opened the grader's result channel"
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            bool(isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR))
        if writing and self._is_harness(os.path.realpath(path)):
            return "opened the grader's file %s for writing" % os.path.basename(path)
        return None

    def _is_harness(self, filename):
        return filename.startswith(self.harness_files)

    def _is_grader_code(self, obj):
        code = getattr(obj, "__code__", None)
        if code is not None:
            return self._is_harness(code.co_filename)
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        return isinstance(obj, type) and module is not None and \
            self._is_harness(getattr(module, "__file__", None) or "")

    def _found(self, what, where):
        finding = {"what": what, "file": where[0], "line": where[1], "function": where[2]}
        if finding not in self.findings:
            self.findings.append(finding)

    def _student_frame(self):
        """The student's frame behind the event: the first of the student's or the grader's frames out from
        the event (library frames in between are skipped); None when it is the grader's own doing."""
        frame = sys._getframe(2)
        for _ in range(_FRAME_HOPS):
            if frame is None:
                return None
            name = frame.f_code.co_filename
            if name.startswith(self.student_root):
                return (os.path.relpath(name, self.student_root), frame.f_lineno, frame.f_code.co_name)
            if self._is_harness(name):
                return None
            frame = frame.f_back
        return None

    # -- after each run ----------------------------------------------------------------------
    def integrity(self):
        """Findings about what was replaced: every remembered attribute."""
        found = []
        for owner, name, value, code in self._snapshot.values():
            now = getattr(owner, name, None)
            if now is not value or getattr(now, "__code__", None) is not code:
                found.append("replaced the grader's %s.%s" % (getattr(owner, "__name__", "?"), name))
        return found

    def settrace_guard(self, real):
        """`sys.settrace` while the harness traces: the grader's own calls (its thread start-up among them)
        go through; a call from the student's code is the student switching the grader's tracing off or
        replacing it, found at its line and refused. Refused, not passed on: on CPython 3.12.1,
        sys.settrace(None) from a frame traced opcode by opcode crashes the interpreter (SIGSEGV), which
        would hide the tampering behind a crash."""
        def settrace(fn):
            where = self._student_frame()  # settrace's caller, as the hook's event's
            if where is None:
                return real(fn)
            self._found("switched the grader's tracing off (sys.settrace)", where)
            return None
        return settrace

    def check_tracer(self, where):
        """Called by the harness in a thread the check ran: is the tracer still the harness's?"""
        if self.tracing is not None and sys.gettrace() != self.tracing:
            finding = {"what": "switched the grader's tracing off (sys.settrace) in %s" % where}
            if finding not in self.findings:
                self.findings.append(finding)

    def take(self):
        """The findings so far (each one once), cleared for the next run."""
        out, self.findings = self.findings, []
        return out


_installed = None


def install(student_root, harness_dir, checks, channel_fd, supervisor):
    """The process's tripwire (one per process: audit hooks stay for its whole life). `harness_dir` ends
    with a separator; `checks` is the lab's check file."""
    global _installed
    if _installed is None:
        _installed = Tripwire(student_root, harness_dir, checks, channel_fd, supervisor)
        sys.addaudithook(_installed.hook)
    return _installed


def current():
    return _installed


def arm(check_module, chan, root, checks, instrumented):
    """Installs the tripwire for a check process and names what it guards: the check author's API, the
    result channel and, when instrumented, the threading primitives the harness put in place."""
    harness_dir = os.path.dirname(os.path.abspath(check_module.__file__)) + os.sep
    tw = install(root, harness_dir, os.path.realpath(checks), chan._fd, os.getppid())
    ctx = check_module.Ctx
    for name, value in list(vars(ctx).items()):
        if callable(value) and not name.startswith("__"):
            tw.remember(ctx, name)
    for name in ("CheckFailed", "run_once", "_run_once", "describe_exception", "Ctx", "Injector"):
        tw.remember(check_module, name)
    # Where the API lives: the same objects, bound in their own modules too.
    homes = (("grade_ctx", ("CheckFailed", "Ctx", "StudentExit", "describe_exception", "live_children")),
             ("grade_locate", ("describe_exception", "student_location")))
    for module_name, names in homes:
        module = sys.modules.get(module_name)
        if module is not None:
            for name in names:
                tw.remember(module, name)
            tw.protect(module)
    tw.remember(chan, "send")
    tw.protect(chan, check_module)
    if instrumented:
        for name in ("Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier"):
            tw.remember(threading, name)
    return tw


_TRACING_OFF = "switched the grader's tracing off"


def verdict(tw, failure=None):
    """(message, hint, location, findings) for a run whose student touched the grader, else None.

    `failure` is the run's own failure message, if it failed. Tracing found off in a run that failed with
    RecursionError is that error's doing, not the student's hand: CPython drops a tracer that raises, and
    at the recursion limit the tracer's own call raises. The run's failure stands (and is no pass)."""
    found = tw.take() + [{"what": w} for w in tw.integrity()]
    if failure and "RecursionError" in failure and all(f["what"].startswith(_TRACING_OFF) for f in found):
        found = []
    if not found:
        return None
    first = found[0]
    loc = (first["file"], first["line"], first["function"]) if first.get("file") else None
    message = "tampered: the submission %s" % first["what"]
    if len(found) > 1:
        message += " (and %d more)" % (len(found) - 1)
    hint = "the grader's tracing, instrumentation, API and channel are off limits: it earns nothing"
    return message, hint, loc, found[:20]
