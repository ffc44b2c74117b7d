"""Deadlocks and lost wake-ups found in the instrumented primitives' record (grade_waits): a wait-for
cycle, a wait on a lock whose holder has finished, every thread blocked with nobody left to wake it,
a feasible lock-order inversion (Linux lockdep's rule, with gate locks); each described with the
threads, primitives and lines. The Watchdog polls for them during a run."""
import re
import sys
import threading
import time

import grade_names
import grade_waits as _w


def _site_text(site):
    return "%s:%d in %s" % site if site else "?"


def blocked_call(ident):
    """The source of the student's call that thread `ident` is in now (`q.get()`), or None."""
    frame = sys._current_frames().get(ident)
    root = _w.state.student_root
    while frame is not None:
        if frame.f_code.co_filename.startswith(root):
            return grade_names.call_text(frame)
        frame = frame.f_back
    return None


def waiting_text(ident, obj):
    """What thread `ident` waits for: the primitive as the student named it, through the student's call
    when the thread is in a call (`q.get() (queue.Queue, pc.py:9)`, `left.acquire() on forks[1] (...)`)."""
    text = obj.describe()
    label = getattr(obj, "_label", None)
    call = blocked_call(ident) if label is not None else None
    if not call or not call.endswith(")"):
        return text
    name = label[0]
    if call.startswith(name + ".") and text.startswith(name + " ("):
        return call + text[len(name):]
    return "%s on %s" % (call, text)


def _thread_entry(ident, waiting_for=None, site=None):
    held = [{"lock": h.describe(), "site": _site_text(h._owner_site)} for h in _w.state.held.get(ident, [])]
    f, line, fn = site if site else ("?", 0, "?")
    return {
        "name": _w.thread_name(ident), "file": f, "line": line, "function": fn,
        "waiting_for": waiting_text(ident, waiting_for) if waiting_for is not None else None,
        "holding": [h["lock"] + " acquired at " + h["site"] for h in held],
    }


def find_wait_cycle():
    """A cycle thread -> lock it waits for -> thread holding it -> ..., or None."""
    waiting = dict(_w.state.waiting)
    for start in waiting:
        path, seen, t = [], set(), start
        while t in waiting and t not in seen:
            seen.add(t)
            lock, site = waiting[t]
            owner = lock._owner
            if owner is None:
                break
            path.append((t, lock, site))
            t = owner
        if t == start and path and _still_holds(path):
            return path
    return None


def _still_holds(path):
    """Each edge of a cycle read again, live, the lock's owner before the thread's wait: a thread clears
    its wait before it becomes the owner, so one that has just acquired the lock it waited for (the
    snapshot above still saw it waiting) cannot pass for a thread waiting on its own lock."""
    for k, (t, lock, _) in enumerate(path):
        owner = lock._owner
        entry = _w.state.waiting.get(t)
        if entry is None or entry[0] is not lock or owner != path[(k + 1) % len(path)][0]:
            return False
    return True


def find_orphaned_wait():
    """A thread waiting forever for a lock whose holder has finished, or None."""
    for t, (lock, site) in list(_w.state.waiting.items()):
        owner = lock._owner
        if owner is not None and owner not in threading._active:
            return (t, lock, site, owner)
    return None


def _natural(name):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name)]


def describe_cycle(path):
    # Told from the thread whose name comes first (Thread-1 before Thread-12), wherever the search began.
    first = min(range(len(path)), key=lambda k: _natural(_w.thread_name(path[k][0])))
    path = path[first:] + path[:first]
    threads = [_thread_entry(t, lock, site) for t, lock, site in path]
    parts = []
    for (t, lock, site) in path:
        holder = lock._owner
        parts.append("%s waits at %s for %s held by %s" % (
            _w.thread_name(t), _site_text(site), waiting_text(t, lock), _w.thread_name(holder)))
    return {
        "kind": "deadlock",
        "summary": "deadlock: " + "; ".join(parts),
        "threads": threads,
        "cycle": [_w.thread_name(t) for t, _, _ in path] + [_w.thread_name(path[0][0])],
    }


def describe_orphan(found):
    t, lock, site, owner = found
    return {
        "kind": "deadlock",
        "summary": "%s waits at %s for %s, but %s finished without releasing it (acquired at %s)" % (
            _w.thread_name(t), _site_text(site), waiting_text(t, lock), _w.thread_name(owner),
            _site_text(lock._owner_site)),
        "threads": [_thread_entry(t, lock, site)],
        "cycle": [],
    }


def order_cycle():
    """A feasible lock-order cycle (distinct threads, no common gate lock), described; or None."""
    graph = {}
    for (a, b) in _w.state.edges:
        graph.setdefault(a, set()).add(b)

    def feasible(cycle_edges):
        def pick(i, used_threads, gates):
            if i == len(cycle_edges):
                return []
            for occ in _w.state.edges[cycle_edges[i]]:
                if occ[0] in used_threads or (gates & occ[2]):
                    continue
                rest = pick(i + 1, used_threads | {occ[0]}, gates | occ[2])
                if rest is not None:
                    return [occ] + rest
            return None
        return pick(0, frozenset(), frozenset())

    def cycles_from(start):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start and len(path) >= 2:
                    yield path
                elif nxt not in path and nxt > start and len(path) < 6:
                    stack.append((nxt, path + [nxt]))

    for start in sorted(graph):
        for path in cycles_from(start):
            edges = [(path[i], path[(i + 1) % len(path)]) for i in range(len(path))]
            occs = feasible(edges)
            if occs is None:
                continue
            parts, threads = [], []
            for (a, b), occ in zip(edges, occs):
                da = _w.state.names.get(a, "lock#%d" % a)
                db = _w.state.names.get(b, "lock#%d" % b)
                parts.append("%s held %s (taken at %s) while acquiring %s at %s" % (
                    occ[1], da, _site_text(occ[3]), db, _site_text(occ[4])))
                f, line, fn = occ[4]
                threads.append({"name": occ[1], "file": f, "line": line, "function": fn,
                                "waiting_for": db, "holding": [da + " acquired at " + _site_text(occ[3])]})
            return {
                "kind": "potential_deadlock",
                "summary": "can deadlock: locks are taken in opposite orders: " + "; ".join(parts),
                "threads": threads,
                "cycle": [t["name"] for t in threads],
            }
    return None


def _joining(ident):
    """Whether a thread waits for other threads to finish (Thread.join). A join with a timeout
    counts too: when every thread it waits for is blocked for good, the timeout changes nothing, and the
    hang is named now rather than as "still running" later. (A check that wants its own words there
    runs with `instrument: false`.)"""
    frame = sys._current_frames().get(ident)
    return frame is not None and frame.f_code.co_filename == _w.THREADING_FILE and \
        frame.f_code.co_name in ("_wait_for_tstate_lock", "join")


def find_all_blocked(grace):
    """Every thread blocked in an untimed wait on an instrumented Condition, Event or Semaphore for at
    least `grace` seconds, or waiting for a lock held by such a thread (any thread may be joining
    them): nothing is left to wake anyone up. Or None. Pure lock waits are the cycle detector's."""
    now = time.monotonic()
    entries, lock_waits = [], []
    for t in threading.enumerate():
        if t.name == "grade-watchdog":
            continue
        ident = t.ident
        if ident in _w.state.blocked:
            obj, site, since = _w.state.blocked[ident]
            if now - since < grace:
                return None
            entries.append((ident, obj, site))
        elif ident in _w.state.waiting:
            lock, site = _w.state.waiting[ident]
            lock_waits.append((ident, lock, site))
        elif _joining(ident):
            entries.append((ident, None, None))
        else:
            return None
    if not any(obj is not None for _, obj, _ in entries):
        return None
    stuck = {ident for ident, _, _ in entries}
    for ident, lock, site in lock_waits:
        if lock._owner not in stuck:
            return None
        entries.append((ident, lock, site))
    return entries


def describe_all_blocked(entries):
    parts, threads = [], []
    for ident, obj, site in entries:
        if obj is None:
            parts.append("%s waits for the other threads to finish" % _w.thread_name(ident))
            continue
        parts.append("%s waits at %s on %s" % (_w.thread_name(ident), _site_text(site), waiting_text(ident, obj)))
        threads.append(_thread_entry(ident, obj, site))
    return {
        "kind": "lost_wakeup",
        "summary": "no thread can make progress (a lost wake-up: every thread waits and none is left to "
                   "notify, set or release): " + "; ".join(parts),
        "threads": threads,
        "cycle": [],
        "hint": "wait in a loop on the condition you need (while not ready: cond.wait()), and notify, set "
                "or release after every change another thread may be waiting for",
    }


class Watchdog(threading.Thread):
    """Polls for a wait-for cycle (a deadlock once it lasts two polls) and for every thread blocked
    with nobody left to wake it (a lost wake-up); reports the first found, then the run ends."""

    def __init__(self, report, interval=0.05, grace=0.5):
        super().__init__(name="grade-watchdog", daemon=True)
        self._report = report
        self._interval = interval
        self._grace = grace

    def run(self):
        last, orphan_since, stuck = None, None, None
        while True:
            time.sleep(self._interval)
            blocked = find_all_blocked(self._grace)
            key = tuple(sorted((i, id(o)) for i, o, _ in blocked)) if blocked else None
            if key is not None and key == stuck:
                self._report(describe_all_blocked(blocked))
                return
            stuck = key
            path = find_wait_cycle()
            key = tuple((t, id(lock)) for t, lock, _ in path) if path else None
            if key is not None and key == last:
                self._report(describe_cycle(path))
                return
            last = key
            orphan = find_orphaned_wait()
            if orphan is None:
                orphan_since = None
            elif orphan_since is None:
                orphan_since = time.monotonic()
            elif time.monotonic() - orphan_since > 1.0:
                self._report(describe_orphan(orphan))
                return
