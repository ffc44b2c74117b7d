"""Checks for lab-4.4, IPC patterns: pipes, queues and managers (`ipc.py`).

Standard library only, plus the grader's `grade_oracles`. Every student call runs in a
thread with a time limit: a call that hangs (a producer joined before its queue was
drained, a pipe whose write end is still open in the reader) is reported with the line
of ipc.py where the calling thread is blocked and the state of every child process,
not just as a timeout.

The harness fails a run by itself when child processes are still running after it, or
finished but were never joined (zombies). The `clean-exit` item checks the same right
after each call and names the processes (`producer-0`, `SyncManager-1`, ...).
"""

import multiprocessing
import os
import re
import sys
import threading
import time
import traceback

from grade_oracles import exactly_once, fifo_per_key

MODULE = "ipc"
_HELPER_WORDS = ("resource_tracker", "forkserver")


# --------------------------------------------------------------------------
# processes

def _proc_state(pid):
    """(state letter, cmdline) of a process from /proc, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        return stat[stat.rindex(")") + 2:].split()[0], cmd
    except (OSError, ValueError, IndexError):
        return None


def _my_children():
    """{pid: (state, cmdline)} of this process's direct children, zombies included, helpers not."""
    me = str(os.getpid())
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            rest = stat[stat.rindex(")") + 2:].split()
        except (OSError, ValueError, IndexError):
            continue
        if rest[1] != me:
            continue
        info = _proc_state(entry)
        if info is None or any(word in info[1] for word in _HELPER_WORDS):
            continue
        found[int(entry)] = info
    return found


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

def _student_frames(frame, root):
    """The stack of `frame` (outermost first) and the index of its innermost frame in ipc.py."""
    stack = traceback.extract_stack(frame)
    idx = None
    for i, fs in enumerate(stack):
        name = fs.filename
        if (not name.startswith("<") and os.path.realpath(name).startswith(root + os.sep)
                and os.path.isfile(name)):
            idx = i
    return stack, idx


def _blocked_at(ctx, thread):
    """' the calling thread is blocked at ipc.py:LINE in FUNC (`code`), in recv()' or ''."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return ""
    stack, idx = _student_frames(frame, os.path.realpath(ctx.root))
    if idx is None:
        return ""
    fs = stack[idx]
    text = f"; the calling thread is blocked at {os.path.basename(fs.filename)}:{fs.lineno} in {fs.name}"
    if fs.line:
        text += f" (`{fs.line.strip()}`)"
    if idx + 1 < len(stack):
        text += f", inside {stack[idx + 1].name}()"
    return text


def _worker_error(exc):
    """' in a child process (at ipc.py:LINE in FUNC)' from a pool's chained remote traceback, or ''."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(r'File "([^"]*)", line (\d+), in (\S+)', tb)
              if os.path.basename(f[0]) == MODULE + ".py"]
    if not frames:
        return ""
    _, line, func = frames[-1]
    return f" in a child process (at {MODULE}.py:{line} in {func})"


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
    for pid in sorted(_my_children()):
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
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised below, in the check's thread
            box["error"] = exc

    t = threading.Thread(target=body, name="student-call", daemon=True)
    t.start()
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
        where = _blocked_at(ctx, t)
        kids = _my_children()
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
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if os.path.basename(f.filename) == MODULE + ".py"]
            at = f" (at {MODULE}.py:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
            ctx.fail(f"{what} raised {text}{at} under the `{multiprocessing.get_start_method()}` "
                     "start method",
                     hint="under spawn the target of a Process and its arguments are pickled: a "
                          "function is pickled by its importable name, so give each Process a "
                          "function defined at the top level of ipc.py (no lambda, no nested def)")
        remote = _worker_error(exc)
        if remote:
            ctx.fail(f"{what} raised {text}{remote}")
        raise exc
    return box.get("value")


def _module(ctx, *names):
    ipc = ctx.student(MODULE)
    for name in names:
        ctx.expect(callable(getattr(ipc, name, None)), f"ipc.py defines no function {name}()",
                   hint=f"define {name} at module level, with the signature in the starter")
    return ipc


def _check_start_method(ctx):
    """The item's start method is in force (a grader fault otherwise, never the student's)."""
    want = ctx.start_method
    if want and multiprocessing.get_start_method() != want:
        raise RuntimeError(f"grader: start method is {multiprocessing.get_start_method()!r}, "
                           f"the item asks for {want!r}")


def _where(ctx):
    return f" (start method {ctx.start_method})" if ctx.start_method else ""


# --------------------------------------------------------------------------
# the patterns, one checker each (shared by the fork and the spawn items)

PINGPONG_HANG = ("each ping waits for its reply: the child must recv() a number and send back "
                 "(i * i, os.getpid()), and stop on the parent's None (or on EOFError)")


def _pingpong(ctx, ipc, n, timeout):
    what = f"pipe_pingpong({n}){_where(ctx)}"
    got = _call(ctx, what, lambda: ipc.pipe_pingpong(n), timeout, PINGPONG_HANG)
    ctx.expect(isinstance(got, list), f"{what} returned {type(got).__name__}, expected a list",
               hint="return the replies in a list, in the order they arrived")
    ctx.expect(len(got) == n, f"{what} returned {len(got)} replies, expected {n} (one per ping)",
               hint="send one number at a time and recv() its reply before the next send")
    pids = set()
    for i, reply in enumerate(got):
        ok = isinstance(reply, (tuple, list)) and len(reply) == 2
        ctx.expect(ok, f"{what}: reply #{i} is {reply!r}, expected a pair (i * i, child_pid)",
                   hint="the child sends back the tuple (i * i, os.getpid())")
        ctx.expect(reply[0] == i * i,
                   f"{what}: reply #{i} is {tuple(reply)!r}, expected ({i * i}, <child pid>): "
                   "the replies are out of step with the pings",
                   hint="one ping, then its reply: never send twice without receiving")
        pids.add(reply[1])
    if n:
        ctx.expect(len(pids) == 1, f"{what}: the replies carry {len(pids)} different pids "
                                   f"({sorted(pids)[:4]}), expected one child process",
                   hint="one child answers every ping")
        pid = pids.pop()
        ctx.expect(isinstance(pid, int) and pid != os.getpid(),
                   f"{what}: the replies were made by pid {pid!r}, which is the calling process "
                   "itself, not a child", hint="the squares must be computed in the child process")


STREAM_HANG = ("recv() raises EOFError only when every copy of the write end is closed, in "
               "every process: close the parent's write end right after start(); and read "
               "everything before join() (a child blocked in send() on a full pipe never exits)")


def _stream(ctx, ipc, items, timeout, label):
    what = f"pipe_stream({label}){_where(ctx)}"
    got = _call(ctx, what, lambda: ipc.pipe_stream(list(items)), timeout, STREAM_HANG)
    ctx.expect(isinstance(got, list), f"{what} returned {type(got).__name__}, expected a list",
               hint="return the received items in a list")
    if got == items:
        return
    for i, (a, b) in enumerate(zip(got, items)):
        if a != b:
            ctx.fail(f"{what}: item #{i} received was {_short(a)}, expected {_short(b)} "
                     f"({len(got)} received, {len(items)} sent)",
                     hint="one producer over one pipe keeps the order: receive until EOFError, "
                          "and do not treat any item (None included) as an end marker")
    ctx.fail(f"{what}: received {len(got)} items, {len(items)} were sent "
             f"({'the first ' + str(len(got)) + ' match' if len(got) < len(items) else 'extra items at the end'})",
             hint="keep receiving until recv() raises EOFError: the items may contain None, so a "
                  "None sentinel would stop early")


def _prefixed(what, message):
    """An oracle's message (None when the history is right) prefixed with the call it judges."""
    return f"{what}: {message}" if message else None


def _short(x):
    text = repr(x)
    return text if len(text) <= 60 else f"{text[:40]}... ({type(x).__name__} of length {len(x)})"


FAN_IN_HANG = ("a producer cannot exit until its queue's feeder thread has written every item "
               "into the pipe, and the pipe only holds about 64 KiB: get() all "
               "producers * items_each items first, join the producers after")


def _fan_in(ctx, ipc, producers, items_each, timeout):
    what = f"queue_fan_in({producers}, {items_each}){_where(ctx)}"
    got = _call(ctx, what, lambda: ipc.queue_fan_in(producers, items_each), timeout, FAN_IN_HANG)
    ctx.expect(isinstance(got, list), f"{what} returned {type(got).__name__}, expected a list",
               hint="return the items in the order get() returned them")
    try:
        consumed = [tuple(x) for x in got]
    except TypeError:
        ctx.fail(f"{what}: the items are not (producer, seq) pairs: first {got[:3]!r}")
    produced = [(p, s) for p in range(producers) for s in range(items_each)]
    if sorted(consumed) != produced:  # the oracle's message says which item and how
        ctx.oracle(_prefixed(what, exactly_once(produced, consumed, what="item (producer, seq)")),
                   hint="get() exactly producers * items_each items: each producer puts each of "
                        "its items once")
        ctx.fail(f"{what}: {len(consumed)} items received, {len(produced)} expected")
    ctx.oracle(_prefixed(what, fifo_per_key(consumed, key=lambda x: x[0], seq=lambda x: x[1])),
               hint="a Queue keeps the order of the items put by one process: return the items "
                    "in the order get() gave them, do not sort or regroup them")


MANAGER_HANG = ("workers block on a manager call when the manager's server is gone or a manager "
                "Lock is never released: `with lock:` around each read-modify-write, and keep the "
                "`with Manager()` block open until every worker is joined")


def _manager(ctx, ipc, workers, keys, timeout):
    what = f"manager_shared_dict({workers}, {keys}){_where(ctx)}"
    got = _call(ctx, what, lambda: ipc.manager_shared_dict(workers, keys), timeout, MANAGER_HANG)
    ctx.expect(type(got) is dict,
               f"{what} returned {type(got).__name__}, expected a plain dict "
               "(a proxy dies with its manager)",
               hint="copy the shared dict into a plain dict of plain lists before the manager "
                    "shuts down: {k: sorted(v) for k, v in shared.items()}")
    ctx.expect(set(got) == set(range(keys)),
               f"{what}: the keys are {sorted(got, key=repr)[:8]!r}, expected 0..{keys - 1}",
               hint="one key per number in range(keys)")
    pairs = []
    for k in range(keys):
        value = got[k]
        ctx.expect(type(value) is list, f"{what}: the value of key {k} is {type(value).__name__}, "
                                        "expected a list", hint="plain lists of worker numbers")
        pairs.extend((k, w) for w in value)
    produced = [(k, w) for k in range(keys) for w in range(workers)]
    if sorted(pairs) != produced:
        empty = keys > 0 and workers > 0 and not pairs
        ctx.oracle(_prefixed(what, exactly_once(produced, pairs, what="(key, worker)")),
                   hint=("every list came back empty: shared[k].append(w) appends to a copy that "
                         "the proxy returned, not to the shared value; write it back: "
                         "shared[k] = shared[k] + [w]") if empty else
                        ("shared[k] = shared[k] + [w] is a read then a write, two calls to the "
                         "manager: hold a manager Lock around both, or another worker's update "
                         "to the same key is lost"))
        ctx.fail(f"{what}: {len(pairs)} (key, worker) entries, {len(produced)} expected")
    for k in range(keys):
        ctx.expect(got[k] == sorted(got[k]), f"{what}: the list of key {k} is {got[k]!r}, "
                                             "expected it sorted", hint="sort each list")


# --------------------------------------------------------------------------
# completion_quality (default start method) and problem_solving (spawn)

def pingpong(ctx):
    _check_start_method(ctx)
    ipc = _module(ctx, "pipe_pingpong")
    for n in ctx.params["cases"]:
        _pingpong(ctx, ipc, n, ctx.params["call_timeout"])


def stream(ctx):
    _check_start_method(ctx)
    ipc = _module(ctx, "pipe_stream")
    for case in ctx.params["cases"]:
        items, label = _stream_case(case)
        _stream(ctx, ipc, items, ctx.params["call_timeout"], label)


def _stream_case(case):
    """Items of a pipe_stream case: {small: N} tuples with a None every 7th, {big: BYTES} one blob."""
    items = []
    for i in range(case.get("small", 0)):
        items.append(None if i % 7 == 3 else (i, f"msg-{i}"))
    if case.get("big"):
        items.insert(len(items) // 2, bytes(range(256)) * (case["big"] // 256))
    if not items:
        return [], "[]"
    parts = []
    if case.get("small"):
        parts.append(f"{case['small']} small items, None among them")
    if case.get("big"):
        parts.append(f"one {case['big']}-byte item")
    return items, "[" + " and ".join(parts) + "]"


def fan_in(ctx):
    _check_start_method(ctx)
    ipc = _module(ctx, "queue_fan_in")
    for producers, items_each in ctx.params["cases"]:
        _fan_in(ctx, ipc, producers, items_each, ctx.params["call_timeout"])


def manager_dict(ctx):
    _check_start_method(ctx)
    ipc = _module(ctx, "manager_shared_dict")
    for workers, keys in ctx.params["cases"]:
        _manager(ctx, ipc, workers, keys, ctx.params["call_timeout"])


def spawn_all(ctx):
    """The four patterns under the item's start method (spawn), each judged on its own.

    A pattern that fails, hangs or leaves a process behind does not hide the others:
    every failure is collected and reported together.
    """
    _check_start_method(ctx)
    ipc = _module(ctx, "pipe_pingpong", "pipe_stream", "queue_fan_in", "manager_shared_dict")
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
    failures, hints, failed = [], [], []
    for name, what, run in runs:
        seen = set(_my_children())
        try:
            run()
            problem, advice = _left_behind(ctx, what, seen)
            if problem:
                failures.append(f"child processes left behind {problem}")
                hints.extend(advice)
        except Exception as exc:  # a failed expectation, or the student's exception
            if type(exc).__name__ == "CheckFailed":
                failures.append(exc.message)
                if exc.hint:
                    hints.append(exc.hint)
            else:
                failures.append(f"{what} raised {type(exc).__name__}: {exc}")
        if len(failures) > len(failed):
            failed.append(name)
    if failures:
        ok = [name for name, _, _ in runs if name not in failed]
        ctx.fail(f"{len(failures)} of {len(runs)} patterns failed under spawn: "
                 + " | ".join(failures) + (f" (passed: {', '.join(ok)})" if ok else ""),
                 hint=" ".join(dict.fromkeys(hints)))


def clean_exit(ctx):
    """Right after each call, no child process may be left: none running, none unjoined."""
    ipc = _module(ctx, "pipe_pingpong", "pipe_stream", "queue_fan_in", "manager_shared_dict")
    timeout = ctx.params["call_timeout"]
    before = _my_children()
    ctx.expect(not before, f"child processes exist before the first call: {_children_text(before)} "
                           "(importing ipc.py must not start processes)",
               hint="start processes inside the functions, never at import")
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
    problems, hints = [], []
    for what, fn, hang in calls:
        seen = set(_my_children())
        _call(ctx, what, fn, timeout, hang)
        problem, advice = _left_behind(ctx, what, seen)
        if problem:
            problems.append(problem)
            hints.extend(advice)
    if problems:
        ctx.fail("child processes left behind: " + "; ".join(problems),
                 hint=" ".join(dict.fromkeys(hints)))


def _left_behind(ctx, what, seen):
    """(problem, [hints]) about the children a call left behind (pids not in `seen`), or (None, []).

    Called right after the call returned: a joined child is gone by then, whatever else is
    still there was not joined (or is a manager that was not shut down). What was left is
    then killed and reaped, so that the next call is judged on its own.
    """
    names = _names()  # before anything reaps them
    left = {pid: info for pid, info in _my_children().items() if pid not in seen}
    if not left:
        return None, []
    # Give the others a moment to finish, so that a child that was simply not joined shows as
    # the zombie it becomes, and one that never ends as running.
    deadline = time.monotonic() + ctx.params["settle_s"]
    while time.monotonic() < deadline and any(st not in ("Z", "X") for st, _ in left.values()):
        time.sleep(0.02)
        left = {pid: info for pid, info in _my_children().items() if pid not in seen}
    hints = []
    if any(names.get(pid, "").startswith("SyncManager") for pid in left):
        hints.append("use the manager as `with multiprocessing.Manager() as manager:` (or call "
                     "manager.shutdown()), every call, and do not keep one in a global.")
    if any(st in ("Z", "X") for st, _ in left.values()):
        hints.append("join() every Process you start, even when you already have all its "
                     "results: an unjoined child that has finished stays a zombie.")
    if any(st not in ("Z", "X") and not names.get(pid, "").startswith("SyncManager")
           for pid, (st, _) in left.items()):
        hints.append("join() (or terminate() and join()) every process before returning.")
    problem = f"after {what} returned: {_children_text(left, names)}"
    for pid in left:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
    for proc in list(getattr(multiprocessing.process, "_children", ())):
        if proc.pid in left:
            multiprocessing.process._children.discard(proc)
    return problem, hints


# --------------------------------------------------------------------------
# performance (throughput)

def bench_fan_in(ctx):
    """The timed workload: queue_fan_in(producers, items_each), checked every call."""
    ipc = _module(ctx, "queue_fan_in")
    producers, items_each = ctx.params["producers"], ctx.params["items_each"]
    # One call with a time limit first: a call that hangs fails here, not at the item's timeout.
    _fan_in(ctx, ipc, producers, items_each, ctx.params["call_timeout"])
    expected = [(p, s) for p in range(producers) for s in range(items_each)]
    fn = ipc.queue_fan_in

    def run():
        got = fn(producers, items_each)
        if sorted(map(tuple, got)) != expected:
            ctx.fail(f"queue_fan_in({producers}, {items_each}) did not return every item exactly "
                     "once", hint="a fast wrong answer earns no performance points")

    return run
