"""Checks for lab-3.3: a thread-safe TTL cache (API: the docstring of starter/lab-3.3/ttl_cache.py).

Time: every check passes its own FakeClock as `clock=` and moves it by hand; nothing sleeps to make an
entry expire. The fake clock is deliberately NOT ctx.virtual_clock(): that one is patched into the
student's module, so a cache that ignores the injected clock and calls time.monotonic() itself would
read the same virtual time and pass. With a private clock, such a cache sees real time and fails.
"""
import gc
import threading
import time
import weakref


class FakeClock:
    """clock() for the cache: a time the check moves by hand. Times are exact binary fractions."""

    def __init__(self, start=1000.0):
        self.now = float(start)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def set(self, now):
        self.now = float(now)


class Val:
    """A cached value that can be weakly referenced (to see whether the cache still holds it)."""

    __slots__ = ("key", "tag", "__weakref__")

    def __init__(self, key, tag):
        self.key = key
        self.tag = tag

    def __repr__(self):
        return "Val(%r, %r)" % (self.key, self.tag)


class _Miss:
    def __repr__(self):
        return "<the default>"


MISS = _Miss()  # a default no cache can return by accident

CLOCK_HINT = ("read the time only through the clock passed to the constructor (self._clock()), never "
              "time.time() or time.monotonic() directly: the tests move a fake clock")


def _cache(ctx, ttl, max_size=None, start=1000.0):
    mod = ctx.student("ttl_cache")
    clock = FakeClock(start)
    return mod, mod.TTLCache(ttl, max_size=max_size, clock=clock), clock


def _expect_live(ctx, c, clock, key, expected, why, hint=None):
    got = c.get(key, MISS)
    if got is MISS:
        ctx.fail("get(%r) found nothing at clock %s, %s" % (key, clock.now, why), hint=hint)
    ctx.expect(got == expected, "get(%r) at clock %s returned %r, expected %r (%s)"
               % (key, clock.now, got, expected, why))


def _expect_gone(ctx, c, clock, key, why, hint=None):
    got = c.get(key, MISS)
    ctx.expect(got is MISS, "get(%r) at clock %s returned %r; %s: expected the default"
               % (key, clock.now, got, why), hint=hint)


# -- completion_quality ------------------------------------------------------------------------------------

def cache_basic(ctx):
    mod, c, clock = _cache(ctx, 60)
    ctx.expect(c.get("nope") is None, "get('nope') on an empty cache should return None (the default default)")
    ctx.expect(c.get("nope", MISS) is MISS, "get('nope', default) should return the default it was given")
    c.set("a", 1)
    c.set("b", [2])
    ctx.expect_eq(c.get("a"), 1, "get('a') after set('a', 1)")
    ctx.expect_eq(c.get("b"), [2], "get('b') after set('b', [2])")
    c.set("a", 10)
    ctx.expect_eq(c.get("a"), 10, "get('a') after set('a', 10) replaced 1")
    ctx.expect_eq(len(c), 2, "len(cache) with keys 'a' and 'b'")
    ctx.expect_eq(c.delete("a"), True, "delete('a') of a live key")
    ctx.expect_eq(c.delete("a"), False, "delete('a') a second time")
    ctx.expect(c.get("a", MISS) is MISS, "get('a') after delete('a') should return the default")
    ctx.expect_eq(len(c), 1, "len(cache) after the delete")
    c.set(("tuple", 1), "t")
    ctx.expect_eq(c.get(("tuple", 1)), "t", "get() with a tuple key")
    ctx.expect_eq(c.get_or_set("g", lambda: "made"), "made", "get_or_set('g', factory) of a missing key")
    ctx.expect_eq(c.get_or_set("g", lambda: "again"), "made",
                  "get_or_set('g', factory) of a live key (factory must not be called)")
    ctx.expect_eq(c.get("g"), "made", "get('g') after get_or_set stored it")
    for bad in (0, -1):
        try:
            mod.TTLCache(bad, clock=FakeClock())
        except ValueError:
            pass
        else:
            ctx.fail("TTLCache(ttl=%r) did not raise ValueError" % bad)
    try:
        mod.TTLCache(5, max_size=0, clock=FakeClock())
    except ValueError:
        pass
    else:
        ctx.fail("TTLCache(5, max_size=0) did not raise ValueError")


def ttl_expiry(ctx):
    """Expiry by the injected clock, exactly at set time + ttl; set() refreshes, get() does not."""
    _, c, clock = _cache(ctx, 5)
    c.set("a", 1)
    ctx.expect(clock.calls > 0, "set() never called the clock passed as clock=: the cache must read the time "
               "only through it", hint=CLOCK_HINT)
    _expect_live(ctx, c, clock, "a", 1, "0 s after set('a', 1) with ttl=5")
    clock.set(1004.5)
    _expect_live(ctx, c, clock, "a", 1, "4.5 s after set('a', 1) with ttl=5: still live")
    calls = clock.calls
    clock.set(1005.0)
    _expect_gone(ctx, c, clock, "a", "that is exactly ttl=5 s after set('a', 1) at 1000.0, when the entry "
                 "expires (live while clock() < set time + ttl)",
                 hint="an entry is expired when clock() >= set time + ttl: compare with >=, not >")
    ctx.expect(clock.calls > calls, "get() did not call the clock: it cannot know whether the entry expired",
               hint=CLOCK_HINT)
    ctx.expect_eq(len(c), 0, "len(cache) once its only entry expired")
    # set() starts a new ttl; get() does not extend it.
    c.set("a", 2)                 # at 1005: expires at 1010
    clock.set(1007.0)
    c.set("a", 3)                 # refreshed: expires at 1012
    clock.set(1010.0)
    _expect_live(ctx, c, clock, "a", 3, "set('a', 3) at 1007.0 started a new ttl=5, live until 1012.0")
    clock.set(1011.5)
    _expect_live(ctx, c, clock, "a", 3, "live until 1012.0")
    clock.set(1012.0)
    _expect_gone(ctx, c, clock, "a", "the entry set at 1007.0 expired at 1012.0 (a get() hit must not extend "
                 "its life)", hint="only set() starts a new ttl")
    c.set("b", 4)                 # at 1012: expires at 1017
    clock.set(1017.0)
    ctx.expect_eq(c.delete("b"), False, "delete('b') at 1017.0 of an entry that expired at 1017.0 (no live "
                  "entry was removed)")
    # A fractional ttl, exactly representable.
    _, c2, clock2 = _cache(ctx, 0.25, start=2000.0)
    c2.set("x", "v")
    clock2.set(2000.125)
    _expect_live(ctx, c2, clock2, "x", "v", "0.125 s after set with ttl=0.25")
    clock2.set(2000.25)
    _expect_gone(ctx, c2, clock2, "x", "exactly ttl=0.25 s after set('x') at 2000.0, when it expires",
                 hint="an entry is expired when clock() >= set time + ttl")
    # The clock's value is what counts, not real time: an entry stays live however long the check takes.
    real = ctx.params["real_sleep_s"]
    _, c3, clock3 = _cache(ctx, 0.25, start=3000.0)
    c3.set("slow", 1)
    time.sleep(real)
    _expect_live(ctx, c3, clock3, "slow", 1, "the fake clock has not moved since set() (%.2f s of real time "
                 "passed, more than ttl=0.25: real time must not matter)" % real, hint=CLOCK_HINT)


def expired_dropped(ctx):
    """Expired entries do not pile up: set() removes them (their values can be collected); purge_expired()
    counts what it removes."""
    n = ctx.params["entries"]
    _, c, clock = _cache(ctx, 10)
    refs = []
    for i in range(n):
        v = Val("k%d" % i, i)
        refs.append(weakref.ref(v))
        c.set("k%d" % i, v)
    del v
    clock.set(1011.0)                       # every k* expired at 1010.0 (the boundary is ttl-expiry's)
    c.set("fresh", Val("fresh", 0))
    gc.collect()
    alive = sum(r() is not None for r in refs)
    ctx.expect(alive == 0, "%d of %d values set at 1000.0 with ttl=10 are still referenced by the cache after "
               "set('fresh') at 1011.0, when they had all expired: expired entries pile up" % (alive, n),
               hint="set() must remove every expired entry first (cheaply: with one ttl for all, the keys "
                    "expire in the order they were set)")
    ctx.expect_eq(len(c), 1, "len(cache) after set('fresh') at 1011.0 (the %d old entries expired)" % n)
    clock.set(1015.0)
    for i in range(5):
        c.set("a%d" % i, i)                 # live until 1025
    clock.set(1021.5)                       # 'fresh' expired at 1021.0
    ctx.expect_eq(c.purge_expired(), 1, "purge_expired() at 1021.5 ('fresh', set at 1011.0, has expired)")
    ctx.expect_eq(len(c), 5, "len(cache) at 1021.5")
    clock.set(1025.5)
    ctx.expect_eq(c.purge_expired(), 5, "purge_expired() at 1025.5 (the five a* keys set at 1015.0 expired)")
    ctx.expect_eq(c.purge_expired(), 0, "purge_expired() again at once")
    ctx.expect_eq(len(c), 0, "len(cache) once everything expired")


def lru_eviction(ctx):
    """max_size: the least recently used live entry is evicted, but only after expired ones are removed."""
    _, c, clock = _cache(ctx, 10, max_size=3)
    c.set("a", 1)
    c.set("b", 2)
    c.set("c", 3)
    ctx.expect_eq(c.get("a"), 1, "get('a') in a full cache of max_size=3")   # order now b, c, a
    c.set("d", 4)                                                             # evicts b
    ctx.expect(c.get("b", MISS) is MISS, "after set a, b, c, get('a'), set('d') with max_size=3, 'b' (the least "
               "recently used) should have been evicted, but get('b') returned %r" % (c.get("b", MISS),),
               hint="a get() hit counts as a use: move the key to the most recent end")
    for k, v in (("a", 1), ("c", 3), ("d", 4)):
        ctx.expect_eq(c.get(k, MISS), v, "get(%r) after 'b' was evicted" % k)
    ctx.expect_eq(len(c), 3, "len(cache) of a full cache with max_size=3")
    c.set("c", 30)                                                            # replacing: no eviction
    ctx.expect_eq([c.get(k, MISS) for k in ("a", "c", "d")], [1, 30, 4],
                  "get of a, c, d after set('c', 30) replaced a key of a full cache (nothing to evict)")
    # Expired entries go before any live one is evicted.
    _, c, clock = _cache(ctx, 10, max_size=3)
    c.set("x", "x")                 # at 1000: expires at 1010
    clock.set(1006.0)
    c.set("y", "y")                 # expire at 1016
    c.set("z", "z")
    clock.set(1007.0)
    ctx.expect_eq(c.get("x"), "x", "get('x') at 1007.0")  # x is now the most recently used, but expires first
    clock.set(1011.0)
    c.set("w", "w")
    got = c.get("y", MISS)
    ctx.expect(got == "y", "with max_size=3, set('w') at 1011.0 evicted the live entry 'y' (get('y') returned "
               "%r) while 'x' had expired at 1010.0: expired entries must be removed before a live one is "
               "evicted" % (got,), hint="set() first removes expired entries, then evicts only if still full")
    ctx.expect(c.get("x", MISS) is MISS, "get('x') at 1011.0 returned a value: it expired at 1010.0")
    ctx.expect_eq([c.get(k, MISS) for k in ("y", "z", "w")], ["y", "z", "w"], "get of y, z, w at 1011.0")


def concurrent_consistency(ctx):
    """Threads mix get, set, delete, get_or_set, len and purge on a few keys of a small cache while one of
    them moves the clock. No call may fail, every value read must belong to its key, the size bound holds,
    and once everything expired the cache holds no value at all."""
    p = ctx.params
    ttl, max_size, keys, threads, ops = p["ttl"], p["max_size"], p["keys"], p["threads"], p["ops"]
    mod, c, clock = _cache(ctx, ttl, max_size=max_size)
    names = ["k%d" % i for i in range(keys)]
    refs = []
    wrong = []
    plans = [[(ctx.rng.random(), ctx.rng.choice(names)) for _ in range(ops)] for _ in range(threads)]
    tick = ttl / 8

    def work(i):
        for j, (r, key) in enumerate(plans[i]):
            if i == 0 and j % 8 == 7:
                clock.advance(tick)
            if r < 0.40:
                got = c.get(key, MISS)
                if got is not MISS and getattr(got, "key", None) != key:
                    wrong.append((key, got))
            elif r < 0.75:
                v = Val(key, (i, j))
                refs.append(weakref.ref(v))
                c.set(key, v)
            elif r < 0.85:
                c.delete(key)
            elif r < 0.95:
                v = Val(key, (i, j, "f"))
                refs.append(weakref.ref(v))
                got = c.get_or_set(key, lambda v=v: v)
                if getattr(got, "key", None) != key:
                    wrong.append((key, got))
            else:
                size = len(c)
                if size > max_size:
                    wrong.append(("len", size))
                c.purge_expired()
    ctx.run_threads([lambda i=i: work(i) for i in range(threads)], timeout=p["timeout_s"])
    bad = [w for w in wrong if w[0] != "len"]
    ctx.expect(not bad, "get(%r) returned %r, a value stored under another key (%d such reads)"
               % (bad[0] + (len(bad),)) if bad else "", hint="keep each key's value and expiry together, "
               "and update every structure under one lock")
    sizes = [w[1] for w in wrong if w[0] == "len"]
    ctx.expect(not sizes, "len(cache) was %s with max_size=%d" % (sizes[:1] and sizes[0], max_size))
    ctx.expect(len(c) <= max_size, "len(cache) is %d after the threads finished, above max_size=%d"
               % (len(c), max_size), hint="check the size and evict in the same critical section as the insert")
    clock.advance(2 * ttl)
    c.set("last", Val("last", 0))
    ctx.expect_eq(len(c), 1, "len(cache) after every old entry expired and one new key was set")
    gc.collect()
    kept = [r() for r in refs if r() is not None]
    ctx.expect(not kept, "%d value(s) set during the run (for example %r) are still referenced by the cache after "
               "every entry expired and set() ran: an entry was lost from the bookkeeping (a race?)"
               % (len(kept), kept[:1] and kept[0]), hint="update the value and expiry structures under one lock")
    for k in names:
        ctx.expect(c.get(k, MISS) is MISS, "get(%r) returned a value after every entry expired" % k)


# -- problem_solving ---------------------------------------------------------------------------------------

def get_or_set_once(ctx):
    """Many threads ask for the same missing key at the same moment (a barrier releases them together):
    factory() runs once per key and all get its value; a factory that raises propagates its error and
    stores nothing. The check waits for its threads by polling, not joining, so that a thread stuck in the
    student's code does not hide the first finding: how many times factory() ran."""
    p = ctx.params
    threads, keys, rounds, work_s, limit = p["threads"], p["keys"], p["rounds"], p["factory_s"], p["stall_s"]
    mod = ctx.student("ttl_cache")
    for rnd in range(rounds):
        c = mod.TTLCache(60, clock=FakeClock())
        calls = {}
        results = {}
        errors = []
        barrier = threading.Barrier(threads, timeout=limit)

        def factory_for(key):
            def factory():
                calls.setdefault(key, []).append(threading.current_thread().name)
                time.sleep(work_s)  # an expensive computation: the window in which others ask too
                return Val(key, len(calls[key]))
            return factory

        def work():
            try:
                for k in range(keys):
                    key = "k%d" % k
                    barrier.wait()
                    results.setdefault(key, []).append(c.get_or_set(key, factory_for(key)))
            except threading.BrokenBarrierError:
                pass  # another thread failed first
            except Exception as exc:  # reported after the factory counts
                errors.append((threading.current_thread().name, exc))
                barrier.abort()
        ts = [threading.Thread(target=work, name="asker-%d" % i, daemon=True) for i in range(threads)]
        for t in ts:
            t.start()
        deadline = time.monotonic() + limit
        while any(t.is_alive() for t in ts) and time.monotonic() < deadline:
            time.sleep(0.01)
        stuck = [t.name for t in ts if t.is_alive()]
        for k in range(keys):
            key = "k%d" % k
            who = calls.get(key, [])
            ctx.expect(len(who) <= 1, "round %d: factory() for %r was called %d times (by %s) when %d threads "
                       "asked for it at once; expected once" % (rnd + 1, key, len(who), ", ".join(who), threads),
                       hint="under the lock, record that the key is being computed (an Event per key); "
                            "later callers wait for it instead of calling factory() again")
        if errors:
            name, exc = errors[0]
            ctx.fail("round %d: get_or_set() raised %s: %s in thread %s" % (rnd + 1, type(exc).__name__, exc, name))
        ctx.expect(not stuck, "round %d: %s still inside get_or_set() %.0f s after the threads started"
                   % (rnd + 1, ", ".join(stuck), limit), hint="every thread waiting for a computation must be "
                   "woken when it ends, also when factory() raises")
        for k in range(keys):
            key = "k%d" % k
            ctx.expect(len(calls.get(key, [])) == 1, "round %d: factory() for %r was never called" % (rnd + 1, key))
            got = results[key]
            ctx.expect(len(got) == threads and all(v is got[0] for v in got), "round %d: the %d threads asking "
                       "for %r at once got %r" % (rnd + 1, threads, key, sorted(set(map(repr, got)))))
    # A failing factory: the error propagates, nothing is stored, and a later call computes again.
    c = mod.TTLCache(60, clock=FakeClock())

    class Unavailable(Exception):
        pass

    def failing():
        raise Unavailable("backend down")
    try:
        c.get_or_set("x", failing)
    except Unavailable:
        pass
    else:
        ctx.fail("get_or_set('x', factory) did not propagate the exception factory() raised")
    ctx.expect(c.get("x", MISS) is MISS, "get('x') after its factory raised returned a value: nothing may be stored")
    out = ctx.call_with_timeout(lambda: c.get_or_set("x", lambda: "ok"), limit)
    ctx.expect_eq(out, "ok", "get_or_set('x', factory) after an earlier factory for 'x' raised")


def factory_without_lock(ctx):
    """factory() runs without the cache's lock: it may read the cache itself, and other threads can use
    other keys while it runs."""
    _, c, _ = _cache(ctx, 60)
    c.set("base", 41)
    got = c.get_or_set("derived", lambda: c.get("base") + 1)
    ctx.expect_eq(got, 42, "get_or_set('derived', lambda: cache.get('base') + 1)")
    started, go = threading.Event(), threading.Event()
    limit, wait_s = ctx.params["other_s"], ctx.params["factory_s"]

    def slow():
        started.set()
        go.wait(wait_s)
        return "slow"
    t = threading.Thread(target=lambda: c.get_or_set("slow", slow), name="computing", daemon=True)
    t.start()
    ctx.expect(started.wait(ctx.params["join_s"]), "get_or_set('slow', factory) in another thread never called "
               "factory()")
    t0 = time.monotonic()
    c.set("other", 1)
    got = c.get("other")
    spent = time.monotonic() - t0
    go.set()
    t.join(ctx.params["join_s"])
    ctx.expect(not t.is_alive(), "get_or_set('slow', factory) had not returned %.0f s after its factory did"
               % ctx.params["join_s"])
    ctx.expect(spent < limit, "set('other') and get('other') took %.2f s while another thread's factory for "
               "'slow' was running: the cache's lock is held during factory()" % spent,
               hint="run factory() after releasing the lock; mark the key as being computed instead")
    ctx.expect_eq(got, 1, "get('other') while 'slow' was being computed")
    ctx.expect_eq(c.get("slow"), "slow", "get('slow') after its factory returned")


# -- performance -------------------------------------------------------------------------------------------

def bench_cache(ctx):
    """Timed workload: cache-aside from a few threads on a cache of `max_size` entries: get, and set on a
    miss, with keys drawn from twice as many as fit (so sets evict). Real clock, ttl far away."""
    mod = ctx.student("ttl_cache")
    p = ctx.params
    threads, ops, key_space = p["threads"], p["ops"], p["keys"]
    plans = [[ctx.rng.randrange(key_space) for _ in range(ops)] for _ in range(threads)]

    def workload():
        c = mod.TTLCache(p["ttl"], max_size=p["max_size"])
        errors = []

        def work(plan):
            try:
                for k in plan:
                    if c.get(k) is None:
                        c.set(k, k)
            except Exception as exc:  # reported below, from the timed call
                errors.append(exc)
        ts = [threading.Thread(target=work, args=(plan,), name="bench-%d" % i, daemon=True)
              for i, plan in enumerate(plans)]
        for t in ts:
            t.start()
        deadline = time.monotonic() + p["stall_s"]
        for t in ts:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in ts):
            raise AssertionError("the workload was still running after %.1f s (the reference takes ~0.05 s)"
                                 % p["stall_s"])
        if errors:
            raise errors[0]
        if len(c) > p["max_size"]:
            raise AssertionError("len(cache) %d above max_size %d" % (len(c), p["max_size"]))
    return workload
