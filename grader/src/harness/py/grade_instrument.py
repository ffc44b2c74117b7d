"""Instrumented threading.Lock and threading.RLock, a wait-for-cycle watchdog and a lock-order graph.

Installed before the student's code is imported. Every lock the student creates records who holds it,
who waits for it and where (the student's file:line). A watchdog thread looks for a wait-for cycle among
blocking acquires; `order_cycle()` looks for a lock-order inversion that could deadlock (Linux lockdep's
rule, with gate locks: a cycle whose edges were all taken under one common lock cannot deadlock).
"""
import itertools
import os
import sys
import threading
import time

import grade_names
import grade_sched

_raw_allocate = threading._allocate_lock
_get_ident = threading.get_ident
_THREADING_FILE = threading.__file__
_HERE = os.path.dirname(os.path.abspath(__file__))

_state = None


class _State:
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
    return _find_site(skip + 1)[0]


def _find_frames(skip, owner=False):
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
    root = _state.student_root if _state else None
    while f is not None:
        fn = f.f_code.co_filename
        if root and fn.startswith(root):
            return f, _self_of(maker), True
        if fallback is None and fn != _THREADING_FILE and not fn.startswith(_HERE):
            fallback = (f, _self_of(maker))
        code = f.f_code
        if owner and code.co_argcount and code.co_varnames[0] == "self":
            maker = f
        f = f.f_back
    return (fallback or (None, None)) + (False,)


def _self_of(frame):
    try:
        return frame.f_locals.get("self") if frame is not None else None
    except Exception:  # noqa: BLE001
        return None


def _site_of(frame, mine):
    if frame is None:
        return ("?", 0, "?")
    fn = frame.f_code.co_filename
    shown = os.path.relpath(fn, _state.student_root) if mine else os.path.basename(fn)
    return (shown, frame.f_lineno, frame.f_code.co_name)


def _find_site(skip):
    """(site, True) for the innermost student frame `skip` frames up, else (first outside frame, False)."""
    frame, _, mine = _find_frames(skip)
    return _site_of(frame, mine), mine


def _numbered(obj):
    """(creation site, display number, label) of `obj`, being made: numbers 1, 2, ... for primitives the
    student's files create, lib1, lib2, ... for the others; the label (name, type) as the creating code
    names it. The walk starts at the constructor, so the frame the creating call entered is known."""
    frame, owner, mine = _find_frames(1, owner=True)
    site = _site_of(frame, mine)
    n = next(_state.shown[mine])
    label = _state.namer.label(owner if owner is not None else obj, frame, site) if frame is not None else None
    return site, (str(n) if mine else "lib%d" % n), label


def _describe_primitive(kind, created, shown, label):
    f, line, fn = created
    if label is not None:
        name, type_text = label
        return "%s (%s, %s:%d)" % (name, type_text or "threading." + kind, f, line)
    return "%s#%s (created at %s:%d in %s)" % (kind, shown, f, line, fn)


def _thread_name(ident):
    t = threading._active.get(ident)
    return t.name if t is not None else "thread-%d (finished)" % ident


class InstrumentedLock:
    """A threading.Lock that records its holder, its waiters and where they are."""

    _reentrant = False
    _kind = "Lock"

    def __init__(self):
        self._lock = _raw_allocate()
        self._uid = next(_state.uids)
        self._created, self._shown, self._label = _numbered(self)
        self._owner = None
        self._owner_site = None
        self._count = 0
        _state.names[self._uid] = self.describe()

    def describe(self):
        return _describe_primitive(self._kind, self._created, self._shown, self._label)

    def acquire(self, blocking=True, timeout=-1):
        me = _get_ident()
        if self._reentrant and self._owner == me:
            self._count += 1
            return True
        forever = blocking and timeout is not None and timeout < 0
        site = student_site(2)
        st = _state
        if forever and st.record_order:
            held = st.held.get(me)
            if held:
                _record_edges(st, me, held, self, site)
        if self._lock.acquire(False):
            self._took(me, site)
            return True
        if not blocking:
            return False
        sched = grade_sched.active
        if sched is not None and sched.me() is not None:
            if forever:
                st.waiting[me] = (self, site)
            try:
                ok = sched.wait_until(lambda: self._lock.acquire(False), on=self,
                                      timeout=None if forever else timeout)
            finally:
                st.waiting.pop(me, None)
            if ok:
                self._took(me, site)
            return ok
        if forever:
            st.waiting[me] = (self, site)
        try:
            ok = self._lock.acquire(True, -1 if timeout is None else timeout)
        finally:
            if forever:
                st.waiting.pop(me, None)
        if ok:
            self._took(me, site)
        return ok

    def _took(self, me, site):
        self._owner = me
        self._owner_site = site
        self._count = 1
        _state.held.setdefault(me, []).append(self)

    def release(self):
        me = _get_ident()
        if self._reentrant:
            if self._owner != me:
                raise RuntimeError("cannot release un-acquired lock")
            self._count -= 1
            if self._count:
                return
        elif self._owner is None:
            raise RuntimeError("release unlocked lock")
        owner = self._owner
        self._owner = None
        self._owner_site = None
        held = _state.held.get(owner)
        if held is not None:
            try:
                held.remove(self)
            except ValueError:
                pass
        self._lock.release()
        sched = grade_sched.active
        if sched is not None:
            sched.wake(self)

    def locked(self):
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def _at_fork_reinit(self):  # noqa: D401 - threading's own hook after fork
        self._lock = _raw_allocate()
        self._owner = None
        self._count = 0

    # Condition support (RLock semantics are what Condition expects of these).
    def _is_owned(self):
        return self._owner == _get_ident()

    def _release_save(self):
        count = self._count
        self._count = 1
        self.release()
        return count

    def _acquire_restore(self, count):
        self.acquire()
        self._count = count

    def __repr__(self):
        return "<instrumented %s>" % self.describe()


class InstrumentedRLock(InstrumentedLock):
    _reentrant = True
    _kind = "RLock"


def _lock_factory(cls, raw):
    def factory(*args, **kwargs):
        # threading.py builds its own Events, Conditions and thread start-up on these names:
        # those stay raw, or thread start-up breaks.
        if sys._getframe(1).f_code.co_filename == _THREADING_FILE:
            return raw(*args, **kwargs)
        return cls()
    factory.__name__ = cls._kind
    return factory


_tls = threading.local()
_serials = itertools.count(1)


def _thread_serial():
    """A number unique to the calling thread for the whole run (thread idents are reused)."""
    serial = getattr(_tls, "serial", None)
    if serial is None:
        serial = _tls.serial = next(_serials)
    return serial


def _record_edges(st, me, held, lock, site):
    gates = frozenset(h._uid for h in held)
    serial = _thread_serial()
    for h in held:
        if h is lock:
            continue
        occ = st.edges.setdefault((h._uid, lock._uid), [])
        if len(occ) < 6 and not any(o[0] == serial for o in occ):
            occ.append((serial, _thread_name(me), gates - {h._uid}, h._owner_site, site))


class _Blocking:
    """Registers the calling thread as blocked for the duration of an untimed wait."""

    __slots__ = ("ident", "prev")

    def __init__(self, obj, site):
        self.ident = _get_ident()
        self.prev = _state.blocked.get(self.ident)
        _state.blocked[self.ident] = (obj, site, time.monotonic())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.prev is None:
            _state.blocked.pop(self.ident, None)
        else:
            _state.blocked[self.ident] = self.prev


class _Switch(type):
    """Instances made inside threading.py itself are the originals, so its internals stay raw."""

    def __call__(cls, *args, **kwargs):
        if sys._getframe(1).f_code.co_filename == _THREADING_FILE:
            return cls._original(*args, **kwargs)
        return super().__call__(*args, **kwargs)


def _described(self, kind):
    self._uid = next(_state.uids)
    self._created, self._shown, self._label = _numbered(self)
    self._kind = kind
    _state.names[self._uid] = self.describe()


def _describe(self):
    return _describe_primitive(self._kind, self._created, self._shown, self._label)


class InstrumentedCondition(threading.Condition, metaclass=_Switch):
    _original = threading.Condition
    describe = _describe

    def __init__(self, lock=None):
        super().__init__(lock if lock is not None else InstrumentedRLock())
        _described(self, "Condition")
        self.notifies = 0
        self._sched_waiters = []

    def wait(self, timeout=None):
        sched = grade_sched.active
        if sched is not None and sched.me() is not None:
            if not self._is_owned():
                raise RuntimeError("cannot wait on un-acquired lock")
            token = [False]
            self._sched_waiters.append(token)
            saved = self._release_save()
            try:
                return sched.wait_until(lambda: token[0], on=self, timeout=timeout)
            finally:
                if not token[0]:
                    self._sched_waiters.remove(token)
                self._acquire_restore(saved)
        if timeout is None:
            with _Blocking(self, student_site(2)):
                return super().wait(None)
        return super().wait(timeout)

    def notify(self, n=1):
        self.notifies += 1
        if self._sched_waiters:
            for token in self._sched_waiters[:n]:
                token[0] = True
            del self._sched_waiters[:n]
            sched = grade_sched.active
            if sched is not None:
                sched.wake(self)
        return super().notify(n)

    def notify_all(self):
        self.notifies += 1
        for token in self._sched_waiters:
            token[0] = True
        self._sched_waiters.clear()
        sched = grade_sched.active
        if sched is not None:
            sched.wake(self)
        return super().notify(len(self._waiters))

    notifyAll = notify_all


class InstrumentedSemaphore(threading.Semaphore, metaclass=_Switch):
    _original = threading.Semaphore
    describe = _describe

    def __init__(self, value=1):
        super().__init__(value)
        _described(self, "Semaphore")

    def acquire(self, blocking=True, timeout=None):
        sched = grade_sched.active
        if sched is not None and sched.me() is not None:
            def take():
                with self._cond:
                    if self._value > 0:
                        self._value -= 1
                        return True
                    return False
            if take():
                return True
            if not blocking:
                return False
            return sched.wait_until(take, on=self, timeout=timeout)
        if blocking and timeout is None and not super().acquire(False):
            with _Blocking(self, student_site(2)):
                return super().acquire(True, None)
        if blocking and timeout is None:
            return True
        return super().acquire(blocking, timeout)

    __enter__ = acquire

    def release(self, n=1):
        super().release(n)
        sched = grade_sched.active
        if sched is not None:
            sched.wake(self)


class InstrumentedBoundedSemaphore(InstrumentedSemaphore, threading.BoundedSemaphore):
    _original = threading.BoundedSemaphore

    def __init__(self, value=1):
        # Not threading.BoundedSemaphore.__init__: that name is this class once installed, and the original
        # calls `Semaphore.__init__` by its module's name, which is the instrumented one: either recurses.
        InstrumentedSemaphore._original.__init__(self, value)
        self._initial_value = value
        _described(self, "BoundedSemaphore")


class InstrumentedEvent(threading.Event, metaclass=_Switch):
    _original = threading.Event
    describe = _describe

    def __init__(self):
        super().__init__()
        _described(self, "Event")

    def set(self):
        super().set()
        sched = grade_sched.active
        if sched is not None:
            sched.wake(self)

    def wait(self, timeout=None):
        sched = grade_sched.active
        if sched is not None and sched.me() is not None:
            return sched.wait_until(self.is_set, on=self, timeout=timeout)
        if timeout is None and not self.is_set():
            with _Blocking(self, student_site(2)):
                return super().wait(None)
        return super().wait(timeout)


class InstrumentedBarrier(threading.Barrier, metaclass=_Switch):
    _original = threading.Barrier
    describe = _describe

    def __init__(self, parties, action=None, timeout=None):
        super().__init__(parties, action, timeout)
        _described(self, "Barrier")

    def wait(self, timeout=None):
        if timeout is None and self._timeout is None:
            with _Blocking(self, student_site(2)):
                return super().wait(None)
        return super().wait(timeout)


def install(student_root):
    global _state
    _state = _State(student_root)
    threading.Lock = _lock_factory(InstrumentedLock, _raw_allocate)
    threading.RLock = _lock_factory(InstrumentedRLock, threading._CRLock or threading._PyRLock)
    threading.Condition = InstrumentedCondition
    threading.Semaphore = InstrumentedSemaphore
    threading.BoundedSemaphore = InstrumentedBoundedSemaphore
    threading.Event = InstrumentedEvent
    threading.Barrier = InstrumentedBarrier
    # queue.SimpleQueue is C: a thread blocked in its get() (a ThreadPoolExecutor's idle worker) would be
    # invisible to the deadlock search and would keep the controlled scheduler's turn. Its pure-Python
    # twin waits on a Semaphore, which is instrumented: modelled like every other wait.
    import queue
    if hasattr(queue, "_PySimpleQueue"):
        queue.SimpleQueue = queue._PySimpleQueue
    return _state


def new_run():
    """A run starts: what the namer kept of the last run's calls is let go."""
    if _state is not None:
        _state.namer.new_run()


def set_record_order(on):
    _state.record_order = on
    if on:
        _state.edges.clear()


# The diagnoses are grade_waits's; the harness and the scheduler reach them here.
from grade_waits import (  # noqa: E402,F401 - after the state they read is defined
    Watchdog, blocked_call, describe_all_blocked, describe_cycle, describe_orphan, find_all_blocked,
    find_orphaned_wait, find_wait_cycle, order_cycle, waiting_text,
)
