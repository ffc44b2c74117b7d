"""Workloads for lab-3.3: a thread-safe TTL cache (API: the docstring of starter/lab-3.3/ttl_cache.py).
Each drives the cache through a fixed script and records what every call returned (ctx.observe); judge.py,
which the submission never sees, gives the verdicts.

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


def _cache(ctx, ttl, max_size=None, start=1000.0):
    mod = ctx.student("ttl_cache")
    clock = FakeClock(start)
    return mod, mod.TTLCache(ttl, max_size=max_size, clock=clock), clock


def _rec(v):
    """What a cache call returned, for the judge: the default (MISS), or the value (as JSON keeps it) with
    its type and repr."""
    if v is MISS:
        return {"miss": True, "repr": repr(MISS)}
    return {"value": v, "type": type(v).__name__, "repr": repr(v)}


def _refused(fn):
    """Calls fn (a constructor that should refuse its arguments): "ValueError", or "none" when it did not
    raise (any other exception is the student's and fails the run)."""
    try:
        fn()
    except ValueError:
        return "ValueError"
    return "none"


# -- completion_quality ------------------------------------------------------------------------------------

def cache_basic(ctx):
    mod, c, clock = _cache(ctx, 60)
    ctx.observe("get_nope", _rec(c.get("nope")))
    ctx.observe("get_nope_default", _rec(c.get("nope", MISS)))
    c.set("a", 1)
    c.set("b", [2])
    ctx.observe("get_a", _rec(c.get("a")))
    ctx.observe("get_b", _rec(c.get("b")))
    c.set("a", 10)
    ctx.observe("get_a_replaced", _rec(c.get("a")))
    ctx.observe("len_2", _rec(len(c)))
    ctx.observe("delete_a", _rec(c.delete("a")))
    ctx.observe("delete_a_again", _rec(c.delete("a")))
    ctx.observe("get_a_deleted", _rec(c.get("a", MISS)))
    ctx.observe("len_1", _rec(len(c)))
    c.set(("tuple", 1), "t")
    ctx.observe("get_tuple", _rec(c.get(("tuple", 1))))
    ctx.observe("get_or_set_missing", _rec(c.get_or_set("g", lambda: "made")))
    ctx.observe("get_or_set_live", _rec(c.get_or_set("g", lambda: "again")))
    ctx.observe("get_g", _rec(c.get("g")))
    ctx.observe("ttl_refused", {str(bad): _refused(lambda bad=bad: mod.TTLCache(bad, clock=FakeClock()))
                                for bad in (0, -1)})
    ctx.observe("max_size_refused", _refused(lambda: mod.TTLCache(5, max_size=0, clock=FakeClock())))


def ttl_expiry(ctx):
    """Expiry by the injected clock, exactly at set time + ttl; set() refreshes, get() does not. The times
    are the judge's script (judge.ttl_expiry): each get is recorded under the clock's value."""
    _, c, clock = _cache(ctx, 5)
    c.set("a", 1)
    ctx.observe("calls_after_set", clock.calls)
    ctx.observe("a@1000.0", _rec(c.get("a", MISS)))
    clock.set(1004.5)
    ctx.observe("a@1004.5", _rec(c.get("a", MISS)))
    calls = clock.calls
    clock.set(1005.0)
    ctx.observe("a@1005.0", _rec(c.get("a", MISS)))
    ctx.observe("calls_by_get", clock.calls - calls)
    ctx.observe("len@1005.0", _rec(len(c)))
    # set() starts a new ttl; get() does not extend it.
    c.set("a", 2)                 # at 1005: expires at 1010
    clock.set(1007.0)
    c.set("a", 3)                 # refreshed: expires at 1012
    for now in (1010.0, 1011.5, 1012.0):
        clock.set(now)
        ctx.observe("a@%s" % now, _rec(c.get("a", MISS)))
    c.set("b", 4)                 # at 1012: expires at 1017
    clock.set(1017.0)
    ctx.observe("delete_b@1017.0", _rec(c.delete("b")))
    # A fractional ttl, exactly representable.
    _, c2, clock2 = _cache(ctx, 0.25, start=2000.0)
    c2.set("x", "v")
    for now in (2000.125, 2000.25):
        clock2.set(now)
        ctx.observe("x@%s" % now, _rec(c2.get("x", MISS)))
    # The clock's value is what counts, not real time: an entry stays live however long the check takes.
    _, c3, clock3 = _cache(ctx, 0.25, start=3000.0)
    c3.set("slow", 1)
    time.sleep(ctx.params["real_sleep_s"])
    ctx.observe("slow@3000.0", _rec(c3.get("slow", MISS)))


def expired_dropped(ctx):
    """Values set, all expired, then set() once: how many of the old values the cache still references;
    purge_expired() counts and len() along the way."""
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
    ctx.observe("alive", sum(r() is not None for r in refs))
    ctx.observe("set_values", len(refs))
    ctx.observe("len@1011.0", _rec(len(c)))
    clock.set(1015.0)
    for i in range(5):
        c.set("a%d" % i, i)                 # live until 1025
    clock.set(1021.5)                       # 'fresh' expired at 1021.0
    ctx.observe("purge@1021.5", _rec(c.purge_expired()))
    ctx.observe("len@1021.5", _rec(len(c)))
    clock.set(1025.5)
    ctx.observe("purge@1025.5", _rec(c.purge_expired()))
    ctx.observe("purge_again", _rec(c.purge_expired()))
    ctx.observe("len@1025.5", _rec(len(c)))


def lru_eviction(ctx):
    """max_size: which entries a full cache keeps, with and without expired ones."""
    _, c, clock = _cache(ctx, 10, max_size=3)
    c.set("a", 1)
    c.set("b", 2)
    c.set("c", 3)
    ctx.observe("get_a_full", _rec(c.get("a")))     # order now b, c, a
    c.set("d", 4)                                   # evicts b
    ctx.observe("get_b_evicted", _rec(c.get("b", MISS)))
    ctx.observe("get_acd", [_rec(c.get(k, MISS)) for k in ("a", "c", "d")])
    ctx.observe("len_full", _rec(len(c)))
    c.set("c", 30)                                  # replacing: no eviction
    ctx.observe("get_acd_replaced", [_rec(c.get(k, MISS)) for k in ("a", "c", "d")])
    # Expired entries go before any live one is evicted.
    _, c, clock = _cache(ctx, 10, max_size=3)
    c.set("x", "x")                 # at 1000: expires at 1010
    clock.set(1006.0)
    c.set("y", "y")                 # expire at 1016
    c.set("z", "z")
    clock.set(1007.0)
    ctx.observe("get_x@1007.0", _rec(c.get("x")))  # x is now the most recently used, but expires first
    clock.set(1011.0)
    c.set("w", "w")
    ctx.observe("get_y@1011.0", _rec(c.get("y", MISS)))
    ctx.observe("get_x@1011.0", _rec(c.get("x", MISS)))
    ctx.observe("get_yzw@1011.0", [_rec(c.get(k, MISS)) for k in ("y", "z", "w")])


def _read(got):
    """A value read in concurrent_consistency: None for the default, else [its key, its repr]."""
    if got is MISS:
        return None
    return [getattr(got, "key", None), repr(got)]


def concurrent_consistency(ctx):
    """Threads mix get, set, delete, get_or_set, len and purge on a few keys of a small cache (the plans
    are the judge's) while one of them moves the clock. Each thread records, per operation, what it read
    (the key of the value a get or get_or_set returned, a len); then, once everything expired and one key
    was set, how many of the values set during the run the cache still references."""
    p = ctx.params
    ttl, max_size, threads = p["ttl"], p["max_size"], p["threads"]
    mod, c, clock = _cache(ctx, ttl, max_size=max_size)
    names = ["k%d" % i for i in range(p["keys"])]
    plans = ctx.inputs["plans"]
    refs = []
    seen = [[] for _ in range(threads)]
    tick = ttl / 8

    def work(i):
        out = seen[i]
        for j, (op, key) in enumerate(plans[i]):
            if i == 0 and j % 8 == 7:
                clock.advance(tick)
            if op == "get":
                out.append(_read(c.get(key, MISS)))
            elif op == "set":
                v = Val(key, (i, j))
                refs.append(weakref.ref(v))
                c.set(key, v)
                out.append(None)
            elif op == "delete":
                c.delete(key)
                out.append(None)
            elif op == "get_or_set":
                v = Val(key, (i, j, "f"))
                refs.append(weakref.ref(v))
                out.append(_read(c.get_or_set(key, lambda v=v: v)))
            else:               # "len", then purge_expired()
                out.append(len(c))
                c.purge_expired()
    ctx.run_threads([lambda i=i: work(i) for i in range(threads)], timeout=p["timeout_s"])
    ctx.observe("seen", seen)
    ctx.observe("len_after", _rec(len(c)))
    clock.advance(2 * ttl)
    c.set("last", Val("last", 0))
    ctx.observe("len_last", _rec(len(c)))
    gc.collect()
    kept = [r() for r in refs if r() is not None]
    ctx.observe("values_set", len(refs))
    ctx.observe("kept", [repr(v) for v in kept])
    ctx.observe("final", {k: _rec(c.get(k, MISS)) for k in names})


# -- problem_solving ---------------------------------------------------------------------------------------

def get_or_set_once(ctx):
    """Many threads ask for the same missing key at the same moment (a barrier releases them together);
    each round records who ran factory() for each key, what every thread got (grouped by identity), the
    first exception and the threads still inside get_or_set() after stall_s. The check waits for its
    threads by polling, not joining, so that a thread stuck in the student's code does not hide the first
    finding: how many times factory() ran. A round with errors or stuck threads ends the workload (as it
    ends the verdict). Then a failing factory: its error propagates, nothing is stored, a later call
    computes again."""
    p = ctx.params
    threads, keys, rounds, work_s, limit = p["threads"], p["keys"], p["rounds"], p["factory_s"], p["stall_s"]
    mod = ctx.student("ttl_cache")
    recorded = []
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
            except Exception as exc:  # judged after the factory counts
                errors.append((threading.current_thread().name, exc))
                barrier.abort()
        ts = [threading.Thread(target=work, name="asker-%d" % i, daemon=True) for i in range(threads)]
        for t in ts:
            t.start()
        deadline = time.monotonic() + limit
        while any(t.is_alive() for t in ts) and time.monotonic() < deadline:
            time.sleep(0.01)
        stuck = [t.name for t in ts if t.is_alive()]
        got = {}
        for key, values in list(results.items()):
            ids = []
            for v in values:            # the same object for every thread: one group
                ids.append(next((n for n, w in enumerate(values) if w is v), 0))
            got[key] = {"groups": ids, "reprs": [repr(v) for v in values]}
        recorded.append({"calls": {k: list(v) for k, v in calls.items()}, "got": got, "stuck": stuck,
                         "errors": [[name, type(exc).__name__, str(exc)] for name, exc in errors[:1]]})
        ctx.observe("rounds", recorded)
        if stuck or errors:
            return
    # A failing factory: the error propagates, nothing is stored, and a later call computes again.
    c = mod.TTLCache(60, clock=FakeClock())

    class Unavailable(Exception):
        pass

    def failing():
        raise Unavailable("backend down")
    try:
        c.get_or_set("x", failing)
    except Unavailable:
        ctx.observe("failing_factory", "propagated")
    else:
        ctx.observe("failing_factory", "swallowed")
    ctx.observe("get_x_after_failure", _rec(c.get("x", MISS)))
    out = ctx.call_with_timeout(lambda: c.get_or_set("x", lambda: "ok"), limit)
    ctx.observe("get_or_set_after_failure", _rec(out))


def factory_without_lock(ctx):
    """factory() runs without the cache's lock: it may read the cache itself, and other threads can use
    other keys while it runs (the time that takes is recorded; the judge compares it with other_s)."""
    _, c, _ = _cache(ctx, 60)
    c.set("base", 41)
    ctx.observe("derived", _rec(c.get_or_set("derived", lambda: c.get("base") + 1)))
    started, go = threading.Event(), threading.Event()
    wait_s = ctx.params["factory_s"]

    def slow():
        started.set()
        go.wait(wait_s)
        return "slow"
    t = threading.Thread(target=lambda: c.get_or_set("slow", slow), name="computing", daemon=True)
    t.start()
    ok = started.wait(ctx.params["join_s"])
    ctx.observe("factory_started", ok)
    if not ok:
        return
    t0 = time.monotonic()
    c.set("other", 1)
    got = c.get("other")
    spent = time.monotonic() - t0
    go.set()
    t.join(ctx.params["join_s"])
    ctx.observe("returned", not t.is_alive())
    ctx.observe("spent", spent)
    ctx.observe("other", _rec(got))
    ctx.observe("slow", _rec(c.get("slow")))


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
