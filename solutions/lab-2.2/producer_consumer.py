"""Producer-consumer over one bounded queue.Queue, shut down with one sentinel per consumer."""
import queue
import threading
from typing import Any, Callable, Iterable, Sequence

# A unique object: no item a source yields can ever be mistaken for it (0, "" and False can't).
_DONE = object()


def run(sources: Sequence[Iterable[Any]], consume: Callable[[Any], None],
        consumers: int = 4, maxsize: int = 8) -> int:
    """Moves every item of every source through one bounded queue to `consumers` consumer threads.

    One producer thread per source puts its items on a queue.Queue(maxsize) (blocking while it is
    full); each consumer thread blocks in get() while it is empty and calls consume(item) outside
    any lock. When every producer has finished, one sentinel per consumer ends the consumers.
    Returns the number of items consumed, after every thread started here has been joined.
    """
    if consumers < 1:
        raise ValueError("consumers must be at least 1")
    if maxsize < 1:
        raise ValueError("maxsize must be at least 1 (the queue is bounded)")
    q: "queue.Queue[Any]" = queue.Queue(maxsize)
    consumed = [0] * consumers  # one slot per consumer: no shared counter, so no lock needed

    def produce(source: Iterable[Any]) -> None:
        for item in source:
            q.put(item)  # blocks while the queue is full: backpressure

    def consumer(slot: int) -> None:
        while True:
            item = q.get()  # blocks (no CPU used) while the queue is empty
            if item is _DONE:
                return
            consume(item)
            consumed[slot] += 1

    producer_threads = [threading.Thread(target=produce, args=(source,), name=f"producer-{i}")
                        for i, source in enumerate(sources)]
    consumer_threads = [threading.Thread(target=consumer, args=(i,), name=f"consumer-{i}")
                        for i in range(consumers)]
    for t in consumer_threads + producer_threads:
        t.start()
    for t in producer_threads:
        t.join()
    # Every real item is in the queue (or already consumed) now; the sentinels come after them,
    # one per consumer, so each consumer takes exactly one and stops.
    for _ in consumer_threads:
        q.put(_DONE)
    for t in consumer_threads:
        t.join()
    return sum(consumed)
