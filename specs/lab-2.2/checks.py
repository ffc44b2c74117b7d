"""Workloads for lab-2.2, producer-consumer with a queue (judge.py, which the submission never sees, gives
the verdicts from what they record).

The student's API (see starter/lab-2.2/producer_consumer.py):

    run(sources, consume, consumers=4, maxsize=8) -> int

Every check hands run() sources that are the grader's own generators (each records the item it
hands to a producer thread: "produce") and a `consume` callback that records the item it receives
and the thread it runs in ("consume"). Each run records both histories (threads as numbers, with their
names); the judge runs the oracles over them.

run() is always called from the check's main thread, never from a helper thread: when every thread
of the student's waits in Queue.get() (or another untimed wait) while run() joins them, the harness
names the lost wake-up itself (status `deadlock`) instead of letting the item time out.

Standard library only.
"""
import threading
import time

from grade_lib_student import start_call

HINT_SENTINEL = ("after joining every producer, put one sentinel per consumer on the queue (a unique "
                 "object such as _DONE = object()); a consumer that takes one returns")
def _module(ctx):
    pc = ctx.student("producer_consumer")
    ctx.expect(callable(getattr(pc, "run", None)),
               "producer_consumer.py has no function run(sources, consume, consumers=4, maxsize=8)",
               hint="keep the starter's function name and signature")
    return pc


def _val(value):
    """A value for the judge: a string, None, a bool or a machine-sized int as it is; anything else as
    {"repr": its repr} (it never equals an item the grader made)."""
    if value is None or isinstance(value, str) or isinstance(value, int) and abs(value) < 2 ** 63:
        return value
    return {"repr": repr(value)}


def _items(p, n):
    """n unique items for producer p; producer 0 starts with falsy items (never None)."""
    items = ["p%d-%d" % (p, i) for i in range(n)]
    if p == 0 and n >= 2:
        items[:2] = [0, ""]
    return items


class _Run:
    """One call of run() with recording sources and consume."""

    def __init__(self, ctx, counts, consumers, maxsize, hold=0.0, meter=None):
        self.ctx = ctx
        self.h = ctx.history()
        self.counts = counts
        self.consumers = consumers
        self.maxsize = maxsize
        self.hold = hold
        self.meter = meter
        self.producer_threads = set()  # Thread objects (idents can be reused once a thread ends)
        self.caller = threading.current_thread()
        self.returned = False
        self.late = []
        self.in_flight_max = 0
        self._p = []  # list.append and len() are atomic: no lock needed in these callbacks
        self._c = []
        self.call = "run(%s, consume, consumers=%d, maxsize=%d)" % (
            "[]" if not counts else "[%s]" % ", ".join("<%d items>" % n for n in counts), consumers, maxsize)

    def source(self, p, n):
        for item in _items(p, n):
            self.producer_threads.add(threading.current_thread())
            self.h.record("produce", item=item)
            self._p.append(item)
            inflight = len(self._p) - len(self._c)
            if inflight > self.in_flight_max:
                self.in_flight_max = inflight
            yield item

    def consume(self, item):
        if self.returned:
            self.late.append(item)
        self._c.append(item)
        self.h.record("consume", item=item, thread=threading.current_thread())
        if self.meter is not None:
            with self.meter:
                time.sleep(self.hold)
        elif self.hold:
            time.sleep(self.hold)

    def go(self, sources=None):
        pc = _module(self.ctx)
        self.before = set(threading.enumerate())
        srcs = sources if sources is not None else [self.source(p, n) for p, n in enumerate(self.counts)]
        t0 = time.monotonic()
        self.result = pc.run(srcs, self.consume, consumers=self.consumers, maxsize=self.maxsize)
        self.wall = time.monotonic() - t0
        self.returned = True
        self.h.record("returned")
        return self.result

    def produced(self):
        return [e[4]["item"] for e in self.h.of("produce")]

    def consumed(self):
        return [e[4]["item"] for e in self.h.of("consume")]

    def record(self, **extra):
        """What this run did, for the judge: the items produced and consumed (in order), run()'s result,
        and which thread consumed each item (threads as numbers: the caller, the producers, names)."""
        ids = {}

        def tid(thread):
            return ids.setdefault(thread, len(ids))
        caller = tid(self.caller)
        producers = sorted(tid(t) for t in self.producer_threads)
        consumed = [[_val(e[4]["item"]), tid(e[4]["thread"])] for e in self.h.of("consume")]
        seen = dict(produced=[_val(x) for x in self.produced()], consumed=consumed, result=_val(self.result),
                    caller=caller, producers=producers, names={str(i): t.name for t, i in ids.items()})
        seen.update(extra)
        return seen


# ---------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Small runs, producers >= consumers: what each run consumed, from which threads, and returned."""
    runs = []
    for producers_items, consumers in ctx.params["cases"]:
        r = _Run(ctx, producers_items, consumers, ctx.params.get("maxsize", 4))
        r.go()
        runs.append(r.record())
    ctx.observe("runs", runs)


def exactly_once_stress(ctx):
    """Several producers and consumers under forced thread switches (the judge runs the exactly-once
    oracle). One run per entry of `maxsizes` (default [maxsize]): with maxsize 1 the queue flips between
    full and empty at every item, so producers waiting for room and consumers waiting for an item often
    wait at once; a hand-made buffer whose put() and get() wake each other with notify() on ONE shared
    condition then wakes a thread of the wrong side, and every thread ends up waiting (named a lost
    wake-up under the controlled scheduler). With maxsize 64 the producers never wait: each consume()
    sleeps `hold`, which under the controlled scheduler is no time but a switch point, so consumers
    fall behind and items are still queued when the producers finish (a shutdown that drops them
    shows: about 1 run in 5 caught it with only the small queues, every run with this one)."""
    p = ctx.params
    runs = []
    for _ in range(p.get("rounds", 1)):
        for maxsize in p.get("maxsizes", [p["maxsize"]]):
            r = _Run(ctx, [p["items"]] * p["producers"], p["consumers"], maxsize, hold=p.get("hold", 0.0))
            r.go()
            runs.append(r.record())
    ctx.observe("runs", runs)


def clean_shutdown(ctx):
    """run() returns only when every consumer has finished: more consumers than producers, an empty
    source, no source at all. Every consume() is a little slow, so a run() that does not wait for
    its consumers returns while they are still working. Threads still running when run() returned
    fail the run here (they would wait in get() for ever); items consumed after it returned are
    recorded for the judge."""
    p = ctx.params
    runs = []
    for producers_items, consumers in p["cases"]:
        r = _Run(ctx, producers_items, consumers, p.get("maxsize", 4), hold=p.get("hold", 0.01))
        r.go()
        alive = [t for t in threading.enumerate() if t not in r.before and t.is_alive()]
        if alive:
            ctx.fail("%s returned while %d thread(s) it started were still running (%s): run() must "
                     "return only after every producer and consumer thread has finished"
                     % (r.call, len(alive), ", ".join(sorted(t.name for t in alive)[:6])),
                     hint=HINT_SENTINEL + "; then join() every consumer thread before returning "
                     "(daemon threads blocked in get() are not a shutdown)")
        time.sleep(p.get("settle", 0.03))
        runs.append(r.record(alive=[t.name for t in alive], late=[_val(x) for x in r.late]))
    ctx.observe("runs", runs)


def consumers_block(ctx):
    """While the queue is empty, consumers must sleep in get(), not spin.

    One producer hands out `warm` items, waits until they are all consumed (the queue is empty),
    then measures the CPU time of every other thread run() started while it sleeps: blocked
    consumers use none at all; busy-waiting ones use whatever share of a core the machine gives
    them. The window lasts `idle` seconds, and up to `idle_max` when a little CPU time was seen (a
    loaded machine gives a spinner less). Then the producer hands out `warm` more items. The CPU
    seconds per thread and the window's wall time are recorded; the judge compares them."""
    p = ctx.params
    warm, limit = p["warm"], p["max_cpu_fraction"]
    idle, idle_max = p["idle"], p["idle_max"]
    r = _Run(ctx, [2 * warm], p["consumers"], p["maxsize"])
    measured = {}

    def measure(me):
        deadline = time.monotonic() + p.get("drain_s", 2.0)
        while len(r._c) < warm and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # the consumers go back to get()
        others = [t for t in threading.enumerate() if t not in r.before and t is not me and t.is_alive()]
        c0 = {t: ctx.thread_cpu(t) for t in others}
        w0 = time.monotonic()
        while True:
            time.sleep(0.05)
            wall = time.monotonic() - w0
            cpu = {t: ctx.thread_cpu(t) - c0[t] for t in others}
            total = sum(cpu.values())
            if wall >= idle and total == 0:
                break  # blocked: not a single tick of CPU time
            if wall >= idle and total > limit * idle_max:
                break  # spinning, plainly
            if wall >= idle_max:
                break
        measured.update(cpu=cpu, wall=wall)

    def source():
        me = threading.current_thread()
        for i, item in enumerate(_items(0, 2 * warm)):
            if i == warm:
                measure(me)
            r.producer_threads.add(threading.current_thread())
            r.h.record("produce", item=item)
            yield item

    r.go([source()])
    ctx.observe("run", r.record())
    # [name, cpu seconds] per thread (two threads may share a name), or None when the source never got
    # that far
    ctx.observe("idle_cpu", [[t.name, cpu] for t, cpu in measured["cpu"].items()] if measured else None)
    ctx.observe("idle_wall", measured.get("wall"))


# ---------------------------------------------------------------------------
# problem_solving


def parallel_consumers(ctx):
    """consume() sleeps (I/O): with `consumers` threads, how many were inside it at once (and how long
    the run took) is recorded."""
    p = ctx.params
    meter = ctx.meter()
    r = _Run(ctx, [p["items"]] * p["producers"], p["consumers"], p["maxsize"], hold=p["hold"], meter=meter)
    r.go()
    ctx.observe("run", r.record(together=meter.max, wall=r.wall))


def backpressure(ctx):
    """Slow consumers, fast producers: how far the producers ran ahead of consume() is recorded."""
    p = ctx.params
    r = _Run(ctx, [p["items"]] * p["producers"], p["consumers"], p["maxsize"], hold=p["hold"])
    r.go()
    ctx.observe("run", r.record(in_flight_max=r.in_flight_max))


# ---------------------------------------------------------------------------
# performance


def bench_pipeline(ctx):
    """Timed workload: `producers` sources whose items arrive every `gap` seconds, through `consumers`
    consumers whose consume() sleeps `hold` seconds (both I/O-like). The consumers keep up, so the
    queue is often empty: blocked consumers cost nothing, spinning ones take the GIL from the
    producers. Each call is checked (count and the set of items) and guarded by a timeout."""
    pc = _module(ctx)
    p = ctx.params
    producers, n, consumers, maxsize = p["producers"], p["items"], p["consumers"], p["maxsize"]
    hold, gap, timeout = p["hold"], p["gap"], p["timeout_s"]
    expected = producers * n

    def source(k):
        for item in range(k * n, (k + 1) * n):
            time.sleep(gap)  # items arrive one by one (I/O-like): the queue is often empty
            yield item

    def workload():
        seen = []

        def consume(item):
            seen.append(item)
            time.sleep(hold)

        t, box = start_call(lambda: pc.run([source(k) for k in range(producers)], consume, consumers=consumers,
                                           maxsize=maxsize), name="bench-run")
        t.join(timeout)
        if t.is_alive():
            ctx.fail("run() with %d producers x %d items and %d consumers did not return within %.1f s "
                     "(a consumer left waiting without a sentinel?)" % (producers, n, consumers, timeout),
                     hint=HINT_SENTINEL)
        if "error" in box:
            raise box["error"]
        ctx.expect(box.get("value") == expected and len(seen) == expected and len(set(seen)) == expected,
                   "run() consumed %d items (%d distinct) and returned %r; %d expected. Speed is only "
                   "measured on correct runs." % (len(seen), len(set(seen)), box.get("value"), expected),
                   hint="make the exactly-once items pass first")
    return workload
