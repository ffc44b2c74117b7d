"""Judgements for lab-5.3 (the workloads are in checks.py). Runs outside the submission's process: the items
each source holds, the items handle() rejects (plan_errors) and every verdict come from here; the
workloads only record the histories (items taken, items handed to handle(), the queue's size) and the
pipeline's values. Items are (producer, seq) tuples."""
import json
from collections import Counter

from grade_oracles import exactly_once, fifo_per_key

HINT_CANCEL = ("on CancelledError: cancel every producer and consumer, await them (gather with "
               "return_exceptions=True), move what is left in the queue (not sentinels) to unprocessed, and "
               "re-raise; a producer whose put() is cancelled still holds its item: add it to unprocessed")
HINT_BOUND = "create the queue as asyncio.Queue(maxsize) and always `await queue.put(item)`"
HINT_ERRORS = ("catch Exception around `await handle(item)` in the consumer, record (item, exc) in failed and go "
               "on; an exception that escapes a task is lost unless someone awaits that task")


def _item(x):
    """An item as it was in the run: JSON made its tuples lists (and a dict is not hashable)."""
    if isinstance(x, list):
        return tuple(_item(v) for v in x)
    if isinstance(x, dict):
        return json.dumps(x, sort_keys=True)
    return x


def _items(xs):
    if not isinstance(xs, list):
        raise TypeError("a list of items was expected, not %r" % (xs,))
    return [_item(x) for x in xs]


def _all_items(counts):
    return [(pid, k) for pid, n in enumerate(counts) for k in range(n)]


def _expect_taken(j, taken, counts, what):
    """The check's sources were drained: every item of every source taken once (the report did the work)."""
    want = _all_items(counts)
    j.expect(len(taken) == len(want), "%s: %d items were taken from the sources, not %d" % (what, len(taken), len(want)))
    j.expect(Counter(taken) == Counter(want), "%s: the items taken from the sources are not the sources' %d items"
             % (what, len(want)))


def _expect_stats(j, stats, want, what):
    j.expect(stats["dict"] is True, "%s: run() returned %s, not a dict" % (what, stats.get("repr")))
    got = {k: stats["counts"].get(k) for k in want}   # in the order of the message (JSON sorted the keys)
    j.expect(got == want, "%s: run() returned %r, expected %r" % (what, got, want))


def _bounded_queue(events, maxsize):
    """The queue's size, seen at every take and handle, never exceeds maxsize."""
    for seq, (kind, item, qsize) in enumerate(events):
        if qsize is not None and qsize > maxsize:
            return ("the queue held %d items at once (maxsize %d), seen at event #%d (%s of %r): the queue is not "
                    "bounded" % (qsize, maxsize, seq + 1, kind, item))
    return None


def _producers_wait(events, maxsize, producers):
    """At every take, items taken but not yet handled <= maxsize (in the queue) + one in each producer's
    hand (the item it is waiting to put)."""
    ahead = 0
    bound = maxsize + producers
    for seq, (kind, item, _) in enumerate(events):
        ahead += 1 if kind == "take" else -1 if kind == "handle" else 0
        if ahead > bound:
            return ("producers had taken %d items more than handle() had received when %r was taken (event #%d); at "
                    "most %d may wait (%d in the queue, one in each of the %d producers' hands): the producers do not "
                    "wait for the consumers (no backpressure)" % (ahead, item, seq + 1, bound, maxsize, producers))
    return None


def _cases(j, params):
    """(the case's params, what the run recorded of it), in order; then every case must have been recorded
    (checked once the recorded ones are judged: a workload stops at a case the judge fails)."""
    cases = j.obs["cases"]
    j.expect(isinstance(cases, list), "the run recorded no list of cases")
    for pair in zip(params, cases):
        yield pair
    j.expect(len(cases) == len(params), "%d cases were run, %d recorded" % (len(params), len(cases)))


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(j):
    p = j.params
    refusals = j.obs["refusals"]
    for name in ("consumers", "maxsize"):
        got = refusals[name]
        if got == "none":
            j.fail("Pipeline(handle, %s=0) should raise ValueError" % name)
        j.expect(got == "ValueError", "Pipeline(handle, %s=0) %s instead of ValueError" % (name, got))
    for (counts, consumers, maxsize), c in _cases(j, p["cases"]):
        what = "%d producer(s) of %s items, %d consumer(s), maxsize %d" % (len(counts), counts, consumers, maxsize)
        j.expect(c["queue"]["asyncio"] is True, "%s: Pipeline.queue should be an asyncio.Queue; it is %s"
                 % (what, c["queue"]["repr"]), hint=HINT_BOUND)
        taken, handled = _items(c["taken"]), _items(c["handled"])
        j.oracle(exactly_once(taken, handled), "the pipeline loses or repeats items")
        n = sum(counts)
        _expect_taken(j, taken, counts, what)
        _expect_stats(j, c["stats"], {"produced": n, "handled": n, "failed": 0}, what)


def fifo(j):
    p = j.params
    taken, handled = _items(j.obs["taken"]), _items(j.obs["handled"])
    j.oracle(exactly_once(taken, handled))
    j.oracle(fifo_per_key(handled), "consumers must call handle(item) right after get(), and producers "
             "must put their items one at a time, in order, with `await queue.put(item)`")
    _expect_taken(j, taken, [p["items"]] * p["producers"], "%d producers of %d items" % (p["producers"], p["items"]))


def shutdown(j):
    p = j.params
    n = p["items"] * p["producers"]
    taken, handled = _items(j.obs["taken"]), _items(j.obs["handled"])
    j.oracle(exactly_once(taken, handled))
    unfinished, left = _items(j.obs["unfinished"]), j.obs["left"]
    j.expect(not unfinished, "run() returned while %d handle() call(s) were still running, first for %r: "
             "consumers were stopped before they finished" % (len(unfinished), unfinished[:1]),
             hint="wait for the consumers to finish their items (sentinels after the last item, or "
                  "queue.join()) before cancelling anything")
    j.expect(not left, "when run() returned, task(s) it started were still running: %s"
             % ", ".join(str(name) for name in left[:4]), hint="await every task you start (gather) before returning")
    _expect_stats(j, j.obs["stats"], {"produced": n, "handled": n, "failed": 0}, "%d items" % n)
    _expect_taken(j, taken, [p["items"]] * p["producers"], "%d items" % n)
    lag = j.number("lag")
    j.expect(lag < p["prompt_s"], "run() returned %.2f s after the last handle() call finished: consumers should "
             "stop at once, not when a polling timeout runs out" % lag,
             hint="block in `await queue.get()` (no timeout) and stop on a sentinel, or join() then cancel")


def plan_errors(j):
    """The items whose handle() raises."""
    p = j.params
    return {"fail": j.rng.sample(_all_items([p["items"]] * p["producers"]), p["failures"])}


def errors(j):
    p = j.params
    counts = [p["items"]] * p["producers"]
    n = sum(counts)
    fail = _items(j.inputs["fail"])
    taken, handled = _items(j.obs["taken"]), _items(j.obs["handled"])
    j.oracle(exactly_once(taken, handled))
    _expect_taken(j, taken, counts, "%d items" % n)
    nfailed = j.obs["failed_count"]
    j.expect(nfailed == len(fail), "handle() raised for %d items; Pipeline.failed holds %s entries"
             % (len(fail), nfailed), hint=HINT_ERRORS)
    entries = [(_item(item), ok) for item, ok in j.obs["failed"]]
    j.expect(len(entries) == len(fail), "handle() raised for %d items; Pipeline.failed holds %d entries"
             % (len(fail), len(entries)), hint=HINT_ERRORS)
    for item, ok in entries:
        j.expect(ok is True, "Pipeline.failed should hold (item, the exception handle() raised for it); the entry "
                 "for %r does not" % (item,), hint=HINT_ERRORS)
    named = [item for item, _ in entries]
    j.expect(Counter(named) == Counter(fail), "Pipeline.failed names the items %r; handle() raised for %r"
             % (sorted(named, key=repr), sorted(fail)))
    _expect_stats(j, j.obs["stats"], {"produced": n, "handled": n - len(fail), "failed": len(fail)},
                  "%d items, %d of them rejected by handle()" % (n, len(fail)))


def cancel(j):
    p = j.params
    for case, c in _cases(j, p["cases"]):
        taken_n, handled_n, qsize = c["state"]
        what = "%s (cancelled with %d items taken, %d handled, %s in the queue)" % (case["name"], taken_n, handled_n,
                                                                                    qsize)
        j.expect(c["outcome"] != "hung", "%s: run() had not finished %.1f s after it was cancelled"
                 % (what, p["cancel_within"]), hint=HINT_CANCEL)
        j.expect(c["outcome"] == "cancelled", "%s: run() %s instead of re-raising CancelledError"
                 % (what, c["outcome"]), hint=HINT_CANCEL)
        unprocessed = c["unprocessed"]
        j.expect(unprocessed["list"] is True, "%s: Pipeline.unprocessed is %s, not a list"
                 % (what, unprocessed["items"]))
        taken, handled = _items(c["taken"]), _items(c["handled"])
        # The run got as far as the case asks (cancel_after items in handle()), from the check's sources.
        j.expect(handled_n >= case["cancel_after"] and len(taken) >= taken_n and len(handled) >= handled_n,
                 "%s: the run recorded %d items taken and %d handled, short of the cancellation point"
                 % (what, len(taken), len(handled)))
        sources = set(_all_items([case["items"]] * case["producers"]))
        j.expect(set(taken) <= sources, "%s: items were taken that the sources do not hold" % what)
        msg = exactly_once(taken, handled + _items(unprocessed["items"]))
        j.oracle(msg and "%s: items taken from the sources must each be handled or in unprocessed, once: %s"
                 % (what, msg), HINT_CANCEL)


# ---------------------------------------------------------------------------------------------
# problem_solving


def backpressure(j):
    p = j.params
    maxsize, producers = p["maxsize"], p["producers"]
    taken, handled = _items(j.obs["taken"]), _items(j.obs["handled"])
    j.oracle(exactly_once(taken, handled))
    _expect_taken(j, taken, [p["items"]] * producers, "%d producers of %d items" % (producers, p["items"]))
    events = [(kind, _item(item), qsize) for kind, item, qsize in j.obs["events"]]
    j.expect([e[1] for e in events if e[0] == "take"] == taken and
             [e[1] for e in events if e[0] == "handle"] == handled,
             "the run's history of takes and handles does not match the items taken and handled")
    j.oracle(_bounded_queue(events, maxsize), HINT_BOUND)
    j.oracle(_producers_wait(events, maxsize, producers), HINT_BOUND)
    got = j.obs["maxsize"]
    j.expect(got == maxsize and not isinstance(got, bool), "Pipeline(maxsize=%d).queue.maxsize is %r"
             % (maxsize, got), hint=HINT_BOUND)


def idle_consumers(j):
    p = j.params
    for (counts, consumers, _), c in _cases(j, p["cases"]):
        what = "%d source(s) of %s items, %d consumers" % (len(counts), counts, consumers)
        taken, handled = _items(c["taken"]), _items(c["handled"])
        j.oracle(exactly_once(taken, handled))
        _expect_taken(j, taken, counts, what)
        n = sum(counts)
        _expect_stats(j, c["stats"], {"produced": n, "handled": n, "failed": 0}, what)
