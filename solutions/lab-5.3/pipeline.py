"""Lab 5.3: an asynchronous producer-consumer pipeline on asyncio.Queue (reference solution).

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
import asyncio

_STOP = object()   # the sentinel: one per consumer, after the last item


class Pipeline:
    def __init__(self, handle, consumers=3, maxsize=10):
        if consumers < 1:
            raise ValueError("consumers must be at least 1, not %r" % (consumers,))
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1, not %r" % (maxsize,))
        self.handle = handle
        self.consumers = consumers
        self.queue = asyncio.Queue(maxsize)
        self.failed = []
        self.unprocessed = []
        self._produced = 0
        self._handled = 0

    async def _produce(self, source):
        async for item in source:
            try:
                await self.queue.put(item)
            except asyncio.CancelledError:
                # put() was cancelled while the queue was full: the item never got in.
                self.unprocessed.append(item)
                raise
            self._produced += 1

    async def _consume(self):
        while True:
            item = await self.queue.get()
            try:
                if item is _STOP:
                    return
                try:
                    await self.handle(item)
                except Exception as exc:  # noqa: BLE001 - recorded per item, by contract
                    self.failed.append((item, exc))
                else:
                    self._handled += 1
            finally:
                self.queue.task_done()

    def _drain(self):
        """After the tasks are gone: what is left in the queue was taken but never handled."""
        while not self.queue.empty():
            item = self.queue.get_nowait()
            self.queue.task_done()
            if item is not _STOP:
                self.unprocessed.append(item)

    async def run(self, sources):
        producers = [asyncio.create_task(self._produce(s), name="producer-%d" % i) for i, s in enumerate(sources)]
        consumers = [asyncio.create_task(self._consume(), name="consumer-%d" % i) for i in range(self.consumers)]
        tasks = producers + consumers
        try:
            await asyncio.gather(*producers)
            for _ in consumers:
                await self.queue.put(_STOP)   # after every item: FIFO, so each consumer stops last
            await asyncio.gather(*consumers)
        except BaseException:
            # Cancelled (or a source raised): stop everything, wait for it, keep what was not handled.
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._drain()
            raise
        return {"produced": self._produced, "handled": self._handled, "failed": len(self.failed)}
