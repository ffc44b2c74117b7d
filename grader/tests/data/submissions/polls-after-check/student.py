"""Correct, and leaves a worker polling after main() returns, as a pool whose workers poll with
get(timeout=...) does: its loop keeps running the student's code after the check is over."""
import queue
import threading

_tasks = queue.Queue()
_results = queue.Queue()


def _worker():
    while True:
        try:
            item = _tasks.get(timeout=0.001)
        except queue.Empty:
            continue
        _results.put(item * 2)


def main():
    threading.Thread(target=_worker, daemon=True).start()
    _tasks.put(21)
    return _results.get()
