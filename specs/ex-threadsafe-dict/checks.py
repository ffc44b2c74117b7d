"""Checks for ex-threadsafe-dict: the teaching guide's ThreadSafeDict (Module 3, Lesson 1).

The API is the starter's docstring. Concurrency checks run under the grader's yield injection
(stress items) or lock instrumentation (deadlock items). Every wait of the grader's own is timed, so
a broken submission makes a check fail with a message, never hang. Standard library only.
"""
import threading
import time

from grade_oracles import exactly_once

MODULE = "threadsafe_dict"


def _new(ctx, *args):
    mod = ctx.student(MODULE)
    ctx.expect(hasattr(mod, "ThreadSafeDict"), "threadsafe_dict.py has no class ThreadSafeDict",
               hint="keep the starter's names")
    return mod.ThreadSafeDict(*args)


def _in_thread(ctx, fn, name):
    """Starts fn in a daemon thread; returns (thread, box) where box gets 'value' or 'error'."""
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B036 - reported by the check
            box["error"] = exc
    t = threading.Thread(target=body, name=name, daemon=True)
    t.start()
    return t, box


# -- completion ---------------------------------------------------------------------------------

def basic_api(ctx):
    """Every method, one thread."""
    d = _new(ctx)
    ctx.expect_eq(len(d), 0, "len() of a new ThreadSafeDict()")
    ctx.expect_eq(d.get("a"), None, "get('a') on an empty dict (default None)")
    ctx.expect_eq(d.get("a", 7), 7, "get('a', 7) on an empty dict")
    d.set("a", 1)
    ctx.expect_eq(d.get("a"), 1, "get('a') after set('a', 1)")
    ctx.expect("a" in d and "b" not in d, "`in`: 'a' should be in the dict and 'b' not")
    d.update({"b": 2, "c": 3})
    ctx.expect_eq(sorted(d.items()), [("a", 1), ("b", 2), ("c", 3)], "items() after update({'b': 2, 'c': 3})")
    ctx.expect_eq(sorted(d.keys()), ["a", "b", "c"], "keys()")
    ctx.expect_eq(sorted(d.values()), [1, 2, 3], "values()")
    ctx.expect_eq(sorted(d), ["a", "b", "c"], "iterating over the dict (its keys)")
    ctx.expect_eq(d.snapshot(), {"a": 1, "b": 2, "c": 3}, "snapshot()")
    ctx.expect_eq(str(d), str({"a": 1, "b": 2, "c": 3}), "str() (the str of a plain dict with the same items)")
    d.delete("b")
    ctx.expect_eq(d.snapshot(), {"a": 1, "c": 3}, "snapshot() after delete('b')")
    try:
        d.delete("zzz")
    except KeyError:
        pass
    else:
        ctx.fail("delete('zzz') of a missing key did not raise KeyError")
    ctx.expect_eq(d.pop("c"), 3, "pop('c')")
    ctx.expect_eq(d.pop("c", "gone"), "gone", "pop('c', 'gone') after 'c' was popped")
    try:
        d.pop("c")
    except KeyError:
        pass
    else:
        ctx.fail("pop('c') of a missing key, with no default, did not raise KeyError")
    ctx.expect_eq(d.increment("n"), 1, "increment('n') of a missing key (counts from 0)")
    ctx.expect_eq(d.increment("n", 5), 6, "increment('n', 5) then")
    ctx.expect_eq(d.get("n"), 6, "get('n') after the increments")
    ctx.expect_eq(d.setdefault("s", []), [], "setdefault('s', []) of a missing key returns the default")
    first = d.get("s")
    ctx.expect(d.setdefault("s", ["other"]) is first, "setdefault('s', ...) of a present key must return the "
               "stored value, not the new default")
    calls = []
    ctx.expect_eq(d.get_or_compute("g", lambda: calls.append(1) or "computed"), "computed",
                  "get_or_compute('g', factory) of a missing key returns factory()")
    ctx.expect_eq(d.get_or_compute("g", lambda: calls.append(1) or "again"), "computed",
                  "get_or_compute('g', factory) of a present key returns the stored value")
    ctx.expect_eq(len(calls), 1, "factory calls for get_or_compute('g') twice (it is stored after the first)")
    ctx.expect_eq(d.get("g"), "computed", "get('g') after get_or_compute stored it")
    d2 = _new(ctx, {"x": 1, "y": 2})
    ctx.expect_eq(d2.snapshot(), {"x": 1, "y": 2}, "ThreadSafeDict({'x': 1, 'y': 2}).snapshot()")
    with d2.locked():
        d2.set("z", 3)
    ctx.expect_eq(d2.get("z"), 3, "get('z') after set('z', 3) inside `with d.locked():`")


def atomic_ops(ctx):
    """Compound operations from many threads: increment, setdefault, pop and delete are atomic."""
    threads, ops, keys = ctx.params["threads"], ctx.params["ops"], ctx.params["keys"]
    d = _new(ctx)
    returned = [[] for _ in range(threads)]

    def inc(i):
        for k in range(ops):
            key = "k%d" % ((i + k) % keys)
            returned[i].append((key, d.increment(key)))
    ctx.run_threads([lambda i=i: inc(i) for i in range(threads)])
    per_key = {}
    for out in returned:
        for key, v in out:
            per_key.setdefault(key, []).append(v)
    for key in sorted(per_key):
        n = len(per_key[key])
        ctx.expect(d.get(key) == n, "%s: %d increments from %d threads left the value at %r (lost updates)"
                   % (key, n, threads, d.get(key)),
                   hint="read, add and write under one hold of the lock: not get() then set()")
        ctx.expect(sorted(per_key[key]) == list(range(1, n + 1)),
                   "%s: increment() returned %s; every call must return a different new value 1..%d "
                   "(two calls saw the same old value)" % (key, _dups(per_key[key]), n))

    # setdefault: every racing caller gets the one value stored first. `sd_keys` fresh keys, each
    # raced by every thread at once: they line up before each key, so each key is a new chance for
    # a switch between a check-then-act's check and its act (one key alone: about 1 run in 2).
    n_sd = ctx.params.get("sd_keys", 1)
    got = [[None] * threads for _ in range(n_sd)]
    candidates = [[object() for _ in range(threads)] for _ in range(n_sd)]
    arrived = [[] for _ in range(n_sd)]

    def sd(i):
        for k in range(n_sd):
            _line_up(arrived[k], threads)
            got[k][i] = d.setdefault("shared-%d" % k, candidates[k][i])
    ctx.run_threads([lambda i=i: sd(i) for i in range(threads)])
    for k in range(n_sd):
        stored = d.get("shared-%d" % k)
        ctx.expect(all(g is stored for g in got[k]),
                   "%d threads called setdefault('shared-%d', <their own object>) at once and got %d different "
                   "objects back; all must get the one that was stored"
                   % (threads, k, len({id(g) for g in got[k]})),
                   hint="check for the key and store the default under one hold of the lock")

    # pop: each key is taken by exactly one thread.
    n_pop = ctx.params["pop_keys"]
    d.update({"p%d" % k: k for k in range(n_pop)})
    taken = [[] for _ in range(threads)]

    def popper(i):
        for k in range(n_pop):
            v = d.pop("p%d" % k, None)
            if v is not None:
                taken[i].append(v)
    ctx.run_threads([lambda i=i: popper(i) for i in range(threads)])
    ctx.oracle(_prefixed("values popped by %d racing threads: " % threads,
                         exactly_once(list(range(n_pop)), [v for t in taken for v in t], what="value")),
               hint="pop() must look the key up and remove it under one hold of the lock")


def _line_up(arrived, n, limit=5.0):
    """A barrier the schedulers see through: each caller appends itself, then yields (time.sleep(0),
    a switch point under the controlled scheduler too) until all `n` have arrived or `limit` s passed."""
    arrived.append(1)
    deadline = time.monotonic() + limit
    while len(arrived) < n and time.monotonic() < deadline:
        time.sleep(0)


def _dups(values):
    seen, dups = set(), set()
    for v in values:
        if v in seen:
            dups.add(v)
        seen.add(v)
    return "%d values, %s returned more than once" % (len(values), sorted(dups)[:5]) if dups else "%d values" % len(values)


def _prefixed(prefix, message):
    return prefix + message if message else None


def update_atomic(ctx):
    """Writers update({'x': v, 'y': v, 'z': v}); readers must never see x, y and z disagree."""
    writers, readers, rounds = ctx.params["writers"], ctx.params["readers"], ctx.params["rounds"]
    d = _new(ctx, {"x": 0, "y": 0, "z": 0})
    torn = []
    stop = threading.Event()

    def writer(i):
        for k in range(rounds):
            v = i * rounds + k + 1
            d.update({"x": v, "y": v, "z": v})

    def reader():
        n = 0
        while not stop.is_set() or n < 5:
            n += 1
            snap = d.snapshot()
            items = dict(d.items())
            for what, s in (("snapshot()", snap), ("dict(items())", items)):
                trio = (s.get("x"), s.get("y"), s.get("z"))
                if len(set(trio)) != 1 and len(torn) < 3:
                    torn.append("%s returned x=%r, y=%r, z=%r" % ((what,) + trio))

    def writers_then_stop():
        try:
            ctx.run_threads([lambda i=i: writer(i) for i in range(writers)],
                            names=["writer-%d" % i for i in range(writers)])
        finally:
            stop.set()
    ctx.run_threads([writers_then_stop] + [reader] * readers,
                    names=["writers"] + ["reader-%d" % i for i in range(readers)])
    ctx.expect(not torn, "while writers called update({'x': v, 'y': v, 'z': v}), a reader saw them disagree: %s "
               "(update() is not atomic: another thread saw it half done)" % "; ".join(torn),
               hint="apply the whole update under one hold of the lock (self._dict.update(other) inside it)")


def snapshot_iteration(ctx):
    """Iterating while other threads add and remove keys: no RuntimeError, and what is returned is a copy."""
    writers, readers, rounds, width = (ctx.params["writers"], ctx.params["readers"], ctx.params["rounds"],
                                       ctx.params["width"])
    d = _new(ctx, {"base%d" % k: k for k in range(width)})
    stop = threading.Event()
    errors = []

    def writer(i):
        for k in range(rounds):
            key = "w%d_%d" % (i, k)
            d.set(key, k)
            if k >= 3:
                d.delete("w%d_%d" % (i, k - 3))

    def reader(i):
        n = 0
        while (not stop.is_set() or n < 3) and not errors:
            n += 1
            for what, fn in (("for key in d", lambda: [k for k in d]),
                             ("d.items()", lambda: [kv for kv in d.items()]),
                             ("d.keys()", lambda: [k for k in d.keys()]),
                             ("d.values()", lambda: [v for v in d.values()]),
                             ("str(d)", lambda: str(d))):
                try:
                    fn()
                except RuntimeError as exc:
                    errors.append("%s in reader-%d raised RuntimeError: %s" % (what, i, exc))
                    return

    def writers_then_stop():
        try:
            ctx.run_threads([lambda i=i: writer(i) for i in range(writers)],
                            names=["writer-%d" % i for i in range(writers)])
        finally:
            stop.set()
    ctx.run_threads([writers_then_stop] + [lambda i=i: reader(i) for i in range(readers)],
                    timeout=ctx.params["timeout_s"],
                    names=["writers"] + ["reader-%d" % i for i in range(readers)])
    ctx.expect(not errors, "while %d threads added and deleted keys, iterating raised: %s" % (writers, errors[0]
               if errors else ""),
               hint="return a copy made under the lock (list(self._dict.items())), never the live dict or a view")
    # What was returned must not change afterwards.
    d = _new(ctx, {"a": 1, "b": 2})
    ks, vs, its, snap, it = d.keys(), d.values(), d.items(), d.snapshot(), iter(d)
    d.set("c", 3)
    d.set("a", 100)
    ctx.expect_eq((sorted(ks), sorted(vs), sorted(its)), (["a", "b"], [1, 2], [("a", 1), ("b", 2)]),
                  "keys(), values(), items() taken before set('c', 3) and set('a', 100)",
                  hint="return lists copied under the lock, not views of the live dict")
    ctx.expect_eq(snap, {"a": 1, "b": 2}, "snapshot() taken before set('c', 3) and set('a', 100)")
    snap["zzz"] = 0
    ctx.expect("zzz" not in d, "adding a key to the dict returned by snapshot() changed the ThreadSafeDict",
               hint="snapshot() returns a copy")
    try:
        keys = sorted(it)
    except RuntimeError as exc:
        ctx.fail("an iterator taken with iter(d) raised RuntimeError (%s) after a key was added" % exc,
                 hint="__iter__ iterates over a copy of the keys")
    ctx.expect_eq(keys, ["a", "b"], "the keys an iterator taken before set('c', 3) yields")


# -- problem solving ------------------------------------------------------------------------------

def reentrant_locked(ctx):
    """Client-side locking: inside `with d.locked():` every method works (reentrant lock), and other
    threads wait until the block ends."""
    d = _new(ctx)

    def calls():
        with d.locked():
            d.set("a", 1)
            d.increment("a")
            with d.locked():
                d.update({"b": 2})
                d.setdefault("c", 3)
            ctx.expect_eq((d.get("a"), d.get("b"), d.get("c"), len(d), "a" in d), (2, 2, 3, 3, True),
                          "get('a'), get('b'), get('c'), len(d), 'a' in d inside `with d.locked():`")
            ctx.expect_eq(d.snapshot(), {"a": 2, "b": 2, "c": 3}, "snapshot() inside `with d.locked():`")
            ctx.expect_eq(sorted(d.items()), [("a", 2), ("b", 2), ("c", 3)], "items() inside the block")
            d.delete("c")
            ctx.expect_eq(d.pop("b"), 2, "pop('b') inside the block")
            str(d)
            ctx.expect_eq(d.get_or_compute("f", lambda: d.get("a") * 10), 20,
                          "get_or_compute('f', lambda: d.get('a') * 10) inside the block (the factory reads d)")
    ctx.run_threads([calls], names=["holder"], timeout=ctx.params["timeout_s"])
    # The factory may use the dict itself, outside any block.
    ctx.expect_eq(d.get_or_compute("g", lambda: d.get("f") + d.increment("a")), 23,
                  "get_or_compute('g', factory) whose factory calls get() and increment() on the same dict")

    # While one thread holds locked(), another thread's set() waits for the block to end.
    inside, leave = threading.Event(), threading.Event()
    seen = {}

    def holder():
        with d.locked():
            inside.set()
            leave.wait(ctx.params["timeout_s"])
            seen["during"] = d.get("other")
    t, box = _in_thread(ctx, holder, "holder")
    ctx.expect(inside.wait(ctx.params["timeout_s"]), "the thread holding `with d.locked():` never got inside")
    t2, box2 = _in_thread(ctx, lambda: d.set("other", 1), "setter")
    time.sleep(ctx.params["hold_s"])
    done_early = not t2.is_alive()
    leave.set()
    t.join(ctx.params["timeout_s"])
    t2.join(ctx.params["timeout_s"])
    for b in (box, box2):
        if "error" in b:
            raise b["error"]
    ctx.expect(not done_early and seen.get("during") is None,
               "another thread's set('other', 1) completed while a thread was inside `with d.locked():` "
               "(it saw other=%r): locked() must hold the same lock as the methods" % (seen.get("during"),),
               hint="locked() holds self._lock, the one every method takes")
    ctx.expect_eq(d.get("other"), 1, "get('other') once the block ended and set('other', 1) went through")


def client_side_compound(ctx):
    """Many threads run `with d.locked(): d.set(k, d.get(k, 0) + 1)`: no update is lost."""
    threads, ops = ctx.params["threads"], ctx.params["ops"]
    d = _new(ctx)

    def work():
        for _ in range(ops):
            with d.locked():
                d.set("k", d.get("k", 0) + 1)
    # No timeout here: under the controlled scheduler a timed join would expire as soon as the workers
    # all block, hiding a deadlock behind "still running"; the item's own timeout bounds the run.
    ctx.run_threads([work] * threads)
    ctx.expect_eq(d.get("k"), threads * ops, "value after %d threads x %d `with d.locked(): d.set('k', "
                  "d.get('k', 0) + 1)`" % (threads, ops), hint="locked() must hold the lock the methods use")


def callback_outside_lock(ctx):
    """While a factory runs, the rest of the dict stays usable: other keys' reads, writes and factories."""
    d = _new(ctx, {"x": 1})
    limit = ctx.params["op_timeout"]
    started, release = threading.Event(), threading.Event()

    def slow_factory():
        started.set()
        release.wait(ctx.params["timeout_s"])
        return "slow"
    t, box = _in_thread(ctx, lambda: d.get_or_compute("a", slow_factory), "computing-a")
    try:
        ctx.expect(started.wait(limit), "get_or_compute('a', factory) did not call the factory within %.1f s" % limit)
        for what, op in (("get('x')", lambda: d.get("x")),
                         ("set('y', 2)", lambda: d.set("y", 2)),
                         ("increment('n')", lambda: d.increment("n")),
                         ("len(d)", lambda: len(d)),
                         ("items()", lambda: d.items()),
                         ("get_or_compute('b', lambda: 'fast')", lambda: d.get_or_compute("b", lambda: "fast"))):
            t2, box2 = _in_thread(ctx, op, "other")
            t2.join(limit)
            ctx.expect(not t2.is_alive(), "while the factory of get_or_compute('a', ...) was running, another "
                       "thread's %s did not return within %.1f s: the dict's lock is held while user code runs"
                       % (what, limit),
                       hint="call the factory after releasing the lock; store its result under the lock afterwards")
            if "error" in box2:
                raise box2["error"]
    finally:
        release.set()
    t.join(ctx.params["timeout_s"])
    if "error" in box:
        raise box["error"]
    ctx.expect_eq(box.get("value"), "slow", "get_or_compute('a', factory) once the factory returned")
    ctx.expect_eq((d.get("a"), d.get("b"), d.get("y")), ("slow", "fast", 2), "get('a'), get('b'), get('y') after")


def compute_once(ctx):
    """Racing get_or_compute calls for one missing key run its factory once and all get its value;
    a factory that raises stores nothing and the next caller tries again."""
    d = _new(ctx)
    waiters, limit = ctx.params["waiters"], ctx.params["timeout_s"]
    started, release = threading.Event(), threading.Event()
    calls = []

    def factory():
        calls.append(threading.current_thread().name)
        started.set()
        release.wait(limit)
        return object()
    first, box = _in_thread(ctx, lambda: d.get_or_compute("k", factory), "first")
    others = []
    try:
        ctx.expect(started.wait(limit), "get_or_compute('k', factory) did not call the factory within %.1f s" % limit)
        others = [_in_thread(ctx, lambda: d.get_or_compute("k", factory), "racer-%d" % i) for i in range(waiters)]
        settle = time.monotonic() + ctx.params["settle_s"]
        while time.monotonic() < settle and len(calls) <= waiters:   # every racer ran the factory: stop early
            time.sleep(0.01)
        early = [b for _, b in others if b]
    finally:
        release.set()
    for t, _ in [(first, box)] + others:
        t.join(limit)
    for _, b in [(first, box)] + others:
        if "error" in b:
            raise b["error"]
    ctx.expect(len(calls) == 1, "%d threads called get_or_compute('k', factory) while its factory was running; "
               "the factory ran %d times (%s): a missing key's factory must run once, the others wait for it"
               % (waiters + 1, len(calls), ", ".join(calls)),
               hint="remember which keys are being computed (a dict of Events); a second caller waits on the "
                    "Event, outside the lock, then reads the stored value")
    ctx.expect(not early, "get_or_compute('k', ...) returned in %d racing thread(s) before the running factory "
               "had finished" % len(early))
    values = [box.get("value")] + [b.get("value") for _, b in others]
    ctx.expect(all(v is values[0] for v in values) and d.get("k") is values[0],
               "racing get_or_compute('k') calls returned %d different values; all must return the stored one"
               % len({id(v) for v in values}))

    # A factory that raises: the caller sees the error, nothing is stored, the next call computes.
    def boom():
        raise ValueError("factory failed")
    try:
        d.get_or_compute("e", boom)
    except ValueError:
        pass
    else:
        ctx.fail("get_or_compute('e', factory) whose factory raised ValueError did not raise it")
    ctx.expect("e" not in d, "a factory that raised left the key 'e' in the dict")
    got = ctx.call_with_timeout(lambda: d.get_or_compute("e", lambda: "second try"), limit)
    ctx.expect_eq(got, "second try", "get_or_compute('e', factory) after an earlier factory for 'e' raised "
                  "(it must not wait for the failed one forever)")


# -- performance ----------------------------------------------------------------------------------

def bench_dict(ctx):
    """Timed workload: threads mixing quick operations on shared keys, then get_or_compute of distinct
    keys whose factories wait like I/O (sleep); the dict must let those factories overlap."""
    mod = ctx.student(MODULE)
    threads, ops, keys = ctx.params["threads"], ctx.params["ops"], ctx.params["keys"]
    computed, io_s = ctx.params["computed"], ctx.params["io_s"]

    def workload():
        d = mod.ThreadSafeDict()

        def quick(i):
            for k in range(ops):
                key = (i * 7 + k) % keys
                d.increment(key)
                d.get(key)
                d.set(("s", key), k)
                if k % 50 == 0:
                    d.items()

        def slow(i):
            for k in range(computed):
                d.get_or_compute(("c", i, k), lambda: time.sleep(io_s) or k)
        ts = [threading.Thread(target=quick, args=(i,)) for i in range(threads)] + \
             [threading.Thread(target=slow, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        total = sum(d.get(k, 0) for k in range(keys))
        if total != threads * ops:
            raise AssertionError("increments: %d, expected %d" % (total, threads * ops))
    return workload
