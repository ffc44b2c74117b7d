"""Judgements for lab-2.2, producer-consumer with a queue (the workloads are in checks.py). Runs outside
the submission's process: the items every run must consume, the counts and the bounds come from the
item's params; every verdict from what the workload recorded (the produce and consume histories, run()'s
result, the consuming threads, the measurements)."""
from collections import Counter

from grade_lib_values import undo_repr
from grade_oracles import exactly_once

HINT_SENTINEL = ("after joining every producer, put one sentinel per consumer on the queue (a unique "
                 "object such as _DONE = object()); a consumer that takes one returns")
HINT_EXACTLY_ONCE = ("let queue.Queue hand items over: keep each item in a local variable of the thread "
                     "that got it, and drain the queue before consumers stop")
HINT_BLOCK = ("call q.get() (blocking, no timeout needed) and let it sleep while the queue is empty; "
              "never loop on q.empty() or get_nowait()")


def _items(p, n):
    """n unique items for producer p; producer 0 starts with falsy items (never None). (The workload's
    sources hand out exactly these.)"""
    items = ["p%d-%d" % (p, i) for i in range(n)]
    if p == 0 and n >= 2:
        items[:2] = [0, ""]
    return items


def _call(counts, consumers, maxsize):
    return "run(%s, consume, consumers=%d, maxsize=%d)" % (
        "[]" if not counts else "[%s]" % ", ".join("<%d items>" % n for n in counts), consumers, maxsize)


class _Run:
    """One recorded run of run(counts, consume, consumers, maxsize)."""

    def __init__(self, j, seen, counts, consumers, maxsize):
        self.j, self.seen = j, seen
        self.counts, self.consumers = counts, consumers
        self.call = _call(counts, consumers, maxsize)
        self.produced = [undo_repr(x) for x in seen["produced"]]
        self.consumed = [undo_repr(x) for x, _ in seen["consumed"]]

    def check_exactly_once(self):
        j = self.j
        msg = exactly_once(self.produced, self.consumed)
        if msg:
            j.fail("%s: every item must be consumed exactly once, but %s" % (self.call, msg),
                   hint=HINT_EXACTLY_ONCE)
        total = sum(self.counts)
        result = self.seen["result"]
        j.expect(result == total,
                 "%s returned %r; it must return the number of items consumed (%d)"
                 % (self.call, undo_repr(result), total),
                 hint="count the items each consumer consumed and return the sum after joining them")
        expected = [x for p, n in enumerate(self.counts) for x in _items(p, n)]
        taken = Counter(self.produced)
        j.expect(taken == Counter(expected),
                 "%s: the producers took %d of the %d items of the sources: every source must be iterated "
                 "to its end, each item put on the queue" % (self.call, sum(taken.values()), len(expected)),
                 hint="one producer thread per source: `for item in source: q.put(item)`")

    def check_threads(self):
        j, seen = self.j, self.seen
        names = seen["names"]
        producers, caller = set(seen["producers"]), seen["caller"]
        wrong = [(x, t) for x, t in seen["consumed"] if t in producers or t == caller]
        if wrong:
            item, t = wrong[0]
            who = "the thread that called run()" if t == caller else "a producer thread (%s)" % names[str(t)]
            j.fail("%s: consume(%r) was called from %s; items must go through the queue to "
                   "consumer threads" % (self.call, undo_repr(item), who),
                   hint="producers only put items on the queue; consumer threads get them and call consume")
        threads = {t for _, t in seen["consumed"]}
        j.expect(len(threads) <= self.consumers,
                 "%s: consume() was called from %d different threads (%s), more than consumers=%d"
                 % (self.call, len(threads), ", ".join(sorted(names[str(t)] for t in threads)[:6]),
                    self.consumers),
                 hint="start exactly `consumers` consumer threads")


def _runs(j, shapes):
    """The recorded runs, one per (counts, consumers, maxsize) the workload was asked for."""
    runs = j.obs["runs"]
    j.expect(isinstance(runs, list) and len(runs) == len(shapes),
             "the run recorded %s calls of run(), not %d" % (len(runs) if isinstance(runs, list) else "no",
                                                            len(shapes)))
    return [_Run(j, seen, *shape) for seen, shape in zip(runs, shapes)]


# ---------------------------------------------------------------------------
# completion_quality


def basic(j):
    """Small runs, producers >= consumers: every item consumed once, from consumer threads, counted."""
    maxsize = j.params.get("maxsize", 4)
    for r in _runs(j, [(counts, consumers, maxsize) for counts, consumers in j.params["cases"]]):
        r.check_exactly_once()
        r.check_threads()


def exactly_once_stress(j):
    """Several producers and consumers under forced thread switches: the exactly-once oracle, every run."""
    p = j.params
    shapes = [([p["items"]] * p["producers"], p["consumers"], maxsize)
              for _ in range(p.get("rounds", 1)) for maxsize in p.get("maxsizes", [p["maxsize"]])]
    for r in _runs(j, shapes):
        r.check_exactly_once()


def clean_shutdown(j):
    """run() returns only when every consumer has finished, and every item was consumed before."""
    p = j.params
    maxsize = p.get("maxsize", 4)
    for r in _runs(j, [(counts, consumers, maxsize) for counts, consumers in p["cases"]]):
        alive = r.seen["alive"]
        if alive:  # the workload fails such a run itself: a report that did not is not the grader's
            j.fail("%s returned while %d thread(s) it started were still running (%s): run() must "
                   "return only after every producer and consumer thread has finished"
                   % (r.call, len(alive), ", ".join(sorted(alive)[:6])),
                   hint=HINT_SENTINEL + "; then join() every consumer thread before returning "
                   "(daemon threads blocked in get() are not a shutdown)")
        late = r.seen["late"]
        if late:
            j.fail("%s returned before every item was consumed: consume(%r) was called after it "
                   "returned" % (r.call, undo_repr(late[0])), hint="join the consumer threads before returning")
        r.check_exactly_once()


def consumers_block(j):
    """While the queue is empty, the threads run() started use (almost) no CPU time."""
    p = j.params
    warm, limit = p["warm"], p["max_cpu_fraction"]
    r = _Run(j, j.obs["run"], [2 * warm], p["consumers"], p["maxsize"])
    r.check_exactly_once()
    per_thread = j.obs["idle_cpu"]
    j.expect(per_thread is not None, "%s: the grader's source was never iterated up to item %d"
             % (r.call, warm), hint="iterate every source to its end in a producer thread")
    wall = j.number("idle_wall")
    j.expect(wall >= p["idle"], "the idle window lasted %.2f s, less than the %.2f s asked for" % (wall, p["idle"]))
    for name, seconds in per_thread:
        j.expect(isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0,
                 "thread %s: CPU seconds recorded as %r" % (name, seconds))
    cpu = sum(seconds for _, seconds in per_thread)
    if cpu > limit * wall:
        busiest = sorted(per_thread, key=lambda kv: -kv[1])[:4]
        j.fail("while the queue was empty for %.2f s, the threads run() started used %.2f s of CPU "
               "(%.0f%% of the wall time, at most %.0f%% allowed: %s): the consumers busy-wait "
               "(spin) instead of blocking" % (
                   wall, cpu, 100 * cpu / wall, 100 * limit,
                   ", ".join("%s %.2f s" % (name, seconds) for name, seconds in busiest)),
               hint=HINT_BLOCK)


# ---------------------------------------------------------------------------
# problem_solving


def parallel_consumers(j):
    """consume() sleeps (I/O): with `consumers` threads, several must be inside it at once."""
    p = j.params
    r = _Run(j, j.obs["run"], [p["items"]] * p["producers"], p["consumers"], p["maxsize"])
    r.check_exactly_once()
    need = p["min_together"]
    together, wall = r.seen["together"], r.seen["wall"]
    j.expect(isinstance(together, int) and isinstance(wall, (int, float)),
             "the run recorded no measurement of consume() calls at once")
    if together < need:
        serial = sum(r.counts) * p["hold"]
        j.fail("%s with a %.0f ms consume(): at most %d consume() call(s) ran at once (at least %d "
               "expected); the run took %.2f s, %.0f%% of doing them one by one (%.2f s)"
               % (r.call, 1000 * p["hold"], together, need, wall, 100 * wall / serial, serial),
               hint="start `consumers` consumer threads and call consume(item) outside any lock: "
                    "a lock held around consume() serialises the consumers")


def backpressure(j):
    """Slow consumers, fast producers: the bounded queue makes producers wait."""
    p = j.params
    r = _Run(j, j.obs["run"], [p["items"]] * p["producers"], p["consumers"], p["maxsize"])
    r.check_exactly_once()
    bound = p["maxsize"] + p["producers"] + p["consumers"]
    ahead = r.seen["in_flight_max"]
    j.expect(isinstance(ahead, int), "the run recorded no count of items in flight")
    if ahead > bound:
        j.fail("%s: the producers ran %d items ahead of consume() (at most maxsize + producers + "
               "consumers = %d possible with a bounded queue): the queue is not bounded by maxsize"
               % (r.call, ahead, bound),
               hint="create the queue as queue.Queue(maxsize) and put() with blocking (the default), "
                    "so producers wait while it is full")
