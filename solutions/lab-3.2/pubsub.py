"""Topic-based publish/subscribe between threads, built on one condition variable."""
import threading
from collections import deque
from typing import Any, Deque, Dict, List, Optional


class Closed(Exception):
    """The broker was closed (or the subscription cancelled) and no message is left to read."""


class Subscription:
    """One subscriber's view of a topic: the messages published to it since subscribe()."""

    def __init__(self, broker: "Broker", topic: str):
        self.topic = topic
        self._broker = broker
        self._pending: Deque[Any] = deque()  # guarded by broker._cond
        self._active = True                  # guarded by broker._cond

    def get(self, timeout: Optional[float] = None) -> Any:
        """The next message, oldest first; waits while there is none.

        Raises TimeoutError if none arrives within `timeout` seconds (None: wait as long as needed),
        and Closed once the broker is closed or this subscription cancelled and nothing is pending.
        """
        cond = self._broker._cond
        with cond:
            # wait_for re-checks the predicate after every wake-up, under the lock (a `while` loop):
            # a wake-up meant for another topic, or for another subscriber, is not a message.
            ready = cond.wait_for(lambda: self._pending or not self._active or self._broker._closed, timeout)
            if self._pending:
                return self._pending.popleft()
            if not ready:
                raise TimeoutError(f"no message on {self.topic!r} within {timeout} s")
            raise Closed(f"subscription to {self.topic!r} is closed")

    def unsubscribe(self) -> None:
        """Stops delivery to this subscription; get() returns what is pending, then raises Closed."""
        self._broker._remove(self)


class Broker:
    """Delivers each published message to every current subscriber of its topic, in publish order."""

    def __init__(self) -> None:
        # One lock and one condition for the whole broker: every subscriber's predicate is different
        # (its own pending messages), so every change wakes all waiters (notify_all) and each one
        # re-checks its own predicate.
        self._cond = threading.Condition()
        self._topics: Dict[str, List[Subscription]] = {}
        self._closed = False

    def subscribe(self, topic: str) -> Subscription:
        with self._cond:
            if self._closed:
                raise Closed("the broker is closed")
            sub = Subscription(self, topic)
            self._topics.setdefault(topic, []).append(sub)
            return sub

    def publish(self, topic: str, message: Any) -> int:
        """Queues `message` for every current subscriber of `topic`; returns how many. Never blocks."""
        with self._cond:
            if self._closed:
                raise Closed("the broker is closed")
            subscribers = self._topics.get(topic, [])
            for sub in subscribers:
                sub._pending.append(message)
            if subscribers:
                self._cond.notify_all()
            return len(subscribers)

    def close(self) -> None:
        """Refuses new messages and subscriptions; wakes every waiting get()."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _remove(self, sub: Subscription) -> None:
        with self._cond:
            if sub._active:
                sub._active = False
                self._topics[sub.topic].remove(sub)
                self._cond.notify_all()
