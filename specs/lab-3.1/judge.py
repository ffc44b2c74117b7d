"""Judgements for lab-3.1 (the workloads are in checks.py). Runs outside the submission's process: every
verdict comes from what the workload recorded. A connection is recorded as the number of the factory's
connection it is (an int, shown as conn-N) or, for anything else the pool handed out, as its repr (a string)."""

HINT_TIMEOUT = ("wait with self._semaphore.acquire(timeout=timeout) (by keyword: Semaphore.acquire(0.2) means "
                "blocking=0.2, timeout=None, which waits forever) and raise PoolTimeout when it returns False")
HINT_DOUBLE = ("keep the set of checked-out connections and refuse (ValueError) one that is not in it; a "
               "BoundedSemaphore alone only notices when the count goes above max_connections")


def _is_conn(v):
    """A connection the check's factory made (the workload records those by number)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _show(v):
    return "conn-%d" % v if _is_conn(v) else str(v)


def _exhausted(j, n):
    conns = j.obs["exhausted"]
    j.expect(len(conns) == n and j.obs["exhausted_distinct"] == n and all(map(_is_conn, conns)),
             "%d acquire() calls on a fresh pool of max_connections=%d returned [%s]: the same connection twice"
             % (n, n, ", ".join(map(_show, conns))))
    return conns


def _expect_timeout(j, out, what, hint=None):
    if out["status"] == "ok":
        j.fail("%s returned %s although every connection was checked out: it must raise PoolTimeout"
               % (what, _show(out["conn"])), hint=hint)
    if out["pool_timeout"] is not True:
        j.fail("%s raised %s: %s, expected PoolTimeout" % (what, out["type"], out["text"]), hint=hint)


# -- completion_quality ------------------------------------------------------------------------------------

def pool_basic(j):
    o = j.obs
    j.expect(o["timeout_is_exception"] is True, "PoolTimeout must be an Exception subclass")
    j.expect_eq(o["max_connections"], 3, "max_connections of ConnectionPool(factory, max_connections=3)")
    j.expect_eq(o["new"], [0, 0, 0], "(in_use, created, factory calls) of a new pool: connections are made lazily",
                hint="do not call factory() in __init__: only when acquire() needs a new connection")
    a = o["first"]
    j.expect(_is_conn(a), "acquire() returned %s, not the object factory() made" % _show(a))
    j.expect_eq(o["after_acquire"], [1, 1], "(in_use, created) after one acquire()")
    j.expect_eq(o["after_release"], 0, "in_use after releasing it")
    b = o["second"]
    j.expect(b == a, "after release(conn-1), acquire() returned %s and the factory was called %d times: "
             "an idle connection must be reused before a new one is made" % (_show(b), j.number("factory_calls_after_reuse")),
             hint="keep released connections on an idle list and take from it first")
    j.expect(o["third"] != b, "two acquire() calls without a release both returned %s" % _show(b))
    j.expect_eq(o["two_out"], [2, 2, 2], "(in_use, created, factory calls) with two connections out")
    j.expect_eq(o["after_all_released"], 0, "in_use after every connection was released")
    j.expect(_is_conn(o["with_conn"]), "`with pool.connection() as conn` gave %s" % _show(o["with_conn"]))
    j.expect_eq(o["in_with"], 1, "in_use inside a `with pool.connection()` block")
    j.expect_eq(o["after_with"], 0, "in_use after the `with pool.connection()` block")
    j.expect_eq(o["created_final"], 2, "created after reusing idle connections")
    for bad in (0, -1):
        j.expect(o["max_%d" % bad] == "ValueError",
                 "ConnectionPool(factory, max_connections=%d) did not raise ValueError" % bad)
    j.expect_eq(o["default_max"], 10, "max_connections of ConnectionPool(factory) (default)")


def blocks_when_exhausted(j):
    n, limit = j.params["max"], j.params["wake_s"]
    held = _exhausted(j, n)
    if j.obs["blocked"] is not True:
        j.fail("acquire() returned %s at once while all %d connections were checked out: it must block "
               "until one is released (factory calls so far: %d)" % (_show(j.obs["early"]), n,
                                                                     j.number("early_factory_calls")),
               hint="acquire a permit of threading.Semaphore(max_connections) before taking a connection")
    j.expect_eq(j.obs["released"], held[0], "the connection released")
    j.expect(j.obs["woke"] is True, "the waiting acquire() was still blocked %.1f s after release(%s)"
             % (limit, _show(held[0])), hint="release() must give the semaphore's permit back")
    got = j.obs["woken_got"]
    j.expect(got == held[0], "the waiting acquire() got %s, not the connection just released (%s): "
             "with %d out and %d made, it should reuse the idle one" % (_show(got), _show(held[0]), n, n))
    j.expect_eq(j.obs["factory_calls"], n, "factory calls (never more than max_connections)")
    j.expect_eq(j.obs["in_use_end"], 0, "in_use after every connection was released")


def acquire_timeout(j):
    n, t_short, cap = j.params["max"], j.params["timeout_s"], j.params["cap_s"]
    hint = HINT_TIMEOUT
    held = _exhausted(j, n)
    _expect_timeout(j, j.obs["zero"], "acquire(timeout=0) with all %d connections out" % n, hint)
    what = "acquire(timeout=%g) with all %d connections out" % (t_short, n)
    out = j.obs["short"]
    _expect_timeout(j, out, what, hint)
    secs = out["seconds"]
    j.expect(secs >= t_short * 0.7, "%s gave up after %.3f s, before its timeout" % (what, secs), hint)
    j.expect(secs <= t_short + 1.5, "%s took %.2f s to give up" % (what, secs), hint)
    j.expect_eq(j.obs["in_use_after_timeouts"], n, "in_use after timed-out acquires (a failed acquire changes nothing)")
    j.expect_eq(j.obs["released"], held[0], "the connection released during the wait")
    out = j.obs["during_release"]
    if out["status"] != "ok":
        j.fail("acquire(timeout=%g) raised %s: %s, although a connection was released %.2f s into the wait"
               % (cap / 2, out["type"], out["text"], t_short / 2), hint)
    j.expect(out["conn"] == held[0], "acquire(timeout=...) got %s, expected the released %s"
             % (_show(out["conn"]), _show(held[0])))
    out = j.obs["idle"]
    j.expect(out["status"] == "ok", "acquire(timeout=%g) with every connection idle raised %s: %s"
             % (t_short, out.get("type"), out.get("text")))
    j.expect(_is_conn(out["conn"]), "acquire(timeout=%g) with every connection idle returned %s"
             % (t_short, _show(out["conn"])))
    j.expect(out["seconds"] < t_short, "acquire(timeout=%g) with every connection idle waited %.3f s"
             % (t_short, out["seconds"]))


def released_on_exception(j):
    n, rounds = j.params["max"], j.params["rounds"]
    record = j.obs["rounds"]
    for i in range(1, rounds + 1):
        j.expect(i <= len(record), "the run recorded %d of %d rounds" % (len(record), rounds))
        r = record[i - 1]
        j.expect(_is_conn(r["conn"]), "pool.connection() gave %s" % _show(r["conn"]))
        j.expect(r["propagated"] is True,
                 "an exception raised inside `with pool.connection()` was swallowed (round %d): it must "
                 "propagate" % i, hint="do not return True from __exit__; do not catch it in the generator")
        j.expect_eq(r["in_use"], 0, "in_use after `with pool.connection()` block #%d raised (the connection was "
                    "never released)" % i,
                    hint="release in a `finally:` around the `yield` (or in __exit__), so an exception "
                         "inside the with-block still gives the connection back")
    j.expect_eq(len(record), rounds, "rounds of `with pool.connection()` blocks that raised")
    j.expect(j.obs["reacquired"] == n, "after %d with-blocks that raised, acquire(timeout=0) timed out with "
             "in_use=%s: permits were lost" % (rounds, j.obs["in_use_at_reacquire"]))
    made = j.number("factory_calls")
    j.expect(made <= n, "factory called %d times with max_connections=%d" % (made, n))


def double_release(j):
    n = j.params["max"]
    o = j.obs
    refused, refused_b = o["refused_a"] == "ValueError", o["refused_b"] == "ValueError"
    ids = o["out_at_once"]
    out_now = len(ids)
    dup = sorted(set(i for i in ids if ids.count(i) > 1), key=str)
    if not (refused and refused_b) or out_now > n or dup:
        which = "the only connection out" if not refused else "one of two connections out"
        msg = "release() of %s, a second time, did not raise ValueError" % which
        if out_now > n:
            msg += "; afterwards %d connections could be checked out at once with max_connections=%d (the " \
                   "extra release raised the capacity)" % (out_now, n)
        if dup:
            msg += "; connection(s) %s were handed out twice at the same time" % ", ".join(map(_show, dup))
        j.fail(msg, hint=HINT_DOUBLE)
    j.expect(all(map(_is_conn, ids)), "acquire() handed out [%s], not only the objects factory() made"
             % ", ".join(map(_show, ids)))
    j.expect(out_now == n, "after the refused double releases, only %d connections could be checked out at "
             "once with max_connections=%d" % (out_now, n))
    if "cleanup_error" in o:
        j.fail("releasing the %d connections checked out, each once, raised %s" % (out_now, o["cleanup_error"]))
    j.expect(o["refused_foreign"] == "ValueError",
             "release() of a connection the pool never lent did not raise ValueError", hint=HINT_DOUBLE)
    j.expect_eq(o["in_use_end"], 0, "in_use after every connection was released")


def bound_held(j):
    n, threads = j.params["max"], j.params["threads"]
    most = j.number("max_in_use")
    j.expect(most <= n and j.obs["first_violation"] is None,
             "more than max_connections=%d connections were in use at once (up to %d): %s"
             % (n, most, j.obs["first_violation"]),
             hint="every acquire() must take a permit of threading.Semaphore(max_connections) first, "
                  "and wait for one when none is left")
    made = j.number("factory_calls")
    j.expect(made <= n, "factory() was called %d times with max_connections=%d" % (made, n),
             hint="never create a connection without holding a permit")
    j.expect(most >= 2, "with %d threads and max_connections=%d, at most %d connection was ever in use "
             "at once: the pool serialises its users" % (threads, n, most),
             hint="do not hold a lock while a connection is out")
    j.expect_eq(j.obs["finished_threads"], threads, "threads that finished their %d uses" % j.params["ops"])
    j.expect_eq(j.obs["in_use_end"], 0, "in_use after every thread finished")


# -- problem_solving ---------------------------------------------------------------------------------------

def _first_double_handout(events):
    """Oracle: between a 'got' of a connection and its 'drop', no other 'got' of it."""
    holder = {}
    for seq, thread, kind, c in events:
        if kind == "got":
            if c in holder:
                who, since = holder[c]
                return ("%s was handed to %s (event #%d) while %s still held it (since event #%d): the "
                        "same connection lent to two threads at once" % (_show(c), thread, seq, who, since))
            holder[c] = (thread, seq)
        else:
            holder.pop(c, None)
    return None


def no_double_handout(j):
    n, threads, ops = j.params["max"], j.params["threads"], j.params["ops"]
    events = j.obs["events"]
    j.oracle(_first_double_handout(events),
             hint="the check-then-take of the idle list (or of a 'free' flag) must happen under one lock")
    made = j.number("factory_calls")
    j.expect(made <= n, "factory() was called %d times with max_connections=%d" % (made, n))
    kinds = [e[2] for e in events]
    total = threads * ops
    j.expect(kinds.count("got") == total and kinds.count("drop") == total and len(kinds) == 2 * total,
             "%d threads x %d acquire()/release() pairs: the run recorded %d hand-outs and %d returns"
             % (threads, ops, kinds.count("got"), kinds.count("drop")))
    bad = [e[3] for e in events if not _is_conn(e[3])]
    j.expect(not bad, "acquire() returned %s, not an object factory() made" % (_show(bad[0]) if bad else ""))
    j.expect_eq(j.obs["in_use_end"], 0, "in_use after every thread released its connections (lost update?)")


def handoff(j):
    n, waiters, ops = j.params["max"], j.params["waiters"], j.params["ops"]
    if j.params.get("burst_waiters"):
        burst = j.params["burst_waiters"]
        j.expect_eq(j.obs["burst_got"], burst, "waiting threads that got a connection after %d connections were "
                    "released to %d of them" % (n, burst))
        j.expect_eq(j.obs["burst_in_use"], 0, "in_use after %d connections were released to %d waiting threads "
                    "and they released theirs" % (n, burst))
    j.expect_eq(j.obs["held"], n, "holders that got a connection")
    j.expect_eq(j.obs["uses"], waiters * ops, "acquire()/release() pairs the %d waiters completed" % waiters)
    j.expect_eq(j.obs["in_use_end"], 0, "in_use after every holder and waiter finished")
