"""Inter-process communication patterns: pipes, queues and managers (lab-4.4).

Four small programs, one per pattern. Each function starts its own child
processes with the `multiprocessing` module, moves messages between them and
returns what the parent received. The grader imports this module as `ipc` and
calls the functions below (CPython 3.11, Linux, 2 cores), once with the default
`fork` start method and once with `spawn` (multiprocessing.set_start_method is
called for you; use `multiprocessing.Process`, `Pipe`, `Queue` and `Manager`
from the default context, not a context of your own).

Rules for every function:

- Leave no process behind. When the function returns, every process it started
  has ended AND has been joined (a finished child that was never joined is a
  zombie), and a Manager has been shut down. The grader looks right after each
  call.
- Under `spawn` a Process's target and arguments are pickled: the function a
  child runs must be defined at the top level of this module (no lambda, no
  nested def), and nothing may rely on state the parent set up after import.
- Do not start processes at import time.
- Standard library only.
"""

from __future__ import annotations

import multiprocessing as mp  # noqa: F401
import os  # noqa: F401
from typing import Any


def pipe_pingpong(n: int) -> list[tuple[int, int]]:
    """Ping-pong with one child process over one duplex `multiprocessing.Pipe()`.

    - Start one child process. For i in 0, 1, ..., n-1 the parent sends the int i
      and then waits for the child's reply before it sends the next number.
    - The child answers each i with the tuple (i * i, child_pid), where child_pid
      is os.getpid() in the child.
    - After the last reply, tell the child to stop (send None, or close the
      parent's end so that the child's recv() raises EOFError) and join it.
    - Return the replies in the order they arrived: [(0, pid), (1, pid), (4, pid), ...].
      pipe_pingpong(0) starts and stops the child and returns [].

    Example: pipe_pingpong(3) == [(0, p), (1, p), (4, p)] for the child's pid p.
    """
    # TODO: create the Pipe, start the child with a top-level function as its target.
    # TODO: send, receive, send, receive...; then stop the child and join it.
    raise NotImplementedError("pipe_pingpong is not written yet")


def pipe_stream(items: list[Any]) -> list[Any]:
    """Stream `items` from one producer child to the parent over a one-way Pipe.

    - Create `read_end, write_end = multiprocessing.Pipe(duplex=False)` and start
      one child that sends every item of `items`, in order, with write_end.send(),
      then closes its end and exits.
    - The parent receives with read_end.recv() until it raises EOFError: the end
      of the stream is the pipe being closed, not a special value. Items may be
      any picklable objects, None included, and some may be large (hundreds of
      kilobytes: more than a pipe holds at once).
    - Join the child and return the received items, in order (equal to `items`).

    recv() raises EOFError only when no process holds the write end open any
    more. Think about which processes hold a copy of write_end after start().
    """
    # TODO: create the one-way pipe and start the producer child.
    # TODO: make sure EOF can be seen; receive until EOFError; join the child.
    raise NotImplementedError("pipe_stream is not written yet")


def queue_fan_in(producers: int, items_each: int) -> list[tuple[int, int]]:
    """Fan-in: `producers` processes put onto one `multiprocessing.Queue`; the parent reads.

    - Start `producers` processes. Producer p (0 <= p < producers) puts the tuples
      (p, 0), (p, 1), ..., (p, items_each - 1) on the shared queue, in that order.
    - The parent is the only consumer: it gets producers * items_each items (it
      knows how many will come), joins every producer and returns the items in
      the order get() returned them. Every item exactly once; the items of one
      producer in the order that producer put them (a Queue keeps that order; it
      does not order items of different producers).
    - items_each may be large (thousands of items per producer).

    Example: sorted(queue_fan_in(2, 2)) == [(0, 0), (0, 1), (1, 0), (1, 1)].
    """
    # TODO: create the Queue and start the producers (a top-level target function).
    # TODO: collect every item, then join the producers. In that order: why?
    raise NotImplementedError("queue_fan_in is not written yet")


def manager_shared_dict(workers: int, keys: int) -> dict[int, list[int]]:
    """A dict shared by worker processes through a `multiprocessing.Manager()`.

    - Start a Manager as a context manager (`with mp.Manager() as manager:`) and
      create `shared = manager.dict()` holding an empty list for every key k in
      range(keys), and `lock = manager.Lock()`.
    - Start `workers` processes. Worker w (0 <= w < workers) adds its number w to
      the list of every key: after all of them, shared[k] holds every worker
      number exactly once. Join every worker.
    - Return a plain dict (not the proxy) {k: sorted list of worker numbers} for
      k in range(keys), copied before the manager shuts down.

    A proxy hands out copies: `shared[k]` is a copy of the list, so changing it
    in place changes nothing shared. Two workers may update the same key at the
    same moment.

    Example: manager_shared_dict(2, 3) == {0: [0, 1], 1: [0, 1], 2: [0, 1]}.
    """
    # TODO: start the manager in a with-block; create the shared dict and the lock.
    # TODO: start the workers, join them, copy the result out before the block ends.
    raise NotImplementedError("manager_shared_dict is not written yet")
