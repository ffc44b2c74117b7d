"""Workloads for lab-3.2, pub-sub with condition variables. Each records what the student's code did
(ctx.observe); judge.py, which the submission never sees, gives the verdicts.

The student's API (see starter/lab-3.2/pubsub.py):

    Broker()                      subscribe(topic) -> Subscription, publish(topic, msg) -> int, close()
    Subscription                  get(timeout=None) -> msg, unsubscribe(), .topic
    Closed(Exception)             get() once closed and drained; publish()/subscribe() after close()

Waits the checks expect to be woken are untimed (get() with no timeout, Event.wait() with none), and
the threads are joined from the check's main thread: when a wake-up is lost, every thread ends up
waiting with nobody left to notify, and the harness reports a `deadlock` of kind `lost_wakeup`
naming each waiting thread and line, instead of a timeout.

Before a check publishes the message that must wake several waiting subscribers, it waits until
each of their threads is inside Condition.wait (their innermost frame, read with
sys._current_frames()): the unlucky interleaving is forced, not hoped for.

Standard library only.
"""
import collections
import threading
import time
import types

from grade_lib_student import student_module
from grade_oracles import await_waiting, in_wait

_CONDITION = getattr(threading.Condition, "_original", threading.Condition)
# Events and semaphores wrap a Condition of their own; Event.wait() does not loop, so a notify
# injected there would be a wake-up the standard library never produces: not looked into.
_SKIP = tuple(getattr(c, "_original", c) for c in (threading.Event, threading.Semaphore, threading.Barrier)) + (
    threading.Thread,)

def _module(ctx):
    return student_module(ctx, "pubsub", ("Broker", "Closed"),
                          hint="keep the names of the starter: Broker, Subscription, Closed")


def _conditions(*roots):
    """Every Condition reachable from the student's objects (attributes, containers), up to depth 4:
    the broker's own, a queue.Queue's, but not the one inside an Event or a Semaphore."""
    found, seen = [], set()
    todo = [(r, 0) for r in roots]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 4:
            continue
        seen.add(id(obj))
        if isinstance(obj, _CONDITION):
            found.append(obj)
            continue
        if isinstance(obj, _SKIP + (str, bytes, int, float, type, types.FunctionType, types.MethodType,
                                    types.BuiltinFunctionType, types.ModuleType)):
            continue
        if isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset, collections.deque)):
            children = list(obj)
        elif hasattr(obj, "__dict__"):
            children = list(vars(obj).values())
        else:
            children = []
        todo.extend((c, depth + 1) for c in children)
    return found


class _Stop(Exception):
    """The student's get() raised where the workload needed a message: nothing after it is run (the
    judge fails the run on that outcome, the last one recorded)."""


def _outcome(ps, fn):
    """What fn() did: {"value": v, "repr": repr(v)} or {"error": type name, "text": str, "closed": is
    Closed, "timeout": is TimeoutError}."""
    try:
        return _returned(fn())
    except Exception as exc:  # noqa: BLE001 - recorded for the judge
        return _raised(ps, exc)


def _raised(ps, exc):
    return {"error": type(exc).__name__, "text": str(exc), "closed": isinstance(exc, ps.Closed),
            "timeout": isinstance(exc, TimeoutError)}


def _returned(value):
    return {"value": value, "repr": repr(value)}


def _box(ps, box):
    """A subscriber thread's result box ({"value": v} or {"error": exc}, or none) as an outcome."""
    if box is None or not ("value" in box or "error" in box):
        return None
    return _raised(ps, box["error"]) if "error" in box else _returned(box["value"])


def _gets(ctx, ps, key, sub, timeout, n):
    """Records the outcomes of n sub.get(timeout=timeout) calls under `key`; stops the workload at
    the first that raises."""
    outs = []
    for _ in range(n):
        out = _outcome(ps, lambda: sub.get(timeout=timeout))
        outs.append(out)
        if "error" in out:
            ctx.observe(key, outs)
            raise _Stop()
    ctx.observe(key, outs)


# ---------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """One thread: topics, counts, publish order, falsy messages, late subscribers, timeout,
    unsubscribe, close."""
    ps = _module(ctx)
    try:
        _basic(ctx, ps, ctx.params.get("get_timeout", 0.5), ctx.params.get("short_timeout", 0.05))
    except _Stop:
        pass


def _basic(ctx, ps, t, short):
    b = ps.Broker()
    news1, news2, sport = b.subscribe("news"), b.subscribe("news"), b.subscribe("sport")
    ctx.observe("topic", getattr(news1, "topic", None))
    ctx.observe("count_a", b.publish("news", "a"))
    b.publish("news", 0)
    b.publish("news", None)
    ctx.observe("count_sport", b.publish("sport", "x"))
    ctx.observe("count_weather", b.publish("weather", "w"))
    _gets(ctx, ps, "news1", news1, t, 3)
    _gets(ctx, ps, "news2", news2, t, 3)
    _gets(ctx, ps, "sport", sport, t, 1)
    t0 = time.monotonic()
    ctx.observe("short_get", _outcome(ps, lambda: sport.get(timeout=short)))
    ctx.observe("short_waited", time.monotonic() - t0)

    late = b.subscribe("news")
    b.publish("news", "b")
    _gets(ctx, ps, "late", late, t, 1)
    _gets(ctx, ps, "news1_b", news1, t, 1)
    _gets(ctx, ps, "news2_b", news2, t, 1)
    news2.unsubscribe()
    ctx.observe("count_c", b.publish("news", "c"))
    ctx.observe("unsubscribed_get", _outcome(ps, lambda: news2.get(timeout=t)))

    b.close()
    _gets(ctx, ps, "news1_c", news1, t, 1)
    ctx.observe("closed_get", _outcome(ps, lambda: news1.get(timeout=t)))
    ctx.observe("closed_publish", _outcome(ps, lambda: b.publish("news", "d")))
    ctx.observe("closed_subscribe", _outcome(ps, lambda: b.subscribe("news")))


def delivery_stress(ctx):
    """Publishers and subscribers at once, some subscribing while messages flow, under forced
    thread switches. Records every subscriber's messages and the history's order of publishes and
    subscribes: the judge wants early subscribers to get every message exactly once, FIFO per
    publisher; a late subscriber every message whose publish() began after its subscribe() returned,
    none whose publish() ended before its subscribe() began; a second topic only its own messages."""
    ps = _module(ctx)
    p = ctx.params
    publishers, n, early, late = p["publishers"], p["messages"], p["early"], p["late"]
    b = ps.Broker()
    h = ctx.history()
    readers = (["early-subscriber-%d" % j for j in range(early)] + ["late-subscriber-%d" % j for j in range(late)]
               + ["other-subscriber"])
    received = {name: [] for name in readers}
    problems = []
    finished = []
    early_subs = [b.subscribe("feed") for _ in range(early)]
    other_sub = b.subscribe("other")

    def publisher(k):
        for i in range(n):
            h.record("pub-start", msg=(k, i))
            b.publish("feed", (k, i))
            h.record("pub-end", msg=(k, i))
            if i % 4 == 0:
                b.publish("other", ("other", k, i))
        finished.append(k)

    def read(name, sub):
        out = received[name]
        while True:
            try:
                out.append(sub.get())
            except ps.Closed:
                return
            except Exception as exc:  # noqa: BLE001 - recorded for the judge
                problems.append({"who": name, "error": type(exc).__name__, "text": str(exc), "after": len(out)})
                return

    def late_reader(j):
        name = "late-subscriber-%d" % j
        goal = (j + 1) * publishers * n // (late + 1)
        deadline = time.monotonic() + p["phase_timeout_s"]
        while len(h.of("pub-end")) < goal and time.monotonic() < deadline:
            time.sleep(0.001)
        h.record("sub-start", who=name)
        sub = b.subscribe("feed")
        h.record("sub-end", who=name)
        read(name, sub)

    def closer():
        deadline = time.monotonic() + p["phase_timeout_s"]
        while (len(finished) < publishers or len(h.of("sub-end")) < late) and time.monotonic() < deadline:
            time.sleep(0.002)
        b.close()

    targets = [lambda k=k: publisher(k) for k in range(publishers)]
    names = ["publisher-%d" % k for k in range(publishers)]
    targets += [lambda j=j: read("early-subscriber-%d" % j, early_subs[j]) for j in range(early)]
    names += ["early-subscriber-%d" % j for j in range(early)]
    targets += [lambda j=j: late_reader(j) for j in range(late)]
    names += ["late-subscriber-%d" % j for j in range(late)]
    targets += [lambda: read("other-subscriber", other_sub), closer]
    names += ["other-subscriber", "closer"]
    ctx.run_threads(targets, names=names)
    ctx.observe("problems", problems)
    ctx.observe("received", received)
    # The history, in order: [kind, message or subscriber, sequence number].
    ctx.observe("history", [[e[3], e[4]["msg"] if "msg" in e[4] else e[4]["who"], e[0]] for e in h.events])


def wake_all(ctx):
    """Several subscribers of one topic wait in get() (checked: each is inside Condition.wait), then
    ONE message is published: every one of them must wake and receive it. Then they wait again and
    close() must wake them all with Closed. A lost wake-up leaves threads waiting for ever: the
    harness reports it (lost_wakeup). Records what each get() did."""
    ps = _module(ctx)
    k = ctx.params["subscribers"]
    b = ps.Broker()
    subs = [b.subscribe("news") for _ in range(k)]
    threads, first, second = [], {}, {}

    def subscriber(i):
        threads.append(threading.current_thread())
        for store in (first, second):
            box = {}
            try:
                box["value"] = subs[i].get()
            except Exception as exc:  # noqa: BLE001 - recorded for the judge
                box["error"] = exc
            store[i] = box

    settle = ctx.params["settle_s"]

    def publisher():
        deadline = time.monotonic() + settle
        while len(threads) < k and time.monotonic() < deadline:
            time.sleep(0.002)
        await_waiting(threads[:k], settle, alive=True, some=True)
        b.publish("news", "wake-up")
        # Wait for every subscriber's first get() to return. If some stay inside wait() (a lost
        # wake-up), return without close(): close() would wake them and hide the bug; the harness
        # then finds every thread waiting and names them.
        deadline = time.monotonic() + ctx.params["wake_s"]
        stuck_since = None
        while len(first) < k and time.monotonic() < deadline:
            rest = [t for t in threads[:k] if t.is_alive() and in_wait(t)]
            if len(rest) + len(first) < k:
                stuck_since = None
            elif stuck_since is None:
                stuck_since = time.monotonic()
            elif time.monotonic() - stuck_since > ctx.params["stuck_s"]:
                return
            time.sleep(0.005)
        if len(first) < k:
            return
        await_waiting([t for t in threads if t.is_alive()], settle, alive=True, some=True)
        b.close()

    ctx.run_threads([lambda i=i: subscriber(i) for i in range(k)] + [publisher],
                    names=["subscriber-%d" % i for i in range(k)] + ["publisher"])
    ctx.observe("first", [_box(ps, first.get(i)) for i in range(k)])
    ctx.observe("second", [_box(ps, second.get(i)) for i in range(k)])


def wake_topics(ctx):
    """Subscribers of several topics wait in get() on the same broker at once, several per topic.
    Each phase publishes one message to ONE topic, and every waiting subscriber of that topic must
    wake and receive it, whichever other subscribers wait beside it. The subscribers start waiting
    one after the other, those of the topic published to last in line, so a publish that wakes only
    as many waiters as its topic has subscribers (notify(n) on a condition shared across topics)
    or only one (notify()) wakes subscribers of other topics instead. Only publishes wake anyone:
    close() comes after every message was received, so a lost wake-up cannot be hidden by it; the
    stuck subscribers wait for ever and the harness names them (lost_wakeup). Records what each
    subscriber received."""
    ps = _module(ctx)
    p = ctx.params
    topics = ["topic-%d" % t for t in range(p["topics"])]
    k, rounds = p["per_topic"], p["rounds"]
    b = ps.Broker()
    subs = {(t, j): b.subscribe(t) for t in topics for j in range(k)}
    order = [(t, j) for t in reversed(topics) for j in range(k)]  # the first topic published waits last
    go, threads, got, errors = set(), {}, {key: [] for key in subs}, []
    settle = [p["settle_s"]]

    def subscriber(key):
        threads[key] = threading.current_thread()
        while key not in go:
            time.sleep(0.001)
        for _ in range(rounds):
            try:
                got[key].append(subs[key].get())
            except Exception as exc:  # noqa: BLE001 - recorded for the judge
                errors.append((key, len(got[key]), exc))
                return

    def waiting(keys):
        live = [threads[key] for key in keys if threads[key].is_alive()]
        if live and not await_waiting(live, settle[0], alive=True, some=True):
            settle[0] = 0.05  # this submission does not wait in Condition.wait: do not wait long again
        return live

    def driver():
        deadline = time.monotonic() + p["settle_s"]
        while len(threads) < len(subs) and time.monotonic() < deadline:
            time.sleep(0.002)
        for key in order:  # one at a time: the order in which they wait is the order given
            go.add(key)
            waiting([key])
        for r in range(rounds):
            for t in topics:
                waiting(order)
                b.publish(t, (t, r))
                mine = [(t, j) for j in range(k)]
                deadline = time.monotonic() + p["wake_s"]
                stuck_since = None
                while time.monotonic() < deadline and not errors:
                    late = [key for key in mine if len(got[key]) <= r and threads[key].is_alive()]
                    if not late:
                        break
                    if not all(in_wait(threads[key]) for key in late):
                        stuck_since = None
                    elif stuck_since is None:
                        stuck_since = time.monotonic()
                    elif time.monotonic() - stuck_since > p["stuck_s"]:
                        return  # a lost wake-up: no close(), which would wake them and hide it
                    time.sleep(0.005)
                if errors:
                    b.close()  # the error is reported by the judge; close() only lets the others finish
                    return
        b.close()

    keys = list(subs)
    ctx.run_threads([lambda key=key: subscriber(key) for key in keys] + [driver],
                    names=["subscriber-%s-%d" % key for key in keys] + ["publisher"])
    ctx.observe("errors", [{"topic": t, "subscriber": j, "after": n, "error": type(exc).__name__, "text": str(exc)}
                           for (t, j), n, exc in errors])
    ctx.observe("received", [[t, j, got[(t, j)]] for t, j in keys])


def spurious_wakeup(ctx):
    """Subscribers of 'quiet' wait in get(). Then (1) messages are published to another topic, and
    (2) the grader calls notify_all() on every Condition it finds in the broker. Neither is a
    message for 'quiet': each get() must go back to waiting and return only the message published
    to 'quiet' afterwards. Records which get() returned early, and what each returned."""
    ps = _module(ctx)
    k = ctx.params["subscribers"]
    pause = ctx.params.get("pause_s", 0.1)
    b = ps.Broker()
    subs = [b.subscribe("quiet") for _ in range(k)]
    noisy = b.subscribe("noisy")
    threads, results, early = [], {}, []

    def subscriber(i):
        threads.append(threading.current_thread())
        box = results.setdefault(i, {})
        try:
            box["value"] = subs[i].get()
        except Exception as exc:  # noqa: BLE001 - recorded for the judge
            box["error"] = exc

    def poke():
        settle = ctx.params["settle_s"]
        deadline = time.monotonic() + settle
        while len(threads) < k and time.monotonic() < deadline:
            time.sleep(0.002)
        await_waiting(threads[:k], settle, alive=True, some=True)
        for step, action in enumerate((lambda: (b.publish("noisy", "n1"), b.publish("noisy", "n2")),
                                       lambda: [_notify(c) for c in _conditions(b, *subs)])):
            action()
            time.sleep(pause)
            done = [i for i in range(k) if results.get(i)]
            if done and not early:
                early.append([step, done[0]])
        b.publish("quiet", "q1")

    ctx.run_threads([lambda i=i: subscriber(i) for i in range(k)] + [poke],
                    names=["subscriber-%d" % i for i in range(k)] + ["poker"])
    ctx.observe("early", early[0] if early else None)
    ctx.observe("results", [_box(ps, results.get(i)) for i in range(k)])
    ctx.observe("noisy", noisy.get(timeout=0.5))
    b.close()


def _notify(cond):
    with cond:
        cond.notify_all()


# ---------------------------------------------------------------------------
# problem_solving


def ping_pong(ctx):
    """A publisher and one subscriber take turns: publish(i), then wait (untimed) for the subscriber
    to say it got i. Under forced thread switches (the spec runs it under the controlled scheduler)
    the publish often lands right after the subscriber found its queue empty: if that test is not
    under the same lock as the wait, the notify is missed, both threads wait for ever, and the
    harness reports the lost wake-up (replayable with the seed). Records what the subscriber got."""
    ps = _module(ctx)
    rounds = ctx.params["rounds"]
    b = ps.Broker()
    sub = b.subscribe("ping")
    ack = threading.Event()
    got = []

    def publisher():
        for i in range(rounds):
            b.publish("ping", i)
            ack.wait()  # untimed on purpose: a lost wake-up is named by the harness
            ack.clear()
        b.close()

    def subscriber():
        for _ in range(rounds):
            got.append(sub.get())
            ack.set()

    ctx.run_threads([publisher, subscriber], names=["publisher", "subscriber"])
    ctx.observe("got", got)


# ---------------------------------------------------------------------------
# performance


def bench_broker(ctx):
    """Timed workload: a fan-out (one publisher, `subscribers` reader threads, `fanout` messages,
    then close()) and `round_trips` request/reply round trips through an echo thread. Each call is
    checked and guarded by timeouts."""
    ps = _module(ctx)
    p = ctx.params
    k, fanout, trips, timeout = p["subscribers"], p["fanout"], p["round_trips"], p["timeout_s"]

    def reader(sub, out):
        while True:
            try:
                out.append(sub.get(timeout=timeout))
            except ps.Closed:
                return
            except Exception as exc:  # noqa: BLE001
                out.append(exc)
                return

    def workload():
        b = ps.Broker()
        outs = [[] for _ in range(k)]
        subs = [b.subscribe("feed") for _ in range(k)]
        pings, pongs = b.subscribe("ping"), b.subscribe("pong")

        def echo():
            while True:
                try:
                    m = pings.get(timeout=timeout)
                except Exception:  # noqa: BLE001 - Closed ends it; a timeout shows in the replies
                    return
                b.publish("pong", m)

        threads = [threading.Thread(target=reader, args=(s, o), daemon=True) for s, o in zip(subs, outs)]
        threads.append(threading.Thread(target=echo, daemon=True))
        for t in threads:
            t.start()
        for i in range(fanout):
            b.publish("feed", i)
        for i in range(trips):
            b.publish("ping", i)
            try:
                reply = pongs.get(timeout=timeout)
            except Exception as exc:  # noqa: BLE001
                ctx.fail("round trip %d: the reply never came: pongs.get(timeout=%g) raised %s"
                         % (i, timeout, type(exc).__name__))
            ctx.expect(reply == i, "round trip %d: got reply %r" % (i, reply))
        b.close()
        for t in threads:
            t.join(timeout)
        ctx.expect(not any(t.is_alive() for t in threads), "subscribers still waiting %g s after close()" % timeout,
                   hint="close() must wake every waiting get()")
        for o in outs:
            bad = [x for x in o if isinstance(x, Exception)]
            if bad:
                ctx.fail("a subscriber's get(timeout=%g) raised %s (%s) after %d of %d messages; speed is "
                         "only measured on correct delivery" % (timeout, type(bad[0]).__name__, bad[0],
                                                                 len(o) - 1, fanout),
                         hint="make the delivery items pass first")
            ctx.expect(o == list(range(fanout)),
                       "a subscriber received %d of %d messages (%r...); speed is only measured on correct "
                       "delivery" % (len(o), fanout, o[:5]), hint="make the delivery items pass first")
    return workload
