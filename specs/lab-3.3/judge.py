"""Judgements for lab-3.3 (the workloads are in checks.py). Runs outside the submission's process: every
verdict comes from what the cache's calls returned, as the workload recorded them (a value with its type
and repr, or the default), in the order of the workload's script; the concurrent plans are drawn here."""
import json

CLOCK_HINT = ("read the time only through the clock passed to the constructor (self._clock()), never "
              "time.time() or time.monotonic() directly: the tests move a fake clock")
EXPIRY_HINT = "an entry is expired when clock() >= set time + ttl"


def _json(v):
    return json.loads(json.dumps(v))


def _miss(r):
    """The call returned the default the check passed (or found nothing)."""
    return r.get("miss") is True


def _is(r, expected, typed=True):
    """The recorded value equals `expected` (as JSON sees both); `typed`: and is of its type (a cache
    returns the very object it stored)."""
    if _miss(r):
        return False
    if typed and r.get("type") != type(expected).__name__:
        return False
    return _json(r.get("value")) == _json(expected)


def _eq(j, r, expected, what, typed=True, hint=None):
    j.expect(_is(r, expected, typed), "%s: expected %r, got %s" % (what, expected, r["repr"]), hint)


def _eq_all(j, recs, expected, what):
    j.expect(len(recs) == len(expected) and all(_is(r, e) for r, e in zip(recs, expected)),
             "%s: expected %r, got [%s]" % (what, expected, ", ".join(r["repr"] for r in recs)))


def _count(j, r, expected, what):
    """A len(), delete() or purge_expired() result (compared as a number, like ==)."""
    _eq(j, r, expected, what, typed=False)


def _live(j, r, key, now, expected, why, hint=None):
    if _miss(r):
        j.fail("get(%r) found nothing at clock %s, %s" % (key, now, why), hint=hint)
    j.expect(_is(r, expected, typed=False), "get(%r) at clock %s returned %s, expected %r (%s)"
             % (key, now, r["repr"], expected, why))


def _gone(j, r, key, now, why, hint=None):
    j.expect(_miss(r), "get(%r) at clock %s returned %s; %s: expected the default" % (key, now, r["repr"], why),
             hint=hint)


def _number(r):
    v = r.get("value")
    if _miss(r) or isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v


# -- completion_quality ------------------------------------------------------------------------------------

def cache_basic(j):
    o = j.obs
    r = o["get_nope"]
    j.expect(not _miss(r) and r.get("type") == "NoneType",
             "get('nope') on an empty cache should return None (the default default)")
    j.expect(_miss(o["get_nope_default"]), "get('nope', default) should return the default it was given")
    _eq(j, o["get_a"], 1, "get('a') after set('a', 1)")
    _eq(j, o["get_b"], [2], "get('b') after set('b', [2])")
    _eq(j, o["get_a_replaced"], 10, "get('a') after set('a', 10) replaced 1")
    _count(j, o["len_2"], 2, "len(cache) with keys 'a' and 'b'")
    _count(j, o["delete_a"], True, "delete('a') of a live key")
    _count(j, o["delete_a_again"], False, "delete('a') a second time")
    j.expect(_miss(o["get_a_deleted"]), "get('a') after delete('a') should return the default")
    _count(j, o["len_1"], 1, "len(cache) after the delete")
    _eq(j, o["get_tuple"], "t", "get() with a tuple key")
    _eq(j, o["get_or_set_missing"], "made", "get_or_set('g', factory) of a missing key")
    _eq(j, o["get_or_set_live"], "made", "get_or_set('g', factory) of a live key (factory must not be called)")
    _eq(j, o["get_g"], "made", "get('g') after get_or_set stored it")
    for bad in (0, -1):
        j.expect(o["ttl_refused"][str(bad)] == "ValueError", "TTLCache(ttl=%r) did not raise ValueError" % bad)
    j.expect(o["max_size_refused"] == "ValueError", "TTLCache(5, max_size=0) did not raise ValueError")


def ttl_expiry(j):
    o = j.obs
    j.expect(o["calls_after_set"] > 0, "set() never called the clock passed as clock=: the cache must read the "
             "time only through it", hint=CLOCK_HINT)
    _live(j, o["a@1000.0"], "a", 1000.0, 1, "0 s after set('a', 1) with ttl=5")
    _live(j, o["a@1004.5"], "a", 1004.5, 1, "4.5 s after set('a', 1) with ttl=5: still live")
    _gone(j, o["a@1005.0"], "a", 1005.0, "that is exactly ttl=5 s after set('a', 1) at 1000.0, when the entry "
          "expires (live while clock() < set time + ttl)",
          hint="an entry is expired when clock() >= set time + ttl: compare with >=, not >")
    j.expect(o["calls_by_get"] > 0, "get() did not call the clock: it cannot know whether the entry expired",
             hint=CLOCK_HINT)
    _count(j, o["len@1005.0"], 0, "len(cache) once its only entry expired")
    # set() starts a new ttl; get() does not extend it.
    _live(j, o["a@1010.0"], "a", 1010.0, 3, "set('a', 3) at 1007.0 started a new ttl=5, live until 1012.0")
    _live(j, o["a@1011.5"], "a", 1011.5, 3, "live until 1012.0")
    _gone(j, o["a@1012.0"], "a", 1012.0, "the entry set at 1007.0 expired at 1012.0 (a get() hit must not extend "
          "its life)", hint="only set() starts a new ttl")
    _count(j, o["delete_b@1017.0"], False, "delete('b') at 1017.0 of an entry that expired at 1017.0 (no live "
           "entry was removed)")
    # A fractional ttl, exactly representable.
    _live(j, o["x@2000.125"], "x", 2000.125, "v", "0.125 s after set with ttl=0.25")
    _gone(j, o["x@2000.25"], "x", 2000.25, "exactly ttl=0.25 s after set('x') at 2000.0, when it expires",
          hint=EXPIRY_HINT)
    # The clock's value is what counts, not real time.
    real = j.params["real_sleep_s"]
    _live(j, o["slow@3000.0"], "slow", 3000.0, 1, "the fake clock has not moved since set() (%.2f s of real "
          "time passed, more than ttl=0.25: real time must not matter)" % real, hint=CLOCK_HINT)


def expired_dropped(j):
    o = j.obs
    n = j.params["entries"]
    j.expect_eq(o["set_values"], n, "values set at 1000.0")
    alive = j.number("alive")
    j.expect(alive == 0, "%d of %d values set at 1000.0 with ttl=10 are still referenced by the cache after "
             "set('fresh') at 1011.0, when they had all expired: expired entries pile up" % (alive, n),
             hint="set() must remove every expired entry first (cheaply: with one ttl for all, the keys "
                  "expire in the order they were set)")
    _count(j, o["len@1011.0"], 1, "len(cache) after set('fresh') at 1011.0 (the %d old entries expired)" % n)
    _count(j, o["purge@1021.5"], 1, "purge_expired() at 1021.5 ('fresh', set at 1011.0, has expired)")
    _count(j, o["len@1021.5"], 5, "len(cache) at 1021.5")
    _count(j, o["purge@1025.5"], 5, "purge_expired() at 1025.5 (the five a* keys set at 1015.0 expired)")
    _count(j, o["purge_again"], 0, "purge_expired() again at once")
    _count(j, o["len@1025.5"], 0, "len(cache) once everything expired")


def lru_eviction(j):
    o = j.obs
    _eq(j, o["get_a_full"], 1, "get('a') in a full cache of max_size=3")
    r = o["get_b_evicted"]
    j.expect(_miss(r), "after set a, b, c, get('a'), set('d') with max_size=3, 'b' (the least recently used) "
             "should have been evicted, but get('b') returned %s" % r["repr"],
             hint="a get() hit counts as a use: move the key to the most recent end")
    for (k, v), r in zip((("a", 1), ("c", 3), ("d", 4)), o["get_acd"]):
        _eq(j, r, v, "get(%r) after 'b' was evicted" % k)
    j.expect_eq(len(o["get_acd"]), 3, "gets after 'b' was evicted")
    _count(j, o["len_full"], 3, "len(cache) of a full cache with max_size=3")
    _eq_all(j, o["get_acd_replaced"], [1, 30, 4],
            "get of a, c, d after set('c', 30) replaced a key of a full cache (nothing to evict)")
    # Expired entries go before any live one is evicted.
    _eq(j, o["get_x@1007.0"], "x", "get('x') at 1007.0")
    r = o["get_y@1011.0"]
    j.expect(_is(r, "y"), "with max_size=3, set('w') at 1011.0 evicted the live entry 'y' (get('y') returned "
             "%s) while 'x' had expired at 1010.0: expired entries must be removed before a live one is "
             "evicted" % r["repr"], hint="set() first removes expired entries, then evicts only if still full")
    j.expect(_miss(o["get_x@1011.0"]), "get('x') at 1011.0 returned a value: it expired at 1010.0")
    _eq_all(j, o["get_yzw@1011.0"], ["y", "z", "w"], "get of y, z, w at 1011.0")


_OPS = ((40, "get"), (75, "set"), (85, "delete"), (95, "get_or_set"), (100, "len"))


def plan_concurrent_consistency(j):
    """Per thread, `ops` operations [op, key]: 40% get, 35% set, 10% delete, 10% get_or_set, 5% len (then
    purge_expired)."""
    p = j.params
    names = ["k%d" % i for i in range(p["keys"])]

    def op():
        r = j.rng.randrange(100)
        return next(name for bound, name in _OPS if r < bound)
    return {"plans": [[[op(), j.rng.choice(names)] for _ in range(p["ops"])] for _ in range(p["threads"])]}


def concurrent_consistency(j):
    p = j.params
    max_size, plans, seen = p["max_size"], j.inputs["plans"], j.obs["seen"]
    j.expect_eq(len(seen), len(plans), "threads that recorded their operations")
    bad, sizes = [], []
    for i, (plan, out) in enumerate(zip(plans, seen)):
        j.expect(len(out) == len(plan), "thread %d recorded %d of its %d operations" % (i, len(out), len(plan)))
        for (op, key), got in zip(plan, out):
            if op == "get" and got is not None and got[0] != key:
                bad.append((key, got[1]))
            elif op == "get_or_set" and (got is None or got[0] != key):
                bad.append((key, "<the default>" if got is None else got[1]))
            elif op == "len":
                j.expect(isinstance(got, int), "len(cache) returned %r, not an int" % (got,))
                if got > max_size:
                    sizes.append(got)
    j.expect(not bad, "get(%r) returned %s, a value stored under another key (%d such reads)"
             % (bad[0] + (len(bad),)) if bad else "", hint="keep each key's value and expiry together, "
             "and update every structure under one lock")
    j.expect(not sizes, "len(cache) was %s with max_size=%d" % (sizes[:1] and sizes[0], max_size))
    size = _number(j.obs["len_after"])
    j.expect(size is not None and size <= max_size, "len(cache) is %s after the threads finished, above max_size=%d"
             % (j.obs["len_after"]["repr"], max_size),
             hint="check the size and evict in the same critical section as the insert")
    _count(j, j.obs["len_last"], 1, "len(cache) after every old entry expired and one new key was set")
    j.expect_eq(j.obs["values_set"], sum(op in ("set", "get_or_set") for plan in plans for op, _ in plan),
                "values made during the run")
    kept = j.obs["kept"]
    j.expect(not kept, "%d value(s) set during the run (for example %s) are still referenced by the cache after "
             "every entry expired and set() ran: an entry was lost from the bookkeeping (a race?)"
             % (len(kept), kept[0] if kept else ""), hint="update the value and expiry structures under one lock")
    final = j.obs["final"]
    for k in ["k%d" % i for i in range(p["keys"])]:
        j.expect(_miss(final[k]), "get(%r) returned a value after every entry expired" % k)


# -- problem_solving ---------------------------------------------------------------------------------------

def get_or_set_once(j):
    p = j.params
    threads, keys, limit = p["threads"], p["keys"], p["stall_s"]
    rounds = j.obs["rounds"]
    for rnd, r in enumerate(rounds):
        for k in range(keys):
            key = "k%d" % k
            who = r["calls"].get(key, [])
            j.expect(len(who) <= 1, "round %d: factory() for %r was called %d times (by %s) when %d threads "
                     "asked for it at once; expected once" % (rnd + 1, key, len(who), ", ".join(who), threads),
                     hint="under the lock, record that the key is being computed (an Event per key); "
                          "later callers wait for it instead of calling factory() again")
        if r["errors"]:
            name, kind, text = r["errors"][0]
            j.fail("round %d: get_or_set() raised %s: %s in thread %s" % (rnd + 1, kind, text, name))
        j.expect(not r["stuck"], "round %d: %s still inside get_or_set() %.0f s after the threads started"
                 % (rnd + 1, ", ".join(r["stuck"]), limit), hint="every thread waiting for a computation must be "
                 "woken when it ends, also when factory() raises")
        for k in range(keys):
            key = "k%d" % k
            j.expect(len(r["calls"].get(key, [])) == 1, "round %d: factory() for %r was never called" % (rnd + 1, key))
            got = r["got"].get(key, {"groups": [], "reprs": []})
            j.expect(len(got["groups"]) == threads and all(g == 0 for g in got["groups"]),
                     "round %d: the %d threads asking for %r at once got %r"
                     % (rnd + 1, threads, key, sorted(set(got["reprs"]))))
    j.expect_eq(len(rounds), p["rounds"], "rounds run")
    # A failing factory: the error propagates, nothing is stored, and a later call computes again.
    j.expect(j.obs["failing_factory"] == "propagated",
             "get_or_set('x', factory) did not propagate the exception factory() raised")
    j.expect(_miss(j.obs["get_x_after_failure"]),
             "get('x') after its factory raised returned a value: nothing may be stored")
    _eq(j, j.obs["get_or_set_after_failure"], "ok", "get_or_set('x', factory) after an earlier factory for 'x' raised")


def factory_without_lock(j):
    p = j.params
    _eq(j, j.obs["derived"], 42, "get_or_set('derived', lambda: cache.get('base') + 1)")
    j.expect(j.obs["factory_started"] is True, "get_or_set('slow', factory) in another thread never called factory()")
    j.expect(j.obs["returned"] is True, "get_or_set('slow', factory) had not returned %.0f s after its factory did"
             % p["join_s"])
    spent = j.number("spent")
    j.expect(spent < p["other_s"], "set('other') and get('other') took %.2f s while another thread's factory for "
             "'slow' was running: the cache's lock is held during factory()" % spent,
             hint="run factory() after releasing the lock; mark the key as being computed instead")
    _eq(j, j.obs["other"], 1, "get('other') while 'slow' was being computed")
    _eq(j, j.obs["slow"], "slow", "get('slow') after its factory returned")
