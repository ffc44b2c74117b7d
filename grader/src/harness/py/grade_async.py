"""Runs a student's coroutine on a fresh event loop and judges how it used the loop.

Findings, each with the student's file and line:
- hang: the loop waits with no ready callback, no timer, no file descriptor but its own wake-up pipe and no
  other thread that could wake it, so it can never wake (reported at once, not at the timeout);
- timeout: the coroutine did not finish within the check's deadline (each task's suspended line is given);
- blocking: one callback or task step ran longer than `slow_ms` without yielding to the loop (a sampler thread
  records the student's line that was running);
- never_awaited: a coroutine object was created and dropped (debug mode records where it was created);
- unretrieved: a task's exception nobody retrieved, or an exception in a callback;
- pending: tasks still pending when the main coroutine returned (cancelled afterwards).
"""
import asyncio
import gc
import logging
import os
import re
import selectors
import sys
import threading
import time
import warnings

import grade_names
import grade_procs

KINDS = ("never_awaited", "unretrieved", "blocking", "pending")
_ORIGIN = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


class Hang(Exception):
    """The loop can never wake; `diagnosis` names every task and where it waits."""

    def __init__(self, diagnosis):
        super().__init__(diagnosis["summary"])
        self.diagnosis = diagnosis


class Timeout(Exception):
    def __init__(self, message, diagnosis):
        super().__init__(message)
        self.diagnosis = diagnosis


class Findings:
    """What one run_async saw; a check may read it (ctx.last_async) and judge part of it itself."""

    def __init__(self):
        self.blocking = []       # {"ms", "file", "line", "function"}
        self.never_awaited = []  # {"coroutine", "file", "line", "function"}
        self.unretrieved = []    # {"message", "exception", "file", "line", "function"}
        self.pending = []        # {"name", "file", "line", "function", "waiting_for"}

    def first_failure(self, allow):
        """(message, hint, location) of the first finding not in `allow`, else None."""
        if "never_awaited" not in allow and self.never_awaited:
            f = self.never_awaited[0]
            return ("coroutine %s() was created%s but never awaited" % (f["coroutine"], _at(f)),
                    "await the coroutine, or wrap it in asyncio.create_task() and keep the task", _loc(f))
        if "unretrieved" not in allow and self.unretrieved:
            f = self.unretrieved[0]
            return ("%s: %s%s" % (f["message"], f["exception"], _at(f)),
                    "await every task you create (asyncio.gather, TaskGroup) so its exception reaches you",
                    _loc(f))
        if "blocking" not in allow and self.blocking:
            f = max(self.blocking, key=lambda b: b["ms"])
            return ("the event loop was blocked for %d ms%s: a blocking call inside a coroutine" % (f["ms"], _at(f)),
                    "use the async form (await asyncio.sleep, an async client) or asyncio.to_thread() "
                    "for blocking work", _loc(f))
        if "pending" not in allow and self.pending:
            names = ", ".join("%s%s" % (p["name"], _at(p)) for p in self.pending[:4])
            return ("%d task(s) still pending when the main coroutine returned: %s" % (len(self.pending), names),
                    "await or cancel every task you start before returning", _loc(self.pending[0]))
        return None


def _at(f):
    return " at %s:%d in %s" % (f["file"], f["line"], f["function"]) if f.get("file") else ""


def _loc(f):
    return (f["file"], f["line"], f["function"]) if f.get("file") else None


def _frame_site(frame, root):
    """(file, line, function) of the innermost student frame from `frame` outwards."""
    while frame is not None:
        fn = frame.f_code.co_filename
        if fn.startswith(root):
            return os.path.relpath(fn, root), frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


def _await_chain(coro):
    """The frames of a suspended coroutine, outermost first, and the object it finally waits on."""
    frames = []
    last = coro
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            frames.append(frame)
        last = coro
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
    return frames, last


def task_info(task, root):
    """Where a task is suspended: its innermost student line and what it waits in, through the student's
    own await there (`self.queue.get()`) when the wait is inside a library."""
    frames, awaited = _await_chain(task.get_coro())
    info = {"name": task.get_name(), "file": "?", "line": 0, "function": "?", "waiting_for": None}
    mine = None
    for frame in reversed(frames):
        fn = frame.f_code.co_filename
        if fn.startswith(root):
            mine = frame
            info.update(file=os.path.relpath(fn, root), line=frame.f_lineno, function=frame.f_code.co_name)
            break
    if not info["line"]:
        # Not suspended in the student's code (a task wrapping asyncio.sleep, say): where it was created.
        for fs in reversed(getattr(task, "_source_traceback", None) or []):
            if fs.filename.startswith(root):
                info.update(file=os.path.relpath(fs.filename, root), line=fs.lineno,
                            function=fs.name + " (created here)")
                break
    call = grade_names.call_text(mine) if mine is not None else None
    inner = frames[-1] if frames else None
    waiter = getattr(task, "_fut_waiter", None)
    if inner is not None and not inner.f_code.co_filename.startswith(root):
        info["waiting_for"] = call or "%s() in %s:%d" % (
            inner.f_code.co_name, os.path.basename(inner.f_code.co_filename), inner.f_lineno)
    elif isinstance(waiter, asyncio.Task):
        info["waiting_for"] = "task " + waiter.get_name()
    elif waiter is not None:
        info["waiting_for"] = "%sa %s nobody completes" % (call + ", " if call else "", type(waiter).__name__)
    elif awaited is not None and not hasattr(awaited, "cr_frame"):
        info["waiting_for"] = type(awaited).__name__
    return info


def _infos(tasks, root):
    """Every task's `task_info`, in the order of their names (a set has no order of its own)."""
    return sorted((task_info(t, root) for t in tasks), key=lambda i: i["name"])


def _diagnosis(kind, summary, infos, hint):
    return {"kind": kind, "summary": summary, "hint": hint, "cycle": [],
            "threads": [{"name": "task " + i["name"], "file": i["file"], "line": i["line"],
                         "function": i["function"], "waiting_for": i["waiting_for"], "holding": []}
                        for i in infos]}


def _describe_tasks(infos):
    parts = []
    for i in infos[:4]:
        text = "%s at %s:%d in %s" % (i["name"], i["file"], i["line"], i["function"])
        if i["waiting_for"]:
            text += " waiting in " + i["waiting_for"]
        parts.append(text)
    return "; ".join(parts) + ("; ..." if len(infos) > 4 else "")


class _Judge:
    """Shared state of one run: the loop, its deadline, the step being run and what was found."""

    def __init__(self, loop, root, deadline, slow_s, grace):
        self.loop = loop
        self.root = root
        self.deadline = deadline
        self.slow_s = slow_s
        self.grace = grace
        self.thread = threading.get_ident()
        self.native = threading.get_native_id()
        self.findings = Findings()
        self.step = None      # [started, sampled site, thread CPU at start, sleeping seen] of the callback running now
        self.done = False

    # -- hang detection, from inside the selector -------------------------------------------------
    def select(self, real, selector, timeout):
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise _Expired()
        wait = timeout if remaining is None or (timeout is not None and timeout < remaining) else remaining
        if timeout is None and self._idle(selector):
            events = real(self.grace if remaining is None else min(self.grace, remaining))
            if events or not self._idle(selector) or self.loop._ready or self.loop._scheduled:
                return events
            infos = _infos(asyncio.all_tasks(self.loop), self.root)
            raise Hang(_diagnosis(
                "async_hang",
                "the event loop can never wake: %d task(s) wait with nothing left to wake them: %s" % (
                    len(infos), _describe_tasks(infos)),
                infos,
                "something must set the event, put on the queue or resolve the future each task awaits; "
                "close queues with a sentinel or cancel the waiting tasks"))
        return real(wait)

    def _idle(self, selector):
        own = {self.loop._ssock.fileno()} if getattr(self.loop, "_ssock", None) is not None else set()
        if set(selector.get_map().keys()) - own:
            return False
        for t in threading.enumerate():
            if t.ident == self.thread or t.name.startswith("grade-") or not t.is_alive():
                continue
            if t.name.startswith("asyncio_") and _executor_idle(self.loop):
                continue
            return False
        return True

    # -- blocking detection ----------------------------------------------------------------------
    def sample(self):
        while not self.done:
            time.sleep(min(0.005, self.slow_s / 4))
            step = self.step
            if step is None or step[1] is not None or time.monotonic() - step[0] < self.slow_s / 2:
                continue
            frame = sys._current_frames().get(self.thread)
            site = _frame_site(frame, self.root)
            sleeping = grade_procs.thread_state(self.native) in ("S", "D")
            if self.step is step:
                step[1] = site or _NO_SITE
                step[3] = step[3] or sleeping


_NO_SITE = ("?", 0, "?")


class _Expired(Exception):
    pass


def _executor_idle(loop):
    ex = getattr(loop, "_default_executor", None)
    if ex is None:
        return True
    try:
        return ex._work_queue.empty() and ex._idle_semaphore._value >= len(ex._threads)
    except AttributeError:
        return False


def _make_selector(judge):
    class WatchedSelector(selectors.DefaultSelector):
        def select(self, timeout=None):
            return judge.select(super().select, self, timeout)
    return WatchedSelector()


_active = None
_original_run = asyncio.events.Handle._run


def _handle_run(self):
    judge = _active
    if judge is None or threading.get_ident() != judge.thread:
        return _original_run(self)
    step = judge.step = [time.monotonic(), None, time.thread_time(), False]
    try:
        return _original_run(self)
    finally:
        judge.step = None
        took = time.monotonic() - step[0]
        cpu = time.thread_time() - step[2]
        # Only a step the sampler saw still running counts: when the whole process was paused (a loaded
        # machine), the sampler was paused too, and a long wall time alone is not the student's doing.
        # And only one that slept (a blocking call) or computed (CPU work on the loop) for most of it: a
        # step that was merely waiting for a core on a busy machine is not blocking.
        if took >= judge.slow_s and step[1] is not None and (step[3] or cpu >= took / 2):
            site = (step[1] if step[1] is not _NO_SITE else None) or _handle_site(self, judge.root)
            entry = {"ms": int(took * 1000), "file": None, "line": 0, "function": None}
            if site:
                entry.update(file=site[0], line=site[1], function=site[2])
            judge.findings.blocking.append(entry)


def _handle_site(handle, root):
    cb = getattr(handle, "_callback", None)
    task = getattr(cb, "__self__", None)
    if isinstance(task, asyncio.Task):
        info = task_info(task, root)
        if info["line"]:
            return info["file"], info["line"], info["function"]
    return None


def _exception_handler(judge):
    def handler(loop, context):
        exc = context.get("exception")
        site = None
        if exc is not None and exc.__traceback__ is not None:
            import grade_locate
            site = grade_locate.student_location(exc.__traceback__, judge.root)
        fut = context.get("future") or context.get("task")
        if site is None and isinstance(fut, asyncio.Task):
            info = task_info(fut, judge.root)
            site = (info["file"], info["line"], info["function"]) if info["line"] else None
        name = fut.get_name() if isinstance(fut, asyncio.Task) else None
        message = context.get("message", "error in the event loop")
        if name:
            message = "task %s: %s" % (name, message[0].lower() + message[1:])
        entry = {"message": message, "exception": "%s: %s" % (type(exc).__name__, exc) if exc else "",
                 "file": None, "line": 0, "function": None}
        if site:
            entry.update(file=site[0], line=site[1], function=site[2])
        judge.findings.unretrieved.append(entry)
    return handler


def _never_awaited(records, root):
    found = []
    for w in records:
        text = str(w.message)
        if not issubclass(w.category, RuntimeWarning) or "was never awaited" not in text:
            continue
        m = re.search(r"coroutine '([^']+)' was never awaited", text)
        entry = {"coroutine": m.group(1) if m else "?", "file": None, "line": 0, "function": None}
        for path, line, fn in _ORIGIN.findall(text):
            if path.startswith(root):
                entry.update(file=os.path.relpath(path, root), line=int(line), function=fn)
        found.append(entry)
    return found


def run(main, args, root, timeout=None, slow_ms=100, debug=True, grace=0.2):
    """Runs main(*args) (or the coroutine `main`) to completion; returns (value, findings).
    Raises Hang, Timeout, or whatever main raised."""
    global _active
    deadline = None if timeout is None else time.monotonic() + timeout
    judge = _Judge(None, root, deadline, slow_ms / 1000.0, grace)
    loop = judge.loop = asyncio.SelectorEventLoop(_make_selector(judge))
    loop.set_debug(debug)
    # The default executor starts its threads lazily, inside a step of the loop; under load a thread start
    # can take long enough to look like a blocking call. Start them all before the student's code runs.
    import concurrent.futures
    executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="asyncio")
    concurrent.futures.wait([executor.submit(time.sleep, 0.01) for _ in range(executor._max_workers)])
    loop.set_default_executor(executor)
    loop.slow_callback_duration = 3600  # blocking is measured here, with the student's line
    loop.set_exception_handler(_exception_handler(judge))
    aio_log = logging.getLogger("asyncio")
    saved_level, aio_log.level = aio_log.level, logging.CRITICAL
    sampler = threading.Thread(target=judge.sample, name="grade-async-sampler", daemon=True)
    prev_loop = None
    _active = judge
    asyncio.events.Handle._run = _handle_run
    sampler.start()
    try:
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            asyncio.set_event_loop(loop)
            coro = main(*args) if not asyncio.iscoroutine(main) else main
            main_task = loop.create_task(coro, name="main")
            try:
                value = loop.run_until_complete(main_task)
            except _Expired:
                infos = _infos(asyncio.all_tasks(loop), root)
                summary = "the coroutine did not finish within %.1f s: %s" % (timeout, _describe_tasks(infos))
                raise Timeout(summary, _diagnosis("async_timeout", summary, infos,
                                                  "look for an await nothing completes, or a loop with no exit"))
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            judge.findings.pending = [task_info(t, root) for t in pending]
            _cancel(loop, judge, pending)
            gc.collect()
        judge.findings.never_awaited = _never_awaited(records, root)
        return value, judge.findings
    finally:
        judge.done = True
        asyncio.events.Handle._run = _original_run
        _active = None
        try:
            leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
            _cancel(loop, judge, leftovers)
            ex = getattr(loop, "_default_executor", None)
            if ex is not None:
                ex.shutdown(wait=False, cancel_futures=True)
            loop.close()
        except Exception:
            pass
        asyncio.set_event_loop(prev_loop)
        aio_log.level = saved_level


def _cancel(loop, judge, tasks):
    """Cancels tasks and gives them a second to unwind."""
    if not tasks or loop.is_closed():
        return
    for t in tasks:
        t.cancel()
    judge.deadline = time.monotonic() + 1.0
    try:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    except (_Expired, Hang, RuntimeError):
        pass
