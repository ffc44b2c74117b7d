"""Workloads for lab-5.3: an asynchronous producer-consumer pipeline on asyncio.Queue. Each records what
the student's pipeline did; judge.py, which the submission never sees, gives the verdicts.

The student's API is the docstring of starter/lab-5.3/pipeline.py: Pipeline(handle, consumers,
maxsize) with .queue, .failed, .unprocessed and `async run(sources)`.

Every check runs under ctx.run_async, so the harness's asyncio oracles apply in the run: a loop that
can never wake (consumers waiting on an empty queue nobody will fill, a join() nobody will satisfy)
ends the run at once as a deadlock (async_hang) naming every task and its line; an exception nobody
retrieved, a coroutine never awaited and a task left pending when the check's coroutine returns fail
the item.

The check owns both ends: its sources (async iterators, not generators, so nothing is left to
finalise) record each item as it is taken, and its handle() records each item as it enters (and, for
the shutdown check, as it finishes) together with the queue's size. The workloads record those
histories; the judge's oracles read them: exactly_once(taken, handled [+ unprocessed]),
fifo_per_key(handled), and the backpressure bound taken - handled <= maxsize + producers at every take
(each producer holds at most one item it could not put). Items are (producer, seq) tuples.

Standard library only.
"""
import asyncio
import time

from grade_lib_student import run_bounded
from grade_lib_values import json_safe
from grade_oracles import History

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


def _record(rec):
    """What both ends of a run saw: the items taken from the sources and handed to handle(), in order."""
    return {"taken": list(rec.taken), "handled": json_safe(list(rec.handled))}


STATS = ("produced", "handled", "failed")


def _stats(stats):
    """run()'s value: its three counts when it is a dict, else its repr."""
    if isinstance(stats, dict):
        return {"dict": True, "counts": {k: json_safe(stats.get(k)) for k in STATS}}
    return {"dict": False, "repr": repr(stats)[:200]}


def _refusal(mod, bad):
    """Pipeline(handle, **bad): "ValueError", "none" (accepted) or "raised T: message"."""
    try:
        mod.Pipeline(Recorder(1).handle, **bad)
    except ValueError:
        return "ValueError"
    except Exception as exc:  # described by the judge
        return "raised %s: %s" % (type(exc).__name__, exc)
    return "none"


def _queue(pl):
    q = getattr(pl, "queue", None)
    return {"asyncio": isinstance(q, asyncio.Queue), "repr": repr(q)[:200]}


# ---------------------------------------------------------------------------------------------
# completion_quality


def basic(ctx):
    """Producers x items through a few consumers (each case: the items taken and handled, run()'s value,
    the queue's type); Pipeline with consumers=0 or maxsize=0."""
    mod = _module(ctx)
    p = ctx.params
    ctx.observe("refusals", {"consumers": _refusal(mod, {"consumers": 0}), "maxsize": _refusal(mod, {"maxsize": 0})})
    cases = []
    for counts, consumers, maxsize in p["cases"]:
        rec = Recorder(len(counts), rng=ctx.rng)
        box = {}

        async def main():
            pl = _pipeline(ctx, mod, rec, consumers, maxsize)
            box["queue"] = _queue(pl)
            if not box["queue"]["asyncio"]:
                return None     # the judge fails the item on it; a thread's queue.Queue would block the loop
            return await pl.run(_sources(rec, counts, p["pause"], 3, ctx.rng))
        stats = _run(ctx, main)
        cases.append(dict(_record(rec), queue=box["queue"], stats=_stats(stats)))
        if not box["queue"]["asyncio"]:
            break
    ctx.observe("cases", cases)


def fifo(ctx):
    """Items of several producers through consumers that finish in any order: taken and handled, in order."""
    mod = _module(ctx)
    p = ctx.params
    rec = Recorder(p["producers"], sleep=p["handle_sleep"], rng=ctx.rng)

    async def main():
        pl = _pipeline(ctx, mod, rec, p["consumers"], p["maxsize"])
        return await pl.run(_sources(rec, [p["items"]] * p["producers"], p["pause"], 2, ctx.rng))
    _run(ctx, main)
    for key, value in _record(rec).items():
        ctx.observe(key, value)


def shutdown(ctx):
    """When run() returned: the handle() calls not finished, the tasks it started still running, and how
    long after the last handle() call finished it returned."""
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
    for key, value in _record(rec).items():
        ctx.observe(key, value)
    ctx.observe("unfinished", json_safe(seen["unfinished"]))
    ctx.observe("left", seen["left"])
    ctx.observe("stats", _stats(stats))
    ctx.observe("lag", None if rec.last_finish is None else seen["returned"] - rec.last_finish)


def errors(ctx):
    """handle() raises for the items the judge chose (ctx.inputs["fail"]): what was taken and handled,
    run()'s value, and what Pipeline.failed holds (each entry's item, and whether it is the very
    exception handle() raised for that item)."""
    mod = _module(ctx)
    p = ctx.params
    counts = [p["items"]] * p["producers"]
    rng = ctx.rng
    fail = [tuple(item) for item in ctx.inputs["fail"]]
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
    for key, value in _record(rec).items():
        ctx.observe(key, value)
    ctx.observe("stats", _stats(stats))
    ctx.observe("failed_count", nfailed)
    ctx.observe("failed", [[json_safe(item), ok] for item, ok in entries])


def cancel(ctx):
    """run() cancelled mid-way (queue full and producers waiting; consumers idle; at once): per case, the
    state when it was cancelled, what run() did then (and how long it took), what was taken, handled and
    left in Pipeline.unprocessed."""
    mod = _module(ctx)
    p = ctx.params
    cases = []
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
        unprocessed = box["pl"].unprocessed
        cases.append(dict(_record(rec), state=box["state"], outcome=box["outcome"], took=box["took"],
                          unprocessed={"list": isinstance(unprocessed, list),
                                       "items": json_safe(list(unprocessed)) if isinstance(unprocessed, list)
                                       else repr(unprocessed)[:200]}))
    ctx.observe("cases", cases)


# ---------------------------------------------------------------------------------------------
# problem_solving


def backpressure(ctx):
    """Fast producers, slow consumers: every take and handle in order, each with the queue's size then,
    and the queue's maxsize."""
    mod = _module(ctx)
    p = ctx.params
    rec = Recorder(p["producers"], sleep=p["handle_sleep"])
    box = {}

    async def main():
        pl = _pipeline(ctx, mod, rec, p["consumers"], p["maxsize"])
        box["maxsize"] = getattr(pl.queue, "maxsize", None)
        return await pl.run(_sources(rec, [p["items"]] * p["producers"], 0.0, 0))
    _run(ctx, main)
    for key, value in _record(rec).items():
        ctx.observe(key, value)
    ctx.observe("events", [[kind, json_safe(data["item"]), json_safe(data["qsize"])]
                           for _, _, _, kind, data in rec.h.events])
    ctx.observe("maxsize", json_safe(box["maxsize"]))


def idle_consumers(ctx):
    """Consumers with nothing (or little) to do: no sources, empty sources, more consumers than items,
    items that trickle in slowly. Each case: what was taken and handled, and run()'s value."""
    mod = _module(ctx)
    p = ctx.params
    cases = []
    for counts, consumers, pause in p["cases"]:
        rec = Recorder(len(counts))

        async def main():
            pl = _pipeline(ctx, mod, rec, consumers, p["maxsize"])
            return await pl.run(_sources(rec, counts, pause, 1))
        stats = _run(ctx, main)
        cases.append(dict(_record(rec), stats=_stats(stats)))
    ctx.observe("cases", cases)


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
        run_bounded(main, p["call_timeout"])
        if len(rec.handled) != p["producers"] * p["items"]:
            raise AssertionError("%d of %d items handled" % (len(rec.handled), p["producers"] * p["items"]))
    return workload
