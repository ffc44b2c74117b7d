"""The course's check library: the student's module and the student's line, for workloads (checks.py).

Importing the student's module with the names its starter promises, calling the student's code in a
thread of its own with a time limit (so a hang is reported as one), and naming the student's line in
an exception: in this process's traceback, or in the traceback text a multiprocessing pool chains to
an exception it re-raises from a worker. Standard library only; nothing here imports the harness.
"""
import os
import re
import sys
import threading
import time
import traceback

HINT_NAMES = "keep the names of the starter's docstring"
HINT_REMOTE = ("the pool re-raises a worker's exception in the parent; the line above is where the worker "
               "raised it")
_TB_LINE = r'File "([^"]*)", line (\d+), in (\S+)'


def student_module(ctx, module, names, hint=HINT_NAMES):
    """ctx.student(module), failing the check with "<module>.py defines no NAME" for the first of `names`
    it lacks."""
    mod = ctx.student(module)
    for name in names:
        ctx.expect(hasattr(mod, name), "%s.py defines no %s" % (module, name), hint=hint)
    return mod


def student_functions(ctx, module, names, hint=HINT_NAMES):
    """ctx.student(module), failing the check with "<module>.py defines no function NAME()" (a class: "no
    NAME") for the first of `names` that is not a callable of it."""
    mod = ctx.student(module)
    for name in names:
        shown = name if name[:1].isupper() else "function %s()" % name
        ctx.expect(callable(getattr(mod, name, None)), "%s.py defines no %s" % (module, shown), hint=hint)
    return mod


def where(ctx, exc, remote=False):
    """' (at FILE:LINE in FUNC)' for the innermost frame of exc's traceback in the student's files (below
    ctx.root), or ''. remote: first the worker's line, ' in a worker process (at FILE:LINE in FUNC)',
    from the traceback text a pool attaches to an exception it re-raises."""
    root = os.path.join(os.path.realpath(ctx.root), "")
    found = None
    if remote:
        text = getattr(exc.__cause__, "tb", None) or (str(exc.__cause__) if exc.__cause__ else "")
        for path, line, fn in re.findall(r'File "([^"]+)", line (\d+), in (\S+)', text or ""):
            if os.path.realpath(path).startswith(root):
                found = " in a worker process (at %s:%s in %s)" % (os.path.relpath(os.path.realpath(path), root),
                                                                   line, fn)
        if found:
            return found
    for frame, line in traceback.walk_tb(exc.__traceback__):
        fn = os.path.realpath(frame.f_code.co_filename)
        if fn.startswith(root):
            found = " (at %s:%d in %s)" % (os.path.relpath(fn, root), line, frame.f_code.co_name)
    return found or ""


def student_line(exc, module):
    """' (at MODULE.py:LINE in FUNC)' for the innermost frame of the student's module `module`, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.basename(f.filename) == module + ".py"]
    if not frames:
        return ""
    return f" (at {module}.py:{frames[-1].lineno} in {frames[-1].name})"


def worker_line(exc, module, who="a worker process"):
    """' in a worker process (at MODULE.py:LINE in FUNC)' from the traceback text a pool chains to an
    exception it re-raises (exc.__cause__.tb), or ''."""
    tb = getattr(exc.__cause__, "tb", None)
    if not isinstance(tb, str):
        return ""
    frames = [f for f in re.findall(_TB_LINE, tb) if os.path.basename(f[0]) == module + ".py"]
    if not frames:
        return ""
    _, line, func = frames[-1]
    return f" in {who} (at {module}.py:{line} in {func})"


def blocked_at(ctx, thread, files_only=False):
    """'; the calling thread is blocked at FILE:LINE in FUNC (`code`), inside CALLEE()' for the innermost
    frame of the student's files (below ctx.root) on `thread`'s stack, or ''. files_only: only frames
    whose file exists (not code compiled from a string)."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return ""
    root = os.path.realpath(ctx.root) + os.sep
    stack = traceback.extract_stack(frame)
    idx = None
    for i, fs in enumerate(stack):
        name = fs.filename
        if (not name.startswith("<") and os.path.realpath(name).startswith(root)
                and (not files_only or os.path.isfile(name))):
            idx = i
    if idx is None:
        return ""
    fs = stack[idx]
    text = f"; the calling thread is blocked at {os.path.basename(fs.filename)}:{fs.lineno} in {fs.name}"
    if fs.line:
        text += f" (`{fs.line.strip()}`)"
    if idx + 1 < len(stack):
        text += f", inside {stack[idx + 1].name}()"
    return text


def start_call(fn, name="student-call"):
    """Starts fn() in a daemon thread named `name`; returns (thread, box). When fn ends, box holds
    "value" or "error" (the exception, to re-raise in the check's thread) and "wall" (seconds)."""
    box = {}

    def body():
        t0 = time.perf_counter()
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B036 - handed back to the check's thread
            box["error"] = exc
        box["wall"] = time.perf_counter() - t0
    t = threading.Thread(target=body, name=name, daemon=True)
    t.start()
    return t, box


def poll_every(poll, every, name="sampler"):
    """Calls poll() every `every` seconds from a daemon thread named `name` until the returned stop() is
    called (stop() joins the thread, so the last poll has happened when it returns)."""
    done = threading.Event()

    def loop():
        while not done.is_set():
            poll()
            time.sleep(every)
    t = threading.Thread(target=loop, name=name, daemon=True)
    t.start()

    def stop():
        done.set()
        t.join()
    return stop


def call_timed(ctx, what, fn, limit, hang_hint, error_hint, remote=False, pickle_hint=None):
    """fn() within `limit` seconds: (value, wall seconds). A hang fails the check ("WHAT did not return
    within N.N s", hang_hint); a failed expectation inside fn is re-raised as it is; any other exception
    fails it with its type, message and the student's line (see `where`), with error_hint (or the
    starter's-stub hint for NotImplementedError, or pickle_hint for a pickling error)."""
    t, box = start_call(fn)
    t.join(limit)
    if t.is_alive():
        ctx.fail("%s did not return within %.1f s" % (what, limit), hint=hang_hint)
    if "error" in box:
        exc = box["error"]
        hint = None
        if isinstance(exc, ctx.CheckFailed):
            raise exc
        if isinstance(exc, NotImplementedError):
            hint = "this is still the starter's stub: write it"
        elif pickle_hint and "pickl" in ("%s %s" % (type(exc).__name__, exc)).lower():
            hint = pickle_hint
        ctx.fail("%s raised %s: %s%s" % (what, type(exc).__name__, exc, where(ctx, exc, remote)),
                 hint=hint or error_hint)
    return box["value"], box["wall"]


def fail_pool_error(ctx, what, exc, module, pickle_hint, pickle_words=("pickl",)):
    """For an exception out of a call that uses worker processes: a pickling error (its text has one of
    `pickle_words`) fails the check with the student's line and pickle_hint; a worker's exception that
    a pool re-raised fails it with the worker's line. Returns otherwise (the caller re-raises exc)."""
    text = f"{type(exc).__name__}: {exc}"
    if any(word in text.lower() for word in pickle_words):
        ctx.fail(f"{what} raised {text}{student_line(exc, module)}", hint=pickle_hint)
    remote = worker_line(exc, module)
    if remote:
        ctx.fail(f"{what} raised {text}{remote}", hint=HINT_REMOTE)


def call_pool(ctx, what, fn, timeout, module, hang_hint, pickle_hint, pickle_words=("pickl",), expect=None):
    """fn() in a thread within `timeout` seconds: (value, None), or (None, exc) for an exception of class
    `expect`. A hang fails the check ("WHAT did not return within N s", hang_hint); see fail_pool_error
    for pickling errors and workers' exceptions; any other exception is re-raised for the harness
    (which names its type, message and the student's file:line)."""
    t, box = start_call(fn)
    t.join(timeout)
    if t.is_alive():
        ctx.fail(f"{what} did not return within {timeout} s", hint=hang_hint)
    exc = box.get("error")
    if exc is None:
        return box.get("value"), None
    if expect is not None and isinstance(exc, expect):
        return None, exc
    fail_pool_error(ctx, what, exc, module, pickle_hint, pickle_words)
    raise exc


def run_bounded(main, limit):
    """asyncio.run(main()) for a timed workload, but a call that does not finish within `limit` seconds
    fails at once (a hanging submission must not cost the item's whole timeout). Its tasks are abandoned
    with the loop, not awaited: their cancellation might hang too."""
    import asyncio
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(main())
        loop.run_until_complete(asyncio.wait([task], timeout=limit))
        if not task.done():
            raise AssertionError("one call of the workload did not finish within %.1f s (the reference needs a "
                                 "fraction of that): it hangs" % limit)
        return task.result()
    finally:
        executor = getattr(loop, "_default_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        loop.close()
