"""Workloads for ex-threadsafe-dict: the teaching guide's ThreadSafeDict (Module 3, Lesson 1). Each
records what the student's code did; judge.py, which the submission never sees, gives the verdicts.

The API is the starter's docstring. Concurrency checks run under the grader's yield injection
(stress items) or lock instrumentation (deadlock items). Every wait of the grader's own is timed, so
a broken submission makes a check fail with a message, never hang. Standard library only.
"""
import threading
import time

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


def _raised(fn, error):
    """The name of `error` when fn raises it, "none" when fn returns; other exceptions go on."""
    try:
        fn()
    except error:
        return error.__name__
    return "none"


def _items(value):
    """What items() returned, as a list, and whether every entry is a tuple (JSON makes lists of them)."""
    value = list(value)
    return {"items": value, "tuples": all(isinstance(kv, tuple) for kv in value)}


def _as_dict(value):
    """What a method returned as a dict: a Mapping compares as its items (== a dict does)."""
    from collections.abc import Mapping
    return dict(value) if isinstance(value, Mapping) and not isinstance(value, dict) else value


class _Objects:
    """Names objects by identity (which cannot cross to the judge): the `known` ones by their index,
    any other by the next free index, the same object always by the same one."""

    def __init__(self, known=()):
        self.objs = list(known)

    def index(self, obj):
        for i, o in enumerate(self.objs):
            if o is obj:
                return i
        self.objs.append(obj)
        return len(self.objs) - 1


# -- completion ---------------------------------------------------------------------------------

def basic_api(ctx):
    """Every method, one thread: records what each call returned."""
    d = _new(ctx)
    ctx.observe("len_new", len(d))
    ctx.observe("get_missing", d.get("a"))
    ctx.observe("get_missing_7", d.get("a", 7))
    d.set("a", 1)
    ctx.observe("get_a", d.get("a"))
    ctx.observe("in", ["a" in d, "b" in d])
    d.update({"b": 2, "c": 3})
    ctx.observe("items", _items(d.items()))
    ctx.observe("keys", list(d.keys()))
    ctx.observe("values", list(d.values()))
    ctx.observe("iter", list(d))
    ctx.observe("snapshot", _as_dict(d.snapshot()))
    ctx.observe("str", str(d))
    d.delete("b")
    ctx.observe("snapshot_after_delete", _as_dict(d.snapshot()))
    ctx.observe("delete_missing", _raised(lambda: d.delete("zzz"), KeyError))
    ctx.observe("pop_c", d.pop("c"))
    ctx.observe("pop_c_default", d.pop("c", "gone"))
    ctx.observe("pop_missing", _raised(lambda: d.pop("c"), KeyError))
    ctx.observe("increment_n", d.increment("n"))
    ctx.observe("increment_n_5", d.increment("n", 5))
    ctx.observe("get_n", d.get("n"))
    ctx.observe("setdefault_missing", d.setdefault("s", []))
    first, other = d.get("s"), ["other"]
    got = d.setdefault("s", other)
    ctx.observe("setdefault_present", "stored" if got is first else "default" if got is other else repr(got))
    calls = []
    ctx.observe("compute_missing", d.get_or_compute("g", lambda: calls.append(1) or "computed"))
    ctx.observe("compute_present", d.get_or_compute("g", lambda: calls.append(1) or "again"))
    ctx.observe("factory_calls", len(calls))
    ctx.observe("get_g", d.get("g"))
    d2 = _new(ctx, {"x": 1, "y": 2})
    ctx.observe("snapshot_initial", _as_dict(d2.snapshot()))
    with d2.locked():
        d2.set("z", 3)
    ctx.observe("get_z_locked", d2.get("z"))


def atomic_ops(ctx):
    """Compound operations from many threads: increment, setdefault and pop. Records what every call
    returned and what the dict held after."""
    threads, ops, keys = ctx.params["threads"], ctx.params["ops"], ctx.params["keys"]
    d = _new(ctx)
    returned = [[] for _ in range(threads)]

    def inc(i):
        for k in range(ops):
            key = "k%d" % ((i + k) % keys)
            returned[i].append((key, d.increment(key)))
    ctx.run_threads([lambda i=i: inc(i) for i in range(threads)])
    ctx.observe("increments", returned)
    ctx.observe("counts", {"k%d" % k: d.get("k%d" % k) for k in range(keys)})

    # setdefault: every racing caller gets the one value stored first. `sd_keys` fresh keys, each
    # raced by every thread at once: they line up before each key, so each key is a new chance for
    # a switch between a check-then-act's check and its act (one key alone: about 1 run in 2).
    # Objects cannot cross to the judge: each is recorded as its index among the key's candidates
    # (the object thread i passed is i; any other object gets the next free index).
    n_sd = ctx.params.get("sd_keys", 1)
    got = [[None] * threads for _ in range(n_sd)]
    candidates = [[object() for _ in range(threads)] for _ in range(n_sd)]
    arrived = [[] for _ in range(n_sd)]

    def sd(i):
        for k in range(n_sd):
            _line_up(arrived[k], threads)
            got[k][i] = d.setdefault("shared-%d" % k, candidates[k][i])
    ctx.run_threads([lambda i=i: sd(i) for i in range(threads)])
    setdefaults = []
    for k in range(n_sd):
        names = _Objects(candidates[k])
        setdefaults.append({"got": [names.index(g) for g in got[k]], "stored": names.index(d.get("shared-%d" % k))})
    ctx.observe("setdefaults", setdefaults)

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
    ctx.observe("popped", taken)


def _line_up(arrived, n, limit=5.0):
    """A barrier the schedulers see through: each caller appends itself, then yields (time.sleep(0),
    a switch point under the controlled scheduler too) until all `n` have arrived or `limit` s passed."""
    arrived.append(1)
    deadline = time.monotonic() + limit
    while len(arrived) < n and time.monotonic() < deadline:
        time.sleep(0)


def update_atomic(ctx):
    """Writers update({'x': v, 'y': v, 'z': v}); readers record every (x, y, z) they see."""
    writers, readers, rounds = ctx.params["writers"], ctx.params["readers"], ctx.params["rounds"]
    d = _new(ctx, {"x": 0, "y": 0, "z": 0})
    seen = {}          # (how, x, y, z) -> None, in the order first seen (a dict keeps it)
    reads = [0] * readers
    stop = threading.Event()

    def writer(i):
        for k in range(rounds):
            v = i * rounds + k + 1
            d.update({"x": v, "y": v, "z": v})

    def reader(r):
        while not stop.is_set() or reads[r] < 5:
            reads[r] += 1
            snap = d.snapshot()
            items = dict(d.items())
            for how, s in (("snapshot()", snap), ("dict(items())", items)):
                seen.setdefault((how, s.get("x"), s.get("y"), s.get("z")), None)

    def writers_then_stop():
        try:
            ctx.run_threads([lambda i=i: writer(i) for i in range(writers)],
                            names=["writer-%d" % i for i in range(writers)])
        finally:
            stop.set()
    ctx.run_threads([writers_then_stop] + [lambda r=r: reader(r) for r in range(readers)],
                    names=["writers"] + ["reader-%d" % i for i in range(readers)])
    ctx.observe("reads", reads)
    ctx.observe("seen", [list(t) for t in seen])
    ctx.observe("final", _as_dict(d.snapshot()))


def snapshot_iteration(ctx):
    """Iterating while other threads add and remove keys (records any RuntimeError and the sizes
    seen), then whether what was returned changes afterwards."""
    writers, readers, rounds, width = (ctx.params["writers"], ctx.params["readers"], ctx.params["rounds"],
                                       ctx.params["width"])
    d = _new(ctx, {"base%d" % k: k for k in range(width)})
    stop = threading.Event()
    errors = []
    passes = [0] * readers
    sizes = {}         # how -> {size: None}

    def writer(i):
        for k in range(rounds):
            key = "w%d_%d" % (i, k)
            d.set(key, k)
            if k >= 3:
                d.delete("w%d_%d" % (i, k - 3))

    def reader(i):
        while (not stop.is_set() or passes[i] < 3) and not errors:
            passes[i] += 1
            for what, fn in (("for key in d", lambda: [k for k in d]),
                             ("d.items()", lambda: [kv for kv in d.items()]),
                             ("d.keys()", lambda: [k for k in d.keys()]),
                             ("d.values()", lambda: [v for v in d.values()]),
                             ("str(d)", lambda: str(d))):
                try:
                    got = fn()
                except RuntimeError as exc:
                    errors.append("%s in reader-%d raised RuntimeError: %s" % (what, i, exc))
                    return
                if what != "str(d)":
                    sizes.setdefault(what, {}).setdefault(len(got), None)

    def writers_then_stop():
        try:
            ctx.run_threads([lambda i=i: writer(i) for i in range(writers)],
                            names=["writer-%d" % i for i in range(writers)])
        finally:
            stop.set()
    ctx.run_threads([writers_then_stop] + [lambda i=i: reader(i) for i in range(readers)],
                    timeout=ctx.params["timeout_s"],
                    names=["writers"] + ["reader-%d" % i for i in range(readers)])
    ctx.observe("errors", errors)
    ctx.observe("passes", passes)
    ctx.observe("sizes", {what: sorted(s) for what, s in sizes.items()})
    ctx.observe("keys_after_writers", list(d.keys()))
    # What was returned must not change afterwards.
    d = _new(ctx, {"a": 1, "b": 2})
    ks, vs, its, snap, it = d.keys(), d.values(), d.items(), d.snapshot(), iter(d)
    d.set("c", 3)
    d.set("a", 100)
    ctx.observe("taken_before", [list(ks), list(vs), _items(its)])
    ctx.observe("snapshot_before", _as_dict(snap))
    snap["zzz"] = 0
    ctx.observe("snapshot_key_in_dict", "zzz" in d)
    try:
        ctx.observe("iterator_keys", list(it))
        ctx.observe("iterator_error", None)
    except RuntimeError as exc:
        ctx.observe("iterator_error", str(exc))


# -- problem solving ------------------------------------------------------------------------------

def reentrant_locked(ctx):
    """Client-side locking: inside `with d.locked():` every method is called (reentrant lock), then
    another thread's set() while one thread holds the block: records what each call returned and
    whether the set() went through before the block ended."""
    d = _new(ctx)

    def calls():
        with d.locked():
            d.set("a", 1)
            d.increment("a")
            with d.locked():
                d.update({"b": 2})
                d.setdefault("c", 3)
            ctx.observe("inside", [d.get("a"), d.get("b"), d.get("c"), len(d), "a" in d])
            ctx.observe("snapshot_inside", _as_dict(d.snapshot()))
            ctx.observe("items_inside", _items(d.items()))
            d.delete("c")
            ctx.observe("pop_inside", d.pop("b"))
            str(d)
            ctx.observe("compute_inside", d.get_or_compute("f", lambda: d.get("a") * 10))
    ctx.run_threads([calls], names=["holder"], timeout=ctx.params["timeout_s"])
    # The factory may use the dict itself, outside any block.
    ctx.observe("compute_outside", d.get_or_compute("g", lambda: (d.get("f") or 0) + d.increment("a")))

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
    ctx.observe("set_done_during_block", done_early)
    ctx.observe("holder_saw_other", seen.get("during"))
    ctx.observe("other_after", d.get("other"))


def client_side_compound(ctx):
    """Many threads run `with d.locked(): d.set(k, d.get(k, 0) + 1)`; records the final value."""
    threads, ops = ctx.params["threads"], ctx.params["ops"]
    d = _new(ctx)
    done = [0] * threads

    def work(i):
        for _ in range(ops):
            with d.locked():
                d.set("k", d.get("k", 0) + 1)
            done[i] += 1
    # No timeout here: under the controlled scheduler a timed join would expire as soon as the workers
    # all block, hiding a deadlock behind "still running"; the item's own timeout bounds the run.
    ctx.run_threads([lambda i=i: work(i) for i in range(threads)])
    ctx.observe("done", done)
    ctx.observe("value", d.get("k"))


def callback_outside_lock(ctx):
    """While a factory runs, other threads use the dict: records, per operation, whether it returned
    within `op_timeout` and what it returned (the first that did not return ends the list)."""
    d = _new(ctx, {"x": 1})
    limit = ctx.params["op_timeout"]
    started, release = threading.Event(), threading.Event()

    def slow_factory():
        started.set()
        release.wait(ctx.params["timeout_s"])
        return "slow"
    t, box = _in_thread(ctx, lambda: d.get_or_compute("a", slow_factory), "computing-a")
    ops = []
    try:
        ctx.expect(started.wait(limit), "get_or_compute('a', factory) did not call the factory within %.1f s" % limit)
        for what, op in (("get('x')", lambda: d.get("x")),
                         ("set('y', 2)", lambda: d.set("y", 2)),
                         ("increment('n')", lambda: d.increment("n")),
                         ("len(d)", lambda: len(d)),
                         ("items()", lambda: list(d.items())),
                         ("get_or_compute('b', lambda: 'fast')", lambda: d.get_or_compute("b", lambda: "fast"))):
            t2, box2 = _in_thread(ctx, op, "other")
            t2.join(limit)
            if t2.is_alive():
                ops.append([what, False, None])
                break
            if "error" in box2:
                raise box2["error"]
            ops.append([what, True, box2.get("value")])
    finally:
        release.set()
    ctx.observe("during_factory", ops)
    if ops and not ops[-1][1]:
        return      # the judge reports it; the dict's lock may still be held
    t.join(ctx.params["timeout_s"])
    if "error" in box:
        raise box["error"]
    ctx.observe("computed", box.get("value"))
    ctx.observe("after", [d.get("a"), d.get("b"), d.get("y")])


def compute_once(ctx):
    """Racing get_or_compute calls for one missing key; then a factory that raises. Records the
    factory's calls, which object each caller got back (by index: the factory's objects first, in the
    order it made them) and whether any returned before the factory finished."""
    d = _new(ctx)
    waiters, limit = ctx.params["waiters"], ctx.params["timeout_s"]
    started, release = threading.Event(), threading.Event()
    calls, made = [], []

    def factory():
        calls.append(threading.current_thread().name)
        started.set()
        release.wait(limit)
        value = object()
        made.append(value)
        return value
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
    ctx.observe("calls", list(calls))
    ctx.observe("returned_early", len(early))
    names = _Objects(made)
    ctx.observe("made", len(made))
    ctx.observe("returned", [names.index(b.get("value")) if "value" in b else None
                             for b in [box] + [b for _, b in others]])
    ctx.observe("stored", names.index(d.get("k")))

    # A factory that raises: the caller sees the error, nothing is stored, the next call computes.
    def boom():
        raise ValueError("factory failed")
    ctx.observe("failing_factory", _raised(lambda: d.get_or_compute("e", boom), ValueError))
    ctx.observe("failed_key_in_dict", "e" in d)
    ctx.observe("after_failure", ctx.call_with_timeout(lambda: d.get_or_compute("e", lambda: "second try"), limit))


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
