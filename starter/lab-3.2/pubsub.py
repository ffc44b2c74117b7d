"""Lab 3.2: a publish/subscribe broker for threads, built on threading.Condition.

Threads publish messages to named topics; every subscriber of a topic receives every message
published to it after it subscribed, in publish order, and waits (without spinning) while it has none.

The grader checks, with many threads at once and forced thread switches:
  * delivery: exactly once, in order (FIFO per publisher), to every current subscriber of the topic
    and to no one else; a new subscriber gets only messages published after subscribe() returned;
  * no lost wake-up: one publish wakes *every* subscriber waiting on its topic, and a publish that
    races with a subscriber's get() is never missed;
  * a wake-up that brings no message for a subscriber (another topic's publish, a spurious wake-up)
    does not end its get(): it waits on;
  * close() wakes every waiting get().
Use queue.Queue only if you must: the point of the lab is the condition variable.
"""
import threading  # noqa: F401  (you will need it)
from collections import deque  # noqa: F401
from typing import Any, Optional


class Closed(Exception):
    """Raised by get() once the broker is closed (or the subscription cancelled) and nothing is
    pending, and by publish() and subscribe() after close()."""


class Subscription:
    """One subscriber's view of one topic. Made by Broker.subscribe(); one thread reads it."""

    topic: str

    def get(self, timeout: Optional[float] = None) -> Any:
        """Returns the next message published to the topic since subscribe(), oldest first.

        Messages are arbitrary objects, falsy ones (0, "", None) included. While none is pending,
        get() waits on a condition variable (no polling, no sleep loop) until one is published.
        timeout: None waits as long as needed; otherwise raise TimeoutError (the built-in) if no
        message arrives within `timeout` seconds.
        After Broker.close() or unsubscribe(): returns the messages still pending, then raises Closed
        (a get() already waiting wakes up).
        """
        # TODO: with the condition: while nothing is pending and not closed, wait; then pop the oldest
        raise NotImplementedError("Subscription.get")

    def unsubscribe(self) -> None:
        """Stops delivery to this subscription (publish() no longer counts it); get() then returns
        what is still pending and raises Closed."""
        # TODO
        raise NotImplementedError("Subscription.unsubscribe")


class Broker:
    """Delivers each published message to every current subscriber of its topic."""

    def __init__(self) -> None:
        # TODO: the condition variable (and its lock), the subscriptions of each topic, a closed flag
        raise NotImplementedError("Broker.__init__")

    def subscribe(self, topic: str) -> Subscription:
        """A new subscription to `topic`: it will receive every message published to the topic
        after this call returns. Raises Closed after close()."""
        # TODO
        raise NotImplementedError("Broker.subscribe")

    def publish(self, topic: str, message: Any) -> int:
        """Delivers `message` to every current subscriber of `topic` and wakes those waiting.
        Never blocks for long (subscribers' queues are unbounded). Returns the number of subscribers
        it was delivered to (0 if none). Raises Closed after close()."""
        # TODO: under the lock, append to every subscriber's pending messages; then notify - whom?
        raise NotImplementedError("Broker.publish")

    def close(self) -> None:
        """Refuses further publish() and subscribe(); wakes every waiting get() (see get())."""
        # TODO
        raise NotImplementedError("Broker.close")
