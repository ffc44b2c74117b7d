"""History oracles, a virtual clock and measurements for checks. Import from a lab's checks.py:

    from grade_oracles import History, exactly_once, fifo_per_key, priority_order, ConcurrencyMeter, VirtualClock
    from grade_oracles import in_wait, await_waiting, max_in_flight, max_in_window

Every oracle returns None when the history is right, or a message naming the first violating event.
Standard library only.
"""
import itertools
import os
import sys
import threading
import time
import types

_raw_lock = threading._allocate_lock


class History:
    """A thread-safe, timestamped record of events: (seq, t, thread name, kind, data)."""

    def __init__(self):
        self._lock = _raw_lock()
        self._seq = itertools.count()
        self.events = []

    def record(self, kind, **data):
        with self._lock:
            ev = (next(self._seq), time.monotonic(), threading.current_thread().name, kind, data)
            self.events.append(ev)
        return ev

    def of(self, kind):
        return [e for e in self.events if e[3] == kind]


def _first_dup(items):
    seen = set()
    for i, x in enumerate(items):
        if x in seen:
            return i, x
        seen.add(x)
    return None


def exactly_once(produced, consumed, what="item"):
    """Every produced item consumed exactly once, and nothing else consumed."""
    dup = _first_dup(consumed)
    if dup is not None:
        return "%s %r was consumed twice (the second time as consumption #%d)" % (what, dup[1], dup[0] + 1)
    produced_set = set(produced)
    for i, x in enumerate(consumed):
        if x not in produced_set:
            return "%s %r was consumed (#%d) but never produced" % (what, x, i + 1)
    consumed_set = set(consumed)
    missing = [x for x in produced if x not in consumed_set]
    if missing:
        return "%d %s(s) produced but never consumed, first %r" % (len(missing), what, missing[0])
    return None


def fifo_per_key(consumed, key=lambda x: x[0], seq=lambda x: x[1], what="producer"):
    """Items of one key (a producer) come out in the order they went in (their seq increases)."""
    last = {}
    for i, x in enumerate(consumed):
        k, s = key(x), seq(x)
        if k in last and s < last[k][0]:
            return "%s %r: item %r came out (#%d) after its later item %r (#%d): not FIFO" % (
                what, k, x, i + 1, last[k][1], last[k][2] + 1)
        last[k] = (s, x, i)
    return None


def priority_order(consumed, priority=lambda x: x[0], order=lambda x: x[1]):
    """Single consumer after all items were queued: lowest priority value first, FIFO among equals."""
    keyed = [(priority(x), order(x)) for x in consumed]
    for i in range(1, len(keyed)):
        if keyed[i] < keyed[i - 1]:
            a, b = consumed[i - 1], consumed[i]
            why = "a lower priority first" if keyed[i][0] < keyed[i - 1][0] else "not FIFO within a priority"
            return "item %r (#%d) came out before %r (#%d): %s" % (a, i, b, i + 1, why)
    return None


def max_in_flight(spans):
    """The most spans (start, end) in progress at one instant: requests in flight at once as the server
    saw them (arrival to answer), calls running at once. An end of None is still in progress; at equal
    times an end counts before a start."""
    events = []
    for start, end in spans:
        events.append((start, 1))
        events.append((end if end is not None else float("inf"), -1))
    events.sort(key=lambda e: (e[0], e[1]))
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


def max_in_window(starts, window_ms):
    """The most events of one key that started within any `window_ms`: starts is an iterable of (key,
    start_ms); (count, key, first start_ms of that window). Rate limits, per site or per path."""
    groups = {}
    for k, start in starts:
        groups.setdefault(k, []).append(start)
    best = (0, None, None)
    for k, times in groups.items():
        times.sort()
        j = 0
        for i, t in enumerate(times):
            while t - times[j] >= window_ms:
                j += 1
            if i - j + 1 > best[0]:
                best = (i - j + 1, k, times[j])
    return best


class ConcurrencyMeter:
    """Counts how many threads are inside a region at once; remembers the maximum and the first
    moment it went over `bound`."""

    def __init__(self, bound=None):
        self._lock = _raw_lock()
        self.inside = 0
        self.max = 0
        self.bound = bound
        self.first_violation = None

    def __enter__(self):
        with self._lock:
            self.inside += 1
            if self.inside > self.max:
                self.max = self.inside
            if self.bound is not None and self.inside > self.bound and self.first_violation is None:
                self.first_violation = "%s entered while %d others were inside (bound %d)" % (
                    threading.current_thread().name, self.inside - 1, self.bound)
        return self

    def __exit__(self, *exc):
        with self._lock:
            self.inside -= 1


class Progress:
    """Per-thread progress counters: `tick()` from the student's callbacks, then assert on `counts`."""

    def __init__(self):
        self._lock = _raw_lock()
        self.counts = {}

    def tick(self, name=None, n=1):
        name = name if name is not None else threading.current_thread().name
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def starved(self, names):
        return [n for n in names if self.counts.get(n, 0) == 0]


def in_wait(thread):
    """Whether `thread` is blocked inside a wait of threading's own (Condition.wait and wait_for,
    Event.wait, Semaphore.acquire's): where a lost wake-up check needs every waiter before it wakes them."""
    frame = sys._current_frames().get(thread.ident)
    return frame is not None and frame.f_code.co_filename == threading.__file__ and frame.f_code.co_name == "wait"


def await_waiting(threads, limit, alive=False, some=False):
    """Polls until every thread of `threads` is inside a wait (`in_wait`), twice in a row; False after
    `limit` s. Threads that have finished are left out, unless `alive` (then a finished thread is never
    waiting); with none left, true unless `some`."""
    deadline, seen = time.monotonic() + limit, 0
    while time.monotonic() < deadline:
        live = threads if alive else [t for t in threads if t.is_alive()]
        ready = all(t.is_alive() and in_wait(t) for t in live) if live else not some
        seen = seen + 1 if ready else 0
        if seen >= 2:
            return True
        time.sleep(0.005)
    return False


def thread_cpu_seconds(thread):
    """CPU time (user + system) a live thread has used so far, from /proc (Linux)."""
    tid = getattr(thread, "native_id", None)
    if tid is None:
        return 0.0
    try:
        with open("/proc/self/task/%d/stat" % tid, "rb") as fh:
            stat = fh.read().decode()
    except OSError:
        return 0.0
    rest = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(rest[11]) + int(rest[12])) / ticks


class VirtualClock:
    """A clock the check controls. `patch(module)` makes the module's `time.time()`, `monotonic()`,
    `perf_counter()` and `sleep()` (through `import time` or `from time import ...`) use it;
    `sleep(s)` advances it by s. `restore()` undoes every patch (done for you after each run)."""

    def __init__(self, start=1_000_000.0):
        self._lock = _raw_lock()
        self.now = float(start)
        self._patched = []
        self.sleeps = []

    def time(self):
        return self.now

    monotonic = perf_counter = time

    def monotonic_ns(self):
        return int(self.now * 1e9)

    time_ns = monotonic_ns

    def advance(self, seconds):
        with self._lock:
            self.now += seconds

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        if seconds > 0:
            self.advance(seconds)
        time.sleep(0)

    def _fake_time_module(self):
        fake = types.ModuleType("time")
        fake.__dict__.update(time.__dict__)
        for name in ("time", "monotonic", "perf_counter", "sleep", "monotonic_ns", "time_ns"):
            setattr(fake, name, getattr(self, name))
        return fake

    def patch(self, module):
        fake = self._fake_time_module()
        for name, value in list(vars(module).items()):
            replacement = None
            if value is time:
                replacement = fake
            elif getattr(value, "__module__", None) == "time" and hasattr(fake, getattr(value, "__name__", "")):
                if value is getattr(time, value.__name__, None):
                    replacement = getattr(fake, value.__name__)
            if replacement is not None:
                self._patched.append((module, name, value))
                setattr(module, name, replacement)
        return self

    def restore(self):
        for module, name, value in reversed(self._patched):
            setattr(module, name, value)
        self._patched.clear()


__all__ = [n for n in dir(sys.modules[__name__]) if not n.startswith("_")]
