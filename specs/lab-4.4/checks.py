"""Workloads for lab-4.4, IPC patterns: pipes, queues and managers (`ipc.py`). Each records what the
student's code returned (ctx.observe); judge.py, which the submission never sees, gives the verdicts.

Standard library only, plus the grader's `grade_oracles`. Every student call runs in a
thread with a time limit: a call that hangs (a producer joined before its queue was
drained, a pipe whose write end is still open in the reader) is reported with the line
of ipc.py where the calling thread is blocked and the state of every child process,
not just as a timeout.

The harness fails a run by itself when child processes are still running after it, or
finished but were never joined (zombies). The `clean-exit` item records the same right
after each call, naming the processes (`producer-0`, `SyncManager-1`, ...).
"""

import multiprocessing
import os
import time

from grade_lib_procs import check_start_method, my_children, reap, start_method_note
from grade_lib_student import blocked_at, start_call, student_functions, student_line, worker_line
from grade_oracles import exactly_once, fifo_per_key
from lab44_cases import fingerprint as _fingerprint, left_hints as _left_hints, stream_case as _stream_case

MODULE = "ipc"


# --------------------------------------------------------------------------
# processes

def _names():
    """{pid: name} of the multiprocessing Process objects this process started (not reaped)."""
    names = {}
    for proc in list(getattr(multiprocessing.process, "_children", ())):
        try:
            if proc.pid is not None:
                names[proc.pid] = proc.name
        except Exception:  # a half-started Process: no name to give
            continue
    return names


def _describe(pid, state, names, waiting=False):
    name = names.get(pid)
    label = f"pid {pid}" + (f" `{name}`" if name else "")
    if state in ("Z", "X"):
        return label + (" (has exited, not joined)" if waiting else
                        " (finished, never joined: a zombie)")
    return label + " (still running)"


def _children_text(children, names=None, waiting=False):
    names = _names() if names is None else names
    return ", ".join(_describe(pid, st, names, waiting) for pid, (st, _) in sorted(children.items()))


# --------------------------------------------------------------------------
# calling the student's code

def _stat(path):
    """(state, utime + stime in ticks) from a /proc .../stat file, or None."""
    try:
        with open(path, "rb") as fh:
            stat = fh.read().decode(errors="replace")
        rest = stat[stat.rindex(")") + 2:].split()
        return rest[0], int(rest[11]) + int(rest[12])
    except (OSError, ValueError, IndexError):
        return None


def _activity(thread):
    """(signature, busy): the states and CPU ticks of the calling thread and of every child.

    busy when one of them is running or runnable (R) or in uninterruptible I/O (D). Two
    equal signatures a while apart, never busy in between, mean that nothing ran at all.
    """
    sig = [("call", _stat(f"/proc/self/task/{thread.native_id}/stat"))]
    for pid in sorted(my_children()):
        sig.append((pid, _stat(f"/proc/{pid}/stat")))
    busy = any(st is not None and st[0] in ("R", "D") for _, st in sig)
    return sig, busy


def _call(ctx, what, fn, timeout, hang_hint):
    """Runs fn() in a thread with a time limit; returns its result.

    A hang fails the check naming where the call is blocked and which children are
    alive. It is declared as soon as nothing has run for `stall_s` (params; the calling
    thread and every child blocked, and no CPU tick spent by any of them), or at the
    latest after `timeout`. A pickling error gets its own hint (spawn); any other
    exception is re-raised for the harness, which names its type, message and the
    student's file:line.
    """
    t, box = start_call(fn)
    stall_s = ctx.params.get("stall_s")
    start = time.monotonic()
    last, still_since = None, start
    while t.is_alive() and time.monotonic() - start < timeout:
        t.join(0.1)
        if not stall_s or not t.is_alive():
            continue
        sig, busy = _activity(t)
        now = time.monotonic()
        if busy or sig != last:
            last, still_since = sig, now
        elif now - still_since >= stall_s:
            break
    if t.is_alive():
        where = blocked_at(ctx, t, files_only=True)
        kids = my_children()
        alive = (f"; child processes: {_children_text(kids, waiting=True)}" if kids
                 else "; no child process is left")
        waited = time.monotonic() - start
        if waited < timeout:
            head = (f"{what} is stuck: after {waited:.1f} s, nothing had run for {stall_s} s "
                    "(the calling thread and every child process blocked)")
        else:
            head = f"{what} did not return within {timeout} s"
        ctx.fail(f"{head}{where}{alive}", hint=hang_hint)
    if "error" in box:
        exc = box["error"]
        text = f"{type(exc).__name__}: {exc}"
        if "pickl" in text.lower() or "Can't get attribute" in text:
            ctx.fail(f"{what} raised {text}{student_line(exc, MODULE)} under the "
                     f"`{multiprocessing.get_start_method()}` start method",
                     hint="under spawn the target of a Process and its arguments are pickled: a "
                          "function is pickled by its importable name, so give each Process a "
                          "function defined at the top level of ipc.py (no lambda, no nested def)")
        remote = worker_line(exc, MODULE, who="a child process")
        if remote:
            ctx.fail(f"{what} raised {text}{remote}")
        raise exc
    return box.get("value")


def _module(ctx, *names):
    return student_functions(ctx, MODULE, names, hint="define it at module level, with the signature in the starter")


# --------------------------------------------------------------------------
# the patterns, one workload each (shared by the fork and the spawn items). Each returns the record
# of its call for the judge: what the student's function returned, in a form JSON keeps.

PINGPONG_HANG = ("each ping waits for its reply: the child must recv() a number and send back "
                 "(i * i, os.getpid()), and stop on the parent's None (or on EOFError)")


def _pingpong(ctx, ipc, n, timeout):
    what = f"pipe_pingpong({n}){start_method_note(ctx)}"
    got = _call(ctx, what, lambda: ipc.pipe_pingpong(n), timeout, PINGPONG_HANG)
    return {"n": n, "type": type(got).__name__, "replies": got if isinstance(got, list) else None}


STREAM_HANG = ("recv() raises EOFError only when every copy of the write end is closed, in "
               "every process: close the parent's write end right after start(); and read "
               "everything before join() (a child blocked in send() on a full pipe never exits)")


def _stream(ctx, ipc, items, timeout, label):
    what = f"pipe_stream({label}){start_method_note(ctx)}"
    got = _call(ctx, what, lambda: ipc.pipe_stream(list(items)), timeout, STREAM_HANG)
    return {"label": label, "type": type(got).__name__,
            "items": [_fingerprint(x) for x in got] if isinstance(got, list) else None}


FAN_IN_HANG = ("a producer cannot exit until its queue's feeder thread has written every item "
               "into the pipe, and the pipe only holds about 64 KiB: get() all "
               "producers * items_each items first, join the producers after")


def _fan_in(ctx, ipc, producers, items_each, timeout):
    what = f"queue_fan_in({producers}, {items_each}){start_method_note(ctx)}"
    got = _call(ctx, what, lambda: ipc.queue_fan_in(producers, items_each), timeout, FAN_IN_HANG)
    rec = {"producers": producers, "items_each": items_each, "type": type(got).__name__, "items": None}
    if isinstance(got, list):
        try:
            rec["items"] = [list(tuple(x)) for x in got]
        except TypeError:
            rec["first"] = repr(got[:3])
    return rec


MANAGER_HANG = ("workers block on a manager call when the manager's server is gone or a manager "
                "Lock is never released: `with lock:` around each read-modify-write, and keep the "
                "`with Manager()` block open until every worker is joined")


def _manager(ctx, ipc, workers, keys, timeout):
    what = f"manager_shared_dict({workers}, {keys}){start_method_note(ctx)}"
    got = _call(ctx, what, lambda: ipc.manager_shared_dict(workers, keys), timeout, MANAGER_HANG)
    rec = {"workers": workers, "keys": keys, "type": type(got).__name__, "entries": None}
    if type(got) is dict:
        # [key, type of its value, the value when it is a plain list]
        rec["entries"] = [[k, type(v).__name__, v if type(v) is list else None] for k, v in got.items()]
    return rec


# --------------------------------------------------------------------------
# completion_quality (default start method) and problem_solving (spawn)

def _observe_context(ctx):
    ctx.observe("start_method", ctx.start_method)
    ctx.observe("pid", os.getpid())


def pingpong(ctx):
    check_start_method(ctx)
    ipc = _module(ctx, "pipe_pingpong")
    _observe_context(ctx)
    ctx.observe("calls", [_pingpong(ctx, ipc, n, ctx.params["call_timeout"]) for n in ctx.params["cases"]])


def stream(ctx):
    check_start_method(ctx)
    ipc = _module(ctx, "pipe_stream")
    _observe_context(ctx)
    calls = []
    for case in ctx.params["cases"]:
        items, label = _stream_case(case)
        calls.append(_stream(ctx, ipc, items, ctx.params["call_timeout"], label))
    ctx.observe("calls", calls)


def fan_in(ctx):
    check_start_method(ctx)
    ipc = _module(ctx, "queue_fan_in")
    _observe_context(ctx)
    ctx.observe("calls", [_fan_in(ctx, ipc, producers, items_each, ctx.params["call_timeout"])
                          for producers, items_each in ctx.params["cases"]])


def manager_dict(ctx):
    check_start_method(ctx)
    ipc = _module(ctx, "manager_shared_dict")
    _observe_context(ctx)
    ctx.observe("calls", [_manager(ctx, ipc, workers, keys, ctx.params["call_timeout"])
                          for workers, keys in ctx.params["cases"]])


def spawn_all(ctx):
    """The four patterns under the item's start method (spawn), each run on its own: a pattern that
    fails, hangs or leaves a process behind does not stop the others. Records, per pattern, its
    call's record and the processes it left behind; the judge reports every failure together. A
    call that hung, could not be pickled or raised fails the run here, once every pattern ran (with
    the processes the others left behind): the calls that returned are then not judged."""
    check_start_method(ctx)
    ipc = _module(ctx, "pipe_pingpong", "pipe_stream", "queue_fan_in", "manager_shared_dict")
    _observe_context(ctx)
    p, timeout = ctx.params, ctx.params["call_timeout"]
    items, label = _stream_case(p["stream"])
    runs = [
        ("pipe_pingpong", f"pipe_pingpong({p['pingpong']})",
         lambda: _pingpong(ctx, ipc, p["pingpong"], timeout)),
        ("pipe_stream", f"pipe_stream({label})", lambda: _stream(ctx, ipc, items, timeout, label)),
        ("queue_fan_in", "queue_fan_in({}, {})".format(*p["fan_in"]),
         lambda: _fan_in(ctx, ipc, *p["fan_in"], timeout)),
        ("manager_shared_dict", "manager_shared_dict({}, {})".format(*p["manager"]),
         lambda: _manager(ctx, ipc, *p["manager"], timeout)),
    ]
    records, crashed, failures, hints, failed = [], False, [], [], []
    for name, what, run in runs:
        rec = {"pattern": name, "call": None, "left": None}
        seen = set(my_children())
        try:
            rec["call"] = run()
            rec["left"] = _left_behind(ctx, what, seen)
            if rec["left"]:
                failures.append(f"child processes left behind {rec['left']['text']}")
                hints.extend(_left_hints(rec["left"]))
        except Exception as exc:  # the call hung or could not pickle (a failed expectation), or raised
            crashed = True
            if type(exc).__name__ == "CheckFailed":
                failures.append(exc.message)
                if exc.hint:
                    hints.append(exc.hint)
            else:
                failures.append(f"{what} raised {type(exc).__name__}: {exc}")
        if len(failures) > len(failed):
            failed.append(name)
        records.append(rec)
    if crashed:
        ok = [name for name, _, _ in runs if name not in failed]
        ctx.fail(f"{len(failures)} of {len(runs)} patterns failed under spawn: "
                 + " | ".join(failures) + (f" (returned, results not judged in this run: {', '.join(ok)})"
                                           if ok else ""),
                 hint=" ".join(dict.fromkeys(hints)))
    ctx.observe("patterns", records)


def clean_exit(ctx):
    """Right after each call: the child processes it left (none may be running, none unjoined)."""
    ipc = _module(ctx, "pipe_pingpong", "pipe_stream", "queue_fan_in", "manager_shared_dict")
    timeout = ctx.params["call_timeout"]
    before = my_children()
    ctx.observe("before", _children_text(before) if before else None)
    p = ctx.params
    calls = [
        (f"pipe_pingpong({p['pingpong']})", lambda: ipc.pipe_pingpong(p["pingpong"]), PINGPONG_HANG),
        (f"pipe_stream([{p['stream']} items])", lambda: ipc.pipe_stream(list(range(p["stream"]))),
         STREAM_HANG),
        (f"queue_fan_in({p['fan_in'][0]}, {p['fan_in'][1]})",
         lambda: ipc.queue_fan_in(*p["fan_in"]), FAN_IN_HANG),
        (f"manager_shared_dict({p['manager'][0]}, {p['manager'][1]})",
         lambda: ipc.manager_shared_dict(*p["manager"]), MANAGER_HANG),
    ]
    left = []
    for what, fn, hang in calls:
        seen = set(my_children())
        _call(ctx, what, fn, timeout, hang)
        left.append({"call": what, "left": _left_behind(ctx, what, seen)})
    ctx.observe("calls", left)


def _left_behind(ctx, what, seen):
    """The children a call left behind (pids not in `seen`), or None: {"text": who they are,
    "manager": a manager's server among them, "zombie": one finished but was never joined,
    "running": one other than a manager still runs}.

    Called right after the call returned: a joined child is gone by then, whatever else is
    still there was not joined (or is a manager that was not shut down). What was left is
    then killed and reaped, so that the next call is judged on its own.
    """
    names = _names()  # before anything reaps them
    left = {pid: info for pid, info in my_children().items() if pid not in seen}
    if not left:
        return None
    # Give the others a moment to finish, so that a child that was simply not joined shows as
    # the zombie it becomes, and one that never ends as running.
    deadline = time.monotonic() + ctx.params["settle_s"]
    while time.monotonic() < deadline and any(st not in ("Z", "X") for st, _ in left.values()):
        time.sleep(0.02)
        left = {pid: info for pid, info in my_children().items() if pid not in seen}
    found = {
        "text": f"after {what} returned: {_children_text(left, names)}",
        "manager": any(names.get(pid, "").startswith("SyncManager") for pid in left),
        "zombie": any(st in ("Z", "X") for st, _ in left.values()),
        "running": any(st not in ("Z", "X") and not names.get(pid, "").startswith("SyncManager")
                       for pid, (st, _) in left.items()),
    }
    reap(left)
    return found


# --------------------------------------------------------------------------
# performance (throughput)

def _fan_in_checked(ctx, ipc, producers, items_each, timeout):
    """queue_fan_in once, with a time limit, judged here: the throughput item's first, untimed call."""
    what = f"queue_fan_in({producers}, {items_each}){start_method_note(ctx)}"
    got = _call(ctx, what, lambda: ipc.queue_fan_in(producers, items_each), timeout, FAN_IN_HANG)
    ctx.expect(isinstance(got, list), f"{what} returned {type(got).__name__}, expected a list",
               hint="return the items in the order get() returned them")
    try:
        consumed = [tuple(x) for x in got]
    except TypeError:
        ctx.fail(f"{what}: the items are not (producer, seq) pairs: first {got[:3]!r}")
    produced = [(p, s) for p in range(producers) for s in range(items_each)]
    if sorted(consumed) != produced:  # the oracle's message says which item and how
        msg = exactly_once(produced, consumed, what="item (producer, seq)")
        ctx.oracle(msg and f"{what}: {msg}",
                   hint="get() exactly producers * items_each items: each producer puts each of "
                        "its items once")
        ctx.fail(f"{what}: {len(consumed)} items received, {len(produced)} expected")
    msg = fifo_per_key(consumed, key=lambda x: x[0], seq=lambda x: x[1])
    ctx.oracle(msg and f"{what}: {msg}",
               hint="a Queue keeps the order of the items put by one process: return the items "
                    "in the order get() gave them, do not sort or regroup them")


def bench_fan_in(ctx):
    """The timed workload: queue_fan_in(producers, items_each), checked every call."""
    ipc = _module(ctx, "queue_fan_in")
    producers, items_each = ctx.params["producers"], ctx.params["items_each"]
    # One call with a time limit first: a call that hangs fails here, not at the item's timeout.
    _fan_in_checked(ctx, ipc, producers, items_each, ctx.params["call_timeout"])
    expected = [(p, s) for p in range(producers) for s in range(items_each)]
    fn = ipc.queue_fan_in

    def run():
        got = fn(producers, items_each)
        if sorted(map(tuple, got)) != expected:
            ctx.fail(f"queue_fan_in({producers}, {items_each}) did not return every item exactly "
                     "once", hint="a fast wrong answer earns no performance points")

    return run
