"""Lab 2.2: the classic producer-consumer pattern over a queue.Queue.

Implement run() below. The grader calls it with its own sources and consume callback and checks:
  * every item of every source is passed to consume() exactly once (none lost, none twice);
  * run() returns the number of items consumed, and only once every thread it started has
    finished (a clean shutdown: no thread left blocked in get(), no daemon thread still working);
  * consumers block while the queue is empty: a waiting consumer uses no CPU time;
  * consume() calls overlap (it is slow, I/O-like) and the queue is bounded by maxsize.
"""
import queue  # noqa: F401  (you will need these)
import threading  # noqa: F401
from typing import Any, Callable, Iterable, Sequence


def run(sources: Sequence[Iterable[Any]], consume: Callable[[Any], None],
        consumers: int = 4, maxsize: int = 8) -> int:
    """Moves every item of every source through one bounded queue to consumer threads.

    sources   a list of iterables (possibly empty, possibly []). Start one producer thread per
              source; it iterates its source and puts each item on one shared
              queue.Queue(maxsize), waiting while the queue is full. Items are arbitrary hashable
              objects, falsy ones (0, "") included, but never None.
    consume   called as consume(item), exactly once per item, from one of `consumers` consumer
              threads: never from the thread that called run() nor from a producer thread. It may
              be slow (it sleeps, like I/O), so consumers must call it concurrently, outside any
              lock. It never raises.
    consumers how many consumer threads to start (>= 1). A consumer blocks in q.get() while the
              queue is empty; it must not poll (empty(), get_nowait()) in a loop.
    maxsize   the queue's bound (>= 1).

    Returns the number of items consumed. Returns only after every producer and every consumer
    thread has finished: when all producers are done, tell each consumer to stop (for example with
    one sentinel per consumer, a unique object()) and join every thread.
    """
    # TODO: create the queue, the producer and consumer threads; start them
    # TODO: join the producers, then stop the consumers (how many sentinels?) and join them
    raise NotImplementedError("run")
