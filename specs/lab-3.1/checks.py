"""Workloads for lab-3.1: a connection pool bounded by a semaphore (API: the docstring of
starter/lab-3.1/pool.py). Each records what the student's pool did (ctx.observe); judge.py, which the
submission never sees, gives the verdicts.

The factory is the check's own: it hands out numbered FakeConnection objects, so every observation can name
the connection (its number, when it is the very object the factory made), and it counts how many were made.
Probes of an exhausted pool use acquire(timeout=0), so that only the acquire-timeout item depends on a
timeout being honoured. A hang, a deadlock and an exception raised by the student's code still fail the
run here, with the student's line.
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


def _cid(factory, conn):
    """What the pool handed out, as the judge sees it: the number of the factory's connection it is (the
    very object), or the repr of anything else (a string)."""
    for made in list(factory.made):
        if made is conn:
            return made.n
    return repr(conn)


def _call(ctx, fn, limit, what, hint=None):
    """Runs fn() in a helper thread. Returns ("ok", value, seconds) or ("raised", exception, seconds);
    fails the run when it has not returned after `limit` seconds (a hang only the run can see)."""
    t0 = time.monotonic()
    try:
        value = ctx.call_with_timeout(fn, limit)
    except ctx.CheckFailed:
        ctx.fail("%s did not return within %.1f s" % (what, limit), hint=hint)
    except Exception as exc:  # the student's exception, recorded for the judge
        return "raised", exc, time.monotonic() - t0
    return "ok", value, time.monotonic() - t0


def _outcome(mod, factory, out):
    """One call's outcome for the judge: what it returned or raised, and how long it took."""
    status, value, secs = out
    if status == "ok":
        return {"status": "ok", "conn": _cid(factory, value), "seconds": secs}
    return {"status": "raised", "type": type(value).__name__, "text": str(value), "seconds": secs,
            "pool_timeout": isinstance(value, mod.PoolTimeout)}


def _refusal(fn, *exc_types):
    """Calls fn; the name of the expected exception type it raised, or "none" (any other propagates)."""
    try:
        fn()
    except exc_types as exc:
        for t in exc_types:
            if isinstance(exc, t):
                return t.__name__
    return "none"


def _exhaust(ctx, p, factory, n):
    """Takes every connection of a fresh pool with acquire(timeout=0); records them as `exhausted`."""
    conns = [p.acquire(timeout=0) for _ in range(n)]
    ctx.observe("exhausted", [_cid(factory, c) for c in conns])
    ctx.observe("exhausted_distinct", len(set(map(id, conns))))
    return conns


# -- completion_quality ------------------------------------------------------------------------------------

def pool_basic(ctx):
    mod, p, factory = _pool(ctx, 3)
    ctx.observe("timeout_is_exception", issubclass(mod.PoolTimeout, Exception))
    ctx.observe("max_connections", p.max_connections)
    ctx.observe("new", [p.in_use, p.created, len(factory.made)])
    a = p.acquire()
    ctx.observe("first", _cid(factory, a))
    ctx.observe("after_acquire", [p.in_use, p.created])
    p.release(a)
    ctx.observe("after_release", p.in_use)
    b = p.acquire()
    ctx.observe("second", _cid(factory, b))
    ctx.observe("factory_calls_after_reuse", len(factory.made))
    c = p.acquire()
    ctx.observe("third", _cid(factory, c))
    ctx.observe("two_out", [p.in_use, p.created, len(factory.made)])
    p.release(b)
    p.release(c)
    ctx.observe("after_all_released", p.in_use)
    with p.connection() as d:
        ctx.observe("with_conn", _cid(factory, d))
        ctx.observe("in_with", p.in_use)
    ctx.observe("after_with", p.in_use)
    ctx.observe("created_final", p.created)
    for bad in (0, -1):
        ctx.observe("max_%d" % bad, _refusal(lambda: mod.ConnectionPool(Factory(), max_connections=bad), ValueError))
    ctx.observe("default_max", mod.ConnectionPool(Factory()).max_connections)


def blocks_when_exhausted(ctx):
    """All connections out: a plain acquire() in another thread waits, and proceeds when one is released."""
    n, watch, limit = ctx.params["max"], ctx.params["watch_s"], ctx.params["wake_s"]
    mod, p, factory = _pool(ctx, n)
    held = _exhaust(ctx, p, factory, n)
    got = {}

    def waiter():
        got["conn"] = p.acquire()
    t = threading.Thread(target=waiter, name="waiter", daemon=True)
    t.start()
    time.sleep(watch)  # the main thread sleeps (not joins): it stays runnable while the waiter blocks
    blocked = t.is_alive()
    ctx.observe("blocked", blocked)
    if not blocked:
        ctx.observe("early", _cid(factory, got.get("conn")) if "conn" in got else None)
        ctx.observe("early_factory_calls", len(factory.made))
        return  # the rest would measure nothing: the judge fails the run on `blocked`
    p.release(held[0])
    t.join(limit)
    woke = not t.is_alive()
    ctx.observe("woke", woke)
    ctx.observe("released", _cid(factory, held[0]))
    if not woke:
        return  # the waiter still holds the pool's attention: the judge fails the run on `woke`
    ctx.observe("woken_got", _cid(factory, got["conn"]))
    ctx.observe("factory_calls", len(factory.made))
    p.release(got["conn"])
    for c in held[1:]:
        p.release(c)
    ctx.observe("in_use_end", p.in_use)


def acquire_timeout(ctx):
    """acquire(timeout=...) on an exhausted pool raises PoolTimeout in about that time; it succeeds when a
    connection is released while it waits. Runs without lock instrumentation: a hang is timed here."""
    n, t_short, cap = ctx.params["max"], ctx.params["timeout_s"], ctx.params["cap_s"]
    mod, p, factory = _pool(ctx, n)
    held = _exhaust(ctx, p, factory, n)
    hint = ("wait with self._semaphore.acquire(timeout=timeout) (by keyword: Semaphore.acquire(0.2) means "
            "blocking=0.2, timeout=None, which waits forever) and raise PoolTimeout when it returns False")
    out = _call(ctx, lambda: p.acquire(timeout=0), cap, "acquire(timeout=0) on an exhausted pool", hint)
    ctx.observe("zero", _outcome(mod, factory, out))
    if out[0] == "ok":
        return  # the pool lent more than it has: the judge fails the run on `zero`
    what = "acquire(timeout=%g) with all %d connections out" % (t_short, n)
    out = _call(ctx, lambda: p.acquire(timeout=t_short), cap, what + " (the timeout is ignored)", hint)
    ctx.observe("short", _outcome(mod, factory, out))
    if out[0] == "ok":
        return  # likewise, on `short`
    ctx.observe("in_use_after_timeouts", p.in_use)
    # A connection released while acquire(timeout=...) waits is taken.
    timer = threading.Timer(t_short / 2, p.release, args=(held[0],))
    timer.start()
    try:
        out = _call(ctx, lambda: p.acquire(timeout=cap / 2), cap,
                    "acquire(timeout=%g) while another thread releases" % (cap / 2), hint)
    finally:
        timer.join()
    ctx.observe("released", _cid(factory, held[0]))
    ctx.observe("during_release", _outcome(mod, factory, out))
    if out[0] != "ok":
        return  # nothing to give back: the judge fails the run on `during_release`
    for c in [out[1]] + held[1:]:
        p.release(c)
    out = _call(ctx, lambda: p.acquire(timeout=t_short), cap, "acquire(timeout=%g) on an idle pool" % t_short)
    ctx.observe("idle", _outcome(mod, factory, out))


def released_on_exception(ctx):
    """`with pool.connection()` blocks that raise give their connection back, and the error propagates?"""
    n, rounds = ctx.params["max"], ctx.params["rounds"]
    mod, p, factory = _pool(ctx, n)

    class QueryFailed(Exception):
        pass
    record = []
    for i in range(1, rounds + 1):
        got = {}
        try:
            with p.connection() as conn:
                got["conn"] = _cid(factory, conn)
                raise QueryFailed("round %d" % i)
        except QueryFailed:
            got["propagated"] = True
        else:
            got["propagated"] = False
        got["in_use"] = p.in_use
        record.append(got)
        if got["in_use"]:
            break  # a leaked connection: further rounds could wait forever on the emptied pool
    ctx.observe("rounds", record)
    if record[-1]["in_use"]:
        return
    # Every permit is still there: max connections can be taken at once, without waiting.
    conns = []
    try:
        while len(conns) < n:
            conns.append(p.acquire(timeout=0))
    except mod.PoolTimeout:
        pass
    ctx.observe("reacquired", len(conns))
    ctx.observe("in_use_at_reacquire", p.in_use)
    ctx.observe("factory_calls", len(factory.made))
    for c in conns:
        p.release(c)


def double_release(ctx):
    """Releasing a connection that is not checked out: ValueError expected, and no capacity added?"""
    n = ctx.params["max"]
    mod, p, factory = _pool(ctx, n)
    # Scenario A: the only connection out is released twice.
    a = p.acquire()
    p.release(a)
    ctx.observe("refused_a", _refusal(lambda: p.release(a), ValueError))
    # Scenario B: two out, one released twice (a BoundedSemaphore does not notice: its count stays <= max).
    b, c = p.acquire(timeout=0), p.acquire(timeout=0)
    p.release(b)
    ctx.observe("refused_b", _refusal(lambda: p.release(b), ValueError))
    # How many connections can be out at once now? (c is still out.)
    extra = []
    try:
        while len(extra) < n + 2:
            extra.append(p.acquire(timeout=0))
    except mod.PoolTimeout:
        pass
    ctx.observe("out_at_once", [_cid(factory, x) for x in extra + [c]])
    try:
        for x in extra + [c]:
            p.release(x)
    except ValueError as exc:  # a pool that lent one connection twice may refuse its second release
        ctx.observe("cleanup_error", "%s: %s" % (type(exc).__name__, exc))
        return
    ctx.observe("refused_foreign", _refusal(lambda: p.release(FakeConnection(999)), ValueError))
    ctx.observe("in_use_end", p.in_use)


def bound_held(ctx):
    """Many threads use `with pool.connection()`; a meter around the use counts connections in use at once."""
    n, threads, ops, hold = (ctx.params[k] for k in ("max", "threads", "ops", "hold_s"))
    _, p, factory = _pool(ctx, n)
    meter = ctx.meter(bound=n)
    finished, errors = [], []

    def work():
        try:
            for _ in range(ops):
                with p.connection():
                    with meter:
                        time.sleep(hold)
            finished.append(1)
        except Exception as exc:  # re-raised below, once the meter's reading is recorded
            errors.append(exc)
    ctx.run_threads([work] * threads, timeout=ctx.params["timeout_s"])
    ctx.observe("max_in_use", meter.max)
    ctx.observe("first_violation", meter.first_violation)
    ctx.observe("factory_calls", len(factory.made))
    if errors:
        raise errors[0]
    ctx.observe("finished_threads", len(finished))
    ctx.observe("in_use_end", p.in_use)


# -- problem_solving ---------------------------------------------------------------------------------------

def no_double_handout(ctx):
    """acquire()/release() from many threads under forced switches: the judge looks for a connection lent
    twice at once in the history of hand-outs."""
    n, threads, ops = ctx.params["max"], ctx.params["threads"], ctx.params["ops"]
    _, p, factory = _pool(ctx, n)
    h = ctx.history()
    errors = []

    def work():
        try:
            for _ in range(ops):
                conn = p.acquire()
                h.record("got", conn=_cid(factory, conn))
                time.sleep(0)
                h.record("drop", conn=_cid(factory, conn))
                p.release(conn)
        except Exception as exc:  # recorded with the history; the exception then fails the run
            errors.append(exc)
    ctx.run_threads([work] * threads, timeout=ctx.params["timeout_s"])
    ctx.observe("events", [[seq, thread, kind, data["conn"]] for seq, _, thread, kind, data in h.events])
    ctx.observe("factory_calls", len(factory.made))
    if errors:
        raise errors[0]
    ctx.observe("in_use_end", p.in_use)


def _burst_release(ctx, n, waiters, stuck_s):
    """Every connection is out and `waiters` (> n) threads wait in acquire(), each inside its wait; then
    all n connections are released back to back from one thread. n waiters must get one, with no other
    release to help: the lucky ones hold theirs (an untimed wait on the check's own Event) until then.
    A release that wakes nobody because the pool "was not exhausted" (the previous release's waiter has
    not taken its connection yet) leaves a waiter asleep beside an idle connection: every thread then
    waits, and the harness names the lost wake-up. Returns (connections handed to waiters, in_use after)."""
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
    return len(got), p.in_use


def handoff(ctx):
    """First a burst (see _burst_release): n connections released back to back to more than n waiting
    threads must wake n of them. Then holders keep every connection while waiters block in acquire(),
    and the holders release from their own threads. Every waiter must get a connection: nobody may
    wait for the permit while holding the lock that release() needs."""
    n, waiters, ops = ctx.params["max"], ctx.params["waiters"], ctx.params["ops"]
    if ctx.params.get("burst_waiters"):
        got, in_use = _burst_release(ctx, n, ctx.params["burst_waiters"], ctx.params.get("stuck_s", 0.3))
        ctx.observe("burst_got", got)
        ctx.observe("burst_in_use", in_use)
    _, p, _ = _pool(ctx, n)
    go = threading.Event()
    held, uses = [], []

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
            uses.append(1)

    def starter():
        time.sleep(ctx.params["delay_s"])  # the waiters are blocked in acquire() by now
        go.set()
    targets = [holder] * n + [waiter] * waiters + [starter]
    names = ["holder-%d" % i for i in range(n)] + ["waiter-%d" % i for i in range(waiters)] + ["starter"]
    ctx.run_threads(targets, names=names, timeout=ctx.params["timeout_s"])
    ctx.observe("held", len(held))
    ctx.observe("uses", len(uses))
    ctx.observe("in_use_end", p.in_use)


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
