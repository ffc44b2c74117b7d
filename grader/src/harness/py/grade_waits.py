"""The instrumented primitives' shared record (who holds, who waits, where; the lock-order edges) and
where in the student's code a primitive was made or used. Written by grade_instrument's primitives,
read by grade_deadlock's searches and by grade_sched; it imports neither."""
import itertools
import os
import sys
import threading

import grade_names

THREADING_FILE = threading.__file__
_HERE = os.path.dirname(os.path.abspath(__file__))

state = None  # the run's State, from grade_instrument.install


class State:
    def __init__(self, student_root):
        self.student_root = student_root
        self.waiting = {}  # thread ident -> (lock, site)   (blocking acquires with no timeout)
        self.held = {}     # thread ident -> [lock, ...]
        self.edges = {}    # (uid_a, uid_b) -> [occurrence, ...]
        self.names = {}  # uid -> description, kept after the lock itself is gone
        self.blocked = {}  # thread ident -> (description, site, since): untimed waits on Condition, Event, Semaphore
        self.uids = itertools.count(1)
        # Display numbers: the student's primitives count 1, 2, ... on their own, so locks that
        # library code creates (in whatever order imports happen) never shift the student's numbers.
        self.shown = {True: itertools.count(1), False: itertools.count(1)}
        self.record_order = False
        self.namer = grade_names.Namer()


def student_site(skip=2):
    """(file, line, function) of the innermost student frame above the caller, else the first outside."""
    return find_site(skip + 1)[0]


def find_frames(skip, owner=False):
    """(frame, owner, True) for the innermost student frame `skip` frames up; else the first frame outside
    threading and the harness, with False; (None, None, False) when there is none. With `owner`, the
    object the frames between are making: the `self` of the outermost method among them (a Queue making
    its Conditions, a Condition making its lock), else None."""
    try:
        f = sys._getframe(skip + 1)
    except ValueError:
        return None, None, False
    fallback = None
    maker = None
    root = state.student_root if state else None
    while f is not None:
        fn = f.f_code.co_filename
        if root and fn.startswith(root):
            return f, self_of(maker), True
        if fallback is None and fn != THREADING_FILE and not fn.startswith(_HERE):
            fallback = (f, self_of(maker))
        code = f.f_code
        if owner and code.co_argcount and code.co_varnames[0] == "self":
            maker = f
        f = f.f_back
    return (fallback or (None, None)) + (False,)


def self_of(frame):
    try:
        return frame.f_locals.get("self") if frame is not None else None
    except Exception:  # noqa: BLE001
        return None


def site_of(frame, mine):
    if frame is None:
        return ("?", 0, "?")
    fn = frame.f_code.co_filename
    shown = os.path.relpath(fn, state.student_root) if mine else os.path.basename(fn)
    return (shown, frame.f_lineno, frame.f_code.co_name)


def find_site(skip):
    """(site, True) for the innermost student frame `skip` frames up, else (first outside frame, False)."""
    frame, _, mine = find_frames(skip)
    return site_of(frame, mine), mine


def numbered(obj):
    """(creation site, display number, label) of `obj`, being made: numbers 1, 2, ... for primitives the
    student's files create, lib1, lib2, ... for the others; the label (name, type) as the creating code
    names it. The walk starts at the constructor, so the frame the creating call entered is known."""
    frame, owner, mine = find_frames(1, owner=True)
    site = site_of(frame, mine)
    n = next(state.shown[mine])
    label = state.namer.label(owner if owner is not None else obj, frame, site) if frame is not None else None
    return site, (str(n) if mine else "lib%d" % n), label


def describe_primitive(kind, created, shown, label):
    f, line, fn = created
    if label is not None:
        name, type_text = label
        return "%s (%s, %s:%d)" % (name, type_text or "threading." + kind, f, line)
    return "%s#%s (created at %s:%d in %s)" % (kind, shown, f, line, fn)


def thread_name(ident):
    t = threading._active.get(ident)
    return t.name if t is not None else "thread-%d (finished)" % ident


def holding(ident):
    """What thread `ident` holds, described; [] before install."""
    if state is None:
        return []
    return [h.describe() for h in state.held.get(ident, [])]
