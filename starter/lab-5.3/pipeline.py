"""Lab 5.3: an asynchronous producer-consumer pipeline on asyncio.Queue.

Producers take items from their sources and put them on one bounded asyncio.Queue; consumers take
them off and process each with `await handle(item)`. All of it runs as tasks on one event loop. The
grader relies on exactly this API:

class Pipeline(handle, consumers=3, maxsize=10)
    handle     an async function: `await handle(item)` processes one item.
    consumers  how many consumer tasks run (>= 1); maxsize: the queue's bound (>= 1). ValueError
               for anything smaller.

    Attributes:
    queue        the asyncio.Queue(maxsize) that producers and consumers share, made in __init__.
    failed       list of (item, exception): every item whose handle() raised an Exception, with
                 the very exception object it raised, in the order they failed.
    unprocessed  list of items: after run() was cancelled, every item that was taken from a
                 source but never handed to handle() (any order).

    async run(sources) -> dict
        `sources` is a list of async iterables, one per producer. run() starts one producer task
        per source and `consumers` consumer tasks, all sharing self.queue.
        - Producer i takes the items of sources[i] in order (`async for`) and puts each one with
          `await self.queue.put(item)`: when the queue is full, the producer waits (backpressure).
        - A consumer repeatedly takes an item and, with no await in between, calls
          `await handle(item)`; so the items of one producer reach handle() in their order.
          If handle(item) raises an Exception, the consumer appends (item, exception) to
          self.failed and goes on with the next item: a consumer never dies of a bad item.
        - Once every source is exhausted and every item has been handled (every handle() call
          finished), run() stops the consumers - one sentinel per consumer, or
          `await self.queue.join()` (consumers call task_done() for every item) and then cancel
          them - awaits every task it started, and returns
          {"produced": items taken from the sources, "handled": handle() calls that returned,
           "failed": handle() calls that raised}.
        - Consumers waiting on an empty queue must not keep run() from returning: nothing may
          wait forever.
        - Cancellation: when the task running run() is cancelled, run() cancels its producers
          and consumers, awaits them (no task it started may be left pending), puts in
          self.unprocessed every item taken from a source that never reached handle() - the
          items still in the queue, and an item a producer was waiting to put - and re-raises
          CancelledError. An item whose handle() call had started counts as handled (do not put
          it in unprocessed), even if the cancellation interrupted it.
"""
import asyncio  # noqa: F401  (you will need it)


class Pipeline:
    def __init__(self, handle, consumers=3, maxsize=10):
        # TODO: validate; keep handle; self.queue = asyncio.Queue(maxsize); self.failed = [];
        # self.unprocessed = []; counters.
        raise NotImplementedError("Pipeline.__init__")

    async def _produce(self, source):
        # TODO: `async for item in source`, `await self.queue.put(item)`. If put() is cancelled, the
        # item never got into the queue: keep it in self.unprocessed before re-raising.
        raise NotImplementedError("Pipeline._produce")

    async def _consume(self):
        # TODO: loop: item = await self.queue.get(); stop on a sentinel; otherwise await
        # self.handle(item), recording an Exception in self.failed; call task_done() for every get().
        raise NotImplementedError("Pipeline._consume")

    async def run(self, sources):
        # TODO: create the producer and consumer tasks; wait for the producers; stop the consumers
        # (sentinels, or join() then cancel); await every task; return the counts.
        # On CancelledError: cancel and await every task, move the queue's items to
        # self.unprocessed, re-raise.
        raise NotImplementedError("Pipeline.run")
