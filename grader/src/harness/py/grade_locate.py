"""Where in the student's files something happened: the innermost student frame of a traceback, or of
a worker process's traceback that multiprocessing and concurrent.futures attach as text; an exception
described for the student with that place."""
import os
import re
import traceback


def student_location(tb, root):
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
    loc = _remote_location(exc, root) or student_location(exc.__traceback__, root)
    text = "%s: %s" % (type(exc).__name__, _str(exc)) if _str(exc) else type(exc).__name__
    if loc:
        text += " (at %s:%d in %s)" % loc
    return text, loc
