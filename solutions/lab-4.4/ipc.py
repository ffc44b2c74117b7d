"""Inter-process communication patterns: pipes, queues and managers (lab-4.4).

Reference solution. Every function starts its own processes, moves its messages
between them, and joins (or shuts down) every process before it returns, so no
child is left running and none is left unjoined (a zombie).

The worker functions are defined at the top level of this module: under the
`spawn` start method the target of a Process is pickled by reference (module
and name), and a lambda or a nested function cannot be.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Any


# --------------------------------------------------------------------------- pipes

def _echo_squares(conn) -> None:
    """Child of pipe_pingpong: answer every int i with (i * i, my pid) until told to stop."""
    pid = os.getpid()
    with conn:
        while True:
            try:
                msg = conn.recv()
            except EOFError:  # the parent closed its end: nothing more will come
                return
            if msg is None:  # the parent's stop message
                return
            conn.send((msg * msg, pid))


def pipe_pingpong(n: int) -> list[tuple[int, int]]:
    """Send 0..n-1 to one child over a duplex Pipe, one at a time; return its replies."""
    parent_end, child_end = mp.Pipe()  # duplex: both ends can send and receive
    child = mp.Process(target=_echo_squares, args=(child_end,), name="pingpong-child")
    child.start()
    child_end.close()  # the child has its own copy; ours would only hide EOF from the child
    replies = []
    try:
        with parent_end:
            for i in range(n):
                parent_end.send(i)
                replies.append(parent_end.recv())  # wait for the reply before the next ping
            parent_end.send(None)  # stop
    finally:
        child.join()
    return replies


def _stream_items(write_end, items: list[Any]) -> None:
    """Child of pipe_stream: send every item in order, then close the end (the reader sees EOF)."""
    with write_end:
        for item in items:
            write_end.send(item)


def pipe_stream(items: list[Any]) -> list[Any]:
    """Stream `items` from one producer child to the parent over a one-way Pipe; EOF ends it."""
    read_end, write_end = mp.Pipe(duplex=False)  # (receive-only, send-only)
    child = mp.Process(target=_stream_items, args=(write_end, items), name="stream-producer")
    child.start()
    # The parent must not keep a write end open: recv() raises EOFError only once every
    # write end, in every process, is closed.
    write_end.close()
    received = []
    try:
        with read_end:
            while True:
                try:
                    received.append(read_end.recv())
                except EOFError:
                    break
    finally:
        # Joined after draining: a child blocked in send() on a full pipe never exits.
        child.join()
    return received


# --------------------------------------------------------------------------- queues

def _produce(queue, producer: int, items_each: int) -> None:
    """Producer of queue_fan_in: put (producer, seq) for seq = 0 .. items_each-1, in order."""
    for seq in range(items_each):
        queue.put((producer, seq))
    # Leaving the function flushes the queue's feeder thread: the process can only end once every
    # item is in the pipe, that is once the parent has read enough of them.


def queue_fan_in(producers: int, items_each: int) -> list[tuple[int, int]]:
    """Fan-in: `producers` processes put onto one Queue; the parent gets everything, then joins."""
    queue = mp.Queue()
    procs = [mp.Process(target=_produce, args=(queue, p, items_each), name=f"producer-{p}")
             for p in range(producers)]
    for proc in procs:
        proc.start()
    try:
        # Drain first (we know how many items will come), join after: joining a producer whose
        # items are still in its buffer waits forever (it cannot exit until they are flushed).
        received = [queue.get() for _ in range(producers * items_each)]
    finally:
        for proc in procs:
            proc.join()
        queue.close()
        queue.join_thread()
    return received


# --------------------------------------------------------------------------- managers

def _add_me_everywhere(shared, lock, worker: int, keys: int) -> None:
    """Worker of manager_shared_dict: append my number to the list of every key."""
    for key in range(keys):
        # shared[key] returns a copy of the list: read, modify and write it back, under the lock,
        # or two workers doing it for the same key at once lose one of the updates.
        with lock:
            shared[key] = shared[key] + [worker]


def manager_shared_dict(workers: int, keys: int) -> dict[int, list[int]]:
    """Workers share a Manager dict; every worker adds its number to every key's list."""
    with mp.Manager() as manager:  # leaving the block shuts the manager's server process down
        shared = manager.dict({key: [] for key in range(keys)})
        lock = manager.Lock()
        procs = [mp.Process(target=_add_me_everywhere, args=(shared, lock, w, keys), name=f"worker-{w}")
                 for w in range(workers)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        # Copy out while the manager is still running: a proxy is useless once it is shut down.
        result = {key: sorted(value) for key, value in shared.items()}
    return result
