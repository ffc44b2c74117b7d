"""A controlled scheduler: the check's threads run one at a time and a seeded RNG picks who goes next.

Switch points are the opcodes of the student's files (each with probability p) and every blocking
operation on an instrumented primitive (Lock, RLock, Condition, Semaphore, Event, so queue.Queue too),
Thread.join and time.sleep. Since only one managed thread runs at any moment and every choice comes from
the seed, the same seed gives the same interleaving: a failing schedule replays exactly.

When no managed thread can run and none waits with a timeout, the program is stuck for certain: that is
reported at once, with every thread and what it waits for. queue.SimpleQueue (a ThreadPoolExecutor's
work queue) is modelled through its pure-Python twin, which `grade_instrument.install` puts in its place.
Blocking calls the scheduler does not know (sockets, multiprocessing) would hold the turn: labs that use
them keep yield injection.
"""
import random
import threading
import time

import grade_deadlock
import grade_waits

_raw_allocate = threading._allocate_lock
_get_ident = threading.get_ident
_real_sleep = time.sleep
_original_start = threading.Thread.start
_original_join = threading.Thread.join

active = None  # the running Scheduler, or None


class _Managed:
    __slots__ = ("serial", "name", "go", "state", "on", "site", "timed", "timed_out", "ident")

    def __init__(self, serial, name):
        self.serial = serial
        self.name = name
        self.go = _raw_allocate()
        self.go.acquire()
        self.state = "runnable"  # runnable | blocked | done
        self.on = None
        self.site = None
        self.timed = False
        self.timed_out = False
        self.ident = None


class Scheduler:
    def __init__(self, seed, probability, report, site):
        self.rng = random.Random(seed ^ 0x5C4ED)
        self.p = probability
        self.report = report
        self.site = site
        self.mu = _raw_allocate()
        self.threads = []        # _Managed, in registration order
        self.by_ident = {}
        self.switches = 0
        self.holder = None       # the _Managed whose turn it is

    # -- membership ---------------------------------------------------------------------------
    def manage_current(self):
        m = _Managed(len(self.threads), threading.current_thread().name)
        m.go.release()  # the caller is running now
        m.go.acquire(False)
        m.ident = _get_ident()
        self.threads.append(m)
        self.by_ident[m.ident] = m
        self.holder = m
        return m

    def me(self):
        """The calling thread's entry while it is managed: from its first turn until it exits (an exited
        thread's id is soon another thread's, which must not inherit its entry)."""
        return self.by_ident.get(_get_ident())

    # -- the turn -----------------------------------------------------------------------------
    def _pick(self, me):
        runnable = [t for t in self.threads if t.state == "runnable"]
        if runnable:
            return self.rng.choice(runnable)
        timed = [t for t in self.threads if t.state == "blocked" and t.timed]
        if timed:
            # A lock cycle among the others will never resolve: report it now rather than let a timed
            # wait (a check's join with a timeout, say) expire and hide it.
            if grade_deadlock.find_wait_cycle():
                return None
        if timed:  # time passes only when everyone waits: the first timed wait expires
            t = timed[0]
            t.state, t.timed_out = "runnable", True
            return t
        return None

    def switch(self, me):
        """Gives the turn to a thread the RNG picks (perhaps `me` again); returns when `me` runs.
        Once the scheduler has ended (release_all), threads run freely and this returns at once: a
        thread still inside the student's code (a polling loop whose frame keeps the tracer) must not
        hand out turns that nobody takes."""
        if active is not self or self.holder is not me:
            # Only the thread whose turn it is hands the turn on: any other thread that gets here (one
            # running outside its turn) would set two threads running at once.
            return
        with self.mu:
            nxt = self._pick(me)
            if nxt is None:
                stuck = self.describe_stuck()
            else:
                self.switches += 1
        if nxt is None:
            self.report(stuck)
            return
        if nxt is me:
            return
        self.holder = nxt
        nxt.go.release()
        me.go.acquire()

    def yield_now(self):
        if active is not self:
            return
        me = self.me()
        if me is not None and me.state == "runnable" and self.rng.random() < self.p:
            self.switch(me)

    def wait_until(self, ready, on, timeout=None):
        """Blocks the calling managed thread until ready() is true (it is retried whenever `on` is woken),
        or until the timeout (which expires only when every thread waits). Returns ready()'s last value."""
        me = self.me()
        if ready():
            return True
        site = self.site(3)
        while True:
            me.state, me.on, me.site = "blocked", on, site
            me.timed, me.timed_out = timeout is not None and timeout >= 0, False
            self.switch(me)
            me.on, me.timed = None, False
            if ready():
                return True
            if me.timed_out:
                return False
            if active is not self or self.holder is not me:
                return _free_wait(ready, timeout)

    def wake(self, obj):
        for t in self.threads:
            if t.state == "blocked" and t.on is obj:
                t.state = "runnable"

    def wake_thread(self, m):
        if m.state == "blocked":
            m.state = "runnable"

    def exit_current(self):
        me = self.me()
        if me is None:
            return
        with self.mu:
            self.by_ident.pop(me.ident, None)
            me.state = "done"
            self.wake(me)
            if self.holder is not me:
                return  # it ran outside its turn: handing a turn on is the holder's to do
            nxt = self._pick(me)
            stuck = self.describe_stuck() if nxt is None and self._live() else None
        if nxt is not None:
            self.holder = nxt
            nxt.go.release()
        elif stuck:
            self.report(stuck)

    def _live(self):
        return any(t.state != "done" for t in self.threads)

    def describe_stuck(self):
        suffix = " [controlled schedule, %d switches: replays exactly with the same seed]" % self.switches
        cycle = grade_deadlock.find_wait_cycle()
        if cycle:
            d = grade_deadlock.describe_cycle(cycle)
            d["summary"] += suffix
            return d
        threads, parts = [], []
        for t in self.threads:
            if t.state != "blocked":
                continue
            what = _describe(t.on, t.ident)
            f, line, fn = t.site or ("?", 0, "?")
            parts.append("%s waits at %s:%d in %s for %s" % (t.name, f, line, fn, what))
            threads.append({"name": t.name, "file": f, "line": line, "function": fn,
                            "waiting_for": what, "holding": _holding(t.ident)})
        return {
            "kind": "lost_wakeup",
            "summary": "no thread can make progress (every thread waits and none is left to wake it): "
                       + "; ".join(parts) + suffix,
            "threads": threads,
            "cycle": [],
        }

    # -- start and stop ---------------------------------------------------------------------------
    def release_all(self):
        """The check is over: every managed thread still waiting for a turn runs freely from now on."""
        global active
        active = None
        for t in self.threads:
            if t.state != "done":
                try:
                    t.go.release()
                except RuntimeError:
                    pass


def _free_wait(ready, timeout):
    """The rest of a wait that began under the scheduler and outlived it: the check is over, so a
    short poll of ready() stands in for the primitive's own wake-up (this thread no longer has a turn
    to be given)."""
    deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
    while not ready():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        _real_sleep(0.002)
    return True


def _describe(on, ident):
    if isinstance(on, threading.Thread):
        return "thread %s to finish (join)" % on.name
    if isinstance(on, _Managed):
        return "thread %s to finish (join)" % on.name
    if getattr(on, "describe", None) is None:
        return repr(on)
    return grade_deadlock.waiting_text(ident, on)


def _holding(ident):
    return grade_waits.holding(ident)


def _start(self):
    s = active
    if s is None or s.me() is None:
        return _original_start(self)
    m = _Managed(len(s.threads), self.name)
    s.threads.append(m)
    run = self.run

    def managed_run():
        m.ident = _get_ident()
        s.by_ident[m.ident] = m
        m.go.acquire()  # wait for the first turn
        try:
            run()
        finally:
            if active is s:
                s.exit_current()
    self.run = managed_run
    self._grade_managed = m
    _original_start(self)


def _join(self, timeout=None):
    s = active
    m = getattr(self, "_grade_managed", None)
    if s is None or m is None or s.me() is None:
        return _original_join(self, timeout)
    s.wait_until(lambda: m.state == "done", on=m, timeout=timeout)
    if m.state == "done":
        _original_join(self, None)


def _sleep(seconds):
    s = active
    me = s.me() if s is not None else None
    if me is None:
        return _real_sleep(seconds)
    s.switch(me)


threading.Thread.start = _start
threading.Thread.join = _join


def begin(seed, probability, report, site):
    """Makes the calling thread the first managed thread and switches scheduling on."""
    global active
    s = Scheduler(seed, probability, report, site)
    s.manage_current()
    active = s
    time.sleep = _sleep
    return s


def end(s):
    time.sleep = _real_sleep
    if s is not None:
        s.release_all()
