"""Judgements for lab-3.2, pub-sub with condition variables (the workloads are in checks.py). Runs
outside the submission's process: every verdict comes from what the workload recorded."""
from grade_oracles import exactly_once, fifo_per_key

HINT_WHILE = ("wait in a loop that re-checks the predicate under the lock: `while not self._pending and "
              "not closed: cond.wait()` (or cond.wait_for(predicate)); a wake-up is not a message")
HINT_NOTIFY_ALL = ("several subscribers can wait on the same condition, each for its own messages: wake "
                   "them all with notify_all() and let each re-check its own predicate")
HINT_UNDER_LOCK = ("test the predicate and call wait() under the same lock acquisition (inside one "
                   "`with cond:`); otherwise a publish() between the test and the wait() is missed")
HINT_DELIVER = ("every subscriber receives every message published to its topic after it subscribed, "
                "each exactly once")


def _msg(x):
    """A message as the workload sent it: JSON made its tuples lists."""
    return tuple(_msg(v) for v in x) if isinstance(x, list) else x


def _outcome(box):
    if box and "error" in box:
        return "raised %s%s" % (box["error"], (": %s" % box["text"]) if box["text"] else "")
    return "returned %s" % (box or {}).get("repr", "None")


def _received(j, key, label, expected, timeout):
    """The values of the get(timeout=...) calls recorded under `key`, one per expected message; fails
    on the first that raised."""
    outs = j.obs[key]
    got = []
    for want, out in zip(expected, outs):
        if "error" in out:
            so_far = (" after receiving %r" % (got,)) if got else ""
            j.fail("%s: get(timeout=%g) raised %s (%s)%s, where %r was expected" % (
                label, timeout, out["error"], out["text"], so_far, want), hint=HINT_DELIVER)
        got.append(_msg(out["value"]))
    j.expect(len(outs) == len(expected), "%s: %d get() calls were recorded, %d were made"
             % (label, len(outs), len(expected)))
    return got


def _raises(j, key, flag, exc_name, what, hint=None):
    out = j.obs[key]
    if "error" in out:
        if out[flag] is True:
            return
        j.fail("%s raised %s (%s), not %s" % (what, out["error"], out["text"], exc_name), hint=hint)
    j.fail("%s returned %s instead of raising %s" % (what, out["repr"], exc_name), hint=hint)


# ---------------------------------------------------------------------------
# completion_quality


def basic(j):
    o = j.obs
    t = j.params.get("get_timeout", 0.5)
    short = j.params.get("short_timeout", 0.05)
    j.expect_eq(o["topic"], "news", "subscribe('news').topic")
    j.expect_eq(o["count_a"], 2, "publish('news', 'a') with two subscribers of 'news' (the count)")
    j.expect_eq(o["count_sport"], 1, "publish('sport', 'x') with one subscriber of 'sport'")
    j.expect_eq(o["count_weather"], 0, "publish('weather', 'w') with no subscriber")
    for label, key in (("news subscriber 1", "news1"), ("news subscriber 2", "news2")):
        got = _received(j, key, label, ["a", 0, None], t)
        j.expect(got == ["a", 0, None],
                 "after publish('news', 'a'), publish('news', 0), publish('news', None), %s received %r; "
                 "expected ['a', 0, None]: every message, falsy ones too, in publish order" % (label, got),
                 hint="keep each subscriber's messages in a FIFO (collections.deque: append, popleft)")
    j.expect_eq(_received(j, "sport", "sport subscriber", ["x"], t)[0], "x", "the sport subscriber's message")
    _raises(j, "short_get", "timeout", "TimeoutError",
            "get(timeout=%g) with nothing published since the last get()" % short,
            hint="wait_for(predicate, timeout) returns False on timeout: raise TimeoutError then")
    waited = j.number("short_waited")
    j.expect(0.6 * short <= waited < short + 1.0,
             "get(timeout=%g) gave up after %.3f s; it should wait about %g s" % (short, waited, short))

    j.expect_eq(_received(j, "late", "a subscriber of 'news' that subscribed after 'a', 0 and None", ["b"], t)[0],
                "b", "first message of a late subscriber (only messages published after subscribe() count)")
    j.expect_eq(_received(j, "news1_b", "news subscriber 1", ["b"], t)[0], "b", "news subscriber 1's fourth message")
    j.expect_eq(_received(j, "news2_b", "news subscriber 2", ["b"], t)[0], "b", "news subscriber 2's fourth message")
    j.expect_eq(o["count_c"], 2, "publish('news', 'c') after one of three news subscribers unsubscribed (the count)")
    _raises(j, "unsubscribed_get", "closed", "Closed", "get() on an unsubscribed, drained subscription")

    j.expect_eq(_received(j, "news1_c", "news subscriber 1 after close()", ["c"], t)[0], "c",
                "a message still pending at close() is delivered")
    _raises(j, "closed_get", "closed", "Closed", "get() after close() once drained")
    _raises(j, "closed_publish", "closed", "Closed", "publish() after close()")
    _raises(j, "closed_subscribe", "closed", "Closed", "subscribe() after close()")


def delivery_stress(j):
    p = j.params
    publishers, n, early, late = p["publishers"], p["messages"], p["early"], p["late"]
    problems = j.obs["problems"]
    if problems:
        pr = problems[0]
        j.fail("%s: get() raised %s (%s) after %d messages, before close()"
               % (pr["who"], pr["error"], pr["text"], pr["after"]), hint=HINT_WHILE)
    received = j.obs["received"]
    history = [(kind, _msg(what), seq) for kind, what, seq in j.obs["history"]]
    produced = [m for kind, m, _ in history if kind == "pub-start"]  # in the order they began
    everything = [(k, i) for k in range(publishers) for i in range(n)]
    for kind in ("pub-start", "pub-end"):
        j.expect(sorted(m for kd, m, _ in history if kd == kind) == everything,
                 "the history's %s events are not one per message of %d publishers x %d messages"
                 % (kind, publishers, n))
    for j_ in range(early):
        name = "early-subscriber-%d" % j_
        got = [_msg(m) for m in received[name]]
        msg = exactly_once(produced, got, what="message") or fifo_per_key(got, key=lambda m: m[0], seq=lambda m: m[1])
        if msg:
            j.fail("%s (subscribed before %d publishers sent %d messages each to 'feed'): %s"
                   % (name, publishers, n, msg),
                   hint="append each message to every subscriber's FIFO under the lock, and pop from "
                        "the front: no message lost, duplicated or reordered")
    seq_of = {(kind, m): seq for kind, m, seq in history if kind in ("pub-start", "pub-end")}
    for j_ in range(late):
        name = "late-subscriber-%d" % j_
        got = [_msg(m) for m in received[name]]
        start = next(seq for kind, who, seq in history if kind == "sub-start" and who == name)
        end = next(seq for kind, who, seq in history if kind == "sub-end" and who == name)
        j.expect(start < end, "%s: its subscribe() ended before it began (history %d, %d)" % (name, start, end))
        must = [m for m in produced if seq_of[("pub-start", m)] > end]
        never = {m for m in produced if seq_of[("pub-end", m)] < start}
        got_set = set(got)
        missing = [m for m in must if m not in got_set]
        early_ones = [m for m in got if m in never]
        if missing:
            j.fail("%s never received message %r, published after its subscribe() returned (%d such "
                   "messages missing of %d)" % (name, missing[0], len(missing), len(must)),
                   hint="a new subscriber must be in the topic's list before subscribe() returns, and "
                        "publish() must deliver to every subscriber in that list")
        if early_ones:
            j.fail("%s received %r, whose publish() had returned before it subscribed: a subscriber "
                   "gets only messages published after it subscribed" % (name, early_ones[0]),
                   hint="start a new subscription with an empty queue, not the topic's history")
        dup = len(got) - len(got_set)
        j.expect(dup == 0, "%s received %d message(s) twice" % (name, dup))
        j.oracle(fifo_per_key(got, key=lambda m: m[0], seq=lambda m: m[1]),
                 hint="pop each subscriber's messages from the front of a FIFO")
    want_other = [("other", k, i) for k in range(publishers) for i in range(0, n, 4)]
    msg = exactly_once(want_other, [_msg(m) for m in received["other-subscriber"]], what="message")
    if msg:
        j.fail("the subscriber of topic 'other': %s" % msg,
               hint="deliver a message only to the subscribers of its own topic")


def wake_all(j):
    k = j.params["subscribers"]
    first, second = j.obs["first"], j.obs["second"]
    j.expect_eq(len(first), k, "subscribers whose first get() was recorded")
    j.expect_eq(len(second), k, "subscribers whose second get() was recorded")
    for i in range(k):
        box = first[i] or {}
        if box.get("value") != "wake-up" or "error" in box:
            j.fail("%d subscribers of 'news' were waiting in get(); one publish('news', 'wake-up'): "
                   "subscriber-%d's get() %s" % (k, i, _outcome(box)), hint=HINT_NOTIFY_ALL)
    for i in range(k):
        box = second[i] or {}
        if not ("error" in box and box["closed"] is True):
            j.fail("%d subscribers were waiting in get() when close() was called: subscriber-%d's get() %s; "
                   "it should raise Closed" % (k, i, _outcome(box)),
                   hint="close() must set the flag and notify_all() under the lock; get() raises Closed "
                        "when it wakes to a closed broker with nothing pending")


def wake_topics(j):
    p = j.params
    topics = ["topic-%d" % t for t in range(p["topics"])]
    k, rounds = p["per_topic"], p["rounds"]
    got = {(t, s): [_msg(m) for m in msgs] for t, s, msgs in j.obs["received"]}
    j.expect_eq(sorted(got), sorted((t, s) for t in topics for s in range(k)), "subscribers recorded")
    situation = ("%d subscribers of each of %d topics were waiting in get() on one broker; one message "
                 "was published to one topic at a time" % (k, len(topics)))
    errors = j.obs["errors"]
    if errors:
        e = errors[0]
        j.fail("%s: subscriber %d of %r had received %r when its get() raised %s (%s)"
               % (situation, e["subscriber"], e["topic"], got[(e["topic"], e["subscriber"])], e["error"],
                  e["text"]), hint=HINT_WHILE)
    for t in topics:
        for s in range(k):
            want = [(t, r) for r in range(rounds)]
            j.expect(got[(t, s)] == want, "%s: subscriber %d of %r received %r; expected %r"
                     % (situation, s, t, got[(t, s)], want), hint=HINT_NOTIFY_ALL)


SPURIOUS_STEPS = ("after publish('noisy', ...) twice (a notify meant for another topic)",
                  "after the grader called notify_all() on the broker's condition(s) (a wake-up with no message)")


def spurious_wakeup(j):
    k = j.params["subscribers"]
    results = j.obs["results"]
    j.expect_eq(len(results), k, "subscribers whose get() was recorded")
    early = j.obs["early"]
    if early is not None:
        step, i = early
        j.fail("subscriber-%d was waiting in get() on 'quiet', where nothing had been published; %s, "
               "its get() %s instead of waiting on" % (i, SPURIOUS_STEPS[step], _outcome(results[i])),
               hint=HINT_WHILE)
    for i in range(k):
        box = results[i] or {}
        if box.get("value") != "q1" or "error" in box:
            j.fail("after publish('quiet', 'q1'), subscriber-%d's get() %s; expected 'q1'"
                   % (i, _outcome(box)), hint=HINT_WHILE)
    j.expect_eq(j.obs["noisy"], "n1", "the 'noisy' subscriber's first message")


# ---------------------------------------------------------------------------
# problem_solving


def ping_pong(j):
    rounds = j.params["rounds"]
    got = j.obs["got"]
    j.expect(got == list(range(rounds)),
             "the subscriber received %r...; expected 0, 1, 2, ... %d in order" % (got[:10], rounds - 1),
             hint=HINT_UNDER_LOCK)
