"""The grader's Python side: runs one job and reports on a private channel.

Started by the grader as `python -S -s -B -u grade_harness.py` with two inherited pipes:
fd 3 (write) carries results, fd 4 (read) carries the job and, in bench mode, commands.
Every message is one JSON line that carries the run's nonce; stdout and stderr belong to the student.
Standard library only.
"""
import json
import os
import re
import signal
import sys
import threading
import time
import traceback

RESULT_FD = 3
CONTROL_FD = 4


_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING_CAP = 64 * 1024


def _clean(value):
    """A value as the grader can read it: each string without lone surrogates (U+FFFD instead: JSON
    cannot carry them) and cut at _STRING_CAP characters, with the cut said as the grader says it."""
    if isinstance(value, str):
        if len(value) > _STRING_CAP:
            cut = len(value[_STRING_CAP:].encode("utf-8", "surrogatepass"))
            value = value[:_STRING_CAP] + "\u2026 [cut {:,} bytes]".format(cut)
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return repr(value)  # JSON has no NaN or infinity: the grader could not read the line
    if isinstance(value, dict):
        return {(_clean(k) if isinstance(k, str) else k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _repr(value):
    try:
        return _clean(repr(value))
    except BaseException:  # noqa: B036 - a student's __repr__ failed
        return "<%s>" % type(value).__name__


class Channel:
    """Writes nonce-stamped JSON lines on a descriptor the student's code does not know about. Needs no new
    descriptor, so it still reports after the student's code used them all up.

    The descriptor and the nonce live in a closure, not in attributes, and `send` works only when called
    from the harness's own files: the student's code that finds the channel (walking frames up from its
    import, say) and calls it gets its call refused and reported as tampering, with its file and line."""

    def __init__(self, fd, nonce):
        self._fd = fd  # the descriptor number only: the tripwire watches opens of it
        self.send = _sender(fd, nonce)


def _sender(fd, nonce):
    lock = threading._allocate_lock()  # raw lock: never instrumented
    harness = os.path.dirname(os.path.abspath(__file__)) + os.sep
    student = []

    def write(fields):
        try:
            text = json.dumps(_clean(fields), default=_repr)
        except (TypeError, ValueError, RecursionError):  # a field that cannot be encoded: named, not lost
            text = json.dumps({k: _clean(v) if isinstance(v, (str, int, float, bool, type(None)))
                               else "<%s: not encodable>" % type(v).__name__ for k, v in fields.items()})
        data = (text + "\n").encode()
        with lock:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(fd, view)
                except InterruptedError:
                    continue
                view = view[n:]

    def send(kind, **fields):
        caller = sys._getframe(1)
        if not caller.f_code.co_filename.startswith(harness):
            where = None
            frame = caller
            while frame is not None and where is None:
                if student and frame.f_code.co_filename.startswith(student[0]):
                    where = {"file": os.path.relpath(frame.f_code.co_filename, student[0]),
                             "line": frame.f_lineno, "function": frame.f_code.co_name}
                frame = frame.f_back
            what = "called the grader's result channel (a forged %r message)" % (kind,)
            write({"type": "run", "nonce": nonce, "index": -1, "ok": False, "seed": None,
                   "message": "tampered: the submission " + what, "location": where,
                   "tampered": [dict(where or {}, what=what)]})
            return
        if kind == "student-root":
            student[:] = [fields["root"]]
            return
        fields["type"] = kind
        fields["nonce"] = nonce
        write(fields)
    return send


def _hide_fd(fd):
    """Moves an inherited descriptor to a random high number, non-inheritable."""
    import random
    target = random.SystemRandom().randrange(300, 900)
    try:
        new = os.dup2(fd, target, inheritable=False)
    except OSError:
        new = os.dup(fd)
    os.close(fd)
    return new


def main():
    ctl = os.fdopen(CONTROL_FD, "r", encoding="utf-8", closefd=True)
    job = json.loads(ctl.readline())
    nonce = job.pop("nonce")
    if job["mode"] != "bench":
        ctl.close()
        ctl = None
    # A supervisor stays between the grader and the student's code, so that the code cannot reach the
    # grader with os.getppid(). It is also the child subreaper of everything below it: a process that
    # escapes with setsid() and loses its parent comes back to it, is reported and killed.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    _become_subreaper()
    supervisor = os.getpid()
    pid = os.fork()
    if pid:
        if ctl is not None:
            ctl.close()
        supervise(pid, Channel(_hide_fd(RESULT_FD), nonce))
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    _die_with_parent(supervisor)
    chan = Channel(_hide_fd(RESULT_FD), nonce)
    del nonce
    chan.send("hello", pid=os.getpid(), python=sys.version.split()[0])
    try:
        run_job(job, chan, ctl)
    except BaseException as exc:  # the harness's own fault: say so, never hang
        chan.send("error", message="harness error: %s: %s" % (type(exc).__name__, exc),
                  trace=traceback.format_exc())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _become_subreaper():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:  # not Linux, or no libc: the grader's own subreaper still catches them
        pass


def _die_with_parent(supervisor):
    """If the supervisor is killed (say, by the student's os.kill(os.getppid(), ...) where the run has no
    PID namespace of its own), this process dies at once: otherwise it would be adopted by the grader and
    its next getppid() would be the grader. (In the run's namespace the supervisor is process 1, which
    the namespace's own processes cannot kill.)"""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() != supervisor:  # the supervisor was already gone
        os._exit(1)


def _my_children():
    """Live children; zombies among them (adopted orphans that exited) are reaped on the way."""
    import grade_procs
    for pid, _ in grade_procs.children(zombies=True):
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass
    return grade_procs.children()


def supervise(pid, chan):
    """Waits for the check process, then reports and kills whatever it left behind; relays its status.
    Orphans come to the supervisor (the namespace's process 1, or the subreaper): each is reaped as it
    exits, so pid hopping leaves no zombie behind."""
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:  # cannot happen while the check process lives
            status = 0
            break
        if done == pid:
            break
    # multiprocessing's helpers (resource tracker, forkserver) outlive the check process by design and
    # exit on their own once they see it gone (the tracker reports leaks then): they get a longer grace
    # and are never counted as strays.
    start = time.monotonic()
    strays, reported = {}, False
    while True:
        kids = _my_children()
        helpers = [(p, c) for p, c in kids if "resource_tracker" in c or "forkserver" in c]
        others = [(p, c) for p, c in kids if (p, c) not in helpers]
        if not kids:
            break
        waited = time.monotonic() - start
        for p, cmd in others:
            strays.setdefault(p, cmd)
        if others and waited >= 0.2 and not reported:
            reported = True
            chan.send("strays", processes=[{"pid": p, "cmdline": c[:200]} for p, c in strays.items()])
        doomed = (others if waited >= 0.2 else []) + (helpers if waited >= 2.0 else [])
        own_group = os.getpgid(0)
        for p, _ in doomed:
            try:
                # Its whole process group at once: a daemon that hops from pid to pid (fork, parent exits)
                # stays in the group it made with setsid(), and a fork racing a group kill is aborted.
                # (In the run's own PID namespace or cgroup the grader ends it all anyway.)
                group = os.getpgid(p)
                if group != own_group:
                    os.killpg(group, signal.SIGKILL)
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
    if os.WIFSIGNALED(status):
        if os.getpid() == 1:
            # The run's process 1 cannot die of a signal it sends itself: say which one, then exit 1.
            chan.send("killed", signal=os.WTERMSIG(status))
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def run_job(job, chan, ctl):
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(1, here)
    mode = job["mode"]
    if mode == "compile":
        import grade_compile
        chan.send("compiled", errors=grade_compile.compile_all(job["root"], job["files"]))
        chan.send("done")
    elif mode == "lint":
        import grade_lint
        findings = grade_lint.lint(job["root"], job["files"], job.get("rules"))
        chan.send("lint", findings=findings)
        chan.send("done")
    elif mode in ("check", "bench"):
        import grade_check
        grade_check.run(job, chan, ctl)
    else:
        chan.send("error", message="unknown mode %r" % mode)


if __name__ == "__main__":
    main()
