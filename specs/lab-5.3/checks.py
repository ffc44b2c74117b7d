"""Checks for lab-5.3: an asynchronous producer-consumer pipeline on asyncio.Queue.

The student's API is the docstring of starter/lab-5.3/pipeline.py: Pipeline(handle, consumers,
maxsize) with .queue, .failed, .unprocessed and `async run(sources)`.

Every check runs under ctx.run_async, so the harness's asyncio oracles apply: a loop that can never
wake (consumers waiting on an empty queue nobody will fill, a join() nobody will satisfy) ends the run
at once as a deadlock (async_hang) naming every task and its line; an exception nobody retrieved, a
coroutine never awaited and a task left pending when the check's coroutine returns fail the item.

The check owns both ends: its sources (async iterators, not generators, so nothing is left to
finalise) record each item as it is taken, and its handle() records each item as it enters (and, for
the shutdown check, as it finishes) together with the queue's size. History oracles then judge:
exactly_once(taken, handled [+ unprocessed]), fifo_per_key(handled), and the backpressure bound
taken - handled <= maxsize + producers at every take (each producer holds at most one item it could
not put). Items are (producer, seq) tuples.

Standard library only.
"""
import asyncio
import time

from grade_oracles import History, exactly_once, fifo_per_key

HINT_SENTINEL = ("consumers blocked in `await queue.get()` on an empty queue wait forever unless something "
                 "wakes them: after the producers finish, put one sentinel per consumer (or await "
                 "queue.join() and then cancel the consumers)")
HINT_CANCEL = ("on CancelledError: cancel every producer and consumer, await them (gather with "
               "return_exceptions=True), move what is left in the queue (not sentinels) to unprocessed, and "
               "re-raise; a producer whose put() is cancelled still holds its item: add it to unprocessed")
HINT_BOUND = "create the queue as asyncio.Queue(maxsize) and always `await queue.put(item)`"
HINT_ERRORS = ("catch Exception around `await handle(item)` in the consumer, record (item, exc) in failed and go "
               "on; an exception that escapes a task is lost unless someone awaits that task")


def _module(ctx):
    mod = ctx.student("pipeline")
    ctx.expect(hasattr(mod, "Pipeline"), "pipeline.py defines no Pipeline", hint="keep the names of the starter's docstring")
    return mod


class Source:
    """An async iterator of (pid, 0..n-1) that records each item as it is taken. Every `pause_every`
    items it sleeps `pause` s (0: one trip round the loop), so producers interleave."""

    def __init__(self, rec, pid, n, pause=0.0, pause_every=1, rng=None):
        self.rec, self.pid, self.n = rec, pid, n
        self.pause, self.pause_every, self.rng = pause, pause_every, rng
        self.k = 0

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.k >= self.n:
            raise StopAsyncIteration
        if self.pause_every and self.k % self.pause_every == 0:
            await asyncio.sleep(self.pause * self.rng.random() * 2 if self.rng else self.pause)
        item = (self.pid, self.k)
        self.k += 1
        self.rec.take(item)
        return item


class Recorder:
    """Both ends of one run, as a History: "take" (an item taken from a source) and "handle" (an item
    entering handle()), each with the size of the student's queue at that moment; and the handle() the
    student's pipeline calls."""

    def __init__(self, producers, fail=(), sleep=0.0, rng=None, stop_after=None):
        self.h = History()
        self.taken = []
        self.handled = []
        self.finished = []
        self.last_finish = None
        self.producers = producers
        self.fail = set(fail)
        self.raised = {}
        self.sleep = sleep
        self.rng = rng
        self.pipeline = None
        self.stop_after = stop_after
        self.reached = asyncio.Event() if stop_after is not None else None

    def _qsize(self):
        q = getattr(self.pipeline, "queue", None)
        return q.qsize() if isinstance(q, asyncio.Queue) else None

    def take(self, item):
        self.taken.append(item)
        self.h.record("take", item=item, qsize=self._qsize())

    async def handle(self, item):
        self.handled.append(item)
        self.h.record("handle", item=item, qsize=self._qsize())
        if self.reached is not None and len(self.handled) >= self.stop_after:
            self.reached.set()
        if self.sleep:
            await asyncio.sleep(self.sleep * self.rng.random() * 2 if self.rng else self.sleep)
        else:
            await asyncio.sleep(0)
        self.finished.append(item)
        self.last_finish = time.monotonic()
        if item in self.fail:
            exc = ValueError("the check's handle() rejects item %r" % (item,))
            self.raised[item] = exc
            raise exc


def bounded_queue(events, maxsize):
    """Oracle: the queue's size, seen at every take and handle, never exceeds maxsize."""
    for seq, _, _, kind, data in events:
        if data["qsize"] is not None and data["qsize"] > maxsize:
            return ("the queue held %d items at once (maxsize %d), seen at event #%d (%s of %r): the queue is not "
                    "bounded" % (data["qsize"], maxsize, seq + 1, kind, data["item"]))
    return None


def producers_wait(events, maxsize, producers):
    """Oracle: at every take, items taken but not yet handled <= maxsize (in the queue) + one in each
    producer's hand (the item it is waiting to put)."""
    ahead = 0
    bound = maxsize + producers
    for seq, _, _, kind, data in events:
        ahead += 1 if kind == "take" else -1 if kind == "handle" else 0
        if ahead > bound:
            return ("producers had taken %d items more than handle() had received when %r was taken (event #%d); at "
                    "most %d may wait (%d in the queue, one in each of the %d producers' hands): the producers do not "
                    "wait for the consumers (no backpressure)" % (ahead, data["item"], seq + 1, bound, maxsize, producers))
    return None


def _pipeline(ctx, mod, rec, consumers, maxsize):
    p = mod.Pipeline(rec.handle, consumers=consumers, maxsize=maxsize)
    rec.pipeline = p
    return p


def _sources(rec, counts, pause=0.0, pause_every=1, rng=None):
    return [Source(rec, pid, n, pause, pause_every, rng) for pid, n in enumerate(counts)]


def _run(ctx, main, defer=()):
    """ctx.run_async with the item's timeout. Debug mode (which records where every coroutine, task and
    callback was made: a never-awaited coroutine is then named by its line) costs a stack walk per task and
    callback, most of these items' time: only items with `debug: true` run with it. The hang, pending and
    unretrieved oracles name the student's lines either way."""
    p = ctx.params
    return ctx.run_async(main, timeout=p.get("timeout", 5), slow_ms=p.get("slow_ms", 300), allow=defer,
                         debug=p.get("debug", False))


def _expect_stats(ctx, stats, want, what):
    ctx.expect(isinstance(stats, dict), "%s: run() returned %r, not a dict" % (what, stats))
    got = {k: stats.get(k) for k in want}
    ctx.expect(got == want, "%s: run() returned %r, expected %r" % (what, got, want))


def _oracle(ctx, message, hint=None):
    if message:
        ctx.fail(message, hint)


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Producers x items through a few consumers: every item handled exactly once, the right counts,
    ValueError for consumers/maxsize < 1, the queue is an asyncio.Queue(maxsize)."""
    mod = _module(ctx)
    p = ctx.params
    for bad in ({"consumers": 0}, {"maxsize": 0}):
        try:
            mod.Pipeline(Recorder(1).handle, **bad)
        except ValueError:
            continue
        except Exception as exc:   # described below
            ctx.fail("Pipeline(handle, %s) raised %s: %s instead of ValueError"
                     % ("%s=0" % next(iter(bad)), type(exc).__name__, exc))
        ctx.fail("Pipeline(handle, %s=0) should raise ValueError" % next(iter(bad)))
    for counts, consumers, maxsize in p["cases"]:
        rec = Recorder(len(counts), rng=ctx.rng)
        what = "%d producer(s) of %s items, %d consumer(s), maxsize %d" % (len(counts), counts, consumers, maxsize)

        async def main():
            pl = _pipeline(ctx, mod, rec, consumers, maxsize)
            ctx.expect(isinstance(pl.queue, asyncio.Queue), "%s: Pipeline.queue should be an asyncio.Queue; it is %r"
                       % (what, pl.queue), hint=HINT_BOUND)
            return await pl.run(_sources(rec, counts, p["pause"], 3, ctx.rng))
        stats = _run(ctx, main)
        _oracle(ctx, exactly_once(rec.taken, rec.handled), "the pipeline loses or repeats items")
        n = sum(counts)
        ctx.expect(len(rec.taken) == n, "%s: %d items were taken from the sources, not %d" % (what, len(rec.taken), n))
        _expect_stats(ctx, stats, {"produced": n, "handled": n, "failed": 0}, what)


def fifo(ctx):
    """Items of one producer reach handle() in the order produced, with producers interleaving and
    consumers finishing in any order."""
    mod = _module(ctx)
    p = ctx.params
    rec = Recorder(p["producers"], sleep=p["handle_sleep"], rng=ctx.rng)

    async def main():
        pl = _pipeline(ctx, mod, rec, p["consumers"], p["maxsize"])
        return await pl.run(_sources(rec, [p["items"]] * p["producers"], p["pause"], 2, ctx.rng))
    _run(ctx, main)
    _oracle(ctx, exactly_once(rec.taken, rec.handled))
    _oracle(ctx, fifo_per_key(rec.handled), "consumers must call handle(item) right after get(), and producers "
            "must put their items one at a time, in order, with `await queue.put(item)`")


def shutdown(ctx):
    """run() returns only after every handle() call finished, promptly (no polling timeouts), with every
    task it started done; consumers idle on an empty queue between slow items are stopped."""
    mod = _module(ctx)
    p = ctx.params
    rec = Recorder(p["producers"], sleep=p["handle_sleep"], rng=ctx.rng)
    seen = {}

    async def main():
        pl = _pipeline(ctx, mod, rec, p["consumers"], p["maxsize"])
        before = asyncio.all_tasks()
        stats = await pl.run(_sources(rec, [p["items"]] * p["producers"], p["pause"], 1, ctx.rng))
        seen["returned"] = time.monotonic()
        finished = set(rec.finished)
        seen["unfinished"] = [i for i in rec.handled if i not in finished]
        seen["left"] = [t.get_name() for t in asyncio.all_tasks() - before if not t.done()]
        return stats
    stats = _run(ctx, main)
    n = p["items"] * p["producers"]
    _oracle(ctx, exactly_once(rec.taken, rec.handled))
    ctx.expect(not seen["unfinished"], "run() returned while %d handle() call(s) were still running, first for %r: "
               "consumers were stopped before they finished" % (len(seen["unfinished"]), seen["unfinished"][:1]),
               hint="wait for the consumers to finish their items (sentinels after the last item, or "
                    "queue.join()) before cancelling anything")
    ctx.expect(not seen["left"], "when run() returned, task(s) it started were still running: %s"
               % ", ".join(seen["left"][:4]), hint="await every task you start (gather) before returning")
    _expect_stats(ctx, stats, {"produced": n, "handled": n, "failed": 0}, "%d items" % n)
    lag = seen["returned"] - rec.last_finish
    ctx.expect(lag < p["prompt_s"], "run() returned %.2f s after the last handle() call finished: consumers should "
               "stop at once, not when a polling timeout runs out" % lag,
               hint="block in `await queue.get()` (no timeout) and stop on a sentinel, or join() then cancel")


def errors(ctx):
    """handle() raises for a few items: each is recorded in failed with its own exception, every other
    item is handled, consumers survive, run() returns normally."""
    mod = _module(ctx)
    p = ctx.params
    counts = [p["items"]] * p["producers"]
    rng = ctx.rng
    all_items = [(pid, k) for pid, n in enumerate(counts) for k in range(n)]
    fail = rng.sample(all_items, p["failures"])
    rec = Recorder(len(counts), fail=fail, rng=rng)

    async def main():
        pl = _pipeline(ctx, mod, rec, p["consumers"], p["maxsize"])
        stats = await pl.run(_sources(rec, counts, p["pause"], 3, rng))
        failed = pl.failed
        summary = (len(failed) if isinstance(failed, list) else repr(failed)[:80],
                   [(e[0] if isinstance(e, tuple) and e else e,
                     isinstance(e, tuple) and len(e) == 2 and e[0] in rec.raised and e[1] is rec.raised[e[0]])
                    for e in (failed if isinstance(failed, list) else [])])
        # Drop every reference to the pipeline and the exceptions: a consumer task that died of one is then
        # collected when this coroutine returns, and the harness reports its exception if nobody retrieved it.
        rec.raised.clear()
        rec.pipeline = None
        return stats, summary
    stats, (nfailed, entries) = _run(ctx, main)
    n = len(all_items)
    _oracle(ctx, exactly_once(rec.taken, rec.handled))
    ctx.expect(nfailed == len(fail), "handle() raised for %d items; Pipeline.failed holds %s entries"
               % (len(fail), nfailed), hint=HINT_ERRORS)
    for item, ok in entries:
        ctx.expect(ok, "Pipeline.failed should hold (item, the exception handle() raised for it); the entry for %r "
                   "does not" % (item,), hint=HINT_ERRORS)
    ctx.expect(sorted(item for item, _ in entries) == sorted(fail),
               "Pipeline.failed names the items %r; handle() raised for %r" % (sorted(i for i, _ in entries), sorted(fail)))
    _expect_stats(ctx, stats, {"produced": n, "handled": n - len(fail), "failed": len(fail)},
                  "%d items, %d of them rejected by handle()" % (n, len(fail)))


def cancel(ctx):
    """run() cancelled mid-way (queue full and producers waiting; consumers idle; at once): it re-raises
    CancelledError promptly, leaves no task pending, and every item taken from a source was either
    handed to handle() or is in unprocessed - exactly once."""
    mod = _module(ctx)
    p = ctx.params
    for case in p["cases"]:
        name = case["name"]
        rec = Recorder(case["producers"], sleep=case["handle_sleep"], stop_after=case["cancel_after"])
        box = {}

        async def main():
            pl = _pipeline(ctx, mod, rec, case["consumers"], case["maxsize"])
            box["pl"] = pl
            task = asyncio.create_task(pl.run(_sources(rec, [case["items"]] * case["producers"],
                                                       case["pause"], 1)), name="check-run")
            if case["cancel_after"]:
                try:
                    await asyncio.wait_for(rec.reached.wait(), p["reach_timeout"])
                except asyncio.TimeoutError:
                    ctx.fail("%s: only %d items reached handle() in %.1f s" % (name, len(rec.handled), p["reach_timeout"]))
            else:
                await asyncio.sleep(0)
            box["state"] = (len(rec.taken), len(rec.handled), pl.queue.qsize() if isinstance(pl.queue, asyncio.Queue) else None)
            t0 = time.monotonic()
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=p["cancel_within"])
            box["took"] = time.monotonic() - t0
            if not done:
                box["outcome"] = "hung"
                task.cancel()
                await asyncio.wait([task], timeout=1.0)
                return
            if task.cancelled():
                box["outcome"] = "cancelled"
            elif task.exception() is not None:
                box["outcome"] = "raised %s: %s" % (type(task.exception()).__name__, task.exception())
            else:
                box["outcome"] = "returned %r" % (task.result(),)
        _run(ctx, main)
        taken, handled, qsize = box["state"]
        what = "%s (cancelled with %d items taken, %d handled, %s in the queue)" % (name, taken, handled, qsize)
        ctx.expect(box["outcome"] != "hung", "%s: run() had not finished %.1f s after it was cancelled"
                   % (what, p["cancel_within"]), hint=HINT_CANCEL)
        ctx.expect(box["outcome"] == "cancelled", "%s: run() %s instead of re-raising CancelledError"
                   % (what, box["outcome"]), hint=HINT_CANCEL)
        unprocessed = box["pl"].unprocessed
        ctx.expect(isinstance(unprocessed, list), "%s: Pipeline.unprocessed is %r, not a list" % (what, unprocessed))
        msg = exactly_once(rec.taken, rec.handled + list(unprocessed))
        _oracle(ctx, msg and "%s: items taken from the sources must each be handled or in unprocessed, once: %s"
                % (what, msg), HINT_CANCEL)


# ---------------------------------------------------------------------------------------------
# problem_solving


def backpressure(ctx):
    """Fast producers, slow consumers: the queue never holds more than maxsize, and producers never run
    more than maxsize + one item each ahead of handle()."""
    mod = _module(ctx)
    p = ctx.params
    rec = Recorder(p["producers"], sleep=p["handle_sleep"])
    maxsize, producers = p["maxsize"], p["producers"]
    box = {}

    async def main():
        pl = _pipeline(ctx, mod, rec, p["consumers"], maxsize)
        box["maxsize"] = getattr(pl.queue, "maxsize", None)
        return await pl.run(_sources(rec, [p["items"]] * producers, 0.0, 0))
    _run(ctx, main)
    _oracle(ctx, exactly_once(rec.taken, rec.handled))
    _oracle(ctx, bounded_queue(rec.h.events, maxsize), HINT_BOUND)
    _oracle(ctx, producers_wait(rec.h.events, maxsize, producers), HINT_BOUND)
    ctx.expect(box["maxsize"] == maxsize, "Pipeline(maxsize=%d).queue.maxsize is %r" % (maxsize, box["maxsize"]),
               hint=HINT_BOUND)


def idle_consumers(ctx):
    """Consumers with nothing (or little) to do are stopped: no sources, empty sources, more consumers
    than items, items that trickle in slowly. run() must return each time."""
    mod = _module(ctx)
    p = ctx.params
    for counts, consumers, pause in p["cases"]:
        rec = Recorder(len(counts))
        what = "%d source(s) of %s items, %d consumers" % (len(counts), counts, consumers)

        async def main():
            pl = _pipeline(ctx, mod, rec, consumers, p["maxsize"])
            return await pl.run(_sources(rec, counts, pause, 1))
        stats = _run(ctx, main)
        _oracle(ctx, exactly_once(rec.taken, rec.handled))
        n = sum(counts)
        _expect_stats(ctx, stats, {"produced": n, "handled": n, "failed": 0}, what)


# ---------------------------------------------------------------------------------------------
# performance


def bench_pipeline(ctx):
    """Timed: producers x items through consumers whose handle() yields once; the items are checked."""
    mod = ctx.student("pipeline")
    p = ctx.params

    def workload():
        rec = Recorder(p["producers"])

        async def main():
            pl = mod.Pipeline(rec.handle, consumers=p["consumers"], maxsize=p["maxsize"])
            rec.pipeline = pl
            return await pl.run(_sources(rec, [p["items"]] * p["producers"], 0.0, 0))
        _run_bounded(main, p["call_timeout"])
        if len(rec.handled) != p["producers"] * p["items"]:
            raise AssertionError("%d of %d items handled" % (len(rec.handled), p["producers"] * p["items"]))
    return workload


def _run_bounded(main, limit):
    """asyncio.run(main()) for a timed workload, but a call that does not finish within `limit` seconds
    fails at once (a hanging submission must not cost the item's whole timeout). Its tasks are abandoned
    with the loop, not awaited: their cancellation might hang too."""
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(main())
        loop.run_until_complete(asyncio.wait([task], timeout=limit))
        if not task.done():
            raise AssertionError("one call of the workload did not finish within %.1f s (the reference needs a "
                                 "fraction of that): it hangs" % limit)
        return task.result()
    finally:
        executor = getattr(loop, "_default_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        loop.close()
