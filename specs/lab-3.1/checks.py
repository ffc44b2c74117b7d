"""Checks for lab-3.1: a connection pool bounded by a semaphore (API: the docstring of starter/lab-3.1/pool.py).

The factory is the check's own: it hands out numbered FakeConnection objects, so every message can name the
connection, and it counts how many were made. Probes of an exhausted pool use acquire(timeout=0), so that
only the acquire-timeout item depends on a timeout being honoured.
"""
import itertools
import threading
import time

from grade_oracles import await_waiting, in_wait


class FakeConnection:
    """What the check's factory makes: a numbered stand-in for a database connection."""

    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return "conn-%d" % self.n


class Factory:
    """factory() for the pool: counts the connections it made (list.append and next() are atomic)."""

    def __init__(self):
        self._ids = itertools.count(1)
        self.made = []

    def __call__(self):
        conn = FakeConnection(next(self._ids))
        self.made.append(conn)
        return conn


def _pool(ctx, n, factory=None):
    mod = ctx.student("pool")
    factory = factory or Factory()
    return mod, mod.ConnectionPool(factory, max_connections=n), factory


def _call(ctx, fn, limit, what, hint=None):
    """Runs fn() in a helper thread. Returns ("ok", value, seconds) or ("raised", exception, seconds);
    fails the check when it has not returned after `limit` seconds."""
    t0 = time.monotonic()
    try:
        value = ctx.call_with_timeout(fn, limit)
    except ctx.CheckFailed:
        ctx.fail("%s did not return within %.1f s" % (what, limit), hint=hint)
    except Exception as exc:  # the student's exception, examined by the caller
        return "raised", exc, time.monotonic() - t0
    return "ok", value, time.monotonic() - t0


def _expect_timeout(ctx, mod, outcome, what, hint=None):
    status, value, _ = outcome
    if status == "ok":
        ctx.fail("%s returned %r although every connection was checked out: it must raise PoolTimeout"
                 % (what, value), hint=hint)
    if not isinstance(value, mod.PoolTimeout):
        ctx.fail("%s raised %s: %s, expected PoolTimeout" % (what, type(value).__name__, value), hint=hint)


def _exhaust(ctx, p, n):
    conns = [p.acquire(timeout=0) for _ in range(n)]
    ctx.expect(len(set(map(id, conns))) == n,
               "%d acquire() calls on a fresh pool of max_connections=%d returned %r: the same connection twice"
               % (n, n, conns))
    return conns


# -- completion_quality ------------------------------------------------------------------------------------

def pool_basic(ctx):
    mod, p, factory = _pool(ctx, 3)
    ctx.expect(issubclass(mod.PoolTimeout, Exception), "PoolTimeout must be an Exception subclass")
    ctx.expect_eq(p.max_connections, 3, "max_connections of ConnectionPool(factory, max_connections=3)")
    ctx.expect_eq((p.in_use, p.created, len(factory.made)), (0, 0, 0),
                  "(in_use, created, factory calls) of a new pool: connections are made lazily",
                  hint="do not call factory() in __init__: only when acquire() needs a new connection")
    a = p.acquire()
    ctx.expect(isinstance(a, FakeConnection), "acquire() returned %r, not the object factory() made" % (a,))
    ctx.expect_eq((p.in_use, p.created), (1, 1), "(in_use, created) after one acquire()")
    p.release(a)
    ctx.expect_eq(p.in_use, 0, "in_use after releasing it")
    b = p.acquire()
    ctx.expect(b is a, "after release(conn-1), acquire() returned %r and the factory was called %d times: "
               "an idle connection must be reused before a new one is made" % (b, len(factory.made)),
               hint="keep released connections on an idle list and take from it first")
    c = p.acquire()
    ctx.expect(c is not b, "two acquire() calls without a release both returned %r" % (b,))
    ctx.expect_eq((p.in_use, p.created, len(factory.made)), (2, 2, 2),
                  "(in_use, created, factory calls) with two connections out")
    p.release(b)
    p.release(c)
    ctx.expect_eq(p.in_use, 0, "in_use after every connection was released")
    with p.connection() as d:
        ctx.expect(isinstance(d, FakeConnection), "`with pool.connection() as conn` gave %r" % (d,))
        ctx.expect_eq(p.in_use, 1, "in_use inside a `with pool.connection()` block")
    ctx.expect_eq(p.in_use, 0, "in_use after the `with pool.connection()` block")
    ctx.expect_eq(p.created, 2, "created after reusing idle connections")
    for bad in (0, -1):
        try:
            mod.ConnectionPool(Factory(), max_connections=bad)
        except ValueError:
            pass
        else:
            ctx.fail("ConnectionPool(factory, max_connections=%d) did not raise ValueError" % bad)
    default = mod.ConnectionPool(Factory())
    ctx.expect_eq(default.max_connections, 10, "max_connections of ConnectionPool(factory) (default)")


def blocks_when_exhausted(ctx):
    """All connections out: a plain acquire() in another thread waits, and proceeds when one is released."""
    n, watch, limit = ctx.params["max"], ctx.params["watch_s"], ctx.params["wake_s"]
    mod, p, factory = _pool(ctx, n)
    held = _exhaust(ctx, p, n)
    got = {}

    def waiter():
        got["conn"] = p.acquire()
    t = threading.Thread(target=waiter, name="waiter", daemon=True)
    t.start()
    time.sleep(watch)  # the main thread sleeps (not joins): it stays runnable while the waiter blocks
    if not t.is_alive():
        ctx.fail("acquire() returned %r at once while all %d connections were checked out: it must block "
                 "until one is released (factory calls so far: %d)" % (got.get("conn"), n, len(factory.made)),
                 hint="acquire a permit of threading.Semaphore(max_connections) before taking a connection")
    p.release(held[0])
    t.join(limit)
    ctx.expect(not t.is_alive(), "the waiting acquire() was still blocked %.1f s after release(%r)"
               % (limit, held[0]), hint="release() must give the semaphore's permit back")
    ctx.expect(got["conn"] is held[0], "the waiting acquire() got %r, not the connection just released (%r): "
               "with %d out and %d made, it should reuse the idle one" % (got["conn"], held[0], n, n))
    ctx.expect_eq(len(factory.made), n, "factory calls (never more than max_connections)")
    p.release(got["conn"])
    for c in held[1:]:
        p.release(c)
    ctx.expect_eq(p.in_use, 0, "in_use after every connection was released")


def acquire_timeout(ctx):
    """acquire(timeout=...) on an exhausted pool raises PoolTimeout in about that time; it succeeds when a
    connection is released while it waits. Runs without lock instrumentation: a hang is timed by the check."""
    n, t_short, cap = ctx.params["max"], ctx.params["timeout_s"], ctx.params["cap_s"]
    mod, p, _ = _pool(ctx, n)
    held = _exhaust(ctx, p, n)
    hint = ("wait with self._semaphore.acquire(timeout=timeout) (by keyword: Semaphore.acquire(0.2) means "
            "blocking=0.2, timeout=None, which waits forever) and raise PoolTimeout when it returns False")
    out = _call(ctx, lambda: p.acquire(timeout=0), cap, "acquire(timeout=0) on an exhausted pool", hint)
    _expect_timeout(ctx, mod, out, "acquire(timeout=0) with all %d connections out" % n, hint)
    what = "acquire(timeout=%g) with all %d connections out" % (t_short, n)
    out = _call(ctx, lambda: p.acquire(timeout=t_short), cap, what + " (the timeout is ignored)", hint)
    _expect_timeout(ctx, mod, out, what, hint)
    ctx.expect(out[2] >= t_short * 0.7, "%s gave up after %.3f s, before its timeout" % (what, out[2]), hint)
    ctx.expect(out[2] <= t_short + 1.5, "%s took %.2f s to give up" % (what, out[2]), hint)
    ctx.expect_eq(p.in_use, n, "in_use after timed-out acquires (a failed acquire changes nothing)")
    # A connection released while acquire(timeout=...) waits is taken.
    timer = threading.Timer(t_short / 2, p.release, args=(held[0],))
    timer.start()
    try:
        status, value, secs = _call(ctx, lambda: p.acquire(timeout=cap / 2), cap,
                                    "acquire(timeout=%g) while another thread releases" % (cap / 2), hint)
    finally:
        timer.join()
    if status != "ok":
        ctx.fail("acquire(timeout=%g) raised %s: %s, although a connection was released %.2f s into the wait"
                 % (cap / 2, type(value).__name__, value, t_short / 2), hint)
    ctx.expect(value is held[0], "acquire(timeout=...) got %r, expected the released %r" % (value, held[0]))
    for c in [value] + held[1:]:
        p.release(c)
    out = _call(ctx, lambda: p.acquire(timeout=t_short), cap, "acquire(timeout=%g) on an idle pool" % t_short)
    ctx.expect(out[0] == "ok", "acquire(timeout=%g) with every connection idle raised %r" % (t_short, out[1]))
    ctx.expect(out[2] < t_short, "acquire(timeout=%g) with every connection idle waited %.3f s" % (t_short, out[2]))


def released_on_exception(ctx):
    """`with pool.connection()` blocks that raise still give their connection back, and the error propagates."""
    n, rounds = ctx.params["max"], ctx.params["rounds"]
    mod, p, factory = _pool(ctx, n)

    class QueryFailed(Exception):
        pass
    for i in range(1, rounds + 1):
        try:
            with p.connection() as conn:
                ctx.expect(isinstance(conn, FakeConnection), "pool.connection() gave %r" % (conn,))
                raise QueryFailed("round %d" % i)
        except QueryFailed:
            pass
        else:
            ctx.fail("an exception raised inside `with pool.connection()` was swallowed (round %d): it must "
                     "propagate" % i, hint="do not return True from __exit__; do not catch it in the generator")
        ctx.expect_eq(p.in_use, 0, "in_use after `with pool.connection()` block #%d raised (the connection was "
                      "never released)" % i,
                      hint="release in a `finally:` around the `yield` (or in __exit__), so an exception "
                           "inside the with-block still gives the connection back")
    # Every permit is still there: max connections can be taken at once, without waiting.
    try:
        conns = [p.acquire(timeout=0) for _ in range(n)]
    except mod.PoolTimeout:
        ctx.fail("after %d with-blocks that raised, acquire(timeout=0) timed out with in_use=%d: "
                 "permits were lost" % (rounds, p.in_use))
    ctx.expect(len(factory.made) <= n, "factory called %d times with max_connections=%d" % (len(factory.made), n))
    for c in conns:
        p.release(c)


def double_release(ctx):
    """Releasing a connection that is not checked out raises ValueError and does not add capacity."""
    n = ctx.params["max"]
    mod, p, factory = _pool(ctx, n)
    hint = ("keep the set of checked-out connections and refuse (ValueError) one that is not in it; a "
            "BoundedSemaphore alone only notices when the count goes above max_connections")
    # Scenario A: the only connection out is released twice.
    a = p.acquire()
    p.release(a)
    refused = True
    try:
        p.release(a)
    except ValueError:
        pass
    else:
        refused = False
    # Scenario B: two out, one released twice (a BoundedSemaphore does not notice: its count stays <= max).
    b, c = p.acquire(timeout=0), p.acquire(timeout=0)
    p.release(b)
    refused_b = True
    try:
        p.release(b)
    except ValueError:
        pass
    else:
        refused_b = False
    # How many connections can be out at once now? (c is still out.)
    extra = []
    try:
        while len(extra) < n + 2:
            extra.append(p.acquire(timeout=0))
    except mod.PoolTimeout:
        pass
    out_now = 1 + len(extra)
    ids = [x.n for x in extra + [c]]
    dup = sorted(set(i for i in ids if ids.count(i) > 1))
    if not (refused and refused_b) or out_now > n or dup:
        which = "the only connection out" if not refused else "one of two connections out"
        msg = "release() of %s, a second time, did not raise ValueError" % which
        if out_now > n:
            msg += "; afterwards %d connections could be checked out at once with max_connections=%d (the " \
                   "extra release raised the capacity)" % (out_now, n)
        if dup:
            msg += "; connection(s) %s were handed out twice at the same time" % ", ".join("conn-%d" % d for d in dup)
        ctx.fail(msg, hint=hint)
    for x in extra + [c]:
        p.release(x)
    try:
        p.release(FakeConnection(999))
    except ValueError:
        pass
    else:
        ctx.fail("release() of a connection the pool never lent did not raise ValueError", hint=hint)
    ctx.expect_eq(p.in_use, 0, "in_use after every connection was released")


def bound_held(ctx):
    """Many threads use `with pool.connection()`; a meter around the use counts connections in use at once."""
    n, threads, ops, hold = (ctx.params[k] for k in ("max", "threads", "ops", "hold_s"))
    _, p, factory = _pool(ctx, n)
    meter = ctx.meter(bound=n)
    errors = []

    def work():
        try:
            for _ in range(ops):
                with p.connection():
                    with meter:
                        time.sleep(hold)
        except Exception as exc:  # re-raised after the meter's verdict, which says more
            errors.append(exc)
    ctx.run_threads([work] * threads, timeout=ctx.params["timeout_s"])
    ctx.expect(meter.first_violation is None,
               "more than max_connections=%d connections were in use at once (up to %d): %s"
               % (n, meter.max, meter.first_violation),
               hint="every acquire() must take a permit of threading.Semaphore(max_connections) first, "
                    "and wait for one when none is left")
    ctx.expect(len(factory.made) <= n, "factory() was called %d times with max_connections=%d"
               % (len(factory.made), n), hint="never create a connection without holding a permit")
    ctx.expect(meter.max >= 2, "with %d threads and max_connections=%d, at most %d connection was ever in use "
               "at once: the pool serialises its users" % (threads, n, meter.max),
               hint="do not hold a lock while a connection is out")
    if errors:
        raise errors[0]
    ctx.expect_eq(p.in_use, 0, "in_use after every thread finished")


# -- problem_solving ---------------------------------------------------------------------------------------

def _first_double_handout(events):
    """Oracle: between a 'got' of a connection and its 'drop', no other 'got' of it."""
    holder = {}
    for seq, _, thread, kind, data in events:
        c = data["conn"]
        if kind == "got":
            if c in holder:
                who, since = holder[c]
                return ("conn-%d was handed to %s (event #%d) while %s still held it (since event #%d): the "
                        "same connection lent to two threads at once" % (c, thread, seq, who, since))
            holder[c] = (thread, seq)
        else:
            holder.pop(c, None)
    return None


def no_double_handout(ctx):
    """acquire()/release() from many threads under forced switches: no connection is lent twice at once."""
    n, threads, ops = ctx.params["max"], ctx.params["threads"], ctx.params["ops"]
    _, p, factory = _pool(ctx, n)
    h = ctx.history()
    errors = []

    def work():
        try:
            for _ in range(ops):
                conn = p.acquire()
                h.record("got", conn=conn.n)
                time.sleep(0)
                h.record("drop", conn=conn.n)
                p.release(conn)
        except Exception as exc:  # a double hand-out often ends in an error: the oracle's verdict first
            errors.append(exc)
    ctx.run_threads([work] * threads, timeout=ctx.params["timeout_s"])
    ctx.oracle(_first_double_handout(h.events),
               hint="the check-then-take of the idle list (or of a 'free' flag) must happen under one lock")
    if errors:
        raise errors[0]
    ctx.expect(len(factory.made) <= n, "factory() was called %d times with max_connections=%d"
               % (len(factory.made), n))
    ctx.expect_eq(p.in_use, 0, "in_use after every thread released its connections (lost update?)")


def _burst_release(ctx, n, waiters, stuck_s):
    """Every connection is out and `waiters` (> n) threads wait in acquire(), each inside its wait; then
    all n connections are released back to back from one thread. n waiters must get one, with no other
    release to help: the lucky ones hold theirs (an untimed wait on the check's own Event) until then.
    A release that wakes nobody because the pool "was not exhausted" (the previous release's waiter has
    not taken its connection yet) leaves a waiter asleep beside an idle connection: every thread then
    waits, and the harness names the lost wake-up."""
    _, p, _ = _pool(ctx, n)
    out = [p.acquire() for _ in range(n)]
    got, threads = [], []
    done = threading.Event()

    def waiter():
        threads.append(threading.current_thread())
        conn = p.acquire()
        got.append(conn)
        if len(got) <= n:
            done.wait()  # untimed: released by the driver once n waiters hold a connection
        p.release(conn)

    def driver():
        deadline = time.monotonic() + 2.0
        while len(threads) < waiters and time.monotonic() < deadline:
            time.sleep(0.002)
        await_waiting(threads, 1.0)
        for conn in out:
            p.release(conn)
        since, deadline = None, time.monotonic() + 2.0
        while len(got) < n and time.monotonic() < deadline:
            rest = [t for t in threads if t.is_alive()]
            if len(rest) > waiters - n and all(in_wait(t) for t in rest):
                if since is None:
                    since = time.monotonic()
                elif time.monotonic() - since > stuck_s:
                    return  # connections idle, waiters asleep: no further release to hide it
            else:
                since = None
            time.sleep(0.005)
        done.set()

    ctx.run_threads([waiter] * waiters + [driver],
                    names=["burst-waiter-%d" % i for i in range(waiters)] + ["burst-releaser"])
    ctx.expect_eq(p.in_use, 0, "in_use after %d connections were released to %d waiting threads and they "
                  "released theirs" % (n, waiters))


def handoff(ctx):
    """First a burst (see _burst_release): n connections released back to back to more than n waiting
    threads must wake n of them. Then holders keep every connection while waiters block in acquire(),
    and the holders release from their own threads. Every waiter must get a connection: nobody may
    wait for the permit while holding the lock that release() needs."""
    n, waiters, ops = ctx.params["max"], ctx.params["waiters"], ctx.params["ops"]
    if ctx.params.get("burst_waiters"):
        _burst_release(ctx, n, ctx.params["burst_waiters"], ctx.params.get("stuck_s", 0.3))
    _, p, _ = _pool(ctx, n)
    go = threading.Event()
    held = []

    def holder():
        conn = p.acquire()
        held.append(conn)
        go.wait(ctx.params["timeout_s"])
        p.release(conn)

    def waiter():
        for _ in range(ops):
            conn = p.acquire()
            time.sleep(0)
            p.release(conn)

    def starter():
        time.sleep(ctx.params["delay_s"])  # the waiters are blocked in acquire() by now
        go.set()
    targets = [holder] * n + [waiter] * waiters + [starter]
    names = ["holder-%d" % i for i in range(n)] + ["waiter-%d" % i for i in range(waiters)] + ["starter"]
    ctx.run_threads(targets, names=names, timeout=ctx.params["timeout_s"])
    ctx.expect_eq(p.in_use, 0, "in_use after every holder and waiter finished")


# -- performance -------------------------------------------------------------------------------------------

def bench_pool(ctx):
    """Timed workload: a burst of `threads` threads on a pool of `max`, each using a connection `ops` times
    for `hold_s` (a query's I/O). With more threads than connections, every release hands a connection
    to a waiting thread: the reference wakes it at once; a pool that polls leaves it idle until its next
    look, one that serialises uses one connection at a time. A burst still running after `stall_s` fails
    the item at once (a pool that deadlocks must not hold the machine's timing lock until the timeout)."""
    mod = ctx.student("pool")
    n, threads, ops, hold = (ctx.params[k] for k in ("max", "threads", "ops", "hold_s"))
    stall = ctx.params["stall_s"]

    def workload():
        p = mod.ConnectionPool(Factory(), max_connections=n)
        errors = []

        def work():
            try:
                for _ in range(ops):
                    with p.connection():
                        time.sleep(hold)
            except Exception as exc:  # reported below, from the timed call
                errors.append(exc)
        ts = [threading.Thread(target=work, name="bench-%d" % i, daemon=True) for i in range(threads)]
        for t in ts:
            t.start()
        deadline = time.monotonic() + stall
        for t in ts:
            t.join(max(0.0, deadline - time.monotonic()))
        stuck = sum(t.is_alive() for t in ts)
        if stuck:
            raise AssertionError("%d of %d threads were still running %.1f s into a burst that "
                                 "takes the reference ~0.03 s: deadlock?" % (stuck, threads, stall))
        if errors:
            raise errors[0]
        if p.in_use != 0:
            raise AssertionError("in_use is %d after the workload" % p.in_use)
    return workload
