"""The course's check library: gates, tasks that hold a worker of the student's pool or queue until the
check opens them, so that it can queue tasks behind busy workers and watch what the workers do next
(ex-thread-pool, ex-priority-task-queue, lab-3.4).

Standard library only; nothing here imports the harness.
"""
import threading

from grade_lib_student import start_call

WAIT = 3.0  # seconds a gate holds its worker at most when nobody opens it


class Gate:
    """A task that occupies one worker until opened (or `timeout` seconds, None: for ever): `started` is
    set when a worker runs it, `opened` lets it return "gate"."""

    def __init__(self, timeout=WAIT):
        self.started = threading.Event()
        self.opened = threading.Event()
        self.timeout = timeout

    def __call__(self):
        self.started.set()
        self.opened.wait(self.timeout)
        return "gate"


def open_later(gates, delay, name="gate-timer"):
    """Opens every gate after `delay` seconds, from a timer thread named `name` (started; returned)."""
    def open_gates():
        for g in gates:
            g.opened.set()
    timer = threading.Timer(delay, open_gates)
    timer.name = name
    timer.start()
    return timer


def occupy(ctx, q, gate, what, hint, priority=-10 ** 9):
    """q.submit(gate, priority=priority) to an idle priority queue, failing the check unless a worker
    starts it within WAIT seconds; what submit() returned."""
    got = q.submit(gate, priority=priority)
    ctx.expect(gate.started.wait(WAIT), "%s: a task submitted to an idle queue did not start within %.0f s"
               % (what, WAIT), hint=hint)
    return got


def submit_soon(ctx, q, fn, priority, what, limit, hint):
    """q.submit(fn, priority=priority) from a thread named "submitter", failing the check when it does not
    return within `limit` seconds (a task holds the queue's lock while it runs); what submit() returned.
    Its exception is re-raised here."""
    t, box = start_call(lambda: q.submit(fn, priority=priority), name="submitter")
    t.join(limit)
    if t.is_alive():
        ctx.fail("%s: submit() did not return within %.1f s while a worker was running a task: submit() "
                 "must never wait for a task to finish" % (what, limit), hint=hint)
    if "error" in box:
        raise box["error"]
    return box.get("value")


_ITEM = object()


def recorder(returns_item=False):
    """(ran, make): make(item, value=...) is a task that appends `item` to the list `ran` (under a lock, so
    `ran` is the order tasks ran in) and returns `value`; without one, the item itself when
    `returns_item`, else None."""
    ran = []
    lock = threading.Lock()

    def make(item, value=_ITEM):
        def task():
            with lock:
                ran.append(item)
            if value is _ITEM:
                return item if returns_item else None
            return value
        return task
    return ran, make
